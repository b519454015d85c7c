/* kiln-session.h: the engine objects behind the app: store, ledger, chain, wallet, node and jobs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "libkiln.h"
#include "kiln-chain.h"
#include "kiln-wallet.h"

G_BEGIN_DECLS

typedef enum
{
  KILN_SESSION_STATE_IDLE,        /* no account yet */
  KILN_SESSION_STATE_CONNECTING,  /* opening the database or connecting to the chain */
  KILN_SESSION_STATE_READY,       /* the wallet is connected and has balances */
  KILN_SESSION_STATE_FAILED,      /* see kiln_session_get_error() */
} KilnSessionState;

#define KILN_TYPE_SESSION (kiln_session_get_type ())

G_DECLARE_FINAL_TYPE (KilnSession, kiln_session, KILN, SESSION, GObject)

/* Follows @settings: "data-dir" for the database, "network-preset" and the custom-* keys
 * for the chain, the network-listen-port, network-bootstrap and network-lan keys for the
 * node. Properties: "key", "state", "wallet" (the connected wallet, NULL unless the state
 * is ready), "chain", "funding" (a devnet top-up is running), "engine" (the node, NULL
 * until the account and the database are there), "engine-error" (why the node is not
 * running), and the render jobs (see kiln_session_get_jobs()). The signal "devnet-funded"
 * (const GError *error, gboolean automatic) reports every top-up. */
KilnSession       *kiln_session_new                 (GSettings           *settings);

KilnKey           *kiln_session_get_key             (KilnSession         *self);
/* Connects a wallet for @key once the database is open; NULL drops it. */
void               kiln_session_set_key             (KilnSession         *self,
                                                     KilnKey             *key);
KilnSessionState   kiln_session_get_state           (KilnSession         *self);
/* Why the state is failed: a database, network setting or connection error. */
const GError      *kiln_session_get_error           (KilnSession         *self);
/* The chain from the settings, or NULL when they do not describe one. */
KilnChain         *kiln_session_get_chain           (KilnSession         *self);
KilnWallet        *kiln_session_get_wallet          (KilnSession         *self);
KilnPaymentLedger *kiln_session_get_ledger          (KilnSession         *self);
gboolean           kiln_session_get_funding         (KilnSession         *self);

/* Tries again after a failure: opens the database or connects the wallet anew. */
void               kiln_session_reconnect           (KilnSession         *self);

/* On the devnet: asks its deployer account for test ETH and GNT, then refreshes the
 * balances. Emits "devnet-funded" when done. */
void               kiln_session_devnet_fund         (KilnSession         *self);

/* The node on the Kiln network, for the account in use: made once the account and the
 * database are there, started at once with the network settings, started again when they
 * change. NULL before that, or when it could not be made. */
KilnEngine        *kiln_session_get_engine          (KilnSession         *self);
/* Why the node is not running: the port is in use, a bootstrap address is wrong, the
 * database could not be opened. NULL while it runs or is on its way. */
const GError      *kiln_session_get_engine_error    (KilnSession         *self);
/* The port the node is asked to listen on (0: any free port), and the bootstrap nodes
 * it joins the network through: the settings, or what the command line said instead. */
guint16            kiln_session_get_listen_port     (KilnSession         *self);
const char * const *kiln_session_get_bootstrap      (KilnSession         *self);
/* Takes the place of the network-bootstrap setting (when @bootstrap is not NULL) and of
 * network-listen-port (when @listen_port is not negative) until that setting changes: for
 * the command line. Starts the node again if it runs. */
void               kiln_session_override_network    (KilnSession         *self,
                                                     const char * const  *bootstrap,
                                                     int                  listen_port);
/* Starts the node again, after a failure or to use settings that changed. */
void               kiln_session_restart_engine      (KilnSession         *self);
/* Stops the node cleanly, for the app's shutdown: runs the thread-default main context
 * until its peers have heard goodbye, for at most the links' handshake timeout. */
void               kiln_session_shutdown            (KilnSession         *self);

/* The render jobs of the account in use ("jobs", a GListModel of KilnRenderJob), newest
 * first: those started in this run, and those the node's job store kept from before, loaded
 * once the node is there ("loading-jobs" while they are). A job that had not ended goes on
 * where it stopped; one that had is shown as it ended. Every job gets the wallet as soon as
 * it is connected. "n-active-jobs" counts the jobs not ended yet, which run with or without
 * a window; "jobs-error" says why the stored jobs could not be loaded. The signal
 * "job-ended" (KilnRenderJob *job) tells that a job followed in this run is done, failed or
 * was cancelled. */
GListModel        *kiln_session_get_jobs            (KilnSession         *self);
gboolean           kiln_session_get_loading_jobs    (KilnSession         *self);
guint              kiln_session_get_n_active_jobs   (KilnSession         *self);
const GError      *kiln_session_get_jobs_error      (KilnSession         *self);
/* The job with that ID in the list, or NULL. */
KilnRenderJob     *kiln_session_lookup_job          (KilnSession         *self,
                                                     const char          *id);
/* Loads the stored jobs again, after "jobs-error" said why they could not be. */
void               kiln_session_reload_jobs         (KilnSession         *self);
/* Adds @job, made over the session's node and not started yet, to the jobs, and starts it
 * (kiln_render_job_start_async()). A job that cannot start stays in the list, failed. */
void               kiln_session_start_job_async     (KilnSession         *self,
                                                     KilnRenderJob       *job,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
gboolean           kiln_session_start_job_finish    (KilnSession         *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);
/* Whether @job may be forgotten: it has ended and owes nothing. */
gboolean           kiln_session_can_remove_job      (KilnSession         *self,
                                                     KilnRenderJob       *job);
/* Forgets @job, which kiln_session_can_remove_job() allows: out of the list and out of the
 * node's job store. Its frames stay where they are. */
void               kiln_session_remove_job_async    (KilnSession         *self,
                                                     KilnRenderJob       *job,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
gboolean           kiln_session_remove_job_finish   (KilnSession         *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

/* The endpoint of @chain as people name it: "127.0.0.1:8545", "rpc.example.org". */
char              *kiln_session_describe_endpoint   (KilnChain           *chain);
/* Whether @error means that the Ethereum node could not be reached at all. */
gboolean           kiln_session_is_unreachable      (const GError        *error);

G_END_DECLS
