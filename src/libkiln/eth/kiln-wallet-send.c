/* kiln-wallet-send.c: estimating and starting payments
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A send checks the balances and the most the network fee can cost before anything is
 * signed, then hands the payment to kiln-wallet-submit.c. A payment with an idempotency key
 * or a reference is recorded first, so that a retry finds it (and gets it back, whatever
 * became of it) even when its balance checks failed; one without either is recorded only
 * once the checks passed.
 *
 * Batches go through the chain's KilnBatchPay contract (see kiln-wallet-approve.c for
 * its approval) as one transaction; on a chain without it, pay_batch fails with
 * KILN_WALLET_ERROR_NO_BATCH_CONTRACT and the caller sends the payments one by one.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-abi.h"
#include "kiln-keccak.h"
#include "kiln-wallet-private.h"

typedef struct
{
  KilnWalletAsset  asset;
  gboolean         batch;
  gboolean         keyed;
  KilnPayment     *draft;
  KilnPayment     *payment;       /* the ledger's record, once created */
  gboolean         checked;
  KilnAddress      to;            /* the transaction's: recipient, token or batch contract */
  KilnUint256      value;
  GBytes          *data;
  KilnUint256      total;         /* tokens (or, for ETH, wei) that leave the account */
  KilnWalletPlan   plan;
} Request;

static void
request_free (gpointer data)
{
  Request *request = data;

  g_clear_pointer (&request->draft, kiln_payment_unref);
  g_clear_pointer (&request->payment, kiln_payment_unref);
  g_clear_pointer (&request->data, g_bytes_unref);
  kiln_wallet_plan_clear (&request->plan);
  g_free (request);
}

static void request_check (GTask *task);
static void request_plan (GTask *task);

/* Messages */

static GError *
insufficient_token (KilnWallet *self)
{
  const char *symbol = kiln_chain_get_token_symbol (self->chain);
  g_autofree char *balance = kiln_wallet_format_amount (&self->token_balance, symbol);

  return g_error_new (KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_TOKEN,
                      _("Not enough %s: the balance is %s"), symbol, balance);
}

static GError *
insufficient_eth (KilnWallet *self)
{
  const char *symbol = kiln_chain_get_native_symbol (self->chain);
  g_autofree char *balance = kiln_wallet_format_amount (&self->eth_balance, symbol);

  return g_error_new (KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH,
                      _("Not enough %s: the balance is %s"), symbol, balance);
}

/* The balance error for @request, or NULL. The node would not even estimate the gas of a
 * transfer of more than there is. */
static GError *
check_balance (KilnWallet *self,
               Request    *request)
{
  if (request->asset == KILN_WALLET_ASSET_TOKEN &&
      kiln_uint256_compare (&request->total, &self->token_balance) > 0)
    return insufficient_token (self);
  if (request->asset == KILN_WALLET_ASSET_ETH &&
      kiln_uint256_compare (&request->total, &self->eth_balance) > 0)
    return insufficient_eth (self);
  return NULL;
}

/* Estimates */

static gboolean
estimate_matches (KilnWallet        *self,
                  KilnWalletAsset    asset,
                  const KilnAddress *to,
                  const KilnUint256 *amount)
{
  return self->has_estimate && self->estimate_asset == asset &&
         kiln_address_equal (&self->estimate_to, to) &&
         kiln_uint256_equal (&self->estimate_amount, amount) &&
         g_get_monotonic_time () - self->estimate_time < KILN_WALLET_ESTIMATE_LIFETIME;
}

static void
remember_estimate (KilnWallet           *self,
                   KilnWalletAsset       asset,
                   const KilnAddress    *to,
                   const KilnUint256    *amount,
                   const KilnWalletPlan *plan)
{
  self->has_estimate = TRUE;
  self->estimate_asset = asset;
  self->estimate_to = *to;
  self->estimate_amount = *amount;
  self->estimate_time = g_get_monotonic_time ();
  kiln_wallet_plan_copy (&self->estimate_plan, plan);
}

/* The transaction that pays @amount of @asset to @to. */
static void
describe_transfer (KilnWallet        *self,
                   KilnWalletAsset    asset,
                   const KilnAddress *to,
                   const KilnUint256 *amount,
                   Request           *request)
{
  request->asset = asset;
  request->total = *amount;
  if (asset == KILN_WALLET_ASSET_ETH)
    {
      request->to = *to;
      request->value = *amount;
      request->data = g_bytes_new (NULL, 0);
    }
  else
    {
      request->to = *kiln_chain_get_token (self->chain);
      request->data = kiln_abi_encode_transfer (to, amount);
    }
}

static gboolean
check_request (KilnWallet         *self,
               const KilnUint256  *amount,
               GError            **error)
{
  if (!kiln_wallet_check_started (self, error))
    return FALSE;

  if (kiln_uint256_is_zero (amount))
    {
      g_set_error_literal (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INVALID_AMOUNT,
                           _("The amount to send must be more than zero"));
      return FALSE;
    }

  return TRUE;
}

static void
on_estimate_planned (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = KILN_WALLET (object);
  Request *request = g_task_get_task_data (task);
  KilnWalletEstimate *estimate;
  GError *error = NULL;

  if (!kiln_wallet_plan_finish (self, result, &request->plan, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  remember_estimate (self, request->asset,
                     &kiln_payment_get_recipient (request->draft, 0)->address, &request->total,
                     &request->plan);

  estimate = g_new0 (KilnWalletEstimate, 1);
  estimate->gas_limit = request->plan.gas_limit;
  estimate->max_fee_per_gas = request->plan.fees.max_fee_per_gas;
  estimate->max_priority_fee_per_gas = request->plan.fees.max_priority_fee_per_gas;
  if (!kiln_wallet_plan_get_max_cost (&request->plan, FALSE, &estimate->max_fee))
    kiln_uint256_set_max (&estimate->max_fee);
  g_task_return_pointer (task, estimate, g_free);
}

static void
estimate_plan (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);

  kiln_wallet_plan_async (self, NULL, &request->to, &request->value, request->data,
                          g_task_get_cancellable (task), on_estimate_planned,
                          g_object_ref (task));
}

static void
on_estimate_balances (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnWallet *self = KILN_WALLET (object);
  Request *request = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_wallet_refresh_finish (self, result, &error) ||
      (error = check_balance (self, request)) != NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  estimate_plan (task);
}

void
kiln_wallet_estimate_async (KilnWallet          *self,
                            KilnWalletAsset      asset,
                            const KilnAddress   *to,
                            const KilnUint256   *amount,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *request;
  GError *error = NULL;

  g_return_if_fail (KILN_IS_WALLET (self));
  g_return_if_fail (to != NULL && amount != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_wallet_estimate_async);
  if (!check_request (self, amount, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  request = g_new0 (Request, 1);
  g_task_set_task_data (task, request, request_free);
  describe_transfer (self, asset, to, amount, request);
  request->draft = kiln_payment_new (KILN_PAYMENT_KIND_ETH, self->chain_id, &self->address);
  kiln_payment_add_recipient (request->draft, to, amount);

  kiln_wallet_refresh_async (self, cancellable, on_estimate_balances, g_object_ref (task));
}

gboolean
kiln_wallet_estimate_finish (KilnWallet          *self,
                             GAsyncResult        *result,
                             KilnWalletEstimate  *out,
                             GError             **error)
{
  g_autofree KilnWalletEstimate *estimate = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_wallet_estimate_async,
                        FALSE);

  estimate = g_task_propagate_pointer (G_TASK (result), error);
  if (estimate == NULL)
    return FALSE;

  if (out != NULL)
    *out = *estimate;
  return TRUE;
}

/* Sending: record (keyed first), check, plan, record (otherwise), submit */

static void
request_return_error (GTask  *task,
                      GError *error)
{
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
on_request_submitted (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GTask *task = user_data;
  KilnPayment *payment;
  GError *error = NULL;

  payment = kiln_wallet_submit_finish (KILN_WALLET (object), result, &error);
  if (payment == NULL)
    {
      request_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, payment, (GDestroyNotify) kiln_payment_unref);
  g_object_unref (task);
}

static void
request_submit (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);

  kiln_wallet_submit_async (self, request->payment, &request->plan,
                            g_task_get_cancellable (task), on_request_submitted, task);
}

static void
on_request_created (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  Request *request = g_task_get_task_data (task);
  GError *error = NULL;

  request->payment = kiln_payment_ledger_create_finish (KILN_PAYMENT_LEDGER (object), result,
                                                       &error);
  if (request->payment == NULL)
    {
      request_return_error (task, error);
      return;
    }

  /* A retry of a payment that got further: it is what the caller asked for. */
  if (kiln_payment_get_state (request->payment) != KILN_PAYMENT_STATE_PENDING)
    {
      g_task_return_pointer (task, kiln_payment_ref (request->payment),
                             (GDestroyNotify) kiln_payment_unref);
      g_object_unref (task);
      return;
    }

  if (request->checked)
    request_submit (task);
  else
    request_check (task);
}

static void
request_create (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);

  kiln_payment_ledger_create_async (self->ledger, request->draft, g_task_get_cancellable (task),
                                    on_request_created, task);
}

static void
request_planned (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_wallet_check_eth (self, &request->plan, request->asset == KILN_WALLET_ASSET_ETH,
                              &error))
    {
      request_return_error (task, error);
      return;
    }

  request->checked = TRUE;
  if (request->payment == NULL)
    request_create (task);
  else
    request_submit (task);
}

static void
on_request_planned (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  Request *request = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_wallet_plan_finish (KILN_WALLET (object), result, &request->plan, &error))
    {
      request_return_error (task, error);
      return;
    }
  request_planned (task);
}

static void
request_plan (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  const KilnPaymentRecipient *recipient = kiln_payment_get_recipient (request->draft, 0);

  /* The estimate just shown for this very payment is the cap it is signed with. */
  if (!request->batch &&
      estimate_matches (self, request->asset, &recipient->address, &request->total))
    {
      kiln_wallet_plan_copy (&request->plan, &self->estimate_plan);
      request_planned (task);
      return;
    }

  kiln_wallet_plan_async (self, NULL, &request->to, &request->value, request->data,
                          g_task_get_cancellable (task), on_request_planned, task);
}

static void
on_allowance_ready (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!kiln_wallet_ensure_allowance_finish (KILN_WALLET (object), result, &error))
    {
      request_return_error (task, error);
      return;
    }
  request_plan (task);
}

/* Balances */

static void
on_request_balances (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = KILN_WALLET (object);
  Request *request = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_wallet_refresh_finish (self, result, &error) ||
      (error = check_balance (self, request)) != NULL)
    {
      request_return_error (task, error);
      return;
    }

  if (!request->batch)
    {
      request_plan (task);
      return;
    }

  kiln_wallet_ensure_allowance_async (self, &request->total,
                                      request->payment != NULL
                                      ? kiln_payment_get_id (request->payment) : 0,
                                      g_task_get_cancellable (task), on_allowance_ready, task);
}

static void
request_check (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);

  kiln_wallet_refresh_async (self, g_task_get_cancellable (task), on_request_balances, task);
}

/* Starts @task (taken) for @request. */
static void
request_start (GTask   *task,
               Request *request)
{
  g_task_set_task_data (task, request, request_free);

  if (request->keyed)
    request_create (task);
  else
    request_check (task);
}

/* The payBatch call paying @payees their @amounts (@total in all). */
static void
describe_batch (KilnWallet        *self,
                Request           *request,
                const KilnAddress *payees,
                const KilnUint256 *amounts,
                guint              n_payees,
                const KilnUint256 *total,
                const char        *reference)
{
  const char *text = reference != NULL ? reference : "";
  guint8 ref[32];

  request->batch = TRUE;
  request->asset = KILN_WALLET_ASSET_TOKEN;
  request->total = *total;
  request->to = *kiln_chain_get_batch_contract (self->chain);
  /* The contract's event carries the Keccak-256 of the payment's reference. */
  kiln_keccak256 ((const guint8 *) text, strlen (text), ref);
  request->data = kiln_abi_encode_pay_batch (kiln_chain_get_token (self->chain), payees,
                                             amounts, n_payees, ref);
}

static Request *
request_new (KilnWallet       *self,
             KilnPaymentKind   kind,
             const char       *reference,
             const char       *idempotency_key)
{
  Request *request = g_new0 (Request, 1);

  request->draft = kiln_payment_new (kind, self->chain_id, &self->address);
  if (kind != KILN_PAYMENT_KIND_ETH)
    kiln_payment_set_token (request->draft, kiln_chain_get_token (self->chain));
  if (reference != NULL && *reference != '\0')
    kiln_payment_set_reference (request->draft, reference);
  if (idempotency_key != NULL && *idempotency_key != '\0')
    kiln_payment_set_idempotency_key (request->draft, idempotency_key);
  request->keyed = kiln_payment_get_reference (request->draft) != NULL ||
                   kiln_payment_get_idempotency_key (request->draft) != NULL;

  return request;
}

void
kiln_wallet_send_async (KilnWallet          *self,
                        KilnWalletAsset      asset,
                        const KilnAddress   *to,
                        const KilnUint256   *amount,
                        const char          *reference,
                        const char          *idempotency_key,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task;
  Request *request;
  GError *error = NULL;

  g_return_if_fail (KILN_IS_WALLET (self));
  g_return_if_fail (to != NULL && amount != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_wallet_send_async);
  if (!check_request (self, amount, &error))
    {
      request_return_error (task, error);
      return;
    }

  request = request_new (self, asset == KILN_WALLET_ASSET_ETH ? KILN_PAYMENT_KIND_ETH
                                                               : KILN_PAYMENT_KIND_ERC20,
                         reference, idempotency_key);
  kiln_payment_add_recipient (request->draft, to, amount);
  describe_transfer (self, asset, to, amount, request);
  request_start (task, request);
}

KilnPayment *
kiln_wallet_send_finish (KilnWallet    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_wallet_send_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
kiln_wallet_pay_batch_async (KilnWallet          *self,
                             const KilnAddress   *payees,
                             const KilnUint256   *amounts,
                             guint                n_payees,
                             const char          *reference,
                             const char          *idempotency_key,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  Request *request;
  KilnUint256 total = KILN_UINT256_INIT (0);
  GError *error = NULL;

  g_return_if_fail (KILN_IS_WALLET (self));
  g_return_if_fail (n_payees == 0 || (payees != NULL && amounts != NULL));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_wallet_pay_batch_async);
  if (!kiln_wallet_check_started (self, &error))
    {
      request_return_error (task, error);
      return;
    }
  if (kiln_chain_get_batch_contract (self->chain) == NULL)
    {
      request_return_error (task, g_error_new_literal (KILN_WALLET_ERROR,
                                                       KILN_WALLET_ERROR_NO_BATCH_CONTRACT,
                                                       _("This chain has no batch payment "
                                                         "contract; payments are sent one "
                                                         "by one")));
      return;
    }
  if (n_payees == 0 || n_payees > KILN_WALLET_MAX_PAYEES)
    {
      request_return_error (task, g_error_new (KILN_WALLET_ERROR,
                                               KILN_WALLET_ERROR_INVALID_AMOUNT,
                                               _("A batch pays from 1 to %d providers, not %u"),
                                               KILN_WALLET_MAX_PAYEES, n_payees));
      return;
    }
  for (guint i = 0; i < n_payees; i++)
    {
      if (kiln_uint256_is_zero (&amounts[i]) || !kiln_uint256_add (&total, &total, &amounts[i]))
        {
          request_return_error (task, g_error_new (KILN_WALLET_ERROR,
                                                   KILN_WALLET_ERROR_INVALID_AMOUNT,
                                                   _("Payment %u of the batch is zero or the "
                                                     "amounts are too large"), i + 1));
          return;
        }
    }

  request = request_new (self, KILN_PAYMENT_KIND_BATCH, reference, idempotency_key);
  for (guint i = 0; i < n_payees; i++)
    kiln_payment_add_recipient (request->draft, &payees[i], &amounts[i]);
  describe_batch (self, request, payees, amounts, n_payees, &total, reference);
  request_start (task, request);
}

KilnPayment *
kiln_wallet_pay_batch_finish (KilnWallet    *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_wallet_pay_batch_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Resuming a stored payment that signed nothing yet */

void
kiln_wallet_resume_async (KilnWallet          *self,
                          KilnPayment         *payment,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Request *request = g_new0 (Request, 1);
  guint n = kiln_payment_get_n_recipients (payment);
  const KilnPaymentRecipient *first = kiln_payment_get_recipient (payment, 0);
  g_autofree KilnAddress *payees = NULL;
  g_autofree KilnUint256 *amounts = NULL;
  KilnUint256 total;

  g_task_set_source_tag (task, kiln_wallet_resume_async);
  g_task_set_task_data (task, request, request_free);
  request->draft = kiln_payment_ref (payment);
  request->payment = kiln_payment_ref (payment);
  request->keyed = TRUE;
  kiln_payment_get_total (payment, &total);

  switch (kiln_payment_get_kind (payment))
    {
    case KILN_PAYMENT_KIND_ETH:
      describe_transfer (self, KILN_WALLET_ASSET_ETH, &first->address, &first->amount, request);
      break;

    case KILN_PAYMENT_KIND_ERC20:
      describe_transfer (self, KILN_WALLET_ASSET_TOKEN, &first->address, &first->amount,
                         request);
      break;

    case KILN_PAYMENT_KIND_BATCH:
    default:
      if (kiln_chain_get_batch_contract (self->chain) == NULL)
        {
          request_return_error (task, g_error_new_literal (KILN_WALLET_ERROR,
                                                           KILN_WALLET_ERROR_NO_BATCH_CONTRACT,
                                                           _("This chain has no batch payment "
                                                             "contract; payments are sent one "
                                                             "by one")));
          return;
        }
      payees = g_new (KilnAddress, n);
      amounts = g_new (KilnUint256, n);
      for (guint i = 0; i < n; i++)
        {
          payees[i] = kiln_payment_get_recipient (payment, i)->address;
          amounts[i] = kiln_payment_get_recipient (payment, i)->amount;
        }
      describe_batch (self, request, payees, amounts, n, &total,
                      kiln_payment_get_reference (payment));
      break;
    }

  request_check (task);
}

KilnPayment *
kiln_wallet_resume_finish (KilnWallet    *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
