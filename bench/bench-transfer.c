/* bench-transfer.c: fetching a file over a link against a plain loopback socket copy
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both copies move the same 256 MiB file from one folder to another over 127.0.0.1 in this
 * process. The transfer adds TLS, framing, flow control, SHA-256 verification and the sync
 * before the file becomes visible; the plain copy is read() → send() → recv() → write().
 */
#include <string.h>

#include <glib/gstdio.h>

#include "libkiln.h"
#include "kiln-transfer.h"

#define MiB        (1024 * 1024)
#define FILE_SIZE  (256 * MiB)
#define BUFFER     (256 * 1024)

static void
check (GError *error)
{
  if (error != NULL)
    g_error ("%s", error->message);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
on_result (GObject      *object,
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

static char *
make_source (const char       *scratch,
             KilnContentStore *store)
{
  g_autofree char *path = g_build_filename (scratch, "source", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = NULL;
  g_autofree guint32 *buffer = g_malloc (MiB);
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;
  guint32 x = 88172645u;
  char *hash;

  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
  check (error);
  for (gsize done = 0; done < FILE_SIZE; done += MiB)
    {
      for (gsize i = 0; i < MiB / 4; i++)
        {
          x ^= x << 13;
          x ^= x >> 17;
          x ^= x << 5;
          buffer[i] = x;
        }
      g_output_stream_write_all (G_OUTPUT_STREAM (out), buffer, MiB, NULL, NULL, &error);
      check (error);
    }
  g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error);
  check (error);

  kiln_content_store_add_file_async (store, file, NULL, on_result, &result);
  hash = kiln_content_store_add_file_finish (store, wait_result (&result), &error);
  check (error);
  g_unlink (path);

  return hash;
}

/* The transfer */

static void
on_link_accepted (KilnLinkListener *listener,
                  KilnLink         *link,
                  KilnTransfer     *server)
{
  kiln_transfer_serve (server, link);
}

static double
time_transfer (const char       *scratch,
               KilnContentStore *server_store,
               const char       *hash)
{
  g_autofree char *client_dir = g_build_filename (scratch, "client", NULL);
  g_autoptr(KilnKey) server_key = kiln_key_generate (NULL);
  g_autoptr(KilnKey) client_key = kiln_key_generate (NULL);
  g_autoptr(KilnLinkConfig) server_config = NULL;
  g_autoptr(KilnLinkConfig) client_config = NULL;
  g_autoptr(KilnLinkListener) listener = NULL;
  g_autoptr(KilnContentStore) client_store = NULL;
  g_autoptr(KilnTransfer) server = kiln_transfer_new (server_store);
  g_autoptr(KilnTransfer) client = NULL;
  g_autoptr(KilnLink) link = NULL;
  g_autoptr(GAsyncResult) connected = NULL;
  g_autoptr(GAsyncResult) fetched = NULL;
  g_autofree char *path = NULL;
  GError *error = NULL;
  guint16 port = 0;
  gint64 start, elapsed;

  server_config = kiln_link_config_new (server_key, &error);
  check (error);
  client_config = kiln_link_config_new (client_key, &error);
  check (error);
  client_store = kiln_content_store_new (client_dir, 2 * (guint64) FILE_SIZE, &error);
  check (error);
  client = kiln_transfer_new (client_store);

  listener = kiln_link_listener_new (server_config);
  g_signal_connect (listener, "link-accepted", G_CALLBACK (on_link_accepted), server);
  kiln_link_listener_listen (listener, "127.0.0.1", 0, &port, &error);
  check (error);
  kiln_link_connect_async (client_config, "127.0.0.1", port, NULL, NULL, on_result, &connected);
  link = kiln_link_connect_finish (wait_result (&connected), &error);
  check (error);
  while (kiln_link_listener_get_n_links (listener) == 0)
    g_main_context_iteration (NULL, TRUE);

  start = g_get_monotonic_time ();
  kiln_transfer_fetch_async (client, link, hash, FILE_SIZE, NULL, NULL, NULL, NULL,
                             on_result, &fetched);
  path = kiln_transfer_fetch_finish (client, wait_result (&fetched), &error);
  elapsed = g_get_monotonic_time () - start;
  check (error);

  kiln_link_close (link, KILN_NET_CLOSE_NORMAL, NULL);
  while (kiln_link_get_state (link) != KILN_LINK_STATE_CLOSED)
    g_main_context_iteration (NULL, TRUE);
  kiln_link_listener_close (listener, "Done");
  g_signal_handlers_disconnect_by_data (listener, server);

  return (double) FILE_SIZE / MiB / (elapsed / (double) G_USEC_PER_SEC);
}

/* The plain copy */

typedef struct
{
  GSocketListener *listener;
  char            *path;
} Sender;

static gpointer
send_thread (gpointer data)
{
  Sender *sender = data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autofree guint8 *buffer = g_malloc (BUFFER);
  GOutputStream *out;
  GError *error = NULL;
  FILE *file;
  gsize n;

  connection = g_socket_listener_accept (sender->listener, NULL, NULL, &error);
  check (error);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  file = fopen (sender->path, "rb");
  g_assert (file != NULL);
  while ((n = fread (buffer, 1, BUFFER, file)) > 0)
    {
      g_output_stream_write_all (out, buffer, n, NULL, NULL, &error);
      check (error);
    }
  fclose (file);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);

  return NULL;
}

static double
time_plain_copy (const char *scratch,
                 const char *source)
{
  g_autofree char *target = g_build_filename (scratch, "plain-copy", NULL);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autofree guint8 *buffer = g_malloc (BUFFER);
  Sender sender = { listener, (char *) source };
  GError *error = NULL;
  GInputStream *in;
  GThread *thread;
  gint64 start, elapsed;
  guint64 total = 0;
  FILE *file;
  gssize n;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  check (error);
  g_socket_client_set_enable_proxy (client, FALSE);

  start = g_get_monotonic_time ();
  thread = g_thread_new ("plain-sender", send_thread, &sender);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (bound), NULL, &error);
  check (error);
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  file = fopen (target, "wb");
  g_assert (file != NULL);
  while ((n = g_input_stream_read (in, buffer, BUFFER, NULL, &error)) > 0)
    {
      g_assert (fwrite (buffer, 1, n, file) == (gsize) n);
      total += n;
    }
  check (error);
  fclose (file);
  elapsed = g_get_monotonic_time () - start;
  g_thread_join (thread);
  g_assert (total == FILE_SIZE);
  g_unlink (target);

  return (double) FILE_SIZE / MiB / (elapsed / (double) G_USEC_PER_SEC);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(KilnContentStore) server_store = NULL;
  g_autofree char *scratch = NULL;
  g_autofree char *server_dir = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *source = NULL;
  GError *error = NULL;
  double plain, transfer;

  scratch = g_dir_make_tmp ("kiln-bench-transfer-XXXXXX", &error);
  check (error);
  server_dir = g_build_filename (scratch, "server", NULL);
  server_store = kiln_content_store_new (server_dir, 2 * (guint64) FILE_SIZE, &error);
  check (error);
  hash = make_source (scratch, server_store);
  source = kiln_content_store_lookup (server_store, hash);

  plain = time_plain_copy (scratch, source);
  transfer = time_transfer (scratch, server_store, hash);

  g_print ("transfer: %.0f MiB/s (plain loopback socket: %.0f MiB/s, ratio %.2f)\n",
           transfer, plain, transfer / plain);

  g_clear_object (&server_store);
  remove_tree (scratch);

  return 0;
}
