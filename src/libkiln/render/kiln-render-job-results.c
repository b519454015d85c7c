/* kiln-render-job-results.c: fetching, verifying and keeping results; joining strips
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "kiln-assembly.h"
#include "kiln-render-job-private.h"
#include "kiln-render-private.h"
#include "kiln-render-run.h"

/* What an asynchronous step remembers of its assignment: the job only weakly, so that a job
 * that is dropped stops, and the assignment by its number. */
typedef struct
{
  GWeakRef job;
  guint    attempt;
  int      frame;
} Step;

static Step *
step_new (KilnRenderJob *self,
          guint          attempt)
{
  Step *step = g_new0 (Step, 1);

  g_weak_ref_init (&step->job, self);
  step->attempt = attempt;
  return step;
}

static void
step_free (Step *step)
{
  g_weak_ref_clear (&step->job);
  g_free (step);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Step, step_free)

/* The job and the assignment @step is about, if both are still there and the assignment is
 * still in @state. */
static Assignment *
step_resolve (Step                 *step,
              KilnAssignmentState   state,
              KilnRenderJob       **job)
{
  KilnRenderJob *self = g_weak_ref_get (&step->job);

  *job = self;
  if (self == NULL)
    return NULL;

  for (guint i = 0; self->assignments != NULL && i < self->assignments->len; i++)
    {
      Assignment *assignment = g_ptr_array_index (self->assignments, i);

      if (assignment->record->attempt == step->attempt)
        return assignment->record->state == state ? assignment : NULL;
    }
  return NULL;
}

static void
remove_result_dir (Assignment *assignment)
{
  if (assignment->result_dir != NULL)
    kiln_render_remove_tree (assignment->result_dir);
  g_clear_pointer (&assignment->result_dir, g_free);
}

void
kiln_render_job_stop_verifying (KilnRenderJob *self,
                                Assignment    *assignment)
{
  g_queue_remove (&self->verify_queue, assignment);
}

static void
send_reject (KilnRenderJob *self,
             Assignment    *assignment,
             const char    *reason,
             const char    *text)
{
  g_autoptr(KilnRejectBody) reject = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *short_text = g_utf8_substring (text, 0, 200);

  reject = kiln_reject_body_new (assignment->record->terms_digest, reason, short_text);
  body = kiln_reject_body_encode (reject, &error);
  if (body == NULL)
    {
      g_warning ("Could not encode a REJECT: %s", error->message);
      return;
    }
  kiln_render_job_send (self, &assignment->record->provider, KILN_MESSAGE_REJECT, body);
}

/* The result failed: not paid, its provider is dropped from the job, the subtask goes out
 * again. */
static void
reject_result (KilnRenderJob *self,
               Assignment    *assignment,
               const char    *why)
{
  send_reject (self, assignment, KILN_MARKET_REASON_BAD_RESULT, why);
  if (!g_hash_table_contains (self->excluded, &assignment->record->provider))
    g_hash_table_add (self->excluded, kiln_address_copy (&assignment->record->provider));
  if (self->book != NULL)
    kiln_offer_book_remove (self->book, &assignment->record->provider);
  remove_result_dir (assignment);
  kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_REJECTED, why);
}

/* Joining strips ---------------------------------------------------------------------------- */

static void
on_assembled (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(Step) step = user_data;
  g_autoptr(KilnRenderJob) self = g_weak_ref_get (&step->job);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) parts = NULL;
  g_autofree char *path = NULL;

  if (!kiln_assemble_strips_finish (result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self == NULL)
    return;

  g_hash_table_remove (self->assembling, GINT_TO_POINTER (step->frame));
  if (error != NULL)
    {
      g_prefix_error (&error, _("Could not join the strips of frame %d: "), step->frame);
      kiln_render_job_fail (self, error);
      return;
    }

  parts = kiln_job_plan_get_subtasks_for_frame (self->plan, step->frame);
  for (guint i = 0; i < parts->len; i++)
    {
      const KilnSubtask *part = g_ptr_array_index (parts, i);
      g_autofree char *strip = kiln_render_job_strip_path (self, part->index);

      g_unlink (strip);
    }

  path = kiln_render_job_frame_path (self, step->frame);
  kiln_render_job_log (self, -1, g_dngettext (GETTEXT_PACKAGE, "Frame %d joined from %u strip",
                                              "Frame %d joined from %u strips", parts->len),
                       step->frame, parts->len);
  kiln_render_job_mark_frame_ready (self, step->frame, path);
  kiln_render_job_check_complete (self);
}

/* Joins every frame whose strips are all in and that is not joined or being joined yet. */
void
kiln_render_job_assemble_ready (KilnRenderJob *self)
{
  guint n_frames;
  const int *frames;

  if (kiln_job_plan_get_n_strips (self->plan) <= 1)
    return;

  frames = kiln_frame_spec_get_frames (kiln_job_plan_get_frames (self->plan), &n_frames);
  for (guint i = 0; i < n_frames; i++)
    {
      g_autoptr(GPtrArray) parts = NULL;
      g_autoptr(GStrvBuilder) paths = NULL;
      g_auto(GStrv) strv = NULL;
      g_autofree char *output = NULL;
      gboolean complete = TRUE;
      Step *step;

      if (g_hash_table_contains (self->ready_frames, GINT_TO_POINTER (frames[i])) ||
          g_hash_table_contains (self->assembling, GINT_TO_POINTER (frames[i])))
        continue;

      parts = kiln_job_plan_get_subtasks_for_frame (self->plan, frames[i]);
      paths = g_strv_builder_new ();
      for (guint j = 0; j < parts->len && complete; j++)
        {
          const KilnSubtask *part = g_ptr_array_index (parts, j);
          g_autofree char *strip = kiln_render_job_strip_path (self, part->index);

          complete = g_array_index (self->subtasks, Subtask, part->index).state ==
                     KILN_SUBTASK_STATE_DONE;
          g_strv_builder_add (paths, strip);
        }
      if (!complete)
        continue;

      strv = g_strv_builder_end (paths);
      output = kiln_render_job_frame_path (self, frames[i]);
      g_hash_table_add (self->assembling, GINT_TO_POINTER (frames[i]));
      step = step_new (self, 0);
      step->frame = frames[i];
      kiln_assemble_strips_async (parts, (const char * const *) strv, output, self->cancellable,
                                  on_assembled, step);
    }
}

void
kiln_render_job_check_complete (KilnRenderJob *self)
{
  KilnRenderJobState state = self->record->state;

  if (kiln_render_job_state_is_final (state) || self->cancelling ||
      state == KILN_RENDER_JOB_STATE_PREPARING ||
      kiln_render_job_get_subtasks_done (self) < self->subtasks->len)
    return;

  if (state == KILN_RENDER_JOB_STATE_PAYING)
    {
      kiln_render_job_pay_owed (self);
      return;
    }

  kiln_render_job_assemble_ready (self);
  if (g_hash_table_size (self->assembling) > 0)
    {
      kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_ASSEMBLING);
      return;
    }

  if (kiln_render_job_get_frames_done (self) < kiln_render_job_get_frames_total (self))
    return;

  kiln_render_job_log (self, -1, _("Every frame is in “%s”"), self->record->output_dir);
  kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_PAYING);
  kiln_render_job_pay_owed (self);
}

/* Approving --------------------------------------------------------------------------------- */

/* Copies of the verified images to where they are kept. */
typedef struct
{
  GPtrArray *sources;
  GPtrArray *targets;
} Keeping;

static void
keeping_free (gpointer data)
{
  Keeping *keeping = data;

  g_ptr_array_unref (keeping->sources);
  g_ptr_array_unref (keeping->targets);
  g_free (keeping);
}

/* Each copy is written beside its target and renamed over it once complete. */
static void
keep_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Keeping *keeping = task_data;

  for (guint i = 0; i < keeping->sources->len; i++)
    {
      const char *target = g_ptr_array_index (keeping->targets, i);
      g_autofree char *part = g_strconcat (target, ".part", NULL);
      g_autoptr(GFile) from = g_file_new_for_path (g_ptr_array_index (keeping->sources, i));
      g_autoptr(GFile) to = g_file_new_for_path (part);
      g_autoptr(GError) error = NULL;

      if (!g_file_copy (from, to, G_FILE_COPY_OVERWRITE, cancellable, NULL, NULL, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      if (g_rename (part, target) != 0)
        {
          int saved = errno;

          g_unlink (part);
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _("Could not write “%s”: %s"), target, g_strerror (saved));
          return;
        }
    }

  g_task_return_boolean (task, TRUE);
}

static void
on_approval_saved (KilnRenderJob *self,
                   gpointer       data,
                   const GError  *error)
{
  Assignment *assignment = data;
  KilnJobAssignmentRecord *record = assignment->record;
  const KilnSubtask *subtask = kiln_render_job_plan_subtask (self, record->subtask);
  KilnApproveBody approve = { 0 };
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) local_error = NULL;

  memcpy (approve.terms, record->terms_digest, sizeof approve.terms);
  approve.amount = record->owed;
  body = kiln_approve_body_encode (&approve, &local_error);
  if (body != NULL)
    kiln_render_job_send (self, &record->provider, KILN_MESSAGE_APPROVE, body);
  else
    g_warning ("Could not encode an APPROVE: %s", local_error->message);

  kiln_render_job_record_reputation (self, &record->provider, KILN_REPUTATION_ACCEPTED);
  kiln_render_job_release_slot (self, assignment);
  remove_result_dir (assignment);
  kiln_render_job_notify_money (self);

  if (!subtask->use_border)
    for (int f = subtask->frame_start; f <= subtask->frame_end; f += subtask->frame_step)
      {
        g_autofree char *path = kiln_render_job_frame_path (self, f);

        kiln_render_job_mark_frame_ready (self, f, path);
      }

  kiln_render_job_subtask_changed (self, record->subtask);
  if (subtask->use_border)
    kiln_render_job_assemble_ready (self);
  kiln_render_job_schedule_dispatch (self);
}

static void
on_kept (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(Step) step = user_data;
  g_autoptr(KilnRenderJob) self = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *who = NULL;
  g_autofree char *amount = NULL;
  Assignment *assignment;
  Subtask *subtask;
  gboolean kept;

  kept = g_task_propagate_boolean (G_TASK (result), &error);
  assignment = step_resolve (step, KILN_ASSIGNMENT_DELIVERED, &self);
  if (assignment == NULL)
    return;

  if (!kept)
    {
      g_prefix_error (&error, _("Could not keep the rendered images: "));
      kiln_render_job_fail (self, error);
      return;
    }

  /* Recorded before the provider is told, and before anything more depends on it. */
  kiln_render_job_clear_timeout (assignment);
  assignment->record->state = KILN_ASSIGNMENT_APPROVED;
  assignment->record->finished_at = kiln_render_job_now_us ();
  subtask = &g_array_index (self->subtasks, Subtask, assignment->record->subtask);
  subtask->state = KILN_SUBTASK_STATE_DONE;
  subtask->current = NULL;
  subtask->done_attempt = assignment->record->attempt;
  subtask->done_at = assignment->record->finished_at;
  kiln_render_job_reset_announce_backoff (self);

  who = kiln_render_job_describe_provider (&assignment->record->provider);
  amount = kiln_render_job_format_amount (&assignment->record->owed);
  kiln_render_job_log (self, assignment->record->subtask, _("Verified the result of %s: %s "
                                                            "owed"), who, amount);
  kiln_render_job_save (self, assignment->record->subtask, assignment, on_approval_saved,
                        assignment);
}

static void
approve_result (KilnRenderJob *self,
                Assignment    *assignment)
{
  const KilnSubtask *subtask = kiln_render_job_plan_subtask (self, assignment->record->subtask);
  g_autoptr(GTask) task = NULL;
  Keeping *keeping;
  gint64 micros;
  guint64 seconds;

  /* Paid for the time from the acceptance to the result, as measured here. */
  micros = MAX (assignment->record->result_at - assignment->record->accepted_at, 0);
  seconds = MAX ((micros + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1);
  kiln_terms_compute_payment (assignment->terms, seconds, &assignment->record->owed);

  keeping = g_new0 (Keeping, 1);
  keeping->sources = g_ptr_array_new_with_free_func (g_free);
  keeping->targets = g_ptr_array_new_with_free_func (g_free);
  if (subtask->use_border)
    {
      g_ptr_array_add (keeping->sources, g_strdup (g_ptr_array_index (assignment->paths, 0)));
      g_ptr_array_add (keeping->targets, kiln_render_job_strip_path (self, subtask->index));
    }
  else
    {
      guint i = 0;

      for (int f = subtask->frame_start; f <= subtask->frame_end; f += subtask->frame_step, i++)
        {
          g_ptr_array_add (keeping->sources, g_strdup (g_ptr_array_index (assignment->paths, i)));
          g_ptr_array_add (keeping->targets, kiln_render_job_frame_path (self, f));
        }
    }

  task = g_task_new (NULL, assignment->cancellable, on_kept,
                     step_new (self, assignment->record->attempt));
  g_task_set_source_tag (task, approve_result);
  g_task_set_task_data (task, keeping, keeping_free);
  g_task_run_in_thread (task, keep_in_thread);
}

/* Verifying --------------------------------------------------------------------------------- */

static void verify_next (KilnRenderJob *self);

static void
on_verified (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(Step) step = user_data;
  g_autoptr(KilnRenderJob) self = NULL;
  g_autoptr(KilnVerdict) verdict = NULL;
  g_autoptr(GError) error = NULL;
  Assignment *assignment;

  verdict = kiln_verifier_verify_finish (KILN_VERIFIER (source), result, &error);
  assignment = step_resolve (step, KILN_ASSIGNMENT_DELIVERED, &self);
  if (self == NULL)
    return;

  if (self->verifying != NULL && self->verifying->record->attempt == step->attempt)
    self->verifying = NULL;

  if (assignment == NULL)
    {
      verify_next (self);
      return;
    }

  if (verdict == NULL)
    {
      g_autoptr(GError) failure = NULL;

      failure = g_error_new (KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_VERIFICATION,
                             _("Results cannot be verified on this computer: %s"),
                             error->message);
      kiln_render_job_fail (self, failure);
      return;
    }

  switch (verdict->result)
    {
    case KILN_VERDICT_UNCHECKED:
      kiln_render_job_log (self, assignment->record->subtask,
                           _("The images are whole, but OpenEXR pixels cannot be compared"));
      G_GNUC_FALLTHROUGH;
    case KILN_VERDICT_ACCEPTED:
      approve_result (self, assignment);
      break;

    case KILN_VERDICT_MISSING:
    case KILN_VERDICT_MALFORMED:
    case KILN_VERDICT_MISMATCH:
    default:
      reject_result (self, assignment, verdict->reason != NULL ? verdict->reason
                                                               : _("failed verification"));
      break;
    }

  verify_next (self);
}

/* One verification at a time: each runs Blender on every core. */
static void
verify_next (KilnRenderJob *self)
{
  Assignment *assignment;

  if (self->verifying != NULL)
    return;

  assignment = g_queue_pop_head (&self->verify_queue);
  if (assignment == NULL)
    return;

  self->verifying = assignment;
  kiln_render_job_log (self, assignment->record->subtask, _("Verifying the result"));
  kiln_verifier_verify_async (self->verifier,
                              kiln_render_job_plan_subtask (self, assignment->record->subtask),
                              self->record->blend_file,
                              (const char * const *) assignment->paths->pdata,
                              assignment->cancellable, on_verified,
                              step_new (self, assignment->record->attempt));
}

/* Fetching ---------------------------------------------------------------------------------- */

static void fetch_next (KilnRenderJob *self,
                        Assignment    *assignment);

static void
on_copied (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(Step) step = user_data;
  g_autoptr(KilnRenderJob) self = NULL;
  g_autoptr(GError) error = NULL;
  Assignment *assignment;
  gboolean copied;

  copied = g_file_copy_finish (G_FILE (source), result, &error);
  assignment = step_resolve (step, KILN_ASSIGNMENT_DELIVERED, &self);
  if (assignment == NULL)
    return;

  if (!copied)
    {
      kiln_render_job_fail (self, error);
      return;
    }

  assignment->next_output++;
  fetch_next (self, assignment);
}

static void
on_fetched (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(Step) step = user_data;
  g_autoptr(KilnRenderJob) self = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stored = NULL;
  g_autoptr(GFile) from = NULL;
  g_autoptr(GFile) to = NULL;
  Assignment *assignment;

  stored = kiln_transfer_fetch_finish (KILN_TRANSFER (source), result, &error);
  assignment = step_resolve (step, KILN_ASSIGNMENT_DELIVERED, &self);
  if (assignment == NULL)
    return;

  if (stored == NULL)
    {
      g_autofree char *why = g_strdup_printf (_("its result could not be fetched: %s"),
                                              error->message);

      send_reject (self, assignment, KILN_MARKET_REASON_MISSING_FILE, why);
      if (self->book != NULL)
        kiln_offer_book_remove (self->book, &assignment->record->provider);
      remove_result_dir (assignment);
      kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_FAILED, why);
      return;
    }

  /* The copy in the job's folder is what is checked and kept; the store's copy may go
   * whenever the store needs room. */
  from = g_file_new_for_path (stored);
  to = g_file_new_for_path (g_ptr_array_index (assignment->paths, assignment->next_output));
  g_file_copy_async (from, to, G_FILE_COPY_OVERWRITE, G_PRIORITY_DEFAULT,
                     assignment->cancellable, NULL, NULL, on_copied,
                     step_new (self, assignment->record->attempt));
}

static void
fetch_next (KilnRenderJob *self,
            Assignment    *assignment)
{
  const KilnMarketFile *output;
  KilnEnginePeer *peer;
  KilnLink *link;
  g_autofree char *hash = NULL;
  guint index;

  if (assignment->next_output >= assignment->paths->len)
    {
      /* Every image is here: remove them from the content store and verify. */
      for (guint i = 0; i < assignment->record->outputs->len; i++)
        {
          g_autofree char *stored_hash =
            kiln_content_hash_to_hex (((KilnMarketFile *)
                                       g_ptr_array_index (assignment->record->outputs, i))->sha256);

          kiln_content_store_remove (kiln_engine_get_content_store (self->engine), stored_hash,
                                     NULL);
        }
      g_queue_push_tail (&self->verify_queue, assignment);
      verify_next (self);
      return;
    }

  index = assignment->next_output;
  output = g_ptr_array_index (assignment->record->outputs, index);
  peer = kiln_engine_lookup_peer (self->engine, &assignment->record->provider);
  link = peer != NULL ? kiln_engine_peer_get_link (peer) : NULL;
  if (link == NULL)
    {
      remove_result_dir (assignment);
      kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_FAILED,
                                      _("the provider went away before its result was "
                                        "fetched"));
      return;
    }

  hash = kiln_content_hash_to_hex (output->sha256);
  kiln_transfer_fetch_async (kiln_engine_get_transfer (self->engine), link, hash, output->size,
                             NULL, NULL, NULL, assignment->cancellable, on_fetched,
                             step_new (self, assignment->record->attempt));
}

/* The outputs in frame order: by their names when they are the names Blender gives
 * (frame_0001.png), else in the order they were listed. NULL when their number is wrong. */
static GPtrArray *
order_outputs (KilnRenderJob     *self,
               const KilnSubtask *subtask,
               GPtrArray         *outputs)
{
  g_autoptr(GPtrArray) ordered =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_market_file_free);
  g_autoptr(KilnRenderSpec) spec = kiln_render_spec_new ();
  gboolean by_name = TRUE;

  if (outputs->len != kiln_subtask_get_n_frames (subtask))
    return NULL;

  spec->output_dir = g_strdup ("/");
  spec->format = subtask->format;
  for (int f = subtask->frame_start; f <= subtask->frame_end && by_name; f += subtask->frame_step)
    {
      g_autofree char *path = kiln_render_spec_get_output_path (spec, f);
      g_autofree char *name = g_path_get_basename (path);
      const KilnMarketFile *found = NULL;

      for (guint i = 0; i < outputs->len && found == NULL; i++)
        if (g_strcmp0 (((KilnMarketFile *) g_ptr_array_index (outputs, i))->name, name) == 0)
          found = g_ptr_array_index (outputs, i);

      if (found != NULL)
        g_ptr_array_add (ordered, kiln_market_file_copy (found));
      else
        by_name = FALSE;
    }

  if (!by_name)
    {
      g_ptr_array_set_size (ordered, 0);
      for (guint i = 0; i < outputs->len; i++)
        g_ptr_array_add (ordered, kiln_market_file_copy (g_ptr_array_index (outputs, i)));
    }

  return g_steal_pointer (&ordered);
}

void
kiln_render_job_on_result (KilnEngine     *engine,
                           KilnEnginePeer *peer,
                           KilnMessage    *message,
                           gpointer        user_data)
{
  KilnRenderJob *self = user_data;
  g_autoptr(KilnResultBody) body = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir_name = NULL;
  g_autofree char *who = NULL;
  const KilnSubtask *subtask;
  Assignment *assignment;

  if (!self->active)
    return;

  body = kiln_result_body_decode (kiln_message_get_body (message), &error);
  if (body == NULL)
    return;

  assignment = g_hash_table_lookup (self->by_terms, body->terms);
  if (assignment == NULL ||
      !kiln_address_equal (kiln_message_get_author (message), &assignment->record->provider))
    return;

  if (assignment->record->state != KILN_ASSIGNMENT_ACCEPTED || self->cancelling)
    {
      /* Work that was withdrawn or timed out is not taken, nor paid: say so again. */
      if (assignment->record->state != KILN_ASSIGNMENT_DELIVERED &&
          assignment->record->state != KILN_ASSIGNMENT_APPROVED)
        send_reject (self, assignment, KILN_MARKET_REASON_CANCELLED,
                     _("This assignment was withdrawn; its result is not taken."));
      return;
    }

  subtask = kiln_render_job_plan_subtask (self, assignment->record->subtask);
  who = kiln_render_job_describe_provider (&assignment->record->provider);
  assignment->record->result_at = kiln_render_job_now_us ();
  assignment->record->cpu_ms = body->cpu_ms;
  outputs = order_outputs (self, subtask, body->outputs);
  if (outputs == NULL)
    {
      guint expected = kiln_subtask_get_n_frames (subtask);
      g_autofree char *why = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                           "the result does not have the %u "
                                                           "image asked for",
                                                           "the result does not have the %u "
                                                           "images asked for", expected),
                                              expected);

      assignment->record->outputs = g_steal_pointer (&body->outputs);
      assignment->record->state = KILN_ASSIGNMENT_DELIVERED;
      reject_result (self, assignment, why);
      return;
    }

  kiln_render_job_clear_timeout (assignment);
  assignment->record->outputs = g_steal_pointer (&outputs);
  assignment->record->state = KILN_ASSIGNMENT_DELIVERED;
  /* The provider is free once its result is in: its next subtask does not wait for this
   * one to be fetched and verified. */
  kiln_render_job_release_slot (self, assignment);
  kiln_render_job_schedule_dispatch (self);
  kiln_render_job_log (self, assignment->record->subtask,
                       g_dngettext (GETTEXT_PACKAGE, "Result from %s: %u image",
                                    "Result from %s: %u images", assignment->record->outputs->len),
                       who, assignment->record->outputs->len);
  kiln_render_job_set_subtask_state (self, assignment->record->subtask,
                                     KILN_SUBTASK_STATE_VERIFYING);
  kiln_render_job_save (self, assignment->record->subtask, assignment, NULL, NULL);

  /* Fetched into a folder of its own, under the names Blender gives them. */
  dir_name = g_strdup_printf ("attempt-%u", assignment->record->attempt);
  assignment->result_dir = g_build_filename (self->record->work_dir, "results", dir_name, NULL);
  if (g_mkdir_with_parents (assignment->result_dir, 0700) != 0)
    {
      int saved = errno;

      error = g_error_new (G_IO_ERROR, g_io_error_from_errno (saved),
                           _("Could not make the folder “%s”: %s"), assignment->result_dir,
                           g_strerror (saved));
      kiln_render_job_fail (self, error);
      return;
    }

  assignment->cancellable = g_cancellable_new ();
  assignment->paths = g_ptr_array_new_null_terminated (assignment->record->outputs->len, g_free,
                                                       TRUE);
  {
    g_autoptr(KilnRenderSpec) spec = kiln_render_spec_new ();

    spec->output_dir = g_strdup (assignment->result_dir);
    spec->format = subtask->format;
    for (int f = subtask->frame_start; f <= subtask->frame_end; f += subtask->frame_step)
      g_ptr_array_add (assignment->paths, kiln_render_spec_get_output_path (spec, f));
  }
  assignment->next_output = 0;
  fetch_next (self, assignment);
}
