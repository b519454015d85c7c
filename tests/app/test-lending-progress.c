/* test-lending-progress.c: the Lending page's progress bar, over a real sandboxed render
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page is shown on a private X server (Xvfb, started here with -displayfd) and follows
 * a real provider (a headless idle monitor, so nobody's input holds lending back) that
 * watches a real Blender render in the real bubblewrap sandbox. What the page shows is read
 * from its widgets.
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kiln-lending-page.h"
#include "kiln-render-run.h"
#include "kiln-test-util.h"

#define TIMEOUT_MS 60000

/* A scene that keeps rendering: the factory cube in Cycles, every sample rendered. */
static const char scene_script[] =
  "import sys, bpy\n"
  "scene = bpy.context.scene\n"
  "scene.render.engine = 'CYCLES'\n"
  "scene.cycles.use_adaptive_sampling = False\n"
  "scene.cycles.samples = 4\n"
  "scene.frame_start = 1\n"
  "scene.frame_end = 2\n"
  "bpy.ops.wm.save_as_mainfile(filepath=sys.argv[sys.argv.index('--') + 1])\n"
  "print('KILN-SCENE-DONE')\n";

static struct
{
  char        *root;
  char        *scene;
  KilnBlender *blender;
  GSubprocess *xvfb;
} env;

/* Waiting --------------------------------------------------------------------------------- */

typedef gboolean (*Condition) (gpointer data);

static gboolean
wait_for (Condition condition,
          gpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_MS * 1000;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  return TRUE;
}

/* The page's widgets ------------------------------------------------------------------------ */

static GtkWidget *
find_widget (GtkWidget *root,
             GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  GtkWidget      *box;     /* the progress bar's box: the bar and its label */
  GtkProgressBar *bar;
  GtkLabel       *label;
} Progress;

static const char *
progress_text (Progress *progress)
{
  return gtk_label_get_label (progress->label);
}

static gboolean
progress_shown (gpointer data)
{
  return gtk_widget_get_visible (((Progress *) data)->box);
}

static gboolean
progress_hidden (gpointer data)
{
  return !progress_shown (data);
}

static gboolean
progress_moving (gpointer data)
{
  Progress *progress = data;

  return progress_shown (progress) && gtk_progress_bar_get_fraction (progress->bar) > 0 &&
         g_str_has_prefix (progress_text (progress), "Frame 1 of 1–2 · ");
}

static gboolean
progress_paused (gpointer data)
{
  return g_str_has_prefix (progress_text (data), "Paused at frame 1 · ");
}

static gboolean
run_started (gpointer data)
{
  return kiln_render_run_get_pid (data) > 0;
}

typedef struct
{
  KilnProvider      *provider;
  KilnProviderState  state;
} StateWait;

static gboolean
provider_in_state (gpointer data)
{
  StateWait *wait = data;

  return kiln_provider_get_state (wait->provider) == wait->state;
}

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
has_result (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

/* The test ------------------------------------------------------------------------------------ */

static void
test_progress (void)
{
  g_autoptr(GSettings) settings = g_settings_new (BASE_APP_ID);
  KilnLendingPolicy *policy = kiln_lending_policy_new ();
  KilnIdleMonitor *monitor;
  KilnProvider *provider;
  KilnLender *lender;
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autoptr(KilnRenderSpec) spec = kiln_render_spec_new ();
  KilnRenderRun *run;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) frames = NULL;
  KilnLendingPage *page;
  GtkWidget *window;
  Progress progress;
  StateWait wait;

  /* Other programs on this machine do not hold lending back here. */
  kiln_lending_policy_set_cpu_threshold_percent (policy, 100);
  kiln_lending_policy_set_enabled (policy, TRUE);
  monitor = kiln_idle_monitor_new_headless (policy);
  provider = kiln_provider_new (policy, monitor);

  /* No account: the lender takes no work, the provider watches the render made here. */
  lender = kiln_lender_new (provider, NULL);
  page = g_object_new (KILN_TYPE_LENDING_PAGE, NULL);
  kiln_lending_page_setup (page, settings, lender);
  window = gtk_window_new ();
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (page));
  gtk_window_present (GTK_WINDOW (window));

  progress.bar = GTK_PROGRESS_BAR (find_widget (GTK_WIDGET (page), GTK_TYPE_PROGRESS_BAR));
  g_assert_nonnull (progress.bar);
  progress.box = gtk_widget_get_parent (GTK_WIDGET (progress.bar));
  progress.label = GTK_LABEL (find_widget (progress.box, GTK_TYPE_LABEL));
  g_assert_nonnull (progress.label);

  wait.provider = provider;
  wait.state = KILN_PROVIDER_STATE_LENDING;
  g_assert_true (wait_for (provider_in_state, &wait));
  g_assert_false (progress_shown (&progress));

  /* A subtask of frames 1–2 that takes far longer than the test. */
  kiln_sandbox_set_cpu_limit (sandbox, 1);
  spec->blend_file = g_strdup (env.scene);
  spec->output_dir = g_build_filename (env.root, "output", NULL);
  g_assert_cmpint (g_mkdir (spec->output_dir, 0700), ==, 0);
  spec->frame_start = 1;
  spec->frame_end = 2;
  spec->width = 160;
  spec->height = 120;
  spec->samples = 1 << 20;
  spec->format = KILN_IMAGE_FORMAT_PNG;
  run = kiln_render_run_new (sandbox, env.blender, spec);
  kiln_render_run_execute_async (run, NULL, store_result, &result);
  g_assert_true (wait_for (run_started, run));

  kiln_provider_add_run (provider, run, NULL);
  g_assert_true (progress_shown (&progress));
  g_test_message ("before the first sample: %s", progress_text (&progress));

  /* Samples come in: the bar moves and says which frame. */
  g_assert_true (wait_for (progress_moving, &progress));
  g_test_message ("rendering: %s, fraction %g", progress_text (&progress),
                  gtk_progress_bar_get_fraction (progress.bar));

  /* Outside the schedule the provider stops the render, and the page says so. */
  kiln_lending_policy_set_schedule (policy, 0, 0, 0);
  wait.state = KILN_PROVIDER_STATE_PAUSED;
  g_assert_true (wait_for (provider_in_state, &wait));
  g_assert_true (wait_for (progress_paused, &progress));
  g_test_message ("paused: %s", progress_text (&progress));

  kiln_lending_policy_set_schedule (policy, KILN_WEEKDAY_ALL, 0, 0);
  wait.state = KILN_PROVIDER_STATE_LENDING;
  g_assert_true (wait_for (provider_in_state, &wait));
  g_assert_true (wait_for (progress_moving, &progress));

  /* Done with the render: the bar goes. */
  kiln_provider_remove_run (provider, run);
  g_assert_true (progress_hidden (&progress));
  kiln_render_run_cancel (run);
  g_assert_true (wait_for (has_result, &result));
  frames = kiln_render_run_execute_finish (run, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* The page lets go of what it followed. */
  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&result);
  kiln_test_assert_finalize_soon (run);
  kiln_test_assert_finalize_soon (lender);
  kiln_test_assert_finalize_soon (provider);
  kiln_test_assert_finalize_soon (monitor);
  kiln_test_assert_finalize_soon (policy);
}

/* Set-up ---------------------------------------------------------------------------------- */

/* A private X server; its display number comes back through -displayfd. */
static void
start_xvfb (void)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *display = NULL;
  char buffer[32] = "";
  gsize length = 0;
  int fds[2];

  g_assert_cmpint (pipe (fds), ==, 0);
  /* It ends with this process, even one that fails half-way. */
  launcher = kiln_test_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  env.xvfb = g_subprocess_launcher_spawn (launcher, &error, "Xvfb", "-displayfd", "3",
                                          "-screen", "0", "800x600x24", "-nolisten", "tcp",
                                          NULL);
  if (env.xvfb == NULL)
    g_error ("These tests need Xvfb (Debian: apt install xvfb): %s", error->message);
  g_clear_object (&launcher);

  /* The number and a newline, once the server accepts clients. */
  while (length < sizeof buffer - 1 && strchr (buffer, '\n') == NULL)
    {
      gssize n = read (fds[0], buffer + length, sizeof buffer - 1 - length);

      if (n <= 0)
        g_error ("Xvfb did not start");
      length += (gsize) n;
      buffer[length] = '\0';
    }
  close (fds[0]);

  display = g_strdup_printf (":%s", g_strstrip (buffer));
  g_setenv ("DISPLAY", display, TRUE);
  g_setenv ("GDK_BACKEND", "x11", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
}

static void
make_scene (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *output = NULL;

  env.scene = g_build_filename (env.root, "progress.blend", NULL);
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                              &error,
                              kiln_blender_get_path (env.blender), "-b", "--factory-startup",
                              "-noaudio", "--python-exit-code", "1",
                              "--python-expr", scene_script, "--", env.scene, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process) || strstr (output, "KILN-SCENE-DONE") == NULL)
    g_error ("Blender could not save the scene:\n%s", output);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  start_xvfb ();
  gtk_init ();
  adw_init ();

  env.root = g_dir_make_tmp ("kiln-lending-progress-XXXXXX", &error);
  g_assert_no_error (error);
  env.blender = kiln_blender_discover (NULL, NULL, &error);
  if (env.blender == NULL)
    g_error ("These tests need Blender (Debian: apt install blender): %s", error->message);
  make_scene ();

  g_test_add_func ("/kiln/lending-page/progress", test_progress);

  status = g_test_run ();

  g_clear_object (&env.blender);
  remove_tree (env.root);
  g_free (env.root);
  g_free (env.scene);
  g_subprocess_send_signal (env.xvfb, SIGTERM);
  g_subprocess_wait (env.xvfb, NULL, NULL);
  g_clear_object (&env.xvfb);
  return status;
}
