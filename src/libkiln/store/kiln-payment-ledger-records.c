/* kiln-payment-ledger-records.c: creating and reading payments (worker thread)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-keccak.h"
#include "kiln-payment-ledger-private.h"

/* Amounts are stored as 32-byte big-endian BLOBs rather than decimal TEXT: they are exact,
 * their fixed width lets CHECK constraints catch damage, memcmp order is numeric order (so
 * SQL can compare and sort them), and they map directly to KilnUint256 with no parsing.
 * SQLite's own arithmetic is never used on them (SUM would go through 64-bit integers or
 * doubles); sums are made here with checked 256-bit additions. */

#define PAYMENT_COLUMNS \
  "chain_id, sender, kind, token, reference, idempotency_key, total, state, nonce, " \
  "confirmed_block, gas_used, error, created_at, updated_at"

#define ATTEMPT_COLUMNS \
  "id, nonce, tx_hash, raw, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, state, " \
  "created_at, broadcast_at"

/* Helpers */

void
kiln_ledger_bind_address (sqlite3_stmt      *stmt,
                          int                index,
                          const KilnAddress *address)
{
  if (address == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_blob (stmt, index, address->bytes, KILN_ADDRESS_SIZE, SQLITE_TRANSIENT);
}

void
kiln_ledger_bind_uint256 (sqlite3_stmt      *stmt,
                          int                index,
                          const KilnUint256 *value)
{
  guint8 bytes[KILN_UINT256_SIZE];

  kiln_uint256_to_be_bytes (value, bytes);
  sqlite3_bind_blob (stmt, index, bytes, sizeof bytes, SQLITE_TRANSIENT);
}

gboolean
kiln_ledger_not_found (GError **error,
                       gint64   id)
{
  g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND,
               _("There is no payment %" PRId64 " in the ledger."), id);
  return FALSE;
}

gboolean
kiln_ledger_check_int64 (guint64      value,
                         const char  *what,
                         GError     **error)
{
  if (value <= G_MAXINT64)
    return TRUE;

  g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_INVALID,
               _("The %s %" PRIu64 " is too large to record."), what, value);
  return FALSE;
}

static gboolean
damaged (GError **error,
         gint64   id)
{
  g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
               _("The ledger’s record of payment %" PRId64 " is damaged."), id);
  return FALSE;
}

gboolean
kiln_ledger_column_blob (sqlite3_stmt *stmt,
                         int           column,
                         guint8       *out,
                         gsize         len)
{
  const void *blob;

  if (sqlite3_column_type (stmt, column) != SQLITE_BLOB)
    return FALSE;

  blob = sqlite3_column_blob (stmt, column);
  if (blob == NULL || (gsize) sqlite3_column_bytes (stmt, column) != len)
    return FALSE;

  memcpy (out, blob, len);
  return TRUE;
}

gboolean
kiln_ledger_column_uint256 (sqlite3_stmt *stmt,
                            int           column,
                            KilnUint256  *out)
{
  guint8 bytes[KILN_UINT256_SIZE];

  if (!kiln_ledger_column_blob (stmt, column, bytes, sizeof bytes))
    return FALSE;

  kiln_uint256_from_be_bytes (out, bytes);
  return TRUE;
}

static char *
column_dup_text (sqlite3_stmt *stmt,
                 int           column)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return NULL;

  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

/* Loading */

static gboolean
read_payment_row (sqlite3_stmt *stmt,
                  KilnPayment  *payment)
{
  const char *kind = (const char *) sqlite3_column_text (stmt, 2);
  const char *state = (const char *) sqlite3_column_text (stmt, 7);

  payment->chain_id = sqlite3_column_int64 (stmt, 0);
  if (!kiln_ledger_column_blob (stmt, 1, payment->from.bytes, KILN_ADDRESS_SIZE) ||
      !kiln_payment_kind_from_string (kind, &payment->kind) ||
      !kiln_payment_state_from_string (state, &payment->state) ||
      !kiln_ledger_column_uint256 (stmt, 6, &payment->total))
    return FALSE;

  payment->has_token = sqlite3_column_type (stmt, 3) != SQLITE_NULL;
  if (payment->has_token &&
      !kiln_ledger_column_blob (stmt, 3, payment->token.bytes, KILN_ADDRESS_SIZE))
    return FALSE;

  payment->reference = column_dup_text (stmt, 4);
  payment->idempotency_key = column_dup_text (stmt, 5);

  payment->has_nonce = sqlite3_column_type (stmt, 8) != SQLITE_NULL;
  payment->nonce = payment->has_nonce ? (guint64) sqlite3_column_int64 (stmt, 8) : 0;

  payment->confirmed = payment->state == KILN_PAYMENT_STATE_CONFIRMED;
  payment->confirmed_block = sqlite3_column_int64 (stmt, 9);
  payment->gas_used = sqlite3_column_int64 (stmt, 10);
  payment->error = column_dup_text (stmt, 11);
  payment->created_at = sqlite3_column_int64 (stmt, 12);
  payment->updated_at = sqlite3_column_int64 (stmt, 13);

  return TRUE;
}

static gboolean
load_recipients (sqlite3      *db,
                 KilnPayment  *payment,
                 GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = kiln_store_prepare (db,
                             "SELECT recipient, amount FROM payment_recipients "
                             "WHERE payment_id = ? ORDER BY position",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, payment->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KilnPaymentRecipient recipient;

      if (!kiln_ledger_column_blob (stmt, 0, recipient.address.bytes, KILN_ADDRESS_SIZE) ||
          !kiln_ledger_column_uint256 (stmt, 1, &recipient.amount))
        return damaged (error, payment->id);

      g_array_append_val (payment->recipients, recipient);
    }

  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the payment ledger"));

  return TRUE;
}

static gboolean
load_attempts (sqlite3      *db,
               KilnPayment  *payment,
               GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = kiln_store_prepare (db,
                             "SELECT " ATTEMPT_COLUMNS " FROM payment_attempts "
                             "WHERE payment_id = ? ORDER BY id",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, payment->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(KilnPaymentAttempt) attempt = g_new0 (KilnPaymentAttempt, 1);
      const char *state = (const char *) sqlite3_column_text (stmt, 7);
      const void *raw;
      int raw_len;

      attempt->id = sqlite3_column_int64 (stmt, 0);
      attempt->nonce = sqlite3_column_int64 (stmt, 1);
      attempt->gas_limit = sqlite3_column_int64 (stmt, 4);
      attempt->created_at = sqlite3_column_int64 (stmt, 8);
      attempt->broadcast_at = sqlite3_column_int64 (stmt, 9);

      raw = sqlite3_column_blob (stmt, 3);
      raw_len = sqlite3_column_bytes (stmt, 3);
      if (raw == NULL || raw_len <= 0 ||
          !kiln_ledger_column_blob (stmt, 2, attempt->tx_hash, sizeof attempt->tx_hash) ||
          !kiln_ledger_column_uint256 (stmt, 5, &attempt->max_fee_per_gas) ||
          !kiln_ledger_column_uint256 (stmt, 6, &attempt->max_priority_fee_per_gas) ||
          !kiln_payment_attempt_state_from_string (state, &attempt->state))
        return damaged (error, payment->id);

      attempt->raw = g_bytes_new (raw, raw_len);
      g_ptr_array_add (payment->attempts, g_steal_pointer (&attempt));
    }

  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the payment ledger"));

  return TRUE;
}

KilnPayment *
kiln_ledger_load (sqlite3  *db,
                  gint64    id,
                  GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(KilnPayment) payment = NULL;
  int rc;

  stmt = kiln_store_prepare (db, "SELECT " PAYMENT_COLUMNS " FROM payments WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return (kiln_ledger_not_found (error, id), NULL);
  if (rc != SQLITE_ROW)
    return (kiln_store_set_error (error, db, rc, _("Could not read the payment ledger")), NULL);

  payment = kiln_payment_alloc ();
  payment->id = id;
  if (!read_payment_row (stmt, payment))
    return (damaged (error, id), NULL);

  if (!load_recipients (db, payment, error) || !load_attempts (db, payment, error))
    return NULL;

  return g_steal_pointer (&payment);
}

/* Creating */

static gboolean
validate_draft (KilnPayment  *draft,
                KilnUint256  *total,
                GError      **error)
{
  guint n_recipients = draft->recipients->len;

  if (draft->chain_id == 0)
    return kiln_ledger_invalid (error, _("A payment needs a chain ID."));
  if (!kiln_ledger_check_int64 (draft->chain_id, _("chain ID"), error))
    return FALSE;
  if (n_recipients == 0)
    return kiln_ledger_invalid (error, _("A payment needs at least one recipient."));

  switch (draft->kind)
    {
    case KILN_PAYMENT_KIND_ETH:
      if (n_recipients != 1 || draft->has_token)
        return kiln_ledger_invalid (error, _("A payment in the chain’s currency has one "
                                             "recipient and no token."));
      break;

    case KILN_PAYMENT_KIND_ERC20:
      if (n_recipients != 1 || !draft->has_token)
        return kiln_ledger_invalid (error, _("A token transfer has one recipient and a token."));
      break;

    case KILN_PAYMENT_KIND_BATCH:
      if (!draft->has_token)
        return kiln_ledger_invalid (error, _("A batch payment needs a token."));
      break;

    default:
      return kiln_ledger_invalid (error, _("Unknown kind of payment."));
    }

  kiln_uint256_from_uint64 (total, 0);
  for (guint i = 0; i < n_recipients; i++)
    {
      const KilnPaymentRecipient *recipient = kiln_payment_get_recipient (draft, i);

      if (!kiln_uint256_add (total, total, &recipient->amount))
        return kiln_ledger_invalid (error, _("The payment’s amounts add up to more than a "
                                             "256-bit number can hold."));
    }

  return TRUE;
}

static int
compare_address (const void *a,
                 const void *b)
{
  return memcmp (a, b, KILN_ADDRESS_SIZE);
}

/* A key for "this work, paid to these people": Keccak-256 of the chain ID, the sender, the
 * reference and the sorted set of recipient addresses. Amounts are left out on purpose, so
 * that a retry with other amounts is caught as a conflict instead of paying twice. */
static char *
derive_idempotency_key (KilnPayment *draft)
{
  g_autofree KilnAddress *addresses = NULL;
  guint n = draft->recipients->len;
  KilnKeccak256 ctx;
  guint8 digest[KILN_KECCAK256_DIGEST_SIZE];
  guint8 number[8];
  g_autofree char *hex = NULL;
  gsize reference_len = strlen (draft->reference);

  addresses = g_new (KilnAddress, n);
  for (guint i = 0; i < n; i++)
    addresses[i] = kiln_payment_get_recipient (draft, i)->address;
  qsort (addresses, n, sizeof (KilnAddress), compare_address);

  kiln_keccak256_init (&ctx);
  kiln_keccak256_update (&ctx, (const guint8 *) "kiln-payment-v1", 15);
  for (guint i = 0; i < 8; i++)
    number[i] = (draft->chain_id >> (56 - 8 * i)) & 0xff;
  kiln_keccak256_update (&ctx, number, sizeof number);
  kiln_keccak256_update (&ctx, draft->from.bytes, KILN_ADDRESS_SIZE);
  for (guint i = 0; i < 8; i++)
    number[i] = ((guint64) reference_len >> (56 - 8 * i)) & 0xff;
  kiln_keccak256_update (&ctx, number, sizeof number);
  kiln_keccak256_update (&ctx, (const guint8 *) draft->reference, reference_len);
  for (guint i = 0; i < n; i++)
    {
      if (i > 0 && memcmp (&addresses[i], &addresses[i - 1], KILN_ADDRESS_SIZE) == 0)
        continue;
      kiln_keccak256_update (&ctx, addresses[i].bytes, KILN_ADDRESS_SIZE);
    }
  kiln_keccak256_digest (&ctx, digest);

  hex = kiln_hex_encode (digest, sizeof digest);
  return g_strconcat ("ref:", hex, NULL);
}

#define RECIPIENT_KEY_SIZE (KILN_ADDRESS_SIZE + KILN_UINT256_SIZE)

static int
compare_recipient_key (const void *a,
                       const void *b)
{
  return memcmp (a, b, RECIPIENT_KEY_SIZE);
}

/* The recipients as sorted address || amount keys, to compare payments as sets. */
static guint8 *
sorted_recipient_keys (KilnPayment *payment)
{
  guint n = payment->recipients->len;
  guint8 *keys = g_malloc (MAX (n, 1) * RECIPIENT_KEY_SIZE);

  for (guint i = 0; i < n; i++)
    {
      const KilnPaymentRecipient *recipient = kiln_payment_get_recipient (payment, i);
      guint8 *key = keys + i * RECIPIENT_KEY_SIZE;

      memcpy (key, recipient->address.bytes, KILN_ADDRESS_SIZE);
      kiln_uint256_to_be_bytes (&recipient->amount, key + KILN_ADDRESS_SIZE);
    }
  qsort (keys, n, RECIPIENT_KEY_SIZE, compare_recipient_key);

  return keys;
}

static gboolean
same_payment (KilnPayment *stored,
              KilnPayment *draft)
{
  g_autofree guint8 *stored_keys = NULL;
  g_autofree guint8 *draft_keys = NULL;

  if (stored->chain_id != draft->chain_id ||
      stored->kind != draft->kind ||
      !kiln_address_equal (&stored->from, &draft->from) ||
      stored->has_token != draft->has_token ||
      (stored->has_token && !kiln_address_equal (&stored->token, &draft->token)) ||
      stored->recipients->len != draft->recipients->len)
    return FALSE;

  stored_keys = sorted_recipient_keys (stored);
  draft_keys = sorted_recipient_keys (draft);

  return memcmp (stored_keys, draft_keys, stored->recipients->len * RECIPIENT_KEY_SIZE) == 0;
}

/* TRUE with *@id = 0 when @key is free; otherwise the payment that holds it. */
static gboolean
find_by_key (sqlite3     *db,
             const char  *key,
             gint64      *id,
             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  *id = 0;
  stmt = kiln_store_prepare (db, "SELECT id FROM payments WHERE idempotency_key = ?", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *id = sqlite3_column_int64 (stmt, 0);
  else if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the payment ledger"));

  return TRUE;
}

static gboolean
insert_payment (sqlite3            *db,
                KilnPayment        *draft,
                const char         *key,
                const KilnUint256  *total,
                gint64             *id,
                GError            **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = g_get_real_time ();

  stmt = kiln_store_prepare (db,
                             "INSERT INTO payments (chain_id, sender, kind, token, reference, "
                             "  idempotency_key, total, state, created_at, updated_at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, draft->chain_id);
  kiln_ledger_bind_address (stmt, 2, &draft->from);
  sqlite3_bind_text (stmt, 3, kiln_payment_kind_to_string (draft->kind), -1, SQLITE_STATIC);
  kiln_ledger_bind_address (stmt, 4, draft->has_token ? &draft->token : NULL);
  sqlite3_bind_text (stmt, 5, draft->reference, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, key, -1, SQLITE_TRANSIENT);
  kiln_ledger_bind_uint256 (stmt, 7, total);
  sqlite3_bind_int64 (stmt, 8, now);
  sqlite3_bind_int64 (stmt, 9, now);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  *id = sqlite3_last_insert_rowid (db);
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = kiln_store_prepare (db,
                             "INSERT INTO payment_recipients (payment_id, position, recipient, "
                             "  amount) VALUES (?, ?, ?, ?)",
                             error);
  if (stmt == NULL)
    return FALSE;

  for (guint i = 0; i < draft->recipients->len; i++)
    {
      const KilnPaymentRecipient *recipient = kiln_payment_get_recipient (draft, i);

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, *id);
      sqlite3_bind_int64 (stmt, 2, i);
      kiln_ledger_bind_address (stmt, 3, &recipient->address);
      kiln_ledger_bind_uint256 (stmt, 4, &recipient->amount);
      if (!kiln_store_step_done (stmt, error))
        return FALSE;
    }

  return TRUE;
}

gboolean
kiln_ledger_do_create (sqlite3  *db,
                       gpointer  data,
                       GError  **error)
{
  KilnLedgerOp *op = data;
  KilnPayment *draft = op->draft;
  g_autofree char *key = NULL;
  KilnUint256 total;
  gint64 id = 0;

  if (!validate_draft (draft, &total, error))
    return FALSE;

  if (draft->idempotency_key != NULL)
    key = g_strdup (draft->idempotency_key);
  else if (draft->reference != NULL)
    key = derive_idempotency_key (draft);

  if (key != NULL && !find_by_key (db, key, &id, error))
    return FALSE;

  if (id != 0)
    {
      g_autoptr(KilnPayment) stored = kiln_ledger_load (db, id, error);

      if (stored == NULL)
        return FALSE;

      if (!same_payment (stored, draft))
        {
          g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CONFLICT,
                       _("Payment %" PRId64 " was already recorded for “%s” with "
                         "other recipients, amounts or token; no second payment was made."),
                       id, draft->reference != NULL ? draft->reference : key);
          return FALSE;
        }

      g_debug ("Ledger: payment %" PRId64 " already exists for its key", id);
      op->payment = g_steal_pointer (&stored);
      return TRUE;
    }

  if (!insert_payment (db, draft, key, &total, &id, error))
    return FALSE;

  op->payment = kiln_ledger_load (db, id, error);
  return op->payment != NULL;
}

gboolean
kiln_ledger_do_get (sqlite3  *db,
                    gpointer  data,
                    GError  **error)
{
  KilnLedgerOp *op = data;

  op->payment = kiln_ledger_load (db, op->id, error);
  return op->payment != NULL;
}

/* What decides what may happen to a payment */

gboolean
kiln_ledger_invalid (GError     **error,
                     const char  *format,
                     ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (KILN_STORE_ERROR, KILN_STORE_ERROR_INVALID,
                                                format, args));
  va_end (args);
  return FALSE;
}

gboolean
kiln_ledger_is_finished (KilnPaymentState state)
{
  return state == KILN_PAYMENT_STATE_CONFIRMED || state == KILN_PAYMENT_STATE_FAILED;
}

gboolean
kiln_ledger_load_head (sqlite3         *db,
                       gint64           id,
                       KilnLedgerHead  *head,
                       GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const void *sender;
  int rc;

  stmt = kiln_store_prepare (db, "SELECT chain_id, sender, state, nonce FROM payments "
                                 "WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return kiln_ledger_not_found (error, id);
  if (rc != SQLITE_ROW)
    return kiln_store_set_error (error, db, rc, _("Could not read the payment ledger"));

  head->chain_id = sqlite3_column_int64 (stmt, 0);
  sender = sqlite3_column_blob (stmt, 1);
  if (sender == NULL || sqlite3_column_bytes (stmt, 1) != KILN_ADDRESS_SIZE ||
      !kiln_payment_state_from_string ((const char *) sqlite3_column_text (stmt, 2),
                                       &head->state))
    return damaged (error, id);
  memcpy (head->from.bytes, sender, KILN_ADDRESS_SIZE);
  head->has_nonce = sqlite3_column_type (stmt, 3) != SQLITE_NULL;
  head->nonce = head->has_nonce ? (guint64) sqlite3_column_int64 (stmt, 3) : 0;

  return TRUE;
}

gboolean
kiln_ledger_refuse_finished (gint64            id,
                             KilnPaymentState  state,
                             GError          **error)
{
  if (state == KILN_PAYMENT_STATE_CONFIRMED)
    return kiln_ledger_invalid (error, _("Payment %" PRId64 " is already confirmed."), id);

  return kiln_ledger_invalid (error, _("Payment %" PRId64 " has already failed."), id);
}

/* Runs an UPDATE of payment or attempt rows with ?1 = the payment ID, ?2 = now and, when
 * @hash is given, ?3 = a transaction hash. */
gboolean
kiln_ledger_update (sqlite3       *db,
                    const char    *sql,
                    gint64         id,
                    const guint8  *hash,
                    GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = kiln_store_prepare (db, sql, error);

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time ());
  if (hash != NULL)
    sqlite3_bind_blob (stmt, 3, hash, 32, SQLITE_TRANSIENT);

  return kiln_store_step_done (stmt, error);
}
