/* kiln-transfer-serve.c: the serving half of file transfer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An upload reads the file one chunk ahead of the frame being written, and sends the next
 * chunk only once the previous frame is on the connection and the fetcher's window has room
 * for it: it never holds more than two chunks of the file, however large.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-transfer-private.h"

typedef struct
{
  KilnTransferLink *tl;            /* NULL once stopped */
  KilnLink         *link;
  GCancellable     *cancellable;
  guint32           id;
  char             *path;
  GFileInputStream *input;
  guint64           offset;        /* next byte of the file to read */
  guint64           size;
  guint64           window;
  guint64           unacked;
  guint8           *reading;       /* the DATA frame being filled, id first */
  gsize             reading_len;
  GBytes           *ready;         /* a DATA frame read and waiting for its turn */
  gboolean          sending;
} Upload;

static void upload_pump (Upload *upload);

static void
upload_clear (Upload *upload)
{
  g_clear_object (&upload->link);
  g_clear_object (&upload->cancellable);
  g_clear_object (&upload->input);
  g_clear_pointer (&upload->path, g_free);
  g_clear_pointer (&upload->ready, g_bytes_unref);
  g_clear_pointer (&upload->reading, g_free);
}

static Upload *
upload_ref (Upload *upload)
{
  return g_rc_box_acquire (upload);
}

static void
upload_unref (Upload *upload)
{
  g_rc_box_release_full (upload, (GDestroyNotify) upload_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Upload, upload_unref)

/* The uploads table's destroy function: whatever is in flight finds tl gone and stops. */
static void
upload_stop (Upload *upload)
{
  upload->tl = NULL;
  g_cancellable_cancel (upload->cancellable);
  upload_unref (upload);
}

GHashTable *
kiln_transfer_uploads_new (void)
{
  return g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) upload_stop);
}

static void
upload_finish (Upload *upload)
{
  g_hash_table_remove (upload->tl->uploads, GUINT_TO_POINTER (upload->id));
}

static void
send_error (KilnTransferLink   *tl,
            guint32             id,
            KilnTransferReason  reason,
            const char         *text)
{
  g_autoptr(GBytes) payload = kiln_transfer_encode_reason (id, reason, text);

  kiln_transfer_link_send (tl, KILN_TRANSFER_FRAME_ERROR, payload);
}

static void
upload_fail (Upload             *upload,
             KilnTransferReason  reason,
             const char         *text)
{
  send_error (upload->tl, upload->id, reason, text);
  upload_finish (upload);
}

static void
on_data_sent (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(Upload) upload = user_data;
  g_autoptr(GError) error = NULL;

  upload->sending = FALSE;
  if (!kiln_link_send_finish (KILN_LINK (object), result, &error))
    {
      /* The link is closing; its ::closed ends the upload. */
      if (upload->tl != NULL)
        upload_finish (upload);
      return;
    }

  upload_pump (upload);
}

static void
on_chunk_read (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(Upload) upload = user_data;
  g_autoptr(GError) error = NULL;
  gsize n = 0;

  g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, &error);
  if (upload->tl == NULL)
    return;

  if (error != NULL || n < upload->reading_len - KILN_TRANSFER_ID_SIZE)
    {
      g_autofree char *text = NULL;

      text = g_strdup_printf ("Cannot read the file: %s",
                              error != NULL ? error->message : "it became shorter");
      g_warning ("Cannot serve “%s”: %s", upload->path, text);
      upload_fail (upload, KILN_TRANSFER_REASON_IO, text);
      return;
    }

  upload->offset += n;
  upload->ready = g_bytes_new_take (g_steal_pointer (&upload->reading), upload->reading_len);
  upload_pump (upload);
}

static void
upload_pump (Upload *upload)
{
  KilnTransferLink *tl = upload->tl;

  if (tl == NULL)
    return;

  /* Send the chunk that is ready, when the fetcher has room for it. */
  if (!upload->sending && upload->ready != NULL)
    {
      gsize len = g_bytes_get_size (upload->ready) - KILN_TRANSFER_ID_SIZE;

      if (upload->unacked + len <= upload->window)
        {
          g_autoptr(GBytes) frame = g_steal_pointer (&upload->ready);

          upload->sending = TRUE;
          upload->unacked += len;
          tl->transfer->bytes_served += len;
          kiln_link_send_async (upload->link, KILN_TRANSFER_FRAME_DATA, frame,
                                upload->cancellable, on_data_sent, upload_ref (upload));
        }
    }

  /* Read the next chunk while that one is written. */
  if (upload->reading == NULL && upload->ready == NULL && upload->offset < upload->size)
    {
      gsize len = MIN (MIN (upload->size - upload->offset, KILN_TRANSFER_CHUNK_SIZE),
                       upload->window);

      upload->reading_len = KILN_TRANSFER_ID_SIZE + len;
      upload->reading = g_malloc (upload->reading_len);
      kiln_transfer_put_u32 (upload->reading, upload->id);
      g_input_stream_read_all_async (G_INPUT_STREAM (upload->input),
                                     upload->reading + KILN_TRANSFER_ID_SIZE, len,
                                     G_PRIORITY_DEFAULT, upload->cancellable,
                                     on_chunk_read, upload_ref (upload));
    }

  if (upload->offset == upload->size && upload->reading == NULL && upload->ready == NULL
      && !upload->sending)
    {
      guint8 id[KILN_TRANSFER_ID_SIZE];
      g_autoptr(GBytes) end = NULL;

      kiln_transfer_put_u32 (id, upload->id);
      end = g_bytes_new (id, sizeof id);
      kiln_transfer_link_send (tl, KILN_TRANSFER_FRAME_END, end);
      upload_finish (upload);
    }
}

/* In a thread: the file opened at the asked offset. */
static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Upload *upload = task_data;
  g_autoptr(GFile) file = g_file_new_for_path (upload->path);
  g_autoptr(GFileInputStream) input = NULL;
  g_autoptr(GFileInfo) info = NULL;
  GError *error = NULL;

  input = g_file_read (file, cancellable, &error);
  if (input != NULL)
    info = g_file_input_stream_query_info (input, G_FILE_ATTRIBUTE_STANDARD_SIZE, cancellable,
                                           &error);
  if (info == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  upload->size = g_file_info_get_size (info);
  if (upload->offset <= upload->size
      && !g_seekable_seek (G_SEEKABLE (input), upload->offset, G_SEEK_SET, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  upload->input = g_steal_pointer (&input);
  g_task_return_boolean (task, TRUE);
}

static void
on_opened (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(Upload) upload = user_data;
  g_autoptr(GError) error = NULL;
  guint8 header[KILN_TRANSFER_HEADER_SIZE];
  g_autoptr(GBytes) payload = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (upload->tl != NULL)
        {
          g_autofree char *text = g_strdup_printf ("Cannot read the file: %s", error->message);

          upload_fail (upload, KILN_TRANSFER_REASON_IO, text);
        }
      return;
    }
  if (upload->tl == NULL)
    return;

  if (upload->offset > upload->size)
    {
      upload_fail (upload, KILN_TRANSFER_REASON_BAD_REQUEST, "The offset is past the end");
      return;
    }

  kiln_transfer_put_u32 (header, upload->id);
  kiln_transfer_put_u64 (header + KILN_TRANSFER_ID_SIZE, upload->size);
  payload = g_bytes_new (header, sizeof header);
  kiln_transfer_link_send (upload->tl, KILN_TRANSFER_FRAME_HEADER, payload);
  upload_pump (upload);
}

void
kiln_transfer_serve_request (KilnTransferLink *tl,
                             GBytes           *payload)
{
  const guint8 *data = g_bytes_get_data (payload, NULL);
  g_autofree char *hash = NULL;
  g_autofree char *path = NULL;
  g_autofree char *not_found = NULL;
  g_autoptr(GTask) task = NULL;
  KilnTransferReason reason = KILN_TRANSFER_REASON_NOT_FOUND;
  const char *refusal = NULL;
  Upload *upload;
  guint32 id, window;

  if (g_bytes_get_size (payload) != KILN_TRANSFER_REQUEST_SIZE)
    {
      kiln_transfer_link_violation (tl, "Malformed file transfer REQUEST");
      return;
    }

  id = kiln_transfer_get_u32 (data);
  hash = kiln_content_hash_to_hex (data + 4);
  window = kiln_transfer_get_u32 (data + 44);

  if (!tl->serving)
    refusal = "This node serves no files on this link";
  else if (g_hash_table_contains (tl->uploads, GUINT_TO_POINTER (id)))
    {
      reason = KILN_TRANSFER_REASON_BAD_REQUEST;
      refusal = "This transfer id is already in use";
    }
  else if (window == 0)
    {
      reason = KILN_TRANSFER_REASON_BAD_REQUEST;
      refusal = "The window is empty";
    }
  else if (g_hash_table_size (tl->uploads) >= KILN_TRANSFER_MAX_UPLOADS)
    {
      reason = KILN_TRANSFER_REASON_BUSY;
      refusal = "Too many transfers at once on this link; try again later";
    }
  else if ((path = kiln_content_store_lookup (tl->transfer->store, hash)) == NULL)
    refusal = not_found = g_strdup_printf ("No file with SHA-256 %s here", hash);

  if (refusal != NULL)
    {
      send_error (tl, id, reason, refusal);
      return;
    }

  upload = g_rc_box_new0 (Upload);
  upload->tl = tl;
  upload->link = g_object_ref (tl->link);
  upload->cancellable = g_cancellable_new ();
  upload->id = id;
  upload->path = g_steal_pointer (&path);
  upload->offset = kiln_transfer_get_u64 (data + 36);
  upload->window = window;
  g_hash_table_insert (tl->uploads, GUINT_TO_POINTER (id), upload);

  /* The callback holds the reference, so the upload is never freed in the thread. */
  task = g_task_new (NULL, upload->cancellable, on_opened, upload_ref (upload));
  g_task_set_source_tag (task, kiln_transfer_serve_request);
  g_task_set_task_data (task, upload, NULL);
  g_task_run_in_thread (task, open_thread);
}

void
kiln_transfer_serve_ack (KilnTransferLink *tl,
                         GBytes           *payload)
{
  const guint8 *data = g_bytes_get_data (payload, NULL);
  Upload *upload;
  guint32 bytes;

  if (g_bytes_get_size (payload) != KILN_TRANSFER_ACK_SIZE)
    {
      kiln_transfer_link_violation (tl, "Malformed file transfer ACK");
      return;
    }

  /* An upload that ended may still get the acknowledgements of its last chunks. */
  upload = g_hash_table_lookup (tl->uploads, GUINT_TO_POINTER (kiln_transfer_get_u32 (data)));
  if (upload == NULL)
    return;

  bytes = kiln_transfer_get_u32 (data + 4);
  if (bytes > upload->unacked)
    {
      kiln_transfer_link_violation (tl, "File transfer ACK for bytes never sent");
      return;
    }
  upload->unacked -= bytes;
  upload_pump (upload);
}

void
kiln_transfer_serve_stop (KilnTransferLink *tl,
                          GBytes           *payload)
{
  if (g_bytes_get_size (payload) < KILN_TRANSFER_ID_SIZE + 2
      || g_bytes_get_size (payload) > KILN_TRANSFER_ID_SIZE + 2 + KILN_TRANSFER_TEXT_MAX)
    {
      kiln_transfer_link_violation (tl, "Malformed file transfer STOP");
      return;
    }

  g_hash_table_remove (tl->uploads,
                       GUINT_TO_POINTER (kiln_transfer_get_u32 (g_bytes_get_data (payload,
                                                                                  NULL))));
}
