/* kiln-render-page-sample.c: the sample scene Blender makes on request
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * "Try a Sample Scene" needs a .blend to render without asking for one: Blender builds it from
 * Kiln's script (kiln-sample-scene.py, in the resources) into Kiln's cache folder, once; later
 * requests find it there. The script is Kiln's own and loads no file, but it still runs in the
 * sandbox when there is one, with only the cache folder writable.
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kiln-render-page-private.h"

/* Named after the script's version: a new script makes a new file. */
#define SAMPLE_FILE_NAME  "kiln-sample-1.blend"
#define SAMPLE_DONE       "KILN-SAMPLE-DONE"
/* Blender starts and builds the scene in a few seconds; anything past this is stuck. */
#define SAMPLE_TIME_LIMIT 120

typedef struct
{
  GSubprocess  *process;
  gboolean      sandboxed;
  char         *path;
  guint         timeout_id;
  gulong        cancelled_id;
  GCancellable *cancellable;
  gboolean      timed_out;
} SampleData;

static void
sample_data_free (SampleData *data)
{
  g_clear_handle_id (&data->timeout_id, g_source_remove);
  if (data->cancelled_id != 0)
    g_cancellable_disconnect (data->cancellable, data->cancelled_id);
  g_clear_object (&data->cancellable);
  g_clear_object (&data->process);
  g_free (data->path);
  g_free (data);
}

static void
sample_data_kill (SampleData *data)
{
  if (data->process == NULL)
    return;

  if (data->sandboxed)
    kiln_sandbox_kill (data->process);
  else
    g_subprocess_force_exit (data->process);
}

static gboolean
sample_timeout_cb (gpointer user_data)
{
  SampleData *data = user_data;

  data->timeout_id = 0;
  data->timed_out = TRUE;
  sample_data_kill (data);

  return G_SOURCE_REMOVE;
}

/* Runs on the main thread: the task's cancellable belongs to the page. */
static void
sample_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  sample_data_kill (user_data);
}

/* The last line Blender printed, to say why it failed. */
static char *
last_line (const char *output)
{
  g_auto(GStrv) lines = g_strsplit (output != NULL ? output : "", "\n", -1);

  for (int i = (int) g_strv_length (lines) - 1; i >= 0; i--)
    {
      g_strstrip (lines[i]);
      if (lines[i][0] != '\0' && !g_str_equal (lines[i], "Blender quit"))
        return g_strdup (lines[i]);
    }

  return g_strdup (_("no output"));
}

static void
sample_communicate_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  GSubprocess *process = G_SUBPROCESS (object);
  g_autoptr(GTask) task = user_data;
  SampleData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;

  if (!g_subprocess_communicate_utf8_finish (process, result, &output, NULL, &error))
    {
      sample_data_kill (data);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (data->timed_out)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("Blender took longer than %u seconds to make the sample scene "
                                 "and was stopped"), SAMPLE_TIME_LIMIT);
      return;
    }

  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0 ||
      output == NULL || strstr (output, SAMPLE_DONE) == NULL ||
      !g_file_test (data->path, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *reason = last_line (output);

      g_task_return_new_error (task, KILN_SCENE_ERROR, KILN_SCENE_ERROR_FAILED,
                               _("Blender could not make the sample scene: %s"), reason);
      return;
    }

  g_task_return_pointer (task, g_strdup (data->path), g_free);
}

void
kiln_sample_scene_make_async (KilnBlender         *blender,
                              KilnSandbox         *sandbox,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) script = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *script_text = NULL;
  SampleData *data;

  g_return_if_fail (KILN_IS_BLENDER (blender));
  g_return_if_fail (KILN_IS_SANDBOX (sandbox));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_sample_scene_make_async);

  data = g_new0 (SampleData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) sample_data_free);

  dir = g_build_filename (g_get_user_cache_dir (), "kiln", "sample-scene", NULL);
  data->path = g_build_filename (dir, SAMPLE_FILE_NAME, NULL);

  /* Blender saves to a temporary name and renames: a file there is whole. */
  if (g_file_test (data->path, G_FILE_TEST_IS_REGULAR))
    {
      g_task_return_pointer (task, g_strdup (data->path), g_free);
      return;
    }

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                               _("Could not make the folder %s: %s"), dir,
                               g_strerror (saved_errno));
      return;
    }

  script = g_resources_lookup_data (RESOURCE_PREFIX "/kiln-sample-scene.py",
                                    G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (script == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  script_text = g_strndup (g_bytes_get_data (script, NULL), g_bytes_get_size (script));

  {
    const char * const argv[] = {
      kiln_blender_get_path (blender), "--background", "--factory-startup", "-noaudio",
      "--python-exit-code", "3", "--python-expr", script_text, "--", data->path, NULL,
    };

    if (kiln_sandbox_get_backend (sandbox) != KILN_SANDBOX_BACKEND_NONE)
      {
        data->process = kiln_sandbox_spawn (sandbox, dir, NULL, argv, &error);
        data->sandboxed = TRUE;
      }
    else
      {
        data->process = g_subprocess_newv (argv,
                                           G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                           G_SUBPROCESS_FLAGS_STDERR_MERGE,
                                           &error);
      }
  }

  if (data->process == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data->timeout_id = g_timeout_add_seconds (SAMPLE_TIME_LIMIT, sample_timeout_cb, data);
  if (cancellable != NULL)
    {
      data->cancellable = g_object_ref (cancellable);
      data->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (sample_cancelled_cb),
                                                  data, NULL);
    }

  /* The output is read whole so that Blender never blocks on a full pipe. */
  g_subprocess_communicate_utf8_async (data->process, NULL, NULL,
                                       sample_communicate_cb, g_steal_pointer (&task));
}

char *
kiln_sample_scene_make_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_sample_scene_make_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
