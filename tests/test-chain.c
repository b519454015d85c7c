/* test-chain.c: chain presets, custom chains, overrides and the devnet's state file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libkiln.h"

#define DEVNET_TOKEN "0x5FbDB2315678afecb367f032d93F642f64180aa3"
#define DEVNET_BATCH "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
#define OTHER_TOKEN  "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
#define OTHER_BATCH  "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"

static char *state_dir;

static void
assert_address (const KilnAddress *address,
                const char        *expected)
{
  g_autofree char *text = NULL;

  g_assert_nonnull (address);
  text = kiln_address_to_string (address);
  g_assert_cmpstr (text, ==, expected);
}

/* Points $KILN_DEVNET_STATE at a fresh path in the test's folder. */
static char *
use_state_file (const char *name)
{
  char *path = g_build_filename (state_dir, name, NULL);

  g_unlink (path);
  g_setenv ("KILN_DEVNET_STATE", path, TRUE);
  return path;
}

/* A state file as data/devnet/devnet.mjs writes it. */
static void
write_state (const char *path,
             const char *rpc_url,
             gint64      chain_id,
             gint64      pid)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;

  json = g_strdup_printf ("{\n  \"rpc_url\": \"%s\",\n  \"host\": \"127.0.0.1\",\n"
                          "  \"port\": 40123,\n  \"chain_id\": %" G_GINT64_FORMAT ",\n"
                          "  \"token\": \"" OTHER_TOKEN "\",\n"
                          "  \"token_symbol\": \"GNT\",\n  \"token_decimals\": 18,\n"
                          "  \"batch_pay\": \"" OTHER_BATCH "\",\n"
                          "  \"deployer\": \"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\",\n"
                          "  \"block_number\": 4,\n  \"funded\": [],\n"
                          "  \"pid\": %" G_GINT64_FORMAT ",\n  \"anvil_pid\": 1\n}\n",
                          rpc_url, chain_id, pid);
  g_file_set_contents (path, json, -1, &error);
  g_assert_no_error (error);
}

static void
test_presets (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) mainnet = NULL;
  g_autoptr(KilnChain) polygon = NULL;
  g_autofree char *url = NULL;

  mainnet = kiln_chain_new_preset (KILN_CHAIN_PRESET_MAINNET, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_chain_get_preset (mainnet), ==, KILN_CHAIN_PRESET_MAINNET);
  g_assert_cmpuint (kiln_chain_get_chain_id (mainnet), ==, 1);
  g_assert_cmpstr (kiln_chain_get_rpc_url (mainnet), ==, "https://ethereum-rpc.publicnode.com");
  assert_address (kiln_chain_get_token (mainnet), "0xa74476443119A942dE498590Fe1f2454d7D4aC0d");
  g_assert_cmpstr (kiln_chain_get_token_symbol (mainnet), ==, "GNT");
  g_assert_cmpuint (kiln_chain_get_token_decimals (mainnet), ==, 18);
  g_assert_cmpstr (kiln_chain_get_native_symbol (mainnet), ==, "ETH");
  g_assert_null (kiln_chain_get_batch_contract (mainnet));
  g_assert_false (kiln_chain_is_devnet (mainnet));
  url = kiln_chain_dup_explorer_tx_url (mainnet, "0xabc");
  g_assert_cmpstr (url, ==, "https://etherscan.io/tx/0xabc");
  g_clear_pointer (&url, g_free);

  polygon = kiln_chain_new_preset (KILN_CHAIN_PRESET_POLYGON, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_chain_get_chain_id (polygon), ==, 137);
  g_assert_cmpstr (kiln_chain_get_rpc_url (polygon), ==, "https://polygon-bor-rpc.publicnode.com");
  assert_address (kiln_chain_get_token (polygon), "0x0B220b82F3eA3B7F6d9A1D8ab58930C064A2b5Bf");
  g_assert_cmpstr (kiln_chain_get_token_symbol (polygon), ==, "GLM");
  g_assert_cmpstr (kiln_chain_get_native_symbol (polygon), ==, "POL");
  g_assert_null (kiln_chain_get_batch_contract (polygon));
  url = kiln_chain_dup_explorer_tx_url (polygon, "0x01");
  g_assert_cmpstr (url, ==, "https://polygonscan.com/tx/0x01");
  g_assert_nonnull (kiln_chain_get_name (polygon));
}

static void
test_sepolia_needs_token (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autofree char *url = NULL;

  /* No verified GNT test token on Sepolia: the preset says so instead of guessing. */
  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_SEPOLIA, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "Sepolia"));
  g_assert_nonnull (strstr (error->message, "token"));
  g_assert_null (chain);
  g_clear_error (&error);

  chain = kiln_chain_new_with_overrides (KILN_CHAIN_PRESET_SEPOLIA, NULL, 0, OTHER_TOKEN,
                                         &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_chain_get_preset (chain), ==, KILN_CHAIN_PRESET_SEPOLIA);
  g_assert_cmpuint (kiln_chain_get_chain_id (chain), ==, 11155111);
  g_assert_cmpstr (kiln_chain_get_rpc_url (chain), ==,
                   "https://ethereum-sepolia-rpc.publicnode.com");
  assert_address (kiln_chain_get_token (chain), OTHER_TOKEN);
  url = kiln_chain_dup_explorer_tx_url (chain, "0x02");
  g_assert_cmpstr (url, ==, "https://sepolia.etherscan.io/tx/0x02");
}

static void
test_devnet_defaults (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autofree char *path = use_state_file ("missing.json");
  g_autofree char *state_path = kiln_chain_get_devnet_state_path ();

  g_assert_cmpstr (state_path, ==, path);

  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_DEVNET, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_chain_is_devnet (chain));
  g_assert_cmpuint (kiln_chain_get_chain_id (chain), ==, KILN_DEVNET_CHAIN_ID);
  g_assert_cmpstr (kiln_chain_get_rpc_url (chain), ==, "http://127.0.0.1:8545");
  assert_address (kiln_chain_get_token (chain), DEVNET_TOKEN);
  assert_address (kiln_chain_get_batch_contract (chain), DEVNET_BATCH);
  g_assert_null (kiln_chain_dup_explorer_tx_url (chain, "0x01"));

  g_unsetenv ("KILN_DEVNET_STATE");
  g_clear_pointer (&state_path, g_free);
  state_path = kiln_chain_get_devnet_state_path ();
  g_clear_pointer (&path, g_free);
  path = g_build_filename (g_get_user_runtime_dir (), "kiln", "devnet.json", NULL);
  g_assert_cmpstr (state_path, ==, path);
}

static void
test_devnet_state_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autofree char *path = use_state_file ("devnet.json");

  /* Written by a devnet that runs (this process stands in for it). */
  write_state (path, "http://127.0.0.1:40123", KILN_DEVNET_CHAIN_ID, getpid ());
  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_DEVNET, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kiln_chain_get_rpc_url (chain), ==, "http://127.0.0.1:40123");
  assert_address (kiln_chain_get_token (chain), OTHER_TOKEN);
  assert_address (kiln_chain_get_batch_contract (chain), OTHER_BATCH);
  g_clear_object (&chain);

  /* --rpc over the devnet preset keeps the file's contracts. */
  chain = kiln_chain_new_with_overrides (KILN_CHAIN_PRESET_DEVNET, "http://localhost:9999", 0,
                                         NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kiln_chain_get_rpc_url (chain), ==, "http://localhost:9999");
  assert_address (kiln_chain_get_batch_contract (chain), OTHER_BATCH);
  g_unsetenv ("KILN_DEVNET_STATE");
}

static void
test_devnet_stale_state_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autofree char *path = use_state_file ("stale.json");
  pid_t pid = fork ();
  int status;

  /* A devnet killed outright leaves its file behind, naming a process that is gone. */
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);

  write_state (path, "http://127.0.0.1:40123", KILN_DEVNET_CHAIN_ID, pid);
  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_DEVNET, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kiln_chain_get_rpc_url (chain), ==, "http://127.0.0.1:8545");
  assert_address (kiln_chain_get_token (chain), DEVNET_TOKEN);
  g_unsetenv ("KILN_DEVNET_STATE");
}

static void
test_devnet_bad_state_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autofree char *path = use_state_file ("bad.json");

  g_file_set_contents (path, "{\"rpc_url\": 12}", -1, &error);
  g_assert_no_error (error);
  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_DEVNET, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_null (chain);
  g_clear_error (&error);

  g_file_set_contents (path, "not json", -1, &error);
  g_assert_no_error (error);
  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_DEVNET, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_null (chain);
  g_clear_error (&error);

  write_state (path, "http://127.0.0.1:40123", 1, getpid ());
  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_DEVNET, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_null (chain);
  g_unsetenv ("KILN_DEVNET_STATE");
}

static void
test_custom (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;

  chain = kiln_chain_new_custom ("https://rpc.example.org/v1/key", 0, OTHER_TOKEN, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_chain_get_preset (chain), ==, KILN_CHAIN_PRESET_CUSTOM);
  g_assert_cmpuint (kiln_chain_get_chain_id (chain), ==, 0);
  g_assert_cmpstr (kiln_chain_get_rpc_url (chain), ==, "https://rpc.example.org/v1/key");
  assert_address (kiln_chain_get_token (chain), OTHER_TOKEN);
  g_assert_null (kiln_chain_get_batch_contract (chain));
  g_assert_null (kiln_chain_dup_explorer_tx_url (chain, "0x01"));
  g_assert_false (kiln_chain_is_devnet (chain));
  g_clear_object (&chain);

  /* Lowercase addresses are unchecksummed and accepted. */
  chain = kiln_chain_new_custom ("http://10.0.0.2:8545", 31337,
                                 "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
                                 OTHER_BATCH, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_chain_is_devnet (chain));
  assert_address (kiln_chain_get_token (chain), OTHER_TOKEN);
  assert_address (kiln_chain_get_batch_contract (chain), OTHER_BATCH);
  g_clear_object (&chain);

  /* The same through the overrides of the custom preset. */
  chain = kiln_chain_new_with_overrides (KILN_CHAIN_PRESET_CUSTOM, "http://10.0.0.2:8545", 5,
                                         OTHER_TOKEN, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_chain_get_chain_id (chain), ==, 5);
}

static void
test_custom_invalid (void)
{
  static const char *const bad_urls[] = {
    "", "ftp://example.org", "example.org:8545", "http://", "not a url", "file:///tmp/x",
  };
  g_autoptr(GError) error = NULL;
  KilnChain *chain;

  for (guint i = 0; i < G_N_ELEMENTS (bad_urls); i++)
    {
      chain = kiln_chain_new_custom (bad_urls[i], 1, OTHER_TOKEN, NULL, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_null (chain);
      g_clear_error (&error);
    }

  chain = kiln_chain_new_custom (NULL, 1, OTHER_TOKEN, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  chain = kiln_chain_new_custom ("http://127.0.0.1:8545", 1, NULL, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "token"));
  g_clear_error (&error);

  /* A wrong EIP-55 checksum (one letter's case changed). */
  chain = kiln_chain_new_custom ("http://127.0.0.1:8545", 1,
                                 "0x9Fe46736679d2D9a65F0992F2272dE9f3c7fa6e0", NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (chain);
  g_clear_error (&error);

  chain = kiln_chain_new_custom ("http://127.0.0.1:8545", 1, "0x1234", NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  chain = kiln_chain_new_custom ("http://127.0.0.1:8545", 1, OTHER_TOKEN, "0xzz", &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_CUSTOM, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (chain);
}

static void
test_overrides (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autofree char *url = NULL;

  /* Field by field: the RPC URL only. */
  chain = kiln_chain_new_with_overrides (KILN_CHAIN_PRESET_MAINNET, "https://eth.example.net",
                                         0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kiln_chain_get_rpc_url (chain), ==, "https://eth.example.net");
  g_assert_cmpuint (kiln_chain_get_chain_id (chain), ==, 1);
  assert_address (kiln_chain_get_token (chain), "0xa74476443119A942dE498590Fe1f2454d7D4aC0d");
  url = kiln_chain_dup_explorer_tx_url (chain, "0x01");
  g_assert_cmpstr (url, ==, "https://etherscan.io/tx/0x01");
  g_clear_pointer (&url, g_free);
  g_clear_object (&chain);

  /* The same chain ID changes nothing; another one drops the preset's explorer and
   * contracts. */
  chain = kiln_chain_new_with_overrides (KILN_CHAIN_PRESET_POLYGON, NULL, 137, OTHER_TOKEN,
                                         &error);
  g_assert_no_error (error);
  assert_address (kiln_chain_get_token (chain), OTHER_TOKEN);
  url = kiln_chain_dup_explorer_tx_url (chain, "0x01");
  g_assert_nonnull (url);
  g_clear_pointer (&url, g_free);
  g_clear_object (&chain);

  use_state_file ("none.json");
  chain = kiln_chain_new_with_overrides (KILN_CHAIN_PRESET_DEVNET, NULL, 1337, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_chain_get_chain_id (chain), ==, 1337);
  g_assert_null (kiln_chain_get_batch_contract (chain));
  g_assert_false (kiln_chain_is_devnet (chain));
  g_clear_object (&chain);
  g_unsetenv ("KILN_DEVNET_STATE");

  chain = kiln_chain_new_with_overrides (KILN_CHAIN_PRESET_MAINNET, "mailto:x@example.org", 0,
                                         NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (chain);
  g_clear_error (&error);

  chain = kiln_chain_new_with_overrides (KILN_CHAIN_PRESET_MAINNET, NULL, 0, "0xnope", &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (chain);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  state_dir = g_dir_make_tmp ("kiln-test-chain-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/kiln/chain/presets", test_presets);
  g_test_add_func ("/kiln/chain/sepolia-needs-token", test_sepolia_needs_token);
  g_test_add_func ("/kiln/chain/devnet/defaults", test_devnet_defaults);
  g_test_add_func ("/kiln/chain/devnet/state-file", test_devnet_state_file);
  g_test_add_func ("/kiln/chain/devnet/stale-state-file", test_devnet_stale_state_file);
  g_test_add_func ("/kiln/chain/devnet/bad-state-file", test_devnet_bad_state_file);
  g_test_add_func ("/kiln/chain/custom", test_custom);
  g_test_add_func ("/kiln/chain/custom-invalid", test_custom_invalid);
  g_test_add_func ("/kiln/chain/overrides", test_overrides);

  status = g_test_run ();

  {
    g_autoptr(GDir) dir = g_dir_open (state_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (state_dir, name, NULL);

        g_unlink (path);
      }
    g_rmdir (state_dir);
    g_free (state_dir);
  }

  return status;
}
