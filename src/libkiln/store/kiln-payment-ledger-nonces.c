/* kiln-payment-ledger-nonces.c: each account's nonces (worker thread)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>

#include "kiln-payment-ledger-private.h"

/* The nonces table holds, per account (chain ID and sender), the next nonce Kiln will hand
 * out. Reserving gives a payment max (chain's pending nonce, next nonce) and moves the next
 * nonce past it in the same transaction, so two payments never share a nonce and a chain that
 * is ahead (transactions sent from elsewhere) is followed. The nonce belongs to the payment,
 * so a crash between reserving and signing leaves no gap: the payment keeps its nonce.
 *
 * A pending payment has signed nothing, so nothing with its nonce can be on the network: its
 * nonce may be given back (failing it) or replaced (reserving again once the chain has used
 * it). A signed payment's transaction may have been broadcast just before a crash, so its
 * nonce is never given back or reused while it is unfinished. That is also the rule for
 * resetting an account to the chain's pending nonce: refused while a signed or broadcast
 * payment holds a nonce at or above it. */

static gboolean
read_next_nonce (sqlite3            *db,
                 guint64             chain_id,
                 const KilnAddress  *from,
                 gboolean           *found,
                 guint64            *next,
                 GError            **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = kiln_store_prepare (db, "SELECT next_nonce FROM nonces WHERE chain_id = ? AND "
                                 "sender = ?", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, chain_id);
  kiln_ledger_bind_address (stmt, 2, from);
  rc = sqlite3_step (stmt);
  *found = rc == SQLITE_ROW;
  *next = *found ? (guint64) sqlite3_column_int64 (stmt, 0) : 0;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the payment ledger"));

  return TRUE;
}

static gboolean
write_next_nonce (sqlite3            *db,
                  guint64             chain_id,
                  const KilnAddress  *from,
                  guint64             next,
                  GError            **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!kiln_ledger_check_int64 (next, _("nonce"), error))
    return FALSE;

  stmt = kiln_store_prepare (db,
                             "INSERT INTO nonces (chain_id, sender, next_nonce) VALUES (?, ?, ?) "
                             "ON CONFLICT (chain_id, sender) "
                             "DO UPDATE SET next_nonce = excluded.next_nonce",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, chain_id);
  kiln_ledger_bind_address (stmt, 2, from);
  sqlite3_bind_int64 (stmt, 3, next);
  return kiln_store_step_done (stmt, error);
}

gboolean
kiln_ledger_do_reserve_nonce (sqlite3  *db,
                              gpointer  data,
                              GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  KilnLedgerOp *op = data;
  KilnLedgerHead head;
  gboolean found;
  guint64 next, nonce;

  if (!kiln_ledger_check_int64 (op->chain_nonce, _("nonce"), error) ||
      !kiln_ledger_load_head (db, op->id, &head, error))
    return FALSE;

  if (kiln_ledger_is_finished (head.state))
    return kiln_ledger_refuse_finished (op->id, head.state, error);

  /* Signed payments keep their nonce whatever the chain says; a pending one keeps it until
   * the chain has used it. */
  if (head.has_nonce &&
      (head.state != KILN_PAYMENT_STATE_PENDING || head.nonce >= op->chain_nonce))
    {
      op->nonce = head.nonce;
      return TRUE;
    }

  if (!read_next_nonce (db, head.chain_id, &head.from, &found, &next, error))
    return FALSE;

  nonce = MAX (op->chain_nonce, next);
  if (!write_next_nonce (db, head.chain_id, &head.from, nonce + 1, error))
    return FALSE;

  stmt = kiln_store_prepare (db, "UPDATE payments SET nonce = ?, updated_at = ? WHERE id = ?",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, nonce);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time ());
  sqlite3_bind_int64 (stmt, 3, op->id);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  g_debug ("Ledger: payment %" PRId64 " holds nonce %" PRIu64,
           op->id, nonce);
  op->nonce = nonce;
  return TRUE;
}

gboolean
kiln_ledger_do_reset_nonce (sqlite3  *db,
                            gpointer  data,
                            GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  KilnLedgerOp *op = data;
  int rc;

  if (!kiln_ledger_check_int64 (op->chain_id, _("chain ID"), error) ||
      !kiln_ledger_check_int64 (op->chain_nonce, _("nonce"), error))
    return FALSE;

  stmt = kiln_store_prepare (db,
                             "SELECT id, nonce FROM payments "
                             "WHERE chain_id = ? AND sender = ? AND nonce >= ? "
                             "  AND state IN ('signed', 'broadcast') "
                             "ORDER BY nonce LIMIT 1",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, op->chain_id);
  kiln_ledger_bind_address (stmt, 2, &op->from);
  sqlite3_bind_int64 (stmt, 3, op->chain_nonce);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return kiln_ledger_invalid (error,
                                _("Payment %" PRId64 " was signed with nonce %" PRId64 " and may still be mined, so the account’s "
                                  "nonces cannot go back to %" PRIu64 ". Wait until it "
                                  "is confirmed or has failed."),
                                (gint64) sqlite3_column_int64 (stmt, 0),
                                (gint64) sqlite3_column_int64 (stmt, 1),
                                op->chain_nonce);
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the payment ledger"));
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* Pending payments signed nothing: they get new nonces when they are reserved again. */
  stmt = kiln_store_prepare (db,
                             "UPDATE payments SET nonce = NULL, updated_at = ?4 "
                             "WHERE chain_id = ?1 AND sender = ?2 AND nonce >= ?3 "
                             "  AND state = 'pending'",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, op->chain_id);
  kiln_ledger_bind_address (stmt, 2, &op->from);
  sqlite3_bind_int64 (stmt, 3, op->chain_nonce);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time ());
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  return write_next_nonce (db, op->chain_id, &op->from, op->chain_nonce, error);
}

/* A pending payment signed nothing, so its nonce can go back to the account if no later
 * nonce was handed out meanwhile. */
gboolean
kiln_ledger_give_back_nonce (sqlite3         *db,
                             KilnLedgerHead  *head,
                             gint64           id,
                             GError         **error)
{
  gboolean found;
  guint64 next;

  if (!read_next_nonce (db, head->chain_id, &head->from, &found, &next, error))
    return FALSE;

  if (found && next == head->nonce + 1 &&
      !write_next_nonce (db, head->chain_id, &head->from, head->nonce, error))
    return FALSE;

  return kiln_ledger_update (db, "UPDATE payments SET nonce = NULL, updated_at = ?2 WHERE id = ?1",
                             id, NULL, error);
}
