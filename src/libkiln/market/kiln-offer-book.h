/* kiln-offer-book.h: a requestor's acceptable offers for one task, best first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-offer.h"
#include "kiln-reputation.h"
#include "kiln-task-announcement.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* Below this reputation (in millionths) a provider is ranked as if it had this one, so that
 * its expected cost stays finite. */
#define KILN_OFFER_BOOK_MIN_REPUTATION_PPM 50000

#define KILN_TYPE_OFFER_BOOK (kiln_offer_book_get_type ())

G_DECLARE_FINAL_TYPE (KilnOfferBook, kiln_offer_book, KILN, OFFER_BOOK, GObject)

/* The ranking (docs/market.md, "Ranking offers"). An offer's cost per unit of work is its
 * price per CPU-hour times the cores it lends, divided by their benchmark speed; with r the
 * provider's reputation (in millionths, at least KILN_OFFER_BOOK_MIN_REPUTATION_PPM), the
 * expected cost of a verified unit of work is that cost ÷ r, as if each attempt succeeded with
 * probability r. Offers are ranked by that expected cost, lowest first, compared exactly in
 * 256-bit integers (price_a × cores_a × speed_b × r_b against price_b × cores_b × speed_a ×
 * r_a); ties go to the better reputation, then the faster benchmark, then the lower provider
 * address, so the order depends on nothing but the offers and the reputations.
 *
 * There is no waiting period: as soon as one acceptable offer is in the book,
 * kiln_offer_book_assign_best() returns it; offers keep coming in, and each later call ranks
 * what is there then. "changed" is emitted whenever an offer arrives, is replaced or removed,
 * a reputation changes, or a provider gets capacity back, so that a dispatcher waiting for a
 * provider knows when to ask again.
 *
 * Reputations come from @reputation when it is given (looked up once per provider when its
 * first offer arrives; until the answer comes, and without @reputation, a provider has
 * KILN_REPUTATION_PRIOR_SCORE), and from kiln_offer_book_set_reputation(). */
KilnOfferBook        *kiln_offer_book_new             (KilnTaskAnnouncement *announcement,
                                                       KilnReputation       *reputation);

/* The book's own copy of the announcement, as it was signed when the book was made. */
KilnTaskAnnouncement *kiln_offer_book_get_announcement (KilnOfferBook       *self);
/* Offers held, expired ones included until the next call that takes a time. The
 * "n-offers" property. */
guint                 kiln_offer_book_get_n_offers    (KilnOfferBook        *self);

/* Takes @offer (signed, and verified if it came from elsewhere) into the book at @now (Unix
 * seconds). Refused, with the book unchanged, when it answers another task or announcement
 * (KILN_MARKET_ERROR_WRONG_TASK), the task no longer takes offers or the offer has expired
 * (EXPIRED) or is dated in the future (FUTURE), it asks more than the maximum price or one
 * subtask at its price would exceed the task's maximum total (PRICE_TOO_HIGH), it lends fewer
 * cores than a subtask needs (UNSUITABLE), or the book has an offer of the same provider made
 * at the same time or later (STALE). A newer offer of a provider replaces its older one. */
gboolean              kiln_offer_book_add             (KilnOfferBook        *self,
                                                       KilnOffer            *offer,
                                                       gint64                now,
                                                       GError              **error);
/* The same for an offer as it travels: kiln_offer_verify() first, so that badly signed,
 * malformed and expired offers are refused too. */
gboolean              kiln_offer_book_add_bytes       (KilnOfferBook        *self,
                                                       GBytes               *bytes,
                                                       gint64                now,
                                                       GError              **error);

/* Drops @provider's offer (for example after it refused terms); TRUE if there was one. */
gboolean              kiln_offer_book_remove          (KilnOfferBook        *self,
                                                       const KilnAddress    *provider);

/* The reputation used for @provider, in [0, 1]; setting it re-ranks. */
double                kiln_offer_book_get_reputation  (KilnOfferBook        *self,
                                                       const KilnAddress    *provider);
void                  kiln_offer_book_set_reputation  (KilnOfferBook        *self,
                                                       const KilnAddress    *provider,
                                                       double                score);

/* The unexpired offers at @now, best first (a GPtrArray of KilnOffer references). */
GPtrArray            *kiln_offer_book_list            (KilnOfferBook        *self,
                                                       gint64                now);

/* The best unexpired offer at @now whose provider runs fewer of the task's subtasks than its
 * offer allows at once; NULL when there is none (yet). assign_best() also counts one more
 * subtask as running on that provider; give it back with kiln_offer_book_release() when the
 * subtask ends, whatever its outcome, or if the provider refuses the terms. */
KilnOffer            *kiln_offer_book_get_best        (KilnOfferBook        *self,
                                                       gint64                now);
KilnOffer            *kiln_offer_book_assign_best     (KilnOfferBook        *self,
                                                       gint64                now);
void                  kiln_offer_book_release         (KilnOfferBook        *self,
                                                       const KilnAddress    *provider);
/* How many subtasks are counted as running on @provider. */
guint                 kiln_offer_book_get_running     (KilnOfferBook        *self,
                                                       const KilnAddress    *provider);

/* Whether @a ranks before @b (negative), after (positive) or the same (0, only for offers of
 * one provider), with reputations @reputation_a and @reputation_b in [0, 1]. */
int                   kiln_offer_compare_rank         (KilnOffer            *a,
                                                       double                reputation_a,
                                                       KilnOffer            *b,
                                                       double                reputation_b);

G_END_DECLS
