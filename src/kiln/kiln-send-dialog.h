/* kiln-send-dialog.h: send GNT or ETH to an address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kiln-wallet.h"
#include "kiln-window.h"

G_BEGIN_DECLS

#define KILN_TYPE_SEND_DIALOG (kiln_send_dialog_get_type ())

G_DECLARE_FINAL_TYPE (KilnSendDialog, kiln_send_dialog, KILN, SEND_DIALOG, AdwWindow)

/* @wallet must be connected (its balances known). */
KilnSendDialog *kiln_send_dialog_new (KilnWindow *parent,
                                      KilnWallet *wallet);

G_END_DECLS
