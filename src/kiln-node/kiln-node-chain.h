/* kiln-node-chain.h: the chain, the database and the wallet, made from the shared options
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-chain.h"
#include "kiln-payment-ledger.h"
#include "kiln-store.h"
#include "kiln-wallet.h"

#include "kiln-node-cli.h"

G_BEGIN_DECLS

/* Waiting for one asynchronous call on the thread-default main context, which keeps
 * running everything else attached to it (the wallet's tracking, signal sources):
 *
 *   g_auto(KilnNodeAsync) call = { 0 };
 *   kiln_wallet_start_async (wallet, cancellable, kiln_node_async_done, &call);
 *   ok = kiln_wallet_start_finish (wallet, kiln_node_async_wait (&call), error);
 */
typedef struct
{
  GAsyncResult *result;
} KilnNodeAsync;

void          kiln_node_async_done     (GObject        *source,
                                        GAsyncResult   *result,
                                        gpointer        user_data);
/* Returns the result, owned by @call. */
GAsyncResult *kiln_node_async_wait     (KilnNodeAsync  *call);
void          kiln_node_async_clear    (KilnNodeAsync  *call);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KilnNodeAsync, kiln_node_async_clear)

/* The same for a call that may ignore its cancellable: the waiting can stop at
 * cancellation, and the call, reporting later, finds its KilnNodeAsync still alive.
 *
 *   KilnNodeAsync *call = kiln_node_async_new ();
 *   kiln_wallet_wait_async (wallet, payment, cancellable, kiln_node_async_done_shared,
 *                           kiln_node_async_ref (call));
 *   result = kiln_node_async_wait_cancellable (call, cancellable);   // NULL if cancelled
 *   …
 *   kiln_node_async_unref (call);
 */
KilnNodeAsync *kiln_node_async_new     (void);
KilnNodeAsync *kiln_node_async_ref     (KilnNodeAsync  *call);
void           kiln_node_async_unref   (KilnNodeAsync  *call);
void           kiln_node_async_done_shared (GObject      *source,
                                            GAsyncResult *result,
                                            gpointer      user_data);
GAsyncResult  *kiln_node_async_wait_cancellable (KilnNodeAsync *call,
                                                 GCancellable  *cancellable);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnNodeAsync, kiln_node_async_unref)

/* The chain of --network (default devnet) with --rpc, --token and --chain-id over it. An
 * unknown preset, a token that is not an address or an RPC URL that is not http(s) is a
 * usage error. */
KilnChain    *kiln_node_chain_new      (KilnNodeContext  *ctx,
                                        GError          **error);

/* An open, started wallet: the account of the shared options on their chain, with the
 * payments recorded in DATA_DIR/kiln.db. */
typedef struct
{
  KilnChain         *chain;
  KilnStore         *store;
  KilnPaymentLedger *ledger;
  KilnWallet        *wallet;
  /* Cancelled by SIGINT, SIGTERM and SIGHUP while the wallet is open. */
  GCancellable      *cancellable;
  guint              signal_sources[3];
} KilnNodeWallet;

/* Opens the account (asking for its password as the identity commands do) and the data
 * folder's database, then starts the wallet: it checks the endpoint's chain, fetches the
 * balances and finishes the payments an earlier run left unfinished, which is reported on
 * standard error. Takes @chain. */
KilnNodeWallet *kiln_node_wallet_open  (KilnNodeContext  *ctx,
                                        KilnChain        *chain,
                                        GError          **error);
void            kiln_node_wallet_free  (KilnNodeWallet   *self);

/* Whether SIGINT, SIGTERM and SIGHUP cancel the wallet's work (TRUE once open) or end the
 * program as usual, for instance while it waits for an answer on the terminal. */
void            kiln_node_wallet_catch_signals (KilnNodeWallet *self,
                                                gboolean        catch);

/* "0x" and the 64 hex digits of a transaction hash. */
char           *kiln_node_format_tx_hash (const guint8    hash[32]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnNodeWallet, kiln_node_wallet_free)

G_END_DECLS
