/* kiln-wallet.h: balances, signed payments, and their tracking until confirmed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-chain.h"
#include "kiln-payment.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

#define KILN_WALLET_ERROR (kiln_wallet_error_quark ())

typedef enum
{
  KILN_WALLET_ERROR_INSUFFICIENT_ETH,    /* "not enough ETH to pay the network fee" */
  KILN_WALLET_ERROR_INSUFFICIENT_TOKEN,  /* amount above the GNT balance */
  KILN_WALLET_ERROR_WRONG_CHAIN,         /* endpoint's chain id differs from the preset's */
  KILN_WALLET_ERROR_INVALID_AMOUNT,      /* zero, or too many payees */
  KILN_WALLET_ERROR_REVERTED,            /* mined but failed */
  KILN_WALLET_ERROR_NOT_READY,           /* balances or chain id not fetched yet */
  KILN_WALLET_ERROR_NO_BATCH_CONTRACT,   /* pay_batch on a chain without KilnBatchPay:
                                          * send the payments one by one instead */
} KilnWalletError;

GQuark kiln_wallet_error_quark (void);

typedef enum
{
  KILN_WALLET_ASSET_ETH,
  KILN_WALLET_ASSET_TOKEN,
} KilnWalletAsset;

/* What a send will cost at most, shown before signing. */
typedef struct
{
  guint64     gas_limit;
  KilnUint256 max_fee_per_gas;
  KilnUint256 max_priority_fee_per_gas;
  KilnUint256 max_fee;                   /* gas_limit * max_fee_per_gas, in wei */
} KilnWalletEstimate;

/* One line of history: outgoing ones come from the ledger (with their KilnPayment),
 * incoming ones from the token's Transfer logs and are never stored as payments. */
typedef struct _KilnWalletEntry KilnWalletEntry;

#define KILN_TYPE_WALLET_ENTRY (kiln_wallet_entry_get_type ())
GType              kiln_wallet_entry_get_type        (void) G_GNUC_CONST;
KilnWalletEntry   *kiln_wallet_entry_ref             (KilnWalletEntry *self);
void               kiln_wallet_entry_unref           (KilnWalletEntry *self);
gboolean           kiln_wallet_entry_is_incoming     (KilnWalletEntry *self);
KilnWalletAsset    kiln_wallet_entry_get_asset       (KilnWalletEntry *self);
/* The other side: the sender for incoming, the (first) recipient for outgoing. */
const KilnAddress *kiln_wallet_entry_get_counterparty (KilnWalletEntry *self);
guint              kiln_wallet_entry_get_n_recipients (KilnWalletEntry *self);
void               kiln_wallet_entry_get_amount      (KilnWalletEntry *self,
                                                      KilnUint256     *out);
/* "0x…" or NULL while nothing is signed. */
const char        *kiln_wallet_entry_get_tx_hash     (KilnWalletEntry *self);
/* Outgoing: the ledger state; incoming: always confirmed. */
KilnPaymentState   kiln_wallet_entry_get_state       (KilnWalletEntry *self);
/* µs since the Unix epoch: when an outgoing payment was recorded, or the block time of an
 * incoming transfer. */
gint64             kiln_wallet_entry_get_time        (KilnWalletEntry *self);
/* The ledger record for outgoing entries, NULL for incoming. */
KilnPayment       *kiln_wallet_entry_get_payment     (KilnWalletEntry *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnWalletEntry, kiln_wallet_entry_unref)

#define KILN_TYPE_WALLET (kiln_wallet_get_type ())

G_DECLARE_FINAL_TYPE (KilnWallet, kiln_wallet, KILN, WALLET, GObject)

/* Properties: "chain", "key", "ledger" (construct-only), "address" (EIP-55 string),
 * "has-balances", "pending-count" (payments signed or broadcast, not final),
 * "confirmations" (blocks to wait, default 1), "poll-interval" (ms, default 2000),
 * "replace-after" (ms a broadcast attempt may stay unmined before a fee bump, default
 * 60000). Signals: "balances-changed", "payment-changed" (KilnPayment *).
 * The wallet tracks unconfirmed payments by itself on the thread-default main context
 * while it is alive; dispose stops it. */
KilnWallet        *kiln_wallet_new                    (KilnChain           *chain,
                                                       KilnKey             *key,
                                                       KilnPaymentLedger   *ledger);
KilnChain         *kiln_wallet_get_chain              (KilnWallet          *self);
KilnRpcClient     *kiln_wallet_get_rpc                (KilnWallet          *self);
const KilnAddress *kiln_wallet_get_address            (KilnWallet          *self);
gboolean           kiln_wallet_get_has_balances       (KilnWallet          *self);
void               kiln_wallet_get_eth_balance        (KilnWallet          *self,
                                                       KilnUint256         *out);
void               kiln_wallet_get_token_balance      (KilnWallet          *self,
                                                       KilnUint256         *out);
guint              kiln_wallet_get_pending_count      (KilnWallet          *self);

/* Connects: checks the endpoint's chain id, fetches balances, then finds the ledger's
 * unfinished payments and finishes them (rebroadcasts signed bytes, never signs a
 * second payment for the same work), and starts tracking. */
void               kiln_wallet_start_async            (KilnWallet          *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean           kiln_wallet_start_finish           (KilnWallet          *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

void               kiln_wallet_refresh_async          (KilnWallet          *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean           kiln_wallet_refresh_finish         (KilnWallet          *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

void               kiln_wallet_estimate_async         (KilnWallet          *self,
                                                       KilnWalletAsset      asset,
                                                       const KilnAddress   *to,
                                                       const KilnUint256   *amount,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean           kiln_wallet_estimate_finish        (KilnWallet          *self,
                                                       GAsyncResult        *result,
                                                       KilnWalletEstimate  *out,
                                                       GError             **error);

/* Records, signs, stores the signed bytes, then broadcasts. Refuses with
 * INSUFFICIENT_ETH / INSUFFICIENT_TOKEN before signing. @idempotency_key (nullable)
 * makes a retry return the existing payment. The payment is returned once broadcast;
 * "payment-changed" follows it to confirmation. It signs with the gas limit and fees of
 * the estimate just made for the same asset, recipient and amount (within a minute), so the
 * cost shown is the cap used. A payment with a key or a reference is recorded before the
 * balance checks (a refused one stays pending, signing nothing, until a retry with the same
 * key); one without either only once they passed. Returned still signed (not broadcast)
 * when the node could not be reached: tracking broadcasts it later. */
void               kiln_wallet_send_async             (KilnWallet          *self,
                                                       KilnWalletAsset      asset,
                                                       const KilnAddress   *to,
                                                       const KilnUint256   *amount,
                                                       const char          *reference,
                                                       const char          *idempotency_key,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
KilnPayment       *kiln_wallet_send_finish            (KilnWallet          *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Pays @n_payees token amounts in one transaction through the chain's batch contract
 * (approving it first when the allowance is short), at most 500 payees. On a chain without
 * one, fails with KILN_WALLET_ERROR_NO_BATCH_CONTRACT: send the payments one by one. */
void               kiln_wallet_pay_batch_async        (KilnWallet          *self,
                                                       const KilnAddress   *payees,
                                                       const KilnUint256   *amounts,
                                                       guint                n_payees,
                                                       const char          *reference,
                                                       const char          *idempotency_key,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
KilnPayment       *kiln_wallet_pay_batch_finish       (KilnWallet          *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Waits until @payment is confirmed (or failed: error). For the CLI. */
void               kiln_wallet_wait_async             (KilnWallet          *self,
                                                       KilnPayment         *payment,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
KilnPayment       *kiln_wallet_wait_finish            (KilnWallet          *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Newest first: outgoing from the ledger merged with incoming token transfers (those of the
 * last 10000 blocks, or 1000 when the node refuses such a range). @limit 0: no limit. */
void               kiln_wallet_list_history_async     (KilnWallet          *self,
                                                       guint                limit,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
/* (element-type KilnWalletEntry) */
GPtrArray         *kiln_wallet_list_history_finish    (KilnWallet          *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Devnet only (chain id 31337): gives this account test ETH and GNT from the
 * devnet's well-known deployer account. */
void               kiln_wallet_devnet_fund_async      (KilnWallet          *self,
                                                       const KilnUint256   *eth_wei,
                                                       const KilnUint256   *token_units,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean           kiln_wallet_devnet_fund_finish     (KilnWallet          *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

G_END_DECLS
