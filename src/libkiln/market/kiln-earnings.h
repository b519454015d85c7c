/* kiln-earnings.h: what this node earned as a provider, kept in SQLite and checked on chain
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A KilnProviderAgent only remembers in memory what requestors approved and said they paid.
 * KilnEarnings writes each of those to the store (table "earnings", one row per terms
 * digest) and checks every payment on the chain before counting it:
 *
 *   approved   the requestor approved the result and owes the amount (agent's ::earned);
 *   paid       the requestor says transaction tx_hash paid it (agent's ::paid), and the
 *              chain has not (yet) shown it;
 *   confirmed  the transaction's receipt succeeded and its logs hold ERC-20 Transfer events
 *              of the configured token from the requestor to this account that add up to at
 *              least the sum of every earning of that requestor said to be paid by that
 *              transaction (one batch transaction may pay several terms; a transaction can
 *              neither pay twice nor be claimed by a requestor who did not pay in it).
 *
 * A payment that cannot be confirmed keeps state "paid" and gets a reason for people
 * (KilnEarningRecord.reason): not mined yet or the endpoint unreachable (checked again
 * later, with a growing delay up to KILN_EARNINGS_RECHECK_MAX_SECONDS), or final: the
 * transaction failed, pays another account or pays too little (checked again only after
 * kiln_earnings_set_chain() or the next load).
 *
 * Typical use (the app's lending page, kiln-node run --lend):
 *
 *   earnings = kiln_earnings_new (store, kiln_engine_get_address (engine));
 *   kiln_earnings_set_chain (earnings, kiln_wallet_get_rpc (wallet),
 *                            kiln_chain_get_token (chain));
 *   kiln_earnings_set_agent (earnings, agent);           // follow ::earned and ::paid
 *   g_signal_connect_object (earnings, "changed", G_CALLBACK (update_page), page,
 *                            G_CONNECT_SWAPPED);
 *   kiln_earnings_load_async (earnings, cancellable, on_loaded, page);
 *
 *   // in update_page() and after loading:
 *   KilnEarningsTotals totals;
 *   kiln_earnings_get_totals (earnings, &totals);       // no I/O: from the loaded records
 *   g_autoptr(GPtrArray) recent = kiln_earnings_dup_records (earnings, 20);
 *
 * Reading is from memory: kiln_earnings_load_async() reads every record once (until then
 * there are none, and "loaded" is FALSE); afterwards each write updates the records in
 * memory when it is committed, then emits ::changed. Every write and the load run as
 * transactions on the store's worker thread, never on the main loop. Amounts are base units
 * of the token (10^-18 GNT) as KilnUint256; format them with kiln_uint256_format_units().
 *
 * Properties: "store", "account" (construct-only), "agent" (the KilnProviderAgent followed,
 * or NULL), "loaded" (read-only, TRUE once the records were read).
 *
 * Signals:
 *   ::changed (const char *terms): records changed, after the change is on disk; @terms is
 *     the hex terms digest of the one record that changed, or NULL when many did (load).
 *   ::confirmed (const char *terms, const char *tx_hash, const char *amount): the
 *     earning of @terms (hex) is confirmed on chain by @tx_hash ("0x…"), @amount base units
 *     (decimal). Emitted once per earning, before its ::changed.
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-market.h"
#include "kiln-provider-agent.h"
#include "kiln-rpc-client.h"
#include "kiln-store.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

/* Longest wait between two checks of a payment not mined yet (or an endpoint that did not
 * answer); the first is after 2 s, then each wait doubles. */
#define KILN_EARNINGS_RECHECK_MAX_SECONDS 60

typedef enum
{
  KILN_EARNING_STATE_APPROVED,   /* owed, no payment announced */
  KILN_EARNING_STATE_PAID,       /* a payment announced, not confirmed on chain */
  KILN_EARNING_STATE_CONFIRMED,  /* the payment is on chain and covers it */
} KilnEarningState;

#define KILN_TYPE_EARNING_STATE (kiln_earning_state_get_type ())
GType kiln_earning_state_get_type (void) G_GNUC_CONST;

/* One earning as stored. Times are µs since the Unix epoch (UTC), 0 when not yet. */
typedef struct
{
  guint8            terms[KILN_MARKET_DIGEST_SIZE];  /* the terms' digest: the key */
  guint8            task_id[KILN_MARKET_ID_SIZE];
  KilnAddress       requestor;
  KilnUint256       amount;                          /* approved, base units */
  gint64            approved_at;
  KilnEarningState  state;
  gboolean          has_tx;                          /* paid or confirmed */
  guint8            tx_hash[32];                     /* valid when has_tx */
  gint64            paid_at;
  guint64           confirmed_block;                 /* when confirmed, else 0 */
  gint64            confirmed_at;                    /* when this node saw it confirmed */
  char             *reason;                          /* why a payment is not confirmed
                                                        (yet), translated; else NULL */
} KilnEarningRecord;

#define KILN_TYPE_EARNING_RECORD (kiln_earning_record_get_type ())

GType              kiln_earning_record_get_type  (void) G_GNUC_CONST;
KilnEarningRecord *kiln_earning_record_copy      (const KilnEarningRecord *self);
void               kiln_earning_record_free      (KilnEarningRecord       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnEarningRecord, kiln_earning_record_free)

/* Sums over the loaded records. "Today" is the local day at the time of the call. */
typedef struct
{
  KilnUint256 confirmed_today;  /* confirmed_at today */
  KilnUint256 confirmed_total;  /* every confirmed earning */
  KilnUint256 pending;          /* approved or paid, not confirmed */
  guint       n_confirmed;
  guint       n_pending;
} KilnEarningsTotals;

#define KILN_TYPE_EARNINGS (kiln_earnings_get_type ())

G_DECLARE_FINAL_TYPE (KilnEarnings, kiln_earnings, KILN, EARNINGS, GObject)

/* @account is the address payments must go to: the node's own (kiln_engine_get_address()). */
KilnEarnings      *kiln_earnings_new                (KilnStore            *store,
                                                     const KilnAddress    *account);

KilnStore         *kiln_earnings_get_store          (KilnEarnings         *self);
const KilnAddress *kiln_earnings_get_account        (KilnEarnings         *self);

/* Where payments are checked: @rpc's chain, transfers of the ERC-20 token at @token. Either
 * NULL: payments are recorded but not checked (they stay "paid"). Setting a chain checks
 * again every loaded earning that is paid and not confirmed. */
void               kiln_earnings_set_chain          (KilnEarnings         *self,
                                                     KilnRpcClient        *rpc,
                                                     const KilnAddress    *token);
KilnRpcClient     *kiln_earnings_get_rpc            (KilnEarnings         *self);
const KilnAddress *kiln_earnings_get_token          (KilnEarnings         *self);

/* Follows @agent's ::earned and ::paid signals (NULL: none), writing each of them. */
void               kiln_earnings_set_agent          (KilnEarnings         *self,
                                                     KilnProviderAgent    *agent);
KilnProviderAgent *kiln_earnings_get_agent          (KilnEarnings         *self);

/* Reads every record from the store (then ::changed with NULL) and checks the payments that
 * are paid and not confirmed. Loading again reads them again. */
void               kiln_earnings_load_async         (KilnEarnings         *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean           kiln_earnings_load_finish        (KilnEarnings         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
/* Blocking, for the command line and tests; never from the app's main loop. Payments are
 * checked afterwards on the thread-default main context, as with the async call. */
gboolean           kiln_earnings_load               (KilnEarnings         *self,
                                                     GCancellable         *cancellable,
                                                     GError              **error);
gboolean           kiln_earnings_get_loaded         (KilnEarnings         *self);

/* Writing by hand what the agent's signals write. */

/* Records @earning (from KilnProviderAgent: its terms, task, requestor, amount, approval
 * time) as approved; nothing changes when the terms are already recorded with the same
 * amount and requestor, and other values for known terms are KILN_STORE_ERROR_CONFLICT. */
void               kiln_earnings_add_async          (KilnEarnings         *self,
                                                     const KilnEarning    *earning,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean           kiln_earnings_add_finish         (KilnEarnings         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* Records that transaction @tx_hash is said to pay the terms @terms (their
 * KILN_MARKET_DIGEST_SIZE-byte digest), then checks it on chain in the background (see
 * kiln_earnings_check_async()). Unknown terms are KILN_STORE_ERROR_NOT_FOUND; a confirmed
 * earning keeps its transaction. */
void               kiln_earnings_set_paid_async     (KilnEarnings         *self,
                                                     const guint8         *terms,
                                                     const guint8          tx_hash[32],
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean           kiln_earnings_set_paid_finish    (KilnEarnings         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* Checks now on chain every loaded earning said to be paid by @tx_hash and not yet
 * confirmed, and writes the outcome (confirmed, or the reason why not). Returns TRUE when
 * the check could be made, whatever its outcome: look at the records. Fails when no chain
 * is set (G_IO_ERROR_NOT_INITIALIZED), with the endpoint's error when it did not answer. */
void               kiln_earnings_check_async        (KilnEarnings         *self,
                                                     const guint8          tx_hash[32],
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean           kiln_earnings_check_finish       (KilnEarnings         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* The loaded records, newest approval first, at most @max (0: all) (element-type
 * KilnEarningRecord, copies). */
GPtrArray         *kiln_earnings_dup_records        (KilnEarnings         *self,
                                                     guint                 max);
/* The record of @terms (their KILN_MARKET_DIGEST_SIZE-byte digest), a copy, or NULL. */
KilnEarningRecord *kiln_earnings_lookup             (KilnEarnings         *self,
                                                     const guint8         *terms);
void               kiln_earnings_get_totals         (KilnEarnings         *self,
                                                     KilnEarningsTotals   *out);

G_END_DECLS
