/* kiln-account-page.h: the account in use: identicon, address, key backup
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"

G_BEGIN_DECLS

#define KILN_TYPE_ACCOUNT_PAGE (kiln_account_page_get_type ())

G_DECLARE_FINAL_TYPE (KilnAccountPage, kiln_account_page, KILN, ACCOUNT_PAGE, AdwBin)

KilnKey *kiln_account_page_get_key (KilnAccountPage *self);
void     kiln_account_page_set_key (KilnAccountPage *self,
                                    KilnKey         *key);

G_END_DECLS
