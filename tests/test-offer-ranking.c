/* test-offer-ranking.c: the offer book: refusals, the ranking of a few dozen offers, assigning
 * without a waiting period, and reputations from the store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "libkiln.h"
#include "kiln-test-market.h"
#include "kiln-test-util.h"

#define NOW KILN_TEST_MARKET_NOW
#define GNT KILN_TEST_GNT
#define N_PROVIDERS 36

typedef struct
{
  KilnKey   *key;
  guint64    price;        /* base units per CPU-hour */
  guint      cores;
  guint32    benchmark;
  double     reputation;
  KilnOffer *offer;
} Provider;

static void
provider_clear (Provider *provider)
{
  g_clear_object (&provider->key);
  g_clear_object (&provider->offer);
}

static guint
count_changed (KilnOfferBook *book)
{
  return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (book), "changed"));
}

static void
on_changed (KilnOfferBook *book,
            gpointer       user_data)
{
  g_object_set_data (G_OBJECT (book), "changed", GUINT_TO_POINTER (count_changed (book) + 1));
}

static KilnOfferBook *
new_book (KilnTaskAnnouncement *announcement,
          KilnReputation       *reputation)
{
  KilnOfferBook *book = kiln_offer_book_new (announcement, reputation);

  g_signal_connect (book, "changed", G_CALLBACK (on_changed), NULL);
  return book;
}

static KilnOffer *
offer_for (KilnTaskAnnouncement *announcement,
           KilnKey              *key,
           guint64               price,
           guint                 cores,
           guint32               benchmark,
           guint                 max_concurrent)
{
  KilnUint256 value = kiln_test_u256 (price);

  return kiln_test_market_offer (announcement, key, &value, cores, benchmark, max_concurrent);
}

/* The documented order, computed independently in 128-bit integers: expected cost
 * price × cores ÷ (speed × max (reputation, 5 %)), lowest first; then the better reputation,
 * the faster benchmark, the lower address. */
static guint32
ppm (double score)
{
  return (guint32) (score * 1000000 + 0.5);
}

static int
expected_order (gconstpointer a,
                gconstpointer b)
{
  const Provider *pa = *(Provider * const *) a;
  const Provider *pb = *(Provider * const *) b;
  unsigned __int128 cost_a = (unsigned __int128) pa->price * pa->cores * pb->benchmark *
                             MAX (ppm (pb->reputation), 50000);
  unsigned __int128 cost_b = (unsigned __int128) pb->price * pb->cores * pa->benchmark *
                             MAX (ppm (pa->reputation), 50000);

  if (cost_a != cost_b)
    return cost_a < cost_b ? -1 : 1;
  if (ppm (pa->reputation) != ppm (pb->reputation))
    return ppm (pa->reputation) > ppm (pb->reputation) ? -1 : 1;
  if (pa->benchmark != pb->benchmark)
    return pa->benchmark > pb->benchmark ? -1 : 1;
  return memcmp (kiln_key_get_address (pa->key)->bytes, kiln_key_get_address (pb->key)->bytes,
                 KILN_ADDRESS_SIZE);
}

/* Adding @offer, or @bytes when @offer is NULL, is refused with @code and leaves the book as
 * it was. */
static void
assert_add_refused (KilnOfferBook *book,
                    KilnOffer     *offer,
                    GBytes        *bytes,
                    gint64         now,
                    int            code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) unexpired = kiln_offer_book_list (book, now);
  guint n_offers = kiln_offer_book_get_n_offers (book);

  g_assert_cmpuint (n_offers, ==, unexpired->len);
  if (offer != NULL)
    g_assert_false (kiln_offer_book_add (book, offer, now, &error));
  else
    g_assert_false (kiln_offer_book_add_bytes (book, bytes, now, &error));
  g_assert_error (error, KILN_MARKET_ERROR, code);
  g_assert_cmpuint (kiln_offer_book_get_n_offers (book), ==, n_offers);
}

static void
assert_refused (KilnOfferBook *book,
                KilnOffer     *offer,
                gint64         now,
                int            code)
{
  assert_add_refused (book, offer, NULL, now, code);
}

static void
assert_bytes_refused (KilnOfferBook *book,
                      GBytes        *bytes,
                      gint64         now,
                      int            code)
{
  assert_add_refused (book, NULL, bytes, now, code);
}

/* Tests */

static void
test_rank_many (void)
{
  static const guint64 prices[] = { 1, 2, 3, 4, 6, 8 };
  static const guint cores[] = { 4, 8, 16 };
  static const guint32 speeds[] = { 1000, 1500, 2000, 3000 };
  static const double reputations[] = { 0.5, 0.9, 0.25, 1.0, 0.01, 0.05, 0.75 };
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnOfferBook) book = new_book (announcement, NULL);
  g_autoptr(GPtrArray) expected = g_ptr_array_new ();
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  g_autoptr(GError) error = NULL;
  Provider providers[N_PROVIDERS] = { { 0 } };

  for (guint i = 0; i < N_PROVIDERS; i++)
    {
      Provider *p = &providers[i];

      p->key = kiln_test_market_key ();
      /* Tenths of a GNT per CPU-hour. */
      p->price = prices[g_rand_int_range (rand, 0, G_N_ELEMENTS (prices))] * (GNT / 10);
      p->cores = cores[g_rand_int_range (rand, 0, G_N_ELEMENTS (cores))];
      /* A speed per core, so that many offers cost the same per unit of work. */
      p->benchmark = speeds[g_rand_int_range (rand, 0, G_N_ELEMENTS (speeds))] * p->cores / 4;
      p->reputation = reputations[g_rand_int_range (rand, 0, G_N_ELEMENTS (reputations))];
      /* Three offers alike but for their provider: only the addresses order them. */
      if (i == 1 || i == 2)
        {
          p->price = providers[0].price;
          p->cores = providers[0].cores;
          p->benchmark = providers[0].benchmark;
          p->reputation = providers[0].reputation;
        }
      p->offer = offer_for (announcement, p->key, p->price, p->cores, p->benchmark, 1);
      g_ptr_array_add (expected, p);
    }

  /* Offers arrive in a shuffled order, as bytes; reputations come in between. */
  for (guint i = N_PROVIDERS - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, i + 1);
      gpointer swap = expected->pdata[i];

      expected->pdata[i] = expected->pdata[j];
      expected->pdata[j] = swap;
    }
  for (guint i = 0; i < N_PROVIDERS; i++)
    {
      Provider *p = expected->pdata[i];

      g_assert_true (kiln_offer_book_add_bytes (book, kiln_offer_get_bytes (p->offer), NOW + i,
                                                &error));
      g_assert_no_error (error);
      if (p->reputation != KILN_REPUTATION_PRIOR_SCORE)
        kiln_offer_book_set_reputation (book, kiln_key_get_address (p->key), p->reputation);
    }
  g_assert_cmpuint (kiln_offer_book_get_n_offers (book), ==, N_PROVIDERS);
  g_assert_cmpuint (count_changed (book), >=, N_PROVIDERS);

  g_ptr_array_sort (expected, expected_order);
  ranked = kiln_offer_book_list (book, NOW + 60);
  g_assert_cmpuint (ranked->len, ==, N_PROVIDERS);
  for (guint i = 0; i < N_PROVIDERS; i++)
    {
      Provider *p = expected->pdata[i];
      KilnUint256 price = kiln_test_u256 (p->price);
      g_autofree char *shown = kiln_uint256_format_units (&price, KILN_MARKET_TOKEN_DECIMALS);

      g_test_message ("%2u: %s GNT × %2u cores ÷ %5u, reputation %.2f", i, shown, p->cores,
                      p->benchmark, p->reputation);
      g_assert_true (kiln_address_equal (kiln_offer_get_provider (ranked->pdata[i]),
                                         kiln_key_get_address (p->key)));
      g_assert_cmpfloat (kiln_offer_book_get_reputation (book, kiln_key_get_address (p->key)),
                         ==, p->reputation);
      if (i > 0)
        {
          Provider *previous = expected->pdata[i - 1];

          g_assert_cmpint (kiln_offer_compare_rank (ranked->pdata[i - 1], previous->reputation,
                                                    ranked->pdata[i], p->reputation), <, 0);
        }
    }

  /* The best is the head of the ranking, and assigning goes down it as providers fill. */
  for (guint i = 0; i < N_PROVIDERS; i++)
    {
      g_autoptr(KilnOffer) best = kiln_offer_book_assign_best (book, NOW + 60);

      g_assert_true (best == ranked->pdata[i] ||
                     kiln_address_equal (kiln_offer_get_provider (best),
                                         kiln_offer_get_provider (ranked->pdata[i])));
    }
  g_assert_null (kiln_offer_book_assign_best (book, NOW + 60));

  for (guint i = 0; i < N_PROVIDERS; i++)
    provider_clear (&providers[i]);
}

static void
test_ranking_rules (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnKey) a = kiln_test_market_key ();
  g_autoptr(KilnKey) b = kiln_test_market_key ();
  /* Twice the price for twice the speed: the same cost per unit of work. */
  g_autoptr(KilnOffer) slow = offer_for (announcement, a, GNT / 2, 4, 4000, 1);
  g_autoptr(KilnOffer) fast = offer_for (announcement, b, GNT, 4, 8000, 1);
  /* Half the price of another with the same speed. */
  g_autoptr(KilnOffer) cheap = offer_for (announcement, a, GNT / 2, 4, 4000, 1);
  g_autoptr(KilnOffer) dear = offer_for (announcement, b, GNT, 4, 4000, 1);
  /* More cores at the same price per core-hour and the same speed cost more. */
  g_autoptr(KilnOffer) wide = offer_for (announcement, a, GNT, 8, 4000, 1);
  g_autoptr(KilnOffer) narrow = offer_for (announcement, b, GNT, 4, 4000, 1);

  /* Equal cost and reputation: the faster one. */
  g_assert_cmpint (kiln_offer_compare_rank (fast, 0.5, slow, 0.5), <, 0);
  g_assert_cmpint (kiln_offer_compare_rank (slow, 0.5, fast, 0.5), >, 0);
  /* Equal cost: the better reputation makes the expected cost lower. */
  g_assert_cmpint (kiln_offer_compare_rank (slow, 0.6, fast, 0.5), <, 0);
  g_assert_cmpint (kiln_offer_compare_rank (slow, 0.5, fast, 0.499999), <, 0);

  /* Half the price wins at the same reputation, and at a reputation above half of the
   * other's; at less than half it loses, at exactly half it ties on cost and loses on
   * reputation. */
  g_assert_cmpint (kiln_offer_compare_rank (cheap, 0.5, dear, 0.5), <, 0);
  g_assert_cmpint (kiln_offer_compare_rank (cheap, 0.5, dear, 0.99), <, 0);
  g_assert_cmpint (kiln_offer_compare_rank (cheap, 0.45, dear, 0.9), >, 0);
  g_assert_cmpint (kiln_offer_compare_rank (cheap, 0.2, dear, 0.4), >, 0);
  g_assert_cmpint (kiln_offer_compare_rank (cheap, 0.21, dear, 0.4), <, 0);

  /* Below 5 % reputations count as 5 % in the cost, so the price decides again (1 % and 4 %
   * would otherwise make the dear one the better deal); then the tie-break tells equal costs
   * apart. */
  g_assert_cmpint (kiln_offer_compare_rank (cheap, 0.01, dear, 0.04), <, 0);
  g_assert_cmpint (kiln_offer_compare_rank (slow, 0.01, fast, 0.0), <, 0);
  g_assert_cmpint (kiln_offer_compare_rank (fast, 0.0, slow, 0.04), >, 0);
  g_assert_cmpint (kiln_offer_compare_rank (fast, 0.05, slow, 0.04), <, 0);

  g_assert_cmpint (kiln_offer_compare_rank (narrow, 0.5, wide, 0.5), <, 0);

  /* An offer ties with itself only. */
  g_assert_cmpint (kiln_offer_compare_rank (cheap, 0.5, cheap, 0.5), ==, 0);
  g_assert_cmpint (kiln_offer_compare_rank (cheap, 0.5, slow, 0.5), ==, 0);
}

static void
test_refusals (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnKey) provider = kiln_test_market_key ();
  g_autoptr(KilnKey) other = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnTaskAnnouncement) other_task = kiln_test_market_announcement (requestor);
  g_autoptr(KilnTaskAnnouncement) small_budget = kiln_test_market_announcement (requestor);
  g_autoptr(KilnOfferBook) book = new_book (announcement, NULL);
  g_autoptr(KilnOfferBook) poor_book = NULL;
  g_autoptr(KilnOffer) good = offer_for (announcement, provider, GNT, 8, 5000, 1);
  g_autoptr(KilnOffer) elsewhere = offer_for (other_task, provider, GNT, 8, 5000, 1);
  g_autoptr(KilnOffer) dear = offer_for (announcement, other, 2 * GNT + 1, 8, 5000, 1);
  g_autoptr(KilnOffer) two_cores = offer_for (announcement, other, GNT, 2, 5000, 1);
  g_autoptr(KilnOffer) older = NULL;
  g_autoptr(KilnOffer) newer = NULL;
  g_autoptr(KilnOffer) short_lived = kiln_offer_new (announcement);
  g_autoptr(KilnOffer) budget_offer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *tampered = NULL;
  g_autoptr(GBytes) tampered_bytes = NULL;
  g_autoptr(GBytes) garbage = g_bytes_new_static ("\xc1\x80", 2);
  KilnUint256 price;
  KilnUint256 total;
  gsize len;

  /* A task re-announced under the same ID with other terms is another announcement. */
  kiln_task_announcement_set_task_id (other_task,
                                      kiln_task_announcement_get_task_id (announcement));
  kiln_task_announcement_set_subtasks (other_task, 20, 600);
  g_assert_true (kiln_task_announcement_sign (other_task, requestor, &error));
  g_clear_object (&elsewhere);
  elsewhere = offer_for (other_task, provider, GNT, 8, 5000, 1);

  g_assert_true (kiln_offer_book_add (book, good, NOW, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_offer_book_get_n_offers (book), ==, 1);

  assert_refused (book, elsewhere, NOW, KILN_MARKET_ERROR_WRONG_TASK);
  assert_refused (book, dear, NOW, KILN_MARKET_ERROR_PRICE_TOO_HIGH);
  assert_refused (book, two_cores, NOW, KILN_MARKET_ERROR_UNSUITABLE);
  assert_refused (book, good, NOW, KILN_MARKET_ERROR_STALE);
  assert_bytes_refused (book, kiln_offer_get_bytes (good), NOW, KILN_MARKET_ERROR_STALE);

  /* Expired, and from the future. */
  price = kiln_test_u256 (GNT);
  kiln_offer_set_price (short_lived, &price);
  kiln_offer_set_cores (short_lived, 4);
  kiln_offer_set_times (short_lived, NOW, NOW + 30);
  g_assert_true (kiln_offer_sign (short_lived, other, &error));
  assert_refused (book, short_lived, NOW + 30, KILN_MARKET_ERROR_EXPIRED);
  assert_bytes_refused (book, kiln_offer_get_bytes (short_lived), NOW + 30,
                        KILN_MARKET_ERROR_EXPIRED);
  assert_refused (book, short_lived, NOW - KILN_MARKET_MAX_SKEW - 1, KILN_MARKET_ERROR_FUTURE);

  /* Badly signed or not an offer at all. */
  tampered = g_memdup2 (g_bytes_get_data (kiln_offer_get_bytes (short_lived), &len),
                        g_bytes_get_size (kiln_offer_get_bytes (short_lived)));
  tampered[len - 70] ^= 0x01;
  tampered_bytes = g_bytes_new (tampered, len);
  assert_bytes_refused (book, tampered_bytes, NOW, KILN_MARKET_ERROR_BAD_SIGNATURE);
  assert_bytes_refused (book, garbage, NOW, KILN_MARKET_ERROR_MALFORMED);

  /* A newer offer of the provider replaces its older one; the older is then stale. */
  older = kiln_offer_new (announcement);
  kiln_offer_set_price (older, &price);
  kiln_offer_set_cores (older, 4);
  kiln_offer_set_times (older, NOW - 10, NOW + 600);
  g_assert_true (kiln_offer_sign (older, provider, &error));
  assert_refused (book, older, NOW, KILN_MARKET_ERROR_STALE);
  newer = kiln_offer_new (announcement);
  kiln_offer_set_price (newer, &price);
  kiln_offer_set_cores (newer, 4);
  kiln_offer_set_times (newer, NOW + 10, NOW + 600);
  g_assert_true (kiln_offer_sign (newer, provider, &error));
  g_assert_true (kiln_offer_book_add (book, newer, NOW + 10, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_offer_book_get_n_offers (book), ==, 1);
  {
    g_autoptr(KilnOffer) best = kiln_offer_book_get_best (book, NOW + 10);

    g_assert_true (best == newer);
  }

  /* One subtask at the offer's price must fit the task's maximum total: 1 GNT × 4 cores ×
   * 600 s = 2/3 GNT. */
  total = kiln_test_u256 (GNT / 2);
  kiln_task_announcement_set_max_total (small_budget, &total);
  g_assert_true (kiln_task_announcement_sign (small_budget, requestor, &error));
  poor_book = new_book (small_budget, NULL);
  budget_offer = offer_for (small_budget, provider, GNT, 4, 5000, 1);
  assert_refused (poor_book, budget_offer, NOW, KILN_MARKET_ERROR_PRICE_TOO_HIGH);
  g_clear_object (&budget_offer);
  budget_offer = offer_for (small_budget, provider, 3 * GNT / 4, 4, 5000, 1);
  g_assert_true (kiln_offer_book_add (poor_book, budget_offer, NOW, &error));
  g_assert_no_error (error);

  g_assert_true (kiln_offer_book_remove (book, kiln_key_get_address (provider)));
  g_assert_false (kiln_offer_book_remove (book, kiln_key_get_address (provider)));
  g_assert_cmpuint (kiln_offer_book_get_n_offers (book), ==, 0);

  /* The task itself stopped taking offers. */
  assert_refused (book, short_lived, NOW + 3600, KILN_MARKET_ERROR_EXPIRED);

  g_assert_finalize_object (g_steal_pointer (&book));
}

static void
test_assign_without_waiting (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnKey) first = kiln_test_market_key ();
  g_autoptr(KilnKey) second = kiln_test_market_key ();
  g_autoptr(KilnKey) third = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnOfferBook) book = new_book (announcement, NULL);
  g_autoptr(KilnOffer) dear = offer_for (announcement, first, 2 * GNT, 4, 4000, 2);
  g_autoptr(KilnOffer) cheap = offer_for (announcement, second, GNT / 10, 4, 4000, 1);
  g_autoptr(KilnOffer) short_lived = kiln_offer_new (announcement);
  g_autoptr(KilnOffer) assigned = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 price = kiln_test_u256 (GNT / 100);
  guint changed;

  g_assert_null (kiln_offer_book_get_best (book, NOW));
  g_assert_null (kiln_offer_book_assign_best (book, NOW));

  /* The first acceptable offer is used at once. */
  g_assert_true (kiln_offer_book_add (book, dear, NOW, &error));
  assigned = kiln_offer_book_assign_best (book, NOW);
  g_assert_true (assigned == dear);
  g_clear_object (&assigned);
  g_assert_cmpuint (kiln_offer_book_get_running (book, kiln_key_get_address (first)), ==, 1);

  /* A better offer arriving later is told of, and used for the next subtask. */
  changed = count_changed (book);
  g_assert_true (kiln_offer_book_add (book, cheap, NOW + 5, &error));
  g_assert_cmpuint (count_changed (book), ==, changed + 1);
  assigned = kiln_offer_book_assign_best (book, NOW + 5);
  g_assert_true (assigned == cheap);
  g_clear_object (&assigned);

  /* The cheap provider runs one subtask at a time, the dear one two. */
  assigned = kiln_offer_book_assign_best (book, NOW + 5);
  g_assert_true (assigned == dear);
  g_clear_object (&assigned);
  g_assert_null (kiln_offer_book_assign_best (book, NOW + 5));

  /* Capacity coming back is told of too. */
  changed = count_changed (book);
  kiln_offer_book_release (book, kiln_key_get_address (second));
  g_assert_cmpuint (count_changed (book), ==, changed + 1);
  assigned = kiln_offer_book_get_best (book, NOW + 6);
  g_assert_true (assigned == cheap);
  g_clear_object (&assigned);

  /* A very cheap offer that expires is used while it lasts only. */
  kiln_offer_set_price (short_lived, &price);
  kiln_offer_set_cores (short_lived, 4);
  kiln_offer_set_benchmark (short_lived, 4000);
  kiln_offer_set_times (short_lived, NOW + 6, NOW + 20);
  g_assert_true (kiln_offer_sign (short_lived, third, &error));
  g_assert_true (kiln_offer_book_add (book, short_lived, NOW + 6, &error));
  assigned = kiln_offer_book_get_best (book, NOW + 19);
  g_assert_true (assigned == short_lived);
  g_clear_object (&assigned);
  g_assert_cmpuint (kiln_offer_book_get_n_offers (book), ==, 3);
  changed = count_changed (book);
  assigned = kiln_offer_book_get_best (book, NOW + 20);
  g_assert_true (assigned == cheap);
  g_clear_object (&assigned);
  g_assert_cmpuint (kiln_offer_book_get_n_offers (book), ==, 2);
  g_assert_cmpuint (count_changed (book), ==, changed + 1);

  /* A provider whose offer went keeps its running subtasks for its next offer. */
  g_assert_true (kiln_offer_book_remove (book, kiln_key_get_address (first)));
  g_assert_cmpuint (kiln_offer_book_get_running (book, kiln_key_get_address (first)), ==, 2);

  /* The book keeps the announcement as it was signed when the book was made; the same object
   * signed again with other fields is another announcement. */
  kiln_task_announcement_set_subtasks (announcement, 11, 600);
  g_assert_true (kiln_task_announcement_sign (announcement, requestor, &error));
  g_assert_cmpuint (kiln_task_announcement_get_n_subtasks (kiln_offer_book_get_announcement (book)),
                    ==, 10);
  {
    g_autoptr(KilnOffer) for_other = offer_for (announcement, first, GNT, 4, 4000, 1);

    assert_refused (book, for_other, NOW + 20, KILN_MARKET_ERROR_WRONG_TASK);
  }

  g_assert_finalize_object (g_steal_pointer (&book));
}

/* Reputations from the store */

typedef struct
{
  char           *dir;
  KilnStore      *store;
  KilnReputation *reputation;
} StoreFixture;

static void
store_set_up (StoreFixture  *fixture,
              gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  fixture->dir = g_dir_make_tmp ("kiln-ranking-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (fixture->dir, KILN_STORE_FILE_NAME, NULL);
  fixture->store = kiln_store_new (path, NULL, &error);
  g_assert_no_error (error);
  fixture->reputation = kiln_reputation_new (fixture->store);
}

static void
store_tear_down (StoreFixture  *fixture,
                 gconstpointer  user_data)
{
  static const char * const names[] = { "kiln.db", "kiln.db-wal", "kiln.db-shm" };

  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->reputation));
  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->store));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (fixture->dir, names[i], NULL);

      g_unlink (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
}

static void
wait_for_reputation (KilnOfferBook     *book,
                     const KilnAddress *provider)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (kiln_offer_book_get_reputation (book, provider) == KILN_REPUTATION_PRIOR_SCORE)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
test_reputation_from_store (StoreFixture  *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnKey) unreliable = kiln_test_market_key ();
  g_autoptr(KilnKey) reliable = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnOfferBook) book = NULL;
  g_autoptr(KilnOffer) cheap = offer_for (announcement, unreliable, GNT / 2, 4, 4000, 1);
  g_autoptr(KilnOffer) dear = offer_for (announcement, reliable, 3 * GNT / 4, 4, 4000, 1);
  g_autoptr(KilnOffer) best = NULL;
  g_autoptr(GError) error = NULL;
  gint64 an_hour_ago = (NOW - 3600) * G_USEC_PER_SEC;
  guint changed;
  double score;

  /* The cheap provider had two results rejected; the dear one had four accepted. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(KilnReputationEntry) entry = NULL;

      entry = kiln_reputation_record (fixture->reputation, kiln_key_get_address (unreliable),
                                      KILN_REPUTATION_REJECTED, an_hour_ago,
                                      NULL, &error);
      g_assert_no_error (error);
    }
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(KilnReputationEntry) entry = NULL;

      entry = kiln_reputation_record (fixture->reputation, kiln_key_get_address (reliable),
                                      KILN_REPUTATION_ACCEPTED, an_hour_ago,
                                      NULL, &error);
      g_assert_no_error (error);
    }

  book = new_book (announcement, fixture->reputation);
  g_assert_true (kiln_offer_book_add (book, cheap, NOW, &error));
  g_assert_true (kiln_offer_book_add (book, dear, NOW, &error));

  /* Until the store answers, both are new: the cheap one leads. */
  best = kiln_offer_book_get_best (book, NOW);
  g_assert_true (best == cheap);
  g_clear_object (&best);

  changed = count_changed (book);
  wait_for_reputation (book, kiln_key_get_address (unreliable));
  wait_for_reputation (book, kiln_key_get_address (reliable));
  g_assert_cmpuint (count_changed (book), >=, changed + 2);

  /* 2 / (4 + 6) and (2 + 4) / (4 + 4), give or take an hour of decay. */
  score = kiln_offer_book_get_reputation (book, kiln_key_get_address (unreliable));
  g_assert_cmpfloat_with_epsilon (score, 0.2, 0.001);
  score = kiln_offer_book_get_reputation (book, kiln_key_get_address (reliable));
  g_assert_cmpfloat_with_epsilon (score, 0.75, 0.001);

  /* 0.5 / 0.2 = 2.5 against 0.75 / 0.75 = 1 per unit of work: the reliable one now leads. */
  best = kiln_offer_book_get_best (book, NOW);
  g_assert_true (best == dear);
  g_clear_object (&best);

  kiln_test_assert_finalize_soon (g_steal_pointer (&book));
}

static void
test_dropped_during_lookup (StoreFixture  *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnKey) provider = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnOffer) offer = offer_for (announcement, provider, GNT, 4, 4000, 1);
  KilnOfferBook *book = new_book (announcement, fixture->reputation);
  g_autoptr(GError) error = NULL;

  /* Dropped while its lookup is under way: the lookup does not keep it alive, and its answer
   * goes nowhere (the tear-down waits for it to let go of the reputation). */
  g_assert_true (kiln_offer_book_add (book, offer, NOW, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (book);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/market/offer-book/rank-many", test_rank_many);
  g_test_add_func ("/kiln/market/offer-book/ranking-rules", test_ranking_rules);
  g_test_add_func ("/kiln/market/offer-book/refusals", test_refusals);
  g_test_add_func ("/kiln/market/offer-book/assign-without-waiting",
                   test_assign_without_waiting);
  g_test_add ("/kiln/market/offer-book/reputation-from-store", StoreFixture, NULL,
              store_set_up, test_reputation_from_store, store_tear_down);
  g_test_add ("/kiln/market/offer-book/dropped-during-lookup", StoreFixture, NULL,
              store_set_up, test_dropped_during_lookup, store_tear_down);

  return g_test_run ();
}
