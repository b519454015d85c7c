/* kiln-wallet-page.c: balances, the receiving address and the payment history
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page follows the session: a spinner while the wallet connects, what went wrong when it
 * cannot (with a way to try again), and otherwise the balances, the address to receive on and
 * the history, newest first. Rows of payments still on their way show a spinner and change
 * to confirmed or failed as the wallet follows them on the chain.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-amount.h"
#include "kiln-qr-code.h"
#include "kiln-util.h"
#include "kiln-wallet-page.h"
#include "kiln-window.h"

/* The history shows the newest payments only. */
#define HISTORY_LIMIT 50
/* A payment changes state several times in a row while it is sent. */
#define HISTORY_RELOAD_DELAY_MS 150

struct _KilnWalletPage
{
  AdwBin          parent_instance;

  GtkStack       *stack;
  GtkSpinner     *loading_spinner;
  AdwStatusPage  *error_page;
  GtkStack       *retry_stack;
  GtkSpinner     *retry_spinner;
  GtkLabel       *chain_label;
  GtkLabel       *token_balance_label;
  GtkLabel       *eth_balance_label;
  GtkStack       *refresh_stack;
  GtkSpinner     *refresh_spinner;
  GtkButton      *fund_button;
  GtkStack       *fund_stack;
  GtkSpinner     *fund_spinner;
  AdwActionRow   *address_row;
  KilnQrCode     *qr_code;
  GtkLabel       *qr_label;
  GtkStack       *history_stack;
  GtkSpinner     *history_spinner;
  GtkLabel       *history_error_label;
  GtkListBox     *history_list;

  KilnSession    *session;
  KilnWallet     *wallet;
  GCancellable   *cancellable;
  GError         *refresh_error;
  guint           refreshing;
  GCancellable   *history_cancellable;
  guint           history_source;
  gboolean        history_loaded;
};

G_DEFINE_FINAL_TYPE (KilnWalletPage, kiln_wallet_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void kiln_wallet_page_load_history (KilnWalletPage *self);

static void
kiln_wallet_page_show_message (KilnWalletPage *self,
                               const char     *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (KILN_IS_WINDOW (root))
    kiln_window_show_message (KILN_WINDOW (root), message);
}

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* --- the error screen ---------------------------------------------------------------------- */

static void
kiln_wallet_page_show_error (KilnWalletPage *self,
                             const GError   *error)
{
  KilnChain *chain = self->session != NULL ? kiln_session_get_chain (self->session) : NULL;
  g_autofree char *endpoint = chain != NULL ? kiln_session_describe_endpoint (chain) : NULL;
  g_autofree char *escaped = g_markup_escape_text (error->message, -1);
  g_autofree char *description = NULL;
  const char *icon_name = "dialog-warning-symbolic";
  const char *title;

  if (kiln_session_is_unreachable (error) && endpoint != NULL)
    {
      g_autofree char *where = g_markup_escape_text (endpoint, -1);
      g_autofree char *first = NULL;

      icon_name = "network-offline-symbolic";
      title = _("Can’t Reach the Network");
      first = g_strdup_printf (_("Can’t reach the Ethereum node at %s."), where);
      if (kiln_chain_is_devnet (chain))
        description = g_strdup_printf ("%s %s", first,
                                       _("The local devnet may not be running: "
                                         "<tt>make run</tt> starts it with Kiln. Or choose "
                                         "another network in Preferences → Network."));
      else
        description = g_strdup_printf ("%s %s", first,
                                       _("Check your internet connection, or choose another "
                                         "network in Preferences → Network."));
    }
  else if (g_error_matches (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_WRONG_CHAIN))
    {
      title = _("Wrong Network");
      description = g_strdup_printf ("%s %s", escaped,
                                     _("Check the endpoint in Preferences → Network."));
    }
  else if (error->domain == KILN_STORE_ERROR)
    {
      icon_name = "drive-harddisk-symbolic";
      title = _("Can’t Open Kiln’s Database");
      description = g_strdup_printf ("%s %s", escaped,
                                     _("Another folder can be chosen in Preferences."));
    }
  else if (chain == NULL)
    {
      /* The network settings do not describe a chain Kiln can use. */
      icon_name = "preferences-system-network-symbolic";
      title = _("Choose a Network");
      description = g_strdup_printf ("%s %s", escaped,
                                     _("Set the network up in Preferences → Network."));
    }
  else
    {
      title = _("Can’t Connect to the Network");
      description = g_strdup_printf ("%s %s", escaped,
                                     _("Check Preferences → Network, then try again."));
    }

  adw_status_page_set_icon_name (self->error_page, icon_name);
  adw_status_page_set_title (self->error_page, title);
  adw_status_page_set_description (self->error_page, description);
}

static void
kiln_wallet_page_update_view (KilnWalletPage *self)
{
  KilnSessionState state = KILN_SESSION_STATE_IDLE;
  const GError *error = NULL;
  const char *page;
  gboolean retrying;

  if (self->session != NULL)
    state = kiln_session_get_state (self->session);

  switch (state)
    {
    case KILN_SESSION_STATE_READY:
      error = self->refresh_error;
      page = error != NULL ? "error" : "wallet";
      break;

    case KILN_SESSION_STATE_FAILED:
      error = kiln_session_get_error (self->session);
      page = "error";
      break;

    case KILN_SESSION_STATE_IDLE:
    case KILN_SESSION_STATE_CONNECTING:
    default:
      page = "loading";
      break;
    }

  if (error != NULL)
    kiln_wallet_page_show_error (self, error);

  gtk_stack_set_visible_child_name (self->stack, page);
  gtk_spinner_set_spinning (self->loading_spinner, g_str_equal (page, "loading"));

  retrying = self->refreshing > 0 && g_str_equal (page, "error");
  gtk_spinner_set_spinning (self->retry_spinner, retrying);
  gtk_stack_set_visible_child_name (self->retry_stack, retrying ? "spinner" : "label");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wallet.retry", !retrying);

  gtk_spinner_set_spinning (self->refresh_spinner, self->refreshing > 0);
  gtk_stack_set_visible_child_name (self->refresh_stack,
                                    self->refreshing > 0 ? "spinner" : "button");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wallet.refresh",
                                 self->wallet != NULL && self->refreshing == 0);
}

/* --- balances ------------------------------------------------------------------------------ */

static void
set_amount_label (GtkLabel          *label,
                  const KilnUint256 *value,
                  guint              decimals,
                  const char        *symbol)
{
  g_autofree char *shown = NULL;
  g_autofree char *exact = NULL;

  shown = kiln_amount_format_with_symbol (value, decimals, symbol, KILN_AMOUNT_ROUND_DOWN, NULL);
  exact = kiln_amount_format_exact (value, decimals, symbol);

  gtk_label_set_label (label, shown);
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), exact);
}

static void
kiln_wallet_page_update_balances (KilnWalletPage *self)
{
  KilnChain *chain;
  KilnUint256 tokens, eth;

  if (self->wallet == NULL || !kiln_wallet_get_has_balances (self->wallet))
    {
      gtk_label_set_label (self->token_balance_label, "");
      gtk_label_set_label (self->eth_balance_label, "");
      return;
    }

  chain = kiln_wallet_get_chain (self->wallet);
  kiln_wallet_get_token_balance (self->wallet, &tokens);
  kiln_wallet_get_eth_balance (self->wallet, &eth);

  set_amount_label (self->token_balance_label, &tokens,
                    kiln_chain_get_token_decimals (chain), kiln_chain_get_token_symbol (chain));
  set_amount_label (self->eth_balance_label, &eth, 18, "ETH");
}

static void
kiln_wallet_page_update_funding (KilnWalletPage *self)
{
  gboolean funding = self->session != NULL && kiln_session_get_funding (self->session);
  gboolean devnet = self->wallet != NULL &&
                    kiln_chain_is_devnet (kiln_wallet_get_chain (self->wallet));

  gtk_widget_set_visible (GTK_WIDGET (self->fund_button), devnet);
  gtk_spinner_set_spinning (self->fund_spinner, funding);
  gtk_stack_set_visible_child_name (self->fund_stack, funding ? "spinner" : "label");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wallet.fund", devnet && !funding);
}

static void
kiln_wallet_page_refresh_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  KilnWallet *wallet = KILN_WALLET (object);
  g_autoptr(KilnWalletPage) self = user_data;
  g_autoptr(GError) error = NULL;

  kiln_wallet_refresh_finish (wallet, result, &error);

  /* A wallet replaced meanwhile reset the count. */
  if (wallet != self->wallet || is_cancelled (error))
    return;

  self->refreshing--;
  g_clear_error (&self->refresh_error);
  if (error != NULL)
    {
      g_debug ("Could not refresh the balances: %s", error->message);
      self->refresh_error = g_steal_pointer (&error);
    }
  else
    {
      kiln_wallet_page_update_balances (self);
      kiln_wallet_page_load_history (self);
    }

  kiln_wallet_page_update_view (self);
}

static void
kiln_wallet_page_refresh (KilnWalletPage *self)
{
  if (self->wallet == NULL || self->refreshing > 0)
    return;

  self->refreshing++;
  kiln_wallet_page_update_view (self);

  kiln_wallet_refresh_async (self->wallet, self->cancellable,
                             kiln_wallet_page_refresh_cb, g_object_ref (self));
}

/* --- history ------------------------------------------------------------------------------- */

static char *
format_time (gint64 usec)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (usec / G_USEC_PER_SEC);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) yesterday = g_date_time_add_days (now, -1);
  int year, month, day;

  if (when == NULL)
    return g_strdup ("");

  g_date_time_get_ymd (when, &year, &month, &day);

  if (g_date_time_get_year (now) == year && g_date_time_get_month (now) == month &&
      g_date_time_get_day_of_month (now) == day)
    /* TRANSLATORS: when a payment was made today, as g_date_time_format() writes it */
    return g_date_time_format (when, C_("payment time", "Today, %H:%M"));

  if (g_date_time_get_year (yesterday) == year && g_date_time_get_month (yesterday) == month &&
      g_date_time_get_day_of_month (yesterday) == day)
    /* TRANSLATORS: when a payment was made yesterday, as g_date_time_format() writes it */
    return g_date_time_format (when, C_("payment time", "Yesterday, %H:%M"));

  if (g_date_time_get_year (now) == year)
    /* TRANSLATORS: when a payment was made this year, as g_date_time_format() writes it */
    return g_date_time_format (when, C_("payment time", "%-d %B, %H:%M"));

  /* TRANSLATORS: when a payment was made in another year, as g_date_time_format() writes it */
  return g_date_time_format (when, C_("payment time", "%-d %B %Y"));
}

static GtkWidget *
kiln_wallet_page_create_row (KilnWalletPage  *self,
                             KilnWalletEntry *entry)
{
  KilnChain *chain = kiln_wallet_get_chain (self->wallet);
  gboolean incoming = kiln_wallet_entry_is_incoming (entry);
  gboolean token = kiln_wallet_entry_get_asset (entry) == KILN_WALLET_ASSET_TOKEN;
  const char *symbol = token ? kiln_chain_get_token_symbol (chain) : "ETH";
  guint decimals = token ? kiln_chain_get_token_decimals (chain) : 18;
  KilnPaymentState state = kiln_wallet_entry_get_state (entry);
  const char *tx_hash = kiln_wallet_entry_get_tx_hash (entry);
  guint n_recipients = kiln_wallet_entry_get_n_recipients (entry);
  char counterparty[KILN_ADDRESS_STRING_SIZE];
  const KilnAddress zero = { { 0 } };
  g_autofree char *short_address = NULL;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *number = NULL;
  g_autofree char *amount_text = NULL;
  g_autofree char *exact = NULL;
  g_autofree char *url = NULL;
  const char *state_text;
  KilnUint256 amount;
  GtkWidget *row, *icon, *box, *column, *label, *spinner;

  kiln_address_format (kiln_wallet_entry_get_counterparty (entry), counterparty);
  short_address = kiln_abbreviate_address (counterparty);

  if (incoming && kiln_address_equal (kiln_wallet_entry_get_counterparty (entry), &zero))
    /* Tokens from the zero address were created for this account, as the devnet does. */
    title = g_strdup (_("Newly minted"));
  else if (incoming)
    title = g_strdup_printf (_("From %s"), short_address);
  else if (n_recipients > 1)
    title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "To %s and %u other",
                                          "To %s and %u others",
                                          n_recipients - 1),
                             short_address, n_recipients - 1);
  else
    title = g_strdup_printf (_("To %s"), short_address);

  subtitle = format_time (kiln_wallet_entry_get_time (entry));

  row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_tooltip_text (row, counterparty);

  icon = gtk_image_new_from_icon_name (incoming ? "kiln-incoming-symbolic"
                                                : "kiln-outgoing-symbolic");
  gtk_widget_add_css_class (icon, incoming ? "incoming" : "outgoing");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  incoming ? _("Received") : _("Sent"),
                                  -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);

  switch (state)
    {
    case KILN_PAYMENT_STATE_PENDING:
    case KILN_PAYMENT_STATE_SIGNED:
    case KILN_PAYMENT_STATE_BROADCAST:
      state_text = _("Pending");
      break;

    case KILN_PAYMENT_STATE_FAILED:
      state_text = _("Failed");
      break;

    case KILN_PAYMENT_STATE_CONFIRMED:
    default:
      state_text = _("Confirmed");
      break;
    }

  if (state != KILN_PAYMENT_STATE_CONFIRMED && state != KILN_PAYMENT_STATE_FAILED)
    {
      spinner = gtk_spinner_new ();
      gtk_spinner_start (GTK_SPINNER (spinner));
      gtk_accessible_update_property (GTK_ACCESSIBLE (spinner),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Waiting for the network"),
                                      -1);
      gtk_box_append (GTK_BOX (box), spinner);
    }

  column = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  gtk_box_append (GTK_BOX (box), column);

  kiln_wallet_entry_get_amount (entry, &amount);
  number = kiln_amount_format_with_symbol (&amount, decimals, symbol,
                                           KILN_AMOUNT_ROUND_DOWN, NULL);
  /* U+2212 MINUS SIGN lines up with the plus sign. */
  amount_text = g_strconcat (incoming ? "+" : "−", number, NULL);
  exact = kiln_amount_format_exact (&amount, decimals, symbol);

  label = gtk_label_new (amount_text);
  gtk_label_set_xalign (GTK_LABEL (label), 1.0f);
  gtk_widget_set_tooltip_text (label, exact);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_add_css_class (label, "numeric");
  gtk_box_append (GTK_BOX (column), label);

  label = gtk_label_new (state_text);
  gtk_label_set_xalign (GTK_LABEL (label), 1.0f);
  gtk_widget_add_css_class (label, "caption");
  if (state == KILN_PAYMENT_STATE_FAILED)
    {
      KilnPayment *payment = kiln_wallet_entry_get_payment (entry);

      gtk_widget_add_css_class (label, "error");
      if (payment != NULL && kiln_payment_get_error (payment) != NULL)
        gtk_widget_set_tooltip_text (label, kiln_payment_get_error (payment));
    }
  else
    {
      gtk_widget_add_css_class (label, "dim-label");
    }
  gtk_box_append (GTK_BOX (column), label);

  if (tx_hash != NULL)
    url = kiln_chain_dup_explorer_tx_url (chain, tx_hash);
  if (url != NULL)
    {
      GtkWidget *button = gtk_button_new_from_icon_name ("kiln-external-link-symbolic");

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, _("Show in the Block Explorer"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Show in the Block Explorer"),
                                      -1);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "wallet.open-transaction");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button),
                                              g_variant_new_string (url));
      gtk_box_append (GTK_BOX (box), button);
    }

  adw_action_row_add_suffix (ADW_ACTION_ROW (row), box);

  return row;
}

static void
kiln_wallet_page_history_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  KilnWallet *wallet = KILN_WALLET (object);
  g_autoptr(KilnWalletPage) self = user_data;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *child;

  entries = kiln_wallet_list_history_finish (wallet, result, &error);
  if (is_cancelled (error) || wallet != self->wallet)
    return;

  gtk_spinner_set_spinning (self->history_spinner, FALSE);

  if (entries == NULL)
    {
      g_autofree char *message = NULL;

      g_debug ("Could not read the history: %s", error->message);
      /* Rows shown before stay: they are still true. */
      if (self->history_loaded)
        return;

      message = g_strdup_printf (_("Could not read the payment history: %s"), error->message);
      gtk_label_set_label (self->history_error_label, message);
      gtk_stack_set_visible_child_name (self->history_stack, "error");
      return;
    }

  self->history_loaded = TRUE;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->history_list))) != NULL)
    gtk_list_box_remove (self->history_list, child);

  for (guint i = 0; i < entries->len; i++)
    gtk_list_box_append (self->history_list,
                         kiln_wallet_page_create_row (self, g_ptr_array_index (entries, i)));

  gtk_stack_set_visible_child_name (self->history_stack, entries->len > 0 ? "list" : "empty");
}

static void
kiln_wallet_page_load_history (KilnWalletPage *self)
{
  g_clear_handle_id (&self->history_source, g_source_remove);

  if (self->wallet == NULL)
    return;

  g_cancellable_cancel (self->history_cancellable);
  g_clear_object (&self->history_cancellable);
  self->history_cancellable = g_cancellable_new ();

  if (!self->history_loaded)
    {
      gtk_spinner_set_spinning (self->history_spinner, TRUE);
      gtk_stack_set_visible_child_name (self->history_stack, "loading");
    }

  kiln_wallet_list_history_async (self->wallet, HISTORY_LIMIT, self->history_cancellable,
                                  kiln_wallet_page_history_cb, g_object_ref (self));
}

static gboolean
kiln_wallet_page_history_timeout_cb (gpointer user_data)
{
  KilnWalletPage *self = user_data;

  self->history_source = 0;
  kiln_wallet_page_load_history (self);

  return G_SOURCE_REMOVE;
}

static void
kiln_wallet_page_schedule_history (KilnWalletPage *self)
{
  g_clear_handle_id (&self->history_source, g_source_remove);
  self->history_source = g_timeout_add (HISTORY_RELOAD_DELAY_MS,
                                        kiln_wallet_page_history_timeout_cb, self);
}

static void
kiln_wallet_page_balances_changed_cb (KilnWalletPage *self)
{
  kiln_wallet_page_update_balances (self);
  /* New balances may come with incoming transfers. */
  kiln_wallet_page_schedule_history (self);
}

/* --- the wallet and the session ------------------------------------------------------------ */

static void
kiln_wallet_page_set_wallet (KilnWalletPage *self,
                             KilnWallet     *wallet)
{
  char address[KILN_ADDRESS_STRING_SIZE] = "";

  if (self->wallet == wallet)
    return;

  if (self->wallet != NULL)
    g_signal_handlers_disconnect_by_data (self->wallet, self);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->history_cancellable);
  g_clear_object (&self->history_cancellable);
  g_clear_handle_id (&self->history_source, g_source_remove);
  g_clear_error (&self->refresh_error);
  self->refreshing = 0;
  self->history_loaded = FALSE;

  g_set_object (&self->wallet, wallet);
  self->cancellable = g_cancellable_new ();

  if (wallet != NULL)
    {
      KilnChain *chain = kiln_wallet_get_chain (wallet);

      g_signal_connect_object (wallet, "balances-changed",
                               G_CALLBACK (kiln_wallet_page_balances_changed_cb),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (wallet, "payment-changed",
                               G_CALLBACK (kiln_wallet_page_schedule_history),
                               self, G_CONNECT_SWAPPED);

      gtk_label_set_label (self->chain_label, kiln_chain_get_name (chain));
      kiln_address_format (kiln_wallet_get_address (wallet), address);
      kiln_wallet_page_load_history (self);
    }

  adw_action_row_set_subtitle (self->address_row, address);
  kiln_qr_code_set_text (self->qr_code, address);
  gtk_label_set_label (self->qr_label, address);

  kiln_wallet_page_update_balances (self);
  kiln_wallet_page_update_funding (self);
  kiln_wallet_page_update_view (self);
}

static void
kiln_wallet_page_sync_wallet (KilnWalletPage *self)
{
  kiln_wallet_page_set_wallet (self,
                               self->session != NULL ? kiln_session_get_wallet (self->session)
                                                     : NULL);
}

static void
kiln_wallet_page_devnet_funded_cb (KilnWalletPage *self,
                                   const GError   *error,
                                   gboolean        automatic,
                                   KilnSession    *session)
{
  g_autofree char *message = NULL;

  if (error == NULL)
    {
      kiln_wallet_page_show_message (self, _("Added test GNT from the local devnet"));
      return;
    }

  message = g_strdup_printf (_("Could not get test tokens: %s"), error->message);
  kiln_wallet_page_show_message (self, message);
}

/* --- actions ------------------------------------------------------------------------------- */

static void
kiln_wallet_page_refresh_action (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *param)
{
  kiln_wallet_page_refresh (KILN_WALLET_PAGE (widget));
}

static void
kiln_wallet_page_retry_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  KilnWalletPage *self = KILN_WALLET_PAGE (widget);

  if (self->session == NULL)
    return;

  if (kiln_session_get_state (self->session) == KILN_SESSION_STATE_READY)
    kiln_wallet_page_refresh (self);
  else
    kiln_session_reconnect (self->session);
}

static void
kiln_wallet_page_fund_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  KilnWalletPage *self = KILN_WALLET_PAGE (widget);

  if (self->session != NULL && self->wallet != NULL)
    kiln_session_devnet_fund (self->session);
}

static void
kiln_wallet_page_open_transaction_action (GtkWidget  *widget,
                                          const char *action_name,
                                          GVariant   *param)
{
  const char *url = g_variant_get_string (param, NULL);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWindow *window = GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;

#if GTK_CHECK_VERSION (4, 10, 0)
  g_autoptr(GtkUriLauncher) launcher = gtk_uri_launcher_new (url);

  gtk_uri_launcher_launch (launcher, window, NULL, NULL, NULL);
#else
  gtk_show_uri (window, url, GDK_CURRENT_TIME);
#endif
}

/* --- GObject ------------------------------------------------------------------------------- */

static void
kiln_wallet_page_dispose (GObject *object)
{
  KilnWalletPage *self = (KilnWalletPage *)object;

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  kiln_wallet_page_set_wallet (self, NULL);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (kiln_wallet_page_parent_class)->dispose (object);
}

static void
kiln_wallet_page_finalize (GObject *object)
{
  KilnWalletPage *self = (KilnWalletPage *)object;

  g_clear_error (&self->refresh_error);

  G_OBJECT_CLASS (kiln_wallet_page_parent_class)->finalize (object);
}

static void
kiln_wallet_page_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KilnWalletPage *self = KILN_WALLET_PAGE (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_wallet_page_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  KilnWalletPage *self = KILN_WALLET_PAGE (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      kiln_wallet_page_set_session (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_wallet_page_class_init (KilnWalletPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_wallet_page_dispose;
  object_class->finalize = kiln_wallet_page_finalize;
  object_class->get_property = kiln_wallet_page_get_property;
  object_class->set_property = kiln_wallet_page_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL,
                         KILN_TYPE_SESSION,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-wallet-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, stack);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, error_page);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, retry_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, retry_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, chain_label);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, token_balance_label);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, eth_balance_label);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, refresh_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, refresh_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, fund_button);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, fund_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, fund_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, address_row);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, qr_code);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, qr_label);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, history_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, history_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, history_error_label);
  gtk_widget_class_bind_template_child (widget_class, KilnWalletPage, history_list);

  gtk_widget_class_install_action (widget_class, "wallet.refresh", NULL,
                                   kiln_wallet_page_refresh_action);
  gtk_widget_class_install_action (widget_class, "wallet.retry", NULL,
                                   kiln_wallet_page_retry_action);
  gtk_widget_class_install_action (widget_class, "wallet.fund", NULL,
                                   kiln_wallet_page_fund_action);
  gtk_widget_class_install_action (widget_class, "wallet.open-transaction", "s",
                                   kiln_wallet_page_open_transaction_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "wallet.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
                                       "wallet.refresh", NULL);

  g_type_ensure (KILN_TYPE_QR_CODE);
}

static void
kiln_wallet_page_init (KilnWalletPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  kiln_wallet_page_update_funding (self);
  kiln_wallet_page_update_view (self);
}

KilnSession *
kiln_wallet_page_get_session (KilnWalletPage *self)
{
  g_return_val_if_fail (KILN_IS_WALLET_PAGE (self), NULL);

  return self->session;
}

void
kiln_wallet_page_set_session (KilnWalletPage *self,
                              KilnSession    *session)
{
  g_return_if_fail (KILN_IS_WALLET_PAGE (self));
  g_return_if_fail (!session || KILN_IS_SESSION (session));

  if (self->session == session)
    return;

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);

  g_set_object (&self->session, session);

  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::state",
                               G_CALLBACK (kiln_wallet_page_update_view),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (session, "notify::wallet",
                               G_CALLBACK (kiln_wallet_page_sync_wallet),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (session, "notify::funding",
                               G_CALLBACK (kiln_wallet_page_update_funding),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (session, "devnet-funded",
                               G_CALLBACK (kiln_wallet_page_devnet_funded_cb),
                               self, G_CONNECT_SWAPPED);
    }

  kiln_wallet_page_sync_wallet (self);
  kiln_wallet_page_update_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}
