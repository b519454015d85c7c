/* kiln-engine-links.c: the engine's links: dialling, one link per peer, message dispatch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every link that opens, dialled by this node or accepted from another, is "adopted": the
 * engine watches it until it closes, file transfer serves on it, the message guard checks its
 * signed messages, and its frames go to the registered handlers (kiln-engine-messages.c). A
 * link to a banned peer is closed by the guard as soon as it opens, and a banned peer is not
 * dialled before its ban ends. A peer has at most one link that counts
 * (KilnEnginePeer.link); when a second one opens, both nodes keep the link dialled by the
 * node with the lower address (the same rule on both sides gives the same answer), and the
 * kept link's client closes the other one. If both links were dialled by the same node,
 * the newer one wins: the older is stale.
 *
 * A peer without a link is dialled when it may be (see kiln_engine_maybe_dial()): each of
 * its announced endpoints in turn, expecting its address. When all fail, or when its link
 * closes, it is dialled again after a delay that doubles each time (KilnBackoff), and the
 * failure goes to the peer table.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-engine-private.h"

/* A link that stayed open this long was healthy: its peer's backoff starts over. */
#define HEALTHY_LINK_US (60 * G_USEC_PER_SEC)
/* How long the server of a kept link waits for its client to close the duplicate. */
#define DUPLICATE_GRACE_MS 5000

/* Peers */

KilnEnginePeer *
kiln_engine_ensure_peer (KilnEngine        *self,
                         const KilnAddress *address)
{
  KilnEnginePeer *peer;

  if (kiln_address_equal (address, kiln_key_get_address (self->key)))
    return NULL;

  peer = g_hash_table_lookup (self->peers_by_address, address);
  if (peer != NULL)
    return peer;

  peer = kiln_engine_peer_new (address);
  peer->engine = self;
  g_hash_table_insert (self->peers_by_address, &peer->address, peer);
  g_list_store_append (self->peers, peer);
  g_object_unref (peer);

  return peer;
}

static void
on_seen_written (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!kiln_peer_table_seen_finish (KILN_PEER_TABLE (object), result, &error))
    g_warning ("Could not remember a peer: %s", error->message);
}

void
kiln_engine_record_seen (KilnEngine     *self,
                         KilnEnginePeer *peer,
                         gboolean        force)
{
  gint64 now = g_get_monotonic_time ();

  if (peer->info == NULL)
    return;
  if (!force && peer->table_written != 0 &&
      now - peer->table_written < KILN_ENGINE_SEEN_WRITE_INTERVAL_S * G_USEC_PER_SEC)
    return;

  peer->table_written = now;
  kiln_peer_table_seen_async (self->peer_table, &peer->address, peer->info, NULL,
                              on_seen_written, NULL);
}

static void
on_failure_written (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* A peer only ever met on an inbound link is not in the table. */
  if (!kiln_peer_table_failed_finish (KILN_PEER_TABLE (object), result, &error) &&
      !g_error_matches (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND))
    g_warning ("Could not record a failed connection: %s", error->message);
}

/* Dialling */

static GError *
banned_error (KilnEngine        *self,
              const KilnAddress *address)
{
  g_autoptr(GDateTime) end = NULL;
  g_autofree char *when = NULL;
  char shown[KILN_ADDRESS_STRING_SIZE];
  gint64 until = 0;

  kiln_message_guard_is_banned (self->guard, address, &until);
  end = g_date_time_new_from_unix_utc (until);
  when = end != NULL ? g_date_time_format (end, "%Y-%m-%d %H:%M:%S UTC")
                     : g_strdup_printf ("%" G_GINT64_FORMAT, until);
  kiln_address_format (address, shown);

  return g_error_new (KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_BANNED,
                      _("This node has banned node %s until %s"), shown, when);
}

typedef struct
{
  KilnEngine     *engine;
  KilnEnginePeer *peer;          /* NULL for kiln_engine_connect_async() */
  GArray         *endpoints;     /* KilnDhtEndpoint, hosts owned */
  guint           next;
  GCancellable   *cancellable;
  GError         *error;         /* the last endpoint's */
  GTask          *task;          /* kiln_engine_connect_async() */
  GCancellable   *caller;        /* its cancellable, forwarded to ours */
  gulong          caller_id;
} Dial;

static void
endpoint_clear (gpointer data)
{
  KilnDhtEndpoint *endpoint = data;

  g_free (endpoint->host);
}

static void
dial_free (Dial *dial)
{
  g_assert (dial->task == NULL);

  if (dial->caller != NULL)
    g_cancellable_disconnect (dial->caller, dial->caller_id);
  g_clear_object (&dial->caller);
  g_clear_object (&dial->peer);
  g_clear_object (&dial->engine);
  g_clear_pointer (&dial->endpoints, g_array_unref);
  g_clear_object (&dial->cancellable);
  g_clear_error (&dial->error);
  g_free (dial);
}

static Dial *
dial_new (KilnEngine *self)
{
  Dial *dial = g_new0 (Dial, 1);

  dial->engine = g_object_ref (self);
  dial->endpoints = g_array_new (FALSE, TRUE, sizeof (KilnDhtEndpoint));
  g_array_set_clear_func (dial->endpoints, endpoint_clear);
  dial->cancellable = g_cancellable_new ();
  self->n_dialing++;

  return dial;
}

static void dial_next (Dial *dial);

static void
schedule_redial (KilnEngine     *self,
                 KilnEnginePeer *peer)
{
  kiln_engine_schedule_dial (self, peer, kiln_backoff_next (&peer->backoff));
}

static void
dial_failed (Dial *dial)
{
  KilnEngine *self = dial->engine;
  KilnEnginePeer *peer = dial->peer;

  if (peer == NULL)
    return;

  kiln_engine_peer_set_failures (peer, peer->failures + 1);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                    "KILN_PEER", peer->address_string,
                    "MESSAGE", "Could not reach %s (%u failures): %s", peer->address_string,
                    peer->failures,
                    dial->error != NULL ? dial->error->message : "no endpoint");
  kiln_peer_table_failed_async (self->peer_table, &peer->address, NULL,
                                on_failure_written, NULL);
  schedule_redial (self, peer);
}

/* The dial is over, one way or another. */
static void
dial_done (Dial     *dial,
           KilnLink *link)
{
  KilnEngine *self = dial->engine;
  g_autoptr(GTask) task = g_steal_pointer (&dial->task);

  self->n_dialing--;
  if (dial->peer != NULL && dial->peer->dial == dial->cancellable)
    g_clear_object (&dial->peer->dial);

  if (link != NULL && !kiln_engine_is_running (self))
    {
      kiln_link_close (link, KILN_NET_CLOSE_NORMAL, "The node is shutting down");
      link = NULL;
      if (dial->error == NULL)
        dial->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                           _("The node stopped"));
    }

  if (link != NULL)
    {
      const KilnDhtEndpoint *endpoint = &g_array_index (dial->endpoints, KilnDhtEndpoint,
                                                        dial->next - 1);
      g_autofree char *where = kiln_engine_format_endpoint (endpoint->host, endpoint->port);

      /* Its DHT node is on the same port: a way into the DHT for a node dialled by hand. */
      if (task != NULL && self->dht != NULL && kiln_dht_is_running (self->dht))
        kiln_dht_bootstrap (self->dht, where, NULL);
      kiln_engine_adopt_link (self, link, FALSE);
      if (task != NULL)
        {
          KilnEnginePeer *peer = kiln_engine_lookup_peer (self,
                                                          kiln_link_get_peer_address (link));

          if (peer != NULL && peer->link != NULL)
            g_task_return_pointer (task, g_object_ref (peer), g_object_unref);
          else if (kiln_engine_is_banned (self, kiln_link_get_peer_address (link), NULL))
            g_task_return_error (task, banned_error (self, kiln_link_get_peer_address (link)));
          else
            g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                                     _("This node already has all the links it may keep "
                                       "(%u)"), self->max_links);
        }
    }
  else
    {
      if (!g_error_matches (dial->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        dial_failed (dial);
      if (task != NULL)
        g_task_return_error (task, g_steal_pointer (&dial->error));
    }

  if (kiln_engine_is_running (self))
    kiln_engine_fill_links (self);
  dial_free (dial);
}

static void
on_dialled (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Dial *dial = user_data;
  g_autoptr(KilnLink) link = NULL;

  g_clear_error (&dial->error);
  link = kiln_link_connect_finish (result, &dial->error);
  if (link != NULL || g_error_matches (dial->error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      dial->next >= dial->endpoints->len)
    {
      dial_done (dial, link);
      return;
    }

  dial_next (dial);
}

static void
dial_next (Dial *dial)
{
  const KilnDhtEndpoint *endpoint = &g_array_index (dial->endpoints, KilnDhtEndpoint,
                                                    dial->next++);

  kiln_link_connect_async (dial->engine->config, endpoint->host, endpoint->port,
                           dial->peer != NULL ? &dial->peer->address : NULL,
                           dial->cancellable, on_dialled, dial);
}

static guint
n_links (KilnEngine *self)
{
  return self->links->len + self->n_dialing;
}

void
kiln_engine_maybe_dial (KilnEngine     *self,
                        KilnEnginePeer *peer)
{
  Dial *dial;

  if (!kiln_engine_is_running (self) || peer->link != NULL || peer->dial != NULL ||
      peer->redial != NULL || peer->info == NULL || peer->info->endpoints->len == 0 ||
      n_links (self) >= self->max_links)
    return;

  /* Not while banned; kiln_engine_schedule_dial() waits for the end of the ban. */
  if (kiln_engine_is_banned (self, &peer->address, NULL))
    {
      kiln_engine_schedule_dial (self, peer, 0);
      return;
    }

  dial = dial_new (self);
  dial->peer = g_object_ref (peer);
  for (guint i = 0; i < peer->info->endpoints->len; i++)
    {
      KilnDhtEndpoint endpoint = g_array_index (peer->info->endpoints, KilnDhtEndpoint, i);

      endpoint.host = g_strdup (endpoint.host);
      g_array_append_val (dial->endpoints, endpoint);
    }
  peer->dial = g_object_ref (dial->cancellable);

  g_debug ("Dialling %s (%s)", peer->address_string, peer->endpoints[0]);
  dial_next (dial);
}

static gboolean
on_redial (gpointer user_data)
{
  KilnEnginePeer *peer = user_data;

  g_clear_pointer (&peer->redial, g_source_unref);
  kiln_engine_maybe_dial (peer->engine, peer);

  return G_SOURCE_REMOVE;
}

void
kiln_engine_schedule_dial (KilnEngine     *self,
                           KilnEnginePeer *peer,
                           guint           delay_ms)
{
  guint banned_ms;

  if (!kiln_engine_is_running (self) || peer->link != NULL || peer->dial != NULL ||
      peer->redial != NULL)
    return;

  if (kiln_engine_is_banned (self, &peer->address, &banned_ms))
    delay_ms = MAX (delay_ms, banned_ms);

  /* The source is destroyed when the engine stops (kiln_engine_cancel_dials()). */
  peer->redial = g_timeout_source_new (delay_ms);
  g_source_set_static_name (peer->redial, "[kiln] engine redial");
  g_source_set_callback (peer->redial, on_redial, peer, NULL);
  g_source_attach (peer->redial, g_main_context_get_thread_default ());
}

void
kiln_engine_fill_links (KilnEngine *self)
{
  GListModel *peers = G_LIST_MODEL (self->peers);

  for (guint i = 0; i < g_list_model_get_n_items (peers) && n_links (self) < self->max_links;
       i++)
    {
      g_autoptr(KilnEnginePeer) peer = g_list_model_get_item (peers, i);

      kiln_engine_maybe_dial (self, peer);
    }
}

void
kiln_engine_cancel_dials (KilnEngine *self)
{
  GListModel *peers = G_LIST_MODEL (self->peers);

  for (guint i = 0; i < g_list_model_get_n_items (peers); i++)
    {
      g_autoptr(KilnEnginePeer) peer = g_list_model_get_item (peers, i);

      if (peer->dial != NULL)
        g_cancellable_cancel (peer->dial);
      g_clear_object (&peer->dial);
      if (peer->redial != NULL)
        g_source_destroy (peer->redial);
      g_clear_pointer (&peer->redial, g_source_unref);
    }
}

static void
on_caller_cancelled (GCancellable *caller,
                     GCancellable *ours)
{
  g_cancellable_cancel (ours);
}

void
kiln_engine_connect_async (KilnEngine          *self,
                           const char          *host,
                           guint16              port,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  KilnDhtEndpoint endpoint;
  Dial *dial;

  g_return_if_fail (KILN_IS_ENGINE (self));
  g_return_if_fail (host != NULL);
  g_return_if_fail (port != 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_engine_connect_async);

  if (!kiln_engine_is_running (self))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                               _("The node is not running"));
      return;
    }

  dial = dial_new (self);
  dial->task = g_steal_pointer (&task);
  endpoint.host = g_strdup (host);
  endpoint.port = port;
  g_array_append_val (dial->endpoints, endpoint);
  if (cancellable != NULL)
    {
      dial->caller = g_object_ref (cancellable);
      dial->caller_id = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                               dial->cancellable, NULL);
    }
  dial_next (dial);
}

KilnEnginePeer *
kiln_engine_connect_finish (KilnEngine    *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_engine_connect_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Links */

/* Who dialled @link: this node when it is the link's client. */
static const KilnAddress *
link_initiator (KilnEngine *self,
                KilnLink   *link)
{
  if (kiln_link_get_role (link) == KILN_NET_ROLE_CLIENT)
    return kiln_key_get_address (self->key);

  return kiln_link_get_peer_address (link);
}

/* Whether @candidate should replace @current as the link to their peer. */
static gboolean
prefer_link (KilnEngine *self,
             KilnLink   *current,
             KilnLink   *candidate)
{
  const KilnAddress *a = link_initiator (self, current);
  const KilnAddress *b = link_initiator (self, candidate);

  if (kiln_address_equal (a, b))
    return TRUE;

  return memcmp (b->bytes, a->bytes, KILN_ADDRESS_SIZE) < 0;
}

static void
on_link_closed (KilnLink     *link,
                const GError *error,
                gboolean      by_peer,
                KilnEngine   *self)
{
  kiln_engine_forget_link (self, link,
                           error != NULL ? g_error_copy (error)
                                         : g_error_new_literal (KILN_NET_ERROR,
                                                                KILN_NET_ERROR_CLOSED,
                                                                _("The link closed")));
}

static void
on_link_message (KilnLink   *link,
                 guint       type,
                 GBytes     *payload,
                 KilnEngine *self)
{
  kiln_engine_dispatch_frame (self, link, type, payload);
}

/* The peer did not close a duplicate link it should have closed. */
static gboolean
on_duplicate_grace_over (gpointer data)
{
  kiln_link_close (data, KILN_NET_CLOSE_NORMAL, "Duplicate link");
  return G_SOURCE_REMOVE;
}

/* Another open link to the peer of @link, if there is one. */
static KilnLink *
find_other_link (KilnEngine *self,
                 KilnLink   *link)
{
  const KilnAddress *address = kiln_link_get_peer_address (link);

  for (guint i = 0; i < self->links->len; i++)
    {
      KilnLink *other = g_ptr_array_index (self->links, i);

      if (other != link && kiln_link_get_state (other) == KILN_LINK_STATE_OPEN &&
          kiln_address_equal (kiln_link_get_peer_address (other), address))
        return other;
    }

  return NULL;
}

static void
log_link (KilnEnginePeer *peer,
          const char     *what,
          const char     *detail)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
                    "KILN_PEER", peer->address_string,
                    "KILN_LINK_EVENT", what,
                    "MESSAGE", "Peer %s %s%s%s", peer->address_string, what,
                    detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

void
kiln_engine_adopt_link (KilnEngine *self,
                        KilnLink   *link,
                        gboolean    inbound)
{
  const KilnAddress *address = kiln_link_get_peer_address (link);
  KilnEnginePeer *peer;

  g_assert (kiln_link_get_state (link) == KILN_LINK_STATE_OPEN);

  if (kiln_engine_is_banned (self, address, NULL))
    {
      /* The guard closes it at once, telling the peer until when and why; it is watched
       * only so that stopping waits for that goodbye. */
      g_ptr_array_add (self->links, g_object_ref (link));
      g_signal_connect_object (link, "closed", G_CALLBACK (on_link_closed), self, 0);
      kiln_message_guard_attach (self->guard, link);
      return;
    }

  peer = kiln_engine_ensure_peer (self, address);
  if (peer == NULL)
    {
      /* The handshake refuses this already; never keep a link to ourselves. */
      kiln_link_close (link, KILN_NET_CLOSE_SELF, "This is the same node");
      return;
    }

  g_ptr_array_add (self->links, g_object_ref (link));
  g_signal_connect_object (link, "closed", G_CALLBACK (on_link_closed), self, 0);
  g_signal_connect_object (link, "message-received", G_CALLBACK (on_link_message), self, 0);
  kiln_message_guard_attach (self->guard, link);
  kiln_transfer_serve (self->transfer, link);

  if (inbound && !self->reachable)
    {
      self->reachable = TRUE;
      kiln_engine_notify (self, KILN_ENGINE_PROP_REACHABLE);
    }

  if (peer->link != NULL)
    {
      g_autoptr(KilnLink) loser = NULL;

      if (prefer_link (self, peer->link, link))
        {
          loser = g_object_ref (peer->link);
          kiln_engine_peer_set_link (peer, link, inbound, TRUE);
          kiln_link_ping (link);
        }
      else
        loser = g_object_ref (link);

      /* The kept link opens last on its client's side, so its client closes the other
       * one: a CLOSE from the server could reach the client before the kept link is open
       * there, and the peer would seem lost for a moment. */
      if (kiln_link_get_role (peer->link) == KILN_NET_ROLE_CLIENT)
        {
          g_debug ("Two links to %s: closing the one not kept", peer->address_string);
          kiln_link_close (loser, KILN_NET_CLOSE_NORMAL, "Duplicate link");
        }
      else
        {
          g_autoptr(GSource) grace = g_timeout_source_new (DUPLICATE_GRACE_MS);

          g_debug ("Two links to %s: the peer closes the one not kept", peer->address_string);
          g_source_set_static_name (grace, "[kiln] duplicate link");
          g_source_set_callback (grace, on_duplicate_grace_over, g_steal_pointer (&loser),
                                 g_object_unref);
          g_source_attach (grace, g_main_context_get_thread_default ());
        }
      return;
    }

  /* Dials and accepts race each other: the cap is checked again as each link opens. */
  if (self->n_connected >= self->max_links)
    {
      kiln_link_close (link, KILN_NET_CLOSE_NORMAL, "This node has all the links it can keep");
      return;
    }

  if (peer->redial != NULL)
    g_source_destroy (peer->redial);
  g_clear_pointer (&peer->redial, g_source_unref);

  kiln_engine_peer_set_link (peer, link, inbound, FALSE);
  kiln_link_ping (link);
  self->n_connected++;
  kiln_engine_notify (self, KILN_ENGINE_PROP_N_CONNECTED);
  kiln_engine_update_state (self);
  kiln_engine_record_seen (self, peer, TRUE);
  kiln_engine_fetch_record (self, peer);
  log_link (peer, inbound ? "connected (inbound)" : "connected (outbound)", NULL);
  kiln_engine_emit_peer_connected (self, peer);
}

void
kiln_engine_forget_link (KilnEngine *self,
                         KilnLink   *link,
                         GError     *error)
{
  g_autoptr(GError) owned_error = error;
  g_autoptr(KilnLink) keep = g_object_ref (link);
  KilnEnginePeer *peer;
  KilnLink *other;
  guint index;

  if (!g_ptr_array_find (self->links, link, &index))
    return;

  g_signal_handlers_disconnect_by_data (link, self);
  g_ptr_array_remove_index_fast (self->links, index);

  peer = kiln_engine_lookup_peer (self, kiln_link_get_peer_address (link));
  if (peer != NULL && peer->link == link && (other = find_other_link (self, link)) != NULL)
    {
      /* Still linked: the duplicate that was to be closed lives on instead. */
      kiln_engine_peer_set_link (peer, other, kiln_link_get_role (other) == KILN_NET_ROLE_SERVER,
                                 TRUE);
    }
  else if (peer != NULL && peer->link == link)
    {
      g_autoptr(KilnEnginePeer) keep_peer = g_object_ref (peer);
      gboolean healthy = g_get_real_time () - peer->connected_since > HEALTHY_LINK_US;

      kiln_engine_peer_clear_link (peer);
      self->n_connected--;
      kiln_engine_notify (self, KILN_ENGINE_PROP_N_CONNECTED);
      kiln_engine_update_state (self);
      kiln_engine_record_seen (self, peer, TRUE);
      log_link (peer, "disconnected", owned_error->message);
      kiln_engine_emit_peer_disconnected (self, peer, owned_error);

      if (healthy)
        kiln_backoff_reset (&peer->backoff);
      schedule_redial (self, peer);
    }

  kiln_engine_link_gone (self);
  if (kiln_engine_is_running (self))
    kiln_engine_fill_links (self);
}
