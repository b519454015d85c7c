/* kiln-lending-page-earnings.c: what lending brought in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The node's KilnEarnings (the lender's) records what requestors approved and the
 * transactions they say paid for it, and checks each payment on the chain. Today and In
 * Total count confirmed payments only; what is approved or paid but not confirmed yet is
 * shown apart. Nothing here reads the chain: the earnings say when they change.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-amount.h"
#include "kiln-lending-page-private.h"

#define DEFAULT_SYMBOL   "GNT"
#define DEFAULT_DECIMALS 18

static void
set_amount (KilnLendingPage   *self,
            GtkLabel          *label,
            const KilnUint256 *value)
{
  KilnChain *chain = kiln_lender_get_chain (self->lender);
  guint decimals = chain != NULL ? kiln_chain_get_token_decimals (chain) : DEFAULT_DECIMALS;
  const char *symbol = chain != NULL ? kiln_chain_get_token_symbol (chain) : DEFAULT_SYMBOL;
  g_autofree char *shown = NULL;
  g_autofree char *exact = NULL;

  shown = kiln_amount_format_with_symbol (value, decimals, symbol, KILN_AMOUNT_ROUND_DOWN, NULL);
  exact = kiln_amount_format_exact (value, decimals, symbol);
  gtk_label_set_label (label, shown);
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), exact);
  gtk_widget_remove_css_class (GTK_WIDGET (label), "dim-label");
}

static void
set_unknown (GtkLabel *label)
{
  /* Translators: an amount earned that cannot be read yet; the note below says why */
  gtk_label_set_label (label, C_("earnings", "Unknown"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), NULL);
  gtk_widget_add_css_class (GTK_WIDGET (label), "dim-label");
}

static void
show_note (KilnLendingPage *self,
           const char      *note)
{
  gtk_label_set_label (self->earnings_note, note != NULL ? note : "");
  gtk_widget_set_visible (GTK_WIDGET (self->earnings_note), note != NULL);
}

static gint64
local_midnight_usec (GDateTime *now)
{
  g_autoptr(GDateTime) midnight = g_date_time_new_local (g_date_time_get_year (now),
                                                         g_date_time_get_month (now),
                                                         g_date_time_get_day_of_month (now),
                                                         0, 0, 0);

  return g_date_time_to_unix (midnight) * G_USEC_PER_SEC;
}

static gboolean
kiln_lending_page_midnight_cb (gpointer user_data)
{
  KilnLendingPage *self = user_data;

  self->midnight_source = 0;
  _kiln_lending_page_show_earnings (self);

  return G_SOURCE_REMOVE;
}

/* "Today" changes at midnight even when nothing arrives. */
static void
kiln_lending_page_schedule_midnight (KilnLendingPage *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) tomorrow = g_date_time_add_days (now, 1);
  gint64 next = local_midnight_usec (tomorrow);
  gint64 seconds = (next - g_date_time_to_unix (now) * G_USEC_PER_SEC) / G_USEC_PER_SEC;

  g_clear_handle_id (&self->midnight_source, g_source_remove);
  self->midnight_source = g_timeout_add_seconds ((guint) CLAMP (seconds + 1, 1, 25 * 3600),
                                                 kiln_lending_page_midnight_cb, self);
}

/* Why payments are not checked, or NULL when they are. */
static const char *
describe_chain (KilnLendingPage *self)
{
  KilnSession *session = kiln_lender_get_session (self->lender);

  if (session == NULL || kiln_session_get_wallet (session) != NULL)
    return NULL;
  if (kiln_session_get_state (session) == KILN_SESSION_STATE_FAILED)
    return _("Payments are confirmed once Kiln can reach the chain.");
  return _("Connecting to the chain to confirm payments…");
}

void
_kiln_lending_page_show_earnings (KilnLendingPage *self)
{
  KilnSession *session = kiln_lender_get_session (self->lender);
  KilnEarningsTotals totals;
  g_autofree char *pending = NULL;

  if (self->earnings == NULL || !kiln_earnings_get_loaded (self->earnings))
    {
      const char *note;

      set_unknown (self->today_label);
      set_unknown (self->total_label);
      gtk_widget_set_visible (GTK_WIDGET (self->pending_row), FALSE);
      g_clear_handle_id (&self->midnight_source, g_source_remove);

      if (self->earnings != NULL)
        note = _("Reading the earnings…");
      else if (session == NULL || kiln_session_get_key (session) == NULL)
        note = _("Earnings show once there is an account.");
      else if (kiln_session_get_state (session) == KILN_SESSION_STATE_FAILED)
        note = _("Earnings show once Kiln can open its database.");
      else
        note = _("Opening the database…");
      show_note (self, note);
      return;
    }

  kiln_earnings_get_totals (self->earnings, &totals);
  set_amount (self, self->today_label, &totals.confirmed_today);
  set_amount (self, self->total_label, &totals.confirmed_total);

  gtk_widget_set_visible (GTK_WIDGET (self->pending_row), totals.n_pending > 0);
  if (totals.n_pending > 0)
    {
      set_amount (self, self->pending_label, &totals.pending);
      gtk_widget_add_css_class (GTK_WIDGET (self->pending_label), "dim-label");
      pending = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "%u subtask approved, its payment not yet "
                                              "confirmed on the chain",
                                              "%u subtasks approved, their payments not yet "
                                              "confirmed on the chain",
                                              totals.n_pending),
                                 totals.n_pending);
      adw_action_row_set_subtitle (self->pending_row, pending);
    }

  show_note (self, totals.n_pending > 0 ? describe_chain (self) : NULL);
  kiln_lending_page_schedule_midnight (self);
}

void
_kiln_lending_page_sync_earnings (KilnLendingPage *self)
{
  KilnEarnings *earnings = kiln_lender_get_earnings (self->lender);

  if (self->earnings != earnings)
    {
      if (self->earnings != NULL)
        g_signal_handlers_disconnect_by_data (self->earnings, self);
      g_set_object (&self->earnings, earnings);
      if (earnings != NULL)
        g_signal_connect_object (earnings, "changed",
                                 G_CALLBACK (_kiln_lending_page_show_earnings), self,
                                 G_CONNECT_SWAPPED);
    }

  _kiln_lending_page_show_earnings (self);
}

void
_kiln_lending_page_dispose_earnings (KilnLendingPage *self)
{
  g_clear_handle_id (&self->midnight_source, g_source_remove);
  if (self->earnings != NULL)
    g_signal_handlers_disconnect_by_data (self->earnings, self);
  g_clear_object (&self->earnings);
}
