/* kiln-node-wallet-common.c: what the wallet commands share: amounts, addresses,
 * confirmation and following a payment until it is final
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "kiln-crypto.h"
#include "kiln-eth.h"

#include "kiln-node-secret.h"
#include "kiln-node-wallet-private.h"

/* Seconds between "still waiting" lines. */
#define PROGRESS_INTERVAL_S 15

void
kiln_node_asset_init_token (KilnNodeAsset *asset,
                            KilnChain     *chain)
{
  asset->asset = KILN_WALLET_ASSET_TOKEN;
  asset->symbol = kiln_chain_get_token_symbol (chain);
  asset->decimals = kiln_chain_get_token_decimals (chain);
}

void
kiln_node_asset_init_native (KilnNodeAsset *asset,
                             KilnChain     *chain)
{
  asset->asset = KILN_WALLET_ASSET_ETH;
  asset->symbol = kiln_chain_get_native_symbol (chain);
  asset->decimals = 18;
}

/* Amounts and addresses as people write them */

/* "1.5 GNT" */
char *
kiln_node_format_amount (const KilnUint256 *value,
                         guint              decimals,
                         const char        *symbol)
{
  g_autofree char *number = kiln_uint256_format_units (value, decimals);

  return g_strdup_printf ("%s %s", number, symbol);
}

/* {"base_units": "1500000000000000000", "formatted": "1.5", "symbol": "GNT", "decimals": 18} */
void
kiln_node_json_add_amount (JsonBuilder       *builder,
                           const char        *name,
                           const KilnUint256 *value,
                           guint              decimals,
                           const char        *symbol)
{
  g_autofree char *base_units = kiln_uint256_to_string (value);
  g_autofree char *formatted = kiln_uint256_format_units (value, decimals);

  json_builder_set_member_name (builder, name);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "base_units");
  json_builder_add_string_value (builder, base_units);
  json_builder_set_member_name (builder, "formatted");
  json_builder_add_string_value (builder, formatted);
  json_builder_set_member_name (builder, "symbol");
  json_builder_add_string_value (builder, symbol);
  json_builder_set_member_name (builder, "decimals");
  json_builder_add_int_value (builder, decimals);
  json_builder_end_object (builder);
}

void
kiln_node_json_add_string (JsonBuilder *builder,
                           const char  *name,
                           const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
kiln_node_json_add_int (JsonBuilder *builder,
                        const char  *name,
                        gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

void
kiln_node_json_add_address (JsonBuilder       *builder,
                            const char        *name,
                            const KilnAddress *address)
{
  char text[KILN_ADDRESS_STRING_SIZE];

  kiln_address_format (address, text);
  kiln_node_json_add_string (builder, name, text);
}

void
kiln_node_print_json_builder (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  kiln_node_print_json (root);
}

/* A recipient: EIP-55 checked when written in mixed case, never the zero address. The
 * message says what is wrong without a location; callers add one. */
gboolean
kiln_node_parse_recipient (const char  *text,
                           KilnAddress *out,
                           GError     **error)
{
  static const KilnAddress zero = { { 0 } };
  g_autoptr(GError) local_error = NULL;

  if (!kiln_address_parse (out, text, &local_error))
    {
      if (g_error_matches (local_error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_BAD_CHECKSUM))
        g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_BAD_CHECKSUM,
                     _("the address “%s” fails its EIP-55 checksum (its capital and small "
                       "letters do not match), so it probably holds a typing mistake: copy "
                       "it again from its source"), text);
      else
        g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_ADDRESS,
                     _("“%s” is not an Ethereum address (“0x” and 40 hex digits)"), text);
      return FALSE;
    }

  if (kiln_address_equal (out, &zero))
    {
      g_set_error_literal (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_ADDRESS,
                           _("the recipient is the zero address, from which nobody can spend: "
                             "what is sent there is lost"));
      return FALSE;
    }

  return TRUE;
}

/* The number of digits after the decimal point when @text is digits with one point. */
static gsize
count_decimal_places (const char *text)
{
  const char *dot = strchr (text, '.');

  if (dot == NULL || strspn (text, "0123456789.") != strlen (text) ||
      strchr (dot + 1, '.') != NULL)
    return 0;

  return strlen (dot + 1);
}

/* A positive amount of @asset, exactly, as in "1.5". */
gboolean
kiln_node_parse_amount (const char          *text,
                        const KilnNodeAsset *asset,
                        KilnUint256         *out,
                        GError             **error)
{
  g_autoptr(GError) local_error = NULL;

  if (text[0] == '-')
    {
      g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT,
                   _("the amount must be positive, not “%s”"), text);
      return FALSE;
    }

  if (!kiln_uint256_parse_units (out, text, asset->decimals, asset->symbol, &local_error))
    {
      if (g_error_matches (local_error, KILN_ETH_ERROR, KILN_ETH_ERROR_OVERFLOW))
        g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT,
                     _("the amount “%s” is too large"), text);
      else if (count_decimal_places (text) > asset->decimals)
        g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT,
                     _("the amount “%s” has more decimal places than %s’s %u"),
                     text, asset->symbol, asset->decimals);
      else
        g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT,
                     _("“%s” is not an amount: write digits with at most one decimal point, "
                       "such as 1.5"), text);
      return FALSE;
    }

  if (kiln_uint256_is_zero (out))
    {
      g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT,
                   _("the amount must be more than zero, not “%s”"), text);
      return FALSE;
    }

  return TRUE;
}

/* Confirmation */

gboolean
kiln_node_check_can_confirm (KilnNodeContext *ctx,
                             gboolean         yes,
                             GError         **error)
{
  if (yes || kiln_node_stdin_is_terminal ())
    return TRUE;

  g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
               _("standard input is not a terminal, so nobody can confirm the payment: pass "
                 "--yes to pay without asking"));
  return FALSE;
}

gboolean
kiln_node_ask_confirmation (KilnNodeWallet *node,
                            const char     *question,
                            GError        **error)
{
  char answer[64];
  gsize length = 0;

  /* Nothing is signed yet: Control-C at the question simply ends the program. */
  kiln_node_wallet_catch_signals (node, FALSE);
  g_printerr ("%s [y/N] ", question);

  for (;;)
    {
      char c;
      ssize_t n = read (STDIN_FILENO, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || c == '\n')
        break;
      if (length < sizeof answer - 1)
        answer[length++] = c;
    }
  answer[length] = '\0';
  g_strstrip (answer);
  kiln_node_wallet_catch_signals (node, TRUE);

  if (g_ascii_strcasecmp (answer, "y") == 0 || g_ascii_strcasecmp (answer, "yes") == 0)
    return TRUE;

  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       _("not confirmed: nothing was sent"));
  return FALSE;
}

void
kiln_node_describe_chain (KilnChain *chain,
                          GString   *out)
{
  g_string_append_printf (out, _("%s (chain id %" PRIu64 ")"),
                          kiln_chain_get_name (chain), kiln_chain_get_chain_id (chain));
}

/* Following a payment until it is final */

typedef struct
{
  KilnNodeContext *ctx;
  gint64           payment_id;
  char            *last_hash;
  gint64           started;
} Progress;

static void
progress_clear (Progress *progress)
{
  g_clear_pointer (&progress->last_hash, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Progress, progress_clear)

static void
on_payment_changed (KilnWallet  *wallet,
                    KilnPayment *payment,
                    gpointer     user_data)
{
  Progress *progress = user_data;
  const KilnPaymentAttempt *attempt;
  g_autofree char *hash = NULL;

  if (kiln_payment_get_id (payment) != progress->payment_id)
    return;

  attempt = kiln_payment_get_latest_attempt (payment);
  if (attempt == NULL)
    return;

  hash = kiln_node_format_tx_hash (attempt->tx_hash);
  if (progress->last_hash != NULL && !g_str_equal (hash, progress->last_hash) &&
      !progress->ctx->json)
    g_printerr (_("Replaced by transaction %s with a higher fee\n"), hash);

  g_free (progress->last_hash);
  progress->last_hash = g_steal_pointer (&hash);
}

static gboolean
on_progress_tick (gpointer user_data)
{
  Progress *progress = user_data;
  gint64 seconds = (g_get_monotonic_time () - progress->started) / G_USEC_PER_SEC;

  g_printerr (_("Still waiting for confirmation (%" PRId64 " s so far)…\n"), seconds);

  return G_SOURCE_CONTINUE;
}

KilnPayment *
kiln_node_follow_payment (KilnNodeContext *ctx,
                          KilnNodeWallet  *node,
                          KilnPayment     *payment,
                          GError          *send_error,
                          gboolean         no_wait,
                          GError         **error)
{
  g_auto(Progress) progress = { ctx, 0, NULL, g_get_monotonic_time () };
  g_autoptr(KilnNodeAsync) call = NULL;
  g_autoptr(GError) local_error = NULL;
  const KilnPaymentAttempt *attempt;
  GAsyncResult *result;
  KilnPayment *final = NULL;
  gulong handler;
  guint tick = 0;

  if (payment == NULL)
    {
      g_assert (send_error != NULL);

      if (g_error_matches (send_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("interrupted while sending; if the payment was signed, the "
                                 "next wallet command finishes it"));
          g_error_free (send_error);
        }
      else
        {
          g_propagate_prefixed_error (error, send_error, _("cannot pay: "));
        }
      return NULL;
    }
  g_assert (send_error == NULL);

  progress.payment_id = kiln_payment_get_id (payment);
  attempt = kiln_payment_get_latest_attempt (payment);
  progress.last_hash = attempt != NULL ? kiln_node_format_tx_hash (attempt->tx_hash) : NULL;

  if (!ctx->json)
    {
      if (kiln_payment_get_state (payment) == KILN_PAYMENT_STATE_SIGNED)
        g_printerr (_("Signed transaction %s (payment #%" PRId64 "), not broadcast "
                      "yet: the node could not be reached, trying again\n"),
                    progress.last_hash != NULL ? progress.last_hash : "?", progress.payment_id);
      else
        g_printerr (_("Broadcast transaction %s (payment #%" PRId64 ")\n"),
                    progress.last_hash != NULL ? progress.last_hash : "?", progress.payment_id);
    }

  if (no_wait || kiln_payment_get_state (payment) == KILN_PAYMENT_STATE_CONFIRMED)
    return kiln_payment_ref (payment);

  if (!ctx->json)
    {
      g_printerr (_("Waiting for confirmation…\n"));
      tick = g_timeout_add_seconds (PROGRESS_INTERVAL_S, on_progress_tick, &progress);
    }
  handler = g_signal_connect (node->wallet, "payment-changed",
                              G_CALLBACK (on_payment_changed), &progress);

  /* The call may outlive the waiting when a signal interrupts it. */
  call = kiln_node_async_new ();
  kiln_wallet_wait_async (node->wallet, payment, node->cancellable,
                          kiln_node_async_done_shared, kiln_node_async_ref (call));
  result = kiln_node_async_wait_cancellable (call, node->cancellable);
  if (result != NULL)
    final = kiln_wallet_wait_finish (node->wallet, result, &local_error);
  else
    g_set_error_literal (&local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "");

  g_clear_signal_handler (&handler, node->wallet);
  g_clear_handle_id (&tick, g_source_remove);

  if (final != NULL)
    return final;

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                 _("interrupted: payment #%" PRId64 " was sent as %s and is not "
                   "confirmed yet; the next wallet command follows it up"),
                 progress.payment_id, progress.last_hash != NULL ? progress.last_hash : "?");
  else
    g_set_error (error, local_error->domain, local_error->code,
                 _("payment #%" PRId64 " (transaction %s) failed: %s"),
                 progress.payment_id, progress.last_hash != NULL ? progress.last_hash : "?",
                 local_error->message);

  return NULL;
}

static char *
describe_state (KilnPayment *payment)
{
  guint64 block = 0;
  guint64 gas_used = 0;

  switch (kiln_payment_get_state (payment))
    {
    case KILN_PAYMENT_STATE_CONFIRMED:
      if (kiln_payment_get_confirmation (payment, &block, &gas_used))
        return g_strdup_printf (_("confirmed in block %" PRIu64 " (%" PRIu64
                                  " gas used)"), block, gas_used);
      return g_strdup (_("confirmed"));

    case KILN_PAYMENT_STATE_BROADCAST:
      return g_strdup (_("broadcast, not confirmed yet"));

    case KILN_PAYMENT_STATE_FAILED:
      return g_strdup_printf (_("failed: %s"),
                              kiln_payment_get_error (payment) != NULL
                                ? kiln_payment_get_error (payment) : _("no reason recorded"));

    case KILN_PAYMENT_STATE_PENDING:
    case KILN_PAYMENT_STATE_SIGNED:
    default:
      return g_strdup (kiln_payment_state_to_string (kiln_payment_get_state (payment)));
    }
}

/* The members every paying command prints: the payment, its transaction and its state. */
void
kiln_node_json_add_payment (JsonBuilder *builder,
                            KilnChain   *chain,
                            KilnPayment *payment)
{
  const KilnPaymentAttempt *attempt = kiln_payment_get_latest_attempt (payment);
  g_autofree char *hash = attempt != NULL ? kiln_node_format_tx_hash (attempt->tx_hash) : NULL;
  g_autofree char *explorer = hash != NULL ? kiln_chain_dup_explorer_tx_url (chain, hash) : NULL;
  guint64 block = 0;
  guint64 gas_used = 0;

  kiln_node_json_add_int (builder, "payment_id", kiln_payment_get_id (payment));
  kiln_node_json_add_string (builder, "tx_hash", hash);
  kiln_node_json_add_string (builder, "state",
                             kiln_payment_state_to_string (kiln_payment_get_state (payment)));
  if (kiln_payment_get_confirmation (payment, &block, &gas_used))
    {
      kiln_node_json_add_int (builder, "block", (gint64) block);
      kiln_node_json_add_int (builder, "gas_used", (gint64) gas_used);
    }
  if (kiln_payment_get_error (payment) != NULL)
    kiln_node_json_add_string (builder, "error", kiln_payment_get_error (payment));
  if (explorer != NULL)
    kiln_node_json_add_string (builder, "explorer_url", explorer);
}

void
kiln_node_print_payment (KilnChain   *chain,
                         KilnPayment *payment)
{
  const KilnPaymentAttempt *attempt = kiln_payment_get_latest_attempt (payment);
  g_autofree char *hash = attempt != NULL ? kiln_node_format_tx_hash (attempt->tx_hash) : NULL;
  g_autofree char *explorer = hash != NULL ? kiln_chain_dup_explorer_tx_url (chain, hash) : NULL;
  g_autofree char *state = describe_state (payment);

  g_print ("%-12s %s\n", _("Transaction"), hash != NULL ? hash : "-");
  g_print ("%-12s %s\n", _("State"), state);
  if (explorer != NULL)
    g_print ("%-12s %s\n", _("Explorer"), explorer);
}

gboolean
kiln_node_check_balance (KilnNodeWallet      *node,
                         const KilnNodeAsset *asset,
                         const KilnUint256   *amount,
                         GError             **error)
{
  KilnUint256 balance;
  g_autofree char *amount_text = NULL;
  g_autofree char *balance_text = NULL;

  if (asset->asset == KILN_WALLET_ASSET_TOKEN)
    kiln_wallet_get_token_balance (node->wallet, &balance);
  else
    kiln_wallet_get_eth_balance (node->wallet, &balance);

  if (kiln_uint256_compare (amount, &balance) <= 0)
    return TRUE;

  amount_text = kiln_node_format_amount (amount, asset->decimals, asset->symbol);
  balance_text = kiln_node_format_amount (&balance, asset->decimals, asset->symbol);
  g_set_error (error, KILN_WALLET_ERROR,
               asset->asset == KILN_WALLET_ASSET_TOKEN ? KILN_WALLET_ERROR_INSUFFICIENT_TOKEN
                                                       : KILN_WALLET_ERROR_INSUFFICIENT_ETH,
               _("cannot pay %s: the balance is only %s"), amount_text, balance_text);
  return FALSE;
}
