/* kiln-test-render.c: Blender, the sandbox and generated scenes for the render tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "kiln-render-private.h"
#include "kiln-test-render.h"

void
kiln_test_store_result (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

void
kiln_test_wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static void
make_scenes (KilnTestRender *render)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "data", "render",
                                                   "make-scenes.py", NULL);
  g_autofree char *output = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  const char * const argv[] = {
    kiln_blender_get_path (render->blender), "-b", "--factory-startup", "-noaudio",
    "--python-exit-code", "1", "--python", script, "--", render->scenes, NULL
  };

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                     G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process) || strstr (output, "KILN-SCENES-DONE") == NULL)
    g_error ("make-scenes.py failed:\n%s", output);
}

void
kiln_test_render_set_up (KilnTestRender *render)
{
  g_autoptr(GError) error = NULL;

  memset (render, 0, sizeof *render);
  render->root = g_dir_make_tmp ("kiln-render-test-XXXXXX", &error);
  g_assert_no_error (error);
  render->scenes = g_build_filename (render->root, "scenes", NULL);
  g_assert_cmpint (g_mkdir (render->scenes, 0700), ==, 0);

  render->blender = kiln_blender_discover (NULL, NULL, &error);
  if (render->blender == NULL)
    g_error ("These tests need Blender (Debian: apt install blender): %s", error->message);
  render->sandbox = kiln_sandbox_new ();
  if (kiln_sandbox_get_backend (render->sandbox) != KILN_SANDBOX_BACKEND_BUBBLEWRAP)
    g_error ("These tests need Bubblewrap (Debian: apt install bubblewrap)");
  kiln_sandbox_set_memory_limit (render->sandbox, G_GUINT64_CONSTANT (2048) * 1024 * 1024);
  kiln_sandbox_set_time_limit (render->sandbox, 120);
  kiln_sandbox_set_idle_priority (render->sandbox, FALSE);

  make_scenes (render);
}

void
kiln_test_render_tear_down (KilnTestRender *render)
{
  g_clear_object (&render->sandbox);
  g_clear_object (&render->blender);
  kiln_render_remove_tree (render->root);
  g_clear_pointer (&render->root, g_free);
  g_clear_pointer (&render->scenes, g_free);
}

char *
kiln_test_render_new_dir (KilnTestRender *render,
                          const char     *name)
{
  g_autofree char *template = g_strdup_printf ("%s-XXXXXX", name);
  char *path = g_build_filename (render->root, template, NULL);

  g_assert_nonnull (g_mkdtemp (path));
  return path;
}

char *
kiln_test_render_scene (KilnTestRender *render,
                        const char     *name)
{
  return g_build_filename (render->scenes, name, NULL);
}

GStrv
kiln_test_render_spec (KilnTestRender       *render,
                       const KilnRenderSpec *spec)
{
  g_autoptr(KilnRenderRun) run = kiln_render_run_new (render->sandbox, render->blender, spec);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GStrv paths;

  kiln_render_run_execute_async (run, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  paths = kiln_render_run_execute_finish (run, result, &error);
  g_assert_no_error (error);
  return paths;
}

static guint
count_processes (const char *needle)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint count = 0;

  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *cmdline = NULL;
      gsize len;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_build_filename ("/proc", name, "cmdline", NULL);
      if (!g_file_get_contents (path, &cmdline, &len, NULL) || len == 0)
        continue;
      for (gsize i = 0; i < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      cmdline[len - 1] = '\0';
      if (strstr (cmdline, needle) != NULL)
        count++;
    }
  return count;
}

void
kiln_test_assert_no_processes (const char *needle)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (count_processes (needle) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);
  g_assert_cmpuint (count_processes (needle), ==, 0);
}
