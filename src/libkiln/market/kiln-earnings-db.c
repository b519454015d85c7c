/* kiln-earnings-db.c: the earnings in the store, on its worker thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The earnings table of migration 6 (store/kiln-store-schema.c): each call of KilnEarnings is
 * a KilnEarningsRequest run in one transaction, which reads back the rows it wrote.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-earnings-private.h"
#include "kiln-market-bodies.h"


static gboolean
state_from_nick (const char       *nick,
                 KilnEarningState *state)
{
  if (g_strcmp0 (nick, "approved") == 0)
    *state = KILN_EARNING_STATE_APPROVED;
  else if (g_strcmp0 (nick, "paid") == 0)
    *state = KILN_EARNING_STATE_PAID;
  else if (g_strcmp0 (nick, "confirmed") == 0)
    *state = KILN_EARNING_STATE_CONFIRMED;
  else
    return FALSE;
  return TRUE;
}

KilnEarningsRequest *
kiln_earnings_request_new (KilnEarningsOp op)
{
  KilnEarningsRequest *request = g_new0 (KilnEarningsRequest, 1);

  request->op = op;
  request->now = g_get_real_time ();
  request->records = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_earning_record_free);
  return request;
}

void
kiln_earnings_request_free (gpointer data)
{
  KilnEarningsRequest *request = data;

  g_clear_pointer (&request->outcome, kiln_earnings_outcome_free);
  g_clear_pointer (&request->records, g_ptr_array_unref);
  g_free (request);
}

static void
verdict_clear (gpointer data)
{
  KilnEarningsVerdict *verdict = data;

  g_clear_pointer (&verdict->reason, g_free);
}

KilnEarningsOutcome *
kiln_earnings_outcome_new (const guint8 tx_hash[32])
{
  KilnEarningsOutcome *outcome = g_new0 (KilnEarningsOutcome, 1);

  memcpy (outcome->tx_hash, tx_hash, sizeof outcome->tx_hash);
  outcome->verdicts = g_array_new (FALSE, TRUE, sizeof (KilnEarningsVerdict));
  g_array_set_clear_func (outcome->verdicts, verdict_clear);
  return outcome;
}

void
kiln_earnings_outcome_free (KilnEarningsOutcome *outcome)
{
  if (outcome == NULL)
    return;

  g_clear_pointer (&outcome->verdicts, g_array_unref);
  g_free (outcome);
}

#define SELECT_COLUMNS \
  "SELECT terms, task_id, requestor, amount, approved_at, state, tx_hash, paid_at," \
  " confirmed_block, confirmed_at, reason FROM earnings"

static gboolean
blob_column (sqlite3_stmt *stmt,
             int           column,
             guint8       *out,
             gsize         size)
{
  if (sqlite3_column_type (stmt, column) != SQLITE_BLOB ||
      (gsize) sqlite3_column_bytes (stmt, column) != size)
    return FALSE;
  memcpy (out, sqlite3_column_blob (stmt, column), size);
  return TRUE;
}

/* The row under @stmt (SELECT_COLUMNS). */
static KilnEarningRecord *
read_row (sqlite3_stmt  *stmt,
          GError       **error)
{
  g_autoptr(KilnEarningRecord) record = g_new0 (KilnEarningRecord, 1);
  const char *amount = (const char *) sqlite3_column_text (stmt, 3);
  const char *state = (const char *) sqlite3_column_text (stmt, 5);

  if (!blob_column (stmt, 0, record->terms, sizeof record->terms) ||
      !blob_column (stmt, 1, record->task_id, sizeof record->task_id) ||
      !blob_column (stmt, 2, record->requestor.bytes, KILN_ADDRESS_SIZE) ||
      amount == NULL || !kiln_uint256_parse (&record->amount, amount, NULL) ||
      !state_from_nick (state, &record->state))
    {
      g_set_error_literal (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
                           _("An earning in the database is damaged"));
      return NULL;
    }

  record->approved_at = sqlite3_column_int64 (stmt, 4);
  record->has_tx = blob_column (stmt, 6, record->tx_hash, sizeof record->tx_hash);
  record->paid_at = sqlite3_column_int64 (stmt, 7);
  record->confirmed_block = sqlite3_column_int64 (stmt, 8);
  record->confirmed_at = sqlite3_column_int64 (stmt, 9);
  if (sqlite3_column_type (stmt, 10) == SQLITE_TEXT)
    record->reason = g_strdup ((const char *) sqlite3_column_text (stmt, 10));

  return g_steal_pointer (&record);
}

/* The record of @terms into *@out, or NULL when there is none. */
static gboolean
read_one (sqlite3             *db,
          const guint8        *terms,
          KilnEarningRecord  **out,
          GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  *out = NULL;
  stmt = kiln_store_prepare (db, SELECT_COLUMNS " WHERE terms = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, terms, KILN_MARKET_DIGEST_SIZE, SQLITE_STATIC);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *out = read_row (stmt, error);
      return *out != NULL;
    }
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read an earning"));
  return TRUE;
}

/* Adds the record of @terms, as stored now, to what @request gives back. */
static gboolean
read_back (sqlite3              *db,
           KilnEarningsRequest  *request,
           const guint8         *terms,
           GError              **error)
{
  KilnEarningRecord *record;

  if (!read_one (db, terms, &record, error))
    return FALSE;
  if (record != NULL)
    g_ptr_array_add (request->records, record);
  return TRUE;
}

static gboolean
load_in_db (sqlite3   *db,
            gpointer   data,
            GError   **error)
{
  KilnEarningsRequest *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = kiln_store_prepare (db, SELECT_COLUMNS, error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KilnEarningRecord *record = read_row (stmt, error);

      if (record == NULL)
        return FALSE;
      g_ptr_array_add (request->records, record);
    }
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the earnings"));
  return TRUE;
}

static gboolean
add_in_db (sqlite3   *db,
           gpointer   data,
           GError   **error)
{
  KilnEarningsRequest *request = data;
  const KilnEarningRecord *input = &request->input;
  g_autoptr(KilnEarningRecord) existing = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  char amount[KILN_UINT256_DECIMAL_SIZE];

  if (!read_one (db, input->terms, &existing, error))
    return FALSE;

  if (existing != NULL)
    {
      if (!kiln_address_equal (&existing->requestor, &input->requestor) ||
          !kiln_uint256_equal (&existing->amount, &input->amount) ||
          memcmp (existing->task_id, input->task_id, sizeof existing->task_id) != 0)
        {
          g_autofree char *terms = kiln_market_id_to_hex (input->terms);

          g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CONFLICT,
                       _("Another earning is already recorded for the terms %s"), terms);
          return FALSE;
        }
      g_ptr_array_add (request->records, g_steal_pointer (&existing));
      return TRUE;
    }

  stmt = kiln_store_prepare (db,
                             "INSERT INTO earnings (terms, task_id, requestor, amount,"
                             " approved_at, state) VALUES (?1, ?2, ?3, ?4, ?5, 'approved')",
                             error);
  if (stmt == NULL)
    return FALSE;
  kiln_uint256_format_decimal (&input->amount, amount);
  sqlite3_bind_blob (stmt, 1, input->terms, sizeof input->terms, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, input->task_id, sizeof input->task_id, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 3, input->requestor.bytes, KILN_ADDRESS_SIZE, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, amount, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, input->approved_at);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  request->changed = TRUE;
  return read_back (db, request, input->terms, error);
}

static gboolean
paid_in_db (sqlite3   *db,
            gpointer   data,
            GError   **error)
{
  KilnEarningsRequest *request = data;
  const KilnEarningRecord *input = &request->input;
  g_autoptr(KilnEarningRecord) existing = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!read_one (db, input->terms, &existing, error))
    return FALSE;

  if (existing == NULL)
    {
      g_autofree char *terms = kiln_market_id_to_hex (input->terms);

      g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND,
                   _("No earning is recorded for the terms %s"), terms);
      return FALSE;
    }

  /* A confirmed earning keeps the transaction that confirmed it; the same news twice
   * changes nothing. */
  if (existing->state == KILN_EARNING_STATE_CONFIRMED ||
      (existing->state == KILN_EARNING_STATE_PAID &&
       memcmp (existing->tx_hash, input->tx_hash, sizeof existing->tx_hash) == 0))
    {
      g_ptr_array_add (request->records, g_steal_pointer (&existing));
      return TRUE;
    }
  g_clear_pointer (&existing, kiln_earning_record_free);

  stmt = kiln_store_prepare (db,
                             "UPDATE earnings SET state = 'paid', tx_hash = ?2, paid_at = ?3,"
                             " reason = NULL WHERE terms = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, input->terms, sizeof input->terms, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, input->tx_hash, sizeof input->tx_hash, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, request->now);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  request->changed = TRUE;
  return read_back (db, request, input->terms, error);
}

static gboolean
outcome_in_db (sqlite3   *db,
               gpointer   data,
               GError   **error)
{
  KilnEarningsRequest *request = data;
  KilnEarningsOutcome *outcome = request->outcome;
  g_autoptr(sqlite3_stmt) confirm = NULL;
  g_autoptr(sqlite3_stmt) explain = NULL;

  confirm = kiln_store_prepare (db,
                                "UPDATE earnings SET state = 'confirmed', confirmed_block = ?3,"
                                " confirmed_at = ?4, reason = NULL"
                                " WHERE terms = ?1 AND tx_hash = ?2 AND state = 'paid'", error);
  if (confirm == NULL)
    return FALSE;
  explain = kiln_store_prepare (db,
                                "UPDATE earnings SET reason = ?3"
                                " WHERE terms = ?1 AND tx_hash = ?2 AND state = 'paid'"
                                " AND reason IS NOT ?3", error);
  if (explain == NULL)
    return FALSE;

  for (guint i = 0; i < outcome->verdicts->len; i++)
    {
      const KilnEarningsVerdict *verdict = &g_array_index (outcome->verdicts,
                                                           KilnEarningsVerdict, i);
      sqlite3_stmt *stmt = verdict->confirm ? confirm : explain;

      sqlite3_reset (stmt);
      sqlite3_bind_blob (stmt, 1, verdict->terms, sizeof verdict->terms, SQLITE_STATIC);
      sqlite3_bind_blob (stmt, 2, outcome->tx_hash, sizeof outcome->tx_hash, SQLITE_STATIC);
      if (verdict->confirm)
        {
          sqlite3_bind_int64 (stmt, 3, outcome->block);
          sqlite3_bind_int64 (stmt, 4, request->now);
        }
      else
        sqlite3_bind_text (stmt, 3, verdict->reason, -1, SQLITE_STATIC);
      if (!kiln_store_step_done (stmt, error))
        return FALSE;
      if (sqlite3_changes (db) == 0)
        continue;

      request->changed = TRUE;
      if (!read_back (db, request, verdict->terms, error))
        return FALSE;
    }

  return TRUE;
}

KilnStoreFunc
kiln_earnings_request_func (KilnEarningsRequest *request)
{
  switch (request->op)
    {
    case KILN_EARNINGS_OP_LOAD:
      return load_in_db;
    case KILN_EARNINGS_OP_ADD:
      return add_in_db;
    case KILN_EARNINGS_OP_PAID:
      return paid_in_db;
    case KILN_EARNINGS_OP_OUTCOME:
      return outcome_in_db;
    default:
      g_assert_not_reached ();
    }
}
