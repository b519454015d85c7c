/* kiln-transfer.c: files sent and fetched by SHA-256 over links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * This file keeps track of links and hands their messages to the fetching half
 * (kiln-transfer-fetch.c) or the serving half (kiln-transfer-serve.c).
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-transfer-private.h"

G_DEFINE_FINAL_TYPE (KilnTransfer, kiln_transfer, G_TYPE_OBJECT)

G_DEFINE_QUARK (kiln-transfer-error-quark, kiln_transfer_error)

/* Wire helpers */

void
kiln_transfer_put_u32 (guint8  *p,
                       guint32  v)
{
  v = GUINT32_TO_BE (v);
  memcpy (p, &v, sizeof v);
}

guint32
kiln_transfer_get_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, sizeof v);
  return GUINT32_FROM_BE (v);
}

void
kiln_transfer_put_u64 (guint8  *p,
                       guint64  v)
{
  v = GUINT64_TO_BE (v);
  memcpy (p, &v, sizeof v);
}

guint64
kiln_transfer_get_u64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, sizeof v);
  return GUINT64_FROM_BE (v);
}

GBytes *
kiln_transfer_encode_reason (guint32             id,
                             KilnTransferReason  reason,
                             const char         *text)
{
  gsize len = 0;
  guint8 *p;

  /* Cut to the limit on a character boundary. */
  if (text != NULL)
    {
      const char *end = text;

      while (*end != '\0')
        {
          const char *next = g_utf8_next_char (end);

          if ((gsize) (next - text) > KILN_TRANSFER_TEXT_MAX)
            break;
          end = next;
        }
      len = end - text;
    }

  p = g_malloc (KILN_TRANSFER_ID_SIZE + 2 + len);
  kiln_transfer_put_u32 (p, id);
  p[4] = reason >> 8;
  p[5] = reason & 0xff;
  if (len > 0)
    memcpy (p + 6, text, len);

  return g_bytes_new_take (p, KILN_TRANSFER_ID_SIZE + 2 + len);
}

static void
on_sent_ignore (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  kiln_link_send_finish (KILN_LINK (object), result, NULL);
}

void
kiln_transfer_link_send (KilnTransferLink *tl,
                         guint8            type,
                         GBytes           *payload)
{
  kiln_link_send_async (tl->link, type, payload, NULL, on_sent_ignore, NULL);
}

void
kiln_transfer_link_violation (KilnTransferLink *tl,
                              const char       *what)
{
  g_debug ("Closing a link: %s", what);
  kiln_link_close (tl->link, KILN_NET_CLOSE_PROTOCOL, what);
}

/* Links */

static void
on_message (KilnLink         *link,
            guint             type,
            GBytes           *payload,
            KilnTransferLink *tl)
{
  switch (type)
    {
    case KILN_TRANSFER_FRAME_REQUEST:
      kiln_transfer_serve_request (tl, payload);
      break;

    case KILN_TRANSFER_FRAME_ACK:
      kiln_transfer_serve_ack (tl, payload);
      break;

    case KILN_TRANSFER_FRAME_STOP:
      kiln_transfer_serve_stop (tl, payload);
      break;

    case KILN_TRANSFER_FRAME_HEADER:
    case KILN_TRANSFER_FRAME_DATA:
    case KILN_TRANSFER_FRAME_END:
    case KILN_TRANSFER_FRAME_ERROR:
      kiln_transfer_fetch_message (tl, type, payload);
      break;

    default:
      break;                        /* another layer's message */
    }
}

/* Fails the link's fetches with @error (taken); they keep their .part for a resume. */
static void
link_state_free (KilnTransferLink *tl,
                 GError           *error)
{
  g_autoptr(GPtrArray) tasks = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_signal_handler_disconnect (tl->link, tl->message_id);
  g_signal_handler_disconnect (tl->link, tl->closed_id);
  g_hash_table_iter_init (&iter, tl->fetches);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_ptr_array_add (tasks, value);
      g_hash_table_iter_steal (&iter);
    }
  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = g_ptr_array_index (tasks, i);

      kiln_transfer_fetch_link_lost (task, g_error_copy (error));
      g_object_unref (task);
    }
  g_hash_table_unref (tl->fetches);
  g_hash_table_unref (tl->uploads);
  g_object_unref (tl->link);
  g_free (tl);
  g_error_free (error);
}

static void
on_link_closed (KilnLink         *link,
                const GError     *error,
                gboolean          by_peer,
                KilnTransferLink *tl)
{
  g_hash_table_steal (tl->transfer->links, link);
  link_state_free (tl, g_error_copy (error));
}

KilnTransferLink *
kiln_transfer_link_get (KilnTransfer *self,
                        KilnLink     *link)
{
  KilnTransferLink *tl = g_hash_table_lookup (self->links, link);

  if (tl != NULL)
    return tl;

  tl = g_new0 (KilnTransferLink, 1);
  tl->transfer = self;
  tl->link = g_object_ref (link);
  tl->uploads = kiln_transfer_uploads_new ();
  tl->fetches = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  tl->next_id = 1;
  tl->message_id = g_signal_connect (link, "message-received", G_CALLBACK (on_message), tl);
  tl->closed_id = g_signal_connect (link, "closed", G_CALLBACK (on_link_closed), tl);
  g_hash_table_insert (self->links, link, tl);

  return tl;
}

/* GObject */

static void
kiln_transfer_dispose (GObject *object)
{
  KilnTransfer *self = KILN_TRANSFER (object);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->links);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_hash_table_iter_steal (&iter);
      link_state_free (value, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                   _("File transfers were shut down")));
    }

  G_OBJECT_CLASS (kiln_transfer_parent_class)->dispose (object);
}

static void
kiln_transfer_finalize (GObject *object)
{
  KilnTransfer *self = KILN_TRANSFER (object);

  g_hash_table_unref (self->links);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kiln_transfer_parent_class)->finalize (object);
}

static void
kiln_transfer_class_init (KilnTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_transfer_dispose;
  object_class->finalize = kiln_transfer_finalize;
}

static void
kiln_transfer_init (KilnTransfer *self)
{
  self->links = g_hash_table_new (NULL, NULL);
}

KilnTransfer *
kiln_transfer_new (KilnContentStore *store)
{
  KilnTransfer *self;

  g_return_val_if_fail (KILN_IS_CONTENT_STORE (store), NULL);

  self = g_object_new (KILN_TYPE_TRANSFER, NULL);
  self->store = g_object_ref (store);

  return self;
}

KilnContentStore *
kiln_transfer_get_store (KilnTransfer *self)
{
  g_return_val_if_fail (KILN_IS_TRANSFER (self), NULL);

  return self->store;
}

guint64
kiln_transfer_get_bytes_served (KilnTransfer *self)
{
  g_return_val_if_fail (KILN_IS_TRANSFER (self), 0);

  return self->bytes_served;
}

guint64
kiln_transfer_get_bytes_fetched (KilnTransfer *self)
{
  g_return_val_if_fail (KILN_IS_TRANSFER (self), 0);

  return self->bytes_fetched;
}

void
kiln_transfer_serve (KilnTransfer *self,
                     KilnLink     *link)
{
  g_return_if_fail (KILN_IS_TRANSFER (self));
  g_return_if_fail (KILN_IS_LINK (link));
  g_return_if_fail (kiln_link_get_state (link) == KILN_LINK_STATE_OPEN);

  kiln_transfer_link_get (self, link)->serving = TRUE;
}
