/* kiln-import-dialog.c: import an account from a keystore file or a private key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both ways end the same: the key is saved in the keyring and becomes the account in use.
 * Replacing an account in use is confirmed first. The private key text lives only in the
 * entry's secure buffer and is cleared as soon as the dialog is done with it.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-file-chooser.h"
#include "kiln-import-dialog.h"
#include "kiln-util.h"

struct _KilnImportDialog
{
  AdwWindow            parent_instance;

  AdwViewStack        *view_stack;
  GtkButton           *cancel_button;
  GtkStack            *import_stack;
  GtkSpinner          *import_spinner;
  AdwPreferencesPage  *keystore_page;
  AdwPreferencesPage  *private_key_page;
  AdwActionRow        *file_row;
  GtkButton           *choose_button;
  AdwPasswordEntryRow *password_row;
  GtkLabel            *keystore_error_label;
  AdwPasswordEntryRow *key_row;
  AdwActionRow        *address_row;
  GtkLabel            *key_error_label;

  GCancellable        *cancellable;
  GFile               *file;
  KilnKey             *parsed_key;
  gboolean             busy;
};

G_DEFINE_FINAL_TYPE (KilnImportDialog, kiln_import_dialog, ADW_TYPE_WINDOW)

static gboolean
kiln_import_dialog_on_keystore_page (KilnImportDialog *self)
{
  return g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "keystore") == 0;
}

static void
kiln_import_dialog_update (KilnImportDialog *self)
{
  gboolean ready;

  if (kiln_import_dialog_on_keystore_page (self))
    ready = self->file != NULL;
  else
    ready = self->parsed_key != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "import.import", ready && !self->busy);
}

static void
kiln_import_dialog_set_busy (KilnImportDialog *self,
                             gboolean          busy)
{
  self->busy = busy;

  gtk_spinner_set_spinning (self->import_spinner, busy);
  gtk_stack_set_visible_child_name (self->import_stack, busy ? "spinner" : "label");
  /* Focus leaves the rows before they turn insensitive, or the entry that had it never
   * hears that it lost it. Cancel stays usable throughout. */
  if (busy)
    gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
  gtk_widget_set_sensitive (GTK_WIDGET (self->view_stack), !busy);
  if (!busy && kiln_import_dialog_on_keystore_page (self))
    gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
  else if (!busy)
    gtk_widget_grab_focus (GTK_WIDGET (self->key_row));

  kiln_import_dialog_update (self);
}

static void
kiln_import_dialog_show_error (KilnImportDialog *self,
                               const char       *message)
{
  GtkLabel *label;

  if (kiln_import_dialog_on_keystore_page (self))
    label = self->keystore_error_label;
  else
    label = self->key_error_label;

  gtk_label_set_label (label, message);
  gtk_widget_set_visible (GTK_WIDGET (label), message != NULL);
}

static void
kiln_import_dialog_wipe (KilnImportDialog *self)
{
  /* Both rows keep their text in GTK's secure, wiped-on-free password buffer. */
  gtk_editable_set_text (GTK_EDITABLE (self->key_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  g_clear_object (&self->parsed_key);
}

static void
kiln_import_dialog_notify_parent (KilnImportDialog *self,
                                  const char       *message)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));

  if (KILN_IS_WINDOW (parent))
    kiln_window_show_message (KILN_WINDOW (parent), message);
}

static void
kiln_import_dialog_adopted_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  KilnApplication *app = KILN_APPLICATION (object);
  g_autoptr(KilnImportDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean saved = FALSE;

  if (!kiln_application_adopt_key_finish (app, result, &saved, &error))
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      kiln_import_dialog_set_busy (self, FALSE);
      message = g_strdup_printf (_("Could not save the account in the keyring: %s"),
                                 error->message);
      kiln_import_dialog_show_error (self, message);
      return;
    }

  if (saved)
    kiln_import_dialog_notify_parent (self, _("Account imported"));
  else
    kiln_import_dialog_notify_parent (self, _("The keyring could not store the account, so "
                                              "Kiln uses it only until it quits"));

  kiln_import_dialog_wipe (self);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
kiln_import_dialog_adopt (KilnImportDialog *self,
                          KilnKey          *key)
{
  KilnApplication *app = KILN_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));

  kiln_application_adopt_key_async (app,
                                    key,
                                    self->cancellable,
                                    kiln_import_dialog_adopted_cb,
                                    g_object_ref (self));
}

static void
kiln_import_dialog_confirm_cb (AdwMessageDialog *dialog,
                               const char       *response,
                               gpointer          user_data)
{
  KilnImportDialog *self = KILN_IMPORT_DIALOG (user_data);
  KilnKey *key = g_object_get_data (G_OBJECT (dialog), "key");

  if (g_str_equal (response, "confirm"))
    kiln_import_dialog_adopt (self, key);
  else
    kiln_import_dialog_set_busy (self, FALSE);
}

/* Uses @key, after asking when it would replace a different account. */
static void
kiln_import_dialog_confirm_and_adopt (KilnImportDialog *self,
                                      KilnKey          *key)
{
  KilnApplication *app = KILN_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  KilnKey *current = kiln_application_get_key (app);
  g_autofree char *new_address = NULL;
  g_autofree char *intro = NULL;
  GtkWidget *dialog;

  kiln_import_dialog_set_busy (self, TRUE);

  if (current == NULL ||
      kiln_address_equal (kiln_key_get_address (current), kiln_key_get_address (key)))
    {
      kiln_import_dialog_adopt (self, key);
      return;
    }

  new_address = kiln_abbreviate_address (kiln_key_get_address_string (key));
  intro = g_strdup_printf (_("Kiln will use the account %s from now on."), new_address);
  dialog = kiln_replace_account_dialog_new (GTK_WINDOW (self),
                                            _("Replace the Current Account?"),
                                            intro,
                                            current,
                                            _("_Replace"));

  g_object_set_data_full (G_OBJECT (dialog), "key", g_object_ref (key), g_object_unref);
  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (kiln_import_dialog_confirm_cb), self, 0);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
kiln_import_dialog_keystore_loaded_cb (GObject      *object,
                                       GAsyncResult *result,
                                       gpointer      user_data)
{
  g_autoptr(KilnImportDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = NULL;

  key = kiln_keystore_load_finish (result, &error);

  if (key == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      kiln_import_dialog_set_busy (self, FALSE);

      if (g_error_matches (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_WRONG_PASSWORD))
        {
          kiln_import_dialog_show_error (self, _("Wrong password, or the file is damaged"));
          gtk_widget_add_css_class (GTK_WIDGET (self->password_row), "error");
          gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
        }
      else
        {
          kiln_import_dialog_show_error (self, error->message);
        }

      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  kiln_import_dialog_confirm_and_adopt (self, key);
}

static void
kiln_import_dialog_import (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *param)
{
  KilnImportDialog *self = KILN_IMPORT_DIALOG (widget);

  if (self->busy)
    return;

  kiln_import_dialog_show_error (self, NULL);

  if (kiln_import_dialog_on_keystore_page (self))
    {
      g_return_if_fail (self->file != NULL);

      kiln_import_dialog_set_busy (self, TRUE);
      /* scrypt takes a second or two: it runs in a worker thread. */
      kiln_keystore_load_async (self->file,
                                gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                                self->cancellable,
                                kiln_import_dialog_keystore_loaded_cb,
                                g_object_ref (self));
    }
  else
    {
      g_autoptr(KilnKey) key = NULL;

      g_return_if_fail (self->parsed_key != NULL);

      key = g_object_ref (self->parsed_key);
      kiln_import_dialog_confirm_and_adopt (self, key);
    }
}

static void
kiln_import_dialog_chosen_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(KilnImportDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *name = NULL;

  file = kiln_file_chooser_run_finish (result, &error);
  if (file == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        kiln_import_dialog_show_error (self, error->message);
      return;
    }

  g_set_object (&self->file, file);

  name = g_file_get_basename (file);
  adw_action_row_set_subtitle (self->file_row, name);
  kiln_import_dialog_show_error (self, NULL);
  kiln_import_dialog_update (self);

  gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
}

static void
kiln_import_dialog_choose_cb (KilnImportDialog *self)
{
  g_autoptr(GFile) folder = NULL;

  if (self->file != NULL)
    folder = g_file_get_parent (self->file);

  kiln_file_chooser_run_async (GTK_WINDOW (self),
                               KILN_FILE_CHOOSER_OPEN_KEYSTORE,
                               _("Choose a Keystore File"),
                               _("_Choose"),
                               NULL,
                               folder,
                               self->cancellable,
                               kiln_import_dialog_chosen_cb,
                               g_object_ref (self));
}

static void
kiln_import_dialog_password_changed_cb (KilnImportDialog *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self->password_row), "error");
  kiln_import_dialog_show_error (self, NULL);
}

/* What is wrong with the text so far, or NULL while it may still become a key. */
static const char *
describe_partial_key (const char *text)
{
  gsize digits = 0;

  while (g_ascii_isspace (*text))
    text++;
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    text += 2;

  for (; *text != '\0'; text++)
    {
      if (g_ascii_isxdigit (*text))
        digits++;
      else if (!g_ascii_isspace (*text))
        return _("A private key has only the digits 0 to 9 and the letters a to f");
    }

  if (digits > 64)
    return _("A private key has 64 hexadecimal digits; this has more");
  if (digits == 64)
    return _("These 64 digits are not a valid private key");

  return NULL;
}

static void
kiln_import_dialog_key_changed_cb (KilnImportDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->key_row));
  const char *problem = NULL;

  g_clear_object (&self->parsed_key);

  if (text[0] != '\0')
    {
      /* The engine's message is not shown: the text itself must never reach a log. */
      self->parsed_key = kiln_key_new_from_hex (text, NULL);
      if (self->parsed_key == NULL)
        problem = describe_partial_key (text);
    }

  if (self->parsed_key != NULL)
    adw_action_row_set_subtitle (self->address_row,
                                 kiln_key_get_address_string (self->parsed_key));
  gtk_widget_set_visible (GTK_WIDGET (self->address_row), self->parsed_key != NULL);

  if (problem != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->key_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->key_row), "error");

  gtk_label_set_label (self->key_error_label, problem);
  gtk_widget_set_visible (GTK_WIDGET (self->key_error_label), problem != NULL);

  kiln_import_dialog_update (self);
}

static void
kiln_import_dialog_page_changed_cb (KilnImportDialog *self)
{
  kiln_import_dialog_update (self);

  if (kiln_import_dialog_on_keystore_page (self))
    return;

  gtk_widget_grab_focus (GTK_WIDGET (self->key_row));
}

static void
kiln_import_dialog_dispose (GObject *object)
{
  KilnImportDialog *self = (KilnImportDialog *)object;

  g_cancellable_cancel (self->cancellable);

  if (self->key_row != NULL)
    kiln_import_dialog_wipe (self);

  gtk_widget_dispose_template (GTK_WIDGET (self), KILN_TYPE_IMPORT_DIALOG);

  g_clear_object (&self->parsed_key);
  g_clear_object (&self->file);

  G_OBJECT_CLASS (kiln_import_dialog_parent_class)->dispose (object);
}

static void
kiln_import_dialog_finalize (GObject *object)
{
  KilnImportDialog *self = (KilnImportDialog *)object;

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (kiln_import_dialog_parent_class)->finalize (object);
}

static void
kiln_import_dialog_class_init (KilnImportDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_import_dialog_dispose;
  object_class->finalize = kiln_import_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-import-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, view_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, import_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, import_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, keystore_page);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, private_key_page);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, file_row);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, choose_button);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, keystore_error_label);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, key_row);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, address_row);
  gtk_widget_class_bind_template_child (widget_class, KilnImportDialog, key_error_label);
  gtk_widget_class_bind_template_callback (widget_class, kiln_import_dialog_choose_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_import_dialog_password_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_import_dialog_key_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_import_dialog_page_changed_cb);

  gtk_widget_class_install_action (widget_class, "import.import", NULL,
                                   kiln_import_dialog_import);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kiln_import_dialog_init (KilnImportDialog *self)
{
  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->choose_button));
  kiln_import_dialog_update (self);
}

KilnImportDialog *
kiln_import_dialog_new (KilnWindow *parent)
{
  g_return_val_if_fail (KILN_IS_WINDOW (parent), NULL);

  return g_object_new (KILN_TYPE_IMPORT_DIALOG,
                       "application", gtk_window_get_application (GTK_WINDOW (parent)),
                       "transient-for", parent,
                       NULL);
}
