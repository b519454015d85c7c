/* kiln-job-page-private.h: what the parts of the job page share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-job-page.c          the page, its summary and its actions
 * kiln-job-page-frames.c   the grid of frame thumbnails, filled as frames come in
 * kiln-job-page-details.c  subtasks, payments and the log
 */
#pragma once

#include "kiln-job-page.h"

G_BEGIN_DECLS

struct _KilnJobPage
{
  AdwBin          parent_instance;

  GtkButton      *back_button;
  GtkLabel       *title_label;
  GtkLabel       *state_label;
  GtkButton      *cancel_button;
  GtkButton      *remove_button;
  GtkProgressBar *progress;
  GtkLabel       *frames_label;
  GtkLabel       *cost_label;
  GtkLabel       *error_label;
  GtkWidget      *failed_box;
  GtkLabel       *failed_label;
  GtkFlowBox     *frames_box;
  GtkListBox     *subtasks_list;
  GtkListBox     *payments_list;
  GtkListBox     *log_list;
  GtkScrolledWindow *scroller;

  KilnSession    *session;
  KilnRenderJob  *job;
  GCancellable   *cancellable;     /* thumbnails and requests for the job shown */
  GHashTable     *frame_children;  /* frame → GtkFlowBoxChild */
  GPtrArray      *subtask_rows;    /* AdwActionRow, by subtask index */
  gboolean        cancelling;
};

/* kiln-job-page.c */
KilnChain *kiln_job_page_get_chain       (KilnJobPage *self);
void       kiln_job_page_show_message    (KilnJobPage *self,
                                          const char  *message);

/* kiln-job-page-frames.c */
void       kiln_job_page_frames_build    (KilnJobPage *self);
void       kiln_job_page_frames_clear    (KilnJobPage *self);
void       kiln_job_page_frame_ready     (KilnJobPage *self,
                                          int          frame,
                                          const char  *path);

/* kiln-job-page-details.c */
void       kiln_job_page_details_build   (KilnJobPage *self);
void       kiln_job_page_details_clear   (KilnJobPage *self);
void       kiln_job_page_subtask_changed (KilnJobPage *self,
                                          guint        index);
void       kiln_job_page_update_payments (KilnJobPage *self);
/* How many subtasks failed and wait to be tried again. */
guint      kiln_job_page_count_failed    (KilnJobPage *self);

G_END_DECLS
