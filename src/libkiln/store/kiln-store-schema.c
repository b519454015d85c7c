/* kiln-store-schema.c: Kiln's database schema as one ordered list of migrations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>

#include "kiln-store-private.h"

/* How the schema grows
 *
 * The schema is this one list. Step N takes a database from PRAGMA user_version N - 1 to N;
 * opening a database applies the missing steps in order in one transaction, and a database
 * whose user_version is beyond the list (written by a newer Kiln) is refused rather than
 * guessed at. A subsystem that needs tables appends a step at the end, naming itself as the
 * owner; steps that shipped are never edited, reordered or removed (a change to an existing
 * table is a new step with ALTER TABLE or a copy). One list, rather than steps registered by
 * each subsystem at run time, gives every database the same history in the same order
 * whichever subsystems were initialised first.
 *
 * Conventions: STRICT tables; amounts and other 256-bit values are 32-byte big-endian BLOBs
 * (exact, fixed width, and memcmp order is numeric order); addresses are 20-byte BLOBs and
 * hashes 32-byte BLOBs; times are INTEGER microseconds since the Unix epoch (UTC); states and
 * kinds are TEXT nicks so that the sqlite3 shell shows them readably. */

static const char ledger_v1[] =
  /* Outgoing payments, one row per payment whatever the number of attempts. */
  "CREATE TABLE payments ("
  "  id               INTEGER PRIMARY KEY,"
  "  chain_id         INTEGER NOT NULL CHECK (chain_id > 0),"
  "  sender           BLOB NOT NULL CHECK (length (sender) = 20),"
  "  kind             TEXT NOT NULL CHECK (kind IN ('eth', 'erc20', 'batch')),"
  "  token            BLOB CHECK (token IS NULL OR length (token) = 20),"
  "  reference        TEXT,"
  "  idempotency_key  TEXT UNIQUE,"
  "  total            BLOB NOT NULL CHECK (length (total) = 32),"
  "  state            TEXT NOT NULL"
  "                   CHECK (state IN ('pending', 'signed', 'broadcast', 'confirmed', 'failed')),"
  "  nonce            INTEGER CHECK (nonce IS NULL OR nonce >= 0),"
  "  confirmed_block  INTEGER,"
  "  gas_used         INTEGER,"
  "  error            TEXT,"
  "  created_at       INTEGER NOT NULL,"
  "  updated_at       INTEGER NOT NULL"
  ") STRICT;"
  "CREATE INDEX payments_by_account ON payments (chain_id, sender, id);"
  /* No two open payments of one account may hold the same nonce. */
  "CREATE UNIQUE INDEX payments_open_nonce ON payments (chain_id, sender, nonce)"
  "  WHERE nonce IS NOT NULL AND state IN ('pending', 'signed', 'broadcast');"
  "CREATE INDEX payments_open ON payments (state)"
  "  WHERE state IN ('pending', 'signed', 'broadcast');"

  /* Who is paid how much; one row for a transfer, one per payee for a batch. */
  "CREATE TABLE payment_recipients ("
  "  payment_id  INTEGER NOT NULL REFERENCES payments (id) ON DELETE CASCADE,"
  "  position    INTEGER NOT NULL CHECK (position >= 0),"
  "  recipient   BLOB NOT NULL CHECK (length (recipient) = 20),"
  "  amount      BLOB NOT NULL CHECK (length (amount) = 32),"
  "  PRIMARY KEY (payment_id, position)"
  ") STRICT, WITHOUT ROWID;"

  /* Every signed transaction for a payment, written before it is broadcast. A fee bump is a
   * new attempt with the same nonce and a new hash. */
  "CREATE TABLE payment_attempts ("
  "  id                        INTEGER PRIMARY KEY,"
  "  payment_id                INTEGER NOT NULL REFERENCES payments (id) ON DELETE CASCADE,"
  "  nonce                     INTEGER NOT NULL CHECK (nonce >= 0),"
  "  tx_hash                   BLOB NOT NULL UNIQUE CHECK (length (tx_hash) = 32),"
  "  raw                       BLOB NOT NULL CHECK (length (raw) > 0),"
  "  gas_limit                 INTEGER NOT NULL,"
  "  max_fee_per_gas           BLOB NOT NULL CHECK (length (max_fee_per_gas) = 32),"
  "  max_priority_fee_per_gas  BLOB NOT NULL CHECK (length (max_priority_fee_per_gas) = 32),"
  "  state                     TEXT NOT NULL CHECK (state IN ('signed', 'broadcast',"
  "                                                           'replaced', 'confirmed', 'failed')),"
  "  created_at                INTEGER NOT NULL,"
  "  broadcast_at              INTEGER"
  ") STRICT;"
  "CREATE INDEX payment_attempts_by_payment ON payment_attempts (payment_id, id);"

  /* The next nonce Kiln will use for each account, whatever the chain says. */
  "CREATE TABLE nonces ("
  "  chain_id    INTEGER NOT NULL,"
  "  sender      BLOB NOT NULL CHECK (length (sender) = 20),"
  "  next_nonce  INTEGER NOT NULL CHECK (next_nonce >= 0),"
  "  PRIMARY KEY (chain_id, sender)"
  ") STRICT, WITHOUT ROWID;";

/* Nodes met through discovery or links (net/kiln-peer-table.c), so that a restarted node
 * can reconnect before the DHT answers. info is the node record's payload (docs/protocol.md,
 * "Discovery"). */
static const char peers_v1[] =
  "CREATE TABLE peers ("
  "  address     BLOB PRIMARY KEY CHECK (length (address) = 20),"
  "  info        BLOB NOT NULL,"
  "  first_seen  INTEGER NOT NULL,"
  "  last_seen   INTEGER NOT NULL,"
  "  failures    INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0)"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX peers_by_last_seen ON peers (last_seen);";

/* Each provider's record with this node as requestor (market/kiln-reputation.c): counts of
 * every outcome, and the decayed good and bad evidence as of updated_at, from which the score
 * is computed (docs/market.md, "Reputation"). */
static const char market_reputation_v1[] =
  "CREATE TABLE market_reputation ("
  "  provider    BLOB PRIMARY KEY CHECK (length (provider) = 20),"
  "  accepted    INTEGER NOT NULL DEFAULT 0 CHECK (accepted >= 0),"
  "  rejected    INTEGER NOT NULL DEFAULT 0 CHECK (rejected >= 0),"
  "  timed_out   INTEGER NOT NULL DEFAULT 0 CHECK (timed_out >= 0),"
  "  cancelled   INTEGER NOT NULL DEFAULT 0 CHECK (cancelled >= 0),"
  "  good        REAL NOT NULL DEFAULT 0 CHECK (good >= 0),"
  "  bad         REAL NOT NULL DEFAULT 0 CHECK (bad >= 0),"
  "  updated_at  INTEGER NOT NULL"
  ") STRICT, WITHOUT ROWID;";

/* Peers the message guard banned (net/kiln-message-guard.c), kept by the engine
 * (kiln-engine-messages.c) so that a ban outlasts a restart: until is when the ban ends,
 * banned_at when it was written. Rows whose ban has ended are deleted when the engine starts
 * and whenever it writes a ban. */
static const char banned_peers_v1[] =
  "CREATE TABLE banned_peers ("
  "  address    BLOB PRIMARY KEY CHECK (length (address) = 20),"
  "  until      INTEGER NOT NULL,"
  "  reason     TEXT NOT NULL,"
  "  banned_at  INTEGER NOT NULL"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX banned_peers_by_until ON banned_peers (until);";

/* A requestor's render jobs (render/kiln-job-store.c): each job with its settings and plan
 * as JSON text and its signed announcement; the files it offers (render_job_resources); each
 * subtask's progress; every assignment of a subtask to a provider with the terms both signed
 * (render_assignments); the result a provider delivered and the amount owed for it once
 * verified (render_results); and which ledger payment (payments.id) paid it
 * (render_payments). Everything of a job goes when the job is deleted; payments stay in the
 * ledger. */
static const char render_jobs_v1[] =
  "CREATE TABLE render_jobs ("
  "  id            TEXT PRIMARY KEY CHECK (length (id) = 32),"
  "  name          TEXT NOT NULL,"
  "  blend_file    TEXT NOT NULL,"
  "  output_dir    TEXT NOT NULL,"
  "  work_dir      TEXT NOT NULL,"
  "  state         TEXT NOT NULL CHECK (state IN ('preparing', 'announcing', 'running',"
  "                  'verifying', 'assembling', 'paying', 'done', 'failed', 'cancelled')),"
  "  error         TEXT,"
  "  settings      TEXT NOT NULL,"
  "  plan          TEXT NOT NULL,"
  "  max_cost      BLOB NOT NULL CHECK (length (max_cost) = 32),"
  "  announcement  BLOB,"
  "  next_attempt  INTEGER NOT NULL CHECK (next_attempt >= 1),"
  "  created_at    INTEGER NOT NULL,"
  "  updated_at    INTEGER NOT NULL"
  ") STRICT;"
  "CREATE INDEX render_jobs_by_created ON render_jobs (created_at);"
  "CREATE TABLE render_job_resources ("
  "  job_id    TEXT NOT NULL REFERENCES render_jobs (id) ON DELETE CASCADE,"
  "  position  INTEGER NOT NULL CHECK (position >= 0),"
  "  name      TEXT NOT NULL,"
  "  path      TEXT NOT NULL,"
  "  sha256    BLOB NOT NULL CHECK (length (sha256) = 32),"
  "  size      INTEGER NOT NULL CHECK (size >= 0),"
  "  PRIMARY KEY (job_id, position)"
  ") STRICT, WITHOUT ROWID;"
  "CREATE TABLE render_subtasks ("
  "  job_id    TEXT NOT NULL REFERENCES render_jobs (id) ON DELETE CASCADE,"
  "  idx       INTEGER NOT NULL CHECK (idx >= 0),"
  "  state     TEXT NOT NULL CHECK (state IN ('pending', 'assigned', 'rendering',"
  "              'verifying', 'done')),"
  "  attempt   INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),"
  "  done_at   INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (job_id, idx)"
  ") STRICT, WITHOUT ROWID;"
  "CREATE TABLE render_assignments ("
  "  job_id        TEXT NOT NULL REFERENCES render_jobs (id) ON DELETE CASCADE,"
  "  attempt       INTEGER NOT NULL CHECK (attempt >= 1),"
  "  subtask       INTEGER NOT NULL CHECK (subtask >= 0),"
  "  provider      BLOB NOT NULL CHECK (length (provider) = 20),"
  "  state         TEXT NOT NULL CHECK (state IN ('proposed', 'accepted', 'delivered',"
  "                  'approved', 'rejected', 'refused', 'failed', 'timed-out', 'cancelled')),"
  "  terms         BLOB NOT NULL CHECK (length (terms) > 0),"
  "  terms_digest  BLOB NOT NULL CHECK (length (terms_digest) = 32),"
  "  reason        TEXT,"
  "  proposed_at   INTEGER NOT NULL,"
  "  accepted_at   INTEGER NOT NULL DEFAULT 0,"
  "  finished_at   INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (job_id, attempt)"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX render_assignments_by_terms ON render_assignments (terms_digest);"
  "CREATE TABLE render_results ("
  "  job_id       TEXT NOT NULL,"
  "  attempt      INTEGER NOT NULL,"
  "  outputs      TEXT NOT NULL,"
  "  cpu_ms       INTEGER NOT NULL CHECK (cpu_ms >= 0),"
  "  received_at  INTEGER NOT NULL,"
  "  owed         BLOB CHECK (owed IS NULL OR length (owed) = 32),"
  "  PRIMARY KEY (job_id, attempt),"
  "  FOREIGN KEY (job_id, attempt) REFERENCES render_assignments (job_id, attempt)"
  "    ON DELETE CASCADE"
  ") STRICT, WITHOUT ROWID;"
  "CREATE TABLE render_payments ("
  "  job_id       TEXT NOT NULL,"
  "  attempt      INTEGER NOT NULL,"
  "  payment_key  TEXT NOT NULL,"
  "  payment_id   INTEGER,"
  "  tx_hash      BLOB CHECK (tx_hash IS NULL OR length (tx_hash) = 32),"
  "  notified     INTEGER NOT NULL DEFAULT 0 CHECK (notified IN (0, 1)),"
  "  PRIMARY KEY (job_id, attempt),"
  "  FOREIGN KEY (job_id, attempt) REFERENCES render_assignments (job_id, attempt)"
  "    ON DELETE CASCADE"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX render_payments_by_key ON render_payments (payment_key);";

/* What this node earned as a provider (market/kiln-earnings.c), one row per terms digest: the
 * task, the requestor and the amount it approved (decimal base units, as the APPROVE message
 * carries it, readable in the sqlite3 shell); the transaction it says paid it; and, once the
 * chain shows that transaction paying this node enough, the block and time it was confirmed.
 * reason says why a payment is not confirmed (yet). */
static const char earnings_v1[] =
  "CREATE TABLE earnings ("
  "  terms            BLOB PRIMARY KEY CHECK (length (terms) = 32),"
  "  task_id          BLOB NOT NULL CHECK (length (task_id) = 32),"
  "  requestor        BLOB NOT NULL CHECK (length (requestor) = 20),"
  "  amount           TEXT NOT NULL CHECK (amount <> '' AND amount NOT GLOB '*[^0-9]*'"
  "                                        AND length (amount) <= 78),"
  "  approved_at      INTEGER NOT NULL,"
  "  state            TEXT NOT NULL CHECK (state IN ('approved', 'paid', 'confirmed')),"
  "  tx_hash          BLOB CHECK (tx_hash IS NULL OR length (tx_hash) = 32),"
  "  paid_at          INTEGER NOT NULL DEFAULT 0,"
  "  confirmed_block  INTEGER CHECK (confirmed_block IS NULL OR confirmed_block >= 0),"
  "  confirmed_at     INTEGER NOT NULL DEFAULT 0,"
  "  reason           TEXT,"
  "  CHECK ((state = 'approved') = (tx_hash IS NULL)),"
  "  CHECK ((state = 'confirmed') = (confirmed_block IS NOT NULL))"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX earnings_by_tx ON earnings (tx_hash) WHERE tx_hash IS NOT NULL;"
  "CREATE INDEX earnings_by_approved ON earnings (approved_at);";

static const KilnStoreMigration migrations[] = {
  { "payment ledger", ledger_v1 },
  { "peer table", peers_v1 },
  { "market reputation", market_reputation_v1 },
  { "banned peers", banned_peers_v1 },
  { "render jobs", render_jobs_v1 },
  { "earnings", earnings_v1 },
};

const KilnStoreMigration *
kiln_store_schema_get_migrations (guint *n_migrations)
{
  g_assert (n_migrations != NULL);

  *n_migrations = G_N_ELEMENTS (migrations);
  return migrations;
}

static gboolean
read_user_version (sqlite3  *db,
                   gint64   *out,
                   GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = kiln_store_prepare (db, "PRAGMA user_version", error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return kiln_store_set_error (error, db, rc, _("Could not read the schema version"));

  *out = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static gboolean
apply_steps (sqlite3                  *db,
             const char               *path,
             const KilnStoreMigration *migrations_,
             guint                     n_migrations,
             GError                  **error)
{
  g_autofree char *set_version = NULL;
  gint64 version = 0;

  /* Read inside the transaction: another process may have migrated in the meantime. */
  if (!read_user_version (db, &version, error))
    return FALSE;

  if (version < 0 || version > n_migrations)
    return (g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_TOO_NEW,
                         _("The database “%s” was written by a newer version of Kiln "
                           "(schema %" PRId64 ", this version knows up to %u). "
                           "Update Kiln to use it."),
                         path, version, n_migrations), FALSE);

  if (version == n_migrations)
    return TRUE;

  for (guint i = version; i < n_migrations; i++)
    {
      if (!kiln_store_exec (db, migrations_[i].sql, error))
        {
          g_prefix_error (error, _("Could not update the database “%s” to schema %u (%s): "),
                          path, i + 1, migrations_[i].owner);
          return FALSE;
        }
    }

  g_debug ("Store: %s updated from schema %" PRId64 " to %u",
           path, version, n_migrations);

  set_version = g_strdup_printf ("PRAGMA user_version = %u", n_migrations);
  return kiln_store_exec (db, set_version, error);
}

gboolean
kiln_store_migrate (sqlite3                  *db,
                    const char               *path,
                    const KilnStoreMigration *migrations_,
                    guint                     n_migrations,
                    GError                  **error)
{
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (migrations_ != NULL || n_migrations == 0, FALSE);

  if (!kiln_store_exec (db, "BEGIN IMMEDIATE", error))
    return FALSE;

  if (!apply_steps (db, path, migrations_, n_migrations, &local_error))
    {
      if (!sqlite3_get_autocommit (db))
        kiln_store_exec (db, "ROLLBACK", NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!kiln_store_exec (db, "COMMIT", error))
    {
      if (!sqlite3_get_autocommit (db))
        kiln_store_exec (db, "ROLLBACK", NULL);
      return FALSE;
    }

  return TRUE;
}
