/* test-dht.c: discovery on loopback: ten nodes, hostile records, topics, stopping, peer table
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpenDHT binds its UDP socket to every local address (its C API takes no bind address); the
 * nodes here only ever bootstrap to 127.0.0.1, so their traffic stays on loopback. LAN
 * (multicast) discovery is not started here.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "libkiln.h"
#include "kiln-dht.h"
#include "kiln-peer-table.h"

#define N_NODES       10
#define DEADLINE_S    60
#define NETWORK       0x7e570001u

static gboolean
on_wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context until @done returns TRUE or the deadline passes. */
static gboolean
wait_for (gboolean (*done) (gpointer),
          gpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;
  guint wake = g_timeout_add (50, on_wake, NULL);
  gboolean ok;

  while (!(ok = done (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake);
  return ok;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static KilnDht *
start_node (const char  *bootstrap)
{
  const char *list[] = { bootstrap, NULL };
  g_autoptr(GError) error = NULL;
  KilnDht *dht = kiln_dht_new (NETWORK);

  kiln_dht_start (dht, 0, list, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_dht_is_running (dht));
  g_assert_cmpuint (kiln_dht_get_port (dht), >, 0);
  return dht;
}

static KilnKey *
new_key (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_generate (&error);

  g_assert_no_error (error);
  return key;
}

typedef struct
{
  KilnDht  *nodes[N_NODES];
  KilnKey  *keys[N_NODES];
  KilnDht  *hostile;
  gboolean  hostile_put_done;
} Network;

static gboolean
everyone_knows_everyone (gpointer data)
{
  Network *net = data;

  for (guint i = 0; i < N_NODES; i++)
    {
      g_autoptr(GPtrArray) found = kiln_dht_list_nodes (net->nodes[i]);

      if (found->len < N_NODES || kiln_dht_get_rejected_records (net->nodes[i]) == 0)
        return FALSE;
    }
  return net->hostile_put_done;
}

static void
on_hostile_put (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Network *net = user_data;
  g_autoptr(GError) error = NULL;

  kiln_dht_put_finish (KILN_DHT (source), result, &error);
  g_assert_no_error (error);
  net->hostile_put_done = TRUE;
}

/* A record signed by @signer that claims to be by @victim, in @victim's shard. */
static GBytes *
forged_node_record (KilnKey *signer,
                    KilnKey *victim)
{
  g_autoptr(KilnDhtNodeInfo) info = kiln_dht_node_info_new ();
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) record = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *data;
  gsize len;

  info->roles = KILN_DHT_ROLE_PROVIDER;
  kiln_dht_node_info_add_endpoint (info, "127.0.0.1", 9);
  payload = kiln_dht_node_info_encode (info, &error);
  g_assert_no_error (error);
  record = kiln_dht_record_sign (signer, KILN_DHT_RECORD_NODE, NETWORK, NULL, payload,
                                 g_get_real_time () / G_USEC_PER_SEC, 600, &error);
  g_assert_no_error (error);
  data = g_bytes_unref_to_data (g_steal_pointer (&record), &len);
  memcpy (data + 6, kiln_key_get_address (victim)->bytes, KILN_ADDRESS_SIZE);
  return g_bytes_new_take (data, len);
}

static void
test_ten_nodes (void)
{
  Network net = { { NULL } };
  g_autofree char *bootstrap = NULL;
  g_autoptr(KilnKey) intruder = new_key ();
  g_autoptr(KilnKey) victim = new_key ();
  g_autoptr(GBytes) forged = forged_node_record (intruder, victim);
  guint8 key[KILN_DHT_KEY_SIZE];
  gint64 started = g_get_monotonic_time ();

  net.nodes[0] = start_node (NULL);
  bootstrap = g_strdup_printf ("127.0.0.1:%u", kiln_dht_get_port (net.nodes[0]));
  for (guint i = 1; i < N_NODES; i++)
    net.nodes[i] = start_node (bootstrap);
  net.hostile = start_node (bootstrap);

  for (guint i = 0; i < N_NODES; i++)
    {
      g_autoptr(KilnDhtNodeInfo) info = kiln_dht_node_info_new ();
      g_autoptr(GError) error = NULL;

      net.keys[i] = new_key ();
      info->roles = KILN_DHT_ROLE_PROVIDER | (i == 0 ? KILN_DHT_ROLE_BOOTSTRAP : 0);
      kiln_dht_node_info_add_endpoint (info, "127.0.0.1", kiln_dht_get_port (net.nodes[i]));
      kiln_dht_watch_nodes (net.nodes[i], KILN_DHT_ROLE_PROVIDER);
      kiln_dht_announce (net.nodes[i], net.keys[i], info, &error);
      g_assert_no_error (error);
    }

  /* The hostile node puts a forged record straight into the victim's provider shard. */
  kiln_dht_node_key (NETWORK, KILN_DHT_ROLE_PROVIDER,
                     kiln_dht_address_bucket (kiln_key_get_address (victim)), key);
  kiln_dht_put_async (net.hostile, key, forged, NULL, on_hostile_put, &net);

  if (!wait_for (everyone_knows_everyone, &net))
    for (guint i = 0; i < N_NODES; i++)
      {
        g_autoptr(GPtrArray) found = kiln_dht_list_nodes (net.nodes[i]);

        g_test_message ("node %u knows %u nodes, rejected %u", i, found->len,
                        kiln_dht_get_rejected_records (net.nodes[i]));
      }
  g_assert_true (everyone_knows_everyone (&net));
  g_test_message ("all %u nodes found each other in %.2f s", N_NODES,
                  (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC);

  for (guint i = 0; i < N_NODES; i++)
    {
      g_autoptr(GPtrArray) found = kiln_dht_list_nodes (net.nodes[i]);

      g_assert_cmpuint (found->len, ==, N_NODES);
      for (guint j = 0; j < N_NODES; j++)
        {
          gboolean present = FALSE;

          for (guint k = 0; k < found->len; k++)
            {
              KilnDhtRecord *record = g_ptr_array_index (found, k);

              g_assert_false (kiln_address_equal (&record->author,
                                                  kiln_key_get_address (victim)));
              present |= kiln_address_equal (&record->author, kiln_key_get_address (net.keys[j]));
            }
          g_assert_true (present);
        }
    }

  /* Stopping cancels the puts still in flight; their callbacks run from the main loop. */
  for (guint i = 0; i < N_NODES; i++)
    kiln_dht_stop (net.nodes[i]);
  kiln_dht_stop (net.hostile);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (guint i = 0; i < N_NODES; i++)
    {
      g_assert_finalize_object (net.nodes[i]);
      g_assert_finalize_object (net.keys[i]);
    }
  g_assert_finalize_object (net.hostile);
}

typedef struct
{
  KilnDht *nodes[3];
} Bridge;

static gboolean
bridged (gpointer data)
{
  Bridge *bridge = data;

  for (guint i = 0; i < G_N_ELEMENTS (bridge->nodes); i++)
    {
      g_autoptr(GPtrArray) found = kiln_dht_list_nodes (bridge->nodes[i]);

      if (found->len < G_N_ELEMENTS (bridge->nodes))
        return FALSE;
    }
  return TRUE;
}

/* Two nodes that know nobody, and a third given both as bootstrap nodes: it reaches each of
 * them, so all three find each other. */
static void
test_two_bootstraps (void)
{
  Bridge bridge = { { NULL } };
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autoptr(GError) error = NULL;
  KilnKey *keys[3];

  bridge.nodes[0] = start_node (NULL);
  bridge.nodes[1] = start_node (NULL);
  first = g_strdup_printf ("127.0.0.1:%u", kiln_dht_get_port (bridge.nodes[0]));
  second = g_strdup_printf ("127.0.0.1:%u", kiln_dht_get_port (bridge.nodes[1]));
  {
    const char *list[] = { first, second, NULL };

    bridge.nodes[2] = kiln_dht_new (NETWORK);
    kiln_dht_start (bridge.nodes[2], 0, list, FALSE, &error);
    g_assert_no_error (error);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bridge.nodes); i++)
    {
      g_autoptr(KilnDhtNodeInfo) info = kiln_dht_node_info_new ();

      keys[i] = new_key ();
      info->roles = KILN_DHT_ROLE_PROVIDER;
      kiln_dht_node_info_add_endpoint (info, "127.0.0.1", kiln_dht_get_port (bridge.nodes[i]));
      kiln_dht_watch_nodes (bridge.nodes[i], KILN_DHT_ROLE_PROVIDER);
      kiln_dht_announce (bridge.nodes[i], keys[i], info, &error);
      g_assert_no_error (error);
    }

  if (!wait_for (bridged, &bridge))
    for (guint i = 0; i < G_N_ELEMENTS (bridge.nodes); i++)
      {
        g_autoptr(GPtrArray) found = kiln_dht_list_nodes (bridge.nodes[i]);

        g_test_message ("node %u knows %u nodes", i, found->len);
      }
  g_assert_true (bridged (&bridge));

  for (guint i = 0; i < G_N_ELEMENTS (bridge.nodes); i++)
    kiln_dht_stop (bridge.nodes[i]);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (guint i = 0; i < G_N_ELEMENTS (bridge.nodes); i++)
    {
      g_assert_finalize_object (bridge.nodes[i]);
      g_assert_finalize_object (keys[i]);
    }
}

typedef struct
{
  GPtrArray *records;
  KilnKey   *key;
  GBytes    *payload;
  gboolean   published;
  gboolean   destroyed;
} TopicState;

static void
on_topic_record (KilnDht             *dht,
                 const KilnDhtRecord *record,
                 gpointer             user_data)
{
  TopicState *state = user_data;

  g_ptr_array_add (state->records, kiln_dht_record_copy (record));
}

static void
on_topic_destroyed (gpointer user_data)
{
  ((TopicState *) user_data)->destroyed = TRUE;
}

static void
on_published (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  TopicState *state = user_data;
  g_autoptr(GError) error = NULL;

  /* Right after start the two nodes may not have met yet: OpenDHT then reports that no node
   * stored the value, and the caller publishes again. */
  if (!kiln_dht_publish_finish (KILN_DHT (source), result, &error))
    {
      g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_FAILED);
      kiln_dht_publish_async (KILN_DHT (source), state->key, "market/tasks", state->payload,
                              120, NULL, on_published, state);
      return;
    }
  state->published = TRUE;
}

static gboolean
topic_arrived (gpointer data)
{
  TopicState *state = data;

  return state->published && state->records->len > 0;
}

static void
test_topic (void)
{
  g_autoptr(KilnDht) a = start_node (NULL);
  g_autofree char *bootstrap = g_strdup_printf ("127.0.0.1:%u", kiln_dht_get_port (a));
  g_autoptr(KilnDht) b = start_node (bootstrap);
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(GBytes) payload = g_bytes_new_static ("task 42", 7);
  g_autoptr(GBytes) other = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TopicState state = { g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_dht_record_free),
                       key, payload };
  g_autoptr(GError) error = NULL;
  KilnDhtRecord *record;
  guint8 dht_key[KILN_DHT_KEY_SIZE];
  guint id;

  id = kiln_dht_subscribe (b, "market/tasks", cancellable, on_topic_record, &state,
                           on_topic_destroyed);
  g_assert_cmpuint (id, >, 0);

  /* A valid record of another topic, put under this topic's key, is refused. */
  other = kiln_dht_record_sign (key, KILN_DHT_RECORD_TOPIC, NETWORK, "market/other", payload,
                                g_get_real_time () / G_USEC_PER_SEC, 60, &error);
  g_assert_no_error (error);
  kiln_dht_topic_key (NETWORK, "market/tasks", dht_key);
  kiln_dht_put_async (a, dht_key, other, NULL, NULL, NULL);

  kiln_dht_publish_async (a, key, "market/tasks", payload, 120, NULL, on_published, &state);
  g_assert_true (wait_for (topic_arrived, &state));

  record = g_ptr_array_index (state.records, 0);
  g_assert_true (kiln_address_equal (&record->author, kiln_key_get_address (key)));
  g_assert_cmpstr (record->topic, ==, "market/tasks");
  g_assert_true (g_bytes_equal (record->payload, payload));
  for (guint i = 0; i < state.records->len; i++)
    g_assert_cmpstr (((KilnDhtRecord *) g_ptr_array_index (state.records, i))->topic, ==,
                     "market/tasks");

  /* Cancelling ends the subscription and frees its data; nothing arrives afterwards. */
  g_cancellable_cancel (cancellable);
  g_assert_true (wait_for (flag_set, &state.destroyed));
  g_ptr_array_set_size (state.records, 0);
  state.published = FALSE;
  kiln_dht_publish_async (a, key, "market/tasks", payload, 120, NULL, on_published, &state);
  g_assert_true (wait_for (flag_set, &state.published));
  g_assert_cmpuint (state.records->len, ==, 0);

  g_ptr_array_unref (state.records);
}

static void
on_get_stopped (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) values = kiln_dht_get_finish (KILN_DHT (source), result, &error);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (values);
  *(gboolean *) user_data = TRUE;
}

static void
on_raw_value (KilnDht  *dht,
              GBytes   *value,
              gboolean  expired,
              gpointer  user_data)
{
  g_assert_not_reached ();
}

static void
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
test_stop (void)
{
  KilnDht *dht = start_node ("127.0.0.1:9");
  gboolean listen_destroyed = FALSE;
  gboolean get_done = FALSE;
  guint8 key[KILN_DHT_KEY_SIZE] = { 1 };
  g_autoptr(GError) error = NULL;

  kiln_dht_listen (dht, key, NULL, on_raw_value, &listen_destroyed, set_flag);
  kiln_dht_get_async (dht, key, NULL, on_get_stopped, &get_done);

  /* The get (to an unreachable network) is still pending: stopping ends both at once. */
  kiln_dht_stop (dht);
  g_assert_true (listen_destroyed);
  g_assert_true (wait_for (flag_set, &get_done));
  g_assert_false (kiln_dht_is_running (dht));
  g_assert_finalize_object (dht);

  /* A busy port is a clear error. */
  {
    g_autoptr(KilnDht) first = start_node (NULL);
    g_autoptr(KilnDht) second = kiln_dht_new (NETWORK);

    g_assert_false (kiln_dht_start (second, kiln_dht_get_port (first), NULL, FALSE, &error));
    g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_FAILED);
    g_test_message ("%s", error->message);
  }
}

/* Peer table */

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static GPtrArray *
list_peers (KilnPeerTable *table,
            guint          max_failures)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *peers;

  kiln_peer_table_list_async (table, max_failures, 0, NULL, on_done, &result);
  peers = kiln_peer_table_list_finish (table, wait_result (&result), &error);
  g_assert_no_error (error);
  return peers;
}

static void
peer_seen (KilnPeerTable *table,
           KilnKey       *key,
           guint16        port)
{
  g_autoptr(KilnDhtNodeInfo) info = kiln_dht_node_info_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  info->roles = KILN_DHT_ROLE_PROVIDER;
  kiln_dht_node_info_add_endpoint (info, "127.0.0.1", port);
  kiln_peer_table_seen_async (table, kiln_key_get_address (key), info, NULL, on_done, &result);
  g_assert_true (kiln_peer_table_seen_finish (table, wait_result (&result), &error));
  g_assert_no_error (error);
}

static void
peer_failed (KilnPeerTable     *table,
             const KilnAddress *address,
             GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_peer_table_failed_async (table, address, NULL, on_done, &result);
  kiln_peer_table_failed_finish (table, wait_result (&result), error);
}

static void
test_peer_table (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kiln-peers-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, KILN_STORE_FILE_NAME, NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_autoptr(KilnKey) a = new_key ();
  g_autoptr(KilnKey) b = new_key ();
  g_autoptr(KilnKey) stranger = new_key ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) peers = NULL;
  KilnStore *store;
  KilnPeerTable *table;
  KilnPeer *peer;
  gint64 before = g_get_real_time ();

  store = kiln_store_new (path, NULL, &error);
  g_assert_no_error (error);
  table = kiln_peer_table_new (store);
  peer_seen (table, a, 4001);
  peer_seen (table, b, 4002);
  peer_failed (table, kiln_key_get_address (b), &error);
  g_assert_no_error (error);
  peer_failed (table, kiln_key_get_address (b), &error);
  g_assert_no_error (error);
  peer_failed (table, kiln_key_get_address (stranger), &error);
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_finalize_object (table);
  g_assert_finalize_object (store);

  /* After a restart the peers are still there, with their counts. */
  store = kiln_store_new (path, NULL, &error);
  g_assert_no_error (error);
  table = kiln_peer_table_new (store);
  peers = list_peers (table, G_MAXUINT);
  g_assert_cmpuint (peers->len, ==, 2);
  peer = g_ptr_array_index (peers, 0);
  g_assert_true (kiln_address_equal (&peer->address, kiln_key_get_address (b)));
  g_assert_cmpuint (peer->failures, ==, 2);
  g_assert_cmpint (peer->last_seen, >=, before);
  g_assert_cmpint (peer->last_seen, <=, g_get_real_time ());
  g_assert_cmpuint (peer->info->endpoints->len, ==, 1);
  g_assert_cmpuint (g_array_index (peer->info->endpoints, KilnDhtEndpoint, 0).port, ==, 4002);
  peer = g_ptr_array_index (peers, 1);
  g_assert_true (kiln_address_equal (&peer->address, kiln_key_get_address (a)));
  g_assert_cmpuint (peer->failures, ==, 0);
  g_assert_cmpint (peer->first_seen, ==, peer->last_seen);
  g_clear_pointer (&peers, g_ptr_array_unref);

  /* Too many failures leave it out; seeing it again resets the count. */
  peers = list_peers (table, 1);
  g_assert_cmpuint (peers->len, ==, 1);
  g_clear_pointer (&peers, g_ptr_array_unref);
  peer_seen (table, b, 4003);
  peers = list_peers (table, 0);
  g_assert_cmpuint (peers->len, ==, 2);
  peer = g_ptr_array_index (peers, 0);
  g_assert_cmpuint (peer->failures, ==, 0);
  g_assert_cmpint (peer->first_seen, <, peer->last_seen);
  g_assert_cmpuint (g_array_index (peer->info->endpoints, KilnDhtEndpoint, 0).port, ==, 4003);

  g_assert_finalize_object (table);
  g_assert_finalize_object (store);
  g_unlink (path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/dht/ten-nodes", test_ten_nodes);
  g_test_add_func ("/kiln/dht/two-bootstraps", test_two_bootstraps);
  g_test_add_func ("/kiln/dht/topic", test_topic);
  g_test_add_func ("/kiln/dht/stop", test_stop);
  g_test_add_func ("/kiln/dht/peer-table", test_peer_table);

  return g_test_run ();
}
