/* test-earnings.c: a provider's earnings, kept in SQLite and checked on a real devnet
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A requestor's wallet pays on the devnet (anvil, the GNT test token, KilnBatchPay) with real
 * transactions; the provider's KilnEarnings records what it was told and counts an earning
 * only once the chain shows the transaction paying its account enough: transfers to another
 * account, too little, ETH instead of the token, a reverted transaction, the same
 * transaction claimed twice or by another requestor, one not broadcast yet. Everything
 * survives reopening the store.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "kiln-earnings.h"
#include "kiln-market-bodies.h"
#include "kiln-test-link.h"
#include "kiln-test-util.h"
#include "kiln-test-wallet.h"

typedef struct
{
  Fixture       chain;      /* the requestor's ledger and the devnet */
  KilnKey      *payer_key;
  KilnWallet   *payer;
  KilnKey      *provider_key;
  KilnAddress   account;    /* the provider's */
  char         *dir;
  char         *db_path;
  KilnStore    *store;
  KilnEarnings *earnings;
  GPtrArray    *confirmed;  /* char *: "TERMS TX AMOUNT" from ::confirmed */
  guint         n_changed;
} EarningsFixture;

static void
on_confirmed (KilnEarnings    *earnings,
              const char      *terms,
              const char      *tx_hash,
              const char      *amount,
              EarningsFixture *fixture)
{
  g_ptr_array_add (fixture->confirmed, g_strdup_printf ("%s %s %s", terms, tx_hash, amount));
}

static void
on_changed (KilnEarnings    *earnings,
            const char      *terms,
            EarningsFixture *fixture)
{
  fixture->n_changed++;
}

static KilnEarnings *
earnings_new (EarningsFixture *fixture,
              gboolean         with_chain)
{
  KilnEarnings *earnings = kiln_earnings_new (fixture->store, &fixture->account);

  if (with_chain)
    {
      g_autoptr(KilnRpcClient) rpc = client_new (kiln_test_devnet_get_rpc_url (get_devnet ()));

      kiln_earnings_set_chain (earnings, rpc, kiln_test_devnet_get_token (get_devnet ()));
    }
  g_signal_connect (earnings, "confirmed", G_CALLBACK (on_confirmed), fixture);
  g_signal_connect (earnings, "changed", G_CALLBACK (on_changed), fixture);
  return earnings;
}

static void
open_store (EarningsFixture *fixture)
{
  g_autoptr(GError) error = NULL;

  fixture->store = kiln_store_new (fixture->db_path, NULL, &error);
  g_assert_no_error (error);
}

static void
close_store (EarningsFixture *fixture)
{
  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->earnings));
  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->store));
}

static void
fixture_set_up (EarningsFixture *fixture,
                gconstpointer    data)
{
  g_autoptr(GError) error = NULL;

  fixture_setup (&fixture->chain, NULL);
  fixture->payer_key = fresh_key ();
  fixture->payer = funded_wallet (&fixture->chain, fixture->payer_key, "10", "100");
  fixture->provider_key = fresh_key ();
  fixture->account = *kiln_key_get_address (fixture->provider_key);

  fixture->dir = g_dir_make_tmp ("kiln-test-earnings-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->db_path = g_build_filename (fixture->dir, KILN_STORE_FILE_NAME, NULL);
  open_store (fixture);
  fixture->confirmed = g_ptr_array_new_with_free_func (g_free);
  fixture->earnings = earnings_new (fixture, TRUE);
  g_assert_true (kiln_earnings_load (fixture->earnings, NULL, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (EarningsFixture *fixture,
                   gconstpointer    data)
{
  g_autofree char *wal = g_strconcat (fixture->db_path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (fixture->db_path, "-shm", NULL);

  if (fixture->earnings != NULL)
    close_store (fixture);
  g_clear_object (&fixture->store);
  wallet_free (fixture->payer);
  g_clear_object (&fixture->payer_key);
  g_clear_object (&fixture->provider_key);
  fixture_teardown (&fixture->chain, NULL);
  g_unlink (fixture->db_path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (fixture->dir);
  g_free (fixture->db_path);
  g_free (fixture->dir);
  g_ptr_array_unref (fixture->confirmed);
}

/* Helpers --------------------------------------------------------------------------------- */

/* An earning approved by the payer, owed @amount GNT (decimal text). */
static KilnEarning
make_earning (EarningsFixture *fixture,
              const char      *amount)
{
  KilnEarning earning = { 0 };

  g_assert_true (kiln_random_bytes (earning.terms, sizeof earning.terms, NULL));
  g_assert_true (kiln_random_bytes (earning.task_id, sizeof earning.task_id, NULL));
  earning.requestor = *kiln_wallet_get_address (fixture->payer);
  earning.amount = units (amount);
  earning.approved = g_get_real_time () / G_USEC_PER_SEC;
  return earning;
}

static void
add_ok (EarningsFixture   *fixture,
        const KilnEarning *earning)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = AWAIT (kiln_earnings_add_async (fixture->earnings, earning, NULL, on_result, &_result),
              kiln_earnings_add_finish (fixture->earnings, result, &error));
  g_assert_no_error (error);
  g_assert_true (ok);
}

static gboolean
set_paid (EarningsFixture *fixture,
          const guint8    *terms,
          const guint8    *tx_hash,
          GError         **error)
{
  return AWAIT (kiln_earnings_set_paid_async (fixture->earnings, terms, tx_hash, NULL,
                                              on_result, &_result),
                kiln_earnings_set_paid_finish (fixture->earnings, result, error));
}

/* Runs a check of @tx_hash to its end (after any started by set_paid). */
static void
check_ok (EarningsFixture *fixture,
          const guint8    *tx_hash)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = AWAIT (kiln_earnings_check_async (fixture->earnings, tx_hash, NULL, on_result, &_result),
              kiln_earnings_check_finish (fixture->earnings, result, &error));
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* Tells the earnings that @tx_hash paid @earning, and checks it. */
static KilnEarningRecord *
paid_and_checked (EarningsFixture   *fixture,
                  const KilnEarning *earning,
                  const guint8      *tx_hash)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (set_paid (fixture, earning->terms, tx_hash, &error));
  g_assert_no_error (error);
  check_ok (fixture, tx_hash);
  return kiln_earnings_lookup (fixture->earnings, earning->terms);
}

/* A token transfer from the payer's wallet, confirmed; its transaction hash in @tx_hash. */
static void
pay_token (EarningsFixture   *fixture,
           const KilnAddress *to,
           const char        *amount,
           guint8             tx_hash[32])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnPayment) sent = NULL;
  g_autoptr(KilnPayment) done = NULL;
  KilnUint256 value = units (amount);

  sent = send_sync (fixture->payer, KILN_WALLET_ASSET_TOKEN, to, &value, NULL, NULL, &error);
  g_assert_no_error (error);
  done = wait_sync (fixture->payer, sent);
  memcpy (tx_hash, confirmed_attempt (done)->tx_hash, 32);
}

static void
assert_record_paid (const KilnEarningRecord *record,
                    const guint8            *tx_hash,
                    const char              *reason_part)
{
  g_assert_nonnull (record);
  g_assert_cmpint (record->state, ==, KILN_EARNING_STATE_PAID);
  g_assert_true (record->has_tx);
  g_assert_cmpmem (record->tx_hash, 32, tx_hash, 32);
  g_assert_cmpuint (record->confirmed_block, ==, 0);
  g_assert_cmpint (record->confirmed_at, ==, 0);
  g_assert_nonnull (record->reason);
  g_test_message ("reason: %s", record->reason);
  g_assert_nonnull (strstr (record->reason, reason_part));
}

static void
assert_record_confirmed (const KilnEarningRecord *record,
                         const guint8            *tx_hash)
{
  g_autoptr(KilnRpcReceipt) receipt = receipt_of (tx_hash);

  g_assert_nonnull (record);
  g_assert_cmpint (record->state, ==, KILN_EARNING_STATE_CONFIRMED);
  g_assert_true (record->has_tx);
  g_assert_cmpmem (record->tx_hash, 32, tx_hash, 32);
  g_assert_nonnull (receipt);
  g_assert_cmpuint (record->confirmed_block, ==, receipt->block_number);
  g_assert_cmpint (record->confirmed_at, >, 0);
  g_assert_cmpint (record->confirmed_at, <=, g_get_real_time ());
  g_assert_null (record->reason);
}

static char *
confirmed_line (const KilnEarning *earning,
                const guint8      *tx_hash)
{
  g_autofree char *terms = kiln_market_id_to_hex (earning->terms);
  g_autofree char *tx = kiln_market_id_to_hex (tx_hash);
  g_autofree char *amount = kiln_uint256_to_string (&earning->amount);

  return g_strdup_printf ("%s 0x%s %s", terms, tx, amount);
}

static void
assert_totals (KilnEarnings *earnings,
               const char   *today,
               const char   *total,
               const char   *pending,
               guint         n_confirmed,
               guint         n_pending)
{
  KilnEarningsTotals totals;

  kiln_earnings_get_totals (earnings, &totals);
  assert_units (&totals.confirmed_today, today);
  assert_units (&totals.confirmed_total, total);
  assert_units (&totals.pending, pending);
  g_assert_cmpuint (totals.n_confirmed, ==, n_confirmed);
  g_assert_cmpuint (totals.n_pending, ==, n_pending);
}

/* Tests ----------------------------------------------------------------------------------- */

/* A transfer of exactly what is owed confirms the earning, once. */
static void
test_confirmed (EarningsFixture *fixture,
                gconstpointer    data)
{
  KilnEarning earning = make_earning (fixture, "1.5");
  g_autoptr(KilnEarningRecord) approved = NULL;
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autofree char *line = NULL;
  guint8 tx[32];

  add_ok (fixture, &earning);
  approved = kiln_earnings_lookup (fixture->earnings, earning.terms);
  g_assert_nonnull (approved);
  g_assert_cmpint (approved->state, ==, KILN_EARNING_STATE_APPROVED);
  g_assert_false (approved->has_tx);
  g_assert_cmpmem (approved->task_id, 32, earning.task_id, 32);
  g_assert_true (kiln_address_equal (&approved->requestor, &earning.requestor));
  g_assert_cmpint (approved->approved_at, ==, earning.approved * G_USEC_PER_SEC);
  assert_totals (fixture->earnings, "0", "0", "1.5", 0, 1);

  pay_token (fixture, &fixture->account, "1.5", tx);
  record = paid_and_checked (fixture, &earning, tx);
  assert_record_confirmed (record, tx);
  assert_totals (fixture->earnings, "1.5", "1.5", "0", 1, 0);

  g_assert_cmpuint (fixture->confirmed->len, ==, 1);
  line = confirmed_line (&earning, tx);
  g_assert_cmpstr (g_ptr_array_index (fixture->confirmed, 0), ==, line);

  /* Hearing of it again, or checking again, changes nothing. */
  g_clear_pointer (&record, kiln_earning_record_free);
  record = paid_and_checked (fixture, &earning, tx);
  assert_record_confirmed (record, tx);
  g_assert_cmpuint (fixture->confirmed->len, ==, 1);
}

/* One batch transaction pays two earnings (and someone else): both are confirmed. */
static void
test_batch (EarningsFixture *fixture,
            gconstpointer    data)
{
  KilnEarning first = make_earning (fixture, "1");
  KilnEarning second = make_earning (fixture, "2.25");
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnPayment) sent = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(KilnEarningRecord) record = NULL;
  KilnAddress payees[2] = { fixture->account, fresh_address () };
  KilnUint256 amounts[2] = { units ("3.25"), units ("4") };
  guint8 tx[32];

  add_ok (fixture, &first);
  add_ok (fixture, &second);
  assert_totals (fixture->earnings, "0", "0", "3.25", 0, 2);

  sent = AWAIT (kiln_wallet_pay_batch_async (fixture->payer, payees, amounts, 2, NULL, NULL, NULL,
                                             on_result, &_result),
                kiln_wallet_pay_batch_finish (fixture->payer, result, &error));
  g_assert_no_error (error);
  done = wait_sync (fixture->payer, sent);
  memcpy (tx, confirmed_attempt (done)->tx_hash, 32);

  /* Both told at once, as a PAYMENT naming both terms does. */
  kiln_earnings_set_paid_async (fixture->earnings, first.terms, tx, NULL, NULL, NULL);
  g_assert_true (set_paid (fixture, second.terms, tx, &error));
  g_assert_no_error (error);
  check_ok (fixture, tx);

  record = kiln_earnings_lookup (fixture->earnings, first.terms);
  assert_record_confirmed (record, tx);
  g_clear_pointer (&record, kiln_earning_record_free);
  record = kiln_earnings_lookup (fixture->earnings, second.terms);
  assert_record_confirmed (record, tx);
  assert_totals (fixture->earnings, "3.25", "3.25", "0", 2, 0);
  g_assert_cmpuint (fixture->confirmed->len, ==, 2);
}

/* The transaction pays someone else: not confirmed. */
static void
test_other_payee (EarningsFixture *fixture,
                  gconstpointer    data)
{
  KilnEarning earning = make_earning (fixture, "1");
  g_autoptr(KilnEarningRecord) record = NULL;
  KilnAddress other = fresh_address ();
  guint8 tx[32];

  add_ok (fixture, &earning);
  pay_token (fixture, &other, "1", tx);
  record = paid_and_checked (fixture, &earning, tx);
  assert_record_paid (record, tx, "pays nothing to this account");
  assert_totals (fixture->earnings, "0", "0", "1", 0, 1);
  g_assert_cmpuint (fixture->confirmed->len, ==, 0);
}

/* One base unit short: not confirmed, and the reason says how much came. */
static void
test_too_little (EarningsFixture *fixture,
                 gconstpointer    data)
{
  KilnEarning earning = make_earning (fixture, "2");
  g_autoptr(KilnEarningRecord) record = NULL;
  guint8 tx[32];

  add_ok (fixture, &earning);
  pay_token (fixture, &fixture->account, "1.999999999999999999", tx);
  record = paid_and_checked (fixture, &earning, tx);
  assert_record_paid (record, tx, "pays this account 1.999999999999999999 GNT from 0x");
  assert_record_paid (record, tx, ", less than the 2 GNT it is said to pay");
  assert_totals (fixture->earnings, "0", "0", "2", 0, 1);
  g_assert_cmpuint (fixture->confirmed->len, ==, 0);
}

/* ETH instead of the token does not count. */
static void
test_eth_not_token (EarningsFixture *fixture,
                    gconstpointer    data)
{
  KilnEarning earning = make_earning (fixture, "1");
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnPayment) sent = NULL;
  g_autoptr(KilnPayment) done = NULL;
  KilnUint256 value = units ("1");
  guint8 tx[32];

  add_ok (fixture, &earning);
  sent = send_sync (fixture->payer, KILN_WALLET_ASSET_ETH, &fixture->account, &value, NULL, NULL,
                    &error);
  g_assert_no_error (error);
  done = wait_sync (fixture->payer, sent);
  memcpy (tx, confirmed_attempt (done)->tx_hash, 32);

  record = paid_and_checked (fixture, &earning, tx);
  assert_record_paid (record, tx, "pays nothing to this account");
}

/* A token transfer of @amount to @to signed by @key (nonce from the chain, fixed gas, no
 * estimate), not sent. */
static GBytes *
sign_token_transfer (KilnKey           *key,
                     const KilnAddress *to,
                     const char        *amount,
                     guint8             tx_hash[32])
{
  g_autoptr(KilnTransaction) tx = kiln_transaction_new (KILN_TRANSACTION_TYPE_EIP1559,
                                                        KILN_TEST_DEVNET_CHAIN_ID);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = NULL;
  KilnUint256 value = units (amount);
  KilnUint256 zero = u256 (0);
  KilnUint256 fee = u256 (G_GUINT64_CONSTANT (200000000000));
  KilnUint256 tip = u256 (G_GUINT64_CONSTANT (2000000000));

  data = kiln_abi_encode_transfer (to, &value);
  kiln_transaction_set_nonce (tx, nonce_of (kiln_key_get_address (key), "pending"));
  kiln_transaction_set_gas_limit (tx, 100000);
  kiln_transaction_set_to (tx, kiln_test_devnet_get_token (get_devnet ()));
  kiln_transaction_set_value (tx, &zero);
  kiln_transaction_set_data (tx, data);
  kiln_transaction_set_max_fee_per_gas (tx, &fee);
  kiln_transaction_set_max_priority_fee_per_gas (tx, &tip);
  g_assert_true (kiln_transaction_sign (tx, key, &error));
  g_assert_no_error (error);
  kiln_transaction_get_hash (tx, tx_hash);
  return kiln_transaction_encode_signed (tx);
}

/* A transfer that reverts on chain (the sender has no GNT) pays nothing. */
static void
test_reverted (EarningsFixture *fixture,
               gconstpointer    data)
{
  KilnEarning earning = make_earning (fixture, "1");
  g_autoptr(KilnKey) poor = fresh_key ();
  g_autoptr(KilnWallet) wallet = NULL;
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  g_autoptr(GBytes) raw = NULL;
  guint8 tx[32];

  wallet = funded_wallet (&fixture->chain, poor, "1", "0");
  add_ok (fixture, &earning);
  raw = sign_token_transfer (poor, &fixture->account, "1", tx);
  send_raw (kiln_test_devnet_get_rpc_url (get_devnet ()), raw);
  receipt = receipt_of (tx);
  g_assert_nonnull (receipt);
  g_assert_false (receipt->success);

  record = paid_and_checked (fixture, &earning, tx);
  assert_record_paid (record, tx, "failed on the chain");
  wallet_free (g_steal_pointer (&wallet));
}

/* A transaction that paid one earning cannot pay a second one too. */
static void
test_reused (EarningsFixture *fixture,
             gconstpointer    data)
{
  KilnEarning first = make_earning (fixture, "1");
  KilnEarning second = make_earning (fixture, "1");
  g_autoptr(KilnEarningRecord) record = NULL;
  guint8 tx[32];

  add_ok (fixture, &first);
  add_ok (fixture, &second);
  pay_token (fixture, &fixture->account, "1", tx);
  record = paid_and_checked (fixture, &first, tx);
  assert_record_confirmed (record, tx);
  g_clear_pointer (&record, kiln_earning_record_free);

  record = paid_and_checked (fixture, &second, tx);
  assert_record_paid (record, tx, "pays this account 1 GNT from 0x");
  assert_record_paid (record, tx, ", less than the 2 GNT it is said to pay");
  g_clear_pointer (&record, kiln_earning_record_free);
  record = kiln_earnings_lookup (fixture->earnings, first.terms);
  assert_record_confirmed (record, tx);
  assert_totals (fixture->earnings, "1", "1", "1", 1, 1);
}

/* Another requestor cannot claim a transaction by which the payer paid this account, even
 * when it claims it first. */
static void
test_other_requestor (EarningsFixture *fixture,
                      gconstpointer    data)
{
  KilnEarning stranger = make_earning (fixture, "1");
  KilnEarning own = make_earning (fixture, "1");
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autofree char *stranger_address = NULL;
  guint8 tx[32];

  stranger.requestor = fresh_address ();
  stranger_address = kiln_address_to_string (&stranger.requestor);
  add_ok (fixture, &stranger);
  add_ok (fixture, &own);
  pay_token (fixture, &fixture->account, "1", tx);

  record = paid_and_checked (fixture, &stranger, tx);
  assert_record_paid (record, tx, "pays nothing to this account from");
  g_assert_nonnull (strstr (record->reason, stranger_address));
  g_clear_pointer (&record, kiln_earning_record_free);

  record = paid_and_checked (fixture, &own, tx);
  assert_record_confirmed (record, tx);
  assert_totals (fixture->earnings, "1", "1", "1", 1, 1);
}

static gboolean
confirmed_once (gpointer data)
{
  EarningsFixture *fixture = data;

  return fixture->confirmed->len == 1;
}

/* Told of a transaction before it is on the chain: checked again until it is. */
static void
test_not_mined_yet (EarningsFixture *fixture,
                    gconstpointer    data)
{
  KilnEarning earning = make_earning (fixture, "0.5");
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autofree char *line = NULL;
  guint8 tx[32];

  add_ok (fixture, &earning);
  raw = sign_token_transfer (fixture->payer_key, &fixture->account, "0.5", tx);
  record = paid_and_checked (fixture, &earning, tx);
  assert_record_paid (record, tx, "is not on the chain yet");

  /* Broadcast now: the next check, a few seconds on, finds it. */
  send_raw (kiln_test_devnet_get_rpc_url (get_devnet ()), raw);
  kiln_test_wait_until (confirmed_once, fixture);
  g_clear_pointer (&record, kiln_earning_record_free);
  record = kiln_earnings_lookup (fixture->earnings, earning.terms);
  assert_record_confirmed (record, tx);
  line = confirmed_line (&earning, tx);
  g_assert_cmpstr (g_ptr_array_index (fixture->confirmed, 0), ==, line);
}

static void
assert_same_record (const KilnEarningRecord *a,
                    const KilnEarningRecord *b)
{
  g_assert_cmpmem (a->terms, 32, b->terms, 32);
  g_assert_cmpmem (a->task_id, 32, b->task_id, 32);
  g_assert_true (kiln_address_equal (&a->requestor, &b->requestor));
  assert_u256 (&a->amount, &b->amount);
  g_assert_cmpint (a->approved_at, ==, b->approved_at);
  g_assert_cmpint (a->state, ==, b->state);
  g_assert_cmpint (a->has_tx, ==, b->has_tx);
  g_assert_cmpmem (a->tx_hash, 32, b->tx_hash, 32);
  g_assert_cmpint (a->paid_at, ==, b->paid_at);
  g_assert_cmpuint (a->confirmed_block, ==, b->confirmed_block);
  g_assert_cmpint (a->confirmed_at, ==, b->confirmed_at);
  g_assert_cmpstr (a->reason, ==, b->reason);
}

static void
exec_sql (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

/* Confirmed, unconfirmed and unpaid earnings read back the same after reopening; a
 * confirmation of another day counts in the total, not today. */
static void
test_reopen (EarningsFixture *fixture,
             gconstpointer    data)
{
  KilnEarning confirmed = make_earning (fixture, "3");
  KilnEarning short_paid = make_earning (fixture, "2");
  KilnEarning unpaid = make_earning (fixture, "0.25");
  KilnEarning old = make_earning (fixture, "7");
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GPtrArray) recent = NULL;
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *old_terms = kiln_market_id_to_hex (old.terms);
  g_autofree char *sql = NULL;
  guint8 tx_ok[32], tx_short[32], tx_old[32];

  add_ok (fixture, &confirmed);
  add_ok (fixture, &short_paid);
  add_ok (fixture, &unpaid);
  old.approved -= 3 * 24 * 60 * 60;
  add_ok (fixture, &old);

  pay_token (fixture, &fixture->account, "3", tx_ok);
  record = paid_and_checked (fixture, &confirmed, tx_ok);
  assert_record_confirmed (record, tx_ok);
  g_clear_pointer (&record, kiln_earning_record_free);
  pay_token (fixture, &fixture->account, "1", tx_short);
  record = paid_and_checked (fixture, &short_paid, tx_short);
  assert_record_paid (record, tx_short, "less than");
  g_clear_pointer (&record, kiln_earning_record_free);
  pay_token (fixture, &fixture->account, "7", tx_old);
  record = paid_and_checked (fixture, &old, tx_old);
  assert_record_confirmed (record, tx_old);
  g_clear_pointer (&record, kiln_earning_record_free);
  assert_totals (fixture->earnings, "10", "10", "2.25", 2, 2);

  before = kiln_earnings_dup_records (fixture->earnings, 0);
  g_assert_cmpuint (before->len, ==, 4);
  close_store (fixture);

  /* As if the old one had been confirmed two days ago. */
  sql = g_strdup_printf ("UPDATE earnings SET confirmed_at = confirmed_at - %" G_GINT64_FORMAT
                         " WHERE hex (terms) = upper ('%s')",
                         (gint64) 2 * 24 * 60 * 60 * G_USEC_PER_SEC, old_terms);
  exec_sql (fixture->db_path, sql);

  open_store (fixture);
  fixture->earnings = earnings_new (fixture, FALSE);
  g_assert_false (kiln_earnings_get_loaded (fixture->earnings));
  g_assert_true (kiln_earnings_load (fixture->earnings, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_earnings_get_loaded (fixture->earnings));

  after = kiln_earnings_dup_records (fixture->earnings, 0);
  g_assert_cmpuint (after->len, ==, before->len);
  for (guint i = 0; i < after->len; i++)
    {
      KilnEarningRecord *a = g_ptr_array_index (after, i);
      KilnEarningRecord *b = g_ptr_array_index (before, i);

      if (memcmp (a->terms, old.terms, 32) == 0)
        b->confirmed_at -= (gint64) 2 * 24 * 60 * 60 * G_USEC_PER_SEC;
      assert_same_record (a, b);
    }
  assert_totals (fixture->earnings, "3", "10", "2.25", 2, 2);

  /* Newest approval first, the old one last; at most as many as asked. */
  recent = kiln_earnings_dup_records (fixture->earnings, 3);
  g_assert_cmpuint (recent->len, ==, 3);
  for (guint i = 0; i < recent->len; i++)
    g_assert_cmpmem (((KilnEarningRecord *) g_ptr_array_index (recent, i))->terms, 32,
                     ((KilnEarningRecord *) g_ptr_array_index (after, i))->terms, 32);
  g_assert_cmpmem (((KilnEarningRecord *) g_ptr_array_index (after, 3))->terms, 32,
                   old.terms, 32);
}

/* Without a chain nothing is checked; wrong requests are refused with the right error. */
static void
test_errors (EarningsFixture *fixture,
             gconstpointer    data)
{
  KilnEarning earning = make_earning (fixture, "1");
  KilnEarning changed;
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autoptr(GError) error = NULL;
  guint8 unknown[32];
  guint8 tx[32];
  guint n_changed;
  gboolean ok;

  kiln_earnings_set_chain (fixture->earnings, NULL, NULL);
  g_assert_null (kiln_earnings_get_rpc (fixture->earnings));
  g_assert_null (kiln_earnings_get_token (fixture->earnings));

  add_ok (fixture, &earning);
  n_changed = fixture->n_changed;
  add_ok (fixture, &earning);
  g_assert_cmpuint (fixture->n_changed, ==, n_changed);

  changed = earning;
  changed.amount = units ("2");
  ok = AWAIT (kiln_earnings_add_async (fixture->earnings, &changed, NULL, on_result, &_result),
              kiln_earnings_add_finish (fixture->earnings, result, &error));
  g_assert_false (ok);
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  g_assert_true (kiln_random_bytes (unknown, sizeof unknown, NULL));
  g_assert_false (set_paid (fixture, unknown, unknown, &error));
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Recorded as paid, not checked. */
  pay_token (fixture, &fixture->account, "1", tx);
  g_assert_true (set_paid (fixture, earning.terms, tx, &error));
  g_assert_no_error (error);
  record = kiln_earnings_lookup (fixture->earnings, earning.terms);
  g_assert_cmpint (record->state, ==, KILN_EARNING_STATE_PAID);
  g_assert_null (record->reason);
  ok = AWAIT (kiln_earnings_check_async (fixture->earnings, tx, NULL, on_result, &_result),
              kiln_earnings_check_finish (fixture->earnings, result, &error));
  g_assert_false (ok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);

  /* With the chain set, it is checked at once. */
  {
    g_autoptr(KilnRpcClient) rpc = client_new (kiln_test_devnet_get_rpc_url (get_devnet ()));

    kiln_earnings_set_chain (fixture->earnings, rpc, kiln_test_devnet_get_token (get_devnet ()));
  }
  kiln_test_wait_until (confirmed_once, fixture);
  g_clear_pointer (&record, kiln_earning_record_free);
  record = kiln_earnings_lookup (fixture->earnings, earning.terms);
  assert_record_confirmed (record, tx);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/kiln/earnings/" path, EarningsFixture, NULL, fixture_set_up, func, \
              fixture_tear_down)
  ADD ("confirmed", test_confirmed);
  ADD ("batch", test_batch);
  ADD ("other-payee", test_other_payee);
  ADD ("too-little", test_too_little);
  ADD ("eth-not-token", test_eth_not_token);
  ADD ("reverted", test_reverted);
  ADD ("reused", test_reused);
  ADD ("other-requestor", test_other_requestor);
  ADD ("not-mined-yet", test_not_mined_yet);
  ADD ("reopen", test_reopen);
  ADD ("errors", test_errors);
#undef ADD

  status = g_test_run ();
  wallet_test_cleanup ();
  return status;
}
