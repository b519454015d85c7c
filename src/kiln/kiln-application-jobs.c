/* kiln-application-jobs.c: render jobs with or without a window, and what they tell
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The session owns the render jobs; the application keeps itself running while any of them
 * is under way, so that closing the window does not stop a render that is being paid for,
 * and says so the first time the window closes on one. When a job is done or fails, the
 * person hears of it: a toast when they are looking at Kiln, a desktop notification
 * otherwise (GNotification: the portal inside Flatpak, org.gtk.Notifications or
 * org.freedesktop.Notifications outside), with the window closed too. Its "Open Folder"
 * button and its body bring the frames and the job back: the app.open-job-folder and
 * app.show-job actions take the job's ID.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-application-private.h"

#define BACKGROUND_NOTIFICATION "rendering-in-background"

static char *
job_notification_id (const char *id)
{
  return g_strconcat ("render-job-", id, NULL);
}

/* --- opening what a job made ----------------------------------------------------------------- */

/* Tells the person, in the window if there is one, or in a notification. */
static void
kiln_application_jobs_report (KilnApplication *self,
                              const char      *title,
                              const char      *message)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  g_autoptr(GNotification) notification = NULL;

  if (KILN_IS_WINDOW (window))
    {
      kiln_window_show_message (KILN_WINDOW (window), message);
      return;
    }

  notification = g_notification_new (title);
  g_notification_set_body (notification, message);
  g_application_send_notification (G_APPLICATION (self), NULL, notification);
}

static void
kiln_application_open_job_folder_action (GSimpleAction *action,
                                         GVariant      *param,
                                         gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  const char *id = g_variant_get_string (param, NULL);
  KilnRenderJob *job = self->session != NULL ? kiln_session_lookup_job (self->session, id)
                                             : NULL;
  g_autoptr(GFile) folder = NULL;
  g_autofree char *uri = NULL;

  if (job == NULL)
    {
      kiln_application_jobs_report (self, _("Render Not Found"),
                                    _("This render is no longer in Kiln’s list"));
      return;
    }

  folder = g_file_new_for_path (kiln_render_job_get_output_dir (job));
  if (!g_file_query_exists (folder, NULL))
    {
      g_autofree char *message = NULL;

      /* TRANSLATORS: %s is a folder, as it is on this computer */
      message = g_strdup_printf (_("The folder %s is gone: the frames were moved or deleted"),
                                 kiln_render_job_get_output_dir (job));
      kiln_application_jobs_report (self, _("Output Folder Not Found"), message);
      return;
    }

  uri = g_file_get_uri (folder);
  g_debug ("Opening %s", uri);
#if GTK_CHECK_VERSION (4, 10, 0)
  {
    g_autoptr(GtkUriLauncher) launcher = gtk_uri_launcher_new (uri);

    gtk_uri_launcher_launch (launcher, window, NULL, NULL, NULL);
  }
#else
  /* Through the OpenURI portal inside Flatpak, the default file manager outside. */
  gtk_show_uri (window, uri, GDK_CURRENT_TIME);
#endif
}

static void
kiln_application_show_job_action (GSimpleAction *action,
                                  GVariant      *param,
                                  gpointer       user_data)
{
  KilnApplication *self = KILN_APPLICATION (user_data);
  const char *id = g_variant_get_string (param, NULL);
  g_autofree char *notification_id = job_notification_id (id);
  KilnWindow *window;

  /* Asked for from a notification or the tray: a window it is, even after --background. */
  self->start_hidden = FALSE;
  window = _kiln_application_get_window (self);
  kiln_window_show_job (window, id);
  gtk_window_present (GTK_WINDOW (window));

  g_application_withdraw_notification (G_APPLICATION (self), notification_id);
  g_application_withdraw_notification (G_APPLICATION (self), BACKGROUND_NOTIFICATION);
}

/* --- telling how a job ended ----------------------------------------------------------------- */

/* Whether the person is looking at Kiln now. */
static gboolean
kiln_application_is_watched (KilnApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  return window != NULL && gtk_widget_get_visible (GTK_WIDGET (window)) &&
         gtk_window_is_active (window);
}

static char *
describe_folder (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  return g_filename_display_name (base);
}

static void
kiln_application_job_ended_cb (KilnApplication *self,
                               KilnRenderJob   *job)
{
  KilnRenderJobState state = kiln_render_job_get_state (job);
  const char *id = kiln_render_job_get_id (job);
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *notification_id = job_notification_id (id);
  g_autofree char *folder = describe_folder (kiln_render_job_get_output_dir (job));
  g_autofree char *body = NULL;
  g_autofree char *toast_title = NULL;
  const char *title;
  guint frames = kiln_render_job_get_frames_done (job);

  switch (state)
    {
    case KILN_RENDER_JOB_STATE_DONE:
      title = _("Render Done");
      /* TRANSLATORS: the job's name, how many frames, and the folder they are in */
      body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "“%s”: %u frame is in %s",
                                           "“%s”: all %u frames are in %s", frames),
                              kiln_render_job_get_name (job), frames, folder);
      /* TRANSLATORS: %s is the job's name */
      toast_title = g_strdup_printf (_("“%s” is rendered"), kiln_render_job_get_name (job));
      break;

    case KILN_RENDER_JOB_STATE_FAILED:
      title = _("Render Failed");
      /* TRANSLATORS: the job's name, then why it failed */
      body = g_strdup_printf (_("“%s”: %s"), kiln_render_job_get_name (job),
                              kiln_render_job_get_error (job) != NULL
                              ? kiln_render_job_get_error (job) : _("the render stopped"));
      /* TRANSLATORS: %s is the job's name */
      toast_title = g_strdup_printf (_("“%s” failed"), kiln_render_job_get_name (job));
      break;

    case KILN_RENDER_JOB_STATE_CANCELLED:
    case KILN_RENDER_JOB_STATE_PREPARING:
    case KILN_RENDER_JOB_STATE_ANNOUNCING:
    case KILN_RENDER_JOB_STATE_RUNNING:
    case KILN_RENDER_JOB_STATE_VERIFYING:
    case KILN_RENDER_JOB_STATE_ASSEMBLING:
    case KILN_RENDER_JOB_STATE_PAYING:
    default:
      /* Cancelling is the person's own doing: nothing to tell. */
      return;
    }

  g_debug ("Render job %s ended: %s", id, body);

  if (kiln_application_is_watched (self))
    {
      AdwToast *toast = adw_toast_new (toast_title);

      if (frames > 0)
        {
          adw_toast_set_button_label (toast, _("Open Folder"));
          adw_toast_set_action_name (toast, "app.open-job-folder");
          adw_toast_set_action_target_value (toast, g_variant_new_string (id));
        }
      kiln_window_add_toast (KILN_WINDOW (gtk_application_get_active_window (
                               GTK_APPLICATION (self))), toast);
      return;
    }

  notification = g_notification_new (title);
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, state == KILN_RENDER_JOB_STATE_FAILED
                                             ? G_NOTIFICATION_PRIORITY_HIGH
                                             : G_NOTIFICATION_PRIORITY_NORMAL);
  g_notification_set_default_action_and_target (notification, "app.show-job", "s", id);
  if (frames > 0)
    g_notification_add_button_with_target (notification, _("Open Folder"),
                                           "app.open-job-folder", "s", id);

  g_application_send_notification (G_APPLICATION (self), notification_id, notification);
  if (kiln_session_get_n_active_jobs (self->session) == 0)
    g_application_withdraw_notification (G_APPLICATION (self), BACKGROUND_NOTIFICATION);
}

/* --- staying alive without a window ---------------------------------------------------------- */

static void
kiln_application_update_jobs_hold (KilnApplication *self)
{
  gboolean hold = self->session != NULL && kiln_session_get_n_active_jobs (self->session) > 0;

  if (hold == self->jobs_held)
    return;

  self->jobs_held = hold;
  g_debug ("%s for render jobs", hold ? "Staying" : "Not staying");
  if (hold)
    g_application_hold (G_APPLICATION (self));
  else
    g_application_release (G_APPLICATION (self));
}

/* The last window closed on a render under way: it goes on, and the person is told once. */
static void
kiln_application_window_removed_cb (KilnApplication *self,
                                    GtkWindow       *window)
{
  g_autoptr(GNotification) notification = NULL;
  g_autoptr(KilnRenderJob) job = NULL;
  GListModel *jobs;
  guint n_active;
  g_autofree char *body = NULL;

  if (self->session == NULL || gtk_application_get_windows (GTK_APPLICATION (self)) != NULL ||
      self->told_background_jobs)
    return;

  n_active = kiln_session_get_n_active_jobs (self->session);
  if (n_active == 0)
    return;

  /* The newest job under way names them. */
  jobs = kiln_session_get_jobs (self->session);
  for (guint i = 0; job == NULL && i < g_list_model_get_n_items (jobs); i++)
    {
      g_autoptr(KilnRenderJob) candidate = g_list_model_get_item (jobs, i);

      if (!kiln_render_job_state_is_final (kiln_render_job_get_state (candidate)))
        job = g_steal_pointer (&candidate);
    }
  if (job == NULL)
    return;

  self->told_background_jobs = TRUE;
  if (n_active == 1)
    /* TRANSLATORS: %s is the name of a render job */
    body = g_strdup_printf (_("“%s” goes on with the window closed. Kiln tells you when it is "
                              "done."), kiln_render_job_get_name (job));
  else
    body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "%u render goes on with the window closed. Kiln tells "
                                         "you when each is done.",
                                         "%u renders go on with the window closed. Kiln tells "
                                         "you when each is done.", n_active),
                            n_active);

  notification = g_notification_new (_("Kiln Keeps Rendering"));
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_LOW);
  g_notification_set_default_action_and_target (notification, "app.show-job", "s",
                                                kiln_render_job_get_id (job));
  g_application_send_notification (G_APPLICATION (self), BACKGROUND_NOTIFICATION, notification);
}

/* --- startup and shutdown -------------------------------------------------------------------- */

void
_kiln_application_jobs_startup (KilnApplication *self)
{
  static const GActionEntry actions[] = {
    { "open-job-folder", kiln_application_open_job_folder_action, "s" },
    { "show-job", kiln_application_show_job_action, "s" },
  };

  g_assert (KILN_IS_APPLICATION (self));
  g_assert (KILN_IS_SESSION (self->session));

  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);

  g_signal_connect_object (self->session, "notify::n-active-jobs",
                           G_CALLBACK (kiln_application_update_jobs_hold), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "job-ended",
                           G_CALLBACK (kiln_application_job_ended_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect (self, "window-removed", G_CALLBACK (kiln_application_window_removed_cb),
                    NULL);
  kiln_application_update_jobs_hold (self);
}

void
_kiln_application_jobs_shutdown (KilnApplication *self)
{
  g_assert (KILN_IS_APPLICATION (self));

  g_signal_handlers_disconnect_by_func (self, kiln_application_window_removed_cb, NULL);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  /* Quitting releases nothing it held: the jobs stop with the session. */
  self->jobs_held = FALSE;
}
