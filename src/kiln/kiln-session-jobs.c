/* kiln-session-jobs.c: the render jobs of the account in use
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The session keeps the account's render jobs in a list, newest first: those started in this
 * run, and those the node's job store kept from before, loaded one after the other once the
 * node is there. A job that had not ended goes on where it stopped (kiln_render_job_load_async()
 * withdraws what was out and announces the rest again); one that had ended is shown as it
 * ended. Loaded jobs check results with Blender, which is found first.
 *
 * Every job gets the wallet as soon as one is connected, so that verified work is paid. The
 * jobs belong to the node: when it is made again (another account, another data folder) they
 * stop and those of the new node are loaded; when the app quits they stop, and go on at the
 * next start.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-session-private.h"

/* --- following the jobs ---------------------------------------------------------------------- */

static void
kiln_session_set_jobs_error (KilnSession  *self,
                             const GError *error)
{
  if (self->jobs_error == NULL && error == NULL)
    return;

  g_clear_error (&self->jobs_error);
  if (error != NULL)
    self->jobs_error = g_error_copy (error);
  _kiln_session_notify (self, PROP_JOBS_ERROR);
}

static void
kiln_session_set_loading_jobs (KilnSession *self,
                               gboolean     loading)
{
  if (self->loading_jobs == !!loading)
    return;

  self->loading_jobs = !!loading;
  _kiln_session_notify (self, PROP_LOADING_JOBS);
}

/* Hands the session's wallet to @job, unless the job is paid on another chain. */
static void
kiln_session_give_wallet (KilnSession   *self,
                          KilnRenderJob *job)
{
  g_autoptr(GError) error = NULL;

  if (self->wallet == NULL)
    return;

  if (!kiln_render_job_set_wallet (job, self->wallet, &error))
    g_debug ("Render job %s keeps waiting for a wallet: %s", kiln_render_job_get_id (job),
             error->message);
}

static void
kiln_session_wallet_changed_cb (KilnSession *self,
                                GParamSpec  *pspec)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->jobs));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KilnRenderJob) job = g_list_model_get_item (G_LIST_MODEL (self->jobs), i);

      kiln_session_give_wallet (self, job);
    }
}

static void
kiln_session_job_state_cb (KilnSession   *self,
                           GParamSpec    *pspec,
                           KilnRenderJob *job)
{
  if (!kiln_render_job_state_is_final (kiln_render_job_get_state (job)))
    return;

  /* Only a job seen running has news to tell. */
  if (!g_hash_table_remove (self->active_jobs, job))
    return;

  _kiln_session_notify (self, PROP_N_ACTIVE_JOBS);
  _kiln_session_emit (self, JOB_ENDED, job);
}

/* Puts @job in the list at @position and follows it. */
static void
kiln_session_add_job (KilnSession   *self,
                      KilnRenderJob *job,
                      guint          position)
{
  g_signal_connect_object (job, "notify::state", G_CALLBACK (kiln_session_job_state_cb),
                           self, G_CONNECT_SWAPPED);
  g_list_store_insert (self->jobs, position, job);

  if (!kiln_render_job_state_is_final (kiln_render_job_get_state (job)))
    {
      g_hash_table_add (self->active_jobs, g_object_ref (job));
      _kiln_session_notify (self, PROP_N_ACTIVE_JOBS);
    }
}

void
_kiln_session_drop_jobs (KilnSession *self)
{
  g_autoptr(GPtrArray) jobs = NULL;
  guint n;

  g_assert (KILN_IS_SESSION (self));

  g_cancellable_cancel (self->jobs_cancellable);
  g_clear_object (&self->jobs_cancellable);
  kiln_session_set_loading_jobs (self, FALSE);

  if (self->jobs == NULL)
    return;

  /* Out of the list first, so that no one shows a job that is stopping. */
  n = g_list_model_get_n_items (G_LIST_MODEL (self->jobs));
  jobs = g_ptr_array_new_full (n, g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (jobs, g_list_model_get_item (G_LIST_MODEL (self->jobs), i));
  g_list_store_remove_all (self->jobs);

  if (g_hash_table_size (self->active_jobs) > 0)
    {
      g_hash_table_remove_all (self->active_jobs);
      _kiln_session_notify (self, PROP_N_ACTIVE_JOBS);
    }

  /* A job stops taking part once disposed; what it did is in the job store already. */
  for (guint i = 0; i < jobs->len; i++)
    {
      KilnRenderJob *job = g_ptr_array_index (jobs, i);

      g_signal_handlers_disconnect_by_data (job, self);
      g_object_run_dispose (G_OBJECT (job));
    }
}

/* --- loading the stored jobs ----------------------------------------------------------------- */

typedef struct
{
  KilnSession  *self;
  GCancellable *cancellable;  /* the load this belongs to: a newer one makes it stale */
  GPtrArray    *records;      /* KilnJobRecord, newest first */
  guint         next;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->cancellable);
  g_clear_pointer (&data->records, g_ptr_array_unref);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

static gboolean
load_data_is_stale (LoadData *data)
{
  return g_cancellable_is_cancelled (data->cancellable) ||
         data->cancellable != data->self->jobs_cancellable;
}

static void kiln_session_load_step (LoadData *data);

static void
kiln_session_job_loaded_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  KilnSession *self = data->self;
  const KilnJobRecord *record = g_ptr_array_index (data->records, data->next);
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GError) error = NULL;

  job = kiln_render_job_load_finish (result, &error);
  if (load_data_is_stale (data))
    {
      /* Loaded for a node that is gone: it stops here. */
      if (job != NULL)
        g_object_run_dispose (G_OBJECT (job));
      return;
    }

  if (job == NULL)
    {
      /* One damaged job does not keep the others away. */
      g_warning ("Could not load the render job “%s” (%s): %s", record->name, record->id,
                 error->message);
    }
  else
    {
      kiln_session_add_job (self, job, g_list_model_get_n_items (G_LIST_MODEL (self->jobs)));
      kiln_session_give_wallet (self, job);
    }

  data->next++;
  kiln_session_load_step (g_steal_pointer (&data));
}

/* Loads the next stored job that is not in the list yet; one at a time, so that a long list
 * does not flood the network with announcements at start-up. */
static void
kiln_session_load_step (LoadData *data_)
{
  g_autoptr(LoadData) data = data_;
  KilnSession *self = data->self;
  const KilnJobRecord *record;
  GCancellable *cancellable;

  /* A job started in this run is in the list already. */
  while (data->next < data->records->len)
    {
      record = g_ptr_array_index (data->records, data->next);
      if (kiln_session_lookup_job (self, record->id) == NULL)
        break;
      data->next++;
    }

  if (data->next >= data->records->len)
    {
      kiln_session_set_loading_jobs (self, FALSE);
      return;
    }

  record = g_ptr_array_index (data->records, data->next);
  cancellable = data->cancellable;
  kiln_render_job_load_async (self->engine, self->blender, NULL, self->wallet, record->id,
                              cancellable, kiln_session_job_loaded_cb, g_steal_pointer (&data));
}

static void
kiln_session_blender_found_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  KilnSession *self = data->self;
  g_autoptr(KilnBlender) blender = NULL;
  g_autoptr(GError) error = NULL;

  blender = kiln_blender_discover_finish (result, &error);
  if (load_data_is_stale (data))
    return;

  if (blender == NULL)
    {
      g_autoptr(GError) jobs_error = NULL;

      g_debug ("Could not find Blender for the stored render jobs: %s", error->message);
      jobs_error = g_error_new (error->domain, error->code,
                                _("Your renders cannot be shown: Kiln checks their frames with "
                                  "Blender, and could not use it. %s"), error->message);
      kiln_session_set_jobs_error (self, jobs_error);
      kiln_session_set_loading_jobs (self, FALSE);
      return;
    }

  g_set_object (&self->blender, blender);
  kiln_session_load_step (g_steal_pointer (&data));
}

static void
kiln_session_jobs_listed_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  KilnSession *self = data->self;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GError) error = NULL;

  records = kiln_job_store_list_finish (KILN_JOB_STORE (object), result, &error);
  if (load_data_is_stale (data))
    return;

  if (records == NULL)
    {
      g_autoptr(GError) jobs_error = NULL;

      g_debug ("Could not list the stored render jobs: %s", error->message);
      jobs_error = g_error_new (error->domain, error->code,
                                _("Your renders could not be read from Kiln’s database: %s"),
                                error->message);
      kiln_session_set_jobs_error (self, jobs_error);
      kiln_session_set_loading_jobs (self, FALSE);
      return;
    }

  data->records = g_steal_pointer (&records);
  if (data->records->len == 0)
    {
      kiln_session_set_loading_jobs (self, FALSE);
      return;
    }

  /* Results are checked with Blender: found once, for every job. */
  if (self->blender == NULL)
    {
      GCancellable *cancellable = data->cancellable;

      kiln_blender_discover_async (NULL, cancellable, kiln_session_blender_found_cb,
                                   g_steal_pointer (&data));
      return;
    }

  kiln_session_load_step (g_steal_pointer (&data));
}

void
_kiln_session_reload_jobs (KilnSession *self)
{
  g_autoptr(KilnJobStore) store = NULL;
  LoadData *data;

  g_assert (KILN_IS_SESSION (self));

  _kiln_session_drop_jobs (self);
  kiln_session_set_jobs_error (self, NULL);

  if (self->engine == NULL)
    return;

  self->jobs_cancellable = g_cancellable_new ();
  kiln_session_set_loading_jobs (self, TRUE);

  data = g_new0 (LoadData, 1);
  data->self = g_object_ref (self);
  data->cancellable = g_object_ref (self->jobs_cancellable);

  store = kiln_job_store_new (kiln_engine_get_store (self->engine));
  kiln_job_store_list_async (store, data->cancellable, kiln_session_jobs_listed_cb, data);
}

void
kiln_session_reload_jobs (KilnSession *self)
{
  g_return_if_fail (KILN_IS_SESSION (self));

  _kiln_session_reload_jobs (self);
}

/* --- starting and forgetting jobs ------------------------------------------------------------ */

static void
kiln_session_job_started_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!kiln_render_job_start_finish (KILN_RENDER_JOB (object), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
kiln_session_start_job_async (KilnSession         *self,
                              KilnRenderJob       *job,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_SESSION (self));
  g_return_if_fail (KILN_IS_RENDER_JOB (job));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_session_start_job_async);

  if (self->engine == NULL || kiln_render_job_get_engine (job) != self->engine)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                               _("Kiln’s node is not running, so the render cannot be shared "
                                 "out. See the Network page."));
      return;
    }

  kiln_session_add_job (self, job, 0);
  kiln_session_give_wallet (self, job);

  /* The job runs for as long as the session has it, whoever asked for it. */
  kiln_render_job_start_async (job, NULL, kiln_session_job_started_cb, g_steal_pointer (&task));
}

gboolean
kiln_session_start_job_finish (KilnSession   *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_session_start_job_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
kiln_session_can_remove_job (KilnSession   *self,
                             KilnRenderJob *job)
{
  KilnUint256 owed;

  g_return_val_if_fail (KILN_IS_SESSION (self), FALSE);
  g_return_val_if_fail (KILN_IS_RENDER_JOB (job), FALSE);

  if (!kiln_render_job_state_is_final (kiln_render_job_get_state (job)))
    return FALSE;

  /* What verified work is owed is only known from the job: it stays until paid. */
  kiln_render_job_get_owed (job, &owed);
  return kiln_uint256_is_zero (&owed);
}

static void
kiln_session_job_deleted_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnSession *self = g_task_get_source_object (task);
  KilnRenderJob *job = g_task_get_task_data (task);
  GError *error = NULL;
  guint position;

  if (!kiln_job_store_delete_finish (KILN_JOB_STORE (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (g_list_store_find (self->jobs, job, &position))
    {
      g_signal_handlers_disconnect_by_data (job, self);
      g_list_store_remove (self->jobs, position);
    }
  g_task_return_boolean (task, TRUE);
}

void
kiln_session_remove_job_async (KilnSession         *self,
                               KilnRenderJob       *job,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(KilnJobStore) store = NULL;

  g_return_if_fail (KILN_IS_SESSION (self));
  g_return_if_fail (KILN_IS_RENDER_JOB (job));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_session_remove_job_async);
  g_task_set_task_data (task, g_object_ref (job), g_object_unref);

  if (!kiln_session_can_remove_job (self, job) || kiln_render_job_get_engine (job) == NULL)
    {
      g_task_return_new_error (task, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_NOT_RUNNING,
                               _("Only a render that has ended and owes nothing can be "
                                 "removed."));
      return;
    }

  store = kiln_job_store_new (kiln_engine_get_store (kiln_render_job_get_engine (job)));
  kiln_job_store_delete_async (store, kiln_render_job_get_id (job), cancellable,
                               kiln_session_job_deleted_cb, g_steal_pointer (&task));
}

gboolean
kiln_session_remove_job_finish (KilnSession   *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_session_remove_job_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- the object ------------------------------------------------------------------------------ */

void
_kiln_session_jobs_init (KilnSession *self)
{
  self->jobs = g_list_store_new (KILN_TYPE_RENDER_JOB);
  self->active_jobs = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);

  g_signal_connect (self, "notify::wallet", G_CALLBACK (kiln_session_wallet_changed_cb), NULL);
}

void
_kiln_session_jobs_finalize (KilnSession *self)
{
  g_clear_object (&self->jobs_cancellable);
  g_clear_object (&self->blender);
  g_clear_object (&self->jobs);
  g_clear_pointer (&self->active_jobs, g_hash_table_unref);
  g_clear_error (&self->jobs_error);
}

GListModel *
kiln_session_get_jobs (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return G_LIST_MODEL (self->jobs);
}

gboolean
kiln_session_get_loading_jobs (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), FALSE);

  return self->loading_jobs;
}

guint
kiln_session_get_n_active_jobs (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), 0);

  return self->active_jobs != NULL ? g_hash_table_size (self->active_jobs) : 0;
}

const GError *
kiln_session_get_jobs_error (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->jobs_error;
}

KilnRenderJob *
kiln_session_lookup_job (KilnSession *self,
                         const char  *id)
{
  guint n;

  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->jobs));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KilnRenderJob) job = g_list_model_get_item (G_LIST_MODEL (self->jobs), i);

      if (g_strcmp0 (kiln_render_job_get_id (job), id) == 0)
        return job;
    }

  return NULL;
}
