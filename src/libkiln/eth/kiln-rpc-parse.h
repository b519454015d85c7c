/* kiln-rpc-parse.h: JSON-RPC answers from Ethereum nodes, read as hostile input
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions with no I/O, shared by KilnRpcClient and the fuzz targets. Errors are
 * KILN_RPC_ERROR_INVALID_RESPONSE (or _TOO_LARGE, _SERVER, _REVERTED) with a message describing
 * what is wrong in the answer; the client prefixes it with the node's name and the method.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "kiln-rpc-client.h"

G_BEGIN_DECLS

/* Deeper nesting is refused before json-glib sees it (its parser recurses per level). */
#define KILN_RPC_MAX_JSON_DEPTH 256
/* Fee estimation: blocks of history and the reward percentile used as the priority fee. */
#define KILN_RPC_FEE_HISTORY_BLOCKS     10
#define KILN_RPC_FEE_REWARD_PERCENTILE  50
/* The priority fee when no recent block had a transaction: 1 gwei. */
#define KILN_RPC_DEFAULT_PRIORITY_FEE   G_GUINT64_CONSTANT (1000000000)

/* Reads the answer to the request with @expected_id: the "result" member (a new reference,
 * possibly a JSON null), or an error. A JSON-RPC error object becomes KILN_RPC_ERROR_SERVER, or
 * KILN_RPC_ERROR_REVERTED when it reports an EVM revert, carrying the server's code, message
 * and data (see kiln_rpc_error_get_server_code()). @data need not be NUL-terminated. */
JsonNode       *kiln_rpc_parse_response          (const char      *data,
                                                  gsize            len,
                                                  gint64           expected_id,
                                                  GError         **error);

/* Quantities: "0x" followed by 1 to 64 (or 16) significant hex digits; leading zeros are
 * accepted, "0x", signs, spaces and decimal are not. @what names the value in messages. */
gboolean        kiln_rpc_parse_quantity_text     (const char      *text,
                                                  const char      *what,
                                                  KilnUint256     *out,
                                                  GError         **error);
gboolean        kiln_rpc_parse_quantity          (JsonNode        *node,
                                                  const char      *what,
                                                  KilnUint256     *out,
                                                  GError         **error);
gboolean        kiln_rpc_parse_uint64            (JsonNode        *node,
                                                  const char      *what,
                                                  guint64         *out,
                                                  GError         **error);
/* Data: "0x" followed by an even number of hex digits ("0x" is empty data). */
GBytes         *kiln_rpc_parse_data_text         (const char      *text,
                                                  const char      *what,
                                                  GError         **error);
GBytes         *kiln_rpc_parse_data              (JsonNode        *node,
                                                  const char      *what,
                                                  GError         **error);
/* Data of exactly @len bytes: hashes (32) and addresses (20). */
gboolean        kiln_rpc_parse_fixed_data        (JsonNode        *node,
                                                  const char      *what,
                                                  guint8          *out,
                                                  gsize            len,
                                                  GError         **error);

/* A receipt, or NULL without an error when @node is null or the receipt has no block yet. */
KilnRpcReceipt *kiln_rpc_parse_receipt           (JsonNode        *node,
                                                  GError         **error);

/* An eth_feeHistory result. Sets @out->eip1559 to FALSE, and returns TRUE, when the result has
 * no base fee (the chain or node predates EIP-1559): the caller then asks eth_gasPrice. */
gboolean        kiln_rpc_parse_fee_history       (JsonNode        *node,
                                                  KilnRpcFeeData  *out,
                                                  GError         **error);

/* For KilnRpcClient: records the HTTP status in a KILN_RPC_ERROR error. */
void            kiln_rpc_error_set_http_status   (GError          *error,
                                                  guint            status);

/* A printable, length-limited form of untrusted text for error messages; caller frees. */
char           *kiln_rpc_describe_text           (const char      *text,
                                                  gsize            max_chars);

G_END_DECLS
