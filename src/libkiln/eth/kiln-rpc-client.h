/* kiln-rpc-client.h: an Ethereum node's JSON-RPC API over HTTP(S)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kiln-address.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

/* Seconds a request may take, from connecting to the last byte of the answer. */
#define KILN_RPC_DEFAULT_TIMEOUT      15
/* Attempts per request when the node cannot be reached or answers HTTP 5xx or 429. */
#define KILN_RPC_DEFAULT_MAX_ATTEMPTS 3
/* Larger answers are refused (KILN_RPC_ERROR_TOO_LARGE). */
#define KILN_RPC_MAX_RESPONSE_SIZE    (16 * 1024 * 1024)
#define KILN_RPC_HASH_SIZE            32

/* JSON-RPC error codes the wallet acts on (EIP-1474). */
#define KILN_RPC_CODE_INVALID_INPUT    (-32000)
#define KILN_RPC_CODE_METHOD_NOT_FOUND (-32601)
#define KILN_RPC_CODE_NOT_SUPPORTED    (-32004)
#define KILN_RPC_CODE_EXECUTION_ERROR  3

#define KILN_RPC_ERROR (kiln_rpc_error_quark ())

/* Transport failures are not in this domain: they keep their G_IO_ERROR, G_RESOLVER_ERROR or
 * G_TLS_ERROR code, with a message naming the node. A node that does not answer within the
 * timeout gives G_IO_ERROR_TIMED_OUT, and cancellation G_IO_ERROR_CANCELLED. */
typedef enum
{
  KILN_RPC_ERROR_INVALID_URL,       /* not an http:// or https:// URL */
  KILN_RPC_ERROR_HTTP,              /* an HTTP error status without a JSON-RPC answer */
  KILN_RPC_ERROR_TOO_LARGE,         /* an answer above KILN_RPC_MAX_RESPONSE_SIZE */
  KILN_RPC_ERROR_INVALID_RESPONSE,  /* not a JSON-RPC 2.0 answer, or a result of the wrong form */
  KILN_RPC_ERROR_SERVER,            /* the node answered with a JSON-RPC error object */
  KILN_RPC_ERROR_REVERTED,          /* the EVM reverted a call or a gas estimate */
} KilnRpcError;

GQuark      kiln_rpc_error_quark              (void);

/* Details kept in KILN_RPC_ERROR_SERVER and KILN_RPC_ERROR_REVERTED errors: the JSON-RPC error's
 * code and message exactly as the node sent them (for instance -32000 and "nonce too low"), and
 * its "data" member when that was hex (a contract's revert data). 0 or NULL otherwise. */
gint64      kiln_rpc_error_get_server_code    (const GError *error);
const char *kiln_rpc_error_get_server_message (const GError *error);
GBytes     *kiln_rpc_error_get_data           (const GError *error);
/* KILN_RPC_ERROR_REVERTED: the contract's reason, for example
 * "GNT: transfer amount exceeds balance", or NULL when it gave none. Untrusted text. */
const char *kiln_rpc_error_get_revert_reason  (const GError *error);
/* KILN_RPC_ERROR_HTTP: the status code. 0 otherwise. */
guint       kiln_rpc_error_get_http_status    (const GError *error);

/* Fees for a new transaction. With EIP-1559, base_fee_per_gas is the pending block's base fee
 * and max_fee_per_gas = 2 * base_fee_per_gas + max_priority_fee_per_gas, which survives six
 * full blocks of base fee increases. Without it (eip1559 FALSE), both maximums are the node's
 * eth_gasPrice, to be used as a legacy transaction's gas price, and the base fee is zero. */
typedef struct
{
  gboolean    eip1559;
  KilnUint256 base_fee_per_gas;
  KilnUint256 max_priority_fee_per_gas;
  KilnUint256 max_fee_per_gas;
} KilnRpcFeeData;

#define KILN_RPC_MAX_LOG_TOPICS 4

typedef struct
{
  KilnAddress address;
  guint       n_topics;
  guint8      topics[KILN_RPC_MAX_LOG_TOPICS][32];
  GBytes     *data;
  guint64     log_index;
} KilnRpcLog;

/* A mined transaction's receipt. Reference counted; read-only once returned. */
struct _KilnRpcReceipt
{
  guint8       transaction_hash[KILN_RPC_HASH_SIZE];
  guint8       block_hash[KILN_RPC_HASH_SIZE];
  guint64      block_number;
  guint64      transaction_index;
  gboolean     success;                /* status 1; FALSE when the transaction reverted */
  guint64      gas_used;
  guint64      cumulative_gas_used;
  KilnUint256  effective_gas_price;    /* zero when the node does not report it */
  KilnAddress  from;
  gboolean     has_to;                 /* FALSE for a contract creation */
  KilnAddress  to;
  gboolean     has_contract_address;
  KilnAddress  contract_address;
  GArray      *logs;                   /* of KilnRpcLog */
};

#define KILN_TYPE_RPC_RECEIPT (kiln_rpc_receipt_get_type ())

GType           kiln_rpc_receipt_get_type   (void) G_GNUC_CONST;
KilnRpcReceipt *kiln_rpc_receipt_new        (void);
KilnRpcReceipt *kiln_rpc_receipt_ref        (KilnRpcReceipt *self);
void            kiln_rpc_receipt_unref      (KilnRpcReceipt *self);
/* gas_used * effective_gas_price; FALSE on overflow. */
gboolean        kiln_rpc_receipt_get_fee    (const KilnRpcReceipt *self,
                                             KilnUint256          *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnRpcReceipt, kiln_rpc_receipt_unref)

#define KILN_TYPE_RPC_CLIENT (kiln_rpc_client_get_type ())

G_DECLARE_FINAL_TYPE (KilnRpcClient, kiln_rpc_client, KILN, RPC_CLIENT, GObject)

/* A client for the node at @url (http:// or https://; anything else is
 * KILN_RPC_ERROR_INVALID_URL). Use it from one thread: callbacks run in the thread-default main
 * context of the caller. Requests are retried, with exponential backoff, only when the node
 * cannot be reached or answers HTTP 5xx or 429 without a JSON-RPC answer; never after a
 * JSON-RPC error or a timeout. Error messages name the node by scheme, host and port only, since
 * paths often hold API keys. */
KilnRpcClient  *kiln_rpc_client_new                            (const char  *url,
                                                                GError     **error);
const char     *kiln_rpc_client_get_url                        (KilnRpcClient *self);
/* "https://host:port": how messages name the node. */
const char     *kiln_rpc_client_get_display_name               (KilnRpcClient *self);
guint           kiln_rpc_client_get_timeout                    (KilnRpcClient *self);
void            kiln_rpc_client_set_timeout                    (KilnRpcClient *self,
                                                                guint          seconds);
guint           kiln_rpc_client_get_max_attempts               (KilnRpcClient *self);
void            kiln_rpc_client_set_max_attempts               (KilnRpcClient *self,
                                                                guint          max_attempts);

/* Any method: @params is a JSON array (or NULL for none) and is not taken. The result is the
 * answer's "result" member, which may be a JSON null. */
void            kiln_rpc_client_call_async                     (KilnRpcClient       *self,
                                                                const char          *method,
                                                                JsonNode            *params,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
JsonNode       *kiln_rpc_client_call_finish                    (KilnRpcClient  *self,
                                                                GAsyncResult   *result,
                                                                GError        **error);

/* eth_chainId */
void            kiln_rpc_client_get_chain_id_async             (KilnRpcClient       *self,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
gboolean        kiln_rpc_client_get_chain_id_finish            (KilnRpcClient  *self,
                                                                GAsyncResult   *result,
                                                                guint64        *out,
                                                                GError        **error);

/* eth_blockNumber */
void            kiln_rpc_client_get_block_number_async         (KilnRpcClient       *self,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
gboolean        kiln_rpc_client_get_block_number_finish        (KilnRpcClient  *self,
                                                                GAsyncResult   *result,
                                                                guint64        *out,
                                                                GError        **error);

/* @block is "latest", "pending", "safe", "finalized", "earliest" or a 0x block number. */
void            kiln_rpc_client_get_balance_async              (KilnRpcClient       *self,
                                                                const KilnAddress   *address,
                                                                const char          *block,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
gboolean        kiln_rpc_client_get_balance_finish             (KilnRpcClient  *self,
                                                                GAsyncResult   *result,
                                                                KilnUint256    *out,
                                                                GError        **error);

/* The account's nonce: with "pending", its transactions in the node's pool count too. */
void            kiln_rpc_client_get_transaction_count_async    (KilnRpcClient       *self,
                                                                const KilnAddress   *address,
                                                                const char          *block,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
gboolean        kiln_rpc_client_get_transaction_count_finish   (KilnRpcClient  *self,
                                                                GAsyncResult   *result,
                                                                guint64        *out,
                                                                GError        **error);

/* eth_feeHistory over recent blocks, or eth_gasPrice on nodes or chains without EIP-1559. */
void            kiln_rpc_client_get_fee_data_async             (KilnRpcClient       *self,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
gboolean        kiln_rpc_client_get_fee_data_finish            (KilnRpcClient   *self,
                                                                GAsyncResult    *result,
                                                                KilnRpcFeeData  *out,
                                                                GError         **error);

/* eth_estimateGas. Every argument but @self may be NULL. A transaction that would revert is
 * KILN_RPC_ERROR_REVERTED. */
void            kiln_rpc_client_estimate_gas_async             (KilnRpcClient       *self,
                                                                const KilnAddress   *from,
                                                                const KilnAddress   *to,
                                                                const KilnUint256   *value,
                                                                GBytes              *data,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
gboolean        kiln_rpc_client_estimate_gas_finish            (KilnRpcClient  *self,
                                                                GAsyncResult   *result,
                                                                guint64        *out,
                                                                GError        **error);

/* eth_call: runs @data against the contract at @to in @block, as @from (may be NULL), and
 * returns what it returned. A revert is KILN_RPC_ERROR_REVERTED with the contract's reason. */
void            kiln_rpc_client_call_contract_async            (KilnRpcClient       *self,
                                                                const KilnAddress   *from,
                                                                const KilnAddress   *to,
                                                                GBytes              *data,
                                                                const char          *block,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
GBytes         *kiln_rpc_client_call_contract_finish           (KilnRpcClient  *self,
                                                                GAsyncResult   *result,
                                                                GError        **error);

/* eth_sendRawTransaction. The hash is checked against the Keccak-256 of @raw. A node that
 * already has the transaction ("already known") counts as success. */
void            kiln_rpc_client_send_raw_transaction_async     (KilnRpcClient       *self,
                                                                GBytes              *raw,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
gboolean        kiln_rpc_client_send_raw_transaction_finish    (KilnRpcClient  *self,
                                                                GAsyncResult   *result,
                                                                guint8          hash[32],
                                                                GError        **error);

/* eth_getTransactionReceipt: NULL without an error while the transaction is pending or unknown
 * to the node. */
void            kiln_rpc_client_get_transaction_receipt_async  (KilnRpcClient       *self,
                                                                const guint8         hash[32],
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
KilnRpcReceipt *kiln_rpc_client_get_transaction_receipt_finish (KilnRpcClient  *self,
                                                                GAsyncResult   *result,
                                                                GError        **error);

G_END_DECLS
