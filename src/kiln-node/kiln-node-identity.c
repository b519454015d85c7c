/* kiln-node-identity.c: kiln-node identity create|show|import|export
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <unistd.h>

#include <glib/gi18n.h>

#include "kiln-node-account.h"
#include "kiln-node-cli.h"
#include "kiln-node-secret.h"

#define LIGHT_OPTION(flag)                                                              \
  { "light", 0, 0, G_OPTION_ARG_NONE, (flag),                                           \
    N_("Use light scrypt (N = 4096): fast but weak, for tests and throwaway accounts"), \
    NULL }

#define FORCE_OPTION(flag, what)                                                        \
  { "force", 0, 0, G_OPTION_ARG_NONE, (flag), (what), NULL }

static guint64
scrypt_n_for (gboolean light)
{
  return light ? KILN_KEYSTORE_SCRYPT_N_LIGHT : KILN_KEYSTORE_SCRYPT_N_STANDARD;
}

static void
print_account (KilnNodeContext *ctx,
               const char      *address,
               const char      *keystore_path)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *display = NULL;

  if (!ctx->json)
    {
      g_print ("%s\n", address);
      return;
    }

  display = kiln_node_display_path (keystore_path);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, address);
  json_builder_set_member_name (builder, "keystore");
  json_builder_add_string_value (builder, display);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  kiln_node_print_json (root);
}

/* Writes @key encrypted with @password to @path, then prints the account. */
static gboolean
save_account (KilnNodeContext  *ctx,
              const char       *path,
              KilnKey          *key,
              const char       *password,
              gboolean          light,
              gboolean          replace,
              GError          **error)
{
  if (!kiln_node_account_save (path, key, password, scrypt_n_for (light), replace, error))
    return FALSE;

  print_account (ctx, kiln_key_get_address_string (key), path);

  return TRUE;
}

static gboolean
identity_create (KilnNodeContext  *ctx,
                 int               argc,
                 char            **argv,
                 GError          **error)
{
  gboolean light = FALSE;
  const GOptionEntry entries[] = {
    LIGHT_OPTION (&light),
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(KilnNodeSecret) password = NULL;
  g_autoptr(KilnKey) key = NULL;
  g_autofree char *path = NULL;

  if (!kiln_node_context_parse_options (ctx, entries, NULL, &argc, &argv, error))
    return FALSE;

  path = kiln_node_context_get_keystore (ctx);
  if (!kiln_node_account_check_absent (path,
                                       _("Kiln never overwrites a keystore: choose another "
                                         "--data-dir or --keystore"),
                                       error))
    return FALSE;

  password = kiln_node_password_get (ctx->password_file, "--password-file",
                                     KILN_NODE_PASSWORD_NEW, error);
  if (password == NULL)
    return FALSE;

  key = kiln_key_generate (error);
  if (key == NULL)
    return FALSE;

  if (ctx->keystore == NULL && !kiln_node_context_ensure_data_dir (ctx, error))
    return FALSE;

  return save_account (ctx, path, key, password, light, FALSE, error);
}

static gboolean
identity_show (KilnNodeContext  *ctx,
               int               argc,
               char            **argv,
               GError          **error)
{
  g_autoptr(GError) peek_error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *document = NULL;
  g_autofree char *recorded = NULL;
  g_autofree char *display = NULL;
  gsize length = 0;

  if (!kiln_node_context_parse_options (ctx, NULL, NULL, &argc, &argv, error))
    return FALSE;

  path = kiln_node_context_get_keystore (ctx);
  display = kiln_node_display_path (path);

  document = kiln_node_account_read (path, &length, error);
  if (document == NULL)
    return FALSE;

  /* EIP-55, or NULL when the document records no address (then only the key tells). */
  recorded = kiln_keystore_peek_address (document, length, &peek_error);

  if (ctx->password_file != NULL)
    {
      g_autoptr(KilnNodeSecret) password = NULL;
      g_autoptr(KilnKey) key = NULL;
      const char *address;

      password = kiln_node_password_get (ctx->password_file, "--password-file",
                                         KILN_NODE_PASSWORD_UNLOCK, error);
      if (password == NULL)
        return FALSE;

      key = kiln_node_account_decrypt (path, document, length, password, error);
      if (key == NULL)
        return FALSE;

      address = kiln_key_get_address_string (key);
      if (recorded != NULL && !g_str_equal (recorded, address))
        {
          g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT,
                       _("the keystore “%s” records the address %s but holds the key of %s"),
                       display, recorded, address);
          return FALSE;
        }

      print_account (ctx, address, path);
      return TRUE;
    }

  if (recorded == NULL)
    {
      g_set_error (error, peek_error->domain, peek_error->code,
                   _("cannot show the account in “%s”: %s"), display, peek_error->message);
      return FALSE;
    }

  print_account (ctx, recorded, path);

  return TRUE;
}

static KilnNodeSecret *
read_key_hex (const char  *hex_file,
              GError     **error)
{
  if (hex_file != NULL)
    return kiln_node_secret_read_file (hex_file, _("the key file"), error);

  if (kiln_node_stdin_is_terminal ())
    return kiln_node_secret_prompt (_("Private key (64 hex digits, not shown): "), error);

  return kiln_node_secret_read_fd (STDIN_FILENO, _("the key on standard input"), error);
}

static KilnKey *
key_from_hex (const char  *hex_file,
              GError     **error)
{
  g_autoptr(KilnNodeSecret) hex = NULL;
  g_autoptr(GError) local_error = NULL;
  KilnKey *key;

  hex = read_key_hex (hex_file, error);
  if (hex == NULL)
    return NULL;

  key = kiln_key_new_from_hex (hex, &local_error);
  if (key == NULL)
    {
      /* The engine's message describes the text without quoting any of it. */
      if (hex_file != NULL)
        {
          g_autofree char *display = kiln_node_display_path (hex_file);

          g_set_error (error, local_error->domain, local_error->code,
                       _("the key file “%s” does not hold a private key: %s"),
                       display, local_error->message);
        }
      else
        {
          g_set_error (error, local_error->domain, local_error->code,
                       _("standard input does not hold a private key: %s"),
                       local_error->message);
        }
      return NULL;
    }

  return key;
}

static gboolean
identity_import (KilnNodeContext  *ctx,
                 int               argc,
                 char            **argv,
                 GError          **error)
{
  g_autofree char *hex_file = NULL;
  gboolean hex_stdin = FALSE;
  gboolean force = FALSE;
  gboolean light = FALSE;
  const GOptionEntry entries[] = {
    { "hex-file", 0, 0, G_OPTION_ARG_FILENAME, &hex_file,
      N_("Import the private key written as 64 hex digits in FILE"), N_("FILE") },
    { "hex-stdin", 0, 0, G_OPTION_ARG_NONE, &hex_stdin,
      N_("Import the private key written as 64 hex digits on standard input"), NULL },
    FORCE_OPTION (&force, N_("Replace the data folder’s keystore if there is one")),
    LIGHT_OPTION (&light),
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(KilnNodeSecret) password = NULL;
  g_autoptr(KilnKey) key = NULL;
  g_autofree char *path = NULL;
  guint n_sources;

  if (!kiln_node_context_parse_options (ctx, entries, NULL, &argc, &argv, error))
    return FALSE;

  n_sources = (ctx->keystore != NULL) + (hex_file != NULL) + (hex_stdin != FALSE);
  if (n_sources != 1)
    {
      g_set_error_literal (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                           _("say what to import with one of --keystore FILE, --hex-file FILE "
                             "or --hex-stdin"));
      return FALSE;
    }

  if (hex_file != NULL && hex_file[0] == '\0')
    {
      g_set_error_literal (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                           _("--hex-file needs a value, not an empty string"));
      return FALSE;
    }

  /* The account always lands in the data folder; --keystore names what to import. */
  path = kiln_node_context_get_data_keystore (ctx);
  if (!force &&
      !kiln_node_account_check_absent (path,
                                       _("pass --force to replace it (the account in it is "
                                         "lost unless it has a backup)"),
                                       error))
    return FALSE;

  if (ctx->keystore != NULL)
    {
      /* Opening the keystore checks the password; the key is then encrypted again, with
       * the same password, so that the stored file has Kiln's parameters and records its
       * address. */
      key = kiln_node_account_unlock (ctx, &password, error);
      if (key == NULL)
        return FALSE;
    }
  else
    {
      key = key_from_hex (hex_file, error);
      if (key == NULL)
        return FALSE;

      password = kiln_node_password_get (ctx->password_file, "--password-file",
                                         KILN_NODE_PASSWORD_NEW, error);
      if (password == NULL)
        return FALSE;
    }

  if (!kiln_node_context_ensure_data_dir (ctx, error))
    return FALSE;

  return save_account (ctx, path, key, password, light, force, error);
}

static gboolean
identity_export (KilnNodeContext  *ctx,
                 int               argc,
                 char            **argv,
                 GError          **error)
{
  g_autofree char *out = NULL;
  g_autofree char *new_password_file = NULL;
  gboolean force = FALSE;
  gboolean light = FALSE;
  const GOptionEntry entries[] = {
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out,
      N_("Write the keystore to FILE"), N_("FILE") },
    { "new-password-file", 0, 0, G_OPTION_ARG_FILENAME, &new_password_file,
      N_("Encrypt the written keystore with the password in FILE (default: the same "
         "password)"), N_("FILE") },
    FORCE_OPTION (&force, N_("Replace FILE if it exists")),
    LIGHT_OPTION (&light),
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(KilnNodeSecret) password = NULL;
  g_autoptr(KilnNodeSecret) new_password = NULL;
  g_autoptr(KilnKey) key = NULL;

  if (!kiln_node_context_parse_options (ctx, entries, NULL, &argc, &argv, error))
    return FALSE;

  if (out == NULL || out[0] == '\0')
    {
      g_set_error_literal (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                           _("say where to write the keystore with --out FILE"));
      return FALSE;
    }

  if (new_password_file != NULL && new_password_file[0] == '\0')
    {
      g_set_error_literal (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                           _("--new-password-file needs a value, not an empty string"));
      return FALSE;
    }

  if (!force && !kiln_node_account_check_absent (out, _("pass --force to replace it"), error))
    return FALSE;

  /* Read before the slow unlock, so that a mistake here is reported at once. */
  if (new_password_file != NULL)
    {
      new_password = kiln_node_password_get (new_password_file, "--new-password-file",
                                             KILN_NODE_PASSWORD_NEW, error);
      if (new_password == NULL)
        return FALSE;
    }

  key = kiln_node_account_unlock (ctx, &password, error);
  if (key == NULL)
    return FALSE;

  return save_account (ctx, out, key, new_password != NULL ? new_password : password,
                       light, force, error);
}

static const KilnNodeCommand identity_create_command = {
  "create",
  N_("Make a new account and write it to a keystore file"),
  N_("Makes a new key from the operating system’s random source and writes it,\n"
     "encrypted with the password (scrypt, N = 262144), to --keystore FILE or else\n"
     "to DIR/keystore.json. An existing keystore is never overwritten.\n"
     "Prints the account’s address."),
  identity_create,
  NULL,
};

static const KilnNodeCommand identity_show_command = {
  "show",
  N_("Print the account’s address"),
  N_("Prints the address recorded in the keystore; no password is needed. With\n"
     "--password-file the keystore is also opened, which checks the password and\n"
     "that the key matches the recorded address."),
  identity_show,
  NULL,
};

static const KilnNodeCommand identity_import_command = {
  "import",
  N_("Store an existing account in the data folder"),
  N_("With --keystore FILE, imports a keystore V3 file (scrypt or PBKDF2) opened\n"
     "with the password of --password-file; the file itself is left as it is.\n"
     "With --hex-file FILE or --hex-stdin, imports a private key written as 64 hex\n"
     "digits, read from a file or standard input (never from the command line,\n"
     "where other users could see it), to be encrypted with the password of\n"
     "--password-file.\n"
     "\n"
     "The account is written to DIR/keystore.json, encrypted anew with that\n"
     "password at standard strength (scrypt, N = 262144), so that the stored file\n"
     "records its address. An existing DIR/keystore.json is replaced only with\n"
     "--force. Prints the account’s address."),
  identity_import,
  NULL,
};

static const KilnNodeCommand identity_export_command = {
  "export",
  N_("Write the account to a keystore file, for a backup or a wallet"),
  N_("Opens the account (--keystore FILE or DIR/keystore.json) with the password\n"
     "of --password-file and writes it to --out FILE as a keystore V3 file, readable\n"
     "only by you (mode 0600), encrypted with the password of --new-password-file\n"
     "or else with the same password. An existing FILE is replaced only with\n"
     "--force.\n"
     "\n"
     "Exporting the private key as raw hex is deliberately not offered: a password-\n"
     "protected keystore file is the only form in which the key leaves Kiln."),
  identity_export,
  NULL,
};

static const KilnNodeCommand *const identity_commands[] = {
  &identity_create_command,
  &identity_show_command,
  &identity_import_command,
  &identity_export_command,
  NULL
};

const KilnNodeCommand kiln_node_identity_command = {
  "identity",
  N_("Make, show, import and export the node’s account"),
  N_("The account is one secp256k1 key: the node’s identity on the network and its\n"
     "Ethereum account. Headless, it is kept in a keystore V3 file encrypted with a\n"
     "password. Run “kiln-node identity COMMAND --help” for a command’s options."),
  NULL,
  identity_commands,
};
