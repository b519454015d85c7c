/* kiln-engine-messages.c: frames and signed messages to and from a KilnEngine's peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Frames that arrive on any of the engine's links go to the frame handlers registered for
 * their type; file transfer's frames are left to KilnTransfer, which reads them itself, and
 * KILN_FRAME_MESSAGE frames to the engine's KilnMessageGuard, which is attached to every
 * link the engine adopts (kiln-engine-links.c). The guard checks each signed message, closes
 * the links of peers that send garbage and bans the worst; what it accepts goes to the
 * message handlers of its type. Bans are written to the store (table banned_peers) as they
 * happen and read back into the guard when the engine starts.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-engine-private.h"

/* At most this many bans are read back at start (the guard keeps no more). */
#define BANS_MAX KILN_MESSAGE_GUARD_MAX_BANS

struct _KilnEngineHandler
{
  guint                  ref_count;
  guint                  id;
  guint                  type;          /* a frame type, or a KilnMessageType */
  gboolean               removed;
  KilnEngineFrameFunc    frame_func;    /* one of the two */
  KilnEngineMessageFunc  message_func;
  gpointer               user_data;
  GDestroyNotify         destroy;
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

static KilnEngineHandler *
handler_new (KilnEngine     *self,
             guint           type,
             gpointer        user_data,
             GDestroyNotify  destroy)
{
  KilnEngineHandler *handler = g_new0 (KilnEngineHandler, 1);

  handler->ref_count = 1;
  handler->id = ++self->last_handler_id;
  handler->type = type;
  handler->user_data = user_data;
  handler->destroy = destroy;

  return handler;
}

/* The handlers of @handlers for @type, each with a reference: a handler may remove itself
 * or others while they run. */
static GPtrArray *
matching_handlers (GPtrArray *handlers,
                   guint      type)
{
  GPtrArray *matching = g_ptr_array_new_with_free_func (kiln_engine_handler_unref);

  for (guint i = 0; i < handlers->len; i++)
    {
      KilnEngineHandler *handler = g_ptr_array_index (handlers, i);

      if (handler->type == type)
        g_ptr_array_add (matching, handler_ref (handler));
    }

  return matching;
}

static gboolean
remove_handler (GPtrArray *handlers,
                guint      handler_id)
{
  for (guint i = 0; i < handlers->len; i++)
    {
      KilnEngineHandler *handler = g_ptr_array_index (handlers, i);

      if (handler->id == handler_id)
        {
          handler->removed = TRUE;
          g_ptr_array_remove_index (handlers, i);
          return TRUE;
        }
    }

  return FALSE;
}

/* Frames */

void
kiln_engine_dispatch_frame (KilnEngine *self,
                            KilnLink   *link,
                            guint8      type,
                            GBytes     *payload)
{
  g_autoptr(KilnEngine) keep = g_object_ref (self);
  g_autoptr(GPtrArray) matching = NULL;
  g_autoptr(KilnEnginePeer) peer = NULL;

  /* File transfer answers its own frames (kiln_transfer_serve()), and the guard checks
   * signed messages before anyone sees them. */
  if (type >= KILN_TRANSFER_FRAME_REQUEST && type <= KILN_TRANSFER_FRAME_REQUEST + 0x0f)
    return;
  if (type == KILN_FRAME_MESSAGE)
    return;

  peer = kiln_engine_lookup_peer (self, kiln_link_get_peer_address (link));
  if (peer == NULL)
    return;
  g_object_ref (peer);

  matching = matching_handlers (self->handlers, type);
  if (matching->len == 0)
    {
      g_debug ("Dropped a frame of type 0x%02x from %s: nothing handles it", type,
               peer->address_string);
      return;
    }

  for (guint i = 0; i < matching->len; i++)
    {
      KilnEngineHandler *handler = g_ptr_array_index (matching, i);

      if (!handler->removed)
        handler->frame_func (self, peer, type, payload, handler->user_data);
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
  g_return_val_if_fail (type != KILN_FRAME_MESSAGE, 0);
  g_return_val_if_fail (func != NULL, 0);

  handler = handler_new (self, type, user_data, destroy);
  handler->frame_func = func;
  g_ptr_array_add (self->handlers, handler);

  return handler->id;
}

void
kiln_engine_remove_frame_handler (KilnEngine *self,
                                  guint       handler_id)
{
  g_return_if_fail (KILN_IS_ENGINE (self));

  if (!remove_handler (self->handlers, handler_id))
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

/* @peer_address's open link, or NULL with G_IO_ERROR_NOT_CONNECTED. */
static KilnLink *
open_link (KilnEngine         *self,
           const KilnAddress  *peer_address,
           GError            **error)
{
  KilnEnginePeer *peer = kiln_engine_lookup_peer (self, peer_address);
  char address[KILN_ADDRESS_STRING_SIZE];

  if (peer != NULL && peer->link != NULL)
    return peer->link;

  kiln_address_format (peer_address, address);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
               _("No link to node %s is open"), address);
  return NULL;
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
  GError *error = NULL;
  KilnLink *link;

  g_return_if_fail (KILN_IS_ENGINE (self));
  g_return_if_fail (peer_address != NULL);
  g_return_if_fail (type >= KILN_FRAME_FIRST_MESSAGE);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_engine_send_async);

  link = open_link (self, peer_address, &error);
  if (link == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  kiln_link_send_async (link, type, payload, cancellable, on_sent, g_steal_pointer (&task));
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

/* Signed messages */

static void
on_message_accepted (KilnMessageGuard *guard,
                     KilnLink         *link,
                     KilnMessage      *message,
                     KilnEngine       *self)
{
  g_autoptr(KilnEngine) keep = g_object_ref (self);
  g_autoptr(GPtrArray) matching = NULL;
  g_autoptr(KilnEnginePeer) peer = NULL;
  guint type = kiln_message_get_message_type (message);

  /* Only the links this engine watches (the guard may be lent to others). */
  if (!g_ptr_array_find (self->links, link, NULL))
    return;

  peer = kiln_engine_lookup_peer (self, kiln_link_get_peer_address (link));
  if (peer == NULL)
    return;
  g_object_ref (peer);

  matching = matching_handlers (self->message_handlers, type);
  if (matching->len == 0)
    {
      g_debug ("Dropped a %s message from %s: nothing handles it",
               kiln_message_type_to_string (type), peer->address_string);
      return;
    }

  for (guint i = 0; i < matching->len; i++)
    {
      KilnEngineHandler *handler = g_ptr_array_index (matching, i);

      if (!handler->removed)
        handler->message_func (self, peer, message, handler->user_data);
    }
}

guint
kiln_engine_add_message_handler (KilnEngine            *self,
                                 KilnMessageType        type,
                                 KilnEngineMessageFunc  func,
                                 gpointer               user_data,
                                 GDestroyNotify         destroy)
{
  KilnEngineHandler *handler;

  g_return_val_if_fail (KILN_IS_ENGINE (self), 0);
  g_return_val_if_fail (kiln_message_type_is_known (type), 0);
  g_return_val_if_fail (func != NULL, 0);

  handler = handler_new (self, type, user_data, destroy);
  handler->message_func = func;
  g_ptr_array_add (self->message_handlers, handler);

  return handler->id;
}

void
kiln_engine_remove_message_handler (KilnEngine *self,
                                    guint       handler_id)
{
  g_return_if_fail (KILN_IS_ENGINE (self));

  if (!remove_handler (self->message_handlers, handler_id))
    g_critical ("%s: no message handler with ID %u", G_STRFUNC, handler_id);
}

/* @type from this node to @recipient (NULL: broadcast), signed; NULL with @error. */
static KilnMessage *
sign_message (KilnEngine         *self,
              KilnMessageType     type,
              const KilnAddress  *recipient,
              GBytes             *body,
              GError            **error)
{
  g_autoptr(KilnMessage) message = kiln_message_new (type, recipient, body);

  if (!kiln_message_sign (message, self->key, error))
    return NULL;

  return g_steal_pointer (&message);
}

static void
on_message_sent (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnMessage *message = g_task_get_task_data (task);
  GError *error = NULL;

  if (kiln_link_send_finish (KILN_LINK (object), result, &error))
    g_task_return_pointer (task, kiln_message_ref (message),
                           (GDestroyNotify) kiln_message_unref);
  else
    g_task_return_error (task, error);
}

void
kiln_engine_send_message_async (KilnEngine          *self,
                                const KilnAddress   *peer_address,
                                KilnMessageType      type,
                                GBytes              *body,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GBytes) encoded = NULL;
  GError *error = NULL;
  KilnLink *link;

  g_return_if_fail (KILN_IS_ENGINE (self));
  g_return_if_fail (peer_address != NULL);
  g_return_if_fail (kiln_message_type_is_known (type));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_engine_send_message_async);

  link = open_link (self, peer_address, &error);
  if (link == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  message = sign_message (self, type, peer_address, body, &error);
  if (message == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  encoded = kiln_message_encode (message);
  g_task_set_task_data (task, g_steal_pointer (&message), (GDestroyNotify) kiln_message_unref);
  kiln_link_send_async (link, KILN_FRAME_MESSAGE, encoded, cancellable, on_message_sent,
                        g_steal_pointer (&task));
}

KilnMessage *
kiln_engine_send_message_finish (KilnEngine    *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_engine_send_message_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  KilnMessage *message;
  guint        pending;   /* sends not finished, plus one while they are being started */
} Broadcast;

static void
broadcast_free (gpointer data)
{
  Broadcast *broadcast = data;

  kiln_message_unref (broadcast->message);
  g_free (broadcast);
}

static void
broadcast_one_done (GTask *task)
{
  Broadcast *broadcast = g_task_get_task_data (task);

  if (--broadcast->pending > 0)
    return;

  g_task_return_pointer (task, kiln_message_ref (broadcast->message),
                         (GDestroyNotify) kiln_message_unref);
}

static void
on_broadcast_sent (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* A peer that could not be written to is skipped: its link is closing. */
  if (!kiln_link_send_finish (KILN_LINK (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      char address[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (kiln_link_get_peer_address (KILN_LINK (object)), address);
      g_debug ("Could not broadcast a message to %s: %s", address, error->message);
    }

  broadcast_one_done (task);
}

void
kiln_engine_broadcast_message_async (KilnEngine          *self,
                                     KilnMessageType      type,
                                     GBytes              *body,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) encoded = NULL;
  GListModel *peers = G_LIST_MODEL (self->peers);
  Broadcast *broadcast;
  KilnMessage *message;
  GError *error = NULL;

  g_return_if_fail (KILN_IS_ENGINE (self));
  g_return_if_fail (kiln_message_type_is_known (type));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_engine_broadcast_message_async);

  /* A type that needs a recipient fails here (KILN_MESSAGE_ERROR_WRONG_RECIPIENT). */
  message = sign_message (self, type, NULL, body, &error);
  if (message == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  broadcast = g_new0 (Broadcast, 1);
  broadcast->message = message;
  broadcast->pending = 1;
  g_task_set_task_data (task, broadcast, broadcast_free);

  encoded = kiln_message_encode (message);
  for (guint i = 0; i < g_list_model_get_n_items (peers); i++)
    {
      g_autoptr(KilnEnginePeer) peer = g_list_model_get_item (peers, i);

      if (peer->link == NULL)
        continue;
      broadcast->pending++;
      kiln_link_send_async (peer->link, KILN_FRAME_MESSAGE, encoded, cancellable,
                            on_broadcast_sent, g_object_ref (task));
    }

  broadcast_one_done (task);
}

KilnMessage *
kiln_engine_broadcast_message_finish (KilnEngine    *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_engine_broadcast_message_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

KilnMessageGuard *
kiln_engine_get_message_guard (KilnEngine *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE (self), NULL);

  return self->guard;
}

/* Bans, kept in the store
 *
 * Rows of banned_peers: the address, the end of the ban and when it was written (Unix µs), and
 * the reason. The guard counts in Unix seconds. */

static gint64
seconds_to_us (gint64 seconds)
{
  if (seconds >= G_MAXINT64 / G_USEC_PER_SEC)
    return G_MAXINT64;
  if (seconds <= G_MININT64 / G_USEC_PER_SEC)
    return G_MININT64;

  return seconds * G_USEC_PER_SEC;
}

typedef struct
{
  gint64     now;      /* µs */
  GPtrArray *bans;     /* KilnMessageBan: to write, or read back */
} BanRequest;

static void
ban_request_free (gpointer data)
{
  BanRequest *request = data;

  g_clear_pointer (&request->bans, g_ptr_array_unref);
  g_free (request);
}

static BanRequest *
ban_request_new (void)
{
  BanRequest *request = g_new0 (BanRequest, 1);

  request->now = g_get_real_time ();
  request->bans = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_message_ban_free);

  return request;
}

static gboolean
prune_bans (sqlite3  *db,
            gint64    now,
            GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = kiln_store_prepare (db, "DELETE FROM banned_peers WHERE until <= ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);

  return kiln_store_step_done (stmt, error);
}

static gboolean
write_bans_in_db (sqlite3   *db,
                  gpointer   data,
                  GError   **error)
{
  BanRequest *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!prune_bans (db, request->now, error))
    return FALSE;

  stmt = kiln_store_prepare (db,
                             "INSERT INTO banned_peers (address, until, reason, banned_at)"
                             " VALUES (?1, ?2, ?3, ?4)"
                             " ON CONFLICT (address) DO UPDATE SET until = ?2, reason = ?3,"
                             " banned_at = ?4", error);
  if (stmt == NULL)
    return FALSE;

  for (guint i = 0; i < request->bans->len; i++)
    {
      KilnMessageBan *ban = g_ptr_array_index (request->bans, i);

      sqlite3_reset (stmt);
      sqlite3_bind_blob (stmt, 1, ban->address.bytes, KILN_ADDRESS_SIZE, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, seconds_to_us (ban->until));
      sqlite3_bind_text (stmt, 3, ban->reason, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 4, request->now);
      if (!kiln_store_step_done (stmt, error))
        return FALSE;
    }

  return TRUE;
}

static void
on_ban_written (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!kiln_store_run_finish (KILN_STORE (object), result, &error))
    g_warning ("Could not save a ban: it ends if this node restarts: %s", error->message);
}

static void
on_peer_banned (KilnMessageGuard  *guard,
                const KilnAddress *address,
                gint64             until,
                const char        *reason,
                KilnEngine        *self)
{
  BanRequest *request = ban_request_new ();
  KilnMessageBan ban = { *address, until, (char *) reason };
  KilnEnginePeer *peer = kiln_engine_lookup_peer (self, address);

  g_ptr_array_add (request->bans, kiln_message_ban_copy (&ban));
  kiln_store_run_async (self->store, write_bans_in_db, request, ban_request_free, NULL,
                        on_ban_written, NULL);

  /* Its links are being closed; no dial either until the ban ends. */
  if (peer != NULL && peer->dial != NULL)
    g_cancellable_cancel (peer->dial);
}

static gboolean
read_bans_in_db (sqlite3   *db,
                 gpointer   data,
                 GError   **error)
{
  BanRequest *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  if (!prune_bans (db, request->now, error))
    return FALSE;

  stmt = kiln_store_prepare (db,
                             "SELECT address, until, reason FROM banned_peers"
                             " ORDER BY until DESC LIMIT ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, BANS_MAX);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KilnMessageBan *ban;

      if (sqlite3_column_bytes (stmt, 0) != KILN_ADDRESS_SIZE)
        continue;

      ban = g_new0 (KilnMessageBan, 1);
      memcpy (ban->address.bytes, sqlite3_column_blob (stmt, 0), KILN_ADDRESS_SIZE);
      /* Rounded up to the second, so that a ban read back never ends early. */
      ban->until = sqlite3_column_int64 (stmt, 1) / G_USEC_PER_SEC +
                   (sqlite3_column_int64 (stmt, 1) % G_USEC_PER_SEC > 0 ? 1 : 0);
      ban->reason = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      if (ban->reason == NULL)
        ban->reason = g_strdup ("");
      g_ptr_array_add (request->bans, ban);
    }
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the banned peers"));

  return TRUE;
}

typedef struct
{
  KilnEngine *engine;
  BanRequest *request;   /* the store's until this callback returns */
} BanLoad;

static void
on_bans_read (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree BanLoad *load = user_data;
  g_autoptr(KilnEngine) self = load->engine;
  BanRequest *request = load->request;
  g_autoptr(GError) error = NULL;

  if (!kiln_store_run_finish (KILN_STORE (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not read the banned peers: %s", error->message);
      return;
    }

  if (self->guard == NULL)
    return;

  /* kiln_message_guard_ban() also closes any link the peer opened meanwhile. */
  for (guint i = 0; i < request->bans->len; i++)
    {
      KilnMessageBan *ban = g_ptr_array_index (request->bans, i);

      kiln_message_guard_ban (self->guard, &ban->address, ban->until, ban->reason);
    }

  if (request->bans->len > 0)
    g_info ("Bans read back from the store: %u", request->bans->len);
}

void
kiln_engine_load_bans (KilnEngine *self)
{
  BanLoad *load = g_new0 (BanLoad, 1);

  load->engine = g_object_ref (self);
  load->request = ban_request_new ();
  kiln_store_run_async (self->store, read_bans_in_db, load->request, ban_request_free,
                        self->cancellable, on_bans_read, load);
}

gboolean
kiln_engine_is_banned (KilnEngine        *self,
                       const KilnAddress *address,
                       guint             *remaining_ms)
{
  gint64 until = 0;
  gint64 left;

  if (!kiln_message_guard_is_banned (self->guard, address, &until))
    return FALSE;

  if (remaining_ms != NULL)
    {
      left = until - g_get_real_time () / G_USEC_PER_SEC;
      *remaining_ms = left >= G_MAXUINT / 1000 ? G_MAXUINT : (guint) MAX (left, 1) * 1000;
    }

  return TRUE;
}

void
kiln_engine_init_messages (KilnEngine *self)
{
  self->guard = kiln_message_guard_new (kiln_key_get_address (self->key));
  g_signal_connect (self->guard, "message-accepted", G_CALLBACK (on_message_accepted), self);
  g_signal_connect (self->guard, "peer-banned", G_CALLBACK (on_peer_banned), self);
}

void
kiln_engine_dispose_messages (KilnEngine *self)
{
  if (self->guard != NULL)
    g_signal_handlers_disconnect_by_data (self->guard, self);
  g_clear_object (&self->guard);
  if (self->message_handlers != NULL)
    g_ptr_array_set_size (self->message_handlers, 0);
}
