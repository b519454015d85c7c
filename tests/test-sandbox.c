/* test-sandbox.c: Blender discovery and sandboxed rendering, with the real Blender
 *
 * The scenes come from tests/data/scenes/make-scenes.py, run by Blender at start-up
 * into a temporary folder. $HOME is pointed at a fresh folder outside /tmp (so that
 * the sandbox's own /tmp does not hide it by accident) holding a planted secret.
 * A TCP listener on 127.0.0.1 counts connections: a sandboxed scene must never
 * reach it, and an unconfined control run of the same scene must.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kiln-blender.h"
#include "kiln-image-check.h"
#include "kiln-render-run.h"
#include "kiln-sandbox.h"
#include "kiln-test-sandbox.h"

#define SECRET_TEXT "kiln-planted-secret-7d41"
#define MiB (G_GUINT64_CONSTANT (1024) * 1024)

static struct
{
  char             *root;        /* /tmp/kiln-sandbox-test-XXXXXX */
  char             *scenes;      /* root/scenes */
  char             *markers;     /* root/markers: where the hostile scene writes */
  char             *home;        /* $HOME, under the build folder */
  char             *secret;      /* home/secret.txt */
  KilnTestListener  listener;
  KilnBlender      *blender;
} env;

/* Helpers ---------------------------------------------------------------------------- */

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

static char *
scene_path (const char *name)
{
  return g_build_filename (env.scenes, name, NULL);
}

static char *
new_dir (const char *name)
{
  g_autofree char *template = g_strdup_printf ("%s-XXXXXX", name);
  char *path = g_build_filename (env.root, template, NULL);

  g_assert_nonnull (g_mkdtemp (path));
  return path;
}

static KilnRenderSpec *
simple_spec (const char *scene,
             const char *output_dir)
{
  KilnRenderSpec *spec = kiln_render_spec_new ();

  spec->blend_file = scene_path (scene);
  spec->output_dir = g_strdup (output_dir);
  spec->frame_start = 1;
  spec->frame_end = 1;
  spec->width = 160;
  spec->height = 120;
  spec->samples = 4;
  spec->format = KILN_IMAGE_FORMAT_PNG;
  return spec;
}

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

static GStrv
render (KilnRenderRun  *run,
        GCancellable   *cancellable,
        GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_render_run_execute_async (run, cancellable, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return kiln_render_run_execute_finish (run, result, error);
}

/* Processes whose command line mentions @needle (a test's unique folder). */
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

/* The kernel tears a PID namespace down asynchronously: allow it a moment. */
static void
assert_no_processes_left (const char *needle)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (count_processes (needle) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);
  g_assert_cmpuint (count_processes (needle), ==, 0);
}

/* Blender discovery ----------------------------------------------------------------- */

static void
test_blender_discover (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnBlender) again = NULL;
  g_autoptr(KilnBlender) configured = NULL;
  KilnBlender *blender = env.blender;
  guint major = 0;
  gint64 start;

  g_assert_true (KILN_IS_BLENDER (blender));
  g_assert_true (g_path_is_absolute (kiln_blender_get_path (blender)));
  kiln_blender_get_version_numbers (blender, &major, NULL, NULL);
  g_assert_cmpuint (major, >=, KILN_BLENDER_MIN_MAJOR);
  g_assert_true (g_str_has_prefix (kiln_blender_get_version (blender), "3.") ||
                 g_str_has_prefix (kiln_blender_get_version (blender), "4."));
  g_assert_true (kiln_blender_has_cycles (blender));
  g_assert_true (g_strv_contains (kiln_blender_get_devices (blender), "CPU"));
  g_assert_true (kiln_blender_supports_format (blender, "PNG"));
  g_assert_true (kiln_blender_supports_format (blender, "OPEN_EXR"));
  g_assert_false (kiln_blender_supports_format (blender, "NOT_A_FORMAT"));
  g_assert_cmpstr (kiln_blender_get_cpu_model (blender), !=, "");
  g_test_message ("Blender %s at %s, OpenImageDenoise: %s, CPU: %s",
                  kiln_blender_get_version (blender), kiln_blender_get_path (blender),
                  kiln_blender_has_denoiser (blender) ? "yes" : "no",
                  kiln_blender_get_cpu_model (blender));

  /* Probed once per executable: the second discovery is the same object, at once. */
  start = g_get_monotonic_time ();
  again = kiln_blender_discover (NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (again == blender);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC / 2);

  /* A configured path is the only one tried. */
  configured = kiln_blender_discover (kiln_blender_get_path (blender), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (configured == blender);
}

static void
test_blender_not_blender (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnBlender) none = NULL;
  g_autofree char *nowhere = g_build_filename (env.root, "no-such-blender", NULL);

  none = kiln_blender_discover (nowhere, NULL, &error);
  g_assert_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_FOUND);
  g_assert_null (none);
  g_clear_error (&error);

  /* A program that runs but is not Blender. */
  none = kiln_blender_new_for_path ("/bin/true", NULL, &error);
  g_assert_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_BLENDER);
  g_assert_null (none);
}

static void
on_score_notify (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  guint *notified = user_data;

  (*notified)++;
}

static double
benchmark (GFile    *cache_dir,
           gboolean  force)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  double score;

  kiln_blender_benchmark_async (env.blender, cache_dir, force, NULL, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  score = kiln_blender_benchmark_finish (env.blender, result, &error);
  g_assert_no_error (error);
  return score;
}

static void
test_blender_benchmark (void)
{
  g_autofree char *dir = new_dir ("cache");
  g_autoptr(GFile) cache_dir = g_file_new_for_path (dir);
  g_autofree char *cache_file = g_build_filename (dir, "blender-benchmarks.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  JsonObject *entry;
  guint notified = 0;
  double score, cached;
  gint64 start;

  g_signal_connect (env.blender, "notify::benchmark-score", G_CALLBACK (on_score_notify),
                    &notified);

  score = benchmark (cache_dir, FALSE);
  g_test_message ("benchmark score: %.2f Msamples/s with %u threads", score,
                  kiln_blender_get_benchmark_threads (env.blender));
  g_assert_cmpfloat (score, >, 0.05);
  g_assert_cmpfloat (score, <, 10000);
  g_assert_cmpfloat (kiln_blender_get_benchmark_score (env.blender), ==, score);
  g_assert_cmpuint (kiln_blender_get_benchmark_threads (env.blender), >=, 1);
  g_assert_cmpuint (notified, ==, 1);

  /* Cached per Blender version, CPU model and thread count. */
  json_parser_load_from_file (parser, cache_file, &error);
  g_assert_no_error (error);
  key = g_strdup_printf ("%s|%s|%u", kiln_blender_get_version (env.blender),
                         kiln_blender_get_cpu_model (env.blender),
                         kiln_blender_get_benchmark_threads (env.blender));
  entry = json_object_get_object_member (
            json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                           "benchmarks"), key);
  g_assert_nonnull (entry);
  g_assert_cmpfloat (json_object_get_double_member (entry, "score"), ==, score);

  /* The second time Blender is not started at all. */
  start = g_get_monotonic_time ();
  cached = benchmark (cache_dir, FALSE);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC / 2);
  g_assert_cmpfloat (cached, ==, score);

  g_signal_handlers_disconnect_by_func (env.blender, on_score_notify, &notified);
}

/* Rendering ------------------------------------------------------------------------ */

typedef struct
{
  double   last_fraction;
  guint    progress;
  guint    saved;
  gboolean monotonic;
} Progress;

static void
on_progress (KilnRenderRun *run,
             int            frame,
             guint          sample,
             guint          samples,
             double         fraction,
             Progress      *progress)
{
  if (fraction < progress->last_fraction)
    progress->monotonic = FALSE;
  progress->last_fraction = fraction;
  progress->progress++;
}

static void
on_event (KilnRenderRun    *run,
          KilnBlenderEvent *event,
          Progress         *progress)
{
  if (event->kind == KILN_BLENDER_EVENT_SAVED)
    progress->saved++;
}

static void
test_render_frames (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("frames");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("simple.blend", out);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  g_autofree char *script = g_build_filename (out, ".kiln-render-setup.py", NULL);
  Progress progress = { 0, 0, 0, TRUE };

  g_assert_cmpint (kiln_sandbox_get_backend (sandbox), ==, KILN_SANDBOX_BACKEND_BUBBLEWRAP);
  kiln_sandbox_set_memory_limit (sandbox, 2048 * MiB);
  kiln_sandbox_set_time_limit (sandbox, 120);

  spec->frame_start = 2;
  spec->frame_end = 3;
  run = kiln_render_run_new (sandbox, env.blender, spec);
  g_signal_connect (run, "progress", G_CALLBACK (on_progress), &progress);
  g_signal_connect (run, "event", G_CALLBACK (on_event), &progress);

  paths = render (run, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (paths), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *expected = kiln_render_spec_get_output_path (spec, 2 + i);

      g_assert_cmpstr (paths[i], ==, expected);
      g_assert_true (g_str_has_suffix (paths[i], i == 0 ? "frame_0002.png" : "frame_0003.png"));
      kiln_image_check_file (paths[i], KILN_IMAGE_FORMAT_PNG, 160, 120, &error);
      g_assert_no_error (error);
    }

  g_assert_cmpuint (progress.saved, ==, 2);
  g_assert_cmpuint (progress.progress, >=, 4);
  g_assert_true (progress.monotonic);
  g_assert_cmpfloat (kiln_render_run_get_fraction (run), ==, 1.0);
  g_assert_cmpint (kiln_render_run_get_frame (run), ==, 3);
  g_assert_cmpuint (kiln_blender_output_get_samples (kiln_render_run_get_output (run)), ==, 4);
  /* Kiln's setup script is gone afterwards. */
  g_assert_false (g_file_test (script, G_FILE_TEST_EXISTS));
  assert_no_processes_left (out);
}

static void
render_strip (KilnImageFormat format,
              guint           x,
              guint           y,
              guint           width,
              guint           height)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("strip");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("simple.blend", out);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  guint out_width, out_height;

  spec->use_border = TRUE;
  spec->border_x = x;
  spec->border_y = y;
  spec->border_width = width;
  spec->border_height = height;
  spec->format = format;
  kiln_render_spec_get_output_size (spec, &out_width, &out_height);
  g_assert_cmpuint (out_width, ==, width);
  g_assert_cmpuint (out_height, ==, height);

  run = kiln_render_run_new (sandbox, env.blender, spec);
  paths = render (run, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (paths), ==, 1);
  g_assert_true (g_str_has_suffix (paths[0], kiln_image_format_get_extension (format)));

  /* The check ran already; a full-frame expectation must now fail. */
  kiln_image_check_file (paths[0], format, width, height, &error);
  g_assert_no_error (error);
  kiln_image_check_file (paths[0], format, 160, 120, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_render_strip (void)
{
  /* Awkward rows: 29 rows from row 37 of 120. */
  render_strip (KILN_IMAGE_FORMAT_OPEN_EXR, 0, 37, 160, 29);
  render_strip (KILN_IMAGE_FORMAT_PNG, 40, 0, 80, 120);
  render_strip (KILN_IMAGE_FORMAT_PNG, 13, 91, 101, 29);
}

/* Debian's Blender has no OpenImageDenoise: asking for denoising must still render. */
static void
test_render_denoise_requested (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("denoise");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("simple.blend", out);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;

  spec->denoise = TRUE;
  run = kiln_render_run_new (sandbox, env.blender, spec);
  paths = render (run, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (paths), ==, 1);
  g_assert_null (kiln_blender_output_get_first_error (kiln_render_run_get_output (run)));
}

/* Paths through symlinks are resolved: the sandbox only has the real ones. */
static void
test_render_symlinks (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("symlinked");
  g_autofree char *out_link = g_strconcat (out, "-link", NULL);
  g_autofree char *scene_link = g_build_filename (env.root, "scene-link.blend", NULL);
  g_autofree char *scene = scene_path ("simple.blend");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("simple.blend", out_link);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;

  g_assert_cmpint (symlink (out, out_link), ==, 0);
  g_assert_cmpint (symlink (scene, scene_link), ==, 0);
  g_free (spec->blend_file);
  spec->blend_file = g_strdup (scene_link);

  run = kiln_render_run_new (sandbox, env.blender, spec);
  paths = render (run, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (paths), ==, 1);
  g_assert_true (g_str_has_prefix (paths[0], out));
  g_unlink (out_link);
  g_unlink (scene_link);
}

static void
test_render_invalid (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("invalid");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("simple.blend", out);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;

  spec->use_border = TRUE;
  spec->border_x = 100;
  spec->border_width = 61;
  spec->border_height = 10;
  run = kiln_render_run_new (sandbox, env.blender, spec);
  paths = render (run, NULL, &error);
  g_assert_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_INVALID);
  g_assert_null (paths);
}

static void
test_render_missing_files (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("missing");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("missing/missing.blend", out);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(KilnRenderRun) allowed = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  g_auto(GStrv) allowed_paths = NULL;
  gint64 start = g_get_monotonic_time ();

  /* Stopped before rendering: a million samples would take many minutes. */
  spec->samples = 1000000;
  run = kiln_render_run_new (sandbox, env.blender, spec);
  paths = render (run, NULL, &error);
  g_assert_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_MISSING_FILES);
  g_assert_nonnull (strstr (error->message, "textures/missing.png"));
  g_assert_null (paths);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 15 * G_USEC_PER_SEC);
  g_assert_cmpuint (kiln_blender_output_get_sample (kiln_render_run_get_output (run)), ==, 0);
  g_clear_error (&error);
  assert_no_processes_left (out);

  spec->samples = 4;
  spec->allow_missing_files = TRUE;
  allowed = kiln_render_run_new (sandbox, env.blender, spec);
  allowed_paths = render (allowed, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (allowed_paths), ==, 1);
  g_assert_cmpuint (kiln_blender_output_get_missing_files
                      (kiln_render_run_get_output (allowed))->len, ==, 1);
}

/* Containment --------------------------------------------------------------------- */

static void
assert_hostile_markers (gboolean expected)
{
  g_autofree char *outside = g_build_filename (env.markers, "written-outside", NULL);
  g_autofree char *home = g_build_filename (env.home, "kiln-hostile-home", NULL);
  g_autofree char *beside = scene_path ("hostile/written-beside-scene");

  g_assert_cmpint (g_file_test (outside, G_FILE_TEST_EXISTS), ==, expected);
  g_assert_cmpint (g_file_test (home, G_FILE_TEST_EXISTS), ==, expected);
  g_assert_cmpint (g_file_test (beside, G_FILE_TEST_EXISTS), ==, expected);
}

static void
test_hostile_scene (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("hostile");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("hostile/hostile.blend", out);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) control = NULL;
  GPtrArray *skipped;

  env.listener.connections = 0;
  run = kiln_render_run_new (sandbox, env.blender, spec);
  paths = render (run, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (paths), ==, 1);

  /* Blender refused the script, and nothing it would have done happened. */
  skipped = kiln_blender_output_get_skipped_scripts (kiln_render_run_get_output (run));
  g_assert_cmpuint (skipped->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (skipped, 0), ==, "hostile.py");
  kiln_test_listener_drain (&env.listener, 300);
  g_assert_cmpuint (env.listener.connections, ==, 0);
  assert_hostile_markers (FALSE);

  /* Control: the same scene with its scripts allowed and no sandbox does all of it,
   * so the checks above can see an escape. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_setenv (launcher, "HOME", env.home, TRUE);
  control = g_subprocess_launcher_spawn (launcher, &error,
                                         kiln_blender_get_path (env.blender),
                                         "-b", "--enable-autoexec", "-noaudio",
                                         spec->blend_file, NULL);
  g_assert_no_error (error);
  {
    g_autoptr(GAsyncResult) result = NULL;

    g_subprocess_wait_async (control, NULL, store_result, &result);
    while (result == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_subprocess_wait_finish (control, result, &error);
    g_assert_no_error (error);
  }
  kiln_test_listener_drain (&env.listener, 300);
  g_assert_cmpuint (env.listener.connections, ==, 1);
  assert_hostile_markers (TRUE);

  {
    g_autofree char *outside = g_build_filename (env.markers, "written-outside", NULL);
    g_autofree char *home = g_build_filename (env.home, "kiln-hostile-home", NULL);
    g_autofree char *beside = scene_path ("hostile/written-beside-scene");

    g_unlink (outside);
    g_unlink (home);
    g_unlink (beside);
  }
}

/* Even code that did run inside the sandbox could not do any of it. */
static void
test_sandbox_escape_attempts (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *work = new_dir ("escape");
  g_autofree char *scene_dir = scene_path ("hostile");

  kiln_test_sandbox_assert_escapes_fail (sandbox, work, scene_dir, env.markers, env.listener.port,
                                         env.secret);
  kiln_test_listener_drain (&env.listener, 200);
  g_assert_cmpuint (env.listener.connections, ==, 0);
  assert_hostile_markers (FALSE);
  {
    g_autofree char *allowed = g_build_filename (work, "allowed.txt", NULL);

    g_assert_true (g_file_test (allowed, G_FILE_TEST_EXISTS));
  }
}

static void
test_sandbox_home_secret (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *work = g_build_filename (env.home, ".cache", "kiln", "subtask", NULL);
  g_autofree char *written = g_build_filename (work, "written.txt", NULL);
  g_autofree char *leaked = g_build_filename (env.home, "written-into-home", NULL);
  g_autofree char *secret_word = g_shell_quote (env.secret);
  g_autofree char *script = NULL;
  g_autofree char *output = NULL;
  g_autofree char *direct = NULL;
  int status;

  /* The work folder is inside $HOME, the way a provider's cache is. */
  g_assert_cmpint (g_mkdir_with_parents (work, 0700), ==, 0);
  script = g_strdup_printf ("cat \"$HOME/secret.txt\"; cat %s; ls -a \"$HOME\"; "
                            "echo in-home > \"$HOME/written-into-home\"; "
                            "echo in-work > written.txt; echo \"HOME=$HOME\"",
                            secret_word);
  {
    const char * const command[] = { "/bin/sh", "-c", script, NULL };

    output = kiln_test_sandbox_run (sandbox, work, NULL, command, &status);
  }
  g_test_message ("%s", output);
  g_assert_null (strstr (output, SECRET_TEXT));
  g_assert_nonnull (strstr (output, "No such file or directory"));
  {
    /* The sandbox keeps $HOME's path unless it lies under /tmp (a build tree there),
     * where its private /tmp would cover it: then it is /tmp/home. */
    g_autofree char *home_line = g_strdup_printf ("HOME=%s",
                                                  g_str_has_prefix (env.home, "/tmp/") ?
                                                  "/tmp/home" : env.home);

    g_assert_nonnull (strstr (output, home_line));
  }
  g_assert_true (g_file_test (written, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (leaked, G_FILE_TEST_EXISTS));

  /* Control: outside the sandbox the same command does read it. */
  {
    const char * const command[] = { "/bin/cat", env.secret, NULL };
    g_autoptr(GSubprocess) process = g_subprocess_newv (command,
                                                         G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);

    g_subprocess_communicate_utf8 (process, NULL, NULL, &direct, NULL, NULL);
    g_assert_nonnull (strstr (direct, SECRET_TEXT));
  }
}

static void
test_sandbox_limits (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *work = new_dir ("limits");
  g_autofree char *source = g_test_build_filename (G_TEST_DIST, "test-sandbox.c", NULL);
  const char * const hidden[] = { source, NULL };

  kiln_sandbox_set_memory_limit (sandbox, 768 * MiB);
  kiln_sandbox_set_cpu_limit (sandbox, 1);
  g_assert_cmpuint (kiln_sandbox_get_cpu_count (sandbox), ==, 1);
  /* One CPU's worth of threads, but on any CPU (see /kiln/sandbox/cpus-not-shared). */
  kiln_test_sandbox_assert_limits (sandbox, work, 768 * MiB, hidden);
}

/* Two one-core renders at once, as two `kiln-node run --lend --cores 1` on one
 * computer run them: each may run on any CPU, so they are not squeezed onto one
 * core while another idles (they once were both pinned to the last CPU). Each
 * busy-loops until it has had 0.3 s of CPU, meanwhile noting the CPUs it ran on. */
static void
test_sandbox_cpus_not_shared (void)
{
  static const char program[] =
    "import json, os, time\n"
    "ran_on = set()\n"
    "start = time.monotonic()\n"
    "while time.process_time() < 0.3:\n"
    "    ran_on.add(int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[36]))\n"
    "print(json.dumps({'allowed': sorted(os.sched_getaffinity(0)), 'ran_on': sorted(ran_on),\n"
    "                  'wall': time.monotonic() - start}))\n";
  const char * const command[] = { "/usr/bin/python3", "-c", program, NULL };
  g_autoptr(GHashTable) allowed_union = g_hash_table_new (NULL, NULL);
  KilnSandbox *sandboxes[2];
  GSubprocess *processes[2];
  g_autofree char *work = new_dir ("cpus");
  int usable = kiln_test_usable_cpu_count ();

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;

      sandboxes[i] = kiln_sandbox_new ();
      kiln_sandbox_set_cpu_limit (sandboxes[i], 1);
      g_assert_cmpuint (kiln_sandbox_get_cpu_count (sandboxes[i]), ==, 1);
      processes[i] = kiln_sandbox_spawn (sandboxes[i], work, NULL, command, &error);
      g_assert_no_error (error);
    }

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autofree char *output = NULL;
      JsonObject *result;
      JsonArray *allowed;

      g_subprocess_communicate_utf8 (processes[i], NULL, NULL, &output, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_successful (processes[i]));
      g_test_message ("one-core sandbox %u: %s", i, output);
      json_parser_load_from_data (parser, output, -1, &error);
      g_assert_no_error (error);
      result = json_node_get_object (json_parser_get_root (parser));
      allowed = json_object_get_array_member (result, "allowed");

      /* Not pinned: every CPU Kiln may use is open to it. */
      g_assert_cmpint (json_array_get_length (allowed), ==, usable);
      for (guint j = 0; j < json_array_get_length (allowed); j++)
        g_hash_table_add (allowed_union,
                          GINT_TO_POINTER (json_array_get_int_element (allowed, j) + 1));
      g_clear_object (&processes[i]);
      g_clear_object (&sandboxes[i]);
    }
  /* Together they may use as many CPUs as they have threads. */
  g_assert_cmpuint (g_hash_table_size (allowed_union), >=, MIN (usable, 2));
}

static void
test_sandbox_argv (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *work = new_dir ("argv");
  g_autofree char *inner = g_build_filename (work, "inputs", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) conflict = NULL;
  g_auto(GStrv) relative = NULL;
  g_autofree char *joined = NULL;
  const char * const command[] = { "/bin/true", NULL };
  int bind_at = -1, ro_at = -1;

  g_assert_cmpint (g_mkdir (inner, 0700), ==, 0);
  {
    const char * const readonly[] = { inner, NULL };

    argv = kiln_sandbox_build_argv (sandbox, work, readonly, command, &error);
  }
  g_assert_no_error (error);
  joined = g_strjoinv (" ", argv);
  g_test_message ("%s", joined);
  for (const char *flag = "--unshare-all\0--die-with-parent\0--new-session\0--clearenv\0";
       *flag != '\0'; flag += strlen (flag) + 1)
    g_assert_true (g_strv_contains ((const char * const *) argv, flag));
  g_assert_nonnull (strstr (joined, "--cap-drop ALL"));
  g_assert_nonnull (strstr (joined, "--tmpfs /tmp"));
  g_assert_nonnull (strstr (joined, "--remount-ro /"));
  g_assert_null (strstr (joined, "--share-net"));

  /* The read-only folder inside the writable one is mounted after it. */
  for (int i = 0; argv[i] != NULL; i++)
    {
      if (g_str_equal (argv[i], "--bind") && g_str_equal (argv[i + 1], work))
        bind_at = i;
      if (g_str_equal (argv[i], "--ro-bind") && g_str_equal (argv[i + 1], inner))
        ro_at = i;
    }
  g_assert_cmpint (bind_at, >, 0);
  g_assert_cmpint (ro_at, >, bind_at);

  {
    const char * const readonly[] = { work, NULL };

    conflict = kiln_sandbox_build_argv (sandbox, work, readonly, command, &error);
  }
  g_assert_error (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_INVALID);
  g_assert_null (conflict);
  g_clear_error (&error);

  {
    const char * const readonly[] = { "relative/path", NULL };

    relative = kiln_sandbox_build_argv (sandbox, work, readonly, command, &error);
  }
  g_assert_error (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_INVALID);
  g_assert_null (relative);
}

/* Limits on renders ------------------------------------------------------------------ */

static void
test_render_memory_limit (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("memory");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("huge.blend", out);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  gint64 start = g_get_monotonic_time ();

  kiln_sandbox_set_memory_limit (sandbox, 512 * MiB);
  kiln_sandbox_set_time_limit (sandbox, 60);
  run = kiln_render_run_new (sandbox, env.blender, spec);
  paths = render (run, NULL, &error);
  g_test_message ("%s (%.1f s)", error != NULL ? error->message : "no error",
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_OUT_OF_MEMORY);
  g_assert_nonnull (strstr (error->message, "512"));
  g_assert_null (paths);
  /* It failed on its own, long before the time limit. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_USEC_PER_SEC);
  assert_no_processes_left (out);
}

static void
test_render_time_limit (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("time");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("slow.blend", out);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  spec->samples = 1000000;
  /* Long enough for Blender to start rendering on a loaded machine. */
  kiln_sandbox_set_time_limit (sandbox, 8);
  run = kiln_render_run_new (sandbox, env.blender, spec);
  paths = render (run, NULL, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_TIMED_OUT);
  g_assert_null (paths);
  g_assert_cmpint (elapsed, >=, 8 * G_USEC_PER_SEC);
  g_assert_cmpint (elapsed, <, 20 * G_USEC_PER_SEC);
  /* It was rendering when stopped. */
  g_assert_cmpuint (kiln_blender_output_get_samples (kiln_render_run_get_output (run)), ==,
                    1000000);
  assert_no_processes_left (out);
}

static void
cancel_when_rendering (KilnRenderRun *run,
                       int            frame,
                       guint          sample,
                       guint          samples,
                       double         fraction,
                       GCancellable  *cancellable)
{
  if (sample > 0)
    g_cancellable_cancel (cancellable);
}

static void
test_render_cancel (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *out = new_dir ("cancel");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("slow.blend", out);
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;

  spec->samples = 1000000;
  run = kiln_render_run_new (sandbox, env.blender, spec);
  g_signal_connect (run, "progress", G_CALLBACK (cancel_when_rendering), cancellable);
  paths = render (run, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (paths);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  assert_no_processes_left (out);
}

/* Output checks ---------------------------------------------------------------------- */

static char *
write_truncated (const char *source,
                 const char *name,
                 double      keep)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (env.root, name, NULL);
  gsize len;

  g_file_get_contents (source, &contents, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (path, contents, (gssize) (len * keep), &error);
  g_assert_no_error (error);
  return path;
}

static void
check_rejects (const char      *path,
               KilnImageFormat  format,
               guint            width,
               guint            height,
               const char      *reason)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kiln_image_check_file (path, format, width, height, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("%s", error->message);
  if (reason != NULL)
    g_assert_nonnull (strstr (error->message, reason));
}

static void
test_output_check (void)
{
  g_autofree char *png = scene_path ("reference.png");
  g_autofree char *exr = scene_path ("reference.exr");
  g_autofree char *png_half = write_truncated (png, "half.png", 0.5);
  g_autofree char *png_tail = write_truncated (png, "no-end.png", 0.995);
  g_autofree char *exr_half = write_truncated (exr, "half.exr", 0.5);
  g_autofree char *exr_tail = write_truncated (exr, "no-end.exr", 0.995);
  g_autofree char *missing = g_build_filename (env.root, "absent.png", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (kiln_image_check_file (png, KILN_IMAGE_FORMAT_PNG, 160, 120, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_image_check_file (exr, KILN_IMAGE_FORMAT_OPEN_EXR, 160, 120, &error));
  g_assert_no_error (error);

  check_rejects (png_half, KILN_IMAGE_FORMAT_PNG, 160, 120, "not a complete PNG");
  check_rejects (png_tail, KILN_IMAGE_FORMAT_PNG, 160, 120, "not a complete PNG");
  check_rejects (png, KILN_IMAGE_FORMAT_PNG, 160, 119, "160×120 pixels instead of 160×119");
  check_rejects (png, KILN_IMAGE_FORMAT_PNG, 320, 240, "instead of");
  check_rejects (exr, KILN_IMAGE_FORMAT_PNG, 160, 120, "no PNG signature");

  check_rejects (exr_half, KILN_IMAGE_FORMAT_OPEN_EXR, 160, 120, "not a complete OpenEXR");
  check_rejects (exr_tail, KILN_IMAGE_FORMAT_OPEN_EXR, 160, 120, "not a complete OpenEXR");
  check_rejects (exr, KILN_IMAGE_FORMAT_OPEN_EXR, 120, 160, "instead of");
  check_rejects (png, KILN_IMAGE_FORMAT_OPEN_EXR, 160, 120, "no OpenEXR signature");

  g_assert_false (kiln_image_check_file (missing, KILN_IMAGE_FORMAT_PNG, 160, 120, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* Set-up -------------------------------------------------------------------------------- */

static void
make_scenes (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "data", "scenes",
                                                   "make-scenes.py", NULL);
  g_autofree char *port = g_strdup_printf ("%u", env.listener.port);
  g_autofree char *output = NULL;
  g_autoptr(GError) error = NULL;
  const char * const argv[] = {
    kiln_blender_get_path (env.blender), "-b", "--factory-startup", "-noaudio",
    "--python-exit-code", "1", "--python", script, "--", env.scenes, port, env.markers, NULL
  };
  g_autoptr(GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                            G_SUBPROCESS_FLAGS_STDERR_MERGE,
                                                      &error);

  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process) || strstr (output, "KILN-SCENES-DONE") == NULL)
    g_error ("make-scenes.py failed:\n%s", output);
}

static void
set_up (void)
{
  g_autoptr(GError) error = NULL;

  env.root = g_dir_make_tmp ("kiln-sandbox-test-XXXXXX", &error);
  g_assert_no_error (error);
  env.scenes = g_build_filename (env.root, "scenes", NULL);
  env.markers = g_build_filename (env.root, "markers", NULL);
  g_assert_cmpint (g_mkdir (env.scenes, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (env.markers, 0700), ==, 0);

  env.secret = g_build_filename (env.home, "secret.txt", NULL);
  g_file_set_contents (env.secret, SECRET_TEXT "\n", -1, &error);
  g_assert_no_error (error);

  kiln_test_listener_start (&env.listener);

  env.blender = kiln_blender_discover (NULL, NULL, &error);
  if (env.blender == NULL)
    g_error ("These tests need Blender (Debian: apt install blender): %s", error->message);
  {
    g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();

    if (kiln_sandbox_get_backend (sandbox) != KILN_SANDBOX_BACKEND_BUBBLEWRAP)
      g_error ("These tests need Bubblewrap (Debian: apt install bubblewrap)");
  }
  make_scenes ();
}

static void
tear_down (void)
{
  kiln_test_listener_stop (&env.listener);
  g_clear_object (&env.blender);
  remove_tree (env.root);
  remove_tree (env.home);
  g_free (env.root);
  g_free (env.scenes);
  g_free (env.markers);
  g_free (env.home);
  g_free (env.secret);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *home_template = NULL;
  int status;

  /* Before anything asks GLib for the home folder: one outside /tmp, in the build
   * tree, so the sandbox must hide it by itself. */
  home_template = g_build_filename (g_getenv ("G_TEST_BUILDDIR") != NULL ?
                                    g_getenv ("G_TEST_BUILDDIR") : cwd,
                                    "sandbox-home-XXXXXX", NULL);
  env.home = g_mkdtemp (g_steal_pointer (&home_template));
  g_assert_nonnull (env.home);
  g_setenv ("HOME", env.home, TRUE);

  g_test_init (&argc, &argv, NULL);
  set_up ();

  g_test_add_func ("/kiln/blender/discover", test_blender_discover);
  g_test_add_func ("/kiln/blender/not-blender", test_blender_not_blender);
  g_test_add_func ("/kiln/blender/benchmark", test_blender_benchmark);
  g_test_add_func ("/kiln/sandbox/argv", test_sandbox_argv);
  g_test_add_func ("/kiln/sandbox/limits", test_sandbox_limits);
  g_test_add_func ("/kiln/sandbox/cpus-not-shared", test_sandbox_cpus_not_shared);
  g_test_add_func ("/kiln/sandbox/home-secret", test_sandbox_home_secret);
  g_test_add_func ("/kiln/sandbox/escape-attempts", test_sandbox_escape_attempts);
  g_test_add_func ("/kiln/sandbox/render/frames", test_render_frames);
  g_test_add_func ("/kiln/sandbox/render/strip", test_render_strip);
  g_test_add_func ("/kiln/sandbox/render/denoise-requested", test_render_denoise_requested);
  g_test_add_func ("/kiln/sandbox/render/symlinks", test_render_symlinks);
  g_test_add_func ("/kiln/sandbox/render/invalid", test_render_invalid);
  g_test_add_func ("/kiln/sandbox/render/missing-files", test_render_missing_files);
  g_test_add_func ("/kiln/sandbox/render/hostile-scene", test_hostile_scene);
  g_test_add_func ("/kiln/sandbox/render/memory-limit", test_render_memory_limit);
  g_test_add_func ("/kiln/sandbox/render/time-limit", test_render_time_limit);
  g_test_add_func ("/kiln/sandbox/render/cancel", test_render_cancel);
  g_test_add_func ("/kiln/sandbox/output-check", test_output_check);

  status = g_test_run ();
  tear_down ();
  return status;
}
