/* kiln-job-text.c: render jobs in words, as the jobs list and the job page show them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-amount.h"
#include "kiln-job-text.h"
#include "kiln-util.h"

const char *
kiln_job_text_state (KilnRenderJobState state)
{
  switch (state)
    {
    case KILN_RENDER_JOB_STATE_PREPARING:
      return _("Preparing the scene’s files…");
    case KILN_RENDER_JOB_STATE_ANNOUNCING:
      return _("Waiting for providers…");
    case KILN_RENDER_JOB_STATE_RUNNING:
      return _("Rendering…");
    case KILN_RENDER_JOB_STATE_VERIFYING:
      return _("Checking the results…");
    case KILN_RENDER_JOB_STATE_ASSEMBLING:
      return _("Joining strips…");
    case KILN_RENDER_JOB_STATE_PAYING:
      return _("Paying providers…");
    case KILN_RENDER_JOB_STATE_DONE:
      return _("Done");
    case KILN_RENDER_JOB_STATE_FAILED:
      return _("Failed");
    case KILN_RENDER_JOB_STATE_CANCELLED:
    default:
      return _("Cancelled");
    }
}

char *
kiln_job_text_frames (KilnRenderJob *job)
{
  guint done = kiln_render_job_get_frames_done (job);
  guint total = kiln_render_job_get_frames_total (job);

  /* TRANSLATORS: frames rendered and verified so far, of all the job's frames */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u frame", "%u of %u frames",
                                       total),
                          done, total);
}

static void
token_of (KilnChain   *chain,
          guint       *decimals,
          const char **symbol)
{
  *decimals = chain != NULL ? kiln_chain_get_token_decimals (chain) : KILN_MARKET_TOKEN_DECIMALS;
  *symbol = chain != NULL ? kiln_chain_get_token_symbol (chain) : "GNT";
}

char *
kiln_job_text_amount (const KilnUint256  *amount,
                      KilnChain          *chain,
                      char              **exact)
{
  guint decimals;
  const char *symbol;

  token_of (chain, &decimals, &symbol);
  if (exact != NULL)
    *exact = kiln_amount_format_exact (amount, decimals, symbol);

  return kiln_amount_format_with_symbol (amount, decimals, symbol, KILN_AMOUNT_ROUND_UP, NULL);
}

char *
kiln_job_text_cost (KilnRenderJob  *job,
                    KilnChain      *chain,
                    char          **exact)
{
  KilnUint256 cost, max_cost;
  g_autofree char *cost_text = NULL;
  g_autofree char *max_text = NULL;
  g_autofree char *cost_exact = NULL;
  g_autofree char *max_exact = NULL;

  kiln_render_job_get_cost (job, &cost);
  kiln_render_job_get_max_cost (job, &max_cost);
  cost_text = kiln_job_text_amount (&cost, chain, &cost_exact);
  max_text = kiln_job_text_amount (&max_cost, chain, &max_exact);

  if (exact != NULL)
    /* TRANSLATORS: a tooltip: what verified work costs so far, then the most the job can
     * cost, both exact */
    *exact = g_strdup_printf (_("Cost so far %s\nAt most %s"), cost_exact, max_exact);

  /* TRANSLATORS: what verified work costs so far, then the most the job can cost */
  return g_strdup_printf (_("%s of at most %s"), cost_text, max_text);
}

char *
kiln_job_text_subtask (KilnJobPlan *plan,
                       guint        index)
{
  const KilnSubtask *subtask = kiln_job_plan_get_subtask (plan, index);

  if (subtask->use_border)
    {
      g_autoptr(GPtrArray) parts = kiln_job_plan_get_subtasks_for_frame (plan,
                                                                         subtask->frame_start);
      guint part = 0;

      for (guint i = 0; i < parts->len; i++)
        if (((const KilnSubtask *) g_ptr_array_index (parts, i))->index == index)
          part = i + 1;

      /* TRANSLATORS: a subtask that renders one strip of a frame */
      return g_strdup_printf (_("Frame %d, strip %u of %u"), subtask->frame_start, part,
                              parts->len);
    }

  if (subtask->frame_start == subtask->frame_end)
    return g_strdup_printf (_("Frame %d"), subtask->frame_start);

  if (subtask->frame_step > 1)
    /* TRANSLATORS: a run of frames, every nth one */
    return g_strdup_printf (_("Frames %d–%d, every %d"), subtask->frame_start,
                            subtask->frame_end, subtask->frame_step);

  /* TRANSLATORS: a run of frames */
  return g_strdup_printf (_("Frames %d–%d"), subtask->frame_start, subtask->frame_end);
}

char *
kiln_job_text_address (const KilnAddress  *address,
                       char              **full)
{
  char text[KILN_ADDRESS_STRING_SIZE];

  kiln_address_format (address, text);
  if (full != NULL)
    *full = g_strdup (text);

  return kiln_abbreviate_address (text);
}
