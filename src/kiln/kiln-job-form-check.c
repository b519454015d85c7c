/* kiln-job-form-check.c: checking every change to the job form
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The frame list is read with the position of a mistake, the price as an exact decimal in the
 * wallet's token; the plan is the one KilnRenderJob will make (kiln_job_plan_new(), as
 * kiln_render_job_new() calls it) and the most the job can cost is
 * kiln_market_estimate_max_cost() of it, held against the wallet's balance. The first thing
 * to fix is said under Submit, which stays disabled until there is none.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-job-form-private.h"

/* --- the token ----------------------------------------------------------------------------- */

static KilnChain *
kiln_job_form_get_chain (KilnJobForm *self)
{
  return self->wallet != NULL ? kiln_wallet_get_chain (self->wallet) : NULL;
}

guint
kiln_job_form_get_decimals (KilnJobForm *self)
{
  KilnChain *chain = kiln_job_form_get_chain (self);

  return chain != NULL ? kiln_chain_get_token_decimals (chain) : KILN_MARKET_TOKEN_DECIMALS;
}

const char *
kiln_job_form_get_symbol (KilnJobForm *self)
{
  KilnChain *chain = kiln_job_form_get_chain (self);

  return chain != NULL ? kiln_chain_get_token_symbol (chain) : "GNT";
}

static char *
kiln_job_form_format_amount (KilnJobForm        *self,
                             const KilnUint256  *amount,
                             KilnAmountRounding  rounding)
{
  return kiln_amount_format_with_symbol (amount, kiln_job_form_get_decimals (self),
                                         kiln_job_form_get_symbol (self), rounding, NULL);
}

/* --- field errors -------------------------------------------------------------------------- */

static void
mark_invalid (GtkWidget  *widget,
              const char *message)
{
  if (message != NULL)
    {
      gtk_widget_add_css_class (widget, "error");
      gtk_accessible_update_state (GTK_ACCESSIBLE (widget),
                                   GTK_ACCESSIBLE_STATE_INVALID, GTK_ACCESSIBLE_INVALID_TRUE,
                                   -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message,
                                      -1);
    }
  else
    {
      gtk_widget_remove_css_class (widget, "error");
      gtk_accessible_reset_state (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_STATE_INVALID);
      gtk_accessible_reset_property (GTK_ACCESSIBLE (widget),
                                     GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
    }
}

/* Below the frame list: how many frames it names and how to write one, or its mistake. */
static void
kiln_job_form_show_frames (KilnJobForm         *self,
                           const KilnFrameSpec *frames,
                           const GError        *error)
{
  GtkWidget *label = GTK_WIDGET (self->frames_label);

  mark_invalid (GTK_WIDGET (self->frames_row), error != NULL ? error->message : NULL);

  if (error != NULL)
    {
      gtk_label_set_label (self->frames_label, error->message);
      gtk_widget_remove_css_class (label, "dim-label");
      gtk_widget_add_css_class (label, "error");
    }
  else
    {
      guint n = kiln_frame_spec_get_n_frames (frames);
      g_autofree char *count = NULL;
      g_autofree char *text = NULL;

      count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u frame", "%u frames", n), n);
      /* TRANSLATORS: %s is "12 frames"; the examples are frame lists as Kiln reads them */
      text = g_strdup_printf (_("%s. Write lists like 1-250, 1,5,9-12 or 1-20x3 (every third "
                                "frame)."), count);
      gtk_label_set_label (self->frames_label, text);
      gtk_widget_remove_css_class (label, "error");
      gtk_widget_add_css_class (label, "dim-label");
    }
}

static void
kiln_job_form_show_price_error (KilnJobForm *self,
                                const char  *message)
{
  mark_invalid (GTK_WIDGET (self->price_row), message);
  if (message != NULL)
    gtk_label_set_label (self->price_error_label, message);
  gtk_revealer_set_reveal_child (self->price_error_revealer, message != NULL);
}

/* A hidden error says nothing, to screen readers either. */
void
kiln_job_form_price_revealed_cb (KilnJobForm *self)
{
  if (!gtk_revealer_get_reveal_child (self->price_error_revealer) &&
      !gtk_revealer_get_child_revealed (self->price_error_revealer))
    gtk_label_set_label (self->price_error_label, "");
}

gboolean
kiln_job_form_read_price (KilnJobForm  *self,
                          KilnUint256  *price,
                          char        **message)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->price_row));
  g_autoptr(GError) error = NULL;
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  *message = NULL;

  if (stripped[0] == '\0')
    return FALSE;

  if (!kiln_amount_parse (price, stripped, kiln_job_form_get_decimals (self),
                          kiln_job_form_get_symbol (self), &error))
    {
      *message = g_strdup (error->message);
      return FALSE;
    }
  if (kiln_uint256_is_zero (price))
    {
      *message = g_strdup (_("The price must be more than 0: providers are not asked to work "
                             "for nothing."));
      return FALSE;
    }
  if (kiln_uint256_bit_length (price) > KILN_MARKET_AMOUNT_BITS)
    {
      *message = g_strdup (_("That price is more than the market can name."));
      return FALSE;
    }

  return TRUE;
}

/* --- the plan and the cost ----------------------------------------------------------------- */

KilnImageFormat
kiln_job_form_get_format (KilnJobForm *self)
{
  /* The combo row lists the formats in the order of KilnImageFormat. */
  return adw_combo_row_get_selected (self->format_row) == 1 ? KILN_IMAGE_FORMAT_OPEN_EXR
                                                            : KILN_IMAGE_FORMAT_PNG;
}

/* The split KilnRenderJob will make of these settings: kiln_render_job_new() plans the same
 * way. */
static KilnJobPlan *
kiln_job_form_make_plan (KilnJobForm    *self,
                         KilnFrameSpec  *frames,
                         GError        **error)
{
  KilnJobPlanFlags flags = KILN_JOB_PLAN_FLAGS_NONE;
  guint max_subtasks;

  max_subtasks = self->subtasks_auto ? kiln_frame_spec_get_n_frames (frames)
                                     : kiln_job_form_spin_value (self->subtasks_spin);
  max_subtasks = MIN (max_subtasks, KILN_MARKET_MAX_SUBTASKS);
  if (kiln_scene_info_get_uses_compositing (self->scene))
    flags |= KILN_JOB_PLAN_FLAGS_NO_STRIPS;

  return kiln_job_plan_new (frames,
                            kiln_job_form_spin_value (self->width_spin),
                            kiln_job_form_spin_value (self->height_spin),
                            kiln_job_form_spin_value (self->samples_spin),
                            kiln_job_form_get_format (self),
                            max_subtasks, flags, error);
}

static void
kiln_job_form_describe_plan (KilnJobForm *self,
                             KilnJobPlan *plan)
{
  g_autofree char *text = NULL;

  if (plan != NULL)
    {
      guint n_subtasks = kiln_job_plan_get_n_subtasks (plan);
      guint n_strips = kiln_job_plan_get_n_strips (plan);
      guint n_frames = kiln_frame_spec_get_n_frames (kiln_job_plan_get_frames (plan));
      guint per_subtask = (n_frames + n_subtasks - 1) / n_subtasks;

      if (n_strips > 1)
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "%u subtask: each frame cut into %u strips",
                                             "%u subtasks: each frame cut into %u strips",
                                             n_subtasks),
                                n_subtasks, n_strips);
      else if (per_subtask <= 1)
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "%u subtask of one frame",
                                             "%u subtasks of one frame each",
                                             n_subtasks),
                                n_subtasks);
      else
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "%u subtask of up to %u frames",
                                             "%u subtasks of up to %u frames each",
                                             n_subtasks),
                                n_subtasks, per_subtask);
    }

  adw_action_row_set_subtitle (self->subtasks_row, text != NULL ? text : "");
}

void
kiln_job_form_set_problem (KilnJobForm *self,
                           const char  *problem)
{
  const char *reason;

  if (g_strcmp0 (self->problem, problem) != 0)
    {
      g_free (self->problem);
      self->problem = g_strdup (problem);
      kiln_job_form_notify_problem (self);
    }

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "job-form.submit",
                                 self->problem == NULL && !self->busy && self->scene != NULL);

  reason = self->submit_error != NULL ? self->submit_error : self->problem;
  gtk_label_set_label (self->reason_label, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (self->reason_label), reason != NULL);
  if (self->submit_error != NULL)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->reason_label), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->reason_label), "error");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->reason_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->reason_label), "dim-label");
    }
}

/* Why the wallet cannot pay yet, or NULL when its balance is known. */
static const char *
kiln_job_form_wallet_problem (KilnJobForm *self)
{
  if (self->session == NULL)
    return _("Create or import an account to pay for renders.");

  if (self->wallet == NULL)
    {
      if (kiln_session_get_state (self->session) == KILN_SESSION_STATE_FAILED)
        return _("The wallet is not connected: see the Wallet page.");
      if (kiln_session_get_key (self->session) == NULL)
        return _("Create or import an account to pay for renders.");
      return _("Waiting for the wallet to connect…");
    }

  if (!kiln_wallet_get_has_balances (self->wallet))
    return _("Waiting for the wallet’s balance…");

  return NULL;
}

void
kiln_job_form_update (KilnJobForm *self)
{
  g_autoptr(GError) frames_error = NULL;
  g_autoptr(GError) plan_error = NULL;
  g_autoptr(GError) cost_error = NULL;
  g_autoptr(KilnFrameSpec) frames = NULL;
  g_autoptr(KilnJobPlan) plan = NULL;
  g_autofree char *price_message = NULL;
  g_autofree char *problem = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *tooltip = NULL;
  const char *wallet_problem;
  KilnUint256 price, max_cost, balance;
  gboolean have_price, have_cost = FALSE, have_balance = FALSE;
  gboolean too_much = FALSE;

  g_assert (KILN_IS_JOB_FORM (self));

  if (self->syncing > 0 || self->scene == NULL)
    return;

  /* A change to the settings makes the last refusal stale. */
  g_clear_pointer (&self->submit_error, g_free);

  frames = kiln_frame_spec_parse (gtk_editable_get_text (GTK_EDITABLE (self->frames_row)),
                                  &frames_error);
  kiln_job_form_show_frames (self, frames, frames_error);

  if (frames != NULL && self->subtasks_auto)
    {
      self->syncing++;
      gtk_spin_button_set_value (self->subtasks_spin,
                                 MIN (kiln_frame_spec_get_n_frames (frames),
                                      KILN_MARKET_MAX_SUBTASKS));
      self->syncing--;
    }

  have_price = kiln_job_form_read_price (self, &price, &price_message);
  kiln_job_form_show_price_error (self, price_message);

  if (frames != NULL)
    plan = kiln_job_form_make_plan (self, frames, &plan_error);
  kiln_job_form_describe_plan (self, plan);

  if (plan != NULL && have_price)
    {
      have_cost = kiln_market_estimate_max_cost (kiln_frame_spec_get_n_frames (frames),
                                                 kiln_job_plan_get_n_subtasks (plan),
                                                 kiln_job_form_spin_value (self->timeout_spin) * 60,
                                                 &price,
                                                 kiln_job_form_spin_value (self->cores_spin),
                                                 &max_cost, &cost_error);
      if (have_cost && kiln_uint256_bit_length (&max_cost) > KILN_MARKET_AMOUNT_BITS)
        {
          have_cost = FALSE;
          g_set_error_literal (&cost_error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_OVERFLOW,
                               _("The job could cost more than Kiln can announce; lower the "
                                 "price or the time limit."));
        }
    }

  wallet_problem = kiln_job_form_wallet_problem (self);
  if (wallet_problem == NULL)
    {
      kiln_wallet_get_token_balance (self->wallet, &balance);
      have_balance = TRUE;
    }
  too_much = have_cost && have_balance && kiln_uint256_compare (&max_cost, &balance) > 0;

  /* "At most 12.5 GNT · Balance 1,000 GNT"; the exact amounts in the tooltip. */
  if (have_cost)
    {
      g_autofree char *cost_text = NULL;
      g_autofree char *cost_exact = NULL;

      cost_text = kiln_job_form_format_amount (self, &max_cost, KILN_AMOUNT_ROUND_UP);
      cost_exact = kiln_amount_format_exact (&max_cost, kiln_job_form_get_decimals (self),
                                             kiln_job_form_get_symbol (self));
      if (have_balance)
        {
          g_autofree char *balance_text = NULL;
          g_autofree char *balance_exact = NULL;

          balance_text = kiln_job_form_format_amount (self, &balance, KILN_AMOUNT_ROUND_DOWN);
          balance_exact = kiln_amount_format_exact (&balance, kiln_job_form_get_decimals (self),
                                                    kiln_job_form_get_symbol (self));
          /* TRANSLATORS: the most a render can cost, then the wallet's balance */
          summary = g_strdup_printf (_("At most %s · Balance %s"), cost_text, balance_text);
          /* TRANSLATORS: the same amounts, exactly */
          tooltip = g_strdup_printf (_("At most %s\nBalance %s"), cost_exact, balance_exact);
        }
      else
        {
          summary = g_strdup_printf (_("At most %s"), cost_text);
          tooltip = g_strdup_printf (_("At most %s"), cost_exact);
        }
    }
  gtk_label_set_label (self->summary_label, summary != NULL ? summary : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->summary_label), tooltip);
  gtk_widget_set_visible (GTK_WIDGET (self->summary_label), summary != NULL);
  if (too_much)
    gtk_widget_add_css_class (GTK_WIDGET (self->summary_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->summary_label), "error");

  /* The first thing to fix, in the order of the form. */
  if (self->scene_problem != NULL)
    problem = g_strdup (self->scene_problem);
  else if (frames == NULL)
    problem = g_strdup (_("Correct the frame list to submit."));
  else if (price_message != NULL)
    problem = g_strdup (_("Correct the maximum price to submit."));
  else if (!have_price)
    problem = g_strdup (_("Set the most you pay per CPU-hour to submit."));
  else if (plan == NULL)
    problem = g_strdup (plan_error->message);
  else if (!have_cost)
    problem = g_strdup (cost_error->message);
  else if (self->output_dir == NULL)
    problem = g_strdup (_("Choose a folder for the frames to submit."));
  else if (wallet_problem != NULL)
    problem = g_strdup (wallet_problem);
  else if (too_much)
    {
      g_autofree char *balance_text = NULL;

      balance_text = kiln_job_form_format_amount (self, &balance, KILN_AMOUNT_ROUND_DOWN);
      problem = g_strdup_printf (_("More than your balance of %s. Lower the price, the time "
                                   "limit, the cores or the subtasks, or add %s to the "
                                   "wallet."),
                                 balance_text, kiln_job_form_get_symbol (self));
    }
  else if (kiln_session_get_engine (self->session) == NULL)
    {
      const GError *engine_error = kiln_session_get_engine_error (self->session);

      if (engine_error != NULL)
        problem = g_strdup_printf (_("Kiln’s node is not running: %s"), engine_error->message);
      else
        problem = g_strdup (_("Waiting for Kiln’s node to start…"));
    }

  kiln_job_form_set_problem (self, problem);
}

/* A number typed or picked by the person: subtasks no longer follow the frames. */
void
kiln_job_form_subtasks_changed_cb (KilnJobForm *self)
{
  if (self->syncing == 0)
    self->subtasks_auto = FALSE;

  kiln_job_form_update (self);
}
