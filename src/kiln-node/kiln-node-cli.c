/* kiln-node-cli.c: the kiln-node command line: command table, shared options, errors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "kiln-node-cli.h"

#define PROGRAM_NAME "kiln-node"

G_DEFINE_QUARK (kiln-node-cli-error-quark, kiln_node_cli_error)

/* Adding a command: write kiln-node-<name>.c defining kiln_node_<name>_command (a leaf with
 * a run function, or a group with a table of subcommands), declare it in kiln-node-cli.h,
 * list it here and add the file to meson.build. */
static const KilnNodeCommand *const commands[] = {
  &kiln_node_identity_command,
  &kiln_node_wallet_command,
  &kiln_node_run_command,
  &kiln_node_peers_command,
  &kiln_node_render_command,
  NULL
};

static const KilnNodeCommand root_command = {
  PROGRAM_NAME,
  N_("Run a Kiln node without a desktop, and manage its account"),
  N_("Every command takes --data-dir DIR, --keystore FILE, --password-file FILE,\n"
     "--network PRESET, --rpc URL, --token ADDR, --chain-id N and --json, which\n"
     "mean the same in every command. Run “kiln-node COMMAND --help” for a\n"
     "command’s options. Errors exit with status 1 (2 for a wrong command line)\n"
     "and one line on standard error. Key material is never printed."),
  NULL,
  commands,
};

static void
kiln_node_context_clear (KilnNodeContext *ctx)
{
  g_clear_pointer (&ctx->data_dir, g_free);
  g_clear_pointer (&ctx->keystore, g_free);
  g_clear_pointer (&ctx->password_file, g_free);
  g_clear_pointer (&ctx->network, g_free);
  g_clear_pointer (&ctx->rpc_url, g_free);
  g_clear_pointer (&ctx->token, g_free);
  g_clear_pointer (&ctx->command_path, g_free);
  ctx->chain_id = 0;
  ctx->json = FALSE;
  ctx->command = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KilnNodeContext, kiln_node_context_clear)

static void
set_command_path (KilnNodeContext *ctx,
                  const char      *path)
{
  g_free (ctx->command_path);
  ctx->command_path = g_strdup (path);
}

static gboolean
check_not_empty (const char  *value,
                 const char  *option,
                 GError     **error)
{
  if (value != NULL && value[0] == '\0')
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("%s needs a value, not an empty string"), option);
      return FALSE;
    }

  return TRUE;
}

static gboolean
parse_chain_id (const char  *text,
                guint64     *out,
                GError     **error)
{
  if (text == NULL)
    return TRUE;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT64, out, NULL))
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("--chain-id needs a positive whole number, not “%s”"), text);
      return FALSE;
    }

  return TRUE;
}

gboolean
kiln_node_context_parse_options (KilnNodeContext     *ctx,
                                 const GOptionEntry  *entries,
                                 const char          *parameter_string,
                                 int                 *argc,
                                 char              ***argv,
                                 GError             **error)
{
  g_autofree char *chain_id_text = NULL;
  const GOptionEntry shared_entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &ctx->data_dir,
      N_("The node’s data folder (default: $XDG_DATA_HOME/kiln)"), N_("DIR") },
    { "keystore", 0, 0, G_OPTION_ARG_FILENAME, &ctx->keystore,
      N_("The account’s keystore file (default: DIR/keystore.json)"), N_("FILE") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &ctx->password_file,
      N_("Read the account’s password from FILE (one final newline is ignored)"), N_("FILE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctx->json,
      N_("Print the result as one JSON object"), NULL },
    { "network", 0, 0, G_OPTION_ARG_STRING, &ctx->network,
      N_("The chain to pay on: devnet, sepolia, mainnet or polygon (default: devnet)"),
      N_("PRESET") },
    { "rpc", 0, 0, G_OPTION_ARG_STRING, &ctx->rpc_url,
      N_("The chain’s JSON-RPC endpoint (default: the network’s)"), N_("URL") },
    { "token", 0, 0, G_OPTION_ARG_STRING, &ctx->token,
      N_("The payment token’s contract (default: the network’s)"), N_("ADDR") },
    { "chain-id", 0, 0, G_OPTION_ARG_STRING, &chain_id_text,
      N_("The chain’s ID (default: the network’s, else asked from the endpoint)"), N_("N") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  gboolean ok;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (ctx->command != NULL, FALSE);

  context = g_option_context_new (parameter_string);
  g_option_context_set_summary (context, _(ctx->command->summary));
  if (ctx->command->description != NULL)
    g_option_context_set_description (context, _(ctx->command->description));
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, shared_entries, GETTEXT_PACKAGE);

  /* The usage line of --help reads "PRGNAME [OPTION…] PARAMETERS". */
  g_set_prgname (ctx->command_path);
  ok = g_option_context_parse (context, argc, argv, error);
  g_set_prgname (PROGRAM_NAME);
  if (!ok)
    return FALSE;

  if (parameter_string == NULL && *argc > 1)
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("unexpected argument “%s”; see “%s --help”"),
                   (*argv)[1], ctx->command_path);
      return FALSE;
    }

  return check_not_empty (ctx->data_dir, "--data-dir", error) &&
         check_not_empty (ctx->keystore, "--keystore", error) &&
         check_not_empty (ctx->password_file, "--password-file", error) &&
         check_not_empty (ctx->network, "--network", error) &&
         check_not_empty (ctx->rpc_url, "--rpc", error) &&
         check_not_empty (ctx->token, "--token", error) &&
         parse_chain_id (chain_id_text, &ctx->chain_id, error);
}

char *
kiln_node_context_get_data_dir (KilnNodeContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);

  /* Absolute, so that what is made from it (the control socket, the lending work folder)
   * does not depend on where the node is later asked from. */
  if (ctx->data_dir != NULL)
    return g_canonicalize_filename (ctx->data_dir, NULL);

  return g_build_filename (g_get_user_data_dir (), "kiln", NULL);
}

char *
kiln_node_context_get_data_keystore (KilnNodeContext *ctx)
{
  g_autofree char *data_dir = kiln_node_context_get_data_dir (ctx);

  return g_build_filename (data_dir, "keystore.json", NULL);
}

char *
kiln_node_context_get_keystore (KilnNodeContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);

  if (ctx->keystore != NULL)
    return g_strdup (ctx->keystore);

  return kiln_node_context_get_data_keystore (ctx);
}

gboolean
kiln_node_context_ensure_data_dir (KilnNodeContext  *ctx,
                                   GError          **error)
{
  g_autofree char *data_dir = kiln_node_context_get_data_dir (ctx);

  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_autofree char *display = g_filename_display_name (data_dir);

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("cannot make the data folder “%s”: %s"),
                   display, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

gboolean
kiln_node_usage_error (GError     **error,
                       const char  *format,
                       ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                                                format, args));
  va_end (args);
  return FALSE;
}

void
kiln_node_print_json (JsonNode *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  g_return_if_fail (root != NULL);

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  /* Raw UTF-8, not g_print(): JSON must not go through the locale's charset. */
  fputs (text, stdout);
  fputc ('\n', stdout);
}

static char *
describe_subcommands (const KilnNodeCommand *group)
{
  GString *text = g_string_new (_("Commands:"));
  int width = 0;

  for (guint i = 0; group->subcommands[i] != NULL; i++)
    width = MAX (width, (int) strlen (group->subcommands[i]->name));

  for (guint i = 0; group->subcommands[i] != NULL; i++)
    g_string_append_printf (text, "\n  %-*s  %s",
                            width, group->subcommands[i]->name,
                            _(group->subcommands[i]->summary));

  if (group->description != NULL)
    g_string_append_printf (text, "\n\n%s", _(group->description));

  return g_string_free (text, FALSE);
}

static gboolean
run_command (KilnNodeContext        *ctx,
             const KilnNodeCommand  *command,
             const char             *path,
             int                     argc,
             char                  **argv,
             GError                **error);

static gboolean
run_group (KilnNodeContext        *ctx,
           const KilnNodeCommand  *group,
           const char             *path,
           int                     argc,
           char                  **argv,
           GError                **error)
{
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *description = NULL;
  g_autofree char *subcommand_path = NULL;
  const KilnNodeCommand *subcommand = NULL;
  gboolean ok;

  set_command_path (ctx, path);

  context = g_option_context_new (_("COMMAND"));
  /* Stop at the command's name: what follows is the command's to parse. */
  g_option_context_set_strict_posix (context, TRUE);
  g_option_context_set_summary (context, _(group->summary));
  description = describe_subcommands (group);
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  g_set_prgname (path);
  ok = g_option_context_parse (context, &argc, &argv, error);
  g_set_prgname (PROGRAM_NAME);
  if (!ok)
    return FALSE;

  if (version)
    {
      g_print ("%s %s\n", PROGRAM_NAME, PACKAGE_VERSION);
      return TRUE;
    }

  if (argc < 2)
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("a command is needed; see “%s --help”"), path);
      return FALSE;
    }

  for (guint i = 0; group->subcommands[i] != NULL; i++)
    {
      if (g_str_equal (group->subcommands[i]->name, argv[1]))
        {
          subcommand = group->subcommands[i];
          break;
        }
    }

  if (subcommand == NULL)
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("unknown command “%s”; see “%s --help”"), argv[1], path);
      return FALSE;
    }

  subcommand_path = g_strdup_printf ("%s %s", path, subcommand->name);

  return run_command (ctx, subcommand, subcommand_path, argc - 1, argv + 1, error);
}

static gboolean
run_command (KilnNodeContext        *ctx,
             const KilnNodeCommand  *command,
             const char             *path,
             int                     argc,
             char                  **argv,
             GError                **error)
{
  if (command->subcommands != NULL)
    return run_group (ctx, command, path, argc, argv, error);

  g_assert (command->run != NULL);

  ctx->command = command;
  set_command_path (ctx, path);

  return command->run (ctx, argc, argv, error);
}

static gboolean
is_usage_error (const GError *error)
{
  return error->domain == G_OPTION_ERROR ||
         g_error_matches (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE);
}

/* One line on stderr, whatever the message holds. */
static void
print_error (KilnNodeContext *ctx,
             const GError    *error)
{
  g_autofree char *message = g_strdup (error->message);

  g_strchomp (message);
  g_strdelimit (message, "\r\n", ' ');

  if (error->domain == G_OPTION_ERROR && ctx->command_path != NULL)
    g_printerr ("%s: %s; see “%s --help”\n", PROGRAM_NAME, message, ctx->command_path);
  else
    g_printerr ("%s: %s\n", PROGRAM_NAME, message);
}

int
kiln_node_cli_run (int    argc,
                   char **argv)
{
  g_auto(KilnNodeContext) ctx = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_set_prgname (PROGRAM_NAME);

  ok = run_command (&ctx, &root_command, PROGRAM_NAME, argc, argv, &error);

  if (fflush (stdout) != 0 && ok)
    {
      int saved_errno = errno;

      g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("cannot write the output: %s"), g_strerror (saved_errno));
      ok = FALSE;
    }

  if (!ok)
    {
      print_error (&ctx, error);
      return is_usage_error (error) ? KILN_NODE_EXIT_USAGE : KILN_NODE_EXIT_FAILURE;
    }

  return EXIT_SUCCESS;
}
