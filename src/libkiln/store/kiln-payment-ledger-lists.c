/* kiln-payment-ledger-lists.c: unfinished, pending and past payments (worker thread)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-payment-ledger-private.h"

/* "Every chain" and "every sender" when ?1 is 0 and ?2 is NULL. */
#define ACCOUNT_FILTER "(?1 = 0 OR chain_id = ?1) AND (?2 IS NULL OR sender = ?2)"

static void
bind_account_filter (sqlite3_stmt *stmt,
                     KilnLedgerOp *op)
{
  /* Chain IDs above G_MAXINT64 cannot be stored, so they match nothing. */
  sqlite3_bind_int64 (stmt, 1, op->chain_id <= G_MAXINT64 ? (gint64) op->chain_id : -1);
  kiln_ledger_bind_address (stmt, 2, op->has_from ? &op->from : NULL);
}

/* Loads the payments whose IDs @sql selects, in its order. */
static GPtrArray *
load_selected (sqlite3       *db,
               const char    *sql,
               KilnLedgerOp  *op,
               gboolean       paged,
               GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) payments = NULL;
  int rc;

  stmt = kiln_store_prepare (db, sql, error);
  if (stmt == NULL)
    return NULL;

  bind_account_filter (stmt, op);
  if (paged)
    {
      sqlite3_bind_int64 (stmt, 3, op->limit);
      sqlite3_bind_int64 (stmt, 4, op->offset);
    }

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }
  if (rc != SQLITE_DONE)
    return (kiln_store_set_error (error, db, rc, _("Could not read the payment ledger")), NULL);

  payments = g_ptr_array_new_full (ids->len, (GDestroyNotify) kiln_payment_unref);
  for (guint i = 0; i < ids->len; i++)
    {
      KilnPayment *payment = kiln_ledger_load (db, g_array_index (ids, gint64, i), error);

      if (payment == NULL)
        return NULL;
      g_ptr_array_add (payments, payment);
    }

  return g_steal_pointer (&payments);
}

gboolean
kiln_ledger_do_list_unfinished (sqlite3  *db,
                                gpointer  data,
                                GError  **error)
{
  KilnLedgerOp *op = data;

  op->payments = load_selected (db,
                                "SELECT id FROM payments "
                                "WHERE state IN ('signed', 'broadcast') AND " ACCOUNT_FILTER " "
                                "ORDER BY chain_id, sender, nonce, id",
                                op, FALSE, error);
  return op->payments != NULL;
}

gboolean
kiln_ledger_do_list_pending (sqlite3  *db,
                             gpointer  data,
                             GError  **error)
{
  KilnLedgerOp *op = data;

  op->payments = load_selected (db,
                                "SELECT id FROM payments "
                                "WHERE state = 'pending' AND " ACCOUNT_FILTER " ORDER BY id",
                                op, FALSE, error);
  return op->payments != NULL;
}

static void
add_saturating (KilnUint256       *sum,
                const KilnUint256 *value,
                gboolean          *overflow)
{
  if (!kiln_uint256_add (sum, sum, value))
    {
      kiln_uint256_set_max (sum);
      *overflow = TRUE;
    }
}

static gboolean
sum_totals (sqlite3             *db,
            KilnLedgerOp        *op,
            KilnPaymentHistory  *history,
            GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  KilnPaymentTotal *current = NULL;
  int rc;

  stmt = kiln_store_prepare (db,
                             "SELECT chain_id, token, state, total FROM payments "
                             "WHERE " ACCOUNT_FILTER " ORDER BY chain_id, token",
                             error);
  if (stmt == NULL)
    return FALSE;

  bind_account_filter (stmt, op);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KilnPaymentTotal row = { 0, };
      KilnPaymentState state;
      KilnUint256 amount;

      row.chain_id = sqlite3_column_int64 (stmt, 0);
      row.has_token = sqlite3_column_type (stmt, 1) != SQLITE_NULL;
      if ((row.has_token &&
           !kiln_ledger_column_blob (stmt, 1, row.token.bytes, KILN_ADDRESS_SIZE)) ||
          !kiln_payment_state_from_string ((const char *) sqlite3_column_text (stmt, 2),
                                           &state) ||
          !kiln_ledger_column_uint256 (stmt, 3, &amount))
        {
          g_set_error_literal (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
                               _("The payment ledger is damaged."));
          return FALSE;
        }

      if (current == NULL || current->chain_id != row.chain_id ||
          current->has_token != row.has_token ||
          (row.has_token && !kiln_address_equal (&current->token, &row.token)))
        {
          g_array_append_val (history->totals, row);
          current = &g_array_index (history->totals, KilnPaymentTotal, history->totals->len - 1);
        }

      history->n_matching++;
      switch (state)
        {
        case KILN_PAYMENT_STATE_CONFIRMED:
          add_saturating (&current->confirmed, &amount, &current->overflow);
          current->n_confirmed++;
          break;

        case KILN_PAYMENT_STATE_PENDING:
        case KILN_PAYMENT_STATE_SIGNED:
        case KILN_PAYMENT_STATE_BROADCAST:
          add_saturating (&current->in_flight, &amount, &current->overflow);
          current->n_in_flight++;
          break;

        case KILN_PAYMENT_STATE_FAILED:
        default:
          current->n_failed++;
          break;
        }
    }

  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the payment ledger"));

  return TRUE;
}

gboolean
kiln_ledger_do_list_history (sqlite3  *db,
                             gpointer  data,
                             GError  **error)
{
  KilnLedgerOp *op = data;
  g_autoptr(KilnPaymentHistory) history = g_new0 (KilnPaymentHistory, 1);

  /* IDs grow with every payment, so they order payments by creation even if the clock
   * jumps. */
  history->payments = load_selected (db,
                                     "SELECT id FROM payments WHERE " ACCOUNT_FILTER " "
                                     "ORDER BY id DESC LIMIT ?3 OFFSET ?4",
                                     op, TRUE, error);
  if (history->payments == NULL)
    return FALSE;

  history->totals = g_array_new (FALSE, TRUE, sizeof (KilnPaymentTotal));
  if (!sum_totals (db, op, history, error))
    return FALSE;

  op->history = g_steal_pointer (&history);
  return TRUE;
}
