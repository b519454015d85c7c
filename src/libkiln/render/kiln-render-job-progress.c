/* kiln-render-job-progress.c: what a render job says of itself (its files, state, subtasks,
 * providers, costs and log), and another try for a subtask that failed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-market.h"
#include "kiln-render-job-private.h"

KilnEngine *
kiln_render_job_get_engine (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return self->engine;
}

const char *
kiln_render_job_get_id (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return self->record->id;
}

const char *
kiln_render_job_get_name (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return self->record->name;
}

const char *
kiln_render_job_get_blend_file (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return self->record->blend_file;
}

const char *
kiln_render_job_get_output_dir (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return self->record->output_dir;
}

KilnRenderJobState
kiln_render_job_get_state (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), KILN_RENDER_JOB_STATE_FAILED);

  return self->record->state;
}

const char *
kiln_render_job_get_error (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return self->record->error;
}

const KilnRenderJobSettings *
kiln_render_job_get_settings (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return self->settings;
}

KilnJobPlan *
kiln_render_job_get_plan (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return self->plan;
}

guint
kiln_render_job_get_frames_done (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), 0);

  return g_hash_table_size (self->ready_frames);
}

guint
kiln_render_job_get_frames_total (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), 0);

  return self->plan != NULL ? kiln_frame_spec_get_n_frames (kiln_job_plan_get_frames (self->plan))
                            : 0;
}

guint
kiln_render_job_get_n_subtasks (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), 0);

  return self->subtasks->len;
}

guint
kiln_render_job_get_subtasks_done (KilnRenderJob *self)
{
  guint done = 0;

  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), 0);

  for (guint i = 0; i < self->subtasks->len; i++)
    done += g_array_index (self->subtasks, Subtask, i).state == KILN_SUBTASK_STATE_DONE;
  return done;
}

KilnSubtaskState
kiln_render_job_get_subtask_state (KilnRenderJob *self,
                                   guint          index)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), KILN_SUBTASK_STATE_PENDING);
  g_return_val_if_fail (index < self->subtasks->len, KILN_SUBTASK_STATE_PENDING);

  return g_array_index (self->subtasks, Subtask, index).state;
}

gboolean
kiln_render_job_get_subtask_provider (KilnRenderJob *self,
                                      guint          index,
                                      KilnAddress   *out)
{
  const Subtask *subtask;

  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), FALSE);
  g_return_val_if_fail (index < self->subtasks->len, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  subtask = &g_array_index (self->subtasks, Subtask, index);
  if (subtask->current != NULL)
    {
      *out = subtask->current->record->provider;
      return TRUE;
    }

  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *assignment = g_ptr_array_index (self->assignments, i);

      if (subtask->state == KILN_SUBTASK_STATE_DONE &&
          assignment->record->attempt == subtask->done_attempt)
        {
          *out = assignment->record->provider;
          return TRUE;
        }
    }
  return FALSE;
}

char *
kiln_render_job_dup_frame_path (KilnRenderJob *self,
                                int            frame)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  if (self->plan == NULL || !g_hash_table_contains (self->ready_frames, GINT_TO_POINTER (frame)))
    return NULL;

  return kiln_render_job_frame_path (self, frame);
}

static gboolean
assignment_failed (const KilnJobAssignmentRecord *record)
{
  return record->state == KILN_ASSIGNMENT_REJECTED ||
         record->state == KILN_ASSIGNMENT_FAILED ||
         record->state == KILN_ASSIGNMENT_TIMED_OUT;
}

/* The last assignment of subtask @index, or NULL before the first. */
static Assignment *
last_assignment (KilnRenderJob *self,
                 guint          index)
{
  for (guint i = self->assignments->len; i > 0; i--)
    {
      Assignment *assignment = g_ptr_array_index (self->assignments, i - 1);

      if (assignment->record->subtask == index)
        return assignment;
    }
  return NULL;
}

gboolean
kiln_render_job_get_subtask_failed (KilnRenderJob  *self,
                                    guint           index,
                                    const char    **reason)
{
  Assignment *last;

  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), FALSE);
  g_return_val_if_fail (index < self->subtasks->len, FALSE);

  if (reason != NULL)
    *reason = NULL;

  if (g_array_index (self->subtasks, Subtask, index).state != KILN_SUBTASK_STATE_PENDING ||
      self->assignments == NULL)
    return FALSE;

  last = last_assignment (self, index);
  if (last == NULL || !assignment_failed (last->record))
    return FALSE;

  if (reason != NULL)
    *reason = last->record->reason;
  return TRUE;
}

gboolean
kiln_render_job_retry_subtask (KilnRenderJob  *self,
                               guint           index,
                               GError        **error)
{
  gint64 now = kiln_render_job_now_s ();
  guint forgiven = 0;

  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), FALSE);
  g_return_val_if_fail (index < self->subtasks->len, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (kiln_render_job_state_is_final (self->record->state) || self->cancelling ||
      !self->active)
    {
      g_set_error_literal (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_NOT_RUNNING,
                           _("The render has ended: its subtasks cannot be tried again."));
      return FALSE;
    }

  if (!kiln_render_job_get_subtask_failed (self, index, NULL))
    {
      g_set_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_INVALID,
                   _("Subtask %u has not failed: there is nothing to try again."), index + 1);
      return FALSE;
    }

  /* Every provider that failed this subtask gets another chance at the job. */
  for (guint i = 0; i < self->assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record =
        ((Assignment *) g_ptr_array_index (self->assignments, i))->record;
      KilnOffer *offer;

      if (record->subtask != index || !assignment_failed (record))
        continue;

      if (g_hash_table_remove (self->excluded, &record->provider))
        forgiven++;

      /* Its offer comes back while it stands: offers are only made once per announcement. */
      offer = g_hash_table_lookup (self->assigned_offers, &record->provider);
      if (offer != NULL && self->book != NULL)
        {
          g_autoptr(GError) local_error = NULL;

          if (!kiln_offer_book_add (self->book, offer, now, &local_error) &&
              !g_error_matches (local_error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_STALE))
            g_debug ("Render job %s: the offer of a provider given another chance is not "
                     "taken back: %s", self->record->id, local_error->message);
        }
    }

  if (forgiven == 0)
    kiln_render_job_log (self, index, _("Tried again"));
  else
    kiln_render_job_log (self, index,
                         /* Translators: %u is the number of providers that failed this
                          * subtask before and may now be given it again. */
                         g_dngettext (GETTEXT_PACKAGE, "Tried again; %u provider that had "
                                      "failed it can take part again",
                                      "Tried again; %u providers that had failed it can take "
                                      "part again", forgiven),
                         forgiven);
  kiln_render_job_schedule_dispatch (self);
  kiln_render_job_refresh_state (self);
  return TRUE;
}

static void
sum_approved (KilnRenderJob *self,
              gboolean       unpaid_only,
              KilnUint256   *out)
{
  kiln_uint256_from_uint64 (out, 0);
  for (guint i = 0; i < self->assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record =
        ((Assignment *) g_ptr_array_index (self->assignments, i))->record;

      if (record->state != KILN_ASSIGNMENT_APPROVED)
        continue;
      if (unpaid_only && record->payment_id > 0)
        continue;
      /* Amounts are below 2^128 and there are at most 10^4 subtasks: no overflow. */
      if (!kiln_uint256_add (out, out, &record->owed))
        g_assert_not_reached ();
    }
}

void
kiln_render_job_get_cost (KilnRenderJob *self,
                          KilnUint256   *out)
{
  g_return_if_fail (KILN_IS_RENDER_JOB (self));
  g_return_if_fail (out != NULL);

  sum_approved (self, FALSE, out);
}

void
kiln_render_job_get_max_cost (KilnRenderJob *self,
                              KilnUint256   *out)
{
  g_return_if_fail (KILN_IS_RENDER_JOB (self));
  g_return_if_fail (out != NULL);

  *out = self->record->max_cost;
}

void
kiln_render_job_get_owed (KilnRenderJob *self,
                          KilnUint256   *out)
{
  g_return_if_fail (KILN_IS_RENDER_JOB (self));
  g_return_if_fail (out != NULL);

  sum_approved (self, TRUE, out);
}

const guint8 *
kiln_render_job_get_task_id (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return self->announcement != NULL ? kiln_task_announcement_get_task_id (self->announcement)
                                    : NULL;
}

GPtrArray *
kiln_render_job_get_assignments (KilnRenderJob *self)
{
  GPtrArray *records;

  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  records = g_ptr_array_new ();
  for (guint i = 0; i < self->assignments->len; i++)
    g_ptr_array_add (records, ((Assignment *) g_ptr_array_index (self->assignments, i))->record);
  return records;
}

GListModel *
kiln_render_job_get_events (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), NULL);

  return G_LIST_MODEL (self->events);
}
