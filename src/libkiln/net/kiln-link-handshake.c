/* kiln-link-handshake.c: TCP, TLS 1.3 and the identity proofs that open a link
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The client sends its HELLO as soon as TLS is up; the server checks it before sending its
 * own, so a node tells nothing about itself to a peer that has not proven who it is.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-link-private.h"

/* Certificates are throwaway and self-signed: identity comes from the secp256k1 proof bound
 * to this very TLS session, so any certificate is accepted here. */
static gboolean
on_accept_certificate (GTlsConnection       *tls,
                       GTlsCertificate      *peer_certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  return TRUE;
}

static void
send_hello (KilnLink *self)
{
  g_autoptr(GBytes) payload = NULL;
  GError *error = NULL;
  KilnNetHello hello;

  if (!kiln_net_hello_sign (&hello, kiln_link_config_get_key (self->config), self->role,
                            self->binding, &error))
    {
      kiln_link_fail (self, error, FALSE, -1, NULL);
      return;
    }

  payload = kiln_net_hello_encode (&hello);
  kiln_frame_writer_send_async (self->writer, KILN_FRAME_HELLO, payload, FALSE,
                                NULL, NULL, NULL);
}

static void
refuse (KilnLink           *self,
        KilnNetCloseReason  reason,
        const char         *wire_text,
        GError             *error)
{
  kiln_link_fail (self, error, FALSE, reason, wire_text);
}

void
kiln_link_handshake_frame (KilnLink *self,
                           guint8    type,
                           GBytes   *payload)
{
  KilnNetRole peer_role = self->role == KILN_NET_ROLE_CLIENT ? KILN_NET_ROLE_SERVER
                                                             : KILN_NET_ROLE_CLIENT;
  KilnKey *key = kiln_link_config_get_key (self->config);
  GError *error = NULL;
  KilnNetHello hello;

  if (type == KILN_FRAME_CLOSE)
    {
      kiln_link_fail (self, kiln_link_error_from_close (payload, TRUE), TRUE, -1, NULL);
      return;
    }

  if (type != KILN_FRAME_HELLO)
    {
      refuse (self, KILN_NET_CLOSE_PROTOCOL, "The first frame must be HELLO",
              g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL,
                           _("The peer sent a frame of type 0x%02x instead of HELLO"), type));
      return;
    }

  if (!kiln_net_hello_decode (payload, &hello, &error) ||
      !kiln_net_hello_verify (&hello, peer_role, self->binding, &error))
    {
      g_autofree char *wire = NULL;

      if (g_error_matches (error, KILN_NET_ERROR, KILN_NET_ERROR_VERSION))
        {
          wire = g_strdup_printf ("This node speaks link protocol %u.%u, not %u.%u",
                                  KILN_NET_PROTOCOL_MAJOR, KILN_NET_PROTOCOL_MINOR,
                                  hello.major, hello.minor);
          refuse (self, KILN_NET_CLOSE_VERSION, wire, error);
        }
      else if (g_error_matches (error, KILN_NET_ERROR, KILN_NET_ERROR_BAD_PROOF))
        refuse (self, KILN_NET_CLOSE_BAD_PROOF,
                "The identity proof does not match the address it claims", error);
      else
        refuse (self, KILN_NET_CLOSE_PROTOCOL, error->message, error);
      return;
    }

  if (kiln_address_equal (&hello.address, kiln_key_get_address (key)))
    {
      refuse (self, KILN_NET_CLOSE_SELF, "This link leads from a node to itself",
              g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_SELF,
                           _("The link leads back to this node itself")));
      return;
    }

  if (self->has_expected_peer && !kiln_address_equal (&hello.address, &self->expected_peer))
    {
      char expected[KILN_ADDRESS_STRING_SIZE];
      char found[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (&self->expected_peer, expected);
      kiln_address_format (&hello.address, found);
      refuse (self, KILN_NET_CLOSE_UNEXPECTED_PEER, "This is not the node that was asked for",
              g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_UNEXPECTED_PEER,
                           _("Node %s answered where %s was expected"), found, expected));
      return;
    }

  self->peer_address = hello.address;
  self->has_peer_address = TRUE;

  if (self->role == KILN_NET_ROLE_SERVER)
    send_hello (self);

  if (self->state == KILN_LINK_STATE_HANDSHAKING)
    kiln_link_set_open (self);
}

static const char *
tls_version_name (GTlsProtocolVersion version)
{
  switch (version)
    {
    case G_TLS_PROTOCOL_VERSION_SSL_3_0:
      return "SSL 3.0";
    case G_TLS_PROTOCOL_VERSION_TLS_1_0:
      return "TLS 1.0";
    case G_TLS_PROTOCOL_VERSION_TLS_1_1:
      return "TLS 1.1";
    case G_TLS_PROTOCOL_VERSION_TLS_1_2:
      return "TLS 1.2";
    case G_TLS_PROTOCOL_VERSION_TLS_1_3:
      return "TLS 1.3";
    case G_TLS_PROTOCOL_VERSION_DTLS_1_0:
      return "DTLS 1.0";
    case G_TLS_PROTOCOL_VERSION_DTLS_1_2:
      return "DTLS 1.2";
    case G_TLS_PROTOCOL_VERSION_UNKNOWN:
    default:
      return _("an unknown TLS version");
    }
}

static void
on_tls_handshake (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KilnLink) self = user_data;
  g_autoptr(GError) error = NULL;
  GTlsProtocolVersion version;

  self->tls_handshaking = FALSE;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (object), result, &error))
    {
      if (self->state >= KILN_LINK_STATE_CLOSING)
        kiln_link_maybe_finish_close (self);
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        kiln_link_fail (self, g_steal_pointer (&error), FALSE, -1, NULL);
      else
        {
          g_prefix_error (&error, _("The TLS handshake failed: "));
          kiln_link_fail (self, g_steal_pointer (&error), FALSE, -1, NULL);
        }
      return;
    }

  if (self->state >= KILN_LINK_STATE_CLOSING)
    {
      kiln_link_maybe_finish_close (self);
      return;
    }

  self->writer = kiln_frame_writer_new (g_io_stream_get_output_stream (G_IO_STREAM (self->tls)),
                                        KILN_NET_SEND_QUEUE_MAX);

  /* glib-networking offers no way to ask for TLS 1.3 only: check what was negotiated. */
  version = g_tls_connection_get_protocol_version (self->tls);
  if (version != G_TLS_PROTOCOL_VERSION_TLS_1_3)
    {
      refuse (self, KILN_NET_CLOSE_TLS_VERSION, "Links need TLS 1.3",
              g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_TLS_VERSION,
                           _("The connection uses %s; links need TLS 1.3"),
                           tls_version_name (version)));
      return;
    }

  if (!kiln_net_channel_binding (self->tls, self->binding, &error))
    {
      refuse (self, KILN_NET_CLOSE_PROTOCOL, "No channel binding",
              g_steal_pointer (&error));
      return;
    }

  if (self->role == KILN_NET_ROLE_CLIENT)
    send_hello (self);

  kiln_link_read_next (self);
}

static gboolean
on_handshake_timeout (gpointer user_data)
{
  g_autoptr(KilnLink) self = g_object_ref (user_data);
  guint timeout = kiln_link_config_get_handshake_timeout (self->config);
  g_autofree char *wire = g_strdup_printf ("The handshake took longer than %u ms", timeout);

  g_clear_pointer (&self->handshake_timer, g_source_unref);
  refuse (self, KILN_NET_CLOSE_TIMED_OUT, wire,
          g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_TIMED_OUT,
                       _("The peer did not complete the handshake within %u ms"), timeout));

  return G_SOURCE_REMOVE;
}

static void
start_tls (KilnLink *self)
{
  GTlsCertificate *certificate = kiln_link_config_get_certificate (self->config);
  GError *error = NULL;
  GIOStream *tls;

  if (self->role == KILN_NET_ROLE_CLIENT)
    tls = g_tls_client_connection_new (self->base, NULL, &error);
  else
    tls = g_tls_server_connection_new (self->base, certificate, &error);

  if (tls == NULL)
    {
      g_prefix_error (&error, _("Could not start TLS: "));
      kiln_link_fail (self, error, FALSE, -1, NULL);
      return;
    }

  self->tls = G_TLS_CONNECTION (tls);
  if (self->role == KILN_NET_ROLE_CLIENT)
    g_tls_connection_set_certificate (self->tls, certificate);
  else
    g_object_set (tls, "authentication-mode", G_TLS_AUTHENTICATION_REQUIRED, NULL);

  /* No certificate authority can vouch for a throwaway certificate: skip loading the
   * system's trust store and accept whatever the peer shows. */
  g_tls_connection_set_database (self->tls, NULL);
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (on_accept_certificate), NULL);

  self->tls_handshaking = TRUE;
  g_tls_connection_handshake_async (self->tls, G_PRIORITY_DEFAULT, self->cancellable,
                                    on_tls_handshake, g_object_ref (self));
}

static gboolean
cancel_link_idle (gpointer user_data)
{
  KilnLink *self = user_data;

  /* The handshake may have finished since: an open link is the caller's now. */
  if (self->state == KILN_LINK_STATE_HANDSHAKING)
    g_cancellable_cancel (self->cancellable);

  return G_SOURCE_REMOVE;
}

static void
on_user_cancelled (GCancellable *cancellable,
                   KilnLink     *self)
{
  GSource *source = g_idle_source_new ();

  /* This may run in any thread, and inside g_cancellable_connect() or _cancel(): the link
   * must not finish (and disconnect this handler) from here, so only schedule. */
  g_source_set_callback (source, cancel_link_idle, g_object_ref (self), g_object_unref);
  g_source_set_static_name (source, "[kiln] link cancelled");
  g_source_attach (source, self->context);
  g_source_unref (source);
}

static void
begin_handshake (KilnLink     *self,
                 GTask        *task,
                 GCancellable *cancellable)
{
  self->handshake_task = task;
  self->handshake_timer =
    kiln_link_add_timeout (self, kiln_link_config_get_handshake_timeout (self->config),
                           on_handshake_timeout);

  if (cancellable != NULL)
    {
      self->user_cancellable = g_object_ref (cancellable);
      self->user_cancelled_id = g_cancellable_connect (cancellable,
                                                       G_CALLBACK (on_user_cancelled),
                                                       self, NULL);
    }
}

static void
set_base (KilnLink          *self,
          GSocketConnection *connection)
{
  self->base = G_IO_STREAM (g_object_ref (connection));
  self->remote_address = g_socket_connection_get_remote_address (connection, NULL);
  g_object_notify (G_OBJECT (self), "remote-address");
}

void
kiln_link_accept_async (KilnLink            *self,
                        GSocketConnection   *connection,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (KILN_IS_LINK (self));
  g_return_if_fail (self->role == KILN_NET_ROLE_SERVER);
  g_return_if_fail (self->base == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_link_accept_async);

  set_base (self, connection);
  begin_handshake (self, task, cancellable);
  start_tls (self);
}

gboolean
kiln_link_accept_finish (KilnLink      *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_link_accept_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_connected (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(KilnLink) self = user_data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  self->connecting = FALSE;
  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);

  if (connection != NULL)
    set_base (self, connection);

  if (self->state >= KILN_LINK_STATE_CLOSING)
    {
      kiln_link_maybe_finish_close (self);
      return;
    }

  if (connection == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Could not connect to %s port %u: "), self->host, self->port);
      kiln_link_fail (self, g_steal_pointer (&error), FALSE, -1, NULL);
      return;
    }

  start_tls (self);
}

void
kiln_link_connect_async (KilnLinkConfig      *config,
                         const char          *host,
                         guint16              port,
                         const KilnAddress   *expected_peer,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(KilnLink) self = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  GTask *task;

  g_return_if_fail (KILN_IS_LINK_CONFIG (config));
  g_return_if_fail (host != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  self = kiln_link_new (config, KILN_NET_ROLE_CLIENT);
  self->host = g_strdup (host);
  self->port = port;
  if (expected_peer != NULL)
    {
      self->expected_peer = *expected_peer;
      self->has_expected_peer = TRUE;
    }

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_link_connect_async);
  g_task_set_task_data (task, g_object_ref (self), g_object_unref);
  begin_handshake (self, task, cancellable);

  /* Links go straight to the peer: a desktop's HTTP proxy settings do not apply. */
  client = g_socket_client_new ();
  g_socket_client_set_enable_proxy (client, FALSE);
  address = g_network_address_new (host, port);

  self->connecting = TRUE;
  g_socket_client_connect_async (client, address, self->cancellable,
                                 on_connected, g_object_ref (self));
}

KilnLink *
kiln_link_connect_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_link_connect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
