/* test-store.c: the SQLite store: opening, migrations, refusals, transactions, its thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "libkiln.h"
#include "kiln-store-private.h"

typedef struct
{
  char *dir;
  char *path;     /* dir/data/kiln.db: the data folder does not exist yet */
} Fixture;

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("kiln-store-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "data", KILN_STORE_FILE_NAME, NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->path);
}

static KilnStore *
open_store (const char *path)
{
  g_autoptr(GError) error = NULL;
  KilnStore *store = kiln_store_new (path, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (KILN_IS_STORE (store));
  return store;
}

/* A second connection of the test's own, to look at the file from outside. */
static sqlite3 *
open_raw (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                    NULL), ==, SQLITE_OK);
  return db;
}

static gint64
query_int (sqlite3    *db,
           const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  return value;
}

static char *
query_text (sqlite3    *db,
            const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

/* KilnStoreFuncs used below */

typedef struct
{
  const char *sql;
  gboolean    fail_after;
} ExecData;

static gboolean
exec_func (sqlite3   *db,
           gpointer   data,
           GError   **error)
{
  ExecData *exec = data;

  if (!kiln_store_exec (db, exec->sql, error))
    return FALSE;

  if (exec->fail_after)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "refused by the test");
      return FALSE;
    }

  return TRUE;
}

static gboolean
read_int_func (sqlite3   *db,
               gpointer   data,
               GError   **error)
{
  gint64 *value = data;
  g_autoptr(sqlite3_stmt) stmt = kiln_store_prepare (db, "SELECT next_nonce FROM nonces", error);
  int rc;

  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    *value = -1;
  else if (rc == SQLITE_ROW)
    *value = sqlite3_column_int64 (stmt, 0);
  else
    return kiln_store_set_error (error, db, rc, "reading");

  return TRUE;
}

/* Opening */

static void
test_open_creates (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(KilnStore) store = NULL;
  g_autofree char *folder = g_path_get_dirname (fixture->path);
  g_autofree char *mode = NULL;
  sqlite3 *db;
  struct stat st;

  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));

  store = open_store (fixture->path);
  g_assert_cmpstr (kiln_store_get_path (store), ==, fixture->path);

  g_assert_cmpint (g_stat (folder, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_true (g_file_test (fixture->path, G_FILE_TEST_IS_REGULAR));

  db = open_raw (fixture->path);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, kiln_store_get_schema_version ());
  g_assert_cmpint (kiln_store_get_schema_version (), >=, 1);
  mode = query_text (db, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                  "name IN ('payments', 'payment_recipients', "
                                  "'payment_attempts', 'nonces')"), ==, 4);
  sqlite3_close (db);

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
opened_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  KilnStore **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = kiln_store_new_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_open_async (Fixture       *fixture,
                 gconstpointer  user_data)
{
  KilnStore *store = NULL;

  kiln_store_new_async (fixture->path, NULL, opened_cb, &store);
  while (store == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_true (KILN_IS_STORE (store));
  g_assert_true (g_file_test (fixture->path, G_FILE_TEST_IS_REGULAR));

  /* The opening task may still hold a reference on its thread for a moment. */
  g_object_add_weak_pointer (G_OBJECT (store), (gpointer *) &store);
  g_object_unref (store);
  for (guint i = 0; store != NULL && i < 5000; i++)
    g_usleep (1000);
  g_assert_null (store);
}

static void
test_reopen_keeps_data (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  ExecData insert = {
    "INSERT INTO nonces VALUES (1, x'0000000000000000000000000000000000000001', 42)", FALSE
  };
  KilnStore *store;
  gint64 value = 0;
  sqlite3 *db;

  store = open_store (fixture->path);
  g_assert_true (kiln_store_run_sync (store, exec_func, &insert, NULL, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (store);

  /* The migrations are not applied again (their CREATE TABLEs would fail) and the row is
   * still there. */
  store = open_store (fixture->path);
  g_assert_true (kiln_store_run_sync (store, read_int_func, &value, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (value, ==, 42);
  g_assert_finalize_object (store);

  db = open_raw (fixture->path);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, kiln_store_get_schema_version ());
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM nonces"), ==, 1);
  sqlite3_close (db);
}

static void
test_refuses_newer (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = g_path_get_dirname (fixture->path);
  g_autofree char *set_version = NULL;
  KilnStore *store;
  sqlite3 *db;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  db = open_raw (fixture->path);
  set_version = g_strdup_printf ("CREATE TABLE future (x); PRAGMA user_version = %u",
                                 kiln_store_get_schema_version () + 1);
  g_assert_cmpint (sqlite3_exec (db, set_version, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = kiln_store_new (fixture->path, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, fixture->path));
  g_test_message ("%s", error->message);

  /* Nothing was changed. */
  db = open_raw (fixture->path);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==,
                   kiln_store_get_schema_version () + 1);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sqlite_schema WHERE name = 'payments'"),
                   ==, 0);
  sqlite3_close (db);
}

static void
test_refuses_corrupt (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) junk = g_string_new (NULL);
  g_autofree char *folder = g_path_get_dirname (fixture->path);
  g_autofree char *after = NULL;
  KilnStore *store;

  for (guint i = 0; i < 200; i++)
    g_string_append (junk, "This is a text file, not a database.\n");
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_file_set_contents (fixture->path, junk->str, junk->len, &error);
  g_assert_no_error (error);

  store = kiln_store_new (fixture->path, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, fixture->path));
  g_test_message ("%s", error->message);

  /* The file is left as it was for the person to look at. */
  g_file_get_contents (fixture->path, &after, NULL, NULL);
  g_assert_cmpstr (after, ==, junk->str);
}

static void
test_refuses_unwritable_folder (Fixture       *fixture,
                                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *blocker = g_build_filename (fixture->dir, "data", NULL);
  KilnStore *store;

  /* A file where the data folder should be. */
  g_file_set_contents (blocker, "", 0, &error);
  g_assert_no_error (error);

  store = kiln_store_new (fixture->path, NULL, &error);
  g_assert_null (store);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, blocker));
}

/* Migrations, with lists of the test's own */

static void
test_migrate_steps (Fixture       *fixture,
                    gconstpointer  user_data)
{
  static const KilnStoreMigration steps[] = {
    { "one", "CREATE TABLE log (step INTEGER); INSERT INTO log VALUES (1);" },
    { "two", "INSERT INTO log VALUES (2);" },
    { "three", "INSERT INTO log VALUES (3);" },
  };
  static const KilnStoreMigration broken[] = {
    { "one", "CREATE TABLE log (step INTEGER); INSERT INTO log VALUES (1);" },
    { "two", "INSERT INTO log VALUES (2);" },
    { "three", "INSERT INTO log VALUES (3);" },
    { "four", "CREATE TABLE extra (x); INSERT INTO log VALUES (4);" },
    { "five", "INSERT INTO no_such_table VALUES (5);" },
  };
  g_autoptr(GError) error = NULL;
  sqlite3 *db = open_raw (":memory:");

  g_assert_true (kiln_store_migrate (db, "memory", steps, 2, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, 2);
  g_assert_cmpint (query_int (db, "SELECT group_concat (step, '') FROM log"), ==, 12);

  /* Again: nothing to do. Then one more step: only it runs. */
  g_assert_true (kiln_store_migrate (db, "memory", steps, 2, &error));
  g_assert_true (kiln_store_migrate (db, "memory", steps, 3, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, 3);
  g_assert_cmpint (query_int (db, "SELECT group_concat (step, '') FROM log"), ==, 123);

  /* A failing step undoes the steps before it in the same run. */
  g_assert_false (kiln_store_migrate (db, "memory", broken, 5, &error));
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "five"));
  g_clear_error (&error);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, 3);
  g_assert_cmpint (query_int (db, "SELECT group_concat (step, '') FROM log"), ==, 123);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sqlite_schema WHERE name = 'extra'"),
                   ==, 0);

  /* Fewer steps than the database has: newer than this list. */
  g_assert_false (kiln_store_migrate (db, "memory", steps, 1, &error));
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_TOO_NEW);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, 3);

  sqlite3_close (db);
}

/* Transactions */

static void
test_run_rolls_back (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(KilnStore) store = open_store (fixture->path);
  g_autoptr(GError) error = NULL;
  ExecData refused = {
    "INSERT INTO nonces VALUES (1, x'0000000000000000000000000000000000000001', 7)", TRUE
  };
  ExecData violates = {
    "INSERT INTO nonces VALUES (1, x'0000000000000000000000000000000000000002', 8);"
    "INSERT INTO nonces VALUES (1, x'00', 9)", FALSE
  };
  gint64 value = 0;

  g_assert_false (kiln_store_run_sync (store, exec_func, &refused, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);

  /* A CHECK constraint fails in the second statement: the first is undone too. */
  g_assert_false (kiln_store_run_sync (store, exec_func, &violates, NULL, &error));
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_FAILED);
  g_clear_error (&error);

  g_assert_true (kiln_store_run_sync (store, read_int_func, &value, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (value, ==, -1);

  g_assert_finalize_object (g_steal_pointer (&store));
}

static gboolean
never_called_func (sqlite3   *db,
                   gpointer   data,
                   GError   **error)
{
  g_assert_not_reached ();
}

static void
cancelled_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_false (kiln_store_run_finish (KILN_STORE (object), result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  *done = TRUE;
}

static void
test_run_cancelled (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(KilnStore) store = open_store (fixture->path);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;

  g_cancellable_cancel (cancellable);

  g_assert_false (kiln_store_run_sync (store, never_called_func, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  kiln_store_run_async (store, never_called_func, NULL, NULL, cancellable, cancelled_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  g_assert_finalize_object (g_steal_pointer (&store));
}

/* Concurrency: every job reads the largest value so far and inserts the next one under a
 * new sender. Unless jobs run one at a time, two of them read the same value and the values
 * are not 0..N-1. */

#define N_ASYNC        100
#define N_SYNC_THREADS 3
#define N_SYNC_EACH    20

typedef struct
{
  GThread  *main_thread;
  GMutex    mutex;
  GThread  *worker;         /* the thread that ran the jobs */
  guint     next_sender;
  guint     started;
  guint     finished;
  KilnStore *store;
  GArray   *seen;           /* gint64 values, in the order the jobs ran */
} Serial;

typedef struct
{
  Serial *serial;
  guint   sender;
  gint64  value;
} SerialJob;

static void
note_thread (Serial *serial)
{
  g_assert_true (g_thread_self () != serial->main_thread);

  g_mutex_lock (&serial->mutex);
  if (serial->worker == NULL)
    serial->worker = g_thread_self ();
  g_assert_true (serial->worker == g_thread_self ());
  g_mutex_unlock (&serial->mutex);
}

static gboolean
next_value_func (sqlite3   *db,
                 gpointer   data,
                 GError   **error)
{
  SerialJob *job = data;
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  guint8 sender[20] = { 0, };
  int rc;

  note_thread (job->serial);

  select = kiln_store_prepare (db, "SELECT coalesce (max (next_nonce), -1) + 1 FROM nonces",
                               error);
  if (select == NULL)
    return FALSE;
  rc = sqlite3_step (select);
  if (rc != SQLITE_ROW)
    return kiln_store_set_error (error, db, rc, "reading");
  job->value = sqlite3_column_int64 (select, 0);

  /* Give another thread every chance to interleave if it could. */
  g_thread_yield ();

  memcpy (sender, &job->sender, sizeof job->sender);
  insert = kiln_store_prepare (db, "INSERT INTO nonces VALUES (1, ?, ?)", error);
  if (insert == NULL)
    return FALSE;
  sqlite3_bind_blob (insert, 1, sender, sizeof sender, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (insert, 2, job->value);
  return kiln_store_step_done (insert, error);
}

static void serial_start_async (Serial *serial);

static void
serial_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Serial *serial = user_data;
  g_autoptr(GError) error = NULL;
  SerialJob *job = g_task_get_task_data (G_TASK (result));

  /* Results come back on the main thread, with the job's data still alive. */
  g_assert_true (g_thread_self () == serial->main_thread);
  g_assert_true (kiln_store_run_finish (KILN_STORE (object), result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (job->value, >=, 0);
  serial->finished++;

  /* Each answer asks again until N_ASYNC jobs were started. */
  serial_start_async (serial);
}

static void
serial_start_async (Serial *serial)
{
  SerialJob *job;

  if (serial->started >= N_ASYNC)
    return;

  job = g_new0 (SerialJob, 1);
  job->serial = serial;
  g_mutex_lock (&serial->mutex);
  job->sender = ++serial->next_sender;
  g_mutex_unlock (&serial->mutex);
  serial->started++;

  kiln_store_run_async (serial->store, next_value_func, job, g_free, NULL,
                        serial_done_cb, serial);
}

static gpointer
serial_sync_thread (gpointer data)
{
  Serial *serial = data;

  for (guint i = 0; i < N_SYNC_EACH; i++)
    {
      g_autoptr(GError) error = NULL;
      SerialJob job = { serial, 0, -1 };

      g_mutex_lock (&serial->mutex);
      job.sender = ++serial->next_sender;
      g_mutex_unlock (&serial->mutex);

      g_assert_true (kiln_store_run_sync (serial->store, next_value_func, &job, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (job.value, >=, 0);
    }

  return NULL;
}

static void
test_run_serializes (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(KilnStore) store = open_store (fixture->path);
  GThread *threads[N_SYNC_THREADS];
  Serial serial = { 0, };
  const guint total = N_ASYNC + N_SYNC_THREADS * N_SYNC_EACH;
  sqlite3 *db;

  serial.main_thread = g_thread_self ();
  serial.store = store;
  g_mutex_init (&serial.mutex);

  /* Ten chains of callbacks on the main loop, three threads calling synchronously. */
  for (guint i = 0; i < 10; i++)
    serial_start_async (&serial);
  for (guint i = 0; i < N_SYNC_THREADS; i++)
    threads[i] = g_thread_new ("test-sync-caller", serial_sync_thread, &serial);

  while (serial.finished < N_ASYNC)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < N_SYNC_THREADS; i++)
    g_thread_join (threads[i]);

  g_assert_nonnull (serial.worker);
  g_assert_true (serial.worker != serial.main_thread);
  g_assert_cmpuint (serial.started, ==, N_ASYNC);

  db = open_raw (fixture->path);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM nonces"), ==, total);
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT next_nonce) FROM nonces"), ==, total);
  g_assert_cmpint (query_int (db, "SELECT min (next_nonce) FROM nonces"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT max (next_nonce) FROM nonces"), ==, total - 1);
  sqlite3_close (db);

  g_mutex_clear (&serial.mutex);
  g_assert_finalize_object (g_steal_pointer (&store));
}

/* The data of an async call is freed on the caller's thread after its callback. */

typedef struct
{
  GThread  *main_thread;
  gboolean  callback_done;
  gboolean  freed;
} Lifetime;

static gboolean
nothing_func (sqlite3   *db,
              gpointer   data,
              GError   **error)
{
  Lifetime *lifetime = data;

  g_assert_true (g_thread_self () != lifetime->main_thread);
  return TRUE;
}

static void
lifetime_free (gpointer data)
{
  Lifetime *lifetime = data;

  g_assert_true (g_thread_self () == lifetime->main_thread);
  g_assert_true (lifetime->callback_done);
  lifetime->freed = TRUE;
}

static void
lifetime_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Lifetime *lifetime = user_data;

  g_assert_true (kiln_store_run_finish (KILN_STORE (object), result, NULL));
  g_assert_false (lifetime->freed);
  lifetime->callback_done = TRUE;
}

static void
test_run_data_lifetime (Fixture       *fixture,
                        gconstpointer  user_data)
{
  KilnStore *store = open_store (fixture->path);
  Lifetime lifetime = { g_thread_self (), FALSE, FALSE };

  kiln_store_run_async (store, nothing_func, &lifetime, lifetime_free, NULL,
                        lifetime_cb, &lifetime);
  /* The caller may drop its reference at once: the call keeps the store alive. */
  g_object_unref (store);

  while (!lifetime.freed)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (lifetime.callback_done);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/kiln/store/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("open/creates", test_open_creates);
  ADD ("open/async", test_open_async);
  ADD ("open/reopen-keeps-data", test_reopen_keeps_data);
  ADD ("open/refuses-newer", test_refuses_newer);
  ADD ("open/refuses-corrupt", test_refuses_corrupt);
  ADD ("open/refuses-unwritable-folder", test_refuses_unwritable_folder);
  ADD ("migrate/steps", test_migrate_steps);
  ADD ("run/rolls-back", test_run_rolls_back);
  ADD ("run/cancelled", test_run_cancelled);
  ADD ("run/serializes", test_run_serializes);
  ADD ("run/data-lifetime", test_run_data_lifetime);

#undef ADD

  return g_test_run ();
}
