/* kiln-wallet-page.h: balances, the receiving address and the payment history
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kiln-session.h"

G_BEGIN_DECLS

#define KILN_TYPE_WALLET_PAGE (kiln_wallet_page_get_type ())

G_DECLARE_FINAL_TYPE (KilnWalletPage, kiln_wallet_page, KILN, WALLET_PAGE, AdwBin)

KilnSession *kiln_wallet_page_get_session (KilnWalletPage *self);
void         kiln_wallet_page_set_session (KilnWalletPage *self,
                                           KilnSession    *session);

G_END_DECLS
