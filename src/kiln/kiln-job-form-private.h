/* kiln-job-form-private.h: what the parts of KilnJobForm share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-job-form.c        the widget: the scene, the settings, the session, the actions
 * kiln-job-form-check.c  checking every change: the fields, the plan, the cost, the balance
 * kiln-job-form-notes.c  what the person should know about the scene before rendering it
 */
#pragma once

#include "kiln-amount.h"
#include "kiln-job-form.h"

G_BEGIN_DECLS

struct _KilnJobForm
{
  AdwBin                 parent_instance;

  GtkWidget             *content_box;
  GtkLabel              *file_label;
  GtkLabel              *scene_label;
  AdwPreferencesGroup   *notes_group;
  AdwEntryRow           *frames_row;
  GtkLabel              *frames_label;
  GtkSpinButton         *width_spin;
  GtkSpinButton         *height_spin;
  GtkSpinButton         *samples_spin;
  AdwComboRow           *format_row;
  AdwActionRow          *subtasks_row;
  GtkSpinButton         *subtasks_spin;
  GtkSpinButton         *timeout_spin;
  GtkSpinButton         *cores_spin;
  AdwEntryRow           *price_row;
  GtkRevealer           *price_error_revealer;
  GtkLabel              *price_error_label;
  AdwActionRow          *output_row;
  GtkLabel              *summary_label;
  GtkButton             *submit_button;
  GtkStack              *submit_stack;
  GtkSpinner            *submit_spinner;
  GtkLabel              *reason_label;

  KilnSession           *session;
  KilnWallet            *wallet;
  KilnSceneInfo         *scene;
  KilnBlender           *blender;
  KilnRenderJobSettings *proposed;      /* what the scene asks for */
  GPtrArray             *note_rows;
  char                  *scene_problem; /* what in the scene itself stops the job */
  char                  *output_dir;
  char                  *problem;
  char                  *submit_error;
  GCancellable          *cancellable;

  guint                  syncing;
  gboolean               subtasks_auto; /* one subtask per frame until the person says */
  gboolean               busy;
};

static inline guint
kiln_job_form_spin_value (GtkSpinButton *spin)
{
  return (guint) gtk_spin_button_get_value_as_int (spin);
}

/* kiln-job-form.c */
void            kiln_job_form_notify_problem     (KilnJobForm        *self);

/* kiln-job-form-check.c */
guint           kiln_job_form_get_decimals       (KilnJobForm        *self);
const char     *kiln_job_form_get_symbol         (KilnJobForm        *self);
KilnImageFormat kiln_job_form_get_format         (KilnJobForm        *self);
/* The price as typed, in base units per CPU-hour. FALSE with *@message (NULL when the field
 * is only empty) when there is no usable price. */
gboolean        kiln_job_form_read_price         (KilnJobForm        *self,
                                                  KilnUint256        *price,
                                                  char              **message);
/* Says @problem (NULL: none) under Submit, or the last refusal, and enables Submit. */
void            kiln_job_form_set_problem        (KilnJobForm        *self,
                                                  const char         *problem);
/* Checks everything again: the fields, the plan, the cost against the balance. */
void            kiln_job_form_update             (KilnJobForm        *self);
void            kiln_job_form_subtasks_changed_cb (KilnJobForm       *self);
void            kiln_job_form_price_revealed_cb  (KilnJobForm        *self);

/* kiln-job-form-notes.c */
/* Lists what the person should know about the scene, and sets scene_problem when something
 * in it stops the job. */
void            kiln_job_form_note_scene         (KilnJobForm        *self);

G_END_DECLS
