/* kiln-wallet-tracker.c: following payments until they are final
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every poll-interval, on the main context the wallet was made in, one round goes over the
 * signed and broadcast payments, oldest nonce first. For each it looks for a receipt of every
 * attempt, replaced ones too, since whichever attempt is mined wins; a receipt with enough
 * confirmations settles the payment. Without one: when the chain has used the payment's nonce,
 * another transaction took it and the payment is resent; an attempt that was never handed to
 * the node (a crash came between recording and broadcasting, or the node was unreachable) is
 * broadcast again byte for byte; and an attempt left unmined for replace-after is replaced
 * with a fee bump: the same transaction and nonce with both fees raised by at least 12.5 % and
 * to at least the network's current fees.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-wallet-private.h"

typedef struct
{
  GPtrArray      *payments;      /* KilnPayment, oldest nonce first */
  guint           index;
  guint           attempt;
  guint64         head;
  guint64         mined_nonce;   /* the account's nonce in the latest block */
  KilnPayment    *payment;       /* the current one, as last recorded */
  KilnPayment    *successor;     /* the payment resending it */
  guint           replaced;      /* next attempt to mark replaced after a broadcast */
} Track;

static void
track_free (gpointer data)
{
  Track *track = data;

  g_clear_pointer (&track->payments, g_ptr_array_unref);
  g_clear_pointer (&track->payment, kiln_payment_unref);
  g_clear_pointer (&track->successor, kiln_payment_unref);
  g_free (track);
}

static void track_next_payment (GTask *task);
static void track_check_attempt (GTask *task);

static void
track_set_payment (Track       *track,
                   KilnPayment *payment)
{
  g_clear_pointer (&track->payment, kiln_payment_unref);
  track->payment = payment;
}

/* Ends the current payment's turn; @error (taken) is only logged, the next round tries
 * again. */
static void
track_payment_done (GTask  *task,
                    GError *error)
{
  Track *track = g_task_get_task_data (task);

  if (error != NULL)
    {
      g_debug ("Wallet: tracking payment %" G_GINT64_FORMAT ": %s",
               kiln_payment_get_id (track->payment), error->message);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          KilnWallet *self = g_task_get_source_object (task);

          self->ticking = FALSE;
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      g_error_free (error);
    }

  track->index++;
  track_next_payment (task);
}

/* Takes a new record of the current payment from the ledger; FALSE when there is none (the
 * payment's turn then ended with @error). */
static gboolean
track_take_record (GTask       *task,
                   KilnPayment *payment,
                   GError      *error)
{
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);

  if (payment == NULL)
    {
      track_payment_done (task, error);
      return FALSE;
    }

  track_set_payment (track, payment);
  kiln_wallet_payment_changed (self, payment);
  return TRUE;
}

/* Marking older attempts replaced once a newer one is on the network */

static void mark_next_replaced (GTask *task);

static void
on_marked_replaced (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  KilnPayment *payment;

  payment = kiln_payment_ledger_mark_replaced_finish (KILN_PAYMENT_LEDGER (object), result, &error);
  if (track_take_record (task, payment, error))
    mark_next_replaced (task);
}

static void
mark_next_replaced (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  guint n = kiln_payment_get_n_attempts (track->payment);

  /* Every attempt before the newest that is still open. */
  for (; track->replaced + 1 < n; track->replaced++)
    {
      const KilnPaymentAttempt *attempt = kiln_payment_get_attempt (track->payment,
                                                                    track->replaced);

      if (attempt->state == KILN_PAYMENT_ATTEMPT_SIGNED ||
          attempt->state == KILN_PAYMENT_ATTEMPT_BROADCAST)
        {
          track->replaced++;
          kiln_payment_ledger_mark_replaced_async (self->ledger,
                                                   kiln_payment_get_id (track->payment),
                                                   attempt->tx_hash, self->cancellable,
                                                   on_marked_replaced, task);
          return;
        }
    }

  track_payment_done (task, NULL);
}

/* Broadcasting the newest attempt: again after a crash, or a fee bump */

static void
on_track_marked_broadcast (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  KilnPayment *payment;

  payment = kiln_payment_ledger_mark_broadcast_finish (KILN_PAYMENT_LEDGER (object), result, &error);
  if (track_take_record (task, payment, error))
    {
      Track *track = g_task_get_task_data (task);

      track->replaced = 0;
      mark_next_replaced (task);
    }
}

static void
on_track_sent (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  GError *error = NULL;
  guint8 hash[32];

  /* A refusal ("nonce too low", "replacement transaction underpriced", …) is settled by a
   * later round: a receipt, a resend, or a higher bump. */
  if (!kiln_rpc_client_send_raw_transaction_finish (KILN_RPC_CLIENT (object), result, hash,
                                                    &error))
    {
      track_payment_done (task, error);
      return;
    }

  kiln_payment_ledger_mark_broadcast_async (self->ledger, kiln_payment_get_id (track->payment),
                                            hash, self->cancellable, on_track_marked_broadcast,
                                            task);
}

static void
track_broadcast_latest (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  const KilnPaymentAttempt *latest = kiln_payment_get_latest_attempt (track->payment);

  g_debug ("Wallet: broadcasting payment %" G_GINT64_FORMAT "'s signed transaction (nonce %"
           G_GUINT64_FORMAT ")", kiln_payment_get_id (track->payment), latest->nonce);
  kiln_rpc_client_send_raw_transaction_async (self->rpc, latest->raw,
                                              g_task_get_cancellable (task), on_track_sent, task);
}

static void
on_bump_recorded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  KilnPayment *payment;

  payment = kiln_payment_ledger_record_attempt_finish (KILN_PAYMENT_LEDGER (object), result, &error);
  if (track_take_record (task, payment, error))
    track_broadcast_latest (task);
}

static void
on_bump_fees (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  const KilnPaymentAttempt *latest = kiln_payment_get_latest_attempt (track->payment);
  g_autoptr(GBytes) raw = NULL;
  KilnRpcFeeData fees;
  KilnUint256 max_cost;
  GError *error = NULL;

  if (!kiln_rpc_client_get_fee_data_finish (KILN_RPC_CLIENT (object), result, &fees, &error))
    {
      track_payment_done (task, error);
      return;
    }

  raw = kiln_wallet_bump_raw (self, self->key, latest->raw, &fees, &max_cost, &error);
  if (raw == NULL)
    {
      track_payment_done (task, error);
      return;
    }
  if (kiln_uint256_compare (&max_cost, &self->eth_balance) > 0)
    {
      track_payment_done (task, g_error_new (KILN_WALLET_ERROR,
                                             KILN_WALLET_ERROR_INSUFFICIENT_ETH,
                                             _("Not enough %s to raise the fee of a stuck "
                                               "payment"),
                                             kiln_chain_get_native_symbol (self->chain)));
      return;
    }

  g_debug ("Wallet: payment %" G_GINT64_FORMAT " is stuck at nonce %" G_GUINT64_FORMAT
           "; replacing it with higher fees", kiln_payment_get_id (track->payment),
           latest->nonce);
  kiln_payment_ledger_record_attempt_async (self->ledger, kiln_payment_get_id (track->payment),
                                            raw, self->cancellable, on_bump_recorded, task);
}

/* Deciding what an unmined payment needs */

static void
on_track_resent (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data);

static void
track_unmined (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  const KilnPaymentAttempt *latest = kiln_payment_get_latest_attempt (track->payment);
  gint64 since = latest->broadcast_at != 0 ? latest->broadcast_at : latest->created_at;
  gint64 waited_ms = (g_get_real_time () - since) / 1000;

  /* Receipts were asked after the account's mined nonce: had one of these attempts been
   * mined with that nonce, its receipt would have been found. Seen for a few rounds in a
   * row, so that one node lagging behind another cannot make it pay twice. */
  if (latest->nonce < track->mined_nonce)
    {
      gint64 id = kiln_payment_get_id (track->payment);
      guint rounds = GPOINTER_TO_UINT (g_hash_table_lookup (self->lost_rounds, &id)) + 1;

      if (rounds < KILN_WALLET_LOST_ROUNDS)
        {
          g_hash_table_replace (self->lost_rounds, g_memdup2 (&id, sizeof id),
                                GUINT_TO_POINTER (rounds));
          track_payment_done (task, NULL);
          return;
        }
      g_hash_table_remove (self->lost_rounds, &id);
      kiln_wallet_resend_async (self, track->payment, g_task_get_cancellable (task),
                                on_track_resent, task);
      return;
    }
  g_hash_table_remove (self->lost_rounds, &(gint64) { kiln_payment_get_id (track->payment) });

  if (kiln_payment_get_state (track->payment) == KILN_PAYMENT_STATE_BROADCAST &&
      waited_ms >= (gint64) self->replace_after)
    {
      kiln_rpc_client_get_fee_data_async (self->rpc, g_task_get_cancellable (task),
                                          on_bump_fees, task);
      return;
    }

  if (latest->state == KILN_PAYMENT_ATTEMPT_SIGNED)
    {
      track_broadcast_latest (task);
      return;
    }

  track_payment_done (task, NULL);
}

static void
on_track_submitted (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(KilnPayment) payment = NULL;
  GError *error = NULL;

  payment = kiln_wallet_submit_finish (KILN_WALLET (object), result, &error);
  track_payment_done (task, error);
}

static void
on_track_planned (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  g_auto(KilnWalletPlan) plan = { 0, };
  GError *error = NULL;

  if (!kiln_wallet_plan_finish (self, result, &plan, &error))
    {
      track_payment_done (task, error);
      return;
    }

  kiln_wallet_submit_async (self, track->successor, &plan, g_task_get_cancellable (task),
                            on_track_submitted, task);
}

static void
on_track_resent (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  g_auto(KilnWalletPlan) old = { 0, };
  GError *error = NULL;

  g_clear_pointer (&track->successor, kiln_payment_unref);
  track->successor = kiln_wallet_resend_finish (result, &error);
  if (track->successor == NULL)
    {
      track_payment_done (task, error);
      return;
    }

  /* Made by an earlier run that did not get to give the old payment up: on its way. */
  if (kiln_payment_get_state (track->successor) != KILN_PAYMENT_STATE_PENDING)
    {
      track_payment_done (task, NULL);
      return;
    }

  /* The same transaction with a new nonce, gas estimated and fees looked up again. */
  if (!kiln_wallet_plan_from_raw (kiln_payment_get_latest_attempt (track->payment)->raw, &old,
                                  &error))
    {
      track_payment_done (task, error);
      return;
    }
  kiln_wallet_plan_async (self, NULL, &old.to, &old.value, old.data,
                          g_task_get_cancellable (task), on_track_planned, task);
}

/* Receipts */

static void
on_track_settled (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(KilnPayment) payment = NULL;
  GError *error = NULL;

  payment = kiln_wallet_settle_finish (result, &error);
  track_payment_done (task, error);
}

static void
on_track_receipt (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  GError *error = NULL;

  receipt = kiln_rpc_client_get_transaction_receipt_finish (KILN_RPC_CLIENT (object), result,
                                                            &error);
  if (error != NULL)
    {
      track_payment_done (task, error);
      return;
    }

  if (receipt == NULL)
    {
      track->attempt++;
      track_check_attempt (task);
      return;
    }

  if (self->confirmations > 1 &&
      MAX (track->head, receipt->block_number) < receipt->block_number +
                                                 self->confirmations - 1)
    {
      track_payment_done (task, NULL);   /* mined; not deep enough yet */
      return;
    }

  kiln_wallet_settle_async (self, track->payment, receipt, g_task_get_cancellable (task),
                            on_track_settled, task);
}

static void
track_check_attempt (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  const KilnPaymentAttempt *attempt;

  if (track->attempt >= kiln_payment_get_n_attempts (track->payment))
    {
      track_unmined (task);
      return;
    }

  attempt = kiln_payment_get_attempt (track->payment, track->attempt);
  if (attempt->state == KILN_PAYMENT_ATTEMPT_FAILED)
    {
      track->attempt++;
      track_check_attempt (task);
      return;
    }

  kiln_rpc_client_get_transaction_receipt_async (self->rpc, attempt->tx_hash,
                                                 g_task_get_cancellable (task),
                                                 on_track_receipt, task);
}

static void
track_next_payment (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  KilnPayment *payment;
  gint64 id;

  for (; track->index < track->payments->len; track->index++)
    {
      payment = g_ptr_array_index (track->payments, track->index);
      id = kiln_payment_get_id (payment);

      /* Settled meanwhile (by a send, or a newer record): take the newest record. */
      payment = g_hash_table_lookup (self->tracked, &id);
      if (payment == NULL || kiln_payment_get_n_attempts (payment) == 0)
        continue;

      track_set_payment (track, kiln_payment_ref (payment));
      track->attempt = 0;
      track_check_attempt (task);
      return;
    }

  self->ticking = FALSE;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_track_mined_nonce (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_rpc_client_get_transaction_count_finish (KILN_RPC_CLIENT (object), result,
                                                     &track->mined_nonce, &error))
    {
      self->ticking = FALSE;
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  track_next_payment (task);
}

static void
on_track_head (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  Track *track = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_rpc_client_get_block_number_finish (KILN_RPC_CLIENT (object), result, &track->head,
                                                &error))
    {
      self->ticking = FALSE;
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  kiln_rpc_client_get_transaction_count_async (self->rpc, &self->address, "latest",
                                               g_task_get_cancellable (task),
                                               on_track_mined_nonce, task);
}

static gint
compare_nonces (gconstpointer a,
                gconstpointer b)
{
  KilnPayment *pa = *(KilnPayment **) a;
  KilnPayment *pb = *(KilnPayment **) b;
  guint64 na = 0, nb = 0;

  kiln_payment_get_nonce (pa, &na);
  kiln_payment_get_nonce (pb, &nb);
  return na < nb ? -1 : na > nb ? 1 : 0;
}

void
kiln_wallet_track_async (KilnWallet          *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Track *track;
  GHashTableIter iter;
  gpointer value;

  g_task_set_source_tag (task, kiln_wallet_track_async);

  /* One round at a time; a round already running covers this one. */
  if (self->ticking || g_hash_table_size (self->tracked) == 0)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  self->ticking = TRUE;
  track = g_new0 (Track, 1);
  track->payments = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_payment_unref);
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (track->payments, kiln_payment_ref (value));
  g_ptr_array_sort (track->payments, compare_nonces);
  g_task_set_task_data (task, track, track_free);

  kiln_rpc_client_get_block_number_async (self->rpc, cancellable, on_track_head, task);
}

gboolean
kiln_wallet_track_finish (KilnWallet    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The poll */

static void
on_poll_tracked (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!kiln_wallet_track_finish (KILN_WALLET (object), result, &error))
    g_debug ("Wallet: tracking round failed: %s", error->message);
}

static gboolean
on_poll (gpointer user_data)
{
  KilnWallet *self = user_data;

  kiln_wallet_track_async (self, self->cancellable, on_poll_tracked, NULL);
  return G_SOURCE_CONTINUE;
}

void
kiln_wallet_tracker_start (KilnWallet *self)
{
  if (self->poll_source != NULL)
    return;

  /* The source holds no reference: dispose removes it. */
  self->poll_source = g_timeout_source_new (self->poll_interval);
  g_source_set_callback (self->poll_source, on_poll, self, NULL);
  g_source_set_static_name (self->poll_source, "[kiln] wallet tracking");
  g_source_attach (self->poll_source, self->context);
}

void
kiln_wallet_tracker_stop (KilnWallet *self)
{
  if (self->poll_source == NULL)
    return;

  g_source_destroy (self->poll_source);
  g_clear_pointer (&self->poll_source, g_source_unref);
}
