/* kiln-session-chain.c: the chain from the settings, the wallet for the account, and devnet
 * top-ups
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The chain is built from the network preset (or the custom endpoint); a wallet is connected
 * for the account once the chain and the database are there. On the devnet, whose address
 * and contracts come from the state file the devnet writes, the chain is rebuilt when that
 * file changes, so that starting the devnet after Kiln works.
 */

#include "config.h"

#include "kiln-session-private.h"

/* What the devnet gives when asked: enough to try everything, and in round numbers. */
#define DEVNET_FUND_ETH   10
#define DEVNET_FUND_TOKEN 1000

static void
kiln_session_set_wallet (KilnSession *self,
                         KilnWallet  *wallet)
{
  if (g_set_object (&self->wallet, wallet))
    _kiln_session_notify (self, PROP_WALLET);
}

/* Drops the wallet and cancels whatever was being done for it. */
void
_kiln_session_drop_wallet (KilnSession *self)
{
  g_cancellable_cancel (self->wallet_cancellable);
  g_clear_object (&self->wallet_cancellable);
  g_clear_object (&self->connecting_wallet);
  kiln_session_set_wallet (self, NULL);
}

/* --- devnet top-ups ------------------------------------------------------------------------ */

typedef struct
{
  KilnSession *self;
  KilnWallet  *wallet;
  gboolean     automatic;
} FundData;

static void
fund_data_free (FundData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->wallet);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FundData, fund_data_free)

static void
kiln_session_release_funding (KilnSession *self)
{
  g_assert (self->funding > 0);

  if (--self->funding == 0)
    _kiln_session_notify (self, PROP_FUNDING);
}

static void
kiln_session_funded_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(FundData) data = user_data;
  KilnSession *self = data->self;
  g_autoptr(GError) error = NULL;

  /* On success the wallet has refreshed its balances already. */
  kiln_wallet_devnet_fund_finish (KILN_WALLET (object), result, &error);

  kiln_session_release_funding (self);
  if (!_kiln_session_is_cancelled (error) && data->wallet == self->wallet)
    _kiln_session_emit (self, DEVNET_FUNDED, error, data->automatic);
}

static void
kiln_session_start_funding (KilnSession *self,
                            gboolean     automatic)
{
  KilnUint256 unit, eth, tokens;
  FundData *data;

  g_assert (KILN_IS_SESSION (self));
  g_assert (self->wallet != NULL);

  if (!kiln_uint256_pow10 (&unit, 18) ||
      !kiln_uint256_mul_uint64 (&eth, &unit, DEVNET_FUND_ETH) ||
      !kiln_uint256_pow10 (&unit, kiln_chain_get_token_decimals (self->chain)) ||
      !kiln_uint256_mul_uint64 (&tokens, &unit, DEVNET_FUND_TOKEN))
    g_assert_not_reached ();

  data = g_new0 (FundData, 1);
  data->self = g_object_ref (self);
  data->wallet = g_object_ref (self->wallet);
  data->automatic = automatic;

  if (self->funding++ == 0)
    _kiln_session_notify (self, PROP_FUNDING);

  kiln_wallet_devnet_fund_async (self->wallet, &eth, &tokens, self->wallet_cancellable,
                                 kiln_session_funded_cb, data);
}

/* A new account on the devnet starts with nothing; give it something to pay with, once. */
static void
kiln_session_maybe_auto_fund (KilnSession *self)
{
  KilnUint256 eth, tokens;
  const char *address;

  g_assert (KILN_IS_SESSION (self));

  if (self->wallet == NULL || !kiln_chain_is_devnet (self->chain))
    return;

  kiln_wallet_get_eth_balance (self->wallet, &eth);
  kiln_wallet_get_token_balance (self->wallet, &tokens);
  if (!kiln_uint256_is_zero (&eth) || !kiln_uint256_is_zero (&tokens))
    return;

  address = kiln_key_get_address_string (self->key);
  if (g_hash_table_contains (self->auto_funded, address))
    return;
  g_hash_table_add (self->auto_funded, g_strdup (address));

  kiln_session_start_funding (self, TRUE);
}

/**
 * kiln_session_devnet_fund:
 * @self: a #KilnSession
 *
 * Asks the devnet for test ETH and GNT for the account. Only on the devnet, with a connected
 * wallet; "devnet-funded" tells how it went.
 */
void
kiln_session_devnet_fund (KilnSession *self)
{
  g_return_if_fail (KILN_IS_SESSION (self));
  g_return_if_fail (self->wallet != NULL);
  g_return_if_fail (kiln_chain_is_devnet (self->chain));

  kiln_session_start_funding (self, FALSE);
}

/* --- the wallet ---------------------------------------------------------------------------- */

static void
kiln_session_wallet_started_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  KilnWallet *wallet = KILN_WALLET (object);
  g_autoptr(KilnSession) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kiln_wallet_start_finish (wallet, result, &error) && _kiln_session_is_cancelled (error))
    return;

  /* A wallet replaced meanwhile does not matter any more. */
  if (wallet != self->connecting_wallet)
    return;

  if (error != NULL)
    {
      g_debug ("Could not connect the wallet: %s", error->message);
      g_clear_object (&self->connecting_wallet);
      _kiln_session_set_state (self, KILN_SESSION_STATE_FAILED, error);
      return;
    }

  kiln_session_set_wallet (self, wallet);
  g_clear_object (&self->connecting_wallet);
  _kiln_session_set_state (self, KILN_SESSION_STATE_READY, NULL);
  kiln_session_maybe_auto_fund (self);
}

/* Builds the wallet again from what is there now: the key, the ledger and the chain. */
void
_kiln_session_connect_wallet (KilnSession *self)
{
  g_assert (KILN_IS_SESSION (self));

  _kiln_session_drop_wallet (self);

  if (self->key == NULL)
    {
      _kiln_session_set_state (self, KILN_SESSION_STATE_IDLE, NULL);
      return;
    }
  if (self->store_error != NULL)
    {
      _kiln_session_set_state (self, KILN_SESSION_STATE_FAILED, self->store_error);
      return;
    }
  if (self->chain_error != NULL)
    {
      _kiln_session_set_state (self, KILN_SESSION_STATE_FAILED, self->chain_error);
      return;
    }
  if (self->ledger == NULL || self->chain == NULL)
    {
      /* The database is still opening; its callback comes back here. */
      _kiln_session_set_state (self, KILN_SESSION_STATE_CONNECTING, NULL);
      return;
    }

  self->wallet_cancellable = g_cancellable_new ();
  self->connecting_wallet = kiln_wallet_new (self->chain, self->key, self->ledger);
  _kiln_session_set_state (self, KILN_SESSION_STATE_CONNECTING, NULL);

  kiln_wallet_start_async (self->connecting_wallet,
                           self->wallet_cancellable,
                           kiln_session_wallet_started_cb,
                           g_object_ref (self));
}

/* --- the chain ----------------------------------------------------------------------------- */

static KilnChain *
kiln_session_chain_from_settings (KilnSession  *self,
                                  GError      **error)
{
  KilnChainPreset preset = g_settings_get_enum (self->settings, "network-preset");
  g_autofree char *rpc_url = NULL;
  g_autofree char *token = NULL;
  guint64 chain_id;

  if (preset != KILN_CHAIN_PRESET_CUSTOM)
    return kiln_chain_new_preset (preset, error);

  rpc_url = g_settings_get_string (self->settings, "custom-rpc-url");
  token = g_settings_get_string (self->settings, "custom-token-address");
  chain_id = g_settings_get_uint64 (self->settings, "custom-chain-id");

  return kiln_chain_new_custom (rpc_url, chain_id, token, NULL, error);
}

static gboolean
kiln_session_same_chain (KilnChain *a,
                         KilnChain *b)
{
  if (a == NULL || b == NULL)
    return a == b;

  return kiln_chain_get_preset (a) == kiln_chain_get_preset (b) &&
         kiln_chain_get_chain_id (a) == kiln_chain_get_chain_id (b) &&
         g_strcmp0 (kiln_chain_get_rpc_url (a), kiln_chain_get_rpc_url (b)) == 0 &&
         kiln_address_equal (kiln_chain_get_token (a), kiln_chain_get_token (b));
}

static void kiln_session_schedule_rebuild (KilnSession *self);

static void
kiln_session_devnet_state_changed_cb (KilnSession       *self,
                                      GFile             *file,
                                      GFile             *other_file,
                                      GFileMonitorEvent  event,
                                      GFileMonitor      *monitor)
{
  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_RENAMED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
      /* Even at the same address, a devnet started again is a new chain. */
      self->devnet_restarted = TRUE;
      kiln_session_schedule_rebuild (self);
      break;

    case G_FILE_MONITOR_EVENT_CHANGED:
    case G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED:
    case G_FILE_MONITOR_EVENT_PRE_UNMOUNT:
    case G_FILE_MONITOR_EVENT_UNMOUNTED:
    case G_FILE_MONITOR_EVENT_MOVED:
    default:
      break;
    }
}

void
_kiln_session_watch_devnet (KilnSession *self,
                            gboolean     watch)
{
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  if (!watch)
    {
      if (self->devnet_monitor != NULL)
        g_file_monitor_cancel (self->devnet_monitor);
      g_clear_object (&self->devnet_monitor);
      return;
    }

  if (self->devnet_monitor != NULL)
    return;

  path = kiln_chain_get_devnet_state_path ();
  file = g_file_new_for_path (path);
  self->devnet_monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->devnet_monitor == NULL)
    {
      g_debug ("Not watching the devnet state file %s: %s", path, error->message);
      return;
    }

  g_signal_connect_object (self->devnet_monitor, "changed",
                           G_CALLBACK (kiln_session_devnet_state_changed_cb),
                           self, G_CONNECT_SWAPPED);
}

/* Builds the chain from the settings; a chain that is really different (or a devnet started
 * again, or one that comes after a failure) gets a new wallet. */
void
_kiln_session_rebuild_chain (KilnSession *self)
{
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(GError) error = NULL;
  gboolean changed;

  g_assert (KILN_IS_SESSION (self));

  g_clear_handle_id (&self->rebuild_source, g_source_remove);

  chain = kiln_session_chain_from_settings (self, &error);
  _kiln_session_watch_devnet (self, g_settings_get_enum (self->settings, "network-preset") ==
                                   KILN_CHAIN_PRESET_DEVNET);

  changed = !kiln_session_same_chain (chain, self->chain) ||
            (error != NULL) != (self->chain_error != NULL);

  g_clear_error (&self->chain_error);
  if (chain == NULL)
    {
      g_debug ("The network settings do not describe a chain: %s", error->message);
      self->chain_error = g_steal_pointer (&error);
    }

  if (g_set_object (&self->chain, chain))
    _kiln_session_notify (self, PROP_CHAIN);

  if (changed || self->devnet_restarted || self->state == KILN_SESSION_STATE_FAILED)
    _kiln_session_connect_wallet (self);
  self->devnet_restarted = FALSE;
}

static gboolean
kiln_session_rebuild_timeout_cb (gpointer user_data)
{
  KilnSession *self = user_data;

  self->rebuild_source = 0;
  _kiln_session_rebuild_chain (self);

  return G_SOURCE_REMOVE;
}

static void
kiln_session_schedule_rebuild (KilnSession *self)
{
  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  self->rebuild_source = g_timeout_add (KILN_SESSION_REBUILD_DELAY_MS,
                                        kiln_session_rebuild_timeout_cb, self);
}

void
_kiln_session_network_changed_cb (KilnSession *self,
                                  const char  *key,
                                  GSettings   *settings)
{
  /* The custom fields only matter for the custom network. */
  if (g_str_has_prefix (key, "custom-") &&
      g_settings_get_enum (settings, "network-preset") != KILN_CHAIN_PRESET_CUSTOM)
    return;

  kiln_session_schedule_rebuild (self);
}
