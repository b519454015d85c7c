/* kiln-node-wallet-batch.c: kiln-node wallet pay-batch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "kiln-eth.h"
#include "kiln-rpc-client.h"

#include "kiln-node-wallet-private.h"

/* KilnBatchPay.MAX_PAYEES, which kiln_wallet_pay_batch_async() also enforces. */
#define MAX_BATCH_PAYEES    500
/* A payee file of 500 lines is far smaller. */
#define MAX_PAYEE_FILE_SIZE (1024 * 1024)

typedef struct
{
  GArray     *addresses;   /* KilnAddress */
  GArray     *amounts;     /* KilnUint256 */
  KilnUint256 total;
  GHashTable *seen;        /* address bytes → where it was first given, for people */
  /* The first problem, and how many more there are. */
  GError     *error;
  guint       n_more_errors;
} Payees;

static void
payees_init (Payees *payees)
{
  payees->addresses = g_array_new (FALSE, TRUE, sizeof (KilnAddress));
  payees->amounts = g_array_new (FALSE, TRUE, sizeof (KilnUint256));
  kiln_uint256_from_uint64 (&payees->total, 0);
  payees->seen = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                        (GDestroyNotify) g_bytes_unref, g_free);
  payees->error = NULL;
  payees->n_more_errors = 0;
}

static void
payees_clear (Payees *payees)
{
  g_clear_pointer (&payees->addresses, g_array_unref);
  g_clear_pointer (&payees->amounts, g_array_unref);
  g_clear_pointer (&payees->seen, g_hash_table_unref);
  g_clear_error (&payees->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Payees, payees_clear)

/* Keeps the first problem, prefixed by @where; counts the others. */
static void
payees_fail (Payees     *payees,
             const char *where,
             GError     *error)
{
  if (payees->error == NULL)
    {
      g_prefix_error (&error, "%s: ", where);
      payees->error = error;
    }
  else
    {
      payees->n_more_errors++;
      g_error_free (error);
    }
}

/* Validates one payee given at @where ("payees.csv:3", "--pay “…”"); @first_at says the
 * same for a later duplicate ("line 3"). */
static void
payees_add (Payees              *payees,
            const KilnNodeAsset *asset,
            const char          *where,
            const char          *first_at,
            const char          *address_text,
            const char          *amount_text)
{
  g_autoptr(GBytes) key = NULL;
  GError *error = NULL;
  const char *first;
  KilnAddress address;
  KilnUint256 amount;

  if (!kiln_node_parse_recipient (address_text, &address, &error) ||
      !kiln_node_parse_amount (amount_text, asset, &amount, &error))
    {
      payees_fail (payees, where, error);
      return;
    }

  key = g_bytes_new (address.bytes, sizeof address.bytes);
  first = g_hash_table_lookup (payees->seen, key);
  if (first != NULL)
    {
      char text[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (&address, text);
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s is paid twice (first at %s): give each payee once"), text, first);
      payees_fail (payees, where, error);
      return;
    }
  g_hash_table_insert (payees->seen, g_steal_pointer (&key), g_strdup (first_at));

  if (!kiln_uint256_add (&payees->total, &payees->total, &amount))
    {
      g_set_error_literal (&error, KILN_ETH_ERROR, KILN_ETH_ERROR_OVERFLOW,
                           _("the amounts add up to more than 2^256 base units"));
      payees_fail (payees, where, error);
      return;
    }

  g_array_append_val (payees->addresses, address);
  g_array_append_val (payees->amounts, amount);
}

/* Lines "address,amount"; blank lines, lines starting with '#' and a first line
 * "address,amount" are skipped. */
static gboolean
payees_read_file (Payees              *payees,
                  const KilnNodeAsset *asset,
                  const char          *path,
                  GError             **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *display = g_filename_display_name (path);
  g_auto(GStrv) lines = NULL;
  gboolean seen_content = FALSE;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;

  if (length > MAX_PAYEE_FILE_SIZE || memchr (contents, '\0', length) != NULL ||
      !g_utf8_validate (contents, length, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” is not a payee list: expected text lines “address,amount”"),
                   display);
      return FALSE;
    }

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *where = g_strdup_printf ("%s:%u", display, i + 1);
      g_autofree char *first_at = g_strdup_printf (_("line %u"), i + 1);
      g_auto(GStrv) fields = NULL;
      char *line = g_strstrip (lines[i]);

      if (line[0] == '\0' || line[0] == '#')
        continue;

      fields = g_strsplit (line, ",", -1);
      if (g_strv_length (fields) != 2)
        {
          GError *line_error = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                            _("expected “address,amount”, not “%s”"), line);

          payees_fail (payees, where, line_error);
          seen_content = TRUE;
          continue;
        }
      g_strstrip (fields[0]);
      g_strstrip (fields[1]);

      if (!seen_content && g_ascii_strcasecmp (fields[0], "address") == 0 &&
          g_ascii_strcasecmp (fields[1], "amount") == 0)
        {
          seen_content = TRUE;
          continue;
        }
      seen_content = TRUE;

      payees_add (payees, asset, where, first_at, fields[0], fields[1]);
    }

  return TRUE;
}

static void
payees_read_options (Payees              *payees,
                     const KilnNodeAsset *asset,
                     const char *const   *pays)
{
  for (guint i = 0; pays[i] != NULL; i++)
    {
      g_autofree char *where = g_strdup_printf ("--pay “%s”", pays[i]);
      const char *equals = strchr (pays[i], '=');
      g_autofree char *address = NULL;

      if (equals == NULL)
        {
          GError *error = g_error_new_literal (KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                                               _("expected ADDR=AMOUNT"));

          payees_fail (payees, where, error);
          continue;
        }

      address = g_strndup (pays[i], equals - pays[i]);
      payees_add (payees, asset, where, where, address, equals + 1);
    }
}

/* The payees are valid as a whole: every line, no duplicate, 1 to MAX_BATCH_PAYEES. */
static gboolean
payees_check (Payees     *payees,
              const char *source,
              GError    **error)
{
  if (payees->error != NULL)
    {
      if (payees->n_more_errors > 0)
        {
          g_autofree char *more = g_strdup_printf (
              g_dngettext (GETTEXT_PACKAGE,
                           " (and %u more problem; nothing was sent)",
                           " (and %u more problems; nothing was sent)",
                           payees->n_more_errors),
              payees->n_more_errors);
          g_autofree char *message = g_strconcat (payees->error->message, more, NULL);

          g_free (payees->error->message);
          payees->error->message = g_steal_pointer (&message);
        }
      g_propagate_error (error, g_steal_pointer (&payees->error));
      return FALSE;
    }

  if (payees->addresses->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s lists no payees"), source);
      return FALSE;
    }

  if (payees->addresses->len > MAX_BATCH_PAYEES)
    {
      g_set_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INVALID_AMOUNT,
                   _("%s lists %u payees, and one batch pays at most %u: split it"),
                   source, payees->addresses->len, MAX_BATCH_PAYEES);
      return FALSE;
    }

  return TRUE;
}

static void
print_batch_summary (KilnNodeWallet      *node,
                     const KilnNodeAsset *asset,
                     const KilnNodeAsset *native,
                     Payees              *payees)
{
  const KilnAddress *contract = kiln_chain_get_batch_contract (node->chain);
  g_autofree char *total = kiln_node_format_amount (&payees->total, asset->decimals,
                                                    asset->symbol);
  g_autoptr(GString) network = g_string_new (NULL);
  g_auto(KilnNodeAsync) call = { 0 };
  g_autoptr(GError) error = NULL;
  char contract_text[KILN_ADDRESS_STRING_SIZE];
  KilnRpcFeeData fees;

  kiln_node_describe_chain (node->chain, network);
  kiln_address_format (contract, contract_text);
  g_printerr (g_dngettext (GETTEXT_PACKAGE,
                           "Paying %u payee %s in total on %s, in one transaction through the "
                           "batch contract %s\n",
                           "Paying %u payees %s in total on %s, in one transaction through the "
                           "batch contract %s\n", payees->addresses->len),
              payees->addresses->len, total, network->str, contract_text);

  kiln_rpc_client_get_fee_data_async (kiln_wallet_get_rpc (node->wallet), node->cancellable,
                                      kiln_node_async_done, &call);
  if (kiln_rpc_client_get_fee_data_finish (kiln_wallet_get_rpc (node->wallet),
                                           kiln_node_async_wait (&call), &fees, &error))
    {
      g_autofree char *gwei = kiln_uint256_format_units (&fees.max_fee_per_gas, 9);

      g_printerr (_("Network fee: up to %s gwei per gas, paid in %s (plus an approval "
                    "transaction first when the contract may not spend enough %s yet)\n"),
                  gwei, native->symbol, asset->symbol);
    }
}

static gboolean
wallet_pay_batch (KilnNodeContext *ctx,
                  int              argc,
                  char           **argv,
                  GError         **error)
{
  g_autofree char *file = NULL;
  g_auto(GStrv) pays = NULL;
  g_autofree char *reference = NULL;
  gboolean yes = FALSE;
  gboolean no_wait = FALSE;
  const GOptionEntry entries[] = {
    { "file", 0, 0, G_OPTION_ARG_FILENAME, &file,
      N_("Pay the payees listed in FILE, one “address,amount” line each"), N_("FILE") },
    { "pay", 0, 0, G_OPTION_ARG_STRING_ARRAY, &pays,
      N_("Pay AMOUNT GNT to ADDR (repeat for each payee)"), N_("ADDR=AMOUNT") },
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
  g_autofree char *source = NULL;
  g_auto(Payees) payees = { 0 };
  KilnNodeAsset asset, native;

  if (!kiln_node_context_parse_options (ctx, entries, NULL, &argc, &argv, error))
    return FALSE;

  if ((file != NULL) == (pays != NULL))
    {
      g_set_error_literal (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                           _("say whom to pay with either --file FILE or --pay ADDR=AMOUNT "
                             "(repeated)"));
      return FALSE;
    }
  if ((file != NULL && file[0] == '\0') || (reference != NULL && reference[0] == '\0'))
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("%s needs a value, not an empty string"),
                   file != NULL && file[0] == '\0' ? "--file" : "--reference");
      return FALSE;
    }

  chain = kiln_node_chain_new (ctx, error);
  if (chain == NULL)
    return FALSE;
  kiln_node_asset_init_token (&asset, chain);
  kiln_node_asset_init_native (&native, chain);

  payees_init (&payees);
  if (file != NULL)
    {
      g_autofree char *display = g_filename_display_name (file);

      source = g_strdup_printf ("“%s”", display);
      if (!payees_read_file (&payees, &asset, file, error))
        return FALSE;
    }
  else
    {
      source = g_strdup ("--pay");
      payees_read_options (&payees, &asset, (const char *const *) pays);
    }

  if (!payees_check (&payees, source, error))
    return FALSE;

  if (kiln_chain_get_batch_contract (chain) == NULL)
    {
      g_set_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_NO_BATCH_CONTRACT,
                   _("%s has no batch payment contract, so no single transaction can pay "
                     "every payee: pay them one at a time with “kiln-node wallet send”"),
                   kiln_chain_get_name (chain));
      return FALSE;
    }

  if (!kiln_node_check_can_confirm (ctx, yes, error))
    return FALSE;

  node = kiln_node_wallet_open (ctx, g_object_ref (chain), error);
  if (node == NULL)
    return FALSE;

  if (!kiln_node_check_balance (node, &asset, &payees.total, error))
    return FALSE;

  if (!ctx->json || !yes)
    print_batch_summary (node, &asset, &native, &payees);
  if (!yes && !kiln_node_ask_confirmation (node, _("Pay them?"), error))
    return FALSE;

  kiln_wallet_pay_batch_async (node->wallet,
                               (const KilnAddress *) payees.addresses->data,
                               (const KilnUint256 *) payees.amounts->data,
                               payees.addresses->len, reference, NULL, node->cancellable,
                               kiln_node_async_done, &call);
  sent = kiln_wallet_pay_batch_finish (node->wallet, kiln_node_async_wait (&call),
                                       &send_error);
  final = kiln_node_follow_payment (ctx, node, sent, g_steal_pointer (&send_error), no_wait,
                                    error);
  if (final == NULL)
    return FALSE;

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      kiln_node_json_add_address (builder, "from", kiln_wallet_get_address (node->wallet));
      kiln_node_json_add_int (builder, "payees", payees.addresses->len);
      kiln_node_json_add_amount (builder, "total", &payees.total, asset.decimals, asset.symbol);
      kiln_node_json_add_address (builder, "batch_contract",
                                  kiln_chain_get_batch_contract (chain));
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

const KilnNodeCommand kiln_node_wallet_pay_batch_command = {
  "pay-batch",
  N_("Pay many addresses in one transaction"),
  N_("Pays GNT to every payee of --file FILE (one “address,amount” line each;\n"
     "blank lines, # comments and a first line “address,amount” are skipped) or\n"
     "of the repeated --pay ADDR=AMOUNT, in one transaction through the network’s\n"
     "batch payment contract, at most 500 payees. Every payee is checked before\n"
     "anything is signed: a bad line or an address given twice stops the batch\n"
     "with its line number. Then as “wallet send”: confirmation or --yes, and\n"
     "waiting for the confirmation."),
  wallet_pay_batch,
  NULL,
};
