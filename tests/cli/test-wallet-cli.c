/* test-wallet-cli.c: kiln-node's wallet commands, run as a program against a real devnet
 *
 * Each test makes light accounts with “kiln-node identity create” in a fresh temporary folder,
 * then starts the devnet (anvil with the GNT test token and KilnBatchPay) funding them, and
 * runs “kiln-node wallet …” with its standard input on a pipe. What reached the chain is read
 * back independently with ethers (the repository's node_modules), never through Kiln.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "wallet-cli-support.h"

#define N_BATCH_PAYEES 100

/* Tests */

/* The transaction @hash: its recipient, status, and its BatchPaid and Transfer logs. */
static const char receipt_script[] =
  "const { ethers } = require('ethers');\n"
  "const [url, hash, batch] = process.argv.slice(1);\n"
  "(async () => {\n"
  "  const provider = new ethers.JsonRpcProvider(url, 31337, { staticNetwork: true });\n"
  "  const tx = await provider.getTransaction(hash);\n"
  "  const receipt = await provider.getTransactionReceipt(hash);\n"
  "  const iface = new ethers.Interface([\n"
  "    'event BatchPaid(address indexed payer, bytes32 indexed ref, uint256 total, '\n"
  "      + 'uint256 count)',\n"
  "    'event Transfer(address indexed from, address indexed to, uint256 value)']);\n"
  "  const paid = [];\n"
  "  let transfers = 0;\n"
  "  for (const log of receipt.logs) {\n"
  "    const parsed = iface.parseLog(log);\n"
  "    if (parsed?.name === 'BatchPaid' && log.address.toLowerCase() === batch.toLowerCase())\n"
  "      paid.push({ payer: parsed.args.payer, total: parsed.args.total.toString(),\n"
  "                  count: Number(parsed.args.count) });\n"
  "    if (parsed?.name === 'Transfer')\n"
  "      transfers++;\n"
  "  }\n"
  "  console.log(JSON.stringify({ to: tx.to, from: tx.from, status: receipt.status,\n"
  "                               batch_paid: paid, transfers }));\n"
  "  provider.destroy();\n"
  "})().catch((e) => { console.error(e.message); process.exit(1); });\n";

static void
test_balance (Fixture       *fixture,
              gconstpointer  data)
{
  g_auto(Result) text = { 0 };
  g_auto(Result) json = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *address = NULL;
  g_autofree char *eth = NULL;
  g_autofree char *gnt = NULL;
  JsonObject *object;

  wallet (&text, fixture, fixture->data_dir, "balance", NULL);
  g_assert_cmpint (text.status, ==, 0);
  g_assert_cmpstr (text.err, ==, "");
  address = text_field (text.out, "Address");
  eth = text_field (text.out, "ETH");
  gnt = text_field (text.out, "GNT");
  g_assert_cmpstr (address, ==, fixture->address);
  g_assert_cmpstr (eth, ==, FUNDED_ETH " ETH");
  g_assert_cmpstr (gnt, ==, FUNDED_GNT " GNT");

  wallet (&json, fixture, fixture->data_dir, "balance", "--json", NULL);
  g_assert_cmpstr (json.err, ==, "");
  object = parse_json_output (&json, parser);
  g_assert_cmpstr (json_object_get_string_member (object, "address"), ==, fixture->address);
  g_assert_cmpint (json_object_get_int_member (object, "chain_id"), ==,
                   KILN_TEST_DEVNET_CHAIN_ID);
  g_assert_cmpstr (json_object_get_string_member (object, "token"), ==, fixture->token);
  assert_json_amount (object, "eth", FUNDED_ETH_WEI, FUNDED_ETH, "ETH");
  assert_json_amount (object, "gnt", FUNDED_GNT_WEI, FUNDED_GNT, "GNT");
  g_assert_cmpint (json_object_get_int_member (object, "pending_payments"), ==, 0);
}

static void
test_send (Fixture       *fixture,
           gconstpointer  data)
{
  g_autofree char *recipient = fresh_address ();
  g_autofree char *eth_recipient = fresh_address ();
  g_autofree char *hash = NULL;
  g_autofree char *state = NULL;
  g_autofree char *received = NULL;
  g_autofree char *eth_received = NULL;
  g_autofree char *sender_eth = NULL;
  g_auto(Result) sent = { 0 };
  g_auto(Result) sent_eth = { 0 };
  g_auto(Result) after = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) after_parser = json_parser_new ();
  JsonObject *object;

  /* Text: the fee and the progress on stderr, the hash and the final state on stdout. */
  wallet (&sent, fixture, fixture->data_dir, "send", "--to", recipient, "--amount", "1.5",
          "--yes", NULL);
  g_assert_cmpint (sent.status, ==, 0);
  assert_contains (sent.err, "Sending 1.5 GNT to ");
  assert_contains (sent.err, recipient);
  assert_contains (sent.err, "Network fee: at most ");
  assert_contains (sent.err, "Broadcast transaction 0x");
  hash = text_field (sent.out, "Transaction");
  state = text_field (sent.out, "State");
  g_assert_true (is_tx_hash (hash));
  g_assert_true (g_str_has_prefix (state, "confirmed in block "));

  /* The recipient's balance, read by ethers, is exactly 1.5 GNT. */
  received = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (received, ==, "1500000000000000000");

  /* ETH, with --json: the amount, the fee estimate and the final state. */
  wallet (&sent_eth, fixture, fixture->data_dir, "send", "--asset", "eth", "--to",
          eth_recipient, "--amount", "0.25", "--yes", "--json", NULL);
  g_assert_cmpstr (sent_eth.err, ==, "");
  object = parse_json_output (&sent_eth, parser);
  g_assert_cmpstr (json_object_get_string_member (object, "from"), ==, fixture->address);
  g_assert_cmpstr (json_object_get_string_member (object, "to"), ==, eth_recipient);
  g_assert_cmpstr (json_object_get_string_member (object, "asset"), ==, "ETH");
  assert_json_amount (object, "amount", "250000000000000000", "0.25", "ETH");
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "confirmed");
  g_assert_true (is_tx_hash (json_object_get_string_member (object, "tx_hash")));
  g_assert_cmpstr (json_object_get_string_member (object, "tx_hash"), !=, hash);
  g_assert_cmpint (json_object_get_int_member (object, "block"), >, 0);
  g_assert_cmpint (json_object_get_int_member (
                     json_object_get_object_member (object, "fee_estimate"), "gas_limit"),
                   >=, 21000);
  eth_received = read_eth_balance (fixture, eth_recipient);
  g_assert_cmpstr (eth_received, ==, "250000000000000000");

  /* The sender has exactly 1.5 GNT less, and paid fees besides the 0.25 ETH. */
  wallet (&after, fixture, fixture->data_dir, "balance", "--json", NULL);
  object = parse_json_output (&after, after_parser);
  assert_json_amount (object, "gnt", "1233000000000000000000", "1233", "GNT");
  sender_eth = read_eth_balance (fixture, fixture->address);
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (object, "eth"), "base_units"),
                   ==, sender_eth);
  g_assert_cmpuint (strlen (sender_eth), ==, strlen (FUNDED_ETH_WEI));
  g_assert_cmpint (strcmp (sender_eth, "12250000000000000000"), <, 0);
}

static void
test_send_no_wait (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *recipient = fresh_address ();
  g_autofree char *received = NULL;
  g_auto(Result) sent = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;

  wallet (&sent, fixture, fixture->data_dir, "send", "--to", recipient, "--amount", "2",
          "--yes", "--no-wait", "--json", NULL);
  object = parse_json_output (&sent, parser);
  g_assert_true (is_tx_hash (json_object_get_string_member (object, "tx_hash")));
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "broadcast");

  /* anvil mines each transaction at once. */
  received = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (received, ==, "2000000000000000000");
}

/* On a terminal and without --yes, the payment waits for a typed “y”. */
static void
test_send_confirm (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *recipient = fresh_address ();
  g_autofree char *declined_balance = NULL;
  g_autofree char *received = NULL;
  g_autofree char *hash = NULL;
  const char *const args[] = { "wallet", "send", "--to", recipient, "--amount", "0.5", NULL };
  g_auto(Result) declined = { 0 };
  g_auto(Result) accepted = { 0 };

  run_node (&declined, fixture, fixture->data_dir, "n\n", args);
  g_assert_cmpint (declined.status, ==, 1);
  g_assert_cmpstr (declined.out, ==, "");
  assert_contains (declined.err, "Network fee: at most ");
  assert_contains (declined.err, "Send it? [y/N] ");
  assert_contains (declined.err, "kiln-node: not confirmed: nothing was sent\n");
  declined_balance = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (declined_balance, ==, "0");

  run_node (&accepted, fixture, fixture->data_dir, "y\n", args);
  g_assert_cmpint (accepted.status, ==, 0);
  assert_contains (accepted.err, "Send it? [y/N] ");
  hash = text_field (accepted.out, "Transaction");
  g_assert_true (is_tx_hash (hash));
  received = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (received, ==, "500000000000000000");
}

/* Sending again with the same --reference gives back the first payment, not a second one. */
static void
test_send_reference (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *recipient = fresh_address ();
  g_autofree char *first_hash = NULL;
  g_autofree char *received = NULL;
  g_autoptr(JsonParser) first_parser = json_parser_new ();
  g_autoptr(JsonParser) again_parser = json_parser_new ();
  g_auto(Result) first = { 0 };
  g_auto(Result) again = { 0 };
  g_auto(Result) changed = { 0 };
  JsonObject *object;

  wallet (&first, fixture, fixture->data_dir, "send", "--to", recipient, "--amount", "4",
          "--reference", "job 17", "--yes", "--json", NULL);
  object = parse_json_output (&first, first_parser);
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "confirmed");
  first_hash = g_strdup (json_object_get_string_member (object, "tx_hash"));

  wallet (&again, fixture, fixture->data_dir, "send", "--to", recipient, "--amount", "4",
          "--reference", "job 17", "--yes", "--json", NULL);
  object = parse_json_output (&again, again_parser);
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "confirmed");
  g_assert_cmpstr (json_object_get_string_member (object, "tx_hash"), ==, first_hash);

  received = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (received, ==, "4000000000000000000");

  /* The same reference for another amount is refused. */
  wallet (&changed, fixture, fixture->data_dir, "send", "--to", recipient, "--amount", "5",
          "--reference", "job 17", "--yes", NULL);
  g_assert_cmpint (changed.status, ==, 1);
  g_assert_cmpstr (changed.out, ==, "");
  assert_contains (changed.err, "\nkiln-node: cannot pay: ");
  assert_contains (changed.err, "job 17");
  g_clear_pointer (&received, g_free);
  received = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (received, ==, "4000000000000000000");
}

/* Interrupted while waiting: the payment was broadcast, so the command says so; once mined,
 * the next wallet command finds it confirmed. */
static void
test_send_interrupted (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *recipient = fresh_address ();
  const char *const args[] = { "wallet", "send", "--to", recipient, "--amount", "1", "--yes",
                               NULL };
  g_autoptr(GPtrArray) argv = node_argv (fixture, fixture->data_dir, args);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GDataInputStream) err = NULL;
  g_autoptr(GString) err_text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *expected = NULL;
  g_auto(Result) later = { 0 };
  char *line;

  /* Transactions now wait in the pool until a block is mined. */
  devnet_call (fixture, "evm_setAutomine", "[false]");

  launcher = node_launcher (fixture, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                     G_SUBPROCESS_FLAGS_STDERR_PIPE);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (process));

  while ((line = g_data_input_stream_read_line_utf8 (err, NULL, NULL, &error)) != NULL)
    {
      gboolean waiting = g_str_has_prefix (line, "Waiting for confirmation");

      g_string_append_printf (err_text, "%s\n", line);
      if (g_str_has_prefix (line, "Broadcast transaction "))
        hash = g_strndup (line + strlen ("Broadcast transaction "), 66);
      g_free (line);
      if (waiting)
        break;
    }
  g_assert_no_error (error);
  g_assert_nonnull (hash);
  g_assert_true (is_tx_hash (hash));

  g_subprocess_send_signal (process, SIGINT);
  while ((line = g_data_input_stream_read_line_utf8 (err, NULL, NULL, &error)) != NULL)
    {
      g_string_append_printf (err_text, "%s\n", line);
      g_free (line);
    }
  g_assert_no_error (error);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("stderr: %s", err_text->str);

  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);
  expected = g_strdup_printf ("kiln-node: interrupted: payment #1 was sent as %s and is not "
                              "confirmed yet", hash);
  assert_contains (err_text->str, expected);
  before = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (before, ==, "0");

  devnet_call (fixture, "evm_mine", "[]");
  devnet_call (fixture, "evm_setAutomine", "[true]");
  after = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (after, ==, "1000000000000000000");

  wallet (&later, fixture, fixture->data_dir, "balance", NULL);
  g_assert_cmpint (later.status, ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Payment #1 sent by an earlier run is confirmed (transaction %s)\n",
                              hash);
  assert_contains (later.err, expected);
}

static void
test_send_refusals (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *recipient = fresh_address ();
  g_autofree char *bad_checksum = flip_checksum (recipient);
  g_autofree char *received = NULL;
  g_auto(Result) history = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  struct {
    const char *to;
    const char *amount;
    const char *asset;
    const char *reason;
  } refused[] = {
    { bad_checksum, "1", "gnt", "EIP-55 checksum" },
    { "0x1234", "1", "gnt", "not an Ethereum address" },
    { "0x0000000000000000000000000000000000000000", "1", "gnt", "zero address" },
    { recipient, "-1", "gnt", "must be positive" },
    { recipient, "1.0000000000000000001", "gnt", "more decimal places than GNT’s 18" },
    { recipient, "0", "gnt", "more than zero" },
    { recipient, "0.000", "gnt", "more than zero" },
    { recipient, "1,5", "gnt", "is not an amount" },
    { recipient, "1e3", "gnt", "is not an amount" },
    { recipient, "1234.500000000000000001", "gnt", "the balance is only 1234.5 GNT" },
    { recipient, "13", "eth", "the balance is only 12.5 ETH" },
    { recipient, "12.5", "eth", "not enough ETH to pay the network fee" },
  };
  JsonObject *object;

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_auto(Result) result = { 0 };

      wallet (&result, fixture, fixture->data_dir, "send", "--to", refused[i].to, "--amount",
              refused[i].amount, "--asset", refused[i].asset, "--yes", NULL);
      assert_failure (&result, 1, refused[i].reason);
    }

  /* GNT but no ETH for the fee. */
  {
    g_auto(Result) result = { 0 };

    wallet (&result, fixture, fixture->poor_dir, "send", "--to", recipient, "--amount", "1",
            "--yes", NULL);
    assert_failure (&result, 1, "not enough ETH to pay the network fee");
  }

  /* Wrong command lines exit with status 2. */
  {
    struct {
      const char *args[8];
      const char *reason;
    } usage[] = {
      { { "send", "--amount", "1", "--yes", NULL }, "--to" },
      { { "send", "--to", recipient, "--yes", NULL }, "--amount" },
      { { "send", "--to", recipient, "--amount", "1", NULL }, "--yes" },
      { { "send", "--to", recipient, "--amount", "1", "--asset", "btc", "--yes" },
        "unknown asset" },
      { { "send", "--to", recipient, "--amount", "1", "--reference=", "--yes" }, "--reference" },
      { { "send", "--to", recipient, "--amount", "1", "extra", "--yes" },
        "unexpected argument" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (usage); i++)
      {
        g_autoptr(GPtrArray) args = g_ptr_array_new ();
        g_auto(Result) result = { 0 };

        g_ptr_array_add (args, (gpointer) "wallet");
        for (guint j = 0; j < G_N_ELEMENTS (usage[i].args) && usage[i].args[j] != NULL; j++)
          g_ptr_array_add (args, (gpointer) usage[i].args[j]);
        g_ptr_array_add (args, NULL);

        run_node (&result, fixture, fixture->data_dir, NULL, (const char *const *) args->pdata);
        assert_failure (&result, 2, usage[i].reason);
      }
  }

  /* Nothing was sent. */
  received = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (received, ==, "0");
  wallet (&history, fixture, fixture->data_dir, "history", "--json", NULL);
  object = parse_json_output (&history, parser);
  {
    JsonArray *entries = json_object_get_array_member (object, "entries");

    for (guint i = 0; i < json_array_get_length (entries); i++)
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (entries, i),
                                                      "direction"), ==, "in");
  }
}

/* A payee list of @n fresh addresses; @amounts gets the base units of each, and @total
 * their sum. */
static char *
write_payees (Fixture     *fixture,
              const char  *name,
              guint        n,
              GPtrArray   *addresses,
              GPtrArray   *amounts,
              KilnUint256 *total)
{
  g_autoptr(GString) csv = g_string_new ("# payees for the batch test\naddress,amount\n\n");
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (fixture->dir, name, NULL);

  kiln_uint256_from_uint64 (total, 0);
  for (guint i = 1; i <= n; i++)
    {
      KilnUint256 amount;
      g_autofree char *text = NULL;
      char *address = fresh_address ();

      /* i/100 GNT and i base units: every digit counts. */
      g_assert_true (kiln_uint256_pow10 (&amount, 16));
      g_assert_true (kiln_uint256_mul_uint64 (&amount, &amount, i));
      g_assert_true (kiln_uint256_add_uint64 (&amount, &amount, i));
      g_assert_true (kiln_uint256_add (total, total, &amount));
      text = kiln_uint256_format_units (&amount, 18);

      /* Some lines end in CRLF, some have spaces around the fields. */
      g_string_append_printf (csv, i % 7 == 0 ? " %s , %s\r\n" : "%s,%s\n", address, text);
      g_ptr_array_add (addresses, address);
      g_ptr_array_add (amounts, kiln_uint256_to_string (&amount));
    }

  g_file_set_contents (path, csv->str, -1, &error);
  g_assert_no_error (error);

  return path;
}

static void
test_pay_batch (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) amounts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *csv = NULL;
  g_autofree char *total_text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonNode) balances = NULL;
  g_autoptr(JsonNode) receipt = NULL;
  g_auto(Result) paid = { 0 };
  const char *hash;
  JsonObject *object;
  JsonObject *receipt_object;
  JsonArray *batch_paid;
  KilnUint256 total;

  csv = write_payees (fixture, "payees.csv", N_BATCH_PAYEES, addresses, amounts, &total);
  total_text = kiln_uint256_to_string (&total);

  wallet (&paid, fixture, fixture->data_dir, "pay-batch", "--file", csv, "--yes", "--json",
          NULL);
  g_assert_cmpstr (paid.err, ==, "");
  object = parse_json_output (&paid, parser);
  g_assert_cmpint (json_object_get_int_member (object, "payees"), ==, N_BATCH_PAYEES);
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (object, "total"), "base_units"),
                   ==, total_text);
  g_assert_cmpstr (json_object_get_string_member (object, "batch_contract"), ==,
                   fixture->batch);
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "confirmed");
  hash = json_object_get_string_member (object, "tx_hash");
  g_assert_true (is_tx_hash (hash));

  /* Every payee got exactly its amount… */
  g_ptr_array_add (addresses, NULL);
  balances = read_balances (fixture, (const char *const *) addresses->pdata);
  for (guint i = 0; i < N_BATCH_PAYEES; i++)
    {
      JsonObject *balance = json_object_get_object_member (json_node_get_object (balances),
                                                           g_ptr_array_index (addresses, i));

      g_assert_cmpstr (json_object_get_string_member (balance, "gnt"), ==,
                       g_ptr_array_index (amounts, i));
    }

  /* …in one transaction to the batch contract, which logged BatchPaid once. */
  {
    const char *const args[] = { kiln_test_devnet_get_rpc_url (fixture->devnet), hash,
                                 fixture->batch, NULL };

    receipt = run_ethers (receipt_script, args);
  }
  receipt_object = json_node_get_object (receipt);
  g_assert_cmpint (json_object_get_int_member (receipt_object, "status"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (receipt_object, "to"), ==, fixture->batch);
  g_assert_cmpstr (json_object_get_string_member (receipt_object, "from"), ==,
                   fixture->address);
  g_assert_cmpint (json_object_get_int_member (receipt_object, "transfers"), ==,
                   N_BATCH_PAYEES);
  batch_paid = json_object_get_array_member (receipt_object, "batch_paid");
  g_assert_cmpuint (json_array_get_length (batch_paid), ==, 1);
  {
    JsonObject *event = json_array_get_object_element (batch_paid, 0);

    g_assert_cmpstr (json_object_get_string_member (event, "payer"), ==, fixture->address);
    g_assert_cmpstr (json_object_get_string_member (event, "total"), ==, total_text);
    g_assert_cmpint (json_object_get_int_member (event, "count"), ==, N_BATCH_PAYEES);
  }
}

static void
test_pay_batch_options (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *first = fresh_address ();
  g_autofree char *second = fresh_address ();
  g_autofree char *pay_first = g_strdup_printf ("%s=0.5", first);
  g_autofree char *pay_second = g_strdup_printf ("%s=2.25", second);
  g_autofree char *hash = NULL;
  g_autofree char *received_first = NULL;
  g_autofree char *received_second = NULL;
  g_auto(Result) paid = { 0 };

  wallet (&paid, fixture, fixture->data_dir, "pay-batch", "--pay", pay_first, "--pay",
          pay_second, "--yes", NULL);
  g_assert_cmpint (paid.status, ==, 0);
  assert_contains (paid.err, "Paying 2 payees 2.75 GNT in total");
  assert_contains (paid.err, fixture->batch);
  hash = text_field (paid.out, "Transaction");
  g_assert_true (is_tx_hash (hash));

  received_first = read_gnt_balance (fixture, first);
  received_second = read_gnt_balance (fixture, second);
  g_assert_cmpstr (received_first, ==, "500000000000000000");
  g_assert_cmpstr (received_second, ==, "2250000000000000000");
}

static void
test_pay_batch_refusals (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *a = fresh_address ();
  g_autofree char *b = fresh_address ();
  g_autofree char *c = fresh_address ();
  g_autofree char *bad = flip_checksum (b);
  g_autofree char *a_lower = g_ascii_strdown (a, -1);
  g_autofree char *pay_a = g_strdup_printf ("%s=1", a);
  g_autofree char *pay_a_again = g_strdup_printf ("%s=2", a_lower);
  g_autofree char *received = NULL;
  g_auto(Result) balance = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  struct {
    const char *name;
    char       *contents;
    const char *reason;
  } files[] = {
    { "duplicate.csv", g_strdup_printf ("address,amount\n%s,1\n%s,2\n%s,3\n", a, b, a_lower),
      "duplicate.csv:4: " },
    { "checksum.csv", g_strdup_printf ("%s,1\n\n%s,2\n", a, bad), "checksum.csv:3: " },
    { "fields.csv", g_strdup_printf ("%s,1\n%s,2,3\n", a, b), "fields.csv:2: expected" },
    { "zero.csv", g_strdup_printf ("%s,1\n%s,0\n", a, b), "zero.csv:2: the amount must be" },
    { "precise.csv", g_strdup_printf ("%s,0.0000000000000000001\n", a), "precise.csv:1: " },
    { "several.csv", g_strdup_printf ("%s,x\n%s,-1\n%s,1\n", a, b, bad),
      "(and 2 more problems; nothing was sent)" },
    { "empty.csv", g_strdup ("address,amount\n# nobody\n"), "lists no payees" },
    { "above.csv", g_strdup_printf ("%s,1000\n%s,234.5\n%s,0.000000000000000001\n", a, b, c),
      "the balance is only 1234.5 GNT" },
  };
  const char *detail[] = {
    "is paid twice (first at line 2)", "EIP-55 checksum", NULL, NULL, "more decimal places", NULL,
    NULL, NULL,
  };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (fixture->dir, files[i].name, NULL);
      g_autoptr(GError) error = NULL;
      g_auto(Result) result = { 0 };

      g_file_set_contents (path, files[i].contents, -1, &error);
      g_assert_no_error (error);
      g_free (files[i].contents);

      wallet (&result, fixture, fixture->data_dir, "pay-batch", "--file", path, "--yes", NULL);
      assert_failure (&result, 1, files[i].reason);
      if (detail[i] != NULL)
        assert_contains (result.err, detail[i]);
    }

  /* Above the contract's limit of 500 payees. */
  {
    g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(GPtrArray) amounts = g_ptr_array_new_with_free_func (g_free);
    g_autofree char *path = NULL;
    g_auto(Result) result = { 0 };
    KilnUint256 total;

    path = write_payees (fixture, "many.csv", 501, addresses, amounts, &total);
    wallet (&result, fixture, fixture->data_dir, "pay-batch", "--file", path, "--yes", NULL);
    assert_failure (&result, 1, "lists 501 payees, and one batch pays at most 500");
  }

  /* The same address twice with --pay, whatever its case. */
  {
    g_auto(Result) result = { 0 };

    wallet (&result, fixture, fixture->data_dir, "pay-batch", "--pay", pay_a, "--pay",
            pay_a_again, "--yes", NULL);
    assert_failure (&result, 1, "is paid twice");
    assert_contains (result.err, pay_a_again);
  }

  /* Usage errors. */
  {
    g_autofree char *path = g_build_filename (fixture->dir, "duplicate.csv", NULL);
    g_auto(Result) neither = { 0 };
    g_auto(Result) both = { 0 };
    g_auto(Result) missing = { 0 };
    g_auto(Result) no_yes = { 0 };

    wallet (&neither, fixture, fixture->data_dir, "pay-batch", "--yes", NULL);
    assert_failure (&neither, 2, "--file FILE or --pay");
    wallet (&both, fixture, fixture->data_dir, "pay-batch", "--file", path, "--pay", pay_a,
            "--yes", NULL);
    assert_failure (&both, 2, "--file FILE or --pay");
    wallet (&no_yes, fixture, fixture->data_dir, "pay-batch", "--pay", pay_a, NULL);
    assert_failure (&no_yes, 2, "--yes");
    g_free (path);
    path = g_build_filename (fixture->dir, "missing.csv", NULL);
    wallet (&missing, fixture, fixture->data_dir, "pay-batch", "--file", path, "--yes", NULL);
    assert_failure (&missing, 1, "missing.csv");
  }

  /* Nothing was paid. */
  received = read_gnt_balance (fixture, a);
  g_assert_cmpstr (received, ==, "0");
  wallet (&balance, fixture, fixture->data_dir, "balance", "--json", NULL);
  assert_json_amount (parse_json_output (&balance, parser), "gnt", FUNDED_GNT_WEI, FUNDED_GNT,
                      "GNT");
}

static JsonArray *
history_entries (Result     *result,
                 JsonParser *parser)
{
  return json_object_get_array_member (parse_json_output (result, parser), "entries");
}

static void
test_history (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *other = fresh_address ();
  g_autofree char *pay_other = g_strdup_printf ("%s=0.75", other);
  g_autofree char *to_poor = NULL;
  g_autofree char *to_other = NULL;
  g_autofree char *batch_hash = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) limited_parser = json_parser_new ();
  g_autoptr(JsonParser) poor_parser = json_parser_new ();
  g_auto(Result) empty = { 0 };
  g_auto(Result) batch = { 0 };
  g_auto(Result) json = { 0 };
  g_auto(Result) text = { 0 };
  g_auto(Result) limited = { 0 };
  g_auto(Result) received = { 0 };
  JsonArray *entries;
  guint n_out = 0;
  gboolean seen_incoming = FALSE;

  wallet (&empty, fixture, fixture->poor_dir, "history", NULL);
  g_assert_cmpint (empty.status, ==, 0);

  to_poor = send_gnt (fixture, fixture->data_dir, fixture->poor_address, "2");
  to_other = send_gnt (fixture, fixture->data_dir, other, "1.25");
  wallet (&batch, fixture, fixture->data_dir, "pay-batch", "--pay", pay_other, "--yes",
          NULL);
  g_assert_cmpint (batch.status, ==, 0);
  batch_hash = text_field (batch.out, "Transaction");

  /* Newest first: the batch, then the two sends. */
  wallet (&json, fixture, fixture->data_dir, "history", "--json", NULL);
  entries = history_entries (&json, parser);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      const char *expected_hash[] = { batch_hash, to_other, to_poor };
      const char *expected_to[] = { other, other, fixture->poor_address };
      const char *expected_units[] = { "750000000000000000", "1250000000000000000",
                                       "2000000000000000000" };

      if (g_str_equal (json_object_get_string_member (entry, "direction"), "in"))
        continue;
      g_assert_cmpuint (n_out, <, 3);
      g_assert_cmpstr (json_object_get_string_member (entry, "tx_hash"), ==,
                       expected_hash[n_out]);
      g_assert_cmpstr (json_object_get_string_member (entry, "counterparty"), ==,
                       expected_to[n_out]);
      g_assert_cmpstr (json_object_get_string_member (entry, "state"), ==, "confirmed");
      g_assert_cmpstr (json_object_get_string_member (entry, "asset"), ==, "GNT");
      g_assert_cmpstr (json_object_get_string_member (
                         json_object_get_object_member (entry, "amount"), "base_units"),
                       ==, expected_units[n_out]);
      g_assert_cmpint (json_object_get_int_member (entry, "recipients"), ==, 1);
      g_assert_nonnull (json_object_get_string_member (entry, "time"));
      n_out++;
    }
  g_assert_cmpuint (n_out, ==, 3);

  /* Text: one line per entry with the hash, the amount and the other side. */
  wallet (&text, fixture, fixture->data_dir, "history", NULL);
  g_assert_cmpint (text.status, ==, 0);
  g_assert_cmpuint (count_lines (text.out), ==, json_array_get_length (entries));
  assert_contains (text.out, to_poor);
  assert_contains (text.out, to_other);
  assert_contains (text.out, batch_hash);
  assert_contains (text.out, "1.25 GNT");
  assert_contains (text.out, "0.75 GNT");
  assert_contains (text.out, "sent");

  wallet (&limited, fixture, fixture->data_dir, "history", "--limit", "1", "--json", NULL);
  entries = history_entries (&limited, limited_parser);
  g_assert_cmpuint (json_array_get_length (entries), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (entries, 0),
                                                  "tx_hash"), ==, batch_hash);

  /* The receiving side lists the 2 GNT as incoming, from the sender. */
  wallet (&received, fixture, fixture->poor_dir, "history", "--json", NULL);
  entries = history_entries (&received, poor_parser);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);

      if (g_strcmp0 (json_object_get_string_member (entry, "tx_hash"), to_poor) != 0)
        continue;
      g_assert_cmpstr (json_object_get_string_member (entry, "direction"), ==, "in");
      g_assert_cmpstr (json_object_get_string_member (entry, "counterparty"), ==,
                       fixture->address);
      g_assert_cmpstr (json_object_get_string_member (
                         json_object_get_object_member (entry, "amount"), "formatted"),
                       ==, "2");
      seen_incoming = TRUE;
    }
  g_assert_true (seen_incoming);

  {
    g_auto(Result) bad_limit = { 0 };

    wallet (&bad_limit, fixture, fixture->data_dir, "history", "--limit", "0", NULL);
    assert_failure (&bad_limit, 2, "--limit");
  }
}

/* A payment signed and written to the ledger by a run that stopped before broadcasting it:
 * the next wallet command broadcasts those very bytes and says so. */
static void
test_resume (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *recipient = fresh_address ();
  g_autofree char *keystore = g_build_filename (fixture->data_dir, "keystore.json", NULL);
  g_autofree char *db_path = g_build_filename (fixture->data_dir, "kiln.db", NULL);
  g_autofree char *document = NULL;
  g_autofree char *secret_hex = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *hash_hex = NULL;
  g_autofree char *received = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = NULL;
  g_auto(Result) resumed = { 0 };
  g_auto(Result) again = { 0 };
  gint64 id;

  g_file_get_contents (keystore, &document, NULL, &error);
  g_assert_no_error (error);
  key = kiln_keystore_decrypt (document, strlen (document), PASSWORD, &error);
  g_assert_no_error (error);
  {
    guint8 secret[KILN_SECRET_KEY_SIZE];

    kiln_key_copy_secret (key, secret);
    secret_hex = kiln_hex_encode (secret, sizeof secret);
    kiln_secure_wipe (secret, sizeof secret);
  }

  {
    g_autoptr(KilnStore) store = kiln_store_new (db_path, NULL, &error);
    g_autoptr(KilnPaymentLedger) ledger = NULL;
    g_autoptr(KilnPayment) draft = NULL;
    g_autoptr(KilnPayment) payment = NULL;
    g_autoptr(KilnPayment) signed_payment = NULL;
    g_autoptr(KilnTransaction) tx = NULL;
    g_autoptr(GBytes) data_bytes = NULL;
    g_autoptr(GBytes) raw = NULL;
    guint8 hash[32];
    KilnUint256 amount, max_fee, tip;
    KilnAddress to;
    guint64 nonce = 0;

    g_assert_no_error (error);
    ledger = kiln_payment_ledger_new (store);

    g_assert_true (kiln_address_parse (&to, recipient, NULL));
    g_assert_true (kiln_uint256_parse_units (&amount, "3.5", 18, "GNT", NULL));
    draft = kiln_payment_new (KILN_PAYMENT_KIND_ERC20, KILN_TEST_DEVNET_CHAIN_ID,
                              kiln_key_get_address (key));
    kiln_payment_set_token (draft, kiln_test_devnet_get_token (fixture->devnet));
    kiln_payment_add_recipient (draft, &to, &amount);
    payment = kiln_payment_ledger_create (ledger, draft, NULL, &error);
    g_assert_no_error (error);
    id = kiln_payment_get_id (payment);

    kiln_payment_ledger_reserve_nonce (ledger, id, 0, &nonce, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (nonce, ==, 0);

    g_assert_true (kiln_uint256_parse_units (&max_fee, "100", 9, NULL, NULL));
    g_assert_true (kiln_uint256_parse_units (&tip, "1", 9, NULL, NULL));
    data_bytes = kiln_abi_encode_transfer (&to, &amount);
    tx = kiln_transaction_new (KILN_TRANSACTION_TYPE_EIP1559, KILN_TEST_DEVNET_CHAIN_ID);
    kiln_transaction_set_nonce (tx, nonce);
    kiln_transaction_set_gas_limit (tx, 100000);
    kiln_transaction_set_max_fee_per_gas (tx, &max_fee);
    kiln_transaction_set_max_priority_fee_per_gas (tx, &tip);
    kiln_transaction_set_to (tx, kiln_test_devnet_get_token (fixture->devnet));
    kiln_transaction_set_data (tx, data_bytes);
    kiln_transaction_sign (tx, key, &error);
    g_assert_no_error (error);
    raw = kiln_transaction_encode_signed (tx);
    kiln_transaction_get_hash (tx, hash);
    hash_hex = kiln_hex_encode (hash, sizeof hash);

    signed_payment = kiln_payment_ledger_record_attempt (ledger, id, raw, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (kiln_payment_get_state (signed_payment), ==, KILN_PAYMENT_STATE_SIGNED);
  }

  /* Nothing is on the chain yet. */
  received = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (received, ==, "0");
  g_clear_pointer (&received, g_free);

  wallet (&resumed, fixture, fixture->data_dir, "balance", NULL);
  g_assert_cmpint (resumed.status, ==, 0);
  expected = g_strdup_printf ("Finished payment #%" G_GINT64_FORMAT " left unsent by an "
                              "earlier run (transaction 0x%s)\n", id, hash_hex);
  assert_contains (resumed.err, expected);
  g_assert_null (strstr (resumed.out, secret_hex));
  g_assert_null (strstr (resumed.err, secret_hex));

  received = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (received, ==, "3500000000000000000");

  /* Finished once: the next run has nothing left to send, and paid nothing twice. */
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *object;

    wallet (&again, fixture, fixture->data_dir, "balance", "--json", NULL);
    object = parse_json_output (&again, parser);
    g_assert_null (strstr (again.err, "left unsent"));
    assert_json_amount (object, "gnt", "1231000000000000000000", "1231", "GNT");
  }
  g_clear_pointer (&received, g_free);
  received = read_gnt_balance (fixture, recipient);
  g_assert_cmpstr (received, ==, "3500000000000000000");

  kiln_secure_wipe (secret_hex, strlen (secret_hex));
}

static void
assert_help (Fixture           *fixture,
             const char *const *args,
             const char *const *mentions)
{
  g_auto(Result) result = { 0 };

  run_node (&result, fixture, NULL, NULL, args);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (result.err, ==, "");
  g_assert_true (g_str_has_prefix (result.out, "Usage:"));
  for (guint i = 0; mentions[i] != NULL; i++)
    assert_contains (result.out, mentions[i]);
}

static void
test_help (Fixture       *fixture,
           gconstpointer  data)
{
  const char *const shared[] = { "--data-dir", "--keystore", "--password-file", "--json",
                                 "--network", "--rpc", "--token", "--chain-id", NULL };
  const char *const wallet_args[] = { "wallet", "--help", NULL };
  const char *const wallet_mentions[] = { "balance", "send", "history", "pay-batch", NULL };
  const char *const balance_args[] = { "wallet", "balance", "--help", NULL };
  const char *const balance_mentions[] = { "base units", NULL };
  const char *const send_args[] = { "wallet", "send", "--help", NULL };
  const char *const send_mentions[] = { "--to", "--amount", "--asset", "--yes", "--no-wait",
                                        "--reference", "EIP-55", NULL };
  const char *const history_args[] = { "wallet", "history", "--help", NULL };
  const char *const history_mentions[] = { "--limit", NULL };
  const char *const batch_args[] = { "wallet", "pay-batch", "--help", NULL };
  const char *const batch_mentions[] = { "--file", "--pay", "--yes", "--no-wait",
                                         "address,amount", "500", NULL };
  const char *const top_args[] = { "--help", NULL };
  const char *const top_mentions[] = { "identity", "wallet", NULL };
  const char *const identity_args[] = { "identity", "create", "--help", NULL };

  assert_help (fixture, top_args, top_mentions);
  assert_help (fixture, wallet_args, wallet_mentions);
  assert_help (fixture, balance_args, balance_mentions);
  assert_help (fixture, balance_args, shared);
  assert_help (fixture, send_args, send_mentions);
  assert_help (fixture, send_args, shared);
  assert_help (fixture, history_args, history_mentions);
  assert_help (fixture, history_args, shared);
  assert_help (fixture, batch_args, batch_mentions);
  assert_help (fixture, batch_args, shared);
  /* The shared options are everyone's. */
  assert_help (fixture, identity_args, shared);
}

static void
test_chain_options (Fixture       *fixture,
                    gconstpointer  data)
{
  struct {
    const char *args[5];
    gboolean    account;   /* followed by the account's options and the devnet's --rpc */
    int         status;
    const char *reason;
  } cases[] = {
    { { "wallet", "balance", "--network", "moon", NULL }, TRUE, 2, "unknown network “moon”" },
    { { "wallet", "balance", "--chain-id", "x", NULL }, TRUE, 2, "--chain-id" },
    { { "wallet", "balance", "--chain-id", "0", NULL }, TRUE, 2, "--chain-id" },
    { { "wallet", "balance", "--token", "0x12", NULL }, TRUE, 2, "--token" },
    { { "wallet", "balance", "--rpc", "ftp://127.0.0.1:1", NULL }, FALSE, 2, "--rpc" },
    /* The devnet's endpoint does not serve chain 5. */
    { { "wallet", "balance", "--chain-id", "5", NULL }, TRUE, 1, NULL },
    { { "wallet", "frobnicate", NULL }, FALSE, 2, "unknown command “frobnicate”" },
    { { "wallet", NULL }, FALSE, 2, "a command is needed" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) args = g_ptr_array_new ();
      g_auto(Result) result = { 0 };

      for (guint j = 0; cases[i].args[j] != NULL; j++)
        g_ptr_array_add (args, (gpointer) cases[i].args[j]);
      if (cases[i].args[1] != NULL && g_str_equal (cases[i].args[1], "balance"))
        {
          g_ptr_array_add (args, (gpointer) "--data-dir");
          g_ptr_array_add (args, fixture->data_dir);
          g_ptr_array_add (args, (gpointer) "--password-file");
          g_ptr_array_add (args, fixture->password_file);
        }
      if (cases[i].account)
        {
          g_ptr_array_add (args, (gpointer) "--rpc");
          g_ptr_array_add (args, (gpointer) kiln_test_devnet_get_rpc_url (fixture->devnet));
        }
      g_ptr_array_add (args, NULL);

      run_node (&result, fixture, NULL, NULL, (const char *const *) args->pdata);
      assert_failure (&result, cases[i].status, cases[i].reason);
    }
}

static void
add_test (const char *path,
          void      (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down);
}

static void
add_test_without_devnet (const char *path,
                         void      (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, GINT_TO_POINTER (TRUE), fixture_set_up, func, fixture_tear_down);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_test ("/kiln/wallet-cli/balance", test_balance);
  add_test ("/kiln/wallet-cli/send", test_send);
  add_test ("/kiln/wallet-cli/send/no-wait", test_send_no_wait);
  add_test ("/kiln/wallet-cli/send/confirm", test_send_confirm);
  add_test ("/kiln/wallet-cli/send/interrupted", test_send_interrupted);
  add_test ("/kiln/wallet-cli/send/reference", test_send_reference);
  add_test ("/kiln/wallet-cli/send/refusals", test_send_refusals);
  add_test ("/kiln/wallet-cli/pay-batch", test_pay_batch);
  add_test ("/kiln/wallet-cli/pay-batch/options", test_pay_batch_options);
  add_test ("/kiln/wallet-cli/pay-batch/refusals", test_pay_batch_refusals);
  add_test ("/kiln/wallet-cli/history", test_history);
  add_test ("/kiln/wallet-cli/resume", test_resume);
  add_test_without_devnet ("/kiln/wallet-cli/help", test_help);
  add_test ("/kiln/wallet-cli/chain-options", test_chain_options);

  return g_test_run ();
}
