/* kiln-send-dialog.c: send GNT or ETH to an address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both fields are checked as they are typed: the address with its EIP-55 checksum, the amount
 * exactly, against the balance. Once both are valid and typing has paused, the wallet
 * estimates the fee, which is shown (rounded up) before anything is signed; Send is enabled
 * only then. A send that is under way finishes even if the dialog is closed, and its outcome
 * is shown on the main window.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-amount.h"
#include "kiln-send-dialog.h"
#include "kiln-session.h"
#include "kiln-util.h"

/* Estimate once typing has paused this long. */
#define ESTIMATE_DELAY_MS 300

/* The rows of asset_row. */
enum {
  ASSET_ROW_TOKEN,
  ASSET_ROW_ETH,
};

typedef enum
{
  MESSAGE_NONE,
  MESSAGE_INFO,
  MESSAGE_ERROR,
} MessageKind;

struct _KilnSendDialog
{
  AdwWindow           parent_instance;

  GtkButton          *cancel_button;
  GtkStack           *send_stack;
  GtkSpinner         *send_spinner;
  AdwPreferencesPage *form;
  AdwComboRow        *asset_row;
  AdwEntryRow        *recipient_row;
  GtkLabel           *recipient_message_label;
  AdwEntryRow        *amount_row;
  GtkLabel           *symbol_label;
  GtkLabel           *amount_message_label;
  GtkSpinner         *fee_spinner;
  GtkLabel           *fee_label;

  KilnWallet         *wallet;
  KilnWindow         *parent;        /* weak */
  GCancellable       *estimate_cancellable;
  guint               estimate_source;
  char               *idempotency_key;

  KilnAddress         recipient;
  KilnUint256         amount;
  KilnWalletEstimate  estimate;
  guint               recipient_valid : 1;
  guint               amount_valid : 1;
  guint               estimated : 1;
  guint               affordable : 1;
  guint               sending : 1;
};

G_DEFINE_FINAL_TYPE (KilnSendDialog, kiln_send_dialog, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_WALLET,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
set_message (GtkLabel    *label,
             MessageKind  kind,
             const char  *text)
{
  GtkWidget *widget = GTK_WIDGET (label);

  gtk_label_set_label (label, text != NULL ? text : "");
  gtk_widget_set_visible (widget, kind != MESSAGE_NONE && text != NULL);

  if (kind == MESSAGE_ERROR)
    {
      gtk_widget_remove_css_class (widget, "dim-label");
      gtk_widget_add_css_class (widget, "error");
    }
  else
    {
      gtk_widget_remove_css_class (widget, "error");
      gtk_widget_add_css_class (widget, "dim-label");
    }
}

static KilnWalletAsset
kiln_send_dialog_get_asset (KilnSendDialog *self)
{
  return adw_combo_row_get_selected (self->asset_row) == ASSET_ROW_ETH
           ? KILN_WALLET_ASSET_ETH : KILN_WALLET_ASSET_TOKEN;
}

static const char *
kiln_send_dialog_get_symbol (KilnSendDialog *self)
{
  if (kiln_send_dialog_get_asset (self) == KILN_WALLET_ASSET_ETH)
    return "ETH";

  return kiln_chain_get_token_symbol (kiln_wallet_get_chain (self->wallet));
}

static guint
kiln_send_dialog_get_decimals (KilnSendDialog *self)
{
  if (kiln_send_dialog_get_asset (self) == KILN_WALLET_ASSET_ETH)
    return 18;

  return kiln_chain_get_token_decimals (kiln_wallet_get_chain (self->wallet));
}

static void
kiln_send_dialog_get_balance (KilnSendDialog *self,
                              KilnUint256    *balance)
{
  if (kiln_send_dialog_get_asset (self) == KILN_WALLET_ASSET_ETH)
    kiln_wallet_get_eth_balance (self->wallet, balance);
  else
    kiln_wallet_get_token_balance (self->wallet, balance);
}

static char *
kiln_send_dialog_format_balance (KilnSendDialog *self)
{
  KilnUint256 balance;

  kiln_send_dialog_get_balance (self, &balance);

  return kiln_amount_format_with_symbol (&balance,
                                         kiln_send_dialog_get_decimals (self),
                                         kiln_send_dialog_get_symbol (self),
                                         KILN_AMOUNT_ROUND_DOWN, NULL);
}

/* What went wrong with an estimate or a send, in the words of someone paying. */
static char *
kiln_send_dialog_describe_error (KilnSendDialog *self,
                                 const GError   *error)
{
  KilnChain *chain = kiln_wallet_get_chain (self->wallet);

  if (g_error_matches (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH))
    return g_strdup (_("Not enough ETH to pay the network fee"));

  if (g_error_matches (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_TOKEN))
    {
      g_autofree char *balance = kiln_send_dialog_format_balance (self);

      return g_strdup_printf (_("More than your balance of %s"), balance);
    }

  if (kiln_session_is_unreachable (error))
    {
      g_autofree char *endpoint = kiln_session_describe_endpoint (chain);

      return g_strdup_printf (_("Can’t reach the Ethereum node at %s"), endpoint);
    }

  if (g_error_matches (error, KILN_RPC_ERROR, KILN_RPC_ERROR_REVERTED))
    {
      const char *reason = kiln_rpc_error_get_revert_reason (error);

      if (reason != NULL)
        return g_strdup_printf (_("The token contract refuses this transfer: %s"), reason);
      return g_strdup (_("The token contract refuses this transfer"));
    }

  return g_strdup (error->message);
}

static void
kiln_send_dialog_update_send (KilnSendDialog *self)
{
  gboolean ready = self->recipient_valid && self->amount_valid && self->estimated &&
                   self->affordable && !self->sending;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "send.send", ready);
}

/* --- the fee ------------------------------------------------------------------------------- */

/* Checks the estimate against the ETH balance, which pays the fee (and an ETH amount). */
static void
kiln_send_dialog_check_fee (KilnSendDialog *self)
{
  g_autofree char *fee = NULL;
  g_autofree char *exact = NULL;
  g_autofree char *text = NULL;
  KilnUint256 eth, needed;

  if (!self->estimated)
    return;

  kiln_wallet_get_eth_balance (self->wallet, &eth);
  needed = self->estimate.max_fee;
  self->affordable = TRUE;

  if (kiln_send_dialog_get_asset (self) == KILN_WALLET_ASSET_ETH &&
      !kiln_uint256_add (&needed, &needed, &self->amount))
    self->affordable = FALSE;
  if (kiln_uint256_compare (&needed, &eth) > 0)
    self->affordable = FALSE;

  fee = kiln_amount_format_with_symbol (&self->estimate.max_fee, 18, "ETH",
                                        KILN_AMOUNT_ROUND_UP, NULL);
  exact = kiln_amount_format_exact (&self->estimate.max_fee, 18, "ETH");

  if (self->affordable)
    {
      /* TRANSLATORS: the most a transaction may cost in fees, such as "0.000042 ETH" */
      text = g_strdup_printf (_("Network fee: up to %s"), fee);
      set_message (self->fee_label, MESSAGE_INFO, text);
    }
  else if (kiln_send_dialog_get_asset (self) == KILN_WALLET_ASSET_ETH)
    {
      text = g_strdup_printf (_("Not enough ETH to pay the network fee (up to %s) on top "
                                "of this amount"), fee);
      set_message (self->fee_label, MESSAGE_ERROR, text);
    }
  else
    {
      text = g_strdup_printf (_("Not enough ETH to pay the network fee (up to %s)"), fee);
      set_message (self->fee_label, MESSAGE_ERROR, text);
    }
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->fee_label), exact);

  kiln_send_dialog_update_send (self);
}

static void
kiln_send_dialog_estimate_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(KilnSendDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  KilnWalletEstimate estimate;

  if (!kiln_wallet_estimate_finish (KILN_WALLET (object), result, &estimate, &error) &&
      is_cancelled (error))
    return;

  gtk_spinner_set_spinning (self->fee_spinner, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->fee_spinner), FALSE);

  if (error != NULL)
    {
      g_autofree char *message = kiln_send_dialog_describe_error (self, error);

      g_debug ("Could not estimate the fee: %s", error->message);
      set_message (self->fee_label, MESSAGE_ERROR, message);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->fee_label), NULL);
      kiln_send_dialog_update_send (self);
      return;
    }

  self->estimate = estimate;
  self->estimated = TRUE;
  kiln_send_dialog_check_fee (self);
}

static gboolean
kiln_send_dialog_estimate_timeout_cb (gpointer user_data)
{
  KilnSendDialog *self = user_data;

  self->estimate_source = 0;
  self->estimate_cancellable = g_cancellable_new ();

  kiln_wallet_estimate_async (self->wallet,
                              kiln_send_dialog_get_asset (self),
                              &self->recipient,
                              &self->amount,
                              self->estimate_cancellable,
                              kiln_send_dialog_estimate_cb,
                              g_object_ref (self));

  return G_SOURCE_REMOVE;
}

/* The form changed: whatever was estimated no longer holds. */
static void
kiln_send_dialog_restart_estimate (KilnSendDialog *self)
{
  gboolean complete = self->recipient_valid && self->amount_valid;

  g_clear_handle_id (&self->estimate_source, g_source_remove);
  g_cancellable_cancel (self->estimate_cancellable);
  g_clear_object (&self->estimate_cancellable);
  self->estimated = FALSE;
  self->affordable = FALSE;

  /* A payment with other values is another payment: a retry of this one keeps its key. */
  g_free (self->idempotency_key);
  self->idempotency_key = g_uuid_string_random ();

  gtk_widget_set_visible (GTK_WIDGET (self->fee_spinner), complete);
  gtk_spinner_set_spinning (self->fee_spinner, complete);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->fee_label), NULL);
  if (complete)
    {
      set_message (self->fee_label, MESSAGE_INFO, _("Estimating the network fee…"));
      self->estimate_source = g_timeout_add (ESTIMATE_DELAY_MS,
                                             kiln_send_dialog_estimate_timeout_cb, self);
    }
  else
    {
      set_message (self->fee_label, MESSAGE_NONE, NULL);
    }

  kiln_send_dialog_update_send (self);
}

/* --- the fields ---------------------------------------------------------------------------- */

static void
kiln_send_dialog_validate_recipient (KilnSendDialog *self)
{
  const char *typed = gtk_editable_get_text (GTK_EDITABLE (self->recipient_row));
  g_autofree char *text = g_strstrip (g_strdup (typed));
  const KilnAddress *token = kiln_chain_get_token (kiln_wallet_get_chain (self->wallet));
  g_autoptr(GError) error = NULL;
  KilnAddress zero = { { 0 } };
  gsize len = strlen (text);
  const char *message = NULL;
  MessageKind kind = MESSAGE_ERROR;

  self->recipient_valid = FALSE;

  if (len == 0)
    kind = MESSAGE_NONE;
  else if (text[0] != '0' || (len > 1 && text[1] != 'x' && text[1] != 'X'))
    message = _("An address starts with “0x”");
  else if (len > 2 && strspn (text + 2, "0123456789abcdefABCDEF") != len - 2)
    message = _("After “0x”, an address has only the digits 0–9 and the letters a–f");
  else if (len > KILN_ADDRESS_STRING_SIZE - 1)
    message = _("Too long: an address has 40 digits after “0x”");
  else if (len < KILN_ADDRESS_STRING_SIZE - 1)
    kind = MESSAGE_NONE;  /* Still being typed. */
  else if (!kiln_address_parse (&self->recipient, text, &error))
    message = g_error_matches (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_BAD_CHECKSUM)
                ? _("This address has a typing mistake (checksum doesn’t match)")
                : error->message;
  else if (kiln_address_equal (&self->recipient, &zero))
    message = _("This is the zero address: whatever is sent to it is lost");
  else if (token != NULL && kiln_address_equal (&self->recipient, token))
    message = _("This is the token’s own contract: whatever is sent to it is lost");
  else
    {
      self->recipient_valid = TRUE;
      kind = MESSAGE_INFO;
      if (kiln_address_equal (&self->recipient, kiln_wallet_get_address (self->wallet)))
        message = _("This is your own address");
    }

  set_message (self->recipient_message_label, message != NULL ? kind : MESSAGE_NONE, message);
  if (kind == MESSAGE_ERROR && message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->recipient_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->recipient_row), "error");
}

static void
kiln_send_dialog_validate_amount (KilnSendDialog *self)
{
  const char *typed = gtk_editable_get_text (GTK_EDITABLE (self->amount_row));
  g_autofree char *text = g_strstrip (g_strdup (typed));
  g_autofree char *balance_text = kiln_send_dialog_format_balance (self);
  g_autofree char *message = NULL;
  g_autoptr(GError) error = NULL;
  MessageKind kind = MESSAGE_INFO;
  KilnUint256 balance;

  self->amount_valid = FALSE;
  kiln_send_dialog_get_balance (self, &balance);

  if (text[0] == '\0' || g_str_has_suffix (text, ".") || g_str_has_suffix (text, ","))
    {
      /* Empty, or a decimal point just typed: still being typed. */
      message = g_strdup_printf (_("You have %s"), balance_text);
    }
  else if (!kiln_amount_parse (&self->amount, text, kiln_send_dialog_get_decimals (self),
                               kiln_send_dialog_get_symbol (self), &error))
    {
      kind = MESSAGE_ERROR;
      message = g_strdup (error->message);
    }
  else if (kiln_uint256_is_zero (&self->amount))
    {
      message = g_strdup (_("Enter an amount above zero"));
    }
  else if (kiln_uint256_compare (&self->amount, &balance) > 0)
    {
      kind = MESSAGE_ERROR;
      message = g_strdup_printf (_("More than your balance of %s"), balance_text);
    }
  else
    {
      self->amount_valid = TRUE;
      message = g_strdup_printf (_("You have %s"), balance_text);
    }

  set_message (self->amount_message_label, kind, message);
  if (kind == MESSAGE_ERROR)
    gtk_widget_add_css_class (GTK_WIDGET (self->amount_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->amount_row), "error");
}

static void
kiln_send_dialog_recipient_changed_cb (KilnSendDialog *self)
{
  kiln_send_dialog_validate_recipient (self);
  kiln_send_dialog_restart_estimate (self);
}

static void
kiln_send_dialog_recipient_activated_cb (KilnSendDialog *self)
{
  if (self->recipient_valid)
    gtk_widget_grab_focus (GTK_WIDGET (self->amount_row));
}

static void
kiln_send_dialog_amount_changed_cb (KilnSendDialog *self)
{
  kiln_send_dialog_validate_amount (self);
  kiln_send_dialog_restart_estimate (self);
}

static void
kiln_send_dialog_asset_changed_cb (KilnSendDialog *self)
{
  if (self->wallet == NULL)
    return;

  gtk_label_set_label (self->symbol_label, kiln_send_dialog_get_symbol (self));
  kiln_send_dialog_validate_amount (self);
  kiln_send_dialog_restart_estimate (self);
}

static void
kiln_send_dialog_balances_changed_cb (KilnSendDialog *self)
{
  gboolean was_valid = self->amount_valid;
  KilnUint256 amount = self->amount;

  if (self->sending)
    return;

  kiln_send_dialog_validate_amount (self);

  /* Only a change to what would be sent needs a new estimate. */
  if (was_valid != self->amount_valid || !kiln_uint256_equal (&amount, &self->amount))
    kiln_send_dialog_restart_estimate (self);
  else
    kiln_send_dialog_check_fee (self);
}

/* --- sending ------------------------------------------------------------------------------- */

static void
kiln_send_dialog_set_sending (KilnSendDialog *self,
                              gboolean        sending)
{
  self->sending = sending;

  gtk_spinner_set_spinning (self->send_spinner, sending);
  gtk_stack_set_visible_child_name (self->send_stack, sending ? "spinner" : "label");
  /* Focus leaves the fields before they turn insensitive. */
  if (sending)
    gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
  gtk_widget_set_sensitive (GTK_WIDGET (self->form), !sending);
  if (!sending)
    gtk_widget_grab_focus (GTK_WIDGET (self->amount_row));

  kiln_send_dialog_update_send (self);
}

typedef struct
{
  KilnSendDialog  *self;
  KilnWalletAsset  asset;
  KilnUint256      amount;
  KilnAddress      recipient;
} SendData;

static void
send_data_free (SendData *data)
{
  g_clear_object (&data->self);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SendData, send_data_free)

static void
kiln_send_dialog_sent_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(SendData) data = user_data;
  KilnSendDialog *self = data->self;
  g_autoptr(KilnPayment) payment = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  gboolean closed = !gtk_widget_get_visible (GTK_WIDGET (self));

  payment = kiln_wallet_send_finish (KILN_WALLET (object), result, &error);

  if (payment != NULL)
    {
      KilnChain *chain = kiln_wallet_get_chain (self->wallet);
      gboolean token = data->asset == KILN_WALLET_ASSET_TOKEN;
      char address[KILN_ADDRESS_STRING_SIZE];
      g_autofree char *amount = NULL;
      g_autofree char *short_address = NULL;

      kiln_address_format (&data->recipient, address);
      short_address = kiln_abbreviate_address (address);
      amount = kiln_amount_format_with_symbol (&data->amount,
                                               token ? kiln_chain_get_token_decimals (chain) : 18,
                                               token ? kiln_chain_get_token_symbol (chain) : "ETH",
                                               KILN_AMOUNT_ROUND_DOWN, NULL);
      /* TRANSLATORS: "Sent 1.5 GNT to 0x12ab…89cd" */
      message = g_strdup_printf (_("Sent %s to %s"), amount, short_address);

      if (self->parent != NULL)
        kiln_window_show_message (self->parent, message);
      if (!closed)
        gtk_window_destroy (GTK_WINDOW (self));
      return;
    }

  g_debug ("Could not send: %s", error->message);

  if (!closed)
    {
      g_autofree char *reason = kiln_send_dialog_describe_error (self, error);

      message = g_strdup_printf (_("Could not send: %s"), reason);
      kiln_send_dialog_set_sending (self, FALSE);
      set_message (self->fee_label, MESSAGE_ERROR, message);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->fee_label), NULL);
      return;
    }

  if (self->parent != NULL)
    {
      g_autofree char *reason = kiln_send_dialog_describe_error (self, error);

      message = g_strdup_printf (_("Could not send: %s"), reason);
      kiln_window_show_message (self->parent, message);
    }
}

static void
kiln_send_dialog_send_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  KilnSendDialog *self = KILN_SEND_DIALOG (widget);
  SendData *data;

  if (!self->recipient_valid || !self->amount_valid || !self->estimated ||
      !self->affordable || self->sending)
    return;

  data = g_new0 (SendData, 1);
  data->self = g_object_ref (self);
  data->asset = kiln_send_dialog_get_asset (self);
  data->amount = self->amount;
  data->recipient = self->recipient;

  kiln_send_dialog_set_sending (self, TRUE);

  /* Not cancelled with the dialog: once asked for, the payment goes through. */
  kiln_wallet_send_async (self->wallet,
                          data->asset,
                          &data->recipient,
                          &data->amount,
                          NULL,
                          self->idempotency_key,
                          NULL,
                          kiln_send_dialog_sent_cb,
                          data);
}

/* --- GObject ------------------------------------------------------------------------------- */

static void
kiln_send_dialog_constructed (GObject *object)
{
  KilnSendDialog *self = (KilnSendDialog *)object;
  KilnChain *chain;
  g_autoptr(GtkStringList) assets = NULL;

  G_OBJECT_CLASS (kiln_send_dialog_parent_class)->constructed (object);

  g_assert (KILN_IS_WALLET (self->wallet));

  chain = kiln_wallet_get_chain (self->wallet);
  assets = gtk_string_list_new (NULL);
  gtk_string_list_append (assets, kiln_chain_get_token_symbol (chain));
  gtk_string_list_append (assets, "ETH");
  adw_combo_row_set_model (self->asset_row, G_LIST_MODEL (assets));
  adw_combo_row_set_selected (self->asset_row, ASSET_ROW_TOKEN);

  g_signal_connect_object (self->wallet, "balances-changed",
                           G_CALLBACK (kiln_send_dialog_balances_changed_cb),
                           self, G_CONNECT_SWAPPED);

  gtk_label_set_label (self->symbol_label, kiln_send_dialog_get_symbol (self));
  kiln_send_dialog_validate_amount (self);
  kiln_send_dialog_restart_estimate (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->recipient_row));
}

static void
kiln_send_dialog_dispose (GObject *object)
{
  KilnSendDialog *self = (KilnSendDialog *)object;

  g_clear_handle_id (&self->estimate_source, g_source_remove);
  g_cancellable_cancel (self->estimate_cancellable);
  g_clear_object (&self->estimate_cancellable);

  G_OBJECT_CLASS (kiln_send_dialog_parent_class)->dispose (object);
}

static void
kiln_send_dialog_finalize (GObject *object)
{
  KilnSendDialog *self = (KilnSendDialog *)object;

  g_clear_weak_pointer (&self->parent);
  g_clear_object (&self->wallet);
  g_clear_pointer (&self->idempotency_key, g_free);

  G_OBJECT_CLASS (kiln_send_dialog_parent_class)->finalize (object);
}

static void
kiln_send_dialog_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KilnSendDialog *self = KILN_SEND_DIALOG (object);

  switch (prop_id)
    {
    case PROP_WALLET:
      g_value_set_object (value, self->wallet);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_send_dialog_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  KilnSendDialog *self = KILN_SEND_DIALOG (object);

  switch (prop_id)
    {
    case PROP_WALLET:
      self->wallet = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_send_dialog_class_init (KilnSendDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = kiln_send_dialog_constructed;
  object_class->dispose = kiln_send_dialog_dispose;
  object_class->finalize = kiln_send_dialog_finalize;
  object_class->get_property = kiln_send_dialog_get_property;
  object_class->set_property = kiln_send_dialog_set_property;

  properties[PROP_WALLET] =
    g_param_spec_object ("wallet", NULL, NULL,
                         KILN_TYPE_WALLET,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-send-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, send_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, send_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, form);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, asset_row);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, recipient_row);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, recipient_message_label);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, amount_row);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, symbol_label);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, amount_message_label);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, fee_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnSendDialog, fee_label);
  gtk_widget_class_bind_template_callback (widget_class, kiln_send_dialog_asset_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_send_dialog_recipient_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_send_dialog_recipient_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_send_dialog_amount_changed_cb);

  gtk_widget_class_install_action (widget_class, "send.send", NULL, kiln_send_dialog_send_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kiln_send_dialog_init (KilnSendDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "send.send", FALSE);
}

/**
 * kiln_send_dialog_new:
 * @parent: the main window, where the outcome is shown
 * @wallet: a connected #KilnWallet
 *
 * Returns: (transfer none): a new dialog, not yet shown
 */
KilnSendDialog *
kiln_send_dialog_new (KilnWindow *parent,
                      KilnWallet *wallet)
{
  KilnSendDialog *self;

  g_return_val_if_fail (KILN_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (KILN_IS_WALLET (wallet), NULL);

  self = g_object_new (KILN_TYPE_SEND_DIALOG,
                       "transient-for", parent,
                       "wallet", wallet,
                       NULL);
  g_set_weak_pointer (&self->parent, parent);

  return self;
}
