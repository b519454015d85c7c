/* test-engine-messages.c: signed messages between whole nodes on loopback, a hostile peer
 * speaking the wire from a thread, and bans that outlast a restart
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engines listen on 127.0.0.1 on a network ID of their own and are linked by hand or
 * bootstrap from each other; LAN discovery is not started. The raw peer is built from the
 * public pieces only (kiln-frame.h, kiln-net.h, kiln-message.h), as another implementation
 * would be.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "kiln-test-link.h"
#include "kiln-test-util.h"

#define NETWORK 0x7e570e30u

/* What the engines logged (domain "Kiln", info and message levels: the guard's refusals and
 * bans). */
typedef struct
{
  GMutex     lock;
  GPtrArray *lines;
  guint      handler;
} LogCapture;

static LogCapture capture;

static void
on_log (const char     *domain,
        GLogLevelFlags  level,
        const char     *message,
        gpointer        user_data)
{
  g_mutex_lock (&capture.lock);
  g_ptr_array_add (capture.lines, g_strdup (message));
  g_mutex_unlock (&capture.lock);
}

static void
log_capture_start (void)
{
  capture.lines = g_ptr_array_new_with_free_func (g_free);
  capture.handler = g_log_set_handler ("Kiln", G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE,
                                       on_log, NULL);
}

static void
log_capture_stop (void)
{
  g_log_remove_handler ("Kiln", capture.handler);
  g_clear_pointer (&capture.lines, g_ptr_array_unref);
}

static gboolean
log_has (const char *pattern)
{
  gboolean found = FALSE;

  g_mutex_lock (&capture.lock);
  for (guint i = 0; i < capture.lines->len && !found; i++)
    found = g_pattern_match_simple (pattern, g_ptr_array_index (capture.lines, i));
  g_mutex_unlock (&capture.lock);

  return found;
}

static guint
log_count (const char *pattern)
{
  guint n = 0;

  g_mutex_lock (&capture.lock);
  for (guint i = 0; i < capture.lines->len; i++)
    n += g_pattern_match_simple (pattern, g_ptr_array_index (capture.lines, i));
  g_mutex_unlock (&capture.lock);

  return n;
}

static void
assert_logged (const char *pattern)
{
  if (log_has (pattern))
    return;

  g_mutex_lock (&capture.lock);
  for (guint i = 0; i < capture.lines->len; i++)
    g_test_message ("logged: %s", (const char *) g_ptr_array_index (capture.lines, i));
  g_mutex_unlock (&capture.lock);
  g_error ("Nothing logged matches “%s”", pattern);
}

static gboolean
logged (gpointer pattern)
{
  return log_has (pattern);
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

/* Nodes */

typedef struct
{
  KilnAddress  from;      /* the peer the engine named */
  KilnMessage *message;
} Received;

static void
received_free (gpointer data)
{
  Received *received = data;

  kiln_message_unref (received->message);
  g_free (received);
}

typedef struct
{
  KilnKey    *key;
  char       *dir;
  KilnStore  *store;
  KilnEngine *engine;
  GPtrArray  *received;        /* Received, by every message handler of the node */
  GPtrArray  *connected;       /* KilnAddress: ::peer-connected, in order */
  GPtrArray  *disconnected;    /* KilnAddress: ::peer-disconnected, in order */
  GPtrArray  *close_texts;     /* char *: why, for each ::peer-disconnected */
} Node;

static void
on_message (KilnEngine     *engine,
            KilnEnginePeer *peer,
            KilnMessage    *message,
            gpointer        user_data)
{
  Node *node = user_data;
  Received *received = g_new0 (Received, 1);

  /* Only what the guard verified, from the link's own peer, addressed here or to all. */
  g_assert_true (kiln_engine_peer_get_connected (peer));
  g_assert_true (kiln_message_is_verified (message));
  g_assert_true (kiln_address_equal (kiln_message_get_author (message),
                                     kiln_engine_peer_get_address (peer)));
  g_assert_true (kiln_message_get_recipient (message) == NULL ||
                 kiln_address_equal (kiln_message_get_recipient (message),
                                     kiln_engine_get_address (engine)));

  received->from = *kiln_engine_peer_get_address (peer);
  received->message = kiln_message_ref (message);
  g_ptr_array_add (node->received, received);
}

static void
on_peer_connected (KilnEngine     *engine,
                   KilnEnginePeer *peer,
                   Node           *node)
{
  g_ptr_array_add (node->connected, kiln_address_copy (kiln_engine_peer_get_address (peer)));
}

static void
on_peer_disconnected (KilnEngine     *engine,
                      KilnEnginePeer *peer,
                      const GError   *error,
                      Node           *node)
{
  g_ptr_array_add (node->disconnected,
                   kiln_address_copy (kiln_engine_peer_get_address (peer)));
  g_ptr_array_add (node->close_texts, g_strdup (error->message));
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
}

static Node *
node_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  Node *node = g_new0 (Node, 1);

  node->key = kiln_key_generate (&error);
  g_assert_no_error (error);
  node->dir = g_dir_make_tmp ("kiln-engine-messages-XXXXXX", &error);
  g_assert_no_error (error);
  db = g_build_filename (node->dir, KILN_STORE_FILE_NAME, NULL);
  node->store = kiln_store_new (db, NULL, &error);
  g_assert_no_error (error);
  node->received = g_ptr_array_new_with_free_func (received_free);
  node->connected = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_address_free);
  node->disconnected = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_address_free);
  node->close_texts = g_ptr_array_new_with_free_func (g_free);
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
  g_atomic_int_set ((int *) user_data, 1);
}

/* Stops the engine and requires that it goes away. */
static void
node_close_engine (Node *node)
{
  int stopped = 0;

  kiln_engine_stop_async (node->engine, NULL, on_stopped, &stopped);
  kiln_test_wait_until (kiln_test_flag_set, &stopped);
  kiln_test_assert_finalize_soon (g_steal_pointer (&node->engine));
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
  g_ptr_array_unref (node->received);
  g_ptr_array_unref (node->connected);
  g_ptr_array_unref (node->disconnected);
  g_ptr_array_unref (node->close_texts);
  g_free (node);
}

static const KilnAddress *
node_address (Node *node)
{
  return kiln_key_get_address (node->key);
}

static KilnEnginePeer *
node_peer (Node              *node,
           const KilnAddress *address)
{
  return kiln_engine_lookup_peer (node->engine, address);
}

static guint
count_address (GPtrArray         *addresses,
               const KilnAddress *address)
{
  guint n = 0;

  for (guint i = 0; i < addresses->len; i++)
    n += kiln_address_equal (g_ptr_array_index (addresses, i), address);

  return n;
}

static guint
count_received_from (Node              *node,
                     const KilnAddress *from)
{
  guint n = 0;

  for (guint i = 0; i < node->received->len; i++)
    n += kiln_address_equal (&((Received *) g_ptr_array_index (node->received, i))->from, from);

  return n;
}

/* The @index-th message @node received from @from. */
static Received *
received_from (Node              *node,
               const KilnAddress *from,
               guint              index)
{
  for (guint i = 0; i < node->received->len; i++)
    {
      Received *received = g_ptr_array_index (node->received, i);

      if (kiln_address_equal (&received->from, from) && index-- == 0)
        return received;
    }

  g_assert_not_reached ();
  return NULL;
}

typedef struct
{
  Node              *node;
  const KilnAddress *from;
  guint              n;
} ReceivedWait;

static gboolean
has_received (gpointer data)
{
  ReceivedWait *wait = data;

  return count_received_from (wait->node, wait->from) >= wait->n;
}

static void
wait_received (Node              *node,
               const KilnAddress *from,
               guint              n)
{
  ReceivedWait wait = { node, from, n };

  kiln_test_wait_until (has_received, &wait);
}

typedef struct
{
  Node              *node;
  const KilnAddress *peer;
} PeerWait;

static gboolean
peer_is_connected (gpointer data)
{
  PeerWait *wait = data;
  KilnEnginePeer *peer = node_peer (wait->node, wait->peer);

  return peer != NULL && kiln_engine_peer_get_connected (peer);
}

static gboolean
peer_is_gone (gpointer data)
{
  return !peer_is_connected (data);
}

static void
wait_peer_connected (Node              *node,
                     const KilnAddress *peer)
{
  PeerWait wait = { node, peer };

  kiln_test_wait_until (peer_is_connected, &wait);
}

static void
wait_peer_gone (Node              *node,
                const KilnAddress *peer)
{
  PeerWait wait = { node, peer };

  kiln_test_wait_until (peer_is_gone, &wait);
}

typedef struct
{
  int       done;
  KilnEnginePeer *peer;
  GError   *error;
} Dial;

static void
on_connect_done (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Dial *dial = user_data;

  dial->peer = kiln_engine_connect_finish (KILN_ENGINE (object), result, &dial->error);
  g_atomic_int_set (&dial->done, 1);
}

/* Links two started nodes by hand, without discovery. */
static void
link_pair (Node *a,
           Node *b)
{
  Dial dial = { 0 };

  kiln_engine_connect_async (a->engine, "127.0.0.1", kiln_engine_get_listen_port (b->engine),
                             NULL, on_connect_done, &dial);
  kiln_test_wait_until (kiln_test_flag_set, &dial.done);
  g_assert_no_error (dial.error);
  g_clear_object (&dial.peer);
  wait_peer_connected (a, node_address (b));
  wait_peer_connected (b, node_address (a));
}

/* Sending */

typedef struct
{
  int          done;
  KilnMessage *message;
  GError      *error;
} Sent;

static void
on_message_sent (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Sent *sent = user_data;

  sent->message = kiln_engine_send_message_finish (KILN_ENGINE (object), result, &sent->error);
  g_assert_true ((sent->message == NULL) != (sent->error == NULL));
  g_atomic_int_set (&sent->done, 1);
}

static void
on_broadcast_sent (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Sent *sent = user_data;

  sent->message = kiln_engine_broadcast_message_finish (KILN_ENGINE (object), result,
                                                        &sent->error);
  g_assert_true ((sent->message == NULL) != (sent->error == NULL));
  g_atomic_int_set (&sent->done, 1);
}

/* Sends @text as a message of @type from @from to @to and waits until it is written; gives
 * the signed message, or NULL with @error. */
static KilnMessage *
send_text (Node               *from,
           const KilnAddress  *to,
           KilnMessageType     type,
           const char         *text,
           GError            **error)
{
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  Sent sent = { 0 };

  kiln_engine_send_message_async (from->engine, to, type, body, NULL, on_message_sent, &sent);
  kiln_test_wait_until (kiln_test_flag_set, &sent.done);
  if (sent.error != NULL)
    g_propagate_error (error, sent.error);

  return sent.message;
}

static void
assert_body (KilnMessage *message,
             const char  *text)
{
  GBytes *body = kiln_message_get_body (message);

  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), text, strlen (text));
}

static void
assert_same_message (KilnMessage *a,
                     KilnMessage *b)
{
  g_assert_cmpmem (kiln_message_get_id (a), KILN_MESSAGE_ID_SIZE,
                   kiln_message_get_id (b), KILN_MESSAGE_ID_SIZE);
}

/* @from sends @text to @to, which gets it from the right peer, verified. */
static void
deliver (Node       *from,
         Node       *to,
         const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnMessage) sent = NULL;
  guint before = count_received_from (to, node_address (from));
  Received *received;

  sent = send_text (from, node_address (to), KILN_MESSAGE_RESULT, text, &error);
  g_assert_no_error (error);
  wait_received (to, node_address (from), before + 1);
  received = received_from (to, node_address (from), before);
  assert_same_message (received->message, sent);
  assert_body (received->message, text);
}

/* Messages both ways between two honest nodes. */
static void
exchange (Node       *a,
          Node       *b,
          const char *text)
{
  deliver (a, b, text);
  deliver (b, a, text);
}

/* A message of type 0x0777 (unknown to this version), signed by @key for @to. */
static GBytes *
sign_unknown_type (KilnKey           *key,
                   const KilnAddress *to)
{
  g_autoptr(KilnMessage) message = kiln_message_new (KILN_MESSAGE_OFFER, to, NULL);
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autoptr(GByteArray) signed_bytes = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];

  g_assert_true (kiln_message_sign_full (message, key, g_random_int (),
                                         g_get_real_time () / 1000, &error));
  g_assert_no_error (error);
  encoded = kiln_message_encode (message);
  g_byte_array_append (bytes, g_bytes_get_data (encoded, NULL),
                       g_bytes_get_size (encoded) - KILN_SIGNATURE_SIZE);
  bytes->data[4] = 0x07;
  bytes->data[5] = 0x77;

  g_byte_array_append (signed_bytes, (const guint8 *) "\x19" KILN_MESSAGE_CONTEXT,
                       1 + strlen (KILN_MESSAGE_CONTEXT));
  g_byte_array_append (signed_bytes, bytes->data, bytes->len);
  kiln_keccak256 (signed_bytes->data, signed_bytes->len, digest);
  g_assert_true (kiln_key_sign_digest (key, digest, signature, &error));
  g_assert_no_error (error);
  g_byte_array_append (bytes, signature, sizeof signature);

  return g_bytes_new (bytes->data, bytes->len);
}

static void
on_frame_sent (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kiln_engine_send_finish (KILN_ENGINE (object), result, &error));
  g_assert_no_error (error);
  g_atomic_int_set ((int *) user_data, 1);
}

typedef struct
{
  Node  *node;
  guint  first;
  guint  second;
} Order;

static void
on_first (KilnEngine *engine, KilnEnginePeer *peer, KilnMessage *message, gpointer user_data)
{
  Order *order = user_data;

  /* Handlers of one type run in the order they were added. */
  g_assert_cmpuint (order->first, ==, order->second);
  order->first++;
}

static void
on_second (KilnEngine *engine, KilnEnginePeer *peer, KilnMessage *message, gpointer user_data)
{
  Order *order = user_data;

  order->second++;
  g_assert_cmpuint (order->first, ==, order->second);
}

static void
on_nothing (KilnEngine *engine, KilnEnginePeer *peer, KilnMessage *message, gpointer user_data)
{
  g_assert_not_reached ();
}

static void
count_freed (gpointer data)
{
  (*(guint *) data)++;
}

static void
on_frame_unexpected (KilnEngine *engine, KilnEnginePeer *peer, guint8 type, GBytes *payload,
                     gpointer user_data)
{
  g_assert_not_reached ();
}

/* A message from A reaches B's handlers with the right peer and its author verified; other
 * types, nobody's types and unknown types are dropped without harm. */
static void
test_send (void)
{
  Node *a = node_new ();
  Node *b = node_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnMessage) sent = NULL;
  g_autofree char *a_shown = kiln_address_to_string (node_address (a));
  g_autofree char *pattern = NULL;
  Order order = { b, 0, 0 };
  Received *received;
  guint freed = 0;
  guint second;
  guint handler;

  log_capture_start ();
  kiln_engine_add_message_handler (b->engine, KILN_MESSAGE_OFFER, on_message, b, NULL);
  kiln_engine_add_message_handler (b->engine, KILN_MESSAGE_OFFER, on_first, &order, NULL);
  second = kiln_engine_add_message_handler (b->engine, KILN_MESSAGE_OFFER, on_second, &order,
                                            NULL);
  kiln_engine_add_message_handler (b->engine, KILN_MESSAGE_RESULT, on_message, b, NULL);
  kiln_engine_add_message_handler (a->engine, KILN_MESSAGE_RESULT, on_message, a, NULL);
  /* MESSAGE frames are never offered to frame handlers; 0x31 is, like any other. */
  g_test_expect_message ("Kiln", G_LOG_LEVEL_CRITICAL, "*type != KILN_FRAME_MESSAGE*");
  g_assert_cmpuint (kiln_engine_add_frame_handler (b->engine, KILN_FRAME_MESSAGE,
                                                   on_frame_unexpected, NULL, NULL), ==, 0);
  g_test_assert_expected_messages ();
  g_assert_nonnull (kiln_engine_get_message_guard (b->engine));
  g_assert_true (KILN_IS_MESSAGE_GUARD (kiln_engine_get_message_guard (b->engine)));

  node_start (a, NULL);
  node_start (b, NULL);
  link_pair (a, b);

  sent = send_text (a, node_address (b), KILN_MESSAGE_OFFER, "an offer", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_message_get_message_type (sent), ==, KILN_MESSAGE_OFFER);
  g_assert_true (kiln_address_equal (kiln_message_get_author (sent), node_address (a)));
  g_assert_true (kiln_address_equal (kiln_message_get_recipient (sent), node_address (b)));
  wait_received (b, node_address (a), 1);
  received = received_from (b, node_address (a), 0);
  g_assert_true (kiln_address_equal (&received->from, node_address (a)));
  assert_same_message (received->message, sent);
  assert_body (received->message, "an offer");
  g_assert_cmpint (kiln_message_get_timestamp (received->message), ==,
                   kiln_message_get_timestamp (sent));
  g_assert_cmpuint (order.first, ==, 1);
  g_assert_cmpuint (order.second, ==, 1);
  g_clear_pointer (&sent, kiln_message_unref);

  /* The other way, on the same link. */
  exchange (a, b, "a result");

  /* A known type nobody handles here (CANCEL), then an unknown one (a newer peer's): both
   * dropped, the link kept, no points. What follows them still arrives, in order. */
  g_clear_pointer (&sent, kiln_message_unref);
  sent = send_text (a, node_address (b), KILN_MESSAGE_CANCEL, "never mind", &error);
  g_assert_no_error (error);
  {
    g_autoptr(GBytes) unknown = sign_unknown_type (a->key, node_address (b));
    int done = 0;

    kiln_engine_send_async (a->engine, node_address (b), KILN_FRAME_MESSAGE, unknown, NULL,
                            on_frame_sent, &done);
    kiln_test_wait_until (kiln_test_flag_set, &done);
  }
  g_clear_pointer (&sent, kiln_message_unref);
  sent = send_text (a, node_address (b), KILN_MESSAGE_OFFER, "after those", &error);
  g_assert_no_error (error);
  wait_received (b, node_address (a), 3);
  received = received_from (b, node_address (a), 2);
  assert_same_message (received->message, sent);
  g_assert_cmpuint (kiln_message_get_message_type (received->message), ==, KILN_MESSAGE_OFFER);
  pattern = g_strdup_printf ("Refused a message from %s: Message type 0x0777 (protocol 1.0) is "
                             "unknown to this version of Kiln; ignored", a_shown);
  assert_logged (pattern);
  g_clear_pointer (&pattern, g_free);
  /* Only the unknown type was refused: the CANCEL passed the guard and found no handler. */
  pattern = g_strdup_printf ("Refused a message from %s: *", a_shown);
  g_assert_cmpuint (log_count (pattern), ==, 1);
  g_clear_pointer (&pattern, g_free);
  g_assert_cmpuint (kiln_message_guard_get_score (kiln_engine_get_message_guard (b->engine),
                                                  node_address (a)), ==, 0);
  g_assert_cmpuint (a->connected->len, ==, 1);
  g_assert_cmpuint (b->connected->len, ==, 1);
  g_assert_cmpuint (a->disconnected->len, ==, 0);
  g_assert_cmpuint (b->disconnected->len, ==, 0);

  /* A removed handler gets nothing more. */
  kiln_engine_remove_message_handler (b->engine, second);
  g_clear_pointer (&sent, kiln_message_unref);
  sent = send_text (a, node_address (b), KILN_MESSAGE_OFFER, "once more", &error);
  g_assert_no_error (error);
  wait_received (b, node_address (a), 4);
  g_assert_cmpuint (order.first, ==, 3);
  g_assert_cmpuint (order.second, ==, 2);
  g_clear_pointer (&sent, kiln_message_unref);

  /* Nothing is signed for a node without a link, nor over a type's limit, nor a broadcast
   * through a send. */
  {
    g_autoptr(KilnKey) stranger = kiln_key_generate (&error);
    g_autofree char *big = g_strnfill (kiln_message_type_get_body_max (KILN_MESSAGE_OFFER) + 1,
                                       'x');

    g_assert_no_error (error);
    g_assert_null (send_text (a, kiln_key_get_address (stranger), KILN_MESSAGE_OFFER, "hello",
                              &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
    g_clear_error (&error);
    g_assert_null (send_text (a, node_address (b), KILN_MESSAGE_OFFER, big, &error));
    g_assert_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_TOO_LARGE);
    g_clear_error (&error);
  }
  exchange (a, b, "still linked");
  g_assert_cmpuint (b->disconnected->len, ==, 0);

  /* A handler's data is freed when it is removed or the engine goes. */
  handler = kiln_engine_add_message_handler (b->engine, KILN_MESSAGE_ASSIGN, on_nothing, &freed,
                                             count_freed);
  kiln_engine_remove_message_handler (b->engine, handler);
  g_assert_cmpuint (freed, ==, 1);
  kiln_engine_add_message_handler (b->engine, KILN_MESSAGE_ASSIGN, on_nothing, &freed,
                                   count_freed);
  node_close_engine (b);
  g_assert_cmpuint (freed, ==, 2);

  node_free (b);
  node_free (a);
  log_capture_stop ();
}

/* Links every pair of @nodes by hand. */
static void
link_all (Node  **nodes,
          guint   n)
{
  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      link_pair (nodes[i], nodes[j]);
}

/* One signed message without recipient reaches every connected peer. */
static void
test_broadcast (void)
{
  Node *nodes[3] = { node_new (), node_new (), node_new () };
  Node *alone = node_new ();
  g_autoptr(GBytes) body = g_bytes_new_static ("a node", 6);
  g_autoptr(GError) error = NULL;
  Sent sent = { 0 };
  Sent refused = { 0 };
  Sent nobody = { 0 };

  log_capture_start ();
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    {
      kiln_engine_add_message_handler (nodes[i]->engine, KILN_MESSAGE_PEER_INFO, on_message,
                                       nodes[i], NULL);
      node_start (nodes[i], NULL);
    }
  link_all (nodes, G_N_ELEMENTS (nodes));

  kiln_engine_broadcast_message_async (nodes[0]->engine, KILN_MESSAGE_PEER_INFO, body, NULL,
                                       on_broadcast_sent, &sent);
  kiln_test_wait_until (kiln_test_flag_set, &sent.done);
  g_assert_no_error (sent.error);
  g_assert_null (kiln_message_get_recipient (sent.message));
  g_assert_true (kiln_address_equal (kiln_message_get_author (sent.message),
                                     node_address (nodes[0])));
  for (guint i = 1; i < G_N_ELEMENTS (nodes); i++)
    {
      Received *received;

      wait_received (nodes[i], node_address (nodes[0]), 1);
      received = received_from (nodes[i], node_address (nodes[0]), 0);
      assert_same_message (received->message, sent.message);
      g_assert_null (kiln_message_get_recipient (received->message));
      assert_body (received->message, "a node");
    }
  g_assert_cmpuint (nodes[0]->received->len, ==, 0);

  /* Types that need a recipient cannot be broadcast. */
  kiln_engine_broadcast_message_async (nodes[1]->engine, KILN_MESSAGE_OFFER, body, NULL,
                                       on_broadcast_sent, &refused);
  kiln_test_wait_until (kiln_test_flag_set, &refused.done);
  g_assert_error (refused.error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_WRONG_RECIPIENT);

  /* With nobody connected it completes at once, having sent nothing. */
  kiln_engine_broadcast_message_async (alone->engine, KILN_MESSAGE_CANCEL, NULL, NULL,
                                       on_broadcast_sent, &nobody);
  kiln_test_wait_until (kiln_test_flag_set, &nobody.done);
  g_assert_no_error (nobody.error);
  g_assert_cmpuint (kiln_message_get_message_type (nobody.message), ==, KILN_MESSAGE_CANCEL);

  /* Each node broadcasts in turn: everyone hears everyone once. */
  for (guint i = 1; i < G_N_ELEMENTS (nodes); i++)
    {
      Sent more = { 0 };

      kiln_engine_broadcast_message_async (nodes[i]->engine, KILN_MESSAGE_PEER_INFO, body, NULL,
                                           on_broadcast_sent, &more);
      kiln_test_wait_until (kiln_test_flag_set, &more.done);
      g_assert_no_error (more.error);
      for (guint j = 0; j < G_N_ELEMENTS (nodes); j++)
        if (j != i)
          wait_received (nodes[j], node_address (nodes[i]), 1);
      kiln_message_unref (more.message);
    }
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    g_assert_cmpuint (nodes[i]->received->len, ==, G_N_ELEMENTS (nodes) - 1);
  g_assert_false (log_has ("Refused*"));

  kiln_message_unref (sent.message);
  g_clear_error (&refused.error);
  kiln_message_unref (nobody.message);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    node_free (nodes[i]);
  node_free (alone);
  log_capture_stop ();
}

/* The hostile raw peer */

typedef struct
{
  KilnTestScript  s;        /* first: the scripts get a pointer to it */
  KilnMessage    *first;    /* sent twice by replay_script */
  KilnMessage    *second;
  KilnMessage    *got;      /* what the node sent the raw peer */
} Hostile;

/* TCP, TLS and both HELLOs, as a client. */
static KilnTestRawPeer *
raw_open (KilnTestScript *s)
{
  g_autoptr(GBytes) hello = NULL;
  g_autoptr(GBytes) server_hello = NULL;
  KilnTestRawPeer *raw = kiln_test_raw_connect (s->port, TRUE);

  hello = kiln_test_raw_hello (s->key, KILN_NET_ROLE_CLIENT, raw);
  kiln_test_raw_send (raw, KILN_FRAME_HELLO, hello);
  server_hello = kiln_test_raw_expect_hello (raw, s->server);

  return raw;
}

static void
raw_send_message (KilnTestRawPeer *raw,
                  KilnMessage     *message)
{
  g_autoptr(GBytes) encoded = kiln_message_encode (message);

  kiln_test_raw_send (raw, KILN_FRAME_MESSAGE, encoded);
}

/* Random bytes in a MESSAGE frame: major version 1, then noise. */
static void
raw_send_garbage (KilnTestRawPeer *raw)
{
  guint8 noise[1000];
  g_autoptr(GBytes) payload = NULL;

  for (guint i = 0; i < sizeof noise; i++)
    noise[i] = g_random_int_range (0, 256);
  noise[0] = 0x00;
  noise[1] = 0x01;
  payload = g_bytes_new (noise, sizeof noise);
  kiln_test_raw_send (raw, KILN_FRAME_MESSAGE, payload);
}

/* Reads, answering pings, up to a message, and checks it. */
static KilnMessage *
raw_expect_message (KilnTestRawPeer   *raw,
                    const KilnAddress *author)
{
  for (;;)
    {
      g_autoptr(GBytes) payload = NULL;
      g_autoptr(KilnMessage) message = NULL;
      g_autoptr(GError) error = NULL;
      guint8 type = 0;

      payload = kiln_test_raw_read (raw, &type);
      g_assert_nonnull (payload);
      if (type == KILN_FRAME_PING)
        {
          kiln_test_raw_send (raw, KILN_FRAME_PONG, payload);
          continue;
        }
      g_assert_cmpuint (type, ==, KILN_FRAME_MESSAGE);
      message = kiln_message_decode (payload, &error);
      g_assert_no_error (error);
      g_assert_true (kiln_message_verify (message, &error));
      g_assert_no_error (error);
      g_assert_true (kiln_address_equal (kiln_message_get_author (message), author));

      return g_steal_pointer (&message);
    }
}

/* Says goodbye and reads to the end of the stream. */
static void
raw_close (KilnTestRawPeer *raw)
{
  g_autoptr(GBytes) close = kiln_net_close_encode (KILN_NET_CLOSE_NORMAL, "Goodbye");

  kiln_test_raw_send (raw, KILN_FRAME_CLOSE, close);
  for (;;)
    {
      g_autoptr(GBytes) more = NULL;
      guint8 type = 0;

      more = kiln_test_raw_read (raw, &type);
      if (more == NULL)
        break;
    }
  kiln_test_raw_free (raw);
}

/* A valid message, the same bytes again, another valid one; then, once the node has written
 * back, random bytes. */
static void
replay_script (KilnTestScript *s)
{
  Hostile *h = (Hostile *) s;
  KilnTestRawPeer *raw = raw_open (s);

  raw_send_message (raw, h->first);
  raw_send_message (raw, h->first);
  raw_send_message (raw, h->second);
  h->got = raw_expect_message (raw, s->server);
  raw_send_garbage (raw);
  kiln_test_raw_expect_close (raw, &s->seen);
  kiln_test_raw_free (raw);
}

static void
garbage_script (KilnTestScript *s)
{
  KilnTestRawPeer *raw = raw_open (s);

  raw_send_garbage (raw);
  kiln_test_raw_expect_close (raw, &s->seen);
  kiln_test_raw_free (raw);
}

/* Opens a link and only listens. */
static void
listen_script (KilnTestScript *s)
{
  KilnTestRawPeer *raw = raw_open (s);

  kiln_test_raw_expect_close (raw, &s->seen);
  kiln_test_raw_free (raw);
}

/* An honest exchange: a message each way, then goodbye. */
static void
honest_script (KilnTestScript *s)
{
  Hostile *h = (Hostile *) s;
  KilnTestRawPeer *raw = raw_open (s);

  raw_send_message (raw, h->first);
  h->got = raw_expect_message (raw, s->server);
  raw_close (raw);
}

static KilnMessage *
sign_text (KilnKey           *key,
           KilnMessageType    type,
           const KilnAddress *to,
           const char        *text)
{
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  g_autoptr(GError) error = NULL;
  KilnMessage *message = kiln_message_new (type, to, body);

  g_assert_true (kiln_message_sign (message, key, &error));
  g_assert_no_error (error);

  return message;
}

static void
hostile_init (Hostile *h,
              Node    *node,
              KilnKey *key)
{
  memset (h, 0, sizeof *h);
  h->s.port = kiln_engine_get_listen_port (node->engine);
  h->s.key = key;
  h->s.server = node_address (node);
}

static void
hostile_clear (Hostile *h)
{
  kiln_test_script_clear (&h->s);
  memset (&h->s.seen, 0, sizeof h->s.seen);
  g_atomic_int_set (&h->s.done, 0);
  g_clear_pointer (&h->first, kiln_message_unref);
  g_clear_pointer (&h->second, kiln_message_unref);
  g_clear_pointer (&h->got, kiln_message_unref);
}

static void
run_script (Hostile *h,
            void   (*func) (KilnTestScript *s))
{
  kiln_test_script_run (func, &h->s);
}

typedef struct
{
  KilnStore   *store;
  KilnAddress  address;
  gint64       count;
  gint64       until;     /* µs */
  char        *reason;
} BanRow;

static gboolean
read_ban_row (sqlite3   *db,
              gpointer   data,
              GError   **error)
{
  BanRow *row = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = kiln_store_prepare (db,
                             "SELECT count(*), max(until), max(reason) FROM banned_peers"
                             " WHERE address = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, row->address.bytes, KILN_ADDRESS_SIZE, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  row->count = sqlite3_column_int64 (stmt, 0);
  row->until = sqlite3_column_int64 (stmt, 1);
  g_free (row->reason);
  row->reason = g_strdup ((const char *) sqlite3_column_text (stmt, 2));

  return TRUE;
}

static gboolean
count_rows (sqlite3   *db,
            gpointer   data,
            GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = kiln_store_prepare (db, "SELECT count(*) FROM banned_peers",
                                                     error);

  if (stmt == NULL)
    return FALSE;
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  *(gint64 *) data = sqlite3_column_int64 (stmt, 0);

  return TRUE;
}

/* The row the store holds for @address (count 0 when none). */
static void
read_ban (Node              *node,
          const KilnAddress *address,
          BanRow            *row)
{
  g_autoptr(GError) error = NULL;

  row->address = *address;
  g_assert_true (kiln_store_run_sync (node->store, read_ban_row, row, NULL, &error));
  g_assert_no_error (error);
}

static gint64
count_bans_stored (Node *node)
{
  g_autoptr(GError) error = NULL;
  gint64 count = -1;

  g_assert_true (kiln_store_run_sync (node->store, count_rows, &count, NULL, &error));
  g_assert_no_error (error);

  return count;
}

static guint
score (Node              *node,
       const KilnAddress *address)
{
  return kiln_message_guard_get_score (kiln_engine_get_message_guard (node->engine), address);
}

static gboolean
banned (Node              *node,
        const KilnAddress *address)
{
  return kiln_message_guard_is_banned (kiln_engine_get_message_guard (node->engine), address,
                                       NULL);
}

/* A raw peer misbehaves at an engine while an honest engine stays linked to it and keeps
 * exchanging messages: its replay is refused (link kept), its garbage ends its links, enough
 * of it bans it, and its next link is closed as soon as it opens. */
static void
test_hostile_peer (void)
{
  Node *a = node_new ();
  Node *b = node_new ();
  g_autoptr(KilnKey) hostile_key = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *pattern = NULL;
  g_autoptr(KilnMessage) back = NULL;
  const KilnAddress *hostile;
  BanRow row = { 0 };
  GThread *thread;
  Hostile h;
  gint64 until = 0;

  log_capture_start ();
  hostile_key = kiln_key_generate (&error);
  g_assert_no_error (error);
  hostile = kiln_key_get_address (hostile_key);
  shown = kiln_address_to_string (hostile);
  kiln_engine_add_message_handler (b->engine, KILN_MESSAGE_OFFER, on_message, b, NULL);
  kiln_engine_add_message_handler (b->engine, KILN_MESSAGE_RESULT, on_message, b, NULL);
  kiln_engine_add_message_handler (a->engine, KILN_MESSAGE_RESULT, on_message, a, NULL);
  node_start (a, NULL);
  node_start (b, NULL);
  link_pair (a, b);
  exchange (a, b, "before");

  /* 1. A replay: refused and logged, 20 points, the link kept both ways. */
  hostile_init (&h, b, hostile_key);
  h.first = sign_text (hostile_key, KILN_MESSAGE_OFFER, node_address (b), "an offer");
  h.second = sign_text (hostile_key, KILN_MESSAGE_OFFER, node_address (b), "another offer");
  thread = kiln_test_script_start (replay_script, &h.s);
  wait_received (b, hostile, 2);
  assert_same_message (received_from (b, hostile, 0)->message, h.first);
  assert_same_message (received_from (b, hostile, 1)->message, h.second);
  pattern = g_strdup_printf ("Refused a message from %s: The OFFER message with nonce * was "
                             "received before: a replay", shown);
  kiln_test_wait_until (logged, pattern);
  g_clear_pointer (&pattern, g_free);
  g_assert_cmpuint (score (b, hostile), ==, 20);
  g_assert_true (kiln_engine_peer_get_connected (node_peer (b, hostile)));
  back = send_text (b, hostile, KILN_MESSAGE_RESULT, "still linked", &error);
  g_assert_no_error (error);
  exchange (a, b, "during the replay");

  /* 2. Random bytes in a MESSAGE frame: refused, 25 points, and the node closes the link. */
  kiln_test_script_finish (thread, &h.s);
  assert_same_message (h.got, back);
  g_assert_cmpuint (h.s.seen.reason, ==, KILN_NET_CLOSE_PROTOCOL);
  g_assert_cmpstr (h.s.seen.text, !=, "");
  wait_peer_gone (b, hostile);
  pattern = g_strdup_printf ("Refused a message from %s: *", shown);
  g_assert_cmpuint (log_count (pattern), ==, 2);
  g_clear_pointer (&pattern, g_free);
  g_assert_cmpuint (score (b, hostile), ==, 45);
  g_assert_false (banned (b, hostile));
  exchange (a, b, "after the garbage");
  hostile_clear (&h);

  /* 3. More garbage on new links: 70, 95, then banned. */
  for (guint i = 0; i < 3; i++)
    {
      hostile_init (&h, b, hostile_key);
      run_script (&h, garbage_script);
      g_assert_cmpuint (h.s.seen.reason, ==, KILN_NET_CLOSE_PROTOCOL);
      wait_peer_gone (b, hostile);
      if (i < 2)
        {
          g_assert_false (g_pattern_match_simple ("*banned*", h.s.seen.text));
          g_assert_cmpuint (score (b, hostile), ==, 70 + 25 * i);
          g_assert_false (banned (b, hostile));
        }
      else
        {
          if (!g_pattern_match_simple ("This node has banned yours until * UTC: misbehaviour "
                                       "score reached 100, last: *", h.s.seen.text))
            g_error ("Unexpected close text “%s”", h.s.seen.text);
        }
      hostile_clear (&h);
      exchange (a, b, "while the garbage comes");
    }
  g_assert_true (kiln_message_guard_is_banned (kiln_engine_get_message_guard (b->engine),
                                               hostile, &until));
  pattern = g_strdup_printf ("Banned peer %s until * UTC: misbehaviour score reached 100, "
                             "last: *", shown);
  assert_logged (pattern);
  g_clear_pointer (&pattern, g_free);
  g_assert_cmpuint (count_address (b->connected, hostile), ==, 4);

  /* The ban went to the store. */
  read_ban (b, hostile, &row);
  g_assert_cmpint (row.count, ==, 1);
  g_assert_cmpint (row.until, ==, until * G_USEC_PER_SEC);
  g_assert_true (g_str_has_prefix (row.reason, "misbehaviour score reached 100"));
  g_free (row.reason);

  /* 4. Banned: the next link is closed as soon as it opens, before it counts. */
  hostile_init (&h, b, hostile_key);
  run_script (&h, listen_script);
  g_assert_cmpuint (h.s.seen.reason, ==, KILN_NET_CLOSE_PROTOCOL);
  if (!g_pattern_match_simple ("This node has banned yours until * UTC: *", h.s.seen.text))
    g_error ("Unexpected close text “%s”", h.s.seen.text);
  hostile_clear (&h);
  pattern = g_strdup_printf ("Closing the link of banned peer %s", shown);
  assert_logged (pattern);
  g_clear_pointer (&pattern, g_free);
  g_assert_cmpuint (count_address (b->connected, hostile), ==, 4);
  g_assert_false (kiln_engine_peer_get_connected (node_peer (b, hostile)));
  g_assert_cmpuint (count_received_from (b, hostile), ==, 2);

  /* Through all of it the honest nodes kept their one link. */
  exchange (a, b, "at the end");
  g_assert_cmpuint (a->connected->len, ==, 1);
  g_assert_cmpuint (a->disconnected->len, ==, 0);
  g_assert_cmpuint (count_address (b->connected, node_address (a)), ==, 1);
  g_assert_cmpuint (count_address (b->disconnected, node_address (a)), ==, 0);
  g_assert_cmpuint (score (b, node_address (a)), ==, 0);

  node_free (b);
  node_free (a);
  log_capture_stop ();
}

/* A ban outlasts a restart of the engine on the same store, and ends. */
static void
test_ban_persists (void)
{
  Node *b = node_new ();
  g_autoptr(KilnKey) hostile_key = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnMessage) back = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *pattern = NULL;
  const KilnAddress *hostile;
  BanRow row = { 0 };
  Hostile h;
  gint64 until = 0;
  gint64 reloaded = 0;
  GThread *thread;

  log_capture_start ();
  hostile_key = kiln_key_generate (&error);
  g_assert_no_error (error);
  hostile = kiln_key_get_address (hostile_key);
  shown = kiln_address_to_string (hostile);

  /* One piece of garbage bans, for 6 seconds. */
  kiln_message_guard_set_ban_policy (kiln_engine_get_message_guard (b->engine), 25, 6);
  node_start (b, NULL);
  hostile_init (&h, b, hostile_key);
  run_script (&h, garbage_script);
  if (!g_pattern_match_simple ("This node has banned yours until *", h.s.seen.text))
    g_error ("Unexpected close text “%s”", h.s.seen.text);
  hostile_clear (&h);
  g_assert_true (kiln_message_guard_is_banned (kiln_engine_get_message_guard (b->engine),
                                               hostile, &until));
  read_ban (b, hostile, &row);
  g_assert_cmpint (row.count, ==, 1);
  g_assert_cmpint (row.until, ==, until * G_USEC_PER_SEC);
  g_clear_pointer (&row.reason, g_free);

  /* The same node again: the ban is read back at start. */
  node_close_engine (b);
  node_open_engine (b);
  g_assert_false (banned (b, hostile));
  kiln_engine_add_message_handler (b->engine, KILN_MESSAGE_OFFER, on_message, b, NULL);
  node_start (b, NULL);
  pattern = g_strdup ("Bans read back from the store: 1");
  kiln_test_wait_until (logged, pattern);
  g_clear_pointer (&pattern, g_free);
  g_assert_true (kiln_message_guard_is_banned (kiln_engine_get_message_guard (b->engine),
                                               hostile, &reloaded));
  g_assert_cmpint (reloaded, ==, until);
  if (g_get_real_time () / G_USEC_PER_SEC + 2 >= until)
    g_error ("The restart took too long for the 6 s ban to be checked");

  hostile_init (&h, b, hostile_key);
  run_script (&h, listen_script);
  g_assert_cmpuint (h.s.seen.reason, ==, KILN_NET_CLOSE_PROTOCOL);
  if (!g_pattern_match_simple ("This node has banned yours until *", h.s.seen.text))
    g_error ("Unexpected close text “%s”", h.s.seen.text);
  hostile_clear (&h);
  g_assert_cmpuint (count_address (b->connected, hostile), ==, 1);

  /* Once it ends the peer is welcome again, both ways. */
  while (banned (b, hostile))
    {
      g_assert_cmpint (g_get_real_time () / G_USEC_PER_SEC, <=, until + 10);
      kiln_test_run_for (100);
    }
  hostile_init (&h, b, hostile_key);
  h.first = sign_text (hostile_key, KILN_MESSAGE_OFFER, node_address (b), "a fresh start");
  thread = kiln_test_script_start (honest_script, &h.s);
  wait_received (b, hostile, 1);
  assert_same_message (received_from (b, hostile, 0)->message, h.first);
  back = send_text (b, hostile, KILN_MESSAGE_RESULT, "welcome back", &error);
  g_assert_no_error (error);
  kiln_test_script_finish (thread, &h.s);
  assert_same_message (h.got, back);
  hostile_clear (&h);
  g_assert_cmpuint (count_address (b->connected, hostile), ==, 2);
  wait_peer_gone (b, hostile);

  /* The ended ban is still a row until the next start, which deletes it. */
  g_assert_cmpint (count_bans_stored (b), ==, 1);
  node_close_engine (b);
  node_open_engine (b);
  node_start (b, NULL);
  g_assert_cmpint (count_bans_stored (b), ==, 0);
  g_assert_false (banned (b, hostile));

  node_free (b);
  log_capture_stop ();
}

/* A banned engine peer: its link is closed, it is not dialled while the ban lasts, the links
 * it opens are closed as they open, and once the ban ends the two link up again. */
typedef struct
{
  Node *b;
  Node *e;
  guint dialled_while_banned;   /* links B dialled to E, seen by E, during the ban */
  guint connected_while_banned; /* E counted as connected by B during the ban */
  gboolean dialling_by_hand;    /* kiln_engine_connect_async() from B to E */
} BannedPair;

static void
on_e_connected (KilnEngine     *engine,
                KilnEnginePeer *peer,
                BannedPair     *pair)
{
  if (kiln_engine_peer_get_inbound (peer) && banned (pair->b, node_address (pair->e)) &&
      !pair->dialling_by_hand)
    pair->dialled_while_banned++;
}

static void
on_b_connected (KilnEngine     *engine,
                KilnEnginePeer *peer,
                BannedPair     *pair)
{
  if (banned (pair->b, node_address (pair->e)))
    pair->connected_while_banned++;
}

typedef struct
{
  Node  *node;
  guint  n;
} TextWait;

static guint
count_ban_closes (Node *node)
{
  guint n = 0;

  for (guint i = 0; i < node->close_texts->len; i++)
    n += g_pattern_match_simple ("*This node has banned yours until *",
                                 g_ptr_array_index (node->close_texts, i));

  return n;
}

static gboolean
has_ban_closes (gpointer data)
{
  TextWait *wait = data;

  return count_ban_closes (wait->node) >= wait->n;
}

typedef struct
{
  Node *a;
  Node *b;
} Pair;

static gboolean
records_known (gpointer data)
{
  Pair *pair = data;
  KilnEnginePeer *ab = node_peer (pair->a, node_address (pair->b));
  KilnEnginePeer *ba = node_peer (pair->b, node_address (pair->a));

  return ab != NULL && kiln_engine_peer_get_endpoints (ab)[0] != NULL &&
         ba != NULL && kiln_engine_peer_get_endpoints (ba)[0] != NULL;
}

static void
test_banned_engine (void)
{
  BannedPair pair = { node_new (), node_new (), 0, 0, FALSE };
  Pair known = { pair.b, pair.e };
  TextWait retried = { pair.e, 2 };
  g_autofree char *bootstrap = NULL;
  KilnMessageGuard *guard;
  gint64 until;

  log_capture_start ();
  kiln_engine_add_message_handler (pair.b->engine, KILN_MESSAGE_RESULT, on_message, pair.b,
                                   NULL);
  kiln_engine_add_message_handler (pair.e->engine, KILN_MESSAGE_RESULT, on_message, pair.e,
                                   NULL);
  node_start (pair.b, NULL);
  bootstrap = node_bootstrap (pair.b);
  node_start (pair.e, bootstrap);
  /* Each knows where the other listens, so each would dial the other. */
  wait_peer_connected (pair.b, node_address (pair.e));
  wait_peer_connected (pair.e, node_address (pair.b));
  kiln_test_wait_until (records_known, &known);
  exchange (pair.b, pair.e, "before the ban");

  g_signal_connect (pair.e->engine, "peer-connected", G_CALLBACK (on_e_connected), &pair);
  g_signal_connect (pair.b->engine, "peer-connected", G_CALLBACK (on_b_connected), &pair);
  guard = kiln_engine_get_message_guard (pair.b->engine);
  until = g_get_real_time () / G_USEC_PER_SEC + 8;
  kiln_message_guard_ban (guard, node_address (pair.e), until, "a test");
  wait_peer_gone (pair.b, node_address (pair.e));

  /* E tries again (its backoff starts at a second or less) and is turned away. */
  kiln_test_wait_until (has_ban_closes, &retried);
  g_assert_true (banned (pair.b, node_address (pair.e)));

  /* Dialling it by hand opens a link that is closed at once, and says why. */
  {
    g_autofree char *pattern = g_strdup_printf ("This node has banned node %s until * UTC",
                                                kiln_engine_get_address_string (pair.e->engine));
    Dial dial = { 0 };

    pair.dialling_by_hand = TRUE;
    kiln_engine_connect_async (pair.b->engine, "127.0.0.1",
                               kiln_engine_get_listen_port (pair.e->engine), NULL,
                               on_connect_done, &dial);
    kiln_test_wait_until (kiln_test_flag_set, &dial.done);
    g_assert_error (dial.error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_BANNED);
    if (!g_pattern_match_simple (pattern, dial.error->message))
      g_error ("“%s” does not match “%s”", dial.error->message, pattern);
    g_assert_null (dial.peer);
    g_clear_error (&dial.error);
    pair.dialling_by_hand = FALSE;
  }

  /* After the ban, B dials E (or E gets through) and they talk again. */
  wait_peer_connected (pair.b, node_address (pair.e));
  wait_peer_connected (pair.e, node_address (pair.b));
  g_assert_false (banned (pair.b, node_address (pair.e)));
  g_assert_cmpint (g_get_real_time () / G_USEC_PER_SEC, >=, until);
  exchange (pair.b, pair.e, "after the ban");
  g_assert_cmpuint (pair.dialled_while_banned, ==, 0);
  g_assert_cmpuint (pair.connected_while_banned, ==, 0);
  /* Manual bans are not misbehaviour: nothing was written. */
  g_assert_cmpint (count_bans_stored (pair.b), ==, 0);

  g_signal_handlers_disconnect_by_data (pair.e->engine, &pair);
  g_signal_handlers_disconnect_by_data (pair.b->engine, &pair);
  node_free (pair.e);
  node_free (pair.b);
  log_capture_stop ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mutex_init (&capture.lock);

  g_test_add_func ("/kiln/engine-messages/send", test_send);
  g_test_add_func ("/kiln/engine-messages/broadcast", test_broadcast);
  g_test_add_func ("/kiln/engine-messages/hostile-peer", test_hostile_peer);
  g_test_add_func ("/kiln/engine-messages/ban-persists", test_ban_persists);
  g_test_add_func ("/kiln/engine-messages/banned-engine", test_banned_engine);

  return g_test_run ();
}
