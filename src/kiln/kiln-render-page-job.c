/* kiln-render-page-job.c: submitting the job and following it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Submit makes a KilnRenderJob from the form's settings (which checks them once more, and
 * the balance against the most the job can cost) and starts it: its files are offered and the
 * task is announced. From then on the page shows the job: its state, frames done, what verified
 * work costs so far against the most it can, the last frame that came in, and Cancel. This is
 * the seed of a job page; a list of jobs and thumbnails of the frames belong there.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-amount.h"
#include "kiln-render-page-private.h"

static const char *
describe_state (KilnRenderJobState state)
{
  switch (state)
    {
    case KILN_RENDER_JOB_STATE_PREPARING:
      return _("Preparing the scene’s files…");
    case KILN_RENDER_JOB_STATE_ANNOUNCING:
      return _("Waiting for providers…");
    case KILN_RENDER_JOB_STATE_RUNNING:
      return _("Rendering…");
    case KILN_RENDER_JOB_STATE_VERIFYING:
      return _("Checking the results…");
    case KILN_RENDER_JOB_STATE_ASSEMBLING:
      return _("Joining strips…");
    case KILN_RENDER_JOB_STATE_PAYING:
      return _("Paying providers…");
    case KILN_RENDER_JOB_STATE_DONE:
      return _("Done");
    case KILN_RENDER_JOB_STATE_FAILED:
      return _("Failed");
    case KILN_RENDER_JOB_STATE_CANCELLED:
    default:
      return _("Cancelled");
    }
}

static gboolean
state_has_ended (KilnRenderJobState state)
{
  return state == KILN_RENDER_JOB_STATE_DONE ||
         state == KILN_RENDER_JOB_STATE_FAILED ||
         state == KILN_RENDER_JOB_STATE_CANCELLED;
}

gboolean
kiln_render_page_job_is_active (KilnRenderPage *self)
{
  g_assert (KILN_IS_RENDER_PAGE (self));

  return self->job != NULL && !state_has_ended (kiln_render_job_get_state (self->job));
}

static void
kiln_render_page_job_update (KilnRenderPage *self)
{
  KilnRenderJob *job = self->job;
  KilnRenderJobState state;
  KilnChain *chain = NULL;
  guint decimals = KILN_MARKET_TOKEN_DECIMALS;
  const char *symbol = "GNT";
  guint done, total;
  KilnUint256 cost, max_cost;
  g_autofree char *frames = NULL;
  g_autofree char *cost_text = NULL;
  g_autofree char *max_text = NULL;
  g_autofree char *money = NULL;
  g_autofree char *exact = NULL;
  g_autofree char *cost_exact = NULL;
  g_autofree char *max_exact = NULL;
  const char *error;
  gboolean ended;

  if (job == NULL)
    return;

  state = kiln_render_job_get_state (job);
  ended = state_has_ended (state);
  done = kiln_render_job_get_frames_done (job);
  total = kiln_render_job_get_frames_total (job);

  if (self->session != NULL && kiln_session_get_wallet (self->session) != NULL)
    chain = kiln_wallet_get_chain (kiln_session_get_wallet (self->session));
  if (chain != NULL)
    {
      decimals = kiln_chain_get_token_decimals (chain);
      symbol = kiln_chain_get_token_symbol (chain);
    }

  gtk_label_set_label (self->job_title_label, kiln_render_job_get_name (job));
  gtk_label_set_label (self->job_state_label,
                       self->cancelling && !ended ? _("Cancelling…") : describe_state (state));

  gtk_progress_bar_set_fraction (self->job_progress, total > 0 ? (double) done / total : 0.0);
  /* TRANSLATORS: frames rendered and verified so far, of all the job's frames */
  frames = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u frame", "%u of %u frames",
                                         total),
                            done, total);
  gtk_label_set_label (self->job_frames_label, frames);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->job_progress),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, frames,
                                  -1);

  kiln_render_job_get_cost (job, &cost);
  kiln_render_job_get_max_cost (job, &max_cost);
  cost_text = kiln_amount_format_with_symbol (&cost, decimals, symbol, KILN_AMOUNT_ROUND_UP,
                                              NULL);
  max_text = kiln_amount_format_with_symbol (&max_cost, decimals, symbol, KILN_AMOUNT_ROUND_UP,
                                             NULL);
  /* TRANSLATORS: what verified work costs so far, then the most the job can cost */
  money = g_strdup_printf (_("Cost so far %s · At most %s"), cost_text, max_text);
  cost_exact = kiln_amount_format_exact (&cost, decimals, symbol);
  max_exact = kiln_amount_format_exact (&max_cost, decimals, symbol);
  exact = g_strdup_printf (_("Cost so far %s\nAt most %s"), cost_exact, max_exact);
  gtk_label_set_label (self->job_cost_label, money);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->job_cost_label), exact);

  error = kiln_render_job_get_error (job);
  gtk_label_set_label (self->job_error_label, error != NULL ? error : "");
  gtk_widget_set_visible (GTK_WIDGET (self->job_error_label), error != NULL);

  gtk_widget_set_visible (GTK_WIDGET (self->job_cancel_button), !ended);
  gtk_widget_set_visible (GTK_WIDGET (self->job_new_button), ended);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "render.cancel-job",
                                 !ended && !self->cancelling);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "render.close-job", ended);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "render.open-output", TRUE);
}

static void
kiln_render_page_frame_ready_cb (KilnRenderPage *self,
                                 int             frame,
                                 const char     *path)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_filename_display_name (base);
  g_autofree char *text = NULL;

  /* TRANSLATORS: the frame that came in last, and its file */
  text = g_strdup_printf (_("Frame %d is ready: %s"), frame, name);
  gtk_label_set_label (self->job_frame_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->job_frame_label), TRUE);
  kiln_render_page_job_update (self);
}

/* Shows @job in place of the form, and follows it. */
static void
kiln_render_page_show_job (KilnRenderPage *self,
                           KilnRenderJob  *job)
{
  kiln_render_page_drop_job (self);
  self->job = g_object_ref (job);

  g_signal_connect_object (job, "notify", G_CALLBACK (kiln_render_page_job_update), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (job, "frame-ready", G_CALLBACK (kiln_render_page_frame_ready_cb),
                           self, G_CONNECT_SWAPPED);

  gtk_widget_set_visible (GTK_WIDGET (self->job_frame_label), FALSE);
  kiln_render_page_job_update (self);
  kiln_render_page_show_view (self, "job");
  gtk_widget_grab_focus (GTK_WIDGET (self->job_cancel_button));
}

void
kiln_render_page_drop_job (KilnRenderPage *self)
{
  g_assert (KILN_IS_RENDER_PAGE (self));

  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  g_clear_object (&self->job);
  self->cancelling = FALSE;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "render.cancel-job", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "render.close-job", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "render.open-output", FALSE);
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

  if (!kiln_render_job_start_finish (KILN_RENDER_JOB (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      g_debug ("Could not start the render: %s", error->message);
      self->submitting = FALSE;
      kiln_job_form_set_busy (self->job_form, FALSE);
      kiln_job_form_show_submit_error (self->job_form, error->message);
      return;
    }

  self->submitting = FALSE;
  kiln_job_form_set_busy (self->job_form, FALSE);
  kiln_render_page_show_job (self, data->job);
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
  if (settings == NULL || engine == NULL)
    return;

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
  kiln_render_job_start_async (job, self->cancellable, kiln_render_page_start_cb, data);
}

/* --- cancelling, and after the end ------------------------------------------------------------ */

static void
kiln_render_page_cancel_job_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(KilnRenderPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kiln_render_job_cancel_finish (KILN_RENDER_JOB (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_error_matches (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_NOT_RUNNING))
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("Could not cancel the render: %s"), error->message);
      kiln_render_page_show_message (self, message);
    }

  if (self->job != KILN_RENDER_JOB (object))
    return;

  self->cancelling = FALSE;
  kiln_render_page_job_update (self);
}

void
kiln_render_page_cancel_job (KilnRenderPage *self)
{
  g_assert (KILN_IS_RENDER_PAGE (self));

  if (!kiln_render_page_job_is_active (self) || self->cancelling)
    return;

  self->cancelling = TRUE;
  kiln_render_page_job_update (self);
  kiln_render_job_cancel_async (self->job, self->cancellable, kiln_render_page_cancel_job_cb,
                                g_object_ref (self));
}

/* Leaves an ended job for the empty page, ready for the next scene. */
void
kiln_render_page_close_job (KilnRenderPage *self)
{
  g_assert (KILN_IS_RENDER_PAGE (self));

  if (kiln_render_page_job_is_active (self))
    return;

  kiln_render_page_drop_job (self);
  g_clear_object (&self->scene);
  g_clear_object (&self->file);
  kiln_render_page_show_view (self, "empty");
}

void
kiln_render_page_open_output (KilnRenderPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWindow *window = GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
  g_autoptr(GFile) folder = NULL;
  g_autofree char *uri = NULL;

  g_assert (KILN_IS_RENDER_PAGE (self));

  if (self->job == NULL)
    return;

  folder = g_file_new_for_path (kiln_render_job_get_output_dir (self->job));
  if (!g_file_query_exists (folder, NULL))
    {
      kiln_render_page_show_message (self, _("No frame has come in yet"));
      return;
    }

  uri = g_file_get_uri (folder);
#if GTK_CHECK_VERSION (4, 10, 0)
  {
    g_autoptr(GtkUriLauncher) launcher = gtk_uri_launcher_new (uri);

    gtk_uri_launcher_launch (launcher, window, NULL, NULL, NULL);
  }
#else
  gtk_show_uri (window, uri, GDK_CURRENT_TIME);
#endif
}
