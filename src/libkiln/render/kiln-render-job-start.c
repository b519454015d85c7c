/* kiln-render-job-start.c: starting a render job, and loading one again after a restart
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "kiln-render-job-private.h"

/* Offering the files ---------------------------------------------------------------------- */

typedef struct
{
  GPtrArray *paths;       /* what to offer: the .blend, then the files it uses */
  guint      next;
} Offering;

static void
offering_free (gpointer data)
{
  Offering *offering = data;

  g_ptr_array_unref (offering->paths);
  g_free (offering);
}

static void offer_next_file (GTask *task);

static void
on_job_written (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnRenderJob *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!kiln_job_store_save_job_finish (KILN_JOB_STORE (source), result, &error))
    {
      kiln_render_job_fail (self, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!kiln_render_job_announce (self, &error))
    {
      kiln_render_job_fail (self, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
on_file_added (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnRenderJob *self = g_task_get_source_object (task);
  Offering *offering = g_task_get_task_data (task);
  const char *path = g_ptr_array_index (offering->paths, offering->next);
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  KilnJobResource *resource = g_ptr_array_index (self->record->resources, offering->next);
  GStatBuf st;

  hash = kiln_content_store_add_file_finish (KILN_CONTENT_STORE (source), result, &error);
  if (hash == NULL)
    {
      g_prefix_error (&error, _("Could not offer “%s” to providers: "), path);
      kiln_render_job_fail (self, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      error = g_error_new (G_IO_ERROR, g_io_error_from_errno (saved),
                           _("Could not read “%s”: %s"), path, g_strerror (saved));
      kiln_render_job_fail (self, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  kiln_content_hash_from_hex (hash, resource->sha256);
  resource->size = st.st_size;

  offering->next++;
  offer_next_file (g_steal_pointer (&task));
}

static void
offer_next_file (GTask *task_)
{
  g_autoptr(GTask) task = task_;
  KilnRenderJob *self = g_task_get_source_object (task);
  Offering *offering = g_task_get_task_data (task);
  g_autoptr(GFile) file = NULL;

  if (offering->next < offering->paths->len)
    {
      GCancellable *cancellable = g_task_get_cancellable (task);

      file = g_file_new_for_path (g_ptr_array_index (offering->paths, offering->next));
      kiln_content_store_add_file_async (kiln_engine_get_content_store (self->engine), file,
                                         cancellable, on_file_added, g_steal_pointer (&task));
      return;
    }

  /* Every file is offered: write the job with them, then announce it. */
  kiln_job_store_save_job_async (self->store, self->record, NULL, NULL, on_job_written,
                                 g_steal_pointer (&task));
}

/* The .blend, and the files beside it that it uses (kiln_render_job_new() listed them). */
static GPtrArray *
list_files (KilnRenderJob *self)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < self->record->resources->len; i++)
    g_ptr_array_add (paths,
                     g_strdup (((KilnJobResource *)
                                g_ptr_array_index (self->record->resources, i))->path));
  return paths;
}

static gboolean
make_folders (KilnRenderJob  *self,
              GError        **error)
{
  g_autofree char *strips = g_build_filename (self->record->work_dir, "strips", NULL);
  const char *folders[] = { self->record->output_dir, strips };

  for (guint i = 0; i < G_N_ELEMENTS (folders); i++)
    if (g_mkdir_with_parents (folders[i], 0700) != 0)
      {
        int saved = errno;

        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                     _("Could not make the folder “%s”: %s"), folders[i], g_strerror (saved));
        return FALSE;
      }
  return TRUE;
}

static void
on_job_created (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnRenderJob *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!kiln_job_store_save_job_finish (KILN_JOB_STORE (source), result, &error))
    {
      kiln_render_job_fail (self, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->stored = TRUE;
  offer_next_file (g_steal_pointer (&task));
}

/* Writes the job as it is, then offers its files and announces it. */
static void
prepare (KilnRenderJob *self,
         GTask         *task_)
{
  g_autoptr(GTask) task = task_;
  g_autoptr(GArray) subtasks = NULL;
  g_autoptr(GError) error = NULL;
  Offering *offering;

  if (!make_folders (self, &error))
    {
      kiln_render_job_fail (self, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  offering = g_new0 (Offering, 1);
  offering->paths = list_files (self);
  g_task_set_task_data (task, offering, offering_free);

  subtasks = g_array_new (FALSE, TRUE, sizeof (KilnJobSubtaskRecord));
  for (guint i = 0; i < self->subtasks->len; i++)
    {
      const Subtask *subtask = &g_array_index (self->subtasks, Subtask, i);
      KilnJobSubtaskRecord record = {
        .index = i, .state = subtask->state, .attempt = subtask->done_attempt,
        .done_at = subtask->done_at,
      };

      g_array_append_val (subtasks, record);
    }

  kiln_render_job_log (self, -1,
                       g_dngettext (GETTEXT_PACKAGE, "Preparing “%s”: %u subtask",
                                    "Preparing “%s”: %u subtasks", self->subtasks->len),
                       self->record->name, self->subtasks->len);
  kiln_job_store_save_job_async (self->store, self->record, subtasks, NULL, on_job_created,
                                 g_steal_pointer (&task));
}

void
kiln_render_job_start_async (KilnRenderJob       *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_RENDER_JOB (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_render_job_start_async);

  if (self->stored || self->record->state != KILN_RENDER_JOB_STATE_PREPARING)
    {
      g_task_return_new_error (task, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_NOT_RUNNING,
                               _("The render job has already been started"));
      return;
    }

  prepare (self, g_steal_pointer (&task));
}

gboolean
kiln_render_job_start_finish (KilnRenderJob  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_render_job_start_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Loading ----------------------------------------------------------------------------------- */

static gboolean
file_exists (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* Whether the images of done subtask @index are still where they were kept. */
static gboolean
subtask_images_kept (KilnRenderJob *self,
                     guint          index)
{
  const KilnSubtask *subtask = kiln_render_job_plan_subtask (self, index);

  if (subtask->use_border)
    {
      g_autofree char *frame = kiln_render_job_frame_path (self, subtask->frame_start);
      g_autofree char *strip = kiln_render_job_strip_path (self, index);

      return file_exists (frame) || file_exists (strip);
    }

  for (int f = subtask->frame_start; f <= subtask->frame_end; f += subtask->frame_step)
    {
      g_autofree char *path = kiln_render_job_frame_path (self, f);

      if (!file_exists (path))
        return FALSE;
    }
  return TRUE;
}

static void
find_ready_frames (KilnRenderJob *self)
{
  guint n_frames;
  const int *frames = kiln_frame_spec_get_frames (kiln_job_plan_get_frames (self->plan),
                                                  &n_frames);

  for (guint i = 0; i < n_frames; i++)
    {
      g_autoptr(GPtrArray) parts = kiln_job_plan_get_subtasks_for_frame (self->plan, frames[i]);
      g_autofree char *path = kiln_render_job_frame_path (self, frames[i]);
      gboolean done = file_exists (path);

      for (guint j = 0; j < parts->len && done; j++)
        {
          const KilnSubtask *part = g_ptr_array_index (parts, j);

          done = g_array_index (self->subtasks, Subtask, part->index).state ==
                 KILN_SUBTASK_STATE_DONE;
        }
      if (done)
        kiln_render_job_mark_frame_ready (self, frames[i], path);
    }
}

static gboolean
restore (KilnRenderJob    *self,
         KilnJobSnapshot  *snapshot,
         GError          **error)
{
  g_autoptr(JsonNode) settings = NULL;
  g_autoptr(JsonNode) plan = NULL;

  kiln_job_record_free (self->record);
  self->record = g_steal_pointer (&snapshot->job);
  self->stored = TRUE;

  settings = json_from_string (self->record->settings, NULL);
  plan = json_from_string (self->record->plan, NULL);
  if (settings == NULL || plan == NULL)
    return (g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
                         _("The stored render job %s is damaged"), self->record->id), FALSE);
  self->settings = kiln_render_job_settings_from_json (settings, error);
  if (self->settings == NULL)
    return FALSE;
  self->plan = kiln_job_plan_new_from_json (plan, error);
  if (self->plan == NULL)
    return FALSE;

  g_array_set_size (self->subtasks, kiln_job_plan_get_n_subtasks (self->plan));
  for (guint i = 0; i < snapshot->subtasks->len; i++)
    {
      const KilnJobSubtaskRecord *stored =
        &g_array_index (snapshot->subtasks, KilnJobSubtaskRecord, i);
      Subtask *subtask;

      if (stored->index >= self->subtasks->len)
        continue;
      subtask = &g_array_index (self->subtasks, Subtask, stored->index);
      if (stored->state == KILN_SUBTASK_STATE_DONE)
        {
          subtask->state = KILN_SUBTASK_STATE_DONE;
          subtask->done_attempt = stored->attempt;
          subtask->done_at = stored->done_at;
        }
    }

  for (guint i = 0; i < snapshot->assignments->len; i++)
    {
      KilnJobAssignmentRecord *record = g_ptr_array_index (snapshot->assignments, i);
      g_autoptr(GError) terms_error = NULL;
      KilnTerms *terms = kiln_terms_decode (record->terms, &terms_error);

      if (terms == NULL)
        return (g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
                             _("The stored render job %s is damaged: %s"), self->record->id,
                             terms_error->message), FALSE);
      g_ptr_array_index (snapshot->assignments, i) = NULL;
      kiln_render_job_add_assignment (self, record, terms);

      /* Providers that failed a verification or a deadline stay out of the job. */
      if (record->state == KILN_ASSIGNMENT_REJECTED || record->state == KILN_ASSIGNMENT_TIMED_OUT)
        g_hash_table_add (self->excluded, kiln_address_copy (&record->provider));
    }

  return TRUE;
}

/* Assignments that were out when the job stopped are withdrawn: their providers may still
 * work on them, but nothing says when they started or whether they still will. */
static void
withdraw_stale (KilnRenderJob *self)
{
  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *assignment = g_ptr_array_index (self->assignments, i);
      KilnJobAssignmentRecord *record = assignment->record;
      KilnEnginePeer *peer;

      if (record->state != KILN_ASSIGNMENT_PROPOSED &&
          record->state != KILN_ASSIGNMENT_ACCEPTED &&
          record->state != KILN_ASSIGNMENT_DELIVERED)
        continue;

      record->state = KILN_ASSIGNMENT_CANCELLED;
      record->finished_at = kiln_render_job_now_us ();
      g_free (record->reason);
      record->reason = g_strdup (_("Withdrawn when the job was loaded again"));
      kiln_render_job_log (self, record->subtask, _("Assignment %u withdrawn: the job was "
                                                    "loaded again"), record->attempt);
      kiln_render_job_save (self, record->subtask, assignment, NULL, NULL);

      /* Nothing waits for the provider: its subtask is assigned anew at once. One that is
       * away is told when it comes back. */
      peer = kiln_engine_lookup_peer (self->engine, &record->provider);
      if (peer != NULL && kiln_engine_peer_get_connected (peer))
        kiln_render_job_send_withdrawal (self, assignment);
      else
        g_ptr_array_add (self->untold, assignment);
    }
}

/* Subtasks whose images are gone are rendered again. */
static void
check_kept_images (KilnRenderJob *self)
{
  for (guint i = 0; i < self->subtasks->len; i++)
    {
      Subtask *subtask = &g_array_index (self->subtasks, Subtask, i);

      if (subtask->state != KILN_SUBTASK_STATE_DONE || subtask_images_kept (self, i))
        continue;

      kiln_render_job_log (self, i, _("Its images are gone from the output folder; it is "
                                      "rendered again"));
      subtask->state = KILN_SUBTASK_STATE_PENDING;
      subtask->done_attempt = 0;
      subtask->done_at = 0;
      kiln_render_job_save (self, i, NULL, NULL, NULL);
    }
}

static void
resume (KilnRenderJob *self,
        GTask         *task_)
{
  g_autoptr(GTask) task = task_;
  g_autoptr(GError) error = NULL;
  KilnRenderJobState state = self->record->state;

  if (kiln_render_job_state_is_final (state))
    {
      find_ready_frames (self);
      if (self->wallet != NULL)
        kiln_render_job_pay_owed (self);
      g_task_return_pointer (task, g_object_ref (self), g_object_unref);
      return;
    }

  if (!make_folders (self, &error))
    {
      kiln_render_job_fail (self, error);
      g_task_return_pointer (task, g_object_ref (self), g_object_unref);
      return;
    }

  withdraw_stale (self);
  check_kept_images (self);
  find_ready_frames (self);
  kiln_render_job_log (self, -1,
                       g_dngettext (GETTEXT_PACKAGE, "Loaded again: %u of %u subtask done",
                                    "Loaded again: %u of %u subtasks done", self->subtasks->len),
                       kiln_render_job_get_subtasks_done (self), self->subtasks->len);

  if (kiln_render_job_get_subtasks_done (self) < self->subtasks->len)
    {
      if (state == KILN_RENDER_JOB_STATE_ASSEMBLING || state == KILN_RENDER_JOB_STATE_PAYING)
        kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_RUNNING);
      if (!kiln_render_job_announce (self, &error))
        kiln_render_job_fail (self, error);
    }
  else
    kiln_render_job_check_complete (self);

  g_task_return_pointer (task, g_object_ref (self), g_object_unref);
}

static void
on_prepared_again (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* Failures are the job's state and error; the job itself is what loading gives. */
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_debug ("Render job could not be prepared again: %s", error->message);
  g_task_return_pointer (task, g_object_ref (source), g_object_unref);
}

static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnRenderJob *self = g_task_get_task_data (task);
  g_autoptr(KilnJobSnapshot) snapshot = NULL;
  g_autoptr(GError) error = NULL;

  snapshot = kiln_job_store_load_finish (KILN_JOB_STORE (source), result, &error);
  if (snapshot == NULL || !restore (self, snapshot, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (self->record->state == KILN_RENDER_JOB_STATE_PREPARING)
    {
      GTask *prepared = g_task_new (self, g_task_get_cancellable (task), on_prepared_again,
                                    g_object_ref (task));

      g_task_set_source_tag (prepared, kiln_render_job_start_async);
      self->stored = FALSE;
      prepare (self, prepared);
      return;
    }

  resume (self, g_steal_pointer (&task));
}

void
kiln_render_job_load_async (KilnEngine          *engine,
                            KilnBlender         *blender,
                            KilnSandbox         *sandbox,
                            KilnWallet          *wallet,
                            const char          *id,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  KilnRenderJob *self;

  g_return_if_fail (KILN_IS_ENGINE (engine));
  g_return_if_fail (KILN_IS_BLENDER (blender));
  g_return_if_fail (sandbox == NULL || KILN_IS_SANDBOX (sandbox));
  g_return_if_fail (wallet == NULL || KILN_IS_WALLET (wallet));
  g_return_if_fail (id != NULL);

  self = kiln_render_job_new_empty (engine, blender, sandbox, wallet);
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_render_job_load_async);
  g_task_set_task_data (task, self, g_object_unref);

  kiln_job_store_load_async (self->store, id, cancellable, on_loaded, g_steal_pointer (&task));
}

KilnRenderJob *
kiln_render_job_load_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_render_job_load_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
