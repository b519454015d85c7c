/* kiln-payment-ledger.h: outgoing payments and nonces, written before anything is sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-payment.h"
#include "kiln-store.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* The wallet's side of a payment:
 *
 *   create            → pending (an idempotency key returns an existing payment instead)
 *   reserve_nonce     → the payment holds the account's next nonce
 *   record_attempt    → signed: the signed bytes are on disk, BEFORE they are broadcast
 *   mark_broadcast    → broadcast
 *   record_attempt + mark_replaced for a fee bump (same nonce, new hash)
 *   mark_confirmed | mark_failed
 *
 * After a crash, list_unfinished gives every payment whose signed bytes may be on the
 * network, with all its attempts, oldest nonce first: rebroadcast the latest attempt (the same
 * bytes, so never a second payment) and look for receipts of all of them. list_pending gives
 * the payments not signed yet.
 *
 * Every call runs as one transaction on the store's worker thread; the async calls report
 * once it is committed (and synced to disk), the blocking ones return then. Calls that change
 * a payment give back its new record. Errors are KILN_STORE_ERROR: NOT_FOUND for an unknown
 * payment, INVALID for a change its state does not allow, CONFLICT for an idempotency key
 * already used by a different payment. */

#define KILN_TYPE_PAYMENT_LEDGER (kiln_payment_ledger_get_type ())

G_DECLARE_FINAL_TYPE (KilnPaymentLedger, kiln_payment_ledger, KILN, PAYMENT_LEDGER, GObject)

KilnPaymentLedger  *kiln_payment_ledger_new                     (KilnStore            *store);
KilnStore          *kiln_payment_ledger_get_store               (KilnPaymentLedger    *self);

/* Records @draft as a pending payment. ETH and ERC20 payments have exactly one recipient,
 * ERC20 a token; the amounts' sum must fit in 256 bits. When the draft's idempotency key (or
 * the key made from its reference) is already stored, returns that payment if it pays the same
 * recipients the same amounts in the same asset, and fails with KILN_STORE_ERROR_CONFLICT
 * otherwise. Leave @draft unchanged until the call has finished. */
void                kiln_payment_ledger_create_async            (KilnPaymentLedger    *self,
                                                                 KilnPayment          *draft,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
KilnPayment        *kiln_payment_ledger_create_finish           (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
KilnPayment        *kiln_payment_ledger_create                  (KilnPaymentLedger    *self,
                                                                 KilnPayment          *draft,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

void                kiln_payment_ledger_get_async               (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
KilnPayment        *kiln_payment_ledger_get_finish              (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
KilnPayment        *kiln_payment_ledger_get                     (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* Gives payment @id the nonce for its transaction and returns it. @chain_nonce is the chain's
 * pending nonce for the payment's account (eth_getTransactionCount "pending"). The nonce is
 * max (@chain_nonce, last nonce Kiln handed out for the account + 1), and the account's next
 * nonce moves past it in the same transaction, so payments never share a nonce and leave no
 * gap. Asking again returns the payment's nonce unchanged, except for a pending payment whose
 * nonce the chain has meanwhile seen used (@chain_nonce above it): it has signed nothing yet,
 * so it gets a new one. A finished payment is refused. */
void                kiln_payment_ledger_reserve_nonce_async     (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 guint64               chain_nonce,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
gboolean            kiln_payment_ledger_reserve_nonce_finish    (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 guint64              *nonce,
                                                                 GError              **error);
gboolean            kiln_payment_ledger_reserve_nonce           (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 guint64               chain_nonce,
                                                                 guint64              *nonce,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* Lets an account's nonces follow the chain again after transactions from elsewhere (or
 * abandoned local ones) moved it: the next nonce becomes @chain_nonce, the chain's pending
 * nonce. The rule: refused with KILN_STORE_ERROR_INVALID while a signed or broadcast payment
 * of the account holds a nonce at or above @chain_nonce, because that transaction may still
 * be mined and handing its nonce out again would put two transactions on one nonce (finish or
 * fail those payments first). Pending payments holding such nonces signed nothing; they lose
 * their nonce and get a new one when they reserve again. */
void                kiln_payment_ledger_reset_nonce_async       (KilnPaymentLedger    *self,
                                                                 guint64               chain_id,
                                                                 const KilnAddress    *from,
                                                                 guint64               chain_nonce,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
gboolean            kiln_payment_ledger_reset_nonce_finish      (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
gboolean            kiln_payment_ledger_reset_nonce             (KilnPaymentLedger    *self,
                                                                 guint64               chain_id,
                                                                 const KilnAddress    *from,
                                                                 guint64               chain_nonce,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* Writes @raw, a signed transaction for payment @id, before it is broadcast. The bytes are
 * decoded and checked: the chain, the sender and the payment's reserved nonce must match.
 * Its hash, gas limit and fees are taken from it. The payment becomes signed (or stays
 * broadcast, for a fee bump). Recording the same bytes again changes nothing. */
void                kiln_payment_ledger_record_attempt_async    (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 GBytes               *raw,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
KilnPayment        *kiln_payment_ledger_record_attempt_finish   (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
KilnPayment        *kiln_payment_ledger_record_attempt          (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 GBytes               *raw,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* The attempt with hash @tx_hash was handed to the network. Idempotent. */
void                kiln_payment_ledger_mark_broadcast_async    (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 const guint8         *tx_hash,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
KilnPayment        *kiln_payment_ledger_mark_broadcast_finish   (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
KilnPayment        *kiln_payment_ledger_mark_broadcast          (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 const guint8         *tx_hash,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* A newer attempt (a fee bump with the same nonce) took the place of the attempt @tx_hash.
 * The payment's state does not change. */
void                kiln_payment_ledger_mark_replaced_async     (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 const guint8         *tx_hash,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
KilnPayment        *kiln_payment_ledger_mark_replaced_finish    (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
KilnPayment        *kiln_payment_ledger_mark_replaced           (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 const guint8         *tx_hash,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* The attempt @tx_hash was mined in @block and succeeded; the payment's other attempts
 * become replaced. */
void                kiln_payment_ledger_mark_confirmed_async    (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 const guint8         *tx_hash,
                                                                 guint64               block,
                                                                 guint64               gas_used,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
KilnPayment        *kiln_payment_ledger_mark_confirmed_finish   (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
KilnPayment        *kiln_payment_ledger_mark_confirmed          (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 const guint8         *tx_hash,
                                                                 guint64               block,
                                                                 guint64               gas_used,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* Gives the payment up with @reason (for people). With @tx_hash (may be NULL), that attempt
 * was mined and reverted and the others become replaced; without, every open attempt fails.
 * A pending payment holding the account's latest nonce gives it back. Failing a signed or
 * broadcast payment is for when none of its attempts can be mined any more. */
void                kiln_payment_ledger_mark_failed_async       (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 const guint8         *tx_hash,
                                                                 const char           *reason,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
KilnPayment        *kiln_payment_ledger_mark_failed_finish      (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
KilnPayment        *kiln_payment_ledger_mark_failed             (KilnPaymentLedger    *self,
                                                                 gint64                id,
                                                                 const guint8         *tx_hash,
                                                                 const char           *reason,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* Signed and broadcast payments with their attempts, by chain, sender and nonce. @chain_id 0
 * means every chain and @from NULL every sender. */
void                kiln_payment_ledger_list_unfinished_async   (KilnPaymentLedger    *self,
                                                                 guint64               chain_id,
                                                                 const KilnAddress    *from,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
GPtrArray          *kiln_payment_ledger_list_unfinished_finish  (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
GPtrArray          *kiln_payment_ledger_list_unfinished         (KilnPaymentLedger    *self,
                                                                 guint64               chain_id,
                                                                 const KilnAddress    *from,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* Pending payments (nothing signed yet), oldest first; filters as above. */
void                kiln_payment_ledger_list_pending_async      (KilnPaymentLedger    *self,
                                                                 guint64               chain_id,
                                                                 const KilnAddress    *from,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
GPtrArray          *kiln_payment_ledger_list_pending_finish     (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
GPtrArray          *kiln_payment_ledger_list_pending            (KilnPaymentLedger    *self,
                                                                 guint64               chain_id,
                                                                 const KilnAddress    *from,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

/* Up to @limit payments, newest first, skipping the @offset newest, with the number and
 * totals of all the payments that match; filters as above. */
void                kiln_payment_ledger_list_history_async      (KilnPaymentLedger    *self,
                                                                 guint64               chain_id,
                                                                 const KilnAddress    *from,
                                                                 guint                 offset,
                                                                 guint                 limit,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
KilnPaymentHistory *kiln_payment_ledger_list_history_finish     (KilnPaymentLedger    *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
KilnPaymentHistory *kiln_payment_ledger_list_history            (KilnPaymentLedger    *self,
                                                                 guint64               chain_id,
                                                                 const KilnAddress    *from,
                                                                 guint                 offset,
                                                                 guint                 limit,
                                                                 GCancellable         *cancellable,
                                                                 GError              **error);

G_END_DECLS
