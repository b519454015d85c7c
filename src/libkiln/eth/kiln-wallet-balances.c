/* kiln-wallet-balances.c: connecting, balances and devnet funds
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>

#include "kiln-abi.h"
#include "kiln-wallet-private.h"

/* anvil's dev account 0 (from its public default mnemonic), which deploys the devnet's
 * contracts and owns the GNT test token. Known to everyone: only ever used on chain 31337. */
#define DEVNET_DEPLOYER_KEY "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

/* Balances */

static void
on_token_balance (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  KilnUint256 *eth = g_task_get_task_data (task);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 token;
  const guint8 *data;
  gsize len;

  answer = kiln_rpc_client_call_contract_finish (KILN_RPC_CLIENT (object), result, &error);
  data = answer != NULL ? g_bytes_get_data (answer, &len) : NULL;
  if (answer == NULL || !kiln_abi_decode_uint256 (data, len, &token, &error))
    {
      g_prefix_error (&error, _("Cannot read the %s balance: "),
                      kiln_chain_get_token_symbol (self->chain));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  kiln_wallet_set_balances (self, eth, &token);
  g_task_return_boolean (task, TRUE);
}

static void
on_eth_balance (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  KilnUint256 *eth = g_task_get_task_data (task);
  g_autoptr(GBytes) call = NULL;
  GError *error = NULL;

  if (!kiln_rpc_client_get_balance_finish (KILN_RPC_CLIENT (object), result, eth, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  call = kiln_abi_encode_balance_of (&self->address);
  kiln_rpc_client_call_contract_async (self->rpc, NULL, kiln_chain_get_token (self->chain),
                                       call, "latest", g_task_get_cancellable (task),
                                       on_token_balance, g_object_ref (task));
}

void
kiln_wallet_refresh_async (KilnWallet          *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (KILN_IS_WALLET (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_wallet_refresh_async);
  g_task_set_task_data (task, g_new0 (KilnUint256, 1), g_free);

  if (self->rpc == NULL)
    {
      g_task_return_error (task, g_error_copy (self->setup_error));
      return;
    }
  if (kiln_chain_get_token (self->chain) == NULL)
    {
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("No token contract is set for this network"));
      g_task_return_error (task, error);
      return;
    }

  kiln_rpc_client_get_balance_async (self->rpc, &self->address, "latest", cancellable,
                                     on_eth_balance, g_object_ref (task));
}

gboolean
kiln_wallet_refresh_finish (KilnWallet    *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_wallet_refresh_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Starting: chain ID, balances, unfinished payments, tracking */

static void
on_start_tracked (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* The payments stay tracked and are tried again every poll: not a reason to fail. */
  if (!kiln_wallet_track_finish (KILN_WALLET (object), result, &error))
    g_debug ("Wallet: the first round of tracking failed: %s", error->message);

  g_task_return_boolean (task, TRUE);
}

static void
on_resumed (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(GError) error = NULL;

  payment = kiln_wallet_resume_finish (KILN_WALLET (object), result, &error);
  if (payment == NULL)
    g_debug ("Wallet: could not send a payment again: %s", error->message);
}

static void
on_start_pending (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  g_autoptr(GPtrArray) pending = NULL;
  GError *error = NULL;

  pending = kiln_payment_ledger_list_pending_finish (KILN_PAYMENT_LEDGER (object), result,
                                                     &error);
  if (pending == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  self->started = TRUE;
  kiln_wallet_tracker_start (self);

  /* A payment resent with a new nonce whose sending a crash cut short: its predecessor is
   * given up, so nobody else would send it. Others that signed nothing wait for the retry
   * that made them (the same idempotency key). */
  for (guint i = 0; i < pending->len; i++)
    {
      KilnPayment *payment = g_ptr_array_index (pending, i);
      const char *key = kiln_payment_get_idempotency_key (payment);

      if (key != NULL && g_str_has_prefix (key, KILN_WALLET_RESEND_KEY_PREFIX))
        kiln_wallet_resume_async (self, payment, self->cancellable, on_resumed, NULL);
    }

  kiln_wallet_track_async (self, g_task_get_cancellable (task), on_start_tracked,
                           g_object_ref (task));
}

static void
on_start_unfinished (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  g_autoptr(GPtrArray) payments = NULL;
  GError *error = NULL;

  payments = kiln_payment_ledger_list_unfinished_finish (KILN_PAYMENT_LEDGER (object), result,
                                                         &error);
  if (payments == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  if (payments->len > 0)
    g_debug ("Wallet: %u payments were left unfinished; finishing them", payments->len);
  for (guint i = 0; i < payments->len; i++)
    kiln_wallet_payment_changed (self, g_ptr_array_index (payments, i));

  kiln_payment_ledger_list_pending_async (self->ledger, self->chain_id, &self->address,
                                          g_task_get_cancellable (task), on_start_pending,
                                          g_object_ref (task));
}

static void
on_start_balances (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!kiln_wallet_refresh_finish (self, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  kiln_payment_ledger_list_unfinished_async (self->ledger, self->chain_id, &self->address,
                                             g_task_get_cancellable (task), on_start_unfinished,
                                             g_object_ref (task));
}

static void
on_start_chain_id (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  guint64 expected = kiln_chain_get_chain_id (self->chain);
  guint64 chain_id;
  GError *error = NULL;

  if (!kiln_rpc_client_get_chain_id_finish (KILN_RPC_CLIENT (object), result, &chain_id, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (expected != 0 && chain_id != expected)
    {
      g_task_return_new_error (task, KILN_WALLET_ERROR, KILN_WALLET_ERROR_WRONG_CHAIN,
                               _("The Ethereum node at %s is on chain %" PRIu64 ", not on %s (chain %" PRIu64 "): check the RPC "
                                 "URL"),
                               kiln_rpc_client_get_display_name (self->rpc), chain_id,
                               kiln_chain_get_name (self->chain), expected);
      return;
    }
  if (self->started && chain_id != self->chain_id)
    {
      g_task_return_new_error (task, KILN_WALLET_ERROR, KILN_WALLET_ERROR_WRONG_CHAIN,
                               _("The Ethereum node at %s moved to chain %" PRIu64),
                               kiln_rpc_client_get_display_name (self->rpc), chain_id);
      return;
    }

  self->chain_id = chain_id;
  kiln_wallet_refresh_async (self, g_task_get_cancellable (task), on_start_balances,
                             g_object_ref (task));
}

void
kiln_wallet_start_async (KilnWallet          *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_WALLET (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_wallet_start_async);

  if (self->rpc == NULL)
    {
      g_task_return_error (task, g_error_copy (self->setup_error));
      return;
    }

  kiln_rpc_client_get_chain_id_async (self->rpc, cancellable, on_start_chain_id,
                                      g_object_ref (task));
}

gboolean
kiln_wallet_start_finish (KilnWallet    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_wallet_start_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Devnet funds */

typedef struct
{
  KilnKey     *deployer;
  KilnUint256  eth;
  KilnUint256  tokens;
  gboolean     eth_planned;
  gboolean     tokens_planned;
  guint64      nonce;
  GPtrArray   *raws;        /* GBytes: signed, then sent one by one */
  guint        index;
} Fund;

static void
fund_free (gpointer data)
{
  Fund *fund = data;

  g_clear_object (&fund->deployer);
  g_clear_pointer (&fund->raws, g_ptr_array_unref);
  g_free (fund);
}

static void fund_next (GTask *task);

static void
on_fund_refreshed (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!kiln_wallet_refresh_finish (KILN_WALLET (object), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_fund_mined (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fund *fund = g_task_get_task_data (task);
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  GError *error = NULL;

  receipt = kiln_wallet_watch_finish (KILN_WALLET (object), result, &error);
  if (receipt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (!receipt->success)
    {
      g_task_return_new_error (task, KILN_WALLET_ERROR, KILN_WALLET_ERROR_REVERTED,
                               _("The devnet refused to fund this account"));
      return;
    }

  fund->index++;
  fund_next (g_steal_pointer (&task));
}

static void
on_fund_sent (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Fund *fund = g_task_get_task_data (task);
  GError *error = NULL;
  guint8 hash[32];

  if (!kiln_rpc_client_send_raw_transaction_finish (KILN_RPC_CLIENT (object), result, hash,
                                                    &error))
    {
      g_task_return_error (task, error);
      return;
    }

  kiln_wallet_watch_async (self, NULL, g_ptr_array_index (fund->raws, fund->index),
                           g_task_get_cancellable (task), on_fund_mined,
                           g_object_ref (task));
}

/* Takes @task: sends the next transaction, or refreshes the balances once all are mined. */
static void
fund_next (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Fund *fund = g_task_get_task_data (task);

  if (fund->index < fund->raws->len)
    kiln_rpc_client_send_raw_transaction_async (self->rpc,
                                                g_ptr_array_index (fund->raws, fund->index),
                                                g_task_get_cancellable (task), on_fund_sent,
                                                task);
  else
    kiln_wallet_refresh_async (self, g_task_get_cancellable (task), on_fund_refreshed, task);
}

static void fund_plan (GTask *task);

static void
on_fund_planned (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = KILN_WALLET (object);
  Fund *fund = g_task_get_task_data (task);
  g_auto(KilnWalletPlan) plan = { 0, };
  GBytes *raw;
  GError *error = NULL;

  if (!kiln_wallet_plan_finish (self, result, &plan, &error) ||
      (raw = kiln_wallet_sign_plan (self, fund->deployer, &plan, fund->nonce, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_ptr_array_add (fund->raws, raw);
  fund->nonce++;
  fund_plan (g_steal_pointer (&task));
}

/* Takes @task: plans and signs the ETH transfer, then the mint, then sends them. */
static void
fund_plan (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Fund *fund = g_task_get_task_data (task);
  const KilnAddress *from = kiln_key_get_address (fund->deployer);
  KilnUint256 zero = KILN_UINT256_INIT (0);
  g_autoptr(KilnAbiEncoder) mint = NULL;
  g_autoptr(GBytes) call = NULL;

  if (!fund->eth_planned && !kiln_uint256_is_zero (&fund->eth))
    {
      fund->eth_planned = TRUE;
      kiln_wallet_plan_async (self, from, &self->address, &fund->eth, NULL,
                              g_task_get_cancellable (task), on_fund_planned, task);
      return;
    }

  if (!fund->tokens_planned && !kiln_uint256_is_zero (&fund->tokens))
    {
      fund->tokens_planned = TRUE;
      mint = kiln_abi_encoder_new ("mint(address,uint256)");
      kiln_abi_encoder_add_address (mint, &self->address);
      kiln_abi_encoder_add_uint256 (mint, &fund->tokens);
      call = kiln_abi_encoder_finish (mint);
      kiln_wallet_plan_async (self, from, kiln_chain_get_token (self->chain), &zero, call,
                              g_task_get_cancellable (task), on_fund_planned, task);
      return;
    }

  fund_next (task);
}

static void
on_fund_nonce (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  Fund *fund = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_rpc_client_get_transaction_count_finish (KILN_RPC_CLIENT (object), result,
                                                     &fund->nonce, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  fund_plan (task);
}

void
kiln_wallet_devnet_fund_async (KilnWallet          *self,
                               const KilnUint256   *eth_wei,
                               const KilnUint256   *token_units,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  Fund *fund;
  GError *error = NULL;

  g_return_if_fail (KILN_IS_WALLET (self));
  g_return_if_fail (eth_wei != NULL && token_units != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_wallet_devnet_fund_async);

  if (!kiln_wallet_check_started (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  /* The chain the node reported, not the preset's name for it. */
  if (self->chain_id != KILN_DEVNET_CHAIN_ID)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Test funds exist only on the local devnet (chain %d); this "
                                 "wallet is on chain %" PRIu64),
                               KILN_DEVNET_CHAIN_ID, self->chain_id);
      g_object_unref (task);
      return;
    }

  fund = g_new0 (Fund, 1);
  fund->deployer = kiln_key_new_from_hex (DEVNET_DEPLOYER_KEY, &error);
  g_assert (fund->deployer != NULL);
  fund->eth = *eth_wei;
  fund->tokens = *token_units;
  fund->raws = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_task_set_task_data (task, fund, fund_free);

  kiln_rpc_client_get_transaction_count_async (self->rpc, kiln_key_get_address (fund->deployer),
                                               "pending", cancellable, on_fund_nonce, task);
}

gboolean
kiln_wallet_devnet_fund_finish (KilnWallet    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_wallet_devnet_fund_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
