/* kiln-engine.c: one node: its links, discovery, peers and files, wired together
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * This file holds the object and its settings. Starting and stopping are in
 * kiln-engine-run.c; links and dialling in kiln-engine-links.c; frame and signed message
 * dispatch and bans in kiln-engine-messages.c; the DHT, the announced endpoints and the peer
 * table in kiln-engine-discovery.c; the peers themselves in kiln-engine-peer.c.
 */
#include "config.h"

#include <string.h>

#include "kiln-engine-private.h"

enum {
  PEER_CONNECTED,
  PEER_DISCONNECTED,
  N_SIGNALS
};

static GParamSpec *properties[KILN_ENGINE_N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_ENUM_TYPE (KilnEngineState, kiln_engine_state,
                    G_DEFINE_ENUM_VALUE (KILN_ENGINE_STATE_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (KILN_ENGINE_STATE_CONNECTING, "connecting"),
                    G_DEFINE_ENUM_VALUE (KILN_ENGINE_STATE_ONLINE, "online"),
                    G_DEFINE_ENUM_VALUE (KILN_ENGINE_STATE_STOPPING, "stopping"))

G_DEFINE_FINAL_TYPE (KilnEngine, kiln_engine, G_TYPE_OBJECT)

static guint
address_hash (gconstpointer key)
{
  const KilnAddress *address = key;
  guint hash;

  memcpy (&hash, address->bytes, sizeof hash);
  return hash;
}

static gboolean
address_equal (gconstpointer a,
               gconstpointer b)
{
  return kiln_address_equal (a, b);
}

void
kiln_engine_notify (KilnEngine *self,
                    guint       prop_id)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

void
kiln_engine_emit_peer_connected (KilnEngine     *self,
                                 KilnEnginePeer *peer)
{
  g_signal_emit (self, signals[PEER_CONNECTED], 0, peer);
}

void
kiln_engine_emit_peer_disconnected (KilnEngine     *self,
                                    KilnEnginePeer *peer,
                                    const GError   *error)
{
  g_signal_emit (self, signals[PEER_DISCONNECTED], 0, peer, error);
}

gboolean
kiln_engine_is_running (KilnEngine *self)
{
  return self->state == KILN_ENGINE_STATE_CONNECTING || self->state == KILN_ENGINE_STATE_ONLINE;
}

void
kiln_engine_set_state (KilnEngine      *self,
                       KilnEngineState  state)
{
  const char *name;
  gboolean was_running;

  if (self->state == state)
    return;

  name = g_enum_get_value (g_type_class_peek (KILN_TYPE_ENGINE_STATE), state)->value_nick;

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                    "KILN_ENGINE_STATE", name,
                    "MESSAGE", "Engine state: %s", name);
  was_running = kiln_engine_is_running (self);
  self->state = state;
  kiln_engine_notify (self, KILN_ENGINE_PROP_STATE);
  if (was_running != kiln_engine_is_running (self))
    kiln_engine_notify (self, KILN_ENGINE_PROP_LISTENING);
}

void
kiln_engine_update_state (KilnEngine *self)
{
  if (!kiln_engine_is_running (self))
    return;

  kiln_engine_set_state (self, self->n_connected > 0 ? KILN_ENGINE_STATE_ONLINE
                                         : KILN_ENGINE_STATE_CONNECTING);
}

/* GObject */

static void
kiln_engine_dispose (GObject *object)
{
  KilnEngine *self = KILN_ENGINE (object);

  kiln_engine_stop (self);
  if (self->peers_by_address != NULL)
    g_hash_table_remove_all (self->peers_by_address);
  if (self->peers != NULL)
    g_list_store_remove_all (self->peers);
  if (self->handlers != NULL)
    g_ptr_array_set_size (self->handlers, 0);
  kiln_engine_dispose_messages (self);
  g_clear_object (&self->transfer);
  g_clear_object (&self->content_store);
  if (self->dht != NULL)
    g_signal_handlers_disconnect_by_data (self->dht, self);
  g_clear_object (&self->dht);
  g_clear_object (&self->peer_table);
  g_clear_object (&self->config);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kiln_engine_parent_class)->dispose (object);
}

static void
kiln_engine_finalize (GObject *object)
{
  KilnEngine *self = KILN_ENGINE (object);

  g_assert (self->stop_tasks->len == 0);
  g_assert (self->links->len == 0);

  g_clear_object (&self->key);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->data_dir, g_free);
  g_clear_pointer (&self->listen_host, g_free);
  g_clear_pointer (&self->endpoints, g_strfreev);
  g_clear_pointer (&self->stop_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->links, g_ptr_array_unref);
  g_clear_pointer (&self->handlers, g_ptr_array_unref);
  g_clear_pointer (&self->message_handlers, g_ptr_array_unref);
  g_clear_pointer (&self->peers_by_address, g_hash_table_unref);
  g_clear_object (&self->peers);

  G_OBJECT_CLASS (kiln_engine_parent_class)->finalize (object);
}

static void
kiln_engine_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  KilnEngine *self = KILN_ENGINE (object);

  switch (prop_id)
    {
    case KILN_ENGINE_PROP_KEY:
      g_value_set_object (value, self->key);
      break;
    case KILN_ENGINE_PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    case KILN_ENGINE_PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;
    case KILN_ENGINE_PROP_ADDRESS:
      g_value_set_string (value, kiln_engine_get_address_string (self));
      break;
    case KILN_ENGINE_PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case KILN_ENGINE_PROP_LISTENING:
      g_value_set_boolean (value, kiln_engine_get_listening (self));
      break;
    case KILN_ENGINE_PROP_LISTEN_HOST:
      g_value_set_string (value, self->listen_host);
      break;
    case KILN_ENGINE_PROP_LISTEN_PORT:
      g_value_set_uint (value, self->listen_port);
      break;
    case KILN_ENGINE_PROP_ENDPOINTS:
      g_value_set_boxed (value, self->endpoints);
      break;
    case KILN_ENGINE_PROP_REACHABLE:
      g_value_set_boolean (value, self->reachable);
      break;
    case KILN_ENGINE_PROP_LAN:
      g_value_set_boolean (value, self->lan);
      break;
    case KILN_ENGINE_PROP_N_DHT_NODES:
      g_value_set_uint (value, self->n_dht_nodes);
      break;
    case KILN_ENGINE_PROP_N_CONNECTED:
      g_value_set_uint (value, self->n_connected);
      break;
    case KILN_ENGINE_PROP_ROLES:
      g_value_set_uint (value, self->roles);
      break;
    case KILN_ENGINE_PROP_MAX_LINKS:
      g_value_set_uint (value, self->max_links);
      break;
    case KILN_ENGINE_PROP_NETWORK_ID:
      g_value_set_uint (value, self->network_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_engine_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  KilnEngine *self = KILN_ENGINE (object);

  switch (prop_id)
    {
    case KILN_ENGINE_PROP_KEY:
      self->key = g_value_dup_object (value);
      break;
    case KILN_ENGINE_PROP_STORE:
      self->store = g_value_dup_object (value);
      break;
    case KILN_ENGINE_PROP_DATA_DIR:
      self->data_dir = g_value_dup_string (value);
      break;
    case KILN_ENGINE_PROP_ROLES:
      kiln_engine_set_roles (self, g_value_get_uint (value));
      break;
    case KILN_ENGINE_PROP_MAX_LINKS:
      kiln_engine_set_max_links (self, g_value_get_uint (value));
      break;
    case KILN_ENGINE_PROP_NETWORK_ID:
      kiln_engine_set_network_id (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_engine_class_init (KilnEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags co = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = kiln_engine_dispose;
  object_class->finalize = kiln_engine_finalize;
  object_class->get_property = kiln_engine_get_property;
  object_class->set_property = kiln_engine_set_property;

  properties[KILN_ENGINE_PROP_KEY] =
    g_param_spec_object ("key", NULL, NULL, KILN_TYPE_KEY, co);
  properties[KILN_ENGINE_PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL, KILN_TYPE_STORE, co);
  properties[KILN_ENGINE_PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL, NULL, co);
  properties[KILN_ENGINE_PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL, NULL, ro);
  properties[KILN_ENGINE_PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KILN_TYPE_ENGINE_STATE,
                       KILN_ENGINE_STATE_STOPPED, ro);
  properties[KILN_ENGINE_PROP_LISTENING] =
    g_param_spec_boolean ("listening", NULL, NULL, FALSE, ro);
  properties[KILN_ENGINE_PROP_LISTEN_HOST] =
    g_param_spec_string ("listen-host", NULL, NULL, NULL, ro);
  properties[KILN_ENGINE_PROP_LISTEN_PORT] =
    g_param_spec_uint ("listen-port", NULL, NULL, 0, G_MAXUINT16, 0, ro);
  properties[KILN_ENGINE_PROP_ENDPOINTS] =
    g_param_spec_boxed ("endpoints", NULL, NULL, G_TYPE_STRV, ro);
  properties[KILN_ENGINE_PROP_REACHABLE] =
    g_param_spec_boolean ("reachable", NULL, NULL, FALSE, ro);
  properties[KILN_ENGINE_PROP_LAN] =
    g_param_spec_boolean ("lan", NULL, NULL, FALSE, ro);
  properties[KILN_ENGINE_PROP_N_DHT_NODES] =
    g_param_spec_uint ("n-dht-nodes", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[KILN_ENGINE_PROP_N_CONNECTED] =
    g_param_spec_uint ("n-connected", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[KILN_ENGINE_PROP_ROLES] =
    g_param_spec_uint ("roles", NULL, NULL, 0, KILN_DHT_ROLE_ALL, KILN_DHT_ROLE_REQUESTOR, rw);
  properties[KILN_ENGINE_PROP_MAX_LINKS] =
    g_param_spec_uint ("max-links", NULL, NULL, 1, G_MAXUINT, KILN_ENGINE_MAX_LINKS, rw);
  properties[KILN_ENGINE_PROP_NETWORK_ID] =
    g_param_spec_uint ("network-id", NULL, NULL, 0, G_MAXUINT32, KILN_ENGINE_NETWORK_ID, rw);

  g_object_class_install_properties (object_class, KILN_ENGINE_N_PROPS, properties);

  signals[PEER_CONNECTED] =
    g_signal_new ("peer-connected",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, KILN_TYPE_ENGINE_PEER);
  signals[PEER_DISCONNECTED] =
    g_signal_new ("peer-disconnected",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, KILN_TYPE_ENGINE_PEER,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
kiln_engine_init (KilnEngine *self)
{
  self->network_id = KILN_ENGINE_NETWORK_ID;
  self->roles = KILN_DHT_ROLE_REQUESTOR;
  self->max_links = KILN_ENGINE_MAX_LINKS;
  self->state = KILN_ENGINE_STATE_STOPPED;
  self->peers = g_list_store_new (KILN_TYPE_ENGINE_PEER);
  self->peers_by_address = g_hash_table_new (address_hash, address_equal);
  self->links = g_ptr_array_new_with_free_func (g_object_unref);
  self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->handlers = g_ptr_array_new_with_free_func (kiln_engine_handler_unref);
  self->message_handlers = g_ptr_array_new_with_free_func (kiln_engine_handler_unref);
}

KilnEngine *
kiln_engine_new (KilnKey     *key,
                 KilnStore   *store,
                 const char  *data_dir,
                 GError     **error)
{
  g_autoptr(KilnEngine) self = NULL;
  g_autofree char *content_dir = NULL;

  g_return_val_if_fail (KILN_IS_KEY (key), NULL);
  g_return_val_if_fail (KILN_IS_STORE (store), NULL);
  g_return_val_if_fail (data_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (KILN_TYPE_ENGINE,
                       "key", key,
                       "store", store,
                       "data-dir", data_dir,
                       NULL);

  self->config = kiln_link_config_new (key, error);
  if (self->config == NULL)
    return NULL;

  content_dir = g_build_filename (data_dir, KILN_ENGINE_CONTENT_DIR, NULL);
  self->content_store = kiln_content_store_new (content_dir, KILN_ENGINE_CONTENT_QUOTA, error);
  if (self->content_store == NULL)
    return NULL;

  self->transfer = kiln_transfer_new (self->content_store);
  kiln_engine_init_messages (self);
  self->peer_table = kiln_peer_table_new (store);
  kiln_engine_make_dht (self);

  return g_steal_pointer (&self);
}

/* Accessors */

KilnKey *
kiln_engine_get_key (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->key;
}

KilnStore *
kiln_engine_get_store (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->store;
}

const char *
kiln_engine_get_data_dir (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->data_dir;
}

const KilnAddress *
kiln_engine_get_address (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return kiln_key_get_address (self->key);
}

const char *
kiln_engine_get_address_string (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return kiln_key_get_address_string (self->key);
}

guint32
kiln_engine_get_network_id (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), 0);

  return self->network_id;
}

void
kiln_engine_set_network_id (KilnEngine *self,
                            guint32     network_id)
{
  g_return_if_fail (KILN_IS_ENGINE (self));
  g_return_if_fail (self->state == KILN_ENGINE_STATE_STOPPED);

  if (self->network_id == network_id)
    return;

  self->network_id = network_id;
  if (self->dht != NULL)
    kiln_engine_make_dht (self);
  kiln_engine_notify (self, KILN_ENGINE_PROP_NETWORK_ID);
}

guint
kiln_engine_get_roles (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), 0);

  return self->roles;
}

void
kiln_engine_set_roles (KilnEngine *self,
                       guint       roles)
{
  g_return_if_fail (KILN_IS_ENGINE (self));
  g_return_if_fail (roles != 0 && (roles & ~KILN_DHT_ROLE_ALL) == 0);

  if (self->roles == roles)
    return;

  self->roles = roles;
  if (kiln_engine_is_running (self))
    kiln_engine_announce (self);
  kiln_engine_notify (self, KILN_ENGINE_PROP_ROLES);
}

guint
kiln_engine_get_max_links (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), 0);

  return self->max_links;
}

void
kiln_engine_set_max_links (KilnEngine *self,
                           guint       max_links)
{
  g_return_if_fail (KILN_IS_ENGINE (self));
  g_return_if_fail (max_links > 0);

  if (self->max_links == max_links)
    return;

  self->max_links = max_links;
  if (self->listener != NULL)
    kiln_link_listener_set_max_links (self->listener, max_links);
  if (kiln_engine_is_running (self))
    kiln_engine_fill_links (self);
  kiln_engine_notify (self, KILN_ENGINE_PROP_MAX_LINKS);
}

KilnEngineState
kiln_engine_get_state (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), KILN_ENGINE_STATE_STOPPED);

  return self->state;
}

gboolean
kiln_engine_get_listening (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), FALSE);

  return kiln_engine_is_running (self);
}

const char *
kiln_engine_get_listen_host (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->listen_host;
}

guint16
kiln_engine_get_listen_port (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), 0);

  return self->listen_port;
}

const char * const *
kiln_engine_get_endpoints (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return (const char * const *) self->endpoints;
}

gboolean
kiln_engine_get_reachable (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), FALSE);

  return self->reachable;
}

gboolean
kiln_engine_get_lan (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), FALSE);

  return self->lan;
}

guint
kiln_engine_get_n_dht_nodes (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), 0);

  return self->n_dht_nodes;
}

guint
kiln_engine_get_n_connected (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), 0);

  return self->n_connected;
}

GListModel *
kiln_engine_get_peers (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return G_LIST_MODEL (self->peers);
}

KilnEnginePeer *
kiln_engine_lookup_peer (KilnEngine        *self,
                         const KilnAddress *address)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  return g_hash_table_lookup (self->peers_by_address, address);
}

KilnLinkConfig *
kiln_engine_get_link_config (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->config;
}

KilnDht *
kiln_engine_get_dht (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->dht;
}

KilnPeerTable *
kiln_engine_get_peer_table (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->peer_table;
}

KilnContentStore *
kiln_engine_get_content_store (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->content_store;
}

KilnTransfer *
kiln_engine_get_transfer (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->transfer;
}
