/* kiln-terms.h: the assignment of subtasks to a provider, signed by both sides
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The requestor signs the terms; the provider accepts them by signing the requestor's digest
 * and signature. Either form can be checked by anyone from its bytes alone. docs/market.md
 * ("Terms") describes every byte.
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-key.h"
#include "kiln-market.h"
#include "kiln-offer.h"
#include "kiln-task-announcement.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

#define KILN_TERMS_MAX_SIZE         4096
#define KILN_TERMS_MAX_SUBTASKS     256
#define KILN_TERMS_MAX_DETAILS      1024
#define KILN_TERMS_MAX_LIFETIME     (24 * 60 * 60)

#define KILN_TYPE_TERMS (kiln_terms_get_type ())

G_DECLARE_FINAL_TYPE (KilnTerms, kiln_terms, KILN, TERMS, GObject)

/* The requestor's side: assigns @subtasks (@n_subtasks indices below the task's number of
 * subtasks, strictly ascending, at most KILN_TERMS_MAX_SUBTASKS) of @announcement to the
 * provider of @offer at the offer's price, on the task's cores per subtask for its timeout,
 * and signs the terms with @key, the announcement's requestor. @details (may be NULL) is the
 * render subsystem's description of the work, opaque here but covered by both signatures
 * (at most KILN_TERMS_MAX_DETAILS bytes). The provider must accept within @lifetime seconds of
 * @now. The maximum payment per subtask is computed as kiln_market_compute_payment() of the
 * price, the cores and the timeout. Refused (KILN_MARKET_ERROR) when the offer answers
 * another task, has expired, asks more than the maximum price or lends fewer cores, when @key
 * is not the requestor, or when a subtask index is out of range. */
KilnTerms         *kiln_terms_propose             (KilnTaskAnnouncement *announcement,
                                                   KilnOffer            *offer,
                                                   const guint          *subtasks,
                                                   guint                 n_subtasks,
                                                   GBytes               *details,
                                                   KilnKey              *key,
                                                   gint64                now,
                                                   guint                 lifetime,
                                                   GError              **error);

/* The provider's side: accepts terms made out to @key's address before they expire (at @now,
 * Unix seconds) by adding its signature over the acceptance digest. The terms' bytes then
 * carry both signatures. Check the terms against the task and your own offer with
 * kiln_terms_check() first. */
gboolean           kiln_terms_accept              (KilnTerms            *self,
                                                   KilnKey              *key,
                                                   gint64                now,
                                                   GError              **error);

/* Anyone's side: reads proposed or accepted terms from @bytes and checks everything in them:
 * size, version, ranges, the maximum payment (recomputed), the requestor's signature and, if
 * present, the provider's. The times are not checked against a clock: accepted terms remain
 * a valid record after they expire. */
KilnTerms         *kiln_terms_decode              (GBytes               *bytes,
                                                   GError              **error);

/* Whether @self belongs to @announcement (task, digest, requestor, payment chain and token),
 * stays within it (subtask indices, maximum price, cores, timeout) and, if @offer is given,
 * matches it (same task, provider and price, no more cores than lent).
 * KILN_MARKET_ERROR_WRONG_TASK, PRICE_TOO_HIGH or MISMATCH otherwise. */
gboolean           kiln_terms_check               (KilnTerms            *self,
                                                   KilnTaskAnnouncement *announcement,
                                                   KilnOffer            *offer,
                                                   GError              **error);

/* The payment for one subtask whose work took @seconds (from the acceptance to the result,
 * as the requestor measured it): kiln_market_compute_payment() of the price and cores for
 * that time, never more than the maximum payment. */
void               kiln_terms_compute_payment     (KilnTerms            *self,
                                                   guint64               seconds,
                                                   KilnUint256          *out);

const guint8      *kiln_terms_get_task_id         (KilnTerms            *self);
const guint8      *kiln_terms_get_announcement    (KilnTerms            *self);
const KilnAddress *kiln_terms_get_requestor       (KilnTerms            *self);
const KilnAddress *kiln_terms_get_provider        (KilnTerms            *self);
guint64            kiln_terms_get_chain_id        (KilnTerms            *self);
const KilnAddress *kiln_terms_get_token           (KilnTerms            *self);
/* The subtask indices, ascending. */
const guint       *kiln_terms_get_subtasks        (KilnTerms            *self,
                                                   guint                *n_subtasks);
void               kiln_terms_get_price           (KilnTerms            *self,
                                                   KilnUint256          *out);
guint              kiln_terms_get_cores           (KilnTerms            *self);
guint              kiln_terms_get_timeout         (KilnTerms            *self);
/* The most one of the subtasks is paid; all of them together at most n_subtasks times it. */
void               kiln_terms_get_max_payment     (KilnTerms            *self,
                                                   KilnUint256          *out);
void               kiln_terms_get_max_total       (KilnTerms            *self,
                                                   KilnUint256          *out);
gint64             kiln_terms_get_created         (KilnTerms            *self);
gint64             kiln_terms_get_expires         (KilnTerms            *self);
/* Never NULL; empty when there are none. */
GBytes            *kiln_terms_get_details         (KilnTerms            *self);

gboolean           kiln_terms_is_accepted         (KilnTerms            *self);
/* The bytes as they travel: with the requestor's signature, and the provider's once
 * accepted. */
GBytes            *kiln_terms_get_bytes           (KilnTerms            *self);
/* What the requestor signed, and what the provider signs to accept (written to @digest,
 * KILN_MARKET_DIGEST_SIZE bytes). */
const guint8      *kiln_terms_get_digest          (KilnTerms            *self);
void               kiln_terms_get_acceptance_digest (KilnTerms          *self,
                                                     guint8             *digest);

G_END_DECLS
