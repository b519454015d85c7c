/* kiln-node-chain.c: the chain, the database and the wallet, made from the shared options
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <signal.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "kiln-crypto.h"
#include "kiln-rpc-client.h"

#include "kiln-node-account.h"
#include "kiln-node-chain.h"

/* Waiting for asynchronous calls */

void
kiln_node_async_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  KilnNodeAsync *call = user_data;

  g_assert (call->result == NULL);

  call->result = g_object_ref (result);
  g_main_context_wakeup (g_main_context_get_thread_default ());
}

GAsyncResult *
kiln_node_async_wait (KilnNodeAsync *call)
{
  g_return_val_if_fail (call != NULL, NULL);

  while (call->result == NULL)
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);

  return call->result;
}

void
kiln_node_async_clear (KilnNodeAsync *call)
{
  g_clear_object (&call->result);
}

KilnNodeAsync *
kiln_node_async_new (void)
{
  return g_rc_box_new0 (KilnNodeAsync);
}

KilnNodeAsync *
kiln_node_async_ref (KilnNodeAsync *call)
{
  return g_rc_box_acquire (call);
}

void
kiln_node_async_unref (KilnNodeAsync *call)
{
  g_rc_box_release_full (call, (GDestroyNotify) kiln_node_async_clear);
}

void
kiln_node_async_done_shared (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  KilnNodeAsync *call = user_data;

  kiln_node_async_done (source, result, call);
  kiln_node_async_unref (call);
}

static void
on_cancelled_wakeup (GCancellable *cancellable,
                     gpointer      user_data)
{
  g_main_context_wakeup (user_data);
}

GAsyncResult *
kiln_node_async_wait_cancellable (KilnNodeAsync *call,
                                  GCancellable  *cancellable)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gulong handler;

  g_return_val_if_fail (call != NULL, NULL);

  handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled_wakeup), context, NULL);
  while (call->result == NULL && !g_cancellable_is_cancelled (cancellable))
    g_main_context_iteration (context, TRUE);
  g_cancellable_disconnect (cancellable, handler);

  return call->result;
}

char *
kiln_node_format_tx_hash (const guint8 hash[32])
{
  g_autofree char *hex = kiln_hex_encode (hash, 32);

  return g_strconcat ("0x", hex, NULL);
}

/* The chain */

static const struct
{
  const char      *name;
  KilnChainPreset  preset;
} presets[] = {
  { "devnet", KILN_CHAIN_PRESET_DEVNET },
  { "sepolia", KILN_CHAIN_PRESET_SEPOLIA },
  { "mainnet", KILN_CHAIN_PRESET_MAINNET },
  { "polygon", KILN_CHAIN_PRESET_POLYGON },
};

static gboolean
preset_from_name (const char       *name,
                  KilnChainPreset  *out,
                  GError          **error)
{
  if (name == NULL)
    {
      *out = KILN_CHAIN_PRESET_DEVNET;
      return TRUE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      if (g_ascii_strcasecmp (name, presets[i].name) == 0)
        {
          *out = presets[i].preset;
          return TRUE;
        }
    }

  g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
               _("unknown network “%s”: --network takes devnet, sepolia, mainnet or polygon"),
               name);
  return FALSE;
}

static gboolean
is_http_url (const char *text)
{
  g_autoptr(GUri) uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;

  return scheme != NULL && host != NULL && host[0] != '\0' &&
         (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0);
}

KilnChain *
kiln_node_chain_new (KilnNodeContext  *ctx,
                     GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  KilnChainPreset preset;
  KilnChain *chain;

  g_return_val_if_fail (ctx != NULL, NULL);

  if (!preset_from_name (ctx->network, &preset, error))
    return NULL;

  if (ctx->token != NULL)
    {
      KilnAddress token;

      if (!kiln_address_parse (&token, ctx->token, &local_error))
        {
          g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                       _("--token “%s” is not a contract address: %s"),
                       ctx->token, local_error->message);
          return NULL;
        }
    }

  if (ctx->rpc_url != NULL && !is_http_url (ctx->rpc_url))
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("--rpc “%s” is not an http:// or https:// URL"), ctx->rpc_url);
      return NULL;
    }

  chain = kiln_chain_new_with_overrides (preset, ctx->rpc_url, ctx->chain_id, ctx->token,
                                         &local_error);
  if (chain == NULL)
    {
      /* What the options leave out or get wrong, such as a token for a network without a
       * known one. */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
        g_set_error_literal (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                             local_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return chain;
}

/* Interruptions */

static const int handled_signals[] = { SIGINT, SIGTERM, SIGHUP };

G_STATIC_ASSERT (G_N_ELEMENTS (handled_signals) ==
                 G_SIZEOF_MEMBER (KilnNodeWallet, signal_sources) / sizeof (guint));

static gboolean
on_signal (gpointer user_data)
{
  KilnNodeWallet *self = user_data;

  g_cancellable_cancel (self->cancellable);

  /* Without a handler left, a second signal ends the program at once. */
  kiln_node_wallet_catch_signals (self, FALSE);

  return G_SOURCE_REMOVE;
}

void
kiln_node_wallet_catch_signals (KilnNodeWallet *self,
                                gboolean        catch)
{
  g_return_if_fail (self != NULL);

  for (guint i = 0; i < G_N_ELEMENTS (handled_signals); i++)
    {
      /* Removing the last source of a signal gives it back its default action. */
      if (!catch)
        g_clear_handle_id (&self->signal_sources[i], g_source_remove);
      else if (self->signal_sources[i] == 0 && !g_cancellable_is_cancelled (self->cancellable))
        self->signal_sources[i] = g_unix_signal_add (handled_signals[i], on_signal, self);
    }
}

/* Payments left unfinished by an earlier run */

static char *
describe_latest_hash (KilnPayment *payment)
{
  const KilnPaymentAttempt *attempt = kiln_payment_get_latest_attempt (payment);

  if (attempt == NULL)
    return g_strdup ("");

  return kiln_node_format_tx_hash (attempt->tx_hash);
}

/* Says on stderr what starting the wallet did to @before, a payment an earlier run left
 * unfinished. */
static void
report_resumed (KilnNodeWallet *self,
                KilnPayment    *before)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnPayment) now = NULL;
  g_autofree char *hash = NULL;
  KilnPaymentState was;
  gint64 id = kiln_payment_get_id (before);

  now = kiln_payment_ledger_get (self->ledger, id, NULL, &error);
  if (now == NULL)
    {
      g_printerr (_("Cannot read payment #%" PRId64 " back: %s\n"), id, error->message);
      return;
    }

  was = kiln_payment_get_state (before);
  hash = describe_latest_hash (now);

  switch (kiln_payment_get_state (now))
    {
    case KILN_PAYMENT_STATE_BROADCAST:
    case KILN_PAYMENT_STATE_CONFIRMED:
      if (was == KILN_PAYMENT_STATE_SIGNED)
        g_printerr (_("Finished payment #%" PRId64 " left unsent by an earlier run "
                      "(transaction %s)\n"), id, hash);
      else if (kiln_payment_get_state (now) == KILN_PAYMENT_STATE_CONFIRMED)
        g_printerr (_("Payment #%" PRId64 " sent by an earlier run is confirmed "
                      "(transaction %s)\n"), id, hash);
      else
        g_printerr (_("Payment #%" PRId64 " sent by an earlier run is not confirmed "
                      "yet (transaction %s)\n"), id, hash);
      break;

    case KILN_PAYMENT_STATE_FAILED:
      g_printerr (_("Payment #%" PRId64 " left unfinished by an earlier run failed: "
                    "%s\n"), id,
                  kiln_payment_get_error (now) != NULL ? kiln_payment_get_error (now)
                                                       : _("no reason recorded"));
      break;

    /* One whole sentence per state, so that translators never have to fit a state's name
     * into a sentence. */
    case KILN_PAYMENT_STATE_PENDING:
      g_printerr (_("Payment #%" PRId64 " left unfinished by an earlier run is still "
                    "waiting to be signed\n"), id);
      break;

    case KILN_PAYMENT_STATE_SIGNED:
      g_printerr (_("Payment #%" PRId64 " left unfinished by an earlier run is signed but "
                    "still not sent\n"), id);
      break;

    default:
      g_printerr (_("Payment #%" PRId64 " left unfinished by an earlier run is still not "
                    "finished\n"), id);
      break;
    }
}

static gboolean
start_wallet (KilnNodeWallet    *self,
              const KilnAddress *from,
              GError           **error)
{
  g_auto(KilnNodeAsync) call = { 0 };
  g_autoptr(GPtrArray) before = NULL;

  /* Signed and broadcast payments: those whose transaction may be on the network, which
   * starting finishes. Pending ones signed nothing and stay as they are. */
  before = kiln_payment_ledger_list_unfinished (self->ledger,
                                                kiln_chain_get_chain_id (self->chain), from,
                                                NULL, error);
  if (before == NULL)
    return FALSE;

  kiln_wallet_start_async (self->wallet, self->cancellable, kiln_node_async_done, &call);
  if (!kiln_wallet_start_finish (self->wallet, kiln_node_async_wait (&call), error))
    return FALSE;

  for (guint i = 0; i < before->len; i++)
    report_resumed (self, g_ptr_array_index (before, i));

  return TRUE;
}

KilnNodeWallet *
kiln_node_wallet_open (KilnNodeContext  *ctx,
                       KilnChain        *chain,
                       GError          **error)
{
  g_autoptr(KilnNodeWallet) self = NULL;
  g_autoptr(KilnChain) owned_chain = chain;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KilnKey) key = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *db_path = NULL;
  KilnAddress from;

  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (KILN_IS_CHAIN (chain), NULL);

  key = kiln_node_account_unlock (ctx, NULL, error);
  if (key == NULL)
    return NULL;
  from = *kiln_key_get_address (key);

  if (!kiln_node_context_ensure_data_dir (ctx, error))
    return NULL;

  self = g_new0 (KilnNodeWallet, 1);
  self->chain = g_steal_pointer (&owned_chain);
  self->cancellable = g_cancellable_new ();

  data_dir = kiln_node_context_get_data_dir (ctx);
  db_path = g_build_filename (data_dir, KILN_STORE_FILE_NAME, NULL);
  self->store = kiln_store_new (db_path, NULL, error);
  if (self->store == NULL)
    return NULL;

  self->ledger = kiln_payment_ledger_new (self->store);
  self->wallet = kiln_wallet_new (self->chain, key, self->ledger);
  /* The wallet keeps the key as long as it needs it. */
  g_clear_object (&key);

  kiln_node_wallet_catch_signals (self, TRUE);

  if (!start_wallet (self, &from, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("interrupted while connecting to the chain"));
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&self);
}

void
kiln_node_wallet_free (KilnNodeWallet *self)
{
  if (self == NULL)
    return;

  kiln_node_wallet_catch_signals (self, FALSE);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->wallet);
  g_clear_object (&self->ledger);
  g_clear_object (&self->store);
  g_clear_object (&self->chain);
  g_clear_object (&self->cancellable);
  g_free (self);
}
