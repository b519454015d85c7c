/* kiln-verifier-blender.c: the verifier's Blender, kept running between verifications
 *
 * Starting Blender, loading the scene and building what Cycles needs for it cost a
 * verification 1.2–1.5 CPU seconds here, more than rendering its crops. A job verifies many
 * results of one scene, so one Blender per scene file renders the crops of every result in
 * turn, with persistent data. It reads its requests, one JSON object a line, from a FIFO in
 * its own writable folder (the sandbox gives it no standard input), renders each request's
 * crops into a folder of the request's own, and answers with a line on its output.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kiln-render-private.h"
#include "kiln-render-run.h"
#include "kiln-verifier-private.h"

#define DONE_MARKER      "KILN-CROPS-DONE "
#define FAILED_MARKER    "KILN-CROPS-FAILED "
#define SCRIPT_EXIT_CODE 3
/* What is kept of Blender's output, to say why it failed. */
#define OUTPUT_KEPT      (16 * 1024)

/* The settings are those of KilnRenderRun's setup script; each request sets the frame, its
 * size and samples, and renders its crops as cropped border renders. */
static const char crops_script[] =
  "import bpy, json, os, sys, traceback\n"
  "\n"
  "params = json.loads(sys.argv[sys.argv.index('--') + 1])\n"
  "scene = bpy.context.scene\n"
  "render = scene.render\n"
  "render.engine = 'CYCLES'\n"
  "scene.cycles.device = 'CPU'\n"
  "scene.cycles.use_denoising = False\n"
  "for layer in scene.view_layers:\n"
  "    layer.cycles.use_denoising = False\n"
  "render.resolution_percentage = 100\n"
  "render.dither_intensity = 0\n"
  "render.threads_mode = 'FIXED'\n"
  "render.threads = params['threads']\n"
  "render.use_persistent_data = True\n"
  "render.use_file_extension = True\n"
  "render.image_settings.file_format = 'PNG'\n"
  "render.use_border = True\n"
  "render.use_crop_to_border = True\n"
  "with open(params['requests'], 'r', encoding='utf-8') as requests:\n"
  "    while True:\n"
  "        line = requests.readline()\n"
  "        if not line:\n"
  "            break\n"
  "        request = json.loads(line)\n"
  "        try:\n"
  "            scene.cycles.samples = request['samples']\n"
  "            render.resolution_x = request['width']\n"
  "            render.resolution_y = request['height']\n"
  "            scene.frame_set(request['frame'])\n"
  "            for i, (x0, x1, y0, y1) in enumerate(request['crops']):\n"
  "                render.border_min_x, render.border_max_x = x0, x1\n"
  "                render.border_min_y, render.border_max_y = y0, y1\n"
  "                render.filepath = os.path.join(request['output'], 'crop-%d.png' % i)\n"
  "                bpy.ops.render.render(write_still=True)\n"
  "            print('" DONE_MARKER "%d' % request['id'], flush=True)\n"
  "        except Exception as error:\n"
  "            traceback.print_exc()\n"
  "            print('" FAILED_MARKER "%d %s' % (request['id'], error), flush=True)\n";

typedef struct _Session Session;

struct _KilnCropRenderer
{
  KilnBlender *blender;
  KilnSandbox *sandbox;
  GHashTable  *sessions;     /* blend file → Session (a reference) */
};

/* One Blender and the requests for its scene. */
struct _Session
{
  grefcount          ref;
  KilnCropRenderer  *renderer;     /* NULL once closed */
  char              *blend_file;   /* as asked: the key */
  char              *dir;          /* its writable folder */
  int                fifo;         /* the requests' write end */
  GSubprocess       *process;
  GDataInputStream  *lines;
  GCancellable      *cancellable;  /* reading its output */
  GString           *output;       /* the end of what it printed */
  GQueue             queue;        /* GTask *; the first one is being rendered when busy */
  gboolean           busy;
  guint              next_id;
  guint              time_limit;   /* seconds a request may take */
  guint              limit_id;
  guint              idle_id;
};

/* What a request asks for; the task data of its GTask. */
typedef struct
{
  char     *blend_file;
  int       frame;
  guint     width;
  guint     height;
  guint     samples;
  GArray   *crops;           /* KilnVerifyCrop */
  guint     id;
  char     *dir;             /* where its crops go, once sent */
  Session  *session;         /* unowned: the session it waits in */
  GSource  *cancel_source;
} Request;

static void submit (KilnCropRenderer *self,
                    GTask            *task);

static void
request_free (Request *request)
{
  g_free (request->blend_file);
  g_array_unref (request->crops);
  g_free (request->dir);
  if (request->cancel_source != NULL)
    {
      g_source_destroy (request->cancel_source);
      g_source_unref (request->cancel_source);
    }
  g_free (request);
}

static void
request_detach (GTask *task)
{
  Request *request = g_task_get_task_data (task);

  request->session = NULL;
  if (request->cancel_source != NULL)
    {
      g_source_destroy (request->cancel_source);
      g_clear_pointer (&request->cancel_source, g_source_unref);
    }
}

/* Completes @task (taking the caller's reference) with @error (taken). */
static void
request_fail (GTask  *task,
              GError *error)
{
  request_detach (task);
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* Sessions ------------------------------------------------------------------------------ */

static Session *
session_ref (Session *session)
{
  g_ref_count_inc (&session->ref);
  return session;
}

static void
session_unref (Session *session)
{
  if (!g_ref_count_dec (&session->ref))
    return;

  g_assert (session->renderer == NULL);
  g_assert (g_queue_is_empty (&session->queue));
  g_free (session->blend_file);
  g_free (session->dir);
  g_clear_object (&session->process);
  g_clear_object (&session->lines);
  g_clear_object (&session->cancellable);
  g_string_free (session->output, TRUE);
  g_free (session);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Session, session_unref)

/* Stops Blender and forgets the session; its queue is left to the caller, who takes the
 * tasks in it (each with its reference). */
static void
session_close (Session *session,
               GQueue  *tasks)
{
  KilnCropRenderer *renderer = session->renderer;
  g_autoptr(Session) hold = session_ref (session);
  GTask *task;

  if (renderer == NULL)
    return;

  session->renderer = NULL;
  g_cancellable_cancel (session->cancellable);
  if (session->process != NULL)
    kiln_sandbox_kill (session->process);
  if (session->fifo >= 0)
    close (session->fifo);
  session->fifo = -1;
  g_clear_handle_id (&session->limit_id, g_source_remove);
  g_clear_handle_id (&session->idle_id, g_source_remove);
  kiln_render_remove_tree (session->dir);
  session->busy = FALSE;
  while ((task = g_queue_pop_head (&session->queue)) != NULL)
    {
      ((Request *) g_task_get_task_data (task))->session = NULL;
      g_queue_push_tail (tasks, task);
    }
  g_hash_table_remove (renderer->sessions, session->blend_file);
}

/* Ends @session because of @error: the request being rendered fails with it, the others go
 * to a new Blender. */
static void
session_fail (Session *session,
              GError  *error)
{
  KilnCropRenderer *renderer = session->renderer;
  gboolean busy = session->busy;
  GQueue tasks = G_QUEUE_INIT;
  GTask *task;

  session_close (session, &tasks);
  if (busy && (task = g_queue_pop_head (&tasks)) != NULL)
    request_fail (task, g_steal_pointer (&error));
  g_clear_error (&error);
  while ((task = g_queue_pop_head (&tasks)) != NULL)
    {
      submit (renderer, task);
      g_object_unref (task);
    }
}

static char *
request_to_json (Request *request)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  double width = request->width, height = request->height;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, request->id);
  json_builder_set_member_name (builder, "frame");
  json_builder_add_int_value (builder, request->frame);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, request->width);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, request->height);
  json_builder_set_member_name (builder, "samples");
  json_builder_add_int_value (builder, request->samples);
  json_builder_set_member_name (builder, "output");
  json_builder_add_string_value (builder, request->dir);
  json_builder_set_member_name (builder, "crops");
  json_builder_begin_array (builder);
  for (guint i = 0; i < request->crops->len; i++)
    {
      const KilnVerifyCrop *crop = &g_array_index (request->crops, KilnVerifyCrop, i);
      guint bottom = request->height - crop->y - crop->height;

      /* Fractions through the middle of the edge pixels: Blender truncates
       * fraction × size, and the exact edge / size may come back a pixel short. */
      json_builder_begin_array (builder);
      json_builder_add_double_value (builder, (crop->x + 0.5) / width);
      json_builder_add_double_value (builder, MIN ((crop->x + crop->width + 0.5) / width, 1.0));
      json_builder_add_double_value (builder, (bottom + 0.5) / height);
      json_builder_add_double_value (builder, MIN ((bottom + crop->height + 0.5) / height, 1.0));
      json_builder_end_array (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static gboolean
on_idle (gpointer user_data)
{
  Session *session = user_data;
  GQueue tasks = G_QUEUE_INIT;

  session->idle_id = 0;
  session_close (session, &tasks);
  g_assert (g_queue_is_empty (&tasks));
  return G_SOURCE_REMOVE;
}

static gboolean
on_time_limit (gpointer user_data)
{
  Session *session = user_data;

  session->limit_id = 0;
  session_fail (session, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                      _("Blender did not finish within %u seconds and was "
                                        "stopped"), session->time_limit));
  return G_SOURCE_REMOVE;
}

/* Sends the first request waiting, or waits for more. */
static void
session_next (Session *session)
{
  g_autofree char *json = NULL;
  g_autofree char *line = NULL;
  g_autofree char *name = NULL;
  GTask *task;
  Request *request;
  gsize len;
  gssize written;

  if (session->renderer == NULL || session->busy)
    return;
  task = g_queue_peek_head (&session->queue);
  if (task == NULL)
    {
      if (session->idle_id == 0)
        session->idle_id = g_timeout_add_seconds (KILN_VERIFIER_KEEP_WARM, on_idle, session);
      return;
    }
  g_clear_handle_id (&session->idle_id, g_source_remove);

  request = g_task_get_task_data (task);
  request->id = ++session->next_id;
  name = g_strdup_printf ("request-%u", request->id);
  request->dir = g_build_filename (session->dir, name, NULL);
  if (g_mkdir (request->dir, 0700) != 0)
    {
      int saved_errno = errno;

      session->busy = TRUE;
      session_fail (session, g_error_new (G_IO_ERROR, g_io_error_from_errno (saved_errno),
                                          _("Could not make a folder for the local render: %s"),
                                          g_strerror (saved_errno)));
      return;
    }

  json = request_to_json (request);
  line = g_strconcat (json, "\n", NULL);
  len = strlen (line);
  /* Well below PIPE_BUF, and Blender has read every earlier request: written whole. */
  written = write (session->fifo, line, len);
  session->busy = TRUE;
  if (written < 0 || (gsize) written != len)
    {
      int saved_errno = written < 0 ? errno : EIO;

      session_fail (session, g_error_new (G_IO_ERROR, g_io_error_from_errno (saved_errno),
                                          _("Could not ask Blender for the local render: %s"),
                                          g_strerror (saved_errno)));
      return;
    }
  session->limit_id = g_timeout_add_seconds (session->time_limit, on_time_limit, session);
}

/* The request being rendered is done: with its folder, or with @error (taken). */
static void
session_answer (Session *session,
                GError  *error)
{
  g_autoptr(GTask) task = g_queue_pop_head (&session->queue);
  Request *request = g_task_get_task_data (task);

  session->busy = FALSE;
  g_clear_handle_id (&session->limit_id, g_source_remove);
  request_detach (task);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_strdup (request->dir), g_free);
}

static void read_line (Session *session);

static void
on_line (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(Session) session = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *line = NULL;
  GTask *head;
  guint64 id;
  const char *marker;
  const char *end;
  gsize length;

  raw = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (object), result, &length,
                                              &error);
  if (session->renderer == NULL)
    return;
  if (raw == NULL)
    {
      g_autofree char *reason = kiln_blender_script_find_error (session->output->str);

      /* Blender ended: it only does when it fails. */
      session_fail (session, g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_FAILED,
                                          _("The local render that checks results failed: %s"),
                                          reason != NULL ? reason
                                                         : _("Blender stopped unexpectedly")));
      return;
    }

  /* File names in other encodings must not end the reading. */
  line = g_utf8_make_valid (raw, length);
  g_string_append (session->output, line);
  g_string_append_c (session->output, '\n');
  if (session->output->len > OUTPUT_KEPT)
    g_string_erase (session->output, 0, session->output->len - OUTPUT_KEPT);

  /* Blender's own output is not line-buffered: a marker may follow a part of a line. */
  head = session->busy ? g_queue_peek_head (&session->queue) : NULL;
  if (head != NULL && (marker = strstr (line, DONE_MARKER)) != NULL &&
      g_ascii_string_to_unsigned (marker + strlen (DONE_MARKER), 10, 0, G_MAXUINT, &id, NULL) &&
      id == ((Request *) g_task_get_task_data (head))->id)
    {
      session_answer (session, NULL);
      session_next (session);
    }
  else if (head != NULL && (marker = strstr (line, FAILED_MARKER)) != NULL &&
           (id = g_ascii_strtoull (marker + strlen (FAILED_MARKER), (char **) &end, 10)) ==
           ((Request *) g_task_get_task_data (head))->id)
    {
      g_autofree char *reason = kiln_blender_script_find_error (session->output->str);

      session_answer (session,
                      g_error_new (KILN_RENDER_ERROR, KILN_RENDER_ERROR_FAILED,
                                   _("The local render that checks results failed: %s"),
                                   reason != NULL ? reason : g_strstrip ((char *) end)));
      session_next (session);
    }

  read_line (session);
}

static void
read_line (Session *session)
{
  if (session->renderer == NULL)
    return;
  g_data_input_stream_read_line_async (session->lines, G_PRIORITY_DEFAULT,
                                       session->cancellable, on_line, session_ref (session));
}

static gboolean
session_start (Session  *session,
               GError  **error)
{
  KilnCropRenderer *renderer = session->renderer;
  g_autofree char *dir = NULL;
  g_autofree char *scene = NULL;
  g_autofree char *scene_dir = NULL;
  g_autofree char *fifo = NULL;
  g_autofree char *script = NULL;
  g_autofree char *params = NULL;
  g_autofree char *threads = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  guint n_threads = MAX (kiln_sandbox_get_cpu_count (renderer->sandbox), 1);

  dir = kiln_sandbox_make_work_dir ("kiln-verify-XXXXXX", error);
  if (dir == NULL)
    return FALSE;
  /* The sandbox mounts real paths: symlinks on the way would not exist inside. */
  session->dir = kiln_render_real_path (dir, error);
  if (session->dir == NULL)
    {
      g_rmdir (dir);
      return FALSE;
    }
  scene = kiln_render_real_path (session->blend_file, error);
  if (scene == NULL)
    return FALSE;
  scene_dir = g_path_get_dirname (scene);

  fifo = g_build_filename (session->dir, "requests", NULL);
  if (mkfifo (fifo, 0600) != 0 ||
      (session->fifo = open (fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not make a way to send Blender its work: %s"),
                   g_strerror (saved_errno));
      return FALSE;
    }

  script = g_build_filename (session->dir, ".kiln-crops.py", NULL);
  if (!g_file_set_contents_full (script, crops_script, -1, G_FILE_SET_CONTENTS_NONE, 0444,
                                 error))
    return FALSE;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "threads");
  json_builder_add_int_value (builder, n_threads);
  json_builder_set_member_name (builder, "requests");
  json_builder_add_string_value (builder, fifo);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  params = json_to_string (root, FALSE);
  threads = g_strdup_printf ("%u", n_threads);
  {
    const char * const readonly[] = { scene_dir, script, NULL };
    const char * const command[] = {
      kiln_blender_get_path (renderer->blender),
      "--background", "--factory-startup", "--disable-autoexec", "-noaudio",
      "--threads", threads,
      "--python-exit-code", G_STRINGIFY (SCRIPT_EXIT_CODE),
      scene,
      "--python", script,
      "--", params,
      NULL
    };
    g_autoptr(GError) spawn_error = NULL;

    session->process = kiln_sandbox_spawn (renderer->sandbox, session->dir, readonly, command,
                                           &spawn_error);
    if (session->process == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     _("Blender could not be started in the sandbox: %s"),
                     spawn_error->message);
        return FALSE;
      }
  }

  session->lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (session->process));
  g_data_input_stream_set_newline_type (session->lines, G_DATA_STREAM_NEWLINE_TYPE_LF);
  read_line (session);
  return TRUE;
}

/* The session for @blend_file, started if there is none. */
static Session *
session_lookup (KilnCropRenderer  *self,
                const char        *blend_file,
                GError           **error)
{
  Session *session = g_hash_table_lookup (self->sessions, blend_file);
  guint limit;

  if (session != NULL)
    return session;

  session = g_new0 (Session, 1);
  g_ref_count_init (&session->ref);
  session->renderer = self;
  session->blend_file = g_strdup (blend_file);
  session->fifo = -1;
  session->cancellable = g_cancellable_new ();
  session->output = g_string_new (NULL);
  limit = kiln_sandbox_get_time_limit (self->sandbox);
  session->time_limit = limit > 0 ? limit : KILN_VERIFIER_TIME_LIMIT;
  g_hash_table_insert (self->sessions, session->blend_file, session);

  if (!session_start (session, error))
    {
      GQueue tasks = G_QUEUE_INIT;

      session_close (session, &tasks);
      return NULL;
    }
  return session;
}

/* Requests ------------------------------------------------------------------------------ */

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  GTask *task = user_data;
  Request *request = g_task_get_task_data (task);
  Session *session = request->session;
  GError *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                       _("The local render was cancelled"));

  if (session == NULL)
    {
      g_error_free (error);
      return G_SOURCE_REMOVE;
    }
  if (session->busy && g_queue_peek_head (&session->queue) == task)
    {
      /* Blender is rendering its crops: stopped, with the whole sandbox. */
      session_fail (session, error);
      return G_SOURCE_REMOVE;
    }
  g_queue_remove (&session->queue, task);
  request_fail (task, error);
  return G_SOURCE_REMOVE;
}

/* Puts @task in its scene's queue (taking a reference of its own). */
static void
submit (KilnCropRenderer *self,
        GTask            *task)
{
  Request *request = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;
  Session *session;

  g_object_ref (task);
  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      request_fail (task, error);
      return;
    }
  session = session_lookup (self, request->blend_file, &error);
  if (session == NULL)
    {
      request_fail (task, error);
      return;
    }

  request->session = session;
  g_clear_pointer (&request->dir, g_free);
  if (cancellable != NULL && request->cancel_source == NULL)
    {
      request->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (request->cancel_source, G_SOURCE_FUNC (on_cancelled),
                             g_object_ref (task), g_object_unref);
      g_source_attach (request->cancel_source, g_task_get_context (task));
    }
  g_queue_push_tail (&session->queue, task);
  session_next (session);
}

void
kiln_crop_renderer_render_async (KilnCropRenderer    *self,
                                 const char          *blend_file,
                                 int                  frame,
                                 guint                width,
                                 guint                height,
                                 guint                samples,
                                 GArray              *crops,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *request;

  g_return_if_fail (self != NULL);
  g_return_if_fail (blend_file != NULL && crops != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_crop_renderer_render_async);
  request = g_new0 (Request, 1);
  request->blend_file = g_strdup (blend_file);
  request->frame = frame;
  request->width = width;
  request->height = height;
  request->samples = samples;
  request->crops = g_array_copy (crops);
  g_task_set_task_data (task, request, (GDestroyNotify) request_free);
  submit (self, task);
}

char *
kiln_crop_renderer_render_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_crop_renderer_render_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

KilnCropRenderer *
kiln_crop_renderer_new (KilnBlender *blender,
                        KilnSandbox *sandbox)
{
  KilnCropRenderer *self = g_new0 (KilnCropRenderer, 1);

  self->blender = g_object_ref (blender);
  self->sandbox = g_object_ref (sandbox);
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) session_unref);
  return self;
}

void
kiln_crop_renderer_free (KilnCropRenderer *self)
{
  GHashTableIter iter;
  gpointer value;
  GQueue tasks = G_QUEUE_INIT;
  GTask *task;

  if (self == NULL)
    return;

  while (g_hash_table_size (self->sessions) > 0)
    {
      g_hash_table_iter_init (&iter, self->sessions);
      g_hash_table_iter_next (&iter, NULL, &value);
      session_close (value, &tasks);
    }
  while ((task = g_queue_pop_head (&tasks)) != NULL)
    request_fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                             _("The local render was cancelled")));
  g_hash_table_unref (self->sessions);
  g_object_unref (self->blender);
  g_object_unref (self->sandbox);
  g_free (self);
}

guint
kiln_crop_renderer_get_n_running (KilnCropRenderer *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return g_hash_table_size (self->sessions);
}
