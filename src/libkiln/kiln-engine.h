/* kiln-engine.h: one node: its links, discovery, peers and files, wired together
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A KilnEngine owns everything a running node needs on the network: the link listener and
 * the links (net/kiln-link.h), the DHT node (net/kiln-dht.h), the peer table
 * (net/kiln-peer-table.h), the content store and file transfers (net/kiln-transfer.h). The
 * desktop app and kiln-node make one each and talk to it only through this header.
 *
 * Once started, an engine listens for links, runs its DHT node on the UDP port with the same
 * number as its TCP port, announces this node's signed record (with its roles and
 * endpoints), watches the records of other nodes, and keeps links open to the nodes it
 * finds, and to the ones remembered in the peer table, which it dials first. A lost link is
 * dialled again with exponential backoff. Two nodes that dial each other at the same time
 * keep one link: the one opened by the node with the lower address. docs/architecture.md
 * ("The node engine") shows how the parts are wired; docs/protocol.md ("Keeping links") says
 * what a node does on the network.
 *
 * Use an engine from one thread: everything runs on the thread-default main context of the
 * thread that starts it, and callbacks and signals are emitted there.
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-content-store.h"
#include "kiln-dht.h"
#include "kiln-key.h"
#include "kiln-link-config.h"
#include "kiln-link.h"
#include "kiln-message-guard.h"
#include "kiln-peer-table.h"
#include "kiln-store.h"
#include "kiln-transfer.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* Kiln's network: the DHT's network ID. Nodes of other networks ignore each other. */
#define KILN_ENGINE_NETWORK_ID          KILN_DHT_NETWORK_DEFAULT
/* The TCP port for links and, with the same number, the UDP port for discovery. */
#define KILN_ENGINE_DEFAULT_PORT        4747
/* Open or handshaking links at most, both directions together (the "max-links" default). */
#define KILN_ENGINE_MAX_LINKS           32
/* The content store: DATA_DIR/KILN_ENGINE_CONTENT_DIR, with this quota by default. */
#define KILN_ENGINE_CONTENT_DIR         "content"
#define KILN_ENGINE_CONTENT_QUOTA       (G_GUINT64_CONSTANT (10) << 30)
/* Redialling a lost or unreachable peer: delays from 1 s doubling up to 5 minutes. */
#define KILN_ENGINE_REDIAL_INITIAL_MS   1000
#define KILN_ENGINE_REDIAL_MAX_MS       (5 * 60 * 1000)
/* Peers the peer table remembers with more failed attempts than this are not dialled. */
#define KILN_ENGINE_MAX_FAILURES        20
/* Every open link is pinged this often to keep "latency" current. */
#define KILN_ENGINE_PING_INTERVAL_S     30

typedef enum
{
  KILN_ENGINE_STATE_STOPPED,     /* not started, or stopped */
  KILN_ENGINE_STATE_CONNECTING,  /* listening and discovering, no link open yet */
  KILN_ENGINE_STATE_ONLINE,      /* at least one link open */
  KILN_ENGINE_STATE_STOPPING,    /* saying goodbye to its peers */
} KilnEngineState;

#define KILN_TYPE_ENGINE_STATE (kiln_engine_state_get_type ())
GType kiln_engine_state_get_type (void) G_GNUC_CONST;

/* Peers
 *
 * One node this engine knows: found in the DHT, remembered in the peer table, or met on a
 * link. Every property is read-only and notifies on change, on the engine's main context.
 *
 * Properties: "address" (KilnAddress), "address-string" (EIP-55), "endpoints" (GStrv of
 * "HOST:PORT", IPv6 hosts in brackets, as the node announced them), "roles" (KilnDhtRole
 * flags it announced, 0 if unknown), "connected", "inbound" (the open link was dialled by
 * the peer), "connected-since" and "last-seen" (Unix microseconds, 0 for never),
 * "latency" (round trip of the last keep-alive ping in microseconds, -1 while unknown),
 * "failures" (failed dials since it was last reached), "remote-address" (the open link's
 * "HOST:PORT", NULL when not connected). */
#define KILN_TYPE_ENGINE_PEER (kiln_engine_peer_get_type ())

G_DECLARE_FINAL_TYPE (KilnEnginePeer, kiln_engine_peer, KILN, ENGINE_PEER, GObject)

const KilnAddress  *kiln_engine_peer_get_address          (KilnEnginePeer *self);
const char         *kiln_engine_peer_get_address_string   (KilnEnginePeer *self);
const char * const *kiln_engine_peer_get_endpoints        (KilnEnginePeer *self);
guint               kiln_engine_peer_get_roles            (KilnEnginePeer *self);
gboolean            kiln_engine_peer_get_connected        (KilnEnginePeer *self);
gboolean            kiln_engine_peer_get_inbound          (KilnEnginePeer *self);
gint64              kiln_engine_peer_get_connected_since  (KilnEnginePeer *self);
gint64              kiln_engine_peer_get_last_seen        (KilnEnginePeer *self);
gint64              kiln_engine_peer_get_latency          (KilnEnginePeer *self);
guint               kiln_engine_peer_get_failures         (KilnEnginePeer *self);
const char         *kiln_engine_peer_get_remote_address   (KilnEnginePeer *self);
/* The open link to the peer (for kiln_transfer_fetch_async() and the like), or NULL. */
KilnLink           *kiln_engine_peer_get_link             (KilnEnginePeer *self);

/* The engine
 *
 * Properties: "key", "store", "data-dir" (construct-only), "address" (EIP-55 string),
 * "state" (KilnEngineState), "listening", "listen-host" (as given to start, NULL for every
 * interface), "listen-port", "endpoints" (GStrv: what the node record announces),
 * "reachable" (another node has opened a link to this one since it started: its endpoints
 * work from outside), "lan", "n-dht-nodes" (node records found in the DHT and still
 * valid, this node's own excepted), "n-connected" (peers with an open link), "roles"
 * (KilnDhtRole flags, default KILN_DHT_ROLE_REQUESTOR), "max-links" (default
 * KILN_ENGINE_MAX_LINKS), "network-id" (default KILN_ENGINE_NETWORK_ID).
 *
 * Signals:
 *   ::peer-connected (KilnEnginePeer *peer): a link to @peer opened.
 *   ::peer-disconnected (KilnEnginePeer *peer, GError *error): @peer's link closed, and
 *     why; a duplicate link closed in favour of another does not count. */
#define KILN_TYPE_ENGINE (kiln_engine_get_type ())

G_DECLARE_FINAL_TYPE (KilnEngine, kiln_engine, KILN, ENGINE, GObject)

/* Opens the content store in @data_dir/KILN_ENGINE_CONTENT_DIR (made if missing) and
 * prepares everything else; nothing touches the network before kiln_engine_start().
 * @key is the node's identity (its address is the node ID); @store holds the peer table
 * and stays open as long as the engine; closing it is the caller's business. */
KilnEngine        *kiln_engine_new                  (KilnKey              *key,
                                                     KilnStore            *store,
                                                     const char           *data_dir,
                                                     GError              **error);

KilnKey           *kiln_engine_get_key              (KilnEngine           *self);
KilnStore         *kiln_engine_get_store            (KilnEngine           *self);
const char        *kiln_engine_get_data_dir         (KilnEngine           *self);
const KilnAddress *kiln_engine_get_address          (KilnEngine           *self);
const char        *kiln_engine_get_address_string   (KilnEngine           *self);

/* Settings. The network ID can only change while stopped; new roles are announced at
 * once when running; a lower link cap closes no link, it only stops new ones. */
guint32            kiln_engine_get_network_id       (KilnEngine           *self);
void               kiln_engine_set_network_id       (KilnEngine           *self,
                                                     guint32               network_id);
guint              kiln_engine_get_roles            (KilnEngine           *self);
void               kiln_engine_set_roles            (KilnEngine           *self,
                                                     guint                 roles);
guint              kiln_engine_get_max_links        (KilnEngine           *self);
void               kiln_engine_set_max_links        (KilnEngine           *self,
                                                     guint                 max_links);

/* Starts the node: listens for links on @listen_host (an IPv4 or IPv6 literal; NULL, "",
 * "*" or "::" for every interface of both families) and TCP @listen_port, runs the DHT
 * node on the UDP port of the same number (with @listen_port 0, a port free for both is
 * picked), joins the network through @bootstrap ("HOST:PORT" strings, may be NULL) and the
 * peer table, turns on LAN discovery (multicast) when @lan, announces this node and dials
 * the peers it learns of. Fails, leaving the engine stopped, when the port cannot be bound
 * or a bootstrap address is not HOST:PORT. The engine must be stopped. */
gboolean           kiln_engine_start                (KilnEngine           *self,
                                                     const char           *listen_host,
                                                     guint16               listen_port,
                                                     const char * const   *bootstrap,
                                                     gboolean              lan,
                                                     GError              **error);
/* Stops the node cleanly: stops dialling and listening, closes every link with a CLOSE
 * (waiting, at most the links' handshake timeout, for the peers to answer) and stops the
 * DHT node. Completes once all of that is done; the engine may then be started again.
 * Stopping a stopped engine completes at once. */
void               kiln_engine_stop_async           (KilnEngine           *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean           kiln_engine_stop_finish          (KilnEngine           *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
/* Stops at once: CLOSE frames are sent but not waited for. Also done by dispose. */
void               kiln_engine_stop                 (KilnEngine           *self);

KilnEngineState    kiln_engine_get_state            (KilnEngine           *self);
gboolean           kiln_engine_get_listening        (KilnEngine           *self);
const char        *kiln_engine_get_listen_host      (KilnEngine           *self);
guint16            kiln_engine_get_listen_port      (KilnEngine           *self);
const char * const *kiln_engine_get_endpoints       (KilnEngine           *self);
gboolean           kiln_engine_get_reachable        (KilnEngine           *self);
gboolean           kiln_engine_get_lan              (KilnEngine           *self);
guint              kiln_engine_get_n_dht_nodes      (KilnEngine           *self);
guint              kiln_engine_get_n_connected      (KilnEngine           *self);

/* Every peer known, as a GListModel of KilnEnginePeer, in the order they were met. Peers
 * stay in it when their link closes (and across a stop and start); they are never this
 * node itself. */
GListModel        *kiln_engine_get_peers            (KilnEngine           *self);
KilnEnginePeer    *kiln_engine_lookup_peer          (KilnEngine           *self,
                                                     const KilnAddress    *address);

/* Dials @host:@port without knowing who is there, e.g. an address typed by a person, and
 * gives the peer once the link is open (its identity proven by the handshake). The engine
 * must be running. */
void               kiln_engine_connect_async        (KilnEngine           *self,
                                                     const char           *host,
                                                     guint16               port,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
KilnEnginePeer    *kiln_engine_connect_finish       (KilnEngine           *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* Messages
 *
 * Message frames (type KILN_FRAME_FIRST_MESSAGE or above) that arrive on any link go to
 * the handlers added for their type, in the order they were added. File transfer's types
 * (0x20–0x2f) are answered by the engine's KilnTransfer and are not offered here. A frame
 * of a type nobody handles is dropped (and logged at debug level): later protocol minor
 * versions may add types. */
typedef void (*KilnEngineFrameFunc) (KilnEngine     *engine,
                                     KilnEnginePeer *peer,
                                     guint8          type,
                                     GBytes         *payload,
                                     gpointer        user_data);

/* Returns an ID for kiln_engine_remove_frame_handler(); @destroy frees @user_data when the
 * handler is removed or the engine finalized. */
guint              kiln_engine_add_frame_handler    (KilnEngine           *self,
                                                     guint8                type,
                                                     KilnEngineFrameFunc   func,
                                                     gpointer              user_data,
                                                     GDestroyNotify        destroy);
void               kiln_engine_remove_frame_handler (KilnEngine           *self,
                                                     guint                 handler_id);

/* Sends a message frame to @peer's open link (G_IO_ERROR_NOT_CONNECTED without one), with
 * the back-pressure of kiln_link_send_async(). */
void               kiln_engine_send_async           (KilnEngine           *self,
                                                     const KilnAddress    *peer,
                                                     guint8                type,
                                                     GBytes               *payload,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean           kiln_engine_send_finish          (KilnEngine           *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* Signed messages
 *
 * Messages (net/kiln-message.h) travel in KILN_FRAME_MESSAGE frames. Every such frame that
 * arrives on a link is checked by the engine's KilnMessageGuard (format, signature, author
 * = the link's peer, recipient, replay, clock skew, rate limits, bans) before it reaches
 * the handlers added for its message type, in the order they were added; refused ones are
 * logged with their reason, count against the peer and may close its link or ban it. Bans
 * are kept in the store and survive a restart. KILN_FRAME_MESSAGE is not offered to frame
 * handlers. */
typedef void (*KilnEngineMessageFunc) (KilnEngine     *engine,
                                       KilnEnginePeer *peer,
                                       KilnMessage    *message,
                                       gpointer        user_data);

guint              kiln_engine_add_message_handler    (KilnEngine            *self,
                                                       KilnMessageType        type,
                                                       KilnEngineMessageFunc  func,
                                                       gpointer               user_data,
                                                       GDestroyNotify         destroy);
void               kiln_engine_remove_message_handler (KilnEngine            *self,
                                                       guint                  handler_id);
/* Signs @body as a message of @type from this node to @peer (its open link, else
 * G_IO_ERROR_NOT_CONNECTED) and sends it. Gives the signed message: its ID names it in
 * later messages and its encoded bytes are the evidence to keep. */
void               kiln_engine_send_message_async     (KilnEngine            *self,
                                                       const KilnAddress     *peer,
                                                       KilnMessageType        type,
                                                       GBytes                *body,
                                                       GCancellable          *cancellable,
                                                       GAsyncReadyCallback    callback,
                                                       gpointer               user_data);
KilnMessage       *kiln_engine_send_message_finish    (KilnEngine            *self,
                                                       GAsyncResult          *result,
                                                       GError               **error);
/* Sends a message of a type that allows broadcast (no recipient) to every connected peer;
 * completes when each was written or failed (peers that fail are skipped). */
void               kiln_engine_broadcast_message_async  (KilnEngine          *self,
                                                         KilnMessageType      type,
                                                         GBytes              *body,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
KilnMessage       *kiln_engine_broadcast_message_finish (KilnEngine          *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
KilnMessageGuard  *kiln_engine_get_message_guard      (KilnEngine            *self);

/* The parts, for the layers above (market topics, file fetches). Owned by the engine. The
 * DHT runs only while the engine does; it is replaced when the network ID changes. */
KilnLinkConfig    *kiln_engine_get_link_config      (KilnEngine           *self);
KilnDht           *kiln_engine_get_dht              (KilnEngine           *self);
KilnPeerTable     *kiln_engine_get_peer_table       (KilnEngine           *self);
KilnContentStore  *kiln_engine_get_content_store    (KilnEngine           *self);
KilnTransfer      *kiln_engine_get_transfer         (KilnEngine           *self);

G_END_DECLS
