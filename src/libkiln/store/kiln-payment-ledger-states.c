/* kiln-payment-ledger-states.c: signed attempts and payment states (worker thread)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-abi.h"
#include "kiln-crypto.h"
#include "kiln-payment-ledger-private.h"
#include "kiln-transaction.h"

/* Checks that @tx pays what @payment records: a payment in the chain's currency sends its
 * amount to its recipient, a token transfer calls transfer (recipient, amount) on the token,
 * and a batch calls payBatch on the token, recipients and amounts (any contract, any
 * reference). */
static gboolean
check_pays (KilnTransaction  *tx,
            KilnPayment      *payment,
            GError          **error)
{
  const KilnPaymentRecipient *first = kiln_payment_get_recipient (payment, 0);
  const KilnAddress *to = kiln_transaction_get_to (tx);
  GBytes *data = kiln_transaction_get_data (tx);   /* owned by @tx */
  g_autoptr(GBytes) expected = NULL;
  g_autofree KilnAddress *addresses = NULL;
  g_autofree KilnUint256 *amounts = NULL;
  guint n = payment->recipients->len;
  KilnUint256 value;
  gsize len;

  kiln_transaction_get_value (tx, &value);

  switch (payment->kind)
    {
    case KILN_PAYMENT_KIND_ETH:
      if (to != NULL && kiln_address_equal (to, &first->address) &&
          kiln_uint256_equal (&value, &first->amount) && g_bytes_get_size (data) == 0)
        return TRUE;
      break;

    case KILN_PAYMENT_KIND_ERC20:
      expected = kiln_abi_encode_transfer (&first->address, &first->amount);
      if (to != NULL && kiln_address_equal (to, &payment->token) &&
          kiln_uint256_is_zero (&value) && g_bytes_equal (data, expected))
        return TRUE;
      break;

    case KILN_PAYMENT_KIND_BATCH:
      {
        static const guint8 no_reference[32] = { 0, };
        /* payBatch's fourth head word is the reference. */
        const gsize reference_offset = KILN_ABI_SELECTOR_SIZE + 3 * KILN_ABI_WORD_SIZE;
        const guint8 *actual;

        addresses = g_new (KilnAddress, n);
        amounts = g_new (KilnUint256, n);
        for (guint i = 0; i < n; i++)
          {
            addresses[i] = kiln_payment_get_recipient (payment, i)->address;
            amounts[i] = kiln_payment_get_recipient (payment, i)->amount;
          }
        expected = kiln_abi_encode_pay_batch (&payment->token, addresses, amounts, n,
                                              no_reference);
        actual = g_bytes_get_data (data, &len);
        if (to != NULL && kiln_uint256_is_zero (&value) &&
            len == g_bytes_get_size (expected) && len >= reference_offset + 32 &&
            memcmp (actual, g_bytes_get_data (expected, NULL), reference_offset) == 0 &&
            memcmp (actual + reference_offset + 32,
                    (const guint8 *) g_bytes_get_data (expected, NULL) + reference_offset + 32,
                    len - reference_offset - 32) == 0)
          return TRUE;
      }
      break;

    default:
      break;
    }

  return kiln_ledger_invalid (error, _("The signed transaction for payment %" PRId64 " does not pay its recipients the recorded amounts; it "
                                       "was not recorded."),
                              payment->id);
}

/* Decodes @raw and checks it against payment @id: same chain, sender and reserved nonce,
 * and it pays what the payment records. */
static KilnTransaction *
check_attempt (sqlite3       *db,
               gint64         id,
               GBytes        *raw,
               GError       **error)
{
  g_autoptr(KilnTransaction) tx = NULL;
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(GError) decode_error = NULL;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (raw, &len);

  payment = kiln_ledger_load (db, id, error);
  if (payment == NULL)
    return NULL;

  if (kiln_ledger_is_finished (payment->state))
    {
      kiln_ledger_refuse_finished (id, payment->state, error);
      return NULL;
    }

  if (!payment->has_nonce)
    {
      kiln_ledger_invalid (error, _("Payment %" PRId64 " has no nonce yet; reserve one "
                                    "before signing."),
                           id);
      return NULL;
    }

  tx = kiln_transaction_decode (bytes, len, &decode_error);
  if (tx == NULL)
    {
      kiln_ledger_invalid (error, _("The signed transaction for payment %" PRId64 " is not valid: %s"),
                           id, decode_error->message);
      return NULL;
    }

  if (kiln_transaction_get_chain_id (tx) != payment->chain_id ||
      !kiln_address_equal (kiln_transaction_get_sender (tx), &payment->from) ||
      kiln_transaction_get_nonce (tx) != payment->nonce)
    {
      kiln_ledger_invalid (error, _("The signed transaction for payment %" PRId64 " has another chain, sender or nonce (it must be chain %" PRIu64 ", nonce %" PRIu64 ")."),
                           id, payment->chain_id, payment->nonce);
      return NULL;
    }

  if (!check_pays (tx, payment, error))
    return NULL;

  return g_steal_pointer (&tx);
}

/* TRUE with *@owner = 0 when no attempt has @hash. */
static gboolean
find_attempt (sqlite3                  *db,
              const guint8             *hash,
              gint64                   *owner,
              gint64                   *attempt_id,
              KilnPaymentAttemptState  *state,
              GError                  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  *owner = 0;
  stmt = kiln_store_prepare (db, "SELECT payment_id, id, state FROM payment_attempts "
                                 "WHERE tx_hash = ?", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_blob (stmt, 1, hash, 32, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *owner = sqlite3_column_int64 (stmt, 0);
      *attempt_id = sqlite3_column_int64 (stmt, 1);
      if (!kiln_payment_attempt_state_from_string ((const char *) sqlite3_column_text (stmt, 2),
                                                   state))
        {
          g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
                       _("The ledger’s record of payment %" PRId64 " is damaged."),
                       *owner);
          return FALSE;
        }
    }
  else if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the payment ledger"));

  return TRUE;
}

static gboolean
insert_attempt (sqlite3          *db,
                gint64            id,
                KilnTransaction  *tx,
                GBytes           *raw,
                const guint8     *hash,
                GError          **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  KilnUint256 max_fee, priority_fee;

  if (kiln_transaction_get_tx_type (tx) == KILN_TRANSACTION_TYPE_EIP1559)
    {
      kiln_transaction_get_max_fee_per_gas (tx, &max_fee);
      kiln_transaction_get_max_priority_fee_per_gas (tx, &priority_fee);
    }
  else
    {
      kiln_transaction_get_gas_price (tx, &max_fee);
      priority_fee = max_fee;
    }

  if (!kiln_ledger_check_int64 (kiln_transaction_get_gas_limit (tx), _("gas limit"), error))
    return FALSE;

  stmt = kiln_store_prepare (db,
                             "INSERT INTO payment_attempts (payment_id, nonce, tx_hash, raw, "
                             "  gas_limit, max_fee_per_gas, max_priority_fee_per_gas, state, "
                             "  created_at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, 'signed', ?)",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, kiln_transaction_get_nonce (tx));
  sqlite3_bind_blob (stmt, 3, hash, 32, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 4, g_bytes_get_data (raw, NULL), g_bytes_get_size (raw),
                     SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, kiln_transaction_get_gas_limit (tx));
  kiln_ledger_bind_uint256 (stmt, 6, &max_fee);
  kiln_ledger_bind_uint256 (stmt, 7, &priority_fee);
  sqlite3_bind_int64 (stmt, 8, g_get_real_time ());

  return kiln_store_step_done (stmt, error);
}

gboolean
kiln_ledger_do_record_attempt (sqlite3  *db,
                               gpointer  data,
                               GError  **error)
{
  g_autoptr(KilnTransaction) tx = NULL;
  KilnLedgerOp *op = data;
  KilnPaymentAttemptState state;
  guint8 hash[32];
  gint64 owner, attempt_id;

  tx = check_attempt (db, op->id, op->raw, error);
  if (tx == NULL)
    return FALSE;

  kiln_transaction_get_hash (tx, hash);
  if (!find_attempt (db, hash, &owner, &attempt_id, &state, error))
    return FALSE;

  if (owner != 0 && owner != op->id)
    {
      g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CONFLICT,
                   _("This transaction is already recorded for payment %" PRId64 "."),
                   owner);
      return FALSE;
    }

  if (owner == 0 &&
      (!insert_attempt (db, op->id, tx, op->raw, hash, error) ||
       !kiln_ledger_update (db, "UPDATE payments SET state = 'signed', updated_at = ?2 "
                                "WHERE id = ?1 AND state = 'pending'", op->id, NULL, error)))
    return FALSE;

  op->payment = kiln_ledger_load (db, op->id, error);
  return op->payment != NULL;
}

/* Finds attempt @hash of payment @id and the payment's state. */
static gboolean
find_own_attempt (sqlite3                 *db,
                  KilnLedgerOp            *op,
                  KilnLedgerHead          *head,
                  KilnPaymentAttemptState *state,
                  GError                 **error)
{
  g_autofree char *hex = NULL;
  gint64 owner, attempt_id;

  if (!kiln_ledger_load_head (db, op->id, head, error) ||
      !find_attempt (db, op->tx_hash, &owner, &attempt_id, state, error))
    return FALSE;

  if (owner == op->id)
    return TRUE;

  hex = kiln_hex_encode (op->tx_hash, sizeof op->tx_hash);
  g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND,
               _("Payment %" PRId64 " has no transaction 0x%s."), op->id, hex);
  return FALSE;
}

static gboolean
load_result (sqlite3       *db,
             KilnLedgerOp  *op,
             GError       **error)
{
  op->payment = kiln_ledger_load (db, op->id, error);
  return op->payment != NULL;
}

gboolean
kiln_ledger_do_mark_broadcast (sqlite3  *db,
                               gpointer  data,
                               GError  **error)
{
  KilnLedgerOp *op = data;
  KilnPaymentAttemptState state;
  KilnLedgerHead head;

  if (!find_own_attempt (db, op, &head, &state, error))
    return FALSE;

  /* A late report for a payment that has since ended changes nothing. */
  if (!kiln_ledger_is_finished (head.state) &&
      (!kiln_ledger_update (db, "UPDATE payment_attempts SET state = 'broadcast', "
                                "  broadcast_at = ?2 "
                                "WHERE payment_id = ?1 AND tx_hash = ?3 AND state = 'signed'",
                            op->id, op->tx_hash, error) ||
       !kiln_ledger_update (db, "UPDATE payments SET state = 'broadcast', updated_at = ?2 "
                                "WHERE id = ?1 AND state = 'signed'",
                            op->id, NULL, error)))
    return FALSE;

  return load_result (db, op, error);
}

gboolean
kiln_ledger_do_mark_replaced (sqlite3  *db,
                              gpointer  data,
                              GError  **error)
{
  KilnLedgerOp *op = data;
  KilnPaymentAttemptState state;
  KilnLedgerHead head;

  if (!find_own_attempt (db, op, &head, &state, error))
    return FALSE;

  if (state == KILN_PAYMENT_ATTEMPT_CONFIRMED)
    return kiln_ledger_invalid (error, _("The transaction of payment %" PRId64 " that was confirmed cannot be replaced."),
                                op->id);

  if (!kiln_ledger_update (db, "UPDATE payment_attempts SET state = 'replaced' "
                               "WHERE payment_id = ?1 AND tx_hash = ?3 "
                               "  AND state IN ('signed', 'broadcast')",
                           op->id, op->tx_hash, error))
    return FALSE;

  return load_result (db, op, error);
}

/* The mined attempt @op->tx_hash becomes confirmed (or failed, when it reverted); the
 * payment's other open attempts can no longer be mined and become replaced. */
static gboolean
settle_attempts (sqlite3       *db,
                 KilnLedgerOp  *op,
                 gboolean       succeeded,
                 GError       **error)
{
  const char *settle = succeeded
    ? "UPDATE payment_attempts SET state = 'confirmed' WHERE payment_id = ?1 AND tx_hash = ?3"
    : "UPDATE payment_attempts SET state = 'failed' WHERE payment_id = ?1 AND tx_hash = ?3";

  return kiln_ledger_update (db, "UPDATE payment_attempts SET state = 'replaced' "
                                 "WHERE payment_id = ?1 AND tx_hash != ?3 "
                                 "  AND state IN ('signed', 'broadcast')",
                             op->id, op->tx_hash, error) &&
         kiln_ledger_update (db, settle, op->id, op->tx_hash, error);
}

gboolean
kiln_ledger_do_mark_confirmed (sqlite3  *db,
                               gpointer  data,
                               GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  KilnLedgerOp *op = data;
  KilnPaymentAttemptState state;
  KilnLedgerHead head;

  if (!kiln_ledger_check_int64 (op->block, _("block number"), error) ||
      !kiln_ledger_check_int64 (op->gas_used, _("gas amount"), error) ||
      !find_own_attempt (db, op, &head, &state, error))
    return FALSE;

  if (head.state == KILN_PAYMENT_STATE_CONFIRMED && state == KILN_PAYMENT_ATTEMPT_CONFIRMED)
    return load_result (db, op, error);
  if (kiln_ledger_is_finished (head.state))
    return kiln_ledger_refuse_finished (op->id, head.state, error);

  if (!settle_attempts (db, op, TRUE, error))
    return FALSE;

  stmt = kiln_store_prepare (db,
                             "UPDATE payments SET state = 'confirmed', confirmed_block = ?, "
                             "  gas_used = ?, error = NULL, updated_at = ? WHERE id = ?",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, op->block);
  sqlite3_bind_int64 (stmt, 2, op->gas_used);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  sqlite3_bind_int64 (stmt, 4, op->id);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  return load_result (db, op, error);
}

gboolean
kiln_ledger_do_mark_failed (sqlite3  *db,
                            gpointer  data,
                            GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  KilnLedgerOp *op = data;
  KilnPaymentAttemptState state;
  KilnLedgerHead head;

  if (op->has_hash)
    {
      if (!find_own_attempt (db, op, &head, &state, error))
        return FALSE;
    }
  else if (!kiln_ledger_load_head (db, op->id, &head, error))
    return FALSE;

  if (head.state == KILN_PAYMENT_STATE_FAILED)
    return load_result (db, op, error);
  if (head.state == KILN_PAYMENT_STATE_CONFIRMED)
    return kiln_ledger_refuse_finished (op->id, head.state, error);

  if (op->has_hash)
    {
      if (!settle_attempts (db, op, FALSE, error))
        return FALSE;
    }
  else if (!kiln_ledger_update (db, "UPDATE payment_attempts SET state = 'failed' "
                                    "WHERE payment_id = ?1 AND state IN ('signed', 'broadcast')",
                                op->id, NULL, error))
    return FALSE;

  if (head.state == KILN_PAYMENT_STATE_PENDING && head.has_nonce &&
      !kiln_ledger_give_back_nonce (db, &head, op->id, error))
    return FALSE;

  stmt = kiln_store_prepare (db,
                             "UPDATE payments SET state = 'failed', error = ?, updated_at = ? "
                             "WHERE id = ?",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, op->reason, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time ());
  sqlite3_bind_int64 (stmt, 3, op->id);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  return load_result (db, op, error);
}
