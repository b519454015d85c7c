/* wallet-cli-support.h: what the wallet command tests share: accounts, a devnet, running
 * kiln-node, reading the chain back with ethers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kiln-test-devnet.h"

G_BEGIN_DECLS

#define PASSWORD       "wallet test password"

/* What the devnet gives the funded account, and the same in base units. */
#define FUNDED_ETH     "12.5"
#define FUNDED_GNT     "1234.5"
#define FUNDED_ETH_WEI "12500000000000000000"
#define FUNDED_GNT_WEI "1234500000000000000000"
/* The account that has GNT but no ETH for fees. */
#define POOR_GNT       "10"

typedef struct
{
  char           *dir;            /* a fresh temporary folder */
  char           *password_file;
  char           *data_dir;       /* the funded account's data folder */
  char           *address;
  char           *poor_dir;       /* an account with GNT and no ETH */
  char           *poor_address;
  KilnTestDevnet *devnet;
  char            token[KILN_ADDRESS_STRING_SIZE];
  char            batch[KILN_ADDRESS_STRING_SIZE];
} Fixture;

typedef struct
{
  int   status;
  char *out;
  char *err;
} Result;

void                 result_clear        (Result              *result);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

/* Fixture: the accounts and the devnet. With @data non-NULL, neither: for tests of the
 * command line alone. */
void                 fixture_set_up      (Fixture             *fixture,
                                          gconstpointer        data);
void                 fixture_tear_down   (Fixture             *fixture,
                                          gconstpointer        data);

/* Running kiln-node */

/* kiln-node and @args; with @data_dir, the account's options and the devnet's follow. */
GPtrArray           *node_argv           (Fixture             *fixture,
                                          const char          *data_dir,
                                          const char *const   *args);
/* A launcher with the test's environment: its own XDG_DATA_HOME, no devnet state file. */
GSubprocessLauncher *node_launcher       (Fixture             *fixture,
                                          GSubprocessFlags     flags);
/* kiln-node with @args; with @data_dir, the account's options and the devnet's follow. With
 * @typed, standard input is a terminal on which that is typed; otherwise a pipe. */
void                 run_node            (Result              *result,
                                          Fixture             *fixture,
                                          const char          *data_dir,
                                          const char          *typed,
                                          const char *const   *args);
/* “kiln-node wallet ARGS… --data-dir DIR --password-file F --rpc URL --token ADDR” */
void                 wallet              (Result              *result,
                                          Fixture             *fixture,
                                          const char          *data_dir,
                                          const char          *first,
                                          ...) G_GNUC_NULL_TERMINATED;
/* Sends @amount GNT to @to with --yes --json; returns the confirmed transaction's hash. */
char                *send_gnt            (Fixture             *fixture,
                                          const char          *data_dir,
                                          const char          *to,
                                          const char          *amount);

/* The chain, through ethers */

/* Runs a script with node in the source tree, where require('ethers') finds the
 * repository's copy; returns its output, parsed as JSON. */
JsonNode            *run_ethers          (const char          *script,
                                          const char *const   *script_args);
/* One JSON-RPC call to the devnet, with its parameters as JSON text. */
void                 devnet_call         (Fixture             *fixture,
                                          const char          *method,
                                          const char          *params);
/* {"ADDR": {"gnt": "…", "eth": "…"}, …} in base units. */
JsonNode            *read_balances       (Fixture             *fixture,
                                          const char *const   *addresses);
/* The GNT or ETH balance of @address in base units. */
char                *read_gnt_balance    (Fixture             *fixture,
                                          const char          *address);
char                *read_eth_balance    (Fixture             *fixture,
                                          const char          *address);

/* Assertions */

guint                count_lines         (const char          *text);
void                 assert_contains     (const char          *text,
                                          const char          *part);
/* Fails with @status, prints nothing on stdout and one line on stderr that holds @reason. */
void                 assert_failure      (Result              *result,
                                          int                  status,
                                          const char          *reason);
/* Succeeds with one line of JSON holding an object. */
JsonObject          *parse_json_output   (Result              *result,
                                          JsonParser          *parser);
/* {"base_units": @base_units, "formatted": @formatted, "symbol": @symbol, …} */
void                 assert_json_amount  (JsonObject          *object,
                                          const char          *member,
                                          const char          *base_units,
                                          const char          *formatted,
                                          const char          *symbol);
gboolean             is_tx_hash          (const char          *text);
/* The value of “Label  value” in text output. */
char                *text_field          (const char          *text,
                                          const char          *label);

/* Addresses */

/* A new, unused address in EIP-55 form, with letters in it. */
char                *fresh_address       (void);
/* @address with the case of its first letter swapped: a wrong EIP-55 checksum. */
char                *flip_checksum       (const char          *address);

G_END_DECLS
