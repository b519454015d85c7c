/* kiln-engine-messages.c: message frames to and from a KilnEngine's peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Message frames that arrive on any of the engine's links go to the handlers registered for
 * their type; file transfer's frames are left to KilnTransfer, which reads them itself.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-engine-private.h"

struct _KilnEngineHandler
{
  guint                ref_count;
  guint                id;
  guint8               type;
  gboolean             removed;
  KilnEngineFrameFunc  func;
  gpointer             user_data;
  GDestroyNotify       destroy;
};

static KilnEngineHandler *
handler_ref (KilnEngineHandler *handler)
{
  handler->ref_count++;
  return handler;
}

void
kiln_engine_handler_unref (gpointer data)
{
  KilnEngineHandler *handler = data;

  if (--handler->ref_count > 0)
    return;

  if (handler->destroy != NULL)
    handler->destroy (handler->user_data);
  g_free (handler);
}

/* Messages */

void
kiln_engine_dispatch_frame (KilnEngine *self,
                            KilnLink   *link,
                            guint8      type,
                            GBytes     *payload)
{
  g_autoptr(KilnEngine) keep = g_object_ref (self);
  g_autoptr(GPtrArray) matching = NULL;
  g_autoptr(KilnEnginePeer) peer = NULL;

  /* File transfer answers its own frames (kiln_transfer_serve()). */
  if (type >= KILN_TRANSFER_FRAME_REQUEST && type <= KILN_TRANSFER_FRAME_REQUEST + 0x0f)
    return;

  peer = kiln_engine_lookup_peer (self, kiln_link_get_peer_address (link));
  if (peer == NULL)
    return;
  g_object_ref (peer);

  matching = g_ptr_array_new_with_free_func (kiln_engine_handler_unref);
  for (guint i = 0; i < self->handlers->len; i++)
    {
      KilnEngineHandler *handler = g_ptr_array_index (self->handlers, i);

      if (handler->type == type)
        g_ptr_array_add (matching, handler_ref (handler));
    }

  if (matching->len == 0)
    {
      g_debug ("Dropped a message of type 0x%02x from %s: nothing handles it", type,
               peer->address_string);
      return;
    }

  for (guint i = 0; i < matching->len; i++)
    {
      KilnEngineHandler *handler = g_ptr_array_index (matching, i);

      if (!handler->removed)
        handler->func (self, peer, type, payload, handler->user_data);
    }
}

guint
kiln_engine_add_frame_handler (KilnEngine          *self,
                               guint8               type,
                               KilnEngineFrameFunc  func,
                               gpointer             user_data,
                               GDestroyNotify       destroy)
{
  KilnEngineHandler *handler;

  g_return_val_if_fail (KILN_IS_ENGINE (self), 0);
  g_return_val_if_fail (type >= KILN_FRAME_FIRST_MESSAGE, 0);
  g_return_val_if_fail (func != NULL, 0);

  handler = g_new0 (KilnEngineHandler, 1);
  handler->ref_count = 1;
  handler->id = ++self->last_handler_id;
  handler->type = type;
  handler->func = func;
  handler->user_data = user_data;
  handler->destroy = destroy;
  g_ptr_array_add (self->handlers, handler);

  return handler->id;
}

void
kiln_engine_remove_frame_handler (KilnEngine *self,
                                  guint       handler_id)
{
  g_return_if_fail (KILN_IS_ENGINE (self));

  for (guint i = 0; i < self->handlers->len; i++)
    {
      KilnEngineHandler *handler = g_ptr_array_index (self->handlers, i);

      if (handler->id == handler_id)
        {
          handler->removed = TRUE;
          g_ptr_array_remove_index (self->handlers, i);
          return;
        }
    }

  g_critical ("%s: no frame handler with ID %u", G_STRFUNC, handler_id);
}

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (kiln_link_send_finish (KILN_LINK (object), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
kiln_engine_send_async (KilnEngine          *self,
                        const KilnAddress   *peer_address,
                        guint8               type,
                        GBytes              *payload,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  KilnEnginePeer *peer;

  g_return_if_fail (KILN_IS_ENGINE (self));
  g_return_if_fail (peer_address != NULL);
  g_return_if_fail (type >= KILN_FRAME_FIRST_MESSAGE);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_engine_send_async);

  peer = kiln_engine_lookup_peer (self, peer_address);
  if (peer == NULL || peer->link == NULL)
    {
      char address[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (peer_address, address);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                               _("No link to node %s is open"), address);
      return;
    }

  kiln_link_send_async (peer->link, type, payload, cancellable, on_sent,
                        g_steal_pointer (&task));
}

gboolean
kiln_engine_send_finish (KilnEngine    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_engine_send_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
