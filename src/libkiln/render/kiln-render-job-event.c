/* kiln-render-job-event.c: one line of a render job's log
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kiln-render-job-private.h"

/* The log's lines ----------------------------------------------------------------------------- */

struct _KilnRenderJobEvent
{
  GObject  parent_instance;

  gint64   time;
  int      subtask;
  char    *text;
};

G_DEFINE_FINAL_TYPE (KilnRenderJobEvent, kiln_render_job_event, G_TYPE_OBJECT)

enum {
  EVENT_PROP_0,
  EVENT_PROP_TIME,
  EVENT_PROP_SUBTASK,
  EVENT_PROP_TEXT,
  EVENT_N_PROPS
};

static GParamSpec *event_properties[EVENT_N_PROPS];

static void
kiln_render_job_event_finalize (GObject *object)
{
  KilnRenderJobEvent *self = KILN_RENDER_JOB_EVENT (object);

  g_free (self->text);

  G_OBJECT_CLASS (kiln_render_job_event_parent_class)->finalize (object);
}

static void
kiln_render_job_event_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  KilnRenderJobEvent *self = KILN_RENDER_JOB_EVENT (object);

  switch (prop_id)
    {
    case EVENT_PROP_TIME:
      g_value_set_int64 (value, self->time);
      break;

    case EVENT_PROP_SUBTASK:
      g_value_set_int (value, self->subtask);
      break;

    case EVENT_PROP_TEXT:
      g_value_set_string (value, self->text);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_render_job_event_class_init (KilnRenderJobEventClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kiln_render_job_event_finalize;
  object_class->get_property = kiln_render_job_event_get_property;

  event_properties[EVENT_PROP_TIME] =
    g_param_spec_int64 ("time", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  event_properties[EVENT_PROP_SUBTASK] =
    g_param_spec_int ("subtask", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  event_properties[EVENT_PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, EVENT_N_PROPS, event_properties);
}

static void
kiln_render_job_event_init (KilnRenderJobEvent *self)
{
  self->subtask = -1;
}

gint64
kiln_render_job_event_get_time (KilnRenderJobEvent *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB_EVENT (self), 0);

  return self->time;
}

int
kiln_render_job_event_get_subtask (KilnRenderJobEvent *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB_EVENT (self), -1);

  return self->subtask;
}

const char *
kiln_render_job_event_get_text (KilnRenderJobEvent *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB_EVENT (self), NULL);

  return self->text;
}

KilnRenderJobEvent *
kiln_render_job_event_new (gint64      time,
                           int         subtask,
                           const char *text)
{
  KilnRenderJobEvent *self = g_object_new (KILN_TYPE_RENDER_JOB_EVENT, NULL);

  self->time = time;
  self->subtask = subtask;
  self->text = g_strdup (text);
  return self;
}
