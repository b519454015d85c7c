/* test-wallet.c: balances, sends, batches, history and chains, on a real devnet
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Against anvil with the GNT test token and KilnBatchPay (see kiln-test-wallet.h). Crashes,
 * nonce trouble, stuck transactions and a lost node are in test-wallet-recovery.c.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "kiln-test-wallet.h"

/* Tests: balances, sends, batches */

static void
test_balances (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  g_autoptr(GError) error = NULL;
  KilnWallet *wallet = wallet_new (f, NULL, key);
  g_autofree char *address = NULL;
  KilnUint256 eth, tokens, read, zero = KILN_UINT256_INIT (0);
  guint changed = 0;

  g_assert_false (kiln_wallet_get_has_balances (wallet));
  g_object_get (wallet, "address", &address, NULL);
  g_assert_cmpstr (address, ==, kiln_key_get_address_string (key));
  g_signal_connect_swapped (wallet, "balances-changed", G_CALLBACK (g_atomic_int_inc), &changed);

  /* Nothing to send before it knows the chain. */
  g_assert_null (send_sync (wallet, KILN_WALLET_ASSET_ETH, kiln_key_get_address (key), &eth,
                            NULL, NULL, &error));
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_NOT_READY);
  g_clear_error (&error);

  start_ok (wallet);
  g_assert_true (kiln_wallet_get_has_balances (wallet));
  kiln_wallet_get_eth_balance (wallet, &eth);
  assert_u256 (&eth, &zero);

  fund_sync (wallet, "2.5", "1234.5");
  g_assert_cmpuint (changed, ==, 2);
  kiln_wallet_get_eth_balance (wallet, &eth);
  kiln_wallet_get_token_balance (wallet, &tokens);
  assert_units (&eth, "2.5");
  assert_units (&tokens, "1234.5");
  read = token_balance_of (kiln_key_get_address (key));
  assert_units (&read, "1234.5");
  read = eth_balance_of (kiln_key_get_address (key));
  assert_units (&read, "2.5");
  g_assert_cmpuint (kiln_wallet_get_pending_count (wallet), ==, 0);

  wallet_free (wallet);
}

static void
test_send_token (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  KilnWallet *wallet = funded_wallet (f, key, "1", "100");
  const KilnAddress *from = kiln_key_get_address (key);
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("12.5"), eth_before, eth_after, spent, fee, left;
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ethers = NULL;
  g_autofree char *expected = NULL;
  const KilnPaymentAttempt *attempt;
  KilnWalletEstimate estimate;

  /* The estimate shown first is the cap the payment is signed with. */
  AWAIT (kiln_wallet_estimate_async (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL,
                                     on_result, &_result),
         kiln_wallet_estimate_finish (wallet, result, &estimate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (estimate.gas_limit, >, 21000);
  g_assert_true (kiln_uint256_mul_uint64 (&fee, &estimate.max_fee_per_gas, estimate.gas_limit));
  assert_u256 (&estimate.max_fee, &fee);

  eth_before = eth_balance_of (from);
  payment = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_kind (payment), ==, KILN_PAYMENT_KIND_ERC20);
  g_assert_cmpint (kiln_payment_get_state (payment), ==, KILN_PAYMENT_STATE_BROADCAST);
  g_assert_cmpuint (kiln_payment_get_n_attempts (payment), ==, 1);
  attempt = kiln_payment_get_attempt (payment, 0);
  g_assert_cmpuint (attempt->gas_limit, ==, estimate.gas_limit);
  assert_u256 (&attempt->max_fee_per_gas, &estimate.max_fee_per_gas);
  assert_u256 (&attempt->max_priority_fee_per_gas, &estimate.max_priority_fee_per_gas);

  done = wait_sync (wallet, payment);
  g_assert_cmpmem (confirmed_attempt (done)->tx_hash, 32, attempt->tx_hash, 32);
  g_assert_cmpuint (kiln_wallet_get_pending_count (wallet), ==, 0);

  /* Exactly the amount moved, and the fee is what the receipt says. */
  left = token_balance_of (from);
  assert_units (&left, "87.5");
  left = token_balance_of (&to);
  assert_units (&left, "12.5");
  expected = kiln_uint256_to_string (&amount);
  ethers = ethers_token_balance (&to);
  g_assert_cmpstr (ethers, ==, expected);
  eth_after = eth_balance_of (from);
  spent = sub (&eth_before, &eth_after);
  fee = receipt_fee (attempt->tx_hash);
  assert_u256 (&spent, &fee);

  wallet_free (wallet);
}

static void
test_send_eth (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  KilnWallet *wallet = funded_wallet (f, key, "3", "0");
  const KilnAddress *from = kiln_key_get_address (key);
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("0.75"), before, after, spent, fee, expected;
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(GError) error = NULL;
  const KilnPaymentAttempt *attempt;

  before = eth_balance_of (from);
  payment = send_sync (wallet, KILN_WALLET_ASSET_ETH, &to, &amount, "invoice 7", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_kind (payment), ==, KILN_PAYMENT_KIND_ETH);
  g_assert_cmpstr (kiln_payment_get_reference (payment), ==, "invoice 7");
  attempt = kiln_payment_get_attempt (payment, 0);
  g_assert_cmpuint (attempt->gas_limit, ==, 21000);

  done = wait_sync (wallet, payment);
  after = eth_balance_of (&to);
  assert_units (&after, "0.75");
  after = eth_balance_of (from);
  spent = sub (&before, &after);
  fee = receipt_fee (attempt->tx_hash);
  g_assert_true (kiln_uint256_add (&expected, &amount, &fee));
  assert_u256 (&spent, &expected);

  wallet_free (wallet);
}

static void
test_pay_batch (Fixture       *f,
                gconstpointer  data)
{
  enum { N = 100 };
  g_autoptr(KilnKey) key = fresh_key ();
  KilnWallet *wallet = funded_wallet (f, key, "2", "500");
  g_autofree KilnAddress *payees = g_new (KilnAddress, N);
  g_autofree KilnUint256 *amounts = g_new (KilnUint256, N);
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  g_autoptr(GError) error = NULL;
  guint64 nonce_before = nonce_of (kiln_key_get_address (key), "latest");
  KilnUint256 total = KILN_UINT256_INIT (0), funded, left, paid;

  for (guint i = 0; i < N; i++)
    {
      KilnUint256 n = u256 (i + 1);

      payees[i] = fresh_address ();
      g_assert_true (kiln_uint256_mul_uint64 (&amounts[i], &n,
                                              G_GUINT64_CONSTANT (1000000000000000)));
      g_assert_true (kiln_uint256_add (&total, &total, &amounts[i]));
    }

  /* From 1 to 500 payees, none paid zero. */
  payment = AWAIT (kiln_wallet_pay_batch_async (wallet, payees, amounts, 0, NULL, NULL, NULL,
                                                on_result, &_result),
                   kiln_wallet_pay_batch_finish (wallet, result, &error));
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INVALID_AMOUNT);
  g_assert_null (payment);
  g_clear_error (&error);
  amounts[N - 1] = u256 (0);
  payment = AWAIT (kiln_wallet_pay_batch_async (wallet, payees, amounts, N, NULL, NULL, NULL,
                                                on_result, &_result),
                   kiln_wallet_pay_batch_finish (wallet, result, &error));
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INVALID_AMOUNT);
  g_clear_error (&error);
  amounts[N - 1] = u256 (N);
  g_assert_true (kiln_uint256_mul_uint64 (&amounts[N - 1], &amounts[N - 1],
                                          G_GUINT64_CONSTANT (1000000000000000)));

  payment = AWAIT (kiln_wallet_pay_batch_async (wallet, payees, amounts, N, "job 42", NULL, NULL,
                                                on_result, &_result),
                   kiln_wallet_pay_batch_finish (wallet, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_kind (payment), ==, KILN_PAYMENT_KIND_BATCH);
  g_assert_cmpuint (kiln_payment_get_n_recipients (payment), ==, N);
  done = wait_sync (wallet, payment);

  /* One transaction paid all of them, after one approval of exactly the total. */
  g_assert_cmpuint (kiln_payment_get_n_attempts (done), ==, 1);
  g_assert_cmpuint (nonce_of (kiln_key_get_address (key), "latest"), ==, nonce_before + 2);
  receipt = receipt_of (confirmed_attempt (done)->tx_hash);
  g_assert_nonnull (receipt);
  g_assert_true (receipt->success);
  g_assert_cmpuint (receipt->logs->len, ==, N + 1);   /* N transfers and BatchPaid */
  g_test_message ("payBatch to %d payees used %" G_GUINT64_FORMAT " gas", N, receipt->gas_used);

  for (guint i = 0; i < N; i++)
    {
      paid = token_balance_of (&payees[i]);
      assert_u256 (&paid, &amounts[i]);
    }
  left = token_balance_of (kiln_key_get_address (key));
  funded = units ("500");
  paid = sub (&funded, &total);
  assert_u256 (&left, &paid);

  wallet_free (wallet);
}

static guint
count_attempts (Fixture *f)
{
  g_autoptr(GPtrArray) payments = ledger_payments (f);
  guint n = 0;

  for (guint i = 0; i < payments->len; i++)
    n += kiln_payment_get_n_attempts (g_ptr_array_index (payments, i));
  return n;
}

static void
test_insufficient (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KilnKey) rich_key = fresh_key ();
  g_autoptr(KilnKey) poor_key = fresh_key ();
  KilnWallet *rich = funded_wallet (f, rich_key, "1", "12.5");
  KilnWallet *poor = funded_wallet (f, poor_key, "0.000000001", "5");
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("13"), one = units ("1");
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fee = NULL;
  g_autofree char *message = NULL;
  KilnWalletEstimate estimate;

  payment = send_sync (rich, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, NULL, &error);
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_TOKEN);
  g_assert_cmpstr (error->message, ==, "Not enough GNT: the balance is 12.5 GNT");
  g_assert_null (payment);
  g_clear_error (&error);

  AWAIT (kiln_wallet_estimate_async (rich, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL,
                                     on_result, &_result),
         kiln_wallet_estimate_finish (rich, result, NULL, &error));
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_TOKEN);
  g_clear_error (&error);

  /* More ETH than there is, then all of it: the fee no longer fits. */
  payment = send_sync (rich, KILN_WALLET_ASSET_ETH, &to, &amount, NULL, NULL, &error);
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH);
  g_assert_cmpstr (error->message, ==, "Not enough ETH: the balance is 1 ETH");
  g_clear_error (&error);
  amount = units ("1");
  AWAIT (kiln_wallet_estimate_async (rich, KILN_WALLET_ASSET_ETH, &to, &amount, NULL, on_result,
                                     &_result),
         kiln_wallet_estimate_finish (rich, result, &estimate, &error));
  g_assert_no_error (error);
  fee = kiln_uint256_format_units (&estimate.max_fee, 18);
  message = g_strdup_printf ("Not enough ETH to send 1 ETH and pay the network fee (up to %s "
                             "ETH)", fee);
  payment = send_sync (rich, KILN_WALLET_ASSET_ETH, &to, &amount, NULL, NULL, &error);
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH);
  g_assert_cmpstr (error->message, ==, message);
  g_clear_error (&error);

  /* A fee the 1 gwei left cannot pay. */
  payment = send_sync (poor, KILN_WALLET_ASSET_TOKEN, &to, &one, NULL, NULL, &error);
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH);
  g_assert_true (g_str_has_prefix (error->message, "Not enough ETH to pay the network fee (up "
                                                   "to 0."));
  g_assert_true (g_str_has_suffix (error->message, " ETH)"));
  g_clear_error (&error);

  payment = AWAIT (kiln_wallet_pay_batch_async (poor, &to, &one, 1, NULL, NULL, NULL, on_result,
                                                &_result),
                   kiln_wallet_pay_batch_finish (poor, result, &error));
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH);
  g_clear_error (&error);

  /* Nothing was signed: no attempt in the ledger, no transaction on the chain. */
  g_assert_cmpuint (count_attempts (f), ==, 0);
  g_assert_cmpuint (nonce_of (kiln_key_get_address (rich_key), "pending"), ==, 0);
  g_assert_cmpuint (nonce_of (kiln_key_get_address (poor_key), "pending"), ==, 0);
  amount = token_balance_of (&to);
  g_assert_true (kiln_uint256_is_zero (&amount));

  wallet_free (rich);
  wallet_free (poor);
}

static void
test_idempotent (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  KilnWallet *wallet = funded_wallet (f, key, "1", "3");
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("2"), balance;
  g_autoptr(KilnPayment) refused = NULL;
  g_autoptr(KilnPayment) first = NULL;
  g_autoptr(KilnPayment) again = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(GPtrArray) payments = NULL;
  g_autoptr(GError) error = NULL;

  /* Refused for now; recorded (nothing signed) so that the retry finds it. */
  amount = units ("4");
  refused = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, "job-7/provider-1",
                       &error);
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_TOKEN);
  g_clear_error (&error);
  g_assert_cmpuint (count_attempts (f), ==, 0);

  amount = units ("2");
  first = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, "job-7/provider-2",
                     &error);
  g_assert_no_error (error);
  done = wait_sync (wallet, first);

  /* A retry gets the same payment back and pays nothing more. */
  again = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, "job-7/provider-2",
                     &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_id (again), ==, kiln_payment_get_id (first));
  g_assert_cmpint (kiln_payment_get_state (again), ==, KILN_PAYMENT_STATE_CONFIRMED);
  balance = token_balance_of (&to);
  assert_units (&balance, "2");

  /* The same key for another amount is a conflict, not a second payment. */
  amount = units ("1");
  g_clear_pointer (&again, kiln_payment_unref);
  again = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, "job-7/provider-2",
                     &error);
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  /* Topped up, the refused payment goes through under its key. */
  fund_sync (wallet, "0", "10");
  amount = units ("4");
  g_clear_pointer (&again, kiln_payment_unref);
  again = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, "job-7/provider-1",
                     &error);
  g_assert_no_error (error);
  g_clear_pointer (&done, kiln_payment_unref);
  done = wait_sync (wallet, again);
  payments = ledger_payments (f);
  g_assert_cmpuint (payments->len, ==, 2);
  balance = token_balance_of (&to);
  assert_units (&balance, "6");

  wallet_free (wallet);
}

static GPtrArray *
history_sync (KilnWallet *wallet,
              guint       limit)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *entries;

  entries = AWAIT (kiln_wallet_list_history_async (wallet, limit, NULL, on_result, &_result),
                   kiln_wallet_list_history_finish (wallet, result, &error));
  g_assert_no_error (error);
  return entries;
}

static void
test_history (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(KilnKey) alice_key = fresh_key ();
  g_autoptr(KilnKey) bob_key = fresh_key ();
  KilnWallet *alice = funded_wallet (f, alice_key, "1", "50");
  KilnWallet *bob = funded_wallet (f, bob_key, "1", "0");
  const KilnAddress *bob_address = kiln_key_get_address (bob_key);
  KilnUint256 amount = units ("3"), eth = units ("0.5"), value;
  g_autoptr(KilnPayment) to_bob = NULL;
  g_autoptr(KilnPayment) eth_to_bob = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  KilnWalletEntry *entry;
  KilnAddress zero = { { 0, } };

  to_bob = send_sync (alice, KILN_WALLET_ASSET_TOKEN, bob_address, &amount, NULL, NULL, &error);
  g_assert_no_error (error);
  done = wait_sync (alice, to_bob);
  hash = g_strconcat ("0x", kiln_hex_encode (confirmed_attempt (done)->tx_hash, 32), NULL);
  g_clear_pointer (&done, kiln_payment_unref);
  eth_to_bob = send_sync (alice, KILN_WALLET_ASSET_ETH, bob_address, &eth, NULL, NULL, &error);
  g_assert_no_error (error);
  done = wait_sync (alice, eth_to_bob);

  /* Alice: her two payments, newest first, then the GNT the devnet minted for her. */
  entries = history_sync (alice, 0);
  g_assert_cmpuint (entries->len, ==, 3);
  entry = g_ptr_array_index (entries, 0);
  g_assert_false (kiln_wallet_entry_is_incoming (entry));
  g_assert_cmpint (kiln_wallet_entry_get_asset (entry), ==, KILN_WALLET_ASSET_ETH);
  g_assert_cmpint (kiln_wallet_entry_get_payment (entry) != NULL, ==, TRUE);
  entry = g_ptr_array_index (entries, 1);
  g_assert_false (kiln_wallet_entry_is_incoming (entry));
  g_assert_cmpint (kiln_wallet_entry_get_asset (entry), ==, KILN_WALLET_ASSET_TOKEN);
  g_assert_true (kiln_address_equal (kiln_wallet_entry_get_counterparty (entry), bob_address));
  g_assert_cmpuint (kiln_wallet_entry_get_n_recipients (entry), ==, 1);
  g_assert_cmpint (kiln_wallet_entry_get_state (entry), ==, KILN_PAYMENT_STATE_CONFIRMED);
  g_assert_cmpstr (kiln_wallet_entry_get_tx_hash (entry), ==, hash);
  entry = g_ptr_array_index (entries, 2);
  g_assert_true (kiln_wallet_entry_is_incoming (entry));
  g_assert_true (kiln_address_equal (kiln_wallet_entry_get_counterparty (entry), &zero));
  kiln_wallet_entry_get_amount (entry, &value);
  assert_units (&value, "50");
  g_assert_null (kiln_wallet_entry_get_payment (entry));
  for (guint i = 1; i < entries->len; i++)
    g_assert_cmpint (kiln_wallet_entry_get_time (g_ptr_array_index (entries, i - 1)), >=,
                     kiln_wallet_entry_get_time (g_ptr_array_index (entries, i)));
  g_clear_pointer (&entries, g_ptr_array_unref);

  entries = history_sync (alice, 1);
  g_assert_cmpuint (entries->len, ==, 1);
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* Bob: the GNT from Alice (incoming ETH is not in token logs). */
  entries = history_sync (bob, 10);
  g_assert_cmpuint (entries->len, ==, 1);
  entry = g_ptr_array_index (entries, 0);
  g_assert_true (kiln_wallet_entry_is_incoming (entry));
  g_assert_true (kiln_address_equal (kiln_wallet_entry_get_counterparty (entry),
                                     kiln_key_get_address (alice_key)));
  kiln_wallet_entry_get_amount (entry, &value);
  assert_u256 (&value, &amount);
  g_assert_cmpstr (kiln_wallet_entry_get_tx_hash (entry), ==, hash);
  g_assert_cmpint (kiln_wallet_entry_get_state (entry), ==, KILN_PAYMENT_STATE_CONFIRMED);
  g_assert_cmpint (kiln_wallet_entry_get_time (entry), >, 0);

  wallet_free (alice);
  wallet_free (bob);
}

/* The chain */

static void
test_wrong_chain (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autofree char *token = kiln_address_to_string (kiln_test_devnet_get_token (get_devnet ()));
  KilnWallet *wallet;

  chain = kiln_chain_new_custom (kiln_test_devnet_get_rpc_url (get_devnet ()), 5, token, NULL,
                                 &error);
  g_assert_no_error (error);
  wallet = wallet_new (f, chain, key);
  g_assert_false (start_sync (wallet, &error));
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_WRONG_CHAIN);
  g_assert_nonnull (strstr (error->message, "31337"));
  wallet_free (wallet);
  g_clear_object (&chain);
  g_clear_error (&error);

  /* Chain ID 0: whatever the node says. */
  chain = kiln_chain_new_custom (kiln_test_devnet_get_rpc_url (get_devnet ()), 0, token, NULL,
                                 &error);
  g_assert_no_error (error);
  wallet = wallet_new (f, chain, key);
  start_ok (wallet);
  wallet_free (wallet);
}

static void
test_no_batch_contract (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(KilnPayment) payment = NULL;
  g_autofree char *token = kiln_address_to_string (kiln_test_devnet_get_token (get_devnet ()));
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("1");
  KilnWallet *wallet;

  chain = kiln_chain_new_custom (kiln_test_devnet_get_rpc_url (get_devnet ()), KILN_DEVNET_CHAIN_ID,
                                 token, NULL, &error);
  g_assert_no_error (error);
  wallet = wallet_new (f, chain, key);
  start_ok (wallet);
  payment = AWAIT (kiln_wallet_pay_batch_async (wallet, &to, &amount, 1, NULL, NULL, NULL,
                                                on_result, &_result),
                   kiln_wallet_pay_batch_finish (wallet, result, &error));
  g_assert_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_NO_BATCH_CONTRACT);
  g_assert_cmpstr (error->message, ==, "This chain has no batch payment contract; payments are "
                                       "sent one by one");
  g_assert_null (payment);
  wallet_free (wallet);
}

/* Other chains: a legacy (pre-EIP-1559) chain, and the devnet preset */

static char *
anvil_path (void)
{
  return g_build_filename (g_getenv ("KILN_SOURCE_ROOT"), "node_modules", "@foundry-rs",
                           "anvil-linux-amd64", "bin", "anvil", NULL);
}

/* A failing test must not leave anvil behind. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
test_legacy_chain (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *anvil = anvil_path ();
  g_autofree char *port = g_strdup_printf ("%u", free_port ());
  g_autofree char *url = g_strconcat ("http://127.0.0.1:", port, NULL);
  g_autofree char *token = kiln_address_to_string (kiln_test_devnet_get_token (get_devnet ()));
  g_autofree char *params = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) node = NULL;
  g_autoptr(KilnRpcClient) client = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(KilnKey) key = kiln_test_devnet_dev_key (1);
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(KilnTransaction) tx = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("1.5"), balance, none = KILN_UINT256_INIT (0);
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  const KilnPaymentAttempt *attempt;
  KilnWallet *wallet;

  if (!g_file_test (anvil, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("anvil for this platform is not installed");
      return;
    }

  /* A Berlin chain has no base fee: legacy EIP-155 transactions with a gas price. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  node = g_subprocess_launcher_spawn (launcher, &error, anvil, "--host", "127.0.0.1", "--port",
                                      port, "--chain-id", "1337", "--hardfork", "berlin",
                                      "--silent", NULL);
  g_assert_no_error (error);
  client = client_new (url);
  kiln_rpc_client_set_max_attempts (client, 1);
  while (answer == NULL)
    {
      g_clear_error (&error);
      answer = AWAIT (kiln_rpc_client_call_async (client, "eth_chainId", NULL, NULL, on_result,
                                                  &_result),
                      kiln_rpc_client_call_finish (client, result, &error));
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
  g_clear_pointer (&answer, json_node_unref);

  /* A token stand-in that answers every call with a zero word (PUSH1 32 PUSH1 0 RETURN),
   * so that the balances read 0 GNT. */
  params = g_strdup_printf ("[\"%s\", \"0x60206000f3\"]", token);
  answer = raw_call (client, "anvil_setCode", params);

  chain = kiln_chain_new_custom (url, 1337, token, NULL, &error);
  g_assert_no_error (error);
  wallet = wallet_new (f, chain, key);
  start_ok (wallet);

  /* Test funds come only from the devnet. */
  AWAIT (kiln_wallet_devnet_fund_async (wallet, &amount, &amount, NULL, on_result, &_result),
         kiln_wallet_devnet_fund_finish (wallet, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  payment = send_sync (wallet, KILN_WALLET_ASSET_ETH, &to, &amount, NULL, NULL, &error);
  g_assert_no_error (error);
  done = wait_sync (wallet, payment);
  attempt = confirmed_attempt (done);
  tx = kiln_transaction_decode (g_bytes_get_data (attempt->raw, NULL),
                                g_bytes_get_size (attempt->raw), &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_transaction_get_tx_type (tx), ==, KILN_TRANSACTION_TYPE_LEGACY);
  g_assert_cmpuint (kiln_transaction_get_chain_id (tx), ==, 1337);
  assert_u256 (&attempt->max_fee_per_gas, &attempt->max_priority_fee_per_gas);
  balance = eth_balance_on (url, &to);
  assert_u256 (&balance, &amount);
  balance = eth_balance_of (&to);   /* nothing on the devnet, of course */
  assert_u256 (&balance, &none);

  wallet_free (wallet);
  g_subprocess_send_signal (node, SIGTERM);
  g_subprocess_wait (node, NULL, NULL);
}

static void
test_devnet_preset (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *state = g_build_filename (f->dir, "devnet.json", NULL);
  g_autofree char *script = g_build_filename (g_getenv ("KILN_SOURCE_ROOT"), "data", "devnet",
                                              "devnet.mjs", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) node = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(JsonNode) info = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(KilnKey) key = fresh_key ();
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  KilnWallet *wallet;
  KilnUint256 balance;

  /* The devnet as `make run` starts it, writing its state file. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_cwd (launcher, g_getenv ("KILN_SOURCE_ROOT"));
  node = g_subprocess_launcher_spawn (launcher, &error, "node", script, "--json", "--state-file",
                                      state, "--fund", kiln_key_get_address_string (key), NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (node));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  info = json_from_string (line, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (state, G_FILE_TEST_EXISTS));

  g_setenv ("KILN_DEVNET_STATE", state, TRUE);
  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_DEVNET, &error);
  g_unsetenv ("KILN_DEVNET_STATE");
  g_assert_no_error (error);
  g_assert_cmpstr (kiln_chain_get_rpc_url (chain), ==,
                   json_object_get_string_member (json_node_get_object (info), "rpc_url"));

  wallet = wallet_new (f, chain, key);
  start_ok (wallet);
  kiln_wallet_get_token_balance (wallet, &balance);
  assert_units (&balance, "1000");   /* the devnet's default funding */
  wallet_free (wallet);

  g_subprocess_send_signal (node, SIGTERM);
  g_subprocess_wait (node, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (state, G_FILE_TEST_EXISTS));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/kiln/wallet/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("balances", test_balances);
  ADD ("send/token", test_send_token);
  ADD ("send/eth", test_send_eth);
  ADD ("send/idempotent", test_idempotent);
  ADD ("pay-batch", test_pay_batch);
  ADD ("pay-batch/no-contract", test_no_batch_contract);
  ADD ("refuse/insufficient", test_insufficient);
  ADD ("history", test_history);
  ADD ("start/wrong-chain", test_wrong_chain);
  ADD ("chain/legacy", test_legacy_chain);
  ADD ("chain/devnet-preset", test_devnet_preset);

#undef ADD

  status = g_test_run ();
  wallet_test_cleanup ();
  return status;
}
