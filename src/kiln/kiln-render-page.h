/* kiln-render-page.h: rendering a scene: drop a .blend, check the job, submit, follow the jobs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"
#include "kiln-session.h"

G_BEGIN_DECLS

#define KILN_TYPE_RENDER_PAGE (kiln_render_page_get_type ())

G_DECLARE_FINAL_TYPE (KilnRenderPage, kiln_render_page, KILN, RENDER_PAGE, AdwBin)

/* Property "session": its wallet pays for jobs and its engine runs them. */
KilnSession *kiln_render_page_get_session (KilnRenderPage *self);
void         kiln_render_page_set_session (KilnRenderPage *self,
                                           KilnSession    *session);

/* Reads @file (a .blend) and shows the job form for it, or what is wrong with it. */
void         kiln_render_page_open_file   (KilnRenderPage *self,
                                           GFile          *file);

/* Asks for a .blend file with the file chooser, then opens it. */
void         kiln_render_page_choose_file (KilnRenderPage *self);

/* Shows the page of the session's render job with that ID: its frames, subtasks, payments
 * and log. FALSE when the session has no such job. */
gboolean     kiln_render_page_show_job    (KilnRenderPage *self,
                                           const char     *id);

G_END_DECLS
