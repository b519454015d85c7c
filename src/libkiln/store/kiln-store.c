/* kiln-store.c: the engine's SQLite database, owned by one worker thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>

#include <glib/gi18n-lib.h>

#include "kiln-store.h"
#include "kiln-store-private.h"

/* One thread owns the connection: it opens the file, runs every statement and closes it, so
 * SQLite needs no locking of its own (SQLITE_OPEN_NOMUTEX) and calls never interleave inside
 * a transaction. Callers queue jobs; the worker takes them in order, wraps each in
 * BEGIN IMMEDIATE … COMMIT and hands the outcome back to the caller's main context (async)
 * or wakes the waiting caller (sync).
 *
 * Durability: journal_mode=WAL with synchronous=FULL. With FULL, SQLite syncs the WAL at
 * every COMMIT, so a transaction that has been reported as committed survives a power cut;
 * NORMAL would sync only at checkpoints and could lose the last payments written before the
 * cut, which the ledger cannot allow (a payment must be on disk before it is broadcast). The
 * cost is one fsync per transaction, on this thread, never on the main loop. */

/* How long a statement waits for another process (the CLI next to the app) to release the
 * database before giving up with KILN_STORE_ERROR_BUSY. */
#define BUSY_TIMEOUT_MS 10000

typedef enum
{
  JOB_RUN,
  JOB_OPEN,
  JOB_QUIT,
} JobKind;

typedef struct
{
  JobKind        kind;
  KilnStoreFunc  func;
  gpointer       data;
  GCancellable  *cancellable;

  /* Async calls: the outcome goes back to the task's context. */
  GTask         *task;

  /* Sync calls: the caller waits on @cond until @done. */
  GMutex         mutex;
  GCond          cond;
  gboolean       done;

  gboolean       ok;
  GError        *error;
} StoreJob;

struct _KilnStore
{
  GObject       parent_instance;

  char         *path;
  GAsyncQueue  *queue;        /* StoreJob */
  GThread      *thread;

  /* Touched only by the worker thread. */
  sqlite3      *db;
};

static void kiln_store_initable_iface_init       (GInitableIface      *iface);
static void kiln_store_async_initable_iface_init (GAsyncInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KilnStore, kiln_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      kiln_store_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_INITABLE,
                                                      kiln_store_async_initable_iface_init))

G_DEFINE_QUARK (kiln-store-error-quark, kiln_store_error)

enum {
  PROP_0,
  PROP_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Opening and closing, on the worker thread */

static gboolean
open_error (KilnStore  *self,
            GError     *cause,
            GError    **error)
{
  if (g_error_matches (cause, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT))
    g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
                 _("“%s” is not a Kiln database, or it is damaged. Move it out of the way to "
                   "start with an empty one, or restore it from a backup: it holds Kiln’s "
                   "payment records."),
                 self->path);
  else if (cause->domain == KILN_STORE_ERROR && cause->code == KILN_STORE_ERROR_TOO_NEW)
    g_propagate_error (error, g_error_copy (cause));
  else
    g_set_error (error, cause->domain, cause->code,
                 _("Could not open the database “%s”. %s"), self->path, cause->message);

  g_error_free (cause);
  return FALSE;
}

static gboolean
query_journal_mode (sqlite3  *db,
                    GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *mode;
  int rc;

  stmt = kiln_store_prepare (db, "PRAGMA journal_mode = WAL", error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return kiln_store_set_error (error, db, rc, _("Could not read the database"));

  /* A file system without shared memory keeps the rollback journal; with synchronous=FULL
   * that is just as durable, only slower. */
  mode = (const char *) sqlite3_column_text (stmt, 0);
  if (g_strcmp0 (mode, "wal") != 0)
    g_debug ("Store: journal mode is %s, not wal", mode);

  return TRUE;
}

static gboolean
worker_open (KilnStore  *self,
             GError    **error)
{
  g_autofree char *folder = g_path_get_dirname (self->path);
  GError *local_error = NULL;
  const KilnStoreMigration *migrations;
  guint n_migrations;
  int rc;

  g_assert (self->db == NULL);

  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create the folder “%s” for Kiln’s database: %s"),
                   folder, g_strerror (saved_errno));
      return FALSE;
    }

  rc = sqlite3_open_v2 (self->path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                        SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    kiln_store_set_error (&local_error, self->db, rc, _("Could not open the database file"));

  if (local_error == NULL)
    {
      sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);
      sqlite3_extended_result_codes (self->db, TRUE);
    }

  if (local_error == NULL &&
      query_journal_mode (self->db, &local_error) &&
      kiln_store_exec (self->db, "PRAGMA synchronous = FULL", &local_error) &&
      kiln_store_exec (self->db, "PRAGMA foreign_keys = ON", &local_error))
    {
      migrations = kiln_store_schema_get_migrations (&n_migrations);
      kiln_store_migrate (self->db, self->path, migrations, n_migrations, &local_error);
    }

  if (local_error != NULL)
    {
      g_clear_pointer (&self->db, sqlite3_close_v2);
      return open_error (self, local_error, error);
    }

  return TRUE;
}

static void
worker_close (KilnStore *self)
{
  int rc;

  if (self->db == NULL)
    return;

  /* Leaves the WAL checkpointed and removes it when this was the last connection. */
  rc = sqlite3_close (self->db);
  if (rc != SQLITE_OK)
    {
      g_warning ("Store: closing %s: %s; statements were left unfinalized",
                 self->path, sqlite3_errstr (rc));
      sqlite3_close_v2 (self->db);
    }
  self->db = NULL;
}

/* Running jobs, on the worker thread */

static gboolean
worker_run_transaction (KilnStore      *self,
                        KilnStoreFunc   func,
                        gpointer        data,
                        GError        **error)
{
  GError *local_error = NULL;

  g_assert (self->db != NULL);

  if (!kiln_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;

  if (!func (self->db, data, &local_error))
    {
      if (local_error == NULL)
        {
          g_critical ("A store function failed without setting an error");
          local_error = g_error_new_literal (KILN_STORE_ERROR, KILN_STORE_ERROR_FAILED,
                                             _("Could not update the database"));
        }
      if (!sqlite3_get_autocommit (self->db))
        kiln_store_exec (self->db, "ROLLBACK", NULL);
      g_propagate_error (error, local_error);
      return FALSE;
    }

  g_assert (local_error == NULL);

  if (sqlite3_get_autocommit (self->db))
    {
      g_critical ("A store function ended its transaction itself");
      g_set_error_literal (error, KILN_STORE_ERROR, KILN_STORE_ERROR_FAILED,
                           _("Could not update the database"));
      return FALSE;
    }

  if (!kiln_store_exec (self->db, "COMMIT", error))
    {
      if (!sqlite3_get_autocommit (self->db))
        kiln_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }

  return TRUE;
}

static void
store_job_free (StoreJob *job)
{
  g_clear_object (&job->task);
  g_clear_object (&job->cancellable);
  g_clear_error (&job->error);
  g_mutex_clear (&job->mutex);
  g_cond_clear (&job->cond);
  g_free (job);
}

static StoreJob *
store_job_new (JobKind        kind,
               KilnStoreFunc  func,
               gpointer       data,
               GCancellable  *cancellable)
{
  StoreJob *job = g_new0 (StoreJob, 1);

  job->kind = kind;
  job->func = func;
  job->data = data;
  job->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  g_mutex_init (&job->mutex);
  g_cond_init (&job->cond);

  return job;
}

/* In the caller's main context: the task (and with it the caller's data and the store) is
 * released there, never on the worker thread. */
static gboolean
store_job_return (gpointer data)
{
  StoreJob *job = data;

  if (job->ok)
    g_task_return_boolean (job->task, TRUE);
  else
    g_task_return_error (job->task, g_steal_pointer (&job->error));

  store_job_free (job);
  return G_SOURCE_REMOVE;
}

static void
store_job_complete (StoreJob *job)
{
  if (job->task != NULL)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, store_job_return, job, NULL);
      g_source_set_static_name (source, "[kiln] store job result");
      g_source_attach (source, g_task_get_context (job->task));
      return;
    }

  g_mutex_lock (&job->mutex);
  job->done = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->mutex);
}

static gpointer
worker_main (gpointer data)
{
  KilnStore *self = data;

  for (;;)
    {
      StoreJob *job = g_async_queue_pop (self->queue);

      if (job->kind == JOB_QUIT)
        {
          store_job_free (job);
          break;
        }

      if (g_cancellable_set_error_if_cancelled (job->cancellable, &job->error))
        job->ok = FALSE;
      else if (job->kind == JOB_OPEN)
        job->ok = worker_open (self, &job->error);
      else if (self->db == NULL)
        job->ok = (g_set_error (&job->error, KILN_STORE_ERROR, KILN_STORE_ERROR_OPEN,
                                _("The database “%s” is not open."), self->path), FALSE);
      else
        job->ok = worker_run_transaction (self, job->func, job->data, &job->error);

      store_job_complete (job);
    }

  worker_close (self);
  return NULL;
}

/* Queues @job and waits for the worker to finish it. */
static gboolean
store_job_run_sync (KilnStore  *self,
                    StoreJob   *job,
                    GError    **error)
{
  gboolean ok;

  g_async_queue_push (self->queue, job);

  g_mutex_lock (&job->mutex);
  while (!job->done)
    g_cond_wait (&job->cond, &job->mutex);
  g_mutex_unlock (&job->mutex);

  ok = job->ok;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&job->error));
  store_job_free (job);

  return ok;
}

/* GObject */

static gboolean
kiln_store_initable_init (GInitable     *initable,
                          GCancellable  *cancellable,
                          GError       **error)
{
  KilnStore *self = KILN_STORE (initable);

  g_return_val_if_fail (self->thread == NULL, FALSE);

  if (self->path == NULL || self->path[0] == '\0')
    {
      g_set_error_literal (error, KILN_STORE_ERROR, KILN_STORE_ERROR_OPEN,
                           _("No database file was given."));
      return FALSE;
    }

  self->thread = g_thread_try_new ("kiln-store", worker_main, self, error);
  if (self->thread == NULL)
    return FALSE;

  return store_job_run_sync (self, store_job_new (JOB_OPEN, NULL, NULL, cancellable), error);
}

static void
kiln_store_initable_iface_init (GInitableIface *iface)
{
  iface->init = kiln_store_initable_init;
}

static void
kiln_store_async_initable_iface_init (GAsyncInitableIface *iface)
{
  /* The default implementation runs kiln_store_initable_init() in a thread. */
}

static void
kiln_store_finalize (GObject *object)
{
  KilnStore *self = (KilnStore *) object;

  if (self->thread != NULL)
    {
      /* Jobs hold a reference through their task or their waiting caller, so none is left
       * when the last reference goes, and it never goes on the worker thread itself. */
      g_assert (g_thread_self () != self->thread);
      g_async_queue_push (self->queue, store_job_new (JOB_QUIT, NULL, NULL, NULL));
      g_thread_join (g_steal_pointer (&self->thread));
    }

  g_assert (self->db == NULL);
  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (kiln_store_parent_class)->finalize (object);
}

static void
kiln_store_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  KilnStore *self = KILN_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_store_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  KilnStore *self = KILN_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_assert (self->path == NULL);
      self->path = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_store_class_init (KilnStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kiln_store_finalize;
  object_class->get_property = kiln_store_get_property;
  object_class->set_property = kiln_store_set_property;

  /**
   * KilnStore:path:
   *
   * The database file.
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_store_init (KilnStore *self)
{
  self->queue = g_async_queue_new ();
}

/* Public API */

KilnStore *
kiln_store_new (const char    *path,
                GCancellable  *cancellable,
                GError       **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (KILN_TYPE_STORE, cancellable, error, "path", path, NULL);
}

void
kiln_store_new_async (const char          *path,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_return_if_fail (path != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  g_async_initable_new_async (KILN_TYPE_STORE, G_PRIORITY_DEFAULT, cancellable,
                              callback, user_data,
                              "path", path,
                              NULL);
}

KilnStore *
kiln_store_new_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_autoptr(GObject) source = NULL;
  GObject *object;

  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  source = g_async_result_get_source_object (result);
  object = g_async_initable_new_finish (G_ASYNC_INITABLE (source), result, error);

  return object != NULL ? KILN_STORE (object) : NULL;
}

const char *
kiln_store_get_path (KilnStore *self)
{
  g_return_val_if_fail (KILN_IS_STORE (self), NULL);

  return self->path;
}

guint
kiln_store_get_schema_version (void)
{
  guint n_migrations;

  kiln_store_schema_get_migrations (&n_migrations);
  return n_migrations;
}

void
kiln_store_run_async (KilnStore           *self,
                      KilnStoreFunc        func,
                      gpointer             data,
                      GDestroyNotify       destroy,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  StoreJob *job;

  g_return_if_fail (KILN_IS_STORE (self));
  g_return_if_fail (func != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (self->thread != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_store_run_async);
  g_task_set_task_data (task, data, destroy);
  /* A transaction that ran is reported as it ended, even if @cancellable fired meanwhile:
   * the caller must know whether a payment was written. */
  g_task_set_check_cancellable (task, FALSE);

  job = store_job_new (JOB_RUN, func, data, cancellable);
  job->task = g_steal_pointer (&task);
  g_async_queue_push (self->queue, job);
}

gboolean
kiln_store_run_finish (KilnStore     *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (KILN_IS_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_store_run_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
run_task_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (kiln_store_run_finish (KILN_STORE (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
kiln_store_run_task (KilnStore     *self,
                     KilnStoreFunc  func,
                     GTask         *task)
{
  g_return_if_fail (KILN_IS_STORE (self));
  g_return_if_fail (func != NULL);
  g_return_if_fail (G_IS_TASK (task));

  g_task_set_check_cancellable (task, FALSE);
  kiln_store_run_async (self, func, g_task_get_task_data (task), NULL,
                        g_task_get_cancellable (task), run_task_done, task);
}

gboolean
kiln_store_run_sync (KilnStore     *self,
                     KilnStoreFunc  func,
                     gpointer       data,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_return_val_if_fail (KILN_IS_STORE (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (self->thread != NULL, FALSE);
  /* The worker would wait for itself. */
  g_return_val_if_fail (g_thread_self () != self->thread, FALSE);

  return store_job_run_sync (self, store_job_new (JOB_RUN, func, data, cancellable), error);
}
