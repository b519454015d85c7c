/* test-link.c: authenticated links over loopback, honest and hostile peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kiln-test-link.h"

/* Honest links */

typedef struct
{
  int     done;
  GError *error;
} SendResult;

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  SendResult *r = user_data;

  kiln_link_send_finish (KILN_LINK (object), result, &r->error);
  r->done = TRUE;
}

static void
check_two_way_link (const char *host)
{
  g_autoptr(KilnKey) client_key = NULL;
  g_autoptr(KilnLinkConfig) client_config = kiln_test_config_new (&client_key);
  g_autoptr(GBytes) small = g_bytes_new_static ("hello server", 12);
  g_autoptr(GBytes) reply = g_bytes_new_static ("hello client", 12);
  g_autoptr(GBytes) large = NULL;
  g_autoptr(GError) error = NULL;
  KilnLink *link, *server_side;
  KilnTestLog *client_log, *server_log;
  KilnTestNode *node = kiln_test_node_new_on (host);
  SendResult sent = { 0 };
  guint8 *big;

  if (node->listener == NULL)
    {
      kiln_test_node_free (node);
      return;
    }

  link = kiln_test_connect (client_config, host, node->port, kiln_key_get_address (node->key),
                            &error);
  g_assert_no_error (error);
  kiln_test_wait_accepted (node, 1);
  server_side = g_object_ref (g_ptr_array_index (node->accepted, 0));

  /* Each side knows the other by its proven address. */
  kiln_test_assert_same_address (kiln_link_get_peer_address (link),
                                 kiln_key_get_address (node->key));
  kiln_test_assert_same_address (kiln_link_get_peer_address (server_side),
                                 kiln_key_get_address (client_key));
  g_assert_cmpint (kiln_link_get_role (link), ==, KILN_NET_ROLE_CLIENT);
  g_assert_cmpint (kiln_link_get_role (server_side), ==, KILN_NET_ROLE_SERVER);
  g_assert_cmpint (kiln_link_get_state (link), ==, KILN_LINK_STATE_OPEN);
  g_assert_cmpint (kiln_link_get_tls_protocol_version (link), ==,
                   G_TLS_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpint (kiln_link_get_tls_protocol_version (server_side), ==,
                   G_TLS_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpint (g_inet_address_get_family (g_inet_socket_address_get_address (
                     G_INET_SOCKET_ADDRESS (kiln_link_get_remote_address (link)))), ==,
                   strchr (host, ':') != NULL ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4);
  g_assert_cmpuint (g_inet_socket_address_get_port (
                      G_INET_SOCKET_ADDRESS (kiln_link_get_remote_address (link))), ==,
                    node->port);

  /* Messages both ways, up to the largest frame. */
  big = g_malloc (KILN_FRAME_MAX_PAYLOAD);
  for (gsize i = 0; i < KILN_FRAME_MAX_PAYLOAD; i++)
    big[i] = i % 251;
  large = g_bytes_new_take (big, KILN_FRAME_MAX_PAYLOAD);

  client_log = kiln_test_log_new (link);
  server_log = kiln_test_log_new (server_side);
  kiln_test_send (link, 0x10, small);
  kiln_test_send (link, 0xff, large);
  kiln_test_send (server_side, 0x42, reply);
  kiln_test_wait_messages (server_log, 2);
  kiln_test_wait_messages (client_log, 1);
  kiln_test_assert_message (server_log, 0, 0x10, small);
  kiln_test_assert_message (server_log, 1, 0xff, large);
  kiln_test_assert_message (client_log, 0, 0x42, reply);

  /* A goodbye comes after what was sent before it, and its text reaches the peer. */
  kiln_test_send (link, 0x11, small);
  kiln_link_close (link, KILN_NET_CLOSE_NORMAL, "See you later");
  kiln_test_wait_until (kiln_test_log_closed, client_log);
  kiln_test_wait_until (kiln_test_log_closed, server_log);
  g_assert_cmpuint (server_log->messages->len, ==, 3);
  kiln_test_assert_message (server_log, 2, 0x11, small);
  g_assert_error (client_log->close_error, KILN_NET_ERROR, KILN_NET_ERROR_CLOSED);
  g_assert_false (client_log->by_peer);
  g_assert_error (server_log->close_error, KILN_NET_ERROR, KILN_NET_ERROR_CLOSED);
  g_assert_true (server_log->by_peer);
  g_assert_nonnull (strstr (server_log->close_error->message, "See you later"));
  g_assert_true (kiln_link_get_closed_by_peer (server_side));
  g_assert_cmpint (kiln_link_get_state (server_side), ==, KILN_LINK_STATE_CLOSED);

  /* Sending on a closed link fails; closed links let go of everything. */
  kiln_link_send_async (link, 0x10, small, NULL, on_sent, &sent);
  kiln_test_wait_until (kiln_test_flag_set, &sent.done);
  g_assert_error (sent.error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_clear_error (&sent.error);
  kiln_test_wait_until (kiln_test_node_has_no_links, node);
  kiln_test_iterate_pending ();
  g_signal_handlers_disconnect_by_data (link, client_log);
  g_signal_handlers_disconnect_by_data (server_side, server_log);
  g_ptr_array_set_size (node->accepted, 0);
  g_assert_finalize_object (link);
  g_assert_finalize_object (server_side);
  kiln_test_log_free (client_log);
  kiln_test_log_free (server_log);
  kiln_test_node_free (node);
}

static void
test_link_ipv4 (void)
{
  check_two_way_link ("127.0.0.1");
}

static void
test_link_ipv6 (void)
{
  check_two_way_link ("::1");
}

static void
test_link_keepalive_alive (void)
{
  g_autoptr(KilnLinkConfig) config = kiln_test_config_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnLink) link = NULL;
  KilnTestNode *node = kiln_test_node_new ();
  KilnLink *server_side;

  /* Pings every 50 ms, dead after 250 ms: answered pings keep both ends open. */
  g_object_set (config, "keepalive-interval", 50, "keepalive-timeout", 250, NULL);
  g_object_set (node->config, "keepalive-interval", 50, "keepalive-timeout", 250, NULL);

  link = kiln_test_connect (config, "127.0.0.1", node->port, NULL, &error);
  g_assert_no_error (error);
  kiln_test_wait_accepted (node, 1);
  server_side = g_ptr_array_index (node->accepted, 0);

  kiln_test_run_for (1000);
  g_assert_cmpint (kiln_link_get_state (link), ==, KILN_LINK_STATE_OPEN);
  g_assert_cmpint (kiln_link_get_state (server_side), ==, KILN_LINK_STATE_OPEN);

  kiln_link_close (link, KILN_NET_CLOSE_NORMAL, NULL);
  kiln_test_node_free (node);
}

static void
test_link_backoff (void)
{
  KilnBackoff backoff;
  guint ceiling = 100;

  kiln_backoff_init (&backoff, 100, 1000);
  for (guint i = 0; i < 8; i++)
    {
      guint delay = kiln_backoff_next (&backoff);

      g_assert_cmpuint (delay, >=, ceiling / 2);
      g_assert_cmpuint (delay, <=, ceiling);
      ceiling = MIN (ceiling * 2, 1000);
    }

  kiln_backoff_reset (&backoff);
  g_assert_cmpuint (kiln_backoff_next (&backoff), <=, 100);
}

/* Refusals seen by the connecting side */

static void
test_link_closed_port (void)
{
  g_autoptr(KilnLinkConfig) config = kiln_test_config_new (NULL);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnLink) link = NULL;
  guint16 port;
  gint64 start;

  /* A port that was free a moment ago and has nobody listening now. */
  port = kiln_test_listen_loopback (listener);
  g_socket_listener_close (listener);

  start = g_get_monotonic_time ();
  link = kiln_test_connect (config, "127.0.0.1", port, NULL, &error);
  g_assert_null (link);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

static void
test_link_connect_timeout (void)
{
  g_autoptr(KilnLinkConfig) config = kiln_test_config_new (NULL);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnLink) link = NULL;
  gint64 start, elapsed;
  guint16 port;

  /* The kernel completes TCP handshakes for a listener that never accepts: TLS stalls. */
  port = kiln_test_listen_loopback (listener);
  kiln_link_config_set_handshake_timeout (config, 300);

  start = g_get_monotonic_time ();
  link = kiln_test_connect (config, "127.0.0.1", port, NULL, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_null (link);
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_TIMED_OUT);
  g_assert_cmpint (elapsed, >=, 290 * 1000);
  g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);
}

static void
test_link_cancel (void)
{
  g_autoptr(KilnLinkConfig) config = kiln_test_config_new (NULL);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  KilnTestConnect r = { 0 };
  guint16 port;

  port = kiln_test_listen_loopback (listener);

  kiln_link_connect_async (config, "127.0.0.1", port, NULL, cancellable,
                           kiln_test_on_connected, &r);
  kiln_test_run_for (100);
  g_assert_false (r.done);
  g_cancellable_cancel (cancellable);
  kiln_test_wait_until (kiln_test_flag_set, &r.done);
  g_assert_null (r.link);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&r.error);
}

static void
test_link_unexpected_peer (void)
{
  g_autoptr(KilnKey) other = kiln_key_generate (NULL);
  g_autoptr(KilnLinkConfig) config = kiln_test_config_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnLink) link = NULL;
  KilnTestNode *node = kiln_test_node_new ();
  KilnLink *server_side;

  link = kiln_test_connect (config, "127.0.0.1", node->port, kiln_key_get_address (other), &error);
  g_assert_null (link);
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_UNEXPECTED_PEER);

  /* The node had proven itself and opened its end before the client saw who answered. */
  server_side = kiln_test_wait_link_closed (node, 0);
  g_assert_error (kiln_link_get_close_error (server_side), KILN_NET_ERROR,
                  KILN_NET_ERROR_UNEXPECTED_PEER);
  g_assert_true (kiln_link_get_closed_by_peer (server_side));

  kiln_test_assert_node_serves (node);
  kiln_test_node_free (node);
}

static void
test_link_self (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnLink) link = NULL;
  KilnTestNode *node = kiln_test_node_new ();

  /* Same key on both ends: a node that found its own address. */
  link = kiln_test_connect (node->config, "127.0.0.1", node->port, NULL, &error);
  g_assert_null (link);
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_SELF);
  g_assert_error (kiln_test_wait_refused (node, 1), KILN_NET_ERROR, KILN_NET_ERROR_SELF);

  kiln_test_node_free (node);
}

static void
test_link_tls12 (void)
{
  g_autoptr(KilnLinkConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnLink) link = NULL;
  KilnTestNode *node;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }

  /* glib-networking reads this once, before its first TLS connection: both ends of this
   * process can only agree on TLS 1.2, and both must refuse it. */
  g_setenv ("G_TLS_GNUTLS_PRIORITY", "NORMAL:-VERS-TLS1.3", TRUE);

  node = kiln_test_node_new ();
  config = kiln_test_config_new (NULL);
  link = kiln_test_connect (config, "127.0.0.1", node->port, NULL, &error);
  g_assert_null (link);
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_TLS_VERSION);
  g_assert_error (kiln_test_wait_refused (node, 1), KILN_NET_ERROR, KILN_NET_ERROR_TLS_VERSION);
  kiln_test_node_free (node);
}

static void
test_link_connection_cap (void)
{
  g_autoptr(KilnLinkConfig) config = kiln_test_config_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnLink) first = NULL;
  g_autoptr(KilnLink) second = NULL;
  g_autoptr(KilnLink) third = NULL;
  g_autoptr(KilnLink) fourth = NULL;
  KilnTestNode *node = kiln_test_node_new ();

  kiln_link_listener_set_max_links (node->listener, 2);

  first = kiln_test_connect (config, "127.0.0.1", node->port, NULL, &error);
  g_assert_no_error (error);
  second = kiln_test_connect (config, "127.0.0.1", node->port, NULL, &error);
  g_assert_no_error (error);
  kiln_test_wait_accepted (node, 2);
  g_assert_cmpuint (kiln_link_listener_get_n_links (node->listener), ==, 2);

  /* The third is cut off before TLS. */
  third = kiln_test_connect (config, "127.0.0.1", node->port, NULL, &error);
  g_assert_null (third);
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_error (kiln_test_wait_refused (node, 1), KILN_NET_ERROR, KILN_NET_ERROR_TOO_MANY_LINKS);
  g_assert_cmpuint (kiln_link_listener_get_n_links (node->listener), ==, 2);

  /* A closed link frees its place. */
  kiln_link_close (first, KILN_NET_CLOSE_NORMAL, NULL);
  kiln_test_wait_until (kiln_test_node_has_one_link, node);
  fourth = kiln_test_connect (config, "127.0.0.1", node->port, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_link_get_state (fourth), ==, KILN_LINK_STATE_OPEN);

  kiln_link_close (second, KILN_NET_CLOSE_NORMAL, NULL);
  kiln_link_close (fourth, KILN_NET_CLOSE_NORMAL, NULL);
  kiln_test_node_free (node);
}

/* Hostile peers */

static void
forged_proof_script (KilnTestScript *s)
{
  g_autoptr(GBytes) payload = NULL;
  KilnTestRawPeer *raw = kiln_test_raw_connect (s->port, TRUE);
  KilnNetHello hello;

  /* Signed with one key, claiming another's address. */
  g_assert_true (kiln_net_hello_sign (&hello, s->other_key, KILN_NET_ROLE_CLIENT, raw->binding,
                                      NULL));
  hello.address = *kiln_key_get_address (s->key);
  payload = kiln_net_hello_encode (&hello);
  kiln_test_raw_send (raw, KILN_FRAME_HELLO, payload);
  kiln_test_raw_expect_close (raw, &s->seen);
  kiln_test_raw_free (raw);
}

static void
test_link_forged_proof (void)
{
  g_autoptr(KilnKey) victim = kiln_key_generate (NULL);
  g_autoptr(KilnKey) forger = kiln_key_generate (NULL);
  KilnTestNode *node = kiln_test_node_new ();
  KilnTestScript s = { .port = node->port, .key = victim, .other_key = forger };

  kiln_test_script_run (forged_proof_script, &s);
  g_assert_cmpuint (s.seen.reason, ==, KILN_NET_CLOSE_BAD_PROOF);
  g_assert_cmpstr (s.seen.text, !=, "");
  g_assert_error (kiln_test_wait_refused (node, 1), KILN_NET_ERROR, KILN_NET_ERROR_BAD_PROOF);
  g_assert_cmpuint (node->accepted->len, ==, 0);

  kiln_test_assert_node_serves (node);
  kiln_test_script_clear (&s);
  kiln_test_node_free (node);
}

static void
replayed_proof_script (KilnTestScript *s)
{
  g_autoptr(GBytes) hello1 = NULL;
  g_autoptr(GBytes) server_hello = NULL;
  g_autoptr(GBytes) goodbye = kiln_net_close_encode (KILN_NET_CLOSE_NORMAL, "done");
  g_autoptr(GError) error = NULL;
  KilnTestRawPeer *raw1 = kiln_test_raw_connect (s->port, TRUE);
  KilnTestRawPeer *raw2;
  KilnNetHello hello;

  /* An honest first connection: the server accepts the proof and proves itself. */
  hello1 = kiln_test_raw_hello (s->key, KILN_NET_ROLE_CLIENT, raw1);
  kiln_test_raw_send (raw1, KILN_FRAME_HELLO, hello1);
  server_hello = kiln_test_raw_expect_hello (raw1, s->server);

  /* The same proof bytes on a second connection. */
  raw2 = kiln_test_raw_connect (s->port, TRUE);
  g_assert_true (memcmp (raw1->binding, raw2->binding, KILN_NET_CHANNEL_BINDING_SIZE) != 0);
  kiln_test_raw_send (raw2, KILN_FRAME_HELLO, hello1);
  kiln_test_raw_expect_close (raw2, &s->seen);

  /* Likewise the server's proof is worthless outside its own connection. */
  g_assert_true (kiln_net_hello_decode (server_hello, &hello, NULL));
  g_assert_false (kiln_net_hello_verify (&hello, KILN_NET_ROLE_SERVER, raw2->binding, &error));
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_BAD_PROOF);

  kiln_test_raw_send (raw1, KILN_FRAME_CLOSE, goodbye);
  while (kiln_test_raw_read (raw1, &(guint8) { 0 }) != NULL)
    ;
  kiln_test_raw_free (raw1);
  kiln_test_raw_free (raw2);
}

static void
test_link_replayed_proof (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  KilnTestNode *node = kiln_test_node_new ();
  KilnTestScript s = { .port = node->port, .key = key, .server = kiln_key_get_address (node->key) };
  KilnLink *first;

  kiln_test_script_run (replayed_proof_script, &s);
  g_assert_cmpuint (s.seen.reason, ==, KILN_NET_CLOSE_BAD_PROOF);
  g_assert_error (kiln_test_wait_refused (node, 1), KILN_NET_ERROR, KILN_NET_ERROR_BAD_PROOF);

  first = kiln_test_wait_link_closed (node, 0);
  kiln_test_assert_same_address (kiln_link_get_peer_address (first), kiln_key_get_address (key));
  g_assert_error (kiln_link_get_close_error (first), KILN_NET_ERROR, KILN_NET_ERROR_CLOSED);
  g_assert_true (kiln_link_get_closed_by_peer (first));

  kiln_test_script_clear (&s);
  kiln_test_node_free (node);
}

static void
reflecting_server_script (KilnTestScript *s)
{
  g_autoptr(GBytes) hello = NULL;
  KilnTestRawPeer *raw = kiln_test_raw_accept (s->listener);
  guint8 type = 0;

  /* Sends the client's own proof back: same connection, same binding, other role. */
  hello = kiln_test_raw_read (raw, &type);
  g_assert_nonnull (hello);
  g_assert_cmpuint (type, ==, KILN_FRAME_HELLO);
  kiln_test_raw_send (raw, KILN_FRAME_HELLO, hello);
  kiln_test_raw_expect_close (raw, &s->seen);
  kiln_test_raw_free (raw);
}

static void
test_link_reflected_proof (void)
{
  g_autoptr(KilnLinkConfig) config = kiln_test_config_new (NULL);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnLink) link = NULL;
  KilnTestScript s = { .listener = listener };
  GThread *thread;
  guint16 port;

  port = kiln_test_listen_loopback (listener);
  thread = kiln_test_script_start (reflecting_server_script, &s);

  link = kiln_test_connect (config, "127.0.0.1", port, NULL, &error);
  g_assert_null (link);
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_BAD_PROOF);

  kiln_test_script_finish (thread, &s);
  g_assert_cmpuint (s.seen.reason, ==, KILN_NET_CLOSE_BAD_PROOF);
  kiln_test_script_clear (&s);
}

static void
silent_client_script (KilnTestScript *s)
{
  gint64 start = g_get_monotonic_time ();
  KilnTestRawPeer *raw = kiln_test_raw_connect (s->port, TRUE);
  guint8 type = 0;

  /* TLS, then no proof. */
  kiln_test_raw_expect_close (raw, &s->seen);
  s->elapsed_us = g_get_monotonic_time () - start;
  kiln_test_raw_free (raw);

  /* TCP, then not even TLS: nobody to tell, the connection just ends. */
  start = g_get_monotonic_time ();
  raw = kiln_test_raw_connect (s->port, FALSE);
  g_assert_null (kiln_test_raw_read (raw, &type));
  s->elapsed2_us = g_get_monotonic_time () - start;
  kiln_test_raw_free (raw);
}

static void
test_link_no_proof (void)
{
  KilnTestNode *node = kiln_test_node_new ();
  KilnTestScript s = { .port = node->port };

  /* Long enough for the TLS handshake itself on a loaded machine: the proof is what is
   * missing, so the node must say why. */
  kiln_link_config_set_handshake_timeout (node->config, 1000);
  kiln_test_script_run (silent_client_script, &s);

  g_assert_cmpuint (s.seen.reason, ==, KILN_NET_CLOSE_TIMED_OUT);
  g_assert_cmpint (s.elapsed_us, >=, 990 * 1000);
  g_assert_cmpint (s.elapsed_us, <, 6 * G_USEC_PER_SEC);
  g_assert_cmpint (s.elapsed2_us, >=, 990 * 1000);
  g_assert_cmpint (s.elapsed2_us, <, 6 * G_USEC_PER_SEC);
  g_assert_error (kiln_test_wait_refused (node, 1), KILN_NET_ERROR, KILN_NET_ERROR_TIMED_OUT);
  g_assert_error (kiln_test_wait_refused (node, 2), KILN_NET_ERROR, KILN_NET_ERROR_TIMED_OUT);

  kiln_link_config_set_handshake_timeout (node->config, KILN_NET_HANDSHAKE_TIMEOUT_MS);
  kiln_test_assert_node_serves (node);
  kiln_test_script_clear (&s);
  kiln_test_node_free (node);
}

static void
wrong_version_script (KilnTestScript *s)
{
  g_autoptr(GBytes) payload = NULL;
  KilnTestRawPeer *raw = kiln_test_raw_connect (s->port, TRUE);
  KilnNetHello hello;

  g_assert_true (kiln_net_hello_sign (&hello, s->key, KILN_NET_ROLE_CLIENT, raw->binding, NULL));
  hello.major = 2;
  hello.minor = 7;
  payload = kiln_net_hello_encode (&hello);
  kiln_test_raw_send (raw, KILN_FRAME_HELLO, payload);
  kiln_test_raw_expect_close (raw, &s->seen);
  kiln_test_raw_free (raw);
}

static void
test_link_wrong_version (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  KilnTestNode *node = kiln_test_node_new ();
  KilnTestScript s = { .port = node->port, .key = key };
  const GError *refused;

  kiln_test_script_run (wrong_version_script, &s);
  g_assert_cmpuint (s.seen.reason, ==, KILN_NET_CLOSE_VERSION);
  g_assert_nonnull (strstr (s.seen.text, "1.0"));
  g_assert_nonnull (strstr (s.seen.text, "2.7"));
  refused = kiln_test_wait_refused (node, 1);
  g_assert_error (refused, KILN_NET_ERROR, KILN_NET_ERROR_VERSION);
  g_assert_nonnull (strstr (refused->message, "2.7"));

  kiln_test_script_clear (&s);
  kiln_test_node_free (node);
}

static void
oversized_frame_script (KilnTestScript *s)
{
  g_autoptr(GBytes) hello = NULL;
  g_autoptr(GBytes) server_hello = NULL;
  KilnTestRawPeer *raw = kiln_test_raw_connect (s->port, TRUE);
  guint8 header[KILN_FRAME_HEADER_SIZE];

  hello = kiln_test_raw_hello (s->key, KILN_NET_ROLE_CLIENT, raw);
  kiln_test_raw_send (raw, KILN_FRAME_HELLO, hello);
  server_hello = kiln_test_raw_expect_hello (raw, s->server);

  /* Only the header: the limit is enforced before any payload is read. */
  kiln_frame_header_write (header, KILN_FRAME_FIRST_MESSAGE, KILN_FRAME_MAX_PAYLOAD + 1);
  kiln_test_raw_write (raw, header, sizeof header);
  kiln_test_raw_expect_close (raw, &s->seen);
  kiln_test_raw_free (raw);
}

static void
test_link_oversized_frame (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  KilnTestNode *node = kiln_test_node_new ();
  KilnTestScript s = { .port = node->port, .key = key, .server = kiln_key_get_address (node->key) };
  KilnLink *server_side;

  kiln_test_script_run (oversized_frame_script, &s);
  g_assert_cmpuint (s.seen.reason, ==, KILN_NET_CLOSE_FRAME_TOO_LARGE);

  server_side = kiln_test_wait_link_closed (node, 0);
  g_assert_error (kiln_link_get_close_error (server_side), KILN_NET_ERROR,
                  KILN_NET_ERROR_FRAME_TOO_LARGE);
  g_assert_false (kiln_link_get_closed_by_peer (server_side));

  kiln_test_assert_node_serves (node);
  kiln_test_script_clear (&s);
  kiln_test_node_free (node);
}

static void
protocol_error_script (KilnTestScript *s)
{
  g_autoptr(GBytes) hello = NULL;
  g_autoptr(GBytes) server_hello = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("too early", 9);
  KilnTestRawPeer *raw = kiln_test_raw_connect (s->port, TRUE);

  /* A message before any proof. */
  kiln_test_raw_send (raw, KILN_FRAME_FIRST_MESSAGE, message);
  kiln_test_raw_expect_close (raw, &s->seen);
  kiln_test_raw_free (raw);

  /* A reserved frame type after a good start. */
  raw = kiln_test_raw_connect (s->port, TRUE);
  hello = kiln_test_raw_hello (s->key, KILN_NET_ROLE_CLIENT, raw);
  kiln_test_raw_send (raw, KILN_FRAME_HELLO, hello);
  server_hello = kiln_test_raw_expect_hello (raw, s->server);
  kiln_test_raw_send (raw, 0x07, NULL);
  kiln_test_raw_expect_close (raw, &s->seen2);
  kiln_test_raw_free (raw);
}

static void
test_link_protocol_error (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  KilnTestNode *node = kiln_test_node_new ();
  KilnTestScript s = { .port = node->port, .key = key, .server = kiln_key_get_address (node->key) };
  KilnLink *server_side;

  kiln_test_script_run (protocol_error_script, &s);
  g_assert_cmpuint (s.seen.reason, ==, KILN_NET_CLOSE_PROTOCOL);
  g_assert_cmpuint (s.seen2.reason, ==, KILN_NET_CLOSE_PROTOCOL);
  g_assert_error (kiln_test_wait_refused (node, 1), KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL);
  server_side = kiln_test_wait_link_closed (node, 0);
  g_assert_error (kiln_link_get_close_error (server_side), KILN_NET_ERROR,
                  KILN_NET_ERROR_PROTOCOL);

  kiln_test_script_clear (&s);
  kiln_test_node_free (node);
}

static void
garbage_script (KilnTestScript *s)
{
  KilnTestRawPeer *raw = kiln_test_raw_connect (s->port, FALSE);
  guint8 garbage[4096];
  guint8 type = 0;

  g_assert_true (kiln_random_bytes (garbage, sizeof garbage, NULL));
  /* The node may hang up while this is still being written. */
  g_output_stream_write_all (g_io_stream_get_output_stream (raw->stream), garbage,
                             sizeof garbage, NULL, NULL, NULL);
  g_assert_null (kiln_test_raw_read (raw, &type));
  kiln_test_raw_free (raw);
}

static void
test_link_not_tls (void)
{
  KilnTestNode *node = kiln_test_node_new ();
  KilnTestScript s = { .port = node->port };

  /* Some random prefixes look like the start of a long record, so GnuTLS waits for the
   * rest: then the handshake timeout ends it. */
  kiln_link_config_set_handshake_timeout (node->config, 1000);
  kiln_test_script_run (garbage_script, &s);
  g_assert_nonnull (kiln_test_wait_refused (node, 1));
  g_assert_cmpuint (node->accepted->len, ==, 0);

  kiln_link_config_set_handshake_timeout (node->config, KILN_NET_HANDSHAKE_TIMEOUT_MS);
  kiln_test_assert_node_serves (node);
  kiln_test_node_free (node);
}

static void
silent_peer_script (KilnTestScript *s)
{
  g_autoptr(GBytes) hello = NULL;
  g_autoptr(GBytes) server_hello = NULL;
  KilnTestRawPeer *raw = kiln_test_raw_connect (s->port, TRUE);
  gint64 start;

  hello = kiln_test_raw_hello (s->key, KILN_NET_ROLE_CLIENT, raw);
  kiln_test_raw_send (raw, KILN_FRAME_HELLO, hello);
  server_hello = kiln_test_raw_expect_hello (raw, s->server);

  /* Authenticated, then deaf: pings are read but never answered. */
  start = g_get_monotonic_time ();
  kiln_test_raw_expect_close (raw, &s->seen);
  s->elapsed_us = g_get_monotonic_time () - start;
  kiln_test_raw_free (raw);
}

static void
test_link_keepalive_silent (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  KilnTestNode *node = kiln_test_node_new ();
  KilnTestScript s = { .port = node->port, .key = key, .server = kiln_key_get_address (node->key) };
  KilnLink *server_side;

  g_object_set (node->config, "keepalive-interval", 100, "keepalive-timeout", 600, NULL);
  kiln_test_script_run (silent_peer_script, &s);

  g_assert_cmpuint (s.seen.reason, ==, KILN_NET_CLOSE_TIMED_OUT);
  g_assert_cmpuint (s.seen.pings, >=, 1);
  /* Timed here from the server's HELLO, a moment after the server's clock started. */
  g_assert_cmpint (s.elapsed_us, >=, 300 * 1000);
  g_assert_cmpint (s.elapsed_us, <, 5 * G_USEC_PER_SEC);

  server_side = kiln_test_wait_link_closed (node, 0);
  g_assert_error (kiln_link_get_close_error (server_side), KILN_NET_ERROR,
                  KILN_NET_ERROR_TIMED_OUT);
  g_assert_false (kiln_link_get_closed_by_peer (server_side));

  kiln_test_script_clear (&s);
  kiln_test_node_free (node);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/link/ipv4", test_link_ipv4);
  g_test_add_func ("/kiln/link/ipv6", test_link_ipv6);
  g_test_add_func ("/kiln/link/keepalive/alive", test_link_keepalive_alive);
  g_test_add_func ("/kiln/link/keepalive/silent", test_link_keepalive_silent);
  g_test_add_func ("/kiln/link/backoff", test_link_backoff);
  g_test_add_func ("/kiln/link/closed-port", test_link_closed_port);
  g_test_add_func ("/kiln/link/connect-timeout", test_link_connect_timeout);
  g_test_add_func ("/kiln/link/cancel", test_link_cancel);
  g_test_add_func ("/kiln/link/unexpected-peer", test_link_unexpected_peer);
  g_test_add_func ("/kiln/link/self", test_link_self);
  g_test_add_func ("/kiln/link/tls12", test_link_tls12);
  g_test_add_func ("/kiln/link/connection-cap", test_link_connection_cap);
  g_test_add_func ("/kiln/link/forged-proof", test_link_forged_proof);
  g_test_add_func ("/kiln/link/replayed-proof", test_link_replayed_proof);
  g_test_add_func ("/kiln/link/reflected-proof", test_link_reflected_proof);
  g_test_add_func ("/kiln/link/no-proof", test_link_no_proof);
  g_test_add_func ("/kiln/link/wrong-version", test_link_wrong_version);
  g_test_add_func ("/kiln/link/oversized-frame", test_link_oversized_frame);
  g_test_add_func ("/kiln/link/protocol-error", test_link_protocol_error);
  g_test_add_func ("/kiln/link/not-tls", test_link_not_tls);

  return g_test_run ();
}
