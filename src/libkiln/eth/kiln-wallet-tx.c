/* kiln-wallet-tx.c: transactions: plans, signatures, fee bumps, and watching unrecorded ones
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A plan is what a transaction will be before it has a nonce: recipient, value, data, gas
 * limit (eth_estimateGas, plus KILN_WALLET_GAS_MARGIN_PERCENT for contract calls) and fees
 * (EIP-1559 where the chain has a base fee, a legacy EIP-155 gas price otherwise).
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-wallet-private.h"

/* Plans */

void
kiln_wallet_plan_clear (KilnWalletPlan *plan)
{
  g_clear_pointer (&plan->data, g_bytes_unref);
  memset (plan, 0, sizeof *plan);
}

void
kiln_wallet_plan_copy (KilnWalletPlan       *dest,
                       const KilnWalletPlan *src)
{
  GBytes *data = src->data != NULL ? g_bytes_ref (src->data) : NULL;

  kiln_wallet_plan_clear (dest);
  *dest = *src;
  dest->data = data;
}

gboolean
kiln_wallet_plan_get_max_cost (const KilnWalletPlan *plan,
                               gboolean              with_value,
                               KilnUint256          *out)
{
  KilnUint256 cost;

  if (!kiln_uint256_mul_uint64 (&cost, &plan->fees.max_fee_per_gas, plan->gas_limit) ||
      (with_value && !kiln_uint256_add (&cost, &cost, &plan->value)))
    return FALSE;

  *out = cost;
  return TRUE;
}

char *
kiln_wallet_format_amount (const KilnUint256 *amount,
                           const char        *symbol)
{
  g_autofree char *number = kiln_uint256_format_units (amount, 18);

  return g_strdup_printf ("%s %s", number, symbol);
}

gboolean
kiln_wallet_check_eth (KilnWallet            *self,
                       const KilnWalletPlan  *plan,
                       gboolean               with_value,
                       GError               **error)
{
  const char *symbol = kiln_chain_get_native_symbol (self->chain);
  g_autofree char *fee = NULL;
  g_autofree char *value = NULL;
  KilnUint256 cost, max_fee;

  if (kiln_wallet_plan_get_max_cost (plan, with_value, &cost) &&
      kiln_uint256_compare (&cost, &self->eth_balance) <= 0)
    return TRUE;

  if (!kiln_wallet_plan_get_max_cost (plan, FALSE, &max_fee))
    kiln_uint256_set_max (&max_fee);
  fee = kiln_wallet_format_amount (&max_fee, symbol);
  if (with_value && !kiln_uint256_is_zero (&plan->value))
    {
      value = kiln_wallet_format_amount (&plan->value, symbol);
      g_set_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH,
                   _("Not enough %s to send %s and pay the network fee (up to %s)"),
                   symbol, value, fee);
    }
  else
    g_set_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH,
                 _("Not enough %s to pay the network fee (up to %s)"), symbol, fee);
  return FALSE;
}

typedef struct
{
  KilnAddress    from;
  KilnWalletPlan plan;
} PlanOp;

static void
plan_op_free (gpointer data)
{
  PlanOp *op = data;

  kiln_wallet_plan_clear (&op->plan);
  g_free (op);
}

static void
on_plan_gas (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PlanOp *op = g_task_get_task_data (task);
  guint64 gas;
  GError *error = NULL;

  if (!kiln_rpc_client_estimate_gas_finish (KILN_RPC_CLIENT (object), result, &gas, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* A call's gas can change with the state it runs in by the time it is mined. */
  if (g_bytes_get_size (op->plan.data) > 0)
    gas += gas * KILN_WALLET_GAS_MARGIN_PERCENT / 100;
  op->plan.gas_limit = gas;
  g_task_return_boolean (task, TRUE);
}

static void
on_plan_fees (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PlanOp *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_rpc_client_get_fee_data_finish (KILN_RPC_CLIENT (object), result, &op->plan.fees,
                                            &error))
    {
      g_task_return_error (task, error);
      return;
    }

  kiln_rpc_client_estimate_gas_async (KILN_RPC_CLIENT (object), &op->from, &op->plan.to,
                                      &op->plan.value, op->plan.data,
                                      g_task_get_cancellable (task), on_plan_gas,
                                      g_object_ref (task));
}

void
kiln_wallet_plan_async (KilnWallet          *self,
                        const KilnAddress   *from,
                        const KilnAddress   *to,
                        const KilnUint256   *value,
                        GBytes              *data,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  PlanOp *op = g_new0 (PlanOp, 1);

  g_task_set_source_tag (task, kiln_wallet_plan_async);
  op->from = from != NULL ? *from : self->address;
  op->plan.to = *to;
  op->plan.value = *value;
  op->plan.data = data != NULL ? g_bytes_ref (data) : g_bytes_new (NULL, 0);
  g_task_set_task_data (task, op, plan_op_free);

  kiln_rpc_client_get_fee_data_async (self->rpc, cancellable, on_plan_fees, task);
}

gboolean
kiln_wallet_plan_finish (KilnWallet      *self,
                         GAsyncResult    *result,
                         KilnWalletPlan  *out,
                         GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_wallet_plan_async,
                        FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  kiln_wallet_plan_copy (out, &((PlanOp *) g_task_get_task_data (G_TASK (result)))->plan);
  return TRUE;
}

/* Signing */

GBytes *
kiln_wallet_sign_plan (KilnWallet            *self,
                       KilnKey               *key,
                       const KilnWalletPlan  *plan,
                       guint64                nonce,
                       GError               **error)
{
  g_autoptr(KilnTransaction) tx = NULL;

  tx = kiln_transaction_new (plan->fees.eip1559 ? KILN_TRANSACTION_TYPE_EIP1559
                                                : KILN_TRANSACTION_TYPE_LEGACY,
                             self->chain_id);
  kiln_transaction_set_nonce (tx, nonce);
  kiln_transaction_set_gas_limit (tx, plan->gas_limit);
  kiln_transaction_set_to (tx, &plan->to);
  kiln_transaction_set_value (tx, &plan->value);
  kiln_transaction_set_data (tx, plan->data);
  if (plan->fees.eip1559)
    {
      kiln_transaction_set_max_fee_per_gas (tx, &plan->fees.max_fee_per_gas);
      kiln_transaction_set_max_priority_fee_per_gas (tx, &plan->fees.max_priority_fee_per_gas);
    }
  else
    kiln_transaction_set_gas_price (tx, &plan->fees.max_fee_per_gas);

  if (!kiln_transaction_sign (tx, key, error))
    return NULL;

  return kiln_transaction_encode_signed (tx);
}

/* @old + ceil (@old / 8), and at least @network; never @old itself. */
static void
bump_fee (KilnUint256       *out,
          const KilnUint256 *old,
          const KilnUint256 *network)
{
  KilnUint256 step, bumped;

  if (kiln_uint256_div_small (&step, old, KILN_WALLET_BUMP_DIVISOR) != 0 &&
      !kiln_uint256_add_uint64 (&step, &step, 1))
    g_assert_not_reached ();
  if (kiln_uint256_is_zero (&step))
    kiln_uint256_from_uint64 (&step, 1);
  if (!kiln_uint256_add (&bumped, old, &step))
    kiln_uint256_set_max (&bumped);

  *out = kiln_uint256_compare (&bumped, network) >= 0 ? bumped : *network;
}

GBytes *
kiln_wallet_bump_raw (KilnWallet            *self,
                      KilnKey               *key,
                      GBytes                *raw,
                      const KilnRpcFeeData  *network,
                      KilnUint256           *max_cost,
                      GError               **error)
{
  g_autoptr(KilnTransaction) tx = NULL;
  KilnUint256 max_fee, priority_fee, value;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (raw, &len);

  tx = kiln_transaction_decode (bytes, len, error);
  if (tx == NULL)
    return NULL;

  if (kiln_transaction_get_tx_type (tx) == KILN_TRANSACTION_TYPE_EIP1559)
    {
      kiln_transaction_get_max_fee_per_gas (tx, &max_fee);
      kiln_transaction_get_max_priority_fee_per_gas (tx, &priority_fee);
      bump_fee (&max_fee, &max_fee, &network->max_fee_per_gas);
      bump_fee (&priority_fee, &priority_fee, &network->max_priority_fee_per_gas);
      if (kiln_uint256_compare (&priority_fee, &max_fee) > 0)
        max_fee = priority_fee;
      kiln_transaction_set_max_fee_per_gas (tx, &max_fee);
      kiln_transaction_set_max_priority_fee_per_gas (tx, &priority_fee);
    }
  else
    {
      kiln_transaction_get_gas_price (tx, &max_fee);
      bump_fee (&max_fee, &max_fee, &network->max_fee_per_gas);
      kiln_transaction_set_gas_price (tx, &max_fee);
    }

  kiln_transaction_get_value (tx, &value);
  if (!kiln_uint256_mul_uint64 (max_cost, &max_fee, kiln_transaction_get_gas_limit (tx)) ||
      !kiln_uint256_add (max_cost, max_cost, &value))
    kiln_uint256_set_max (max_cost);

  if (!kiln_transaction_sign (tx, key, error))
    return NULL;

  return kiln_transaction_encode_signed (tx);
}

/* Watching a transaction the ledger does not record */

typedef struct
{
  KilnKey   *key;
  GBytes    *raw;         /* the newest version */
  GArray    *hashes;      /* guint8[32] of every version */
  guint      index;
  gint64     sent_at;     /* monotonic, of the newest version */
} Watch;

static void
watch_free (gpointer data)
{
  Watch *watch = data;

  g_clear_object (&watch->key);
  g_clear_pointer (&watch->raw, g_bytes_unref);
  g_clear_pointer (&watch->hashes, g_array_unref);
  g_free (watch);
}

static void watch_check (GTask *task);

static void
add_hash (Watch  *watch,
          GBytes *raw)
{
  g_autoptr(KilnTransaction) tx = NULL;
  guint8 hash[32];

  tx = kiln_transaction_decode (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw), NULL);
  g_assert (tx != NULL);
  kiln_transaction_get_hash (tx, hash);
  g_array_append_vals (watch->hashes, hash, 1);
}

static gboolean
on_watch_timer (gpointer user_data)
{
  GTask *task = user_data;
  Watch *watch = g_task_get_task_data (task);

  if (!g_task_return_error_if_cancelled (task))
    {
      watch->index = 0;
      watch_check (g_object_ref (task));
    }
  return G_SOURCE_REMOVE;
}

/* Takes @task; checks again after poll-interval. */
static void
watch_later (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  g_autoptr(GSource) timer = g_timeout_source_new (self->poll_interval);

  g_source_set_callback (timer, on_watch_timer, task, g_object_unref);
  g_source_attach (timer, g_main_context_get_thread_default ());
}

static void
on_watch_bump_sent (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;
  guint8 hash[32];

  /* Refused: the older version may still be mined; the next bump goes higher. */
  if (!kiln_rpc_client_send_raw_transaction_finish (KILN_RPC_CLIENT (object), result, hash,
                                                    &error))
    g_debug ("Wallet: a fee bump was refused: %s", error->message);
  watch_later (task);
}

static void
on_watch_fees (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Watch *watch = g_task_get_task_data (task);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GError) error = NULL;
  KilnRpcFeeData fees;
  KilnUint256 max_cost;

  if (!kiln_rpc_client_get_fee_data_finish (KILN_RPC_CLIENT (object), result, &fees, &error) ||
      (raw = kiln_wallet_bump_raw (self, watch->key, watch->raw, &fees, &max_cost,
                                   &error)) == NULL)
    {
      g_debug ("Wallet: cannot bump a stuck transaction's fees: %s", error->message);
      watch_later (task);
      return;
    }

  g_bytes_unref (watch->raw);
  watch->raw = g_bytes_ref (raw);
  watch->sent_at = g_get_monotonic_time ();
  add_hash (watch, raw);
  kiln_rpc_client_send_raw_transaction_async (self->rpc, raw, g_task_get_cancellable (task),
                                              on_watch_bump_sent, task);
}

static void
on_watch_receipt (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  Watch *watch = g_task_get_task_data (task);
  KilnRpcReceipt *receipt;
  GError *error = NULL;

  receipt = kiln_rpc_client_get_transaction_receipt_finish (KILN_RPC_CLIENT (object), result,
                                                            &error);
  if (receipt != NULL)
    {
      g_task_return_pointer (task, receipt, (GDestroyNotify) kiln_rpc_receipt_unref);
      g_object_unref (task);
      return;
    }
  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      g_debug ("Wallet: cannot look for a receipt: %s", error->message);
      g_clear_error (&error);
      watch_later (task);
      return;
    }

  watch->index++;
  watch_check (task);
}

/* Takes @task. */
static void
watch_check (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Watch *watch = g_task_get_task_data (task);
  gint64 waited_ms = (g_get_monotonic_time () - watch->sent_at) / 1000;

  if (watch->index < watch->hashes->len)
    {
      kiln_rpc_client_get_transaction_receipt_async (self->rpc,
                                                     &g_array_index (watch->hashes, guint8,
                                                                     32 * watch->index),
                                                     g_task_get_cancellable (task),
                                                     on_watch_receipt, task);
      return;
    }

  if (watch->key != NULL && waited_ms >= (gint64) self->replace_after)
    {
      kiln_rpc_client_get_fee_data_async (self->rpc, g_task_get_cancellable (task),
                                          on_watch_fees, task);
      return;
    }

  watch_later (task);
}

void
kiln_wallet_watch_async (KilnWallet          *self,
                         KilnKey             *key,
                         GBytes              *raw,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Watch *watch = g_new0 (Watch, 1);

  g_task_set_source_tag (task, kiln_wallet_watch_async);
  watch->key = key != NULL ? g_object_ref (key) : NULL;
  watch->raw = g_bytes_ref (raw);
  watch->hashes = g_array_new (FALSE, FALSE, 32);
  watch->sent_at = g_get_monotonic_time ();
  add_hash (watch, raw);
  g_task_set_task_data (task, watch, watch_free);

  watch_check (task);
}

KilnRpcReceipt *
kiln_wallet_watch_finish (KilnWallet    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
