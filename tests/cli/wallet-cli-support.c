/* wallet-cli-support.c: what the wallet command tests share: accounts, a devnet, running
 * kiln-node, reading the chain back with ethers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wallet-cli-support.h"

void
result_clear (Result *result)
{
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}

/* Running programs */

/* Runs @argv and waits for it. With @terminal (a pseudo-terminal's controller) @input is
 * typed there; otherwise it is written to the standard input pipe. */
static void
spawn_and_wait (Result              *result,
                GSubprocessLauncher *launcher,
                const char *const   *argv,
                int                  terminal,
                const char          *input)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *command_line = g_strjoinv (" ", (char **) argv);

  g_test_message ("running %s", command_line);

  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);

  if (terminal >= 0)
    {
      g_assert_cmpint (write (terminal, input, strlen (input)), ==, (gssize) strlen (input));
      input = NULL;
    }

  g_subprocess_communicate_utf8 (process, input, NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  result->status = g_subprocess_get_exit_status (process);

  g_test_message ("exit status %d, stdout: %s, stderr: %s",
                  result->status, result->out, result->err);
}

/* kiln-node and @args; with @data_dir, the account's options and the devnet's follow. */
GPtrArray *
node_argv (Fixture           *fixture,
           const char        *data_dir,
           const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new ();
  const char *kiln_node = g_getenv ("KILN_NODE");

  g_assert_nonnull (kiln_node);

  g_ptr_array_add (argv, (gpointer) kiln_node);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  if (data_dir != NULL)
    {
      g_ptr_array_add (argv, (gpointer) "--data-dir");
      g_ptr_array_add (argv, (gpointer) data_dir);
      g_ptr_array_add (argv, (gpointer) "--password-file");
      g_ptr_array_add (argv, fixture->password_file);
      if (fixture->devnet != NULL)
        {
          g_ptr_array_add (argv, (gpointer) "--rpc");
          g_ptr_array_add (argv, (gpointer) kiln_test_devnet_get_rpc_url (fixture->devnet));
          g_ptr_array_add (argv, (gpointer) "--token");
          g_ptr_array_add (argv, fixture->token);
        }
    }
  g_ptr_array_add (argv, NULL);

  return argv;
}

GSubprocessLauncher *
node_launcher (Fixture          *fixture,
               GSubprocessFlags  flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
  g_autofree char *xdg_data_home = g_build_filename (fixture->dir, "xdg", NULL);
  g_autofree char *state = g_build_filename (fixture->dir, "no-devnet-state.json", NULL);

  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", xdg_data_home, TRUE);
  /* A devnet someone runs on this machine must not be found instead of the test's. */
  g_subprocess_launcher_setenv (launcher, "KILN_DEVNET_STATE", state, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);

  return launcher;
}

/* kiln-node with @args; with @data_dir, the account's options and the devnet's follow. With
 * @typed, standard input is a terminal on which that is typed; otherwise a pipe. */
void
run_node (Result            *result,
          Fixture           *fixture,
          const char        *data_dir,
          const char        *typed,
          const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = node_argv (fixture, data_dir, args);
  int terminal = -1;

  if (typed != NULL)
    {
      int device;

      terminal = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
      g_assert_cmpint (terminal, >=, 0);
      g_assert_cmpint (grantpt (terminal), ==, 0);
      g_assert_cmpint (unlockpt (terminal), ==, 0);
      device = open (ptsname (terminal), O_RDWR | O_NOCTTY | O_CLOEXEC);
      g_assert_cmpint (device, >=, 0);

      launcher = node_launcher (fixture, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                         G_SUBPROCESS_FLAGS_STDERR_PIPE);
      g_subprocess_launcher_take_stdin_fd (launcher, device);
    }
  else
    {
      launcher = node_launcher (fixture, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                         G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                         G_SUBPROCESS_FLAGS_STDERR_PIPE);
    }

  spawn_and_wait (result, launcher, (const char *const *) argv->pdata, terminal, typed);

  if (terminal >= 0)
    close (terminal);
}

/* “kiln-node wallet ARGS… --data-dir DIR --password-file F --rpc URL --token ADDR” */
void G_GNUC_NULL_TERMINATED
wallet (Result     *result,
        Fixture    *fixture,
        const char *data_dir,
        const char *first,
        ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  g_ptr_array_add (args, (gpointer) "wallet");
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  run_node (result, fixture, data_dir, NULL, (const char *const *) args->pdata);
}

/* Runs a script with node in the source tree, where require('ethers') finds the
 * repository's copy; returns its output, parsed as JSON. */
JsonNode *
run_ethers (const char        *script,
            const char *const *script_args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_auto(Result) result = { 0 };
  const char *root = g_getenv ("KILN_SOURCE_ROOT");

  g_assert_nonnull (root);

  g_ptr_array_add (argv, (gpointer) "node");
  g_ptr_array_add (argv, (gpointer) "-e");
  g_ptr_array_add (argv, (gpointer) script);
  for (guint i = 0; script_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) script_args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, root);
  spawn_and_wait (&result, launcher, (const char *const *) argv->pdata, -1, NULL);
  g_assert_cmpint (result.status, ==, 0);

  json_parser_load_from_data (parser, result.out, -1, &error);
  g_assert_no_error (error);

  return json_node_copy (json_parser_get_root (parser));
}

/* {"ADDR": {"gnt": "…", "eth": "…"}, …} in base units. */
static const char balances_script[] =
  "const { ethers } = require('ethers');\n"
  "const [url, token, ...addresses] = process.argv.slice(1);\n"
  "(async () => {\n"
  "  const provider = new ethers.JsonRpcProvider(url, 31337, { staticNetwork: true });\n"
  "  const gnt = new ethers.Contract(token,\n"
  "    ['function balanceOf(address) view returns (uint256)'], provider);\n"
  "  const out = {};\n"
  "  for (const a of addresses)\n"
  "    out[a] = { gnt: (await gnt.balanceOf(a)).toString(),\n"
  "               eth: (await provider.getBalance(a)).toString() };\n"
  "  console.log(JSON.stringify(out));\n"
  "  provider.destroy();\n"
  "})().catch((e) => { console.error(e.message); process.exit(1); });\n";

/* One JSON-RPC call: the method and its parameters as JSON text. */
static const char rpc_script[] =
  "const { ethers } = require('ethers');\n"
  "const [url, method, params] = process.argv.slice(1);\n"
  "(async () => {\n"
  "  const provider = new ethers.JsonRpcProvider(url, 31337, { staticNetwork: true });\n"
  "  const result = await provider.send(method, JSON.parse(params));\n"
  "  console.log(JSON.stringify({ result: result ?? null }));\n"
  "  provider.destroy();\n"
  "})().catch((e) => { console.error(e.message); process.exit(1); });\n";

void
devnet_call (Fixture    *fixture,
             const char *method,
             const char *params)
{
  const char *const args[] = { kiln_test_devnet_get_rpc_url (fixture->devnet), method, params,
                               NULL };
  g_autoptr(JsonNode) answer = run_ethers (rpc_script, args);

  g_assert_true (JSON_NODE_HOLDS_OBJECT (answer));
}

JsonNode *
read_balances (Fixture           *fixture,
               const char *const *addresses)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, (gpointer) kiln_test_devnet_get_rpc_url (fixture->devnet));
  g_ptr_array_add (args, fixture->token);
  for (guint i = 0; addresses[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) addresses[i]);
  g_ptr_array_add (args, NULL);

  return run_ethers (balances_script, (const char *const *) args->pdata);
}

/* @address's balance of @asset ("gnt" or "eth") in base units. */
static char *
read_balance (Fixture    *fixture,
              const char *address,
              const char *asset)
{
  const char *const addresses[] = { address, NULL };
  g_autoptr(JsonNode) root = read_balances (fixture, addresses);
  JsonObject *balance = json_object_get_object_member (json_node_get_object (root), address);

  return g_strdup (json_object_get_string_member (balance, asset));
}

char *
read_gnt_balance (Fixture    *fixture,
                  const char *address)
{
  return read_balance (fixture, address, "gnt");
}

char *
read_eth_balance (Fixture    *fixture,
                  const char *address)
{
  return read_balance (fixture, address, "eth");
}

/* Assertions */

guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';

  return n;
}

void
assert_contains (const char *text,
                 const char *part)
{
  if (strstr (text, part) == NULL)
    g_error ("“%s” does not contain “%s”", text, part);
}

/* Fails with @status, prints nothing on stdout and one line on stderr that holds @reason. */
void
assert_failure (Result     *result,
                int         status,
                const char *reason)
{
  g_assert_cmpint (result->status, ==, status);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_true (g_str_has_prefix (result->err, "kiln-node: "));
  g_assert_true (g_str_has_suffix (result->err, "\n"));
  g_assert_cmpuint (count_lines (result->err), ==, 1);
  if (reason != NULL)
    assert_contains (result->err, reason);
}

JsonObject *
parse_json_output (Result     *result,
                   JsonParser *parser)
{
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  g_assert_cmpint (result->status, ==, 0);
  g_assert_cmpuint (count_lines (result->out), ==, 1);
  json_parser_load_from_data (parser, result->out, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));

  return json_node_get_object (root);
}

/* {"base_units": @base_units, "formatted": @formatted, "symbol": @symbol, …} */
void
assert_json_amount (JsonObject *object,
                    const char *member,
                    const char *base_units,
                    const char *formatted,
                    const char *symbol)
{
  JsonObject *amount = json_object_get_object_member (object, member);

  g_assert_nonnull (amount);
  g_assert_cmpstr (json_object_get_string_member (amount, "base_units"), ==, base_units);
  g_assert_cmpstr (json_object_get_string_member (amount, "formatted"), ==, formatted);
  g_assert_cmpstr (json_object_get_string_member (amount, "symbol"), ==, symbol);
  g_assert_cmpint (json_object_get_int_member (amount, "decimals"), ==, 18);
}

gboolean
is_tx_hash (const char *text)
{
  return text != NULL && g_regex_match_simple ("^0x[0-9a-f]{64}$", text, 0, 0);
}

/* The value of “Label  value” in text output. */
char *
text_field (const char *text,
            const char *label)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], label) && lines[i][strlen (label)] == ' ')
        return g_strstrip (g_strdup (lines[i] + strlen (label)));
    }

  g_error ("no “%s” line in “%s”", label, text);
  return NULL;
}

/* Addresses */

/* A new, unused address in EIP-55 form, with letters in it. */
char *
fresh_address (void)
{
  for (;;)
    {
      KilnAddress address;
      char *text;
      guint letters = 0;

      for (guint i = 0; i < KILN_ADDRESS_SIZE; i++)
        address.bytes[i] = (guint8) g_random_int_range (0, 256);
      text = kiln_address_to_string (&address);

      for (const char *p = text + 2; *p != '\0'; p++)
        letters += g_ascii_isalpha (*p);
      if (letters >= 2)
        return text;
      g_free (text);
    }
}

/* @address with the case of its first letter swapped: a wrong EIP-55 checksum. */
char *
flip_checksum (const char *address)
{
  char *flipped = g_strdup (address);

  for (char *p = flipped + 2; *p != '\0'; p++)
    {
      if (g_ascii_isalpha (*p))
        {
          *p = g_ascii_isupper (*p) ? g_ascii_tolower (*p) : g_ascii_toupper (*p);
          break;
        }
    }

  return flipped;
}

/* Fixture: two accounts, then the devnet funding them */

static char *
create_account (Fixture    *fixture,
                const char *data_dir)
{
  const char *const args[] = { "identity", "create", "--light", "--data-dir", data_dir,
                               "--password-file", fixture->password_file, NULL };
  g_auto(Result) result = { 0 };

  run_node (&result, fixture, NULL, NULL, args);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (result.err, ==, "");
  g_assert_true (g_regex_match_simple ("^0x[0-9a-fA-F]{40}\n$", result.out, 0, 0));

  return g_strndup (result.out, 42);
}

void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *funded = NULL;
  g_autofree char *poor = NULL;

  fixture->dir = g_dir_make_tmp ("kiln-wallet-cli-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->password_file = g_build_filename (fixture->dir, "password", NULL);
  g_file_set_contents (fixture->password_file, PASSWORD "\n", -1, &error);
  g_assert_no_error (error);

  /* Tests of the command line alone need neither accounts nor a chain. */
  if (data != NULL)
    return;

  fixture->data_dir = g_build_filename (fixture->dir, "node", NULL);
  fixture->address = create_account (fixture, fixture->data_dir);
  fixture->poor_dir = g_build_filename (fixture->dir, "poor", NULL);
  fixture->poor_address = create_account (fixture, fixture->poor_dir);

  funded = g_strdup_printf ("%s:%s:%s", fixture->address, FUNDED_ETH, FUNDED_GNT);
  poor = g_strdup_printf ("%s:0:%s", fixture->poor_address, POOR_GNT);
  {
    const char *const fund[] = { funded, poor, NULL };

    fixture->devnet = kiln_test_devnet_start (fund, &error);
    g_assert_no_error (error);
  }

  kiln_address_format (kiln_test_devnet_get_token (fixture->devnet), fixture->token);
  kiln_address_format (kiln_test_devnet_get_batch_pay (fixture->devnet), fixture->batch);
}

static void
remove_tree (GFile *file)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      GFile *child = NULL;

      while (g_file_enumerator_iterate (children, NULL, &child, NULL, NULL) && child != NULL)
        remove_tree (child);
    }

  g_file_delete (file, NULL, NULL);
}

void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GFile) dir = g_file_new_for_path (fixture->dir);
  g_autoptr(GError) error = NULL;

  if (fixture->devnet != NULL)
    {
      kiln_test_devnet_stop (fixture->devnet, &error);
      g_assert_no_error (error);
      g_clear_pointer (&fixture->devnet, kiln_test_devnet_free);
    }

  remove_tree (dir);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->password_file, g_free);
  g_clear_pointer (&fixture->data_dir, g_free);
  g_clear_pointer (&fixture->address, g_free);
  g_clear_pointer (&fixture->poor_dir, g_free);
  g_clear_pointer (&fixture->poor_address, g_free);
}

/* Sends @amount GNT to @to with --yes --json; returns the confirmed transaction's hash. */
char *
send_gnt (Fixture    *fixture,
          const char *data_dir,
          const char *to,
          const char *amount)
{
  g_auto(Result) result = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;

  wallet (&result, fixture, data_dir, "send", "--to", to, "--amount", amount, "--yes",
          "--json", NULL);
  object = parse_json_output (&result, parser);
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "confirmed");
  g_assert_true (is_tx_hash (json_object_get_string_member (object, "tx_hash")));

  return g_strdup (json_object_get_string_member (object, "tx_hash"));
}
