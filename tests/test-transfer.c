/* test-transfer.c: files fetched by SHA-256 between two nodes linked over loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "kiln-test-link.h"
#include "kiln-test-util.h"
#include "kiln-transfer.h"

#define MiB (1024 * 1024)

/* Two nodes: the listening one serves from its store, the connecting one fetches. */
typedef struct
{
  char             *scratch;
  KilnTestNode     *node;
  KilnContentStore *server_store;
  KilnTransfer     *server;
  KilnLinkConfig   *client_config;
  KilnContentStore *client_store;
  KilnTransfer     *client;
  KilnLink         *link;          /* the client's end */
  KilnLink         *server_side;
} Fixture;

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
        g_assert_cmpint (g_unlink (child), ==, 0);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

/* A new link from the client to the node; the node serves on it when @serve. */
static void
connect_link (Fixture  *f,
              gboolean  serve)
{
  g_autoptr(GError) error = NULL;
  guint before = f->node->accepted->len;

  g_clear_object (&f->link);
  f->link = kiln_test_connect (f->client_config, "127.0.0.1", f->node->port,
                               kiln_key_get_address (f->node->key), &error);
  g_assert_no_error (error);
  kiln_test_wait_accepted (f->node, before + 1);
  f->server_side = g_ptr_array_index (f->node->accepted, before);
  if (serve)
    kiln_transfer_serve (f->server, f->server_side);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *server_dir = NULL;
  g_autofree char *client_dir = NULL;

  f->scratch = g_dir_make_tmp ("kiln-transfer-XXXXXX", &error);
  g_assert_no_error (error);
  server_dir = g_build_filename (f->scratch, "server", NULL);
  client_dir = g_build_filename (f->scratch, "client", NULL);
  f->server_store = kiln_content_store_new (server_dir, G_GUINT64_CONSTANT (1) << 32, &error);
  g_assert_no_error (error);
  f->client_store = kiln_content_store_new (client_dir, G_GUINT64_CONSTANT (1) << 32, &error);
  g_assert_no_error (error);
  f->server = kiln_transfer_new (f->server_store);
  f->client = kiln_transfer_new (f->client_store);

  f->node = kiln_test_node_new ();
  f->client_config = kiln_test_config_new (NULL);
  connect_link (f, data == NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  kiln_link_close (f->link, KILN_NET_CLOSE_NORMAL, NULL);
  kiln_test_node_free (f->node);
  kiln_test_assert_finalize_soon (f->client);
  kiln_test_assert_finalize_soon (f->server);
  kiln_test_assert_finalize_soon (f->link);
  kiln_test_assert_finalize_soon (f->client_store);
  kiln_test_assert_finalize_soon (f->server_store);
  g_object_unref (f->client_config);
  remove_tree (f->scratch);
  g_free (f->scratch);
}

static void
on_result (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Writes @size pseudo-random bytes a mebibyte at a time; adds the file to @store. */
static char *
add_random_file (Fixture          *f,
                 KilnContentStore *store,
                 gsize             size)
{
  g_autofree char *path = g_build_filename (f->scratch, "source", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = NULL;
  g_autofree guint32 *buffer = g_malloc (MiB);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *hash;

  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
  g_assert_no_error (error);
  for (gsize done = 0; done < size; done += MiB)
    {
      for (gsize i = 0; i < MiB / 4; i++)
        buffer[i] = g_random_int ();
      g_output_stream_write_all (G_OUTPUT_STREAM (out), buffer, MIN (MiB, size - done), NULL,
                                 NULL, &error);
      g_assert_no_error (error);
    }
  g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error);
  g_assert_no_error (error);

  kiln_content_store_add_file_async (store, file, NULL, on_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  hash = kiln_content_store_add_file_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (path), ==, 0);

  return hash;
}

/* Fetching */

typedef struct
{
  int           done;
  char         *path;
  GError       *error;
  guint         progress_calls;
  guint64       first_received;
  guint64       last_received;
  guint64       total;
  GCancellable *cancel;            /* cancelled once @cancel_at bytes are stored */
  guint64       cancel_at;
} FetchRun;

static void
fetch_run_clear (FetchRun *run)
{
  g_clear_pointer (&run->path, g_free);
  g_clear_error (&run->error);
  memset (run, 0, sizeof *run);
}

static void
on_progress (guint64  received,
             guint64  total,
             gpointer user_data)
{
  FetchRun *run = user_data;

  if (run->progress_calls++ == 0)
    run->first_received = received;
  g_assert_cmpuint (received, >=, run->last_received);
  g_assert_cmpuint (received, <=, total);
  run->last_received = received;
  run->total = total;
  if (run->cancel != NULL && received >= run->cancel_at)
    g_cancellable_cancel (run->cancel);
}

static void
on_fetched (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  FetchRun *run = user_data;

  run->path = kiln_transfer_fetch_finish (KILN_TRANSFER (object), result, &run->error);
  g_assert_true ((run->path == NULL) != (run->error == NULL));
  run->done = TRUE;
}

static void
fetch (Fixture    *f,
       const char *hash,
       guint64     expected_size,
       FetchRun   *run)
{
  kiln_transfer_fetch_async (f->client, f->link, hash, expected_size, on_progress, run, NULL,
                             run->cancel, on_fetched, run);
  kiln_test_wait_until (kiln_test_flag_set, &run->done);
}

static char *
hash_file (const char *path)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buffer = g_malloc (MiB);
  FILE *file = fopen (path, "rb");
  gsize n;

  g_assert_nonnull (file);
  while ((n = fread (buffer, 1, MiB, file)) > 0)
    g_checksum_update (checksum, buffer, n);
  fclose (file);

  return g_strdup (g_checksum_get_string (checksum));
}

static void
assert_fetched (Fixture    *f,
                const char *hash,
                FetchRun   *run)
{
  g_autofree char *stored = kiln_content_store_lookup (f->client_store, hash);
  g_autofree char *actual = NULL;

  g_assert_no_error (run->error);
  g_assert_cmpstr (run->path, ==, stored);
  actual = hash_file (run->path);
  g_assert_cmpstr (actual, ==, hash);
  g_assert_cmpuint (kiln_content_store_get_partial_size (f->client_store, hash), ==, 0);
}

/* Frames seen on a link, and an optional cut after a number of DATA frames. */
typedef struct
{
  guint     data_frames;
  guint64   data_bytes;
  guint     requests;
  guint     stops;
  guint     stop_reason;
  guint     close_after;
  KilnLink *close_link;
} FrameCount;

static void
on_counted_frame (KilnLink   *link,
                  guint       type,
                  GBytes     *payload,
                  FrameCount *count)
{
  const guint8 *data = g_bytes_get_data (payload, NULL);

  if (type == KILN_TRANSFER_FRAME_REQUEST)
    count->requests++;
  if (type == KILN_TRANSFER_FRAME_STOP)
    {
      count->stops++;
      count->stop_reason = data[4] << 8 | data[5];
    }
  if (type != KILN_TRANSFER_FRAME_DATA)
    return;

  count->data_frames++;
  count->data_bytes += g_bytes_get_size (payload) - 4;
  if (count->close_after != 0 && count->data_frames == count->close_after)
    kiln_link_close (count->close_link, KILN_NET_CLOSE_NORMAL, "Serving stopped");
}

/* Tests */

static guint64
status_kib (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, field);
  g_assert_nonnull (line);

  return g_ascii_strtoull (line + strlen (field), NULL, 10);
}

static void
test_large_bounded_memory (Fixture       *f,
                           gconstpointer  data)
{
  const gsize size = 64 * MiB;
  g_autofree char *hash = add_random_file (f, f->server_store, size);
  FetchRun run = { 0 };
  guint64 before, peak;
  FILE *clear;

  /* Peak RSS from here on: the kernel resets VmHWM on "5" (Linux 4.0). */
  clear = fopen ("/proc/self/clear_refs", "w");
  if (clear != NULL)
    {
      fputs ("5", clear);
      fclose (clear);
    }
  before = status_kib ("VmRSS:");

  fetch (f, hash, size, &run);
  peak = status_kib ("VmHWM:");
  g_test_message ("RSS before %" G_GUINT64_FORMAT " KiB, peak during the transfer %"
                  G_GUINT64_FORMAT " KiB", before, peak);

  assert_fetched (f, hash, &run);
  g_assert_cmpuint (peak - MIN (peak, before), <, 32 * 1024);
  g_assert_cmpuint (kiln_transfer_get_bytes_served (f->server), ==, size);
  g_assert_cmpuint (kiln_transfer_get_bytes_fetched (f->client), ==, size);
  g_assert_cmpuint (run.last_received, ==, size);
  g_assert_cmpuint (run.total, ==, size);
  g_assert_cmpuint (run.progress_calls, >, 2);
  fetch_run_clear (&run);

  /* Already there: given at once, nothing sent. */
  fetch (f, hash, 0, &run);
  assert_fetched (f, hash, &run);
  g_assert_cmpuint (kiln_transfer_get_bytes_served (f->server), ==, size);
  fetch_run_clear (&run);
}

static void
test_resume_after_lost_link (Fixture       *f,
                             gconstpointer  data)
{
  const gsize size = 8 * MiB;
  g_autofree char *hash = add_random_file (f, f->server_store, size);
  FrameCount first = { .close_after = 8, .close_link = f->server_side };
  FrameCount second = { 0 };
  FetchRun run = { 0 };
  guint64 part, served;

  g_signal_connect (f->link, "message-received", G_CALLBACK (on_counted_frame), &first);
  fetch (f, hash, 0, &run);
  g_assert_error (run.error, KILN_NET_ERROR, KILN_NET_ERROR_CLOSED);
  g_assert_nonnull (strstr (run.error->message, "Serving stopped"));
  g_signal_handlers_disconnect_by_data (f->link, &first);
  fetch_run_clear (&run);

  /* Everything that arrived was kept. */
  part = kiln_content_store_get_partial_size (f->client_store, hash);
  g_assert_cmpuint (first.data_frames, >=, 8);
  g_assert_cmpuint (part, ==, first.data_bytes);
  g_assert_cmpuint (part, >=, 8 * KILN_TRANSFER_CHUNK_SIZE);
  g_assert_cmpuint (part, <, size);
  g_assert_null (kiln_content_store_lookup (f->client_store, hash));

  /* A new link: only the rest travels. */
  connect_link (f, TRUE);
  served = kiln_transfer_get_bytes_served (f->server);
  g_signal_connect (f->link, "message-received", G_CALLBACK (on_counted_frame), &second);
  fetch (f, hash, size, &run);
  assert_fetched (f, hash, &run);
  g_assert_cmpuint (run.first_received, ==, part);
  g_assert_cmpuint (second.data_bytes, ==, size - part);
  g_assert_cmpuint (kiln_transfer_get_bytes_served (f->server) - served, ==, size - part);
  g_signal_handlers_disconnect_by_data (f->link, &second);
  fetch_run_clear (&run);
}

static void
test_corrupt_source (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *hash = add_random_file (f, f->server_store, 3 * MiB + 5);
  g_autofree char *path = kiln_content_store_lookup (f->server_store, hash);
  FetchRun run = { 0 };
  FILE *file;
  int byte;

  /* One flipped bit in the middle of the served file. */
  file = fopen (path, "r+b");
  g_assert_nonnull (file);
  g_assert_cmpint (fseek (file, 1500000, SEEK_SET), ==, 0);
  byte = fgetc (file);
  g_assert_cmpint (fseek (file, 1500000, SEEK_SET), ==, 0);
  fputc (byte ^ 0x10, file);
  fclose (file);

  fetch (f, hash, 0, &run);
  g_assert_error (run.error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (run.error->message, "deleted"));
  g_assert_nonnull (strstr (run.error->message, hash));
  g_assert_null (kiln_content_store_lookup (f->client_store, hash));
  g_assert_cmpuint (kiln_content_store_get_partial_size (f->client_store, hash), ==, 0);
  g_assert_cmpuint (kiln_content_store_get_used (f->client_store), ==, 0);
  fetch_run_clear (&run);
}

static void
test_not_found (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "nowhere", -1);
  FetchRun run = { 0 };

  fetch (f, hash, 0, &run);
  g_assert_error (run.error, KILN_TRANSFER_ERROR, KILN_TRANSFER_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (run.error->message, hash));
  g_assert_nonnull (strstr (run.error->message, "does not have"));
  g_assert_cmpuint (kiln_content_store_get_partial_size (f->client_store, hash), ==, 0);
  fetch_run_clear (&run);

  /* Not a hash at all. */
  fetch (f, "../../etc/passwd", 0, &run);
  g_assert_error (run.error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_INVALID_HASH);
  fetch_run_clear (&run);
}

static void
test_quota (Fixture       *f,
            gconstpointer  data)
{
  const gsize size = 12 * MiB;
  g_autofree char *hash = add_random_file (f, f->server_store, size);
  FrameCount seen = { 0 };
  FetchRun run = { 0 };

  kiln_content_store_set_quota (f->client_store, 8 * MiB);
  g_signal_connect (f->server_side, "message-received", G_CALLBACK (on_counted_frame), &seen);

  /* Known size: refused before asking. */
  fetch (f, hash, size, &run);
  g_assert_error (run.error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA);
  fetch_run_clear (&run);
  kiln_test_run_for (100);
  g_assert_cmpuint (seen.requests, ==, 0);

  /* Size learnt from the HEADER: refused before writing, and the server is told to stop. */
  fetch (f, hash, 0, &run);
  g_assert_error (run.error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA);
  fetch_run_clear (&run);
  g_assert_cmpuint (seen.requests, ==, 1);
  while (seen.stops == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (seen.stop_reason, ==, KILN_TRANSFER_REASON_QUOTA);
  g_assert_cmpuint (kiln_content_store_get_partial_size (f->client_store, hash), ==, 0);
  g_assert_cmpuint (kiln_content_store_get_used (f->client_store), ==, 0);
  kiln_test_run_for (100);
  g_assert_cmpuint (kiln_transfer_get_bytes_served (f->server), <=, KILN_TRANSFER_WINDOW);
  g_signal_handlers_disconnect_by_data (f->server_side, &seen);
}

/* A hostile server: announces 1000 bytes, then sends 1200. */
static void
on_lying_request (KilnLink   *link,
                  guint       type,
                  GBytes     *payload,
                  FrameCount *count)
{
  const guint8 *data = g_bytes_get_data (payload, NULL);
  guint8 header[12] = { data[0], data[1], data[2], data[3], 0, 0, 0, 0, 0, 0, 0x03, 0xe8 };
  guint8 chunk[4 + 600] = { data[0], data[1], data[2], data[3] };
  g_autoptr(GBytes) header_bytes = g_bytes_new (header, sizeof header);
  g_autoptr(GBytes) chunk_bytes = g_bytes_new (chunk, sizeof chunk);

  if (type != KILN_TRANSFER_FRAME_REQUEST)
    return;
  g_assert_cmpuint (g_bytes_get_size (payload), ==, KILN_TRANSFER_REQUEST_SIZE);
  kiln_test_send (link, KILN_TRANSFER_FRAME_HEADER, header_bytes);
  kiln_test_send (link, KILN_TRANSFER_FRAME_DATA, chunk_bytes);
  kiln_test_send (link, KILN_TRANSFER_FRAME_DATA, chunk_bytes);
}

static void
test_more_than_declared (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "liar", -1);
  FrameCount seen = { 0 };
  FetchRun run = { 0 };

  g_signal_connect (f->server_side, "message-received", G_CALLBACK (on_counted_frame), &seen);
  g_signal_connect (f->server_side, "message-received", G_CALLBACK (on_lying_request), &seen);

  fetch (f, hash, 0, &run);
  g_assert_error (run.error, KILN_TRANSFER_ERROR, KILN_TRANSFER_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (run.error->message, "more than the 1000 bytes"));
  fetch_run_clear (&run);
  while (seen.stops == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (seen.stop_reason, ==, KILN_TRANSFER_REASON_PROTOCOL);

  /* A size other than the one expected is refused at the HEADER. */
  fetch (f, hash, 5000, &run);
  g_assert_error (run.error, KILN_TRANSFER_ERROR, KILN_TRANSFER_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (run.error->message, "1000 bytes instead of 5000"));
  fetch_run_clear (&run);

  g_assert_null (kiln_content_store_lookup (f->client_store, hash));
  g_assert_cmpint (kiln_link_get_state (f->link), ==, KILN_LINK_STATE_OPEN);
  g_signal_handlers_disconnect_by_data (f->server_side, &seen);
}

static void
test_cancel_keeps_part (Fixture       *f,
                        gconstpointer  data)
{
  const gsize size = 16 * MiB;
  g_autofree char *hash = add_random_file (f, f->server_store, size);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  FrameCount seen = { 0 };
  FrameCount second = { 0 };
  FetchRun run = { .cancel = cancellable, .cancel_at = 2 * MiB };
  guint64 part, served;

  g_signal_connect (f->server_side, "message-received", G_CALLBACK (on_counted_frame), &seen);
  fetch (f, hash, size, &run);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  fetch_run_clear (&run);
  part = kiln_content_store_get_partial_size (f->client_store, hash);
  g_assert_cmpuint (part, >=, 2 * MiB);
  g_assert_cmpuint (part, <, size);

  /* The server heard of it and stopped short. */
  while (seen.stops == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (seen.stop_reason, ==, KILN_TRANSFER_REASON_CANCELLED);
  kiln_test_run_for (200);
  served = kiln_transfer_get_bytes_served (f->server);
  g_assert_cmpuint (served, <, size);

  /* Resumed on the same link from where it stopped. */
  g_signal_connect (f->link, "message-received", G_CALLBACK (on_counted_frame), &second);
  fetch (f, hash, size, &run);
  assert_fetched (f, hash, &run);
  g_assert_cmpuint (run.first_received, ==, part);
  g_assert_cmpuint (second.data_bytes, ==, size - part);
  g_assert_cmpuint (kiln_transfer_get_bytes_served (f->server) - served, ==, size - part);
  g_signal_handlers_disconnect_by_data (f->link, &second);
  g_signal_handlers_disconnect_by_data (f->server_side, &seen);
  fetch_run_clear (&run);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/kiln/transfer/large-bounded-memory", Fixture, NULL,
              fixture_set_up, test_large_bounded_memory, fixture_tear_down);
  g_test_add ("/kiln/transfer/resume-after-lost-link", Fixture, NULL,
              fixture_set_up, test_resume_after_lost_link, fixture_tear_down);
  g_test_add ("/kiln/transfer/corrupt-source", Fixture, NULL,
              fixture_set_up, test_corrupt_source, fixture_tear_down);
  g_test_add ("/kiln/transfer/not-found", Fixture, NULL,
              fixture_set_up, test_not_found, fixture_tear_down);
  g_test_add ("/kiln/transfer/quota", Fixture, NULL,
              fixture_set_up, test_quota, fixture_tear_down);
  g_test_add ("/kiln/transfer/more-than-declared", Fixture, "hostile",
              fixture_set_up, test_more_than_declared, fixture_tear_down);
  g_test_add ("/kiln/transfer/cancel-keeps-part", Fixture, NULL,
              fixture_set_up, test_cancel_keeps_part, fixture_tear_down);

  return g_test_run ();
}
