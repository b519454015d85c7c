/* kiln-peer-table.h: the nodes this node has met, kept in SQLite across restarts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-dht-record.h"
#include "kiln-types.h"

G_BEGIN_DECLS

typedef struct
{
  KilnAddress      address;
  KilnDhtNodeInfo *info;        /* roles, protocol version and endpoints last announced */
  gint64           first_seen;  /* Unix microseconds */
  gint64           last_seen;
  guint            failures;    /* failed connection attempts since it was last seen */
} KilnPeer;

void kiln_peer_free (KilnPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnPeer, kiln_peer_free)

#define KILN_TYPE_PEER_TABLE (kiln_peer_table_get_type ())

G_DECLARE_FINAL_TYPE (KilnPeerTable, kiln_peer_table, KILN, PEER_TABLE, GObject)

KilnPeerTable *kiln_peer_table_new          (KilnStore             *store);

/* Records that @address was seen now with @info (from its node record or a link): it becomes
 * or stays known, its last-seen time moves to now and its failure count goes back to zero. */
void           kiln_peer_table_seen_async   (KilnPeerTable         *self,
                                             const KilnAddress     *address,
                                             const KilnDhtNodeInfo *info,
                                             GCancellable          *cancellable,
                                             GAsyncReadyCallback    callback,
                                             gpointer               user_data);
gboolean       kiln_peer_table_seen_finish  (KilnPeerTable         *self,
                                             GAsyncResult          *result,
                                             GError               **error);
/* Counts one failed attempt to reach a known peer (KILN_STORE_ERROR_NOT_FOUND if unknown). */
void           kiln_peer_table_failed_async (KilnPeerTable         *self,
                                             const KilnAddress     *address,
                                             GCancellable          *cancellable,
                                             GAsyncReadyCallback    callback,
                                             gpointer               user_data);
gboolean       kiln_peer_table_failed_finish (KilnPeerTable        *self,
                                             GAsyncResult          *result,
                                             GError               **error);
/* Known peers with at most @max_failures failures, most recently seen first, at most @limit
 * of them (0: all): what a restarted node dials before the DHT has answered. */
void           kiln_peer_table_list_async   (KilnPeerTable         *self,
                                             guint                  max_failures,
                                             guint                  limit,
                                             GCancellable          *cancellable,
                                             GAsyncReadyCallback    callback,
                                             gpointer               user_data);
/* A GPtrArray of KilnPeer. */
GPtrArray     *kiln_peer_table_list_finish  (KilnPeerTable         *self,
                                             GAsyncResult          *result,
                                             GError               **error);

G_END_DECLS
