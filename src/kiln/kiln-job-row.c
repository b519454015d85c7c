/* kiln-job-row.c: one render job in the jobs list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A row says what the job is called and where it stands, with a progress bar of the frames
 * rendered and verified, and what the verified work costs so far against the most the job
 * can cost. Activating it opens the job's page.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-job-row.h"
#include "kiln-job-text.h"

struct _KilnJobRow
{
  GtkListBoxRow   parent_instance;

  GtkLabel       *name_label;
  GtkImage       *state_icon;
  GtkLabel       *state_label;
  GtkProgressBar *progress;
  GtkLabel       *frames_label;
  GtkLabel       *cost_label;

  KilnRenderJob  *job;
  KilnSession    *session;
};

G_DEFINE_FINAL_TYPE (KilnJobRow, kiln_job_row, GTK_TYPE_LIST_BOX_ROW)

static KilnChain *
kiln_job_row_get_chain (KilnJobRow *self)
{
  KilnWallet *wallet = self->session != NULL ? kiln_session_get_wallet (self->session) : NULL;

  return wallet != NULL ? kiln_wallet_get_chain (wallet) : NULL;
}

static void
kiln_job_row_update (KilnJobRow *self)
{
  KilnRenderJobState state = kiln_render_job_get_state (self->job);
  guint done = kiln_render_job_get_frames_done (self->job);
  guint total = kiln_render_job_get_frames_total (self->job);
  g_autofree char *frames = kiln_job_text_frames (self->job);
  g_autofree char *exact = NULL;
  g_autofree char *cost = kiln_job_text_cost (self->job, kiln_job_row_get_chain (self), &exact);
  g_autofree char *accessible = NULL;
  const char *state_text = kiln_job_text_state (state);
  const char *icon_name = NULL;
  GtkWidget *state_widget = GTK_WIDGET (self->state_label);

  gtk_label_set_label (self->name_label, kiln_render_job_get_name (self->job));
  gtk_label_set_label (self->state_label, state_text);
  gtk_progress_bar_set_fraction (self->progress, total > 0 ? (double) done / total : 0.0);
  gtk_label_set_label (self->frames_label, frames);
  gtk_label_set_label (self->cost_label, cost);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->cost_label), exact);

  switch (state)
    {
    case KILN_RENDER_JOB_STATE_DONE:
      icon_name = "object-select-symbolic";
      break;
    case KILN_RENDER_JOB_STATE_FAILED:
      icon_name = "dialog-error-symbolic";
      break;
    case KILN_RENDER_JOB_STATE_PREPARING:
    case KILN_RENDER_JOB_STATE_ANNOUNCING:
    case KILN_RENDER_JOB_STATE_RUNNING:
    case KILN_RENDER_JOB_STATE_VERIFYING:
    case KILN_RENDER_JOB_STATE_ASSEMBLING:
    case KILN_RENDER_JOB_STATE_PAYING:
    case KILN_RENDER_JOB_STATE_CANCELLED:
    default:
      break;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->state_icon), icon_name != NULL);
  if (icon_name != NULL)
    gtk_image_set_from_icon_name (self->state_icon, icon_name);

  if (state == KILN_RENDER_JOB_STATE_FAILED)
    {
      gtk_widget_add_css_class (state_widget, "error");
      gtk_widget_remove_css_class (state_widget, "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->state_icon), "error");
    }
  else
    {
      gtk_widget_remove_css_class (state_widget, "error");
      gtk_widget_add_css_class (state_widget, "dim-label");
      gtk_widget_remove_css_class (GTK_WIDGET (self->state_icon), "error");
    }
  if (state == KILN_RENDER_JOB_STATE_DONE)
    gtk_widget_add_css_class (GTK_WIDGET (self->state_icon), "success");

  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, frames,
                                  -1);
  /* TRANSLATORS: how a screen reader names a row of the jobs list: the job's name, its
   * state, then its frames ("3 of 12 frames") */
  accessible = g_strdup_printf (_("%s, %s, %s"), kiln_render_job_get_name (self->job),
                                state_text, frames);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

static void
kiln_job_row_dispose (GObject *object)
{
  KilnJobRow *self = (KilnJobRow *)object;

  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->job);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (kiln_job_row_parent_class)->dispose (object);
}

static void
kiln_job_row_class_init (KilnJobRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_job_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-job-row.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnJobRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobRow, state_icon);
  gtk_widget_class_bind_template_child (widget_class, KilnJobRow, state_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobRow, progress);
  gtk_widget_class_bind_template_child (widget_class, KilnJobRow, frames_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobRow, cost_label);
}

static void
kiln_job_row_init (KilnJobRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
kiln_job_row_new (KilnRenderJob *job,
                  KilnSession   *session)
{
  KilnJobRow *self;

  g_return_val_if_fail (KILN_IS_RENDER_JOB (job), NULL);
  g_return_val_if_fail (!session || KILN_IS_SESSION (session), NULL);

  self = g_object_new (KILN_TYPE_JOB_ROW, NULL);
  self->job = g_object_ref (job);
  self->session = session != NULL ? g_object_ref (session) : NULL;

  g_signal_connect_object (job, "notify", G_CALLBACK (kiln_job_row_update), self,
                           G_CONNECT_SWAPPED);
  if (session != NULL)
    g_signal_connect_object (session, "notify::wallet", G_CALLBACK (kiln_job_row_update), self,
                             G_CONNECT_SWAPPED);
  kiln_job_row_update (self);

  return GTK_WIDGET (self);
}

KilnRenderJob *
kiln_job_row_get_job (KilnJobRow *self)
{
  g_return_val_if_fail (KILN_IS_JOB_ROW (self), NULL);

  return self->job;
}
