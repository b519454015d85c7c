/* kiln-engine-peer.c: one node a KilnEngine knows, as the UI sees it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kiln-engine-private.h"

enum {
  PROP_0,
  PROP_ADDRESS,
  PROP_ADDRESS_STRING,
  PROP_ENDPOINTS,
  PROP_ROLES,
  PROP_CONNECTED,
  PROP_INBOUND,
  PROP_CONNECTED_SINCE,
  PROP_LAST_SEEN,
  PROP_LATENCY,
  PROP_FAILURES,
  PROP_REMOTE_ADDRESS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (KilnEnginePeer, kiln_engine_peer, G_TYPE_OBJECT)

static void
kiln_engine_peer_finalize (GObject *object)
{
  KilnEnginePeer *self = KILN_ENGINE_PEER (object);

  g_assert (self->link == NULL);
  g_assert (self->dial == NULL);
  g_assert (self->redial == NULL);

  g_clear_pointer (&self->info, kiln_dht_node_info_free);
  g_clear_pointer (&self->endpoints, g_strfreev);
  g_clear_pointer (&self->remote_address, g_free);

  G_OBJECT_CLASS (kiln_engine_peer_parent_class)->finalize (object);
}

static void
kiln_engine_peer_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KilnEnginePeer *self = KILN_ENGINE_PEER (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      g_value_set_boxed (value, &self->address);
      break;
    case PROP_ADDRESS_STRING:
      g_value_set_string (value, self->address_string);
      break;
    case PROP_ENDPOINTS:
      g_value_set_boxed (value, self->endpoints);
      break;
    case PROP_ROLES:
      g_value_set_uint (value, kiln_engine_peer_get_roles (self));
      break;
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->link != NULL);
      break;
    case PROP_INBOUND:
      g_value_set_boolean (value, self->inbound);
      break;
    case PROP_CONNECTED_SINCE:
      g_value_set_int64 (value, self->connected_since);
      break;
    case PROP_LAST_SEEN:
      g_value_set_int64 (value, self->last_seen);
      break;
    case PROP_LATENCY:
      g_value_set_int64 (value, self->latency);
      break;
    case PROP_FAILURES:
      g_value_set_uint (value, self->failures);
      break;
    case PROP_REMOTE_ADDRESS:
      g_value_set_string (value, self->remote_address);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_engine_peer_class_init (KilnEnginePeerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = kiln_engine_peer_finalize;
  object_class->get_property = kiln_engine_peer_get_property;

  properties[PROP_ADDRESS] =
    g_param_spec_boxed ("address", NULL, NULL, KILN_TYPE_ADDRESS, flags);
  properties[PROP_ADDRESS_STRING] =
    g_param_spec_string ("address-string", NULL, NULL, NULL, flags);
  properties[PROP_ENDPOINTS] =
    g_param_spec_boxed ("endpoints", NULL, NULL, G_TYPE_STRV, flags);
  properties[PROP_ROLES] =
    g_param_spec_uint ("roles", NULL, NULL, 0, G_MAXUINT32, 0, flags);
  properties[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL, FALSE, flags);
  properties[PROP_INBOUND] =
    g_param_spec_boolean ("inbound", NULL, NULL, FALSE, flags);
  properties[PROP_CONNECTED_SINCE] =
    g_param_spec_int64 ("connected-since", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_LAST_SEEN] =
    g_param_spec_int64 ("last-seen", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_LATENCY] =
    g_param_spec_int64 ("latency", NULL, NULL, -1, G_MAXINT64, -1, flags);
  properties[PROP_FAILURES] =
    g_param_spec_uint ("failures", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_REMOTE_ADDRESS] =
    g_param_spec_string ("remote-address", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_engine_peer_init (KilnEnginePeer *self)
{
  self->latency = -1;
  self->endpoints = g_new0 (char *, 1);
  kiln_backoff_init (&self->backoff, KILN_ENGINE_REDIAL_INITIAL_MS, KILN_ENGINE_REDIAL_MAX_MS);
}

KilnEnginePeer *
kiln_engine_peer_new (const KilnAddress *address)
{
  KilnEnginePeer *self = g_object_new (KILN_TYPE_ENGINE_PEER, NULL);

  self->address = *address;
  kiln_address_format (address, self->address_string);

  return self;
}

char *
kiln_engine_format_endpoint (const char *host,
                             guint16     port)
{
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, port);

  return g_strdup_printf ("%s:%u", host, port);
}

gboolean
kiln_engine_peer_set_info (KilnEnginePeer        *self,
                           const KilnDhtNodeInfo *info)
{
  g_autoptr(GPtrArray) builder = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) endpoints = NULL;
  guint old_roles = kiln_engine_peer_get_roles (self);
  gboolean changed;

  for (guint i = 0; i < info->endpoints->len; i++)
    {
      const KilnDhtEndpoint *endpoint = &g_array_index (info->endpoints, KilnDhtEndpoint, i);

      g_ptr_array_add (builder, kiln_engine_format_endpoint (endpoint->host, endpoint->port));
    }
  g_ptr_array_add (builder, NULL);
  endpoints = (GStrv) g_ptr_array_steal (builder, NULL);

  g_clear_pointer (&self->info, kiln_dht_node_info_free);
  self->info = kiln_dht_node_info_copy (info);

  changed = !g_strv_equal ((const char * const *) endpoints,
                           (const char * const *) self->endpoints);
  if (changed)
    {
      g_strfreev (self->endpoints);
      self->endpoints = g_steal_pointer (&endpoints);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENDPOINTS]);
    }
  if (old_roles != info->roles)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROLES]);

  return changed;
}

static void
on_link_latency (KilnLink       *link,
                 GParamSpec     *pspec,
                 KilnEnginePeer *self)
{
  gint64 latency = kiln_link_get_latency (link);

  if (self->latency == latency)
    return;

  /* A link's first round trip also waits for the peer to finish its side of the
   * handshake: measure again. */
  if (pspec != NULL && self->latency < 0 && !self->measured_again)
    {
      self->measured_again = TRUE;
      kiln_link_ping (link);
      return;
    }

  self->latency = latency;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LATENCY]);
}

static char *
describe_remote (KilnLink *link)
{
  GSocketAddress *remote = kiln_link_get_remote_address (link);
  GInetSocketAddress *inet;
  g_autofree char *host = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    return NULL;

  inet = G_INET_SOCKET_ADDRESS (remote);
  host = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  return kiln_engine_format_endpoint (host, g_inet_socket_address_get_port (inet));
}

void
kiln_engine_peer_set_link (KilnEnginePeer *self,
                           KilnLink       *link,
                           gboolean        inbound,
                           gboolean        keep_since)
{
  gboolean was_connected = self->link != NULL;
  g_autofree char *remote = describe_remote (link);

  g_object_freeze_notify (G_OBJECT (self));

  if (self->link != NULL)
    g_clear_signal_handler (&self->latency_id, self->link);
  g_set_object (&self->link, link);
  self->measured_again = FALSE;
  self->latency_id = g_signal_connect (link, "notify::latency",
                                       G_CALLBACK (on_link_latency), self);
  on_link_latency (link, NULL, self);

  if (!was_connected)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED]);
  if (self->inbound != inbound)
    {
      self->inbound = inbound;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INBOUND]);
    }
  if (!keep_since || self->connected_since == 0)
    {
      self->connected_since = g_get_real_time ();
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED_SINCE]);
    }
  if (g_strcmp0 (self->remote_address, remote) != 0)
    {
      g_free (self->remote_address);
      self->remote_address = g_steal_pointer (&remote);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REMOTE_ADDRESS]);
    }
  kiln_engine_peer_set_last_seen (self, g_get_real_time ());
  kiln_engine_peer_set_failures (self, 0);

  g_object_thaw_notify (G_OBJECT (self));
}

void
kiln_engine_peer_clear_link (KilnEnginePeer *self)
{
  if (self->link == NULL)
    return;

  g_object_freeze_notify (G_OBJECT (self));

  g_clear_signal_handler (&self->latency_id, self->link);
  g_clear_object (&self->link);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED]);
  self->connected_since = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED_SINCE]);
  if (self->remote_address != NULL)
    {
      g_clear_pointer (&self->remote_address, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REMOTE_ADDRESS]);
    }
  kiln_engine_peer_set_last_seen (self, g_get_real_time ());

  g_object_thaw_notify (G_OBJECT (self));
}

void
kiln_engine_peer_set_last_seen (KilnEnginePeer *self,
                                gint64          last_seen)
{
  if (last_seen <= self->last_seen)
    return;

  self->last_seen = last_seen;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SEEN]);
}

void
kiln_engine_peer_set_failures (KilnEnginePeer *self,
                               guint           failures)
{
  if (self->failures == failures)
    return;

  self->failures = failures;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FAILURES]);
}

/* Public API */

const KilnAddress *
kiln_engine_peer_get_address (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), NULL);

  return &self->address;
}

const char *
kiln_engine_peer_get_address_string (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), NULL);

  return self->address_string;
}

const char * const *
kiln_engine_peer_get_endpoints (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), NULL);

  return (const char * const *) self->endpoints;
}

guint
kiln_engine_peer_get_roles (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), 0);

  return self->info != NULL ? self->info->roles : 0;
}

gboolean
kiln_engine_peer_get_connected (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), FALSE);

  return self->link != NULL;
}

gboolean
kiln_engine_peer_get_inbound (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), FALSE);

  return self->inbound;
}

gint64
kiln_engine_peer_get_connected_since (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), 0);

  return self->connected_since;
}

gint64
kiln_engine_peer_get_last_seen (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), 0);

  return self->last_seen;
}

gint64
kiln_engine_peer_get_latency (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), -1);

  return self->latency;
}

guint
kiln_engine_peer_get_failures (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), 0);

  return self->failures;
}

const char *
kiln_engine_peer_get_remote_address (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), NULL);

  return self->remote_address;
}

KilnLink *
kiln_engine_peer_get_link (KilnEnginePeer *self)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (self), NULL);

  return self->link;
}
