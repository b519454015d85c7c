/* kiln-message.h: typed, versioned messages signed by their author
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The messages of the market (task announcements, offers, assignments, acceptances, results)
 * travel in this envelope, one per KILN_FRAME_MESSAGE link frame. docs/protocol.md
 * ("Messages") describes every byte defined here. Pure encoding, signing and checking; the
 * per-peer defences (replays, rates, bans) are KilnMessageGuard's.
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-key.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* The link frame type that carries one encoded message (0x30–0x3f are set aside for it). */
#define KILN_FRAME_MESSAGE                 0x30

/* The message layer's own version. Peers must agree on the major number; a later minor
 * version only adds message types and extension bytes. */
#define KILN_MESSAGE_PROTOCOL_MAJOR        1
#define KILN_MESSAGE_PROTOCOL_MINOR        0

/* The signature covers keccak256(0x19 || context || every byte before the signature). */
#define KILN_MESSAGE_CONTEXT               "kiln/message/v1"

/* major (2) || minor (2) || type (2) || author (20) || recipient (20) || nonce (8) ||
 * timestamp (8) || extensions length (2). */
#define KILN_MESSAGE_HEADER_SIZE           64
/* Header, empty extensions, body length (4), empty body and signature. */
#define KILN_MESSAGE_MIN_SIZE              (KILN_MESSAGE_HEADER_SIZE + 4 + KILN_SIGNATURE_SIZE)
/* A whole encoded message, signature included. */
#define KILN_MESSAGE_MAX_SIZE              (256 * 1024)
/* Extension bytes: empty in version 1.0, signed, skipped by receivers that do not know them. */
#define KILN_MESSAGE_EXTENSIONS_MAX        1024
/* A message's ID is the digest its author signed. */
#define KILN_MESSAGE_ID_SIZE               32

/* The registry of message types (unsigned 16-bit on the wire). The bodies belong to the
 * market layer; this layer only enforces each type's size limit and whether it may be
 * broadcast (sent without a recipient). */
typedef enum
{
  KILN_MESSAGE_PEER_INFO     = 0x0001,  /* what a node is and offers; broadcast allowed */
  KILN_MESSAGE_TASK_ANNOUNCE = 0x0002,  /* a task and its maximum price; broadcast allowed */
  KILN_MESSAGE_OFFER         = 0x0003,  /* provider → requestor: a price for a task */
  KILN_MESSAGE_ASSIGN        = 0x0004,  /* requestor → provider: a subtask, on an offer */
  KILN_MESSAGE_ACCEPT        = 0x0005,  /* provider → requestor: commits to an assignment */
  KILN_MESSAGE_RESULT        = 0x0006,  /* provider → requestor: a finished subtask's output */
  KILN_MESSAGE_APPROVE       = 0x0007,  /* requestor → provider: a result verified, price owed */
  KILN_MESSAGE_REJECT        = 0x0008,  /* either way: an offer, assignment or result refused */
  KILN_MESSAGE_PAYMENT       = 0x0009,  /* requestor → provider: the transaction that pays */
  KILN_MESSAGE_CANCEL        = 0x000a,  /* either way: a task, offer or assignment withdrawn */
} KilnMessageType;

#define KILN_MESSAGE_ERROR (kiln_message_error_quark ())

typedef enum
{
  KILN_MESSAGE_ERROR_MALFORMED,        /* truncated, trailing bytes, lengths that do not add up */
  KILN_MESSAGE_ERROR_TOO_LARGE,        /* the message or one of its fields is over its limit */
  KILN_MESSAGE_ERROR_VERSION,          /* another major version of the message layer */
  KILN_MESSAGE_ERROR_BAD_SIGNATURE,    /* the signature does not recover the author's address */
  KILN_MESSAGE_ERROR_UNKNOWN_TYPE,     /* a type this version does not know (a newer peer) */
  KILN_MESSAGE_ERROR_WRONG_AUTHOR,     /* the author is not the link's peer */
  KILN_MESSAGE_ERROR_WRONG_RECIPIENT,  /* for another node, or broadcast where not allowed */
  KILN_MESSAGE_ERROR_REPLAYED,         /* this author's nonce was seen already */
  KILN_MESSAGE_ERROR_CLOCK_SKEW,       /* the timestamp is outside the allowed window */
  KILN_MESSAGE_ERROR_RATE_LIMITED,     /* over the peer's message or byte rate, or node busy */
  KILN_MESSAGE_ERROR_BANNED,           /* the peer is banned for misbehaviour */
} KilnMessageError;

GQuark       kiln_message_error_quark            (void);

/* The registry. Unknown types give FALSE, NULL and 0. */
gboolean     kiln_message_type_is_known          (guint               type);
/* "OFFER", "TASK_ANNOUNCE", …: the name docs/protocol.md uses. */
const char  *kiln_message_type_to_string         (guint               type);
/* The largest body of @type; for unknown types, what the whole-message limit leaves. */
gsize        kiln_message_type_get_body_max      (guint               type);
gboolean     kiln_message_type_allows_broadcast  (guint               type);

/* An immutable, reference-counted message. Made with kiln_message_new() and
 * kiln_message_sign(), or received with kiln_message_decode() and kiln_message_verify().
 * Its encoded bytes (kiln_message_encode()) are the whole signed message: kept as they are,
 * they let anyone check later, with kiln_message_decode() and kiln_message_verify(), that the
 * author said exactly this (an offer, an assignment, an acceptance). */
typedef struct _KilnMessage KilnMessage;

#define KILN_TYPE_MESSAGE (kiln_message_get_type ())

GType              kiln_message_get_type          (void) G_GNUC_CONST;
KilnMessage       *kiln_message_ref               (KilnMessage        *self);
void               kiln_message_unref             (KilnMessage        *self);

/* An unsigned message of a known @type to @recipient (NULL or the zero address: broadcast)
 * carrying @body (NULL: empty). */
KilnMessage       *kiln_message_new               (KilnMessageType     type,
                                                   const KilnAddress  *recipient,
                                                   GBytes             *body);
/* Signs as @key's address with a fresh random nonce and the current time. Fails with
 * KILN_MESSAGE_ERROR_TOO_LARGE for a body over its type's limit and
 * KILN_MESSAGE_ERROR_WRONG_RECIPIENT for a broadcast of a type that needs a recipient.
 * A message is signed once. */
gboolean           kiln_message_sign              (KilnMessage        *self,
                                                   KilnKey            *key,
                                                   GError            **error);
/* The same with a chosen @nonce and @timestamp_ms (milliseconds since the Unix epoch): for
 * test vectors. Never reuse a nonce. */
gboolean           kiln_message_sign_full         (KilnMessage        *self,
                                                   KilnKey            *key,
                                                   guint64             nonce,
                                                   gint64              timestamp_ms,
                                                   GError            **error);

/* The signed message as it travels and as it may be stored; the message must be signed or
 * decoded. */
GBytes            *kiln_message_encode            (KilnMessage        *self);

/* Reads @bytes and checks everything that needs neither the signature nor context: the size
 * limits, the major version (KILN_MESSAGE_ERROR_VERSION, nothing after it read), that the
 * lengths add up exactly (no trailing bytes), the body limit and broadcast rule of known
 * types, the signature's form. Unknown types of this major version decode (they may come
 * from a newer minor version). The result is NOT yet authentic: check it with
 * kiln_message_verify() before believing its author. Never reads outside @bytes. */
KilnMessage       *kiln_message_decode            (GBytes             *bytes,
                                                   GError            **error);
/* Recovers the signer and requires that it is the author (else
 * KILN_MESSAGE_ERROR_BAD_SIGNATURE). Checked once per message; later calls are free. */
gboolean           kiln_message_verify            (KilnMessage        *self,
                                                   GError            **error);
gboolean           kiln_message_is_verified       (KilnMessage        *self);

/* Fields. The type may be one this version does not know. */
guint              kiln_message_get_message_type  (KilnMessage        *self);
guint              kiln_message_get_protocol_minor (KilnMessage       *self);
/* Valid once signed or decoded. */
const KilnAddress *kiln_message_get_author        (KilnMessage        *self);
/* NULL for a broadcast. */
const KilnAddress *kiln_message_get_recipient     (KilnMessage        *self);
guint64            kiln_message_get_nonce         (KilnMessage        *self);
/* Milliseconds since the Unix epoch, as the author's clock said when signing. */
gint64             kiln_message_get_timestamp     (KilnMessage        *self);
GBytes            *kiln_message_get_body          (KilnMessage        *self);
/* The digest the author signed, which names the message (for instance an ACCEPT names the
 * ASSIGN it accepts by its ID); valid once signed or decoded. */
const guint8      *kiln_message_get_id            (KilnMessage        *self);
/* The ID as 64 lowercase hex digits. */
char              *kiln_message_dup_id_string     (KilnMessage        *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnMessage, kiln_message_unref)

G_END_DECLS
