/* test-wallet-recovery.c: crashes, nonces taken by others, stuck transactions, a lost node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Against anvil with the GNT test token (see kiln-test-wallet.h). A crash between signing and
 * broadcasting is a child process (this program run with CRASH_CHILD) killed by SIGKILL right
 * after its payment is recorded; the parent then reopens the same ledger.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "kiln-test-wallet.h"

#define CRASH_CHILD "--crash-child"

static char *test_exe;

/* Crashes between signing and broadcasting */

static void
on_signed_crash (KilnWallet  *wallet,
                 KilnPayment *payment,
                 gpointer     user_data)
{
  /* Recorded, not yet broadcast: the worst moment to die. */
  raise (SIGKILL);
}

/* In a child process: signs and records a payment of @argv's amount, then dies by SIGKILL. */
static int
crash_child (char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnStore) store = NULL;
  g_autoptr(KilnPaymentLedger) ledger = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(KilnKey) key = NULL;
  g_autoptr(KilnWallet) wallet = NULL;
  g_autoptr(KilnPayment) payment = NULL;
  KilnAddress to;
  KilnUint256 amount;

  store = kiln_store_new (argv[2], NULL, &error);
  chain = store != NULL ? kiln_chain_new_custom (argv[3], KILN_DEVNET_CHAIN_ID, argv[4], argv[5],
                                                 &error) : NULL;
  if (chain == NULL || !kiln_address_parse (&to, argv[7], &error) ||
      !kiln_uint256_parse (&amount, argv[8], &error))
    goto failed;

  ledger = kiln_payment_ledger_new (store);
  key = kiln_test_devnet_dev_key ((guint) g_ascii_strtoull (argv[6], NULL, 10));
  wallet = kiln_wallet_new (chain, key, ledger);
  if (!start_sync (wallet, &error))
    goto failed;
  kiln_wallet_set_after_sign_hook (wallet, on_signed_crash, NULL);
  payment = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, NULL, &error);
  if (payment == NULL)
    goto failed;
  g_printerr ("the payment was broadcast, not killed before\n");
  return 2;

failed:
  g_printerr ("crash child: %s\n", error->message);
  return 1;
}

/* Runs crash_child() for dev account @key_index paying @amount to @to, and returns the payment
 * it left behind: signed, one attempt, not broadcast. */
static KilnPayment *
crash_after_signing (Fixture           *f,
                     guint              key_index,
                     const KilnAddress *to,
                     const KilnUint256 *amount)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GPtrArray) unfinished = NULL;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  g_autofree char *token = kiln_address_to_string (kiln_test_devnet_get_token (get_devnet ()));
  g_autofree char *batch = kiln_address_to_string (kiln_test_devnet_get_batch_pay (get_devnet ()));
  g_autofree char *to_text = kiln_address_to_string (to);
  g_autofree char *amount_text = kiln_uint256_to_string (amount);
  g_autofree char *index = g_strdup_printf ("%u", key_index);
  g_autoptr(KilnKey) key = kiln_test_devnet_dev_key (key_index);
  KilnPayment *payment;

  child = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, test_exe, CRASH_CHILD, f->db_path,
                            kiln_test_devnet_get_rpc_url (get_devnet ()), token, batch, index,
                            to_text, amount_text, NULL);
  g_assert_no_error (error);
  g_subprocess_wait (child, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (child));
  g_assert_cmpint (g_subprocess_get_term_sig (child), ==, SIGKILL);

  unfinished = kiln_payment_ledger_list_unfinished (f->ledger, KILN_DEVNET_CHAIN_ID,
                                                    kiln_key_get_address (key), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 1);
  payment = kiln_payment_ref (g_ptr_array_index (unfinished, 0));
  g_assert_cmpint (kiln_payment_get_state (payment), ==, KILN_PAYMENT_STATE_SIGNED);
  g_assert_cmpuint (kiln_payment_get_n_attempts (payment), ==, 1);
  g_assert_cmpint (kiln_payment_get_attempt (payment, 0)->state, ==,
                   KILN_PAYMENT_ATTEMPT_SIGNED);
  receipt = receipt_of (kiln_payment_get_attempt (payment, 0)->tx_hash);
  g_assert_null (receipt);
  return payment;
}

/* Dev account @index with @gnt more GNT, and its nonce. */
static guint64
prepare_dev_account (Fixture    *f,
                     guint       index,
                     const char *gnt)
{
  g_autoptr(KilnKey) key = kiln_test_devnet_dev_key (index);
  KilnWallet *wallet = funded_wallet (f, key, "0", gnt);

  wallet_free (wallet);
  return nonce_of (kiln_key_get_address (key), "latest");
}

static void
test_crash_then_broadcast (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(KilnKey) key = kiln_test_devnet_dev_key (3);
  g_autoptr(KilnPayment) left = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(GError) error = NULL;
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("7.25"), balance;
  guint64 nonce = prepare_dev_account (f, 3, "20");
  KilnWallet *wallet;

  left = crash_after_signing (f, 3, &to, &amount);
  g_assert_cmpuint (nonce_of (kiln_key_get_address (key), "pending"), ==, nonce);

  /* The next start finds it and broadcasts the very bytes it recorded. */
  wallet = wallet_new (f, NULL, key);
  start_ok (wallet);
  done = wait_sync (wallet, left);
  g_assert_cmpint (kiln_payment_get_id (done), ==, kiln_payment_get_id (left));
  g_assert_cmpuint (kiln_payment_get_n_attempts (done), ==, 1);
  g_assert_cmpmem (confirmed_attempt (done)->tx_hash, 32,
                   kiln_payment_get_attempt (left, 0)->tx_hash, 32);

  /* Paid once, one nonce used. */
  balance = token_balance_of (&to);
  assert_u256 (&balance, &amount);
  g_assert_cmpuint (nonce_of (kiln_key_get_address (key), "latest"), ==, nonce + 1);
  wallet_free (wallet);
}

static void
test_crash_after_broadcast (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KilnKey) key = kiln_test_devnet_dev_key (4);
  g_autoptr(KilnPayment) left = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(GError) error = NULL;
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("1.5"), balance;
  guint64 nonce = prepare_dev_account (f, 4, "20");
  KilnWallet *wallet;

  /* It did reach the network before the crash (here, by our hand): "nonce too low" or
   * "already known" then, and the receipt settles it; nothing is signed again. */
  left = crash_after_signing (f, 4, &to, &amount);
  send_raw (kiln_test_devnet_get_rpc_url (get_devnet ()), kiln_payment_get_attempt (left, 0)->raw);

  wallet = wallet_new (f, NULL, key);
  start_ok (wallet);
  done = wait_sync (wallet, left);
  g_assert_cmpint (kiln_payment_get_id (done), ==, kiln_payment_get_id (left));
  g_assert_cmpuint (kiln_payment_get_n_attempts (done), ==, 1);
  balance = token_balance_of (&to);
  assert_u256 (&balance, &amount);
  g_assert_cmpuint (nonce_of (kiln_key_get_address (key), "latest"), ==, nonce + 1);
  wallet_free (wallet);
}

static void
test_crash_nonce_taken (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KilnKey) key = kiln_test_devnet_dev_key (5);
  g_autoptr(KilnPayment) left = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(KilnPayment) old = NULL;
  g_autoptr(GBytes) external = NULL;
  g_autoptr(GError) error = NULL;
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("2.25"), balance;
  guint64 nonce = prepare_dev_account (f, 5, "20");
  KilnWallet *wallet;

  /* While Kiln was down, another program used the payment's nonce. */
  left = crash_after_signing (f, 5, &to, &amount);
  external = external_transfer (key, KILN_DEVNET_CHAIN_ID, nonce, 1);
  send_raw (kiln_test_devnet_get_rpc_url (get_devnet ()), external);

  /* Proven unmined (no receipt), it is given up and paid once with a new nonce. */
  wallet = wallet_new (f, NULL, key);
  start_ok (wallet);
  done = wait_sync (wallet, left);
  g_assert_cmpint (kiln_payment_get_id (done), !=, kiln_payment_get_id (left));
  old = kiln_payment_ledger_get (f->ledger, kiln_payment_get_id (left), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (old), ==, KILN_PAYMENT_STATE_FAILED);
  g_assert_nonnull (strstr (kiln_payment_get_error (old), "nonce"));
  balance = token_balance_of (&to);
  assert_u256 (&balance, &amount);
  g_assert_cmpuint (nonce_of (kiln_key_get_address (key), "latest"), ==, nonce + 2);
  wallet_free (wallet);
}

static void
test_nonce_gap (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  KilnWallet *wallet = funded_wallet (f, key, "1", "10");
  const KilnAddress *from = kiln_key_get_address (key);
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("1"), balance;
  g_autoptr(KilnPayment) first = NULL;
  g_autoptr(KilnPayment) second = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(GBytes) external = NULL;
  g_autoptr(GError) error = NULL;
  guint64 nonce;

  first = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, NULL, &error);
  g_assert_no_error (error);
  done = wait_sync (wallet, first);
  g_assert_true (kiln_payment_get_nonce (done, &nonce));
  g_assert_cmpuint (nonce, ==, 0);

  /* Two transactions from elsewhere move the account's nonce to 3. */
  external = external_transfer (key, KILN_DEVNET_CHAIN_ID, 1, 1);
  send_raw (kiln_test_devnet_get_rpc_url (get_devnet ()), external);
  g_clear_pointer (&external, g_bytes_unref);
  external = external_transfer (key, KILN_DEVNET_CHAIN_ID, 2, 1);
  send_raw (kiln_test_devnet_get_rpc_url (get_devnet ()), external);
  g_assert_cmpuint (nonce_of (from, "latest"), ==, 3);

  second = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&done, kiln_payment_unref);
  done = wait_sync (wallet, second);
  g_assert_true (kiln_payment_get_nonce (done, &nonce));
  g_assert_cmpuint (nonce, ==, 3);
  balance = token_balance_of (&to);
  assert_units (&balance, "2");

  wallet_free (wallet);
}

static void
test_crash_resend_pending (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  KilnWallet *wallet = funded_wallet (f, key, "1", "10");
  const KilnAddress *token = kiln_test_devnet_get_token (get_devnet ());
  KilnAddress payees[2] = { fresh_address (), fresh_address () };
  KilnUint256 amounts[2] = { units ("1.25"), units ("2") }, balance;
  g_autoptr(KilnPayment) draft = NULL;
  g_autoptr(KilnPayment) resend = NULL;
  g_autoptr(KilnPayment) other = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(GError) error = NULL;
  gint64 other_id;

  /* A crash came after a payment was resent as a new one and before that one was signed;
   * another payment recorded before a crash waits for its own retry. */
  wallet_free (wallet);
  draft = kiln_payment_new (KILN_PAYMENT_KIND_BATCH, KILN_DEVNET_CHAIN_ID,
                            kiln_key_get_address (key));
  kiln_payment_set_token (draft, token);
  kiln_payment_set_reference (draft, "job 9");
  kiln_payment_set_idempotency_key (draft, KILN_WALLET_RESEND_KEY_PREFIX "12345");
  kiln_payment_add_recipient (draft, &payees[0], &amounts[0]);
  kiln_payment_add_recipient (draft, &payees[1], &amounts[1]);
  resend = kiln_payment_ledger_create (f->ledger, draft, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&draft, kiln_payment_unref);
  draft = kiln_payment_new (KILN_PAYMENT_KIND_ERC20, KILN_DEVNET_CHAIN_ID,
                            kiln_key_get_address (key));
  kiln_payment_set_token (draft, token);
  kiln_payment_set_idempotency_key (draft, "job 10");
  kiln_payment_add_recipient (draft, &payees[0], &amounts[1]);
  other = kiln_payment_ledger_create (f->ledger, draft, NULL, &error);
  g_assert_no_error (error);

  wallet = wallet_new (f, NULL, key);
  start_ok (wallet);
  done = wait_sync (wallet, resend);
  g_assert_cmpint (kiln_payment_get_id (done), ==, kiln_payment_get_id (resend));
  balance = token_balance_of (&payees[0]);
  assert_u256 (&balance, &amounts[0]);
  balance = token_balance_of (&payees[1]);
  assert_u256 (&balance, &amounts[1]);

  other_id = kiln_payment_get_id (other);
  g_clear_pointer (&other, kiln_payment_unref);
  other = kiln_payment_ledger_get (f->ledger, other_id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (other), ==, KILN_PAYMENT_STATE_PENDING);
  g_assert_cmpuint (kiln_payment_get_n_attempts (other), ==, 0);
  wallet_free (wallet);
}

/* Between recording and broadcasting, another program takes the payment's nonce: its
 * transaction is mined at once ("nonce too low" then), or waits in the pool with higher
 * fees ("replacement transaction underpriced"). */
typedef struct
{
  gboolean taken;
  gboolean pending;
} Taker;

static void
on_signed_take_nonce (KilnWallet  *wallet,
                      KilnPayment *payment,
                      gpointer     user_data)
{
  Taker *taker = user_data;
  g_autoptr(KilnKey) key = NULL;
  g_autoptr(GBytes) external = NULL;
  guint64 nonce;

  if (taker->taken)
    return;
  taker->taken = TRUE;
  g_object_get (wallet, "key", &key, NULL);
  g_assert_true (kiln_payment_get_nonce (payment, &nonce));
  external = external_transfer (key, KILN_DEVNET_CHAIN_ID, nonce, 1);
  if (taker->pending)
    devnet_call ("evm_setAutomine", "[false]");
  send_raw (kiln_test_devnet_get_rpc_url (get_devnet ()), external);
}

static void
test_nonce_taken_while_sending (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  KilnWallet *wallet = funded_wallet (f, key, "1", "10");
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("3"), balance;
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(GPtrArray) payments = NULL;
  g_autoptr(GError) error = NULL;
  Taker taker = { .pending = GPOINTER_TO_INT (data) };
  KilnPayment *old;

  /* Refused, its transaction can never be mined: it is resent with the next nonce. */
  kiln_wallet_set_after_sign_hook (wallet, on_signed_take_nonce, &taker);
  payment = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (taker.taken);
  if (taker.pending)
    {
      devnet_call ("evm_mine", "[]");
      devnet_call ("evm_setAutomine", "[true]");
    }
  done = wait_sync (wallet, payment);
  balance = token_balance_of (&to);
  assert_u256 (&balance, &amount);
  g_assert_cmpuint (nonce_of (kiln_key_get_address (key), "latest"), ==, 2);

  payments = ledger_payments (f);
  g_assert_cmpuint (payments->len, ==, 2);
  old = g_ptr_array_index (payments, 1);
  g_assert_cmpint (kiln_payment_get_state (old), ==, KILN_PAYMENT_STATE_FAILED);
  g_assert_cmpint (kiln_payment_get_id (done), !=, kiln_payment_get_id (old));
  wallet_free (wallet);
}

/* The endpoint down, then back */

static void
on_spliced (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_io_stream_splice_finish (result, NULL);
}

/* Forwards each connection to the devnet: the endpoint coming back. */
static gboolean
on_forward (GSocketService    *service,
            GSocketConnection *connection,
            GObject           *source,
            gpointer           user_data)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) upstream = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = g_uri_parse (kiln_test_devnet_get_rpc_url (get_devnet ()),
                                     G_URI_FLAGS_NONE, NULL);

  upstream = g_socket_client_connect_to_host (client, g_uri_get_host (uri),
                                              g_uri_get_port (uri), NULL, &error);
  g_assert_no_error (error);
  g_io_stream_splice_async (G_IO_STREAM (connection), G_IO_STREAM (upstream),
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, NULL, on_spliced, NULL);
  return TRUE;
}

static void
test_endpoint_down (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(GSocketService) service = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = NULL;
  g_autofree char *url = NULL;
  g_autofree char *token = kiln_address_to_string (kiln_test_devnet_get_token (get_devnet ()));
  g_autofree char *expected = NULL;
  guint16 port = free_port ();
  KilnWallet *wallet;

  url = g_strdup_printf ("http://127.0.0.1:%u", port);
  chain = kiln_chain_new_custom (url, KILN_DEVNET_CHAIN_ID, token, NULL, &error);
  g_assert_no_error (error);
  wallet = wallet_new (f, chain, key);
  kiln_rpc_client_set_max_attempts (kiln_wallet_get_rpc (wallet), 1);

  /* Nobody listens: a clear error that names the node. */
  g_assert_false (start_sync (wallet, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  expected = g_strdup_printf ("Cannot reach the Ethereum node at %s", url);
  g_assert_true (g_str_has_prefix (error->message, expected));
  g_assert_false (kiln_wallet_get_has_balances (wallet));
  g_clear_error (&error);

  /* The node is back: the same wallet starts. */
  service = g_socket_service_new ();
  address = g_inet_socket_address_new (loopback, port);
  g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (on_forward), NULL);
  g_socket_service_start (service);

  start_ok (wallet);
  g_assert_true (kiln_wallet_get_has_balances (wallet));

  wallet_free (wallet);
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
}

/* Stuck transactions */

typedef struct
{
  gint64       id;
  KilnPayment *latest;
  gboolean     replaced;
} Watch;

static void
on_payment_changed (KilnWallet  *wallet,
                    KilnPayment *payment,
                    Watch       *watch)
{
  const KilnPaymentAttempt *latest = kiln_payment_get_latest_attempt (payment);

  if (kiln_payment_get_id (payment) != watch->id)
    return;
  g_clear_pointer (&watch->latest, kiln_payment_unref);
  watch->latest = kiln_payment_ref (payment);
  if (kiln_payment_get_n_attempts (payment) >= 2 &&
      latest->state == KILN_PAYMENT_ATTEMPT_BROADCAST &&
      kiln_payment_get_attempt (payment, 0)->state == KILN_PAYMENT_ATTEMPT_REPLACED)
    watch->replaced = TRUE;
}

static void
test_replace_stuck (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KilnKey) key = fresh_key ();
  KilnWallet *wallet = funded_wallet (f, key, "5", "10");
  KilnAddress to = fresh_address ();
  KilnUint256 amount = units ("4"), balance, bumped;
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnPayment) snapshot = NULL;
  const KilnPaymentAttempt *first, *second, *confirmed;
  Watch watch = { 0, };

  g_object_set (wallet, "replace-after", 300, NULL);
  g_signal_connect (wallet, "payment-changed", G_CALLBACK (on_payment_changed), &watch);

  /* No mining: the payment waits in the pool. Then a block whose base fee (100 gwei) is far
   * above what it offers leaves it there. */
  devnet_call ("evm_setAutomine", "[false]");
  payment = send_sync (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, NULL, &error);
  g_assert_no_error (error);
  watch.id = kiln_payment_get_id (payment);
  first = kiln_payment_get_attempt (payment, 0);
  devnet_call ("anvil_setNextBlockBaseFeePerGas", "[\"0x174876e800\"]");
  devnet_call ("evm_mine", "[]");
  receipt = receipt_of (first->tx_hash);
  g_assert_null (receipt);

  /* The wallet replaces it: same nonce, higher fees; the first attempt is marked replaced. */
  iterate_until (&watch.replaced);
  snapshot = kiln_payment_ref (watch.latest);
  second = kiln_payment_get_latest_attempt (snapshot);
  g_assert_cmpuint (second->nonce, ==, first->nonce);
  g_assert_true (kiln_uint256_mul_uint64 (&bumped, &first->max_fee_per_gas, 9));
  kiln_uint256_div_small (&bumped, &bumped, 8);
  g_assert_cmpint (kiln_uint256_compare (&second->max_fee_per_gas, &bumped), >=, 0);
  g_assert_true (kiln_uint256_mul_uint64 (&bumped, &first->max_priority_fee_per_gas, 9));
  kiln_uint256_div_small (&bumped, &bumped, 8);
  g_assert_cmpint (kiln_uint256_compare (&second->max_priority_fee_per_gas, &bumped), >=, 0);
  bumped = u256 (G_GUINT64_CONSTANT (87500000000));   /* the next block's base fee */
  g_assert_cmpint (kiln_uint256_compare (&second->max_fee_per_gas, &bumped), >=, 0);

  /* Mined at last: a replacement (this one, unless the wallet bumped again meanwhile), once;
   * every other attempt is marked replaced. */
  devnet_call ("evm_mine", "[]");
  devnet_call ("evm_setAutomine", "[true]");
  done = wait_sync (wallet, payment);
  confirmed = confirmed_attempt (done);
  g_assert_cmpint (memcmp (confirmed->tx_hash, first->tx_hash, 32), !=, 0);
  g_assert_cmpuint (confirmed->nonce, ==, first->nonce);
  if (kiln_payment_get_n_attempts (done) == 2)
    g_assert_cmpmem (confirmed->tx_hash, 32, second->tx_hash, 32);
  for (guint i = 0; i < kiln_payment_get_n_attempts (done); i++)
    if (kiln_payment_get_attempt (done, i) != confirmed)
      g_assert_cmpint (kiln_payment_get_attempt (done, i)->state, ==,
                       KILN_PAYMENT_ATTEMPT_REPLACED);
  balance = token_balance_of (&to);
  assert_u256 (&balance, &amount);

  g_signal_handlers_disconnect_by_data (wallet, &watch);
  g_clear_pointer (&watch.latest, kiln_payment_unref);
  wallet_free (wallet);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  if (argc == 9 && strcmp (argv[1], CRASH_CHILD) == 0)
    return crash_child (argv);

  g_test_init (&argc, &argv, NULL);
  test_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_assert_nonnull (test_exe);

#define ADD(path, func) \
  g_test_add ("/kiln/wallet/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("crash/before-broadcast", test_crash_then_broadcast);
  ADD ("crash/after-broadcast", test_crash_after_broadcast);
  ADD ("crash/nonce-taken", test_crash_nonce_taken);
  ADD ("crash/resend-pending", test_crash_resend_pending);
  ADD ("nonce/gap", test_nonce_gap);
  ADD ("nonce/taken-while-sending/mined", test_nonce_taken_while_sending);
  g_test_add ("/kiln/wallet/nonce/taken-while-sending/pending", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_nonce_taken_while_sending, fixture_teardown);
  ADD ("replace-stuck", test_replace_stuck);
  ADD ("start/endpoint-down", test_endpoint_down);

#undef ADD

  status = g_test_run ();
  wallet_test_cleanup ();
  g_free (test_exe);
  return status;
}
