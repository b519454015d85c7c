/* kiln-blender-script.c: running Kiln's own scripts in Blender, inside the sandbox
 *
 * Scene inspection and the verifier's crop renders need Blender to run a script of
 * Kiln's on a scene that may come from anyone: the same sandbox as a provider's
 * render, a wall-clock limit, and a kill of the whole sandbox when cancelled.
 * Nothing blocks: the process is watched from the caller's main context.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "kiln-render-private.h"

#define SCRIPT_EXIT_CODE 3

typedef struct
{
  GSubprocess  *process;
  GSource      *timeout;
  GCancellable *cancellable;
  gulong        cancelled_id;
  char         *script_path;
  guint         time_limit;
  gint          timed_out;    /* atomic */
  gint          cancelled;    /* atomic */
} RunData;

static void
run_data_free (RunData *data)
{
  if (data->timeout != NULL)
    {
      g_source_destroy (data->timeout);
      g_source_unref (data->timeout);
    }
  if (data->cancelled_id != 0)
    g_cancellable_disconnect (data->cancellable, data->cancelled_id);
  g_clear_object (&data->cancellable);
  g_clear_object (&data->process);
  if (data->script_path != NULL)
    g_unlink (data->script_path);
  g_free (data->script_path);
  g_free (data);
}

void
kiln_blender_script_result_free (KilnBlenderScriptResult *result)
{
  if (result == NULL)
    return;
  g_free (result->output);
  g_free (result);
}

static gboolean
on_time_limit (gpointer user_data)
{
  RunData *data = user_data;

  g_atomic_int_set (&data->timed_out, TRUE);
  kiln_sandbox_kill (data->process);
  return G_SOURCE_REMOVE;
}

/* May run in any thread: only a flag and a kill(2). */
static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  RunData *data = user_data;

  g_atomic_int_set (&data->cancelled, TRUE);
  kiln_sandbox_kill (data->process);
}

static void
communicate_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data (task);
  g_autoptr(KilnBlenderScriptResult) run = g_new0 (KilnBlenderScriptResult, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gsize size = 0;
  const char *text;

  if (!g_subprocess_communicate_finish (G_SUBPROCESS (object), result, &bytes, NULL, &error))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("Blender’s output could not be read: %s"), error->message);
      return;
    }
  /* File names in other encodings must not lose the rest of the output. */
  text = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;
  run->output = g_utf8_make_valid (text != NULL ? text : "", (gssize) size);

  if (g_atomic_int_get (&data->cancelled))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("Blender was stopped"));
      return;
    }
  if (g_atomic_int_get (&data->timed_out))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("Blender did not finish within %u seconds and was stopped"),
                               data->time_limit);
      return;
    }

  run->exited = g_subprocess_get_if_exited (data->process);
  run->exit_status = run->exited ? g_subprocess_get_exit_status (data->process) : -1;
  g_task_return_pointer (task, g_steal_pointer (&run),
                         (GDestroyNotify) kiln_blender_script_result_free);
}

char *
kiln_render_real_path (const char  *path,
                       GError     **error)
{
  char *real = realpath (path, NULL);
  char *copy;

  if (real == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot use %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  copy = g_strdup (real);
  free (real);
  return copy;
}

void
kiln_blender_script_run_async (KilnSandbox         *sandbox,
                               KilnBlender         *blender,
                               const char          *work_dir,
                               const char          *blend_file,
                               const char          *script,
                               const char          *params,
                               guint                threads,
                               guint                time_limit,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *work = NULL;
  g_autofree char *scene = NULL;
  g_autofree char *scene_dir = NULL;
  g_autofree char *threads_text = NULL;
  RunData *data;

  g_return_if_fail (KILN_IS_SANDBOX (sandbox));
  g_return_if_fail (KILN_IS_BLENDER (blender));
  g_return_if_fail (work_dir != NULL && blend_file != NULL && script != NULL);
  g_return_if_fail (time_limit > 0);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_blender_script_run_async);
  data = g_new0 (RunData, 1);
  data->time_limit = time_limit;
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  if (g_task_return_error_if_cancelled (task))
    return;

  /* The sandbox mounts real paths: symlinks on the way would not exist inside. */
  work = kiln_render_real_path (work_dir, &error);
  scene = work != NULL ? kiln_render_real_path (blend_file, &error) : NULL;
  if (scene == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  scene_dir = g_path_get_dirname (scene);

  data->script_path = g_build_filename (work, ".kiln-script.py", NULL);
  g_unlink (data->script_path);
  if (!g_file_set_contents_full (data->script_path, script, -1, G_FILE_SET_CONTENTS_NONE,
                                 0444, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  threads_text = g_strdup_printf ("%u", MAX (threads, 1));
  {
    const char * const readonly[] = { scene_dir, data->script_path, NULL };
    const char * const command[] = {
      kiln_blender_get_path (blender),
      "--background", "--factory-startup", "--disable-autoexec", "-noaudio",
      "--threads", threads_text,
      "--python-exit-code", G_STRINGIFY (SCRIPT_EXIT_CODE),
      scene,
      "--python", data->script_path,
      "--", params != NULL ? params : "{}",
      NULL
    };

    data->process = kiln_sandbox_spawn (sandbox, work, readonly, command, &error);
  }
  if (data->process == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("Blender could not be started in the sandbox: %s"),
                               error->message);
      return;
    }

  data->timeout = g_timeout_source_new (time_limit > G_MAXUINT / 1000 ? G_MAXUINT
                                                                       : time_limit * 1000);
  g_source_set_callback (data->timeout, on_time_limit, data, NULL);
  g_source_attach (data->timeout, g_task_get_context (task));
  if (cancellable != NULL)
    {
      data->cancellable = g_object_ref (cancellable);
      data->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
                                                  data, NULL);
    }

  g_subprocess_communicate_async (data->process, NULL, NULL, communicate_done,
                                       g_steal_pointer (&task));
}

KilnBlenderScriptResult *
kiln_blender_script_run_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_blender_script_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
kiln_blender_script_find_error (const char *output)
{
  g_auto(GStrv) lines = NULL;
  const char *found = NULL;

  if (output == NULL)
    return NULL;
  lines = g_strsplit (output, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);

      if (g_str_has_prefix (line, "Error: ") && !g_str_has_prefix (line, "Error: Not freed"))
        found = line + strlen ("Error: ");
    }
  return g_strdup (found);
}

void
kiln_render_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (path == NULL)
    return;
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
            !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          kiln_render_remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}
