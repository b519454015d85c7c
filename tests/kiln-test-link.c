/* kiln-test-link.c: listening nodes, links and raw protocol peers for the link tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kiln-test-link.h"

#define WAIT_LIMIT_US (30 * G_USEC_PER_SEC)

/* Waiting on the main loop */

static gboolean
on_wait_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

void
kiln_test_wait_until (gboolean (*done) (gpointer data),
                      gpointer   data)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;
  guint tick = g_timeout_add (50, on_wait_tick, NULL);

  while (!done (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
}

gboolean
kiln_test_flag_set (gpointer data)
{
  return g_atomic_int_get ((int *) data) != 0;
}

static gboolean
on_stop_waiting (gpointer data)
{
  g_atomic_int_set ((int *) data, 1);
  return G_SOURCE_REMOVE;
}

void
kiln_test_run_for (guint ms)
{
  int done = 0;

  g_timeout_add (ms, on_stop_waiting, &done);
  kiln_test_wait_until (kiln_test_flag_set, &done);
}

void
kiln_test_iterate_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

KilnLinkConfig *
kiln_test_config_new (KilnKey **key_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = kiln_key_generate (&error);
  KilnLinkConfig *config;

  g_assert_no_error (error);
  config = kiln_link_config_new (key, &error);
  g_assert_no_error (error);
  if (key_out != NULL)
    *key_out = g_steal_pointer (&key);

  return config;
}

guint16
kiln_test_listen_loopback (GSocketListener *listener)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error));
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
on_link_accepted (KilnLinkListener *listener,
                  KilnLink         *link,
                  KilnTestNode     *node)
{
  g_assert_cmpint (kiln_link_get_state (link), ==, KILN_LINK_STATE_OPEN);
  g_ptr_array_add (node->accepted, g_object_ref (link));
}

static void
on_link_refused (KilnLinkListener *listener,
                 GSocketAddress   *remote,
                 const GError     *error,
                 KilnTestNode     *node)
{
  g_assert_nonnull (error);
  g_ptr_array_add (node->refused, g_error_copy (error));
}

KilnTestNode *
kiln_test_node_new_on (const char *host)
{
  g_autoptr(GError) error = NULL;
  KilnTestNode *node = g_new0 (KilnTestNode, 1);

  node->config = kiln_test_config_new (&node->key);
  node->listener = kiln_link_listener_new (node->config);
  node->accepted = g_ptr_array_new_with_free_func (g_object_unref);
  node->refused = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_signal_connect (node->listener, "link-accepted", G_CALLBACK (on_link_accepted), node);
  g_signal_connect (node->listener, "link-refused", G_CALLBACK (on_link_refused), node);

  if (!kiln_link_listener_listen (node->listener, host, 0, &node->port, &error))
    {
      g_test_skip_printf ("Cannot listen on %s: %s", host, error->message);
      g_signal_handlers_disconnect_by_data (node->listener, node);
      g_clear_object (&node->listener);
      return node;
    }

  return node;
}

KilnTestNode *
kiln_test_node_new (void)
{
  return kiln_test_node_new_on ("127.0.0.1");
}

gboolean
kiln_test_node_has_no_links (gpointer data)
{
  return kiln_link_listener_get_n_links (((KilnTestNode *) data)->listener) == 0;
}

gboolean
kiln_test_node_has_one_link (gpointer data)
{
  return kiln_link_listener_get_n_links (((KilnTestNode *) data)->listener) == 1;
}

void
kiln_test_node_free (KilnTestNode *node)
{
  if (node->listener != NULL)
    {
      kiln_link_listener_close (node->listener, "The test is over");
      kiln_test_wait_until (kiln_test_node_has_no_links, node);
      kiln_test_iterate_pending ();
      g_signal_handlers_disconnect_by_data (node->listener, node);
      g_assert_finalize_object (node->listener);
    }
  g_ptr_array_unref (node->accepted);
  g_ptr_array_unref (node->refused);
  g_object_unref (node->config);
  g_object_unref (node->key);
  g_free (node);
}

typedef struct
{
  GPtrArray *array;
  guint      n;
} ArrayCount;

static gboolean
array_has_n (gpointer data)
{
  ArrayCount *c = data;

  return c->array->len >= c->n;
}

static void
wait_array_len (GPtrArray *array,
                guint      n)
{
  ArrayCount c = { array, n };

  kiln_test_wait_until (array_has_n, &c);
}

void
kiln_test_wait_accepted (KilnTestNode *node,
                         guint         n)
{
  wait_array_len (node->accepted, n);
}

const GError *
kiln_test_wait_refused (KilnTestNode *node,
                        guint         n)
{
  wait_array_len (node->refused, n);
  return g_ptr_array_index (node->refused, n - 1);
}

/* Connecting */

void
kiln_test_on_connected (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  KilnTestConnect *r = user_data;

  r->link = kiln_link_connect_finish (result, &r->error);
  g_assert_true ((r->link == NULL) != (r->error == NULL));
  r->done = TRUE;
}

KilnLink *
kiln_test_connect (KilnLinkConfig    *config,
                   const char        *host,
                   guint16            port,
                   const KilnAddress *expected,
                   GError           **error)
{
  KilnTestConnect r = { 0 };

  kiln_link_connect_async (config, host, port, expected, NULL, kiln_test_on_connected, &r);
  kiln_test_wait_until (kiln_test_flag_set, &r.done);
  if (r.error != NULL)
    g_propagate_error (error, r.error);

  return r.link;
}

/* Messages and closing */

static void
on_message (KilnLink    *link,
            guint        type,
            GBytes      *payload,
            KilnTestLog *log)
{
  gsize len = g_bytes_get_size (payload);
  guint8 *copy = g_malloc (len + 1);

  copy[0] = type;
  memcpy (copy + 1, g_bytes_get_data (payload, NULL), len);
  g_ptr_array_add (log->messages, g_bytes_new_take (copy, len + 1));
}

static void
on_closed (KilnLink     *link,
           const GError *error,
           gboolean      by_peer,
           KilnTestLog  *log)
{
  g_assert_false (log->closed);
  log->closed = TRUE;
  log->close_error = g_error_copy (error);
  log->by_peer = by_peer;
}

KilnTestLog *
kiln_test_log_new (KilnLink *link)
{
  KilnTestLog *log = g_new0 (KilnTestLog, 1);

  log->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_signal_connect (link, "message-received", G_CALLBACK (on_message), log);
  g_signal_connect (link, "closed", G_CALLBACK (on_closed), log);

  return log;
}

void
kiln_test_log_free (KilnTestLog *log)
{
  g_ptr_array_unref (log->messages);
  g_clear_error (&log->close_error);
  g_free (log);
}

gboolean
kiln_test_log_closed (gpointer data)
{
  return ((KilnTestLog *) data)->closed;
}

void
kiln_test_wait_messages (KilnTestLog *log,
                         guint        n)
{
  wait_array_len (log->messages, n);
}

void
kiln_test_assert_message (KilnTestLog *log,
                          guint        index,
                          guint8       type,
                          GBytes      *payload)
{
  GBytes *got = g_ptr_array_index (log->messages, index);
  const guint8 *data = g_bytes_get_data (got, NULL);

  g_assert_cmpuint (data[0], ==, type);
  g_assert_cmpmem (data + 1, g_bytes_get_size (got) - 1,
                   g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
}

void
kiln_test_send (KilnLink *link,
                guint8    type,
                GBytes   *payload)
{
  kiln_link_send_async (link, type, payload, NULL, NULL, NULL);
}

void
kiln_test_assert_same_address (const KilnAddress *a,
                               const KilnAddress *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (kiln_address_equal (a, b));
}

void
kiln_test_assert_node_serves (KilnTestNode *node)
{
  g_autoptr(KilnKey) key = NULL;
  g_autoptr(KilnLinkConfig) config = kiln_test_config_new (&key);
  g_autoptr(GBytes) ping = g_bytes_new_static ("still there?", 12);
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnLink) link = NULL;
  guint before = node->accepted->len;
  KilnLink *server_side;
  KilnTestLog *client_log, *server_log;

  link = kiln_test_connect (config, "127.0.0.1", node->port, kiln_key_get_address (node->key),
                            &error);
  g_assert_no_error (error);
  kiln_test_wait_accepted (node, before + 1);
  server_side = g_ptr_array_index (node->accepted, before);
  kiln_test_assert_same_address (kiln_link_get_peer_address (server_side),
                                 kiln_key_get_address (key));

  client_log = kiln_test_log_new (link);
  server_log = kiln_test_log_new (server_side);
  kiln_test_send (link, 0x10, ping);
  kiln_test_send (server_side, 0x11, ping);
  kiln_test_wait_messages (client_log, 1);
  kiln_test_wait_messages (server_log, 1);
  kiln_test_assert_message (server_log, 0, 0x10, ping);
  kiln_test_assert_message (client_log, 0, 0x11, ping);

  kiln_link_close (link, KILN_NET_CLOSE_NORMAL, NULL);
  kiln_test_wait_until (kiln_test_log_closed, client_log);
  kiln_test_wait_until (kiln_test_log_closed, server_log);
  g_signal_handlers_disconnect_by_data (link, client_log);
  g_signal_handlers_disconnect_by_data (server_side, server_log);
  kiln_test_log_free (client_log);
  kiln_test_log_free (server_log);
}

/* Raw peers */

static gboolean
accept_any_certificate (GTlsConnection      *tls,
                        GTlsCertificate     *certificate,
                        GTlsCertificateFlags errors,
                        gpointer             data)
{
  return TRUE;
}

static void
raw_start_tls (KilnTestRawPeer *raw,
               gboolean         server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = kiln_tls_certificate_new (&error);
  GIOStream *tls;

  g_assert_no_error (error);
  if (server)
    {
      tls = g_tls_server_connection_new (G_IO_STREAM (raw->tcp), certificate, &error);
      g_object_set (tls, "authentication-mode", G_TLS_AUTHENTICATION_REQUIRED, NULL);
    }
  else
    {
      tls = g_tls_client_connection_new (G_IO_STREAM (raw->tcp), NULL, &error);
      g_tls_connection_set_certificate (G_TLS_CONNECTION (tls), certificate);
    }
  g_assert_no_error (error);
  g_tls_connection_set_database (G_TLS_CONNECTION (tls), NULL);
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_any_certificate), NULL);

  g_assert_true (g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_tls_connection_get_protocol_version (G_TLS_CONNECTION (tls)), ==,
                   G_TLS_PROTOCOL_VERSION_TLS_1_3);
  g_assert_true (kiln_net_channel_binding (G_TLS_CONNECTION (tls), raw->binding, &error));
  g_assert_no_error (error);

  raw->stream = tls;
}

KilnTestRawPeer *
kiln_test_raw_connect (guint16  port,
                       gboolean tls)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  KilnTestRawPeer *raw = g_new0 (KilnTestRawPeer, 1);

  g_socket_client_set_enable_proxy (client, FALSE);
  raw->tcp = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);

  if (tls)
    raw_start_tls (raw, FALSE);
  else
    raw->stream = G_IO_STREAM (g_object_ref (raw->tcp));

  return raw;
}

KilnTestRawPeer *
kiln_test_raw_accept (GSocketListener *listener)
{
  g_autoptr(GError) error = NULL;
  KilnTestRawPeer *raw = g_new0 (KilnTestRawPeer, 1);

  raw->tcp = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);
  raw_start_tls (raw, TRUE);

  return raw;
}

void
kiln_test_raw_free (KilnTestRawPeer *raw)
{
  g_io_stream_close (raw->stream, NULL, NULL);
  g_clear_object (&raw->stream);
  g_clear_object (&raw->tcp);
  g_free (raw);
}

void
kiln_test_raw_write (KilnTestRawPeer *raw,
                     const guint8    *data,
                     gsize            len)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (raw->stream), data, len,
                             NULL, NULL, &error);
  g_assert_no_error (error);
}

void
kiln_test_raw_send (KilnTestRawPeer *raw,
                    guint8           type,
                    GBytes          *payload)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) frame = kiln_frame_encode (type, payload, &error);

  g_assert_no_error (error);
  kiln_test_raw_write (raw, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

GBytes *
kiln_test_raw_read (KilnTestRawPeer *raw,
                    guint8          *type)
{
  GInputStream *in = g_io_stream_get_input_stream (raw->stream);
  guint8 header[KILN_FRAME_HEADER_SIZE];
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *payload = NULL;
  gsize n = 0;
  gsize len = 0;

  if (!g_input_stream_read_all (in, header, sizeof header, &n, NULL, NULL) || n < sizeof header)
    return NULL;
  g_assert_true (kiln_frame_header_parse (header, KILN_FRAME_MAX_PAYLOAD, type, &len, &error));
  g_assert_no_error (error);
  payload = g_malloc (len + 1);
  if (!g_input_stream_read_all (in, payload, len, &n, NULL, NULL) || n < len)
    return NULL;

  return g_bytes_new (payload, len);
}

GBytes *
kiln_test_raw_hello (KilnKey         *key,
                     KilnNetRole      role,
                     KilnTestRawPeer *raw)
{
  g_autoptr(GError) error = NULL;
  KilnNetHello hello;

  g_assert_true (kiln_net_hello_sign (&hello, key, role, raw->binding, &error));
  g_assert_no_error (error);

  return kiln_net_hello_encode (&hello);
}

GBytes *
kiln_test_raw_expect_hello (KilnTestRawPeer   *raw,
                            const KilnAddress *server)
{
  g_autoptr(GError) error = NULL;
  GBytes *payload;
  KilnNetHello hello;
  guint8 type = 0;

  payload = kiln_test_raw_read (raw, &type);
  g_assert_nonnull (payload);
  g_assert_cmpuint (type, ==, KILN_FRAME_HELLO);
  g_assert_true (kiln_net_hello_decode (payload, &hello, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_net_hello_verify (&hello, KILN_NET_ROLE_SERVER, raw->binding, &error));
  g_assert_no_error (error);
  kiln_test_assert_same_address (&hello.address, server);

  return payload;
}

void
kiln_test_raw_expect_close (KilnTestRawPeer   *raw,
                            KilnTestCloseSeen *seen)
{
  g_autoptr(GError) error = NULL;

  for (;;)
    {
      g_autoptr(GBytes) payload = NULL;
      guint8 type = 0;

      payload = kiln_test_raw_read (raw, &type);
      g_assert_nonnull (payload);
      if (type == KILN_FRAME_PING)
        {
          seen->pings++;
          continue;
        }
      g_assert_cmpuint (type, ==, KILN_FRAME_CLOSE);
      g_assert_true (kiln_net_close_decode (payload, &seen->reason, &seen->text, &error));
      g_assert_no_error (error);
      break;
    }

  /* The sender ends the connection after its CLOSE. */
  for (;;)
    {
      g_autoptr(GBytes) more = NULL;
      guint8 type = 0;

      more = kiln_test_raw_read (raw, &type);
      if (more == NULL)
        break;
    }
}

void
kiln_test_script_clear (KilnTestScript *s)
{
  g_clear_pointer (&s->seen.text, g_free);
  g_clear_pointer (&s->seen2.text, g_free);
}

static gpointer
script_thread (gpointer data)
{
  KilnTestScript *s = data;

  s->func (s);
  g_atomic_int_set (&s->done, 1);
  g_main_context_wakeup (NULL);

  return NULL;
}

GThread *
kiln_test_script_start (void          (*func) (KilnTestScript *s),
                        KilnTestScript *s)
{
  s->func = func;
  return g_thread_new ("raw-peer", script_thread, s);
}

void
kiln_test_script_finish (GThread        *thread,
                         KilnTestScript *s)
{
  kiln_test_wait_until (kiln_test_flag_set, &s->done);
  g_thread_join (thread);
}

void
kiln_test_script_run (void          (*func) (KilnTestScript *s),
                      KilnTestScript *s)
{
  kiln_test_script_finish (kiln_test_script_start (func, s), s);
}

KilnLink *
kiln_test_wait_link_closed (KilnTestNode *node,
                            guint         index)
{
  KilnLink *link;

  kiln_test_wait_accepted (node, index + 1);
  link = g_ptr_array_index (node->accepted, index);
  while (kiln_link_get_state (link) != KILN_LINK_STATE_CLOSED)
    g_main_context_iteration (NULL, TRUE);

  return link;
}
