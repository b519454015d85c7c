/* kiln-session.c: the engine objects behind the app: store, ledger, chain and wallet
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The session follows the settings and the account: the database opens in the data folder,
 * the chain is built from the network preset (or the custom endpoint), and a wallet is
 * connected for the account once both are there. Any of them changing tears down what
 * depends on it and builds it again; work still running for the old objects is cancelled.
 * On the devnet, whose address and contracts come from the state file the devnet writes, the
 * chain is rebuilt when that file changes, so that starting the devnet after Kiln works.
 *
 * The node (KilnEngine) needs the account and the database: it is made once both are there,
 * made again when either changes, and started again when the network settings change.
 */

#include "config.h"

#include "kiln-enums.h"
#include "kiln-session.h"

/* Settings are written one key at a time; wait for a burst of changes to end. */
#define REBUILD_DELAY_MS 250

/* What the devnet gives when asked: enough to try everything, and in round numbers. */
#define DEVNET_FUND_ETH   10
#define DEVNET_FUND_TOKEN 1000

struct _KilnSession
{
  GObject             parent_instance;

  GSettings          *settings;
  KilnKey            *key;

  GCancellable       *store_cancellable;
  KilnStore          *store;
  KilnPaymentLedger  *ledger;
  GError             *store_error;

  KilnChain          *chain;
  GError             *chain_error;
  GFileMonitor       *devnet_monitor;
  guint               rebuild_source;
  gboolean            devnet_restarted;

  GCancellable       *wallet_cancellable;
  KilnWallet         *connecting_wallet;
  KilnWallet         *wallet;

  KilnSessionState    state;
  GError             *error;

  /* Accounts topped up automatically in this run, so that it happens once each. */
  GHashTable         *auto_funded;
  guint               funding;

  /* The node, and what the command line says instead of the settings. */
  KilnEngine         *engine;
  GError             *engine_error;
  guint               engine_source;
  GStrv               bootstrap;
  GStrv               bootstrap_override;
  int                 listen_port_override;
};

G_DEFINE_FINAL_TYPE (KilnSession, kiln_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SETTINGS,
  PROP_KEY,
  PROP_STATE,
  PROP_CHAIN,
  PROP_WALLET,
  PROP_FUNDING,
  PROP_ENGINE,
  PROP_ENGINE_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  DEVNET_FUNDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void kiln_session_connect_wallet (KilnSession *self);
static void kiln_session_build_engine   (KilnSession *self);
static void kiln_session_drop_engine    (KilnSession *self);

static void
kiln_session_set_state (KilnSession      *self,
                        KilnSessionState  state,
                        const GError     *error)
{
  gboolean changed;

  g_assert (KILN_IS_SESSION (self));
  g_assert ((state == KILN_SESSION_STATE_FAILED) == (error != NULL));

  /* A different failure is a change too: pages show the new reason. */
  changed = self->state != state || self->error != error;

  if (self->error != error)
    {
      g_clear_error (&self->error);
      if (error != NULL)
        self->error = g_error_copy (error);
    }
  self->state = state;

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
kiln_session_set_wallet (KilnSession *self,
                         KilnWallet  *wallet)
{
  if (g_set_object (&self->wallet, wallet))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WALLET]);
}

/* Drops the wallet and cancels whatever was being done for it. */
static void
kiln_session_drop_wallet (KilnSession *self)
{
  g_cancellable_cancel (self->wallet_cancellable);
  g_clear_object (&self->wallet_cancellable);
  g_clear_object (&self->connecting_wallet);
  kiln_session_set_wallet (self, NULL);
}

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
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
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FUNDING]);
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
  if (!is_cancelled (error) && data->wallet == self->wallet)
    g_signal_emit (self, signals[DEVNET_FUNDED], 0, error, data->automatic);
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
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FUNDING]);

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

  if (!kiln_wallet_start_finish (wallet, result, &error) && is_cancelled (error))
    return;

  /* A wallet replaced meanwhile does not matter any more. */
  if (wallet != self->connecting_wallet)
    return;

  if (error != NULL)
    {
      g_debug ("Could not connect the wallet: %s", error->message);
      g_clear_object (&self->connecting_wallet);
      kiln_session_set_state (self, KILN_SESSION_STATE_FAILED, error);
      return;
    }

  kiln_session_set_wallet (self, wallet);
  g_clear_object (&self->connecting_wallet);
  kiln_session_set_state (self, KILN_SESSION_STATE_READY, NULL);
  kiln_session_maybe_auto_fund (self);
}

/* Builds the wallet again from what is there now: the key, the ledger and the chain. */
static void
kiln_session_connect_wallet (KilnSession *self)
{
  g_assert (KILN_IS_SESSION (self));

  kiln_session_drop_wallet (self);

  if (self->key == NULL)
    {
      kiln_session_set_state (self, KILN_SESSION_STATE_IDLE, NULL);
      return;
    }
  if (self->store_error != NULL)
    {
      kiln_session_set_state (self, KILN_SESSION_STATE_FAILED, self->store_error);
      return;
    }
  if (self->chain_error != NULL)
    {
      kiln_session_set_state (self, KILN_SESSION_STATE_FAILED, self->chain_error);
      return;
    }
  if (self->ledger == NULL || self->chain == NULL)
    {
      /* The database is still opening; its callback comes back here. */
      kiln_session_set_state (self, KILN_SESSION_STATE_CONNECTING, NULL);
      return;
    }

  self->wallet_cancellable = g_cancellable_new ();
  self->connecting_wallet = kiln_wallet_new (self->chain, self->key, self->ledger);
  kiln_session_set_state (self, KILN_SESSION_STATE_CONNECTING, NULL);

  kiln_wallet_start_async (self->connecting_wallet,
                           self->wallet_cancellable,
                           kiln_session_wallet_started_cb,
                           g_object_ref (self));
}

/* --- the database -------------------------------------------------------------------------- */

static char *
kiln_session_dup_data_dir (KilnSession *self)
{
  g_autofree char *setting = g_settings_get_string (self->settings, "data-dir");

  if (setting[0] != '\0')
    return g_steal_pointer (&setting);

  return g_build_filename (g_get_user_data_dir (), "kiln", NULL);
}

static void
kiln_session_store_opened_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(KilnSession) self = user_data;
  g_autoptr(KilnStore) store = NULL;
  g_autoptr(GError) error = NULL;

  store = kiln_store_new_finish (result, &error);
  if (store == NULL && is_cancelled (error))
    return;

  if (store == NULL)
    {
      g_debug ("Could not open the database: %s", error->message);
      self->store_error = g_steal_pointer (&error);
    }
  else
    {
      self->store = g_steal_pointer (&store);
      self->ledger = kiln_payment_ledger_new (self->store);
    }

  kiln_session_connect_wallet (self);
  kiln_session_build_engine (self);
}

static void
kiln_session_open_store (KilnSession *self)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *path = NULL;

  g_assert (KILN_IS_SESSION (self));

  g_cancellable_cancel (self->store_cancellable);
  g_clear_object (&self->store_cancellable);

  /* Nothing may use the old database once the new one is chosen. */
  kiln_session_drop_wallet (self);
  kiln_session_drop_engine (self);
  g_clear_object (&self->ledger);
  g_clear_object (&self->store);
  g_clear_error (&self->store_error);

  data_dir = kiln_session_dup_data_dir (self);
  path = g_build_filename (data_dir, KILN_STORE_FILE_NAME, NULL);

  self->store_cancellable = g_cancellable_new ();
  kiln_store_new_async (path, self->store_cancellable,
                        kiln_session_store_opened_cb, g_object_ref (self));

  kiln_session_connect_wallet (self);
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

static void
kiln_session_watch_devnet (KilnSession *self,
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
static void
kiln_session_rebuild_chain (KilnSession *self)
{
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(GError) error = NULL;
  gboolean changed;

  g_assert (KILN_IS_SESSION (self));

  g_clear_handle_id (&self->rebuild_source, g_source_remove);

  chain = kiln_session_chain_from_settings (self, &error);
  kiln_session_watch_devnet (self, g_settings_get_enum (self->settings, "network-preset") ==
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
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHAIN]);

  if (changed || self->devnet_restarted || self->state == KILN_SESSION_STATE_FAILED)
    kiln_session_connect_wallet (self);
  self->devnet_restarted = FALSE;
}

static gboolean
kiln_session_rebuild_timeout_cb (gpointer user_data)
{
  KilnSession *self = user_data;

  self->rebuild_source = 0;
  kiln_session_rebuild_chain (self);

  return G_SOURCE_REMOVE;
}

static void
kiln_session_schedule_rebuild (KilnSession *self)
{
  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  self->rebuild_source = g_timeout_add (REBUILD_DELAY_MS, kiln_session_rebuild_timeout_cb, self);
}

static void
kiln_session_network_changed_cb (KilnSession *self,
                                 const char  *key,
                                 GSettings   *settings)
{
  /* The custom fields only matter for the custom network. */
  if (g_str_has_prefix (key, "custom-") &&
      g_settings_get_enum (settings, "network-preset") != KILN_CHAIN_PRESET_CUSTOM)
    return;

  kiln_session_schedule_rebuild (self);
}

/* --- the node ------------------------------------------------------------------------------ */

static void
kiln_session_set_engine_error (KilnSession  *self,
                               const GError *error)
{
  if (self->engine_error == NULL && error == NULL)
    return;

  g_clear_error (&self->engine_error);
  if (error != NULL)
    self->engine_error = g_error_copy (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENGINE_ERROR]);
}

/* Reads the bootstrap nodes from the settings, or takes the command line's. */
static void
kiln_session_update_bootstrap (KilnSession *self)
{
  g_clear_pointer (&self->bootstrap, g_strfreev);

  if (self->bootstrap_override != NULL)
    self->bootstrap = g_strdupv (self->bootstrap_override);
  else
    self->bootstrap = g_settings_get_strv (self->settings, "network-bootstrap");
}

/* Starts the node with the network settings, stopping it first if it runs. */
static void
kiln_session_start_engine (KilnSession *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *listen_address = NULL;
  gboolean lan;

  g_assert (KILN_IS_SESSION (self));

  g_clear_handle_id (&self->engine_source, g_source_remove);

  if (self->engine == NULL)
    return;

  /* Peers are told goodbye; the ports are free again once this returns. */
  kiln_engine_stop (self->engine);

  kiln_session_update_bootstrap (self);
  lan = g_settings_get_boolean (self->settings, "network-lan");

  /* An empty address: every interface, both families. */
  listen_address = g_settings_get_string (self->settings, "network-listen-address");
  if (!kiln_engine_start (self->engine, *listen_address != '\0' ? listen_address : NULL,
                          kiln_session_get_listen_port (self),
                          (const char * const *) self->bootstrap, lan, &error))
    {
      g_debug ("Could not start the node: %s", error->message);
      kiln_session_set_engine_error (self, error);
      return;
    }

  kiln_session_set_engine_error (self, NULL);
}

static gboolean
kiln_session_engine_timeout_cb (gpointer user_data)
{
  KilnSession *self = user_data;

  self->engine_source = 0;
  kiln_session_start_engine (self);

  return G_SOURCE_REMOVE;
}

static void
kiln_session_network_setting_changed_cb (KilnSession *self,
                                         const char  *key,
                                         GSettings   *settings)
{
  /* What the person chooses now wins over the command line. */
  if (g_str_equal (key, "network-bootstrap"))
    {
      g_clear_pointer (&self->bootstrap_override, g_strfreev);
      kiln_session_update_bootstrap (self);
    }
  else if (g_str_equal (key, "network-listen-port"))
    self->listen_port_override = -1;

  if (self->engine == NULL)
    return;

  g_clear_handle_id (&self->engine_source, g_source_remove);
  self->engine_source = g_timeout_add (REBUILD_DELAY_MS, kiln_session_engine_timeout_cb, self);
}

static void
kiln_session_drop_engine (KilnSession *self)
{
  g_assert (KILN_IS_SESSION (self));

  g_clear_handle_id (&self->engine_source, g_source_remove);

  if (self->engine == NULL)
    return;

  kiln_engine_stop (self->engine);
  g_clear_object (&self->engine);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENGINE]);
}

/* Makes the node again for the account and the database there are now, and starts it. */
static void
kiln_session_build_engine (KilnSession *self)
{
  g_autoptr(KilnEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = NULL;

  g_assert (KILN_IS_SESSION (self));

  kiln_session_drop_engine (self);

  if (self->key == NULL || self->store == NULL)
    {
      /* A database that cannot be opened is why there is no node. */
      kiln_session_set_engine_error (self, self->key != NULL ? self->store_error : NULL);
      return;
    }

  data_dir = kiln_session_dup_data_dir (self);
  engine = kiln_engine_new (self->key, self->store, data_dir, &error);
  if (engine == NULL)
    {
      g_debug ("Could not prepare the node: %s", error->message);
      kiln_session_set_engine_error (self, error);
      return;
    }

  kiln_engine_set_roles (engine, KILN_DHT_ROLE_REQUESTOR);
  self->engine = g_steal_pointer (&engine);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENGINE]);

  kiln_session_start_engine (self);
}

typedef struct
{
  gboolean done;
} StopWait;

static void
kiln_session_engine_stopped_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  StopWait *wait = user_data;

  kiln_engine_stop_finish (KILN_ENGINE (object), result, NULL);
  wait->done = TRUE;
  g_rc_box_release (wait);
}

static gboolean
kiln_session_stop_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;

  return G_SOURCE_REMOVE;
}

/**
 * kiln_session_shutdown:
 * @self: a #KilnSession
 *
 * Stops the node and waits for its links to close cleanly, running the thread-default main
 * context meanwhile, for at most the links' handshake timeout (and a second more). The app
 * calls this on shutdown, after its main loop has returned.
 */
void
kiln_session_shutdown (KilnSession *self)
{
  g_autoptr(KilnEngine) engine = NULL;
  GMainContext *context = g_main_context_get_thread_default ();
  StopWait *wait;
  gboolean timed_out = FALSE;
  guint timeout_ms;
  guint timeout_id;

  g_return_if_fail (KILN_IS_SESSION (self));

  g_clear_handle_id (&self->engine_source, g_source_remove);

  if (self->engine == NULL || kiln_engine_get_state (self->engine) == KILN_ENGINE_STATE_STOPPED)
    return;

  engine = g_object_ref (self->engine);
  timeout_ms = kiln_link_config_get_handshake_timeout (kiln_engine_get_link_config (engine)) +
               1000;

  wait = g_rc_box_new0 (StopWait);
  kiln_engine_stop_async (engine, NULL, kiln_session_engine_stopped_cb, g_rc_box_acquire (wait));
  timeout_id = g_timeout_add (timeout_ms, kiln_session_stop_timeout_cb, &timed_out);

  while (!wait->done && !timed_out)
    g_main_context_iteration (context, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);
  else
    g_debug ("The node's peers did not answer its goodbye in time");

  /* Closes what is left at once, and lets the last writes go out. */
  kiln_engine_stop (engine);
  while (g_main_context_iteration (context, FALSE))
    ;

  g_rc_box_release (wait);
}

/* --- helpers for pages --------------------------------------------------------------------- */

char *
kiln_session_describe_endpoint (KilnChain *chain)
{
  const char *url;
  g_autoptr(GUri) uri = NULL;
  const char *host;

  g_return_val_if_fail (KILN_IS_CHAIN (chain), NULL);

  url = kiln_chain_get_rpc_url (chain);
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return g_strdup (url);

  host = g_uri_get_host (uri);
  if (g_uri_get_port (uri) < 0)
    return g_strdup (host);
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%d", host, g_uri_get_port (uri));

  return g_strdup_printf ("%s:%d", host, g_uri_get_port (uri));
}

gboolean
kiln_session_is_unreachable (const GError *error)
{
  if (error == NULL)
    return FALSE;

  if (error->domain == G_RESOLVER_ERROR || error->domain == G_TLS_ERROR)
    return TRUE;

  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PROXY_FAILED);
}

/* --- GObject ------------------------------------------------------------------------------- */

static void
kiln_session_constructed (GObject *object)
{
  KilnSession *self = (KilnSession *)object;
  static const char * const network_keys[] = {
    "changed::network-preset",
    "changed::custom-rpc-url",
    "changed::custom-chain-id",
    "changed::custom-token-address",
  };
  static const char * const node_keys[] = {
    "changed::network-listen-address",
    "changed::network-listen-port",
    "changed::network-bootstrap",
    "changed::network-lan",
  };

  G_OBJECT_CLASS (kiln_session_parent_class)->constructed (object);

  g_assert (G_IS_SETTINGS (self->settings));

  g_signal_connect_object (self->settings, "changed::data-dir",
                           G_CALLBACK (kiln_session_open_store), self, G_CONNECT_SWAPPED);
  for (guint i = 0; i < G_N_ELEMENTS (network_keys); i++)
    g_signal_connect_object (self->settings, network_keys[i],
                             G_CALLBACK (kiln_session_network_changed_cb),
                             self, G_CONNECT_SWAPPED);
  for (guint i = 0; i < G_N_ELEMENTS (node_keys); i++)
    g_signal_connect_object (self->settings, node_keys[i],
                             G_CALLBACK (kiln_session_network_setting_changed_cb),
                             self, G_CONNECT_SWAPPED);

  kiln_session_rebuild_chain (self);
  kiln_session_open_store (self);
}

static void
kiln_session_dispose (GObject *object)
{
  KilnSession *self = (KilnSession *)object;

  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  g_cancellable_cancel (self->store_cancellable);
  kiln_session_watch_devnet (self, FALSE);
  kiln_session_drop_wallet (self);
  kiln_session_drop_engine (self);

  g_clear_object (&self->store_cancellable);
  g_clear_object (&self->ledger);
  g_clear_object (&self->store);
  g_clear_object (&self->chain);
  g_clear_object (&self->key);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kiln_session_parent_class)->dispose (object);
}

static void
kiln_session_finalize (GObject *object)
{
  KilnSession *self = (KilnSession *)object;

  g_clear_error (&self->store_error);
  g_clear_error (&self->chain_error);
  g_clear_error (&self->error);
  g_clear_error (&self->engine_error);
  g_clear_pointer (&self->bootstrap, g_strfreev);
  g_clear_pointer (&self->bootstrap_override, g_strfreev);
  g_clear_pointer (&self->auto_funded, g_hash_table_unref);

  G_OBJECT_CLASS (kiln_session_parent_class)->finalize (object);
}

static void
kiln_session_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  KilnSession *self = KILN_SESSION (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    case PROP_KEY:
      g_value_set_object (value, self->key);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_CHAIN:
      g_value_set_object (value, self->chain);
      break;

    case PROP_WALLET:
      g_value_set_object (value, self->wallet);
      break;

    case PROP_FUNDING:
      g_value_set_boolean (value, self->funding > 0);
      break;

    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;

    case PROP_ENGINE_ERROR:
      g_value_set_boxed (value, self->engine_error);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_session_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  KilnSession *self = KILN_SESSION (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    case PROP_KEY:
      kiln_session_set_key (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_session_class_init (KilnSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = kiln_session_constructed;
  object_class->dispose = kiln_session_dispose;
  object_class->finalize = kiln_session_finalize;
  object_class->get_property = kiln_session_get_property;
  object_class->set_property = kiln_session_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_KEY] =
    g_param_spec_object ("key", NULL, NULL,
                         KILN_TYPE_KEY,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       KILN_TYPE_SESSION_STATE,
                       KILN_SESSION_STATE_IDLE,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_CHAIN] =
    g_param_spec_object ("chain", NULL, NULL,
                         KILN_TYPE_CHAIN,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_WALLET] =
    g_param_spec_object ("wallet", NULL, NULL,
                         KILN_TYPE_WALLET,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_FUNDING] =
    g_param_spec_boolean ("funding", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL,
                         KILN_TYPE_ENGINE,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_ENGINE_ERROR] =
    g_param_spec_boxed ("engine-error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KilnSession::devnet-funded:
   * @self: the session
   * @error: (nullable): why the top-up failed, or %NULL
   * @automatic: whether the session asked by itself, for a new empty account
   *
   * A devnet top-up has ended; on success the balances are refreshed already.
   */
  signals[DEVNET_FUNDED] =
    g_signal_new ("devnet-funded",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_BOOLEAN);
}

static void
kiln_session_init (KilnSession *self)
{
  self->state = KILN_SESSION_STATE_IDLE;
  self->listen_port_override = -1;
  self->auto_funded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

KilnSession *
kiln_session_new (GSettings *settings)
{
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (KILN_TYPE_SESSION,
                       "settings", settings,
                       NULL);
}

KilnKey *
kiln_session_get_key (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->key;
}

void
kiln_session_set_key (KilnSession *self,
                      KilnKey     *key)
{
  g_return_if_fail (KILN_IS_SESSION (self));
  g_return_if_fail (!key || KILN_IS_KEY (key));

  if (!g_set_object (&self->key, key))
    return;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEY]);

  /* Before construction ends, constructed() connects the first wallet. */
  if (self->settings != NULL && self->store_cancellable != NULL)
    {
      kiln_session_connect_wallet (self);
      kiln_session_build_engine (self);
    }
}

KilnSessionState
kiln_session_get_state (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), KILN_SESSION_STATE_IDLE);

  return self->state;
}

const GError *
kiln_session_get_error (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->error;
}

KilnChain *
kiln_session_get_chain (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->chain;
}

KilnWallet *
kiln_session_get_wallet (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->wallet;
}

KilnPaymentLedger *
kiln_session_get_ledger (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->ledger;
}

gboolean
kiln_session_get_funding (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), FALSE);

  return self->funding > 0;
}

/**
 * kiln_session_reconnect:
 * @self: a #KilnSession
 *
 * After a failure, opens the database again when that is what failed, reads the network
 * settings again, and connects a new wallet.
 */
void
kiln_session_reconnect (KilnSession *self)
{
  g_return_if_fail (KILN_IS_SESSION (self));

  if (self->store_error != NULL)
    {
      kiln_session_open_store (self);
      return;
    }

  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  g_clear_error (&self->chain_error);
  g_clear_object (&self->chain);
  kiln_session_rebuild_chain (self);
}

KilnEngine *
kiln_session_get_engine (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->engine;
}

const GError *
kiln_session_get_engine_error (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->engine_error;
}

guint16
kiln_session_get_listen_port (KilnSession *self)
{
  guint16 port;

  g_return_val_if_fail (KILN_IS_SESSION (self), 0);

  if (self->listen_port_override >= 0)
    return self->listen_port_override;

  g_settings_get (self->settings, "network-listen-port", "q", &port);

  return port;
}

const char * const *
kiln_session_get_bootstrap (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  if (self->bootstrap == NULL)
    kiln_session_update_bootstrap (self);

  return (const char * const *) self->bootstrap;
}

void
kiln_session_override_network (KilnSession        *self,
                               const char * const *bootstrap,
                               int                 listen_port)
{
  g_return_if_fail (KILN_IS_SESSION (self));
  g_return_if_fail (listen_port <= G_MAXUINT16);

  if (bootstrap != NULL)
    {
      g_strfreev (self->bootstrap_override);
      self->bootstrap_override = g_strdupv ((char **) bootstrap);
    }
  if (listen_port >= 0)
    self->listen_port_override = listen_port;

  kiln_session_update_bootstrap (self);
  if (self->engine != NULL)
    kiln_session_start_engine (self);
}

/**
 * kiln_session_restart_engine:
 * @self: a #KilnSession
 *
 * Starts the node again; when the database is why there is none, opens it again first.
 */
void
kiln_session_restart_engine (KilnSession *self)
{
  g_return_if_fail (KILN_IS_SESSION (self));

  if (self->store_error != NULL)
    {
      kiln_session_open_store (self);
      return;
    }

  if (self->engine == NULL)
    kiln_session_build_engine (self);
  else
    kiln_session_start_engine (self);
}
