/* kiln-net.h: the link protocol's constants, error domain and wire messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * docs/protocol.md describes every byte defined here.
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-key.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* The link protocol's version, sent in HELLO. Peers must agree on the major number. */
#define KILN_NET_PROTOCOL_MAJOR            1
#define KILN_NET_PROTOCOL_MINOR            0

/* The identity proof signs keccak256(0x19 || context || role || tls-exporter). */
#define KILN_NET_PROOF_CONTEXT             "kiln/link-proof/v1"
/* RFC 9266 tls-exporter: label "EXPORTER-Channel-Binding", empty context, 32 bytes. */
#define KILN_NET_CHANNEL_BINDING_SIZE      32

/* HELLO payload: major (2) || minor (2) || address (20) || signature (65). */
#define KILN_NET_HELLO_SIZE                89
/* Later minor versions may append fields; a HELLO is never longer than this. */
#define KILN_NET_HELLO_MAX_SIZE            1024
/* CLOSE payload: reason (2) || UTF-8 text of at most this many bytes. */
#define KILN_NET_CLOSE_TEXT_MAX            256
/* PING and PONG carry exactly this many opaque bytes; PONG echoes the PING's. */
#define KILN_NET_PING_SIZE                 8

/* Defaults of KilnLinkConfig and KilnLinkListener. */
#define KILN_NET_HANDSHAKE_TIMEOUT_MS      10000
#define KILN_NET_KEEPALIVE_INTERVAL_MS     15000
#define KILN_NET_KEEPALIVE_TIMEOUT_MS      45000
#define KILN_NET_MAX_LINKS                 64
/* Bytes a link queues for sending before kiln_link_send_async() fails. */
#define KILN_NET_SEND_QUEUE_MAX            (4 * 1024 * 1024)

/* Which end of the TLS connection a side is. Bound into the identity proof so that a proof
 * cannot be reflected back to the node that made it. */
typedef enum
{
  KILN_NET_ROLE_CLIENT = 1,
  KILN_NET_ROLE_SERVER = 2,
} KilnNetRole;

/* Reason codes of a CLOSE frame (unsigned 16-bit on the wire). */
typedef enum
{
  KILN_NET_CLOSE_NORMAL          = 0,
  KILN_NET_CLOSE_PROTOCOL        = 1,
  KILN_NET_CLOSE_FRAME_TOO_LARGE = 2,
  KILN_NET_CLOSE_VERSION         = 3,
  KILN_NET_CLOSE_BAD_PROOF       = 4,
  KILN_NET_CLOSE_TIMED_OUT       = 5,
  KILN_NET_CLOSE_TLS_VERSION     = 6,
  KILN_NET_CLOSE_UNEXPECTED_PEER = 7,
  KILN_NET_CLOSE_SELF            = 8,
} KilnNetCloseReason;

#define KILN_NET_ERROR (kiln_net_error_quark ())

/* The codes up to KILN_NET_ERROR_SELF equal the close reason with the same name, whichever
 * side sent it. The others never travel on the wire. */
typedef enum
{
  KILN_NET_ERROR_CLOSED,           /* closed normally */
  KILN_NET_ERROR_PROTOCOL,         /* malformed or unexpected frame */
  KILN_NET_ERROR_FRAME_TOO_LARGE,  /* a frame longer than KILN_FRAME_MAX_PAYLOAD */
  KILN_NET_ERROR_VERSION,          /* incompatible link protocol version */
  KILN_NET_ERROR_BAD_PROOF,        /* the identity proof does not match the claimed address */
  KILN_NET_ERROR_TIMED_OUT,        /* handshake or keep-alive deadline passed */
  KILN_NET_ERROR_TLS_VERSION,      /* TLS older than 1.3 was negotiated */
  KILN_NET_ERROR_UNEXPECTED_PEER,  /* an authenticated node, but not the one asked for */
  KILN_NET_ERROR_SELF,             /* the peer is this node */
  KILN_NET_ERROR_CONNECTION_LOST,  /* the connection ended without a CLOSE frame */
  KILN_NET_ERROR_TOO_MANY_LINKS,   /* refused by the listener's connection cap */
  KILN_NET_ERROR_SEND_QUEUE_FULL,  /* the peer does not read fast enough */
  KILN_NET_ERROR_CERTIFICATE,      /* the TLS certificate could not be made */
} KilnNetError;

GQuark   kiln_net_error_quark            (void);

/* The KILN_NET_ERROR code for a close reason received from a peer; unknown reasons give
 * KILN_NET_ERROR_CLOSED. */
KilnNetError kiln_net_error_from_close_reason (guint reason);

/* HELLO: the first frame each side sends. */
typedef struct
{
  guint16     major;
  guint16     minor;
  KilnAddress address;
  guint8      signature[KILN_SIGNATURE_SIZE];
} KilnNetHello;

/* keccak256(0x19 || KILN_NET_PROOF_CONTEXT || role || binding): what @role's side signs. */
void     kiln_net_proof_digest    (KilnNetRole         role,
                                   const guint8        binding[KILN_NET_CHANNEL_BINDING_SIZE],
                                   guint8              digest[32]);

/* Fills @hello for this node (@key) as @role on the connection with @binding. */
gboolean kiln_net_hello_sign      (KilnNetHello       *hello,
                                   KilnKey            *key,
                                   KilnNetRole         role,
                                   const guint8        binding[KILN_NET_CHANNEL_BINDING_SIZE],
                                   GError            **error);
/* Checks a peer's HELLO: the major version (KILN_NET_ERROR_VERSION), then that the signature
 * over @role's digest recovers @hello->address (KILN_NET_ERROR_BAD_PROOF). @role is the
 * peer's role. */
gboolean kiln_net_hello_verify    (const KilnNetHello *hello,
                                   KilnNetRole         role,
                                   const guint8        binding[KILN_NET_CHANNEL_BINDING_SIZE],
                                   GError            **error);

GBytes  *kiln_net_hello_encode    (const KilnNetHello *hello);
/* Reads the fixed fields; bytes after them (later minor versions) are ignored. */
gboolean kiln_net_hello_decode    (GBytes             *payload,
                                   KilnNetHello       *hello,
                                   GError            **error);

/* CLOSE payload. @text is cut to KILN_NET_CLOSE_TEXT_MAX bytes on a character boundary. */
GBytes  *kiln_net_close_encode    (KilnNetCloseReason  reason,
                                   const char         *text);
/* @text receives valid UTF-8 (invalid bytes replaced), never NULL on success. */
gboolean kiln_net_close_decode    (GBytes             *payload,
                                   guint              *reason,
                                   char              **text,
                                   GError            **error);

/* The connection's RFC 9266 tls-exporter channel binding; the handshake must be done. */
gboolean kiln_net_channel_binding (GTlsConnection     *tls,
                                   guint8              binding[KILN_NET_CHANNEL_BINDING_SIZE],
                                   GError            **error);

/* Exponential backoff with jitter for reconnects. Each delay lies in [d/2, d] where d starts
 * at @initial_ms and doubles after every call up to @max_ms. */
typedef struct
{
  guint initial_ms;
  guint max_ms;
  guint current_ms;
} KilnBackoff;

void     kiln_backoff_init               (KilnBackoff *backoff,
                                          guint        initial_ms,
                                          guint        max_ms);
guint    kiln_backoff_next               (KilnBackoff *backoff);
void     kiln_backoff_reset              (KilnBackoff *backoff);

G_END_DECLS
