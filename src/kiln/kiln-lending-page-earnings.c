/* kiln-lending-page-earnings.c: what lending brought in, read from the chain
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Kiln records only the payments it sends. What this account received is read from the
 * token's Transfer events to it, as the wallet's history gives them (the chain's recent
 * blocks): earnings are those from other accounts, confirmed. Tokens from the zero address
 * were minted, as the devnet does for test tokens, and do not count.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-amount.h"
#include "kiln-lending-page-private.h"

/* Incoming transfers arrive with new balances, several changes in a row. */
#define EARNINGS_RELOAD_DELAY_MS 150
/* Nothing tells the wallet about incoming transfers: while the page is shown, it asks the
 * chain for the balances this often, and reads the payments again when they change. */
#define BALANCES_REFRESH_SECONDS 10

static void
set_amount (GtkLabel          *label,
            const KilnUint256 *value,
            KilnChain         *chain)
{
  g_autofree char *shown = NULL;
  g_autofree char *exact = NULL;
  guint decimals = kiln_chain_get_token_decimals (chain);
  const char *symbol = kiln_chain_get_token_symbol (chain);

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
kiln_lending_page_schedule_midnight (KilnLendingPage *self,
                                     GDateTime       *now)
{
  g_autoptr(GDateTime) tomorrow = g_date_time_add_days (now, 1);
  gint64 next = local_midnight_usec (tomorrow);
  gint64 seconds = (next - g_date_time_to_unix (now) * G_USEC_PER_SEC) / G_USEC_PER_SEC;

  g_clear_handle_id (&self->midnight_source, g_source_remove);
  self->midnight_source = g_timeout_add_seconds ((guint) CLAMP (seconds + 1, 1, 25 * 3600),
                                                 kiln_lending_page_midnight_cb, self);
}

void
_kiln_lending_page_show_earnings (KilnLendingPage *self)
{
  KilnSessionState state = self->session != NULL ? kiln_session_get_state (self->session)
                                                 : KILN_SESSION_STATE_IDLE;
  g_autoptr(GDateTime) now = NULL;
  KilnUint256 today = { 0 }, total = { 0 };
  KilnChain *chain;
  gint64 midnight;
  gboolean overflow = FALSE;

  if (self->wallet == NULL || self->earnings == NULL)
    {
      const char *note;

      set_unknown (self->today_label);
      set_unknown (self->total_label);

      if (self->earnings_error != NULL)
        note = self->earnings_error->message;
      else if (self->wallet != NULL)
        note = _("Reading the payments…");
      else if (state == KILN_SESSION_STATE_FAILED)
        note = _("Earnings show once Kiln can reach the network.");
      else if (state == KILN_SESSION_STATE_IDLE)
        note = _("Earnings show once there is an account.");
      else
        note = _("Connecting to the network…");

      gtk_label_set_label (self->earnings_note, note);
      gtk_widget_set_visible (GTK_WIDGET (self->earnings_note), TRUE);
      return;
    }

  now = g_date_time_new_now_local ();
  midnight = local_midnight_usec (now);
  chain = kiln_wallet_get_chain (self->wallet);

  for (guint i = 0; i < self->earnings->len; i++)
    {
      KilnWalletEntry *entry = g_ptr_array_index (self->earnings, i);
      KilnUint256 amount;

      kiln_wallet_entry_get_amount (entry, &amount);
      overflow |= !kiln_uint256_add (&total, &total, &amount);
      if (kiln_wallet_entry_get_time (entry) >= midnight)
        overflow |= !kiln_uint256_add (&today, &today, &amount);
    }

  /* A token with a supply near 2^256 would have to send it all here twice. */
  if (overflow)
    g_debug ("The earnings do not fit in 256 bits; showing what fits");

  set_amount (self->today_label, &today, chain);
  set_amount (self->total_label, &total, chain);
  gtk_widget_set_visible (GTK_WIDGET (self->earnings_note), FALSE);
  kiln_lending_page_schedule_midnight (self, now);
}

/* Earnings are the token transfers other accounts made to this one. Tokens from the zero
 * address were minted, as the devnet does for test tokens: nobody paid them. */
static gboolean
is_earning (KilnWalletEntry *entry)
{
  const KilnAddress zero = { { 0 } };

  return kiln_wallet_entry_is_incoming (entry) &&
         kiln_wallet_entry_get_asset (entry) == KILN_WALLET_ASSET_TOKEN &&
         kiln_wallet_entry_get_state (entry) == KILN_PAYMENT_STATE_CONFIRMED &&
         !kiln_address_equal (kiln_wallet_entry_get_counterparty (entry), &zero);
}

static void
kiln_lending_page_earnings_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  KilnWallet *wallet = KILN_WALLET (object);
  g_autoptr(KilnLendingPage) self = user_data;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  entries = kiln_wallet_list_history_finish (wallet, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || wallet != self->wallet)
    return;

  if (entries == NULL)
    {
      g_debug ("Could not read the earnings: %s", error->message);
      /* Sums shown before stay: they are still true. */
      if (self->earnings == NULL)
        {
          g_clear_error (&self->earnings_error);
          g_set_error (&self->earnings_error, error->domain, error->code,
                       _("Could not read the payments: %s"), error->message);
        }
      _kiln_lending_page_show_earnings (self);
      return;
    }

  g_clear_error (&self->earnings_error);
  g_clear_pointer (&self->earnings, g_ptr_array_unref);
  self->earnings = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_wallet_entry_unref);
  for (guint i = 0; i < entries->len; i++)
    {
      KilnWalletEntry *entry = g_ptr_array_index (entries, i);

      if (is_earning (entry))
        g_ptr_array_add (self->earnings, kiln_wallet_entry_ref (entry));
    }

  _kiln_lending_page_show_earnings (self);
}

static gboolean
kiln_lending_page_load_earnings_cb (gpointer user_data)
{
  KilnLendingPage *self = user_data;

  self->earnings_source = 0;
  if (self->wallet == NULL)
    return G_SOURCE_REMOVE;

  g_cancellable_cancel (self->earnings_cancellable);
  g_clear_object (&self->earnings_cancellable);
  self->earnings_cancellable = g_cancellable_new ();

  kiln_wallet_list_history_async (self->wallet, 0, self->earnings_cancellable,
                                  kiln_lending_page_earnings_cb, g_object_ref (self));

  return G_SOURCE_REMOVE;
}

static void
kiln_lending_page_schedule_earnings (KilnLendingPage *self)
{
  g_clear_handle_id (&self->earnings_source, g_source_remove);
  self->earnings_source = g_timeout_add (EARNINGS_RELOAD_DELAY_MS,
                                         kiln_lending_page_load_earnings_cb, self);
}

static void
kiln_lending_page_refresh_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* New balances emit "balances-changed", which reads the payments again. */
  if (!kiln_wallet_refresh_finish (KILN_WALLET (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("Could not refresh the balances: %s", error->message);
}

static gboolean
kiln_lending_page_refresh_timeout_cb (gpointer user_data)
{
  KilnLendingPage *self = user_data;

  if (self->wallet != NULL)
    kiln_wallet_refresh_async (self->wallet, self->wallet_cancellable,
                               kiln_lending_page_refresh_cb, NULL);

  return G_SOURCE_CONTINUE;
}

void
_kiln_lending_page_start_refresh (KilnLendingPage *self)
{
  if (self->refresh_source == 0)
    self->refresh_source = g_timeout_add_seconds (BALANCES_REFRESH_SECONDS,
                                                  kiln_lending_page_refresh_timeout_cb, self);
  kiln_lending_page_refresh_timeout_cb (self);
}

void
_kiln_lending_page_stop_refresh (KilnLendingPage *self)
{
  g_clear_handle_id (&self->refresh_source, g_source_remove);
}

void
_kiln_lending_page_set_wallet (KilnLendingPage *self,
                              KilnWallet      *wallet)
{
  if (self->wallet == wallet)
    return;

  if (self->wallet != NULL)
    g_signal_handlers_disconnect_by_data (self->wallet, self);

  g_cancellable_cancel (self->wallet_cancellable);
  g_clear_object (&self->wallet_cancellable);
  g_cancellable_cancel (self->earnings_cancellable);
  g_clear_object (&self->earnings_cancellable);
  g_clear_handle_id (&self->earnings_source, g_source_remove);
  g_clear_handle_id (&self->midnight_source, g_source_remove);
  g_clear_pointer (&self->earnings, g_ptr_array_unref);
  g_clear_error (&self->earnings_error);
  g_set_object (&self->wallet, wallet);
  self->wallet_cancellable = g_cancellable_new ();

  if (wallet != NULL)
    {
      /* New balances come with incoming transfers. */
      g_signal_connect_object (wallet, "balances-changed",
                               G_CALLBACK (kiln_lending_page_schedule_earnings),
                               self, G_CONNECT_SWAPPED);
      kiln_lending_page_load_earnings_cb (self);
    }

  _kiln_lending_page_show_earnings (self);
}

void
_kiln_lending_page_sync_wallet (KilnLendingPage *self)
{
  _kiln_lending_page_set_wallet (self, self->session != NULL ?
                                      kiln_session_get_wallet (self->session) : NULL);
  _kiln_lending_page_show_earnings (self);
}

void
_kiln_lending_page_dispose_earnings (KilnLendingPage *self)
{
  _kiln_lending_page_stop_refresh (self);
  _kiln_lending_page_set_wallet (self, NULL);
  g_cancellable_cancel (self->wallet_cancellable);
  g_clear_object (&self->wallet_cancellable);
}
