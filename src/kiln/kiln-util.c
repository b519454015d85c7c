/* kiln-util.c: small helpers shared by the app's windows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-util.h"

char *
kiln_abbreviate_address (const char *address)
{
  gsize len;

  g_return_val_if_fail (address != NULL, NULL);

  len = strlen (address);
  if (len <= 12)
    return g_strdup (address);

  /* "0x" and four digits, an ellipsis, the last four digits. */
  return g_strdup_printf ("%.6s…%s", address, address + len - 4);
}

GtkWidget *
kiln_replace_account_dialog_new (GtkWindow  *parent,
                                 const char *heading,
                                 const char *intro,
                                 KilnKey    *current,
                                 const char *confirm_label)
{
  g_autofree char *address = NULL;
  g_autofree char *stays = NULL;
  AdwMessageDialog *dialog;

  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (KILN_IS_KEY (current), NULL);

  address = kiln_abbreviate_address (kiln_key_get_address_string (current));
  stays = g_strdup_printf (_("The key of the current account, %s, stays in your keyring."),
                           address);

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (parent, heading, NULL));
  adw_message_dialog_format_body (dialog, "%s %s", intro, stays);
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "confirm", confirm_label,
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "confirm", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "confirm");
  adw_message_dialog_set_close_response (dialog, "cancel");
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);

  return GTK_WIDGET (dialog);
}
