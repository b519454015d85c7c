/* kiln-application-actions.c: the app's actions and their shortcuts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-application-private.h"
#include "kiln-export-dialog.h"
#include "kiln-file-chooser.h"
#include "kiln-import-dialog.h"
#include "kiln-preferences-window.h"
#include "kiln-send-dialog.h"
#include "kiln-util.h"

static const char * const developers[] = {
  "The Kiln developers",
  NULL
};

static char *
kiln_application_debug_info (KilnApplication *self)
{
  GString *str = g_string_new (NULL);
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_string_append_printf (str, "Kiln %s (%s)\n", PACKAGE_VERSION, APP_ID);
  g_string_append_printf (str, "Profile: %s\n", PROFILE);
  g_string_append_printf (str, "Flatpak: %s\n",
                          g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS) ? "yes" : "no");
  g_string_append (str, "\n");

  g_string_append_printf (str, "GLib: %u.%u.%u (built with %d.%d.%d)\n",
                          glib_major_version, glib_minor_version, glib_micro_version,
                          GLIB_MAJOR_VERSION, GLIB_MINOR_VERSION, GLIB_MICRO_VERSION);
  g_string_append_printf (str, "GTK: %u.%u.%u (built with %d.%d.%d)\n",
                          gtk_get_major_version (), gtk_get_minor_version (),
                          gtk_get_micro_version (),
                          GTK_MAJOR_VERSION, GTK_MINOR_VERSION, GTK_MICRO_VERSION);
  g_string_append_printf (str, "libadwaita: %u.%u.%u (built with %d.%d.%d)\n",
                          adw_get_major_version (), adw_get_minor_version (),
                          adw_get_micro_version (),
                          ADW_MAJOR_VERSION, ADW_MINOR_VERSION, ADW_MICRO_VERSION);
  g_string_append_printf (str, "GDK backend: %s\n",
                          G_OBJECT_TYPE_NAME (gdk_display_get_default ()));
  g_string_append (str, "\n");

  /* Settings, without the account: an address is not secret, but it is personal. */
  g_object_get (self->settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = NULL;
      g_autofree char *printed = NULL;

      if (g_str_equal (keys[i], "account"))
        continue;

      value = g_settings_get_value (self->settings, keys[i]);
      printed = g_variant_print (value, TRUE);
      g_string_append_printf (str, "%s: %s\n", keys[i], printed);
    }

  return g_string_free (str, FALSE);
}

static void
kiln_application_about_action (GSimpleAction *action,
                               GVariant      *param,
                               gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  g_autofree char *debug_info = kiln_application_debug_info (self);

  adw_show_about_window (GTK_WINDOW (_kiln_application_get_window (self)),
                         "application-name", _("Kiln"),
                         "application-icon", APP_ID,
                         "developer-name", _("The Kiln developers"),
                         "version", PACKAGE_VERSION,
                         "comments", _("Render Blender scenes on other people’s idle "
                                       "computers, or lend yours and earn GNT"),
                         "developers", developers,
                         "copyright", "© 2026 The Kiln developers",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         "debug-info", debug_info,
                         "debug-info-filename", "kiln-debug-info.txt",
                         NULL);
}

static void
kiln_application_quit_action (GSimpleAction *action,
                              GVariant      *param,
                              gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
kiln_application_preferences_action (GSimpleAction *action,
                                     GVariant      *param,
                                     gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  KilnWindow *window = _kiln_application_get_window (self);
  KilnPreferencesWindow *preferences;

  preferences = kiln_preferences_window_new (GTK_WINDOW (window), self->settings);
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
kiln_application_created_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  KilnApplication *self = KILN_APPLICATION (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  KilnWindow *window;

  if (kiln_application_create_account_finish (self, result, &error))
    message = g_strdup (_("New account created"));
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    message = g_strdup_printf (_("Could not create an account: %s"), error->message);
  else
    return;

  window = _kiln_application_get_window (self);
  kiln_window_show_message (window, message);
}

static void
kiln_application_create_account (KilnApplication *self)
{
  kiln_application_create_account_async (self, self->cancellable,
                                         kiln_application_created_cb, NULL);
}

static void
kiln_application_confirm_new_cb (AdwMessageDialog *dialog,
                                 const char       *response,
                                 gpointer          user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);

  if (g_str_equal (response, "confirm") && !kiln_application_get_busy (self))
    kiln_application_create_account (self);
}

static void
kiln_application_new_account_action (GSimpleAction *action,
                                     GVariant      *param,
                                     gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  GtkWidget *dialog;

  if (self->key == NULL)
    {
      kiln_application_create_account (self);
      return;
    }

  dialog = kiln_replace_account_dialog_new (GTK_WINDOW (_kiln_application_get_window (self)),
                                            _("Create a New Account?"),
                                            _("Kiln will use a new account from now on."),
                                            self->key,
                                            _("C_reate"));
  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (kiln_application_confirm_new_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
kiln_application_import_account_action (GSimpleAction *action,
                                        GVariant      *param,
                                        gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  KilnImportDialog *dialog;

  dialog = kiln_import_dialog_new (_kiln_application_get_window (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
kiln_application_export_chosen_cb (GObject      *object,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  g_autoptr(KilnApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  KilnExportDialog *dialog;
  KilnWindow *window;

  file = kiln_file_chooser_run_finish (result, &error);
  window = _kiln_application_get_window (self);

  if (file == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        kiln_window_show_message (window, error->message);
      return;
    }

  /* The account may have changed while the chooser was open. */
  if (self->key == NULL)
    return;

  dialog = kiln_export_dialog_new (window, self->key, file);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
kiln_application_export_account_action (GSimpleAction *action,
                                        GVariant      *param,
                                        gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  const char *documents = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);
  g_autoptr(GFile) folder = NULL;
  g_autofree char *name = NULL;

  g_return_if_fail (self->key != NULL);

  name = g_strdup_printf ("kiln-%s.json", kiln_key_get_address_string (self->key));

  /* A backup belongs with the person's documents, not wherever Kiln was started from. */
  if (documents != NULL && g_file_test (documents, G_FILE_TEST_IS_DIR))
    folder = g_file_new_for_path (documents);
  else
    folder = g_file_new_for_path (g_get_home_dir ());

  kiln_file_chooser_run_async (GTK_WINDOW (_kiln_application_get_window (self)),
                               KILN_FILE_CHOOSER_SAVE_KEYSTORE,
                               _("Export Keystore File"),
                               _("_Save"),
                               name,
                               folder,
                               self->cancellable,
                               kiln_application_export_chosen_cb,
                               g_object_ref (self));
}

static void
kiln_application_copy_address_action (GSimpleAction *action,
                                      GVariant      *param,
                                      gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  KilnWindow *window;

  g_return_if_fail (self->key != NULL);

  window = _kiln_application_get_window (self);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (window)),
                          kiln_key_get_address_string (self->key));
  kiln_window_show_message (window, _("Address copied"));
}

static void
kiln_application_send_action (GSimpleAction *action,
                              GVariant      *param,
                              gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  KilnWallet *wallet = kiln_session_get_wallet (self->session);
  KilnSendDialog *dialog;

  g_return_if_fail (wallet != NULL);

  dialog = kiln_send_dialog_new (_kiln_application_get_window (self), wallet);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Ctrl+O: a .blend for the Render page, from the file chooser. */
static void
kiln_application_open_scene_action (GSimpleAction *action,
                                    GVariant      *param,
                                    gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  KilnWindow *window = _kiln_application_get_window (self);

  gtk_window_present (GTK_WINDOW (window));
  kiln_window_choose_scene (window);
}

/* The desktop file's "Lend Idle CPU": lending on, in the background when Kiln may run there,
 * else with the window open on the Lending page (closing it would stop lending). */
static void
kiln_application_lend_action (GSimpleAction *action,
                              GVariant      *param,
                              gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  KilnWindow *window;

  g_settings_set_boolean (self->settings, "lending-enabled", TRUE);

  if (g_settings_get_boolean (self->settings, "run-in-background") &&
      gtk_application_get_windows (GTK_APPLICATION (self)) == NULL)
    return;

  window = _kiln_application_get_window (self);
  kiln_window_show_page (window, "lending");
  gtk_window_present (GTK_WINDOW (window));
}

static void
set_action_enabled (KilnApplication *self,
                    const char      *name,
                    gboolean         enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

void
_kiln_application_actions_update (KilnApplication *self)
{
  gboolean idle = self->busy == 0 && !self->loading;
  gboolean keyring_read = self->account_state == KILN_ACCOUNT_STATE_NONE ||
                          self->account_state == KILN_ACCOUNT_STATE_READY;

  g_assert (KILN_IS_APPLICATION (self));

  /* A new key needs a working keyring: nothing else would hold it. */
  set_action_enabled (self, "new-account", idle && keyring_read);
  set_action_enabled (self, "import-account",
                      idle && self->account_state != KILN_ACCOUNT_STATE_LOADING);
  set_action_enabled (self, "export-account", idle && self->key != NULL);
  set_action_enabled (self, "copy-address", self->key != NULL);
  set_action_enabled (self, "send",
                      self->session != NULL &&
                      kiln_session_get_state (self->session) == KILN_SESSION_STATE_READY);
}

void
_kiln_application_actions_init (KilnApplication *self)
{
  static const GActionEntry actions[] = {
    { "about", kiln_application_about_action },
    { "quit", kiln_application_quit_action },
    { "preferences", kiln_application_preferences_action },
    { "new-account", kiln_application_new_account_action },
    { "import-account", kiln_application_import_account_action },
    { "export-account", kiln_application_export_account_action },
    { "copy-address", kiln_application_copy_address_action },
    { "send", kiln_application_send_action },
    { "open-scene", kiln_application_open_scene_action },
    { "lend", kiln_application_lend_action },
  };
  static const struct {
    const char *action;
    const char *accels[2];
  } shortcuts[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "app.new-account", { "<Control>n", NULL } },
    { "app.open-scene", { "<Control>o", NULL } },
    { "app.import-account", { "<Control>i", NULL } },
    { "app.export-account", { "<Control>s", NULL } },
    { "window.close", { "<Control>w", NULL } },
  };

  g_assert (KILN_IS_APPLICATION (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);

  for (guint i = 0; i < G_N_ELEMENTS (shortcuts); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                           shortcuts[i].action,
                                           shortcuts[i].accels);

  g_signal_connect (self, "notify::account-state",
                    G_CALLBACK (_kiln_application_actions_update), NULL);
  g_signal_connect (self, "notify::busy",
                    G_CALLBACK (_kiln_application_actions_update), NULL);
  g_signal_connect (self, "notify::key",
                    G_CALLBACK (_kiln_application_actions_update), NULL);
  g_signal_connect_object (self->session, "notify::state",
                           G_CALLBACK (_kiln_application_actions_update), self,
                           G_CONNECT_SWAPPED);

  _kiln_application_actions_update (self);
}
