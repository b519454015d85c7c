/* kiln-job-text.h: render jobs in words, as the jobs list and the job page show them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "libkiln.h"

G_BEGIN_DECLS

/* "Waiting for providers…", "Rendering…", "Done", "Failed", … */
const char *kiln_job_text_state        (KilnRenderJobState  state);
/* "3 of 12 frames" */
char       *kiln_job_text_frames       (KilnRenderJob      *job);
/* What verified work cost so far against the most the job can cost, in @chain's token (GNT
 * when @chain is NULL): "0.0124 GNT of at most 0.4167 GNT"; *@exact (nullable) gets both
 * amounts in full, for a tooltip. */
char       *kiln_job_text_cost         (KilnRenderJob      *job,
                                        KilnChain          *chain,
                                        char              **exact);
/* An amount of @chain's token (GNT when @chain is NULL): "0.0124 GNT". */
char       *kiln_job_text_amount       (const KilnUint256  *amount,
                                        KilnChain          *chain,
                                        char              **exact);
/* What subtask @index renders: "Frame 3", "Frames 1–4", "Frame 3, strip 2". */
char       *kiln_job_text_subtask      (KilnJobPlan        *plan,
                                        guint               index);
/* A provider's address shortened as wallets do: "0x2c75…5c23"; *@full (nullable) gets it
 * whole. */
char       *kiln_job_text_address      (const KilnAddress  *address,
                                        char              **full);

G_END_DECLS
