/* kiln-connect-dialog.c: connects the node to another one by its address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A typed HOST:PORT is dialled with kiln_engine_connect_async(); the handshake proves who is
 * there. The dialog stays open on failure and says why under the address, so that it can be
 * corrected; on success it closes and the window says whom the node is now connected to.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-connect-dialog.h"
#include "kiln-util.h"

struct _KilnConnectDialog
{
  AdwWindow     parent_instance;

  GtkStack     *connect_stack;
  GtkSpinner   *connect_spinner;
  AdwEntryRow  *address_row;
  GtkLabel     *error_label;

  KilnEngine   *engine;
  KilnWindow   *parent;
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (KilnConnectDialog, kiln_connect_dialog, ADW_TYPE_WINDOW)

gboolean
kiln_connect_dialog_parse_address (const char  *text,
                                   char       **out_host,
                                   guint16     *out_port,
                                   GError     **error)
{
  g_autoptr(GSocketConnectable) address = NULL;
  g_autofree char *trimmed = NULL;
  const char *host;
  guint16 port;

  g_return_val_if_fail (text != NULL, FALSE);

  trimmed = g_strstrip (g_strdup (text));
  if (trimmed[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Type an address, such as 192.168.1.20:4747"));
      return FALSE;
    }

  address = g_network_address_parse (trimmed, 0, NULL);
  host = address != NULL ? g_network_address_get_hostname (G_NETWORK_ADDRESS (address)) : NULL;
  port = address != NULL ? g_network_address_get_port (G_NETWORK_ADDRESS (address)) : 0;

  if (host == NULL || host[0] == '\0' || port == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Write the address as HOST:PORT, such as 192.168.1.20:4747"));
      return FALSE;
    }

  if (out_host != NULL)
    *out_host = g_strdup (host);
  if (out_port != NULL)
    *out_port = port;

  return TRUE;
}

/* Why @address (as typed) could not be dialled, said for people. */
static char *
describe_connect_error (const char   *address,
                        const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    /* TRANSLATORS: %s is the HOST:PORT typed */
    return g_strdup_printf (_("Nothing answers at %s. Check the address and the port, and "
                              "that the node is running."),
                            address);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_strdup_printf (_("%s did not answer in time. Check the address, and that no "
                              "firewall stands in the way."),
                            address);
  if (error->domain == G_RESOLVER_ERROR)
    return g_strdup_printf (_("Could not find %s: check the host name."), address);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
    return g_strdup_printf (_("%s cannot be reached from this computer. Check its network "
                              "connection."),
                            address);

  /* TRANSLATORS: %s is the HOST:PORT typed, then why it failed */
  return g_strdup_printf (_("Could not connect to %s: %s"), address, error->message);
}

static void
kiln_connect_dialog_set_busy (KilnConnectDialog *self,
                              gboolean           busy)
{
  gtk_spinner_set_spinning (self->connect_spinner, busy);
  gtk_stack_set_visible_child_name (self->connect_stack, busy ? "spinner" : "label");
  gtk_widget_set_sensitive (GTK_WIDGET (self->address_row), !busy);
}

static void
kiln_connect_dialog_show_error (KilnConnectDialog *self,
                                const char        *message)
{
  gtk_label_set_label (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);

  if (message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->address_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->address_row), "error");
}

static void
kiln_connect_dialog_update_action (KilnConnectDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->address_row));
  gboolean busy = self->cancellable != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "connect.connect",
                                 !busy && kiln_connect_dialog_parse_address (text, NULL, NULL,
                                                                             NULL));
}

static void
kiln_connect_dialog_changed_cb (KilnConnectDialog *self)
{
  kiln_connect_dialog_show_error (self, NULL);
  kiln_connect_dialog_update_action (self);
}

static void
kiln_connect_dialog_connected_cb (GObject      *object,
                                  GAsyncResult *result,
                                  gpointer      user_data)
{
  g_autoptr(KilnConnectDialog) self = user_data;
  g_autoptr(KilnEnginePeer) peer = NULL;
  g_autoptr(GError) error = NULL;

  peer = kiln_engine_connect_finish (KILN_ENGINE (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->cancellable);
  kiln_connect_dialog_set_busy (self, FALSE);

  if (peer == NULL)
    {
      const char *text = gtk_editable_get_text (GTK_EDITABLE (self->address_row));
      g_autofree char *message = NULL;

      g_debug ("Could not connect to %s: %s", text, error->message);
      message = describe_connect_error (text, error);
      kiln_connect_dialog_show_error (self, message);
      kiln_connect_dialog_update_action (self);
      gtk_widget_grab_focus (GTK_WIDGET (self->address_row));
      return;
    }

  if (self->parent != NULL)
    {
      g_autofree char *short_address =
        kiln_abbreviate_address (kiln_engine_peer_get_address_string (peer));
      g_autofree char *message = g_strdup_printf (_("Connected to %s"), short_address);

      kiln_window_show_message (self->parent, message);
    }

  gtk_window_close (GTK_WINDOW (self));
}

static void
kiln_connect_dialog_connect_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *param)
{
  KilnConnectDialog *self = KILN_CONNECT_DIALOG (widget);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->address_row));
  g_autofree char *host = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  if (self->cancellable != NULL)
    return;

  if (!kiln_connect_dialog_parse_address (text, &host, &port, &error))
    {
      kiln_connect_dialog_show_error (self, error->message);
      return;
    }

  kiln_connect_dialog_show_error (self, NULL);
  kiln_connect_dialog_set_busy (self, TRUE);
  self->cancellable = g_cancellable_new ();
  kiln_connect_dialog_update_action (self);

  kiln_engine_connect_async (self->engine, host, port, self->cancellable,
                             kiln_connect_dialog_connected_cb, g_object_ref (self));
}

static void
kiln_connect_dialog_dispose (GObject *object)
{
  KilnConnectDialog *self = (KilnConnectDialog *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->engine);
  g_clear_weak_pointer (&self->parent);

  G_OBJECT_CLASS (kiln_connect_dialog_parent_class)->dispose (object);
}

static void
kiln_connect_dialog_class_init (KilnConnectDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_connect_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-connect-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnConnectDialog, connect_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnConnectDialog, connect_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnConnectDialog, address_row);
  gtk_widget_class_bind_template_child (widget_class, KilnConnectDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, kiln_connect_dialog_changed_cb);

  gtk_widget_class_install_action (widget_class, "connect.connect", NULL,
                                   kiln_connect_dialog_connect_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kiln_connect_dialog_init (KilnConnectDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->address_row));
  /* A screen reader reads why the address did not work with the address. */
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->address_row),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->error_label, NULL,
                                  -1);
  kiln_connect_dialog_update_action (self);
}

KilnConnectDialog *
kiln_connect_dialog_new (KilnWindow *parent,
                         KilnEngine *engine)
{
  KilnConnectDialog *self;

  g_return_val_if_fail (KILN_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (KILN_IS_ENGINE (engine), NULL);

  self = g_object_new (KILN_TYPE_CONNECT_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->engine = g_object_ref (engine);
  g_set_weak_pointer (&self->parent, parent);

  return self;
}
