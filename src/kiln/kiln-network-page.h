/* kiln-network-page.h: this node on the Kiln network, and its peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kiln-session.h"

G_BEGIN_DECLS

#define KILN_TYPE_NETWORK_PAGE (kiln_network_page_get_type ())

G_DECLARE_FINAL_TYPE (KilnNetworkPage, kiln_network_page, KILN, NETWORK_PAGE, AdwBin)

KilnSession *kiln_network_page_get_session (KilnNetworkPage *self);
void         kiln_network_page_set_session (KilnNetworkPage *self,
                                            KilnSession     *session);

G_END_DECLS
