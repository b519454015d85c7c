/* kiln-render-page-job.c: submitting jobs, the list of jobs, and the page of one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Submit makes a KilnRenderJob from the form's settings (which checks them once more, and the
 * balance against the most the job can cost) and hands it to the session, which owns the
 * jobs: it starts it (its files are offered and the task announced) and keeps it running,
 * with the window closed too. The page then opens the job's page, and the form makes room
 * for the next scene.
 *
 * Beside the scene (or a click away on a narrow window), the list of the account's jobs, newest
 * first, each with its progress and cost; a row opens the job's page (KilnJobPage). The
 * list says when the stored jobs are still loading, or why they could not be.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-job-row.h"
#include "kiln-render-page-private.h"

/* --- the list of jobs ------------------------------------------------------------------------- */

static GtkWidget *
kiln_render_page_create_job_row (gpointer item,
                                 gpointer user_data)
{
  KilnRenderPage *self = KILN_RENDER_PAGE (user_data);

  return kiln_job_row_new (KILN_RENDER_JOB (item), self->session);
}

void
kiln_render_page_update_jobs (KilnRenderPage *self)
{
  gboolean folded = adw_leaflet_get_folded (self->home_leaflet);
  guint n_jobs = 0;
  const GError *error = NULL;
  gboolean loading = FALSE;
  gboolean shown;

  g_assert (KILN_IS_RENDER_PAGE (self));

  if (self->session != NULL)
    {
      n_jobs = g_list_model_get_n_items (kiln_session_get_jobs (self->session));
      error = kiln_session_get_jobs_error (self->session);
      loading = kiln_session_get_loading_jobs (self->session);
    }

  /* Nothing to list: the drop zone has the page to itself. */
  shown = n_jobs > 0 || error != NULL || loading;
  gtk_widget_set_visible (self->jobs_panel, shown);
  gtk_widget_set_visible (self->jobs_separator, shown);
  if (!shown && adw_leaflet_get_visible_child (self->home_leaflet) == self->jobs_panel)
    adw_leaflet_navigate (self->home_leaflet, ADW_NAVIGATION_DIRECTION_BACK);

  gtk_widget_set_visible (GTK_WIDGET (self->show_jobs_button), shown && folded);
  gtk_widget_set_visible (GTK_WIDGET (self->jobs_back_button), folded);

  if (n_jobs > 0)
    gtk_stack_set_visible_child_name (self->jobs_stack, "list");
  else if (error != NULL)
    {
      g_autofree char *escaped = g_markup_escape_text (error->message, -1);

      adw_status_page_set_description (self->jobs_error_page, escaped);
      gtk_stack_set_visible_child_name (self->jobs_stack, "error");
    }
  else if (loading)
    gtk_stack_set_visible_child_name (self->jobs_stack, "loading");
}

static void
kiln_render_page_jobs_changed_cb (KilnRenderPage *self,
                                  guint           position,
                                  guint           removed,
                                  guint           added,
                                  GListModel     *jobs)
{
  KilnRenderJob *shown = kiln_job_page_get_job (self->job_page);
  guint position_shown;

  /* A job taken off the list, or stopped with the node, is not shown any more. */
  if (shown != NULL && removed > 0 &&
      !g_list_store_find (G_LIST_STORE (jobs), shown, &position_shown))
    {
      kiln_render_page_show_home (self);
      kiln_job_page_set_job (self->job_page, NULL, NULL);
    }

  kiln_render_page_update_jobs (self);
}

static void
kiln_render_page_job_activated_cb (KilnRenderPage *self,
                                   GtkListBoxRow  *row,
                                   GtkListBox     *list)
{
  KilnRenderJob *job = kiln_job_row_get_job (KILN_JOB_ROW (row));

  kiln_render_page_show_job (self, kiln_render_job_get_id (job));
}

void
kiln_render_page_bind_jobs (KilnRenderPage *self,
                            KilnSession    *session)
{
  g_assert (KILN_IS_RENDER_PAGE (self));

  kiln_job_page_set_job (self->job_page, NULL, NULL);
  gtk_list_box_bind_model (self->jobs_list, NULL, NULL, NULL, NULL);

  if (session != NULL)
    {
      GListModel *jobs = kiln_session_get_jobs (session);

      gtk_list_box_bind_model (self->jobs_list, jobs, kiln_render_page_create_job_row, self,
                               NULL);
      g_signal_connect_object (jobs, "items-changed",
                               G_CALLBACK (kiln_render_page_jobs_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (session, "notify::jobs-error",
                               G_CALLBACK (kiln_render_page_update_jobs), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (session, "notify::loading-jobs",
                               G_CALLBACK (kiln_render_page_update_jobs), self,
                               G_CONNECT_SWAPPED);
    }

  if (g_signal_handler_find (self->jobs_list, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL,
                             self) == 0)
    {
      g_signal_connect_object (self->jobs_list, "row-activated",
                               G_CALLBACK (kiln_render_page_job_activated_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->home_leaflet, "notify::folded",
                               G_CALLBACK (kiln_render_page_update_jobs), self,
                               G_CONNECT_SWAPPED);
    }

  kiln_render_page_show_home (self);
  kiln_render_page_update_jobs (self);
}

/* --- navigating ------------------------------------------------------------------------------- */

gboolean
kiln_render_page_show_job (KilnRenderPage *self,
                           const char     *id)
{
  KilnRenderJob *job;

  g_return_val_if_fail (KILN_IS_RENDER_PAGE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  job = self->session != NULL ? kiln_session_lookup_job (self->session, id) : NULL;
  if (job == NULL)
    {
      kiln_render_page_show_message (self, _("This render is no longer in Kiln’s list"));
      return FALSE;
    }

  kiln_job_page_set_job (self->job_page, self->session, job);
  adw_leaflet_set_visible_child_name (self->leaflet, "job");
  kiln_job_page_focus (self->job_page);
  return TRUE;
}

void
kiln_render_page_show_home (KilnRenderPage *self)
{
  g_assert (KILN_IS_RENDER_PAGE (self));

  adw_leaflet_set_visible_child_name (self->leaflet, "home");
}

void
kiln_render_page_show_jobs_panel (KilnRenderPage *self,
                                  gboolean        jobs)
{
  g_assert (KILN_IS_RENDER_PAGE (self));

  kiln_render_page_show_home (self);
  adw_leaflet_set_visible_child_name (self->home_leaflet, jobs ? "jobs" : "scene");
  if (jobs)
    gtk_widget_grab_focus (GTK_WIDGET (self->jobs_list));
}

/* --- submitting ------------------------------------------------------------------------------- */

typedef struct
{
  KilnRenderPage *self;
  KilnRenderJob  *job;
} StartData;

static void
start_data_free (StartData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->job);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StartData, start_data_free)

static void
kiln_render_page_start_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(StartData) data = user_data;
  KilnRenderPage *self = data->self;
  g_autoptr(GError) error = NULL;

  self->submitting = FALSE;
  kiln_job_form_set_busy (self->job_form, FALSE);

  if (!kiln_session_start_job_finish (KILN_SESSION (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      /* The form is still there to correct what went wrong; the job is in the list, failed. */
      g_debug ("Could not start the render: %s", error->message);
      kiln_job_form_show_submit_error (self->job_form, error->message);
      return;
    }

  /* Submitted: the next scene can come, and the job is followed on its own page. */
  g_clear_object (&self->scene);
  g_clear_object (&self->file);
  kiln_render_page_show_view (self, "empty");
  kiln_render_page_show_job (self, kiln_render_job_get_id (data->job));
}

void
kiln_render_page_submit (KilnRenderPage *self)
{
  g_autoptr(KilnRenderJobSettings) settings = NULL;
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GError) error = NULL;
  KilnEngine *engine;
  StartData *data;

  g_assert (KILN_IS_RENDER_PAGE (self));

  if (self->submitting || self->scene == NULL || self->blender == NULL ||
      self->session == NULL)
    return;

  settings = kiln_job_form_dup_settings (self->job_form);
  engine = kiln_session_get_engine (self->session);
  if (settings == NULL)
    return;
  if (engine == NULL)
    {
      kiln_job_form_show_submit_error (self->job_form,
                                       _("Kiln’s node is not running, so the render cannot be "
                                         "shared out. See the Network page."));
      return;
    }

  /* The engine's own verifier sandbox: NULL lets the job make its default one. */
  job = kiln_render_job_new (engine, self->blender, NULL, self->scene, settings,
                             kiln_session_get_wallet (self->session), NULL, &error);
  if (job == NULL)
    {
      g_debug ("The render was refused: %s", error->message);
      kiln_job_form_show_submit_error (self->job_form, error->message);
      return;
    }

  self->submitting = TRUE;
  kiln_job_form_set_busy (self->job_form, TRUE);

  data = g_new0 (StartData, 1);
  data->self = g_object_ref (self);
  data->job = g_object_ref (job);
  kiln_session_start_job_async (self->session, job, self->cancellable,
                                kiln_render_page_start_cb, data);
}
