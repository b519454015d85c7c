/* kiln-dht.h: discovery over OpenDHT: node records, topics, LAN peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-dht-record.h"
#include "kiln-key.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* How often a node record is signed afresh and put again; OpenDHT drops values it was not
 * given again within 10 minutes. */
#define KILN_DHT_REPUBLISH_SECONDS (4 * 60)

#define KILN_TYPE_DHT (kiln_dht_get_type ())

G_DECLARE_FINAL_TYPE (KilnDht, kiln_dht, KILN, DHT, GObject)

/* Called on the main context kiln_dht_start() was called in, never after the listen was
 * cancelled or the KilnDht stopped. @value is a raw DHT value: check it before trusting it. */
typedef void (*KilnDhtValueFunc)  (KilnDht       *dht,
                                   GBytes        *value,
                                   gboolean       expired,
                                   gpointer       user_data);
/* The same for verified topic records. */
typedef void (*KilnDhtRecordFunc) (KilnDht             *dht,
                                   const KilnDhtRecord *record,
                                   gpointer             user_data);

KilnDht  *kiln_dht_new                 (guint32              network_id);

guint32   kiln_dht_get_network_id      (KilnDht             *self);

/* Starts the DHT node on UDP @port (0: any free port) of every local address; OpenDHT cannot
 * bind to one address. Its callbacks are delivered on the thread-default main context of the
 * caller. @bootstrap lists "HOST:PORT" strings; @lan turns on OpenDHT's multicast peer
 * discovery (announcing this node and finding others on the local network). */
gboolean  kiln_dht_start               (KilnDht             *self,
                                        guint16              port,
                                        const char * const  *bootstrap,
                                        gboolean             lan,
                                        GError             **error);
gboolean  kiln_dht_is_running          (KilnDht             *self);
/* The UDP port, once started. */
guint16   kiln_dht_get_port            (KilnDht             *self);
/* Adds a known node ("HOST:PORT", IPv6 in brackets) to ask for the rest of the network. */
gboolean  kiln_dht_bootstrap           (KilnDht             *self,
                                        const char          *host_and_port,
                                        GError             **error);
/* Cancels every listen and pending operation (their callbacks report G_IO_ERROR_CANCELLED)
 * and joins OpenDHT's threads. Also done by dispose. */
void      kiln_dht_stop                (KilnDht             *self);

/* Raw values. */
void      kiln_dht_put_async           (KilnDht             *self,
                                        const guint8         key[KILN_DHT_KEY_SIZE],
                                        GBytes              *value,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean  kiln_dht_put_finish          (KilnDht             *self,
                                        GAsyncResult        *result,
                                        GError             **error);
/* Every value found under @key, as GBytes. */
void      kiln_dht_get_async           (KilnDht             *self,
                                        const guint8         key[KILN_DHT_KEY_SIZE],
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GPtrArray *kiln_dht_get_finish         (KilnDht             *self,
                                        GAsyncResult        *result,
                                        GError             **error);
/* Calls @func for values already under @key and for every value put there later, until
 * @cancellable is cancelled, kiln_dht_unlisten() is called with the returned ID, or the DHT
 * stops; then @destroy frees @user_data. Returns 0 when the DHT is not running. */
guint     kiln_dht_listen              (KilnDht             *self,
                                        const guint8         key[KILN_DHT_KEY_SIZE],
                                        GCancellable        *cancellable,
                                        KilnDhtValueFunc     func,
                                        gpointer             user_data,
                                        GDestroyNotify       destroy);
void      kiln_dht_unlisten            (KilnDht             *self,
                                        guint                listen_id);

/* Topics: signed records anyone may publish under a named key. */
void      kiln_dht_publish_async       (KilnDht             *self,
                                        KilnKey             *key,
                                        const char          *topic,
                                        GBytes              *payload,
                                        guint                lifetime,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean  kiln_dht_publish_finish      (KilnDht             *self,
                                        GAsyncResult        *result,
                                        GError             **error);
/* Like kiln_dht_listen() but delivers only records of @topic on this network that verify;
 * the others are dropped, logged (debug) and counted
 * (kiln_dht_get_rejected_records()). */
guint     kiln_dht_subscribe           (KilnDht             *self,
                                        const char          *topic,
                                        GCancellable        *cancellable,
                                        KilnDhtRecordFunc    func,
                                        gpointer             user_data,
                                        GDestroyNotify       destroy);

/* Nodes. Publishes this node's record (signed by @key) under the key of each of its roles and
 * keeps it fresh every KILN_DHT_REPUBLISH_SECONDS until the DHT stops. A later call replaces
 * the record. */
gboolean  kiln_dht_announce            (KilnDht             *self,
                                        KilnKey             *key,
                                        const KilnDhtNodeInfo *info,
                                        GError             **error);
/* Listens to every bucket of the given roles. Each node record that verifies and sits in the
 * right shard emits KilnDht::node-found (again when a newer record of that node arrives). */
void      kiln_dht_watch_nodes         (KilnDht             *self,
                                        guint                roles);
/* The nodes found so far whose records have not expired: KilnDhtRecord of kind node. */
GPtrArray *kiln_dht_list_nodes         (KilnDht             *self);
/* Records dropped because they did not verify or were in the wrong place. */
guint     kiln_dht_get_rejected_records (KilnDht            *self);

G_END_DECLS
