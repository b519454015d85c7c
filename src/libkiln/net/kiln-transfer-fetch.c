/* kiln-transfer-fetch.c: the fetching half of file transfer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A fetch hands the DATA it receives to a thread that appends it to the .part and to the
 * running hash, and acknowledges each batch once it is written: the peer never has more than
 * a window of unwritten bytes out, so memory stays bounded even when the disk is slower than
 * the network.
 */
#include "config.h"

#include <inttypes.h>

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-transfer-private.h"

typedef struct
{
  KilnTransfer         *transfer;
  KilnTransferLink     *tl;          /* NULL until registered and once unregistered */
  KilnLink             *link;
  char                 *hash;
  guint8                digest[KILN_CONTENT_HASH_SIZE];
  guint64               expected_size;
  guint32               id;
  KilnContentPartial   *partial;
  KilnTransferProgress  progress;
  gpointer              progress_data;
  GDestroyNotify        progress_data_free;
  GSource              *cancel_source;

  gboolean              has_header;
  guint64               size;
  guint64               received;    /* offset + DATA bytes received */
  guint64               stored;      /* bytes in the .part */
  GPtrArray            *pending;     /* GBytes of DATA not yet handed to a write */
  GPtrArray            *batch;       /* GBytes being written by a thread */
  gsize                 batch_written;
  gboolean              ended;

  /* Work in a thread; the fetch completes only once none is running. */
  gboolean              opening;
  gboolean              writing;
  gboolean              committing;
  gboolean              completed;
  GError               *error;
} Fetch;

static void fetch_fail       (GTask  *task,
                              GError *error,
                              int     stop_reason);
static void fetch_next       (GTask  *task);

static void
fetch_free (Fetch *fetch)
{
  g_assert (fetch->tl == NULL);
  g_assert (!fetch->opening && !fetch->writing && !fetch->committing);

  if (fetch->cancel_source != NULL)
    g_source_destroy (fetch->cancel_source);
  g_clear_pointer (&fetch->cancel_source, g_source_unref);
  g_clear_pointer (&fetch->partial, kiln_content_partial_free);
  if (fetch->progress_data_free != NULL)
    fetch->progress_data_free (fetch->progress_data);
  g_clear_pointer (&fetch->pending, g_ptr_array_unref);
  g_clear_pointer (&fetch->batch, g_ptr_array_unref);
  g_clear_error (&fetch->error);
  g_clear_object (&fetch->link);
  g_clear_object (&fetch->transfer);
  g_free (fetch->hash);
  g_free (fetch);
}

static void
fetch_unregister (Fetch *fetch)
{
  KilnTransferLink *tl = g_steal_pointer (&fetch->tl);

  if (tl != NULL)
    g_hash_table_remove (tl->fetches, GUINT_TO_POINTER (fetch->id));
}

static void
report_progress (Fetch *fetch)
{
  if (fetch->progress != NULL)
    fetch->progress (fetch->stored, fetch->has_header ? fetch->size : 0, fetch->progress_data);
}

/* Stops the fetch with @error (taken) unless it already failed, telling the peer with STOP
 * @stop_reason when that is not negative. Completes once no thread works for it. */
static void
fetch_fail (GTask  *task,
            GError *error,
            int     stop_reason)
{
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr(GTask) hold = g_object_ref (task);

  if (fetch->error != NULL || fetch->completed)
    {
      g_error_free (error);
      fetch_next (task);
      return;
    }

  fetch->error = error;
  if (stop_reason >= 0 && fetch->tl != NULL)
    {
      g_autoptr(GBytes) stop = kiln_transfer_encode_reason (fetch->id, stop_reason,
                                                            error->message);

      kiln_transfer_link_send (fetch->tl, KILN_TRANSFER_FRAME_STOP, stop);
    }
  fetch_unregister (fetch);
  /* What arrived is kept for a resume, unless it came from a peer that broke the protocol
   * or cannot be stored. */
  if (stop_reason == KILN_TRANSFER_REASON_PROTOCOL || stop_reason == KILN_TRANSFER_REASON_QUOTA)
    g_ptr_array_set_size (fetch->pending, 0);
  fetch_next (task);
}

static GError *
peer_error (Fetch  *fetch,
            int     code,
            const char *format,
            ...) G_GNUC_PRINTF (3, 4);

static GError *
peer_error (Fetch      *fetch,
            int         code,
            const char *format,
            ...)
{
  g_autofree char *what = NULL;
  g_autofree char *peer = kiln_address_to_string (kiln_link_get_peer_address (fetch->link));
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  return g_error_new (KILN_TRANSFER_ERROR, code, _("Fetching %s from %s failed: %s"),
                      fetch->hash, peer, what);
}

static void
fetch_header (GTask        *task,
              const guint8 *data,
              gsize         len)
{
  Fetch *fetch = g_task_get_task_data (task);
  GError *error = NULL;
  guint64 size;

  if (len != KILN_TRANSFER_HEADER_SIZE || fetch->has_header)
    {
      fetch_fail (task, peer_error (fetch, KILN_TRANSFER_ERROR_PROTOCOL,
                                    _("it sent a malformed or second HEADER")),
                  KILN_TRANSFER_REASON_PROTOCOL);
      return;
    }

  size = kiln_transfer_get_u64 (data + KILN_TRANSFER_ID_SIZE);
  if (fetch->expected_size != 0 && size != fetch->expected_size)
    {
      fetch_fail (task, peer_error (fetch, KILN_TRANSFER_ERROR_PROTOCOL,
                                    _("it announced %" PRIu64 " bytes instead of %" PRIu64), size, fetch->expected_size),
                  KILN_TRANSFER_REASON_PROTOCOL);
      return;
    }
  if (!kiln_content_partial_set_size (fetch->partial, size, &error))
    {
      fetch_fail (task, error,
                  g_error_matches (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA)
                    ? KILN_TRANSFER_REASON_QUOTA : KILN_TRANSFER_REASON_PROTOCOL);
      return;
    }

  fetch->has_header = TRUE;
  fetch->size = size;
  report_progress (fetch);
}

static void
fetch_data (GTask  *task,
            GBytes *payload)
{
  Fetch *fetch = g_task_get_task_data (task);
  gsize len = g_bytes_get_size (payload) - KILN_TRANSFER_ID_SIZE;

  if (!fetch->has_header || fetch->ended)
    {
      fetch_fail (task, peer_error (fetch, KILN_TRANSFER_ERROR_PROTOCOL,
                                    _("it sent data outside a transfer")),
                  KILN_TRANSFER_REASON_PROTOCOL);
      return;
    }
  if (len > fetch->size - fetch->received)
    {
      fetch_fail (task, peer_error (fetch, KILN_TRANSFER_ERROR_PROTOCOL,
                                    _("it sent more than the %" PRIu64 " bytes it "
                                      "announced"), fetch->size),
                  KILN_TRANSFER_REASON_PROTOCOL);
      return;
    }
  if (fetch->received + len - fetch->stored > KILN_TRANSFER_WINDOW)
    {
      fetch_fail (task, peer_error (fetch, KILN_TRANSFER_ERROR_PROTOCOL,
                                    _("it sent more than the window allows")),
                  KILN_TRANSFER_REASON_PROTOCOL);
      return;
    }

  fetch->received += len;
  fetch->transfer->bytes_fetched += len;
  if (len > 0)
    g_ptr_array_add (fetch->pending,
                     g_bytes_new_from_bytes (payload, KILN_TRANSFER_ID_SIZE, len));
  fetch_next (task);
}

static void
fetch_peer_error (GTask        *task,
                  const guint8 *data,
                  gsize         len)
{
  Fetch *fetch = g_task_get_task_data (task);
  g_autofree char *text = NULL;
  guint reason;

  if (len < KILN_TRANSFER_ID_SIZE + 2 || len > KILN_TRANSFER_ID_SIZE + 2 + KILN_TRANSFER_TEXT_MAX)
    {
      fetch_fail (task, peer_error (fetch, KILN_TRANSFER_ERROR_PROTOCOL,
                                    _("it sent a malformed ERROR")), -1);
      return;
    }

  reason = data[4] << 8 | data[5];
  text = g_utf8_make_valid ((const char *) data + 6, len - 6);
  g_strdelimit (text, "\r\n\t\a\b\f\v\x1b", ' ');
  fetch_fail (task, peer_error (fetch,
                                reason == KILN_TRANSFER_REASON_NOT_FOUND
                                  ? KILN_TRANSFER_ERROR_NOT_FOUND : KILN_TRANSFER_ERROR_REFUSED,
                                reason == KILN_TRANSFER_REASON_NOT_FOUND
                                  ? _("the peer does not have it (%s)") : _("the peer refused: %s"),
                                text),
              -1);
}

void
kiln_transfer_fetch_message (KilnTransferLink *tl,
               guint             type,
               GBytes           *payload)
{
  gsize len = g_bytes_get_size (payload);
  const guint8 *data = g_bytes_get_data (payload, NULL);
  g_autoptr(GTask) hold = NULL;
  GTask *task;

  if (len < KILN_TRANSFER_ID_SIZE)
    {
      kiln_transfer_link_violation (tl, "File transfer message without an id");
      return;
    }

  /* Messages for a fetch that already stopped are late, not wrong. */
  task = g_hash_table_lookup (tl->fetches, GUINT_TO_POINTER (kiln_transfer_get_u32 (data)));
  if (task == NULL)
    return;
  /* The table's reference may be the last one, and the fetch may leave the table. */
  hold = g_object_ref (task);

  switch (type)
    {
    case KILN_TRANSFER_FRAME_HEADER:
      fetch_header (task, data, len);
      break;

    case KILN_TRANSFER_FRAME_DATA:
      fetch_data (task, payload);
      break;

    case KILN_TRANSFER_FRAME_END:
      {
        Fetch *fetch = g_task_get_task_data (task);

        if (len != KILN_TRANSFER_ID_SIZE || !fetch->has_header || fetch->received != fetch->size)
          {
            fetch_fail (task, peer_error (fetch, KILN_TRANSFER_ERROR_PROTOCOL,
                                          _("it ended the transfer after %" PRIu64 " bytes"), fetch->received),
                        KILN_TRANSFER_REASON_PROTOCOL);
            break;
          }
        fetch->ended = TRUE;
        fetch_unregister (fetch);
        fetch_next (task);
      }
      break;

    case KILN_TRANSFER_FRAME_ERROR:
      fetch_peer_error (task, data, len);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* Threads: writes and the final check */

static void
write_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Fetch *fetch = task_data;
  GError *error = NULL;

  for (guint i = 0; i < fetch->batch->len; i++)
    {
      gsize len;
      const void *data = g_bytes_get_data (g_ptr_array_index (fetch->batch, i), &len);

      if (!kiln_content_partial_write (fetch->partial, data, len, NULL, &error))
        break;
      /* What was written counts even when a later chunk fails. */
      fetch->batch_written += len;
    }

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_written (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  gsize written = fetch->batch_written;
  GError *error = NULL;

  fetch->writing = FALSE;
  g_clear_pointer (&fetch->batch, g_ptr_array_unref);
  fetch->stored += written;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_ptr_array_set_size (fetch->pending, 0);
      fetch_fail (task, error,
                  g_error_matches (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA)
                    ? KILN_TRANSFER_REASON_QUOTA : KILN_TRANSFER_REASON_IO);
      return;
    }

  if (fetch->tl != NULL && written > 0)
    {
      guint8 ack[KILN_TRANSFER_ACK_SIZE];
      g_autoptr(GBytes) payload = NULL;

      kiln_transfer_put_u32 (ack, fetch->id);
      kiln_transfer_put_u32 (ack + 4, written);
      payload = g_bytes_new (ack, sizeof ack);
      kiln_transfer_link_send (fetch->tl, KILN_TRANSFER_FRAME_ACK, payload);
    }
  report_progress (fetch);
  fetch_next (task);
}

static void
commit_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Fetch *fetch = task_data;
  GError *error = NULL;
  char *path = kiln_content_partial_commit (fetch->partial, &error);

  if (path == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, path, g_free);
}

static void
on_committed (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  GError *error = NULL;
  char *path = g_task_propagate_pointer (G_TASK (result), &error);

  fetch->committing = FALSE;
  fetch->completed = TRUE;
  g_clear_pointer (&fetch->partial, kiln_content_partial_free);
  if (path == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, path, g_free);
}

/* The thread gets the Fetch as task data; @done gets the fetch's task, to unref, on the
 * fetch's context, so that nothing of the fetch is freed in the thread. */
static void
run_for_fetch (GTask               *task,
               GTaskThreadFunc      func,
               GAsyncReadyCallback  done)
{
  g_autoptr(GTask) sub = g_task_new (NULL, g_task_get_cancellable (task), done,
                                     g_object_ref (task));

  g_task_set_source_tag (sub, run_for_fetch);
  g_task_set_check_cancellable (sub, FALSE);
  g_task_set_task_data (sub, g_task_get_task_data (task), NULL);
  g_task_run_in_thread (sub, func);
}

/* Starts the next write, the final check, or completes with the error. */
static void
fetch_next (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);

  if (fetch->opening || fetch->writing || fetch->committing || fetch->completed)
    return;

  if (fetch->pending->len > 0)
    {
      fetch->batch = g_steal_pointer (&fetch->pending);
      fetch->batch_written = 0;
      fetch->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      fetch->writing = TRUE;
      run_for_fetch (task, write_thread, on_written);
    }
  else if (fetch->error != NULL)
    {
      fetch->completed = TRUE;
      fetch_unregister (fetch);
      g_clear_pointer (&fetch->partial, kiln_content_partial_free);
      g_task_return_error (task, g_steal_pointer (&fetch->error));
    }
  else if (fetch->ended)
    {
      fetch->committing = TRUE;
      run_for_fetch (task, commit_thread, on_committed);
    }
}

/* Starting */

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Fetch *fetch = task_data;
  GError *error = NULL;

  fetch->partial = kiln_content_store_open_partial (fetch->transfer->store, fetch->hash,
                                                    cancellable, &error);
  if (fetch->partial == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
send_request (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);
  KilnTransferLink *tl = kiln_transfer_link_get (fetch->transfer, fetch->link);
  guint8 request[KILN_TRANSFER_REQUEST_SIZE];
  g_autoptr(GBytes) payload = NULL;

  while (tl->next_id == 0 || g_hash_table_contains (tl->fetches, GUINT_TO_POINTER (tl->next_id)))
    tl->next_id++;
  fetch->id = tl->next_id++;
  fetch->tl = tl;
  g_hash_table_insert (tl->fetches, GUINT_TO_POINTER (fetch->id), g_object_ref (task));

  kiln_transfer_put_u32 (request, fetch->id);
  memcpy (request + 4, fetch->digest, KILN_CONTENT_HASH_SIZE);
  kiln_transfer_put_u64 (request + 36, fetch->stored);
  kiln_transfer_put_u32 (request + 44, KILN_TRANSFER_WINDOW);
  payload = g_bytes_new (request, sizeof request);
  kiln_transfer_link_send (fetch->tl, KILN_TRANSFER_FRAME_REQUEST, payload);
}

static void
on_opened (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  GError *error = NULL;

  fetch->opening = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      fetch_fail (task, error, -1);
      return;
    }
  if (fetch->error != NULL)
    {
      fetch_next (task);
      return;
    }

  fetch->stored = fetch->received = kiln_content_partial_get_offset (fetch->partial);
  if (fetch->expected_size != 0
      && !kiln_content_partial_set_size (fetch->partial, fetch->expected_size, &error))
    {
      fetch_fail (task, error, -1);
      return;
    }
  if (kiln_link_get_state (fetch->link) != KILN_LINK_STATE_OPEN)
    {
      fetch_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                     _("Cannot fetch %s: the link to the peer is closed"),
                                     fetch->hash), -1);
      return;
    }

  send_request (task);
}

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  GTask *task = user_data;
  Fetch *fetch = g_task_get_task_data (task);

  g_clear_pointer (&fetch->cancel_source, g_source_unref);
  fetch_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 _("The download of %s was cancelled; it can resume later"),
                                 fetch->hash),
              KILN_TRANSFER_REASON_CANCELLED);

  return G_SOURCE_REMOVE;
}

void
kiln_transfer_fetch_async (KilnTransfer         *self,
                           KilnLink             *link,
                           const char           *hash,
                           guint64               expected_size,
                           KilnTransferProgress  progress,
                           gpointer              progress_data,
                           GDestroyNotify        progress_data_free,
                           GCancellable         *cancellable,
                           GAsyncReadyCallback   callback,
                           gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *path = NULL;
  Fetch *fetch;

  g_return_if_fail (KILN_IS_TRANSFER (self));
  g_return_if_fail (KILN_IS_LINK (link));
  g_return_if_fail (hash != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  fetch = g_new0 (Fetch, 1);
  fetch->transfer = g_object_ref (self);
  fetch->link = g_object_ref (link);
  fetch->hash = g_strdup (hash);
  fetch->expected_size = expected_size;
  fetch->progress = progress;
  fetch->progress_data = progress_data;
  fetch->progress_data_free = progress_data_free;
  fetch->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_transfer_fetch_async);
  g_task_set_task_data (task, fetch, (GDestroyNotify) fetch_free);

  if (!kiln_content_hash_from_hex (hash, fetch->digest))
    {
      fetch->completed = TRUE;
      g_task_return_new_error (task, KILN_CONTENT_STORE_ERROR,
                               KILN_CONTENT_STORE_ERROR_INVALID_HASH,
                               _("“%s” is not a SHA-256 hash (64 lowercase hexadecimal "
                                 "characters)"), hash);
      return;
    }
  path = kiln_content_store_lookup (self->store, hash);
  if (path != NULL)
    {
      fetch->completed = TRUE;
      g_task_return_pointer (task, g_steal_pointer (&path), g_free);
      return;
    }

  if (cancellable != NULL)
    {
      fetch->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (fetch->cancel_source, G_SOURCE_FUNC (on_cancelled), task, NULL);
      g_source_attach (fetch->cancel_source, g_task_get_context (task));
    }

  fetch->opening = TRUE;
  run_for_fetch (task, open_thread, on_opened);
}

char *
kiln_transfer_fetch_finish (KilnTransfer  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_transfer_fetch_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
kiln_transfer_fetch_link_lost (GTask  *task,
                               GError *error)
{
  Fetch *fetch = g_task_get_task_data (task);

  fetch->tl = NULL;
  fetch_fail (task, error, -1);
}
