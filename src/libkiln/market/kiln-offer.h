/* kiln-offer.h: a provider's signed answer to a task announcement
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure encoding, signing and checking, and the provider's decision to make an offer; no I/O.
 * docs/market.md ("Offer") describes every byte.
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-key.h"
#include "kiln-lending-policy.h"
#include "kiln-market.h"
#include "kiln-task-announcement.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

#define KILN_OFFER_MAX_SIZE         512
#define KILN_OFFER_MAX_LIFETIME     (24 * 60 * 60)
#define KILN_OFFER_MAX_CONCURRENT   256

#define KILN_TYPE_OFFER (kiln_offer_get_type ())

G_DECLARE_FINAL_TYPE (KilnOffer, kiln_offer, KILN, OFFER, GObject)

/* A new unsigned offer for the signed @announcement: price zero, one core, benchmark one,
 * one subtask at a time, no times. Every setter drops the signature. */
KilnOffer         *kiln_offer_new                   (KilnTaskAnnouncement *announcement);

const guint8      *kiln_offer_get_task_id           (KilnOffer            *self);
/* The digest of the announcement answered (kiln_task_announcement_get_digest()). */
const guint8      *kiln_offer_get_announcement      (KilnOffer            *self);
/* The provider's address; the zero address until signed. */
const KilnAddress *kiln_offer_get_provider          (KilnOffer            *self);

gint64             kiln_offer_get_created           (KilnOffer            *self);
gint64             kiln_offer_get_expires           (KilnOffer            *self);
void               kiln_offer_set_times             (KilnOffer            *self,
                                                     gint64                created,
                                                     gint64                expires);
/* GNT base units per CPU-hour, below 2^128. */
void               kiln_offer_get_price             (KilnOffer            *self,
                                                     KilnUint256          *out);
void               kiln_offer_set_price             (KilnOffer            *self,
                                                     const KilnUint256    *price);
/* The CPU cores the provider lends (1..KILN_MARKET_MAX_CORES). */
guint              kiln_offer_get_cores             (KilnOffer            *self);
void               kiln_offer_set_cores             (KilnOffer            *self,
                                                     guint                 cores);
/* How fast those cores render Kiln's benchmark scene: thousands of path samples per second
 * (1..G_MAXUINT32); see kiln_offer_benchmark_from_score(). */
guint32            kiln_offer_get_benchmark         (KilnOffer            *self);
void               kiln_offer_set_benchmark         (KilnOffer            *self,
                                                     guint32               benchmark);
/* How many of the task's subtasks the provider runs at once (1..KILN_OFFER_MAX_CONCURRENT). */
guint              kiln_offer_get_max_concurrent    (KilnOffer            *self);
void               kiln_offer_set_max_concurrent    (KilnOffer            *self,
                                                     guint                 max_concurrent);

gboolean           kiln_offer_sign                  (KilnOffer            *self,
                                                     KilnKey              *key,
                                                     GError              **error);
gboolean           kiln_offer_is_signed             (KilnOffer            *self);
/* Signed offers only. */
GBytes            *kiln_offer_get_bytes             (KilnOffer            *self);
const guint8      *kiln_offer_get_digest            (KilnOffer            *self);

/* Reads @bytes and checks everything that needs no context: size, version, ranges, the
 * provider's signature and, with @now ≥ 0, the times (as kiln_task_announcement_verify()).
 * Whether it answers a given announcement is the offer book's check. */
KilnOffer         *kiln_offer_verify                (GBytes               *bytes,
                                                     gint64                now,
                                                     GError              **error);

/* What a provider can do, for deciding on an offer. */
typedef struct
{
  guint               blender_major;      /* the Blender release it runs */
  guint               blender_minor;
  const char * const *engines;            /* render engines it has; NULL: any */
  double              benchmark_score;    /* kiln_blender_get_benchmark_score(): millions of
                                           * path samples per second */
  guint               benchmark_threads;  /* … measured with this many threads */
  guint               max_concurrent;     /* subtasks it runs at once at most; 0: no limit */
} KilnProviderCapabilities;

/* The benchmark figure of an offer of @cores cores from a score measured with @threads
 * threads: score × 1000 × cores ÷ threads, rounded, at least 1 (rendering scales with cores
 * closely enough for ranking). 0 when the score is not a positive number. */
guint32            kiln_offer_benchmark_from_score  (double                score,
                                                     guint                 threads,
                                                     guint                 cores);

/* The provider's side: decides whether @policy takes @announcement and, if so, makes and
 * signs an offer valid from @now for @lifetime seconds (at most until the announcement
 * expires). The task is taken when lending is on, the maximum price is at least the policy's
 * minimum, the cores, memory and disk asked for are within what is lent, @capabilities has the
 * Blender release and engine asked for, and one subtask's pay at the offered price fits the
 * task's maximum total. The offer asks the policy's minimum price, lends the policy's cores
 * (all of them when it says 0), and runs as many subtasks at once as those cores allow (within
 * @capabilities->max_concurrent). Refusals are KILN_LENDING_POLICY_ERROR (lending off, price,
 * cores, memory) or KILN_MARKET_ERROR (EXPIRED, UNSUITABLE, PRICE_TOO_HIGH), with messages
 * for people. */
KilnOffer         *kiln_offer_propose               (KilnTaskAnnouncement           *announcement,
                                                     KilnLendingPolicy              *policy,
                                                     const KilnProviderCapabilities *capabilities,
                                                     KilnKey                        *key,
                                                     gint64                          now,
                                                     guint                           lifetime,
                                                     GError                        **error);

G_END_DECLS
