/* kiln-rpc-client-eth.c: the RPC client's typed eth_* methods
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each method builds its parameters, sends them with kiln_rpc_client_call_async() (in
 * kiln-rpc-client.c, with its retries and timeouts) and checks the answer's type.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-keccak.h"
#include "kiln-rpc-client-private.h"
#include "kiln-rpc-parse.h"

/* Typed calls: an eth_* method's answer checked for its type */

typedef enum
{
  RESULT_UINT64,
  RESULT_UINT256,
  RESULT_DATA,
  RESULT_TRANSACTION_HASH,
  RESULT_RECEIPT,
} ResultKind;

typedef struct
{
  ResultKind kind;
  char      *method;
  char      *what;
  guint8     hash[KILN_RPC_HASH_SIZE];   /* the transaction's, for hashes and receipts */
} TypedCall;

static void
typed_call_free (gpointer data)
{
  TypedCall *call = data;

  g_free (call->method);
  g_free (call->what);
  g_free (call);
}

static void
on_typed_call_done (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnRpcClient *self = KILN_RPC_CLIENT (object);
  TypedCall *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  gboolean ok = FALSE;

  node = kiln_rpc_client_call_finish (self, result, &error);
  if (node == NULL)
    {
      const char *message = kiln_rpc_error_get_server_message (error);
      g_autofree char *lower = message != NULL ? g_ascii_strdown (message, -1) : NULL;

      /* The hash is the Keccak-256 of the raw bytes, whoever sent them first: a node that
       * already has the transaction (from an earlier attempt of ours) has accepted it. */
      if (call->kind == RESULT_TRANSACTION_HASH && lower != NULL
          && (strstr (lower, "already known") != NULL
              || strstr (lower, "known transaction") != NULL
              || strstr (lower, "already imported") != NULL))
        {
          g_task_return_pointer (task, g_memdup2 (call->hash, KILN_RPC_HASH_SIZE), g_free);
          return;
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  switch (call->kind)
    {
    case RESULT_UINT64:
      {
        guint64 value;

        ok = kiln_rpc_parse_uint64 (node, call->what, &value, &error);
        if (ok)
          g_task_return_pointer (task, g_memdup2 (&value, sizeof value), g_free);
      }
      break;

    case RESULT_UINT256:
      {
        KilnUint256 value;

        ok = kiln_rpc_parse_quantity (node, call->what, &value, &error);
        if (ok)
          g_task_return_pointer (task, g_memdup2 (&value, sizeof value), g_free);
      }
      break;

    case RESULT_DATA:
      {
        GBytes *bytes = kiln_rpc_parse_data (node, call->what, &error);

        ok = bytes != NULL;
        if (ok)
          g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
      }
      break;

    case RESULT_TRANSACTION_HASH:
      {
        guint8 hash[KILN_RPC_HASH_SIZE];

        ok = kiln_rpc_parse_fixed_data (node, call->what, hash, sizeof hash, &error);
        if (ok && memcmp (hash, call->hash, sizeof hash) != 0)
          {
            ok = FALSE;
            g_set_error_literal (&error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE,
                                 _("the transaction hash it reports is not the hash of the "
                                   "transaction sent"));
          }
        if (ok)
          g_task_return_pointer (task, g_memdup2 (hash, sizeof hash), g_free);
      }
      break;

    case RESULT_RECEIPT:
      {
        g_autoptr(KilnRpcReceipt) receipt = kiln_rpc_parse_receipt (node, &error);

        ok = error == NULL;
        if (ok && receipt != NULL
            && memcmp (receipt->transaction_hash, call->hash, KILN_RPC_HASH_SIZE) != 0)
          {
            ok = FALSE;
            g_set_error_literal (&error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE,
                                 _("the receipt is for another transaction"));
          }
        if (ok)
          g_task_return_pointer (task, g_steal_pointer (&receipt),
                                 (GDestroyNotify) kiln_rpc_receipt_unref);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  if (!ok)
    {
      g_prefix_error (&error, _("The Ethereum node at %s sent an invalid answer to %s: "),
                      self->display_name, call->method);
      g_task_return_error (task, g_steal_pointer (&error));
    }
}

/* Starts @method with @params (taken) for a typed method whose finish function checks
 * @source_tag. */
static void
typed_call (KilnRpcClient       *self,
            gpointer             source_tag,
            const char          *method,
            JsonNode            *params,
            ResultKind           kind,
            const char          *what,
            const guint8        *hash,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(JsonNode) owned_params = params;
  g_autoptr(GTask) task = NULL;
  TypedCall *call;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  call = g_new0 (TypedCall, 1);
  call->kind = kind;
  call->method = g_strdup (method);
  call->what = g_strdup (what);
  if (hash != NULL)
    memcpy (call->hash, hash, KILN_RPC_HASH_SIZE);
  g_task_set_task_data (task, call, typed_call_free);

  kiln_rpc_client_call_async (self, method, owned_params, cancellable, on_typed_call_done,
                              g_steal_pointer (&task));
}

static gpointer
propagate_typed (KilnRpcClient  *self,
                 GAsyncResult   *result,
                 gpointer        source_tag,
                 GError        **error)
{
  g_return_val_if_fail (KILN_IS_RPC_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
propagate_uint64 (KilnRpcClient  *self,
                  GAsyncResult   *result,
                  gpointer        source_tag,
                  guint64        *out,
                  GError        **error)
{
  g_autofree guint64 *value = propagate_typed (self, result, source_tag, error);

  if (value == NULL)
    return FALSE;
  if (out != NULL)
    *out = *value;
  return TRUE;
}

/* Parameters */

static char *
hex_data (const guint8 *data,
          gsize         len)
{
  g_autofree char *hex = kiln_hex_encode (data, len);

  return g_strconcat ("0x", hex, NULL);
}

static char *
address_hex (const KilnAddress *address)
{
  return hex_data (address->bytes, KILN_ADDRESS_SIZE);
}

static char *
bytes_hex (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  return hex_data (data, len);
}

static gboolean
block_is_valid (const char *block)
{
  static const char *const names[] = { "latest", "pending", "safe", "finalized", "earliest" };
  KilnUint256 number;

  if (block == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (block, names[i]) == 0)
      return TRUE;
  return kiln_rpc_parse_quantity_text (block, "block", &number, NULL);
}

static JsonNode *
params_new (JsonBuilder *builder)
{
  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}

static void
add_member (JsonBuilder *builder,
            const char  *name,
            char        *value)
{
  g_autofree char *owned = value;

  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, owned);
}

/* eth_chainId, eth_blockNumber */

void
kiln_rpc_client_get_chain_id_async (KilnRpcClient       *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (KILN_IS_RPC_CLIENT (self));

  typed_call (self, kiln_rpc_client_get_chain_id_async, "eth_chainId", NULL, RESULT_UINT64,
              "the chain id", NULL, cancellable, callback, user_data);
}

gboolean
kiln_rpc_client_get_chain_id_finish (KilnRpcClient  *self,
                                     GAsyncResult   *result,
                                     guint64        *out,
                                     GError        **error)
{
  return propagate_uint64 (self, result, kiln_rpc_client_get_chain_id_async, out, error);
}

void
kiln_rpc_client_get_block_number_async (KilnRpcClient       *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (KILN_IS_RPC_CLIENT (self));

  typed_call (self, kiln_rpc_client_get_block_number_async, "eth_blockNumber", NULL,
              RESULT_UINT64, "the block number", NULL, cancellable, callback, user_data);
}

gboolean
kiln_rpc_client_get_block_number_finish (KilnRpcClient  *self,
                                         GAsyncResult   *result,
                                         guint64        *out,
                                         GError        **error)
{
  return propagate_uint64 (self, result, kiln_rpc_client_get_block_number_async, out, error);
}

/* eth_getBalance, eth_getTransactionCount */

static JsonNode *
address_block_params (const KilnAddress *address,
                      const char        *block)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *hex = address_hex (address);

  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, hex);
  json_builder_add_string_value (builder, block);
  return params_new (builder);
}

void
kiln_rpc_client_get_balance_async (KilnRpcClient       *self,
                                   const KilnAddress   *address,
                                   const char          *block,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (KILN_IS_RPC_CLIENT (self));
  g_return_if_fail (address != NULL);
  g_return_if_fail (block_is_valid (block));

  typed_call (self, kiln_rpc_client_get_balance_async, "eth_getBalance",
              address_block_params (address, block), RESULT_UINT256, "the balance", NULL,
              cancellable, callback, user_data);
}

gboolean
kiln_rpc_client_get_balance_finish (KilnRpcClient  *self,
                                    GAsyncResult   *result,
                                    KilnUint256    *out,
                                    GError        **error)
{
  g_autofree KilnUint256 *value = propagate_typed (self, result,
                                                   kiln_rpc_client_get_balance_async, error);

  if (value == NULL)
    return FALSE;
  if (out != NULL)
    *out = *value;
  return TRUE;
}

void
kiln_rpc_client_get_transaction_count_async (KilnRpcClient       *self,
                                             const KilnAddress   *address,
                                             const char          *block,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  g_return_if_fail (KILN_IS_RPC_CLIENT (self));
  g_return_if_fail (address != NULL);
  g_return_if_fail (block_is_valid (block));

  typed_call (self, kiln_rpc_client_get_transaction_count_async, "eth_getTransactionCount",
              address_block_params (address, block), RESULT_UINT64, "the nonce", NULL,
              cancellable, callback, user_data);
}

gboolean
kiln_rpc_client_get_transaction_count_finish (KilnRpcClient  *self,
                                              GAsyncResult   *result,
                                              guint64        *out,
                                              GError        **error)
{
  return propagate_uint64 (self, result, kiln_rpc_client_get_transaction_count_async, out,
                           error);
}

/* eth_estimateGas, eth_call */

static void
add_transaction_object (JsonBuilder       *builder,
                        const KilnAddress *from,
                        const KilnAddress *to,
                        const KilnUint256 *value,
                        GBytes            *data)
{
  json_builder_begin_object (builder);
  if (from != NULL)
    add_member (builder, "from", address_hex (from));
  if (to != NULL)
    add_member (builder, "to", address_hex (to));
  if (value != NULL)
    add_member (builder, "value", kiln_uint256_to_hex (value));
  if (data != NULL)
    add_member (builder, "data", bytes_hex (data));
  json_builder_end_object (builder);
}

void
kiln_rpc_client_estimate_gas_async (KilnRpcClient       *self,
                                    const KilnAddress   *from,
                                    const KilnAddress   *to,
                                    const KilnUint256   *value,
                                    GBytes              *data,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_if_fail (KILN_IS_RPC_CLIENT (self));

  json_builder_begin_array (builder);
  add_transaction_object (builder, from, to, value, data);
  typed_call (self, kiln_rpc_client_estimate_gas_async, "eth_estimateGas", params_new (builder),
              RESULT_UINT64, "the gas estimate", NULL, cancellable, callback, user_data);
}

gboolean
kiln_rpc_client_estimate_gas_finish (KilnRpcClient  *self,
                                     GAsyncResult   *result,
                                     guint64        *out,
                                     GError        **error)
{
  return propagate_uint64 (self, result, kiln_rpc_client_estimate_gas_async, out, error);
}

void
kiln_rpc_client_call_contract_async (KilnRpcClient       *self,
                                     const KilnAddress   *from,
                                     const KilnAddress   *to,
                                     GBytes              *data,
                                     const char          *block,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_if_fail (KILN_IS_RPC_CLIENT (self));
  g_return_if_fail (to != NULL);
  g_return_if_fail (data != NULL);
  g_return_if_fail (block_is_valid (block));

  json_builder_begin_array (builder);
  add_transaction_object (builder, from, to, NULL, data);
  json_builder_add_string_value (builder, block);
  typed_call (self, kiln_rpc_client_call_contract_async, "eth_call", params_new (builder),
              RESULT_DATA, "the call's result", NULL, cancellable, callback, user_data);
}

GBytes *
kiln_rpc_client_call_contract_finish (KilnRpcClient  *self,
                                      GAsyncResult   *result,
                                      GError        **error)
{
  return propagate_typed (self, result, kiln_rpc_client_call_contract_async, error);
}

/* eth_sendRawTransaction, eth_getTransactionReceipt */

void
kiln_rpc_client_send_raw_transaction_async (KilnRpcClient       *self,
                                            GBytes              *raw,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *hex = NULL;
  guint8 hash[KILN_RPC_HASH_SIZE];
  gsize len;
  const guint8 *data;

  g_return_if_fail (KILN_IS_RPC_CLIENT (self));
  g_return_if_fail (raw != NULL && g_bytes_get_size (raw) > 0);

  data = g_bytes_get_data (raw, &len);
  kiln_keccak256 (data, len, hash);
  hex = hex_data (data, len);

  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, hex);

  /* Like every request, this one is retried when the node cannot be reached or fails with
   * HTTP 5xx. That is safe: the same signed bytes are the same transaction with the same hash
   * and nonce, so a node that received them twice still has one transaction, and a second
   * "already known" answer counts as success. */
  typed_call (self, kiln_rpc_client_send_raw_transaction_async, "eth_sendRawTransaction",
              params_new (builder), RESULT_TRANSACTION_HASH, "the transaction hash", hash,
              cancellable, callback, user_data);
}

gboolean
kiln_rpc_client_send_raw_transaction_finish (KilnRpcClient  *self,
                                             GAsyncResult   *result,
                                             guint8          hash[KILN_RPC_HASH_SIZE],
                                             GError        **error)
{
  g_autofree guint8 *value = propagate_typed (self, result,
                                              kiln_rpc_client_send_raw_transaction_async,
                                              error);

  if (value == NULL)
    return FALSE;
  if (hash != NULL)
    memcpy (hash, value, KILN_RPC_HASH_SIZE);
  return TRUE;
}

void
kiln_rpc_client_get_transaction_receipt_async (KilnRpcClient       *self,
                                               const guint8         hash[KILN_RPC_HASH_SIZE],
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *hex = NULL;

  g_return_if_fail (KILN_IS_RPC_CLIENT (self));
  g_return_if_fail (hash != NULL);

  hex = hex_data (hash, KILN_RPC_HASH_SIZE);
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, hex);
  typed_call (self, kiln_rpc_client_get_transaction_receipt_async, "eth_getTransactionReceipt",
              params_new (builder), RESULT_RECEIPT, "the receipt", hash, cancellable, callback,
              user_data);
}

KilnRpcReceipt *
kiln_rpc_client_get_transaction_receipt_finish (KilnRpcClient  *self,
                                                GAsyncResult   *result,
                                                GError        **error)
{
  return propagate_typed (self, result, kiln_rpc_client_get_transaction_receipt_async, error);
}

/* Fees: eth_feeHistory, or eth_gasPrice where that is not supported */

static void
on_gas_price (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnRpcClient *self = KILN_RPC_CLIENT (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  KilnRpcFeeData fees = { 0 };

  node = kiln_rpc_client_call_finish (self, result, &error);
  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!kiln_rpc_parse_quantity (node, "the gas price", &fees.max_fee_per_gas, &error))
    {
      g_prefix_error (&error, _("The Ethereum node at %s sent an invalid answer to %s: "),
                      self->display_name, "eth_gasPrice");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  fees.eip1559 = FALSE;
  fees.max_priority_fee_per_gas = fees.max_fee_per_gas;
  g_task_return_pointer (task, g_memdup2 (&fees, sizeof fees), g_free);
}

static void
on_fee_history (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnRpcClient *self = KILN_RPC_CLIENT (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  GCancellable *cancellable;
  KilnRpcFeeData fees;

  node = kiln_rpc_client_call_finish (self, result, &error);
  if (node == NULL)
    {
      gint64 code = kiln_rpc_error_get_server_code (error);

      if (!g_error_matches (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER)
          || (code != KILN_RPC_CODE_METHOD_NOT_FOUND && code != KILN_RPC_CODE_NOT_SUPPORTED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_debug ("%s has no eth_feeHistory (%s): asking eth_gasPrice", self->display_name,
               error->message);
    }
  else if (!kiln_rpc_parse_fee_history (node, &fees, &error))
    {
      g_prefix_error (&error, _("The Ethereum node at %s sent an invalid answer to %s: "),
                      self->display_name, "eth_feeHistory");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  else if (fees.eip1559)
    {
      g_task_return_pointer (task, g_memdup2 (&fees, sizeof fees), g_free);
      return;
    }

  cancellable = g_task_get_cancellable (task);
  kiln_rpc_client_call_async (self, "eth_gasPrice", NULL, cancellable, on_gas_price,
                              g_steal_pointer (&task));
}

void
kiln_rpc_client_get_fee_data_async (KilnRpcClient       *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) params = NULL;
  g_autoptr(GTask) task = NULL;
  char blocks[KILN_UINT256_HEX_SIZE];
  KilnUint256 n;

  g_return_if_fail (KILN_IS_RPC_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_rpc_client_get_fee_data_async);

  kiln_uint256_from_uint64 (&n, KILN_RPC_FEE_HISTORY_BLOCKS);
  kiln_uint256_format_hex (&n, blocks);
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, blocks);
  json_builder_add_string_value (builder, "latest");
  json_builder_begin_array (builder);
  json_builder_add_int_value (builder, KILN_RPC_FEE_REWARD_PERCENTILE);
  json_builder_end_array (builder);
  params = params_new (builder);

  kiln_rpc_client_call_async (self, "eth_feeHistory", params, cancellable, on_fee_history,
                              g_steal_pointer (&task));
}

gboolean
kiln_rpc_client_get_fee_data_finish (KilnRpcClient   *self,
                                     GAsyncResult    *result,
                                     KilnRpcFeeData  *out,
                                     GError         **error)
{
  g_autofree KilnRpcFeeData *fees = propagate_typed (self, result,
                                                     kiln_rpc_client_get_fee_data_async, error);

  if (fees == NULL)
    return FALSE;
  if (out != NULL)
    *out = *fees;
  return TRUE;
}
