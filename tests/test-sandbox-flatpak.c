/* test-sandbox-flatpak.c: Kiln's Flatpak rendering with the computer's Blender
 *
 * The program runs twice. First as "the computer" (kiln-test-flatpak.c): a private
 * session bus with the real flatpak-session-helper on it (org.freedesktop.Flatpak,
 * what `flatpak-spawn --host` talks to) and xdg-dbus-proxy, which gives Flatpak
 * apps their filtered view of the bus: one socket that lets the app talk to
 * org.freedesktop.Flatpak (the manifests' permission) and one that does not (the
 * permission taken away with `flatpak override`). It builds the scenes with
 * Blender, renders a reference frame the native way and plants a secret in $HOME.
 * Then it runs itself again in a bubblewrap that looks like Kiln's Flatpak from
 * inside: /.flatpak-info names io.github.kilnapp.Kiln.Devel, $HOME is hidden but
 * for ~/.var/app/io.github.kilnapp.Kiln.Devel, /tmp is private, flatpak-spawn is
 * in PATH, and the computer's /usr/bin/blender and /usr/bin/bwrap are covered by
 * empty files, so that the only way to render is flatpak-spawn --host. The tests
 * are that second run; like Kiln's Flatpak (--share=network) it sees the
 * computer's processes and network.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kiln-blender.h"
#include "kiln-image.h"
#include "kiln-render-private.h"
#include "kiln-render-run.h"
#include "kiln-sandbox.h"
#include "kiln-test-flatpak.h"
#include "kiln-test-render.h"
#include "kiln-test-sandbox.h"

#define APP_ID_IN_TEST   "io.github.kilnapp.Kiln.Devel"
#define SECRET_TEXT      "kiln-planted-secret-5b0e"
#define MiB              (G_GUINT64_CONSTANT (1024) * 1024)
#define DENIED_PROBE_ARG "--kiln-denied-probe"


/* Helpers --------------------------------------------------------------------------------- */

static const char *
env (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL)
    g_error ("%s is not set: run this test as itself, not by hand inside its sandbox", name);
  return value;
}

static char *
new_dir_in (const char *parent,
            const char *name)
{
  g_autofree char *template = g_strdup_printf ("%s-XXXXXX", name);
  char *path = g_build_filename (parent, template, NULL);

  g_assert_nonnull (g_mkdtemp (path));
  return path;
}

static KilnRenderSpec *
simple_spec (const char *scene,
             const char *output_dir)
{
  KilnRenderSpec *spec = kiln_render_spec_new ();

  spec->blend_file = g_build_filename (env ("KILN_TEST_SCENES"), scene, NULL);
  spec->output_dir = g_strdup (output_dir);
  spec->frame_start = 1;
  spec->frame_end = 1;
  spec->width = 160;
  spec->height = 120;
  spec->samples = 4;
  spec->denoise = FALSE;
  spec->format = KILN_IMAGE_FORMAT_PNG;
  return spec;
}

static KilnSandbox *
new_sandbox (void)
{
  KilnSandbox *sandbox = kiln_sandbox_new ();

  kiln_sandbox_set_memory_limit (sandbox, 2048 * MiB);
  kiln_sandbox_set_time_limit (sandbox, 120);
  kiln_sandbox_set_idle_priority (sandbox, FALSE);
  return sandbox;
}

/* Runs @argv to the end; its stdout (stderr merged), and whether it succeeded. */
static char *
run (const char * const *argv,
     gboolean           *success)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  char *output = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                     G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  if (success != NULL)
    *success = g_subprocess_get_successful (process);
  return output;
}

/* Whether @path exists on the computer (the Flatpak cannot see it). */
static gboolean
host_file_exists (const char *path)
{
  const char * const argv[] = {
    "flatpak-spawn", "--host", "--directory=/", "test", "-e", path, NULL
  };
  g_autofree char *output = NULL;
  gboolean exists;

  output = run (argv, &exists);
  return exists;
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* The app's side: the fake Flatpak ------------------------------------------------------------ */

static struct
{
  char             *work;      /* $XDG_CACHE_HOME/kiln-test: shared with the computer */
  KilnTestListener  listener;
} app;

static void
test_environment (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *bwrap = g_find_program_in_path ("bwrap");
  g_autofree char *spawn = g_find_program_in_path ("flatpak-spawn");
  g_autofree char *secret = g_build_filename (g_get_home_dir (), "secret.txt", NULL);

  /* Nothing of the computer's Blender or bubblewrap can be run from here. */
  g_assert_true (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS));
  g_assert_null (bwrap);
  g_assert_false (g_file_test ("/usr/bin/blender", G_FILE_TEST_IS_EXECUTABLE));
  g_assert_false (g_file_test ("/app/bin/blender", G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (secret, G_FILE_TEST_EXISTS));
  g_assert_nonnull (spawn);
  g_assert_true (host_file_exists ("/usr/bin/blender"));
  g_assert_true (host_file_exists (secret));

  g_assert_cmpint (kiln_sandbox_get_backend (sandbox), ==, KILN_SANDBOX_BACKEND_FLATPAK_HOST);
}

static void
test_discover (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnBlender) blender = NULL;
  g_autoptr(KilnBlender) again = NULL;
  guint major = 0;
  gint64 start;

  blender = kiln_blender_discover (NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("the computer's Blender %s at %s", kiln_blender_get_version (blender),
                  kiln_blender_get_path (blender));
  g_assert_true (kiln_blender_is_on_host (blender));
  /* The path it has on the computer: not a file in here. */
  g_assert_cmpstr (kiln_blender_get_path (blender), ==, "/usr/bin/blender");
  kiln_blender_get_version_numbers (blender, &major, NULL, NULL);
  g_assert_cmpuint (major, >=, KILN_BLENDER_MIN_MAJOR);
  g_assert_true (kiln_blender_has_cycles (blender));
  g_assert_true (kiln_blender_supports_format (blender, "PNG"));

  /* Probed once: the next discovery starts nothing on the computer. */
  start = g_get_monotonic_time ();
  again = kiln_blender_discover (NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (again == blender);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC / 10);
}

static void
test_argv (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *work = NULL;
  g_autofree char *cache_tmp = g_build_filename (g_get_user_cache_dir (), "kiln", "tmp", NULL);
  g_autofree char *private_tmp = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *directory = NULL;
  g_autofree char *spawn = g_find_program_in_path ("flatpak-spawn");
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) refused = NULL;
  const char * const command[] = { "/usr/bin/true", NULL };
  guint dash_dash = 0;

  /* Work folders are made where the computer sees them too. */
  work = kiln_sandbox_make_work_dir ("kiln-argv-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (work, cache_tmp));

  argv = kiln_sandbox_build_argv (sandbox, work, NULL, command, &error);
  g_assert_no_error (error);
  joined = g_strjoinv (" ", argv);
  g_test_message ("%s", joined);
  directory = g_strconcat ("--directory=", work, NULL);
  g_assert_cmpstr (argv[0], ==, spawn);
  g_assert_cmpstr (argv[1], ==, "--host");
  g_assert_cmpstr (argv[2], ==, "--watch-bus");
  g_assert_cmpstr (argv[3], ==, directory);
  g_assert_cmpstr (argv[4], ==, "/bin/sh");
  /* The native profile, word for word, but for the root links the computer adds. */
  for (const char *flag = "--unshare-all\0--die-with-parent\0--new-session\0--clearenv\0";
       *flag != '\0'; flag += strlen (flag) + 1)
    g_assert_true (g_strv_contains ((const char * const *) argv, flag));
  g_assert_nonnull (strstr (joined, "--cap-drop ALL"));
  g_assert_nonnull (strstr (joined, "--tmpfs /tmp"));
  g_assert_nonnull (strstr (joined, "--remount-ro /"));
  g_assert_null (strstr (joined, "--share-net"));
  {
    g_autofree char *home = g_strdup_printf ("--tmpfs %s ", g_get_home_dir ());
    g_autofree char *bind = g_strdup_printf ("--bind %s %s ", work, work);

    /* $HOME is hidden under a tmpfs of its own, or with /tmp when it is in there (a
     * checkout under /tmp), and the sandbox's home is then /tmp/home. */
    if (g_str_has_prefix (g_get_home_dir (), "/tmp/"))
      g_assert_nonnull (strstr (joined, "--tmpfs /tmp/home "));
    else
      g_assert_nonnull (strstr (joined, home));
    g_assert_nonnull (strstr (joined, bind));
  }
  for (guint i = 0; argv[i] != NULL; i++)
    if (g_str_equal (argv[i], "--"))
      dash_dash = i;
  g_assert_cmpstr (argv[dash_dash + 1], ==, "/usr/bin/true");

  /* The Flatpak's own /tmp is not the computer's. */
  private_tmp = g_dir_make_tmp ("kiln-private-XXXXXX", &error);
  g_assert_no_error (error);
  refused = kiln_sandbox_build_argv (sandbox, private_tmp, NULL, command, &error);
  g_assert_error (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, private_tmp));
  g_assert_null (refused);
  kiln_render_remove_tree (private_tmp);
  kiln_render_remove_tree (work);
}

static void
test_render (void)
{
  g_autoptr(KilnSandbox) sandbox = new_sandbox ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnBlender) blender = kiln_blender_discover (NULL, NULL, &error);
  g_autofree char *out = new_dir_in (app.work, "render");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("simple.blend", out);
  g_autoptr(KilnRenderRun) run_ = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(KilnImage) image = NULL;
  g_autoptr(KilnImage) reference = NULL;
  g_auto(GStrv) paths = NULL;
  KilnImageDiff diff;

  g_assert_no_error (error);
  run_ = kiln_render_run_new (sandbox, blender, spec);
  kiln_render_run_execute_async (run_, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  paths = kiln_render_run_execute_finish (run_, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (paths), ==, 1);

  /* The same pixels as the native render of the same spec. */
  image = kiln_image_load_png (paths[0], &error);
  g_assert_no_error (error);
  reference = kiln_image_load_png (env ("KILN_TEST_REFERENCE"), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_image_get_width (image), ==, 160);
  g_assert_cmpuint (kiln_image_get_height (image), ==, 120);
  g_assert_cmpuint (kiln_image_get_channels (image), ==, kiln_image_get_channels (reference));
  kiln_image_compare (image, 0, 0, reference, 0, 0, 160, 120, &diff);
  g_test_message ("against the native render: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                  " values differ", diff.differing, diff.values);
  g_assert_cmpuint (diff.values, ==, 160 * 120 * kiln_image_get_channels (image));
  g_assert_cmpuint (diff.differing, ==, 0);
  kiln_test_assert_no_processes (out);
}

static void
test_limits (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *work = new_dir_in (app.work, "limits");
  const char * const hidden[] = { "/app", "/.flatpak-info", NULL };

  /* Set on the computer: nothing of flatpak-spawn's own limits reaches there. */
  kiln_sandbox_set_memory_limit (sandbox, 768 * MiB);
  kiln_sandbox_set_cpu_limit (sandbox, 1);
  kiln_test_sandbox_assert_limits (sandbox, work, 768 * MiB, hidden);
}

static void
test_escape_attempts (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *work = new_dir_in (app.work, "escape");
  g_autofree char *scene_dir = g_build_filename (env ("KILN_TEST_SCENES"), "hostile", NULL);
  g_autofree char *markers = g_strdup (env ("KILN_TEST_MARKERS"));
  g_autofree char *secret = g_build_filename (g_get_home_dir (), "secret.txt", NULL);
  g_autofree char *home_marker = g_build_filename (g_get_home_dir (), "kiln-hostile-home", NULL);

  /* The computer's bwrap: Kiln's other folders are not there, the scene folder and
   * the system are read-only, $HOME is an empty tmpfs, no network. */
  app.listener.connections = 0;
  kiln_test_sandbox_assert_escapes_fail (sandbox, work, scene_dir, markers, app.listener.port,
                                         secret);
  kiln_test_listener_drain (&app.listener, 200);
  g_assert_cmpuint (app.listener.connections, ==, 0);
  {
    g_autofree char *outside = g_build_filename (markers, "written-outside", NULL);
    g_autofree char *beside = g_build_filename (scene_dir, "written-beside-scene", NULL);
    g_autofree char *allowed = g_build_filename (work, "allowed.txt", NULL);

    g_assert_false (g_file_test (outside, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (beside, G_FILE_TEST_EXISTS));
    g_assert_false (host_file_exists (home_marker));
    g_assert_true (g_file_test (allowed, G_FILE_TEST_EXISTS));
  }

  /* Controls: the same computer, without the sandbox, reaches the listener and
   * reads the secret, so the checks above could see an escape. */
  {
    g_autofree char *connect = g_strdup_printf (
      "import socket; socket.create_connection(('127.0.0.1', %u), timeout=3).close()",
      app.listener.port);
    const char * const argv[] = {
      "flatpak-spawn", "--host", "--directory=/", "/usr/bin/python3", "-c", connect, NULL
    };
    gboolean connected;
    g_autofree char *ignored = run (argv, &connected);

    g_assert_true (connected);
    kiln_test_listener_drain (&app.listener, 200);
    g_assert_cmpuint (app.listener.connections, ==, 1);
  }
  {
    const char * const argv[] = {
      "flatpak-spawn", "--host", "--directory=/", "cat", secret, NULL
    };
    g_autofree char *contents = run (argv, NULL);

    g_assert_nonnull (strstr (contents, SECRET_TEXT));
  }
}

/* The host Blender of @out's render: its process ID, or 0. */
static GPid
find_blender (const char *out)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *cmdline_path = NULL;
      g_autofree char *comm_path = NULL;
      g_autofree char *cmdline = NULL;
      g_autofree char *comm = NULL;
      gsize len;

      if (!g_ascii_isdigit (name[0]))
        continue;
      cmdline_path = g_build_filename ("/proc", name, "cmdline", NULL);
      comm_path = g_build_filename ("/proc", name, "comm", NULL);
      if (!g_file_get_contents (comm_path, &comm, NULL, NULL) ||
          !g_str_equal (g_strstrip (comm), "blender") ||
          !g_file_get_contents (cmdline_path, &cmdline, &len, NULL) || len == 0)
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, out) != NULL)
        return (GPid) atoi (name);
    }
  return 0;
}

/* Gone, or dead and waiting to be reaped. */
static gboolean
process_gone (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  const char *state;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  state = strrchr (stat, ')');
  return state == NULL || state[1] == '\0' || state[2] == 'Z' || state[2] == 'X';
}

typedef struct
{
  const char   *out;
  GCancellable *cancellable;
  GPid          blender;
  gint64        cancelled_at;
} Pause;

static void
pause_when_rendering (KilnRenderRun *run_,
                      int            frame,
                      guint          sample,
                      guint          samples,
                      double         fraction,
                      Pause         *pause)
{
  if (sample == 0 || pause->cancelled_at != 0)
    return;
  /* Blender is rendering on the computer: lending pauses. */
  pause->blender = find_blender (pause->out);
  pause->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (pause->cancellable);
}

static void
test_pause (void)
{
  g_autoptr(KilnSandbox) sandbox = new_sandbox ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnBlender) blender = kiln_blender_discover (NULL, NULL, &error);
  g_autofree char *out = new_dir_in (app.work, "pause");
  g_autoptr(KilnRenderSpec) spec = simple_spec ("slow.blend", out);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(KilnRenderRun) run_ = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_auto(GStrv) paths = NULL;
  Pause pause = { out, cancellable, 0, 0 };
  gint64 deadline, gone_at;

  g_assert_no_error (error);
  spec->samples = 1000000;
  run_ = kiln_render_run_new (sandbox, blender, spec);
  g_signal_connect (run_, "progress", G_CALLBACK (pause_when_rendering), &pause);
  kiln_render_run_execute_async (run_, cancellable, kiln_test_store_result, &result);

  /* Watch the computer's Blender itself, not Kiln's view of it. */
  deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (pause.cancelled_at == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (pause.cancelled_at, !=, 0);
  g_assert_cmpint (pause.blender, >, 0);
  while (!process_gone (pause.blender) &&
         g_get_monotonic_time () < pause.cancelled_at + 5 * G_USEC_PER_SEC)
    g_usleep (5 * 1000);
  gone_at = g_get_monotonic_time ();
  g_test_message ("the computer's Blender (PID %d) was gone %.3f s after the pause",
                  pause.blender, (gone_at - pause.cancelled_at) / 1e6);
  g_assert_true (process_gone (pause.blender));
  g_assert_cmpint (gone_at - pause.cancelled_at, <, G_USEC_PER_SEC);

  kiln_test_wait_result (&result);
  paths = kiln_render_run_execute_finish (run_, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (paths);
  /* Nothing is left: not flatpak-spawn, not bwrap, not Blender. */
  kiln_test_assert_no_processes (out);
}

/* Without the talk permission: what people are told. */
static void
test_permission_removed (void)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *output = NULL;
  const char *message;

  g_assert_nonnull (self_exe);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS",
                                env ("KILN_TEST_DENIED_BUS"), TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, self_exe, DENIED_PROBE_ARG, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  g_test_message ("%s", output);
  result = parse_object (output);

  g_assert_cmpstr (json_object_get_string_member (result, "domain"), ==,
                   g_quark_to_string (KILN_SANDBOX_ERROR));
  g_assert_cmpint (json_object_get_int_member (result, "code"), ==,
                   KILN_SANDBOX_ERROR_UNAVAILABLE);
  message = json_object_get_string_member (result, "message");
  g_assert_cmpstr (message, ==,
                   "Kiln’s Flatpak runs the Blender installed on this computer, but it is not "
                   "allowed to start programs outside its sandbox. Allow it with this command, "
                   "then try again: flatpak override --user "
                   "--talk-name=org.freedesktop.Flatpak " APP_ID_IN_TEST);
}

/* Run with DENIED_PROBE_ARG: discovery on a bus without org.freedesktop.Flatpak. */
static int
denied_probe (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnBlender) blender = kiln_blender_discover (NULL, NULL, &error);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "domain");
  json_builder_add_string_value (builder, error != NULL ? g_quark_to_string (error->domain) : "");
  json_builder_set_member_name (builder, "code");
  json_builder_add_int_value (builder, error != NULL ? error->code : -1);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, error != NULL ? error->message : "");
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  /* As UTF-8 whatever the locale (g_print () would convert it). */
  fputs (text, stdout);
  fputc ('\n', stdout);
  return 0;
}

static int
run_app_tests (int    argc,
               char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  app.work = g_build_filename (g_get_user_cache_dir (), "kiln-test", NULL);
  g_assert_cmpint (g_mkdir_with_parents (app.work, 0700), ==, 0);
  kiln_test_listener_start (&app.listener);

  g_test_add_func ("/kiln/sandbox-flatpak/environment", test_environment);
  g_test_add_func ("/kiln/sandbox-flatpak/discover", test_discover);
  g_test_add_func ("/kiln/sandbox-flatpak/argv", test_argv);
  g_test_add_func ("/kiln/sandbox-flatpak/render", test_render);
  g_test_add_func ("/kiln/sandbox-flatpak/limits", test_limits);
  g_test_add_func ("/kiln/sandbox-flatpak/escape-attempts", test_escape_attempts);
  g_test_add_func ("/kiln/sandbox-flatpak/pause", test_pause);
  g_test_add_func ("/kiln/sandbox-flatpak/permission-removed", test_permission_removed);
  status = g_test_run ();

  kiln_test_listener_stop (&app.listener);
  g_free (app.work);
  return status;
}

/* The computer's side --------------------------------------------------------------------- */

static void
make_scenes (const char *blender,
             const char *scenes,
             const char *markers)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "data", "scenes",
                                                   "make-scenes.py", NULL);
  g_autofree char *output = NULL;
  gboolean success;
  const char * const argv[] = {
    blender, "-b", "--factory-startup", "-noaudio", "--python-exit-code", "1",
    "--python", script, "--", scenes, "9", markers, NULL
  };

  output = run (argv, &success);
  if (!success || strstr (output, "KILN-SCENES-DONE") == NULL)
    g_error ("make-scenes.py failed:\n%s", output);
}

/* The frame the app's render must match, rendered the native way. */
static char *
render_reference (KilnBlender *blender,
                  const char  *dir)
{
  g_autoptr(KilnSandbox) sandbox = new_sandbox ();
  g_autoptr(KilnRenderSpec) spec = simple_spec ("simple.blend", dir);
  g_autoptr(KilnRenderRun) run_ = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;

  g_assert_cmpint (kiln_sandbox_get_backend (sandbox), ==, KILN_SANDBOX_BACKEND_BUBBLEWRAP);
  run_ = kiln_render_run_new (sandbox, blender, spec);
  kiln_render_run_execute_async (run_, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  paths = kiln_render_run_execute_finish (run_, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (paths), ==, 1);
  return g_strdup (paths[0]);
}

static int
run_as_computer (int    argc,
                 char **argv)
{
  KilnTestFlatpak flatpak;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnBlender) blender = NULL;
  g_autoptr(GSubprocess) app_process = NULL;
  g_autoptr(GStrvBuilder) command = g_strv_builder_new ();
  g_auto(GStrv) app_argv = NULL;
  g_auto(GStrv) command_argv = NULL;
  g_auto(GStrv) test_args = g_strdupv (argv + 1);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *scenes = NULL;
  g_autofree char *markers = NULL;
  g_autofree char *reference_dir = NULL;
  g_autofree char *reference = NULL;
  g_autofree char *secret = NULL;
  int status;

  /* $HOME outside /tmp, set before anything asks GLib for it. */
  kiln_test_flatpak_set_up (&flatpak, APP_ID_IN_TEST,
                            g_getenv ("G_TEST_BUILDDIR") != NULL ?
                            g_getenv ("G_TEST_BUILDDIR") : cwd);
  scenes = g_build_filename (flatpak.app_dir, "data", "scenes", NULL);
  markers = g_build_filename (flatpak.app_dir, "data", "markers", NULL);
  reference_dir = g_build_filename (flatpak.app_dir, "data", "reference", NULL);
  g_setenv ("KILN_TEST_SCENES", scenes, TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!g_file_test ("/usr/bin/blender", G_FILE_TEST_IS_EXECUTABLE))
    g_error ("This test needs /usr/bin/blender (Debian: apt install blender)");

  secret = g_build_filename (flatpak.home, "secret.txt", NULL);
  g_file_set_contents (secret, SECRET_TEXT "\n", -1, &error);
  g_assert_no_error (error);
  blender = kiln_blender_discover ("/usr/bin/blender", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (scenes, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (markers, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (reference_dir, 0700), ==, 0);
  make_scenes (kiln_blender_get_path (blender), scenes, markers);
  reference = render_reference (blender, reference_dir);

  kiln_test_flatpak_start (&flatpak);
  g_strv_builder_add (command, self_exe);
  g_strv_builder_addv (command, (const char **) test_args);
  command_argv = g_strv_builder_end (command);
  {
    const char * const envp[] = {
      "KILN_TEST_DENIED_BUS", flatpak.denied_bus,
      "KILN_TEST_MARKERS", markers,
      "KILN_TEST_REFERENCE", reference,
      NULL
    };

    app_argv = kiln_test_flatpak_build_argv (&flatpak, envp,
                                             (const char * const *) command_argv);
  }
  /* Its TAP output is this test's. */
  app_process = g_subprocess_newv ((const char * const *) app_argv, G_SUBPROCESS_FLAGS_NONE,
                                   &error);
  g_assert_no_error (error);
  g_subprocess_wait (app_process, NULL, &error);
  g_assert_no_error (error);
  status = g_subprocess_get_if_exited (app_process) ?
           g_subprocess_get_exit_status (app_process) : 1;

  kiln_test_flatpak_tear_down (&flatpak);
  return status;
}

int
main (int   argc,
      char *argv[])
{
  if (!g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    return run_as_computer (argc, argv);
  if (argc == 2 && g_str_equal (argv[1], DENIED_PROBE_ARG))
    return denied_probe ();
  return run_app_tests (argc, argv);
}
