/* kiln-message-guard.c: what a node checks before it believes a peer's message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * State is kept per peer address, not per link, so that a peer gains nothing by connecting
 * again: its nonces, token buckets, score and ban follow it. Every table has a fixed bound
 * (kiln-message-guard.h); when one is full the guard refuses new work rather than forget
 * what protects it.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-message-guard-private.h"
#include "kiln-random.h"

/* Points a refusal adds to the peer's score (docs/protocol.md has the same table). */
#define POINTS_GARBAGE          25   /* malformed, or over a size limit */
#define POINTS_BAD_SIGNATURE    50
#define POINTS_WRONG_AUTHOR     50
#define POINTS_WRONG_RECIPIENT  10
#define POINTS_REPLAY           20
#define POINTS_RATE             1

/* How often every peer's state is swept, and one peer's nonces pruned. */
#define SWEEP_INTERVAL_US       (60 * G_USEC_PER_SEC)
#define PRUNE_INTERVAL_US       (10 * G_USEC_PER_SEC)

/* An open-addressing set of the nonces a peer used within the skew window. 16 bytes an entry,
 * at most half full; keys are mixed with a per-guard secret so that a peer cannot choose
 * nonces that collide. */
typedef struct
{
  guint64 nonce;
  gint64  expires;   /* µs; 0 marks an empty slot */
} NonceSlot;

typedef struct
{
  NonceSlot *slots;
  guint      capacity;   /* 0 or a power of two */
  guint      count;
} NonceSet;

typedef struct
{
  KilnAddress address;
  double      score;
  gint64      score_time;
  double      message_tokens;
  double      byte_tokens;
  gint64      bucket_time;
  NonceSet    nonces;
  gint64      next_prune;
} Peer;

enum {
  MESSAGE_ACCEPTED,
  MESSAGE_REFUSED,
  PEER_BANNED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KilnMessageGuard, kiln_message_guard, G_TYPE_OBJECT)

/* Bans */

KilnMessageBan *
kiln_message_ban_copy (const KilnMessageBan *self)
{
  KilnMessageBan *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (KilnMessageBan, 1);
  copy->address = self->address;
  copy->until = self->until;
  copy->reason = g_strdup (self->reason);

  return copy;
}

void
kiln_message_ban_free (KilnMessageBan *self)
{
  if (self == NULL)
    return;

  g_free (self->reason);
  g_free (self);
}

G_DEFINE_BOXED_TYPE (KilnMessageBan, kiln_message_ban, kiln_message_ban_copy,
                     kiln_message_ban_free)

/* Helpers */

static guint
address_hash (gconstpointer data)
{
  const KilnAddress *address = data;
  guint hash = 5381;

  for (guint i = 0; i < KILN_ADDRESS_SIZE; i++)
    hash = hash * 33 + address->bytes[i];

  return hash;
}

static gboolean
address_equal (gconstpointer a,
               gconstpointer b)
{
  return kiln_address_equal (a, b);
}

gint64
kiln_message_guard_now (KilnMessageGuard *self)
{
  gint64 now = self->clock != NULL ? self->clock (self->clock_data) : g_get_real_time ();

  /* Never back in time: nonces pruned at a later time must stay out of the window. */
  self->last_now = MAX (self->last_now, now);

  return self->last_now;
}

/* Whether a ban ending at @until (Unix seconds) holds at @now (µs), without overflow. */
static gboolean
ban_holds (const KilnMessageBan *ban,
           gint64                now)
{
  return ban->until > now / G_USEC_PER_SEC;
}

char *
kiln_message_guard_format_until (gint64 until)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (until);

  if (date == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT, until);

  return g_date_time_format (date, "%Y-%m-%d %H:%M:%S UTC");
}

/* Nonce sets */

static guint64
mix (guint64 x)
{
  /* splitmix64's finalizer */
  x ^= x >> 30;
  x *= G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= G_GUINT64_CONSTANT (0x94d049bb133111eb);
  x ^= x >> 31;

  return x;
}

static NonceSlot *
nonce_set_find (NonceSet *set,
                guint64   seed,
                guint64   nonce)
{
  guint mask = set->capacity - 1;
  guint i = mix (nonce ^ seed) & mask;

  while (set->slots[i].expires != 0 && set->slots[i].nonce != nonce)
    i = (i + 1) & mask;

  return &set->slots[i];
}

static gboolean
nonce_set_contains (NonceSet *set,
                    guint64   seed,
                    guint64   nonce)
{
  if (set->count == 0)
    return FALSE;

  return nonce_set_find (set, seed, nonce)->expires != 0;
}

/* Keeps the entries that expire at or after @now, in a table sized for @extra more. */
static void
nonce_set_rebuild (NonceSet *set,
                   guint64   seed,
                   gint64    now,
                   guint     extra)
{
  NonceSlot *old = set->slots;
  guint old_capacity = set->capacity;
  guint live = 0;
  guint capacity = 16;

  for (guint i = 0; i < old_capacity; i++)
    if (old[i].expires != 0 && old[i].expires >= now)
      live++;

  if (live + extra == 0)
    {
      g_clear_pointer (&set->slots, g_free);
      set->capacity = 0;
      set->count = 0;
      return;
    }

  while (capacity < 2 * (live + extra))
    capacity *= 2;

  set->slots = g_new0 (NonceSlot, capacity);
  set->capacity = capacity;
  set->count = 0;
  for (guint i = 0; i < old_capacity; i++)
    if (old[i].expires != 0 && old[i].expires >= now)
      {
        *nonce_set_find (set, seed, old[i].nonce) = old[i];
        set->count++;
      }

  g_free (old);
}

static void
nonce_set_add (NonceSet *set,
               guint64   seed,
               guint64   nonce,
               gint64    expires,
               gint64    now)
{
  NonceSlot *slot;

  g_assert (expires > 0);

  if (2 * (set->count + 1) > set->capacity)
    nonce_set_rebuild (set, seed, now, set->count + 1);

  slot = nonce_set_find (set, seed, nonce);
  g_assert (slot->expires == 0);
  slot->nonce = nonce;
  slot->expires = expires;
  set->count++;
}

/* Peers */

static void
peer_free (Peer *peer)
{
  g_free (peer->nonces.slots);
  g_free (peer);
}

static void
peer_prune (KilnMessageGuard *self,
            Peer             *peer,
            gint64            now)
{
  guint before = peer->nonces.count;

  nonce_set_rebuild (&peer->nonces, self->seed, now, 0);
  self->n_nonces -= before - peer->nonces.count;
  peer->next_prune = now + PRUNE_INTERVAL_US;
}

static void
peer_decay (KilnMessageGuard *self,
            Peer             *peer,
            gint64            now)
{
  double hours = (double) (now - peer->score_time) / (3600.0 * G_USEC_PER_SEC);

  peer->score = MAX (0.0, peer->score - hours * self->ban_threshold);
  peer->score_time = now;
}

static void
peer_refill (KilnMessageGuard *self,
             Peer             *peer,
             gint64            now)
{
  double seconds = (double) (now - peer->bucket_time) / G_USEC_PER_SEC;

  peer->message_tokens = MIN ((double) self->message_burst,
                              peer->message_tokens + seconds * self->message_rate);
  peer->byte_tokens = MIN ((double) self->byte_burst,
                           peer->byte_tokens + seconds * self->byte_rate);
  peer->bucket_time = now;
}

/* A peer whose state says nothing any more: forgetting it changes no decision. */
static gboolean
peer_is_idle (KilnMessageGuard *self,
              Peer             *peer,
              gint64            now)
{
  peer_prune (self, peer, now);
  peer_decay (self, peer, now);
  peer_refill (self, peer, now);

  return peer->nonces.count == 0 && peer->score == 0.0 &&
         peer->message_tokens >= self->message_burst &&
         peer->byte_tokens >= (double) self->byte_burst;
}

static void
sweep (KilnMessageGuard *self,
       gint64            now)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (peer_is_idle (self, value, now))
      g_hash_table_iter_remove (&iter);

  g_hash_table_iter_init (&iter, self->bans);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!ban_holds (value, now))
      g_hash_table_iter_remove (&iter);

  self->next_sweep = now + SWEEP_INTERVAL_US;
}

static Peer *
lookup_peer (KilnMessageGuard  *self,
             const KilnAddress *address,
             gint64             now,
             gboolean           create)
{
  Peer *peer = g_hash_table_lookup (self->peers, address);

  if (peer != NULL || !create)
    return peer;

  if (g_hash_table_size (self->peers) >= KILN_MESSAGE_GUARD_MAX_PEERS)
    {
      sweep (self, now);
      if (g_hash_table_size (self->peers) >= KILN_MESSAGE_GUARD_MAX_PEERS)
        return NULL;
    }

  peer = g_new0 (Peer, 1);
  peer->address = *address;
  peer->score_time = now;
  peer->message_tokens = self->message_burst;
  peer->byte_tokens = self->byte_burst;
  peer->bucket_time = now;
  peer->next_prune = now + PRUNE_INTERVAL_US;
  g_hash_table_insert (self->peers, &peer->address, peer);

  return peer;
}

const KilnMessageBan *
kiln_message_guard_lookup_ban (KilnMessageGuard  *self,
            const KilnAddress *address,
            gint64             now)
{
  KilnMessageBan *ban = g_hash_table_lookup (self->bans, address);

  if (ban == NULL)
    return NULL;

  if (!ban_holds (ban, now))
    {
      g_hash_table_remove (self->bans, address);
      return NULL;
    }

  return ban;
}

static void
store_ban (KilnMessageGuard  *self,
           const KilnAddress *address,
           gint64             until,
           const char        *reason)
{
  KilnMessageBan *ban;

  if (!g_hash_table_contains (self->bans, address) &&
      g_hash_table_size (self->bans) >= KILN_MESSAGE_GUARD_MAX_BANS)
    {
      GHashTableIter iter;
      gpointer value;
      KilnMessageBan *first = NULL;

      /* Full: the ban that would end first makes room. */
      g_hash_table_iter_init (&iter, self->bans);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (first == NULL || ((KilnMessageBan *) value)->until < first->until)
          first = value;
      g_hash_table_remove (self->bans, &first->address);
    }

  ban = g_new0 (KilnMessageBan, 1);
  ban->address = *address;
  ban->until = until;
  ban->reason = g_strdup (reason != NULL ? reason : "");
  g_hash_table_replace (self->bans, &ban->address, ban);
}

/* Stores the ban and closes the peer's links; @automatic bans are logged and signalled. */
static void
ban_peer (KilnMessageGuard  *self,
          const KilnAddress *address,
          gint64             until,
          const char        *reason,
          gboolean           automatic)
{
  g_autofree char *when = kiln_message_guard_format_until (until);
  g_autofree char *text = NULL;
  char shown[KILN_ADDRESS_STRING_SIZE];

  store_ban (self, address, until, reason);
  kiln_address_format (address, shown);
  if (automatic)
    g_message ("Banned peer %s until %s: %s", shown, when, reason);

  text = g_strdup_printf (_("This node has banned yours until %s: %s"), when, reason);
  kiln_message_guard_close_peer_links (self, address, text);
  if (automatic)
    g_signal_emit (self, signals[PEER_BANNED], 0, address, until, reason);
}

/* Adds @points; at the threshold the peer is banned and its score starts again from 0. */
void
kiln_message_guard_add_points (KilnMessageGuard  *self,
            const KilnAddress *address,
            guint              points,
            const char        *reason,
            gint64             now)
{
  Peer *peer;
  g_autofree char *ban_reason = NULL;

  if (points == 0 || kiln_message_guard_lookup_ban (self, address, now) != NULL)
    return;

  peer = lookup_peer (self, address, now, TRUE);
  if (peer == NULL)
    {
      /* No room to keep a score: a fault this serious on a full table bans at once. */
      if (points < self->ban_threshold / 2)
        return;
      ban_reason = g_strdup_printf (_("misbehaviour while this node was busy: %s"), reason);
      ban_peer (self, address, now / G_USEC_PER_SEC + self->ban_seconds, ban_reason, TRUE);
      return;
    }

  peer_decay (self, peer, now);
  peer->score += points;
  if (peer->score < self->ban_threshold)
    return;

  peer->score = 0.0;
  ban_reason = g_strdup_printf (_("misbehaviour score reached %u, last: %s"),
                                self->ban_threshold, reason);
  ban_peer (self, address, now / G_USEC_PER_SEC + self->ban_seconds, ban_reason, TRUE);
}

/* GObject */

static void
kiln_message_guard_dispose (GObject *object)
{
  KilnMessageGuard *self = KILN_MESSAGE_GUARD (object);

  g_hash_table_remove_all (self->watches);

  G_OBJECT_CLASS (kiln_message_guard_parent_class)->dispose (object);
}

static void
kiln_message_guard_finalize (GObject *object)
{
  KilnMessageGuard *self = KILN_MESSAGE_GUARD (object);

  g_clear_pointer (&self->watches, g_hash_table_unref);
  g_clear_pointer (&self->peers, g_hash_table_unref);
  g_clear_pointer (&self->bans, g_hash_table_unref);

  G_OBJECT_CLASS (kiln_message_guard_parent_class)->finalize (object);
}

static void
kiln_message_guard_class_init (KilnMessageGuardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_message_guard_dispose;
  object_class->finalize = kiln_message_guard_finalize;

  /**
   * KilnMessageGuard::message-accepted:
   * @link: the link it came on
   * @message: the message, verified
   *
   * A message on an attached link passed every check.
   */
  signals[MESSAGE_ACCEPTED] =
    g_signal_new ("message-accepted",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, KILN_TYPE_LINK, KILN_TYPE_MESSAGE);

  /**
   * KilnMessageGuard::message-refused:
   * @link: the link it came on
   * @error: why, a KILN_MESSAGE_ERROR
   *
   * A message frame on an attached link was refused (and logged).
   */
  signals[MESSAGE_REFUSED] =
    g_signal_new ("message-refused",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, KILN_TYPE_LINK, G_TYPE_ERROR);

  /**
   * KilnMessageGuard::peer-banned:
   * @address: the peer
   * @until: the end of the ban, Unix seconds
   * @reason: why, for people
   *
   * A peer's score reached the threshold. Its links are already being closed; a caller that
   * keeps bans across restarts stores this one.
   */
  signals[PEER_BANNED] =
    g_signal_new ("peer-banned",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, KILN_TYPE_ADDRESS, G_TYPE_INT64, G_TYPE_STRING);
}

static void
kiln_message_guard_init (KilnMessageGuard *self)
{
  self->message_rate = KILN_MESSAGE_GUARD_MESSAGE_RATE;
  self->message_burst = KILN_MESSAGE_GUARD_MESSAGE_BURST;
  self->byte_rate = KILN_MESSAGE_GUARD_BYTE_RATE;
  self->byte_burst = KILN_MESSAGE_GUARD_BYTE_BURST;
  self->skew_us = (gint64) KILN_MESSAGE_GUARD_CLOCK_SKEW * G_USEC_PER_SEC;
  self->ban_threshold = KILN_MESSAGE_GUARD_BAN_THRESHOLD;
  self->ban_seconds = KILN_MESSAGE_GUARD_BAN_SECONDS;

  self->peers = g_hash_table_new_full (address_hash, address_equal, NULL,
                                       (GDestroyNotify) peer_free);
  self->bans = g_hash_table_new_full (address_hash, address_equal, NULL,
                                      (GDestroyNotify) kiln_message_ban_free);
  self->watches = g_hash_table_new_full (NULL, NULL, NULL,
                                         kiln_message_guard_watch_free);
}

KilnMessageGuard *
kiln_message_guard_new (const KilnAddress *local)
{
  KilnMessageGuard *self;
  guint8 seed[8];

  g_return_val_if_fail (local != NULL, NULL);

  self = g_object_new (KILN_TYPE_MESSAGE_GUARD, NULL);
  self->local = *local;

  /* The hash seed only has to be unknown to peers; fall back on GLib's generator if the
   * CSPRNG is not available. */
  if (kiln_random_bytes (seed, sizeof seed, NULL))
    memcpy (&self->seed, seed, sizeof self->seed);
  else
    self->seed = ((guint64) g_random_int () << 32) | g_random_int ();

  return self;
}

/* Configuration */

void
kiln_message_guard_set_rate_limit (KilnMessageGuard *self,
                                   double            messages_per_second,
                                   guint             message_burst,
                                   double            bytes_per_second,
                                   gsize             byte_burst)
{
  g_return_if_fail (KILN_IS_MESSAGE_GUARD (self));
  g_return_if_fail (messages_per_second > 0 && message_burst >= 1);
  g_return_if_fail (bytes_per_second > 0 && byte_burst >= KILN_MESSAGE_MAX_SIZE);

  self->message_rate = messages_per_second;
  self->message_burst = message_burst;
  self->byte_rate = bytes_per_second;
  self->byte_burst = byte_burst;
}

void
kiln_message_guard_set_clock_skew (KilnMessageGuard *self,
                                   guint             seconds)
{
  g_return_if_fail (KILN_IS_MESSAGE_GUARD (self));
  g_return_if_fail (seconds >= 1 && seconds <= 24 * 3600);

  self->skew_us = (gint64) seconds * G_USEC_PER_SEC;
}

void
kiln_message_guard_set_ban_policy (KilnMessageGuard *self,
                                   guint             threshold,
                                   guint             ban_seconds)
{
  g_return_if_fail (KILN_IS_MESSAGE_GUARD (self));
  g_return_if_fail (threshold >= 1);
  g_return_if_fail (ban_seconds >= 1);

  self->ban_threshold = threshold;
  self->ban_seconds = ban_seconds;
}

void
kiln_message_guard_set_clock (KilnMessageGuard *self,
                              KilnMessageClock  clock,
                              gpointer          user_data)
{
  g_return_if_fail (KILN_IS_MESSAGE_GUARD (self));

  self->clock = clock;
  self->clock_data = user_data;
  self->last_now = 0;
}

/* The check */

static KilnMessage *
refuse (KilnMessageGuard   *self,
        const KilnAddress  *peer,
        guint               points,
        gint64              now,
        GError             *refusal,
        GError            **error)
{
  kiln_message_guard_add_points (self, peer, points, refusal->message, now);
  g_propagate_error (error, refusal);

  return NULL;
}

static guint
decode_points (const GError *error)
{
  switch (error->code)
    {
    case KILN_MESSAGE_ERROR_MALFORMED:
    case KILN_MESSAGE_ERROR_TOO_LARGE:
      return POINTS_GARBAGE;
    case KILN_MESSAGE_ERROR_BAD_SIGNATURE:
      return POINTS_BAD_SIGNATURE;
    case KILN_MESSAGE_ERROR_WRONG_RECIPIENT:
      return POINTS_WRONG_RECIPIENT;
    default:
      return 0;
    }
}

/* Before anything is decoded: bans, room for the peer, and its token buckets. */
static Peer *
admit (KilnMessageGuard   *self,
       const KilnAddress  *address,
       gsize               size,
       gint64              now,
       GError            **error)
{
  const KilnMessageBan *ban;
  Peer *peer;

  if (now >= self->next_sweep)
    sweep (self, now);

  ban = kiln_message_guard_lookup_ban (self, address, now);
  if (ban != NULL)
    {
      g_autofree char *when = kiln_message_guard_format_until (ban->until);

      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_BANNED,
                   _("The peer is banned until %s: %s"), when, ban->reason);
      return NULL;
    }

  peer = lookup_peer (self, address, now, TRUE);
  if (peer == NULL)
    {
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_RATE_LIMITED,
                   _("This node is keeping state for %u peers already; try again later"),
                   KILN_MESSAGE_GUARD_MAX_PEERS);
      return NULL;
    }

  peer_refill (self, peer, now);
  if (peer->message_tokens < 1.0 || peer->byte_tokens < (double) size)
    {
      refuse (self, address, POINTS_RATE, now,
              g_error_new (KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_RATE_LIMITED,
                           _("The peer sends faster than %.0f messages or %.0f bytes per "
                             "second allow"), self->message_rate, self->byte_rate),
              error);
      return NULL;
    }
  peer->message_tokens -= 1.0;
  peer->byte_tokens -= (double) size;

  return peer;
}

static gboolean
check_time (KilnMessageGuard  *self,
            KilnMessage       *message,
            gint64             now,
            GError           **error)
{
  gint64 timestamp = kiln_message_get_timestamp (message);
  gint64 seconds;

  /* Compared in milliseconds so that no product can overflow. */
  if (timestamp < (now - self->skew_us) / 1000)
    {
      seconds = (now / 1000 - timestamp) / 1000;
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_CLOCK_SKEW,
                   _("The message was signed %" PRId64 " seconds ago, more than the "
                     "%" PRId64 " seconds allowed; is the sender’s clock right?"),
                   seconds, self->skew_us / G_USEC_PER_SEC);
      return FALSE;
    }
  if (timestamp > (now + self->skew_us) / 1000)
    {
      seconds = (timestamp - now / 1000) / 1000;
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_CLOCK_SKEW,
                   _("The message is dated %" PRId64 " seconds in the future, more "
                     "than the %" PRId64 " seconds allowed; is the sender’s clock "
                     "right?"), seconds, self->skew_us / G_USEC_PER_SEC);
      return FALSE;
    }

  return TRUE;
}

KilnMessage *
kiln_message_guard_check (KilnMessageGuard   *self,
                          const KilnAddress  *peer_address,
                          GBytes             *payload,
                          GError            **error)
{
  g_autoptr(KilnMessage) message = NULL;
  GError *local_error = NULL;
  const KilnAddress *recipient;
  Peer *peer;
  gint64 now;
  guint64 nonce;

  g_return_val_if_fail (KILN_IS_MESSAGE_GUARD (self), NULL);
  g_return_val_if_fail (peer_address != NULL, NULL);
  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  now = kiln_message_guard_now (self);
  peer = admit (self, peer_address, g_bytes_get_size (payload), now, error);
  if (peer == NULL)
    return NULL;

  message = kiln_message_decode (payload, &local_error);
  if (message == NULL)
    return refuse (self, peer_address, decode_points (local_error), now, local_error, error);

  if (!kiln_message_type_is_known (kiln_message_get_message_type (message)))
    return refuse (self, peer_address, 0, now,
                   g_error_new (KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_UNKNOWN_TYPE,
                                _("Message type 0x%04x (protocol %u.%u) is unknown to this "
                                  "version of Kiln; ignored"),
                                kiln_message_get_message_type (message),
                                KILN_MESSAGE_PROTOCOL_MAJOR,
                                kiln_message_get_protocol_minor (message)),
                   error);

  /* Version 1 relays nothing: every message comes straight from its author. */
  if (!kiln_address_equal (kiln_message_get_author (message), peer_address))
    {
      char author[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (kiln_message_get_author (message), author);
      return refuse (self, peer_address, POINTS_WRONG_AUTHOR, now,
                     g_error_new (KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_WRONG_AUTHOR,
                                  _("The peer passed on a %s message by %s; peers may only "
                                    "send their own messages"),
                                  kiln_message_type_to_string (
                                    kiln_message_get_message_type (message)),
                                  author),
                     error);
    }

  recipient = kiln_message_get_recipient (message);
  if (recipient != NULL && !kiln_address_equal (recipient, &self->local))
    {
      char shown[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (recipient, shown);
      return refuse (self, peer_address, POINTS_WRONG_RECIPIENT, now,
                     g_error_new (KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_WRONG_RECIPIENT,
                                  _("The %s message is addressed to %s, not to this node"),
                                  kiln_message_type_to_string (
                                    kiln_message_get_message_type (message)),
                                  shown),
                     error);
    }

  if (!check_time (self, message, now, &local_error))
    return refuse (self, peer_address, 0, now, local_error, error);

  if (now >= peer->next_prune)
    peer_prune (self, peer, now);
  nonce = kiln_message_get_nonce (message);
  if (nonce_set_contains (&peer->nonces, self->seed, nonce))
    return refuse (self, peer_address, POINTS_REPLAY, now,
                   g_error_new (KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_REPLAYED,
                                _("The %s message with nonce %016" PRIx64 " was "
                                  "received before: a replay"),
                                kiln_message_type_to_string (
                                  kiln_message_get_message_type (message)),
                                nonce),
                   error);

  if (peer->nonces.count >= KILN_MESSAGE_GUARD_MAX_NONCES_PER_PEER ||
      self->n_nonces >= KILN_MESSAGE_GUARD_MAX_NONCES)
    return refuse (self, peer_address, 0, now,
                   g_error_new (KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_RATE_LIMITED,
                                _("Too many recent messages to remember; try again in a few "
                                  "minutes")),
                   error);

  /* Last, the expensive part. */
  if (!kiln_message_verify (message, &local_error))
    return refuse (self, peer_address, POINTS_BAD_SIGNATURE, now, local_error, error);

  nonce_set_add (&peer->nonces, self->seed, nonce,
                 MAX (kiln_message_get_timestamp (message) * 1000 + self->skew_us, 1), now);
  self->n_nonces++;

  return g_steal_pointer (&message);
}

void
kiln_message_guard_emit_accepted (KilnMessageGuard *self,
                                  KilnLink         *link,
                                  KilnMessage      *message)
{
  g_signal_emit (self, signals[MESSAGE_ACCEPTED], 0, link, message);
}

void
kiln_message_guard_emit_refused (KilnMessageGuard *self,
                                 KilnLink         *link,
                                 const GError     *error)
{
  g_signal_emit (self, signals[MESSAGE_REFUSED], 0, link, error);
}

/* Scores and bans */

void
kiln_message_guard_penalize (KilnMessageGuard  *self,
                             const KilnAddress *peer,
                             guint              points,
                             const char        *reason)
{
  g_return_if_fail (KILN_IS_MESSAGE_GUARD (self));
  g_return_if_fail (peer != NULL);
  g_return_if_fail (reason != NULL);

  kiln_message_guard_add_points (self, peer, points, reason, kiln_message_guard_now (self));
}

guint
kiln_message_guard_get_score (KilnMessageGuard  *self,
                              const KilnAddress *address)
{
  Peer *peer;
  guint score;

  g_return_val_if_fail (KILN_IS_MESSAGE_GUARD (self), 0);
  g_return_val_if_fail (address != NULL, 0);

  peer = lookup_peer (self, address, kiln_message_guard_now (self), FALSE);
  if (peer == NULL)
    return 0;

  peer_decay (self, peer, kiln_message_guard_now (self));

  /* Rounded up: a score that has not quite gone still shows. */
  score = (guint) peer->score;

  return score < peer->score ? score + 1 : score;
}

gboolean
kiln_message_guard_is_banned (KilnMessageGuard  *self,
                              const KilnAddress *peer,
                              gint64            *until)
{
  const KilnMessageBan *ban;

  g_return_val_if_fail (KILN_IS_MESSAGE_GUARD (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  ban = kiln_message_guard_lookup_ban (self, peer, kiln_message_guard_now (self));
  if (until != NULL)
    *until = ban != NULL ? ban->until : 0;

  return ban != NULL;
}

void
kiln_message_guard_ban (KilnMessageGuard  *self,
                        const KilnAddress *peer,
                        gint64             until,
                        const char        *reason)
{
  g_return_if_fail (KILN_IS_MESSAGE_GUARD (self));
  g_return_if_fail (peer != NULL);
  g_return_if_fail (reason != NULL);

  if (until <= kiln_message_guard_now (self) / G_USEC_PER_SEC)
    return;

  ban_peer (self, peer, until, reason, FALSE);
}

void
kiln_message_guard_unban (KilnMessageGuard  *self,
                          const KilnAddress *peer)
{
  g_return_if_fail (KILN_IS_MESSAGE_GUARD (self));
  g_return_if_fail (peer != NULL);

  g_hash_table_remove (self->bans, peer);
}

GPtrArray *
kiln_message_guard_list_bans (KilnMessageGuard *self)
{
  GPtrArray *bans;
  GHashTableIter iter;
  gpointer value;
  gint64 now;

  g_return_val_if_fail (KILN_IS_MESSAGE_GUARD (self), NULL);

  now = kiln_message_guard_now (self);
  bans = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_message_ban_free);
  g_hash_table_iter_init (&iter, self->bans);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (ban_holds (value, now))
      g_ptr_array_add (bans, kiln_message_ban_copy (value));

  return bans;
}
