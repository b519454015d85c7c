/* kiln-test-wallet.c: wallets on the devnet for the wallet tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "kiln-test-wallet.h"

#define WAIT_LIMIT_US  (90 * G_USEC_PER_SEC)
#define POLL_MS        50

static KilnTestDevnet *devnet;

/* Waiting on the main loop */

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

void
on_result (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

/* Iterates the main context until *@done, failing after WAIT_LIMIT_US. */
void
iterate_until (const gboolean *done)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;
  guint tick = g_timeout_add (20, on_tick, NULL);

  while (!*done)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
}

GAsyncResult *
await_result (GAsyncResult **slot)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;
  guint tick = g_timeout_add (20, on_tick, NULL);

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
  return *slot;
}

/* Amounts and addresses */

KilnUint256
units (const char *text)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 value;

  kiln_uint256_parse_units (&value, text, 18, "GNT", &error);
  g_assert_no_error (error);
  return value;
}

KilnUint256
u256 (guint64 value)
{
  KilnUint256 out;

  kiln_uint256_from_uint64 (&out, value);
  return out;
}

KilnUint256
sub (const KilnUint256 *a,
     const KilnUint256 *b)
{
  KilnUint256 out;

  g_assert_true (kiln_uint256_sub (&out, a, b));
  return out;
}

void
assert_u256 (const KilnUint256 *value,
             const KilnUint256 *expected)
{
  g_autofree char *a = kiln_uint256_to_string (value);
  g_autofree char *b = kiln_uint256_to_string (expected);

  g_assert_cmpstr (a, ==, b);
}

void
assert_units (const KilnUint256 *value,
              const char        *expected)
{
  KilnUint256 amount = units (expected);

  assert_u256 (value, &amount);
}

KilnAddress
fresh_address (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = kiln_key_generate (&error);

  g_assert_no_error (error);
  return *kiln_key_get_address (key);
}

KilnKey *
fresh_key (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_generate (&error);

  g_assert_no_error (error);
  return key;
}

/* The devnet and independent reads from it */

KilnTestDevnet *
get_devnet (void)
{
  if (devnet == NULL)
    {
      g_autoptr(GError) error = NULL;

      devnet = kiln_test_devnet_start (NULL, &error);
      g_assert_no_error (error);
    }
  return devnet;
}

KilnRpcClient *
client_new (const char *url)
{
  g_autoptr(GError) error = NULL;
  KilnRpcClient *client = kiln_rpc_client_new (url, &error);

  g_assert_no_error (error);
  return client;
}

JsonNode *
raw_call (KilnRpcClient *client,
          const char    *method,
          const char    *params_json)
{
  g_autoptr(JsonNode) params = json_from_string (params_json, NULL);
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  node = AWAIT (kiln_rpc_client_call_async (client, method, params, NULL, on_result, &_result),
                kiln_rpc_client_call_finish (client, result, &error));
  g_assert_no_error (error);
  return node;
}

void
devnet_call (const char *method,
             const char *params_json)
{
  g_autoptr(KilnRpcClient) client = client_new (kiln_test_devnet_get_rpc_url (get_devnet ()));
  g_autoptr(JsonNode) node = raw_call (client, method, params_json);
}

KilnUint256
token_balance_of (const KilnAddress *owner)
{
  g_autoptr(KilnRpcClient) client = client_new (kiln_test_devnet_get_rpc_url (get_devnet ()));
  g_autoptr(GBytes) call = kiln_abi_encode_balance_of (owner);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 value;
  gsize len;
  const guint8 *data;

  answer = AWAIT (kiln_rpc_client_call_contract_async (client, NULL,
                                                       kiln_test_devnet_get_token (devnet),
                                                       call, "latest", NULL, on_result,
                                                       &_result),
                  kiln_rpc_client_call_contract_finish (client, result, &error));
  g_assert_no_error (error);
  data = g_bytes_get_data (answer, &len);
  kiln_abi_decode_uint256 (data, len, &value, &error);
  g_assert_no_error (error);
  return value;
}

KilnUint256
eth_balance_on (const char        *url,
                const KilnAddress *owner)
{
  g_autoptr(KilnRpcClient) client = client_new (url);
  g_autoptr(GError) error = NULL;
  KilnUint256 value;

  AWAIT (kiln_rpc_client_get_balance_async (client, owner, "latest", NULL, on_result, &_result),
         kiln_rpc_client_get_balance_finish (client, result, &value, &error));
  g_assert_no_error (error);
  return value;
}

KilnUint256
eth_balance_of (const KilnAddress *owner)
{
  return eth_balance_on (kiln_test_devnet_get_rpc_url (get_devnet ()), owner);
}

guint64
nonce_of (const KilnAddress *owner,
          const char        *block)
{
  g_autoptr(KilnRpcClient) client = client_new (kiln_test_devnet_get_rpc_url (get_devnet ()));
  g_autoptr(GError) error = NULL;
  guint64 nonce = 0;

  AWAIT (kiln_rpc_client_get_transaction_count_async (client, owner, block, NULL, on_result,
                                                      &_result),
         kiln_rpc_client_get_transaction_count_finish (client, result, &nonce, &error));
  g_assert_no_error (error);
  return nonce;
}

KilnRpcReceipt *
receipt_of (const guint8 hash[32])
{
  g_autoptr(KilnRpcClient) client = client_new (kiln_test_devnet_get_rpc_url (get_devnet ()));
  g_autoptr(GError) error = NULL;
  KilnRpcReceipt *receipt;

  receipt = AWAIT (kiln_rpc_client_get_transaction_receipt_async (client, hash, NULL, on_result,
                                                                  &_result),
                   kiln_rpc_client_get_transaction_receipt_finish (client, result, &error));
  g_assert_no_error (error);
  return receipt;
}

void
send_raw (const char *url,
          GBytes     *raw)
{
  g_autoptr(KilnRpcClient) client = client_new (url);
  g_autoptr(GError) error = NULL;
  guint8 hash[32];

  AWAIT (kiln_rpc_client_send_raw_transaction_async (client, raw, NULL, on_result, &_result),
         kiln_rpc_client_send_raw_transaction_finish (client, result, hash, &error));
  g_assert_no_error (error);
}

/* The same balance as ethers reads it, in base units. */
char *
ethers_token_balance (const KilnAddress *owner)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = kiln_address_to_string (kiln_test_devnet_get_token (get_devnet ()));
  g_autofree char *address = kiln_address_to_string (owner);
  g_autofree char *script = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *out = NULL;

  script = g_strdup_printf ("const { ethers } = require ('ethers');"
                            "const p = new ethers.JsonRpcProvider ('%s');"
                            "const t = new ethers.Contract ('%s', ['function balanceOf(address) "
                            "view returns (uint256)'], p);"
                            "t.balanceOf ('%s').then ((b) => { console.log (b.toString ()); "
                            "p.destroy (); });",
                            kiln_test_devnet_get_rpc_url (devnet), token, address);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_cwd (launcher, g_getenv ("KILN_SOURCE_ROOT"));
  process = g_subprocess_launcher_spawn (launcher, &error, "node", "-e", script, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  return g_strstrip (g_steal_pointer (&out));
}

/* Wallets */

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static KilnChain *
devnet_chain (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = kiln_address_to_string (kiln_test_devnet_get_token (get_devnet ()));
  g_autofree char *batch = kiln_address_to_string (kiln_test_devnet_get_batch_pay (devnet));
  KilnChain *chain;

  chain = kiln_chain_new_custom (kiln_test_devnet_get_rpc_url (devnet), KILN_DEVNET_CHAIN_ID,
                                 token, batch, &error);
  g_assert_no_error (error);
  return chain;
}

void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("kiln-test-wallet-XXXXXX", &error);
  g_assert_no_error (error);
  f->db_path = g_build_filename (f->dir, KILN_STORE_FILE_NAME, NULL);
  f->store = kiln_store_new (f->db_path, NULL, &error);
  g_assert_no_error (error);
  f->ledger = kiln_payment_ledger_new (f->store);
  f->chain = devnet_chain ();
}

void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->chain);
  g_assert_finalize_object (f->ledger);
  g_assert_finalize_object (f->store);
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->db_path);
}

KilnWallet *
wallet_new (Fixture   *f,
            KilnChain *chain,
            KilnKey   *key)
{
  KilnWallet *wallet = kiln_wallet_new (chain != NULL ? chain : f->chain, key, f->ledger);

  g_object_set (wallet, "poll-interval", POLL_MS, NULL);
  return wallet;
}

/* Drops @wallet and checks that it is finalized once its last operations have ended. */
void
wallet_free (KilnWallet *wallet)
{
  GWeakRef ref;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  GObject *alive;

  g_weak_ref_init (&ref, wallet);
  g_object_unref (wallet);
  while ((alive = g_weak_ref_get (&ref)) != NULL)
    {
      g_object_unref (alive);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
    }
  g_weak_ref_clear (&ref);
}

gboolean
start_sync (KilnWallet  *wallet,
            GError     **error)
{
  return AWAIT (kiln_wallet_start_async (wallet, NULL, on_result, &_result),
                kiln_wallet_start_finish (wallet, result, error));
}

void
start_ok (KilnWallet *wallet)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = start_sync (wallet, &error);

  g_assert_no_error (error);
  g_assert_true (ok);
}

void
fund_sync (KilnWallet *wallet,
           const char *eth,
           const char *gnt)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 eth_wei = units (eth), tokens = units (gnt);

  AWAIT (kiln_wallet_devnet_fund_async (wallet, &eth_wei, &tokens, NULL, on_result, &_result),
         kiln_wallet_devnet_fund_finish (wallet, result, &error));
  g_assert_no_error (error);
}

/* A started wallet for @key, funded with @eth and @gnt (either may be "0"). */
KilnWallet *
funded_wallet (Fixture    *f,
               KilnKey    *key,
               const char *eth,
               const char *gnt)
{
  g_autoptr(GError) error = NULL;
  KilnWallet *wallet = wallet_new (f, NULL, key);

  start_ok (wallet);
  if (strcmp (eth, "0") != 0 || strcmp (gnt, "0") != 0)
    fund_sync (wallet, eth, gnt);
  return wallet;
}

KilnPayment *
send_sync (KilnWallet        *wallet,
           KilnWalletAsset    asset,
           const KilnAddress *to,
           const KilnUint256 *amount,
           const char        *reference,
           const char        *key,
           GError           **error)
{
  return AWAIT (kiln_wallet_send_async (wallet, asset, to, amount, reference, key, NULL,
                                        on_result, &_result),
                kiln_wallet_send_finish (wallet, result, error));
}

KilnPayment *
wait_sync (KilnWallet  *wallet,
           KilnPayment *payment)
{
  g_autoptr(GError) error = NULL;
  KilnPayment *done;

  done = AWAIT (kiln_wallet_wait_async (wallet, payment, NULL, on_result, &_result),
                kiln_wallet_wait_finish (wallet, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kiln_payment_get_state (done), ==, KILN_PAYMENT_STATE_CONFIRMED);
  return done;
}

const KilnPaymentAttempt *
confirmed_attempt (KilnPayment *payment)
{
  for (guint i = 0; i < kiln_payment_get_n_attempts (payment); i++)
    if (kiln_payment_get_attempt (payment, i)->state == KILN_PAYMENT_ATTEMPT_CONFIRMED)
      return kiln_payment_get_attempt (payment, i);
  g_assert_not_reached ();
}

GPtrArray *
ledger_payments (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnPaymentHistory) history = NULL;

  history = kiln_payment_ledger_list_history (f->ledger, 0, NULL, 0, 1000, NULL, &error);
  g_assert_no_error (error);
  return g_ptr_array_ref (history->payments);
}

/* The transaction fee a receipt paid, in wei. */
KilnUint256
receipt_fee (const guint8 hash[32])
{
  g_autoptr(KilnRpcReceipt) receipt = receipt_of (hash);
  KilnUint256 fee;

  g_assert_nonnull (receipt);
  g_assert_true (receipt->success);
  g_assert_true (kiln_rpc_receipt_get_fee (receipt, &fee));
  return fee;
}

/* A transfer of @wei signed with @key at @nonce, not recorded anywhere: another program
 * using the same account. */
GBytes *
external_transfer (KilnKey *key,
                   guint64  chain_id,
                   guint64  nonce,
                   guint64  wei)
{
  g_autoptr(KilnTransaction) tx = kiln_transaction_new (KILN_TRANSACTION_TYPE_EIP1559, chain_id);
  g_autoptr(GError) error = NULL;
  KilnAddress to = fresh_address ();
  KilnUint256 value = u256 (wei), fee = u256 (G_GUINT64_CONSTANT (200000000000)),
              tip = u256 (G_GUINT64_CONSTANT (2000000000));

  kiln_transaction_set_nonce (tx, nonce);
  kiln_transaction_set_gas_limit (tx, 21000);
  kiln_transaction_set_to (tx, &to);
  kiln_transaction_set_value (tx, &value);
  kiln_transaction_set_max_fee_per_gas (tx, &fee);
  kiln_transaction_set_max_priority_fee_per_gas (tx, &tip);
  kiln_transaction_sign (tx, key, &error);
  g_assert_no_error (error);
  return kiln_transaction_encode_signed (tx);
}

guint16
free_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port;

  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  return port;
}


void
wallet_test_cleanup (void)
{
  g_clear_pointer (&devnet, kiln_test_devnet_free);
}
