/* kiln-render-page-private.h: what the parts of the Render page share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-render-page.c         the page's views, opening and reading scenes, dropping files
 * kiln-render-page-sample.c  the sample scene Blender makes on request
 * kiln-render-page-job.c     submitting jobs, the list of jobs, and the page of one
 */
#pragma once

#include "kiln-job-form.h"
#include "kiln-job-page.h"
#include "kiln-render-job.h"
#include "kiln-render-page.h"

G_BEGIN_DECLS

struct _KilnRenderPage
{
  AdwBin           parent_instance;

  AdwLeaflet      *leaflet;           /* home, or one job's page */
  AdwLeaflet      *home_leaflet;      /* the scene, and the jobs beside it when there is room */
  GtkStack        *stack;
  AdwStatusPage   *empty_page;
  GtkButton       *open_button;
  AdwStatusPage   *busy_page;
  GtkSpinner      *busy_spinner;
  AdwStatusPage   *error_page;
  GtkButton       *error_reload_button;
  GtkButton       *show_jobs_button;
  KilnJobForm     *job_form;
  GtkWidget       *jobs_separator;
  GtkWidget       *jobs_panel;
  GtkButton       *jobs_back_button;
  GtkStack        *jobs_stack;
  GtkListBox      *jobs_list;
  AdwStatusPage   *jobs_error_page;
  KilnJobPage     *job_page;

  KilnSession     *session;
  KilnSandbox     *sandbox;
  KilnBlender     *blender;
  GCancellable    *cancellable;       /* everything, until dispose */
  GCancellable    *read_cancellable;  /* finding Blender, reading a scene, making the sample */

  GFile           *file;              /* the scene read or shown */
  KilnSceneInfo   *scene;             /* what the form shows, NULL before a scene is read */
  gboolean         sample;            /* the file is the sample scene */
  char            *view_before_drop;  /* what a file dragged over the page hides */

  gboolean         submitting;
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
/* Shows the session's jobs in the list (none when @session is NULL). */
void      kiln_render_page_bind_jobs     (KilnRenderPage  *self,
                                          KilnSession     *session);
/* Back from a job's page to the scene and the list. */
void      kiln_render_page_show_home     (KilnRenderPage  *self);
void      kiln_render_page_show_jobs_panel (KilnRenderPage *self,
                                            gboolean        jobs);
void      kiln_render_page_update_jobs   (KilnRenderPage  *self);

G_END_DECLS
