/* test-engine.c: whole nodes on loopback: discovery, one link per pair, messages, restarts,
 * clean stops; and the local control socket
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engines only ever bootstrap from 127.0.0.1 and announce 127.0.0.1, on a network ID of
 * their own; LAN (multicast) discovery is not started here.
 */
#include <string.h>
#include <sys/stat.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "libkiln.h"
#include "kiln-test-util.h"

#define NETWORK       0x7e570e01u
#define DEADLINE_S    60
#define MESSAGE_TYPE  0x40

/* The engines alive, for describing them when a wait fails. */
static GPtrArray *live_engines;

static gboolean
on_wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
describe_engines (void)
{
  for (guint i = 0; live_engines != NULL && i < live_engines->len; i++)
    {
      KilnEngine *engine = g_ptr_array_index (live_engines, i);
      GListModel *peers = kiln_engine_get_peers (engine);

      g_test_message ("node %s port %u: %u records in the DHT, %u connected",
                      kiln_engine_get_address_string (engine),
                      kiln_engine_get_listen_port (engine),
                      kiln_engine_get_n_dht_nodes (engine),
                      kiln_engine_get_n_connected (engine));
      for (guint j = 0; j < g_list_model_get_n_items (peers); j++)
        {
          g_autoptr(KilnEnginePeer) peer = g_list_model_get_item (peers, j);
          const char * const *endpoints = kiln_engine_peer_get_endpoints (peer);

          g_test_message ("  peer %s %s, %s, %u failures",
                          kiln_engine_peer_get_address_string (peer),
                          endpoints[0] != NULL ? endpoints[0] : "(no endpoint)",
                          kiln_engine_peer_get_connected (peer) ? "connected" : "not connected",
                          kiln_engine_peer_get_failures (peer));
        }
    }
}

/* Iterates the main context until @done holds; fails the test after DEADLINE_S. */
static void
wait_for (gboolean (*done) (gpointer),
          gpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;
  guint wake = g_timeout_add (50, on_wake, NULL);

  while (!done (data))
    {
      if (g_get_monotonic_time () >= deadline)
        {
          describe_engines ();
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
        }
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (wake);
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      GFile *child = NULL;

      while (g_file_enumerator_iterate (children, NULL, &child, NULL, NULL) && child != NULL)
        {
          g_autofree char *child_path = g_file_get_path (child);

          remove_tree (child_path);
        }
    }
  g_file_delete (file, NULL, NULL);
}

/* A node: its key, data folder, store and engine. */
typedef struct
{
  KilnKey    *key;
  char       *dir;
  KilnStore  *store;
  KilnEngine *engine;
  guint       connected;      /* ::peer-connected emissions */
  guint       disconnected;   /* ::peer-disconnected emissions */
  GPtrArray  *messages;       /* GBytes received by the MESSAGE_TYPE handler */
  GArray     *states;         /* KilnEngineState, as notified */
} Node;

static void
on_state (KilnEngine *engine,
          GParamSpec *pspec,
          Node       *node)
{
  KilnEngineState state = kiln_engine_get_state (engine);

  g_array_append_val (node->states, state);
  g_assert_true (kiln_engine_get_listening (engine) ==
                 (state == KILN_ENGINE_STATE_CONNECTING || state == KILN_ENGINE_STATE_ONLINE));
}

static void
on_peer_connected (KilnEngine     *engine,
                   KilnEnginePeer *peer,
                   Node           *node)
{
  g_assert_true (kiln_engine_peer_get_connected (peer));
  node->connected++;
}

static void
on_peer_disconnected (KilnEngine     *engine,
                      KilnEnginePeer *peer,
                      const GError   *error,
                      Node           *node)
{
  g_assert_nonnull (error);
  g_assert_false (kiln_engine_peer_get_connected (peer));
  node->disconnected++;
}

static void
on_message (KilnEngine     *engine,
            KilnEnginePeer *peer,
            guint8          type,
            GBytes         *payload,
            gpointer        user_data)
{
  Node *node = user_data;
  g_autofree char *text = g_strdup_printf ("%s %.*s", kiln_engine_peer_get_address_string (peer),
                                           (int) g_bytes_get_size (payload),
                                           (const char *) g_bytes_get_data (payload, NULL));

  g_assert_cmpuint (type, ==, MESSAGE_TYPE);
  g_ptr_array_add (node->messages, g_bytes_new_take (text, strlen (text)));
  text = NULL;
}

static void
node_open_engine (Node *node)
{
  g_autoptr(GError) error = NULL;

  node->engine = kiln_engine_new (node->key, node->store, node->dir, &error);
  g_assert_no_error (error);
  kiln_engine_set_network_id (node->engine, NETWORK);
  g_signal_connect (node->engine, "peer-connected", G_CALLBACK (on_peer_connected), node);
  g_signal_connect (node->engine, "peer-disconnected", G_CALLBACK (on_peer_disconnected),
                    node);
  kiln_engine_add_frame_handler (node->engine, MESSAGE_TYPE, on_message, node, NULL);
  g_signal_connect (node->engine, "notify::state", G_CALLBACK (on_state), node);
  g_ptr_array_add (live_engines, node->engine);
}

static Node *
node_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  Node *node = g_new0 (Node, 1);

  node->key = kiln_key_generate (&error);
  g_assert_no_error (error);
  node->dir = g_dir_make_tmp ("kiln-engine-XXXXXX", &error);
  g_assert_no_error (error);
  db = g_build_filename (node->dir, KILN_STORE_FILE_NAME, NULL);
  node->store = kiln_store_new (db, NULL, &error);
  g_assert_no_error (error);
  node->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  node->states = g_array_new (FALSE, FALSE, sizeof (KilnEngineState));
  node_open_engine (node);

  return node;
}

static void
node_start (Node       *node,
            const char *bootstrap)
{
  const char *list[] = { bootstrap, NULL };
  g_autoptr(GError) error = NULL;

  kiln_engine_start (node->engine, "127.0.0.1", 0, list, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_engine_get_listening (node->engine));
  g_assert_cmpint (kiln_engine_get_state (node->engine), ==, KILN_ENGINE_STATE_CONNECTING);
  g_assert_cmpuint (kiln_engine_get_listen_port (node->engine), >, 0);
  g_assert_cmpstr (kiln_engine_get_listen_host (node->engine), ==, "127.0.0.1");
}

static char *
node_bootstrap (Node *node)
{
  return g_strdup_printf ("127.0.0.1:%u", kiln_engine_get_listen_port (node->engine));
}

static void
on_stopped (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  kiln_engine_stop_finish (KILN_ENGINE (object), result, &error);
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
node_stop (Node *node)
{
  gboolean stopped = FALSE;

  kiln_engine_stop_async (node->engine, NULL, on_stopped, &stopped);
  wait_for (flag_set, &stopped);
  g_assert_cmpint (kiln_engine_get_state (node->engine), ==, KILN_ENGINE_STATE_STOPPED);
  g_assert_false (kiln_engine_get_listening (node->engine));
  g_assert_cmpuint (kiln_engine_get_n_connected (node->engine), ==, 0);
}

/* Stops the engine and requires that it and its peers go away. */
static void
node_close_engine (Node *node)
{
  GListModel *peers = kiln_engine_get_peers (node->engine);
  g_autoptr(GPtrArray) peer_refs = g_ptr_array_new ();

  node_stop (node);
  g_ptr_array_remove (live_engines, node->engine);
  for (guint i = 0; i < g_list_model_get_n_items (peers); i++)
    {
      KilnEnginePeer *peer = g_list_model_get_item (peers, i);

      g_assert_false (kiln_engine_peer_get_connected (peer));
      g_assert_null (kiln_engine_peer_get_link (peer));
      g_ptr_array_add (peer_refs, peer);
    }

  kiln_test_assert_finalize_soon (g_steal_pointer (&node->engine));
  for (guint i = 0; i < peer_refs->len; i++)
    g_assert_finalize_object (g_ptr_array_index (peer_refs, i));
}

static void
node_free (Node *node)
{
  if (node->engine != NULL)
    node_close_engine (node);
  kiln_test_assert_finalize_soon (g_steal_pointer (&node->store));
  g_clear_object (&node->key);
  remove_tree (node->dir);
  g_free (node->dir);
  g_ptr_array_unref (node->messages);
  g_array_unref (node->states);
  g_free (node);
}

static KilnEnginePeer *
node_peer (Node *node,
           Node *other)
{
  return kiln_engine_lookup_peer (node->engine, kiln_key_get_address (other->key));
}

typedef struct
{
  Node  **nodes;
  guint   n;
} Group;

typedef struct
{
  gboolean        done;
  KilnEnginePeer *peer;
  GError         *error;
} KilnTestDial;

typedef struct
{
  Node *capped;
  Node *b;
  Node *c;
} Capped;

/* Every node has an open link to every other and has measured its latency. */
static gboolean
all_connected (gpointer data)
{
  Group *group = data;

  for (guint i = 0; i < group->n; i++)
    for (guint j = 0; j < group->n; j++)
      {
        KilnEnginePeer *peer;

        if (i == j)
          continue;
        peer = node_peer (group->nodes[i], group->nodes[j]);
        if (peer == NULL || !kiln_engine_peer_get_connected (peer) ||
            kiln_engine_peer_get_latency (peer) < 0)
          return FALSE;
      }
  return TRUE;
}

/* Every node knows every other one's node record (from a listen, or fetched). */
static gboolean
all_records_known (gpointer data)
{
  Group *group = data;

  for (guint i = 0; i < group->n; i++)
    for (guint j = 0; j < group->n; j++)
      {
        KilnEnginePeer *peer;

        if (i == j)
          continue;
        peer = node_peer (group->nodes[i], group->nodes[j]);
        if (peer == NULL || kiln_engine_peer_get_endpoints (peer)[0] == NULL)
          return FALSE;
      }
  return TRUE;
}

static gboolean
all_in_dht (gpointer data)
{
  Group *group = data;

  for (guint i = 0; i < group->n; i++)
    if (kiln_engine_get_n_dht_nodes (group->nodes[i]->engine) < group->n - 1)
      return FALSE;
  return TRUE;
}

static void
assert_peer (Node *node,
             Node *other)
{
  KilnEnginePeer *peer = node_peer (node, other);
  g_autofree char *endpoint = node_bootstrap (other);
  const char * const *endpoints;
  gint64 now = g_get_real_time ();

  g_assert_nonnull (peer);
  g_assert_cmpstr (kiln_engine_peer_get_address_string (peer), ==,
                   kiln_key_get_address_string (other->key));
  g_assert_true (kiln_engine_peer_get_connected (peer));
  g_assert_nonnull (kiln_engine_peer_get_link (peer));
  g_assert_cmpint (kiln_link_get_state (kiln_engine_peer_get_link (peer)), ==,
                   KILN_LINK_STATE_OPEN);
  g_assert_true (g_str_has_prefix (kiln_engine_peer_get_remote_address (peer), "127.0.0.1:"));
  g_assert_cmpint (kiln_engine_peer_get_connected_since (peer), >, now - 120 * G_USEC_PER_SEC);
  g_assert_cmpint (kiln_engine_peer_get_connected_since (peer), <=, now);
  g_assert_cmpint (kiln_engine_peer_get_last_seen (peer), >, 0);
  g_assert_cmpint (kiln_engine_peer_get_latency (peer), >=, 0);
  /* Loopback: far under a second even on a loaded machine. */
  g_assert_cmpint (kiln_engine_peer_get_latency (peer), <, G_USEC_PER_SEC);
  g_assert_cmpuint (kiln_engine_peer_get_failures (peer), ==, 0);

  /* What the other node announced (known once its record arrived, which all_records_known()
   * waits for). */
  endpoints = kiln_engine_peer_get_endpoints (peer);
  g_assert_nonnull (endpoints);
  g_assert_cmpuint (g_strv_length ((char **) endpoints), ==, 1);
  g_assert_cmpstr (endpoints[0], ==, endpoint);
  g_assert_cmpuint (kiln_engine_peer_get_roles (peer), ==,
                    kiln_engine_get_roles (other->engine));
}

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  kiln_engine_send_finish (KILN_ENGINE (object), result, &error);
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
on_send_refused (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kiln_engine_send_finish (KILN_ENGINE (object), result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  *(gboolean *) user_data = TRUE;
}

/* Nodes 0 and 1 saw node 2 go. */
static gboolean
lost_third (gpointer data)
{
  Node **nodes = data;

  return !kiln_engine_peer_get_connected (node_peer (nodes[0], nodes[2])) &&
         !kiln_engine_peer_get_connected (node_peer (nodes[1], nodes[2]));
}

/* Node 0 of the pair saw node 1 go. */
static gboolean
lost_peer (gpointer data)
{
  Node *node = data;

  return node->disconnected > 0;
}

static gboolean
lost_twice (gpointer data)
{
  return ((Node *) data)->disconnected >= 2;
}

static gboolean
knows_capped (gpointer data)
{
  Capped *capped = data;
  KilnEnginePeer *b = node_peer (capped->b, capped->capped);
  KilnEnginePeer *c = node_peer (capped->c, capped->capped);

  return b != NULL && kiln_engine_peer_get_endpoints (b)[0] != NULL &&
         c != NULL && kiln_engine_peer_get_endpoints (c)[0] != NULL;
}

static gboolean
on_run_for_done (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Lets the main loop run for @ms: for checking that something does not happen. */
static void
kiln_test_run_for_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_run_for_done, &done);
  wait_for (flag_set, &done);
}

static gboolean
has_message (gpointer data)
{
  return ((Node *) data)->messages->len > 0;
}

static void
count_notify (guint *count)
{
  (*count)++;
}

/* Three nodes that know one bootstrap address find each other, link up once per pair,
 * exchange a message and stop cleanly. */
static void
test_three_nodes (void)
{
  Node *nodes[3];
  Group group = { nodes, G_N_ELEMENTS (nodes) };
  g_autofree char *bootstrap = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GBytes) payload = g_bytes_new_static ("hello", 5);
  g_autoptr(GError) error = NULL;
  gboolean sent = FALSE;
  guint notified = 0;
  gint64 started = g_get_monotonic_time ();

  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    nodes[i] = node_new ();
  kiln_engine_set_roles (nodes[0]->engine, KILN_DHT_ROLE_BOOTSTRAP | KILN_DHT_ROLE_REQUESTOR);
  kiln_engine_set_roles (nodes[1]->engine, KILN_DHT_ROLE_PROVIDER);

  node_start (nodes[0], NULL);
  bootstrap = node_bootstrap (nodes[0]);
  for (guint i = 1; i < G_N_ELEMENTS (nodes); i++)
    node_start (nodes[i], bootstrap);

  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    {
      const char * const *endpoints = kiln_engine_get_endpoints (nodes[i]->engine);
      g_autofree char *own = node_bootstrap (nodes[i]);

      g_assert_cmpuint (g_strv_length ((char **) endpoints), ==, 1);
      g_assert_cmpstr (endpoints[0], ==, own);
    }

  wait_for (all_connected, &group);
  wait_for (all_records_known, &group);
  wait_for (all_in_dht, &group);
  g_test_message ("three nodes linked up in %.2f s",
                  (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC);

  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    {
      GListModel *peers = kiln_engine_get_peers (nodes[i]->engine);

      g_assert_cmpuint (g_list_model_get_n_items (peers), ==, 2);
      g_assert_cmpuint (kiln_engine_get_n_connected (nodes[i]->engine), ==, 2);
      g_assert_cmpint (kiln_engine_get_state (nodes[i]->engine), ==, KILN_ENGINE_STATE_ONLINE);
      g_assert_null (kiln_engine_lookup_peer (nodes[i]->engine,
                                              kiln_key_get_address (nodes[i]->key)));
      /* One link per pair: each peer connected exactly once, none dropped. */
      g_assert_cmpuint (nodes[i]->connected, ==, 2);
      g_assert_cmpuint (nodes[i]->disconnected, ==, 0);
      for (guint j = 0; j < G_N_ELEMENTS (nodes); j++)
        if (i != j)
          assert_peer (nodes[i], nodes[j]);
    }

  /* A node another one dialled knows it can be reached. */
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    {
      gboolean dialled = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (nodes); j++)
        if (i != j)
          dialled |= kiln_engine_peer_get_inbound (node_peer (nodes[i], nodes[j]));
      if (dialled)
        g_assert_true (kiln_engine_get_reachable (nodes[i]->engine));
    }

  /* Both ends of each pair kept the same link: one is its client, the other its server. */
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    for (guint j = i + 1; j < G_N_ELEMENTS (nodes); j++)
      {
        KilnLink *a = kiln_engine_peer_get_link (node_peer (nodes[i], nodes[j]));
        KilnLink *b = kiln_engine_peer_get_link (node_peer (nodes[j], nodes[i]));

        g_assert_cmpint (kiln_link_get_role (a), !=, kiln_link_get_role (b));
        g_assert_cmpint (kiln_engine_peer_get_inbound (node_peer (nodes[i], nodes[j])), !=,
                         kiln_engine_peer_get_inbound (node_peer (nodes[j], nodes[i])));
      }

  /* A message frame reaches the handler registered for its type, with its author. */
  kiln_engine_send_async (nodes[1]->engine, kiln_key_get_address (nodes[2]->key), MESSAGE_TYPE,
                          payload, NULL, on_sent, &sent);
  wait_for (flag_set, &sent);
  wait_for (has_message, nodes[2]);
  expected = g_strdup_printf ("%s hello", kiln_key_get_address_string (nodes[1]->key));
  g_assert_cmpmem (g_bytes_get_data (g_ptr_array_index (nodes[2]->messages, 0), NULL),
                   g_bytes_get_size (g_ptr_array_index (nodes[2]->messages, 0)),
                   expected, strlen (expected));

  /* Nothing is open to a node that is not a peer. */
  {
    g_autoptr(KilnKey) stranger = kiln_key_generate (&error);
    gboolean refused = FALSE;

    g_assert_no_error (error);
    kiln_engine_send_async (nodes[0]->engine, kiln_key_get_address (stranger), MESSAGE_TYPE,
                            payload, NULL, on_send_refused, &refused);
    wait_for (flag_set, &refused);
  }

  /* Stopping one node disconnects it from the others, which keep each other. */
  g_signal_connect_swapped (node_peer (nodes[0], nodes[2]), "notify::connected",
                            G_CALLBACK (count_notify), &notified);
  node_close_engine (nodes[2]);
  g_assert_cmpuint (nodes[2]->disconnected, ==, 2);
  {
    const KilnEngineState expected_states[] = {
      KILN_ENGINE_STATE_CONNECTING, KILN_ENGINE_STATE_ONLINE,
      KILN_ENGINE_STATE_STOPPING, KILN_ENGINE_STATE_STOPPED,
    };

    g_assert_cmpmem (nodes[2]->states->data, nodes[2]->states->len * sizeof (KilnEngineState),
                     expected_states, sizeof expected_states);
  }
  group.n = 2;
  wait_for (lost_third, nodes);
  g_assert_true (all_connected (&group));
  g_assert_cmpuint (notified, ==, 1);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpuint (nodes[i]->disconnected, ==, 1);
      g_assert_cmpuint (kiln_engine_get_n_connected (nodes[i]->engine), ==, 1);
      g_assert_cmpuint (g_list_model_get_n_items (kiln_engine_get_peers (nodes[i]->engine)),
                        ==, 2);
    }

  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    node_free (nodes[i]);
}

/* A restarted node, without any bootstrap address, finds its way back through the peer
 * table: the other node cannot find it (its DHT node knows nobody else), so only the table
 * can bring them together. */
static void
test_restart_from_table (void)
{
  Node *a = node_new ();
  Node *b = node_new ();
  Node *pair[] = { a, b };
  Group group = { pair, 2 };
  g_autofree char *bootstrap = NULL;
  guint16 old_port;

  node_start (a, NULL);
  bootstrap = node_bootstrap (a);
  node_start (b, bootstrap);
  wait_for (all_connected, &group);
  /* B wrote A's record to its peer table when it learnt it. */
  wait_for (all_records_known, &group);
  old_port = kiln_engine_get_listen_port (b->engine);

  node_close_engine (b);
  wait_for (lost_peer, a);

  /* The same node (key and database) again, on another port, with no bootstrap. */
  node_open_engine (b);
  node_start (b, NULL);
  g_assert_cmpuint (kiln_engine_get_listen_port (b->engine), !=, old_port);
  wait_for (all_connected, &group);
  assert_peer (b, a);
  g_assert_cmpuint (a->connected, ==, 2);
  g_assert_cmpuint (a->disconnected, ==, 1);

  node_free (b);
  node_free (a);
}

static void
on_connect_done (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  KilnTestDial *dial = user_data;

  dial->peer = kiln_engine_connect_finish (KILN_ENGINE (object), result, &dial->error);
  dial->done = TRUE;
}

static gboolean
dials_done (gpointer data)
{
  KilnTestDial *dials = data;

  return dials[0].done && dials[1].done;
}

/* Two nodes dialling each other at the same moment keep one link, the same one on both
 * sides: the one dialled by the lower address. */
static void
test_simultaneous_dials (void)
{
  Node *a = node_new ();
  Node *b = node_new ();
  Node *pair[] = { a, b };
  Group group = { pair, 2 };
  KilnTestDial dials[2] = { { 0 } };
  Node *lower;
  Node *higher;

  node_start (a, NULL);
  node_start (b, NULL);
  kiln_engine_connect_async (a->engine, "127.0.0.1", kiln_engine_get_listen_port (b->engine),
                             NULL, on_connect_done, &dials[0]);
  kiln_engine_connect_async (b->engine, "127.0.0.1", kiln_engine_get_listen_port (a->engine),
                             NULL, on_connect_done, &dials[1]);
  wait_for (dials_done, dials);
  g_assert_no_error (dials[0].error);
  g_assert_no_error (dials[1].error);
  g_assert_true (dials[0].peer == node_peer (a, b));
  g_assert_true (dials[1].peer == node_peer (b, a));
  wait_for (all_connected, &group);

  lower = memcmp (kiln_key_get_address (a->key)->bytes, kiln_key_get_address (b->key)->bytes,
                  KILN_ADDRESS_SIZE) < 0 ? a : b;
  higher = lower == a ? b : a;
  g_assert_cmpint (kiln_link_get_role (kiln_engine_peer_get_link (node_peer (lower, higher))),
                   ==, KILN_NET_ROLE_CLIENT);
  g_assert_cmpint (kiln_link_get_role (kiln_engine_peer_get_link (node_peer (higher, lower))),
                   ==, KILN_NET_ROLE_SERVER);
  g_assert_false (kiln_engine_peer_get_inbound (node_peer (lower, higher)));
  g_assert_true (kiln_engine_peer_get_inbound (node_peer (higher, lower)));

  /* The duplicate closed without the peers ever counting as disconnected. */
  kiln_test_run_for_ms (300);
  g_assert_true (all_connected (&group));
  g_assert_cmpuint (a->connected, ==, 1);
  g_assert_cmpuint (b->connected, ==, 1);
  g_assert_cmpuint (a->disconnected, ==, 0);
  g_assert_cmpuint (b->disconnected, ==, 0);

  g_clear_object (&dials[0].peer);
  g_clear_object (&dials[1].peer);
  node_free (a);
  node_free (b);
}

/* A node never keeps a link to itself. */
static void
test_self (void)
{
  Node *a = node_new ();
  KilnTestDial dial = { 0 };

  node_start (a, NULL);
  kiln_engine_connect_async (a->engine, "127.0.0.1", kiln_engine_get_listen_port (a->engine),
                             NULL, on_connect_done, &dial);
  wait_for (flag_set, &dial.done);
  g_assert_error (dial.error, KILN_NET_ERROR, KILN_NET_ERROR_SELF);
  g_assert_null (dial.peer);
  g_assert_cmpuint (g_list_model_get_n_items (kiln_engine_get_peers (a->engine)), ==, 0);
  g_assert_cmpuint (a->connected, ==, 0);
  g_clear_error (&dial.error);

  node_free (a);
}

static void
on_n_connected (KilnEngine *engine,
                GParamSpec *pspec,
                guint      *most)
{
  *most = MAX (*most, kiln_engine_get_n_connected (engine));
}

static gboolean
capped_settled (gpointer data)
{
  Capped *capped = data;
  KilnEnginePeer *bc = node_peer (capped->b, capped->c);
  KilnEnginePeer *cb = node_peer (capped->c, capped->b);

  return kiln_engine_get_n_connected (capped->capped->engine) == 1 &&
         bc != NULL && kiln_engine_peer_get_connected (bc) &&
         cb != NULL && kiln_engine_peer_get_connected (cb);
}

/* A node at its link cap neither dials nor accepts more. */
static void
test_link_cap (void)
{
  Capped capped = { node_new (), node_new (), node_new () };
  g_autofree char *bootstrap = NULL;
  guint most = 0;

  kiln_engine_set_max_links (capped.capped->engine, 1);
  g_signal_connect (capped.capped->engine, "notify::n-connected", G_CALLBACK (on_n_connected),
                    &most);
  node_start (capped.capped, NULL);
  bootstrap = node_bootstrap (capped.capped);
  node_start (capped.b, bootstrap);
  node_start (capped.c, bootstrap);

  wait_for (capped_settled, &capped);
  /* Both other nodes know where it is by now and have tried to dial it. */
  wait_for (knows_capped, &capped);
  kiln_test_run_for_ms (500);
  g_assert_true (capped_settled (&capped));
  g_assert_cmpuint (most, ==, 1);

  node_free (capped.b);
  node_free (capped.c);
  node_free (capped.capped);
}

/* Links two started nodes by hand, without discovery. */
static void
link_pair (Node *a,
           Node *b)
{
  Node *pair[] = { a, b };
  Group group = { pair, 2 };
  KilnTestDial dial = { 0 };

  kiln_engine_connect_async (a->engine, "127.0.0.1", kiln_engine_get_listen_port (b->engine),
                             NULL, on_connect_done, &dial);
  wait_for (flag_set, &dial.done);
  g_assert_no_error (dial.error);
  g_clear_object (&dial.peer);
  wait_for (all_connected, &group);
}

typedef struct
{
  guint first;
  guint second;
  guint transfer;
} Counts;

static void
count_first (KilnEngine *engine, KilnEnginePeer *peer, guint8 type, GBytes *payload,
             gpointer user_data)
{
  Counts *counts = user_data;

  /* Handlers of one type run in the order they were added. */
  g_assert_cmpuint (counts->first, ==, counts->second);
  counts->first++;
}

static void
count_second (KilnEngine *engine, KilnEnginePeer *peer, guint8 type, GBytes *payload,
              gpointer user_data)
{
  ((Counts *) user_data)->second++;
}

static void
count_transfer (KilnEngine *engine, KilnEnginePeer *peer, guint8 type, GBytes *payload,
                gpointer user_data)
{
  ((Counts *) user_data)->transfer++;
}

static void
send_and_wait (Node   *from,
               Node   *to,
               guint8  type)
{
  g_autoptr(GBytes) payload = g_bytes_new_static ("\0\0\0\x7f\0\0\0\x01", 8);
  gboolean sent = FALSE;

  kiln_engine_send_async (from->engine, kiln_key_get_address (to->key), type, payload, NULL,
                          on_sent, &sent);
  wait_for (flag_set, &sent);
}

static void
free_counter (gpointer data)
{
  (*(guint *) data)++;
}

/* Handlers get their types in order; removed ones and file transfer's types get nothing;
 * frames nobody handles are dropped without harm. */
static void
test_frame_handlers (void)
{
  Node *a = node_new ();
  Node *b = node_new ();
  Counts counts = { 0 };
  guint freed = 0;
  guint first;
  guint second;
  guint transfer;

  node_start (a, NULL);
  node_start (b, NULL);
  link_pair (a, b);

  first = kiln_engine_add_frame_handler (b->engine, 0x41, count_first, &counts, NULL);
  second = kiln_engine_add_frame_handler (b->engine, 0x41, count_second, &counts, NULL);
  transfer = kiln_engine_add_frame_handler (b->engine, KILN_TRANSFER_FRAME_ACK, count_transfer,
                                            &counts, NULL);
  g_assert_cmpuint (first, !=, second);

  send_and_wait (a, b, 0x42);                     /* nobody handles it */
  send_and_wait (a, b, KILN_TRANSFER_FRAME_ACK);  /* an ACK for no upload: ignored */
  send_and_wait (a, b, 0x41);
  /* Frames are handled in order: once this one is in, so are the others. */
  send_and_wait (a, b, MESSAGE_TYPE);
  wait_for (has_message, b);
  g_assert_cmpuint (counts.first, ==, 1);
  g_assert_cmpuint (counts.second, ==, 1);
  g_assert_cmpuint (counts.transfer, ==, 0);

  kiln_engine_remove_frame_handler (b->engine, first);
  kiln_engine_remove_frame_handler (b->engine, transfer);
  send_and_wait (a, b, 0x41);
  g_ptr_array_set_size (b->messages, 0);
  send_and_wait (a, b, MESSAGE_TYPE);
  wait_for (has_message, b);
  g_assert_cmpuint (counts.first, ==, 1);
  g_assert_cmpuint (counts.second, ==, 2);

  /* A handler's data is freed when the engine goes. */
  kiln_engine_add_frame_handler (b->engine, 0x43, count_transfer, &freed, free_counter);
  g_assert_true (kiln_engine_peer_get_connected (node_peer (a, b)));
  node_close_engine (b);
  g_assert_cmpuint (freed, ==, 1);

  node_free (b);
  node_free (a);
}

static gboolean
engine_lost_peer (gpointer data)
{
  return ((Node *) data)->disconnected > 0;
}

/* Stopping at once (and dispose) leaves nothing running. */
static void
test_stop_at_once (void)
{
  Node *a = node_new ();
  Node *b = node_new ();

  node_start (a, NULL);
  node_start (b, NULL);
  link_pair (a, b);

  kiln_engine_stop (a->engine);
  g_assert_cmpint (kiln_engine_get_state (a->engine), ==, KILN_ENGINE_STATE_STOPPED);
  g_assert_cmpuint (kiln_engine_get_n_connected (a->engine), ==, 0);
  g_assert_cmpuint (a->disconnected, ==, 1);
  g_assert_false (kiln_engine_peer_get_connected (node_peer (a, b)));
  /* It still says goodbye. */
  wait_for (engine_lost_peer, b);

  /* Started again, it links up again; then it is dropped while running. */
  node_start (a, NULL);
  link_pair (b, a);
  g_ptr_array_remove (live_engines, a->engine);
  kiln_test_assert_finalize_soon (g_steal_pointer (&a->engine));
  wait_for (lost_twice, b);

  node_free (a);
  node_free (b);
}

/* The control socket */

static JsonNode *
answer_echo (KilnControl  *control,
             const char   *method,
             JsonObject   *params,
             gpointer      user_data,
             GError      **error)
{
  (*(guint *) user_data)++;

  if (g_str_equal (method, "echo"))
    return params != NULL ? json_node_init_object (json_node_alloc (), params)
                          : json_node_new (JSON_NODE_NULL);
  if (g_str_equal (method, "fail"))
    return (g_set_error_literal (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_FAILED,
                                 "It failed"), NULL);

  g_set_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_UNKNOWN_METHOD,
               "No method “%s”", method);
  return NULL;
}

typedef struct
{
  gboolean  done;
  JsonNode *result;
  GError   *error;
} ControlCall;

static void
on_control_called (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ControlCall *call = user_data;

  call->result = kiln_control_call_finish (result, &call->error);
  call->done = TRUE;
}

static JsonNode *
control_call (const char  *path,
              const char  *method,
              JsonObject  *params,
              GError     **error)
{
  ControlCall call = { 0 };

  kiln_control_call_async (path, method, params, NULL, on_control_called, &call);
  wait_for (flag_set, &call.done);
  if (call.error != NULL)
    g_propagate_error (error, call.error);
  return call.result;
}

static gboolean
socket_readable (gpointer data)
{
  return g_socket_condition_check (data, G_IO_IN | G_IO_HUP) != 0;
}

/* Sends raw bytes and gives the raw answer. */
static char *
control_raw (const char *path,
             const char *bytes,
             gsize       len)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) answer = g_byte_array_new ();
  guint8 buffer[4096];
  gssize n;

  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                             bytes, len, NULL, NULL, &error);
  g_assert_no_error (error);
  /* The answer comes from the main loop of this same process: read only what is there. */
  g_socket_shutdown (g_socket_connection_get_socket (connection), FALSE, TRUE, NULL);
  for (;;)
    {
      GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (connection));

      wait_for (socket_readable, g_socket_connection_get_socket (connection));
      n = g_input_stream_read (input, buffer, sizeof buffer, NULL, &error);
      /* Closing with bytes still unread resets a Unix socket, answered or not. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        {
          if (answer->len == 0)
            return NULL;
          break;
        }
      g_assert_no_error (error);
      if (n <= 0)
        break;
      g_byte_array_append (answer, buffer, n);
    }
  g_byte_array_append (answer, (const guint8 *) "", 1);
  return g_strdup ((const char *) answer->data);
}

static void
test_control (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kiln-control-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, KILN_CONTROL_SOCKET_NAME, NULL);
  g_autoptr(KilnControl) control = NULL;
  g_autoptr(KilnControl) second = NULL;
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *long_line = NULL;
  guint calls = 0;
  GStatBuf st;

  g_assert_no_error (error);

  /* Nobody there. */
  result = control_call (path, "echo", NULL, &error);
  g_assert_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_NOT_RUNNING);
  g_assert_null (result);
  g_clear_error (&error);

  control = kiln_control_new (path, answer_echo, &calls, NULL);
  kiln_control_start (control, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  json_object_set_int_member (params, "x", 42);
  result = control_call (path, "echo", params, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (result), "x"), ==, 42);
  g_clear_pointer (&result, json_node_unref);

  result = control_call (path, "nope", NULL, &error);
  g_assert_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_UNKNOWN_METHOD);
  g_assert_cmpstr (error->message, ==, "No method “nope”");
  g_clear_error (&error);
  result = control_call (path, "fail", NULL, &error);
  g_assert_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "It failed");
  g_clear_error (&error);
  g_assert_cmpuint (calls, ==, 3);

  /* Malformed requests get an error answer without reaching the handler. */
  raw = control_raw (path, "not json\n", 9);
  g_assert_nonnull (strstr (raw, "\"ok\":false"));
  g_clear_pointer (&raw, g_free);
  raw = control_raw (path, "{\"method\":\"echo\"}\n", 18);
  g_assert_nonnull (strstr (raw, "version"));
  g_assert_nonnull (strstr (raw, "\"ok\":false"));
  g_clear_pointer (&raw, g_free);
  long_line = g_strnfill (KILN_CONTROL_REQUEST_MAX + 10, 'x');
  raw = control_raw (path, long_line, strlen (long_line));
  g_assert_true (raw == NULL || strstr (raw, "\"ok\":false") != NULL);
  g_clear_pointer (&raw, g_free);
  raw = control_raw (path, "", 0);
  g_assert_nonnull (strstr (raw, "\"ok\":false"));
  g_clear_pointer (&raw, g_free);
  g_assert_cmpuint (calls, ==, 3);

  /* A second node on the same socket is refused. */
  second = kiln_control_new (path, answer_echo, &calls, NULL);
  g_assert_false (kiln_control_start (second, &error));
  g_assert_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_RUNNING);
  g_clear_error (&error);
  g_clear_object (&second);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Stopping removes the socket. */
  kiln_test_assert_finalize_soon (g_steal_pointer (&control));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* A socket nobody listens on any more (a killed node's) is replaced. */
  {
    g_autoptr(GSocket) stale = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_DEFAULT, &error);
    g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);

    g_assert_no_error (error);
    g_socket_bind (stale, address, FALSE, &error);
    g_assert_no_error (error);
    g_socket_close (stale, NULL);
    g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  control = kiln_control_new (path, answer_echo, &calls, NULL);
  kiln_control_start (control, &error);
  g_assert_no_error (error);
  result = control_call (path, "echo", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_NULL (result));
  g_clear_pointer (&result, json_node_unref);
  kiln_test_assert_finalize_soon (g_steal_pointer (&control));

  /* Anything else in its place is left alone. */
  g_file_set_contents (path, "not a socket", -1, &error);
  g_assert_no_error (error);
  control = kiln_control_new (path, answer_echo, &calls, NULL);
  g_assert_false (kiln_control_start (control, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_clear_object (&control);

  remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  live_engines = g_ptr_array_new ();

  g_test_add_func ("/kiln/engine/three-nodes", test_three_nodes);
  g_test_add_func ("/kiln/engine/restart-from-table", test_restart_from_table);
  g_test_add_func ("/kiln/engine/simultaneous-dials", test_simultaneous_dials);
  g_test_add_func ("/kiln/engine/self", test_self);
  g_test_add_func ("/kiln/engine/link-cap", test_link_cap);
  g_test_add_func ("/kiln/engine/frame-handlers", test_frame_handlers);
  g_test_add_func ("/kiln/engine/stop-at-once", test_stop_at_once);
  g_test_add_func ("/kiln/engine/control", test_control);

  return g_test_run ();
}
