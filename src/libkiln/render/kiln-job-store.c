/* kiln-job-store.c: a requestor's render jobs, their subtasks, assignments and payments in SQLite
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kiln-job-store-private.h"

struct _KilnJobStore
{
  GObject    parent_instance;

  KilnStore *store;
};

G_DEFINE_FINAL_TYPE (KilnJobStore, kiln_job_store, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STORE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* States */

G_DEFINE_ENUM_TYPE (KilnRenderJobState, kiln_render_job_state,
                    G_DEFINE_ENUM_VALUE (KILN_RENDER_JOB_STATE_PREPARING, "preparing"),
                    G_DEFINE_ENUM_VALUE (KILN_RENDER_JOB_STATE_ANNOUNCING, "announcing"),
                    G_DEFINE_ENUM_VALUE (KILN_RENDER_JOB_STATE_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (KILN_RENDER_JOB_STATE_VERIFYING, "verifying"),
                    G_DEFINE_ENUM_VALUE (KILN_RENDER_JOB_STATE_ASSEMBLING, "assembling"),
                    G_DEFINE_ENUM_VALUE (KILN_RENDER_JOB_STATE_PAYING, "paying"),
                    G_DEFINE_ENUM_VALUE (KILN_RENDER_JOB_STATE_DONE, "done"),
                    G_DEFINE_ENUM_VALUE (KILN_RENDER_JOB_STATE_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (KILN_RENDER_JOB_STATE_CANCELLED, "cancelled"))

G_DEFINE_ENUM_TYPE (KilnSubtaskState, kiln_subtask_state,
                    G_DEFINE_ENUM_VALUE (KILN_SUBTASK_STATE_PENDING, "pending"),
                    G_DEFINE_ENUM_VALUE (KILN_SUBTASK_STATE_ASSIGNED, "assigned"),
                    G_DEFINE_ENUM_VALUE (KILN_SUBTASK_STATE_RENDERING, "rendering"),
                    G_DEFINE_ENUM_VALUE (KILN_SUBTASK_STATE_VERIFYING, "verifying"),
                    G_DEFINE_ENUM_VALUE (KILN_SUBTASK_STATE_DONE, "done"))

G_DEFINE_ENUM_TYPE (KilnAssignmentState, kiln_assignment_state,
                    G_DEFINE_ENUM_VALUE (KILN_ASSIGNMENT_PROPOSED, "proposed"),
                    G_DEFINE_ENUM_VALUE (KILN_ASSIGNMENT_ACCEPTED, "accepted"),
                    G_DEFINE_ENUM_VALUE (KILN_ASSIGNMENT_DELIVERED, "delivered"),
                    G_DEFINE_ENUM_VALUE (KILN_ASSIGNMENT_APPROVED, "approved"),
                    G_DEFINE_ENUM_VALUE (KILN_ASSIGNMENT_REJECTED, "rejected"),
                    G_DEFINE_ENUM_VALUE (KILN_ASSIGNMENT_REFUSED, "refused"),
                    G_DEFINE_ENUM_VALUE (KILN_ASSIGNMENT_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (KILN_ASSIGNMENT_TIMED_OUT, "timed-out"),
                    G_DEFINE_ENUM_VALUE (KILN_ASSIGNMENT_CANCELLED, "cancelled"))

static const char *
enum_to_nick (GType type,
              int   value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *found = g_enum_get_value (klass, value);

  return found != NULL ? found->value_nick : NULL;
}

const char *
kiln_render_job_state_to_string (KilnRenderJobState state)
{
  return enum_to_nick (KILN_TYPE_RENDER_JOB_STATE, state);
}

gboolean
kiln_render_job_state_is_final (KilnRenderJobState state)
{
  return state == KILN_RENDER_JOB_STATE_DONE ||
         state == KILN_RENDER_JOB_STATE_FAILED ||
         state == KILN_RENDER_JOB_STATE_CANCELLED;
}

const char *
kiln_subtask_state_to_string (KilnSubtaskState state)
{
  return enum_to_nick (KILN_TYPE_SUBTASK_STATE, state);
}

const char *
kiln_assignment_state_to_string (KilnAssignmentState state)
{
  return enum_to_nick (KILN_TYPE_ASSIGNMENT_STATE, state);
}

/* Records */

KilnJobResource *
kiln_job_resource_new (const char   *name,
                       const char   *path,
                       const guint8 *sha256,
                       guint64       size)
{
  KilnJobResource *self;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (sha256 != NULL, NULL);

  self = g_new0 (KilnJobResource, 1);
  self->name = g_strdup (name);
  self->path = g_strdup (path);
  memcpy (self->sha256, sha256, sizeof self->sha256);
  self->size = size;
  return self;
}

KilnJobResource *
kiln_job_resource_copy (const KilnJobResource *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return kiln_job_resource_new (self->name, self->path, self->sha256, self->size);
}

void
kiln_job_resource_free (KilnJobResource *self)
{
  if (self == NULL)
    return;

  g_free (self->name);
  g_free (self->path);
  g_free (self);
}

G_DEFINE_BOXED_TYPE (KilnJobRecord, kiln_job_record, kiln_job_record_copy, kiln_job_record_free)

KilnJobRecord *
kiln_job_record_new (void)
{
  KilnJobRecord *self = g_new0 (KilnJobRecord, 1);

  self->next_attempt = 1;
  self->resources = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_job_resource_free);
  return self;
}

KilnJobRecord *
kiln_job_record_copy (const KilnJobRecord *self)
{
  KilnJobRecord *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = kiln_job_record_new ();
  copy->id = g_strdup (self->id);
  copy->name = g_strdup (self->name);
  copy->blend_file = g_strdup (self->blend_file);
  copy->output_dir = g_strdup (self->output_dir);
  copy->work_dir = g_strdup (self->work_dir);
  copy->state = self->state;
  copy->error = g_strdup (self->error);
  copy->settings = g_strdup (self->settings);
  copy->plan = g_strdup (self->plan);
  copy->max_cost = self->max_cost;
  copy->announcement = self->announcement != NULL ? g_bytes_ref (self->announcement) : NULL;
  copy->next_attempt = self->next_attempt;
  copy->created_at = self->created_at;
  copy->updated_at = self->updated_at;
  for (guint i = 0; i < self->resources->len; i++)
    g_ptr_array_add (copy->resources,
                     kiln_job_resource_copy (g_ptr_array_index (self->resources, i)));
  return copy;
}

void
kiln_job_record_free (KilnJobRecord *self)
{
  if (self == NULL)
    return;

  g_free (self->id);
  g_free (self->name);
  g_free (self->blend_file);
  g_free (self->output_dir);
  g_free (self->work_dir);
  g_free (self->error);
  g_free (self->settings);
  g_free (self->plan);
  g_clear_pointer (&self->announcement, g_bytes_unref);
  g_ptr_array_unref (self->resources);
  g_free (self);
}

G_DEFINE_BOXED_TYPE (KilnJobAssignmentRecord, kiln_job_assignment_record,
                     kiln_job_assignment_record_copy, kiln_job_assignment_record_free)

KilnJobAssignmentRecord *
kiln_job_assignment_record_new (void)
{
  return g_new0 (KilnJobAssignmentRecord, 1);
}

KilnJobAssignmentRecord *
kiln_job_assignment_record_copy (const KilnJobAssignmentRecord *self)
{
  KilnJobAssignmentRecord *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_memdup2 (self, sizeof *self);
  copy->terms = self->terms != NULL ? g_bytes_ref (self->terms) : NULL;
  copy->reason = g_strdup (self->reason);
  copy->payment_key = g_strdup (self->payment_key);
  if (self->outputs != NULL)
    {
      copy->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_market_file_free);
      for (guint i = 0; i < self->outputs->len; i++)
        g_ptr_array_add (copy->outputs,
                         kiln_market_file_copy (g_ptr_array_index (self->outputs, i)));
    }
  return copy;
}

void
kiln_job_assignment_record_free (KilnJobAssignmentRecord *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->terms, g_bytes_unref);
  g_clear_pointer (&self->outputs, g_ptr_array_unref);
  g_free (self->reason);
  g_free (self->payment_key);
  g_free (self);
}

void
kiln_job_snapshot_free (KilnJobSnapshot *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->job, kiln_job_record_free);
  g_clear_pointer (&self->subtasks, g_array_unref);
  g_clear_pointer (&self->assignments, g_ptr_array_unref);
  g_free (self);
}

/* GObject */

static void
kiln_job_store_dispose (GObject *object)
{
  KilnJobStore *self = KILN_JOB_STORE (object);

  g_clear_object (&self->store);

  G_OBJECT_CLASS (kiln_job_store_parent_class)->dispose (object);
}

static void
kiln_job_store_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  KilnJobStore *self = KILN_JOB_STORE (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_job_store_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  KilnJobStore *self = KILN_JOB_STORE (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_assert (self->store == NULL);
      self->store = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_job_store_class_init (KilnJobStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_job_store_dispose;
  object_class->get_property = kiln_job_store_get_property;
  object_class->set_property = kiln_job_store_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         KILN_TYPE_STORE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_job_store_init (KilnJobStore *self)
{
}

KilnJobStore *
kiln_job_store_new (KilnStore *store)
{
  g_return_val_if_fail (KILN_IS_STORE (store), NULL);

  return g_object_new (KILN_TYPE_JOB_STORE, "store", store, NULL);
}

KilnStore *
kiln_job_store_get_store (KilnJobStore *self)
{
  g_return_val_if_fail (KILN_IS_JOB_STORE (self), NULL);

  return self->store;
}

/* The caller's side */

/* Takes @request. */
static void
run_async (KilnJobStore        *self,
           KilnStoreFunc        func,
           Request             *request,
           gpointer             source_tag,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, request, kiln_job_request_free);
  kiln_store_run_task (self->store, func, g_steal_pointer (&task));
}

static gboolean
check_result (KilnJobStore *self,
              GAsyncResult *result,
              gpointer      source_tag)
{
  return KILN_IS_JOB_STORE (self) && g_task_is_valid (result, self) &&
         g_task_get_source_tag (G_TASK (result)) == source_tag;
}

void
kiln_job_store_save_job_async (KilnJobStore        *self,
                               const KilnJobRecord *job,
                               GArray              *subtasks,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Request *request;

  g_return_if_fail (KILN_IS_JOB_STORE (self));
  g_return_if_fail (job != NULL && job->id != NULL);

  request = g_new0 (Request, 1);
  request->job = kiln_job_record_copy (job);
  if (subtasks != NULL)
    {
      request->subtasks = g_array_sized_new (FALSE, FALSE, sizeof (KilnJobSubtaskRecord),
                                             subtasks->len);
      g_array_append_vals (request->subtasks, subtasks->data, subtasks->len);
    }

  run_async (self, kiln_job_store_save_in_db, request, kiln_job_store_save_job_async, cancellable,
             callback, user_data);
}

gboolean
kiln_job_store_save_job_finish (KilnJobStore  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (check_result (self, result, kiln_job_store_save_job_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kiln_job_store_update_async (KilnJobStore                  *self,
                             const KilnJobRecord           *job,
                             const KilnJobSubtaskRecord    *subtask,
                             const KilnJobAssignmentRecord *assignment,
                             GCancellable                  *cancellable,
                             GAsyncReadyCallback            callback,
                             gpointer                       user_data)
{
  Request *request;

  g_return_if_fail (KILN_IS_JOB_STORE (self));
  g_return_if_fail (job != NULL && job->id != NULL);
  g_return_if_fail (assignment == NULL || assignment->terms != NULL);

  request = g_new0 (Request, 1);
  request->job = kiln_job_record_copy (job);
  if (subtask != NULL)
    {
      request->has_subtask = TRUE;
      request->subtask = *subtask;
    }
  if (assignment != NULL)
    request->assignment = kiln_job_assignment_record_copy (assignment);

  run_async (self, kiln_job_store_update_in_db, request, kiln_job_store_update_async, cancellable,
             callback, user_data);
}

gboolean
kiln_job_store_update_finish (KilnJobStore  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (check_result (self, result, kiln_job_store_update_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kiln_job_store_load_async (KilnJobStore        *self,
                           const char          *id,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  Request *request;

  g_return_if_fail (KILN_IS_JOB_STORE (self));
  g_return_if_fail (id != NULL);

  request = g_new0 (Request, 1);
  request->id = g_strdup (id);
  run_async (self, kiln_job_store_load_in_db, request, kiln_job_store_load_async, cancellable,
             callback, user_data);
}

KilnJobSnapshot *
kiln_job_store_load_finish (KilnJobStore  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (check_result (self, result, kiln_job_store_load_async), NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  return g_steal_pointer (&((Request *) g_task_get_task_data (G_TASK (result)))->snapshot);
}

void
kiln_job_store_list_async (KilnJobStore        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (KILN_IS_JOB_STORE (self));

  run_async (self, kiln_job_store_list_in_db, g_new0 (Request, 1), kiln_job_store_list_async,
             cancellable, callback, user_data);
}

GPtrArray *
kiln_job_store_list_finish (KilnJobStore  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (check_result (self, result, kiln_job_store_list_async), NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  return g_steal_pointer (&((Request *) g_task_get_task_data (G_TASK (result)))->jobs);
}

void
kiln_job_store_delete_async (KilnJobStore        *self,
                             const char          *id,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  Request *request;

  g_return_if_fail (KILN_IS_JOB_STORE (self));
  g_return_if_fail (id != NULL);

  request = g_new0 (Request, 1);
  request->id = g_strdup (id);
  run_async (self, kiln_job_store_delete_in_db, request, kiln_job_store_delete_async, cancellable,
             callback, user_data);
}

gboolean
kiln_job_store_delete_finish (KilnJobStore  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (check_result (self, result, kiln_job_store_delete_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
