/* kiln-payment-ledger-send.c: the ledger's calls along a payment's way to the chain
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kiln-payment-ledger-private.h"

/* Nonces */

static KilnLedgerOp *
reserve_op (gint64  id,
            guint64 chain_pending_nonce)
{
  KilnLedgerOp *op = kiln_ledger_op_new (id);

  op->chain_nonce = chain_pending_nonce;
  return op;
}

void
kiln_payment_ledger_reserve_nonce_async (KilnPaymentLedger   *self,
                                         gint64               id,
                                         guint64              chain_pending_nonce,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));

  kiln_ledger_run_async (self, kiln_ledger_do_reserve_nonce, reserve_op (id, chain_pending_nonce),
                         kiln_payment_ledger_reserve_nonce_async, cancellable, callback, user_data);
}

gboolean
kiln_payment_ledger_reserve_nonce_finish (KilnPaymentLedger  *self,
                                          GAsyncResult       *result,
                                          guint64            *nonce,
                                          GError            **error)
{
  KilnLedgerOp *op = kiln_ledger_run_finish (self, result, kiln_payment_ledger_reserve_nonce_async,
                                             error);

  if (op == NULL)
    return FALSE;

  if (nonce != NULL)
    *nonce = op->nonce;
  return TRUE;
}

gboolean
kiln_payment_ledger_reserve_nonce (KilnPaymentLedger  *self,
                                   gint64              id,
                                   guint64             chain_pending_nonce,
                                   guint64            *nonce,
                                   GCancellable       *cancellable,
                                   GError            **error)
{
  g_autoptr(KilnLedgerOp) op = NULL;

  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), FALSE);

  op = reserve_op (id, chain_pending_nonce);
  if (!kiln_ledger_run_sync (self, kiln_ledger_do_reserve_nonce, op, cancellable, error))
    return FALSE;

  if (nonce != NULL)
    *nonce = op->nonce;
  return TRUE;
}

static KilnLedgerOp *
reset_op (guint64            chain_id,
          const KilnAddress *from,
          guint64            chain_pending_nonce)
{
  KilnLedgerOp *op = kiln_ledger_op_new_account (chain_id, from);

  op->chain_nonce = chain_pending_nonce;
  return op;
}

void
kiln_payment_ledger_reset_nonce_async (KilnPaymentLedger   *self,
                                       guint64              chain_id,
                                       const KilnAddress   *from,
                                       guint64              chain_pending_nonce,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));
  g_return_if_fail (from != NULL);

  kiln_ledger_run_async (self, kiln_ledger_do_reset_nonce,
                         reset_op (chain_id, from, chain_pending_nonce),
                         kiln_payment_ledger_reset_nonce_async, cancellable, callback, user_data);
}

gboolean
kiln_payment_ledger_reset_nonce_finish (KilnPaymentLedger  *self,
                                        GAsyncResult       *result,
                                        GError            **error)
{
  return kiln_ledger_run_finish (self, result, kiln_payment_ledger_reset_nonce_async,
                                 error) != NULL;
}

gboolean
kiln_payment_ledger_reset_nonce (KilnPaymentLedger  *self,
                                 guint64             chain_id,
                                 const KilnAddress  *from,
                                 guint64             chain_pending_nonce,
                                 GCancellable       *cancellable,
                                 GError            **error)
{
  g_autoptr(KilnLedgerOp) op = NULL;

  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), FALSE);
  g_return_val_if_fail (from != NULL, FALSE);

  op = reset_op (chain_id, from, chain_pending_nonce);
  return kiln_ledger_run_sync (self, kiln_ledger_do_reset_nonce, op, cancellable, error);
}

/* Attempts and states */

static KilnLedgerOp *
attempt_op (gint64  id,
            GBytes *raw)
{
  KilnLedgerOp *op = kiln_ledger_op_new (id);

  op->raw = g_bytes_ref (raw);
  return op;
}

void
kiln_payment_ledger_record_attempt_async (KilnPaymentLedger   *self,
                                          gint64               id,
                                          GBytes              *raw,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));
  g_return_if_fail (raw != NULL);

  kiln_ledger_run_async (self, kiln_ledger_do_record_attempt, attempt_op (id, raw),
                         kiln_payment_ledger_record_attempt_async, cancellable, callback,
                         user_data);
}

KilnPayment *
kiln_payment_ledger_record_attempt_finish (KilnPaymentLedger  *self,
                                           GAsyncResult       *result,
                                           GError            **error)
{
  return kiln_ledger_finish_payment (self, result, kiln_payment_ledger_record_attempt_async, error);
}

KilnPayment *
kiln_payment_ledger_record_attempt (KilnPaymentLedger  *self,
                                    gint64              id,
                                    GBytes             *raw,
                                    GCancellable       *cancellable,
                                    GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);
  g_return_val_if_fail (raw != NULL, NULL);

  return kiln_ledger_sync_payment (self, kiln_ledger_do_record_attempt, attempt_op (id, raw),
                                   cancellable, error);
}

void
kiln_payment_ledger_mark_broadcast_async (KilnPaymentLedger   *self,
                                          gint64               id,
                                          const guint8        *tx_hash,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));
  g_return_if_fail (tx_hash != NULL);

  kiln_ledger_run_async (self, kiln_ledger_do_mark_broadcast, kiln_ledger_op_new_hash (id, tx_hash),
                         kiln_payment_ledger_mark_broadcast_async, cancellable, callback,
                         user_data);
}

KilnPayment *
kiln_payment_ledger_mark_broadcast_finish (KilnPaymentLedger  *self,
                                           GAsyncResult       *result,
                                           GError            **error)
{
  return kiln_ledger_finish_payment (self, result, kiln_payment_ledger_mark_broadcast_async, error);
}

KilnPayment *
kiln_payment_ledger_mark_broadcast (KilnPaymentLedger  *self,
                                    gint64              id,
                                    const guint8       *tx_hash,
                                    GCancellable       *cancellable,
                                    GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);
  g_return_val_if_fail (tx_hash != NULL, NULL);

  return kiln_ledger_sync_payment (self, kiln_ledger_do_mark_broadcast,
                                   kiln_ledger_op_new_hash (id, tx_hash), cancellable, error);
}

void
kiln_payment_ledger_mark_replaced_async (KilnPaymentLedger   *self,
                                         gint64               id,
                                         const guint8        *tx_hash,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));
  g_return_if_fail (tx_hash != NULL);

  kiln_ledger_run_async (self, kiln_ledger_do_mark_replaced, kiln_ledger_op_new_hash (id, tx_hash),
                         kiln_payment_ledger_mark_replaced_async, cancellable, callback,
                         user_data);
}

KilnPayment *
kiln_payment_ledger_mark_replaced_finish (KilnPaymentLedger  *self,
                                          GAsyncResult       *result,
                                          GError            **error)
{
  return kiln_ledger_finish_payment (self, result, kiln_payment_ledger_mark_replaced_async,
                                     error);
}

KilnPayment *
kiln_payment_ledger_mark_replaced (KilnPaymentLedger  *self,
                                   gint64              id,
                                   const guint8       *tx_hash,
                                   GCancellable       *cancellable,
                                   GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);
  g_return_val_if_fail (tx_hash != NULL, NULL);

  return kiln_ledger_sync_payment (self, kiln_ledger_do_mark_replaced,
                                   kiln_ledger_op_new_hash (id, tx_hash), cancellable, error);
}

static KilnLedgerOp *
confirmed_op (gint64        id,
              const guint8 *tx_hash,
              guint64       block,
              guint64       gas_used)
{
  KilnLedgerOp *op = kiln_ledger_op_new_hash (id, tx_hash);

  op->block = block;
  op->gas_used = gas_used;
  return op;
}

void
kiln_payment_ledger_mark_confirmed_async (KilnPaymentLedger   *self,
                                          gint64               id,
                                          const guint8        *tx_hash,
                                          guint64              block,
                                          guint64              gas_used,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));
  g_return_if_fail (tx_hash != NULL);

  kiln_ledger_run_async (self, kiln_ledger_do_mark_confirmed,
                         confirmed_op (id, tx_hash, block, gas_used),
                         kiln_payment_ledger_mark_confirmed_async, cancellable, callback,
                         user_data);
}

KilnPayment *
kiln_payment_ledger_mark_confirmed_finish (KilnPaymentLedger  *self,
                                           GAsyncResult       *result,
                                           GError            **error)
{
  return kiln_ledger_finish_payment (self, result, kiln_payment_ledger_mark_confirmed_async, error);
}

KilnPayment *
kiln_payment_ledger_mark_confirmed (KilnPaymentLedger  *self,
                                    gint64              id,
                                    const guint8       *tx_hash,
                                    guint64             block,
                                    guint64             gas_used,
                                    GCancellable       *cancellable,
                                    GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);
  g_return_val_if_fail (tx_hash != NULL, NULL);

  return kiln_ledger_sync_payment (self, kiln_ledger_do_mark_confirmed,
                                   confirmed_op (id, tx_hash, block, gas_used), cancellable, error);
}

static KilnLedgerOp *
failed_op (gint64        id,
           const guint8 *tx_hash,
           const char   *reason)
{
  KilnLedgerOp *op = kiln_ledger_op_new_hash (id, tx_hash);

  op->reason = g_strdup (reason);
  return op;
}

void
kiln_payment_ledger_mark_failed_async (KilnPaymentLedger   *self,
                                       gint64               id,
                                       const guint8        *tx_hash,
                                       const char          *reason,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));
  g_return_if_fail (reason != NULL);

  kiln_ledger_run_async (self, kiln_ledger_do_mark_failed, failed_op (id, tx_hash, reason),
                         kiln_payment_ledger_mark_failed_async, cancellable, callback, user_data);
}

KilnPayment *
kiln_payment_ledger_mark_failed_finish (KilnPaymentLedger  *self,
                                        GAsyncResult       *result,
                                        GError            **error)
{
  return kiln_ledger_finish_payment (self, result, kiln_payment_ledger_mark_failed_async, error);
}

KilnPayment *
kiln_payment_ledger_mark_failed (KilnPaymentLedger  *self,
                                 gint64              id,
                                 const guint8       *tx_hash,
                                 const char         *reason,
                                 GCancellable       *cancellable,
                                 GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);
  g_return_val_if_fail (reason != NULL, NULL);

  return kiln_ledger_sync_payment (self, kiln_ledger_do_mark_failed,
                                   failed_op (id, tx_hash, reason), cancellable, error);
}
