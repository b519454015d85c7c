/* kiln-peer-row.h: one peer of the node on the Network page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"

G_BEGIN_DECLS

#define KILN_TYPE_PEER_ROW (kiln_peer_row_get_type ())

G_DECLARE_FINAL_TYPE (KilnPeerRow, kiln_peer_row, KILN, PEER_ROW, AdwActionRow)

GtkWidget      *kiln_peer_row_new         (KilnEnginePeer *peer);
KilnEnginePeer *kiln_peer_row_get_peer    (KilnPeerRow    *self);
/* Writes the times ("for 5 minutes", "last seen an hour ago") again, as time passes. */
void            kiln_peer_row_update_time (KilnPeerRow    *self);

/* "Provider", "Requestor", "Provider and requestor", …; NULL for no known role. */
char           *kiln_peer_row_describe_roles   (guint  roles);
/* "less than a minute", "5 minutes", "2 hours", "3 days": how long @usec is. */
char           *kiln_peer_row_describe_span    (gint64 usec);

G_END_DECLS
