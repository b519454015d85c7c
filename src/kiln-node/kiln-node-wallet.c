/* kiln-node-wallet.c: kiln-node wallet balance|send|history|pay-batch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The commands are split by concern: this file holds balance, send and history and the
 * command table; kiln-node-wallet-batch.c pay-batch and its payee lists;
 * kiln-node-wallet-common.c what they share.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>

#include "kiln-node-wallet-private.h"

#define DEFAULT_HISTORY_LIMIT 20
#define MAX_HISTORY_LIMIT     10000

/* wallet balance */

static gboolean
wallet_balance (KilnNodeContext *ctx,
                int              argc,
                char           **argv,
                GError         **error)
{
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(KilnNodeWallet) node = NULL;
  g_autofree char *address = NULL;
  KilnUint256 eth, token;
  KilnNodeAsset native, paid;

  if (!kiln_node_context_parse_options (ctx, NULL, NULL, &argc, &argv, error))
    return FALSE;

  chain = kiln_node_chain_new (ctx, error);
  if (chain == NULL)
    return FALSE;

  node = kiln_node_wallet_open (ctx, g_object_ref (chain), error);
  if (node == NULL)
    return FALSE;

  kiln_node_asset_init_native (&native, chain);
  kiln_node_asset_init_token (&paid, chain);
  kiln_wallet_get_eth_balance (node->wallet, &eth);
  kiln_wallet_get_token_balance (node->wallet, &token);
  address = kiln_address_to_string (kiln_wallet_get_address (node->wallet));

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      kiln_node_json_add_string (builder, "address", address);
      kiln_node_json_add_string (builder, "network", kiln_chain_get_name (chain));
      kiln_node_json_add_int (builder, "chain_id", (gint64) kiln_chain_get_chain_id (chain));
      kiln_node_json_add_address (builder, "token", kiln_chain_get_token (chain));
      kiln_node_json_add_amount (builder, "eth", &eth, native.decimals, native.symbol);
      kiln_node_json_add_amount (builder, "gnt", &token, paid.decimals, paid.symbol);
      kiln_node_json_add_int (builder, "pending_payments",
                              kiln_wallet_get_pending_count (node->wallet));
      json_builder_end_object (builder);
      kiln_node_print_json_builder (builder);
    }
  else
    {
      g_autofree char *eth_text = kiln_node_format_amount (&eth, native.decimals, native.symbol);
      g_autofree char *token_text = kiln_node_format_amount (&token, paid.decimals, paid.symbol);
      g_autoptr(GString) network = g_string_new (NULL);
      guint pending = kiln_wallet_get_pending_count (node->wallet);

      kiln_node_describe_chain (chain, network);
      g_print ("%-9s %s\n", _("Address"), address);
      g_print ("%-9s %s\n", _("Network"), network->str);
      g_print ("%-9s %s\n", native.symbol, eth_text);
      g_print ("%-9s %s\n", paid.symbol, token_text);
      if (pending > 0)
        g_print (g_dngettext (GETTEXT_PACKAGE,
                              "%-9s %u payment not confirmed yet\n",
                              "%-9s %u payments not confirmed yet\n", pending),
                 _("Pending"), pending);
    }

  return TRUE;
}

/* wallet send */

static gboolean
parse_asset (const char    *name,
             KilnChain     *chain,
             KilnNodeAsset *out,
             GError       **error)
{
  const char *token_symbol = kiln_chain_get_token_symbol (chain);
  const char *native_symbol = kiln_chain_get_native_symbol (chain);

  if (name == NULL || g_ascii_strcasecmp (name, token_symbol) == 0 ||
      g_ascii_strcasecmp (name, "gnt") == 0 || g_ascii_strcasecmp (name, "token") == 0)
    {
      kiln_node_asset_init_token (out, chain);
      return TRUE;
    }

  if (g_ascii_strcasecmp (name, native_symbol) == 0 || g_ascii_strcasecmp (name, "eth") == 0 ||
      g_ascii_strcasecmp (name, "native") == 0)
    {
      kiln_node_asset_init_native (out, chain);
      return TRUE;
    }

  g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
               _("unknown asset “%s”: --asset takes gnt (the payment token) or eth"), name);
  return FALSE;
}

/* Refuses what the balances cannot pay before anything is signed. */
static gboolean
check_funds (KilnNodeWallet           *node,
             const KilnNodeAsset      *asset,
             const KilnNodeAsset      *native,
             const KilnUint256        *amount,
             const KilnWalletEstimate *estimate,
             GError                  **error)
{
  KilnUint256 eth, needed;
  g_autofree char *fee_text = kiln_node_format_amount (&estimate->max_fee, native->decimals,
                                                       native->symbol);
  g_autofree char *eth_text = NULL;

  kiln_wallet_get_eth_balance (node->wallet, &eth);
  eth_text = kiln_node_format_amount (&eth, native->decimals, native->symbol);

  if (asset->asset == KILN_WALLET_ASSET_TOKEN)
    {
      if (kiln_uint256_compare (&estimate->max_fee, &eth) > 0)
        {
          g_set_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH,
                       _("not enough %s to pay the network fee: it may cost up to %s and the "
                         "balance is %s"), native->symbol, fee_text, eth_text);
          return FALSE;
        }
      return TRUE;
    }

  if (!kiln_uint256_add (&needed, amount, &estimate->max_fee))
    kiln_uint256_set_max (&needed);
  if (kiln_uint256_compare (&needed, &eth) > 0)
    {
      g_autofree char *amount_text = kiln_node_format_amount (amount, native->decimals,
                                                              native->symbol);
      g_autofree char *needed_text = kiln_node_format_amount (&needed, native->decimals,
                                                              native->symbol);

      g_set_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH,
                   _("not enough %s to pay the network fee as well: sending %s with up to %s "
                     "of fees needs %s, and the balance is %s"),
                   native->symbol, amount_text, fee_text, needed_text, eth_text);
      return FALSE;
    }

  return TRUE;
}

static gboolean
estimate_send (KilnNodeWallet      *node,
               const KilnNodeAsset *asset,
               const KilnAddress   *to,
               const KilnUint256   *amount,
               KilnWalletEstimate  *estimate,
               GError             **error)
{
  g_auto(KilnNodeAsync) call = { 0 };

  kiln_wallet_estimate_async (node->wallet, asset->asset, to, amount, node->cancellable,
                              kiln_node_async_done, &call);
  if (!kiln_wallet_estimate_finish (node->wallet, kiln_node_async_wait (&call), estimate, error))
    {
      g_prefix_error (error, _("cannot estimate the network fee: "));
      return FALSE;
    }

  return TRUE;
}

static void
print_send_summary (KilnChain                *chain,
                    const KilnNodeAsset      *asset,
                    const KilnNodeAsset      *native,
                    const char               *to,
                    const KilnUint256        *amount,
                    const KilnWalletEstimate *estimate)
{
  g_autofree char *amount_text = kiln_node_format_amount (amount, asset->decimals, asset->symbol);
  g_autofree char *fee_text = kiln_node_format_amount (&estimate->max_fee, native->decimals,
                                                       native->symbol);
  g_autofree char *gwei = kiln_uint256_format_units (&estimate->max_fee_per_gas, 9);
  g_autoptr(GString) network = g_string_new (NULL);

  kiln_node_describe_chain (chain, network);
  g_printerr (_("Sending %s to %s on %s\n"), amount_text, to, network->str);
  g_printerr (_("Network fee: at most %s (%" PRIu64 " gas at up to %s gwei)\n"),
              fee_text, estimate->gas_limit, gwei);
}

static gboolean
wallet_send (KilnNodeContext *ctx,
             int              argc,
             char           **argv,
             GError         **error)
{
  g_autofree char *to_text = NULL;
  g_autofree char *amount_text = NULL;
  g_autofree char *asset_name = NULL;
  g_autofree char *reference = NULL;
  gboolean yes = FALSE;
  gboolean no_wait = FALSE;
  const GOptionEntry entries[] = {
    { "to", 0, 0, G_OPTION_ARG_STRING, &to_text,
      N_("The recipient’s address (EIP-55 checksummed, or all lowercase)"), N_("ADDR") },
    { "amount", 0, 0, G_OPTION_ARG_STRING, &amount_text,
      N_("How much to send, in GNT (or ETH with --asset eth), such as 1.5"), N_("AMOUNT") },
    { "asset", 0, 0, G_OPTION_ARG_STRING, &asset_name,
      N_("What to send: gnt, the payment token (default), or eth"), N_("ASSET") },
    KILN_NODE_YES_OPTION (&yes),
    KILN_NODE_NO_WAIT_OPTION (&no_wait),
    KILN_NODE_REFERENCE_OPTION (&reference),
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(KilnNodeWallet) node = NULL;
  g_autoptr(KilnPayment) sent = NULL;
  g_autoptr(KilnPayment) final = NULL;
  g_auto(KilnNodeAsync) call = { 0 };
  GError *send_error = NULL;
  char to_display[KILN_ADDRESS_STRING_SIZE];
  KilnWalletEstimate estimate;
  KilnAddress to;
  KilnUint256 amount;
  KilnNodeAsset asset, native;

  if (!kiln_node_context_parse_options (ctx, entries, NULL, &argc, &argv, error))
    return FALSE;

  if (to_text == NULL || amount_text == NULL)
    {
      g_set_error_literal (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                           to_text == NULL ? _("say whom to pay with --to ADDR")
                                           : _("say how much to send with --amount AMOUNT"));
      return FALSE;
    }

  chain = kiln_node_chain_new (ctx, error);
  if (chain == NULL)
    return FALSE;

  if (!parse_asset (asset_name, chain, &asset, error))
    return FALSE;
  kiln_node_asset_init_native (&native, chain);

  if (reference != NULL && reference[0] == '\0')
    {
      g_set_error_literal (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                           _("--reference needs a value, not an empty string"));
      return FALSE;
    }

  if (!kiln_node_parse_recipient (to_text, &to, error) ||
      !kiln_node_parse_amount (amount_text, &asset, &amount, error) ||
      !kiln_node_check_can_confirm (ctx, yes, error))
    return FALSE;
  kiln_address_format (&to, to_display);

  node = kiln_node_wallet_open (ctx, g_object_ref (chain), error);
  if (node == NULL)
    return FALSE;

  if (!kiln_node_check_balance (node, &asset, &amount, error) ||
      !estimate_send (node, &asset, &to, &amount, &estimate, error) ||
      !check_funds (node, &asset, &native, &amount, &estimate, error))
    return FALSE;

  if (!ctx->json || !yes)
    print_send_summary (chain, &asset, &native, to_display, &amount, &estimate);
  if (!yes && !kiln_node_ask_confirmation (node, _("Send it?"), error))
    return FALSE;

  kiln_wallet_send_async (node->wallet, asset.asset, &to, &amount, reference, NULL,
                          node->cancellable, kiln_node_async_done, &call);
  sent = kiln_wallet_send_finish (node->wallet, kiln_node_async_wait (&call), &send_error);
  final = kiln_node_follow_payment (ctx, node, sent, g_steal_pointer (&send_error), no_wait,
                                    error);
  if (final == NULL)
    return FALSE;

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      kiln_node_json_add_address (builder, "from", kiln_wallet_get_address (node->wallet));
      kiln_node_json_add_string (builder, "to", to_display);
      kiln_node_json_add_string (builder, "asset", asset.symbol);
      kiln_node_json_add_amount (builder, "amount", &amount, asset.decimals, asset.symbol);
      json_builder_set_member_name (builder, "fee_estimate");
      json_builder_begin_object (builder);
      kiln_node_json_add_int (builder, "gas_limit", (gint64) estimate.gas_limit);
      kiln_node_json_add_amount (builder, "max_fee_per_gas", &estimate.max_fee_per_gas,
                                 native.decimals, native.symbol);
      kiln_node_json_add_amount (builder, "max_fee", &estimate.max_fee,
                                 native.decimals, native.symbol);
      json_builder_end_object (builder);
      kiln_node_json_add_payment (builder, chain, final);
      json_builder_end_object (builder);
      kiln_node_print_json_builder (builder);
    }
  else
    {
      kiln_node_print_payment (chain, final);
    }

  return TRUE;
}

/* wallet history */

static void
entry_asset (KilnChain       *chain,
             KilnWalletEntry *entry,
             KilnNodeAsset   *asset)
{
  if (kiln_wallet_entry_get_asset (entry) == KILN_WALLET_ASSET_TOKEN)
    kiln_node_asset_init_token (asset, chain);
  else
    kiln_node_asset_init_native (asset, chain);
}

/* ISO 8601 in UTC for JSON, local time for people. */
static char *
format_entry_time (KilnWalletEntry *entry,
                   gboolean         for_json)
{
  gint64 time = kiln_wallet_entry_get_time (entry);
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (time <= 0)
    return NULL;

  utc = g_date_time_new_from_unix_utc (time / G_USEC_PER_SEC);
  if (utc == NULL)
    return NULL;

  if (for_json)
    return g_date_time_format_iso8601 (utc);

  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

static void
add_history_entry (JsonBuilder     *builder,
                   KilnChain       *chain,
                   KilnWalletEntry *entry)
{
  KilnPayment *payment = kiln_wallet_entry_get_payment (entry);
  g_autofree char *time = format_entry_time (entry, TRUE);
  KilnUint256 amount;
  KilnNodeAsset asset;

  entry_asset (chain, entry, &asset);
  kiln_wallet_entry_get_amount (entry, &amount);

  json_builder_begin_object (builder);
  kiln_node_json_add_string (builder, "direction",
                             kiln_wallet_entry_is_incoming (entry) ? "in" : "out");
  kiln_node_json_add_string (builder, "asset", asset.symbol);
  kiln_node_json_add_amount (builder, "amount", &amount, asset.decimals, asset.symbol);
  kiln_node_json_add_address (builder, "counterparty", kiln_wallet_entry_get_counterparty (entry));
  kiln_node_json_add_int (builder, "recipients", kiln_wallet_entry_get_n_recipients (entry));
  kiln_node_json_add_string (builder, "tx_hash", kiln_wallet_entry_get_tx_hash (entry));
  kiln_node_json_add_string (builder, "state",
                             kiln_payment_state_to_string (kiln_wallet_entry_get_state (entry)));
  kiln_node_json_add_string (builder, "time", time);
  if (payment != NULL)
    {
      kiln_node_json_add_int (builder, "payment_id", kiln_payment_get_id (payment));
      kiln_node_json_add_string (builder, "kind",
                                 kiln_payment_kind_to_string (kiln_payment_get_kind (payment)));
      kiln_node_json_add_string (builder, "reference", kiln_payment_get_reference (payment));
      if (kiln_payment_get_error (payment) != NULL)
        kiln_node_json_add_string (builder, "error", kiln_payment_get_error (payment));
    }
  json_builder_end_object (builder);
}

static void
print_history_entry (KilnChain       *chain,
                     KilnWalletEntry *entry)
{
  g_autofree char *time = format_entry_time (entry, FALSE);
  g_autofree char *amount_text = NULL;
  g_autofree char *counterparty = NULL;
  const char *hash = kiln_wallet_entry_get_tx_hash (entry);
  guint n_recipients = kiln_wallet_entry_get_n_recipients (entry);
  KilnUint256 amount;
  KilnNodeAsset asset;

  entry_asset (chain, entry, &asset);
  kiln_wallet_entry_get_amount (entry, &amount);
  amount_text = kiln_node_format_amount (&amount, asset.decimals, asset.symbol);
  counterparty = kiln_address_to_string (kiln_wallet_entry_get_counterparty (entry));

  if (n_recipients > 1)
    {
      g_autofree char *several = g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE, "%s and %u other", "%s and %u others", n_recipients - 1),
          counterparty, n_recipients - 1);

      g_free (counterparty);
      counterparty = g_steal_pointer (&several);
    }

  g_print ("%-19s  %-8s  %-9s  %24s  %s  %s\n",
           time != NULL ? time : "-",
           kiln_wallet_entry_is_incoming (entry) ? _("received") : _("sent"),
           kiln_payment_state_to_string (kiln_wallet_entry_get_state (entry)),
           amount_text,
           hash != NULL ? hash : "-",
           counterparty);
}

static gboolean
wallet_history (KilnNodeContext *ctx,
                int              argc,
                char           **argv,
                GError         **error)
{
  gint limit = DEFAULT_HISTORY_LIMIT;
  const GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit,
      N_("Show at most N entries, newest first (default: 20)"), N_("N") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(KilnNodeWallet) node = NULL;
  g_autoptr(GPtrArray) entries_found = NULL;
  g_auto(KilnNodeAsync) call = { 0 };

  if (!kiln_node_context_parse_options (ctx, entries, NULL, &argc, &argv, error))
    return FALSE;

  if (limit < 1 || limit > MAX_HISTORY_LIMIT)
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("--limit takes a number from 1 to %d, not %d"), MAX_HISTORY_LIMIT, limit);
      return FALSE;
    }

  chain = kiln_node_chain_new (ctx, error);
  if (chain == NULL)
    return FALSE;

  node = kiln_node_wallet_open (ctx, g_object_ref (chain), error);
  if (node == NULL)
    return FALSE;

  kiln_wallet_list_history_async (node->wallet, (guint) limit, node->cancellable,
                                  kiln_node_async_done, &call);
  entries_found = kiln_wallet_list_history_finish (node->wallet, kiln_node_async_wait (&call),
                                                   error);
  if (entries_found == NULL)
    {
      g_prefix_error (error, _("cannot read the history: "));
      return FALSE;
    }

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      kiln_node_json_add_address (builder, "address", kiln_wallet_get_address (node->wallet));
      kiln_node_json_add_int (builder, "chain_id", (gint64) kiln_chain_get_chain_id (chain));
      json_builder_set_member_name (builder, "entries");
      json_builder_begin_array (builder);
      for (guint i = 0; i < entries_found->len; i++)
        add_history_entry (builder, chain, g_ptr_array_index (entries_found, i));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      kiln_node_print_json_builder (builder);
    }
  else if (entries_found->len == 0)
    {
      g_print ("%s\n", _("No payments sent or received yet."));
    }
  else
    {
      for (guint i = 0; i < entries_found->len; i++)
        print_history_entry (chain, g_ptr_array_index (entries_found, i));
    }

  return TRUE;
}

static const KilnNodeCommand wallet_balance_command = {
  "balance",
  N_("Print the account’s ETH and GNT balances"),
  N_("Prints the account’s address and its balances on the network, exactly (no\n"
     "rounding). With --json, each balance is given in base units (wei) and as a\n"
     "decimal, both as strings. The account is opened with --password-file, as\n"
     "every wallet command finishes the payments an earlier run left unfinished."),
  wallet_balance,
  NULL,
};

static const KilnNodeCommand wallet_send_command = {
  "send",
  N_("Send GNT or ETH to one address"),
  N_("Checks the recipient’s EIP-55 checksum, the amount and the balances, shows\n"
     "the most the network fee can cost, asks for confirmation (or takes --yes,\n"
     "which is required when standard input is not a terminal), then signs,\n"
     "records and broadcasts the transaction and waits until it is confirmed.\n"
     "Progress goes to standard error; the transaction hash and its final state\n"
     "to standard output. Amounts are exact decimals such as 1.5, never rounded."),
  wallet_send,
  NULL,
};

static const KilnNodeCommand wallet_history_command = {
  "history",
  N_("List payments sent and received, newest first"),
  N_("Lists the payments this account sent (from the data folder’s records, with\n"
     "their state) and the GNT it received (from the chain), newest first: time,\n"
     "direction, state, amount, transaction hash and the other side."),
  wallet_history,
  NULL,
};

static const KilnNodeCommand *const wallet_commands[] = {
  &wallet_balance_command,
  &wallet_send_command,
  &wallet_history_command,
  &kiln_node_wallet_pay_batch_command,
  NULL
};

const KilnNodeCommand kiln_node_wallet_command = {
  "wallet",
  N_("Show balances, send payments and list them"),
  N_("The wallet is the node’s account (see “kiln-node identity”) on the network of\n"
     "--network (default: the local devnet), --rpc, --token and --chain-id. Every\n"
     "payment is recorded in the data folder before it is broadcast; a wallet\n"
     "command finishes what an interrupted run left unsent, never paying twice.\n"
     "Run “kiln-node wallet COMMAND --help” for a command’s options."),
  NULL,
  wallet_commands,
};
