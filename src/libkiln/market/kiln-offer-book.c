/* kiln-offer-book.c: a requestor's acceptable offers for one task, best first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-market-private.h"
#include "kiln-offer-book.h"

#define PPM 1000000u

/* What the book knows of one provider. Slots stay for the book's life, so that a provider's
 * running subtasks and reputation outlive its offer and count again for its next one. */
typedef struct
{
  KilnAddress  provider;
  KilnOffer   *offer;             /* NULL once expired or removed */
  guint        running;
  guint32      reputation_ppm;
  gboolean     lookup_started;
} Slot;

struct _KilnOfferBook
{
  GObject               parent_instance;

  /* A copy read back from the signed bytes: the caller's object may be changed and signed
   * again later, which makes another announcement. */
  KilnTaskAnnouncement *announcement;
  KilnReputation       *reputation;
  GCancellable         *cancellable;
  GHashTable           *slots;      /* KilnAddress * → Slot *, keys inside the slots */
  guint                 n_offers;
};

G_DEFINE_FINAL_TYPE (KilnOfferBook, kiln_offer_book, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ANNOUNCEMENT,
  PROP_REPUTATION,
  PROP_N_OFFERS,
  N_PROPS
};

enum {
  CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static guint
address_hash (gconstpointer key)
{
  const KilnAddress *address = key;
  guint hash;

  memcpy (&hash, address->bytes + KILN_ADDRESS_SIZE - sizeof hash, sizeof hash);
  return hash;
}

static gboolean
address_equal (gconstpointer a,
               gconstpointer b)
{
  return kiln_address_equal (a, b);
}

static void
slot_free (gpointer data)
{
  Slot *slot = data;

  g_clear_object (&slot->offer);
  g_free (slot);
}

static guint32
score_to_ppm (double score)
{
  if (!(score > 0))
    return 0;
  if (score >= 1)
    return PPM;
  return (guint32) lround (score * PPM);
}

/* Ranking */

/* price × cores × other's speed × other's reputation: one side of the exact comparison of
 * price × cores ÷ (speed × reputation). Below 2^128 × 2^10 × 2^32 × 2^20: no overflow. */
static void
cross_cost (KilnOffer   *offer,
            KilnOffer   *other,
            guint32      other_ppm,
            KilnUint256 *out)
{
  KilnUint256 value;

  kiln_offer_get_price (offer, &value);
  if (!kiln_uint256_mul_uint64 (&value, &value, kiln_offer_get_cores (offer)) ||
      !kiln_uint256_mul_uint64 (&value, &value, kiln_offer_get_benchmark (other)) ||
      !kiln_uint256_mul_uint64 (&value, &value, other_ppm))
    g_assert_not_reached ();

  *out = value;
}

static int
compare_rank (KilnOffer *a,
              guint32    ppm_a,
              KilnOffer *b,
              guint32    ppm_b)
{
  KilnUint256 cost_a;
  KilnUint256 cost_b;
  int order;

  cross_cost (a, b, MAX (ppm_b, KILN_OFFER_BOOK_MIN_REPUTATION_PPM), &cost_a);
  cross_cost (b, a, MAX (ppm_a, KILN_OFFER_BOOK_MIN_REPUTATION_PPM), &cost_b);
  order = kiln_uint256_compare (&cost_a, &cost_b);
  if (order != 0)
    return order;

  if (ppm_a != ppm_b)
    return ppm_a > ppm_b ? -1 : 1;
  if (kiln_offer_get_benchmark (a) != kiln_offer_get_benchmark (b))
    return kiln_offer_get_benchmark (a) > kiln_offer_get_benchmark (b) ? -1 : 1;

  order = memcmp (kiln_offer_get_provider (a)->bytes, kiln_offer_get_provider (b)->bytes,
                  KILN_ADDRESS_SIZE);
  return order < 0 ? -1 : order > 0 ? 1 : 0;
}

int
kiln_offer_compare_rank (KilnOffer *a,
                         double     reputation_a,
                         KilnOffer *b,
                         double     reputation_b)
{
  g_return_val_if_fail (KILN_IS_OFFER (a), 0);
  g_return_val_if_fail (KILN_IS_OFFER (b), 0);

  return compare_rank (a, score_to_ppm (reputation_a), b, score_to_ppm (reputation_b));
}

static int
compare_slots (gconstpointer a,
               gconstpointer b)
{
  const Slot *slot_a = *(Slot * const *) a;
  const Slot *slot_b = *(Slot * const *) b;

  return compare_rank (slot_a->offer, slot_a->reputation_ppm,
                       slot_b->offer, slot_b->reputation_ppm);
}

/* GObject */

static void
kiln_offer_book_dispose (GObject *object)
{
  KilnOfferBook *self = KILN_OFFER_BOOK (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->reputation);
  g_clear_object (&self->announcement);

  G_OBJECT_CLASS (kiln_offer_book_parent_class)->dispose (object);
}

static void
kiln_offer_book_finalize (GObject *object)
{
  KilnOfferBook *self = KILN_OFFER_BOOK (object);

  g_clear_object (&self->cancellable);
  g_hash_table_unref (self->slots);

  G_OBJECT_CLASS (kiln_offer_book_parent_class)->finalize (object);
}

static void
kiln_offer_book_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KilnOfferBook *self = KILN_OFFER_BOOK (object);

  switch (prop_id)
    {
    case PROP_ANNOUNCEMENT:
      g_value_set_object (value, self->announcement);
      break;

    case PROP_REPUTATION:
      g_value_set_object (value, self->reputation);
      break;

    case PROP_N_OFFERS:
      g_value_set_uint (value, self->n_offers);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_offer_book_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  KilnOfferBook *self = KILN_OFFER_BOOK (object);
  KilnTaskAnnouncement *announcement;

  switch (prop_id)
    {
    case PROP_ANNOUNCEMENT:
      g_assert (self->announcement == NULL);
      announcement = g_value_get_object (value);
      self->announcement =
        kiln_task_announcement_verify (kiln_task_announcement_get_bytes (announcement), -1, NULL);
      g_assert (self->announcement != NULL);
      break;

    case PROP_REPUTATION:
      g_assert (self->reputation == NULL);
      self->reputation = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_offer_book_class_init (KilnOfferBookClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_offer_book_dispose;
  object_class->finalize = kiln_offer_book_finalize;
  object_class->get_property = kiln_offer_book_get_property;
  object_class->set_property = kiln_offer_book_set_property;

  properties[PROP_ANNOUNCEMENT] =
    g_param_spec_object ("announcement", NULL, NULL,
                         KILN_TYPE_TASK_ANNOUNCEMENT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_REPUTATION] =
    g_param_spec_object ("reputation", NULL, NULL,
                         KILN_TYPE_REPUTATION,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_N_OFFERS] =
    g_param_spec_uint ("n-offers", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
kiln_offer_book_init (KilnOfferBook *self)
{
  self->cancellable = g_cancellable_new ();
  self->slots = g_hash_table_new_full (address_hash, address_equal, NULL, slot_free);
}

KilnOfferBook *
kiln_offer_book_new (KilnTaskAnnouncement *announcement,
                     KilnReputation       *reputation)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (announcement), NULL);
  g_return_val_if_fail (kiln_task_announcement_is_signed (announcement), NULL);
  g_return_val_if_fail (reputation == NULL || KILN_IS_REPUTATION (reputation), NULL);

  return g_object_new (KILN_TYPE_OFFER_BOOK,
                       "announcement", announcement,
                       "reputation", reputation,
                       NULL);
}

KilnTaskAnnouncement *
kiln_offer_book_get_announcement (KilnOfferBook *self)
{
  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), NULL);

  return self->announcement;
}

guint
kiln_offer_book_get_n_offers (KilnOfferBook *self)
{
  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), 0);

  return self->n_offers;
}

/* Slots */

static void
set_n_offers (KilnOfferBook *self,
              guint          n_offers)
{
  if (self->n_offers == n_offers)
    return;

  self->n_offers = n_offers;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_OFFERS]);
}

static Slot *
lookup_slot (KilnOfferBook     *self,
             const KilnAddress *provider)
{
  return g_hash_table_lookup (self->slots, provider);
}

static Slot *
ensure_slot (KilnOfferBook     *self,
             const KilnAddress *provider)
{
  Slot *slot = lookup_slot (self, provider);

  if (slot == NULL)
    {
      slot = g_new0 (Slot, 1);
      slot->provider = *provider;
      slot->reputation_ppm = score_to_ppm (KILN_REPUTATION_PRIOR_SCORE);
      g_hash_table_insert (self->slots, &slot->provider, slot);
    }

  return slot;
}

/* Drops the offers that expired by @now; TRUE if any did. */
static gboolean
prune (KilnOfferBook *self,
       gint64         now)
{
  GHashTableIter iter;
  Slot *slot;
  guint dropped = 0;

  g_hash_table_iter_init (&iter, self->slots);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &slot))
    if (slot->offer != NULL && kiln_offer_get_expires (slot->offer) <= now)
      {
        g_clear_object (&slot->offer);
        dropped++;
      }

  set_n_offers (self, self->n_offers - dropped);
  return dropped > 0;
}

/* Reputation lookups */

typedef struct
{
  GWeakRef    book;
  KilnAddress provider;
  gint64      now;        /* µs */
} Lookup;

static void
lookup_free (Lookup *lookup)
{
  g_weak_ref_clear (&lookup->book);
  g_free (lookup);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Lookup, lookup_free)

static void
on_lookup_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(Lookup) lookup = user_data;
  g_autoptr(KilnOfferBook) self = NULL;
  g_autoptr(KilnReputationEntry) entry = NULL;
  g_autoptr(GError) error = NULL;

  entry = kiln_reputation_lookup_finish (KILN_REPUTATION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = g_weak_ref_get (&lookup->book);
  if (self == NULL)
    return;

  if (entry == NULL)
    {
      g_warning ("Offer book: no reputation for a provider, ranking it as new: %s",
                 error->message);
      return;
    }

  kiln_offer_book_set_reputation (self, &lookup->provider,
                                  kiln_reputation_entry_get_score (entry, lookup->now));
}

static void
start_lookup (KilnOfferBook *self,
              Slot          *slot,
              gint64         now)
{
  Lookup *lookup;

  if (self->reputation == NULL || slot->lookup_started)
    return;

  slot->lookup_started = TRUE;
  lookup = g_new0 (Lookup, 1);
  g_weak_ref_init (&lookup->book, self);
  lookup->provider = slot->provider;
  lookup->now = now * G_USEC_PER_SEC;
  kiln_reputation_lookup_async (self->reputation, &slot->provider, self->cancellable,
                                on_lookup_done, lookup);
}

/* Adding and removing */

static gboolean
check_offer (KilnOfferBook  *self,
             KilnOffer      *offer,
             gint64          now,
             GError        **error)
{
  KilnTaskAnnouncement *announcement = self->announcement;
  KilnUint256 price;
  KilnUint256 max_price;
  KilnUint256 max_total;
  KilnUint256 pay;

  if (memcmp (kiln_offer_get_task_id (offer), kiln_task_announcement_get_task_id (announcement),
              KILN_MARKET_ID_SIZE) != 0 ||
      memcmp (kiln_offer_get_announcement (offer),
              kiln_task_announcement_get_digest (announcement), KILN_MARKET_DIGEST_SIZE) != 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_WRONG_TASK,
                                 _("The offer answers another task")), FALSE);

  if (kiln_task_announcement_get_expires (announcement) <= now)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_EXPIRED,
                                 _("The task no longer takes offers")), FALSE);
  if (!kiln_market_check_times (kiln_offer_get_created (offer), kiln_offer_get_expires (offer),
                                KILN_OFFER_MAX_LIFETIME, now, _("offer"), error))
    return FALSE;

  kiln_offer_get_price (offer, &price);
  kiln_task_announcement_get_max_price (announcement, &max_price);
  if (kiln_uint256_compare (&price, &max_price) > 0)
    {
      g_autofree char *asked = kiln_uint256_format_units (&price, KILN_MARKET_TOKEN_DECIMALS);
      g_autofree char *most = kiln_uint256_format_units (&max_price, KILN_MARKET_TOKEN_DECIMALS);

      g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_PRICE_TOO_HIGH,
                   _("The offer asks %s GNT per CPU-hour, more than the task’s maximum of %s "
                     "GNT"), asked, most);
      return FALSE;
    }

  if (kiln_offer_get_cores (offer) < kiln_task_announcement_get_min_cores (announcement))
    return (g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_UNSUITABLE,
                         _("The offer lends %u cores but a subtask needs %u"),
                         kiln_offer_get_cores (offer),
                         kiln_task_announcement_get_min_cores (announcement)), FALSE);

  kiln_task_announcement_get_max_total (announcement, &max_total);
  if (!kiln_market_compute_payment (&price, kiln_task_announcement_get_min_cores (announcement),
                                    kiln_task_announcement_get_subtask_timeout (announcement),
                                    &pay, error))
    return FALSE;
  if (kiln_uint256_compare (&pay, &max_total) > 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_PRICE_TOO_HIGH,
                                 _("At the offer’s price one subtask could cost more than the "
                                   "whole task may")), FALSE);

  return TRUE;
}

gboolean
kiln_offer_book_add (KilnOfferBook  *self,
                     KilnOffer      *offer,
                     gint64          now,
                     GError        **error)
{
  Slot *slot;
  gboolean pruned;

  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), FALSE);
  g_return_val_if_fail (KILN_IS_OFFER (offer), FALSE);
  g_return_val_if_fail (kiln_offer_is_signed (offer), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  pruned = prune (self, now);

  if (!check_offer (self, offer, now, error))
    {
      if (pruned)
        g_signal_emit (self, signals[CHANGED], 0);
      return FALSE;
    }

  slot = lookup_slot (self, kiln_offer_get_provider (offer));
  if (slot != NULL && slot->offer != NULL &&
      kiln_offer_get_created (slot->offer) >= kiln_offer_get_created (offer))
    {
      if (pruned)
        g_signal_emit (self, signals[CHANGED], 0);
      return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_STALE,
                                   _("The provider has already made this offer or a newer "
                                     "one")), FALSE);
    }

  slot = ensure_slot (self, kiln_offer_get_provider (offer));
  if (slot->offer == NULL)
    set_n_offers (self, self->n_offers + 1);
  g_set_object (&slot->offer, offer);

  start_lookup (self, slot, now);
  g_signal_emit (self, signals[CHANGED], 0);
  return TRUE;
}

gboolean
kiln_offer_book_add_bytes (KilnOfferBook  *self,
                           GBytes         *bytes,
                           gint64          now,
                           GError        **error)
{
  g_autoptr(KilnOffer) offer = NULL;

  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), FALSE);
  g_return_val_if_fail (bytes != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  offer = kiln_offer_verify (bytes, now, error);
  if (offer == NULL)
    return FALSE;

  return kiln_offer_book_add (self, offer, now, error);
}

gboolean
kiln_offer_book_remove (KilnOfferBook     *self,
                        const KilnAddress *provider)
{
  Slot *slot;

  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), FALSE);
  g_return_val_if_fail (provider != NULL, FALSE);

  slot = lookup_slot (self, provider);
  if (slot == NULL || slot->offer == NULL)
    return FALSE;

  g_clear_object (&slot->offer);
  set_n_offers (self, self->n_offers - 1);
  g_signal_emit (self, signals[CHANGED], 0);
  return TRUE;
}

/* Reputations */

double
kiln_offer_book_get_reputation (KilnOfferBook     *self,
                                const KilnAddress *provider)
{
  Slot *slot;

  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), KILN_REPUTATION_PRIOR_SCORE);
  g_return_val_if_fail (provider != NULL, KILN_REPUTATION_PRIOR_SCORE);

  slot = lookup_slot (self, provider);
  if (slot == NULL)
    return KILN_REPUTATION_PRIOR_SCORE;

  return (double) slot->reputation_ppm / PPM;
}

void
kiln_offer_book_set_reputation (KilnOfferBook     *self,
                                const KilnAddress *provider,
                                double             score)
{
  Slot *slot;
  guint32 ppm;

  g_return_if_fail (KILN_IS_OFFER_BOOK (self));
  g_return_if_fail (provider != NULL);
  g_return_if_fail (score >= 0 && score <= 1);

  slot = ensure_slot (self, provider);
  /* A known score needs no lookup any more. */
  slot->lookup_started = TRUE;

  ppm = score_to_ppm (score);
  if (slot->reputation_ppm == ppm)
    return;

  slot->reputation_ppm = ppm;
  if (slot->offer != NULL)
    g_signal_emit (self, signals[CHANGED], 0);
}

/* Choosing */

static GPtrArray *
ranked_slots (KilnOfferBook *self,
              gint64         now)
{
  GPtrArray *slots = g_ptr_array_new ();
  GHashTableIter iter;
  Slot *slot;

  if (prune (self, now))
    g_signal_emit (self, signals[CHANGED], 0);

  g_hash_table_iter_init (&iter, self->slots);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &slot))
    if (slot->offer != NULL)
      g_ptr_array_add (slots, slot);

  g_ptr_array_sort (slots, compare_slots);
  return slots;
}

GPtrArray *
kiln_offer_book_list (KilnOfferBook *self,
                      gint64         now)
{
  g_autoptr(GPtrArray) slots = NULL;
  GPtrArray *offers;

  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), NULL);

  slots = ranked_slots (self, now);
  offers = g_ptr_array_new_full (slots->len, g_object_unref);
  for (guint i = 0; i < slots->len; i++)
    g_ptr_array_add (offers, g_object_ref (((Slot *) slots->pdata[i])->offer));

  return offers;
}

static Slot *
best_slot (KilnOfferBook *self,
           gint64         now)
{
  GHashTableIter iter;
  Slot *best = NULL;
  Slot *slot;

  if (prune (self, now))
    g_signal_emit (self, signals[CHANGED], 0);

  g_hash_table_iter_init (&iter, self->slots);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &slot))
    {
      if (slot->offer == NULL || slot->running >= kiln_offer_get_max_concurrent (slot->offer))
        continue;
      if (best == NULL || compare_slots (&slot, &best) < 0)
        best = slot;
    }

  return best;
}

KilnOffer *
kiln_offer_book_get_best (KilnOfferBook *self,
                          gint64         now)
{
  Slot *slot;

  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), NULL);

  slot = best_slot (self, now);
  return slot != NULL ? g_object_ref (slot->offer) : NULL;
}

KilnOffer *
kiln_offer_book_assign_best (KilnOfferBook *self,
                             gint64         now)
{
  Slot *slot;

  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), NULL);

  slot = best_slot (self, now);
  if (slot == NULL)
    return NULL;

  slot->running++;
  return g_object_ref (slot->offer);
}

void
kiln_offer_book_release (KilnOfferBook     *self,
                         const KilnAddress *provider)
{
  Slot *slot;

  g_return_if_fail (KILN_IS_OFFER_BOOK (self));
  g_return_if_fail (provider != NULL);

  slot = lookup_slot (self, provider);
  g_return_if_fail (slot != NULL && slot->running > 0);

  slot->running--;
  if (slot->offer != NULL)
    g_signal_emit (self, signals[CHANGED], 0);
}

guint
kiln_offer_book_get_running (KilnOfferBook     *self,
                             const KilnAddress *provider)
{
  Slot *slot;

  g_return_val_if_fail (KILN_IS_OFFER_BOOK (self), 0);
  g_return_val_if_fail (provider != NULL, 0);

  slot = lookup_slot (self, provider);
  return slot != NULL ? slot->running : 0;
}
