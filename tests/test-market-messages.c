/* test-market-messages.c: task announcements and offers: signing, checking, refusals, and a
 * provider's decision to offer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "libkiln.h"
#include "kiln-test-market.h"

#define NOW KILN_TEST_MARKET_NOW
#define GNT KILN_TEST_GNT

/* Helpers */

/* Reads @bytes as an offer (@is_offer) or an announcement, which must be refused with @code
 * (any KILN_MARKET_ERROR when negative), for people. */
static void
assert_read_refused (GBytes   *bytes,
                     gint64    now,
                     gboolean  is_offer,
                     int       code)
{
  g_autoptr(GObject) read = NULL;
  g_autoptr(GError) error = NULL;

  if (is_offer)
    read = G_OBJECT (kiln_offer_verify (bytes, now, &error));
  else
    read = G_OBJECT (kiln_task_announcement_verify (bytes, now, &error));
  g_assert_null (read);
  g_assert_error (error, KILN_MARKET_ERROR, (code >= 0 ? code : error->code));
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
assert_refused (GBytes *bytes,
                gint64  now,
                int     code)
{
  assert_read_refused (bytes, now, FALSE, code);
}

static void
assert_offer_refused (GBytes *bytes,
                      gint64  now,
                      int     code)
{
  assert_read_refused (bytes, now, TRUE, code);
}

static void
flip_every_bit (GBytes   *bytes,
                gboolean  is_offer)
{
  gsize len = g_bytes_get_size (bytes);

  for (gsize i = 0; i < len; i++)
    for (guint bit = 0; bit < 8; bit++)
      {
        g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (bytes, NULL), len);
        g_autoptr(GBytes) tampered = NULL;

        copy[i] ^= 1 << bit;
        tampered = g_bytes_new (copy, len);
        assert_read_refused (tampered, NOW + 10, is_offer, -1);
      }
}

/* Task announcements */

static void
test_announcement_round_trip (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnTaskAnnouncement) read = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 price, total, expected;
  guint major, minor;
  guint8 zero[KILN_MARKET_ID_SIZE] = { 0 };

  g_assert_true (kiln_task_announcement_is_signed (announcement));
  g_assert_true (kiln_address_equal (kiln_task_announcement_get_requestor (announcement),
                                     kiln_key_get_address (requestor)));
  /* Signing gave it a random task ID. */
  g_assert_true (memcmp (kiln_task_announcement_get_task_id (announcement), zero,
                         sizeof zero) != 0);
  g_assert_cmpuint (g_bytes_get_size (kiln_task_announcement_get_bytes (announcement)), <=,
                    KILN_TASK_MAX_SIZE);

  read = kiln_task_announcement_verify (kiln_task_announcement_get_bytes (announcement),
                                        NOW + 10, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (kiln_task_announcement_get_bytes (read),
                                kiln_task_announcement_get_bytes (announcement)));
  g_assert_cmpmem (kiln_task_announcement_get_digest (read), KILN_MARKET_DIGEST_SIZE,
                   kiln_task_announcement_get_digest (announcement), KILN_MARKET_DIGEST_SIZE);
  g_assert_cmpmem (kiln_task_announcement_get_task_id (read), KILN_MARKET_ID_SIZE,
                   kiln_task_announcement_get_task_id (announcement), KILN_MARKET_ID_SIZE);
  g_assert_true (kiln_address_equal (kiln_task_announcement_get_requestor (read),
                                     kiln_key_get_address (requestor)));
  g_assert_cmpuint (kiln_task_announcement_get_chain_id (read), ==, KILN_TEST_MARKET_CHAIN_ID);
  g_assert_true (kiln_address_equal (kiln_task_announcement_get_token (read),
                                     kiln_task_announcement_get_token (announcement)));
  g_assert_cmpint (kiln_task_announcement_get_created (read), ==, NOW);
  g_assert_cmpint (kiln_task_announcement_get_expires (read), ==, NOW + 3600);
  g_assert_cmpint (kiln_task_announcement_get_deadline (read), ==, NOW + 86400);
  kiln_task_announcement_get_blender_version (read, &major, &minor);
  g_assert_cmpuint (major, ==, 3);
  g_assert_cmpuint (minor, ==, 4);
  g_assert_cmpstr (kiln_task_announcement_get_engine (read), ==, "CYCLES");
  g_assert_cmpuint (kiln_task_announcement_get_min_cores (read), ==, 4);
  g_assert_cmpuint (kiln_task_announcement_get_memory_mib (read), ==, 2048);
  g_assert_cmpuint (kiln_task_announcement_get_disk_mib (read), ==, 512);
  g_assert_cmpuint (kiln_task_announcement_get_n_subtasks (read), ==, 10);
  g_assert_cmpuint (kiln_task_announcement_get_subtask_timeout (read), ==, 600);
  kiln_task_announcement_get_max_price (read, &price);
  expected = kiln_test_u256 (2 * GNT);
  g_assert_true (kiln_uint256_equal (&price, &expected));
  kiln_task_announcement_get_max_total (read, &total);
  g_assert_true (kiln_uint256_parse (&expected, "100000000000000000000", NULL));
  g_assert_true (kiln_uint256_equal (&total, &expected));
  g_assert_cmpuint (kiln_task_announcement_get_n_resources (read), ==, 2);
  g_assert_cmpuint (kiln_task_announcement_get_resource (read, 0)[0], ==, 0xb1);
  g_assert_cmpuint (kiln_task_announcement_get_resource (read, 1)[31], ==, 0x7e);

  /* Changing a field drops the signature. */
  kiln_task_announcement_set_subtasks (announcement, 11, 600);
  g_assert_false (kiln_task_announcement_is_signed (announcement));

  g_assert_finalize_object (g_steal_pointer (&read));
  g_assert_finalize_object (g_steal_pointer (&announcement));
}

static void
test_announcement_ids (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) a = kiln_test_market_announcement (requestor);
  g_autoptr(KilnTaskAnnouncement) b = kiln_test_market_announcement (requestor);
  guint8 id[KILN_MARKET_ID_SIZE];
  g_autoptr(GError) error = NULL;

  g_assert_true (memcmp (kiln_task_announcement_get_task_id (a),
                         kiln_task_announcement_get_task_id (b), KILN_MARKET_ID_SIZE) != 0);

  /* A task ID that was set is kept. */
  memset (id, 0x42, sizeof id);
  kiln_task_announcement_set_task_id (b, id);
  g_assert_true (kiln_task_announcement_sign (b, requestor, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (kiln_task_announcement_get_task_id (b), KILN_MARKET_ID_SIZE, id, sizeof id);
}

static void
test_announcement_tampered (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);

  flip_every_bit (kiln_task_announcement_get_bytes (announcement), FALSE);
}

static void
test_announcement_fields_signed (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  GBytes *bytes = kiln_task_announcement_get_bytes (announcement);
  guint n_fields = kiln_test_market_n_fields (bytes);

  g_assert_cmpuint (n_fields, ==, 19);

  /* Every field but the version changed to another valid value: only the signature says no. */
  for (guint field = 1; field < n_fields; field++)
    {
      g_autoptr(GBytes) altered = kiln_test_market_alter_field (bytes, field);

      g_test_message ("field %u", field);
      assert_refused (altered, NOW + 10, KILN_MARKET_ERROR_BAD_SIGNATURE);
    }
}

static void
test_announcement_times (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnTaskAnnouncement) old = NULL;
  GBytes *bytes = kiln_task_announcement_get_bytes (announcement);
  g_autoptr(GError) error = NULL;

  assert_refused (bytes, NOW + 3600, KILN_MARKET_ERROR_EXPIRED);
  assert_refused (bytes, NOW - KILN_MARKET_MAX_SKEW - 1, KILN_MARKET_ERROR_FUTURE);

  /* Within the allowed skew, and without a clock. */
  old = kiln_task_announcement_verify (bytes, NOW - KILN_MARKET_MAX_SKEW, &error);
  g_assert_no_error (error);
  g_clear_object (&old);
  old = kiln_task_announcement_verify (bytes, -1, &error);
  g_assert_no_error (error);

  /* Lifetimes and deadlines out of range are not signed. */
  kiln_task_announcement_set_times (announcement, NOW, NOW, NOW + 10);
  g_assert_false (kiln_task_announcement_sign (announcement, requestor, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  kiln_task_announcement_set_times (announcement, NOW, NOW + KILN_TASK_MAX_LIFETIME + 1,
                                    NOW + KILN_TASK_MAX_DEADLINE);
  g_assert_false (kiln_task_announcement_sign (announcement, requestor, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  kiln_task_announcement_set_times (announcement, NOW, NOW + 3600, NOW + 3599);
  g_assert_false (kiln_task_announcement_sign (announcement, requestor, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  kiln_task_announcement_set_times (announcement, NOW, NOW + 3600,
                                    NOW + KILN_TASK_MAX_DEADLINE + 1);
  g_assert_false (kiln_task_announcement_sign (announcement, requestor, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  kiln_task_announcement_set_times (announcement, NOW, NOW + KILN_TASK_MAX_LIFETIME,
                                    NOW + KILN_TASK_MAX_DEADLINE);
  g_assert_true (kiln_task_announcement_sign (announcement, requestor, &error));
  g_assert_no_error (error);
}

typedef void (*Spoil) (KilnTaskAnnouncement *announcement);

static void
spoil_chain (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_payment (a, 0, kiln_task_announcement_get_token (a));
}

static void
spoil_engine (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_engine (a, "cycles");
}

static void
spoil_engine_empty (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_engine (a, "");
}

static void
spoil_engine_long (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_engine (a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456");
}

static void
spoil_blender (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_blender_version (a, 256, 0);
}

static void
spoil_cores (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_hardware (a, 0, 0, 0);
}

static void
spoil_many_cores (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_hardware (a, KILN_MARKET_MAX_CORES + 1, 0, 0);
}

static void
spoil_memory (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_hardware (a, 1, KILN_MARKET_MAX_MIB + 1, 0);
}

static void
spoil_subtasks (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_subtasks (a, KILN_MARKET_MAX_SUBTASKS + 1, 600);
}

static void
spoil_no_subtasks (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_subtasks (a, 0, 600);
}

static void
spoil_timeout (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_subtasks (a, 1, 0);
}

static void
spoil_long_timeout (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_set_subtasks (a, 1, KILN_MARKET_MAX_TIMEOUT + 1);
}

static void
spoil_price (KilnTaskAnnouncement *a)
{
  KilnUint256 price = { { 0, 0, 1, 0 } };   /* 2^128 */

  kiln_task_announcement_set_max_price (a, &price);
}

static void
spoil_total (KilnTaskAnnouncement *a)
{
  KilnUint256 total;

  kiln_uint256_set_max (&total);
  kiln_task_announcement_set_max_total (a, &total);
}

static void
spoil_duplicate_file (KilnTaskAnnouncement *a)
{
  kiln_task_announcement_add_resource (a, kiln_task_announcement_get_resource (a, 0));
}

static void
spoil_many_files (KilnTaskAnnouncement *a)
{
  for (guint i = 0; i < KILN_TASK_MAX_RESOURCES - 1; i++)
    {
      guint8 hash[32] = { 0 };

      hash[0] = i + 1;
      kiln_task_announcement_add_resource (a, hash);
    }
}

static void
test_announcement_limits (void)
{
  static const Spoil spoils[] = {
    spoil_chain, spoil_engine, spoil_engine_empty, spoil_engine_long, spoil_blender,
    spoil_cores, spoil_many_cores, spoil_memory, spoil_subtasks, spoil_no_subtasks,
    spoil_timeout, spoil_long_timeout, spoil_price, spoil_total, spoil_duplicate_file,
    spoil_many_files,
  };
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) empty = kiln_task_announcement_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (spoils); i++)
    {
      g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);

      g_test_message ("spoil %u", i);
      spoils[i] (announcement);
      g_assert_false (kiln_task_announcement_sign (announcement, requestor, &error));
      g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
      g_assert_false (kiln_task_announcement_is_signed (announcement));
      g_clear_error (&error);
    }

  /* Without a chain and files, nothing is signed either. */
  g_assert_false (kiln_task_announcement_sign (empty, requestor, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
}

static void
test_announcement_envelope (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  GBytes *bytes = kiln_task_announcement_get_bytes (announcement);
  g_autoptr(GBytes) body = kiln_test_market_body (bytes);
  g_autoptr(GBytes) resigned = NULL;
  g_autoptr(GBytes) version_2 = NULL;
  g_autoptr(GBytes) version_2_signed = NULL;
  g_autoptr(GBytes) other_context = NULL;
  g_autoptr(GBytes) huge = NULL;
  g_autoptr(GBytes) trailing = NULL;
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(KilnTaskAnnouncement) read = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 two = 0x02;
  guint8 *padded;

  /* The signature is the requestor's over the documented digest. */
  resigned = kiln_test_market_sign_body (body, KILN_MARKET_TASK_CONTEXT, requestor);
  g_assert_true (g_bytes_equal (resigned, bytes));

  /* Another context (another kind of message) does not verify. */
  other_context = kiln_test_market_sign_body (body, KILN_MARKET_OFFER_CONTEXT, requestor);
  assert_refused (other_context, NOW, KILN_MARKET_ERROR_BAD_SIGNATURE);

  /* A later version is named as such, even when correctly signed. */
  version_2 = kiln_test_market_replace_field (bytes, 0, &two, 1);
  {
    g_autoptr(GBytes) body_2 = kiln_test_market_body (version_2);

    version_2_signed = kiln_test_market_sign_body (body_2, KILN_MARKET_TASK_CONTEXT, requestor);
  }
  assert_refused (version_2_signed, NOW, KILN_MARKET_ERROR_VERSION);

  /* Too large, trailing bytes, empty. */
  padded = g_malloc0 (KILN_TASK_MAX_SIZE + 1);
  memcpy (padded, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  huge = g_bytes_new_take (padded, KILN_TASK_MAX_SIZE + 1);
  assert_refused (huge, NOW, KILN_MARKET_ERROR_TOO_LARGE);
  trailing = g_bytes_new_from_bytes (huge, 0, g_bytes_get_size (bytes) + 1);
  assert_refused (trailing, NOW, KILN_MARKET_ERROR_MALFORMED);
  assert_refused (empty, NOW, KILN_MARKET_ERROR_MALFORMED);

  /* Every truncation is refused. */
  for (gsize len = 0; len < g_bytes_get_size (bytes); len++)
    {
      g_autoptr(GBytes) cut = g_bytes_new_from_bytes (bytes, 0, len);

      assert_refused (cut, NOW, -1);
    }

  read = kiln_task_announcement_verify (bytes, NOW, &error);
  g_assert_no_error (error);
}

static void
test_announcement_max_cost (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(GError) error = NULL;
  KilnUint256 cost, expected;
  KilnUint256 total = kiln_test_u256 (5 * GNT);

  /* 2 GNT per CPU-hour × 4 cores × 600 s = 4/3 GNT per subtask, rounded up to the base unit;
   * ten subtasks, below the 100 GNT maximum. */
  g_assert_true (kiln_task_announcement_get_max_subtask_payment (announcement, &cost, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_uint256_parse (&expected, "1333333333333333334", NULL));
  g_assert_true (kiln_uint256_equal (&cost, &expected));

  g_assert_true (kiln_task_announcement_get_max_cost (announcement, &cost, &error));
  g_assert_true (kiln_uint256_parse (&expected, "13333333333333333340", NULL));
  g_assert_true (kiln_uint256_equal (&cost, &expected));

  /* The maximum total caps it. */
  kiln_task_announcement_set_max_total (announcement, &total);
  g_assert_true (kiln_task_announcement_get_max_cost (announcement, &cost, &error));
  g_assert_true (kiln_uint256_equal (&cost, &total));
}

/* Offers */

static void
test_offer_round_trip (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnKey) provider = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  KilnUint256 price = kiln_test_u256 (GNT / 2);
  g_autoptr(KilnOffer) offer = kiln_test_market_offer (announcement, provider, &price, 8, 1234,
                                                       2);
  g_autoptr(KilnOffer) read = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 read_price;

  g_assert_cmpuint (kiln_test_market_n_fields (kiln_offer_get_bytes (offer)), ==, 10);

  read = kiln_offer_verify (kiln_offer_get_bytes (offer), NOW + 1, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (kiln_offer_get_task_id (read), KILN_MARKET_ID_SIZE,
                   kiln_task_announcement_get_task_id (announcement), KILN_MARKET_ID_SIZE);
  g_assert_cmpmem (kiln_offer_get_announcement (read), KILN_MARKET_DIGEST_SIZE,
                   kiln_task_announcement_get_digest (announcement), KILN_MARKET_DIGEST_SIZE);
  g_assert_true (kiln_address_equal (kiln_offer_get_provider (read),
                                     kiln_key_get_address (provider)));
  kiln_offer_get_price (read, &read_price);
  g_assert_true (kiln_uint256_equal (&read_price, &price));
  g_assert_cmpuint (kiln_offer_get_cores (read), ==, 8);
  g_assert_cmpuint (kiln_offer_get_benchmark (read), ==, 1234);
  g_assert_cmpuint (kiln_offer_get_max_concurrent (read), ==, 2);
  g_assert_cmpint (kiln_offer_get_created (read), ==, NOW);
  g_assert_cmpint (kiln_offer_get_expires (read), ==, NOW + 3600);
  g_assert_cmpmem (kiln_offer_get_digest (read), 32, kiln_offer_get_digest (offer), 32);

  assert_offer_refused (kiln_offer_get_bytes (offer), NOW + 3600, KILN_MARKET_ERROR_EXPIRED);
  assert_offer_refused (kiln_offer_get_bytes (offer), NOW - KILN_MARKET_MAX_SKEW - 1,
                        KILN_MARKET_ERROR_FUTURE);

  g_assert_finalize_object (g_steal_pointer (&read));
  g_assert_finalize_object (g_steal_pointer (&offer));
}

static void
test_offer_tampered (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnKey) provider = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  KilnUint256 price = kiln_test_u256 (GNT / 2);
  g_autoptr(KilnOffer) offer = kiln_test_market_offer (announcement, provider, &price, 8, 1234,
                                                       2);
  GBytes *bytes = kiln_offer_get_bytes (offer);

  flip_every_bit (bytes, TRUE);

  for (guint field = 1; field < kiln_test_market_n_fields (bytes); field++)
    {
      g_autoptr(GBytes) altered = kiln_test_market_alter_field (bytes, field);

      g_test_message ("field %u", field);
      assert_offer_refused (altered, NOW + 10, KILN_MARKET_ERROR_BAD_SIGNATURE);
    }
}

static void
test_offer_limits (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnKey) provider = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnTaskAnnouncement) unsigned_announcement = kiln_task_announcement_new ();
  g_autoptr(KilnOffer) offer = kiln_offer_new (announcement);
  g_autoptr(GError) error = NULL;
  KilnUint256 too_much = { { 0, 0, 1, 0 } };

  kiln_offer_set_times (offer, NOW, NOW + 60);
  kiln_offer_set_cores (offer, 0);
  g_assert_false (kiln_offer_sign (offer, provider, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  kiln_offer_set_cores (offer, 2);
  kiln_offer_set_benchmark (offer, 0);
  g_assert_false (kiln_offer_sign (offer, provider, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  kiln_offer_set_benchmark (offer, 10);
  kiln_offer_set_max_concurrent (offer, KILN_OFFER_MAX_CONCURRENT + 1);
  g_assert_false (kiln_offer_sign (offer, provider, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  kiln_offer_set_max_concurrent (offer, 1);
  kiln_offer_set_price (offer, &too_much);
  g_assert_false (kiln_offer_sign (offer, provider, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  too_much = kiln_test_u256 (0);
  kiln_offer_set_price (offer, &too_much);
  kiln_offer_set_times (offer, NOW, NOW + KILN_OFFER_MAX_LIFETIME + 1);
  g_assert_false (kiln_offer_sign (offer, provider, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);

  /* A free offer is an offer. */
  kiln_offer_set_times (offer, NOW, NOW + 60);
  g_assert_true (kiln_offer_sign (offer, provider, &error));
  g_assert_no_error (error);

  /* Offers answer signed announcements only. */
  if (g_test_undefined ())
    {
      g_autoptr(KilnOffer) none = NULL;

      g_test_expect_message ("Kiln", G_LOG_LEVEL_CRITICAL, "*is_signed*");
      none = kiln_offer_new (unsigned_announcement);
      g_test_assert_expected_messages ();
      g_assert_null (none);
    }
}

/* A provider's decision */

static KilnLendingPolicy *
lending_policy (const char *min_price,
                guint       cores,
                guint       memory_mb,
                guint       disk_mb)
{
  KilnLendingPolicy *policy = kiln_lending_policy_new ();
  g_autoptr(GError) error = NULL;

  kiln_lending_policy_set_enabled (policy, TRUE);
  g_assert_true (kiln_lending_policy_set_min_price (policy, min_price, &error));
  g_assert_no_error (error);
  kiln_lending_policy_set_cores (policy, cores);
  kiln_lending_policy_set_memory_mb (policy, memory_mb);
  kiln_lending_policy_set_disk_mb (policy, disk_mb);
  return policy;
}

static const char * const cycles_only[] = { "CYCLES", NULL };

static const KilnProviderCapabilities capabilities = {
  .blender_major = 3,
  .blender_minor = 4,
  .engines = cycles_only,
  .benchmark_score = 1.5,
  .benchmark_threads = 2,
  .max_concurrent = 0,
};

static void
test_propose (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnKey) provider = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnLendingPolicy) policy = lending_policy ("0.75", 12, 4096, 1024);
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(KilnOffer) read = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 price, expected;
  KilnProviderCapabilities limited = capabilities;

  offer = kiln_offer_propose (announcement, policy, &capabilities, provider, NOW + 5, 600,
                              &error);
  g_assert_no_error (error);
  g_assert_nonnull (offer);

  /* It asks the policy's minimum, lends the policy's cores, scales the benchmark from two
   * threads to twelve cores (1.5 M samples/s → 9000 thousand), and runs 12 / 4 subtasks at
   * once. */
  kiln_offer_get_price (offer, &price);
  expected = kiln_test_u256 (3 * GNT / 4);
  g_assert_true (kiln_uint256_equal (&price, &expected));
  g_assert_cmpuint (kiln_offer_get_cores (offer), ==, 12);
  g_assert_cmpuint (kiln_offer_get_benchmark (offer), ==, 9000);
  g_assert_cmpuint (kiln_offer_get_max_concurrent (offer), ==, 3);
  g_assert_cmpint (kiln_offer_get_created (offer), ==, NOW + 5);
  g_assert_cmpint (kiln_offer_get_expires (offer), ==, NOW + 605);

  read = kiln_offer_verify (kiln_offer_get_bytes (offer), NOW + 10, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_address_equal (kiln_offer_get_provider (read),
                                     kiln_key_get_address (provider)));
  g_clear_object (&offer);

  /* The provider's own limit on concurrency, and an offer never outlives the task's call. */
  limited.max_concurrent = 2;
  offer = kiln_offer_propose (announcement, policy, &limited, provider, NOW + 3000, 3600,
                              &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_offer_get_max_concurrent (offer), ==, 2);
  g_assert_cmpint (kiln_offer_get_expires (offer), ==, NOW + 3600);

  g_assert_cmpuint (kiln_offer_benchmark_from_score (0, 2, 4), ==, 0);
  g_assert_cmpuint (kiln_offer_benchmark_from_score (0.0001, 8, 1), ==, 1);
  g_assert_cmpuint (kiln_offer_benchmark_from_score (2.0, 4, 4), ==, 2000);
}

static void
assert_not_proposed (KilnTaskAnnouncement           *announcement,
                     KilnLendingPolicy              *policy,
                     const KilnProviderCapabilities *caps,
                     gint64                          now,
                     GQuark                          domain,
                     int                             code)
{
  g_autoptr(KilnKey) provider = kiln_test_market_key ();
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(GError) error = NULL;

  offer = kiln_offer_propose (announcement, policy, caps, provider, now, 600, &error);
  g_assert_null (offer);
  g_assert_error (error, domain, code);
  g_test_message ("refused: %s", error->message);
}

static void
test_propose_refused (void)
{
  g_autoptr(KilnKey) requestor = kiln_test_market_key ();
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_test_market_announcement (requestor);
  g_autoptr(KilnLendingPolicy) policy = lending_policy ("0.75", 12, 4096, 1024);
  g_autoptr(KilnLendingPolicy) dear = lending_policy ("2.000000000000000001", 12, 4096, 1024);
  g_autoptr(KilnLendingPolicy) few_cores = lending_policy ("0", 3, 0, 0);
  g_autoptr(KilnLendingPolicy) little_memory = lending_policy ("0", 8, 2047, 0);
  g_autoptr(KilnLendingPolicy) little_disk = lending_policy ("0", 8, 0, 511);
  g_autoptr(KilnLendingPolicy) off = lending_policy ("0", 8, 0, 0);
  g_autoptr(KilnTaskAnnouncement) poor = kiln_test_market_announcement (requestor);
  KilnProviderCapabilities other_blender = capabilities;
  KilnProviderCapabilities no_benchmark = capabilities;
  static const char * const eevee_only[] = { "BLENDER_EEVEE", NULL };
  KilnProviderCapabilities no_cycles = capabilities;
  KilnUint256 small_total = kiln_test_u256 (GNT / 2);
  KilnUint256 one;
  g_autoptr(GError) error = NULL;

  kiln_lending_policy_set_enabled (off, FALSE);
  other_blender.blender_minor = 3;
  no_benchmark.benchmark_score = 0;
  no_cycles.engines = eevee_only;

  assert_not_proposed (announcement, off, &capabilities, NOW, KILN_LENDING_POLICY_ERROR,
                       KILN_LENDING_POLICY_ERROR_DISABLED);
  assert_not_proposed (announcement, dear, &capabilities, NOW, KILN_LENDING_POLICY_ERROR,
                       KILN_LENDING_POLICY_ERROR_PRICE_TOO_LOW);
  assert_not_proposed (announcement, few_cores, &capabilities, NOW, KILN_LENDING_POLICY_ERROR,
                       KILN_LENDING_POLICY_ERROR_TOO_MANY_CORES);
  assert_not_proposed (announcement, little_memory, &capabilities, NOW,
                       KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_TOO_MUCH_MEMORY);
  assert_not_proposed (announcement, little_disk, &capabilities, NOW, KILN_MARKET_ERROR,
                       KILN_MARKET_ERROR_UNSUITABLE);
  assert_not_proposed (announcement, policy, &other_blender, NOW, KILN_MARKET_ERROR,
                       KILN_MARKET_ERROR_UNSUITABLE);
  assert_not_proposed (announcement, policy, &no_cycles, NOW, KILN_MARKET_ERROR,
                       KILN_MARKET_ERROR_UNSUITABLE);
  assert_not_proposed (announcement, policy, &no_benchmark, NOW, KILN_MARKET_ERROR,
                       KILN_MARKET_ERROR_UNSUITABLE);
  assert_not_proposed (announcement, policy, &capabilities, NOW + 3600, KILN_MARKET_ERROR,
                       KILN_MARKET_ERROR_EXPIRED);

  /* One subtask at 0.75 GNT × 4 cores × 600 s = 0.5 GNT fits a 0.5 GNT budget exactly; one
   * base unit less does not. */
  kiln_task_announcement_set_max_total (poor, &small_total);
  g_assert_true (kiln_task_announcement_sign (poor, requestor, &error));
  {
    g_autoptr(KilnKey) provider = kiln_test_market_key ();
    g_autoptr(KilnOffer) offer = kiln_offer_propose (poor, policy, &capabilities, provider, NOW,
                                                     600, &error);

    g_assert_no_error (error);
    g_assert_nonnull (offer);
  }
  one = kiln_test_u256 (1);
  g_assert_true (kiln_uint256_sub (&small_total, &small_total, &one));
  kiln_task_announcement_set_max_total (poor, &small_total);
  g_assert_true (kiln_task_announcement_sign (poor, requestor, &error));
  assert_not_proposed (poor, policy, &capabilities, NOW, KILN_MARKET_ERROR,
                       KILN_MARKET_ERROR_PRICE_TOO_HIGH);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/market/announcement/round-trip", test_announcement_round_trip);
  g_test_add_func ("/kiln/market/announcement/ids", test_announcement_ids);
  g_test_add_func ("/kiln/market/announcement/tampered", test_announcement_tampered);
  g_test_add_func ("/kiln/market/announcement/fields-signed", test_announcement_fields_signed);
  g_test_add_func ("/kiln/market/announcement/times", test_announcement_times);
  g_test_add_func ("/kiln/market/announcement/limits", test_announcement_limits);
  g_test_add_func ("/kiln/market/announcement/envelope", test_announcement_envelope);
  g_test_add_func ("/kiln/market/announcement/max-cost", test_announcement_max_cost);
  g_test_add_func ("/kiln/market/offer/round-trip", test_offer_round_trip);
  g_test_add_func ("/kiln/market/offer/tampered", test_offer_tampered);
  g_test_add_func ("/kiln/market/offer/limits", test_offer_limits);
  g_test_add_func ("/kiln/market/offer/propose", test_propose);
  g_test_add_func ("/kiln/market/offer/propose-refused", test_propose_refused);

  return g_test_run ();
}
