/* kiln-payment-ledger.c: outgoing payments and nonces, written before anything is sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kiln-payment-ledger-private.h"

/* Each call packs its inputs into a KilnLedgerOp, runs one of the kiln_ledger_do_*()
 * functions on the store's worker thread as one transaction, and takes the outputs back out.
 *
 *   kiln-payment-ledger.c          the object, running ops; creating, reading, listing
 *   kiln-payment-ledger-send.c     the calls along a payment's way: nonces, attempts, states
 *   kiln-payment-ledger-records.c  worker: loading and creating payments, shared helpers
 *   kiln-payment-ledger-lists.c    worker: unfinished, pending and history listings, totals
 *   kiln-payment-ledger-nonces.c   worker: reserving, resetting and giving back nonces
 *   kiln-payment-ledger-states.c   worker: checking and recording attempts, state changes */

struct _KilnPaymentLedger
{
  GObject    parent_instance;

  KilnStore *store;
};

G_DEFINE_FINAL_TYPE (KilnPaymentLedger, kiln_payment_ledger, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STORE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
kiln_ledger_op_free (KilnLedgerOp *op)
{
  if (op == NULL)
    return;

  g_clear_pointer (&op->draft, kiln_payment_unref);
  g_clear_pointer (&op->raw, g_bytes_unref);
  g_clear_pointer (&op->reason, g_free);
  g_clear_pointer (&op->payment, kiln_payment_unref);
  g_clear_pointer (&op->payments, g_ptr_array_unref);
  g_clear_pointer (&op->history, kiln_payment_history_free);
  g_free (op);
}

KilnLedgerOp *
kiln_ledger_op_new (gint64 id)
{
  KilnLedgerOp *op = g_new0 (KilnLedgerOp, 1);

  op->id = id;
  return op;
}

KilnLedgerOp *
kiln_ledger_op_new_hash (gint64        id,
                         const guint8 *tx_hash)
{
  KilnLedgerOp *op = kiln_ledger_op_new (id);

  op->has_hash = tx_hash != NULL;
  if (tx_hash != NULL)
    memcpy (op->tx_hash, tx_hash, sizeof op->tx_hash);

  return op;
}

KilnLedgerOp *
kiln_ledger_op_new_account (guint64            chain_id,
                            const KilnAddress *from)
{
  KilnLedgerOp *op = kiln_ledger_op_new (0);

  op->chain_id = chain_id;
  op->has_from = from != NULL;
  if (from != NULL)
    op->from = *from;

  return op;
}

/* Takes @op. */
void
kiln_ledger_run_async (KilnPaymentLedger   *self,
                       KilnStoreFunc        func,
                       KilnLedgerOp        *op,
                       gpointer             source_tag,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, op, (GDestroyNotify) kiln_ledger_op_free);
  kiln_store_run_task (self->store, func, g_steal_pointer (&task));
}

/* The op with the outputs, owned by @result; NULL on error. */
KilnLedgerOp *
kiln_ledger_run_finish (KilnPaymentLedger  *self,
                        GAsyncResult       *result,
                        gpointer            source_tag,
                        GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  return g_task_get_task_data (G_TASK (result));
}

gboolean
kiln_ledger_run_sync (KilnPaymentLedger  *self,
                      KilnStoreFunc       func,
                      KilnLedgerOp       *op,
                      GCancellable       *cancellable,
                      GError            **error)
{
  return kiln_store_run_sync (self->store, func, op, cancellable, error);
}

KilnPayment *
kiln_ledger_finish_payment (KilnPaymentLedger  *self,
                            GAsyncResult       *result,
                            gpointer            source_tag,
                            GError            **error)
{
  KilnLedgerOp *op = kiln_ledger_run_finish (self, result, source_tag, error);

  return op != NULL ? g_steal_pointer (&op->payment) : NULL;
}

KilnPayment *
kiln_ledger_sync_payment (KilnPaymentLedger  *self,
                          KilnStoreFunc       func,
                          KilnLedgerOp       *op_,
                          GCancellable       *cancellable,
                          GError            **error)
{
  g_autoptr(KilnLedgerOp) op = op_;

  if (!kiln_ledger_run_sync (self, func, op, cancellable, error))
    return NULL;

  return g_steal_pointer (&op->payment);
}

static GPtrArray *
finish_payments (KilnPaymentLedger  *self,
                 GAsyncResult       *result,
                 gpointer            source_tag,
                 GError            **error)
{
  KilnLedgerOp *op = kiln_ledger_run_finish (self, result, source_tag, error);

  return op != NULL ? g_steal_pointer (&op->payments) : NULL;
}

static GPtrArray *
sync_payments (KilnPaymentLedger  *self,
               KilnStoreFunc       func,
               KilnLedgerOp       *op_,
               GCancellable       *cancellable,
               GError            **error)
{
  g_autoptr(KilnLedgerOp) op = op_;

  if (!kiln_ledger_run_sync (self, func, op, cancellable, error))
    return NULL;

  return g_steal_pointer (&op->payments);
}

/* GObject */

static void
kiln_payment_ledger_dispose (GObject *object)
{
  KilnPaymentLedger *self = (KilnPaymentLedger *) object;

  g_clear_object (&self->store);

  G_OBJECT_CLASS (kiln_payment_ledger_parent_class)->dispose (object);
}

static void
kiln_payment_ledger_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  KilnPaymentLedger *self = KILN_PAYMENT_LEDGER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_payment_ledger_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  KilnPaymentLedger *self = KILN_PAYMENT_LEDGER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_assert (self->store == NULL);
      self->store = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_payment_ledger_class_init (KilnPaymentLedgerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_payment_ledger_dispose;
  object_class->get_property = kiln_payment_ledger_get_property;
  object_class->set_property = kiln_payment_ledger_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         KILN_TYPE_STORE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_payment_ledger_init (KilnPaymentLedger *self)
{
}

KilnPaymentLedger *
kiln_payment_ledger_new (KilnStore *store)
{
  g_return_val_if_fail (KILN_IS_STORE (store), NULL);

  return g_object_new (KILN_TYPE_PAYMENT_LEDGER, "store", store, NULL);
}

KilnStore *
kiln_payment_ledger_get_store (KilnPaymentLedger *self)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);

  return self->store;
}

/* Creating and reading */

static KilnLedgerOp *
create_op (KilnPayment *draft)
{
  KilnLedgerOp *op = kiln_ledger_op_new (0);

  op->draft = kiln_payment_ref (draft);
  return op;
}

void
kiln_payment_ledger_create_async (KilnPaymentLedger   *self,
                                  KilnPayment         *draft,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));
  g_return_if_fail (draft != NULL);

  kiln_ledger_run_async (self, kiln_ledger_do_create, create_op (draft),
                         kiln_payment_ledger_create_async, cancellable, callback, user_data);
}

KilnPayment *
kiln_payment_ledger_create_finish (KilnPaymentLedger  *self,
                                   GAsyncResult       *result,
                                   GError            **error)
{
  return kiln_ledger_finish_payment (self, result, kiln_payment_ledger_create_async, error);
}

KilnPayment *
kiln_payment_ledger_create (KilnPaymentLedger  *self,
                            KilnPayment        *draft,
                            GCancellable       *cancellable,
                            GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);
  g_return_val_if_fail (draft != NULL, NULL);

  return kiln_ledger_sync_payment (self, kiln_ledger_do_create, create_op (draft), cancellable,
                                   error);
}

void
kiln_payment_ledger_get_async (KilnPaymentLedger   *self,
                               gint64               id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));

  kiln_ledger_run_async (self, kiln_ledger_do_get, kiln_ledger_op_new (id),
                         kiln_payment_ledger_get_async, cancellable, callback, user_data);
}

KilnPayment *
kiln_payment_ledger_get_finish (KilnPaymentLedger  *self,
                                GAsyncResult       *result,
                                GError            **error)
{
  return kiln_ledger_finish_payment (self, result, kiln_payment_ledger_get_async, error);
}

KilnPayment *
kiln_payment_ledger_get (KilnPaymentLedger  *self,
                         gint64              id,
                         GCancellable       *cancellable,
                         GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);

  return kiln_ledger_sync_payment (self, kiln_ledger_do_get, kiln_ledger_op_new (id), cancellable,
                                   error);
}

/* Listing */

void
kiln_payment_ledger_list_unfinished_async (KilnPaymentLedger   *self,
                                           guint64              chain_id,
                                           const KilnAddress   *from,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));

  kiln_ledger_run_async (self, kiln_ledger_do_list_unfinished,
                         kiln_ledger_op_new_account (chain_id, from),
                         kiln_payment_ledger_list_unfinished_async, cancellable, callback,
                         user_data);
}

GPtrArray *
kiln_payment_ledger_list_unfinished_finish (KilnPaymentLedger  *self,
                                            GAsyncResult       *result,
                                            GError            **error)
{
  return finish_payments (self, result, kiln_payment_ledger_list_unfinished_async, error);
}

GPtrArray *
kiln_payment_ledger_list_unfinished (KilnPaymentLedger  *self,
                                     guint64             chain_id,
                                     const KilnAddress  *from,
                                     GCancellable       *cancellable,
                                     GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);

  return sync_payments (self, kiln_ledger_do_list_unfinished,
                        kiln_ledger_op_new_account (chain_id, from), cancellable, error);
}

void
kiln_payment_ledger_list_pending_async (KilnPaymentLedger   *self,
                                        guint64              chain_id,
                                        const KilnAddress   *from,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));

  kiln_ledger_run_async (self, kiln_ledger_do_list_pending,
                         kiln_ledger_op_new_account (chain_id, from),
                         kiln_payment_ledger_list_pending_async, cancellable, callback, user_data);
}

GPtrArray *
kiln_payment_ledger_list_pending_finish (KilnPaymentLedger  *self,
                                         GAsyncResult       *result,
                                         GError            **error)
{
  return finish_payments (self, result, kiln_payment_ledger_list_pending_async, error);
}

GPtrArray *
kiln_payment_ledger_list_pending (KilnPaymentLedger  *self,
                                  guint64             chain_id,
                                  const KilnAddress  *from,
                                  GCancellable       *cancellable,
                                  GError            **error)
{
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);

  return sync_payments (self, kiln_ledger_do_list_pending,
                        kiln_ledger_op_new_account (chain_id, from), cancellable, error);
}

static KilnLedgerOp *
history_op (guint64            chain_id,
            const KilnAddress *from,
            guint              offset,
            guint              limit)
{
  KilnLedgerOp *op = kiln_ledger_op_new_account (chain_id, from);

  op->offset = offset;
  op->limit = limit;
  return op;
}

void
kiln_payment_ledger_list_history_async (KilnPaymentLedger   *self,
                                        guint64              chain_id,
                                        const KilnAddress   *from,
                                        guint                offset,
                                        guint                limit,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (KILN_IS_PAYMENT_LEDGER (self));

  kiln_ledger_run_async (self, kiln_ledger_do_list_history,
                         history_op (chain_id, from, offset, limit),
                         kiln_payment_ledger_list_history_async, cancellable, callback, user_data);
}

KilnPaymentHistory *
kiln_payment_ledger_list_history_finish (KilnPaymentLedger  *self,
                                         GAsyncResult       *result,
                                         GError            **error)
{
  KilnLedgerOp *op = kiln_ledger_run_finish (self, result, kiln_payment_ledger_list_history_async,
                                             error);

  return op != NULL ? g_steal_pointer (&op->history) : NULL;
}

KilnPaymentHistory *
kiln_payment_ledger_list_history (KilnPaymentLedger  *self,
                                  guint64             chain_id,
                                  const KilnAddress  *from,
                                  guint               offset,
                                  guint               limit,
                                  GCancellable       *cancellable,
                                  GError            **error)
{
  g_autoptr(KilnLedgerOp) op = NULL;

  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (self), NULL);

  op = history_op (chain_id, from, offset, limit);
  if (!kiln_ledger_run_sync (self, kiln_ledger_do_list_history, op, cancellable, error))
    return NULL;

  return g_steal_pointer (&op->history);
}
