/* kiln-util.h: small helpers shared by the app's windows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"

G_BEGIN_DECLS

/* "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23" → "0x2c75…5c23", as wallets shorten an
 * address in running text. */
char      *kiln_abbreviate_address        (const char *address);

/* Asks, over @parent, before another account takes the place of @current. @intro says what
 * happens next; the dialog adds that @current's key stays in the keyring. Its responses are
 * "cancel" and "confirm" (labelled @confirm_label, the default). */
GtkWidget *kiln_replace_account_dialog_new (GtkWindow  *parent,
                                            const char *heading,
                                            const char *intro,
                                            KilnKey    *current,
                                            const char *confirm_label);

G_END_DECLS
