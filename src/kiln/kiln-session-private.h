/* kiln-session-private.h: what the parts of KilnSession share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-session.c         the object, its state, and the database
 * kiln-session-chain.c   the chain from the settings, the wallet, and devnet top-ups
 * kiln-session-engine.c  the node on the Kiln network
 * kiln-session-jobs.c    the account's render jobs
 */
#pragma once

#include "kiln-render-job.h"
#include "kiln-session.h"

G_BEGIN_DECLS

/* Settings are written one key at a time; wait for a burst of changes to end. */
#define KILN_SESSION_REBUILD_DELAY_MS 250

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

  /* The render jobs of the node's account (kiln-session-jobs.c) */
  GListStore         *jobs;               /* KilnRenderJob, newest first */
  GCancellable       *jobs_cancellable;   /* loading them, for the node there is now */
  KilnBlender        *blender;            /* checks the results of the jobs loaded */
  GHashTable         *active_jobs;        /* KilnRenderJob → itself: not ended yet */
  GError             *jobs_error;
  guint               loading_jobs : 1;
};

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
  PROP_JOBS,
  PROP_N_ACTIVE_JOBS,
  PROP_JOBS_ERROR,
  PROP_LOADING_JOBS,
  N_PROPS
};

enum {
  DEVNET_FUNDED,
  JOB_ENDED,
  N_SIGNALS
};

/* kiln-session.c */
void      _kiln_session_notify                (KilnSession      *self,
                                               guint             prop_id);
void      _kiln_session_emit                  (KilnSession      *self,
                                               guint             signal_id,
                                               ...);
gboolean  _kiln_session_is_cancelled          (const GError     *error);
void      _kiln_session_set_state             (KilnSession      *self,
                                               KilnSessionState  state,
                                               const GError     *error);
char     *_kiln_session_dup_data_dir          (KilnSession      *self);
void      _kiln_session_open_store            (KilnSession      *self);

/* kiln-session-chain.c */
void      _kiln_session_connect_wallet        (KilnSession      *self);
void      _kiln_session_drop_wallet           (KilnSession      *self);
void      _kiln_session_rebuild_chain         (KilnSession      *self);
void      _kiln_session_watch_devnet          (KilnSession      *self,
                                               gboolean          watch);
void      _kiln_session_network_changed_cb    (KilnSession      *self,
                                               const char       *key,
                                               GSettings        *settings);

/* kiln-session-engine.c */
void      _kiln_session_build_engine          (KilnSession      *self);
void      _kiln_session_drop_engine           (KilnSession      *self);
void      _kiln_session_update_bootstrap      (KilnSession      *self);
void      _kiln_session_start_engine          (KilnSession      *self);
void      _kiln_session_network_setting_changed_cb (KilnSession *self,
                                                    const char  *key,
                                                    GSettings   *settings);

/* kiln-session-jobs.c */
void      _kiln_session_jobs_init             (KilnSession      *self);
/* Loads the jobs of the node there is now, or drops them all when there is none. */
void      _kiln_session_reload_jobs           (KilnSession      *self);
/* Stops every job and empties the list: the node goes away. */
void      _kiln_session_drop_jobs             (KilnSession      *self);
void      _kiln_session_jobs_finalize         (KilnSession      *self);

G_END_DECLS
