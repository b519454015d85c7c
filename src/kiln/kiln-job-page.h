/* kiln-job-page.h: one render job in full: frames, subtasks, payments and log
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"
#include "kiln-session.h"

G_BEGIN_DECLS

#define KILN_TYPE_JOB_PAGE (kiln_job_page_get_type ())

G_DECLARE_FINAL_TYPE (KilnJobPage, kiln_job_page, KILN, JOB_PAGE, AdwBin)

/* Its back button and Escape activate "render.show-jobs" (the Render page's). */
KilnJobPage   *kiln_job_page_new      (void);
/* Shows @job of @session (NULL: nothing), and follows it. */
void           kiln_job_page_set_job  (KilnJobPage   *self,
                                       KilnSession   *session,
                                       KilnRenderJob *job);
KilnRenderJob *kiln_job_page_get_job  (KilnJobPage   *self);
/* Puts the keyboard on the page (its back button), so that Escape leads back. */
void           kiln_job_page_focus    (KilnJobPage   *self);

G_END_DECLS
