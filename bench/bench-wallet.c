/* bench-wallet.c: gas per payee of a KilnBatchPay batch against plain ERC-20 transfers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On the devnet, in one run: a plain GNT transfer to a new address (the baseline), then
 * batches paying 1, 10 and 100 new addresses. Each figure is the gas a receipt reports
 * (gasUsed), divided by the number of payees for batches, with its ratio to the baseline.
 * The approval of the batch contract (one transaction per batch here, since each approves
 * exactly its total) is printed apart: it is not part of the batch's own gas.
 */
#include "config.h"

#include <glib/gstdio.h>

#include "kiln-test-devnet.h"
#include "libkiln.h"

#define WAIT_LIMIT_US (120 * G_USEC_PER_SEC)

static const guint batch_sizes[] = { 1, 10, 100 };

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
on_result (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Runs the main loop until *@slot is set. */
static GAsyncResult *
await_result (GAsyncResult **slot)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;
  guint tick = g_timeout_add (20, on_tick, NULL);

  while (*slot == NULL)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("bench-wallet: the devnet did not answer in time");
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
  return *slot;
}

static void
check (GError *error)
{
  if (error != NULL)
    g_error ("bench-wallet: %s", error->message);
}

static KilnUint256
units (const char *text)
{
  GError *error = NULL;
  KilnUint256 value;

  kiln_uint256_parse_units (&value, text, 18, "GNT", &error);
  check (error);
  return value;
}

static KilnAddress
new_address (void)
{
  GError *error = NULL;
  g_autoptr(KilnKey) key = kiln_key_generate (&error);

  check (error);
  return *kiln_key_get_address (key);
}

/* The gas @payment's mined transaction used, once confirmed. */
static guint64
confirmed_gas (KilnWallet  *wallet,
               KilnPayment *payment)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(KilnPayment) done = NULL;
  GError *error = NULL;
  guint64 block, gas_used;

  kiln_wallet_wait_async (wallet, payment, NULL, on_result, &result);
  await_result (&result);
  done = kiln_wallet_wait_finish (wallet, result, &error);
  check (error);
  if (!kiln_payment_get_confirmation (done, &block, &gas_used))
    g_error ("bench-wallet: payment %" G_GINT64_FORMAT " is not confirmed",
             kiln_payment_get_id (done));
  return gas_used;
}

static guint64
transfer_gas (KilnWallet *wallet)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(KilnPayment) payment = NULL;
  KilnAddress to = new_address ();
  KilnUint256 amount = units ("1");
  GError *error = NULL;

  kiln_wallet_send_async (wallet, KILN_WALLET_ASSET_TOKEN, &to, &amount, NULL, NULL, NULL,
                          on_result, &result);
  await_result (&result);
  payment = kiln_wallet_send_finish (wallet, result, &error);
  check (error);
  return confirmed_gas (wallet, payment);
}

/* The gas of @account's call of @to mined in block @number, or 0. */
static guint64
call_gas_in_block (KilnRpcClient     *rpc,
                   guint64            number,
                   const KilnAddress *account,
                   const KilnAddress *to)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) params = NULL;
  g_autoptr(JsonNode) block = NULL;
  g_autofree char *hex = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", number);
  GError *error = NULL;
  JsonArray *hashes;

  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, hex);
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_end_array (builder);
  params = json_builder_get_root (builder);
  kiln_rpc_client_call_async (rpc, "eth_getBlockByNumber", params, NULL, on_result, &result);
  await_result (&result);
  block = kiln_rpc_client_call_finish (rpc, result, &error);
  check (error);
  g_clear_object (&result);

  hashes = json_object_get_array_member (json_node_get_object (block), "transactions");
  for (guint i = 0; i < json_array_get_length (hashes); i++)
    {
      g_autoptr(KilnRpcReceipt) receipt = NULL;
      guint8 hash[32];

      if (!kiln_hex_decode (json_array_get_string_element (hashes, i), hash, sizeof hash,
                            &error))
        check (error);
      kiln_rpc_client_get_transaction_receipt_async (rpc, hash, NULL, on_result, &result);
      await_result (&result);
      receipt = kiln_rpc_client_get_transaction_receipt_finish (rpc, result, &error);
      check (error);
      g_clear_object (&result);
      if (receipt != NULL && kiln_address_equal (&receipt->from, account) && receipt->has_to &&
          kiln_address_equal (&receipt->to, to))
        return receipt->gas_used;
    }
  return 0;
}

/* The gas of a batch to @n new addresses, and of the approval mined just before it (the
 * devnet mines each transaction in its own block). */
static guint64
batch_gas (KilnWallet     *wallet,
           KilnRpcClient  *rpc,
           guint           n,
           guint64        *approval_gas)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(KilnPayment) done = NULL;
  g_autofree KilnAddress *payees = g_new (KilnAddress, n);
  g_autofree KilnUint256 *amounts = g_new (KilnUint256, n);
  KilnChain *chain = kiln_wallet_get_chain (wallet);
  guint64 block, gas;
  GError *error = NULL;

  for (guint i = 0; i < n; i++)
    {
      payees[i] = new_address ();
      amounts[i] = units ("0.5");
    }

  kiln_wallet_pay_batch_async (wallet, payees, amounts, n, "bench", NULL, NULL, on_result,
                               &result);
  await_result (&result);
  payment = kiln_wallet_pay_batch_finish (wallet, result, &error);
  check (error);
  g_clear_object (&result);

  kiln_wallet_wait_async (wallet, payment, NULL, on_result, &result);
  await_result (&result);
  done = kiln_wallet_wait_finish (wallet, result, &error);
  check (error);
  if (!kiln_payment_get_confirmation (done, &block, &gas))
    g_error ("bench-wallet: the batch is not confirmed");

  *approval_gas = call_gas_in_block (rpc, block - 1, kiln_wallet_get_address (wallet),
                                     kiln_chain_get_token (chain));
  return gas;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(KilnTestDevnet) devnet = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(KilnStore) store = NULL;
  g_autoptr(KilnPaymentLedger) ledger = NULL;
  g_autoptr(KilnKey) key = NULL;
  g_autoptr(KilnWallet) wallet = NULL;
  g_autoptr(KilnRpcClient) rpc = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  g_autofree char *token = NULL;
  g_autofree char *batch = NULL;
  KilnUint256 eth = units ("10"), gnt = units ("1000");
  GError *error = NULL;
  guint64 baseline;

  if (g_getenv ("KILN_SOURCE_ROOT") == NULL)
    g_setenv ("KILN_SOURCE_ROOT", KILN_SOURCE_ROOT, TRUE);

  devnet = kiln_test_devnet_start (NULL, &error);
  check (error);
  token = kiln_address_to_string (kiln_test_devnet_get_token (devnet));
  batch = kiln_address_to_string (kiln_test_devnet_get_batch_pay (devnet));
  chain = kiln_chain_new_custom (kiln_test_devnet_get_rpc_url (devnet), KILN_DEVNET_CHAIN_ID,
                                 token, batch, &error);
  check (error);
  rpc = kiln_rpc_client_new (kiln_test_devnet_get_rpc_url (devnet), &error);
  check (error);

  dir = g_dir_make_tmp ("kiln-bench-wallet-XXXXXX", &error);
  check (error);
  db = g_build_filename (dir, KILN_STORE_FILE_NAME, NULL);
  store = kiln_store_new (db, NULL, &error);
  check (error);
  ledger = kiln_payment_ledger_new (store);
  key = kiln_key_generate (&error);
  check (error);
  wallet = kiln_wallet_new (chain, key, ledger);
  g_object_set (wallet, "poll-interval", 20, NULL);

  kiln_wallet_start_async (wallet, NULL, on_result, &result);
  await_result (&result);
  kiln_wallet_start_finish (wallet, result, &error);
  check (error);
  g_clear_object (&result);
  kiln_wallet_devnet_fund_async (wallet, &eth, &gnt, NULL, on_result, &result);
  await_result (&result);
  kiln_wallet_devnet_fund_finish (wallet, result, &error);
  check (error);

  baseline = transfer_gas (wallet);
  g_print ("ERC-20 transfer to a new address: %" G_GUINT64_FORMAT " gas (baseline)\n",
           baseline);
  for (guint i = 0; i < G_N_ELEMENTS (batch_sizes); i++)
    {
      guint n = batch_sizes[i];
      guint64 approval, gas = batch_gas (wallet, rpc, n, &approval);
      double per_payee = (double) gas / n;

      g_print ("payBatch to %u new address%s: %.0f gas per payee (%" G_GUINT64_FORMAT
               " in all; ratio to a transfer %.3f; approval before it %" G_GUINT64_FORMAT
               " gas)\n",
               n, n == 1 ? "" : "es", per_payee, gas, per_payee / baseline, approval);
    }

  g_clear_object (&wallet);
  g_clear_object (&ledger);
  g_clear_object (&store);
  {
    g_autofree char *wal = g_strconcat (db, "-wal", NULL);
    g_autofree char *shm = g_strconcat (db, "-shm", NULL);

    g_unlink (db);
    g_unlink (wal);
    g_unlink (shm);
    g_rmdir (dir);
  }
  return 0;
}
