/* test-market-terms.c: terms signed by both sides and checked by a third party; exact
 * payments and cost estimates
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "libkiln.h"
#include "kiln-test-market.h"

#define NOW KILN_TEST_MARKET_NOW
#define GNT KILN_TEST_GNT

/* The body's fields, as docs/market.md numbers them. */
enum
{
  FIELD_VERSION,
  FIELD_TASK_ID,
  FIELD_ANNOUNCEMENT,
  FIELD_REQUESTOR,
  FIELD_PROVIDER,
  FIELD_CHAIN_ID,
  FIELD_TOKEN,
  FIELD_SUBTASKS,
  FIELD_PRICE,
  FIELD_CORES,
  FIELD_TIMEOUT,
  FIELD_MAX_PAYMENT,
  FIELD_CREATED,
  FIELD_EXPIRES,
  FIELD_DETAILS,
  N_FIELDS
};

typedef struct
{
  KilnKey              *requestor;
  KilnKey              *provider;
  KilnTaskAnnouncement *announcement;
  KilnOffer            *offer;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  KilnUint256 price = kiln_test_u256 (GNT + 1);

  fixture->requestor = kiln_test_market_key ();
  fixture->provider = kiln_test_market_key ();
  fixture->announcement = kiln_test_market_announcement (fixture->requestor);
  fixture->offer = kiln_test_market_offer (fixture->announcement, fixture->provider, &price, 8,
                                           5000, 2);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_clear_object (&fixture->offer);
  g_clear_object (&fixture->announcement);
  g_clear_object (&fixture->provider);
  g_clear_object (&fixture->requestor);
}

static KilnTerms *
propose (Fixture     *fixture,
         const guint *subtasks,
         guint        n_subtasks,
         const char  *details)
{
  g_autoptr(GBytes) details_bytes = NULL;
  g_autoptr(GError) error = NULL;
  KilnTerms *terms;

  if (details != NULL)
    details_bytes = g_bytes_new (details, strlen (details));
  terms = kiln_terms_propose (fixture->announcement, fixture->offer, subtasks, n_subtasks,
                              details_bytes, fixture->requestor, NOW + 10, 300, &error);
  g_assert_no_error (error);
  g_assert_nonnull (terms);
  return terms;
}

static KilnTerms *
accepted_terms (Fixture *fixture)
{
  static const guint subtasks[] = { 4, 6, 7 };
  g_autoptr(GError) error = NULL;
  KilnTerms *terms = propose (fixture, subtasks, G_N_ELEMENTS (subtasks), "frames 5, 7-8");

  g_assert_true (kiln_terms_accept (terms, fixture->provider, NOW + 20, &error));
  g_assert_no_error (error);
  return terms;
}

static void
assert_decode_fails (GBytes *bytes,
                     int     code)
{
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(GError) error = NULL;

  terms = kiln_terms_decode (bytes, &error);
  g_assert_null (terms);
  if (code >= 0)
    g_assert_error (error, KILN_MARKET_ERROR, code);
  else
    g_assert_error (error, KILN_MARKET_ERROR, error->code);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static KilnUint256
u256_from_text (const char *text)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 value;

  g_assert_true (kiln_uint256_parse (&value, text, &error));
  g_assert_no_error (error);
  return value;
}

static void
assert_u256 (const KilnUint256 *value,
             const char        *expected)
{
  g_autofree char *text = kiln_uint256_to_string (value);

  g_assert_cmpstr (text, ==, expected);
}

/* Terms */

static void
test_round_trip (Fixture       *fixture,
                 gconstpointer  user_data)
{
  static const guint subtasks[] = { 2, 3, 7 };
  g_autoptr(KilnTerms) terms = propose (fixture, subtasks, 3, "frames 3-4, 8");
  g_autoptr(KilnTerms) seen = NULL;
  g_autoptr(KilnTerms) accepted = NULL;
  g_autoptr(GBytes) proposed_bytes = NULL;
  g_autoptr(GError) error = NULL;
  const guint *read_subtasks;
  guint n_subtasks;
  KilnUint256 value;
  guint8 acceptance[32];

  g_assert_false (kiln_terms_is_accepted (terms));
  proposed_bytes = g_bytes_ref (kiln_terms_get_bytes (terms));
  g_assert_cmpuint (kiln_test_market_n_fields (proposed_bytes), ==, N_FIELDS);

  /* The provider reads the requestor's terms from their bytes and checks them against the
   * task and its own offer. */
  seen = kiln_terms_decode (proposed_bytes, &error);
  g_assert_no_error (error);
  g_assert_false (kiln_terms_is_accepted (seen));
  g_assert_true (kiln_terms_check (seen, fixture->announcement, fixture->offer, &error));
  g_assert_no_error (error);

  g_assert_cmpmem (kiln_terms_get_task_id (seen), 32,
                   kiln_task_announcement_get_task_id (fixture->announcement), 32);
  g_assert_cmpmem (kiln_terms_get_announcement (seen), 32,
                   kiln_task_announcement_get_digest (fixture->announcement), 32);
  g_assert_true (kiln_address_equal (kiln_terms_get_requestor (seen),
                                     kiln_key_get_address (fixture->requestor)));
  g_assert_true (kiln_address_equal (kiln_terms_get_provider (seen),
                                     kiln_key_get_address (fixture->provider)));
  g_assert_cmpuint (kiln_terms_get_chain_id (seen), ==, KILN_TEST_MARKET_CHAIN_ID);
  g_assert_true (kiln_address_equal (kiln_terms_get_token (seen),
                                     kiln_task_announcement_get_token (fixture->announcement)));
  read_subtasks = kiln_terms_get_subtasks (seen, &n_subtasks);
  g_assert_cmpuint (n_subtasks, ==, 3);
  g_assert_cmpuint (read_subtasks[0], ==, 2);
  g_assert_cmpuint (read_subtasks[2], ==, 7);
  kiln_terms_get_price (seen, &value);
  assert_u256 (&value, "1000000000000000001");
  g_assert_cmpuint (kiln_terms_get_cores (seen), ==, 4);
  g_assert_cmpuint (kiln_terms_get_timeout (seen), ==, 600);
  /* (10^18 + 1) × 4 cores × 600 s / 3600 s, rounded up. */
  kiln_terms_get_max_payment (seen, &value);
  assert_u256 (&value, "666666666666666668");
  kiln_terms_get_max_total (seen, &value);
  assert_u256 (&value, "2000000000000000004");
  g_assert_cmpint (kiln_terms_get_created (seen), ==, NOW + 10);
  g_assert_cmpint (kiln_terms_get_expires (seen), ==, NOW + 310);
  g_assert_cmpmem (g_bytes_get_data (kiln_terms_get_details (seen), NULL),
                   g_bytes_get_size (kiln_terms_get_details (seen)), "frames 3-4, 8", 13);

  /* It accepts; a third party reads both signatures from the bytes alone. */
  g_assert_true (kiln_terms_accept (seen, fixture->provider, NOW + 20, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_terms_is_accepted (seen));
  g_assert_cmpuint (g_bytes_get_size (kiln_terms_get_bytes (seen)), >=,
                    g_bytes_get_size (proposed_bytes) + 1 + KILN_SIGNATURE_SIZE);

  accepted = kiln_terms_decode (kiln_terms_get_bytes (seen), &error);
  g_assert_no_error (error);
  g_assert_true (kiln_terms_is_accepted (accepted));
  g_assert_cmpmem (kiln_terms_get_digest (accepted), 32, kiln_terms_get_digest (terms), 32);
  g_assert_true (g_bytes_equal (kiln_terms_get_bytes (accepted), kiln_terms_get_bytes (seen)));

  /* The digests are the documented ones. */
  {
    g_autoptr(GBytes) body = kiln_test_market_body (proposed_bytes);
    guint8 digest[32];

    kiln_market_digest (KILN_MARKET_TERMS_CONTEXT, g_bytes_get_data (body, NULL),
                        g_bytes_get_size (body), digest);
    g_assert_cmpmem (digest, 32, kiln_terms_get_digest (accepted), 32);
  }
  kiln_terms_get_acceptance_digest (accepted, acceptance);
  g_assert_true (memcmp (acceptance, kiln_terms_get_digest (accepted), 32) != 0);

  /* Still a valid record long after it expired. */
  g_assert_cmpint (kiln_terms_get_expires (accepted), <, NOW + 86400);

  g_assert_finalize_object (g_steal_pointer (&accepted));
  g_assert_finalize_object (g_steal_pointer (&seen));
  g_assert_finalize_object (g_steal_pointer (&terms));
}

static void
test_tampered (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(KilnTerms) terms = accepted_terms (fixture);
  GBytes *bytes = kiln_terms_get_bytes (terms);
  gsize len = g_bytes_get_size (bytes);

  for (gsize i = 0; i < len; i++)
    for (guint bit = 0; bit < 8; bit++)
      {
        g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (bytes, NULL), len);
        g_autoptr(GBytes) tampered = NULL;

        copy[i] ^= 1 << bit;
        tampered = g_bytes_new (copy, len);
        assert_decode_fails (tampered, -1);
      }
}

static void
test_fields_signed (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(KilnTerms) terms = accepted_terms (fixture);
  GBytes *bytes = kiln_terms_get_bytes (terms);
  g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();
  KilnUint256 price = u256_from_text ("1000000000000000004");
  KilnUint256 max_payment;
  g_autoptr(GBytes) price_changed = NULL;
  g_autoptr(GBytes) both_changed = NULL;

  for (guint field = 1; field < N_FIELDS; field++)
    {
      g_autoptr(GBytes) altered = kiln_test_market_alter_field (bytes, field);
      /* The price, cores, timeout and maximum payment are tied by the formula: changing one
       * alone is refused before any signature is looked at. */
      gboolean tied = field == FIELD_PRICE || field == FIELD_CORES ||
                      field == FIELD_TIMEOUT || field == FIELD_MAX_PAYMENT;

      g_test_message ("field %u", field);
      assert_decode_fails (altered, tied ? KILN_MARKET_ERROR_MALFORMED
                                         : KILN_MARKET_ERROR_BAD_SIGNATURE);
    }

  /* A price raised with its maximum payment, consistent but not signed. */
  kiln_rlp_encoder_append_uint256 (encoder, &price);
  {
    const guint8 *item;
    gsize item_len;

    item = kiln_rlp_encoder_peek (encoder, &item_len);
    price_changed = kiln_test_market_replace_field (bytes, FIELD_PRICE, item, item_len);
  }
  assert_decode_fails (price_changed, KILN_MARKET_ERROR_MALFORMED);
  g_assert_true (kiln_market_compute_payment (&price, 4, 600, &max_payment, NULL));
  {
    g_autoptr(GByteArray) item = g_byte_array_new ();

    kiln_rlp_append_uint256 (item, &max_payment);
    both_changed = kiln_test_market_replace_field (price_changed, FIELD_MAX_PAYMENT, item->data,
                                                   item->len);
  }
  assert_decode_fails (both_changed, KILN_MARKET_ERROR_BAD_SIGNATURE);
}

static void
test_signatures (Fixture       *fixture,
                 gconstpointer  user_data)
{
  static const guint other_subtasks[] = { 5 };
  g_autoptr(KilnTerms) terms = accepted_terms (fixture);
  g_autoptr(KilnTerms) other = propose (fixture, other_subtasks, 1, NULL);
  g_autoptr(KilnKey) stranger = kiln_test_market_key ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) spliced = NULL;
  g_autoptr(GBytes) forged = NULL;
  g_autoptr(GBytes) forged_requestor = NULL;
  g_autoptr(KilnTerms) read = NULL;
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];

  /* The provider's acceptance of other terms does not carry over. */
  g_assert_true (kiln_terms_accept (other, fixture->provider, NOW + 20, &error));
  g_assert_no_error (error);
  {
    g_autoptr(KilnRlpItem) item = kiln_rlp_decode (g_bytes_get_data (kiln_terms_get_bytes (other),
                                                                     NULL),
                                                   g_bytes_get_size (kiln_terms_get_bytes (other)),
                                                   &error);

    g_assert_no_error (error);
    spliced = kiln_test_market_replace_signature (kiln_terms_get_bytes (terms), 2,
                                                  kiln_rlp_item_get_child (item, 2)->data);
  }
  assert_decode_fails (spliced, KILN_MARKET_ERROR_BAD_SIGNATURE);

  /* Someone else signing the acceptance digest is not the provider accepting. */
  kiln_terms_get_acceptance_digest (terms, digest);
  g_assert_true (kiln_key_sign_digest (stranger, digest, signature, &error));
  forged = kiln_test_market_replace_signature (kiln_terms_get_bytes (terms), 2, signature);
  assert_decode_fails (forged, KILN_MARKET_ERROR_BAD_SIGNATURE);

  /* Nor is someone else signing the terms the requestor. */
  g_assert_true (kiln_key_sign_digest (stranger, kiln_terms_get_digest (terms), signature,
                                       &error));
  forged_requestor = kiln_test_market_replace_signature (kiln_terms_get_bytes (terms), 1,
                                                         signature);
  assert_decode_fails (forged_requestor, KILN_MARKET_ERROR_BAD_SIGNATURE);

  /* Only the provider named accepts, and only in time. */
  g_clear_object (&other);
  other = propose (fixture, other_subtasks, 1, NULL);
  g_assert_false (kiln_terms_accept (other, stranger, NOW + 20, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MISMATCH);
  g_clear_error (&error);
  g_assert_false (kiln_terms_accept (other, fixture->provider, NOW + 310, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_EXPIRED);
  g_clear_error (&error);
  g_assert_false (kiln_terms_is_accepted (other));

  /* A message with a third signature is not terms. */
  {
    g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();
    g_autoptr(GBytes) body = kiln_test_market_body (kiln_terms_get_bytes (terms));
    g_autoptr(GBytes) three = NULL;

    kiln_rlp_encoder_begin_list (encoder);
    kiln_rlp_encoder_append_raw (encoder, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    for (guint i = 0; i < 3; i++)
      kiln_rlp_encoder_append_bytes (encoder, signature, sizeof signature);
    kiln_rlp_encoder_end_list (encoder);
    three = kiln_rlp_encoder_steal_bytes (encoder);
    assert_decode_fails (three, KILN_MARKET_ERROR_MALFORMED);
  }

  read = kiln_terms_decode (kiln_terms_get_bytes (terms), &error);
  g_assert_no_error (error);
}

static void
test_propose_refused (Fixture       *fixture,
                      gconstpointer  user_data)
{
  static const guint one[] = { 1 };
  static const guint out_of_range[] = { 1000 };
  static const guint unsorted[] = { 3, 2 };
  static const guint twice[] = { 4, 4 };
  g_autoptr(KilnKey) other_requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) other_task = kiln_test_market_announcement (other_requestor);
  KilnUint256 dear = kiln_test_u256 (2 * GNT + 1);
  KilnUint256 cheap = kiln_test_u256 (GNT);
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(KilnOffer) too_dear = NULL;
  g_autoptr(KilnOffer) two_cores = NULL;
  g_autoptr(KilnOffer) elsewhere = NULL;
  g_autofree guint *many = g_new (guint, KILN_TERMS_MAX_SUBTASKS + 1);
  g_autofree char *long_details = g_strnfill (KILN_TERMS_MAX_DETAILS + 1, 'x');
  g_autoptr(GBytes) details = g_bytes_new (long_details, KILN_TERMS_MAX_DETAILS + 1);
  g_autoptr(KilnTerms) largest = NULL;
  g_autoptr(GError) error = NULL;

  /* A task of 1000 subtasks, so that terms can carry as many as they may. */
  kiln_task_announcement_set_subtasks (fixture->announcement, 1000, 600);
  g_assert_true (kiln_task_announcement_sign (fixture->announcement, fixture->requestor,
                                              &error));
  g_assert_no_error (error);
  for (guint i = 0; i <= KILN_TERMS_MAX_SUBTASKS; i++)
    many[i] = i;

  offer = kiln_test_market_offer (fixture->announcement, fixture->provider, &cheap, 8, 5000, 2);
  too_dear = kiln_test_market_offer (fixture->announcement, fixture->provider, &dear, 8, 5000, 1);
  two_cores = kiln_test_market_offer (fixture->announcement, fixture->provider, &cheap, 2, 5000,
                                      1);
  elsewhere = kiln_test_market_offer (other_task, fixture->provider, &cheap, 8, 5000, 1);

  {
    const struct
    {
      KilnOffer   *offer;
      const guint *subtasks;
      guint        n_subtasks;
      GBytes      *details;
      KilnKey     *key;
      gint64       now;
      int          code;
    } cases[] = {
      { offer, one, 1, NULL, fixture->provider, NOW, KILN_MARKET_ERROR_MISMATCH },
      { elsewhere, one, 1, NULL, fixture->requestor, NOW, KILN_MARKET_ERROR_WRONG_TASK },
      { too_dear, one, 1, NULL, fixture->requestor, NOW, KILN_MARKET_ERROR_PRICE_TOO_HIGH },
      { two_cores, one, 1, NULL, fixture->requestor, NOW, KILN_MARKET_ERROR_UNSUITABLE },
      { offer, one, 1, NULL, fixture->requestor, NOW + 3600, KILN_MARKET_ERROR_EXPIRED },
      { offer, out_of_range, 1, NULL, fixture->requestor, NOW, KILN_MARKET_ERROR_MALFORMED },
      { offer, unsorted, 2, NULL, fixture->requestor, NOW, KILN_MARKET_ERROR_MALFORMED },
      { offer, twice, 2, NULL, fixture->requestor, NOW, KILN_MARKET_ERROR_MALFORMED },
      { offer, one, 0, NULL, fixture->requestor, NOW, KILN_MARKET_ERROR_MALFORMED },
      { offer, many, KILN_TERMS_MAX_SUBTASKS + 1, NULL, fixture->requestor, NOW,
        KILN_MARKET_ERROR_MALFORMED },
      { offer, one, 1, details, fixture->requestor, NOW, KILN_MARKET_ERROR_MALFORMED },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(KilnTerms) terms = NULL;

        g_test_message ("case %u", i);
        terms = kiln_terms_propose (fixture->announcement, cases[i].offer, cases[i].subtasks,
                                    cases[i].n_subtasks, cases[i].details, cases[i].key,
                                    cases[i].now, 300, &error);
        g_assert_null (terms);
        g_assert_error (error, KILN_MARKET_ERROR, cases[i].code);
        g_clear_error (&error);
      }
  }

  /* 256 subtasks at once is the most terms carry, and they still fit. */
  largest = kiln_terms_propose (fixture->announcement, offer, many, KILN_TERMS_MAX_SUBTASKS,
                                NULL, fixture->requestor, NOW, 300, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (kiln_terms_get_bytes (largest)), <=, KILN_TERMS_MAX_SIZE);
}

static void
test_check (Fixture       *fixture,
            gconstpointer  user_data)
{
  static const guint subtasks[] = { 9 };
  g_autoptr(KilnTerms) terms = propose (fixture, subtasks, 1, NULL);
  g_autoptr(KilnKey) other_provider = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) other_task = kiln_test_market_announcement (fixture->requestor);
  KilnUint256 price;
  KilnUint256 other_price = kiln_test_u256 (GNT);
  g_autoptr(KilnOffer) other_offer = NULL;
  g_autoptr(KilnOffer) cheaper_offer = NULL;
  g_autoptr(KilnOffer) fewer_cores = NULL;
  g_autoptr(GError) error = NULL;

  kiln_offer_get_price (fixture->offer, &price);
  other_offer = kiln_test_market_offer (fixture->announcement, other_provider, &price, 8, 5000, 1);
  cheaper_offer = kiln_test_market_offer (fixture->announcement, fixture->provider, &other_price,
                                          8, 5000, 1);
  fewer_cores = kiln_test_market_offer (fixture->announcement, fixture->provider, &price, 3,
                                        5000, 1);

  g_assert_true (kiln_terms_check (terms, fixture->announcement, NULL, &error));
  g_assert_no_error (error);

  g_assert_false (kiln_terms_check (terms, other_task, NULL, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_WRONG_TASK);
  g_clear_error (&error);
  g_assert_false (kiln_terms_check (terms, fixture->announcement, other_offer, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MISMATCH);
  g_clear_error (&error);
  g_assert_false (kiln_terms_check (terms, fixture->announcement, cheaper_offer, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MISMATCH);
  g_clear_error (&error);
  g_assert_false (kiln_terms_check (terms, fixture->announcement, fewer_cores, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MISMATCH);
  g_clear_error (&error);

  /* Re-announced with fewer subtasks (a new digest): the terms no longer belong to it. */
  kiln_task_announcement_set_subtasks (fixture->announcement, 5, 600);
  g_assert_true (kiln_task_announcement_sign (fixture->announcement, fixture->requestor, NULL));
  g_assert_false (kiln_terms_check (terms, fixture->announcement, NULL, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_WRONG_TASK);
}

static void
test_payment_for_time (Fixture       *fixture,
                       gconstpointer  user_data)
{
  static const guint subtasks[] = { 0 };
  g_autoptr(KilnTerms) terms = propose (fixture, subtasks, 1, NULL);
  KilnUint256 pay;

  /* (10^18 + 1) base units per CPU-hour on 4 cores. */
  kiln_terms_compute_payment (terms, 0, &pay);
  assert_u256 (&pay, "0");
  kiln_terms_compute_payment (terms, 1, &pay);
  assert_u256 (&pay, "1111111111111112");
  kiln_terms_compute_payment (terms, 300, &pay);
  assert_u256 (&pay, "333333333333333334");
  kiln_terms_compute_payment (terms, 599, &pay);
  assert_u256 (&pay, "665555555555555557");
  kiln_terms_compute_payment (terms, 600, &pay);
  assert_u256 (&pay, "666666666666666668");
  kiln_terms_compute_payment (terms, 601, &pay);
  assert_u256 (&pay, "666666666666666668");
  kiln_terms_compute_payment (terms, G_MAXUINT64, &pay);
  assert_u256 (&pay, "666666666666666668");
}

/* Amounts */

static void
test_compute_payment (void)
{
  static const struct
  {
    const char *price;
    guint       cores;
    guint64     seconds;
    const char *expected;
  } cases[] = {
    { "0", 4, 600, "0" },
    { "1", 1, 1, "1" },
    { "3600", 1, 1, "1" },
    { "3601", 1, 1, "2" },
    { "7", 3, 1199, "7" },
    { "1000000000000000000", 4, 600, "666666666666666667" },
    { "12345678901234567890123", 17, 86399, "5036978692664447869266259" },
    /* The largest terms allow. */
    { "340282366920938463463374607431768211455", 1024, 86400,
      "8362779449448983678075894352243135564718080" },
    { "115792089237316195423570985008687907853269984665640564039457584007913129639935", 1, 1,
      "32164469232587832062103051391302196625908329073789045566515995557753647123" },
  };
  g_autoptr(GError) error = NULL;
  KilnUint256 out;
  KilnUint256 price;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      price = u256_from_text (cases[i].price);
      g_assert_true (kiln_market_compute_payment (&price, cases[i].cores, cases[i].seconds, &out,
                                                  &error));
      g_assert_no_error (error);
      assert_u256 (&out, cases[i].expected);
    }

  /* A product past 2^256 is an error, not a wrapped amount: 2^255 × 2 cores, and the largest
   * price for a second on two cores or an hour on one. */
  price = u256_from_text ("0x8000000000000000000000000000000000000000000000000000000000000000");
  out = kiln_test_u256 (42);
  g_assert_false (kiln_market_compute_payment (&price, 2, 1, &out, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_OVERFLOW);
  g_clear_error (&error);
  assert_u256 (&out, "42");
  kiln_uint256_set_max (&price);
  g_assert_false (kiln_market_compute_payment (&price, 2, 1, &out, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_OVERFLOW);
  g_clear_error (&error);
  g_assert_false (kiln_market_compute_payment (&price, 1, 3600, &out, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_OVERFLOW);
}

static void
test_estimate (void)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 price = kiln_test_u256 (GNT / 2);
  KilnUint256 huge;
  KilnUint256 cost;

  /* 0.5 GNT per CPU-hour × 2 cores × 600 s = 1/6 GNT per subtask, rounded up to the base
   * unit: ten frames, one subtask each. */
  g_assert_true (kiln_market_estimate_max_cost (10, 0, 600, &price, 2, &cost, &error));
  g_assert_no_error (error);
  assert_u256 (&cost, "1666666666666666670");
  /* Ten frames in four chunks, or in forty strips. */
  g_assert_true (kiln_market_estimate_max_cost (10, 4, 600, &price, 2, &cost, &error));
  assert_u256 (&cost, "666666666666666668");
  g_assert_true (kiln_market_estimate_max_cost (10, 40, 600, &price, 2, &cost, &error));
  assert_u256 (&cost, "6666666666666666680");
  /* Free work costs nothing. */
  huge = kiln_test_u256 (0);
  g_assert_true (kiln_market_estimate_max_cost (250, 0, 3600, &huge, 64, &cost, &error));
  assert_u256 (&cost, "0");

  g_assert_false (kiln_market_estimate_max_cost (0, 0, 600, &price, 2, &cost, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (kiln_market_estimate_max_cost (10, 0, 0, &price, 2, &cost, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (kiln_market_estimate_max_cost (10, 0, 600, &price, 0, &cost, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);

  /* A per-subtask cost that fits, times a number of subtasks that does not. */
  /* About 2^246. */
  huge = u256_from_text ("0x400000000000000000000000000000000000000000000000000000000000000");
  g_assert_true (kiln_market_estimate_max_cost (1, 0, 1, &huge, 1, &cost, &error));
  g_assert_no_error (error);
  g_assert_false (kiln_market_estimate_max_cost (G_MAXUINT, 0, 1, &huge, 1, &cost, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_OVERFLOW);
}

/* The test vector of docs/market.md: fixed keys and task ID, deterministic signatures (RFC
 * 6979), so the bytes are fixed; they were checked against an independent RLP, Keccak-256 and
 * secp256k1 implementation. */
#define VECTOR_REQUESTOR_KEY "4646464646464646464646464646464646464646464646464646464646464646"
#define VECTOR_PROVIDER_KEY  "0101010101010101010101010101010101010101010101010101010101010101"

static const char vector_announcement[] =
    "f9010ef8c901a0111111111111111111111111111111111111111111111111111111111111111194"
    "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f8205399470707070707070707070707070707070"
    "70707070846553f100846553ff1084655542800304864359434c4553048208008202000a82025888"
    "1bc16d674ec8000089056bc75e2d63100000f842a0b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
    "b1b1b1b1b1b1b1b1b1b1b1b1b1a07e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e"
    "7e7e7e7e7e7eb84122ca248954ec2a4731ddc22d57557f3750a14f1b462a0449c9d646fdd9791afe"
    "7409f7cfd3d70dc44757a343b8d151699f1af1a295c629d5bd3f27b7aa498d0701";
static const char vector_offer[] =
    "f8b5f87001a01111111111111111111111111111111111111111111111111111111111111111a038"
    "c15be33a1786b0237ce590743b5cc6c62cc5b0c665b14c64d3c0b35b9d9537941a642f0e3c3af545"
    "e7acbd38b07251b3990914f1846553f100846553ff108806f05b59d3b2000008820fa002b841c23c"
    "a83bee9e500a01147131363a4ba1a51230c0ab28b1072829caa89fae6a8418ff43e254aef4e45600"
    "81a78ddd42782b1b6758159e21f3821f67cab6e44cee00";
static const char vector_terms[] =
    "f90141f8b901a01111111111111111111111111111111111111111111111111111111111111111a0"
    "38c15be33a1786b0237ce590743b5cc6c62cc5b0c665b14c64d3c0b35b9d9537949d8a62f656a8d1"
    "615c1294fd71e9cfb3e4855a4f941a642f0e3c3af545e7acbd38b07251b3990914f1820539947070"
    "707070707070707070707070707070707070c38003098806f05b59d3b20000048202588804a03ce6"
    "8d215556846553f100846553f3588f6672616d657320312c20342c203130b841a4858a4893ebb60b"
    "0005ca414729061c67fc0db7f63add189800720e6fb454892a1496d7dcfb33441c665dec102d8dc8"
    "d83ab89ea8d496452ec824b54b9f313300b841017e6c063b4cb9460e03378503c7ba612da428730b"
    "eb59ad607437622fe0ab0a0b745c6e103779d10d8a34acaa091eb000cebcc83d5702187d383bc4e4"
    "61e54700";

static void
assert_hex (GBytes     *bytes,
            const char *expected)
{
  g_autofree char *hex = kiln_hex_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  g_assert_cmpstr (hex, ==, expected);
}

static void
assert_digest (const guint8 *digest,
               const char   *expected)
{
  g_autofree char *hex = kiln_hex_encode (digest, 32);

  g_assert_cmpstr (hex, ==, expected);
}

static void
test_vector (void)
{
  g_autoptr(KilnKey) requestor = kiln_key_new_from_hex (VECTOR_REQUESTOR_KEY, NULL);
  g_autoptr(KilnKey) provider = kiln_key_new_from_hex (VECTOR_PROVIDER_KEY, NULL);
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_task_announcement_new ();
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(KilnTerms) read = NULL;
  g_autoptr(GBytes) details = g_bytes_new_static ("frames 1, 4, 10", 15);
  g_autoptr(GError) error = NULL;
  static const guint subtasks[] = { 0, 3, 9 };
  KilnUint256 max_price = kiln_test_u256 (2 * GNT);
  KilnUint256 max_total = kiln_test_u256 (100);
  KilnUint256 price = kiln_test_u256 (GNT / 2);
  KilnUint256 max_payment;
  KilnAddress token;
  guint8 id[32], blend[32], texture[32], acceptance[32];

  g_assert_cmpstr (kiln_key_get_address_string (requestor), ==,
                   "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
  g_assert_cmpstr (kiln_key_get_address_string (provider), ==,
                   "0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1");

  memset (id, 0x11, sizeof id);
  memset (token.bytes, 0x70, sizeof token.bytes);
  memset (blend, 0xb1, sizeof blend);
  memset (texture, 0x7e, sizeof texture);
  g_assert_true (kiln_uint256_mul_uint64 (&max_total, &max_total, GNT));
  kiln_task_announcement_set_task_id (announcement, id);
  kiln_task_announcement_set_payment (announcement, 1337, &token);
  kiln_task_announcement_set_times (announcement, NOW, NOW + 3600, NOW + 86400);
  kiln_task_announcement_set_blender_version (announcement, 3, 4);
  kiln_task_announcement_set_engine (announcement, "CYCLES");
  kiln_task_announcement_set_hardware (announcement, 4, 2048, 512);
  kiln_task_announcement_set_subtasks (announcement, 10, 600);
  kiln_task_announcement_set_max_price (announcement, &max_price);
  kiln_task_announcement_set_max_total (announcement, &max_total);
  kiln_task_announcement_add_resource (announcement, blend);
  kiln_task_announcement_add_resource (announcement, texture);
  g_assert_true (kiln_task_announcement_sign (announcement, requestor, &error));
  g_assert_no_error (error);
  assert_hex (kiln_task_announcement_get_bytes (announcement), vector_announcement);
  assert_digest (kiln_task_announcement_get_digest (announcement),
                 "38c15be33a1786b0237ce590743b5cc6c62cc5b0c665b14c64d3c0b35b9d9537");

  offer = kiln_offer_new (announcement);
  kiln_offer_set_price (offer, &price);
  kiln_offer_set_cores (offer, 8);
  kiln_offer_set_benchmark (offer, 4000);
  kiln_offer_set_max_concurrent (offer, 2);
  kiln_offer_set_times (offer, NOW, NOW + 3600);
  g_assert_true (kiln_offer_sign (offer, provider, &error));
  assert_hex (kiln_offer_get_bytes (offer), vector_offer);
  assert_digest (kiln_offer_get_digest (offer),
                 "432a0fed53be768e7699ba16858034040b06dea88faebbe0d4e8da6c6b3f6c46");

  terms = kiln_terms_propose (announcement, offer, subtasks, 3, details, requestor, NOW, 600,
                              &error);
  g_assert_no_error (error);
  g_assert_true (kiln_terms_accept (terms, provider, NOW + 1, &error));
  assert_hex (kiln_terms_get_bytes (terms), vector_terms);
  assert_digest (kiln_terms_get_digest (terms),
                 "46bc6ce84f1bfde9c848e239a2281ba71ccfc95754e8e13a75851da3cc440fe0");
  kiln_terms_get_acceptance_digest (terms, acceptance);
  assert_digest (acceptance, "0e81cd3f34513259164037bb4cd60371b287134efe1e0aec92a1a199f423740d");

  /* 0.5 GNT × 4 cores × 600 s / 3600 s, rounded up. */
  read = kiln_terms_decode (kiln_terms_get_bytes (terms), &error);
  g_assert_no_error (error);
  kiln_terms_get_max_payment (read, &max_payment);
  assert_u256 (&max_payment, "333333333333333334");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/kiln/market/terms/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("round-trip", test_round_trip);
  ADD ("tampered", test_tampered);
  ADD ("fields-signed", test_fields_signed);
  ADD ("signatures", test_signatures);
  ADD ("propose-refused", test_propose_refused);
  ADD ("check", test_check);
  ADD ("payment-for-time", test_payment_for_time);
#undef ADD
  g_test_add_func ("/kiln/market/payment/compute", test_compute_payment);
  g_test_add_func ("/kiln/market/payment/estimate", test_estimate);
  g_test_add_func ("/kiln/market/vector", test_vector);

  return g_test_run ();
}
