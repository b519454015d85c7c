/* kiln-session.c: the engine objects behind the app: store, ledger, chain, wallet, node and jobs
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
 * made again when either changes, and started again when the network settings change
 * (kiln-session-engine.c). The account's render jobs run over it (kiln-session-jobs.c). The
 * chain, the wallet and devnet top-ups are in kiln-session-chain.c.
 */

#include "config.h"

#include "kiln-enums.h"
#include "kiln-session-private.h"

G_DEFINE_FINAL_TYPE (KilnSession, kiln_session, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

void
_kiln_session_notify (KilnSession *self,
                      guint        prop_id)
{
  g_assert (KILN_IS_SESSION (self));
  g_assert (prop_id > PROP_0 && prop_id < N_PROPS);

  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

void
_kiln_session_emit (KilnSession *self,
                    guint        signal_id,
                    ...)
{
  va_list args;

  g_assert (KILN_IS_SESSION (self));
  g_assert (signal_id < N_SIGNALS);

  va_start (args, signal_id);
  g_signal_emit_valist (self, signals[signal_id], 0, args);
  va_end (args);
}

void
_kiln_session_set_state (KilnSession      *self,
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

gboolean
_kiln_session_is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* --- the database -------------------------------------------------------------------------- */

char *
_kiln_session_dup_data_dir (KilnSession *self)
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
  if (store == NULL && _kiln_session_is_cancelled (error))
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

  _kiln_session_connect_wallet (self);
  _kiln_session_build_engine (self);
}

void
_kiln_session_open_store (KilnSession *self)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *path = NULL;

  g_assert (KILN_IS_SESSION (self));

  g_cancellable_cancel (self->store_cancellable);
  g_clear_object (&self->store_cancellable);

  /* Nothing may use the old database once the new one is chosen. */
  _kiln_session_drop_wallet (self);
  _kiln_session_drop_engine (self);
  g_clear_object (&self->ledger);
  g_clear_object (&self->store);
  g_clear_error (&self->store_error);

  data_dir = _kiln_session_dup_data_dir (self);
  path = g_build_filename (data_dir, KILN_STORE_FILE_NAME, NULL);

  self->store_cancellable = g_cancellable_new ();
  kiln_store_new_async (path, self->store_cancellable,
                        kiln_session_store_opened_cb, g_object_ref (self));

  _kiln_session_connect_wallet (self);
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
                           G_CALLBACK (_kiln_session_open_store), self, G_CONNECT_SWAPPED);
  for (guint i = 0; i < G_N_ELEMENTS (network_keys); i++)
    g_signal_connect_object (self->settings, network_keys[i],
                             G_CALLBACK (_kiln_session_network_changed_cb),
                             self, G_CONNECT_SWAPPED);
  for (guint i = 0; i < G_N_ELEMENTS (node_keys); i++)
    g_signal_connect_object (self->settings, node_keys[i],
                             G_CALLBACK (_kiln_session_network_setting_changed_cb),
                             self, G_CONNECT_SWAPPED);

  _kiln_session_rebuild_chain (self);
  _kiln_session_open_store (self);
}

static void
kiln_session_dispose (GObject *object)
{
  KilnSession *self = (KilnSession *)object;

  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  g_cancellable_cancel (self->store_cancellable);
  _kiln_session_watch_devnet (self, FALSE);
  _kiln_session_drop_wallet (self);
  _kiln_session_drop_engine (self);
  _kiln_session_drop_jobs (self);

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
  _kiln_session_jobs_finalize (self);

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

    case PROP_JOBS:
      g_value_set_object (value, self->jobs);
      break;

    case PROP_N_ACTIVE_JOBS:
      g_value_set_uint (value, kiln_session_get_n_active_jobs (self));
      break;

    case PROP_JOBS_ERROR:
      g_value_set_boxed (value, self->jobs_error);
      break;

    case PROP_LOADING_JOBS:
      g_value_set_boolean (value, self->loading_jobs);
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

  properties[PROP_JOBS] =
    g_param_spec_object ("jobs", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  properties[PROP_N_ACTIVE_JOBS] =
    g_param_spec_uint ("n-active-jobs", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_JOBS_ERROR] =
    g_param_spec_boxed ("jobs-error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_LOADING_JOBS] =
    g_param_spec_boolean ("loading-jobs", NULL, NULL,
                          FALSE,
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

  /**
   * KilnSession::job-ended:
   * @self: the session
   * @job: the job
   *
   * A job followed in this run is done, failed or was cancelled. Jobs that had ended before
   * they were loaded do not say so again.
   */
  signals[JOB_ENDED] =
    g_signal_new ("job-ended",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  KILN_TYPE_RENDER_JOB);
}

static void
kiln_session_init (KilnSession *self)
{
  self->state = KILN_SESSION_STATE_IDLE;
  self->listen_port_override = -1;
  self->auto_funded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  _kiln_session_jobs_init (self);
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
      _kiln_session_connect_wallet (self);
      _kiln_session_build_engine (self);
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
      _kiln_session_open_store (self);
      return;
    }

  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  g_clear_error (&self->chain_error);
  g_clear_object (&self->chain);
  _kiln_session_rebuild_chain (self);
}

