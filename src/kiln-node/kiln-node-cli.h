/* kiln-node-cli.h: the kiln-node command line: command table, shared options, errors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit statuses: 0 success, 1 the command failed, 2 the command line was wrong. */
#define KILN_NODE_EXIT_FAILURE 1
#define KILN_NODE_EXIT_USAGE   2

#define KILN_NODE_CLI_ERROR (kiln_node_cli_error_quark ())

typedef enum
{
  KILN_NODE_CLI_ERROR_USAGE,  /* a wrong command line: exit status 2 (as G_OPTION_ERROR) */
} KilnNodeCliError;

GQuark kiln_node_cli_error_quark (void);

typedef struct _KilnNodeContext KilnNodeContext;
typedef struct _KilnNodeCommand KilnNodeCommand;

/* A leaf command. @argv[0] is the command's name; the command parses the rest with
 * kiln_node_context_parse_options(). Errors in G_OPTION_ERROR or KILN_NODE_CLI_ERROR_USAGE
 * exit with status 2, any other error with status 1. */
typedef gboolean (*KilnNodeCommandFunc) (KilnNodeContext  *ctx,
                                         int               argc,
                                         char            **argv,
                                         GError          **error);

struct _KilnNodeCommand
{
  const char                   *name;
  const char                   *summary;       /* one line, marked with N_() */
  const char                   *description;   /* more help for --help, N_(), or NULL */
  KilnNodeCommandFunc           run;           /* a leaf command, or… */
  const KilnNodeCommand *const *subcommands;   /* …a group: NULL-terminated table */
};

/* The options that mean the same in every command, and the command being run. */
struct _KilnNodeContext
{
  char                  *data_dir;        /* --data-dir, NULL for the default */
  char                  *keystore;        /* --keystore */
  char                  *password_file;   /* --password-file */
  gboolean               json;            /* --json */
  char                  *network;         /* --network, NULL for the default (devnet) */
  char                  *rpc_url;         /* --rpc */
  char                  *token;           /* --token */
  guint64                chain_id;        /* --chain-id, 0 when not given */

  const KilnNodeCommand *command;         /* the leaf command being run */
  char                  *command_path;    /* "kiln-node identity create" */
};

/* The commands, one group or leaf per file (kiln-node-<name>.c). */
extern const KilnNodeCommand kiln_node_identity_command;
extern const KilnNodeCommand kiln_node_wallet_command;
extern const KilnNodeCommand kiln_node_run_command;
extern const KilnNodeCommand kiln_node_peers_command;
extern const KilnNodeCommand kiln_node_render_command;

/* Runs the command line and returns the process exit status. */
int       kiln_node_cli_run                   (int                  argc,
                                               char               **argv);

/* Parses the command's own @entries (may be NULL) together with the shared options.
 * @parameter_string names positional arguments (e.g. "FILE"), or NULL when the command
 * takes none; then any positional argument is a usage error. */
gboolean  kiln_node_context_parse_options     (KilnNodeContext     *ctx,
                                               const GOptionEntry  *entries,
                                               const char          *parameter_string,
                                               int                 *argc,
                                               char              ***argv,
                                               GError             **error);

/* --data-dir, else $XDG_DATA_HOME/kiln. */
char     *kiln_node_context_get_data_dir      (KilnNodeContext     *ctx);
/* The data dir's own keystore: DATA_DIR/keystore.json. */
char     *kiln_node_context_get_data_keystore (KilnNodeContext     *ctx);
/* The account to use: --keystore, else the data dir's own keystore. */
char     *kiln_node_context_get_keystore      (KilnNodeContext     *ctx);

/* Makes the data dir, private to the user (0700), when it is missing. */
gboolean  kiln_node_context_ensure_data_dir   (KilnNodeContext     *ctx,
                                               GError             **error);

/* Sets @error to a KILN_NODE_CLI_ERROR_USAGE error and returns FALSE. */
gboolean  kiln_node_usage_error               (GError             **error,
                                               const char          *format,
                                               ...) G_GNUC_PRINTF (2, 3);

/* Writes @root as one line of JSON to stdout. */
void      kiln_node_print_json                (JsonNode            *root);

G_END_DECLS
