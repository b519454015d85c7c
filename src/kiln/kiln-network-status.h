/* kiln-network-status.h: the node's connection state, in the header bar
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kiln-session.h"

G_BEGIN_DECLS

#define KILN_TYPE_NETWORK_STATUS (kiln_network_status_get_type ())

G_DECLARE_FINAL_TYPE (KilnNetworkStatus, kiln_network_status, KILN, NETWORK_STATUS, GtkButton)

KilnSession *kiln_network_status_get_session (KilnNetworkStatus *self);
void         kiln_network_status_set_session (KilnNetworkStatus *self,
                                              KilnSession       *session);

G_END_DECLS
