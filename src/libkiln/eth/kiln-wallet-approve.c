/* kiln-wallet-approve.c: the batch payment contract's allowance
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Batches go through the chain's KilnBatchPay contract, which pulls the tokens from this
 * account's allowance. When the allowance is short, the wallet first approves the contract
 * for exactly what the batch and the other unfinished batches need, and waits for that
 * approval to be mined (the batch's gas can only be estimated then). The approval moves no
 * value, so it is not a payment in the ledger; its nonce still follows the ledger: under the
 * same lock as payments, it takes the first nonce after the chain's pending one and after
 * every nonce a payment of ours holds, and the ledger's next nonce is moved past it before it
 * is broadcast. A crash in between only leaves the ledger ahead of the chain, which the next
 * resync corrects.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-abi.h"
#include "kiln-wallet-private.h"

/* The batch contract's allowance */

typedef struct
{
  KilnUint256     total;
  gint64          exclude;
  KilnWalletPlan  plan;
  guint64         chain_nonce;
  GBytes         *raw;
} Approve;

static void
approve_free (gpointer data)
{
  Approve *approve = data;

  kiln_wallet_plan_clear (&approve->plan);
  g_clear_pointer (&approve->raw, g_bytes_unref);
  g_free (approve);
}

/* Ends @task (taken), releasing the lock when @locked. */
static void
approve_return (GTask    *task,
                gboolean  locked,
                GError   *error)
{
  if (locked)
    kiln_wallet_unlock (g_task_get_source_object (task));
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_approve_mined (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  GError *error = NULL;

  receipt = kiln_wallet_watch_finish (KILN_WALLET (object), result, &error);
  if (receipt != NULL && !receipt->success)
    error = g_error_new_literal (KILN_WALLET_ERROR, KILN_WALLET_ERROR_REVERTED,
                                 _("The token refused to let the batch payment contract spend "
                                   "from this account"));
  approve_return (task, FALSE, error);
}

static void
on_approve_sent (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Approve *approve = g_task_get_task_data (task);
  GError *error = NULL;
  guint8 hash[32];

  if (!kiln_rpc_client_send_raw_transaction_finish (KILN_RPC_CLIENT (object), result, hash,
                                                    &error))
    {
      g_prefix_error (&error, _("Could not approve the batch payment contract: "));
      approve_return (task, TRUE, error);
      return;
    }

  kiln_wallet_unlock (self);
  kiln_wallet_watch_async (self, self->key, approve->raw, g_task_get_cancellable (task),
                           on_approve_mined, task);
}

static void
on_approve_reset (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Approve *approve = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_payment_ledger_reset_nonce_finish (KILN_PAYMENT_LEDGER (object), result, &error))
    {
      approve_return (task, TRUE, error);
      return;
    }

  kiln_rpc_client_send_raw_transaction_async (self->rpc, approve->raw,
                                              g_task_get_cancellable (task), on_approve_sent,
                                              task);
}

/* The first nonce at or after @nonce that none of @payments holds, nor any above it. */
static guint64
first_free_nonce (GPtrArray *payments,
                  guint64    nonce)
{
  for (guint i = 0; i < payments->len; i++)
    {
      guint64 held;

      if (kiln_payment_get_nonce (g_ptr_array_index (payments, i), &held) && held >= nonce)
        nonce = held + 1;
    }
  return nonce;
}

static void
on_approve_pending (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Approve *approve = g_task_get_task_data (task);
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) tracked = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  guint64 nonce;
  GError *error = NULL;

  pending = kiln_payment_ledger_list_pending_finish (KILN_PAYMENT_LEDGER (object), result,
                                                     &error);
  if (pending == NULL)
    {
      approve_return (task, TRUE, error);
      return;
    }

  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (tracked, value);
  nonce = first_free_nonce (pending, first_free_nonce (tracked, approve->chain_nonce));
  approve->raw = kiln_wallet_sign_plan (self, self->key, &approve->plan, nonce, &error);
  if (approve->raw == NULL)
    {
      approve_return (task, TRUE, error);
      return;
    }

  g_debug ("Wallet: approving the batch payment contract with nonce %" G_GUINT64_FORMAT, nonce);
  self->next_nonce_known = TRUE;
  self->next_nonce = nonce + 1;
  kiln_payment_ledger_reset_nonce_async (self->ledger, self->chain_id, &self->address,
                                         nonce + 1, g_task_get_cancellable (task),
                                         on_approve_reset, task);
}

static void
on_approve_resynced (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Approve *approve = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_wallet_resync_finish (self, result, &approve->chain_nonce, &error))
    {
      approve_return (task, TRUE, error);
      return;
    }

  kiln_payment_ledger_list_pending_async (self->ledger, self->chain_id, &self->address,
                                          g_task_get_cancellable (task), on_approve_pending,
                                          task);
}

static void
on_approve_locked (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!kiln_wallet_lock_finish (KILN_WALLET (object), result, &error))
    {
      approve_return (task, FALSE, error);
      return;
    }
  kiln_wallet_resync_async (KILN_WALLET (object), g_task_get_cancellable (task),
                            on_approve_resynced, task);
}

static void
on_approve_planned (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = KILN_WALLET (object);
  Approve *approve = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_wallet_plan_finish (self, result, &approve->plan, &error) ||
      !kiln_wallet_check_eth (self, &approve->plan, FALSE, &error))
    {
      approve_return (task, FALSE, error);
      return;
    }

  kiln_wallet_lock_async (self, g_task_get_cancellable (task), on_approve_locked, task);
}

/* What the batch contract may have to pull: @approve's total and every other unfinished
 * batch in the same token. */
static void
batch_needs (KilnWallet  *self,
             Approve     *approve,
             KilnUint256 *needed)
{
  const KilnAddress *token = kiln_chain_get_token (self->chain);
  GHashTableIter iter;
  gpointer value;

  *needed = approve->total;
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      KilnPayment *payment = value;
      KilnUint256 total;

      if (kiln_payment_get_kind (payment) != KILN_PAYMENT_KIND_BATCH ||
          kiln_payment_get_id (payment) == approve->exclude ||
          kiln_payment_get_token (payment) == NULL ||
          !kiln_address_equal (kiln_payment_get_token (payment), token))
        continue;
      kiln_payment_get_total (payment, &total);
      if (!kiln_uint256_add (needed, needed, &total))
        kiln_uint256_set_max (needed);
    }
}

static void
on_allowance (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Approve *approve = g_task_get_task_data (task);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GBytes) call = NULL;
  KilnUint256 allowance, needed, zero = KILN_UINT256_INIT (0);
  GError *error = NULL;
  const guint8 *data;
  gsize len = 0;

  answer = kiln_rpc_client_call_contract_finish (KILN_RPC_CLIENT (object), result, &error);
  data = answer != NULL ? g_bytes_get_data (answer, &len) : NULL;
  if (answer == NULL || !kiln_abi_decode_uint256 (data, len, &allowance, &error))
    {
      approve_return (task, FALSE, error);
      return;
    }

  batch_needs (self, approve, &needed);
  if (kiln_uint256_compare (&allowance, &needed) >= 0)
    {
      approve_return (task, FALSE, NULL);
      return;
    }

  call = kiln_abi_encode_approve (kiln_chain_get_batch_contract (self->chain), &needed);
  kiln_wallet_plan_async (self, NULL, kiln_chain_get_token (self->chain), &zero, call,
                          g_task_get_cancellable (task), on_approve_planned, task);
}

void
kiln_wallet_ensure_allowance_async (KilnWallet          *self,
                                    const KilnUint256   *total,
                                    gint64               payment_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Approve *approve = g_new0 (Approve, 1);
  g_autoptr(GBytes) call = NULL;

  g_task_set_source_tag (task, kiln_wallet_ensure_allowance_async);
  approve->total = *total;
  approve->exclude = payment_id;
  g_task_set_task_data (task, approve, approve_free);

  call = kiln_abi_encode_allowance (&self->address, kiln_chain_get_batch_contract (self->chain));
  kiln_rpc_client_call_contract_async (self->rpc, NULL, kiln_chain_get_token (self->chain),
                                       call, "latest", cancellable, on_allowance, task);
}

gboolean
kiln_wallet_ensure_allowance_finish (KilnWallet    *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
