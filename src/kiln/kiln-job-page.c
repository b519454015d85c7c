/* kiln-job-page.c: one render job in full: frames, subtasks, payments and log
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page follows one job of the session: where it stands (progress, frames, what verified
 * work costs against the most it can), the frames as thumbnails that fill in as they come
 * (kiln-job-page-frames.c), each subtask with its provider, what was paid to whom, and the
 * job's log (kiln-job-page-details.c). Subtasks that failed and wait can be tried again; the
 * render can be cancelled (after asking), its folder opened, and once it has ended and owes
 * nothing, taken off the list.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-job-page-private.h"
#include "kiln-job-text.h"
#include "kiln-window.h"

G_DEFINE_FINAL_TYPE (KilnJobPage, kiln_job_page, ADW_TYPE_BIN)

KilnChain *
kiln_job_page_get_chain (KilnJobPage *self)
{
  KilnWallet *wallet = self->session != NULL ? kiln_session_get_wallet (self->session) : NULL;

  return wallet != NULL ? kiln_wallet_get_chain (wallet) : NULL;
}

void
kiln_job_page_show_message (KilnJobPage *self,
                            const char  *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (KILN_IS_WINDOW (root))
    kiln_window_show_message (KILN_WINDOW (root), message);
}

static void
kiln_job_page_update (KilnJobPage *self)
{
  KilnRenderJobState state;
  gboolean ended;
  guint done, total, failed;
  g_autofree char *frames = NULL;
  g_autofree char *exact = NULL;
  g_autofree char *cost = NULL;
  const char *error;

  if (self->job == NULL)
    return;

  state = kiln_render_job_get_state (self->job);
  ended = kiln_render_job_state_is_final (state);
  done = kiln_render_job_get_frames_done (self->job);
  total = kiln_render_job_get_frames_total (self->job);
  frames = kiln_job_text_frames (self->job);
  cost = kiln_job_text_cost (self->job, kiln_job_page_get_chain (self), &exact);

  gtk_label_set_label (self->title_label, kiln_render_job_get_name (self->job));
  gtk_label_set_label (self->state_label, self->cancelling && !ended ? _("Cancelling…")
                                                                    : kiln_job_text_state (state));
  gtk_progress_bar_set_fraction (self->progress, total > 0 ? (double) done / total : 0.0);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, frames,
                                  -1);
  gtk_label_set_label (self->frames_label, frames);
  gtk_label_set_label (self->cost_label, cost);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->cost_label), exact);

  error = kiln_render_job_get_error (self->job);
  gtk_label_set_label (self->error_label, error != NULL ? error : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), error != NULL);

  failed = ended ? 0 : kiln_job_page_count_failed (self);
  gtk_widget_set_visible (self->failed_box, failed > 0);
  if (failed > 0)
    {
      g_autofree char *text = NULL;

      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%u subtask failed and waits: its provider is no "
                                           "longer used for this render. Try again to give it "
                                           "another chance, or wait for other providers.",
                                           "%u subtasks failed and wait: their providers are "
                                           "no longer used for this render. Try again to give "
                                           "them another chance, or wait for other providers.",
                                           failed),
                              failed);
      gtk_label_set_label (self->failed_label, text);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), !ended);
  gtk_widget_set_visible (GTK_WIDGET (self->remove_button), ended);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "job.cancel", !ended && !self->cancelling);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "job.retry-failed",
                                 failed > 0 && !self->cancelling);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "job.remove",
                                 self->session != NULL &&
                                 kiln_session_can_remove_job (self->session, self->job));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->remove_button),
                               ended && !kiln_session_can_remove_job (self->session, self->job)
                               ? _("The render stays on the list until its providers are paid")
                               : _("Take the render off the list; its frames stay in their "
                                   "folder"));
}

static void
kiln_job_page_frame_ready_cb (KilnJobPage *self,
                              int          frame,
                              const char  *path)
{
  kiln_job_page_frame_ready (self, frame, path);
  kiln_job_page_update (self);
}

static void
kiln_job_page_subtask_changed_cb (KilnJobPage      *self,
                                  guint             index,
                                  KilnSubtaskState  state)
{
  kiln_job_page_subtask_changed (self, index);
  kiln_job_page_update (self);
}

static void
kiln_job_page_money_cb (KilnJobPage *self)
{
  kiln_job_page_update_payments (self);
  kiln_job_page_update (self);
}

void
kiln_job_page_set_job (KilnJobPage   *self,
                       KilnSession   *session,
                       KilnRenderJob *job)
{
  g_return_if_fail (KILN_IS_JOB_PAGE (self));
  g_return_if_fail (!session || KILN_IS_SESSION (session));
  g_return_if_fail (!job || KILN_IS_RENDER_JOB (job));

  if (self->job == job && self->session == session)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  kiln_job_page_frames_clear (self);
  kiln_job_page_details_clear (self);
  self->cancelling = FALSE;

  g_set_object (&self->session, session);
  g_set_object (&self->job, job);
  if (job == NULL)
    return;

  self->cancellable = g_cancellable_new ();
  g_signal_connect_object (job, "notify", G_CALLBACK (kiln_job_page_update), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (job, "notify::cost", G_CALLBACK (kiln_job_page_money_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (job, "notify::owed", G_CALLBACK (kiln_job_page_money_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (job, "notify::state", G_CALLBACK (kiln_job_page_money_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (job, "frame-ready", G_CALLBACK (kiln_job_page_frame_ready_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (job, "subtask-changed",
                           G_CALLBACK (kiln_job_page_subtask_changed_cb), self,
                           G_CONNECT_SWAPPED);
  if (session != NULL)
    g_signal_connect_object (session, "notify::wallet", G_CALLBACK (kiln_job_page_money_cb),
                             self, G_CONNECT_SWAPPED);

  kiln_job_page_frames_build (self);
  kiln_job_page_details_build (self);
  kiln_job_page_update (self);

  /* A new job starts at its top. */
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0);
}

KilnRenderJob *
kiln_job_page_get_job (KilnJobPage *self)
{
  g_return_val_if_fail (KILN_IS_JOB_PAGE (self), NULL);

  return self->job;
}

void
kiln_job_page_focus (KilnJobPage *self)
{
  g_return_if_fail (KILN_IS_JOB_PAGE (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->back_button));
}

/* --- cancelling ------------------------------------------------------------------------------- */

static void
kiln_job_page_cancelled_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(KilnJobPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kiln_render_job_cancel_finish (KILN_RENDER_JOB (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_error_matches (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_NOT_RUNNING))
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("Could not cancel the render: %s"), error->message);
      kiln_job_page_show_message (self, message);
    }

  if (self->job != KILN_RENDER_JOB (object))
    return;

  self->cancelling = FALSE;
  kiln_job_page_update (self);
}

static void
kiln_job_page_cancel_response_cb (KilnJobPage *self,
                                  const char  *response,
                                  AdwMessageDialog *dialog)
{
  KilnRenderJob *job = g_object_get_data (G_OBJECT (dialog), "job");

  if (!g_str_equal (response, "cancel-render") || job != self->job || self->cancelling ||
      kiln_render_job_state_is_final (kiln_render_job_get_state (job)))
    return;

  self->cancelling = TRUE;
  kiln_job_page_update (self);
  /* Not tied to the page: a cancel once asked for goes through. */
  kiln_render_job_cancel_async (job, NULL, kiln_job_page_cancelled_cb, g_object_ref (self));
}

static void
kiln_job_page_cancel_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  KilnJobPage *self = KILN_JOB_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog;
  g_autofree char *heading = NULL;

  if (self->job == NULL || self->cancelling ||
      kiln_render_job_state_is_final (kiln_render_job_get_state (self->job)))
    return;

  /* TRANSLATORS: %s is the name of a render job */
  heading = g_strdup_printf (_("Cancel “%s”?"), kiln_render_job_get_name (self->job));
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading,
                                   _("The work still out with providers is withdrawn and not "
                                     "paid. Frames already checked stay in the folder, and "
                                     "their providers are paid."));
  gtk_window_set_title (GTK_WINDOW (dialog), _("Cancel Render"));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "keep", _("_Keep Rendering"),
                                    "cancel-render", _("_Cancel Render"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "cancel-render",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_object_set_data_full (G_OBJECT (dialog), "job", g_object_ref (self->job), g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (kiln_job_page_cancel_response_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- trying again, opening, removing ---------------------------------------------------------- */

static void
kiln_job_page_retry (KilnJobPage *self,
                     int          only)
{
  guint n = kiln_render_job_get_n_subtasks (self->job);
  guint retried = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;

      if ((only >= 0 && i != (guint) only) || !kiln_render_job_get_subtask_failed (self->job, i,
                                                                                  NULL))
        continue;

      if (kiln_render_job_retry_subtask (self->job, i, &error))
        retried++;
      else
        kiln_job_page_show_message (self, error->message);
    }

  if (retried > 0)
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u subtask is tried again",
                                              "%u subtasks are tried again", retried),
                                 retried);
      kiln_job_page_show_message (self, message);
    }
  kiln_job_page_update (self);
}

static void
kiln_job_page_retry_failed_action (GtkWidget  *widget,
                                   const char *action_name,
                                   GVariant   *param)
{
  KilnJobPage *self = KILN_JOB_PAGE (widget);

  if (self->job != NULL)
    kiln_job_page_retry (self, -1);
}

static void
kiln_job_page_retry_subtask_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *param)
{
  KilnJobPage *self = KILN_JOB_PAGE (widget);

  if (self->job != NULL)
    kiln_job_page_retry (self, g_variant_get_uint32 (param));
}

static void
kiln_job_page_open_folder_action (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *param)
{
  KilnJobPage *self = KILN_JOB_PAGE (widget);

  if (self->job != NULL)
    gtk_widget_activate_action (widget, "app.open-job-folder", "s",
                                kiln_render_job_get_id (self->job));
}

static void
kiln_job_page_removed_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(KilnJobPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kiln_session_remove_job_finish (KILN_SESSION (object), result, &error))
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("Could not remove the render: %s"), error->message);
      kiln_job_page_show_message (self, message);
      return;
    }

  /* The list no longer has it: back there. */
  gtk_widget_activate_action (GTK_WIDGET (self), "render.show-jobs", NULL);
}

static void
kiln_job_page_remove_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  KilnJobPage *self = KILN_JOB_PAGE (widget);

  if (self->job == NULL || self->session == NULL ||
      !kiln_session_can_remove_job (self->session, self->job))
    return;

  kiln_session_remove_job_async (self->session, self->job, NULL, kiln_job_page_removed_cb,
                                 g_object_ref (self));
}

static void
kiln_job_page_copy_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *param)
{
  KilnJobPage *self = KILN_JOB_PAGE (widget);
  const char *text = g_variant_get_string (param, NULL);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text);
  kiln_job_page_show_message (self, _("Transaction hash copied"));
}

/* --- GObject ---------------------------------------------------------------------------------- */

static void
kiln_job_page_dispose (GObject *object)
{
  KilnJobPage *self = (KilnJobPage *)object;

  kiln_job_page_set_job (self, NULL, NULL);

  G_OBJECT_CLASS (kiln_job_page_parent_class)->dispose (object);
}

static void
kiln_job_page_finalize (GObject *object)
{
  KilnJobPage *self = (KilnJobPage *)object;

  g_clear_pointer (&self->frame_children, g_hash_table_unref);
  g_clear_pointer (&self->subtask_rows, g_ptr_array_unref);

  G_OBJECT_CLASS (kiln_job_page_parent_class)->finalize (object);
}

static void
kiln_job_page_class_init (KilnJobPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_job_page_dispose;
  object_class->finalize = kiln_job_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-job-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, back_button);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, state_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, remove_button);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, progress);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, frames_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, cost_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, failed_box);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, failed_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, frames_box);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, subtasks_list);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, payments_list);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, log_list);
  gtk_widget_class_bind_template_child (widget_class, KilnJobPage, scroller);

  gtk_widget_class_install_action (widget_class, "job.cancel", NULL, kiln_job_page_cancel_action);
  gtk_widget_class_install_action (widget_class, "job.retry-failed", NULL,
                                   kiln_job_page_retry_failed_action);
  gtk_widget_class_install_action (widget_class, "job.retry-subtask", "u",
                                   kiln_job_page_retry_subtask_action);
  gtk_widget_class_install_action (widget_class, "job.open-folder", NULL,
                                   kiln_job_page_open_folder_action);
  gtk_widget_class_install_action (widget_class, "job.remove", NULL,
                                   kiln_job_page_remove_action);
  gtk_widget_class_install_action (widget_class, "job.copy", "s", kiln_job_page_copy_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "render.show-jobs",
                                       NULL);
}

static void
kiln_job_page_init (KilnJobPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->frame_children = g_hash_table_new (NULL, NULL);
  self->subtask_rows = g_ptr_array_new ();
}

KilnJobPage *
kiln_job_page_new (void)
{
  return g_object_new (KILN_TYPE_JOB_PAGE, NULL);
}
