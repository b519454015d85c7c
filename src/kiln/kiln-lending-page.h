/* kiln-lending-page.h: lending this computer: the switch, why work runs or waits, limits,
 * schedule and earnings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"
#include "kiln-lender.h"

G_BEGIN_DECLS

#define KILN_TYPE_LENDING_PAGE (kiln_lending_page_get_type ())

G_DECLARE_FINAL_TYPE (KilnLendingPage, kiln_lending_page, KILN, LENDING_PAGE, AdwBin)

/* Edits the lending keys of @settings, shows what @lender does (or why it waits), the
 * progress of the subtask it works on (or of a render its provider watches) and what its
 * node earned. Call once, before the page is shown. */
void kiln_lending_page_setup (KilnLendingPage *self,
                              GSettings       *settings,
                              KilnLender      *lender);

G_END_DECLS
