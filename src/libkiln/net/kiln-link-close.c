/* kiln-link-close.c: how a link ends, whoever ends it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The side that closes sends a CLOSE frame with a reason and its TLS close_notify, then
 * reads and drops whatever still comes until the peer ends its side too, so that the CLOSE
 * is not lost to a TCP reset. The config's handshake timeout bounds the wait.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-link-private.h"

static const char *
reason_description (guint reason)
{
  switch (reason)
    {
    case KILN_NET_CLOSE_NORMAL:
      return _("it said goodbye");
    case KILN_NET_CLOSE_PROTOCOL:
      return _("this node broke the link protocol");
    case KILN_NET_CLOSE_FRAME_TOO_LARGE:
      return _("this node sent too large a frame");
    case KILN_NET_CLOSE_VERSION:
      return _("it speaks another version of the link protocol");
    case KILN_NET_CLOSE_BAD_PROOF:
      return _("it did not accept this node’s identity proof");
    case KILN_NET_CLOSE_TIMED_OUT:
      return _("this node took too long to answer");
    case KILN_NET_CLOSE_TLS_VERSION:
      return _("the connection did not use TLS 1.3");
    case KILN_NET_CLOSE_UNEXPECTED_PEER:
      return _("it is not the node this one expected");
    case KILN_NET_CLOSE_SELF:
      return _("it is this node itself");
    default:
      return _("no reason known to this version of Kiln");
    }
}

GError *
kiln_link_error_from_close (GBytes   *payload,
                            gboolean  during_handshake)
{
  g_autofree char *text = NULL;
  GError *error = NULL;
  guint reason;

  if (!kiln_net_close_decode (payload, &reason, &text, &error))
    return error;

  if (*text == '\0')
    {
      g_free (text);
      text = g_strdup (reason_description (reason));
    }

  return g_error_new (KILN_NET_ERROR, kiln_net_error_from_close_reason (reason),
                      during_handshake ? _("The peer refused the link: %s")
                                       : _("The peer closed the link: %s"),
                      text);
}

static void
finish_closed (KilnLink *self)
{
  g_autoptr(GPtrArray) tasks = NULL;

  kiln_link_clear_source (&self->linger_timer);
  kiln_link_set_state (self, KILN_LINK_STATE_CLOSED);
  kiln_link_emit_closed (self);

  tasks = g_steal_pointer (&self->close_tasks);
  self->close_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < tasks->len; i++)
    g_task_return_boolean (g_ptr_array_index (tasks, i), TRUE);
}

static void
on_base_closed (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(KilnLink) self = user_data;

  /* Nothing useful can be done about a failed close(2): the socket is gone either way. */
  g_io_stream_close_finish (G_IO_STREAM (object), result, NULL);
  finish_closed (self);
}

void
kiln_link_maybe_finish_close (KilnLink *self)
{
  if (self->state != KILN_LINK_STATE_CLOSING || self->stream_closing)
    return;

  if (self->connecting || self->tls_handshaking || self->reading || !self->writer_closed)
    return;

  self->stream_closing = TRUE;

  /* The TLS goodbye (close_notify) went out with the writer's close; closing the TCP
   * connection itself cannot block on a peer that stopped reading. */
  if (self->base != NULL)
    g_io_stream_close_async (self->base, G_PRIORITY_DEFAULT, NULL,
                             on_base_closed, g_object_ref (self));
  else
    finish_closed (self);
}

static void
on_writer_closed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KilnLink) self = user_data;

  kiln_frame_writer_close_finish (KILN_FRAME_WRITER (object), result, NULL);
  self->writer_closed = TRUE;
  kiln_link_maybe_finish_close (self);
}

static gboolean
on_linger_timeout (gpointer user_data)
{
  KilnLink *self = user_data;

  g_clear_pointer (&self->linger_timer, g_source_unref);

  /* The peer neither read our goodbye nor ended its side in time: stop everything. */
  g_cancellable_cancel (self->cancellable);
  if (self->writer != NULL)
    kiln_frame_writer_abort (self->writer);

  return G_SOURCE_REMOVE;
}

void
kiln_link_disconnect_user_cancellable (KilnLink *self)
{
  if (self->user_cancellable == NULL)
    return;

  g_cancellable_disconnect (self->user_cancellable, self->user_cancelled_id);
  self->user_cancelled_id = 0;
  g_clear_object (&self->user_cancellable);
}

void
kiln_link_fail (KilnLink   *self,
                GError     *error,
                gboolean    by_peer,
                int         reason,
                const char *wire_text)
{
  g_autoptr(GTask) handshake_task = NULL;

  g_assert (error != NULL);

  if (self->state >= KILN_LINK_STATE_CLOSING)
    {
      g_error_free (error);
      return;
    }

  g_debug ("Closing the link (%s): %s", by_peer ? "by the peer" : "by this node",
           error->message);

  kiln_link_set_state (self, KILN_LINK_STATE_CLOSING);
  self->close_error = error;
  self->closed_by_peer = by_peer;
  kiln_link_clear_source (&self->handshake_timer);
  kiln_link_clear_source (&self->keepalive_timer);
  handshake_task = g_steal_pointer (&self->handshake_task);
  kiln_link_disconnect_user_cancellable (self);

  self->linger_timer =
    kiln_link_add_timeout (self, kiln_link_config_get_handshake_timeout (self->config),
                           on_linger_timeout);

  if (self->writer != NULL)
    {
      if (reason >= 0)
        {
          g_autoptr(GBytes) payload = kiln_net_close_encode (reason, wire_text);

          /* A normal goodbye comes after the messages already queued; any other goes
           * ahead of them and they are dropped. */
          kiln_frame_writer_send_async (self->writer, KILN_FRAME_CLOSE, payload,
                                        reason != KILN_NET_CLOSE_NORMAL, NULL, NULL, NULL);
        }
      kiln_frame_writer_close_async (self->writer, reason == KILN_NET_CLOSE_NORMAL,
                                     self->cancellable, on_writer_closed, g_object_ref (self));
      if (!self->reading)
        kiln_link_read_next (self);
    }
  else
    {
      /* No TLS yet: nobody to tell. Stop the TCP connect or TLS handshake. */
      self->writer_closed = TRUE;
      self->read_ended = TRUE;
      g_cancellable_cancel (self->cancellable);
    }

  kiln_link_maybe_finish_close (self);

  if (handshake_task != NULL)
    g_task_return_error (handshake_task, g_error_copy (self->close_error));
}

void
kiln_link_close_async (KilnLink            *self,
                       KilnNetCloseReason   reason,
                       const char          *text,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_LINK (self));
  g_return_if_fail (text == NULL || g_utf8_validate (text, -1, NULL));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_link_close_async);

  if (self->state == KILN_LINK_STATE_CLOSED)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  g_ptr_array_add (self->close_tasks, g_steal_pointer (&task));
  kiln_link_fail (self,
                  g_error_new_literal (KILN_NET_ERROR, kiln_net_error_from_close_reason (reason),
                                       text != NULL ? text : _("This node closed the link")),
                  FALSE, reason, text);
}

gboolean
kiln_link_close_finish (KilnLink      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_link_close_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kiln_link_close (KilnLink           *self,
                 KilnNetCloseReason  reason,
                 const char         *text)
{
  kiln_link_close_async (self, reason, text, NULL, NULL, NULL);
}
