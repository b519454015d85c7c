/* kiln-link-listener.c: the accepting side of links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-link-listener.h"
#include "kiln-link-private.h"

struct _KilnLinkListener
{
  GObject         parent_instance;

  KilnLinkConfig *config;
  GSocketService *service;
  guint           max_links;
  GPtrArray      *links;     /* handshaking and open */
};

enum {
  PROP_0,
  PROP_MAX_LINKS,
  N_PROPS
};

enum {
  LINK_ACCEPTED,
  LINK_REFUSED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KilnLinkListener, kiln_link_listener, G_TYPE_OBJECT)

static void
forget_links (KilnLinkListener *self)
{
  for (guint i = 0; i < self->links->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->links, i), self);
  g_ptr_array_set_size (self->links, 0);
}

static void
kiln_link_listener_dispose (GObject *object)
{
  KilnLinkListener *self = KILN_LINK_LISTENER (object);

  if (self->service != NULL)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }
  forget_links (self);

  G_OBJECT_CLASS (kiln_link_listener_parent_class)->dispose (object);
}

static void
kiln_link_listener_finalize (GObject *object)
{
  KilnLinkListener *self = KILN_LINK_LISTENER (object);

  g_clear_object (&self->config);
  g_clear_pointer (&self->links, g_ptr_array_unref);

  G_OBJECT_CLASS (kiln_link_listener_parent_class)->finalize (object);
}

static void
kiln_link_listener_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  KilnLinkListener *self = KILN_LINK_LISTENER (object);

  switch (prop_id)
    {
    case PROP_MAX_LINKS:
      g_value_set_uint (value, self->max_links);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_link_listener_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  KilnLinkListener *self = KILN_LINK_LISTENER (object);

  switch (prop_id)
    {
    case PROP_MAX_LINKS:
      kiln_link_listener_set_max_links (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_link_listener_class_init (KilnLinkListenerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_link_listener_dispose;
  object_class->finalize = kiln_link_listener_finalize;
  object_class->get_property = kiln_link_listener_get_property;
  object_class->set_property = kiln_link_listener_set_property;

  properties[PROP_MAX_LINKS] =
    g_param_spec_uint ("max-links", NULL, NULL,
                       1, G_MAXUINT, KILN_NET_MAX_LINKS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KilnLinkListener::link-accepted:
   * @link: an open link; the handler takes a reference to keep it
   */
  signals[LINK_ACCEPTED] =
    g_signal_new ("link-accepted",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, KILN_TYPE_LINK);

  /**
   * KilnLinkListener::link-refused:
   * @remote: where the connection came from, or %NULL
   * @error: why it was refused or failed
   */
  signals[LINK_REFUSED] =
    g_signal_new ("link-refused",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_SOCKET_ADDRESS, G_TYPE_ERROR);
}

static void
kiln_link_listener_init (KilnLinkListener *self)
{
  self->max_links = KILN_NET_MAX_LINKS;
  self->links = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
on_link_closed (KilnLink         *link,
                const GError     *error,
                gboolean          by_peer,
                KilnLinkListener *self)
{
  g_signal_handlers_disconnect_by_data (link, self);
  g_ptr_array_remove_fast (self->links, link);
}

static void
on_link_handshake (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(KilnLinkListener) self = user_data;
  KilnLink *link = KILN_LINK (object);
  g_autoptr(GError) error = NULL;

  if (kiln_link_accept_finish (link, result, &error))
    g_signal_emit (self, signals[LINK_ACCEPTED], 0, link);
  else
    g_signal_emit (self, signals[LINK_REFUSED], 0, kiln_link_get_remote_address (link), error);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             KilnLinkListener  *self)
{
  g_autoptr(KilnLink) link = NULL;

  if (self->links->len >= self->max_links)
    {
      g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection,
                                                                                 NULL);
      g_autoptr(GError) error = g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_TOO_MANY_LINKS,
                                             _("Refused a connection: this node already has "
                                               "%u links"), self->links->len);

      /* Cheapest possible refusal: no TLS work for connections over the cap. */
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      g_signal_emit (self, signals[LINK_REFUSED], 0, remote, error);
      return TRUE;
    }

  link = kiln_link_new (self->config, KILN_NET_ROLE_SERVER);
  g_ptr_array_add (self->links, g_object_ref (link));
  g_signal_connect_object (link, "closed", G_CALLBACK (on_link_closed), self, 0);
  kiln_link_accept_async (link, connection, NULL, on_link_handshake, g_object_ref (self));

  return TRUE;
}

KilnLinkListener *
kiln_link_listener_new (KilnLinkConfig *config)
{
  KilnLinkListener *self;

  g_return_val_if_fail (KILN_IS_LINK_CONFIG (config), NULL);

  self = g_object_new (KILN_TYPE_LINK_LISTENER, NULL);
  self->config = g_object_ref (config);
  self->service = g_socket_service_new ();
  g_signal_connect_object (self->service, "incoming", G_CALLBACK (on_incoming), self, 0);

  return self;
}

gboolean
kiln_link_listener_listen (KilnLinkListener  *self,
                           const char        *host,
                           guint16            port,
                           guint16           *bound_port,
                           GError           **error)
{
  GSocketListener *listener;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;

  g_return_val_if_fail (KILN_IS_LINK_LISTENER (self), FALSE);
  g_return_val_if_fail (self->service != NULL, FALSE);

  listener = G_SOCKET_LISTENER (self->service);

  if (host == NULL)
    {
      if (port == 0)
        {
          port = g_socket_listener_add_any_inet_port (listener, NULL, error);
          if (port == 0)
            return FALSE;
        }
      else if (!g_socket_listener_add_inet_port (listener, port, NULL, error))
        return FALSE;

      if (bound_port != NULL)
        *bound_port = port;
      return TRUE;
    }

  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Cannot listen on “%s”: give an IPv4 or IPv6 address"), host);
      return FALSE;
    }

  address = g_inet_socket_address_new (inet, port);
  if (!g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, error))
    return FALSE;

  if (bound_port != NULL)
    *bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));

  return TRUE;
}

guint
kiln_link_listener_get_max_links (KilnLinkListener *self)
{
  g_return_val_if_fail (KILN_IS_LINK_LISTENER (self), 0);

  return self->max_links;
}

void
kiln_link_listener_set_max_links (KilnLinkListener *self,
                                  guint             max_links)
{
  g_return_if_fail (KILN_IS_LINK_LISTENER (self));
  g_return_if_fail (max_links > 0);

  if (self->max_links == max_links)
    return;

  self->max_links = max_links;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_LINKS]);
}

guint
kiln_link_listener_get_n_links (KilnLinkListener *self)
{
  g_return_val_if_fail (KILN_IS_LINK_LISTENER (self), 0);

  return self->links->len;
}

void
kiln_link_listener_close (KilnLinkListener *self,
                          const char       *text)
{
  g_autoptr(GPtrArray) links = NULL;

  g_return_if_fail (KILN_IS_LINK_LISTENER (self));

  if (self->service != NULL)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
    }

  links = g_ptr_array_copy (self->links, (GCopyFunc) g_object_ref, NULL);
  for (guint i = 0; i < links->len; i++)
    kiln_link_close (g_ptr_array_index (links, i), KILN_NET_CLOSE_NORMAL, text);
}
