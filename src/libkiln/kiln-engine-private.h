/* kiln-engine-private.h: what the files of KilnEngine share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-engine.h"
#include "kiln-frame.h"
#include "kiln-link-listener.h"
#include "kiln-net.h"

G_BEGIN_DECLS

/* Peer table writes for a peer that is merely seen again are spaced this far apart. */
#define KILN_ENGINE_SEEN_WRITE_INTERVAL_S  60
/* The node with the higher address waits this long (plus jitter up to as much again)
 * before dialling a node it just found, so that the lower one's dial usually wins and
 * the pair opens one link rather than two. */
#define KILN_ENGINE_YIELD_DELAY_MS         750
/* Attempts at finding a port free for both TCP and UDP when asked for port 0. */
#define KILN_ENGINE_PORT_ATTEMPTS          8

struct _KilnEnginePeer
{
  GObject           parent_instance;

  KilnAddress       address;
  char              address_string[KILN_ADDRESS_STRING_SIZE];
  KilnDhtNodeInfo  *info;             /* last announced, NULL while unknown */
  GStrv             endpoints;
  KilnLink         *link;             /* the open link kept for this peer */
  gboolean          inbound;
  gint64            connected_since;
  gint64            last_seen;
  gint64            latency;
  gboolean          measured_again;   /* the link's first round trip was ignored */
  guint             failures;
  char             *remote_address;
  gulong            latency_id;

  /* The engine's dialling state. */
  KilnEngine       *engine;           /* unowned: the engine owns its peers */
  GCancellable     *dial;             /* a dial in progress */
  GSource          *redial;           /* waiting to dial (again) */
  KilnBackoff       backoff;
  gint64            table_written;    /* monotonic time of the last "seen" write */
};

typedef struct _KilnEngineHandler KilnEngineHandler;

struct _KilnEngine
{
  GObject            parent_instance;

  KilnKey           *key;
  KilnStore         *store;
  char              *data_dir;
  KilnLinkConfig    *config;
  KilnPeerTable     *peer_table;
  KilnContentStore  *content_store;
  KilnTransfer      *transfer;
  KilnDht           *dht;
  KilnLinkListener  *listener;

  guint32            network_id;
  guint              roles;
  guint              max_links;

  KilnEngineState    state;
  GCancellable      *cancellable;     /* one per run, cancelled when it stops */
  char              *listen_host;
  guint16            listen_port;
  GStrv              endpoints;
  gboolean           lan;
  gboolean           reachable;
  guint              n_dht_nodes;
  guint              n_connected;
  GSource           *ping_timer;
  GPtrArray         *stop_tasks;      /* GTask waiting for the links to close */

  GListStore        *peers;           /* KilnEnginePeer, in the order met */
  GHashTable        *peers_by_address;/* KilnAddress → KilnEnginePeer (the model's ref) */
  GPtrArray         *links;           /* every open link watched, duplicates included */
  guint              n_dialing;

  GPtrArray         *handlers;        /* KilnEngineHandler, for frames */
  GPtrArray         *message_handlers;/* KilnEngineHandler, for signed messages */
  guint              last_handler_id;
  KilnMessageGuard  *guard;           /* checks every MESSAGE frame; keeps the bans */
};

/* kiln-engine.c */
void            kiln_engine_notify            (KilnEngine        *self,
                                               guint              prop_id);
enum
{
  KILN_ENGINE_PROP_0,
  KILN_ENGINE_PROP_KEY,
  KILN_ENGINE_PROP_STORE,
  KILN_ENGINE_PROP_DATA_DIR,
  KILN_ENGINE_PROP_ADDRESS,
  KILN_ENGINE_PROP_STATE,
  KILN_ENGINE_PROP_LISTENING,
  KILN_ENGINE_PROP_LISTEN_HOST,
  KILN_ENGINE_PROP_LISTEN_PORT,
  KILN_ENGINE_PROP_ENDPOINTS,
  KILN_ENGINE_PROP_REACHABLE,
  KILN_ENGINE_PROP_LAN,
  KILN_ENGINE_PROP_N_DHT_NODES,
  KILN_ENGINE_PROP_N_CONNECTED,
  KILN_ENGINE_PROP_ROLES,
  KILN_ENGINE_PROP_MAX_LINKS,
  KILN_ENGINE_PROP_NETWORK_ID,
  KILN_ENGINE_N_PROPS
};
void            kiln_engine_emit_peer_connected    (KilnEngine     *self,
                                                    KilnEnginePeer *peer);
void            kiln_engine_emit_peer_disconnected (KilnEngine     *self,
                                                    KilnEnginePeer *peer,
                                                    const GError   *error);
void            kiln_engine_set_state         (KilnEngine        *self,
                                               KilnEngineState    state);
/* Sets the state from the links: CONNECTING or ONLINE while running. */
void            kiln_engine_update_state      (KilnEngine        *self);
gboolean        kiln_engine_is_running        (KilnEngine        *self);

/* kiln-engine-run.c */
/* A watched link went away: finishes stopping once none is left. */
void            kiln_engine_link_gone         (KilnEngine        *self);

/* kiln-engine-peer.c */
KilnEnginePeer *kiln_engine_peer_new          (const KilnAddress *address);
/* Takes a copy of @info; TRUE when the endpoints changed. */
gboolean        kiln_engine_peer_set_info     (KilnEnginePeer    *self,
                                               const KilnDhtNodeInfo *info);
void            kiln_engine_peer_set_link     (KilnEnginePeer    *self,
                                               KilnLink          *link,
                                               gboolean           inbound,
                                               gboolean           keep_since);
void            kiln_engine_peer_clear_link   (KilnEnginePeer    *self);
void            kiln_engine_peer_set_last_seen (KilnEnginePeer   *self,
                                               gint64             last_seen);
void            kiln_engine_peer_set_failures (KilnEnginePeer    *self,
                                               guint              failures);
/* "HOST:PORT", with IPv6 hosts in brackets. */
char           *kiln_engine_format_endpoint   (const char        *host,
                                               guint16            port);

/* kiln-engine-links.c */
/* Runs: a link opened, dialled by either side. */
void            kiln_engine_adopt_link        (KilnEngine        *self,
                                               KilnLink          *link,
                                               gboolean           inbound);
/* Stops watching @link (it closed, or the engine stops): its peer is disconnected
 * because of @error (taken) if this was its link. */
void            kiln_engine_forget_link       (KilnEngine        *self,
                                               KilnLink          *link,
                                               GError            *error);
KilnEnginePeer *kiln_engine_ensure_peer       (KilnEngine        *self,
                                               const KilnAddress *address);
/* Dials @peer now if it may be dialled: running, not connected, endpoints known, no dial
 * or redial pending, room under the link cap. */
void            kiln_engine_maybe_dial        (KilnEngine        *self,
                                               KilnEnginePeer    *peer);
/* Dials @peer after @delay_ms (unless something else is pending for it). */
void            kiln_engine_schedule_dial     (KilnEngine        *self,
                                               KilnEnginePeer    *peer,
                                               guint              delay_ms);
/* Dials every peer that may be. */
void            kiln_engine_fill_links        (KilnEngine        *self);
void            kiln_engine_cancel_dials      (KilnEngine        *self);

/* kiln-engine-messages.c */
void            kiln_engine_dispatch_frame    (KilnEngine        *self,
                                               KilnLink          *link,
                                               guint8             type,
                                               GBytes            *payload);
void            kiln_engine_handler_unref     (gpointer           data);
/* Makes the message guard (kiln_engine_new()) and lets it go (dispose). */
void            kiln_engine_init_messages     (KilnEngine        *self);
void            kiln_engine_dispose_messages  (KilnEngine        *self);
/* Reads the bans kept in the store into the guard, dropping the expired ones (at start). */
void            kiln_engine_load_bans         (KilnEngine        *self);
/* Whether @address is banned now; @remaining_ms (may be NULL) gets how much longer, at
 * most G_MAXUINT. */
gboolean        kiln_engine_is_banned         (KilnEngine        *self,
                                               const KilnAddress *address,
                                               guint             *remaining_ms);
/* Writes "seen" for @peer to the peer table, at most every
 * KILN_ENGINE_SEEN_WRITE_INTERVAL_S unless @force. */
void            kiln_engine_record_seen       (KilnEngine        *self,
                                               KilnEnginePeer    *peer,
                                               gboolean           force);

/* kiln-engine-discovery.c */
/* A new DHT node object for the engine's network ID, not started. */
void            kiln_engine_make_dht          (KilnEngine        *self);
/* Starts the DHT node on @port, joins, announces and watches. */
gboolean        kiln_engine_start_discovery   (KilnEngine        *self,
                                               guint16            port,
                                               const char * const *bootstrap,
                                               gboolean           lan,
                                               GError           **error);
void            kiln_engine_stop_discovery    (KilnEngine        *self);
/* Signs and puts this node's record again (new roles or endpoints). */
void            kiln_engine_announce          (KilnEngine        *self);
/* The endpoints to announce for a listener on @host (NULL: every interface) and @port. */
GStrv           kiln_engine_local_endpoints   (const char        *host,
                                               guint16            port);
/* Reads the peer table and dials what it remembers. */
void            kiln_engine_load_peer_table   (KilnEngine        *self);
void            kiln_engine_count_dht_nodes   (KilnEngine        *self);
/* Asks the DHT for @peer's node record, when it is not known yet (a node met on a link). */
void            kiln_engine_fetch_record      (KilnEngine        *self,
                                               KilnEnginePeer    *peer);

G_END_DECLS
