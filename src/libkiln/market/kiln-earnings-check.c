/* kiln-earnings-check.c: checking on chain that a payment really paid this node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One check per transaction hash: it takes every earning said to be paid by that
 * transaction and not confirmed yet, asks the endpoint for the receipt, and adds up, for each
 * requestor, the ERC-20 Transfer events of the configured token from that requestor to this
 * node's account in it (a batch payment through KilnBatchPay is a transferFrom from the
 * payer, so its events name the payer too). They must cover what every earning of that
 * requestor naming that transaction (confirmed ones included) is owed: a requestor cannot pay
 * twice with the same transaction, nor claim a transaction by which someone else paid. A
 * check that could not decide (not mined yet, endpoint unreachable) runs again later, each
 * wait twice the last, up to KILN_EARNINGS_RECHECK_MAX_SECONDS; one that decided is final.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-earnings-private.h"
#include "kiln-keccak.h"
#include "kiln-market-bodies.h"

/* The first wait before checking again, in seconds. */
#define RECHECK_FIRST_SECONDS 2

struct _KilnEarningsCheck
{
  grefcount      ref;
  KilnEarnings  *self;           /* not owned; NULL once the check was dropped */
  guint8         tx_hash[32];
  char          *tx_string;      /* "0x…", for people */
  GCancellable  *cancellable;
  gboolean       running;
  gboolean       again;          /* run again as soon as this run ends */
  guint          delay;          /* seconds before the next try after an undecided run */
  guint          timeout_id;
  GPtrArray     *waiters;        /* GTask: answered when the run under way ends */
  GPtrArray     *next_waiters;   /* GTask: came during a run; answered by the next */

  /* The run under way */
  GPtrArray     *records;        /* KilnEarningRecord: every earning naming the transaction */
  guint          n_paid;         /* how many of them are "paid": those the run decides on */
  gboolean       undecided;
  GError        *error;          /* the endpoint's error, for the waiters */
};

static KilnEarningsCheck *
check_ref (KilnEarningsCheck *check)
{
  g_ref_count_inc (&check->ref);
  return check;
}

static void
check_unref (KilnEarningsCheck *check)
{
  if (!g_ref_count_dec (&check->ref))
    return;

  g_assert (check->timeout_id == 0);
  g_clear_object (&check->cancellable);
  g_clear_pointer (&check->waiters, g_ptr_array_unref);
  g_clear_pointer (&check->next_waiters, g_ptr_array_unref);
  g_clear_pointer (&check->records, g_ptr_array_unref);
  g_clear_error (&check->error);
  g_free (check->tx_string);
  g_free (check);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnEarningsCheck, check_unref)

static KilnEarningsCheck *
check_new (KilnEarnings *self,
           const guint8  tx_hash[32])
{
  KilnEarningsCheck *check = g_new0 (KilnEarningsCheck, 1);
  g_autofree char *hex = kiln_market_id_to_hex (tx_hash);

  g_ref_count_init (&check->ref);
  check->self = self;
  memcpy (check->tx_hash, tx_hash, sizeof check->tx_hash);
  check->tx_string = g_strconcat ("0x", hex, NULL);
  check->cancellable = g_cancellable_new ();
  check->delay = RECHECK_FIRST_SECONDS;
  check->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  check->next_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  return check;
}

static void
answer_waiters (GPtrArray    *waiters,
                const GError *error)
{
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (waiters, i);

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
    }
  g_ptr_array_set_size (waiters, 0);
}

/* Forgets @check: it is gone from the table, and its tasks fail. */
static void
check_drop (KilnEarningsCheck *check)
{
  g_autoptr(GError) error = NULL;

  check->self = NULL;
  g_cancellable_cancel (check->cancellable);
  g_clear_handle_id (&check->timeout_id, g_source_remove);

  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The payment check was stopped"));
  answer_waiters (check->waiters, error);
  answer_waiters (check->next_waiters, error);
}

static void check_run (KilnEarningsCheck *check);

static gboolean
on_retry (gpointer data)
{
  KilnEarningsCheck *check = data;

  check->timeout_id = 0;
  if (check->self != NULL && !check->running)
    check_run (check);
  return G_SOURCE_REMOVE;
}

/* The run ended (its outcome, if any, is written): answers its tasks, then runs again,
 * waits to, or forgets the check. */
static void
check_end_run (KilnEarningsCheck *check)
{
  KilnEarnings *self = check->self;
  g_autoptr(GError) error = g_steal_pointer (&check->error);

  check->running = FALSE;
  g_clear_pointer (&check->records, g_ptr_array_unref);
  if (self == NULL)
    return;

  answer_waiters (check->waiters, error);

  if (check->again)
    {
      check->again = FALSE;
      g_ptr_array_extend_and_steal (check->waiters, g_steal_pointer (&check->next_waiters));
      check->next_waiters = g_ptr_array_new_with_free_func (g_object_unref);
      check_run (check);
      return;
    }

  if (check->undecided)
    {
      g_debug ("Checking transaction %s again in %u s", check->tx_string, check->delay);
      check->timeout_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, check->delay, on_retry,
                                                      check_ref (check),
                                                      (GDestroyNotify) check_unref);
      check->delay = MIN (check->delay * 2, KILN_EARNINGS_RECHECK_MAX_SECONDS);
      return;
    }

  /* Last: this may drop the last reference. */
  g_hash_table_remove (self->checks, check->tx_string);
  check_unref (check);
}

static void
on_outcome_written (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(KilnEarningsCheck) check = user_data;
  g_autoptr(GError) error = NULL;

  if (!kiln_earnings_write_outcome_finish (KILN_EARNINGS (source), result, &error))
    {
      g_warning ("Could not write the check of transaction %s: %s", check->tx_string,
                 error->message);
      check->undecided = TRUE;
      if (check->error == NULL)
        check->error = g_steal_pointer (&error);
    }
  check_end_run (check);
}

static const guint8 *
transfer_topic (void)
{
  static guint8 topic[KILN_KECCAK256_DIGEST_SIZE];
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      static const char signature[] = "Transfer(address,address,uint256)";

      kiln_keccak256 ((const guint8 *) signature, strlen (signature), topic);
      g_once_init_leave (&done, 1);
    }
  return topic;
}

/* The sum of the ERC-20 Transfer events of @token from @from to @account in @receipt. */
static void
sum_transfers (const KilnRpcReceipt *receipt,
               const KilnAddress    *token,
               const KilnAddress    *from,
               const KilnAddress    *account,
               KilnUint256          *out)
{
  static const guint8 zeros[12] = { 0 };

  memset (out, 0, sizeof *out);
  for (guint i = 0; receipt->logs != NULL && i < receipt->logs->len; i++)
    {
      const KilnRpcLog *log = &g_array_index (receipt->logs, KilnRpcLog, i);
      KilnUint256 value;
      gsize size = 0;
      const guint8 *data = log->data != NULL ? g_bytes_get_data (log->data, &size) : NULL;

      if (!kiln_address_equal (&log->address, token) || log->n_topics != 3 ||
          memcmp (log->topics[0], transfer_topic (), 32) != 0 ||
          memcmp (log->topics[1], zeros, sizeof zeros) != 0 ||
          memcmp (log->topics[1] + 12, from->bytes, KILN_ADDRESS_SIZE) != 0 ||
          memcmp (log->topics[2], zeros, sizeof zeros) != 0 ||
          memcmp (log->topics[2] + 12, account->bytes, KILN_ADDRESS_SIZE) != 0 ||
          size != 32)
        continue;

      kiln_uint256_from_be_bytes (&value, data);
      if (!kiln_uint256_add (out, out, &value))
        kiln_uint256_set_max (out);
    }
}

/* What the earnings of @requestor naming the transaction are owed, in all. */
static void
sum_claimed (KilnEarningsCheck *check,
             const KilnAddress *requestor,
             KilnUint256       *out)
{
  memset (out, 0, sizeof *out);
  for (guint i = 0; i < check->records->len; i++)
    {
      const KilnEarningRecord *record = g_ptr_array_index (check->records, i);

      if (kiln_address_equal (&record->requestor, requestor) &&
          !kiln_uint256_add (out, out, &record->amount))
        kiln_uint256_set_max (out);
    }
}

static char *
format_gnt (const KilnUint256 *amount)
{
  g_autofree char *units = kiln_uint256_format_units (amount, KILN_MARKET_TOKEN_DECIMALS);

  /* Translators: an amount of the token, "1.5 GNT" */
  return g_strdup_printf (_("%s GNT"), units);
}

/* Why the earnings of @record's requestor are not confirmed by @receipt, or NULL when they
 * are. */
static char *
judge (KilnEarningsCheck       *check,
       const KilnRpcReceipt    *receipt,
       const KilnEarningRecord *record)
{
  KilnEarnings *self = check->self;
  g_autofree char *requestor = NULL;
  g_autofree char *paid_text = NULL;
  g_autofree char *claimed_text = NULL;
  KilnUint256 paid;
  KilnUint256 claimed;

  sum_transfers (receipt, &self->token, &record->requestor, &self->account, &paid);
  sum_claimed (check, &record->requestor, &claimed);
  if (kiln_uint256_compare (&paid, &claimed) >= 0)
    return NULL;

  requestor = kiln_address_to_string (&record->requestor);
  if (kiln_uint256_is_zero (&paid))
    return g_strdup_printf (_("Transaction %s pays nothing to this account from %s"),
                            check->tx_string, requestor);

  paid_text = format_gnt (&paid);
  claimed_text = format_gnt (&claimed);
  return g_strdup_printf (_("Transaction %s pays this account %s from %s, less than the %s "
                            "it is said to pay"),
                          check->tx_string, paid_text, requestor, claimed_text);
}

/* Whether @outcome gives each earning the reason it already has: then there is nothing to
 * write. */
static gboolean
nothing_new (KilnEarnings        *self,
             KilnEarningsOutcome *outcome)
{
  for (guint i = 0; i < outcome->verdicts->len; i++)
    {
      const KilnEarningsVerdict *verdict = &g_array_index (outcome->verdicts,
                                                           KilnEarningsVerdict, i);
      g_autoptr(KilnEarningRecord) record = kiln_earnings_lookup (self, verdict->terms);

      if (verdict->confirm || record == NULL || g_strcmp0 (record->reason, verdict->reason) != 0)
        return FALSE;
    }
  return TRUE;
}

static void
on_receipt (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(KilnEarningsCheck) check = user_data;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  g_autoptr(KilnEarningsOutcome) outcome = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *common_reason = NULL;
  KilnEarnings *self = check->self;
  guint n_confirmed = 0;

  receipt = kiln_rpc_client_get_transaction_receipt_finish (KILN_RPC_CLIENT (source), result,
                                                            &error);
  if (self == NULL)
    return;   /* dropped: its tasks were answered then */

  check->undecided = FALSE;
  if (error != NULL)
    {
      common_reason = g_strdup_printf (_("Could not check transaction %s yet: %s"),
                                       check->tx_string, error->message);
      check->undecided = TRUE;
      check->error = g_steal_pointer (&error);
    }
  else if (receipt == NULL)
    {
      common_reason = g_strdup_printf (_("Transaction %s is not on the chain yet"),
                                       check->tx_string);
      check->undecided = TRUE;
    }
  else if (!receipt->success)
    {
      common_reason = g_strdup_printf (_("Transaction %s failed on the chain and paid "
                                         "nothing"), check->tx_string);
    }

  outcome = kiln_earnings_outcome_new (check->tx_hash);
  if (receipt != NULL)
    outcome->block = receipt->block_number;
  for (guint i = 0; i < check->records->len; i++)
    {
      const KilnEarningRecord *record = g_ptr_array_index (check->records, i);
      KilnEarningsVerdict verdict = { { 0 } };

      if (record->state != KILN_EARNING_STATE_PAID)
        continue;
      memcpy (verdict.terms, record->terms, sizeof verdict.terms);
      verdict.reason = common_reason != NULL ? g_strdup (common_reason)
                                             : judge (check, receipt, record);
      verdict.confirm = verdict.reason == NULL;
      n_confirmed += verdict.confirm;
      if (verdict.reason != NULL)
        g_info ("Earning paid by %s not confirmed: %s", check->tx_string, verdict.reason);
      g_array_append_val (outcome->verdicts, verdict);
    }
  g_debug ("Transaction %s confirms %u of %u earnings", check->tx_string, n_confirmed,
           check->n_paid);

  if (nothing_new (self, outcome))
    {
      check_end_run (check);
      return;
    }

  kiln_earnings_write_outcome (self, g_steal_pointer (&outcome), on_outcome_written,
                               check_ref (check));
}

static void
check_run (KilnEarningsCheck *check)
{
  KilnEarnings *self = check->self;
  GHashTableIter iter;
  gpointer value;

  g_assert (self != NULL);
  g_assert (!check->running);
  g_assert (self->rpc != NULL && self->has_token);

  g_clear_handle_id (&check->timeout_id, g_source_remove);
  g_clear_pointer (&check->records, g_ptr_array_unref);
  check->records = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_earning_record_free);
  check->n_paid = 0;

  g_hash_table_iter_init (&iter, self->records);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const KilnEarningRecord *record = value;

      if (!record->has_tx || memcmp (record->tx_hash, check->tx_hash, 32) != 0)
        continue;
      g_ptr_array_add (check->records, kiln_earning_record_copy (record));
      check->n_paid += record->state == KILN_EARNING_STATE_PAID;
    }

  check->running = TRUE;
  if (check->n_paid == 0)
    {
      /* Nothing left to confirm. */
      check->undecided = FALSE;
      check_end_run (check);
      return;
    }

  g_debug ("Checking transaction %s for %u earnings", check->tx_string, check->n_paid);
  kiln_rpc_client_get_transaction_receipt_async (self->rpc, check->tx_hash, check->cancellable,
                                                 on_receipt, check_ref (check));
}

void
kiln_earnings_check_request (KilnEarnings *self,
                             const guint8  tx_hash[32],
                             GTask        *task)
{
  g_autofree char *hex = kiln_market_id_to_hex (tx_hash);
  g_autofree char *key = g_strconcat ("0x", hex, NULL);
  KilnEarningsCheck *check;

  g_assert (self->rpc != NULL && self->has_token);

  check = g_hash_table_lookup (self->checks, key);
  if (check == NULL)
    {
      check = check_new (self, tx_hash);
      g_hash_table_insert (self->checks, g_strdup (check->tx_string), check);
    }

  if (check->running)
    {
      /* The run under way may not have seen the earnings known now. */
      check->again = TRUE;
      if (task != NULL)
        g_ptr_array_add (check->next_waiters, task);
      return;
    }

  if (task != NULL)
    g_ptr_array_add (check->waiters, task);
  check_run (check);
}

void
kiln_earnings_check_all (KilnEarnings *self)
{
  g_autoptr(GPtrArray) hashes = NULL;
  GHashTableIter iter;
  gpointer value;

  if (self->rpc == NULL || !self->has_token)
    return;

  /* Collected first: a check may end at once and change the table. */
  hashes = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, self->records);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      KilnEarningRecord *record = value;
      gboolean seen = FALSE;

      if (record->state != KILN_EARNING_STATE_PAID)
        continue;
      for (guint i = 0; i < hashes->len && !seen; i++)
        seen = memcmp (g_ptr_array_index (hashes, i), record->tx_hash, 32) == 0;
      if (!seen)
        g_ptr_array_add (hashes, g_memdup2 (record->tx_hash, 32));
    }
  g_ptr_array_set_free_func (hashes, g_free);

  for (guint i = 0; i < hashes->len; i++)
    kiln_earnings_check_request (self, g_ptr_array_index (hashes, i), NULL);
}

void
kiln_earnings_drop_checks (KilnEarnings *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self->checks == NULL)
    return;

  g_hash_table_iter_init (&iter, self->checks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      KilnEarningsCheck *check = value;

      check_drop (check);
      g_hash_table_iter_remove (&iter);
      check_unref (check);
    }
}
