/* kiln-test-flatpak.c: the computer side of Kiln's Flatpak, with the real services,
 * and a bubblewrap that looks like the Flatpak from inside
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kiln-render-private.h"
#include "kiln-test-flatpak.h"

static const char session_helper_path[] = "/usr/libexec/flatpak-session-helper";
static const char flatpak_spawn_path[] = "/usr/libexec/flatpak-xdg-utils/flatpak-spawn";

static void
require (const char *program,
         const char *package)
{
  if (!g_file_test (program, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("This test needs %s (Debian: apt install %s)", program, package);
}

void
kiln_test_flatpak_set_up (KilnTestFlatpak *flatpak,
                          const char      *app_id,
                          const char      *parent)
{
  g_autofree char *home_template = g_build_filename (parent, "flatpak-home-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;

  require (session_helper_path, "flatpak");
  require (flatpak_spawn_path, "flatpak-xdg-utils");
  require ("/usr/bin/xdg-dbus-proxy", "xdg-dbus-proxy");
  require ("/usr/bin/dbus-daemon", "dbus-daemon");
  require ("/usr/bin/bwrap", "bubblewrap");

  memset (flatpak, 0, sizeof *flatpak);
  flatpak->app_id = g_strdup (app_id);
  flatpak->home = g_mkdtemp (g_steal_pointer (&home_template));
  g_assert_nonnull (flatpak->home);
  g_setenv ("HOME", flatpak->home, TRUE);

  flatpak->app_dir = g_build_filename (flatpak->home, ".var", "app", app_id, NULL);
  for (const char *sub = "data\0cache\0config\0"; *sub != '\0'; sub += strlen (sub) + 1)
    {
      g_autofree char *dir = g_build_filename (flatpak->app_dir, sub, NULL);

      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
    }
  /* Socket paths must stay short: under /tmp rather than the build folder. */
  flatpak->bus_dir = g_dir_make_tmp ("kiln-flatpak-XXXXXX", &error);
  g_assert_no_error (error);
}

/* In the child: the services go when the test goes, however it ends. */
static void
die_with_test (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts @argv with the test's debugging environment left out (these programs are
 * not under test) and @envp (name, value, …) added. */
static GSubprocess *
start_service (const char * const *argv,
               const char * const *envp,
               GSubprocessFlags    flags)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  for (const char *name = "G_DEBUG\0G_MESSAGES_DEBUG\0MALLOC_CHECK_\0MALLOC_PERTURB_\0";
       *name != '\0'; name += strlen (name) + 1)
    g_subprocess_launcher_unsetenv (launcher, name);
  for (guint i = 0; envp != NULL && envp[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, envp[i], envp[i + 1], TRUE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_test, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

/* dbus-daemon prints its address once it listens. */
static char *
start_bus (KilnTestFlatpak *flatpak)
{
  g_autofree char *config = g_build_filename (flatpak->bus_dir, "bus.conf", NULL);
  g_autofree char *socket = g_build_filename (flatpak->bus_dir, "bus", NULL);
  g_autofree char *config_arg = g_strconcat ("--config-file=", config, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GDataInputStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  const char * const argv[] = {
    "dbus-daemon", config_arg, "--nofork", "--print-address=1", NULL
  };
  char *address;

  /* No service folders: only what the test starts is on it. */
  contents = g_strdup_printf (
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>session</type>\n"
    "  <listen>unix:path=%s</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
    "    <allow eavesdrop=\"true\"/>\n"
    "    <allow own=\"*\"/>\n"
    "  </policy>\n"
    "</busconfig>\n", socket);
  g_file_set_contents (config, contents, -1, &error);
  g_assert_no_error (error);

  flatpak->bus = start_service (argv, NULL, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  stream = g_data_input_stream_new (g_subprocess_get_stdout_pipe (flatpak->bus));
  address = g_data_input_stream_read_line (stream, NULL, NULL, &error);
  g_assert_no_error (error);
  if (address == NULL)
    g_error ("dbus-daemon ended before it listened");
  return g_strstrip (address);
}

static void
start_session_helper (KilnTestFlatpak *flatpak,
                      const char      *address)
{
  g_autofree char *runtime = g_build_filename (flatpak->bus_dir, "runtime", NULL);
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  const char * const argv[] = { session_helper_path, NULL };
  const char * const envp[] = {
    "DBUS_SESSION_BUS_ADDRESS", address,
    "XDG_RUNTIME_DIR", runtime,
    "HOME", flatpak->home,
    NULL
  };
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  gboolean owned = FALSE;

  g_assert_cmpint (g_mkdir (runtime, 0700), ==, 0);
  flatpak->helper = start_service (argv, envp, G_SUBPROCESS_FLAGS_STDOUT_SILENCE);

  connection = g_dbus_connection_new_for_address_sync (
    address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
             G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
  g_assert_no_error (error);
  while (!owned && g_get_monotonic_time () < deadline)
    {
      g_autoptr(GVariant) reply =
        g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "NameHasOwner",
                                     g_variant_new ("(s)", "org.freedesktop.Flatpak"),
                                     G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                     &error);

      g_assert_no_error (error);
      g_variant_get (reply, "(b)", &owned);
      if (!owned)
        g_usleep (20 * 1000);
    }
  if (!owned)
    g_error ("flatpak-session-helper did not take org.freedesktop.Flatpak");
}

/* One xdg-dbus-proxy, two filtered views of the bus, as Flatpak sets them up. */
static void
start_proxy (KilnTestFlatpak *flatpak,
             const char      *address)
{
  g_autofree char *allowed = g_build_filename (flatpak->bus_dir, "allowed", NULL);
  g_autofree char *denied = g_build_filename (flatpak->bus_dir, "denied", NULL);
  g_autofree char *own = g_strconcat ("--own=", flatpak->app_id, NULL);
  g_autoptr(GError) error = NULL;
  const char * const argv[] = {
    "xdg-dbus-proxy", "--fd=1",
    address, allowed, "--filter", own, "--talk=org.freedesktop.Flatpak",
    address, denied, "--filter", own,
    NULL
  };
  char byte = 0;
  gsize got = 0;

  /* It writes one byte on --fd once it listens, and stops when that closes. */
  flatpak->proxy = start_service (argv, NULL, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_input_stream_read_all (g_subprocess_get_stdout_pipe (flatpak->proxy), &byte, 1, &got, NULL,
                           &error);
  g_assert_no_error (error);
  if (got != 1)
    g_error ("xdg-dbus-proxy did not start");
  flatpak->allowed_bus = g_strconcat ("unix:path=", allowed, NULL);
  flatpak->denied_bus = g_strconcat ("unix:path=", denied, NULL);
}

void
kiln_test_flatpak_start (KilnTestFlatpak *flatpak)
{
  g_autofree char *address = start_bus (flatpak);

  start_session_helper (flatpak, address);
  start_proxy (flatpak, address);
}

GStrv
kiln_test_flatpak_build_argv (KilnTestFlatpak     *flatpak,
                              const char * const  *envp,
                              const char * const  *command)
{
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) root = NULL;
  g_autofree char *info = g_build_filename (flatpak->bus_dir, "flatpak-info", NULL);
  g_autofree char *info_text = NULL;
  g_autofree char *empty = g_build_filename (flatpak->bus_dir, "empty", NULL);
  g_autofree char *bin = g_build_filename (flatpak->bus_dir, "bin", NULL);
  g_autofree char *path = NULL;
  const char *name;

  /* What Kiln reads of it is the application's name. */
  info_text = g_strdup_printf ("[Application]\n"
                               "name=%s\n"
                               "runtime=runtime/org.gnome.Platform/x86_64/50\n"
                               "\n"
                               "[Context]\n"
                               "shared=network;ipc;\n"
                               "sockets=wayland;fallback-x11;\n"
                               "devices=dri;\n"
                               "\n"
                               "[Session Bus Policy]\n"
                               "org.freedesktop.Flatpak=talk\n", flatpak->app_id);
  g_file_set_contents (info, info_text, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (empty, "", 0, &error);
  g_assert_no_error (error);
  if (flatpak->spawn == NULL)
    {
      flatpak->spawn = g_build_filename (bin, "flatpak-spawn", NULL);
      g_assert_cmpint (g_mkdir (bin, 0700), ==, 0);
      g_assert_cmpint (symlink (flatpak_spawn_path, flatpak->spawn), ==, 0);
    }
  path = g_strconcat (bin, ":", g_getenv ("PATH"), NULL);

  /* The computer's top-level folders on a new root: what is made at / stays there. */
  g_strv_builder_add_many (argv, "bwrap", "--die-with-parent", NULL);
  root = g_dir_open ("/", 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (root)) != NULL)
    {
      g_autofree char *entry = g_build_filename ("/", name, NULL);
      g_autofree char *target = g_file_read_link (entry, NULL);

      if (g_str_equal (name, "tmp") || g_str_equal (name, ".flatpak-info"))
        continue;
      if (target != NULL)
        g_strv_builder_add_many (argv, "--symlink", target, entry, NULL);
      else if (g_file_test (entry, G_FILE_TEST_IS_DIR))
        g_strv_builder_add_many (argv, "--dev-bind", entry, entry, NULL);
      else
        g_strv_builder_add_many (argv, "--ro-bind", entry, entry, NULL);
    }
  g_strv_builder_add_many (argv,
                           "--tmpfs", "/tmp",
                           "--bind", flatpak->bus_dir, flatpak->bus_dir,
                           NULL);
  /* The checkout and the build, which may be under the /tmp hidden above: the test program
   * runs itself from there and reads its data files (the home folder in them is hidden
   * again below). */
  {
    g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
    g_autofree char *exe_dir = exe != NULL ? g_path_get_dirname (exe) : NULL;
    const char *build_tests = g_getenv ("G_TEST_BUILDDIR");
    g_autofree char *build_root = build_tests != NULL ? g_path_get_dirname (build_tests) : NULL;
    const char *keep[] = { g_getenv ("KILN_SOURCE_ROOT"), g_getenv ("G_TEST_SRCDIR"),
                           build_root, exe_dir };

    for (guint i = 0; i < G_N_ELEMENTS (keep); i++)
      if (keep[i] != NULL && g_path_is_absolute (keep[i])
          && g_file_test (keep[i], G_FILE_TEST_IS_DIR))
        g_strv_builder_add_many (argv, "--bind", keep[i], keep[i], NULL);
  }
  g_strv_builder_add_many (argv,
                           "--tmpfs", flatpak->home,
                           "--bind", flatpak->app_dir, flatpak->app_dir,
                           NULL);
  g_strv_builder_add_many (argv,
                           "--ro-bind", info, "/.flatpak-info",
                           "--ro-bind", empty, "/usr/bin/blender",
                           "--ro-bind", empty, "/usr/bin/bwrap",
                           "--chdir", "/",
                           "--setenv", "PATH", path,
                           "--setenv", "DBUS_SESSION_BUS_ADDRESS", flatpak->allowed_bus,
                           "--setenv", "FLATPAK_ID", flatpak->app_id,
                           NULL);
  for (const char *sub = "DATA\0CACHE\0CONFIG\0"; *sub != '\0'; sub += strlen (sub) + 1)
    {
      g_autofree char *variable = g_strdup_printf ("XDG_%s_HOME", sub);
      g_autofree char *lower = g_ascii_strdown (sub, -1);
      g_autofree char *dir = g_build_filename (flatpak->app_dir, lower, NULL);

      g_strv_builder_add_many (argv, "--setenv", variable, dir, NULL);
    }
  for (guint i = 0; envp != NULL && envp[i] != NULL; i += 2)
    g_strv_builder_add_many (argv, "--setenv", envp[i], envp[i + 1], NULL);
  g_strv_builder_add (argv, "--");
  g_strv_builder_addv (argv, (const char **) command);
  return g_strv_builder_end (argv);
}

static void
stop_service (GSubprocess **process)
{
  if (*process == NULL)
    return;
  g_subprocess_send_signal (*process, SIGTERM);
  g_subprocess_wait (*process, NULL, NULL);
  g_clear_object (process);
}

void
kiln_test_flatpak_tear_down (KilnTestFlatpak *flatpak)
{
  stop_service (&flatpak->proxy);
  stop_service (&flatpak->helper);
  stop_service (&flatpak->bus);
  kiln_render_remove_tree (flatpak->bus_dir);
  kiln_render_remove_tree (flatpak->home);
  g_free (flatpak->app_id);
  g_free (flatpak->home);
  g_free (flatpak->app_dir);
  g_free (flatpak->bus_dir);
  g_free (flatpak->allowed_bus);
  g_free (flatpak->denied_bus);
  g_free (flatpak->spawn);
}
