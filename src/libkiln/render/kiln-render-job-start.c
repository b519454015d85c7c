/* kiln-render-job-start.c: starting a render job, and loading one again after a restart
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "kiln-dht-record.h"
#include "kiln-dht.h"
#include "kiln-render-job-private.h"

/* Taking part: handlers and announcements ------------------------------------------------- */

static void
on_peer_connected (KilnRenderJob  *self,
                   KilnEnginePeer *peer)
{
  if (!self->active || self->cancelling ||
      kiln_render_job_get_subtasks_done (self) == self->subtasks->len)
    return;

  kiln_render_job_take_offer_back (self, kiln_engine_peer_get_address (peer));
  kiln_render_job_announce_to (self, kiln_engine_peer_get_address (peer));
}

static void
on_book_changed (KilnRenderJob *self)
{
  kiln_render_job_schedule_dispatch (self);
}

void
kiln_render_job_activate (KilnRenderJob *self)
{
  static const struct
  {
    KilnMessageType       type;
    KilnEngineMessageFunc func;
  } handlers[] = {
    { KILN_MESSAGE_OFFER, kiln_render_job_on_offer },
    { KILN_MESSAGE_ACCEPT, kiln_render_job_on_accept },
    { KILN_MESSAGE_RESULT, kiln_render_job_on_result },
    { KILN_MESSAGE_REJECT, kiln_render_job_on_reject },
    { KILN_MESSAGE_CANCEL, kiln_render_job_on_cancel },
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (handlers) <= G_N_ELEMENTS (((KilnRenderJob *) NULL)->handler_ids));

  if (self->active)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (handlers); i++)
    self->handler_ids[i] = kiln_engine_add_message_handler (self->engine, handlers[i].type,
                                                            handlers[i].func, self, NULL);
  self->connected_id = g_signal_connect_object (self->engine, "peer-connected",
                                                G_CALLBACK (on_peer_connected), self,
                                                G_CONNECT_SWAPPED);
  self->disconnected_id =
    g_signal_connect_object (self->engine, "peer-disconnected",
                             G_CALLBACK (kiln_render_job_on_peer_disconnected), self,
                             G_CONNECT_SWAPPED);
  self->active = TRUE;
}

void
kiln_render_job_deactivate (KilnRenderJob *self)
{
  if (!self->active)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (self->handler_ids); i++)
    if (self->handler_ids[i] != 0)
      {
        kiln_engine_remove_message_handler (self->engine, self->handler_ids[i]);
        self->handler_ids[i] = 0;
      }
  g_clear_signal_handler (&self->connected_id, self->engine);
  g_clear_signal_handler (&self->disconnected_id, self->engine);
  if (self->book != NULL)
    g_clear_signal_handler (&self->book_changed_id, self->book);
  self->active = FALSE;
}

/* Makes @announcement the job's: a new offer book for it. */
static void
set_announcement (KilnRenderJob        *self,
                  KilnTaskAnnouncement *announcement)
{
  if (self->book != NULL)
    g_clear_signal_handler (&self->book_changed_id, self->book);
  g_clear_object (&self->book);
  g_hash_table_remove_all (self->away);
  g_set_object (&self->announcement, announcement);

  g_clear_pointer (&self->record->announcement, g_bytes_unref);
  self->record->announcement = g_bytes_ref (kiln_task_announcement_get_bytes (announcement));

  self->book = kiln_offer_book_new (announcement, self->reputation);
  self->book_changed_id = g_signal_connect_object (self->book, "changed",
                                                   G_CALLBACK (on_book_changed), self,
                                                   G_CONNECT_SWAPPED);
}

static KilnTaskAnnouncement *
make_announcement (KilnRenderJob  *self,
                   GError        **error)
{
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_task_announcement_new ();
  const KilnRenderJobSettings *settings = self->settings;
  guint64 bytes = 0;
  guint64 disk_mib;
  gint64 now = kiln_render_job_now_s ();
  guint major, minor, patch;

  kiln_task_announcement_set_payment (announcement, settings->chain_id, &settings->token);
  kiln_task_announcement_set_times (announcement, now, now + KILN_TASK_MAX_LIFETIME,
                                    now + KILN_TASK_MAX_DEADLINE);
  kiln_blender_get_version_numbers (self->blender, &major, &minor, &patch);
  kiln_task_announcement_set_blender_version (announcement, major, minor);
  kiln_task_announcement_set_engine (announcement, KILN_SCENE_ENGINE_CYCLES);

  /* The disk a subtask takes: its files, and room for its images. */
  for (guint i = 0; i < self->record->resources->len; i++)
    bytes += ((KilnJobResource *) g_ptr_array_index (self->record->resources, i))->size;
  disk_mib = MIN (bytes / (1024 * 1024) + 64, KILN_MARKET_MAX_MIB);
  kiln_task_announcement_set_hardware (announcement, settings->cores,
                                       MAX (settings->memory_mib, 1), disk_mib);
  kiln_task_announcement_set_subtasks (announcement, self->subtasks->len,
                                       settings->subtask_timeout);
  kiln_task_announcement_set_max_price (announcement, &settings->max_price);
  kiln_task_announcement_set_max_total (announcement, &self->record->max_cost);
  for (guint i = 0; i < self->record->resources->len; i++)
    kiln_task_announcement_add_resource (announcement,
                                         ((KilnJobResource *)
                                          g_ptr_array_index (self->record->resources, i))->sha256);

  if (!kiln_task_announcement_sign (announcement, kiln_engine_get_key (self->engine), error))
    return NULL;

  return g_steal_pointer (&announcement);
}

typedef struct
{
  GWeakRef job;
} Broadcast;

static void
on_broadcast (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Broadcast *broadcast = user_data;
  g_autoptr(KilnRenderJob) self = g_weak_ref_get (&broadcast->job);
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = kiln_engine_broadcast_message_finish (KILN_ENGINE (source), result, &error);
  if (message == NULL && self != NULL)
    kiln_render_job_log (self, -1, _("Could not announce the task: %s"), error->message);

  g_weak_ref_clear (&broadcast->job);
  g_free (broadcast);
}

static void
on_published (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!kiln_dht_publish_finish (KILN_DHT (source), result, &error))
    g_debug ("Could not publish a task on the discovery network: %s", error->message);
}

static void
broadcast_announcement (KilnRenderJob *self)
{
  GBytes *bytes = kiln_task_announcement_get_bytes (self->announcement);
  Broadcast *broadcast = g_new0 (Broadcast, 1);
  KilnDht *dht = kiln_engine_get_dht (self->engine);

  /* Nodes not linked yet can find it under the market's topic, for as long as a record
   * lives. */
  if (dht != NULL && kiln_dht_is_running (dht))
    {
      gint64 left = kiln_task_announcement_get_expires (self->announcement) -
                    kiln_render_job_now_s ();

      kiln_dht_publish_async (dht, kiln_engine_get_key (self->engine), KILN_MARKET_TASK_TOPIC,
                              bytes, CLAMP (left, 1, KILN_DHT_RECORD_MAX_LIFETIME), NULL,
                              on_published, NULL);
    }

  g_weak_ref_init (&broadcast->job, self);
  kiln_render_job_log (self, -1,
                       g_dngettext (GETTEXT_PACKAGE, "Task announced to %u connected peer",
                                    "Task announced to %u connected peers",
                                    kiln_engine_get_n_connected (self->engine)),
                       kiln_engine_get_n_connected (self->engine));
  kiln_engine_broadcast_message_async (self->engine, KILN_MESSAGE_TASK_ANNOUNCE, bytes, NULL,
                                       on_broadcast, broadcast);
}

void
kiln_render_job_announce_to (KilnRenderJob     *self,
                             const KilnAddress *peer)
{
  if (self->announcement == NULL)
    return;

  kiln_render_job_send (self, peer, KILN_MESSAGE_TASK_ANNOUNCE,
                        kiln_task_announcement_get_bytes (self->announcement));
}

/* Signs a fresh announcement (a new task ID), writes it, and sends it around. */
static gboolean
announce (KilnRenderJob  *self,
          GError        **error)
{
  g_autoptr(KilnTaskAnnouncement) announcement = make_announcement (self, error);

  if (announcement == NULL)
    return FALSE;

  set_announcement (self, announcement);
  kiln_render_job_activate (self);
  if (self->record->state == KILN_RENDER_JOB_STATE_PREPARING)
    kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_ANNOUNCING);
  else
    kiln_render_job_save (self, -1, NULL, NULL, NULL);
  broadcast_announcement (self);
  kiln_render_job_refresh_state (self);
  kiln_render_job_schedule_dispatch (self);
  return TRUE;
}

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

  if (!announce (self, &error))
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
      g_autoptr(KilnCancelBody) cancel = NULL;
      g_autoptr(GBytes) body = NULL;

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

      /* A reason code on the wire; the sentence is the job's own record. */
      cancel = kiln_cancel_body_new (KILN_CANCEL_TERMS, record->terms_digest,
                                     KILN_MARKET_REASON_CANCELLED);
      body = kiln_cancel_body_encode (cancel, NULL);
      if (body != NULL && kiln_engine_lookup_peer (self->engine, &record->provider) != NULL &&
          kiln_engine_peer_get_connected (kiln_engine_lookup_peer (self->engine,
                                                                   &record->provider)))
        kiln_render_job_send (self, &record->provider, KILN_MESSAGE_CANCEL, body);
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
      if (!announce (self, &error))
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
