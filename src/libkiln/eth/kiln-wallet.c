/* kiln-wallet.c: balances, signed payments, and their tracking until confirmed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The wallet is split by concern, its files sharing kiln-wallet-private.h: this one holds the
 * object, waiting for payments and the lock that serializes nonces; kiln-wallet-balances.c
 * connects, reads balances and funds devnet accounts; kiln-wallet-send.c estimates and starts
 * payments; kiln-wallet-approve.c approves the batch contract; kiln-wallet-submit.c gives
 * payments nonces, signs, records and broadcasts them; kiln-wallet-tracker.c follows them
 * until they are final; kiln-wallet-tx.c builds, signs and bumps transactions;
 * kiln-wallet-history.c lists payments and incoming transfers.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-wallet-private.h"

G_DEFINE_QUARK (kiln-wallet-error-quark, kiln_wallet_error)

#define DEFAULT_CONFIRMATIONS 1
#define DEFAULT_POLL_INTERVAL 2000
#define DEFAULT_REPLACE_AFTER 60000

typedef struct
{
  GTask   *task;
  GSource *cancel_source;
  gint64   id;
} Waiter;

enum {
  PROP_0,
  PROP_CHAIN,
  PROP_KEY,
  PROP_LEDGER,
  PROP_ADDRESS,
  PROP_HAS_BALANCES,
  PROP_PENDING_COUNT,
  PROP_CONFIRMATIONS,
  PROP_POLL_INTERVAL,
  PROP_REPLACE_AFTER,
  N_PROPS
};

enum {
  BALANCES_CHANGED,
  PAYMENT_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KilnWallet, kiln_wallet, G_TYPE_OBJECT)

static void
waiter_free (gpointer data)
{
  Waiter *waiter = data;

  if (waiter->cancel_source != NULL)
    {
      g_source_destroy (waiter->cancel_source);
      g_source_unref (waiter->cancel_source);
    }
  g_clear_object (&waiter->task);
  g_free (waiter);
}

static void
kiln_wallet_constructed (GObject *object)
{
  KilnWallet *self = KILN_WALLET (object);

  G_OBJECT_CLASS (kiln_wallet_parent_class)->constructed (object);

  g_assert (KILN_IS_CHAIN (self->chain));
  g_assert (KILN_IS_KEY (self->key));
  g_assert (KILN_IS_PAYMENT_LEDGER (self->ledger));

  self->address = *kiln_key_get_address (self->key);
  kiln_address_format (&self->address, self->address_string);
  self->rpc = kiln_rpc_client_new (kiln_chain_get_rpc_url (self->chain), &self->setup_error);
}

static void
kiln_wallet_dispose (GObject *object)
{
  KilnWallet *self = KILN_WALLET (object);
  GTask *task;

  g_cancellable_cancel (self->cancellable);
  kiln_wallet_tracker_stop (self);

  while (self->waiters->len > 0)
    {
      Waiter *waiter = g_ptr_array_steal_index (self->waiters, self->waiters->len - 1);

      g_task_return_new_error (waiter->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The wallet was closed"));
      waiter_free (waiter);
    }
  while ((task = g_queue_pop_head (&self->lock_queue)) != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The wallet was closed"));
      g_object_unref (task);
    }
  g_hash_table_remove_all (self->tracked);

  G_OBJECT_CLASS (kiln_wallet_parent_class)->dispose (object);
}

static void
kiln_wallet_finalize (GObject *object)
{
  KilnWallet *self = KILN_WALLET (object);

  g_clear_object (&self->rpc);
  g_clear_error (&self->setup_error);
  g_clear_object (&self->ledger);
  g_clear_object (&self->key);
  g_clear_object (&self->chain);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->tracked, g_hash_table_unref);
  g_clear_pointer (&self->successors, g_hash_table_unref);
  g_clear_pointer (&self->reverted, g_hash_table_unref);
  g_clear_pointer (&self->lost_rounds, g_hash_table_unref);
  g_clear_pointer (&self->waiters, g_ptr_array_unref);
  kiln_wallet_plan_clear (&self->estimate_plan);

  G_OBJECT_CLASS (kiln_wallet_parent_class)->finalize (object);
}

static void
kiln_wallet_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  KilnWallet *self = KILN_WALLET (object);

  switch (prop_id)
    {
    case PROP_CHAIN:
      g_value_set_object (value, self->chain);
      break;
    case PROP_KEY:
      g_value_set_object (value, self->key);
      break;
    case PROP_LEDGER:
      g_value_set_object (value, self->ledger);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address_string);
      break;
    case PROP_HAS_BALANCES:
      g_value_set_boolean (value, self->has_balances);
      break;
    case PROP_PENDING_COUNT:
      g_value_set_uint (value, self->pending_count);
      break;
    case PROP_CONFIRMATIONS:
      g_value_set_uint (value, self->confirmations);
      break;
    case PROP_POLL_INTERVAL:
      g_value_set_uint (value, self->poll_interval);
      break;
    case PROP_REPLACE_AFTER:
      g_value_set_uint (value, self->replace_after);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_uint (KilnWallet *self,
          guint      *field,
          guint       value,
          int         prop)
{
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
kiln_wallet_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  KilnWallet *self = KILN_WALLET (object);

  switch (prop_id)
    {
    case PROP_CHAIN:
      self->chain = g_value_dup_object (value);
      break;
    case PROP_KEY:
      self->key = g_value_dup_object (value);
      break;
    case PROP_LEDGER:
      self->ledger = g_value_dup_object (value);
      break;
    case PROP_CONFIRMATIONS:
      set_uint (self, &self->confirmations, g_value_get_uint (value), PROP_CONFIRMATIONS);
      break;
    case PROP_POLL_INTERVAL:
      if (self->poll_interval != g_value_get_uint (value))
        {
          set_uint (self, &self->poll_interval, g_value_get_uint (value), PROP_POLL_INTERVAL);
          if (self->poll_source != NULL)
            {
              kiln_wallet_tracker_stop (self);
              kiln_wallet_tracker_start (self);
            }
        }
      break;
    case PROP_REPLACE_AFTER:
      set_uint (self, &self->replace_after, g_value_get_uint (value), PROP_REPLACE_AFTER);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_wallet_class_init (KilnWalletClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->constructed = kiln_wallet_constructed;
  object_class->dispose = kiln_wallet_dispose;
  object_class->finalize = kiln_wallet_finalize;
  object_class->get_property = kiln_wallet_get_property;
  object_class->set_property = kiln_wallet_set_property;

  properties[PROP_CHAIN] =
    g_param_spec_object ("chain", NULL, NULL, KILN_TYPE_CHAIN,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | flags);
  properties[PROP_KEY] =
    g_param_spec_object ("key", NULL, NULL, KILN_TYPE_KEY,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | flags);
  properties[PROP_LEDGER] =
    g_param_spec_object ("ledger", NULL, NULL, KILN_TYPE_PAYMENT_LEDGER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | flags);
  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL, NULL, G_PARAM_READABLE | flags);
  properties[PROP_HAS_BALANCES] =
    g_param_spec_boolean ("has-balances", NULL, NULL, FALSE, G_PARAM_READABLE | flags);
  properties[PROP_PENDING_COUNT] =
    g_param_spec_uint ("pending-count", NULL, NULL, 0, G_MAXUINT, 0, G_PARAM_READABLE | flags);
  properties[PROP_CONFIRMATIONS] =
    g_param_spec_uint ("confirmations", NULL, NULL, 1, 1000, DEFAULT_CONFIRMATIONS,
                       G_PARAM_READWRITE | flags);
  properties[PROP_POLL_INTERVAL] =
    g_param_spec_uint ("poll-interval", NULL, NULL, 10, 3600 * 1000, DEFAULT_POLL_INTERVAL,
                       G_PARAM_READWRITE | flags);
  properties[PROP_REPLACE_AFTER] =
    g_param_spec_uint ("replace-after", NULL, NULL, 0, G_MAXUINT, DEFAULT_REPLACE_AFTER,
                       G_PARAM_READWRITE | flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[BALANCES_CHANGED] =
    g_signal_new ("balances-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[PAYMENT_CHANGED] =
    g_signal_new ("payment-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  KILN_TYPE_PAYMENT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
kiln_wallet_init (KilnWallet *self)
{
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_ref_thread_default ();
  self->confirmations = DEFAULT_CONFIRMATIONS;
  self->poll_interval = DEFAULT_POLL_INTERVAL;
  self->replace_after = DEFAULT_REPLACE_AFTER;
  self->tracked = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                         (GDestroyNotify) kiln_payment_unref);
  self->successors = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->reverted = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->lost_rounds = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->waiters = g_ptr_array_new_with_free_func (waiter_free);
  g_queue_init (&self->lock_queue);
}

KilnWallet *
kiln_wallet_new (KilnChain         *chain,
                 KilnKey           *key,
                 KilnPaymentLedger *ledger)
{
  g_return_val_if_fail (KILN_IS_CHAIN (chain), NULL);
  g_return_val_if_fail (KILN_IS_KEY (key), NULL);
  g_return_val_if_fail (KILN_IS_PAYMENT_LEDGER (ledger), NULL);

  return g_object_new (KILN_TYPE_WALLET, "chain", chain, "key", key, "ledger", ledger, NULL);
}

/* Getters */

KilnChain *
kiln_wallet_get_chain (KilnWallet *self)
{
  g_return_val_if_fail (KILN_IS_WALLET (self), NULL);

  return self->chain;
}

KilnRpcClient *
kiln_wallet_get_rpc (KilnWallet *self)
{
  g_return_val_if_fail (KILN_IS_WALLET (self), NULL);

  return self->rpc;
}

const KilnAddress *
kiln_wallet_get_address (KilnWallet *self)
{
  g_return_val_if_fail (KILN_IS_WALLET (self), NULL);

  return &self->address;
}

gboolean
kiln_wallet_get_has_balances (KilnWallet *self)
{
  g_return_val_if_fail (KILN_IS_WALLET (self), FALSE);

  return self->has_balances;
}

void
kiln_wallet_get_eth_balance (KilnWallet  *self,
                             KilnUint256 *out)
{
  g_return_if_fail (KILN_IS_WALLET (self));
  g_return_if_fail (out != NULL);

  *out = self->eth_balance;
}

void
kiln_wallet_get_token_balance (KilnWallet  *self,
                               KilnUint256 *out)
{
  g_return_if_fail (KILN_IS_WALLET (self));
  g_return_if_fail (out != NULL);

  *out = self->token_balance;
}

guint
kiln_wallet_get_pending_count (KilnWallet *self)
{
  g_return_val_if_fail (KILN_IS_WALLET (self), 0);

  return self->pending_count;
}

void
kiln_wallet_set_after_sign_hook (KilnWallet     *self,
                                 KilnWalletHook  hook,
                                 gpointer        user_data)
{
  g_return_if_fail (KILN_IS_WALLET (self));

  self->after_sign_hook = hook;
  self->after_sign_data = user_data;
}

gboolean
kiln_wallet_check_started (KilnWallet  *self,
                           GError     **error)
{
  if (self->started)
    return TRUE;

  g_set_error_literal (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_NOT_READY,
                       _("The wallet is not connected to its Ethereum node yet"));
  return FALSE;
}

gboolean
kiln_wallet_is_unreachable (const GError *error)
{
  return error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR ||
         error->domain == G_TLS_ERROR ||
         g_error_matches (error, KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP);
}

/* The lock: operations that hand out nonces (resync, reserve, sign, record, broadcast) run
 * one at a time, so that a resync never takes a nonce from a payment about to sign. */

void
kiln_wallet_lock_async (KilnWallet          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, kiln_wallet_lock_async);
  if (!self->locked)
    {
      self->locked = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_queue_push_tail (&self->lock_queue, g_steal_pointer (&task));
}

gboolean
kiln_wallet_lock_finish (KilnWallet    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kiln_wallet_unlock (KilnWallet *self)
{
  g_autoptr(GTask) next = g_queue_pop_head (&self->lock_queue);

  g_assert (self->locked);
  if (next != NULL)
    g_task_return_boolean (next, TRUE);
  else
    self->locked = FALSE;
}

/* Payments as the ledger reports them */

static void
finish_waiter (KilnWallet  *self,
               Waiter      *waiter,
               KilnPayment *payment)
{
  const char *reason = kiln_payment_get_error (payment);
  gint64 id = kiln_payment_get_id (payment);

  if (kiln_payment_get_state (payment) == KILN_PAYMENT_STATE_CONFIRMED)
    g_task_return_pointer (waiter->task, kiln_payment_ref (payment),
                           (GDestroyNotify) kiln_payment_unref);
  else if (g_hash_table_contains (self->reverted, &id))
    g_task_return_new_error (waiter->task, KILN_WALLET_ERROR, KILN_WALLET_ERROR_REVERTED,
                             "%s", reason != NULL ? reason : _("The payment failed"));
  else
    g_task_return_new_error (waiter->task, G_IO_ERROR, G_IO_ERROR_FAILED,
                             "%s", reason != NULL ? reason : _("The payment failed"));
}

/* Answers the waiters for @payment if it is final. */
static void
answer_waiters (KilnWallet  *self,
                KilnPayment *payment)
{
  gint64 id = kiln_payment_get_id (payment);

  if (kiln_payment_is_unfinished (payment))
    return;

  for (guint i = self->waiters->len; i > 0; i--)
    {
      Waiter *waiter = g_ptr_array_index (self->waiters, i - 1);

      if (waiter->id != id)
        continue;
      if (kiln_payment_get_state (payment) == KILN_PAYMENT_STATE_FAILED &&
          g_hash_table_contains (self->successors, &id))
        continue;   /* following the payment that replaced it */

      waiter = g_ptr_array_steal_index (self->waiters, i - 1);
      finish_waiter (self, waiter, payment);
      waiter_free (waiter);
    }
}

static void
on_refreshed_after_change (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!kiln_wallet_refresh_finish (KILN_WALLET (object), result, &error))
    g_debug ("Wallet: could not refresh the balances: %s", error->message);
}

void
kiln_wallet_payment_changed (KilnWallet  *self,
                             KilnPayment *payment)
{
  KilnPaymentState state = kiln_payment_get_state (payment);
  gint64 id = kiln_payment_get_id (payment);
  guint count;

  if (state == KILN_PAYMENT_STATE_SIGNED || state == KILN_PAYMENT_STATE_BROADCAST)
    g_hash_table_replace (self->tracked, g_memdup2 (&id, sizeof id), kiln_payment_ref (payment));
  else
    {
      g_hash_table_remove (self->tracked, &id);
      g_hash_table_remove (self->lost_rounds, &id);
    }

  count = g_hash_table_size (self->tracked);
  if (count != self->pending_count)
    {
      self->pending_count = count;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING_COUNT]);
    }

  g_signal_emit (self, signals[PAYMENT_CHANGED], 0, payment);
  answer_waiters (self, payment);

  if (!kiln_payment_is_unfinished (payment) && self->started)
    kiln_wallet_refresh_async (self, self->cancellable, on_refreshed_after_change, NULL);
}

void
kiln_wallet_payment_reverted (KilnWallet *self,
                              gint64      id)
{
  g_hash_table_add (self->reverted, g_memdup2 (&id, sizeof id));
}

void
kiln_wallet_payment_resent (KilnWallet *self,
                            gint64      old_id,
                            gint64      new_id)
{
  g_hash_table_replace (self->successors, g_memdup2 (&old_id, sizeof old_id),
                        g_memdup2 (&new_id, sizeof new_id));

  for (guint i = 0; i < self->waiters->len; i++)
    {
      Waiter *waiter = g_ptr_array_index (self->waiters, i);

      if (waiter->id == old_id)
        waiter->id = new_id;
    }
}

/* Balances */

void
kiln_wallet_set_balances (KilnWallet        *self,
                          const KilnUint256 *eth,
                          const KilnUint256 *token)
{
  gboolean changed = !self->has_balances || !kiln_uint256_equal (eth, &self->eth_balance) ||
                     !kiln_uint256_equal (token, &self->token_balance);

  self->eth_balance = *eth;
  self->token_balance = *token;
  if (!self->has_balances)
    {
      self->has_balances = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_BALANCES]);
    }
  if (changed)
    g_signal_emit (self, signals[BALANCES_CHANGED], 0);
}

/* Waiting for a payment to be final */

static void
on_wait_loaded (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(KilnWallet) self = user_data;
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(GError) error = NULL;

  payment = kiln_payment_ledger_get_finish (KILN_PAYMENT_LEDGER (object), result, &error);
  if (payment == NULL)
    {
      g_debug ("Wallet: cannot read a payment to wait for: %s", error->message);
      return;
    }

  /* Waiters registered before the read: answering them now is right even if a newer record
   * has already answered them (then they are gone). */
  answer_waiters (self, payment);
}

static gboolean
on_wait_cancelled (GCancellable *cancellable,
                   gpointer      user_data)
{
  Waiter *waiter = user_data;
  KilnWallet *self = g_task_get_source_object (waiter->task);
  guint index;

  /* An answered waiter has destroyed this source, so it is still waiting. */
  if (g_ptr_array_find (self->waiters, waiter, &index))
    {
      g_ptr_array_steal_index (self->waiters, index);
      g_task_return_error_if_cancelled (waiter->task);
      waiter_free (waiter);
    }
  return G_SOURCE_REMOVE;
}

void
kiln_wallet_wait_async (KilnWallet          *self,
                        KilnPayment         *payment,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  Waiter *waiter;
  gint64 id;

  g_return_if_fail (KILN_IS_WALLET (self));
  g_return_if_fail (payment != NULL && kiln_payment_get_id (payment) > 0);

  id = kiln_payment_get_id (payment);
  while (g_hash_table_contains (self->successors, &id))
    id = *(gint64 *) g_hash_table_lookup (self->successors, &id);

  waiter = g_new0 (Waiter, 1);
  waiter->task = g_task_new (self, cancellable, callback, user_data);
  waiter->id = id;
  g_task_set_source_tag (waiter->task, kiln_wallet_wait_async);
  if (cancellable != NULL)
    {
      waiter->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (waiter->cancel_source, G_SOURCE_FUNC (on_wait_cancelled), waiter,
                             NULL);
      g_source_attach (waiter->cancel_source, g_main_context_get_thread_default ());
    }
  g_ptr_array_add (self->waiters, waiter);

  kiln_payment_ledger_get_async (self->ledger, id, self->cancellable, on_wait_loaded,
                                 g_object_ref (self));
}

KilnPayment *
kiln_wallet_wait_finish (KilnWallet    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_wallet_wait_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
