/* kiln-application-background.c: running without a window, and starting at login
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Outside Flatpak, "start-on-login" writes or removes an XDG autostart entry,
 * $XDG_CONFIG_HOME/autostart/APP-ID.desktop, that starts this executable with
 * --background. Inside Flatpak the sandbox may not write there: the Background portal is
 * asked instead, both to run without a window and to start at login.
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "kiln-application-private.h"

#define BACKGROUND_ARGUMENT "--background"

#define PORTAL_BUS_NAME       "org.freedesktop.portal.Desktop"
#define PORTAL_OBJECT_PATH    "/org/freedesktop/portal/desktop"
#define PORTAL_BACKGROUND     "org.freedesktop.portal.Background"
#define PORTAL_REQUEST        "org.freedesktop.portal.Request"

static gboolean
in_flatpak (void)
{
  return g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
}

/* Starting at login only makes sense for an app that may stay without a window. */
static gboolean
kiln_application_wants_autostart (KilnApplication *self)
{
  return g_settings_get_boolean (self->settings, "start-on-login") &&
         g_settings_get_boolean (self->settings, "run-in-background");
}

/* Tells the person in the window, when there is one. */
static void
kiln_application_report (KilnApplication *self,
                         const char      *message)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (KILN_IS_WINDOW (window))
    kiln_window_show_message (KILN_WINDOW (window), message);
  else
    g_message ("%s", message);
}

/* --- the autostart entry --------------------------------------------------------------------- */

static char *
autostart_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart", APP_ID ".desktop", NULL);
}

/* An argument of an Exec key: quoted when it holds a reserved character, and inside the
 * quotes '"', '`', '$' and '\' escaped with a backslash (Desktop Entry Specification). */
static char *
quote_exec_argument (const char *argument)
{
  static const char reserved[] = " \t\n\"'\\><~|&;$*?#()`";
  GString *quoted;

  if (argument[0] != '\0' && strpbrk (argument, reserved) == NULL)
    return g_strdup (argument);

  quoted = g_string_new ("\"");
  for (const char *p = argument; *p != '\0'; p++)
    {
      if (strchr ("\"`$\\", *p) != NULL)
        g_string_append_c (quoted, '\\');
      g_string_append_c (quoted, *p);
    }
  g_string_append_c (quoted, '"');

  return g_string_free (quoted, FALSE);
}

/* This very executable, so that a build run from its folder starts itself again. */
static char *
current_executable (void)
{
  g_autoptr(GError) error = NULL;
  char *path = g_file_read_link ("/proc/self/exe", &error);

  if (path == NULL)
    {
      g_debug ("Starting “kiln” at login: %s", error->message);
      return g_strdup ("kiln");
    }

  /* Replaced by a new build while running: the new one is what should start. */
  if (g_str_has_suffix (path, " (deleted)"))
    path[strlen (path) - strlen (" (deleted)")] = '\0';

  return path;
}

static gboolean
write_autostart_entry (GError **error)
{
  g_autoptr(GKeyFile) entry = g_key_file_new ();
  g_autofree char *path = autostart_path ();
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *executable = current_executable ();
  g_autofree char *quoted = quote_exec_argument (executable);
  g_autofree char *exec = g_strconcat (quoted, " " BACKGROUND_ARGUMENT, NULL);
  g_autofree char *contents = NULL;
  gsize length;

  g_key_file_set_string (entry, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_TYPE,
                         G_KEY_FILE_DESKTOP_TYPE_APPLICATION);
  g_key_file_set_string (entry, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_NAME, "Kiln");
  g_key_file_set_string (entry, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_COMMENT,
                         _("Lends this computer while it is idle"));
  g_key_file_set_string (entry, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_ICON, APP_ID);
  g_key_file_set_string (entry, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_EXEC, exec);
  g_key_file_set_boolean (entry, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_TERMINAL,
                          FALSE);
  g_key_file_set_boolean (entry, G_KEY_FILE_DESKTOP_GROUP,
                          G_KEY_FILE_DESKTOP_KEY_STARTUP_NOTIFY, FALSE);
  g_key_file_set_boolean (entry, G_KEY_FILE_DESKTOP_GROUP, "X-GNOME-Autostart-enabled", TRUE);

  contents = g_key_file_to_data (entry, &length, NULL);

  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create the folder %s: %s"), folder, g_strerror (saved_errno));
      return FALSE;
    }

  return g_file_set_contents_full (path, contents, length, G_FILE_SET_CONTENTS_CONSISTENT,
                                   0644, error);
}

static gboolean
remove_autostart_entry (GError **error)
{
  g_autofree char *path = autostart_path ();

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not remove %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

static void
kiln_application_sync_autostart_entry (KilnApplication *self)
{
  g_autoptr(GError) error = NULL;
  gboolean wanted = kiln_application_wants_autostart (self);

  if (wanted ? write_autostart_entry (&error) : remove_autostart_entry (&error))
    return;

  {
    g_autofree char *message = NULL;

    if (wanted)
      message = g_strdup_printf (_("Kiln cannot start on login: %s"), error->message);
    else
      message = g_strdup_printf (_("Kiln may still start on login: %s"), error->message);
    kiln_application_report (self, message);
  }
}

/* --- the Background portal --------------------------------------------------------------- */

static void
kiln_application_portal_response_cb (GDBusConnection *connection,
                                     const char      *sender_name,
                                     const char      *object_path,
                                     const char      *interface_name,
                                     const char      *signal_name,
                                     GVariant        *parameters,
                                     gpointer         user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  g_autoptr(GVariant) results = NULL;
  gboolean background = FALSE;
  gboolean autostart = FALSE;
  guint32 response;

  g_dbus_connection_signal_unsubscribe (connection, self->portal_response_id);
  self->portal_response_id = 0;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ua{sv})")))
    return;

  g_variant_get (parameters, "(u@a{sv})", &response, &results);
  g_variant_lookup (results, "background", "b", &background);
  g_variant_lookup (results, "autostart", "b", &autostart);
  g_debug ("Background portal: response %u, background %d, autostart %d",
           response, background, autostart);

  if (g_settings_get_boolean (self->settings, "run-in-background") && !background)
    kiln_application_report (self, _("Kiln may not run in the background: allow it in "
                                     "Settings → Apps, or Kiln quits when its window "
                                     "closes"));
  else if (kiln_application_wants_autostart (self) && !autostart)
    kiln_application_report (self, _("Kiln may not start on login: allow it in "
                                     "Settings → Apps"));
}

static void
kiln_application_portal_call_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(KilnApplication) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* No portal: nothing forbids running in the background either. */
  g_debug ("The Background portal could not be asked: %s", error->message);
  if (self->portal_response_id != 0)
    {
      g_dbus_connection_signal_unsubscribe (G_DBUS_CONNECTION (object),
                                            self->portal_response_id);
      self->portal_response_id = 0;
    }
}

static void
kiln_application_request_background (KilnApplication *self)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));
  const char * const commandline[] = { "kiln", BACKGROUND_ARGUMENT, NULL };
  g_autofree char *token = NULL;
  g_autofree char *sender = NULL;
  g_autofree char *handle = NULL;
  GVariantBuilder options;

  if (bus == NULL)
    return;

  g_cancellable_cancel (self->portal_cancellable);
  g_clear_object (&self->portal_cancellable);
  self->portal_cancellable = g_cancellable_new ();
  if (self->portal_response_id != 0)
    g_dbus_connection_signal_unsubscribe (bus, self->portal_response_id);

  /* The request's object path is known before the call: subscribing first means the
   * response cannot come before the subscription. */
  token = g_strdup_printf ("kiln%u", g_random_int ());
  sender = g_strdup (g_dbus_connection_get_unique_name (bus) + 1);
  g_strdelimit (sender, ".", '_');
  handle = g_strdup_printf (PORTAL_OBJECT_PATH "/request/%s/%s", sender, token);
  self->portal_response_id =
    g_dbus_connection_signal_subscribe (bus, PORTAL_BUS_NAME, PORTAL_REQUEST, "Response",
                                        handle, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        kiln_application_portal_response_cb, self, NULL);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (&options, "{sv}", "reason",
                         g_variant_new_string (_("Kiln lends this computer while its window "
                                                 "is closed")));
  g_variant_builder_add (&options, "{sv}", "autostart",
                         g_variant_new_boolean (kiln_application_wants_autostart (self)));
  g_variant_builder_add (&options, "{sv}", "commandline",
                         g_variant_new_strv (commandline, -1));
  g_variant_builder_add (&options, "{sv}", "dbus-activatable", g_variant_new_boolean (FALSE));

  g_dbus_connection_call (bus, PORTAL_BUS_NAME, PORTAL_OBJECT_PATH, PORTAL_BACKGROUND,
                          "RequestBackground", g_variant_new ("(sa{sv})", "", &options),
                          G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          self->portal_cancellable, kiln_application_portal_call_cb,
                          g_object_ref (self));
}

/* --- following the settings ------------------------------------------------------------ */

static void
kiln_application_sync_background (KilnApplication *self)
{
  if (self->settings == NULL)
    return;

  if (in_flatpak ())
    {
      if (g_settings_get_boolean (self->settings, "run-in-background") ||
          g_settings_get_boolean (self->settings, "start-on-login"))
        kiln_application_request_background (self);
    }
  else
    {
      kiln_application_sync_autostart_entry (self);
    }
}

void
_kiln_application_background_startup (KilnApplication *self)
{
  g_assert (KILN_IS_APPLICATION (self));

  g_signal_connect_object (self->settings, "changed::start-on-login",
                           G_CALLBACK (kiln_application_sync_background), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::run-in-background",
                           G_CALLBACK (kiln_application_sync_background), self,
                           G_CONNECT_SWAPPED);
  kiln_application_sync_background (self);
}

void
_kiln_application_background_shutdown (KilnApplication *self)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));

  g_assert (KILN_IS_APPLICATION (self));

  g_cancellable_cancel (self->portal_cancellable);
  g_clear_object (&self->portal_cancellable);
  if (self->portal_response_id != 0 && bus != NULL)
    g_dbus_connection_signal_unsubscribe (bus, self->portal_response_id);
  self->portal_response_id = 0;
}
