/* fuzz-rpc-response.c: JSON-RPC answers from a hostile Ethereum node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Parses the input as the answer to request 1, then reads the result every way the client
 * does: as a quantity, a 64-bit number, data, a hash, a receipt and a fee history. Nothing may
 * crash, leak, warn or read out of bounds, whatever the input.
 */
#include <stdint.h>

#include "kiln-rpc-parse.h"
#include "fuzz-target.h"

static void
read_result (JsonNode *result)
{
  g_autoptr(GBytes) data = NULL;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  g_autoptr(GError) receipt_error = NULL;
  KilnRpcFeeData fees;
  KilnUint256 quantity;
  guint8 hash[32];
  guint64 number;

  kiln_rpc_parse_quantity (result, "result", &quantity, NULL);
  kiln_rpc_parse_uint64 (result, "result", &number, NULL);
  data = kiln_rpc_parse_data (result, "result", NULL);
  kiln_rpc_parse_fixed_data (result, "result", hash, sizeof hash, NULL);

  receipt = kiln_rpc_parse_receipt (result, &receipt_error);
  g_assert (receipt == NULL || receipt_error == NULL);
  if (receipt != NULL)
    {
      KilnUint256 fee;

      kiln_rpc_receipt_get_fee (receipt, &fee);
      g_assert (receipt->logs != NULL);
      for (guint i = 0; i < receipt->logs->len; i++)
        {
          KilnRpcLog *log = &g_array_index (receipt->logs, KilnRpcLog, i);

          g_assert (log->n_topics <= KILN_RPC_MAX_LOG_TOPICS);
          g_assert (log->data != NULL);
        }
    }

  if (kiln_rpc_parse_fee_history (result, &fees, NULL) && fees.eip1559)
    g_assert (kiln_uint256_compare (&fees.max_fee_per_gas, &fees.base_fee_per_gas) >= 0);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) result = NULL;

  result = kiln_rpc_parse_response ((const char *) data, size, 1, &error);
  if (result == NULL)
    {
      g_autofree char *shown = NULL;

      g_assert (error != NULL && error->domain == KILN_RPC_ERROR);
      g_assert (g_utf8_validate (error->message, -1, NULL));
      /* The details of server errors, as the wallet reads them. */
      kiln_rpc_error_get_server_code (error);
      if (kiln_rpc_error_get_server_message (error) != NULL)
        shown = kiln_rpc_describe_text (kiln_rpc_error_get_server_message (error), 300);
      kiln_rpc_error_get_data (error);
      kiln_rpc_error_get_revert_reason (error);
      return 0;
    }

  g_assert (error == NULL);
  read_result (result);
  return 0;
}
