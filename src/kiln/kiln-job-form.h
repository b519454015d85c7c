/* kiln-job-form.h: the settings of a render job, prefilled from its scene, and what it may cost
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"
#include "kiln-render-job.h"
#include "kiln-session.h"

G_BEGIN_DECLS

#define KILN_TYPE_JOB_FORM (kiln_job_form_get_type ())

G_DECLARE_FINAL_TYPE (KilnJobForm, kiln_job_form, KILN, JOB_FORM, AdwBin)

/* Properties: "session" (its wallet gives the balance and the token, its engine the node the
 * job runs on), "scene", "problem" (why the job cannot be submitted as it is, for people; NULL
 * when it can) and "busy" (a submission is under way: the form is locked).
 *
 * Signals: ::submit: Submit was pressed (or Ctrl+Return) while there was no problem. */
KilnSession           *kiln_job_form_get_session       (KilnJobForm       *self);
void                   kiln_job_form_set_session       (KilnJobForm       *self,
                                                        KilnSession       *session);

/* Fills every field from @scene as kiln_render_job_settings_new_for_scene() proposes, and
 * lists what the person should know about the scene: denoising that Kiln leaves out, an output
 * format providers cannot write, missing files. @blender is the Blender that read it. */
void                   kiln_job_form_set_scene         (KilnJobForm       *self,
                                                        KilnSceneInfo     *scene,
                                                        KilnBlender       *blender);
KilnSceneInfo         *kiln_job_form_get_scene         (KilnJobForm       *self);

/* Where the frames go instead of the folder beside the scene. */
void                   kiln_job_form_set_output_dir    (KilnJobForm       *self,
                                                        const char        *path);

const char            *kiln_job_form_get_problem       (KilnJobForm       *self);

/* The settings as the form shows them, the price in the wallet's token; NULL while a field
 * has a mistake. */
KilnRenderJobSettings *kiln_job_form_dup_settings      (KilnJobForm       *self);

/* Says under the Submit button why the job could not start; NULL clears it. */
void                   kiln_job_form_show_submit_error (KilnJobForm       *self,
                                                        const char        *message);

gboolean               kiln_job_form_get_busy          (KilnJobForm       *self);
void                   kiln_job_form_set_busy          (KilnJobForm       *self,
                                                        gboolean           busy);

/* Puts the keyboard in the first field. */
void                   kiln_job_form_focus             (KilnJobForm       *self);

G_END_DECLS
