/* kiln-engine-run.c: starting and stopping a KilnEngine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-engine-private.h"

/* Starting */

static void
on_link_accepted (KilnLinkListener *listener,
                  KilnLink         *link,
                  KilnEngine       *self)
{
  if (!kiln_engine_is_running (self))
    {
      kiln_link_close (link, KILN_NET_CLOSE_NORMAL, "The node is shutting down");
      return;
    }

  kiln_engine_adopt_link (self, link, TRUE);
}

static void
on_link_refused (KilnLinkListener *listener,
                 GSocketAddress   *remote,
                 const GError     *error,
                 KilnEngine       *self)
{
  g_autofree char *from = NULL;

  if (G_IS_INET_SOCKET_ADDRESS (remote))
    from = g_inet_address_to_string (
             g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));

  g_debug ("Refused a link from %s: %s", from != NULL ? from : "an unknown address",
           error->message);
}

static gboolean
on_ping_tick (gpointer user_data)
{
  KilnEngine *self = user_data;
  gint64 now = g_get_real_time ();

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->peers)); i++)
    {
      g_autoptr(KilnEnginePeer) peer = g_list_model_get_item (G_LIST_MODEL (self->peers), i);

      if (peer->link == NULL)
        continue;
      kiln_link_ping (peer->link);
      kiln_engine_peer_set_last_seen (peer, now);
      kiln_engine_record_seen (self, peer, FALSE);
    }
  kiln_engine_count_dht_nodes (self);

  return G_SOURCE_CONTINUE;
}

static gboolean
is_wildcard (const char *host)
{
  return host == NULL || host[0] == '\0' || g_str_equal (host, "*") || g_str_equal (host, "::");
}

/* Listens on @host:@port and starts the DHT node on the same port number. */
static gboolean
bind_ports (KilnEngine         *self,
            const char         *host,
            guint16             port,
            const char * const *bootstrap,
            gboolean            lan,
            GError            **error)
{
  for (guint attempt = 0; ; attempt++)
    {
      g_autoptr(KilnLinkListener) listener = kiln_link_listener_new (self->config);
      g_autoptr(GError) local_error = NULL;
      guint16 bound = 0;

      kiln_link_listener_set_max_links (listener, self->max_links);
      if (!kiln_link_listener_listen (listener, host, port, &bound, error))
        {
          g_prefix_error (error, _("Cannot listen for links on port %u: "), port);
          return FALSE;
        }

      if (kiln_engine_start_discovery (self, bound, bootstrap, lan, &local_error))
        {
          g_signal_connect_object (listener, "link-accepted",
                                   G_CALLBACK (on_link_accepted), self, 0);
          g_signal_connect_object (listener, "link-refused",
                                   G_CALLBACK (on_link_refused), self, 0);
          self->listener = g_steal_pointer (&listener);
          self->listen_port = bound;
          return TRUE;
        }

      kiln_link_listener_close (listener, NULL);
      /* A fixed port, a bad bootstrap address or too many tries: give up. */
      if (port != 0 || !g_error_matches (local_error, KILN_DHT_ERROR, KILN_DHT_ERROR_FAILED) ||
          attempt + 1 >= KILN_ENGINE_PORT_ATTEMPTS)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_debug ("UDP port %u is taken; trying another port", bound);
    }
}

gboolean
kiln_engine_start (KilnEngine          *self,
                   const char          *listen_host,
                   guint16              listen_port,
                   const char * const  *bootstrap,
                   gboolean             lan,
                   GError             **error)
{
  const char *host;

  g_return_val_if_fail (KILN_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (self->state == KILN_ENGINE_STATE_STOPPED, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  host = is_wildcard (listen_host) ? NULL : listen_host;

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  if (!bind_ports (self, host, listen_port, bootstrap, lan, error))
    return FALSE;

  g_object_freeze_notify (G_OBJECT (self));

  g_free (self->listen_host);
  self->listen_host = g_strdup (host);
  self->lan = lan;
  self->reachable = FALSE;

  kiln_engine_set_state (self, KILN_ENGINE_STATE_CONNECTING);
  kiln_engine_notify (self, KILN_ENGINE_PROP_LISTEN_HOST);
  kiln_engine_notify (self, KILN_ENGINE_PROP_LISTEN_PORT);
  kiln_engine_notify (self, KILN_ENGINE_PROP_LAN);
  kiln_engine_notify (self, KILN_ENGINE_PROP_REACHABLE);

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
                    "KILN_NODE", kiln_engine_get_address_string (self),
                    "MESSAGE", "Node %s listening on %s port %u%s",
                    kiln_engine_get_address_string (self),
                    host != NULL ? host : "every interface", self->listen_port,
                    lan ? ", LAN discovery on" : "");

  kiln_engine_announce (self);
  kiln_dht_watch_nodes (self->dht, KILN_DHT_ROLE_ALL);

  self->ping_timer = g_timeout_source_new_seconds (KILN_ENGINE_PING_INTERVAL_S);
  g_source_set_static_name (self->ping_timer, "[kiln] engine ping");
  g_source_set_callback (self->ping_timer, on_ping_tick, self, NULL);
  g_source_attach (self->ping_timer, g_main_context_get_thread_default ());

  /* Bans first: the store answers in order, so none of the peers read next is dialled. */
  kiln_engine_load_bans (self);
  kiln_engine_load_peer_table (self);
  kiln_engine_fill_links (self);

  g_object_thaw_notify (G_OBJECT (self));

  return TRUE;
}

/* Stopping */

static void
finish_stop (KilnEngine *self)
{
  g_autoptr(GPtrArray) tasks = NULL;

  g_assert (self->links->len == 0);

  kiln_engine_stop_discovery (self);
  g_clear_object (&self->listener);

  g_object_freeze_notify (G_OBJECT (self));
  kiln_engine_set_state (self, KILN_ENGINE_STATE_STOPPED);
  if (self->n_dht_nodes != 0)
    {
      self->n_dht_nodes = 0;
      kiln_engine_notify (self, KILN_ENGINE_PROP_N_DHT_NODES);
    }
  g_object_thaw_notify (G_OBJECT (self));

  g_info ("Node %s stopped", kiln_engine_get_address_string (self));

  tasks = g_steal_pointer (&self->stop_tasks);
  self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < tasks->len; i++)
    g_task_return_boolean (g_ptr_array_index (tasks, i), TRUE);
}

void
kiln_engine_link_gone (KilnEngine *self)
{
  if (self->state == KILN_ENGINE_STATE_STOPPING && self->links->len == 0)
    finish_stop (self);
}

/* Begins stopping: no more dials or accepts, a CLOSE on every link. */
static void
begin_stop (KilnEngine *self)
{
  g_autoptr(GPtrArray) links = NULL;

  kiln_engine_set_state (self, KILN_ENGINE_STATE_STOPPING);
  g_cancellable_cancel (self->cancellable);
  kiln_engine_cancel_dials (self);
  if (self->ping_timer != NULL)
    g_source_destroy (self->ping_timer);
  g_clear_pointer (&self->ping_timer, g_source_unref);

  if (self->listener != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->listener, self);
      kiln_link_listener_close (self->listener, "The node is shutting down");
    }

  links = g_ptr_array_copy (self->links, (GCopyFunc) g_object_ref, NULL);
  for (guint i = 0; i < links->len; i++)
    kiln_link_close (g_ptr_array_index (links, i), KILN_NET_CLOSE_NORMAL,
                     "The node is shutting down");
}

void
kiln_engine_stop_async (KilnEngine          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_ENGINE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_engine_stop_async);

  if (self->state == KILN_ENGINE_STATE_STOPPED)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  g_ptr_array_add (self->stop_tasks, g_steal_pointer (&task));
  if (self->state != KILN_ENGINE_STATE_STOPPING)
    {
      g_info ("Node %s stopping: closing %u links", kiln_engine_get_address_string (self),
              self->links->len);
      begin_stop (self);
    }
  kiln_engine_link_gone (self);
}

gboolean
kiln_engine_stop_finish (KilnEngine    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_engine_stop_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kiln_engine_stop (KilnEngine *self)
{
  g_autoptr(GPtrArray) links = NULL;

  g_return_if_fail (KILN_IS_ENGINE (self));

  if (self->state == KILN_ENGINE_STATE_STOPPED)
    return;

  if (self->state != KILN_ENGINE_STATE_STOPPING)
    begin_stop (self);

  /* The links finish their goodbye on their own; the engine forgets them now. */
  links = g_ptr_array_copy (self->links, (GCopyFunc) g_object_ref, NULL);
  for (guint i = 0; i < links->len; i++)
    kiln_engine_forget_link (self, g_ptr_array_index (links, i),
                             g_error_new_literal (KILN_NET_ERROR, KILN_NET_ERROR_CLOSED,
                                                  _("This node stopped")));
  finish_stop (self);
}
