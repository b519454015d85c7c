/* kiln-render-job-pay.c: paying providers for verified work
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What verified work costs is recorded with its assignment as soon as it is verified. Paying
 * takes every approved assignment not paid yet, gives them one idempotency key (written to
 * the job store before the wallet is asked, so that a retry after a crash finds the same
 * payment in the ledger instead of paying twice), pays each provider its sum in one batch
 * transaction (one transfer per provider on chains without the batch contract), records the
 * payment and its transaction with every assignment it pays, and tells each provider with a
 * PAYMENT message. Without a wallet nothing is sent: the amounts stay recorded as owed.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-random.h"
#include "kiln-render-job-private.h"

/* The wallet's batch contract pays at most this many payees in one transaction. */
#define MAX_PAYEES 500

typedef struct
{
  KilnAddress  provider;
  KilnUint256  amount;
  GPtrArray   *assignments;   /* Assignment, unowned */
  KilnPayment *payment;
} Payee;

typedef struct
{
  GWeakRef   job;
  char      *key;
  GArray    *attempts;        /* guint: the assignments paid */
  GPtrArray *payees;          /* Payee */
  guint      next;            /* one transfer at a time, without a batch contract */
} Paying;

static void
payee_free (gpointer data)
{
  Payee *payee = data;

  g_ptr_array_unref (payee->assignments);
  g_clear_pointer (&payee->payment, kiln_payment_unref);
  g_free (payee);
}

static void
paying_free (Paying *paying)
{
  g_weak_ref_clear (&paying->job);
  g_free (paying->key);
  g_array_unref (paying->attempts);
  g_ptr_array_unref (paying->payees);
  g_free (paying);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Paying, paying_free)

static Assignment *
find_attempt (KilnRenderJob *self,
              guint          attempt)
{
  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *assignment = g_ptr_array_index (self->assignments, i);

      if (assignment->record->attempt == attempt)
        return assignment;
    }
  return NULL;
}

/* The payees of @paying, rebuilt from its attempts (the assignments may have been
 * replaced by a reload in the meantime: only the numbers count). */
static void
collect_payees (KilnRenderJob *self,
                Paying        *paying)
{
  g_ptr_array_set_size (paying->payees, 0);
  for (guint i = 0; i < paying->attempts->len; i++)
    {
      Assignment *assignment = find_attempt (self, g_array_index (paying->attempts, guint, i));
      Payee *payee = NULL;

      if (assignment == NULL)
        continue;
      for (guint j = 0; j < paying->payees->len && payee == NULL; j++)
        if (kiln_address_equal (&((Payee *) g_ptr_array_index (paying->payees, j))->provider,
                                &assignment->record->provider))
          payee = g_ptr_array_index (paying->payees, j);
      if (payee == NULL)
        {
          payee = g_new0 (Payee, 1);
          payee->provider = assignment->record->provider;
          payee->assignments = g_ptr_array_new ();
          g_ptr_array_add (paying->payees, payee);
        }
      if (!kiln_uint256_add (&payee->amount, &payee->amount, &assignment->record->owed))
        g_assert_not_reached ();  /* amounts below 2^128, at most 10^4 of them */
      g_ptr_array_add (payee->assignments, assignment);
    }
}

/* Tells @payee's provider which terms the transaction pays, in messages of at most
 * KILN_MARKET_PAYMENT_MAX_TERMS terms each. */
static void
notify_payee (KilnRenderJob *self,
              Payee         *payee)
{
  const KilnPaymentAttempt *attempt = kiln_payment_get_latest_attempt (payee->payment);
  KilnEnginePeer *peer = kiln_engine_lookup_peer (self->engine, &payee->provider);

  if (attempt == NULL || peer == NULL || !kiln_engine_peer_get_connected (peer))
    return;

  for (guint start = 0; start < payee->assignments->len; start += KILN_MARKET_PAYMENT_MAX_TERMS)
    {
      g_autoptr(KilnPaymentBody) payment = NULL;
      g_autoptr(GBytes) body = NULL;
      g_autoptr(GError) error = NULL;
      KilnUint256 amount = { { 0 } };
      guint end = MIN (start + KILN_MARKET_PAYMENT_MAX_TERMS, payee->assignments->len);

      for (guint i = start; i < end; i++)
        {
          Assignment *assignment = g_ptr_array_index (payee->assignments, i);

          if (!kiln_uint256_add (&amount, &amount, &assignment->record->owed))
            g_assert_not_reached ();
        }
      payment = kiln_payment_body_new (attempt->tx_hash, &amount);
      for (guint i = start; i < end; i++)
        {
          Assignment *assignment = g_ptr_array_index (payee->assignments, i);

          kiln_payment_body_add_terms (payment, assignment->record->terms_digest);
        }

      body = kiln_payment_body_encode (payment, &error);
      if (body == NULL)
        {
          g_warning ("Could not encode a PAYMENT: %s", error->message);
          return;
        }
      kiln_render_job_send (self, &payee->provider, KILN_MESSAGE_PAYMENT, body);
    }

  for (guint i = 0; i < payee->assignments->len; i++)
    {
      Assignment *assignment = g_ptr_array_index (payee->assignments, i);

      assignment->record->notified = TRUE;
      kiln_render_job_save (self, -1, assignment, NULL, NULL);
    }
}

static void
finish_paying (KilnRenderJob *self)
{
  self->paying = FALSE;
  kiln_render_job_notify_money (self);
  kiln_render_job_pay_owed (self);
}

/* The payment could not be made: its assignments are owed again, under a new key. */
static void
payment_failed (KilnRenderJob *self,
                Paying        *paying,
                const GError  *error)
{
  for (guint i = 0; i < paying->attempts->len; i++)
    {
      Assignment *assignment = find_attempt (self, g_array_index (paying->attempts, guint, i));

      if (assignment == NULL)
        continue;
      g_clear_pointer (&assignment->record->payment_key, g_free);
      assignment->record->payment_id = 0;
      assignment->record->has_tx_hash = FALSE;
      assignment->record->notified = FALSE;
      kiln_render_job_save (self, -1, assignment, NULL, NULL);
    }

  g_free (self->record->error);
  self->record->error = g_strdup_printf (_("Could not pay the providers: %s"), error->message);
  g_object_notify (G_OBJECT (self), "error");
  kiln_render_job_log (self, -1, "%s", self->record->error);
  self->paying = FALSE;
  kiln_render_job_notify_money (self);
}

static void
on_confirmed (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Paying *paying = user_data;
  g_autoptr(KilnRenderJob) self = g_weak_ref_get (&paying->job);
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(GError) error = NULL;

  payment = kiln_wallet_wait_finish (KILN_WALLET (source), result, &error);
  if (self == NULL)
    {
      paying_free (paying);
      return;
    }

  if (payment == NULL)
    {
      payment_failed (self, paying, error);
      paying_free (paying);
      return;
    }

  paying->next++;
  if (paying->next < paying->payees->len)
    {
      /* Several transfers: wait for each. */
      Payee *payee = g_ptr_array_index (paying->payees, paying->next);

      kiln_wallet_wait_async (KILN_WALLET (source), payee->payment, NULL, on_confirmed,
                              paying);
      return;
    }

  kiln_render_job_log (self, -1, _("The payment is confirmed"));
  paying_free (paying);
  finish_paying (self);
}

/* Every payee has its payment: record them, tell the providers, wait for the chain. */
static void
record_payments (KilnRenderJob *self,
                 Paying        *paying)
{
  for (guint i = 0; i < paying->payees->len; i++)
    {
      Payee *payee = g_ptr_array_index (paying->payees, i);
      const KilnPaymentAttempt *attempt = kiln_payment_get_latest_attempt (payee->payment);
      g_autofree char *who = kiln_render_job_describe_provider (&payee->provider);
      g_autofree char *amount = kiln_render_job_format_amount (&payee->amount);

      for (guint j = 0; j < payee->assignments->len; j++)
        {
          Assignment *assignment = g_ptr_array_index (payee->assignments, j);

          assignment->record->payment_id = kiln_payment_get_id (payee->payment);
          assignment->record->has_tx_hash = attempt != NULL;
          if (attempt != NULL)
            memcpy (assignment->record->tx_hash, attempt->tx_hash, 32);
          kiln_render_job_save (self, -1, assignment, NULL, NULL);
        }

      if (attempt != NULL)
        {
          g_autofree char *hash = kiln_market_id_to_hex (attempt->tx_hash);

          kiln_render_job_log (self, -1, _("Paid %s to %s in transaction 0x%s"), amount, who,
                               hash);
        }
      notify_payee (self, payee);
    }

  kiln_render_job_notify_money (self);
  paying->next = 0;
  kiln_wallet_wait_async (self->wallet,
                          ((Payee *) g_ptr_array_index (paying->payees, 0))->payment, NULL,
                          on_confirmed, paying);
}

static void send_next_transfer (KilnRenderJob *self,
                                Paying        *paying);

static void
on_transfer_sent (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Paying *paying = user_data;
  g_autoptr(KilnRenderJob) self = g_weak_ref_get (&paying->job);
  g_autoptr(GError) error = NULL;
  KilnPayment *payment;

  payment = kiln_wallet_send_finish (KILN_WALLET (source), result, &error);
  if (self == NULL)
    {
      g_clear_pointer (&payment, kiln_payment_unref);
      paying_free (paying);
      return;
    }
  if (payment == NULL)
    {
      payment_failed (self, paying, error);
      paying_free (paying);
      return;
    }

  ((Payee *) g_ptr_array_index (paying->payees, paying->next))->payment = payment;
  paying->next++;
  send_next_transfer (self, paying);
}

/* Without a batch contract: one token transfer per provider, each with its own key. */
static void
send_next_transfer (KilnRenderJob *self,
                    Paying        *paying)
{
  Payee *payee;
  g_autofree char *key = NULL;
  g_autofree char *reference = NULL;
  char address[KILN_ADDRESS_STRING_SIZE];

  if (paying->next >= paying->payees->len)
    {
      record_payments (self, paying);
      return;
    }

  payee = g_ptr_array_index (paying->payees, paying->next);
  kiln_address_format (&payee->provider, address);
  key = g_strdup_printf ("%s:%s", paying->key, address);
  reference = g_strdup_printf ("Kiln render job %s", self->record->id);
  kiln_wallet_send_async (self->wallet, KILN_WALLET_ASSET_TOKEN, &payee->provider,
                          &payee->amount, reference, key, NULL, on_transfer_sent, paying);
}

static void
on_batch_paid (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Paying *paying = user_data;
  g_autoptr(KilnRenderJob) self = g_weak_ref_get (&paying->job);
  g_autoptr(GError) error = NULL;
  KilnPayment *payment;

  payment = kiln_wallet_pay_batch_finish (KILN_WALLET (source), result, &error);
  if (self == NULL)
    {
      g_clear_pointer (&payment, kiln_payment_unref);
      paying_free (paying);
      return;
    }

  if (payment == NULL &&
      g_error_matches (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_NO_BATCH_CONTRACT))
    {
      kiln_render_job_log (self, -1, _("No batch payment contract on this chain: paying each "
                                       "provider in its own transaction"));
      paying->next = 0;
      send_next_transfer (self, paying);
      return;
    }
  if (payment == NULL)
    {
      payment_failed (self, paying, error);
      paying_free (paying);
      return;
    }

  for (guint i = 0; i < paying->payees->len; i++)
    ((Payee *) g_ptr_array_index (paying->payees, i))->payment = kiln_payment_ref (payment);
  kiln_payment_unref (payment);

  /* One transaction pays everyone: one wait. */
  g_ptr_array_set_size (paying->payees, paying->payees->len);
  record_payments (self, paying);
}

static void
send_batch (KilnRenderJob *self,
            Paying        *paying)
{
  g_autoptr(GArray) payees = g_array_new (FALSE, FALSE, sizeof (KilnAddress));
  g_autoptr(GArray) amounts = g_array_new (FALSE, FALSE, sizeof (KilnUint256));
  g_autofree char *reference = g_strdup_printf ("Kiln render job %s", self->record->id);

  for (guint i = 0; i < paying->payees->len; i++)
    {
      Payee *payee = g_ptr_array_index (paying->payees, i);

      g_array_append_val (payees, payee->provider);
      g_array_append_val (amounts, payee->amount);
    }

  kiln_wallet_pay_batch_async (self->wallet, (const KilnAddress *) payees->data,
                               (const KilnUint256 *) amounts->data, payees->len, reference,
                               paying->key, NULL, on_batch_paid, paying);
}

static void
on_keys_saved (KilnRenderJob *self,
               gpointer       data,
               const GError  *error)
{
  Paying *paying = data;

  if (error != NULL)
    {
      payment_failed (self, paying, error);
      paying_free (paying);
      return;
    }
  if (self->wallet == NULL)
    {
      self->paying = FALSE;
      paying_free (paying);
      return;
    }

  collect_payees (self, paying);
  send_batch (self, paying);
}

static char *
new_payment_key (KilnRenderJob *self)
{
  guint8 bytes[16];
  GString *key = g_string_new ("kiln-render:");

  if (!kiln_random_bytes (bytes, sizeof bytes, NULL))
    g_error ("The system’s random number generator failed");
  g_string_append_printf (key, "%s:", self->record->id);
  for (guint i = 0; i < sizeof bytes; i++)
    g_string_append_printf (key, "%02x", bytes[i]);
  return g_string_free (key, FALSE);
}

/* Providers paid before a restart that were not told yet. */
static void
notify_paid (KilnRenderJob *self)
{
  g_autoptr(GHashTable) payments = g_hash_table_new (g_int64_hash, g_int64_equal);

  if (self->wallet == NULL)
    return;

  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *assignment = g_ptr_array_index (self->assignments, i);
      KilnJobAssignmentRecord *record = assignment->record;
      g_autoptr(KilnPaymentBody) payment = NULL;
      g_autoptr(GBytes) body = NULL;

      if (record->state != KILN_ASSIGNMENT_APPROVED || record->payment_id == 0 ||
          !record->has_tx_hash || record->notified)
        continue;

      payment = kiln_payment_body_new (record->tx_hash, &record->owed);
      kiln_payment_body_add_terms (payment, record->terms_digest);
      body = kiln_payment_body_encode (payment, NULL);
      if (body == NULL)
        continue;
      if (kiln_engine_lookup_peer (self->engine, &record->provider) == NULL ||
          !kiln_engine_peer_get_connected (kiln_engine_lookup_peer (self->engine,
                                                                    &record->provider)))
        continue;
      kiln_render_job_send (self, &record->provider, KILN_MESSAGE_PAYMENT, body);
      record->notified = TRUE;
      kiln_render_job_save (self, -1, assignment, NULL, NULL);
    }
}

void
kiln_render_job_pay_owed (KilnRenderJob *self)
{
  g_autoptr(Paying) paying = NULL;
  g_autoptr(GPtrArray) providers = g_ptr_array_new ();
  const char *key = NULL;
  KilnUint256 owed;
  guint n_owed = 0;

  if (self->paying || !self->stored)
    return;

  notify_paid (self);

  /* Assignments that already have a key (a payment begun before a restart) go first, with
   * that key, so that the ledger gives the same payment back. */
  for (guint i = 0; i < self->assignments->len && key == NULL; i++)
    {
      const KilnJobAssignmentRecord *record =
        ((Assignment *) g_ptr_array_index (self->assignments, i))->record;

      if (record->state == KILN_ASSIGNMENT_APPROVED && record->payment_id == 0 &&
          record->payment_key != NULL)
        key = record->payment_key;
    }

  paying = g_new0 (Paying, 1);
  g_weak_ref_init (&paying->job, self);
  paying->key = key != NULL ? g_strdup (key) : new_payment_key (self);
  paying->attempts = g_array_new (FALSE, FALSE, sizeof (guint));
  paying->payees = g_ptr_array_new_with_free_func (payee_free);

  for (guint i = 0; i < self->assignments->len; i++)
    {
      KilnJobAssignmentRecord *record =
        ((Assignment *) g_ptr_array_index (self->assignments, i))->record;
      gboolean known = FALSE;

      if (record->state != KILN_ASSIGNMENT_APPROVED || record->payment_id != 0 ||
          kiln_uint256_is_zero (&record->owed))
        continue;
      if (key != NULL && g_strcmp0 (record->payment_key, key) != 0)
        continue;
      if (key == NULL && record->payment_key != NULL)
        continue;

      /* At most MAX_PAYEES providers per transaction; the others in the next. */
      for (guint j = 0; j < providers->len && !known; j++)
        known = kiln_address_equal (g_ptr_array_index (providers, j), &record->provider);
      if (!known && providers->len >= MAX_PAYEES)
        continue;
      if (!known)
        g_ptr_array_add (providers, &record->provider);

      g_array_append_val (paying->attempts, record->attempt);
      n_owed++;
    }

  if (n_owed == 0)
    {
      if (self->record->state == KILN_RENDER_JOB_STATE_PAYING)
        kiln_render_job_set_state (self, self->cancelling ? KILN_RENDER_JOB_STATE_CANCELLED
                                                          : KILN_RENDER_JOB_STATE_DONE);
      return;
    }

  if (self->wallet == NULL)
    {
      if (!self->told_no_wallet)
        {
          g_autofree char *amount = NULL;

          kiln_render_job_get_owed (self, &owed);
          amount = kiln_render_job_format_amount (&owed);
          kiln_render_job_log (self, -1, _("%s is owed for verified work and recorded; it is "
                                           "paid once a wallet is given"), amount);
          self->told_no_wallet = TRUE;
        }
      return;
    }

  self->paying = TRUE;
  /* The key is written with every assignment before the wallet sees it. */
  n_owed = paying->attempts->len;
  for (guint i = 0; i < n_owed; i++)
    {
      Assignment *assignment = find_attempt (self, g_array_index (paying->attempts, guint, i));
      gboolean last = i + 1 == n_owed;

      if (assignment->record->payment_key == NULL)
        assignment->record->payment_key = g_strdup (paying->key);
      kiln_render_job_save (self, -1, assignment, last ? on_keys_saved : NULL,
                            last ? g_steal_pointer (&paying) : NULL);
    }
}
