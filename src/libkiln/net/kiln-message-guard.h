/* kiln-message-guard.h: what a node checks before it believes a peer's message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One guard per node, shared by all of its links: replay protection, per-peer rate limits
 * and a misbehaviour score that bans a peer for a while. docs/protocol.md ("Messages") has
 * the rules and the numbers. A guard belongs to the thread that made it.
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-link.h"
#include "kiln-message.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* Defaults. A timestamp may be this far from the receiver's clock, either way. */
#define KILN_MESSAGE_GUARD_CLOCK_SKEW          300
/* Token buckets per peer: messages per second and burst, bytes per second and burst. */
#define KILN_MESSAGE_GUARD_MESSAGE_RATE        20.0
#define KILN_MESSAGE_GUARD_MESSAGE_BURST       100
#define KILN_MESSAGE_GUARD_BYTE_RATE           (512.0 * 1024)
#define KILN_MESSAGE_GUARD_BYTE_BURST          (2 * 1024 * 1024)
/* A misbehaviour score of this many points bans a peer for this many seconds. Scores fall by
 * the threshold every hour. */
#define KILN_MESSAGE_GUARD_BAN_THRESHOLD       100
#define KILN_MESSAGE_GUARD_BAN_SECONDS         3600

/* Fixed bounds on memory. Nonces remembered per peer (within the skew window) and in all;
 * peers with state (scores, buckets, nonces); bans. */
#define KILN_MESSAGE_GUARD_MAX_NONCES_PER_PEER 16384
#define KILN_MESSAGE_GUARD_MAX_NONCES          (256 * 1024)
#define KILN_MESSAGE_GUARD_MAX_PEERS           4096
#define KILN_MESSAGE_GUARD_MAX_BANS            65536

/* A ban, as kiln_message_guard_list_bans() gives it and kiln_message_guard_ban() takes it
 * back (for instance after a restart). */
typedef struct
{
  KilnAddress  address;
  gint64       until;    /* Unix seconds */
  char        *reason;   /* for people */
} KilnMessageBan;

#define KILN_TYPE_MESSAGE_BAN (kiln_message_ban_get_type ())

GType           kiln_message_ban_get_type (void) G_GNUC_CONST;
KilnMessageBan *kiln_message_ban_copy     (const KilnMessageBan *self);
void            kiln_message_ban_free     (KilnMessageBan       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnMessageBan, kiln_message_ban_free)

/* The guard's clock: microseconds since the Unix epoch (g_get_real_time() by default). */
typedef gint64 (*KilnMessageClock) (gpointer user_data);

#define KILN_TYPE_MESSAGE_GUARD (kiln_message_guard_get_type ())

G_DECLARE_FINAL_TYPE (KilnMessageGuard, kiln_message_guard, KILN, MESSAGE_GUARD, GObject)

/* A guard for the node with address @local: messages must be broadcasts or addressed to it. */
KilnMessageGuard *kiln_message_guard_new              (const KilnAddress  *local);

/* Configuration; see the defaults above. @byte_burst must hold the largest message. */
void              kiln_message_guard_set_rate_limit   (KilnMessageGuard   *self,
                                                       double              messages_per_second,
                                                       guint               message_burst,
                                                       double              bytes_per_second,
                                                       gsize               byte_burst);
void              kiln_message_guard_set_clock_skew   (KilnMessageGuard   *self,
                                                       guint               seconds);
void              kiln_message_guard_set_ban_policy   (KilnMessageGuard   *self,
                                                       guint               threshold,
                                                       guint               ban_seconds);
/* Replaces the clock, for tests and simulations. */
void              kiln_message_guard_set_clock        (KilnMessageGuard   *self,
                                                       KilnMessageClock    clock,
                                                       gpointer            user_data);

/* Checks @payload, a KILN_FRAME_MESSAGE frame received from the link peer @peer, and gives
 * the verified message, or NULL and why as a KILN_MESSAGE_ERROR. In this order: a banned
 * peer is refused unread; the frame is charged to the peer's rate limits; then decoded; in
 * version 1 the author must be @peer itself, for every type; the recipient must be this node
 * or a broadcast; the timestamp within the skew window; the (author, nonce) pair new; and the
 * signature must recover the author. Refusals add points to the peer's score (garbage,
 * oversized messages, bad signatures, someone else's messages, replays, rate abuse; not
 * unknown types, other major versions or clock skew), and enough points ban it, which
 * emits KilnMessageGuard::peer-banned. */
KilnMessage      *kiln_message_guard_check            (KilnMessageGuard   *self,
                                                       const KilnAddress  *peer,
                                                       GBytes             *payload,
                                                       GError            **error);

/* Guards an open link until it closes: its KILN_FRAME_MESSAGE frames go through
 * kiln_message_guard_check() and come out as KilnMessageGuard::message-accepted or
 * ::message-refused, each refusal logged (g_info(), bans with g_message()). A peer that
 * sends garbage, an oversized or badly signed message, or another author's message is also
 * disconnected (CLOSE reason 1, saying why); a banned peer is disconnected at once, now and
 * on every later link. A link that closes because its peer broke the link protocol or sent a
 * frame over the link's limit adds points too. Other frame types are left to other layers. */
void              kiln_message_guard_attach           (KilnMessageGuard   *self,
                                                       KilnLink           *link);

/* Adds @points to @peer's score for a fault found above this layer (a body that does not
 * parse, a broken promise), banning it if the score reaches the threshold. */
void              kiln_message_guard_penalize         (KilnMessageGuard   *self,
                                                       const KilnAddress  *peer,
                                                       guint               points,
                                                       const char         *reason);
/* The current score, after the time-based decrease. */
guint             kiln_message_guard_get_score        (KilnMessageGuard   *self,
                                                       const KilnAddress  *peer);

/* Bans. @until is in Unix seconds. */
gboolean          kiln_message_guard_is_banned        (KilnMessageGuard   *self,
                                                       const KilnAddress  *peer,
                                                       gint64             *until);
void              kiln_message_guard_ban              (KilnMessageGuard   *self,
                                                       const KilnAddress  *peer,
                                                       gint64              until,
                                                       const char         *reason);
void              kiln_message_guard_unban            (KilnMessageGuard   *self,
                                                       const KilnAddress  *peer);
/* The bans still in force, as KilnMessageBan. */
GPtrArray        *kiln_message_guard_list_bans        (KilnMessageGuard   *self);

G_END_DECLS
