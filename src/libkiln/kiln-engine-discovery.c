/* kiln-engine-discovery.c: the engine's DHT node, its announced endpoints, the peer table
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "kiln-engine-private.h"

/* Peers read back from the peer table at start, most recently seen first. */
#define TABLE_PEERS_MAX 64

/* A node record that verified, from a listen or a get. */
static void
learn_node (KilnEngine            *self,
            const KilnDhtRecord   *record,
            const KilnDhtNodeInfo *info)
{
  KilnEnginePeer *peer = kiln_engine_ensure_peer (self, &record->author);
  gboolean first;
  gboolean changed;

  if (peer == NULL)
    return;

  first = peer->info == NULL;
  changed = kiln_engine_peer_set_info (peer, info);
  kiln_engine_peer_set_last_seen (peer, record->created * G_USEC_PER_SEC);
  kiln_engine_record_seen (self, peer, first || changed);
  kiln_engine_count_dht_nodes (self);

  if (first || changed)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                      "KILN_PEER", peer->address_string,
                      "MESSAGE", "Found node %s in the DHT (%u endpoints)",
                      peer->address_string, info->endpoints->len);

  if (peer->link != NULL || peer->dial != NULL)
    return;

  /* New endpoints: the node probably restarted somewhere else; try them soon. */
  if (changed && peer->redial != NULL)
    {
      g_source_destroy (peer->redial);
      g_clear_pointer (&peer->redial, g_source_unref);
      kiln_backoff_reset (&peer->backoff);
    }

  if (peer->redial != NULL)
    return;

  /* The lower address dials at once, the other a moment later if still unconnected. */
  if (memcmp (kiln_key_get_address (self->key)->bytes, record->author.bytes,
              KILN_ADDRESS_SIZE) < 0)
    kiln_engine_maybe_dial (self, peer);
  else
    kiln_engine_schedule_dial (self, peer,
                               KILN_ENGINE_YIELD_DELAY_MS +
                               g_random_int_range (0, KILN_ENGINE_YIELD_DELAY_MS));
}

static void
on_node_found (KilnDht               *dht,
               const KilnDhtRecord   *record,
               const KilnDhtNodeInfo *info,
               KilnEngine            *self)
{
  learn_node (self, record, info);
}

/* Fetching the record of a node met on a link before its record was found */

typedef struct
{
  KilnEngine  *engine;
  KilnAddress  address;
  KilnDhtRole  role;
} Fetch;

static void
fetch_free (Fetch *fetch)
{
  g_object_unref (fetch->engine);
  g_free (fetch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fetch, fetch_free)

static void
on_record_fetched (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Fetch) fetch = user_data;
  KilnEngine *self = fetch->engine;
  g_autoptr(GPtrArray) values = NULL;
  g_autoptr(KilnDhtRecord) newest = NULL;
  g_autoptr(KilnDhtNodeInfo) newest_info = NULL;
  KilnEnginePeer *peer;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  values = kiln_dht_get_finish (KILN_DHT (object), result, NULL);
  peer = kiln_engine_lookup_peer (self, &fetch->address);
  if (values == NULL || peer == NULL || peer->info != NULL || !kiln_engine_is_running (self))
    return;

  /* Only a record that verifies, by this node, of this network and role, the newest. */
  for (guint i = 0; i < values->len; i++)
    {
      g_autoptr(KilnDhtRecord) record = kiln_dht_record_verify (g_ptr_array_index (values, i),
                                                                now, NULL);
      g_autoptr(KilnDhtNodeInfo) info = NULL;

      if (record == NULL || record->kind != KILN_DHT_RECORD_NODE ||
          record->network != self->network_id ||
          !kiln_address_equal (&record->author, &fetch->address) ||
          (newest != NULL && newest->created >= record->created))
        continue;
      info = kiln_dht_node_info_decode (record->payload, NULL);
      if (info == NULL || (info->roles & fetch->role) == 0)
        continue;

      g_clear_pointer (&newest, kiln_dht_record_free);
      g_clear_pointer (&newest_info, kiln_dht_node_info_free);
      newest = g_steal_pointer (&record);
      newest_info = g_steal_pointer (&info);
    }

  if (newest != NULL)
    learn_node (self, newest, newest_info);
}

void
kiln_engine_fetch_record (KilnEngine     *self,
                          KilnEnginePeer *peer)
{
  if (peer->info != NULL || !kiln_dht_is_running (self->dht))
    return;

  for (KilnDhtRole role = 1; role & KILN_DHT_ROLE_ALL; role <<= 1)
    {
      guint8 key[KILN_DHT_KEY_SIZE];
      Fetch *fetch = g_new0 (Fetch, 1);

      fetch->engine = g_object_ref (self);
      fetch->address = peer->address;
      fetch->role = role;
      kiln_dht_node_key (self->network_id, role, kiln_dht_address_bucket (&peer->address), key);
      kiln_dht_get_async (self->dht, key, self->cancellable, on_record_fetched, fetch);
    }
}

void
kiln_engine_make_dht (KilnEngine *self)
{
  if (self->dht != NULL)
    g_signal_handlers_disconnect_by_data (self->dht, self);
  g_clear_object (&self->dht);

  self->dht = kiln_dht_new (self->network_id);
  g_signal_connect_object (self->dht, "node-found", G_CALLBACK (on_node_found), self, 0);
}

gboolean
kiln_engine_start_discovery (KilnEngine          *self,
                             guint16              port,
                             const char * const  *bootstrap,
                             gboolean             lan,
                             GError             **error)
{
  return kiln_dht_start (self->dht, port, bootstrap, lan, error);
}

void
kiln_engine_stop_discovery (KilnEngine *self)
{
  kiln_dht_stop (self->dht);
}

void
kiln_engine_count_dht_nodes (KilnEngine *self)
{
  g_autoptr(GPtrArray) nodes = NULL;
  guint n = 0;

  if (self->dht == NULL || !kiln_dht_is_running (self->dht))
    return;

  nodes = kiln_dht_list_nodes (self->dht);
  for (guint i = 0; i < nodes->len; i++)
    {
      const KilnDhtRecord *record = g_ptr_array_index (nodes, i);

      if (!kiln_address_equal (&record->author, kiln_key_get_address (self->key)))
        n++;
    }

  if (n == self->n_dht_nodes)
    return;

  self->n_dht_nodes = n;
  kiln_engine_notify (self, KILN_ENGINE_PROP_N_DHT_NODES);
}

/* Endpoints */

/* The addresses of the interfaces that are up, loopback excepted, of the families asked
 * (IPv6 link-local addresses need a scope, so they are left out too). */
static void
add_interface_hosts (GPtrArray *hosts,
                     gboolean   ipv4,
                     gboolean   ipv6)
{
  struct ifaddrs *list = NULL;

  if (getifaddrs (&list) != 0)
    return;

  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      g_autoptr(GSocketAddress) address = NULL;
      g_autofree char *text = NULL;
      GInetAddress *inet;
      gsize size;

      if (ifa->ifa_addr == NULL || (ifa->ifa_flags & IFF_UP) == 0 ||
          (ifa->ifa_flags & IFF_LOOPBACK) != 0)
        continue;

      if (ipv4 && ifa->ifa_addr->sa_family == AF_INET)
        size = sizeof (struct sockaddr_in);
      else if (ipv6 && ifa->ifa_addr->sa_family == AF_INET6)
        size = sizeof (struct sockaddr_in6);
      else
        continue;

      address = g_socket_address_new_from_native (ifa->ifa_addr, size);
      if (!G_IS_INET_SOCKET_ADDRESS (address))
        continue;
      inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
      if (g_inet_address_get_is_link_local (inet))
        continue;

      text = g_inet_address_to_string (inet);
      if (!g_ptr_array_find_with_equal_func (hosts, text, g_str_equal, NULL) &&
          hosts->len < KILN_DHT_NODE_MAX_ENDPOINTS)
        g_ptr_array_add (hosts, g_steal_pointer (&text));
    }

  freeifaddrs (list);
}

/* What a node listening on @host (NULL: everywhere) can be reached at. IPv4 first. */
static GPtrArray *
local_hosts (const char *host)
{
  GPtrArray *hosts = g_ptr_array_new_with_free_func (g_free);
  gboolean any_v4 = host != NULL && g_str_equal (host, "0.0.0.0");

  if (host != NULL && !any_v4)
    {
      g_ptr_array_add (hosts, g_strdup (host));
      return hosts;
    }

  add_interface_hosts (hosts, TRUE, FALSE);
  if (!any_v4)
    add_interface_hosts (hosts, FALSE, TRUE);
  if (hosts->len == 0)
    g_ptr_array_add (hosts, g_strdup ("127.0.0.1"));

  return hosts;
}

GStrv
kiln_engine_local_endpoints (const char *host,
                             guint16     port)
{
  g_autoptr(GPtrArray) hosts = local_hosts (host);
  GPtrArray *endpoints = g_ptr_array_new ();

  for (guint i = 0; i < hosts->len; i++)
    g_ptr_array_add (endpoints, kiln_engine_format_endpoint (g_ptr_array_index (hosts, i),
                                                             port));
  g_ptr_array_add (endpoints, NULL);

  return (GStrv) g_ptr_array_free (endpoints, FALSE);
}

void
kiln_engine_announce (KilnEngine *self)
{
  g_autoptr(KilnDhtNodeInfo) info = kiln_dht_node_info_new ();
  g_autoptr(GPtrArray) hosts = local_hosts (self->listen_host);
  g_auto(GStrv) endpoints = kiln_engine_local_endpoints (self->listen_host, self->listen_port);
  g_autoptr(GError) error = NULL;

  info->roles = self->roles;
  for (guint i = 0; i < hosts->len; i++)
    kiln_dht_node_info_add_endpoint (info, g_ptr_array_index (hosts, i), self->listen_port);

  if (self->endpoints == NULL ||
      !g_strv_equal ((const char * const *) endpoints, (const char * const *) self->endpoints))
    {
      g_strfreev (self->endpoints);
      self->endpoints = g_steal_pointer (&endpoints);
      kiln_engine_notify (self, KILN_ENGINE_PROP_ENDPOINTS);
    }

  if (!kiln_dht_announce (self->dht, self->key, info, &error))
    g_warning ("Could not announce this node: %s", error->message);
}

/* The peer table */

static void
on_table_listed (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(KilnEngine) self = user_data;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;

  rows = kiln_peer_table_list_finish (KILN_PEER_TABLE (object), result, &error);
  if (rows == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not read the known peers: %s", error->message);
      return;
    }
  if (!kiln_engine_is_running (self))
    return;

  g_debug ("The peer table remembers %u peers", rows->len);

  for (guint i = 0; i < rows->len; i++)
    {
      const KilnPeer *row = g_ptr_array_index (rows, i);
      KilnEnginePeer *peer = kiln_engine_ensure_peer (self, &row->address);

      if (peer == NULL)
        continue;

      if (peer->info == NULL)
        {
          kiln_engine_peer_set_info (peer, row->info);
          kiln_engine_peer_set_failures (peer, row->failures);
        }
      kiln_engine_peer_set_last_seen (peer, row->last_seen);

      /* Its DHT node listens on the UDP port with the number of its TCP port. */
      for (guint j = 0; peer->endpoints[j] != NULL; j++)
        {
          g_autoptr(GError) bootstrap_error = NULL;

          if (!kiln_dht_bootstrap (self->dht, peer->endpoints[j], &bootstrap_error))
            g_debug ("Not bootstrapping from %s: %s", peer->endpoints[j],
                     bootstrap_error->message);
        }
    }

  kiln_engine_fill_links (self);
}

void
kiln_engine_load_peer_table (KilnEngine *self)
{
  kiln_peer_table_list_async (self->peer_table, KILN_ENGINE_MAX_FAILURES, TABLE_PEERS_MAX,
                              self->cancellable, on_table_listed, g_object_ref (self));
}
