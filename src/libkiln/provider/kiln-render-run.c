/* kiln-render-run.c: one subtask rendered by Blender inside the sandbox
 *
 * Blender's own output only drives progress and error messages: what is
 * reported as rendered is what the output check finds in the output folder
 * (frames deleted beforehand, so nothing stale is ever reported).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kiln-file-list.h"
#include "kiln-render-run.h"

#define SETUP_SCRIPT_NAME   ".kiln-render-setup.py"
#define SETUP_MARKER        "KILN-SETUP "
#define SETUP_EXIT_CODE     3
#define MAX_DIMENSION       65536
#define MAX_SAMPLES         (1 << 24)
#define MAX_FRAMES          100000

/* Kiln's render settings, applied after the scene is loaded and before
 * --render-anim. Parameters come as JSON after "--" on Blender's command line. */
static const char setup_script[] =
  "import bpy, json, os, sys\n"
  "\n"
  "params = json.loads(sys.argv[sys.argv.index('--') + 1])\n"
  "scene = bpy.context.scene\n"
  "render = scene.render\n"
  "\n"
  "if params['confine']:\n"
  "    # Inside Flatpak the portal's child inherits none of Kiln's scheduling: set\n"
  "    # it here, before Cycles starts the threads that inherit it. No affinity:\n"
  "    # the thread count is the limit (see kiln-sandbox.c).\n"
  "    try:\n"
  "        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\n"
  "    except (AttributeError, OSError):\n"
  "        pass\n"
  "\n"
  "render.engine = 'CYCLES'\n"
  "scene.cycles.device = 'CPU'\n"
  "scene.cycles.samples = params['samples']\n"
  "scene.cycles.use_denoising = params['denoise']\n"
  "for layer in scene.view_layers:\n"
  "    layer.cycles.use_denoising = params['denoise']\n"
  "scene.frame_start = params['frame_start']\n"
  "scene.frame_end = params['frame_end']\n"
  "scene.frame_step = params.get('frame_step', 1)\n"
  "render.resolution_x = params['width']\n"
  "render.resolution_y = params['height']\n"
  "render.resolution_percentage = 100\n"
  "render.use_border = params['use_border']\n"
  "render.use_crop_to_border = params['use_border']\n"
  "if params['use_border']:\n"
  "    render.border_min_x, render.border_max_x = params['border_x']\n"
  "    render.border_min_y, render.border_max_y = params['border_y']\n"
  "render.threads_mode = 'FIXED'\n"
  "render.threads = params['threads']\n"
  "# Dithering adds noise that depends on where a pixel sits in the image written:\n"
  "# without it, strips and crops match the full frame bit for bit.\n"
  "render.dither_intensity = 0\n"
  "render.use_overwrite = True\n"
  "render.use_placeholder = False\n"
  "render.use_file_extension = True\n"
  "# No provider paths or host names in the images' metadata.\n"
  "for stamp in ('use_stamp_filename', 'use_stamp_hostname'):\n"
  "    if hasattr(render, stamp):\n"
  "        setattr(render, stamp, False)\n"
  "render.image_settings.file_format = params['format']\n"
  "render.filepath = params['output']\n"
  "bpy.ops.file.report_missing_files()\n"
  "print('" SETUP_MARKER "' + json.dumps({'width': render.resolution_x,\n"
  "                                      'height': render.resolution_y,\n"
  "                                      'samples': scene.cycles.samples,\n"
  "                                      'format': render.image_settings.file_format}),\n"
  "      flush=True)\n";

G_DEFINE_QUARK (kiln-render-error-quark, kiln_render_error)

/* The spec ------------------------------------------------------------------------------- */

G_DEFINE_BOXED_TYPE (KilnRenderSpec, kiln_render_spec, kiln_render_spec_copy,
                     kiln_render_spec_free)

KilnRenderSpec *
kiln_render_spec_new (void)
{
  KilnRenderSpec *spec = g_new0 (KilnRenderSpec, 1);

  spec->frame_start = 1;
  spec->frame_end = 1;
  spec->frame_step = 1;
  spec->format = KILN_IMAGE_FORMAT_PNG;
  return spec;
}

KilnRenderSpec *
kiln_render_spec_copy (const KilnRenderSpec *spec)
{
  KilnRenderSpec *copy;

  g_return_val_if_fail (spec != NULL, NULL);

  copy = g_new (KilnRenderSpec, 1);
  *copy = *spec;
  copy->blend_file = g_strdup (spec->blend_file);
  copy->output_dir = g_strdup (spec->output_dir);
  return copy;
}

void
kiln_render_spec_free (KilnRenderSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->blend_file);
  g_free (spec->output_dir);
  g_free (spec);
}

static gboolean
invalid_spec (GError     **error,
              const char  *message)
{
  g_set_error_literal (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_INVALID, message);
  return FALSE;
}

gboolean
kiln_render_spec_validate (const KilnRenderSpec  *spec,
                           GError               **error)
{
  g_return_val_if_fail (spec != NULL, FALSE);

  if (spec->blend_file == NULL || !g_path_is_absolute (spec->blend_file) ||
      !g_str_has_suffix (spec->blend_file, ".blend"))
    return invalid_spec (error, _("The subtask’s scene must be an absolute path to a "
                                  ".blend file"));
  if (spec->output_dir == NULL || !g_path_is_absolute (spec->output_dir) ||
      !g_file_test (spec->output_dir, G_FILE_TEST_IS_DIR))
    return invalid_spec (error, _("The subtask’s output folder does not exist"));
  if (spec->frame_step < 0)
    return invalid_spec (error, _("The subtask’s frame step is negative"));
  if (spec->frame_end < spec->frame_start ||
      kiln_render_spec_get_frame_count (spec) > MAX_FRAMES)
    return invalid_spec (error, _("The subtask’s frame range is empty or too long"));
  if (spec->width == 0 || spec->height == 0 ||
      spec->width > MAX_DIMENSION || spec->height > MAX_DIMENSION)
    return invalid_spec (error, _("The subtask’s resolution is out of range"));
  if (spec->samples == 0 || spec->samples > MAX_SAMPLES)
    return invalid_spec (error, _("The subtask’s sample count is out of range"));
  if (spec->use_border &&
      (spec->border_width == 0 || spec->border_height == 0 ||
       spec->border_x >= spec->width || spec->border_y >= spec->height ||
       spec->border_width > spec->width - spec->border_x ||
       spec->border_height > spec->height - spec->border_y))
    return invalid_spec (error, _("The subtask’s strip lies outside the frame"));
  if (spec->format != KILN_IMAGE_FORMAT_PNG && spec->format != KILN_IMAGE_FORMAT_OPEN_EXR)
    return invalid_spec (error, _("The subtask’s output format is not supported"));
  return TRUE;
}

static int
spec_step (const KilnRenderSpec *spec)
{
  return spec->frame_step > 0 ? spec->frame_step : 1;
}

guint
kiln_render_spec_get_frame_count (const KilnRenderSpec *spec)
{
  gint64 span;

  g_return_val_if_fail (spec != NULL, 0);

  if (spec->frame_end < spec->frame_start)
    return 0;
  span = (gint64) spec->frame_end - spec->frame_start;
  return (guint) MIN (span / spec_step (spec) + 1, G_MAXUINT);
}

void
kiln_render_spec_get_output_size (const KilnRenderSpec *spec,
                                  guint                *width,
                                  guint                *height)
{
  g_return_if_fail (spec != NULL);

  if (width != NULL)
    *width = spec->use_border ? spec->border_width : spec->width;
  if (height != NULL)
    *height = spec->use_border ? spec->border_height : spec->height;
}

char *
kiln_render_spec_get_output_path (const KilnRenderSpec *spec,
                                  int                   frame)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (spec != NULL && spec->output_dir != NULL, NULL);

  /* Blender replaces "####" with "%.*d" (precision 4): frame -1 is "-0001". */
  name = g_strdup_printf ("frame_%.*d%s", 4, frame,
                          kiln_image_format_get_extension (spec->format));
  return g_build_filename (spec->output_dir, name, NULL);
}

/* The run ------------------------------------------------------------------------------ */

struct _KilnRenderRun
{
  GObject             parent_instance;

  KilnSandbox        *sandbox;
  KilnBlender        *blender;
  KilnRenderSpec     *spec;
  KilnBlenderOutput  *output;

  GCancellable       *cancellable;       /* ours: cancelled by cancel() and dispose */
  GCancellable       *task_cancellable;  /* the caller's */
  gulong              task_cancelled_id;
  GTask              *task;
  GSubprocess        *process;
  GDataInputStream   *stream;
  char               *script_path;
  char               *sandbox_error;     /* bubblewrap's own complaint */
  guint               timeout_id;

  int                 frame;
  guint               frames_saved;
  double              fraction;

  guint               started : 1;
  guint               reading_done : 1;
  guint               exited : 1;
  guint               setup_done : 1;
  guint               killed : 1;
  guint               cancelled : 1;
  guint               timed_out : 1;
  guint               missing_files : 1;
};

enum {
  PROP_0,
  PROP_FRACTION,
  PROP_FRAME,
  N_PROPS
};

enum {
  SIGNAL_EVENT,
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (KilnRenderRun, kiln_render_run, G_TYPE_OBJECT)

static void
kill_sandbox (KilnRenderRun *self)
{
  if (self->process != NULL && !self->exited)
    {
      self->killed = TRUE;
      kiln_sandbox_kill (self->process);
    }
}

static void
on_cancelled (GCancellable  *cancellable,
              KilnRenderRun *self)
{
  self->cancelled = TRUE;
  kill_sandbox (self);
}

static void
kiln_render_run_dispose (GObject *object)
{
  KilnRenderRun *self = KILN_RENDER_RUN (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_object (&self->process);
  g_clear_object (&self->stream);
  g_clear_object (&self->sandbox);
  g_clear_object (&self->blender);

  G_OBJECT_CLASS (kiln_render_run_parent_class)->dispose (object);
}

static void
kiln_render_run_finalize (GObject *object)
{
  KilnRenderRun *self = KILN_RENDER_RUN (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->spec, kiln_render_spec_free);
  g_clear_pointer (&self->output, kiln_blender_output_free);
  g_free (self->script_path);
  g_free (self->sandbox_error);

  G_OBJECT_CLASS (kiln_render_run_parent_class)->finalize (object);
}

static void
kiln_render_run_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KilnRenderRun *self = KILN_RENDER_RUN (object);

  switch (prop_id)
    {
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_FRAME:
      g_value_set_int (value, self->frame);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_render_run_class_init (KilnRenderRunClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_render_run_dispose;
  object_class->finalize = kiln_render_run_finalize;
  object_class->get_property = kiln_render_run_get_property;

  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRAME] =
    g_param_spec_int ("frame", NULL, NULL, G_MININT, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, KILN_TYPE_BLENDER_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 4, G_TYPE_INT, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_DOUBLE);
}

static void
kiln_render_run_init (KilnRenderRun *self)
{
  self->cancellable = g_cancellable_new ();
  self->output = kiln_blender_output_new ();
}

KilnRenderRun *
kiln_render_run_new (KilnSandbox          *sandbox,
                     KilnBlender          *blender,
                     const KilnRenderSpec *spec)
{
  KilnRenderRun *self;

  g_return_val_if_fail (KILN_IS_SANDBOX (sandbox), NULL);
  g_return_val_if_fail (KILN_IS_BLENDER (blender), NULL);
  g_return_val_if_fail (spec != NULL, NULL);

  self = g_object_new (KILN_TYPE_RENDER_RUN, NULL);
  self->sandbox = g_object_ref (sandbox);
  self->blender = g_object_ref (blender);
  self->spec = kiln_render_spec_copy (spec);
  self->frame = spec->frame_start;
  return self;
}

const KilnRenderSpec *
kiln_render_run_get_spec (KilnRenderRun *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_RUN (self), NULL);
  return self->spec;
}

double
kiln_render_run_get_fraction (KilnRenderRun *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_RUN (self), 0);
  return self->fraction;
}

int
kiln_render_run_get_frame (KilnRenderRun *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_RUN (self), 0);
  return self->frame;
}

KilnBlenderOutput *
kiln_render_run_get_output (KilnRenderRun *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_RUN (self), NULL);
  return self->output;
}

void
kiln_render_run_cancel (KilnRenderRun *self)
{
  g_return_if_fail (KILN_IS_RENDER_RUN (self));
  g_cancellable_cancel (self->cancellable);
}

GPid
kiln_render_run_get_pid (KilnRenderRun *self)
{
  const char *identifier;

  g_return_val_if_fail (KILN_IS_RENDER_RUN (self), 0);

  if (self->process == NULL || self->exited)
    return 0;
  identifier = g_subprocess_get_identifier (self->process);
  return identifier != NULL ? (GPid) atoi (identifier) : 0;
}

/* Progress --------------------------------------------------------------------------------- */

static void
update_progress (KilnRenderRun    *self,
                 KilnBlenderEvent *event)
{
  guint frames = kiln_render_spec_get_frame_count (self->spec);
  double within = 0;
  double fraction;

  if (event->kind == KILN_BLENDER_EVENT_SAVED)
    self->frames_saved = MIN (self->frames_saved + 1, frames);
  else if (event->kind == KILN_BLENDER_EVENT_PROGRESS && event->samples > 0)
    within = MIN ((double) event->sample / event->samples, 1.0);
  else
    return;

  fraction = MIN ((self->frames_saved + within) / frames, 1.0);
  if (event->frame != G_MININT && event->frame != self->frame)
    {
      self->frame = event->frame;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
    }
  if (fraction > self->fraction)
    {
      self->fraction = fraction;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
    }
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, self->frame, event->sample,
                 event->samples, self->fraction);
}

static void
handle_line (KilnRenderRun *self,
             const char    *line)
{
  g_auto(KilnBlenderEvent) event = { 0, };

  if (g_str_has_prefix (line, "bwrap: "))
    {
      if (self->sandbox_error == NULL)
        self->sandbox_error = g_strdup (line + strlen ("bwrap: "));
      return;
    }

  if (g_str_has_prefix (line, SETUP_MARKER))
    {
      self->setup_done = TRUE;
      /* Everything Blender found missing is known now: stop before rendering. */
      if (!self->spec->allow_missing_files &&
          kiln_blender_output_get_missing_files (self->output)->len > 0)
        {
          self->missing_files = TRUE;
          kill_sandbox (self);
        }
      return;
    }

  kiln_blender_output_feed (self->output, line, &event);
  g_signal_emit (self, signals[SIGNAL_EVENT], 0, &event);
  update_progress (self, &event);
}

/* Finishing -------------------------------------------------------------------------------- */

static GError *
process_error (KilnRenderRun *self)
{
  KilnBlenderOutput *output = self->output;
  const char *first_error = kiln_blender_output_get_first_error (output);

  if (self->cancelled)
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The render was cancelled"));
  if (self->timed_out)
    {
      guint limit = kiln_sandbox_get_time_limit (self->sandbox);

      return g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_TIMED_OUT,
                          g_dngettext (GETTEXT_PACKAGE,
                                       "The render ran past its time limit of %u second and "
                                       "was stopped",
                                       "The render ran past its time limit of %u seconds and "
                                       "was stopped", limit),
                          limit);
    }
  if (self->sandbox_error != NULL && !g_subprocess_get_successful (self->process))
    return g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_SANDBOX,
                        _("The sandbox could not be set up: %s"), self->sandbox_error);
  if (!self->spec->allow_missing_files && kiln_blender_output_get_missing_files (output)->len > 0)
    {
      GPtrArray *missing = kiln_blender_output_get_missing_files (output);
      g_autofree char *list = NULL;

      list = kiln_file_list_format ((const char * const *) missing->pdata, missing->len, 5);
      return g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_MISSING_FILES,
                          g_dngettext (GETTEXT_PACKAGE,
                                       /* TRANSLATORS: %s is a list of the missing files
                                        * ("a.png, b.png and 3 more files") */
                                       "The scene needs a file that is not here: %s",
                                       "The scene needs files that are not here: %s",
                                       missing->len),
                          list);
    }
  if (kiln_blender_output_get_out_of_memory (output))
    {
      guint64 limit = kiln_sandbox_get_memory_limit (self->sandbox);
      g_autofree char *size = g_format_size_full (limit, G_FORMAT_SIZE_IEC_UNITS);

      if (limit > 0)
        return g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_OUT_OF_MEMORY,
                            _("The scene needs more memory than the lending limit of %s"),
                            size);
      return g_error_new_literal (KILN_RENDER_ERROR, KILN_RENDER_ERROR_OUT_OF_MEMORY,
                                  _("The scene needs more memory than this computer has"));
    }
  if (kiln_blender_output_get_unreadable_file (output) != NULL)
    return g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_UNREADABLE,
                        _("Blender could not read the scene: %s"), first_error);
  if (!self->setup_done && kiln_blender_output_get_python_failed (output) &&
      g_subprocess_get_if_exited (self->process) &&
      g_subprocess_get_exit_status (self->process) == SETUP_EXIT_CODE)
    return g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_SETUP_FAILED,
                        _("The render settings could not be applied to the scene: %s"),
                        first_error);
  if (g_subprocess_get_if_signaled (self->process))
    return g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_CRASHED,
                        _("Blender stopped unexpectedly (signal %d)"),
                        g_subprocess_get_term_sig (self->process));
  if (!g_subprocess_get_successful (self->process))
    return g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_FAILED,
                        _("Blender failed (exit status %d): %s"),
                        g_subprocess_get_exit_status (self->process),
                        first_error != NULL ? first_error : _("no reason given"));
  return NULL;
}

/* The frames on disk, each checked; Blender's error explains a missing one best. */
static GStrv
check_outputs (KilnRenderRun  *self,
               GError        **error)
{
  g_autoptr(GStrvBuilder) paths = g_strv_builder_new ();
  const char *first_error = kiln_blender_output_get_first_error (self->output);
  guint width = 0;
  guint height = 0;

  kiln_render_spec_get_output_size (self->spec, &width, &height);
  for (gint64 frame = self->spec->frame_start; frame <= self->spec->frame_end;
       frame += spec_step (self->spec))
    {
      g_autofree char *path = kiln_render_spec_get_output_path (self->spec, (int) frame);
      g_autoptr(GError) check_error = NULL;

      if (!kiln_image_check_file (path, self->spec->format, width, height, &check_error))
        {
          if (first_error != NULL &&
              g_error_matches (check_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            g_set_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_FAILED,
                         _("Blender could not render the scene: %s"), first_error);
          else
            g_set_error_literal (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_BAD_OUTPUT,
                                 check_error->message);
          return NULL;
        }
      g_strv_builder_add (paths, path);
    }
  return g_strv_builder_end (paths);
}

static void
maybe_finish (KilnRenderRun *self)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  GStrv paths;

  if (!self->reading_done || !self->exited || self->task == NULL)
    return;

  task = g_steal_pointer (&self->task);
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_cancellable_disconnect (self->task_cancellable, self->task_cancelled_id);
  self->task_cancelled_id = 0;
  g_clear_object (&self->task_cancellable);
  if (self->script_path != NULL)
    g_unlink (self->script_path);

  error = process_error (self);
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  paths = check_outputs (self, &error);
  if (paths == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (self->fraction < 1.0)
    {
      self->fraction = 1.0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
    }
  g_task_return_pointer (task, paths, (GDestroyNotify) g_strfreev);
}

static void
read_line_done (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(KilnRenderRun) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *line = NULL;
  gsize length;

  raw = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (object), result, &length,
                                              &error);
  if (raw == NULL)
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Reading Blender's output: %s", error->message);
      self->reading_done = TRUE;
      maybe_finish (self);
      return;
    }

  /* File names in other encodings must not end the reading. */
  line = g_utf8_make_valid (raw, length);
  handle_line (self, line);
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (object), G_PRIORITY_DEFAULT,
                                       self->cancellable, read_line_done, g_object_ref (self));
}

static void
wait_done (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(KilnRenderRun) self = user_data;

  /* Without a cancellable this only fails if the process cannot be waited for. */
  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  self->exited = TRUE;
  maybe_finish (self);
}

static gboolean
on_time_limit (gpointer user_data)
{
  KilnRenderRun *self = user_data;

  self->timeout_id = 0;
  self->timed_out = TRUE;
  kill_sandbox (self);
  return G_SOURCE_REMOVE;
}

static void
on_task_cancelled (GCancellable *cancellable,
                   gpointer      user_data)
{
  KilnRenderRun *self = user_data;

  g_cancellable_cancel (self->cancellable);
}

/* Starting --------------------------------------------------------------------------------- */

/* The border fraction for the pixel edge @edge of @size pixels. Blender stores it
 * as a float and truncates fraction × size to find the edge again: the exact
 * edge / size may come back one pixel short (13 / 22 gives row 12), the middle of
 * the pixel always gives the edge back. 1.0 (Blender's upper limit) for the last. */
static double
border_fraction (guint edge,
                 guint size)
{
  return edge >= size ? 1.0 : (edge + 0.5) / size;
}

static char *
build_params (KilnRenderRun *self,
              guint          threads)
{
  const KilnRenderSpec *spec = self->spec;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *output = g_build_filename (spec->output_dir, "frame_####", NULL);
  gboolean denoise = spec->denoise && kiln_blender_has_denoiser (self->blender);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "frame_start");
  json_builder_add_int_value (builder, spec->frame_start);
  json_builder_set_member_name (builder, "frame_end");
  json_builder_add_int_value (builder, spec->frame_end);
  json_builder_set_member_name (builder, "frame_step");
  json_builder_add_int_value (builder, spec_step (spec));
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, spec->width);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, spec->height);
  json_builder_set_member_name (builder, "samples");
  json_builder_add_int_value (builder, spec->samples);
  json_builder_set_member_name (builder, "denoise");
  json_builder_add_boolean_value (builder, denoise);
  json_builder_set_member_name (builder, "use_border");
  json_builder_add_boolean_value (builder, spec->use_border);
  if (spec->use_border)
    {
      /* Blender's border runs 0..1 from the left and from the bottom. */
      json_builder_set_member_name (builder, "border_x");
      json_builder_begin_array (builder);
      json_builder_add_double_value (builder, border_fraction (spec->border_x, spec->width));
      json_builder_add_double_value (builder, border_fraction (spec->border_x +
                                                               spec->border_width,
                                                               spec->width));
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "border_y");
      json_builder_begin_array (builder);
      json_builder_add_double_value (builder, border_fraction (spec->height - spec->border_y -
                                                               spec->border_height,
                                                               spec->height));
      json_builder_add_double_value (builder, border_fraction (spec->height - spec->border_y,
                                                               spec->height));
      json_builder_end_array (builder);
    }
  json_builder_set_member_name (builder, "threads");
  json_builder_add_int_value (builder, threads);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, kiln_image_format_get_blender_name (spec->format));
  json_builder_set_member_name (builder, "output");
  json_builder_add_string_value (builder, output);
  json_builder_set_member_name (builder, "confine");
  json_builder_add_boolean_value (builder, kiln_sandbox_get_backend (self->sandbox) ==
                                           KILN_SANDBOX_BACKEND_FLATPAK);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* Old frames must not pass for new ones. */
static gboolean
remove_old_outputs (const KilnRenderSpec  *spec,
                    GError               **error)
{
  for (gint64 frame = spec->frame_start; frame <= spec->frame_end; frame += spec_step (spec))
    {
      g_autofree char *path = kiln_render_spec_get_output_path (spec, (int) frame);

      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;

          g_set_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_SANDBOX,
                       _("Cannot clear the output folder: %s"), g_strerror (saved_errno));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
resolve_path (char   **path,
              GError **error)
{
  char *real = realpath (*path, NULL);

  if (real == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_INVALID,
                   _("Cannot use %s: %s"), *path, g_strerror (saved_errno));
      return FALSE;
    }
  g_free (*path);
  *path = g_strdup (real);
  free (real);
  return TRUE;
}

static gboolean
start (KilnRenderRun  *self,
       GError        **error)
{
  const KilnRenderSpec *spec = self->spec;
  g_autofree char *scene_dir = NULL;
  g_autofree char *params = NULL;
  g_autofree char *threads_text = NULL;
  g_autoptr(GError) local_error = NULL;
  guint threads;

  if (!kiln_render_spec_validate (spec, error))
    return FALSE;
  if (!kiln_blender_has_cycles (self->blender))
    {
      g_set_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_INVALID,
                   _("Blender %s cannot render with Cycles"),
                   kiln_blender_get_version (self->blender));
      return FALSE;
    }
  if (!kiln_blender_supports_format (self->blender,
                                     kiln_image_format_get_blender_name (spec->format)))
    {
      g_set_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_INVALID,
                   _("Blender %s cannot write %s images"),
                   kiln_blender_get_version (self->blender),
                   kiln_image_format_get_blender_name (spec->format));
      return FALSE;
    }
  /* The sandbox mounts real paths: symlinks on the way would not exist inside. */
  if (!resolve_path (&self->spec->blend_file, error) ||
      !resolve_path (&self->spec->output_dir, error))
    return FALSE;
  if (!remove_old_outputs (spec, error))
    return FALSE;

  self->script_path = g_build_filename (spec->output_dir, SETUP_SCRIPT_NAME, NULL);
  g_unlink (self->script_path);
  if (!g_file_set_contents_full (self->script_path, setup_script, -1,
                                 G_FILE_SET_CONTENTS_NONE, 0444, &local_error))
    {
      g_set_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_SANDBOX,
                   _("Cannot prepare the render: %s"), local_error->message);
      return FALSE;
    }

  threads = kiln_sandbox_get_cpu_count (self->sandbox);
  threads_text = g_strdup_printf ("%u", threads);
  params = build_params (self, threads);
  scene_dir = g_path_get_dirname (spec->blend_file);

  {
    const char * const readonly[] = { scene_dir, self->script_path, NULL };
    const char * const command[] = {
      kiln_blender_get_path (self->blender),
      "--background", "--factory-startup", "--disable-autoexec", "-noaudio",
      "--threads", threads_text,
      "--python-exit-code", G_STRINGIFY (SETUP_EXIT_CODE),
      spec->blend_file,
      "--python", self->script_path,
      "--render-anim",
      "--", params,
      NULL
    };

    self->process = kiln_sandbox_spawn (self->sandbox, spec->output_dir, readonly, command,
                                        &local_error);
  }
  if (self->process == NULL)
    {
      g_unlink (self->script_path);
      g_set_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_SANDBOX,
                   _("The render could not be started: %s"), local_error->message);
      return FALSE;
    }
  return TRUE;
}

void
kiln_render_run_execute_async (KilnRenderRun       *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  guint time_limit;

  g_return_if_fail (KILN_IS_RENDER_RUN (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_render_run_execute_async);

  if (self->started)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("This render has already been started"));
      return;
    }
  self->started = TRUE;

  if (g_cancellable_set_error_if_cancelled (cancellable, &error) ||
      g_cancellable_set_error_if_cancelled (self->cancellable, &error) ||
      !start (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  self->task = g_steal_pointer (&task);
  g_signal_connect (self->cancellable, "cancelled", G_CALLBACK (on_cancelled), self);
  if (cancellable != NULL)
    {
      self->task_cancellable = g_object_ref (cancellable);
      self->task_cancelled_id = g_cancellable_connect (cancellable,
                                                       G_CALLBACK (on_task_cancelled),
                                                       self, NULL);
    }

  time_limit = kiln_sandbox_get_time_limit (self->sandbox);
  /* Milliseconds: whole-second timers may fire up to a second early. */
  if (time_limit > 0 && time_limit <= G_MAXUINT / 1000)
    self->timeout_id = g_timeout_add (time_limit * 1000, on_time_limit, self);
  else if (time_limit > 0)
    self->timeout_id = g_timeout_add_seconds (time_limit, on_time_limit, self);

  self->stream = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  g_data_input_stream_set_newline_type (self->stream, G_DATA_STREAM_NEWLINE_TYPE_LF);
  g_data_input_stream_read_line_async (self->stream, G_PRIORITY_DEFAULT, self->cancellable,
                                       read_line_done, g_object_ref (self));
  g_subprocess_wait_async (self->process, NULL, wait_done, g_object_ref (self));
}

GStrv
kiln_render_run_execute_finish (KilnRenderRun  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (KILN_IS_RENDER_RUN (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_render_run_execute_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
