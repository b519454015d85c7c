/* test-payment-ledger.c: outgoing payments, nonces and attempts, across reopening and a crash
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libkiln.h"

#define CHAIN_ID   1337
#define SENDER_KEY "4646464646464646464646464646464646464646464646464646464646464646"
#define OTHER_KEY  "0101010101010101010101010101010101010101010101010101010101010101"
#define GWEI       G_GUINT64_CONSTANT (1000000000)
#define CRASH_ENV  "KILN_TEST_LEDGER_CRASH_DIR"

typedef struct
{
  char              *dir;
  char              *path;
  KilnStore         *store;
  KilnPaymentLedger *ledger;
  KilnKey           *key;
  const KilnAddress *from;
} Fixture;

/* Helpers */

static KilnAddress
address_n (guint8 n)
{
  KilnAddress address;

  memset (address.bytes, 0xaa, sizeof address.bytes);
  address.bytes[KILN_ADDRESS_SIZE - 1] = n;
  return address;
}

static KilnUint256
u256 (guint64 value)
{
  KilnUint256 out;

  kiln_uint256_from_uint64 (&out, value);
  return out;
}

static KilnKey *
key_from_hex (const char *hex)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_new_from_hex (hex, &error);

  g_assert_no_error (error);
  return key;
}

static void
open_ledger (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  fixture->store = kiln_store_new (fixture->path, NULL, &error);
  g_assert_no_error (error);
  fixture->ledger = kiln_payment_ledger_new (fixture->store);
}

static void
close_ledger (Fixture *fixture)
{
  g_assert_finalize_object (g_steal_pointer (&fixture->ledger));
  g_assert_finalize_object (g_steal_pointer (&fixture->store));
}

static void
fixture_init (Fixture    *fixture,
              const char *dir)
{
  fixture->dir = g_strdup (dir);
  fixture->path = g_build_filename (dir, KILN_STORE_FILE_NAME, NULL);
  fixture->key = key_from_hex (SENDER_KEY);
  fixture->from = kiln_key_get_address (fixture->key);
  open_ledger (fixture);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kiln-ledger-XXXXXX", &error);

  g_assert_no_error (error);
  fixture_init (fixture, dir);
}

static void
remove_database (const char *dir)
{
  static const char * const names[] = { "kiln.db", "kiln.db-wal", "kiln.db-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  if (fixture->ledger != NULL)
    close_ledger (fixture);
  g_clear_object (&fixture->key);
  remove_database (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->path);
}

static KilnPayment *
draft_new (Fixture         *fixture,
           KilnPaymentKind  kind,
           const char      *reference,
           guint8           recipient,
           guint64          amount)
{
  KilnPayment *draft = kiln_payment_new (kind, CHAIN_ID, fixture->from);
  KilnAddress to = address_n (recipient);
  KilnAddress token = address_n (0xf0);
  KilnUint256 value = u256 (amount);

  if (kind != KILN_PAYMENT_KIND_ETH)
    kiln_payment_set_token (draft, &token);
  kiln_payment_set_reference (draft, reference);
  kiln_payment_add_recipient (draft, &to, &value);
  return draft;
}

static KilnPayment *
create_ok (Fixture     *fixture,
           KilnPayment *draft_)
{
  g_autoptr(KilnPayment) draft = draft_;
  g_autoptr(GError) error = NULL;
  KilnPayment *payment = kiln_payment_ledger_create (fixture->ledger, draft, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (payment);
  g_assert_cmpint (kiln_payment_get_id (payment), >, 0);
  return payment;
}

static guint64
reserve_ok (Fixture *fixture,
            gint64   id,
            guint64  chain_nonce)
{
  g_autoptr(GError) error = NULL;
  guint64 nonce = G_MAXUINT64;

  g_assert_true (kiln_payment_ledger_reserve_nonce (fixture->ledger, id, chain_nonce, &nonce,
                                                    NULL, &error));
  g_assert_no_error (error);
  return nonce;
}

/* A type 2 transaction from @key paying what @payment records (or @amount instead, to
 * tamper with it) with @nonce and a tip of @tip_gwei. Signatures are RFC 6979: the same
 * inputs give the same bytes. */
static GBytes *
sign_for (KilnKey           *key,
          KilnPayment       *payment,
          guint64            chain_id,
          guint64            nonce,
          guint64            tip_gwei,
          const KilnUint256 *amount)
{
  g_autoptr(KilnTransaction) tx = kiln_transaction_new (KILN_TRANSACTION_TYPE_EIP1559, chain_id);
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GError) error = NULL;
  const KilnPaymentRecipient *first = kiln_payment_get_recipient (payment, 0);
  KilnUint256 tip = u256 (tip_gwei * GWEI);
  KilnUint256 max_fee = u256 ((2 * tip_gwei + 10) * GWEI);
  KilnAddress batch_contract = address_n (0xb0);
  guint8 reference[32] = { 7, };

  kiln_transaction_set_nonce (tx, nonce);
  kiln_transaction_set_max_priority_fee_per_gas (tx, &tip);
  kiln_transaction_set_max_fee_per_gas (tx, &max_fee);

  switch (kiln_payment_get_kind (payment))
    {
    case KILN_PAYMENT_KIND_ETH:
      kiln_transaction_set_gas_limit (tx, 21000);
      kiln_transaction_set_to (tx, &first->address);
      kiln_transaction_set_value (tx, amount != NULL ? amount : &first->amount);
      break;

    case KILN_PAYMENT_KIND_ERC20:
      kiln_transaction_set_gas_limit (tx, 60000);
      kiln_transaction_set_to (tx, kiln_payment_get_token (payment));
      data = kiln_abi_encode_transfer (&first->address,
                                       amount != NULL ? amount : &first->amount);
      break;

    case KILN_PAYMENT_KIND_BATCH:
    default:
      {
        guint n = kiln_payment_get_n_recipients (payment);
        g_autofree KilnAddress *to = g_new (KilnAddress, n);
        g_autofree KilnUint256 *amounts = g_new (KilnUint256, n);

        for (guint i = 0; i < n; i++)
          {
            to[i] = kiln_payment_get_recipient (payment, i)->address;
            amounts[i] = kiln_payment_get_recipient (payment, i)->amount;
          }
        if (amount != NULL)
          amounts[0] = *amount;
        kiln_transaction_set_gas_limit (tx, 50000 + 40000 * n);
        kiln_transaction_set_to (tx, &batch_contract);
        data = kiln_abi_encode_pay_batch (kiln_payment_get_token (payment), to, amounts, n,
                                          reference);
      }
      break;
    }

  if (data != NULL)
    kiln_transaction_set_data (tx, data);
  g_assert_true (kiln_transaction_sign (tx, key, &error));
  g_assert_no_error (error);
  return kiln_transaction_encode_signed (tx);
}

static void
hash_of (GBytes *raw,
         guint8  hash[32])
{
  kiln_keccak256 (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw), hash);
}

static KilnPayment *
record_ok (Fixture *fixture,
           gint64   id,
           GBytes  *raw)
{
  g_autoptr(GError) error = NULL;
  KilnPayment *payment = kiln_payment_ledger_record_attempt (fixture->ledger, id, raw, NULL,
                                                             &error);

  g_assert_no_error (error);
  g_assert_nonnull (payment);
  return payment;
}

/* Signs, records and broadcasts payment @payment with @nonce; returns the attempt's hash. */
static void
send_ok (Fixture     *fixture,
         KilnPayment *payment,
         guint64      nonce,
         guint64      tip_gwei,
         guint8       hash[32])
{
  g_autoptr(GBytes) raw = sign_for (fixture->key, payment, CHAIN_ID, nonce, tip_gwei, NULL);
  g_autoptr(KilnPayment) recorded = record_ok (fixture, kiln_payment_get_id (payment), raw);
  g_autoptr(KilnPayment) sent = NULL;
  g_autoptr(GError) error = NULL;

  hash_of (raw, hash);
  sent = kiln_payment_ledger_mark_broadcast (fixture->ledger, kiln_payment_get_id (payment),
                                             hash, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (sent), ==, KILN_PAYMENT_STATE_BROADCAST);
}

static void
assert_refused (KilnPayment *payment,
                GError      *error,
                gint         code)
{
  g_assert_null (payment);
  g_assert_error (error, KILN_STORE_ERROR, code);
  g_test_message ("refused: %s", error->message);
}

/* The whole life of a token payment */

static void
test_lifecycle (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) signed_ = NULL;
  g_autoptr(KilnPayment) sent = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(KilnPayment) again = NULL;
  g_autoptr(GPtrArray) unfinished = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GError) error = NULL;
  const KilnPaymentAttempt *attempt;
  KilnUint256 total, expected_fee;
  guint8 hash[32];
  guint64 block, gas_used, nonce;
  gint64 id;

  payment = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ERC20, "job-1", 1, 5000));
  id = kiln_payment_get_id (payment);
  g_assert_cmpint (kiln_payment_get_state (payment), ==, KILN_PAYMENT_STATE_PENDING);
  g_assert_cmpuint (kiln_payment_get_chain_id (payment), ==, CHAIN_ID);
  g_assert_true (kiln_address_equal (kiln_payment_get_from (payment), fixture->from));
  g_assert_cmpstr (kiln_payment_get_reference (payment), ==, "job-1");
  g_assert_true (g_str_has_prefix (kiln_payment_get_idempotency_key (payment), "ref:"));
  g_assert_cmpint (kiln_payment_get_created_at (payment), >, 0);
  g_assert_false (kiln_payment_get_nonce (payment, NULL));
  g_assert_cmpuint (kiln_payment_get_n_attempts (payment), ==, 0);
  kiln_payment_get_total (payment, &total);
  g_assert_true (kiln_uint256_equal (&total, &(KilnUint256) KILN_UINT256_INIT (5000)));

  g_assert_cmpuint (reserve_ok (fixture, id, 0), ==, 0);

  /* Written before broadcast: signed, with the exact bytes, hash and fees. */
  raw = sign_for (fixture->key, payment, CHAIN_ID, 0, 2, NULL);
  hash_of (raw, hash);
  signed_ = record_ok (fixture, id, raw);
  g_assert_cmpint (kiln_payment_get_state (signed_), ==, KILN_PAYMENT_STATE_SIGNED);
  g_assert_true (kiln_payment_get_nonce (signed_, &nonce));
  g_assert_cmpuint (nonce, ==, 0);
  g_assert_cmpuint (kiln_payment_get_n_attempts (signed_), ==, 1);
  attempt = kiln_payment_get_latest_attempt (signed_);
  g_assert_true (g_bytes_equal (attempt->raw, raw));
  g_assert_cmpmem (attempt->tx_hash, 32, hash, 32);
  g_assert_cmpint (attempt->state, ==, KILN_PAYMENT_ATTEMPT_SIGNED);
  g_assert_cmpuint (attempt->gas_limit, ==, 60000);
  expected_fee = u256 (14 * GWEI);
  g_assert_true (kiln_uint256_equal (&attempt->max_fee_per_gas, &expected_fee));
  expected_fee = u256 (2 * GWEI);
  g_assert_true (kiln_uint256_equal (&attempt->max_priority_fee_per_gas, &expected_fee));
  g_assert_cmpint (attempt->broadcast_at, ==, 0);

  sent = kiln_payment_ledger_mark_broadcast (fixture->ledger, id, hash, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (sent), ==, KILN_PAYMENT_STATE_BROADCAST);
  g_assert_cmpint (kiln_payment_get_attempt (sent, 0)->state, ==, KILN_PAYMENT_ATTEMPT_BROADCAST);
  g_assert_cmpint (kiln_payment_get_attempt (sent, 0)->broadcast_at, >, 0);

  unfinished = kiln_payment_ledger_list_unfinished (fixture->ledger, CHAIN_ID, fixture->from,
                                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 1);
  g_assert_cmpint (kiln_payment_get_id (g_ptr_array_index (unfinished, 0)), ==, id);
  g_clear_pointer (&unfinished, g_ptr_array_unref);

  done = kiln_payment_ledger_mark_confirmed (fixture->ledger, id, hash, 17, 51234, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (done), ==, KILN_PAYMENT_STATE_CONFIRMED);
  g_assert_true (kiln_payment_get_confirmation (done, &block, &gas_used));
  g_assert_cmpuint (block, ==, 17);
  g_assert_cmpuint (gas_used, ==, 51234);
  g_assert_cmpint (kiln_payment_get_attempt (done, 0)->state, ==, KILN_PAYMENT_ATTEMPT_CONFIRMED);

  unfinished = kiln_payment_ledger_list_unfinished (fixture->ledger, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 0);

  /* The full record reads back the same after reopening. */
  close_ledger (fixture);
  open_ledger (fixture);
  again = kiln_payment_ledger_get (fixture->ledger, id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (again), ==, KILN_PAYMENT_STATE_CONFIRMED);
  g_assert_cmpint (kiln_payment_get_updated_at (again), ==, kiln_payment_get_updated_at (done));
  g_assert_true (g_bytes_equal (kiln_payment_get_attempt (again, 0)->raw, raw));
  g_assert_true (kiln_address_equal (kiln_payment_get_token (again),
                                     kiln_payment_get_token (payment)));
}

/* Nonces */

static void
test_nonces_sequence (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(KilnPayment) failed = NULL;
  g_autoptr(KilnPayment) other_chain = NULL;
  g_autoptr(GError) error = NULL;
  KilnPayment *p[7];
  KilnAddress to = address_n (9);
  KilnUint256 one = u256 (1);
  guint64 nonce;

  for (guint i = 0; i < G_N_ELEMENTS (p); i++)
    {
      g_autofree char *reference = g_strdup_printf ("job-%u", i);

      p[i] = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ETH, reference, i, 1));
    }

  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (p[i]), 0), ==, i);

  /* Asking again keeps the payment's nonce. */
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (p[0]), 0), ==, 0);

  /* Across reopening: no gap, no reuse. */
  close_ledger (fixture);
  open_ledger (fixture);
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (p[3]), 2), ==, 3);

  /* The chain is ahead (transactions from elsewhere): jump to it, then go on from there. */
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (p[4]), 10), ==, 10);
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (p[5]), 4), ==, 11);

  /* A pending payment whose nonce the chain has used gets a new one. */
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (p[5]), 12), ==, 12);
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (p[6]), 0), ==, 13);

  /* Another chain has its own sequence. */
  other_chain = kiln_payment_new (KILN_PAYMENT_KIND_ETH, 5, fixture->from);
  kiln_payment_add_recipient (other_chain, &to, &one);
  other_chain = create_ok (fixture, other_chain);
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (other_chain), 0), ==, 0);

  /* Finished payments get none. */
  failed = kiln_payment_ledger_mark_failed (fixture->ledger, kiln_payment_get_id (p[1]), NULL,
                                            "not needed", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kiln_payment_ledger_reserve_nonce (fixture->ledger, kiln_payment_get_id (p[1]),
                                                     0, &nonce, NULL, &error));
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_INVALID);

  for (guint i = 0; i < G_N_ELEMENTS (p); i++)
    kiln_payment_unref (p[i]);
}

static void
test_nonces_reset (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(KilnPayment) a = NULL;
  g_autoptr(KilnPayment) b = NULL;
  g_autoptr(KilnPayment) c = NULL;
  g_autoptr(KilnPayment) b_failed = NULL;
  g_autoptr(KilnPayment) a_done = NULL;
  g_autoptr(KilnPayment) b_now = NULL;
  g_autoptr(GError) error = NULL;
  guint8 hash[32];

  a = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ETH, "a", 1, 1));
  b = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ETH, "b", 2, 2));
  c = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ETH, "c", 3, 3));
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (a), 0), ==, 0);
  send_ok (fixture, a, 0, 1, hash);
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (b), 0), ==, 1);

  /* A's transaction may still be mined: going back to 0 would reuse its nonce. */
  g_assert_false (kiln_payment_ledger_reset_nonce (fixture->ledger, CHAIN_ID, fixture->from, 0,
                                                   NULL, &error));
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_INVALID);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);

  /* Back to 1 is fine: B is pending (signed nothing) and gives its nonce up. */
  g_assert_true (kiln_payment_ledger_reset_nonce (fixture->ledger, CHAIN_ID, fixture->from, 1,
                                                  NULL, &error));
  g_assert_no_error (error);
  b_now = kiln_payment_ledger_get (fixture->ledger, kiln_payment_get_id (b), NULL, &error);
  g_assert_false (kiln_payment_get_nonce (b_now, NULL));
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (c), 1), ==, 1);
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (b), 1), ==, 2);

  /* Failing B, which signed nothing and holds the latest nonce, gives the nonce back. */
  b_failed = kiln_payment_ledger_mark_failed (fixture->ledger, kiln_payment_get_id (b), NULL,
                                              "cancelled", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (b_failed), ==, KILN_PAYMENT_STATE_FAILED);
  g_assert_cmpstr (kiln_payment_get_error (b_failed), ==, "cancelled");
  g_assert_false (kiln_payment_get_nonce (b_failed, NULL));
  {
    g_autoptr(KilnPayment) d = create_ok (fixture,
                                          draft_new (fixture, KILN_PAYMENT_KIND_ETH, "d", 4, 4));

    g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (d), 1), ==, 2);
  }

  /* Once A is confirmed nothing holds nonce 0 any more. */
  a_done = kiln_payment_ledger_mark_confirmed (fixture->ledger, kiln_payment_get_id (a), hash,
                                               5, 21000, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_payment_ledger_reset_nonce (fixture->ledger, CHAIN_ID, fixture->from, 0,
                                                  NULL, &error));
  g_assert_no_error (error);
}

/* Attempts: fee bumps and checks */

static void
test_attempts_replace (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) bumped = NULL;
  g_autoptr(KilnPayment) replaced = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(KilnPayment) refused = NULL;
  g_autoptr(KilnPayment) other = NULL;
  g_autoptr(KilnPayment) other_done = NULL;
  g_autoptr(GBytes) raw2 = NULL;
  g_autoptr(GError) error = NULL;
  const KilnPaymentAttempt *attempt;
  KilnUint256 tip;
  guint8 hash1[32], hash2[32], other1[32], other2[32];
  gint64 id;

  payment = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ERC20, "bump", 1, 99));
  id = kiln_payment_get_id (payment);
  reserve_ok (fixture, id, 0);
  send_ok (fixture, payment, 0, 1, hash1);

  /* A fee bump: same nonce, new bytes and hash. The payment stays broadcast. */
  raw2 = sign_for (fixture->key, payment, CHAIN_ID, 0, 3, NULL);
  hash_of (raw2, hash2);
  bumped = record_ok (fixture, id, raw2);
  g_assert_cmpint (kiln_payment_get_state (bumped), ==, KILN_PAYMENT_STATE_BROADCAST);
  g_assert_cmpuint (kiln_payment_get_n_attempts (bumped), ==, 2);
  g_assert_cmpuint (kiln_payment_get_attempt (bumped, 0)->nonce, ==, 0);
  g_assert_cmpuint (kiln_payment_get_attempt (bumped, 1)->nonce, ==, 0);
  g_assert_cmpint (kiln_payment_get_attempt (bumped, 1)->state, ==, KILN_PAYMENT_ATTEMPT_SIGNED);
  tip = u256 (3 * GWEI);
  attempt = kiln_payment_get_attempt (bumped, 1);
  g_assert_true (kiln_uint256_equal (&attempt->max_priority_fee_per_gas, &tip));

  replaced = kiln_payment_ledger_mark_replaced (fixture->ledger, id, hash1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_attempt (replaced, 0)->state, ==,
                   KILN_PAYMENT_ATTEMPT_REPLACED);
  g_assert_cmpint (kiln_payment_get_attempt (replaced, 1)->state, ==, KILN_PAYMENT_ATTEMPT_SIGNED);

  g_clear_pointer (&replaced, kiln_payment_unref);
  replaced = kiln_payment_ledger_mark_broadcast (fixture->ledger, id, hash2, NULL, &error);
  g_assert_no_error (error);
  done = kiln_payment_ledger_mark_confirmed (fixture->ledger, id, hash2, 30, 40000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_attempt (done, 0)->state, ==, KILN_PAYMENT_ATTEMPT_REPLACED);
  g_assert_cmpint (kiln_payment_get_attempt (done, 1)->state, ==, KILN_PAYMENT_ATTEMPT_CONFIRMED);

  refused = kiln_payment_ledger_mark_replaced (fixture->ledger, id, hash2, NULL, &error);
  assert_refused (refused, error, KILN_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* The old attempt can win after all: the newer one is then the replaced one. */
  other = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ETH, "bump-2", 2, 5));
  reserve_ok (fixture, kiln_payment_get_id (other), 0);
  send_ok (fixture, other, 1, 1, other1);
  send_ok (fixture, other, 1, 4, other2);
  other_done = kiln_payment_ledger_mark_confirmed (fixture->ledger, kiln_payment_get_id (other),
                                                   other1, 31, 21000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_attempt (other_done, 0)->state, ==,
                   KILN_PAYMENT_ATTEMPT_CONFIRMED);
  g_assert_cmpint (kiln_payment_get_attempt (other_done, 1)->state, ==,
                   KILN_PAYMENT_ATTEMPT_REPLACED);
}

static void
test_attempts_checked (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(KilnKey) other_key = key_from_hex (OTHER_KEY);
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) batch = NULL;
  g_autoptr(KilnPayment) result = NULL;
  g_autoptr(KilnPayment) now = NULL;
  g_autoptr(GBytes) good = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 more = u256 (101);
  GBytes *bad[5];
  guint8 hash[32] = { 0, };
  gint64 id;

  payment = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ERC20, "chk", 1, 100));
  id = kiln_payment_get_id (payment);
  good = sign_for (fixture->key, payment, CHAIN_ID, 0, 1, NULL);

  /* No nonce reserved yet. */
  result = kiln_payment_ledger_record_attempt (fixture->ledger, id, good, NULL, &error);
  assert_refused (result, error, KILN_STORE_ERROR_INVALID);
  g_clear_error (&error);

  reserve_ok (fixture, id, 0);
  bad[0] = sign_for (fixture->key, payment, CHAIN_ID, 5, 1, NULL);     /* nonce */
  bad[1] = sign_for (fixture->key, payment, CHAIN_ID, 0, 1, &more);    /* amount */
  bad[2] = sign_for (other_key, payment, CHAIN_ID, 0, 1, NULL);        /* sender */
  bad[3] = sign_for (fixture->key, payment, 1, 0, 1, NULL);            /* chain */
  bad[4] = g_bytes_new_static ("\x02\xc0not a transaction", 19);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      result = kiln_payment_ledger_record_attempt (fixture->ledger, id, bad[i], NULL, &error);
      assert_refused (result, error, KILN_STORE_ERROR_INVALID);
      g_clear_error (&error);
      g_bytes_unref (bad[i]);
    }

  now = kiln_payment_ledger_get (fixture->ledger, id, NULL, &error);
  g_assert_cmpint (kiln_payment_get_state (now), ==, KILN_PAYMENT_STATE_PENDING);
  g_assert_cmpuint (kiln_payment_get_n_attempts (now), ==, 0);

  /* The right bytes, twice: one attempt. */
  g_clear_pointer (&now, kiln_payment_unref);
  g_clear_pointer (&result, kiln_payment_unref);
  result = record_ok (fixture, id, good);
  now = record_ok (fixture, id, good);
  g_assert_cmpuint (kiln_payment_get_n_attempts (now), ==, 1);

  /* Unknown payments and transactions. */
  g_clear_pointer (&result, kiln_payment_unref);
  result = kiln_payment_ledger_mark_broadcast (fixture->ledger, id, hash, NULL, &error);
  assert_refused (result, error, KILN_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  result = kiln_payment_ledger_get (fixture->ledger, 999, NULL, &error);
  assert_refused (result, error, KILN_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A batch: payBatch on the recorded payees and amounts, and nothing else. */
  {
    g_autoptr(KilnPayment) draft = draft_new (fixture, KILN_PAYMENT_KIND_BATCH, "batch", 1, 10);
    KilnAddress payee = address_n (2);
    KilnUint256 amount = u256 (20);
    g_autoptr(GBytes) batch_good = NULL;
    g_autoptr(GBytes) batch_bad = NULL;

    kiln_payment_add_recipient (draft, &payee, &amount);
    batch = create_ok (fixture, g_steal_pointer (&draft));
    g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (batch), 0), ==, 1);
    batch_bad = sign_for (fixture->key, batch, CHAIN_ID, 1, 1, &more);
    result = kiln_payment_ledger_record_attempt (fixture->ledger, kiln_payment_get_id (batch),
                                                 batch_bad, NULL, &error);
    assert_refused (result, error, KILN_STORE_ERROR_INVALID);
    g_clear_error (&error);
    batch_good = sign_for (fixture->key, batch, CHAIN_ID, 1, 1, NULL);
    result = record_ok (fixture, kiln_payment_get_id (batch), batch_good);
    g_assert_cmpint (kiln_payment_get_state (result), ==, KILN_PAYMENT_STATE_SIGNED);
  }
}

static void
test_failed (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) failed = NULL;
  g_autoptr(KilnPayment) again = NULL;
  g_autoptr(KilnPayment) refused = NULL;
  g_autoptr(GPtrArray) unfinished = NULL;
  g_autoptr(GError) error = NULL;
  guint8 hash1[32], hash2[32];
  gint64 id;

  payment = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ERC20, "rev", 1, 7));
  id = kiln_payment_get_id (payment);
  reserve_ok (fixture, id, 0);
  send_ok (fixture, payment, 0, 1, hash1);
  send_ok (fixture, payment, 0, 2, hash2);

  /* The first attempt was mined and reverted. */
  failed = kiln_payment_ledger_mark_failed (fixture->ledger, id, hash1, "reverted: no balance",
                                            NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (failed), ==, KILN_PAYMENT_STATE_FAILED);
  g_assert_cmpstr (kiln_payment_get_error (failed), ==, "reverted: no balance");
  g_assert_cmpint (kiln_payment_get_attempt (failed, 0)->state, ==, KILN_PAYMENT_ATTEMPT_FAILED);
  g_assert_cmpint (kiln_payment_get_attempt (failed, 1)->state, ==, KILN_PAYMENT_ATTEMPT_REPLACED);
  g_assert_true (kiln_payment_get_nonce (failed, NULL));

  again = kiln_payment_ledger_mark_failed (fixture->ledger, id, NULL, "again", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kiln_payment_get_error (again), ==, "reverted: no balance");

  refused = kiln_payment_ledger_mark_confirmed (fixture->ledger, id, hash2, 3, 1, NULL, &error);
  assert_refused (refused, error, KILN_STORE_ERROR_INVALID);
  g_clear_error (&error);

  unfinished = kiln_payment_ledger_list_unfinished (fixture->ledger, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 0);
}

/* Creating */

static void
test_create_invalid (Fixture       *fixture,
                     gconstpointer  user_data)
{
  KilnAddress token = address_n (0xf0);
  KilnAddress to = address_n (1);
  KilnUint256 max, one = u256 (1);
  KilnPayment *drafts[5];

  kiln_uint256_set_max (&max);
  drafts[0] = draft_new (fixture, KILN_PAYMENT_KIND_ETH, NULL, 1, 1);
  kiln_payment_set_token (drafts[0], &token);                           /* ETH with a token */
  drafts[1] = draft_new (fixture, KILN_PAYMENT_KIND_ERC20, NULL, 1, 1);
  kiln_payment_set_token (drafts[1], NULL);                             /* ERC-20 without */
  drafts[2] = draft_new (fixture, KILN_PAYMENT_KIND_ERC20, NULL, 1, 1);
  kiln_payment_add_recipient (drafts[2], &to, &one);                    /* two recipients */
  drafts[3] = kiln_payment_new (KILN_PAYMENT_KIND_ETH, 0, fixture->from);
  kiln_payment_add_recipient (drafts[3], &to, &one);                    /* no chain */
  drafts[4] = draft_new (fixture, KILN_PAYMENT_KIND_BATCH, NULL, 1, 1);
  kiln_payment_add_recipient (drafts[4], &to, &max);                    /* sum overflows */

  for (guint i = 0; i < G_N_ELEMENTS (drafts); i++)
    {
      g_autoptr(GError) error = NULL;
      KilnPayment *payment = kiln_payment_ledger_create (fixture->ledger, drafts[i], NULL, &error);

      assert_refused (payment, error, KILN_STORE_ERROR_INVALID);
      kiln_payment_unref (drafts[i]);
    }
}

static void
test_idempotency (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(KilnPayment) a = NULL;
  g_autoptr(KilnPayment) a2 = NULL;
  g_autoptr(KilnPayment) b = NULL;
  g_autoptr(KilnPayment) b2 = NULL;
  g_autoptr(KilnPayment) c = NULL;
  g_autoptr(KilnPayment) d1 = NULL;
  g_autoptr(KilnPayment) d2 = NULL;
  g_autoptr(KilnPaymentHistory) history = NULL;
  g_autoptr(GError) error = NULL;
  KilnPayment *draft, *conflict;
  KilnAddress r2 = address_n (2);
  KilnUint256 six = u256 (6), seven = u256 (7);

  /* An explicit key. */
  draft = draft_new (fixture, KILN_PAYMENT_KIND_ERC20, NULL, 1, 50);
  kiln_payment_set_idempotency_key (draft, "job-7/payout");
  a = create_ok (fixture, kiln_payment_ref (draft));
  a2 = create_ok (fixture, draft);
  g_assert_cmpint (kiln_payment_get_id (a2), ==, kiln_payment_get_id (a));
  g_assert_cmpstr (kiln_payment_get_idempotency_key (a2), ==, "job-7/payout");

  /* A key made from the reference and the set of recipients, whatever their order. */
  draft = draft_new (fixture, KILN_PAYMENT_KIND_BATCH, "job-9", 1, 5);
  kiln_payment_add_recipient (draft, &r2, &six);
  b = create_ok (fixture, draft);
  draft = kiln_payment_new (KILN_PAYMENT_KIND_BATCH, CHAIN_ID, fixture->from);
  kiln_payment_set_token (draft, kiln_payment_get_token (b));
  kiln_payment_set_reference (draft, "job-9");
  kiln_payment_add_recipient (draft, &r2, &six);
  kiln_payment_add_recipient (draft, &kiln_payment_get_recipient (b, 0)->address,
                              &kiln_payment_get_recipient (b, 0)->amount);
  b2 = create_ok (fixture, draft);
  g_assert_cmpint (kiln_payment_get_id (b2), ==, kiln_payment_get_id (b));

  /* The same work with other amounts is a conflict, not a second payment. */
  draft = draft_new (fixture, KILN_PAYMENT_KIND_BATCH, "job-9", 1, 5);
  kiln_payment_add_recipient (draft, &r2, &seven);
  conflict = kiln_payment_ledger_create (fixture->ledger, draft, NULL, &error);
  assert_refused (conflict, error, KILN_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  kiln_payment_unref (draft);

  /* Other work is another payment; no reference and no key means no deduplication. */
  c = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ERC20, "job-10", 1, 5));
  g_assert_cmpint (kiln_payment_get_id (c), !=, kiln_payment_get_id (b));
  d1 = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ETH, NULL, 1, 5));
  d2 = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ETH, NULL, 1, 5));
  g_assert_cmpint (kiln_payment_get_id (d1), !=, kiln_payment_get_id (d2));
  g_assert_null (kiln_payment_get_idempotency_key (d1));

  history = kiln_payment_ledger_list_history (fixture->ledger, 0, NULL, 0, 100, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history->n_matching, ==, 5);
}

/* Amounts are exact at both ends of the range */

static void
test_amounts (Fixture       *fixture,
              gconstpointer  user_data)
{
  static const char * const stored_hex[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000001",
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
  };
  g_autoptr(KilnPaymentHistory) history = NULL;
  g_autoptr(GError) error = NULL;
  const KilnPaymentTotal *sums;
  KilnUint256 amounts[3];
  sqlite3 *db;

  amounts[0] = u256 (0);
  amounts[1] = u256 (1);
  kiln_uint256_set_max (&amounts[2]);

  for (guint i = 0; i < G_N_ELEMENTS (amounts); i++)
    {
      g_autoptr(KilnPayment) draft = kiln_payment_new (KILN_PAYMENT_KIND_ETH, CHAIN_ID,
                                                       fixture->from);
      g_autoptr(KilnPayment) created = NULL;
      g_autoptr(KilnPayment) read = NULL;
      g_autoptr(KilnPayment) signed_ = NULL;
      g_autoptr(GBytes) raw = NULL;
      g_autofree char *sql = NULL;
      g_autofree char *hex = NULL;
      KilnAddress to = address_n (i);
      KilnUint256 total;
      sqlite3_stmt *stmt;

      kiln_payment_add_recipient (draft, &to, &amounts[i]);
      created = create_ok (fixture, g_steal_pointer (&draft));
      read = kiln_payment_ledger_get (fixture->ledger, kiln_payment_get_id (created), NULL,
                                      &error);
      g_assert_no_error (error);
      g_assert_true (kiln_uint256_equal (&kiln_payment_get_recipient (read, 0)->amount,
                                         &amounts[i]));
      kiln_payment_get_total (read, &total);
      g_assert_true (kiln_uint256_equal (&total, &amounts[i]));

      /* A transaction paying exactly that much is accepted. */
      reserve_ok (fixture, kiln_payment_get_id (read), 0);
      raw = sign_for (fixture->key, read, CHAIN_ID, i, 1, NULL);
      signed_ = record_ok (fixture, kiln_payment_get_id (read), raw);

      /* Stored as 32 big-endian bytes. */
      db = NULL;
      g_assert_cmpint (sqlite3_open_v2 (fixture->path, &db, SQLITE_OPEN_READONLY, NULL), ==,
                       SQLITE_OK);
      sql = g_strdup_printf ("SELECT hex (amount) FROM payment_recipients WHERE payment_id = %"
                             G_GINT64_FORMAT, kiln_payment_get_id (read));
      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      hex = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_finalize (stmt);
      sqlite3_close (db);
      g_assert_cmpstr (hex, ==, stored_hex[i]);
    }

  /* 0 + 1 + (2^256 - 1) does not fit: the total says so instead of wrapping. */
  history = kiln_payment_ledger_list_history (fixture->ledger, CHAIN_ID, NULL, 0, 10, NULL,
                                              &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history->totals->len, ==, 1);
  sums = &g_array_index (history->totals, KilnPaymentTotal, 0);
  g_assert_true (sums->overflow);
  g_assert_true (kiln_uint256_equal (&sums->in_flight, &amounts[2]));
}

/* History: newest first, in pages, with totals over every page */

static void
test_history (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(KilnPayment) first = NULL;
  g_autoptr(KilnPayment) token_first = NULL;
  g_autoptr(KilnPayment) failed = NULL;
  g_autoptr(KilnPayment) confirmed = NULL;
  g_autoptr(GError) error = NULL;
  KilnAddress stranger = address_n (0x55);
  const KilnPaymentTotal *native, *token;
  guint8 hash[32];
  KilnUint256 expected;

  for (guint i = 1; i <= 12; i++)
    {
      KilnPayment *payment = create_ok (fixture,
                                        draft_new (fixture, KILN_PAYMENT_KIND_ETH, NULL, i, i));
      if (i == 1)
        first = payment;
      else
        kiln_payment_unref (payment);
    }
  for (guint i = 1; i <= 8; i++)
    {
      KilnPayment *payment = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ERC20,
                                                            NULL, i, 100 * i));
      if (i == 1)
        token_first = payment;
      else
        kiln_payment_unref (payment);
    }
  for (guint i = 1; i <= 5; i++)
    {
      g_autoptr(KilnPayment) draft = kiln_payment_new (KILN_PAYMENT_KIND_ETH, CHAIN_ID,
                                                       &stranger);
      KilnAddress to = address_n (i);
      KilnUint256 amount = u256 (1000);

      kiln_payment_add_recipient (draft, &to, &amount);
      kiln_payment_unref (create_ok (fixture, g_steal_pointer (&draft)));
    }

  failed = kiln_payment_ledger_mark_failed (fixture->ledger, kiln_payment_get_id (first), NULL,
                                            "cancelled", NULL, &error);
  g_assert_no_error (error);
  reserve_ok (fixture, kiln_payment_get_id (token_first), 0);
  send_ok (fixture, token_first, 0, 1, hash);
  confirmed = kiln_payment_ledger_mark_confirmed (fixture->ledger,
                                                  kiln_payment_get_id (token_first), hash,
                                                  9, 50000, NULL, &error);
  g_assert_no_error (error);

  /* Pages of 7 of the sender's 20 payments: IDs 20..14, 13..7, 6..1, then nothing. */
  for (guint page = 0; page < 4; page++)
    {
      g_autoptr(KilnPaymentHistory) history = NULL;
      guint expected_len = page < 2 ? 7 : page == 2 ? 6 : 0;

      history = kiln_payment_ledger_list_history (fixture->ledger, CHAIN_ID, fixture->from,
                                                  page * 7, 7, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (history->n_matching, ==, 20);
      g_assert_cmpuint (history->payments->len, ==, expected_len);
      for (guint i = 0; i < history->payments->len; i++)
        g_assert_cmpint (kiln_payment_get_id (g_ptr_array_index (history->payments, i)), ==,
                         20 - page * 7 - i);

      /* Totals: the native currency first, then the token. */
      g_assert_cmpuint (history->totals->len, ==, 2);
      native = &g_array_index (history->totals, KilnPaymentTotal, 0);
      token = &g_array_index (history->totals, KilnPaymentTotal, 1);
      g_assert_false (native->has_token);
      g_assert_true (token->has_token);
      g_assert_true (kiln_address_equal (&token->token, kiln_payment_get_token (token_first)));
      g_assert_cmpuint (native->n_in_flight, ==, 11);
      g_assert_cmpuint (native->n_failed, ==, 1);
      g_assert_cmpuint (native->n_confirmed, ==, 0);
      expected = u256 (78 - 1);
      g_assert_true (kiln_uint256_equal (&native->in_flight, &expected));
      g_assert_true (kiln_uint256_is_zero (&native->confirmed));
      g_assert_cmpuint (token->n_confirmed, ==, 1);
      g_assert_cmpuint (token->n_in_flight, ==, 7);
      expected = u256 (100);
      g_assert_true (kiln_uint256_equal (&token->confirmed, &expected));
      expected = u256 (3600 - 100);
      g_assert_true (kiln_uint256_equal (&token->in_flight, &expected));
      g_assert_false (native->overflow || token->overflow);
    }

  /* Every sender, and a chain with nothing on it. */
  {
    g_autoptr(KilnPaymentHistory) all = NULL;
    g_autoptr(KilnPaymentHistory) none = NULL;

    all = kiln_payment_ledger_list_history (fixture->ledger, 0, NULL, 0, 3, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (all->n_matching, ==, 25);
    g_assert_cmpint (kiln_payment_get_id (g_ptr_array_index (all->payments, 0)), ==, 25);
    expected = u256 (77 + 5000);
    g_assert_true (kiln_uint256_equal (&g_array_index (all->totals, KilnPaymentTotal, 0).in_flight,
                                       &expected));

    none = kiln_payment_ledger_list_history (fixture->ledger, 1, NULL, 0, 3, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (none->n_matching, ==, 0);
    g_assert_cmpuint (none->payments->len, ==, 0);
    g_assert_cmpuint (none->totals->len, ==, 0);
  }
}

/* The async API, as the app uses it */

static void
got_result (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static void
test_async (Fixture       *fixture,
            gconstpointer  user_data)
{
  g_autoptr(KilnPayment) draft = draft_new (fixture, KILN_PAYMENT_KIND_ERC20, "async", 3, 33);
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) signed_ = NULL;
  g_autoptr(KilnPayment) sent = NULL;
  g_autoptr(GPtrArray) unfinished = NULL;
  g_autoptr(KilnPaymentHistory) history = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[6] = { NULL, };
  guint8 hash[32];
  guint64 nonce = 99;
  gint64 id;

  kiln_payment_ledger_create_async (fixture->ledger, draft, NULL, got_result, &results[0]);
  payment = kiln_payment_ledger_create_finish (fixture->ledger, wait_for (&results[0]), &error);
  g_assert_no_error (error);
  id = kiln_payment_get_id (payment);

  kiln_payment_ledger_reserve_nonce_async (fixture->ledger, id, 4, NULL, got_result, &results[1]);
  g_assert_true (kiln_payment_ledger_reserve_nonce_finish (fixture->ledger,
                                                           wait_for (&results[1]), &nonce,
                                                           &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nonce, ==, 4);

  raw = sign_for (fixture->key, payment, CHAIN_ID, nonce, 1, NULL);
  hash_of (raw, hash);
  kiln_payment_ledger_record_attempt_async (fixture->ledger, id, raw, NULL, got_result,
                                            &results[2]);
  /* Queued behind the record: runs after it, in order. */
  kiln_payment_ledger_mark_broadcast_async (fixture->ledger, id, hash, NULL, got_result,
                                            &results[3]);
  kiln_payment_ledger_list_unfinished_async (fixture->ledger, CHAIN_ID, NULL, NULL, got_result,
                                             &results[4]);
  kiln_payment_ledger_list_history_async (fixture->ledger, CHAIN_ID, fixture->from, 0, 10, NULL,
                                          got_result, &results[5]);

  signed_ = kiln_payment_ledger_record_attempt_finish (fixture->ledger, wait_for (&results[2]),
                                                       &error);
  g_assert_no_error (error);
  sent = kiln_payment_ledger_mark_broadcast_finish (fixture->ledger, wait_for (&results[3]),
                                                    &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (sent), ==, KILN_PAYMENT_STATE_BROADCAST);
  unfinished = kiln_payment_ledger_list_unfinished_finish (fixture->ledger,
                                                           wait_for (&results[4]), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 1);
  history = kiln_payment_ledger_list_history_finish (fixture->ledger, wait_for (&results[5]),
                                                     &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history->n_matching, ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    g_object_unref (results[i]);
}

/* A crash between writing a signed payment and broadcasting it.
 *
 * The child process (this test, re-run by g_test_trap_subprocess()) finishes one payment,
 * leaves one pending, records a signed attempt for a third and kills itself with SIGKILL
 * before marking it broadcast. The parent then finds exactly that payment unfinished, with
 * the same bytes the child wrote (signatures are deterministic, so it can rebuild them). */

static KilnPayment *
crash_draft (Fixture *fixture)
{
  return draft_new (fixture, KILN_PAYMENT_KIND_ERC20, "job-crash", 3, 123456789);
}

static void
crash_child (Fixture *fixture)
{
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(KilnPayment) pending = NULL;
  g_autoptr(KilnPayment) crashing = NULL;
  g_autoptr(KilnPayment) written = NULL;
  g_autoptr(KilnPayment) finished = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hex = NULL;
  guint8 hash[32];

  done = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ETH, "job-done", 1, 10));
  reserve_ok (fixture, kiln_payment_get_id (done), 0);
  send_ok (fixture, done, 0, 1, hash);
  finished = kiln_payment_ledger_mark_confirmed (fixture->ledger, kiln_payment_get_id (done),
                                                 hash, 3, 21000, NULL, &error);
  g_assert_no_error (error);

  pending = create_ok (fixture, draft_new (fixture, KILN_PAYMENT_KIND_ETH, "job-later", 2, 20));

  crashing = create_ok (fixture, crash_draft (fixture));
  g_assert_cmpuint (reserve_ok (fixture, kiln_payment_get_id (crashing), 0), ==, 1);
  raw = sign_for (fixture->key, crashing, CHAIN_ID, 1, 2, NULL);
  written = record_ok (fixture, kiln_payment_get_id (crashing), raw);

  hex = kiln_hex_encode (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  g_print ("signed %s\n", hex);
  fflush (stdout);

  /* Killed after "written", before "broadcast". */
  kill (getpid (), SIGKILL);
  g_assert_not_reached ();
}

static void
test_crash_recovery (void)
{
  Fixture fixture = { NULL, };
  g_autoptr(KilnPayment) draft = NULL;
  g_autoptr(KilnPayment) finished = NULL;
  g_autoptr(KilnPayment) later = NULL;
  g_autoptr(GPtrArray) unfinished = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GBytes) expected = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *pattern = NULL;
  const KilnPaymentAttempt *attempt;
  KilnPayment *found;
  guint8 hash[32];
  guint64 nonce;

  if (g_test_subprocess ())
    {
      fixture_init (&fixture, g_getenv (CRASH_ENV));
      crash_child (&fixture);
      return;
    }

  dir = g_dir_make_tmp ("kiln-ledger-crash-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv (CRASH_ENV, dir, TRUE);

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();

  fixture_init (&fixture, dir);
  draft = crash_draft (&fixture);
  expected = sign_for (fixture.key, draft, CHAIN_ID, 1, 2, NULL);
  hash_of (expected, hash);
  hex = kiln_hex_encode (g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
  pattern = g_strdup_printf ("*signed %s*", hex);
  g_test_trap_assert_stdout (pattern);

  unfinished = kiln_payment_ledger_list_unfinished (fixture.ledger, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 1);
  found = g_ptr_array_index (unfinished, 0);
  g_assert_cmpstr (kiln_payment_get_reference (found), ==, "job-crash");
  g_assert_cmpint (kiln_payment_get_state (found), ==, KILN_PAYMENT_STATE_SIGNED);
  g_assert_true (kiln_payment_get_nonce (found, &nonce));
  g_assert_cmpuint (nonce, ==, 1);
  g_assert_cmpuint (kiln_payment_get_n_attempts (found), ==, 1);
  attempt = kiln_payment_get_attempt (found, 0);
  g_assert_cmpint (attempt->state, ==, KILN_PAYMENT_ATTEMPT_SIGNED);
  g_assert_cmpmem (g_bytes_get_data (attempt->raw, NULL), g_bytes_get_size (attempt->raw),
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
  g_assert_cmpmem (attempt->tx_hash, 32, hash, 32);

  pending = kiln_payment_ledger_list_pending (fixture.ledger, CHAIN_ID, fixture.from, NULL,
                                              &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pending->len, ==, 1);
  g_assert_cmpstr (kiln_payment_get_reference (g_ptr_array_index (pending, 0)), ==, "job-later");

  /* Recovery: the retried work finds its payment, the nonce stays, nothing is signed anew. */
  g_assert_cmpuint (reserve_ok (&fixture, kiln_payment_get_id (found), 0), ==, 1);
  finished = create_ok (&fixture, crash_draft (&fixture));
  g_assert_cmpint (kiln_payment_get_id (finished), ==, kiln_payment_get_id (found));
  g_assert_cmpuint (reserve_ok (&fixture, kiln_payment_get_id (g_ptr_array_index (pending, 0)), 1),
                    ==, 2);
  later = kiln_payment_ledger_mark_broadcast (fixture.ledger, kiln_payment_get_id (found), hash,
                                              NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (later), ==, KILN_PAYMENT_STATE_BROADCAST);

  fixture_tear_down (&fixture, NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/kiln/payment-ledger/" path, Fixture, NULL, fixture_set_up, func, \
              fixture_tear_down)

  ADD ("lifecycle", test_lifecycle);
  ADD ("nonces/sequence", test_nonces_sequence);
  ADD ("nonces/reset", test_nonces_reset);
  ADD ("attempts/replace", test_attempts_replace);
  ADD ("attempts/checked", test_attempts_checked);
  ADD ("failed", test_failed);
  ADD ("create/invalid", test_create_invalid);
  ADD ("create/idempotency", test_idempotency);
  ADD ("amounts", test_amounts);
  ADD ("history", test_history);
  ADD ("async", test_async);
  g_test_add_func ("/kiln/payment-ledger/crash-recovery", test_crash_recovery);

#undef ADD

  return g_test_run ();
}
