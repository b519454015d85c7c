/* kiln-chain.c: the chain Kiln pays on: presets and custom endpoints
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <signal.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "kiln-chain.h"

/* anvil's deterministic addresses: the deployer's (dev account 0) first two contracts. */
#define DEVNET_RPC_URL    "http://127.0.0.1:8545"
#define DEVNET_TOKEN      "0x5FbDB2315678afecb367f032d93F642f64180aa3"
#define DEVNET_BATCH      "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"

/* Public endpoints run by Allnodes (publicnode.com), free and without an API key. */
#define SEPOLIA_CHAIN_ID  G_GUINT64_CONSTANT (11155111)
#define SEPOLIA_RPC_URL   "https://ethereum-sepolia-rpc.publicnode.com"
#define MAINNET_RPC_URL   "https://ethereum-rpc.publicnode.com"
#define POLYGON_RPC_URL   "https://polygon-bor-rpc.publicnode.com"

/* The Golem Network Token as first deployed (2016). */
#define MAINNET_TOKEN     "0xa74476443119A942dE498590Fe1f2454d7D4aC0d"
/* GLM on Polygon PoS, as configured by Golem's own payment driver (yagna). */
#define POLYGON_TOKEN     "0x0B220b82F3eA3B7F6d9A1D8ab58930C064A2b5Bf"

struct _KilnChain
{
  GObject          parent_instance;

  KilnChainPreset  preset;
  char            *name;
  char            *rpc_url;
  guint64          chain_id;
  gboolean         has_token;
  KilnAddress      token;
  const char      *token_symbol;
  const char      *native_symbol;
  gboolean         has_batch;
  KilnAddress      batch;
  const char      *explorer;       /* prefix of a transaction's page, or NULL */
};

G_DEFINE_FINAL_TYPE (KilnChain, kiln_chain, G_TYPE_OBJECT)

static void
kiln_chain_finalize (GObject *object)
{
  KilnChain *self = KILN_CHAIN (object);

  g_free (self->name);
  g_free (self->rpc_url);

  G_OBJECT_CLASS (kiln_chain_parent_class)->finalize (object);
}

static void
kiln_chain_class_init (KilnChainClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kiln_chain_finalize;
}

static void
kiln_chain_init (KilnChain *self)
{
  self->token_symbol = "GNT";
  self->native_symbol = "ETH";
}

/* Checking what people type */

static gboolean
check_rpc_url (const char  *url,
               GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (url == NULL || *url == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("No Ethereum node URL is set: give the RPC endpoint’s URL"));
      return FALSE;
    }

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an Ethereum node URL: it must start with http:// or "
                     "https:// and name a host"), url);
      return FALSE;
    }

  return TRUE;
}

static gboolean
parse_contract (const char   *text,
                const char   *what,
                KilnAddress  *out,
                GError      **error)
{
  g_autoptr(GError) local_error = NULL;

  if (kiln_address_parse (out, text, &local_error))
    return TRUE;

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("The %s address “%s” is not valid: %s"), what, text, local_error->message);
  return FALSE;
}

/* The devnet's state file */

char *
kiln_chain_get_devnet_state_path (void)
{
  const char *path = g_getenv ("KILN_DEVNET_STATE");

  if (path != NULL && *path != '\0')
    return g_strdup (path);

  return g_build_filename (g_get_user_runtime_dir (), "kiln", "devnet.json", NULL);
}

/* A state file left by a devnet that was killed names a process that is gone. */
static gboolean
devnet_process_gone (JsonObject *object)
{
  gint64 pid = json_object_get_int_member_with_default (object, "pid", 0);

  return pid > 0 && pid <= G_MAXINT && kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
}

static gboolean
read_devnet_state (KilnChain  *self,
                   GError    **error)
{
  g_autofree char *path = kiln_chain_get_devnet_state_path ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonObject *object;
  const char *url, *token, *batch;
  gint64 chain_id;

  if (!json_parser_load_from_mapped_file (parser, path, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Cannot read the devnet’s state file %s: %s"), path, local_error->message);
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    goto invalid;
  object = json_node_get_object (json_parser_get_root (parser));
  if (devnet_process_gone (object))
    {
      g_debug ("Ignoring %s: the devnet that wrote it has stopped", path);
      return TRUE;
    }

  url = json_object_get_string_member_with_default (object, "rpc_url", NULL);
  token = json_object_get_string_member_with_default (object, "token", NULL);
  batch = json_object_get_string_member_with_default (object, "batch_pay", NULL);
  chain_id = json_object_get_int_member_with_default (object, "chain_id", 0);
  if (url == NULL || token == NULL || batch == NULL || !check_rpc_url (url, NULL) ||
      !kiln_address_parse (&self->token, token, NULL) ||
      !kiln_address_parse (&self->batch, batch, NULL))
    goto invalid;
  if (chain_id != KILN_DEVNET_CHAIN_ID)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The devnet’s state file %s names chain %" PRId64 ", not the "
                     "devnet’s chain %d"), path, chain_id, KILN_DEVNET_CHAIN_ID);
      return FALSE;
    }

  g_free (self->rpc_url);
  self->rpc_url = g_strdup (url);
  return TRUE;

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The devnet’s state file %s is damaged: it lacks a valid rpc_url, token or "
                 "batch_pay"), path);
  return FALSE;
}

/* Presets */

static void
set_fixed_address (KilnAddress *out,
                   const char  *text)
{
  gboolean ok = kiln_address_parse (out, text, NULL);

  g_assert (ok);
}

static KilnChain *
chain_new_preset (KilnChainPreset   preset,
                  gboolean          token_given,
                  GError          **error)
{
  g_autoptr(KilnChain) self = g_object_new (KILN_TYPE_CHAIN, NULL);

  self->preset = preset;
  self->has_token = TRUE;

  switch (preset)
    {
    case KILN_CHAIN_PRESET_DEVNET:
      self->name = g_strdup (_("Local devnet"));
      self->chain_id = KILN_DEVNET_CHAIN_ID;
      self->rpc_url = g_strdup (DEVNET_RPC_URL);
      set_fixed_address (&self->token, DEVNET_TOKEN);
      set_fixed_address (&self->batch, DEVNET_BATCH);
      self->has_batch = TRUE;
      if (!read_devnet_state (self, error))
        return NULL;
      break;

    case KILN_CHAIN_PRESET_SEPOLIA:
      /* Golem runs its test token (tGLM) on other test networks; no GNT test token on
       * Sepolia is known, and guessing an address could send tokens to a stranger. */
      if (!token_given)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Kiln knows no GNT test token on Sepolia: set the address "
                                 "of the token contract to use (--token, or the custom token "
                                 "in Preferences)"));
          return NULL;
        }
      self->name = g_strdup (_("Sepolia test network"));
      self->chain_id = SEPOLIA_CHAIN_ID;
      self->rpc_url = g_strdup (SEPOLIA_RPC_URL);
      self->has_token = FALSE;
      self->explorer = "https://sepolia.etherscan.io/tx/";
      break;

    case KILN_CHAIN_PRESET_MAINNET:
      self->name = g_strdup (_("Ethereum mainnet"));
      self->chain_id = 1;
      self->rpc_url = g_strdup (MAINNET_RPC_URL);
      set_fixed_address (&self->token, MAINNET_TOKEN);
      self->explorer = "https://etherscan.io/tx/";
      break;

    case KILN_CHAIN_PRESET_POLYGON:
      self->name = g_strdup (_("Polygon"));
      self->chain_id = 137;
      self->rpc_url = g_strdup (POLYGON_RPC_URL);
      set_fixed_address (&self->token, POLYGON_TOKEN);
      self->token_symbol = "GLM";
      self->native_symbol = "POL";
      self->explorer = "https://polygonscan.com/tx/";
      break;

    case KILN_CHAIN_PRESET_CUSTOM:
    default:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("A custom network needs the URL of its Ethereum node and the "
                             "address of its token contract"));
      return NULL;
    }

  return g_steal_pointer (&self);
}

KilnChain *
kiln_chain_new_preset (KilnChainPreset   preset,
                       GError          **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return chain_new_preset (preset, FALSE, error);
}

KilnChain *
kiln_chain_new_custom (const char  *rpc_url,
                       guint64      chain_id,
                       const char  *token_address,
                       const char  *batch_contract,
                       GError     **error)
{
  g_autoptr(KilnChain) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_rpc_url (rpc_url, error))
    return NULL;
  if (token_address == NULL || *token_address == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("A custom network needs the address of its token contract"));
      return NULL;
    }

  self = g_object_new (KILN_TYPE_CHAIN, NULL);
  self->preset = KILN_CHAIN_PRESET_CUSTOM;
  self->name = g_strdup (_("Custom network"));
  self->rpc_url = g_strdup (rpc_url);
  self->chain_id = chain_id;
  if (!parse_contract (token_address, _("token"), &self->token, error))
    return NULL;
  self->has_token = TRUE;
  if (batch_contract != NULL && *batch_contract != '\0')
    {
      if (!parse_contract (batch_contract, _("batch payment contract"), &self->batch, error))
        return NULL;
      self->has_batch = TRUE;
    }

  return g_steal_pointer (&self);
}

KilnChain *
kiln_chain_new_with_overrides (KilnChainPreset   preset,
                               const char       *rpc_url,
                               guint64           chain_id,
                               const char       *token_address,
                               GError          **error)
{
  g_autoptr(KilnChain) self = NULL;
  gboolean has_url = rpc_url != NULL && *rpc_url != '\0';
  gboolean has_token = token_address != NULL && *token_address != '\0';

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (preset == KILN_CHAIN_PRESET_CUSTOM)
    return kiln_chain_new_custom (rpc_url, chain_id, token_address, NULL, error);

  self = chain_new_preset (preset, has_token, error);
  if (self == NULL)
    return NULL;

  if (has_url)
    {
      if (!check_rpc_url (rpc_url, error))
        return NULL;
      g_free (self->rpc_url);
      self->rpc_url = g_strdup (rpc_url);
    }
  if (has_token)
    {
      if (!parse_contract (token_address, _("token"), &self->token, error))
        return NULL;
      self->has_token = TRUE;
    }
  /* Another chain than the preset's: its contracts and explorer belong to the preset's. */
  if (chain_id != 0 && chain_id != self->chain_id)
    {
      self->chain_id = chain_id;
      self->has_batch = FALSE;
      self->explorer = NULL;
    }

  return g_steal_pointer (&self);
}

/* Getters */

KilnChainPreset
kiln_chain_get_preset (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), KILN_CHAIN_PRESET_CUSTOM);

  return self->preset;
}

const char *
kiln_chain_get_name (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), NULL);

  return self->name;
}

const char *
kiln_chain_get_rpc_url (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), NULL);

  return self->rpc_url;
}

guint64
kiln_chain_get_chain_id (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), 0);

  return self->chain_id;
}

const KilnAddress *
kiln_chain_get_token (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), NULL);

  return self->has_token ? &self->token : NULL;
}

const char *
kiln_chain_get_token_symbol (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), NULL);

  return self->token_symbol;
}

guint
kiln_chain_get_token_decimals (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), 18);

  return 18;
}

const char *
kiln_chain_get_native_symbol (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), NULL);

  return self->native_symbol;
}

const KilnAddress *
kiln_chain_get_batch_contract (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), NULL);

  return self->has_batch ? &self->batch : NULL;
}

char *
kiln_chain_dup_explorer_tx_url (KilnChain  *self,
                                const char *tx_hash)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), NULL);
  g_return_val_if_fail (tx_hash != NULL, NULL);

  if (self->explorer == NULL)
    return NULL;

  return g_strconcat (self->explorer, tx_hash, NULL);
}

gboolean
kiln_chain_is_devnet (KilnChain *self)
{
  g_return_val_if_fail (KILN_IS_CHAIN (self), FALSE);

  return self->chain_id == KILN_DEVNET_CHAIN_ID;
}
