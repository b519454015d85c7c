/* kiln-job-row.h: one render job in the jobs list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"
#include "kiln-session.h"

G_BEGIN_DECLS

#define KILN_TYPE_JOB_ROW (kiln_job_row_get_type ())

G_DECLARE_FINAL_TYPE (KilnJobRow, kiln_job_row, KILN, JOB_ROW, GtkListBoxRow)

/* Shows @job's name, state, progress, frames and cost (in the token of @session's chain),
 * following it. */
GtkWidget     *kiln_job_row_new      (KilnRenderJob *job,
                                      KilnSession   *session);
KilnRenderJob *kiln_job_row_get_job  (KilnJobRow    *self);

G_END_DECLS
