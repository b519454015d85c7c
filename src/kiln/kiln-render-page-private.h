/* kiln-render-page-private.h: what the parts of the Render page share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-render-page.c         the page's views, opening and reading scenes, dropping files
 * kiln-render-page-sample.c  the sample scene Blender makes on request
 * kiln-render-page-job.c     submitting the job and following it
 */
#pragma once

#include "kiln-job-form.h"
#include "kiln-render-job.h"
#include "kiln-render-page.h"

G_BEGIN_DECLS

struct _KilnRenderPage
{
  AdwBin           parent_instance;

  GtkStack        *stack;
  AdwStatusPage   *empty_page;
  GtkButton       *open_button;
  AdwStatusPage   *busy_page;
  GtkSpinner      *busy_spinner;
  AdwStatusPage   *error_page;
  GtkButton       *error_reload_button;
  KilnJobForm     *job_form;
  GtkLabel        *job_title_label;
  GtkLabel        *job_state_label;
  GtkProgressBar  *job_progress;
  GtkLabel        *job_frames_label;
  GtkLabel        *job_cost_label;
  GtkLabel        *job_frame_label;
  GtkLabel        *job_error_label;
  GtkButton       *job_cancel_button;
  GtkButton       *job_new_button;

  KilnSession     *session;
  KilnSandbox     *sandbox;
  KilnBlender     *blender;
  GCancellable    *cancellable;       /* everything, until dispose */
  GCancellable    *read_cancellable;  /* finding Blender, reading a scene, making the sample */

  GFile           *file;              /* the scene read or shown */
  KilnSceneInfo   *scene;             /* what the form shows, NULL before a scene is read */
  gboolean         sample;            /* the file is the sample scene */
  char            *view_before_drop;  /* what a file dragged over the page hides */

  KilnRenderJob   *job;               /* the job shown, running or ended */
  gboolean         submitting;
  gboolean         cancelling;
};

/* kiln-render-page.c */
void      kiln_render_page_show_message  (KilnRenderPage  *self,
                                          const char      *message);
void      kiln_render_page_show_view     (KilnRenderPage  *self,
                                          const char      *name);
/* Starts reading @file (the sample scene when @sample). */
void      kiln_render_page_read          (KilnRenderPage  *self,
                                          GFile           *file,
                                          gboolean         sample);
/* The folder the frames of the sample scene go to: Pictures/Kiln Sample. */
char     *kiln_render_page_sample_output_dir (void);

/* kiln-render-page-sample.c */
/* Has @blender make the sample scene in Kiln's cache folder (once: later calls find it
 * there), in @sandbox when one can be used. Completes with its path. */
void      kiln_sample_scene_make_async   (KilnBlender         *blender,
                                          KilnSandbox         *sandbox,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
char     *kiln_sample_scene_make_finish  (GAsyncResult        *result,
                                          GError             **error);

/* kiln-render-page-job.c */
void      kiln_render_page_submit        (KilnRenderPage  *self);
/* Whether the job shown is still under way (not done, failed or cancelled). */
gboolean  kiln_render_page_job_is_active (KilnRenderPage  *self);
void      kiln_render_page_cancel_job    (KilnRenderPage  *self);
void      kiln_render_page_close_job     (KilnRenderPage  *self);
void      kiln_render_page_open_output   (KilnRenderPage  *self);
void      kiln_render_page_drop_job      (KilnRenderPage  *self);

G_END_DECLS
