/* kiln-wallet-private.h: what the wallet's files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-payment-ledger.h"
#include "kiln-rpc-client.h"
#include "kiln-transaction.h"
#include "kiln-wallet.h"

G_BEGIN_DECLS

/* KilnBatchPay.MAX_PAYEES */
#define KILN_WALLET_MAX_PAYEES         500
/* Contract calls get this much more gas than eth_estimateGas said, in percent. */
#define KILN_WALLET_GAS_MARGIN_PERCENT 10
/* How long an estimate shown to someone is what a send with the same asset, recipient and
 * amount signs with. */
#define KILN_WALLET_ESTIMATE_LIFETIME  (60 * G_USEC_PER_SEC)
/* A fee bump raises both fees by at least 1/8 (12.5 %; nodes want 10 %). */
#define KILN_WALLET_BUMP_DIVISOR       8
/* Incoming token transfers are looked for in this many recent blocks (fewer when the node
 * refuses such a range). */
#define KILN_WALLET_HISTORY_BLOCKS     10000
#define KILN_WALLET_HISTORY_MIN_BLOCKS 1000
/* Payments resent (new nonce) in a row by one send before it gives up. */
#define KILN_WALLET_MAX_RESENDS        3
/* Tracking rounds in a row that must find a payment's nonce used by the chain and none of its
 * attempts mined before it is resent: a load-balanced endpoint may answer from nodes that
 * are not equally far along. */
#define KILN_WALLET_LOST_ROUNDS        3
/* The idempotency key prefix of a payment resent with a new nonce. */
#define KILN_WALLET_RESEND_KEY_PREFIX  "kiln-resend:"

/* What to sign: a transfer or a call with its gas and fees. */
typedef struct
{
  KilnAddress     to;
  KilnUint256     value;
  GBytes         *data;        /* never NULL once set */
  guint64         gas_limit;
  KilnRpcFeeData  fees;
} KilnWalletPlan;

/* Called after a payment's signed transaction is written and before it is broadcast. */
typedef void (*KilnWalletHook) (KilnWallet  *wallet,
                                KilnPayment *payment,
                                gpointer     user_data);

struct _KilnWallet
{
  GObject            parent_instance;

  KilnChain         *chain;
  KilnKey           *key;
  KilnPaymentLedger *ledger;
  KilnRpcClient     *rpc;
  GError            *setup_error;     /* why there is no RPC client */
  KilnAddress        address;
  char               address_string[KILN_ADDRESS_STRING_SIZE];
  GCancellable      *cancellable;
  GMainContext      *context;

  guint64            chain_id;        /* the endpoint's, once started */
  gboolean           started;
  gboolean           has_balances;
  KilnUint256        eth_balance;
  KilnUint256        token_balance;

  guint              confirmations;
  guint              poll_interval;
  guint              replace_after;

  /* Tracking: signed and broadcast payments of this account, by ID. */
  GHashTable        *tracked;         /* gint64 * → KilnPayment */
  GHashTable        *successors;      /* gint64 * → gint64 *: a resent payment's new ID */
  GHashTable        *reverted;        /* gint64 *: payments mined and reverted */
  GHashTable        *lost_rounds;     /* gint64 * → rounds seen without nonce nor receipt */
  GPtrArray         *waiters;         /* Waiter */
  GSource           *poll_source;
  gboolean           ticking;
  guint              pending_count;

  /* Operations that hand out nonces run one at a time. */
  GQueue             lock_queue;      /* GTask */
  gboolean           locked;
  gboolean           next_nonce_known;
  guint64            next_nonce;

  /* The last estimate, for the send that follows it. */
  gboolean           has_estimate;
  KilnWalletAsset    estimate_asset;
  KilnAddress        estimate_to;
  KilnUint256        estimate_amount;
  gint64             estimate_time;
  KilnWalletPlan     estimate_plan;

  KilnWalletHook     after_sign_hook;
  gpointer           after_sign_data;
};

/* Tests: @hook runs after a payment is signed and recorded, before it is broadcast. */
void         kiln_wallet_set_after_sign_hook (KilnWallet          *self,
                                              KilnWalletHook       hook,
                                              gpointer             user_data);

/* kiln-wallet.c */

/* A new record of a payment came from the ledger: tracks it, updates pending-count, emits
 * "payment-changed" and answers those waiting for it. */
void         kiln_wallet_payment_changed     (KilnWallet          *self,
                                              KilnPayment         *payment);
/* Payment @id was mined and reverted: those waiting for it get KILN_WALLET_ERROR_REVERTED. */
void         kiln_wallet_payment_reverted    (KilnWallet          *self,
                                              gint64               id);
/* @old was given up and resent as @successor: those waiting for @old follow it. */
void         kiln_wallet_payment_resent      (KilnWallet          *self,
                                              gint64               old_id,
                                              gint64               new_id);
void         kiln_wallet_lock_async          (KilnWallet          *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean     kiln_wallet_lock_finish         (KilnWallet          *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void         kiln_wallet_unlock              (KilnWallet          *self);
/* Sets @error unless the wallet was started. */
gboolean     kiln_wallet_check_started       (KilnWallet          *self,
                                              GError             **error);
gboolean     kiln_wallet_is_unreachable      (const GError        *error);

/* New balances: sets has-balances and emits "balances-changed" when they changed. */
void         kiln_wallet_set_balances        (KilnWallet          *self,
                                              const KilnUint256   *eth,
                                              const KilnUint256   *token);

/* kiln-wallet-tx.c */

void         kiln_wallet_plan_clear          (KilnWalletPlan      *plan);
void         kiln_wallet_plan_copy           (KilnWalletPlan      *dest,
                                              const KilnWalletPlan *src);
/* gas_limit * max_fee_per_gas (+ value when @with_value); FALSE on overflow. */
gboolean     kiln_wallet_plan_get_max_cost   (const KilnWalletPlan *plan,
                                              gboolean             with_value,
                                              KilnUint256         *out);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KilnWalletPlan, kiln_wallet_plan_clear)
/* "12.5 GNT" */
char        *kiln_wallet_format_amount       (const KilnUint256   *amount,
                                              const char          *symbol);
/* KILN_WALLET_ERROR_INSUFFICIENT_ETH unless the balance pays @plan's most expensive fee (and
 * its value, with @with_value). */
gboolean     kiln_wallet_check_eth           (KilnWallet          *self,
                                              const KilnWalletPlan *plan,
                                              gboolean             with_value,
                                              GError             **error);
/* Fee data and eth_estimateGas (with the margin for calls) for a transaction from @from
 * (NULL: this account). */
void         kiln_wallet_plan_async          (KilnWallet          *self,
                                              const KilnAddress   *from,
                                              const KilnAddress   *to,
                                              const KilnUint256   *value,
                                              GBytes              *data,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean     kiln_wallet_plan_finish         (KilnWallet          *self,
                                              GAsyncResult        *result,
                                              KilnWalletPlan      *out,
                                              GError             **error);
/* Signs @plan with @key and @nonce on the wallet's chain. */
GBytes      *kiln_wallet_sign_plan           (KilnWallet          *self,
                                              KilnKey             *key,
                                              const KilnWalletPlan *plan,
                                              guint64              nonce,
                                              GError             **error);
/* @raw again with both fees raised by at least 1/8 and to at least @network's; @max_cost
 * gets its most expensive fee plus value. */
GBytes      *kiln_wallet_bump_raw            (KilnWallet          *self,
                                              KilnKey             *key,
                                              GBytes              *raw,
                                              const KilnRpcFeeData *network,
                                              KilnUint256         *max_cost,
                                              GError             **error);
/* Waits for the receipt of @raw, a transaction the ledger does not record (the batch
 * contract's approval, devnet funding), already broadcast; with @key, replaces it with a fee
 * bump whenever it stays unmined for replace-after, and any of its versions may be mined. */
void            kiln_wallet_watch_async      (KilnWallet          *self,
                                              KilnKey             *key,
                                              GBytes              *raw,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
KilnRpcReceipt *kiln_wallet_watch_finish     (KilnWallet          *self,
                                              GAsyncResult        *result,
                                              GError             **error);
/* kiln-wallet-approve.c */

/* Approves the batch contract when its allowance is short of @total plus every other
 * unfinished batch's (all but payment @payment_id), and waits until that is mined. */
void         kiln_wallet_ensure_allowance_async  (KilnWallet          *self,
                                                  const KilnUint256   *total,
                                                  gint64               payment_id,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean     kiln_wallet_ensure_allowance_finish (KilnWallet          *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

/* kiln-wallet-send.c */

/* Checks and sends @payment, a stored payment that has signed nothing yet. */
void         kiln_wallet_resume_async        (KilnWallet          *self,
                                              KilnPayment         *payment,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
KilnPayment *kiln_wallet_resume_finish       (KilnWallet          *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* kiln-wallet-submit.c */

gboolean     kiln_wallet_is_nonce_too_low    (const GError        *error);
/* The chain's pending nonce, with the ledger following it when nothing of ours stands in the
 * way. Call with the lock held. */
void         kiln_wallet_resync_async        (KilnWallet          *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean     kiln_wallet_resync_finish       (KilnWallet          *self,
                                              GAsyncResult        *result,
                                              guint64             *chain_nonce,
                                              GError             **error);
/* Takes the lock, gives the pending @payment a nonce, signs @plan, records it, then
 * broadcasts it. Returns the payment as it then is: broadcast, or still signed when the node
 * could not be reached (tracking tries again), or another payment when the nonce turned out
 * to be used by another transaction and it had to be resent. */
void         kiln_wallet_submit_async        (KilnWallet          *self,
                                              KilnPayment         *payment,
                                              const KilnWalletPlan *plan,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
KilnPayment *kiln_wallet_submit_finish       (KilnWallet          *self,
                                              GAsyncResult        *result,
                                              GError             **error);
/* Records @receipt's outcome for @payment: confirmed, or failed when it reverted. */
void         kiln_wallet_settle_async        (KilnWallet          *self,
                                              KilnPayment         *payment,
                                              const KilnRpcReceipt *receipt,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
KilnPayment *kiln_wallet_settle_finish       (GAsyncResult        *result,
                                              GError             **error);
/* Makes the payment that replaces @old (same recipients, amounts and reference) and gives
 * @old up. The successor's key makes this safe to repeat after a crash: the second time
 * returns the same successor, whatever its state. */
void         kiln_wallet_resend_async        (KilnWallet          *self,
                                              KilnPayment         *old,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
KilnPayment *kiln_wallet_resend_finish       (GAsyncResult        *result,
                                              GError             **error);
/* A plan that pays what @raw pays: its recipient, value, data and gas limit. */
gboolean     kiln_wallet_plan_from_raw       (GBytes              *raw,
                                              KilnWalletPlan      *plan,
                                              GError             **error);

/* kiln-wallet-tracker.c */

/* One round of tracking over every tracked payment. */
void         kiln_wallet_track_async         (KilnWallet          *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean     kiln_wallet_track_finish        (KilnWallet          *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void         kiln_wallet_tracker_start       (KilnWallet          *self);
void         kiln_wallet_tracker_stop        (KilnWallet          *self);

G_END_DECLS
