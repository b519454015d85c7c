/* kiln-sandbox-flatpak.c: the sandbox from inside Kiln's Flatpak
 *
 * Two ways, chosen by whether Blender is bundled in /app:
 *
 * - Bundled: `flatpak-spawn --sandbox` asks the Flatpak portal for a tighter copy
 *   of Kiln's own sandbox (no network, only the given paths), where /app/…/blender
 *   is.
 * - Not bundled: the computer's Blender, in the computer's bubblewrap. `flatpak-spawn
 *   --host` asks flatpak-session-helper (org.freedesktop.Flatpak, the talk permission
 *   in the manifest) to start a small /bin/sh wrapper on the computer, which sets
 *   the limits and execs bwrap with the arguments kiln-sandbox.c builds for a
 *   native install. The wrapper adds the /lib*, /bin and /sbin entries as the
 *   computer has them (symlinks on merged-/usr systems, folders elsewhere): the
 *   Flatpak's own root says nothing about the computer's.
 *
 * The helper starts the wrapper in a new session of its own, so the wrapper (then
 * bwrap, as it execs) leads a process group; with --watch-bus the helper sends
 * that group SIGINT when flatpak-spawn's bus connection goes away, which is what
 * kiln_sandbox_kill() causes by killing flatpak-spawn. bwrap has no handler for
 * SIGINT and dies; the sandbox's init was started with --die-with-parent and
 * follows; the kernel then kills every process of the sandbox's PID namespace.
 * The limits cannot come from Kiln's side (the helper's child inherits nothing
 * from flatpak-spawn), hence `ulimit -c 0`, `ulimit -d`, `nice -n 19` and `chrt
 * --idle 0` in the wrapper.
 *
 * Paths: bwrap on the computer mounts paths as the computer names them. Kiln's
 * own folder ~/.var/app/APP-ID (where its data, cache and lent work live) is
 * mounted in the Flatpak at the same path, and so is $XDG_RUNTIME_DIR/app/APP-ID;
 * files lent by the document portal (/run/user/UID/doc/…) are the computer's
 * $XDG_RUNTIME_DIR/doc/by-app/APP-ID/…, and bwrap mounts them back at the path
 * Kiln knows. The Flatpak's /tmp and /app are its own: kiln_sandbox_make_work_dir()
 * makes work folders in the cache folder instead.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-sandbox-private.h"

#define HOST_OBJECT_PATH   "/org/freedesktop/Flatpak/Development"
#define HOST_INTERFACE     "org.freedesktop.Flatpak.Development"
#define HOST_CALL_TIMEOUT  10000  /* milliseconds */

/* Run by /bin/sh on the computer: $1 the data limit in KiB (0: none), $2 1 for
 * idle priority, then bwrap's arguments. The root entries are prepended in
 * reverse, so they come out in the order kiln-sandbox.c uses. */
static const char host_wrapper[] =
  "ulimit -c 0\n"
  "if [ \"$1\" != 0 ]; then ulimit -d \"$1\" || exit 125; fi\n"
  "idle=$2\n"
  "shift 2\n"
  "for d in /libx32 /lib64 /lib32 /lib /sbin /bin; do\n"
  "  if [ -L \"$d\" ]; then set -- --symlink \"$(readlink \"$d\")\" \"$d\" \"$@\"\n"
  "  elif [ -d \"$d\" ]; then set -- --ro-bind \"$d\" \"$d\" \"$@\"\n"
  "  fi\n"
  "done\n"
  "if [ \"$idle\" = 1 ]; then\n"
  "  if command -v chrt >/dev/null 2>&1; then set -- chrt --idle 0 bwrap \"$@\"\n"
  "  else set -- bwrap \"$@\"\n"
  "  fi\n"
  "  exec nice -n 19 \"$@\"\n"
  "fi\n"
  "exec bwrap \"$@\"\n";

typedef struct
{
  gboolean  in_flatpak;
  char     *app_id;
  char     *bundled_blender;
} FlatpakInfo;

static const FlatpakInfo *
flatpak_info (void)
{
  static FlatpakInfo info;
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      g_autoptr(GKeyFile) key_file = g_key_file_new ();
      static const char * const bundled[] = { "/app/bin/blender", "/app/blender/blender", NULL };

      info.in_flatpak = g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
      if (info.in_flatpak)
        {
          if (g_key_file_load_from_file (key_file, "/.flatpak-info", G_KEY_FILE_NONE, NULL))
            info.app_id = g_key_file_get_string (key_file, "Application", "name", NULL);
          if (info.app_id == NULL || *info.app_id == '\0')
            {
              g_free (info.app_id);
              info.app_id = g_strdup (g_getenv ("FLATPAK_ID") != NULL ?
                                      g_getenv ("FLATPAK_ID") : APP_ID);
            }
          for (guint i = 0; bundled[i] != NULL && info.bundled_blender == NULL; i++)
            if (g_file_test (bundled[i], G_FILE_TEST_IS_EXECUTABLE) &&
                !g_file_test (bundled[i], G_FILE_TEST_IS_DIR))
              info.bundled_blender = g_strdup (bundled[i]);
        }
      g_once_init_leave (&initialized, 1);
    }
  return &info;
}

gboolean
kiln_sandbox_in_flatpak (void)
{
  return flatpak_info ()->in_flatpak;
}

const char *
kiln_sandbox_get_flatpak_app_id (void)
{
  return flatpak_info ()->app_id;
}

const char *
kiln_sandbox_get_bundled_blender (void)
{
  return flatpak_info ()->bundled_blender;
}

gboolean
kiln_sandbox_uses_host (void)
{
  const FlatpakInfo *info = flatpak_info ();

  return info->in_flatpak && info->bundled_blender == NULL;
}

/* Paths ------------------------------------------------------------------------------------ */

/* @path itself or below it: the rest ("" or "/…"), else NULL. */
static const char *
path_below (const char *path,
            const char *parent)
{
  gsize len = strlen (parent);

  if (strncmp (path, parent, len) != 0 || (path[len] != '\0' && path[len] != '/'))
    return NULL;
  return path + len;
}

char *
kiln_sandbox_host_path (const char  *path,
                        GError     **error)
{
  const char *app_id = kiln_sandbox_get_flatpak_app_id ();
  g_autofree char *app_dir = NULL;
  g_autofree char *runtime_app_dir = NULL;
  g_autofree char *documents = NULL;
  const char *rest;

  g_return_val_if_fail (g_path_is_absolute (path), NULL);

  if (app_id == NULL)
    return g_strdup (path);

  /* The same folders, at the same paths, on both sides. */
  app_dir = g_build_filename (g_get_home_dir (), ".var", "app", app_id, NULL);
  runtime_app_dir = g_build_filename (g_get_user_runtime_dir (), "app", app_id, NULL);
  if (path_below (path, app_dir) != NULL || path_below (path, runtime_app_dir) != NULL)
    return g_strdup (path);

  /* The document portal's view for this app. */
  documents = g_build_filename (g_get_user_runtime_dir (), "doc", NULL);
  rest = path_below (path, documents);
  if (rest != NULL && *rest != '\0')
    return g_strconcat (documents, "/by-app/", app_id, rest, NULL);

  g_set_error (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_INVALID,
               _("%s is inside Kiln’s Flatpak only, so Blender cannot be given it on this "
                 "computer"), path);
  return NULL;
}

/* Command lines ----------------------------------------------------------------------------- */

static char *
find_launcher (GError **error)
{
  char *launcher = g_find_program_in_path ("flatpak-spawn");

  if (launcher == NULL)
    g_set_error_literal (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_UNAVAILABLE,
                         _("flatpak-spawn is missing from Kiln’s Flatpak runtime, so Blender "
                           "cannot be started"));
  return launcher;
}

GStrv
kiln_sandbox_host_argv (const char * const  *command,
                        GError             **error)
{
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  g_autofree char *launcher = find_launcher (error);

  g_return_val_if_fail (command != NULL && command[0] != NULL, NULL);

  if (launcher == NULL)
    return NULL;
  /* The Flatpak's working folder need not exist on the computer: / does. */
  g_strv_builder_add_many (argv, launcher, "--host", "--watch-bus", "--directory=/", NULL);
  g_strv_builder_addv (argv, (const char **) command);
  return g_strv_builder_end (argv);
}

GStrv
kiln_sandbox_build_host_argv (const char          *launcher,
                              const char          *work_dir,
                              guint64              memory_limit,
                              gboolean             idle_priority,
                              const char * const  *bwrap_args)
{
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  g_autofree char *directory = g_strconcat ("--directory=", work_dir, NULL);
  g_autofree char *memory = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                             memory_limit > 0 ? MAX (memory_limit / 1024, 1) :
                                                                0);

  g_strv_builder_add_many (argv, launcher, "--host", "--watch-bus", directory,
                           "/bin/sh", "-c", host_wrapper, "kiln-sandbox",
                           memory, idle_priority ? "1" : "0", NULL);
  g_strv_builder_addv (argv, (const char **) bwrap_args);
  return g_strv_builder_end (argv);
}

GStrv
kiln_sandbox_build_flatpak_argv (const char          *launcher,
                                 GPtrArray           *mounts,
                                 guint64              memory_limit,
                                 gboolean             idle_priority,
                                 const char * const  *command)
{
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  g_autoptr(GString) wrapper = g_string_new (NULL);
  const char *work = NULL;

  g_strv_builder_add_many (argv, launcher,
                           "--sandbox", "--no-network", "--watch-bus", "--clear-env",
                           "--env=PATH=/app/bin:/usr/bin",
                           "--env=HOME=/tmp",
                           "--env=TMPDIR=/tmp",
                           "--env=LANG=C.UTF-8",
                           NULL);
  for (guint i = 0; i < mounts->len; i++)
    {
      KilnMount *mount = g_ptr_array_index (mounts, i);
      g_autofree char *option = NULL;

      if (mount->kind == KILN_MOUNT_TMPFS)
        continue;
      if (mount->kind == KILN_MOUNT_WRITABLE)
        {
          option = g_strconcat ("--sandbox-expose-path=", mount->path, NULL);
          work = mount->path;
        }
      else
        option = g_strconcat ("--sandbox-expose-path-ro=", mount->path, NULL);
      g_strv_builder_add (argv, option);
    }
  g_assert (work != NULL);
  {
    g_autofree char *directory = g_strconcat ("--directory=", work, NULL);

    g_strv_builder_add (argv, directory);
  }

  /* The portal starts the command afresh: limits must be set inside. */
  if (memory_limit > 0)
    g_string_append_printf (wrapper, "ulimit -d %" G_GUINT64_FORMAT " || exit 125; ",
                            MAX (memory_limit / 1024, 1));
  g_string_append (wrapper, idle_priority ? "exec nice -n 19 \"$@\"" : "exec \"$@\"");
  g_strv_builder_add_many (argv, "sh", "-c", wrapper->str, "kiln-sandbox", NULL);
  g_strv_builder_addv (argv, (const char **) command);
  return g_strv_builder_end (argv);
}

/* The permission -------------------------------------------------------------------------- */

gboolean
kiln_sandbox_check_host_permission (GCancellable  *cancellable,
                                    GError       **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local_error = NULL;

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, cancellable, &local_error);
  if (bus != NULL)
    reply = g_dbus_connection_call_sync (bus, KILN_SANDBOX_HOST_BUS_NAME, HOST_OBJECT_PATH,
                                         "org.freedesktop.DBus.Properties", "Get",
                                         g_variant_new ("(ss)", HOST_INTERFACE, "version"),
                                         G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                         HOST_CALL_TIMEOUT, cancellable, &local_error);
  if (reply != NULL)
    return TRUE;

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_debug ("%s does not answer: %s", KILN_SANDBOX_HOST_BUS_NAME, local_error->message);
  g_set_error (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_UNAVAILABLE,
               /* Translators: the second %s is Kiln's application ID; keep the command as
                * it is */
               _("Kiln’s Flatpak runs the Blender installed on this computer, but it is not "
                 "allowed to start programs outside its sandbox. Allow it with this command, "
                 "then try again: flatpak override --user --talk-name=%s %s"),
               KILN_SANDBOX_HOST_BUS_NAME, kiln_sandbox_get_flatpak_app_id ());
  return FALSE;
}
