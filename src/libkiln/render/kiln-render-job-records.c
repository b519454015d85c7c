/* kiln-render-job-records.c: what the parts of a render job share: the clock, its log, its
 * records in the job store, the paths of its images, and messages to providers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-market.h"
#include "kiln-render-job-private.h"
#include "kiln-render-run.h"

/* Clock and log ----------------------------------------------------------------------------- */

gint64
kiln_render_job_now_us (void)
{
  return g_get_real_time ();
}

gint64
kiln_render_job_now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

void
kiln_render_job_log (KilnRenderJob *self,
                     int            subtask,
                     const char    *format,
                     ...)
{
  g_autoptr(KilnRenderJobEvent) event = NULL;
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  if (subtask >= 0)
    g_debug ("Render job %s, subtask %d: %s", self->record->id, subtask, text);
  else
    g_debug ("Render job %s: %s", self->record->id, text);
  event = kiln_render_job_event_new (kiln_render_job_now_us (), subtask, text);
  g_list_store_append (self->events, event);
}

char *
kiln_render_job_describe_provider (const KilnAddress *provider)
{
  char text[KILN_ADDRESS_STRING_SIZE];

  kiln_address_format (provider, text);
  /* The start and the end of the address, as wallets show it. */
  return g_strdup_printf ("%.6s…%s", text, text + KILN_ADDRESS_STRING_SIZE - 5);
}

char *
kiln_render_job_format_amount (const KilnUint256 *amount)
{
  g_autofree char *units = kiln_uint256_format_units (amount, KILN_MARKET_TOKEN_DECIMALS);

  return g_strdup_printf ("%s GNT", units);
}

/* Persistence ------------------------------------------------------------------------------- */

typedef struct
{
  KilnRenderJob      *job;
  KilnRenderJobSaved  done;
  gpointer            data;
} Saving;

static void
on_saved (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Saving *saving = user_data;
  g_autoptr(GError) error = NULL;

  if (!kiln_job_store_update_finish (KILN_JOB_STORE (source), result, &error))
    g_warning ("Could not record the progress of render job %s: %s",
               saving->job->record->id, error->message);

  if (saving->done != NULL)
    saving->done (saving->job, saving->data, error);

  g_object_unref (saving->job);
  g_free (saving);
}

void
kiln_render_job_save (KilnRenderJob      *self,
                      int                 index,
                      Assignment         *assignment,
                      KilnRenderJobSaved  done,
                      gpointer            data)
{
  Saving *saving;
  KilnJobSubtaskRecord subtask = { 0 };

  /* Before the job is first written, there is nothing to update. */
  if (!self->stored)
    {
      if (done != NULL)
        done (self, data, NULL);
      return;
    }

  if (index >= 0)
    {
      const Subtask *current = &g_array_index (self->subtasks, Subtask, index);

      subtask.index = index;
      subtask.state = current->state;
      subtask.attempt = current->done_attempt;
      subtask.done_at = current->done_at;
    }

  self->record->updated_at = kiln_render_job_now_us ();
  saving = g_new0 (Saving, 1);
  saving->job = g_object_ref (self);
  saving->done = done;
  saving->data = data;
  kiln_job_store_update_async (self->store, self->record, index >= 0 ? &subtask : NULL,
                               assignment != NULL ? assignment->record : NULL, NULL,
                               on_saved, saving);
}

Assignment *
kiln_render_job_add_assignment (KilnRenderJob           *self,
                                KilnJobAssignmentRecord *record,
                                KilnTerms               *terms)
{
  Assignment *assignment = g_new0 (Assignment, 1);

  assignment->job = self;
  assignment->record = record;
  assignment->terms = terms;
  g_ptr_array_add (self->assignments, assignment);
  g_hash_table_insert (self->by_terms, assignment->record->terms_digest, assignment);
  return assignment;
}

const KilnSubtask *
kiln_render_job_plan_subtask (KilnRenderJob *self,
                              guint          index)
{
  return kiln_job_plan_get_subtask (self->plan, index);
}

char *
kiln_render_job_frame_path (KilnRenderJob *self,
                            int            frame)
{
  g_autoptr(KilnRenderSpec) spec = kiln_render_spec_new ();

  spec->output_dir = g_strdup (self->record->output_dir);
  spec->format = kiln_job_plan_get_format (self->plan);
  return kiln_render_spec_get_output_path (spec, frame);
}

char *
kiln_render_job_strip_path (KilnRenderJob *self,
                            guint          index)
{
  g_autofree char *name = g_strdup_printf ("strip-%u.png", index);

  return g_build_filename (self->record->work_dir, "strips", name, NULL);
}

/* Messages ---------------------------------------------------------------------------------- */

typedef struct
{
  GWeakRef          job;
  KilnAddress       peer;
  KilnMessageType   type;
} Sending;

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Sending *sending = user_data;
  g_autoptr(KilnRenderJob) self = g_weak_ref_get (&sending->job);
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = kiln_engine_send_message_finish (KILN_ENGINE (source), result, &error);
  if (message == NULL && self != NULL)
    {
      g_autofree char *who = kiln_render_job_describe_provider (&sending->peer);

      kiln_render_job_log (self, -1, _("Could not send %s to %s: %s"),
                           kiln_message_type_to_string (sending->type), who, error->message);
    }

  g_weak_ref_clear (&sending->job);
  g_free (sending);
}

void
kiln_render_job_send (KilnRenderJob     *self,
                      const KilnAddress *peer,
                      KilnMessageType    type,
                      GBytes            *body)
{
  Sending *sending = g_new0 (Sending, 1);

  g_weak_ref_init (&sending->job, self);
  sending->peer = *peer;
  sending->type = type;
  kiln_engine_send_message_async (self->engine, peer, type, body, NULL, on_sent, sending);
}
