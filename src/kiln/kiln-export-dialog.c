/* kiln-export-dialog.c: save the account's key as a password-protected keystore file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-export-dialog.h"
#include "kiln-file-chooser.h"

struct _KilnExportDialog
{
  AdwWindow            parent_instance;

  GtkButton           *cancel_button;
  GtkStack            *export_stack;
  GtkSpinner          *export_spinner;
  AdwPreferencesPage  *page;
  AdwActionRow        *file_row;
  AdwPasswordEntryRow *password_row;
  AdwPasswordEntryRow *confirm_row;
  GtkLabel            *error_label;

  GCancellable        *cancellable;
  KilnKey             *key;
  GFile               *file;
  gboolean             busy;
};

G_DEFINE_FINAL_TYPE (KilnExportDialog, kiln_export_dialog, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_FILE,
  PROP_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
kiln_export_dialog_update (KilnExportDialog *self)
{
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  const char *confirm = gtk_editable_get_text (GTK_EDITABLE (self->confirm_row));
  gboolean match = g_str_equal (password, confirm);
  /* Complain only once the second password is as long as the first. */
  gboolean mismatch = !match && strlen (confirm) >= strlen (password);

  if (mismatch)
    gtk_widget_add_css_class (GTK_WIDGET (self->confirm_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->confirm_row), "error");

  gtk_label_set_label (self->error_label, mismatch ? _("The passwords do not match") : NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), mismatch);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "export.export",
                                 !self->busy && self->key != NULL && self->file != NULL &&
                                 password[0] != '\0' && match);
}

static void
kiln_export_dialog_changed_cb (KilnExportDialog *self)
{
  kiln_export_dialog_update (self);
}

static void
kiln_export_dialog_set_busy (KilnExportDialog *self,
                             gboolean          busy)
{
  self->busy = busy;

  gtk_spinner_set_spinning (self->export_spinner, busy);
  gtk_stack_set_visible_child_name (self->export_stack, busy ? "spinner" : "label");
  /* Focus leaves the rows before they turn insensitive, or the entry that had it never
   * hears that it lost it. Cancel stays usable throughout. */
  if (busy)
    gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
  gtk_widget_set_sensitive (GTK_WIDGET (self->page), !busy);
  if (!busy)
    gtk_widget_grab_focus (GTK_WIDGET (self->password_row));

  kiln_export_dialog_update (self);
}

static void
kiln_export_dialog_wipe (KilnExportDialog *self)
{
  /* The rows keep their text in GTK's secure, wiped-on-free password buffer. */
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->confirm_row), "");
}

static void
kiln_export_dialog_saved_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(KilnExportDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  GtkWindow *parent;

  if (!kiln_keystore_save_finish (result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (error == NULL)
    message = g_strdup (_("Keystore file saved"));
  else
    message = g_strdup_printf (_("Could not save the keystore file: %s"), error->message);

  parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  if (KILN_IS_WINDOW (parent))
    kiln_window_show_message (KILN_WINDOW (parent), message);

  kiln_export_dialog_wipe (self);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
kiln_export_dialog_export (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *param)
{
  KilnExportDialog *self = KILN_EXPORT_DIALOG (widget);

  if (self->busy)
    return;

  kiln_export_dialog_set_busy (self, TRUE);

  /* scrypt at the standard strength: a second or two in a worker thread. */
  kiln_keystore_save_async (self->file,
                            self->key,
                            gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                            KILN_KEYSTORE_SCRYPT_N_STANDARD,
                            self->cancellable,
                            kiln_export_dialog_saved_cb,
                            g_object_ref (self));
}

static void
kiln_export_dialog_constructed (GObject *object)
{
  KilnExportDialog *self = (KilnExportDialog *)object;

  G_OBJECT_CLASS (kiln_export_dialog_parent_class)->constructed (object);

  if (self->file != NULL)
    {
      g_autofree char *path = kiln_file_chooser_display_path (self->file);

      adw_action_row_set_subtitle (self->file_row, path);
    }

  kiln_export_dialog_update (self);
}

static void
kiln_export_dialog_dispose (GObject *object)
{
  KilnExportDialog *self = (KilnExportDialog *)object;

  g_cancellable_cancel (self->cancellable);

  if (self->password_row != NULL)
    kiln_export_dialog_wipe (self);

  gtk_widget_dispose_template (GTK_WIDGET (self), KILN_TYPE_EXPORT_DIALOG);

  g_clear_object (&self->key);
  g_clear_object (&self->file);

  G_OBJECT_CLASS (kiln_export_dialog_parent_class)->dispose (object);
}

static void
kiln_export_dialog_finalize (GObject *object)
{
  KilnExportDialog *self = (KilnExportDialog *)object;

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (kiln_export_dialog_parent_class)->finalize (object);
}

static void
kiln_export_dialog_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  KilnExportDialog *self = KILN_EXPORT_DIALOG (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;

    case PROP_KEY:
      g_value_set_object (value, self->key);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_export_dialog_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  KilnExportDialog *self = KILN_EXPORT_DIALOG (object);

  switch (prop_id)
    {
    case PROP_FILE:
      self->file = g_value_dup_object (value);
      break;

    case PROP_KEY:
      self->key = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_export_dialog_class_init (KilnExportDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = kiln_export_dialog_constructed;
  object_class->dispose = kiln_export_dialog_dispose;
  object_class->finalize = kiln_export_dialog_finalize;
  object_class->get_property = kiln_export_dialog_get_property;
  object_class->set_property = kiln_export_dialog_set_property;

  properties[PROP_FILE] =
    g_param_spec_object ("file", NULL, NULL,
                         G_TYPE_FILE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_KEY] =
    g_param_spec_object ("key", NULL, NULL,
                         KILN_TYPE_KEY,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-export-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnExportDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, KilnExportDialog, export_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnExportDialog, export_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnExportDialog, page);
  gtk_widget_class_bind_template_child (widget_class, KilnExportDialog, file_row);
  gtk_widget_class_bind_template_child (widget_class, KilnExportDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, KilnExportDialog, confirm_row);
  gtk_widget_class_bind_template_child (widget_class, KilnExportDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, kiln_export_dialog_changed_cb);

  gtk_widget_class_install_action (widget_class, "export.export", NULL,
                                   kiln_export_dialog_export);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kiln_export_dialog_init (KilnExportDialog *self)
{
  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->password_row));
}

KilnExportDialog *
kiln_export_dialog_new (KilnWindow *parent,
                        KilnKey    *key,
                        GFile      *file)
{
  g_return_val_if_fail (KILN_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (KILN_IS_KEY (key), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);

  return g_object_new (KILN_TYPE_EXPORT_DIALOG,
                       "application", gtk_window_get_application (GTK_WINDOW (parent)),
                       "transient-for", parent,
                       "key", key,
                       "file", file,
                       NULL);
}
