/* kiln-link.h: one authenticated, encrypted connection to another node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-link-config.h"
#include "kiln-net.h"
#include "kiln-types.h"

G_BEGIN_DECLS

typedef enum
{
  KILN_LINK_STATE_HANDSHAKING,  /* TCP, TLS and identity proofs under way */
  KILN_LINK_STATE_OPEN,         /* both proofs checked: messages flow */
  KILN_LINK_STATE_CLOSING,      /* saying goodbye; nothing more is delivered */
  KILN_LINK_STATE_CLOSED,
} KilnLinkState;

#define KILN_TYPE_LINK_STATE (kiln_link_state_get_type ())
GType kiln_link_state_get_type (void) G_GNUC_CONST;

#define KILN_TYPE_LINK (kiln_link_get_type ())

G_DECLARE_FINAL_TYPE (KilnLink, kiln_link, KILN, LINK, GObject)

/* Connects to @host (a name or an IPv4/IPv6 literal) on @port, runs the TLS 1.3 handshake
 * and the identity proofs, and gives an open link. With @expected_peer, a node with another
 * address is refused (KILN_NET_ERROR_UNEXPECTED_PEER). All of it must finish within the
 * config's handshake timeout (KILN_NET_ERROR_TIMED_OUT). A peer's refusal fails with the
 * KILN_NET_ERROR code of its reason. */
void               kiln_link_connect_async        (KilnLinkConfig       *config,
                                                   const char           *host,
                                                   guint16               port,
                                                   const KilnAddress    *expected_peer,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
KilnLink          *kiln_link_connect_finish       (GAsyncResult         *result,
                                                   GError              **error);

KilnLinkState      kiln_link_get_state            (KilnLink             *self);
KilnNetRole        kiln_link_get_role             (KilnLink             *self);
/* The peer's node ID, proven by its signature; NULL until the link is open. */
const KilnAddress *kiln_link_get_peer_address     (KilnLink             *self);
GSocketAddress    *kiln_link_get_remote_address   (KilnLink             *self);
GTlsProtocolVersion kiln_link_get_tls_protocol_version (KilnLink        *self);
/* Why the link closed (NULL before), and whether the peer asked for it. */
const GError      *kiln_link_get_close_error      (KilnLink             *self);
gboolean           kiln_link_get_closed_by_peer   (KilnLink             *self);
/* The round trip of the last answered PING in microseconds ("latency", notified), -1 until
 * one is answered. Keep-alive pings update it; kiln_link_ping() sends one now. */
gint64             kiln_link_get_latency          (KilnLink             *self);
void               kiln_link_ping                 (KilnLink             *self);

/* Sends a message frame (@type KILN_FRAME_FIRST_MESSAGE or above). Completes once the frame
 * is written to the connection; waiting for that before sending more is the back-pressure. */
void               kiln_link_send_async           (KilnLink             *self,
                                                   guint8                type,
                                                   GBytes               *payload,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean           kiln_link_send_finish          (KilnLink             *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* Tells the peer why (a CLOSE frame with @reason and @text, a sentence for people) and
 * closes. KILN_NET_CLOSE_NORMAL first sends the messages already queued. Completes when the
 * link is closed, within the config's handshake timeout. A link stays alive until closed,
 * by either side. */
void               kiln_link_close_async          (KilnLink             *self,
                                                   KilnNetCloseReason    reason,
                                                   const char           *text,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean           kiln_link_close_finish         (KilnLink             *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
void               kiln_link_close                (KilnLink             *self,
                                                   KilnNetCloseReason    reason,
                                                   const char           *text);

G_END_DECLS
