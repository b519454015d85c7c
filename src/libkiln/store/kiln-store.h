/* kiln-store.h: the engine's SQLite database, owned by one worker thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

#include "kiln-types.h"

G_BEGIN_DECLS

#define KILN_STORE_ERROR (kiln_store_error_quark ())

typedef enum
{
  KILN_STORE_ERROR_OPEN,        /* the folder or the database file cannot be opened or created */
  KILN_STORE_ERROR_CORRUPT,     /* the file is not an SQLite database or is damaged */
  KILN_STORE_ERROR_TOO_NEW,     /* written by a newer Kiln: its schema version is unknown here */
  KILN_STORE_ERROR_BUSY,        /* another process holds the database for too long */
  KILN_STORE_ERROR_FULL,        /* the disk is full */
  KILN_STORE_ERROR_FAILED,      /* any other SQLite failure */
  KILN_STORE_ERROR_NOT_FOUND,   /* no such record */
  KILN_STORE_ERROR_INVALID,     /* a request the records refuse (wrong state, bad values) */
  KILN_STORE_ERROR_CONFLICT,    /* a different record already exists under the same key */
} KilnStoreError;

GQuark kiln_store_error_quark (void);

/* The database's file name inside Kiln's data folder. */
#define KILN_STORE_FILE_NAME "kiln.db"

/* Work for the worker thread. It runs inside a transaction (BEGIN IMMEDIATE … COMMIT, or
 * ROLLBACK when it returns FALSE) and must neither begin nor end transactions itself. It
 * returns FALSE with @error set on failure. */
typedef gboolean (*KilnStoreFunc) (sqlite3   *db,
                                   gpointer   data,
                                   GError   **error);

#define KILN_TYPE_STORE (kiln_store_get_type ())

G_DECLARE_FINAL_TYPE (KilnStore, kiln_store, KILN, STORE, GObject)

/* Opens (creating it and its folder, mode 0700, when missing) the database at @path, usually
 * DATA_DIR/KILN_STORE_FILE_NAME, and brings its schema up to date. Errors name the file:
 * KILN_STORE_ERROR_CORRUPT for a file that is not a database, KILN_STORE_ERROR_TOO_NEW for one
 * written by a newer Kiln, KILN_STORE_ERROR_OPEN when it cannot be created or read. */
KilnStore  *kiln_store_new                  (const char           *path,
                                             GCancellable         *cancellable,
                                             GError              **error);
void        kiln_store_new_async            (const char           *path,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
KilnStore  *kiln_store_new_finish           (GAsyncResult         *result,
                                             GError              **error);

const char *kiln_store_get_path             (KilnStore            *self);

/* The schema version this build writes (PRAGMA user_version after opening). */
guint       kiln_store_get_schema_version   (void);

/* Runs @func (@db, @data, error) on the worker thread in one transaction, after every call
 * queued before it. When this reports success the transaction is committed and on disk.
 * @data stays alive until @callback has returned (so the callback may read results from it),
 * then @destroy frees it, on the thread of the caller's main context. Cancelling
 * @cancellable skips @func if it has not started yet; once it has started, its real outcome
 * is reported. */
void        kiln_store_run_async            (KilnStore            *self,
                                             KilnStoreFunc         func,
                                             gpointer              data,
                                             GDestroyNotify        destroy,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    kiln_store_run_finish           (KilnStore            *self,
                                             GAsyncResult         *result,
                                             GError              **error);

/* Runs @func on the worker thread in one transaction with @task's task data as its data, and
 * returns the outcome on @task (TRUE, or the error) in the task's main context. This is how an
 * object over the store implements its own _async calls: it makes @task with its source tag
 * and a request as task data, which the worker fills with results; its _finish then calls
 * g_task_propagate_boolean() and takes the results from the task data. The outcome of a
 * transaction that ran is reported even if the task's cancellable fired meanwhile. Takes
 * @task. */
void        kiln_store_run_task             (KilnStore            *self,
                                             KilnStoreFunc         func,
                                             GTask                *task);
/* The same, blocking the calling thread until @func has run and its transaction has ended.
 * For the command line and tests; never call it from the main loop of the app. */
gboolean    kiln_store_run_sync             (KilnStore            *self,
                                             KilnStoreFunc         func,
                                             gpointer              data,
                                             GCancellable         *cancellable,
                                             GError              **error);

/* Helpers for KilnStoreFunc implementations. */

/* Sets @error from @db's last failure (or @code, an SQLite result code) with @what saying
 * what was being done. Always returns FALSE. */
gboolean      kiln_store_set_error          (GError              **error,
                                             sqlite3              *db,
                                             int                   code,
                                             const char           *what);
/* Prepares @sql; NULL with @error set on failure. */
sqlite3_stmt *kiln_store_prepare            (sqlite3              *db,
                                             const char           *sql,
                                             GError              **error);
/* Runs statements without results. */
gboolean      kiln_store_exec               (sqlite3              *db,
                                             const char           *sql,
                                             GError              **error);
/* Steps @stmt to SQLITE_DONE (for INSERT, UPDATE, DELETE). */
gboolean      kiln_store_step_done          (sqlite3_stmt         *stmt,
                                             GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

G_END_DECLS
