/* kiln-wallet-submit.c: nonces, signing, recording and broadcasting payments
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A payment is signed only once it holds a nonce from the ledger, and its signed bytes are in
 * the ledger before they go to the node, so after a crash they are broadcast again byte for
 * byte and can never pay twice. When the chain has used a payment's nonce and none of its
 * attempts has a receipt, another transaction took the nonce: the payment cannot be mined
 * any more, so it is given up and resent with a new nonce as a new payment (idempotency key
 * "kiln-resend:ID"), which those waiting for it follow.
 */
#include "config.h"

#include <inttypes.h>

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-wallet-private.h"

gboolean
kiln_wallet_is_nonce_too_low (const GError *error)
{
  const char *message = kiln_rpc_error_get_server_message (error);
  g_autofree char *lower = NULL;

  if (message == NULL)
    return FALSE;

  lower = g_ascii_strdown (message, -1);
  return strstr (lower, "nonce too low") != NULL || strstr (lower, "oldnonce") != NULL ||
         strstr (lower, "nonce is too low") != NULL;
}

static gboolean
is_nonce_contested (const GError *error)
{
  const char *message = kiln_rpc_error_get_server_message (error);
  g_autofree char *lower = NULL;

  if (message == NULL)
    return FALSE;

  lower = g_ascii_strdown (message, -1);
  return strstr (lower, "replacement transaction underpriced") != NULL ||
         strstr (lower, "replacement fee too low") != NULL;
}

/* Resync: the ledger follows the chain's pending nonce */

static void
on_resync_reset (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  guint64 *chain_nonce = g_task_get_task_data (task);
  GError *error = NULL;

  if (kiln_payment_ledger_reset_nonce_finish (KILN_PAYMENT_LEDGER (object), result, &error))
    {
      self->next_nonce_known = TRUE;
      self->next_nonce = *chain_nonce;
    }
  else if (g_error_matches (error, KILN_STORE_ERROR, KILN_STORE_ERROR_INVALID))
    {
      /* One of our payments holds a nonce the node has not seen (yet): reserving goes past
       * it, as it should. */
      g_debug ("Wallet: nonces stay ahead of the chain: %s", error->message);
      g_clear_error (&error);
      self->next_nonce_known = FALSE;
    }
  else
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
on_resync_count (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  guint64 *chain_nonce = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_rpc_client_get_transaction_count_finish (KILN_RPC_CLIENT (object), result,
                                                     chain_nonce, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* Nothing moved since this wallet last reserved: no ledger write needed. */
  if (self->next_nonce_known && self->next_nonce == *chain_nonce)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (self->next_nonce_known && *chain_nonce > self->next_nonce)
    g_debug ("Wallet: the chain's nonce %" PRIu64 " is ahead of ours (%" PRIu64 "): another program sent from this account",
             *chain_nonce, self->next_nonce);

  kiln_payment_ledger_reset_nonce_async (self->ledger, self->chain_id, &self->address,
                                         *chain_nonce, g_task_get_cancellable (task),
                                         on_resync_reset, g_object_ref (task));
}

void
kiln_wallet_resync_async (KilnWallet          *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, kiln_wallet_resync_async);
  g_task_set_task_data (task, g_new0 (guint64, 1), g_free);
  kiln_rpc_client_get_transaction_count_async (self->rpc, &self->address, "pending",
                                               cancellable, on_resync_count,
                                               g_object_ref (task));
}

gboolean
kiln_wallet_resync_finish (KilnWallet    *self,
                           GAsyncResult  *result,
                           guint64       *chain_nonce,
                           GError       **error)
{
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  *chain_nonce = *(guint64 *) g_task_get_task_data (G_TASK (result));
  return TRUE;
}

/* Settling a mined attempt */

static void
on_settled (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  gboolean succeeded = GPOINTER_TO_INT (g_task_get_task_data (task));
  KilnPaymentLedger *ledger = KILN_PAYMENT_LEDGER (object);
  g_autoptr(KilnPayment) payment = NULL;
  GError *error = NULL;

  payment = succeeded ? kiln_payment_ledger_mark_confirmed_finish (ledger, result, &error)
                      : kiln_payment_ledger_mark_failed_finish (ledger, result, &error);
  if (payment == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  kiln_wallet_payment_changed (self, payment);
  g_task_return_pointer (task, g_steal_pointer (&payment), (GDestroyNotify) kiln_payment_unref);
}

void
kiln_wallet_settle_async (KilnWallet           *self,
              KilnPayment          *payment,
              const KilnRpcReceipt *receipt,
              GCancellable         *cancellable,
              GAsyncReadyCallback   callback,
              gpointer              user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  gint64 id = kiln_payment_get_id (payment);
  g_autofree char *reason = NULL;

  g_task_set_source_tag (task, kiln_wallet_settle_async);
  g_task_set_task_data (task, GINT_TO_POINTER (receipt->success), NULL);

  if (receipt->success)
    {
      kiln_payment_ledger_mark_confirmed_async (self->ledger, id, receipt->transaction_hash,
                                                receipt->block_number, receipt->gas_used,
                                                cancellable, on_settled, task);
      return;
    }

  reason = g_strdup_printf (_("The transaction was mined in block %" PRIu64 " but "
                              "failed, so nothing was paid; the network fee was spent."),
                            receipt->block_number);
  kiln_wallet_payment_reverted (self, id);
  kiln_payment_ledger_mark_failed_async (self->ledger, id, receipt->transaction_hash, reason,
                                         cancellable, on_settled, task);
}

KilnPayment *
kiln_wallet_settle_finish (GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Resending: another transaction used the payment's nonce */

typedef struct
{
  KilnPayment *old;
  KilnPayment *successor;
} Resend;

static void
resend_free (gpointer data)
{
  Resend *resend = data;

  g_clear_pointer (&resend->old, kiln_payment_unref);
  g_clear_pointer (&resend->successor, kiln_payment_unref);
  g_free (resend);
}

static void
on_resend_failed_old (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Resend *resend = g_task_get_task_data (task);
  g_autoptr(KilnPayment) old = NULL;
  GError *error = NULL;

  old = kiln_payment_ledger_mark_failed_finish (KILN_PAYMENT_LEDGER (object), result, &error);
  if (old == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  kiln_wallet_payment_changed (self, old);
  kiln_wallet_payment_changed (self, resend->successor);
  g_task_return_pointer (task, kiln_payment_ref (resend->successor),
                         (GDestroyNotify) kiln_payment_unref);
}

static void
on_resend_created (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Resend *resend = g_task_get_task_data (task);
  g_autofree char *reason = NULL;
  guint64 nonce = 0;
  GError *error = NULL;

  resend->successor = kiln_payment_ledger_create_finish (KILN_PAYMENT_LEDGER (object), result,
                                                         &error);
  if (resend->successor == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  kiln_wallet_payment_resent (self, kiln_payment_get_id (resend->old),
                              kiln_payment_get_id (resend->successor));
  kiln_payment_get_nonce (resend->old, &nonce);
  reason = g_strdup_printf (_("Another transaction from this account used nonce %"
                              PRIu64 " first, so this one was never mined and "
                              "nothing was paid; it was sent again as payment %" PRId64
                              "."),
                            nonce, kiln_payment_get_id (resend->successor));
  kiln_payment_ledger_mark_failed_async (self->ledger, kiln_payment_get_id (resend->old), NULL,
                                         reason, g_task_get_cancellable (task),
                                         on_resend_failed_old, g_object_ref (task));
}

void
kiln_wallet_resend_async (KilnWallet          *self,
              KilnPayment         *old,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(KilnPayment) draft = NULL;
  g_autofree char *key = NULL;
  Resend *resend = g_new0 (Resend, 1);

  g_task_set_source_tag (task, kiln_wallet_resend_async);
  resend->old = kiln_payment_ref (old);
  g_task_set_task_data (task, resend, resend_free);

  draft = kiln_payment_new (kiln_payment_get_kind (old), kiln_payment_get_chain_id (old),
                            kiln_payment_get_from (old));
  if (kiln_payment_get_token (old) != NULL)
    kiln_payment_set_token (draft, kiln_payment_get_token (old));
  if (kiln_payment_get_reference (old) != NULL)
    kiln_payment_set_reference (draft, kiln_payment_get_reference (old));
  key = g_strdup_printf (KILN_WALLET_RESEND_KEY_PREFIX "%" G_GINT64_FORMAT,
                         kiln_payment_get_id (old));
  kiln_payment_set_idempotency_key (draft, key);
  for (guint i = 0; i < kiln_payment_get_n_recipients (old); i++)
    {
      const KilnPaymentRecipient *recipient = kiln_payment_get_recipient (old, i);

      kiln_payment_add_recipient (draft, &recipient->address, &recipient->amount);
    }

  g_debug ("Wallet: payment %" PRId64 " lost its nonce to another transaction; "
           "sending it again", kiln_payment_get_id (old));
  kiln_payment_ledger_create_async (self->ledger, draft, cancellable, on_resend_created,
                                    g_object_ref (task));
}

KilnPayment *
kiln_wallet_resend_finish (GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
kiln_wallet_plan_from_raw (GBytes          *raw,
               KilnWalletPlan  *plan,
               GError         **error)
{
  g_autoptr(KilnTransaction) tx = NULL;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (raw, &len);

  tx = kiln_transaction_decode (bytes, len, error);
  if (tx == NULL)
    return FALSE;

  kiln_wallet_plan_clear (plan);
  plan->to = *kiln_transaction_get_to (tx);
  kiln_transaction_get_value (tx, &plan->value);
  plan->data = g_bytes_ref (kiln_transaction_get_data (tx));
  plan->gas_limit = kiln_transaction_get_gas_limit (tx);
  return TRUE;
}

/* Submitting: nonce, signature, record, broadcast, under the lock */

typedef struct
{
  KilnPayment    *payment;
  KilnWalletPlan  plan;
  guint64         chain_nonce;
  guint8          hash[32];
  guint           resends;
} Submit;

static void
submit_free (gpointer data)
{
  Submit *submit = data;

  g_clear_pointer (&submit->payment, kiln_payment_unref);
  kiln_wallet_plan_clear (&submit->plan);
  g_free (submit);
}

static void submit_with_nonce (GTask *task);

static void
submit_return (GTask  *task,
               GError *error)
{
  KilnWallet *self = g_task_get_source_object (task);
  Submit *submit = g_task_get_task_data (task);

  kiln_wallet_unlock (self);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, kiln_payment_ref (submit->payment),
                           (GDestroyNotify) kiln_payment_unref);
  g_object_unref (task);
}

static void
set_payment (Submit      *submit,
             KilnPayment *payment)
{
  g_clear_pointer (&submit->payment, kiln_payment_unref);
  submit->payment = payment;
}

static void
submit_return_record (GTask       *task,
                      KilnPayment *payment,
                      GError      *error)
{
  KilnWallet *self = g_task_get_source_object (task);
  Submit *submit = g_task_get_task_data (task);

  if (payment == NULL)
    {
      submit_return (task, error);
      return;
    }

  set_payment (submit, payment);
  kiln_wallet_payment_changed (self, payment);
  if (kiln_payment_get_state (payment) == KILN_PAYMENT_STATE_FAILED)
    submit_return (task, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                                      kiln_payment_get_error (payment)));
  else
    submit_return (task, NULL);
}

static void
on_submit_marked_broadcast (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  GError *error = NULL;
  KilnPayment *payment;

  payment = kiln_payment_ledger_mark_broadcast_finish (KILN_PAYMENT_LEDGER (object), result,
                                                       &error);
  submit_return_record (user_data, payment, error);
}

static void
on_submit_marked_failed (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  GError *error = NULL;
  KilnPayment *payment;

  payment = kiln_payment_ledger_mark_failed_finish (KILN_PAYMENT_LEDGER (object), result,
                                                    &error);
  submit_return_record (user_data, payment, error);
}

static void
on_submit_resent (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  Submit *submit = g_task_get_task_data (task);
  KilnPayment *successor;
  GError *error = NULL;

  successor = kiln_wallet_resend_finish (result, &error);
  if (successor == NULL)
    {
      submit_return (task, error);
      return;
    }

  set_payment (submit, successor);
  if (kiln_payment_get_state (successor) != KILN_PAYMENT_STATE_PENDING)
    submit_return (task, NULL);
  else
    submit_with_nonce (task);
}

static void
on_submit_settled (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  Submit *submit = g_task_get_task_data (task);
  KilnPayment *payment;
  GError *error = NULL;

  payment = kiln_wallet_settle_finish (result, &error);
  if (payment == NULL)
    {
      submit_return (task, error);
      return;
    }
  set_payment (submit, payment);
  submit_return (task, NULL);
}

/* "nonce too low": mined (then settled), or the nonce went to another transaction. */
static void
on_submit_receipt (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Submit *submit = g_task_get_task_data (task);
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  GError *error = NULL;

  receipt = kiln_rpc_client_get_transaction_receipt_finish (KILN_RPC_CLIENT (object), result,
                                                            &error);
  if (error != NULL)
    {
      submit_return (task, error);
      return;
    }

  if (receipt != NULL)
    {
      kiln_wallet_settle_async (self, submit->payment, receipt, g_task_get_cancellable (task),
                    on_submit_settled, task);
      return;
    }

  if (++submit->resends > KILN_WALLET_MAX_RESENDS)
    {
      submit_return (task, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                                        _("Other transactions from this account keep taking "
                                          "the nonces of payment %" PRId64 "; stop "
                                          "other programs that use it and try again"),
                                        kiln_payment_get_id (submit->payment)));
      return;
    }
  kiln_wallet_resend_async (self, submit->payment, g_task_get_cancellable (task),
                            on_submit_resent, task);
}

static void
on_submit_sent (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Submit *submit = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  gint64 id = kiln_payment_get_id (submit->payment);
  guint8 hash[32];

  if (kiln_rpc_client_send_raw_transaction_finish (KILN_RPC_CLIENT (object), result, hash,
                                                   &error))
    {
      kiln_payment_ledger_mark_broadcast_async (self->ledger, id, submit->hash,
                                                self->cancellable, on_submit_marked_broadcast,
                                                task);
      return;
    }

  /* Another transaction has the nonce, mined or waiting in the pool ("replacement
   * transaction underpriced": these bytes were refused, so they can never be mined). */
  if (kiln_wallet_is_nonce_too_low (error) || is_nonce_contested (error))
    {
      kiln_rpc_client_get_transaction_receipt_async (self->rpc, submit->hash,
                                                     g_task_get_cancellable (task),
                                                     on_submit_receipt, task);
      return;
    }

  if (kiln_wallet_is_unreachable (error))
    {
      /* Signed and recorded: tracking broadcasts it once the node answers again. */
      g_debug ("Wallet: payment %" PRId64 " is signed but not sent yet: %s", id,
               error->message);
      submit_return (task, NULL);
      return;
    }

  /* The node refused these bytes, which went nowhere else: nothing can be mined. */
  reason = g_strdup_printf (_("The payment was not sent: %s"), error->message);
  kiln_payment_ledger_mark_failed_async (self->ledger, id, NULL, reason, self->cancellable,
                                         on_submit_marked_failed, task);
}

static void
on_submit_recorded (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Submit *submit = g_task_get_task_data (task);
  KilnPayment *payment;
  GError *error = NULL;

  payment = kiln_payment_ledger_record_attempt_finish (KILN_PAYMENT_LEDGER (object), result,
                                                       &error);
  if (payment == NULL)
    {
      submit_return (task, error);
      return;
    }

  set_payment (submit, payment);
  kiln_wallet_payment_changed (self, payment);
  if (self->after_sign_hook != NULL)
    self->after_sign_hook (self, payment, self->after_sign_data);

  kiln_rpc_client_send_raw_transaction_async (self->rpc,
                                              kiln_payment_get_latest_attempt (payment)->raw,
                                              g_task_get_cancellable (task), on_submit_sent,
                                              task);
}

static void
on_submit_reserved (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Submit *submit = g_task_get_task_data (task);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(KilnTransaction) tx = NULL;
  guint64 nonce;
  GError *error = NULL;
  gsize len;

  if (!kiln_payment_ledger_reserve_nonce_finish (KILN_PAYMENT_LEDGER (object), result, &nonce,
                                                 &error))
    {
      submit_return (task, error);
      return;
    }
  self->next_nonce_known = TRUE;
  self->next_nonce = nonce + 1;

  raw = kiln_wallet_sign_plan (self, self->key, &submit->plan, nonce, &error);
  if (raw == NULL)
    {
      submit_return (task, error);
      return;
    }
  tx = kiln_transaction_decode (g_bytes_get_data (raw, &len), g_bytes_get_size (raw), NULL);
  g_assert (tx != NULL);
  kiln_transaction_get_hash (tx, submit->hash);

  kiln_payment_ledger_record_attempt_async (self->ledger, kiln_payment_get_id (submit->payment),
                                            raw, self->cancellable, on_submit_recorded, task);
}

static void
on_submit_resynced (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Submit *submit = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_wallet_resync_finish (self, result, &submit->chain_nonce, &error))
    {
      submit_return (task, error);
      return;
    }

  kiln_payment_ledger_reserve_nonce_async (self->ledger, kiln_payment_get_id (submit->payment),
                                           submit->chain_nonce, g_task_get_cancellable (task),
                                           on_submit_reserved, task);
}

static void
submit_with_nonce (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);

  if (g_task_return_error_if_cancelled (task))
    {
      kiln_wallet_unlock (self);
      g_object_unref (task);
      return;
    }
  kiln_wallet_resync_async (self, g_task_get_cancellable (task), on_submit_resynced, task);
}

static void
on_submit_locked (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!kiln_wallet_lock_finish (KILN_WALLET (object), result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  submit_with_nonce (task);
}

void
kiln_wallet_submit_async (KilnWallet           *self,
                          KilnPayment          *payment,
                          const KilnWalletPlan *plan,
                          GCancellable         *cancellable,
                          GAsyncReadyCallback   callback,
                          gpointer              user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Submit *submit = g_new0 (Submit, 1);

  g_task_set_source_tag (task, kiln_wallet_submit_async);
  submit->payment = kiln_payment_ref (payment);
  kiln_wallet_plan_copy (&submit->plan, plan);
  g_task_set_task_data (task, submit, submit_free);

  kiln_wallet_lock_async (self, cancellable, on_submit_locked, task);
}

KilnPayment *
kiln_wallet_submit_finish (KilnWallet    *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
