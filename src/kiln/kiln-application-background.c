/* kiln-application-background.c: running without a window, and starting at login
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Outside Flatpak, "start-on-login" writes or removes an XDG autostart entry,
 * $XDG_CONFIG_HOME/autostart/APP-ID.desktop, that starts this executable with
 * --background. Inside Flatpak the sandbox may not write there: the Background portal is
 * asked instead, both to run without a window and to start at login, and writes the entry
 * itself. When it refuses, both settings go back off and the window says why.
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

/* Tells the person in the window, when there is one, that what they turned on did not
 * happen: the message stays until it is dismissed. */
static void
kiln_application_report (KilnApplication *self,
                         const char      *message)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  g_autofree char *escaped = NULL;
  AdwToast *toast;

  if (!KILN_IS_WINDOW (window))
    {
      g_message ("%s", message);
      return;
    }

  /* Toast titles are markup. */
  escaped = g_markup_escape_text (message, -1);
  toast = adw_toast_new (escaped);
  adw_toast_set_timeout (toast, 0);
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  kiln_window_add_toast (KILN_WINDOW (window), toast);
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

typedef struct
{
  KilnApplication *self;
  char            *handle;  /* the request's object path, as Kiln expects it */
} PortalCall;

static void
portal_call_free (PortalCall *call)
{
  g_object_unref (call->self);
  g_free (call->handle);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PortalCall, portal_call_free)

static void kiln_application_portal_response_cb (GDBusConnection *connection,
                                                 const char      *sender_name,
                                                 const char      *object_path,
                                                 const char      *interface_name,
                                                 const char      *signal_name,
                                                 GVariant        *parameters,
                                                 gpointer         user_data);

static void
kiln_application_portal_unsubscribe (KilnApplication *self,
                                     GDBusConnection *bus)
{
  if (self->portal_response_id != 0 && bus != NULL)
    g_dbus_connection_signal_unsubscribe (bus, self->portal_response_id);
  self->portal_response_id = 0;
}

/* The answer comes as the Response signal of the request's object. */
static void
kiln_application_portal_subscribe (KilnApplication *self,
                                   GDBusConnection *bus,
                                   const char      *handle)
{
  kiln_application_portal_unsubscribe (self, bus);
  self->portal_response_id =
    g_dbus_connection_signal_subscribe (bus, PORTAL_BUS_NAME, PORTAL_REQUEST, "Response",
                                        handle, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        kiln_application_portal_response_cb, self, NULL);
}

/* Turns both switches off at once, so that the change is followed only once. */
static void
kiln_application_stay_in_foreground (KilnApplication *self)
{
  g_autoptr(GSettings) settings = g_settings_new (BASE_APP_ID);

  g_settings_delay (settings);
  g_settings_set_boolean (settings, "start-on-login", FALSE);
  g_settings_set_boolean (settings, "run-in-background", FALSE);
  g_settings_apply (settings);
}

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
  gboolean background;
  gboolean autostart = FALSE;
  guint32 response;

  kiln_application_portal_unsubscribe (self, connection);

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ua{sv})")))
    return;

  /* 0 is granted; 1 (cancelled) and 2 (refused, or the dialog closed) are not. */
  g_variant_get (parameters, "(u@a{sv})", &response, &results);
  background = response == 0;
  g_variant_lookup (results, "background", "b", &background);
  g_variant_lookup (results, "autostart", "b", &autostart);
  self->portal_autostart = autostart;
  g_debug ("Background portal: response %u, background %d, autostart %d",
           response, background, autostart);

  if (!background)
    {
      const char *message;

      /* Refused: the portal removed any autostart entry, and the desktop may end Kiln when
       * it runs without a window. The switches say so. */
      if (g_settings_get_boolean (self->settings, "start-on-login"))
        message = _("Kiln may not start on login or run in the background: allow it in "
                    "Settings → Apps, then turn it on again");
      else if (g_settings_get_boolean (self->settings, "run-in-background"))
        message = _("Kiln may not run in the background: allow it in Settings → Apps, then "
                    "turn it on again");
      else
        return;

      kiln_application_stay_in_foreground (self);
      kiln_application_report (self, message);
    }
  else if (kiln_application_wants_autostart (self) && !autostart)
    {
      g_settings_set_boolean (self->settings, "start-on-login", FALSE);
      kiln_application_report (self, _("Kiln cannot start on login: the desktop did not add "
                                       "it to the programs that start at login"));
    }
}

static gboolean
portal_missing (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT);
}

/* Without the portal nothing forbids running in the background, but nothing can make Kiln
 * start at login from inside the sandbox either. */
static void
kiln_application_portal_failed (KilnApplication *self,
                                GError          *error)
{
  g_autofree char *message = NULL;

  if (g_dbus_error_is_remote_error (error))
    g_dbus_error_strip_remote_error (error);
  g_debug ("The Background portal could not be asked: %s", error->message);

  if (!kiln_application_wants_autostart (self))
    return;

  if (portal_missing (error))
    message = g_strdup (_("Kiln cannot start on login: the desktop has no Background portal"));
  else
    message = g_strdup_printf (_("Kiln cannot start on login: %s"), error->message);

  self->portal_autostart = FALSE;
  g_settings_set_boolean (self->settings, "start-on-login", FALSE);
  kiln_application_report (self, message);
}

static void
kiln_application_portal_call_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(PortalCall) call = user_data;
  GDBusConnection *bus = G_DBUS_CONNECTION (object);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *handle;

  reply = g_dbus_connection_call_finish (bus, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (reply == NULL)
    {
      kiln_application_portal_unsubscribe (call->self, bus);
      kiln_application_portal_failed (call->self, error);
      return;
    }

  /* Portals before 0.9 chose the request's path themselves. */
  g_variant_get (reply, "(&o)", &handle);
  if (g_strcmp0 (handle, call->handle) != 0)
    kiln_application_portal_subscribe (call->self, bus, handle);
}

static void
kiln_application_request_background (KilnApplication *self)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));
  /* The portal writes it as `flatpak run --command=kiln APP-ID --background`. */
  const char * const commandline[] = { "kiln", BACKGROUND_ARGUMENT, NULL };
  gboolean autostart = kiln_application_wants_autostart (self);
  g_autofree char *token = NULL;
  g_autofree char *sender = NULL;
  PortalCall *call;
  GVariantBuilder options;
  const char *reason;

  if (bus == NULL)
    return;

  g_cancellable_cancel (self->portal_cancellable);
  g_clear_object (&self->portal_cancellable);
  self->portal_cancellable = g_cancellable_new ();

  /* The request's object path is known before the call: subscribing first means the
   * response cannot come before the subscription. */
  token = g_strdup_printf ("kiln%u", g_random_int ());
  sender = g_strdup (g_dbus_connection_get_unique_name (bus) + 1);
  g_strdelimit (sender, ".", '_');
  call = g_new0 (PortalCall, 1);
  call->self = g_object_ref (self);
  call->handle = g_strdup_printf (PORTAL_OBJECT_PATH "/request/%s/%s", sender, token);
  kiln_application_portal_subscribe (self, bus, call->handle);

  if (autostart)
    {
      /* Translators: the desktop shows this when it asks whether Kiln may start at login
       * and run in the background; at most 256 characters */
      reason = _("Kiln starts without a window when you log in, to lend this computer while "
                 "it is idle");
    }
  else
    {
      /* Translators: the desktop shows this when it asks whether Kiln may run in the
       * background; at most 256 characters */
      reason = _("Kiln keeps lending this computer while its window is closed");
    }

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (&options, "{sv}", "reason", g_variant_new_string (reason));
  g_variant_builder_add (&options, "{sv}", "autostart", g_variant_new_boolean (autostart));
  g_variant_builder_add (&options, "{sv}", "commandline",
                         g_variant_new_strv (commandline, -1));
  /* Kiln's desktop file is D-Bus activatable, but being activated opens the window: the
   * entry must run the command line, with --background. */
  g_variant_builder_add (&options, "{sv}", "dbus-activatable", g_variant_new_boolean (FALSE));

  g_dbus_connection_call (bus, PORTAL_BUS_NAME, PORTAL_OBJECT_PATH, PORTAL_BACKGROUND,
                          "RequestBackground", g_variant_new ("(sa{sv})", "", &options),
                          G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          self->portal_cancellable, kiln_application_portal_call_cb, call);
}

/* --- following the settings ------------------------------------------------------------ */

static void
kiln_application_sync_background (KilnApplication *self)
{
  if (self->settings == NULL)
    return;

  if (!in_flatpak ())
    {
      kiln_application_sync_autostart_entry (self);
      return;
    }

  /* Asked whenever Kiln may stay without its window, and once more when starting at login
   * is turned off with it: the portal removes its autostart entry then. */
  if (g_settings_get_boolean (self->settings, "run-in-background") ||
      g_settings_get_boolean (self->settings, "start-on-login") ||
      self->portal_autostart != kiln_application_wants_autostart (self))
    kiln_application_request_background (self);
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
  kiln_application_portal_unsubscribe (self, bus);
}
