/* test-rpc-client.c: the JSON-RPC client against a real devnet and hostile loopback servers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three parts: the pure parsers, the client against a SoupServer on 127.0.0.1 scripted per test
 * (errors, retries, timeouts, oversized and malformed answers, cancellation), and the client
 * against the real devnet (anvil with the GNT token), started once for the tests that need it.
 */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "kiln-rpc-parse.h"
#include "kiln-test-devnet.h"
#include "libkiln.h"

#define WAIT_LIMIT_US (60 * G_USEC_PER_SEC)
#define GWEI          G_GUINT64_CONSTANT (1000000000)

/* Waiting on the main loop */

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
on_result (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

static GAsyncResult *
await_result (GAsyncResult **slot)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;
  guint tick = g_timeout_add (50, on_tick, NULL);

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
  return g_steal_pointer (slot);
}

static gboolean
on_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Synchronous forms of the client's calls, for the tests */

static JsonNode *
call_sync (KilnRpcClient *client,
           const char    *method,
           JsonNode      *params,
           GError       **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_call_async (client, method, params, NULL, on_result, &result);
  done = await_result (&result);
  return kiln_rpc_client_call_finish (client, done, error);
}

static gboolean
chain_id_sync (KilnRpcClient *client,
               guint64       *out,
               GError       **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_get_chain_id_async (client, NULL, on_result, &result);
  done = await_result (&result);
  return kiln_rpc_client_get_chain_id_finish (client, done, out, error);
}

static gboolean
block_number_sync (KilnRpcClient *client,
                   guint64       *out,
                   GError       **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_get_block_number_async (client, NULL, on_result, &result);
  done = await_result (&result);
  return kiln_rpc_client_get_block_number_finish (client, done, out, error);
}

static gboolean
balance_sync (KilnRpcClient     *client,
              const KilnAddress *address,
              const char        *block,
              KilnUint256       *out,
              GError           **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_get_balance_async (client, address, block, NULL, on_result, &result);
  done = await_result (&result);
  return kiln_rpc_client_get_balance_finish (client, done, out, error);
}

static gboolean
nonce_sync (KilnRpcClient     *client,
            const KilnAddress *address,
            const char        *block,
            guint64           *out,
            GError           **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_get_transaction_count_async (client, address, block, NULL, on_result,
                                               &result);
  done = await_result (&result);
  return kiln_rpc_client_get_transaction_count_finish (client, done, out, error);
}

static gboolean
fee_data_sync (KilnRpcClient  *client,
               KilnRpcFeeData *out,
               GError        **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_get_fee_data_async (client, NULL, on_result, &result);
  done = await_result (&result);
  return kiln_rpc_client_get_fee_data_finish (client, done, out, error);
}

static gboolean
estimate_gas_sync (KilnRpcClient     *client,
                   const KilnAddress *from,
                   const KilnAddress *to,
                   const KilnUint256 *value,
                   GBytes            *data,
                   guint64           *out,
                   GError           **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_estimate_gas_async (client, from, to, value, data, NULL, on_result, &result);
  done = await_result (&result);
  return kiln_rpc_client_estimate_gas_finish (client, done, out, error);
}

static GBytes *
call_contract_sync (KilnRpcClient     *client,
                    const KilnAddress *from,
                    const KilnAddress *to,
                    GBytes            *data,
                    GError           **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_call_contract_async (client, from, to, data, "latest", NULL, on_result,
                                       &result);
  done = await_result (&result);
  return kiln_rpc_client_call_contract_finish (client, done, error);
}

static gboolean
send_raw_sync (KilnRpcClient *client,
               GBytes        *raw,
               guint8         hash[KILN_RPC_HASH_SIZE],
               GError       **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_send_raw_transaction_async (client, raw, NULL, on_result, &result);
  done = await_result (&result);
  return kiln_rpc_client_send_raw_transaction_finish (client, done, hash, error);
}

static KilnRpcReceipt *
receipt_sync (KilnRpcClient *client,
              const guint8   hash[KILN_RPC_HASH_SIZE],
              GError       **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;

  kiln_rpc_client_get_transaction_receipt_async (client, hash, NULL, on_result, &result);
  done = await_result (&result);
  return kiln_rpc_client_get_transaction_receipt_finish (client, done, error);
}

/* Values */

static KilnUint256
u256 (const char *text)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 value;

  g_assert_true (kiln_uint256_parse (&value, text, &error));
  g_assert_no_error (error);
  return value;
}

static void
assert_u256 (const KilnUint256 *value,
             const char        *expected)
{
  g_autofree char *text = kiln_uint256_to_string (value);

  g_assert_cmpstr (text, ==, expected);
}

static JsonNode *
json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

static KilnRpcClient *
client_new (const char *url)
{
  g_autoptr(GError) error = NULL;
  KilnRpcClient *client = kiln_rpc_client_new (url, &error);

  g_assert_no_error (error);
  g_assert_nonnull (client);
  return client;
}

/* The pure parsers */

static void
test_parse_quantity (void)
{
  static const struct
  {
    const char *text;
    const char *value;   /* NULL: refused */
  } cases[] = {
    { "0x0", "0" },
    { "0x1", "1" },
    { "0xff", "255" },
    { "0xFF", "255" },
    { "0x00ff", "255" },   /* leading zeros: not canonical, accepted */
    { "0x0000000000000000000000000000000000000000000000000000000000000000000000000001", "1" },
    { "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "115792089237316195423570985008687907853269984665640564039457584007913129639935" },
    { "0x10000000000000000000000000000000000000000000000000000000000000000", NULL },
    { "0x", NULL },
    { "", NULL },
    { "0", NULL },
    { "ff", NULL },
    { "0XFF", NULL },
    { "255", NULL },
    { "-0x1", NULL },
    { "0x-1", NULL },
    { "0x 1", NULL },
    { " 0x1", NULL },
    { "0x1 ", NULL },
    { "0xg", NULL },
    { "0x1.5", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      KilnUint256 value;
      gboolean ok = kiln_rpc_parse_quantity_text (cases[i].text, "the value", &value, &error);

      if (cases[i].value != NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          assert_u256 (&value, cases[i].value);
        }
      else
        {
          g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
          g_assert_false (ok);
        }
    }
}

static void
test_parse_uint64 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) max = json ("\"0xffffffffffffffff\"");
  g_autoptr(JsonNode) over = json ("\"0x10000000000000000\"");
  g_autoptr(JsonNode) number = json ("21000");
  g_autoptr(JsonNode) null = json ("null");
  guint64 value = 0;

  g_assert_true (kiln_rpc_parse_uint64 (max, "gasUsed", &value, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, G_MAXUINT64);

  g_assert_false (kiln_rpc_parse_uint64 (over, "gasUsed", &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_assert_nonnull (strstr (error->message, "gasUsed is larger than 64 bits"));
  g_clear_error (&error);

  /* JSON numbers are not quantities. */
  g_assert_false (kiln_rpc_parse_uint64 (number, "gasUsed", &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_clear_error (&error);
  g_assert_false (kiln_rpc_parse_uint64 (null, "gasUsed", &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_clear_error (&error);
  g_assert_false (kiln_rpc_parse_uint64 (NULL, "gasUsed", &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_assert_nonnull (strstr (error->message, "gasUsed is missing"));
}

static void
test_parse_data (void)
{
  static const char *const refused[] = { "", "0x0", "0xabc", "0xzz", "abcd", "0X00", "0x 0" };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) empty = kiln_rpc_parse_data_text ("0x", "data", &error);
  g_autoptr(GBytes) mixed = NULL;
  g_autoptr(JsonNode) short_hash = json ("\"0x1234\"");
  guint8 hash[32];

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (empty), ==, 0);

  mixed = kiln_rpc_parse_data_text ("0x00aBcD", "data", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (mixed, NULL), g_bytes_get_size (mixed),
                   "\x00\xab\xcd", 3);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GBytes) bytes = kiln_rpc_parse_data_text (refused[i], "data", &error);

      g_assert_null (bytes);
      g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
      g_clear_error (&error);
    }

  g_assert_false (kiln_rpc_parse_fixed_data (short_hash, "blockHash", hash, 32, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_assert_nonnull (strstr (error->message, "blockHash has 2 bytes instead of 32"));
}

static JsonNode *
parse_text (const char *text,
            gint64      id,
            GError    **error)
{
  return kiln_rpc_parse_response (text, strlen (text), id, error);
}

static void
test_parse_response (void)
{
  static const char *const invalid[] = {
    "",
    "   ",
    "null",
    "42",
    "\"0x1\"",
    "[{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x1\"}]",
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x1\"",
    "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":\"0x1\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"result\":\"0x1\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":7.0,\"result\":\"0x1\"}",
    "{\"jsonrpc\":\"2.0\",\"result\":\"0x1\"}",
    "{\"jsonrpc\":\"1.0\",\"id\":7,\"result\":\"0x1\"}",
    "{\"jsonrpc\":2,\"id\":7,\"result\":\"0x1\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":7}",
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":1,\"error\":{\"code\":1,\"message\":\"x\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":\"nonce too low\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":\"-32000\",\"message\":\"x\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32000}}",
    "<html><body>502 Bad Gateway</body></html>",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autofree char *deep = NULL;

  result = parse_text ("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x7a69\"}", 7, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (result), ==, "0x7a69");
  g_clear_pointer (&result, json_node_unref);

  /* Without "jsonrpc", and with a null result. */
  result = parse_text ("{\"id\":7,\"result\":null}", 7, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_NULL (result));
  g_clear_pointer (&result, json_node_unref);

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      result = parse_text (invalid[i], 7, &error);
      g_assert_null (result);
      g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
      g_clear_error (&error);
    }

  /* Not UTF-8, a NUL byte, nesting deep enough to crash a recursive parser. */
  result = kiln_rpc_parse_response ("{\"id\":7,\"result\":\"\xff\"}", 21, 7, &error);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_clear_error (&error);
  result = kiln_rpc_parse_response ("{\"id\":7,\"result\":\"\0\"}", 21, 7, &error);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_clear_error (&error);
  deep = g_strnfill (1000000, '[');
  result = parse_text (deep, 7, &error);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_assert_nonnull (strstr (error->message, "nested"));
  g_clear_error (&error);
}

static void
test_parse_server_error (void)
{
  /* Error(string) with "GNT: transfer amount exceeds balance". */
  static const char revert_data[] =
    "0x08c379a0"
    "0000000000000000000000000000000000000000000000000000000000000020"
    "0000000000000000000000000000000000000000000000000000000000000024"
    "474e543a207472616e7366657220616d6f756e7420657863656564732062616c"
    "616e636500000000000000000000000000000000000000000000000000000000";
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) copy = NULL;
  g_autofree char *text = NULL;
  JsonNode *result;

  result = parse_text ("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32000,"
                       "\"message\":\"nonce too low\"}}", 3, &error);
  g_assert_null (result);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
  g_assert_cmpint (kiln_rpc_error_get_server_code (error), ==, -32000);
  g_assert_cmpstr (kiln_rpc_error_get_server_message (error), ==, "nonce too low");
  g_assert_nonnull (strstr (error->message, "nonce too low"));

  /* The details survive copies (GTask and callers copy errors). */
  copy = g_error_copy (error);
  g_assert_cmpint (kiln_rpc_error_get_server_code (copy), ==, -32000);
  g_assert_cmpstr (kiln_rpc_error_get_server_message (copy), ==, "nonce too low");
  g_clear_error (&error);

  /* An error about an unreadable request has a null id, and still counts. */
  result = parse_text ("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
                       "\"message\":\"Parse error\"}}", 3, &error);
  g_assert_null (result);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
  g_assert_cmpint (kiln_rpc_error_get_server_code (error), ==, -32700);
  g_clear_error (&error);

  /* A revert with data: the reason comes from the ABI-encoded Error(string). */
  text = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":3,\"message\":"
                          "\"execution reverted\",\"data\":\"%s\"}}", revert_data);
  result = parse_text (text, 3, &error);
  g_assert_null (result);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_REVERTED);
  g_assert_cmpstr (kiln_rpc_error_get_revert_reason (error), ==,
                   "GNT: transfer amount exceeds balance");
  g_assert_cmpstr (error->message, ==,
                   "The contract reverted the call: GNT: transfer amount exceeds balance");
  g_assert_cmpuint (g_bytes_get_size (kiln_rpc_error_get_data (error)), ==, 4 + 4 * 32);
  g_clear_error (&error);

  /* A revert without data: the reason is in the message. */
  result = parse_text ("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32000,"
                       "\"message\":\"execution reverted: GNT: caller is not the owner\"}}",
                       3, &error);
  g_assert_null (result);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_REVERTED);
  g_assert_cmpstr (kiln_rpc_error_get_revert_reason (error), ==, "GNT: caller is not the owner");
  g_clear_error (&error);

  /* Control characters and overlong messages are tamed in the message, kept in the detail. */
  {
    g_autofree char *long_message = g_strnfill (5000, 'x');
    g_autofree char *body = g_strdup_printf ("{\"id\":3,\"error\":{\"code\":1,\"message\":"
                                             "\"a\\nb\\u001b[31m%s\"}}", long_message);

    result = parse_text (body, 3, &error);
    g_assert_null (result);
    g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
    g_assert_null (strchr (error->message, '\n'));
    g_assert_null (strchr (error->message, '\033'));
    g_assert_cmpuint (strlen (error->message), <, 400);
    g_assert_cmpuint (strlen (kiln_rpc_error_get_server_message (error)), ==, 5000 + 8);
    g_clear_error (&error);
  }

  /* Errors of other domains have no details. */
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_assert_cmpint (kiln_rpc_error_get_server_code (error), ==, 0);
  g_assert_null (kiln_rpc_error_get_server_message (error));
  g_assert_null (kiln_rpc_error_get_data (error));
  g_assert_cmpuint (kiln_rpc_error_get_http_status (error), ==, 0);
}

static const char receipt_json[] =
  "{\"transactionHash\":\"0x1111111111111111111111111111111111111111111111111111111111111111\","
  "\"blockHash\":\"0x2222222222222222222222222222222222222222222222222222222222222222\","
  "\"blockNumber\":\"0x10\",\"transactionIndex\":\"0x0\",\"gasUsed\":\"0x5208\","
  "\"cumulativeGasUsed\":\"0x5208\",\"effectiveGasPrice\":\"0x3b9aca07\","
  "\"from\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\","
  "\"to\":\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\",\"contractAddress\":null,"
  "\"status\":\"0x1\",\"logs\":[{\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
  "\"topics\":[\"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\"],"
  "\"data\":\"0x2a\",\"logIndex\":\"0x0\"}]}";

static void
test_parse_receipt (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json (receipt_json);
  g_autoptr(JsonNode) null = json ("null");
  g_autoptr(KilnRpcReceipt) receipt = kiln_rpc_parse_receipt (node, &error);
  KilnUint256 fee;
  KilnRpcLog *log;

  g_assert_no_error (error);
  g_assert_nonnull (receipt);
  g_assert_true (receipt->success);
  g_assert_cmpuint (receipt->block_number, ==, 16);
  g_assert_cmpuint (receipt->gas_used, ==, 21000);
  g_assert_true (receipt->has_to);
  g_assert_false (receipt->has_contract_address);
  g_assert_cmpuint (receipt->transaction_hash[31], ==, 0x11);
  g_assert_true (kiln_rpc_receipt_get_fee (receipt, &fee));
  assert_u256 (&fee, "21000000147000");
  g_assert_cmpuint (receipt->logs->len, ==, 1);
  log = &g_array_index (receipt->logs, KilnRpcLog, 0);
  g_assert_cmpuint (log->n_topics, ==, 1);
  g_assert_cmpuint (log->topics[0][0], ==, 0xdd);
  g_assert_cmpuint (g_bytes_get_size (log->data), ==, 1);

  /* Pending: null, or no block yet. */
  g_assert_null (kiln_rpc_parse_receipt (null, &error));
  g_assert_no_error (error);

  /* Broken in one field at a time. */
  {
    static const struct
    {
      const char *from;
      const char *to;
    } edits[] = {
      { "\"status\":\"0x1\"", "\"status\":\"0x2\"" },
      { "\"status\":\"0x1\"", "\"root\":\"0x1\"" },
      { "\"gasUsed\":\"0x5208\"", "\"gasUsed\":21000" },
      { "\"logIndex\":\"0x0\"", "\"logIndex\":\"0x\"" },
      { "\"topics\":[", "\"topics\":[\"0x00\"," },
      { "\"data\":\"0x2a\"", "\"data\":\"0x2\"" },
      { "\"logs\":[", "\"logs\":{\"a\":[" },
      { "\"from\":\"0xf39f", "\"from\":\"0xf39" },
      { "\"effectiveGasPrice\":\"0x3b9aca07\"",
        "\"effectiveGasPrice\":\"0x13b9aca07000000000000000000000000000000"
        "00000000000000000000000000\"" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
      {
        g_autofree char *text = NULL;
        g_autoptr(JsonNode) broken = NULL;
        g_autoptr(KilnRpcReceipt) none = NULL;
        char **parts = g_strsplit (receipt_json, edits[i].from, 2);

        g_assert_cmpuint (g_strv_length (parts), ==, 2);
        text = g_strjoin (edits[i].to, parts[0], parts[1], NULL);
        g_strfreev (parts);
        broken = json_from_string (text, NULL);
        if (broken == NULL)
          continue;   /* the edit made it invalid JSON: covered by the response tests */
        none = kiln_rpc_parse_receipt (broken, &error);
        g_assert_null (none);
        g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
        g_clear_error (&error);
      }
  }
}

static void
test_parse_fee_history (void)
{
  g_autoptr(GError) error = NULL;
  KilnRpcFeeData fees;
  g_autoptr(JsonNode) history = NULL;
  g_autoptr(JsonNode) empty_blocks = NULL;
  g_autoptr(JsonNode) legacy = NULL;
  g_autoptr(JsonNode) broken = NULL;

  /* Tips 10, (0 in an empty block: skipped), 30, 20: the median of 10, 20, 30 is 20. */
  history = json ("{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x2\",\"0x3\",\"0x4\","
                  "\"0x64\"],\"gasUsedRatio\":[0.5,0,0.9,0.1],"
                  "\"reward\":[[\"0xa\"],[\"0x0\"],[\"0x1e\"],[\"0x14\"]]}");
  g_assert_true (kiln_rpc_parse_fee_history (history, &fees, &error));
  g_assert_no_error (error);
  g_assert_true (fees.eip1559);
  assert_u256 (&fees.base_fee_per_gas, "100");
  assert_u256 (&fees.max_priority_fee_per_gas, "20");
  assert_u256 (&fees.max_fee_per_gas, "220");

  /* Only empty blocks: the default tip of 1 gwei. */
  empty_blocks = json ("{\"baseFeePerGas\":[\"0x3b9aca00\",\"0x342770c0\"],"
                       "\"gasUsedRatio\":[0.0],\"reward\":[[\"0x0\"]]}");
  g_assert_true (kiln_rpc_parse_fee_history (empty_blocks, &fees, &error));
  g_assert_no_error (error);
  assert_u256 (&fees.max_priority_fee_per_gas, "1000000000");
  assert_u256 (&fees.max_fee_per_gas, "2750000000");

  /* No base fee: not EIP-1559, not an error. */
  legacy = json ("{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x0\",\"0x0\"],"
                 "\"gasUsedRatio\":[0.5]}");
  g_assert_true (kiln_rpc_parse_fee_history (legacy, &fees, &error));
  g_assert_no_error (error);
  g_assert_false (fees.eip1559);

  broken = json ("{\"baseFeePerGas\":[\"0x1\",\"0xffffffffffffffffffffffffffffffffffffffffffff"
                 "ffffffffffffffffffff\"],\"gasUsedRatio\":[1],\"reward\":[[\"0x1\"]]}");
  g_assert_false (kiln_rpc_parse_fee_history (broken, &fees, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
}

/* URLs */

static void
test_url (void)
{
  static const char *const refused[] = {
    "", "ws://127.0.0.1:8545", "wss://node.example", "ftp://node.example", "file:///tmp/node",
    "127.0.0.1:8545", "http://", "not a url", "http://[::1",
  };
  g_autoptr(KilnRpcClient) client = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(KilnRpcClient) none = kiln_rpc_client_new (refused[i], &error);

      g_assert_null (none);
      g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_URL);
    }

  /* The display name leaves out the path, where providers put API keys. */
  client = client_new ("https://user:pass@node.example:8443/v3/0123456789abcdef?key=x");
  g_assert_cmpstr (kiln_rpc_client_get_display_name (client), ==, "https://node.example:8443");
  g_assert_cmpuint (kiln_rpc_client_get_timeout (client), ==, KILN_RPC_DEFAULT_TIMEOUT);
  g_assert_cmpuint (kiln_rpc_client_get_max_attempts (client), ==, 3);
  g_assert_finalize_object (g_steal_pointer (&client));

  client = client_new ("HTTP://[::1]:8545");
  g_assert_cmpstr (kiln_rpc_client_get_display_name (client), ==, "http://[::1]:8545");
}

/* A scripted JSON-RPC server on 127.0.0.1 */

typedef struct
{
  guint    status;
  char    *content_type;
  char    *body;          /* "%ID%" becomes the request's id; NULL: never answer */
  char    *retry_after;
  gsize    huge;          /* answer this many bytes (a JSON string result) */
  gboolean chunked;       /* with chunked encoding, so no length is announced */
  gboolean trickle;       /* answer one space every 100 ms, forever */
} Reply;

typedef struct
{
  SoupServer *server;
  char       *url;
  GPtrArray  *replies;    /* used in order; the last one repeats */
  guint       n_replied;
  GPtrArray  *methods;
  GArray     *ids;
  GPtrArray  *held;       /* messages never answered */
  GPtrArray  *trickles;
} TestServer;

typedef struct
{
  SoupServerMessage *message;
  guint              source;
} Trickle;

static void
reply_free (gpointer data)
{
  Reply *reply = data;

  g_free (reply->content_type);
  g_free (reply->body);
  g_free (reply->retry_after);
  g_free (reply);
}

static void
trickle_stop (Trickle *trickle)
{
  g_clear_handle_id (&trickle->source, g_source_remove);
}

static void
trickle_free (gpointer data)
{
  Trickle *trickle = data;

  trickle_stop (trickle);
  g_signal_handlers_disconnect_by_data (trickle->message, trickle);
  g_object_unref (trickle->message);
  g_free (trickle);
}

static gboolean
on_trickle_tick (gpointer user_data)
{
  Trickle *trickle = user_data;

  soup_message_body_append (soup_server_message_get_response_body (trickle->message),
                            SOUP_MEMORY_STATIC, " ", 1);
  soup_server_message_unpause (trickle->message);
  soup_server_message_pause (trickle->message);
  return G_SOURCE_CONTINUE;
}

static Reply *
server_add_reply (TestServer *ts,
                  guint       status,
                  const char *content_type,
                  const char *body)
{
  Reply *reply = g_new0 (Reply, 1);

  reply->status = status;
  reply->content_type = g_strdup (content_type);
  reply->body = g_strdup (body);
  g_ptr_array_add (ts->replies, reply);
  return reply;
}

static void
server_clear_replies (TestServer *ts)
{
  g_ptr_array_set_size (ts->replies, 0);
  ts->n_replied = 0;
}

static void
server_add_result (TestServer *ts,
                   const char *result)
{
  g_autofree char *body = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":%%ID%%,\"result\":%s}",
                                           result);

  server_add_reply (ts, 200, "application/json", body);
}

static void
on_request (SoupServer        *server,
            SoupServerMessage *message,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  TestServer *ts = user_data;
  g_autoptr(GBytes) request = soup_message_body_flatten (
    soup_server_message_get_request_body (message));
  g_autoptr(JsonNode) root = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (message);
  const char *type;
  Reply *reply;
  gint64 id = -1;

  /* Every request is a JSON-RPC 2.0 call with an integer id. */
  type = soup_message_headers_get_content_type (soup_server_message_get_request_headers (message),
                                                NULL);
  g_assert_cmpstr (type, ==, "application/json");
  g_assert_cmpstr (soup_server_message_get_method (message), ==, "POST");
  root = json_from_string (g_bytes_get_data (request, NULL), NULL);
  g_assert_nonnull (root);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "jsonrpc"), ==,
                   "2.0");
  id = json_object_get_int_member (json_node_get_object (root), "id");
  g_array_append_val (ts->ids, id);
  g_ptr_array_add (ts->methods,
                   g_strdup (json_object_get_string_member (json_node_get_object (root),
                                                            "method")));

  g_assert_cmpuint (ts->replies->len, >, 0);
  reply = g_ptr_array_index (ts->replies, MIN (ts->n_replied, ts->replies->len - 1));
  ts->n_replied++;

  if (reply->retry_after != NULL)
    soup_message_headers_replace (headers, "Retry-After", reply->retry_after);

  if (reply->trickle)
    {
      Trickle *trickle = g_new0 (Trickle, 1);

      trickle->message = g_object_ref (message);
      soup_server_message_set_status (message, 200, NULL);
      soup_message_headers_set_content_type (headers, "application/json", NULL);
      soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
      soup_server_message_pause (message);
      trickle->source = g_timeout_add (100, on_trickle_tick, trickle);
      g_signal_connect_swapped (message, "finished", G_CALLBACK (trickle_stop), trickle);
      g_signal_connect_swapped (message, "disconnected", G_CALLBACK (trickle_stop), trickle);
      g_ptr_array_add (ts->trickles, trickle);
      return;
    }

  if (reply->huge > 0)
    {
      g_autofree char *head = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":%" G_GINT64_FORMAT
                                               ",\"result\":\"", id);
      SoupMessageBody *body = soup_server_message_get_response_body (message);
      gsize chunk = 1024 * 1024;
      g_autofree char *filler = g_strnfill (chunk, 'a');

      soup_server_message_set_status (message, 200, NULL);
      soup_message_headers_set_content_type (headers, "application/json", NULL);
      soup_message_headers_set_encoding (headers, reply->chunked ? SOUP_ENCODING_CHUNKED
                                                                 : SOUP_ENCODING_CONTENT_LENGTH);
      soup_message_body_append (body, SOUP_MEMORY_COPY, head, strlen (head));
      for (gsize sent = 0; sent < reply->huge; sent += chunk)
        soup_message_body_append (body, SOUP_MEMORY_COPY, filler, chunk);
      soup_message_body_append (body, SOUP_MEMORY_STATIC, "\"}", 2);
      soup_message_body_complete (body);
      return;
    }

  if (reply->body == NULL)
    {
      soup_server_message_pause (message);
      g_ptr_array_add (ts->held, g_object_ref (message));
      return;
    }

  {
    g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
    g_auto(GStrv) parts = g_strsplit (reply->body, "%ID%", -1);
    g_autofree char *text = g_strjoinv (id_text, parts);

    soup_server_message_set_status (message, reply->status, NULL);
    soup_server_message_set_response (message, reply->content_type, SOUP_MEMORY_COPY, text,
                                      strlen (text));
  }
}

static TestServer *
server_new (void)
{
  TestServer *ts = g_new0 (TestServer, 1);
  g_autoptr(GError) error = NULL;
  GSList *uris;

  ts->server = soup_server_new ("server-header", "kiln-test ", NULL);
  soup_server_add_handler (ts->server, NULL, on_request, ts, NULL);
  g_assert_true (soup_server_listen_local (ts->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (ts->server);
  g_assert_nonnull (uris);
  ts->url = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  ts->replies = g_ptr_array_new_with_free_func (reply_free);
  ts->methods = g_ptr_array_new_with_free_func (g_free);
  ts->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  ts->held = g_ptr_array_new_with_free_func (g_object_unref);
  ts->trickles = g_ptr_array_new_with_free_func (trickle_free);
  return ts;
}

static void
server_free (TestServer *ts)
{
  g_ptr_array_set_size (ts->trickles, 0);
  for (guint i = 0; i < ts->held->len; i++)
    soup_server_message_unpause (g_ptr_array_index (ts->held, i));
  soup_server_disconnect (ts->server);
  g_ptr_array_unref (ts->trickles);
  g_ptr_array_unref (ts->held);
  g_assert_finalize_object (ts->server);
  g_ptr_array_unref (ts->replies);
  g_ptr_array_unref (ts->methods);
  g_array_unref (ts->ids);
  g_free (ts->url);
  g_free (ts);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestServer, server_free)

/* The client against the scripted server */

static void
test_ids_and_methods (void)
{
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) params = json ("[\"0x1\", true]");
  g_autoptr(JsonNode) result = NULL;
  guint64 value = 0;

  server_add_result (ts, "\"0x7a69\"");
  g_assert_true (chain_id_sync (client, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 31337);
  g_assert_true (block_number_sync (client, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 0x7a69);

  server_clear_replies (ts);
  server_add_result (ts, "{\"number\":\"0x1\"}");
  result = call_sync (client, "eth_getBlockByNumber", params, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));

  /* One id per request, increasing. */
  g_assert_cmpuint (ts->ids->len, ==, 3);
  for (guint i = 1; i < ts->ids->len; i++)
    g_assert_cmpint (g_array_index (ts->ids, gint64, i), >, g_array_index (ts->ids, gint64, i - 1));
  g_assert_cmpstr (g_ptr_array_index (ts->methods, 0), ==, "eth_chainId");
  g_assert_cmpstr (g_ptr_array_index (ts->methods, 1), ==, "eth_blockNumber");
  g_assert_cmpstr (g_ptr_array_index (ts->methods, 2), ==, "eth_getBlockByNumber");

  g_clear_pointer (&ts, server_free);
  g_assert_finalize_object (g_steal_pointer (&client));
}

static void
test_retry_5xx (void)
{
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);
  g_autoptr(GError) error = NULL;
  guint64 value = 0;

  /* A failing proxy, then the node. */
  server_add_reply (ts, 500, "text/plain", "Internal Server Error");
  server_add_reply (ts, 502, "text/html", "<html>Bad Gateway</html>");
  server_add_result (ts, "\"0x2a\"");
  g_assert_true (block_number_sync (client, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 42);
  g_assert_cmpuint (ts->ids->len, ==, 3);
  /* The same request each time. */
  g_assert_cmpint (g_array_index (ts->ids, gint64, 0), ==, g_array_index (ts->ids, gint64, 2));
}

static void
test_5xx_exhausted (void)
{
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);
  g_autoptr(GError) error = NULL;
  guint64 value = 0;

  server_add_reply (ts, 503, "text/plain", "Service Unavailable");
  g_assert_false (block_number_sync (client, &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP);
  g_assert_cmpuint (kiln_rpc_error_get_http_status (error), ==, 503);
  g_assert_cmpuint (ts->ids->len, ==, 3);
  g_assert_nonnull (strstr (error->message, "failed 3 times"));
  g_assert_nonnull (strstr (error->message, kiln_rpc_client_get_display_name (client)));
  g_clear_error (&error);

  /* With one attempt allowed, one request. */
  kiln_rpc_client_set_max_attempts (client, 1);
  g_assert_false (block_number_sync (client, &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP);
  g_assert_cmpuint (ts->ids->len, ==, 4);
}

static void
test_http_errors (void)
{
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);
  g_autoptr(GError) error = NULL;
  Reply *reply;
  guint64 value = 0;

  /* Client errors are not retried. */
  server_add_reply (ts, 404, "text/html", "<h1>Not Found</h1>");
  g_assert_false (block_number_sync (client, &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP);
  g_assert_cmpuint (kiln_rpc_error_get_http_status (error), ==, 404);
  g_assert_nonnull (strstr (error->message, "check the RPC URL"));
  g_assert_cmpuint (ts->ids->len, ==, 1);
  g_clear_error (&error);

  server_clear_replies (ts);
  server_add_reply (ts, 401, "text/plain", "Unauthorized");
  g_assert_false (block_number_sync (client, &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP);
  g_assert_nonnull (strstr (error->message, "API key"));
  g_assert_cmpuint (ts->ids->len, ==, 2);
  g_clear_error (&error);

  /* Redirects are not followed: a POST would become a GET. */
  server_clear_replies (ts);
  reply = server_add_reply (ts, 301, "text/plain", "Moved");
  g_assert_false (block_number_sync (client, &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP);
  g_assert_cmpuint (kiln_rpc_error_get_http_status (error), ==, 301);
  g_assert_cmpuint (ts->ids->len, ==, 3);
  g_clear_error (&error);

  /* Rate limiting: retried after Retry-After when that is short, not when it is long. */
  server_clear_replies (ts);
  reply = server_add_reply (ts, 429, "text/plain", "Too Many Requests");
  reply->retry_after = g_strdup ("1");
  server_add_result (ts, "\"0x5\"");
  g_assert_true (block_number_sync (client, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 5);
  g_assert_cmpuint (ts->ids->len, ==, 5);

  server_clear_replies (ts);
  reply = server_add_reply (ts, 429, "text/plain", "Too Many Requests");
  reply->retry_after = g_strdup ("3600");
  g_assert_false (block_number_sync (client, &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP);
  g_assert_cmpuint (kiln_rpc_error_get_http_status (error), ==, 429);
  g_assert_cmpuint (ts->ids->len, ==, 6);
}

static void
test_server_error (void)
{
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);
  g_autoptr(GError) error = NULL;
  guint8 raw[] = { 0x02, 0xc0 };
  g_autoptr(GBytes) bytes = g_bytes_new (raw, sizeof raw);
  guint8 hash[32];
  guint8 expected[32];
  guint64 value = 0;

  server_add_reply (ts, 200, "application/json",
                    "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32000,"
                    "\"message\":\"insufficient funds for gas * price + value\"}}");
  g_assert_false (send_raw_sync (client, bytes, hash, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
  g_assert_cmpint (kiln_rpc_error_get_server_code (error), ==, -32000);
  g_assert_cmpstr (kiln_rpc_error_get_server_message (error), ==,
                   "insufficient funds for gas * price + value");
  g_assert_nonnull (strstr (error->message, "refused eth_sendRawTransaction"));
  g_assert_nonnull (strstr (error->message, "insufficient funds"));
  g_assert_cmpuint (ts->ids->len, ==, 1);
  g_clear_error (&error);

  /* A JSON-RPC error is final even with an HTTP error status. */
  server_clear_replies (ts);
  server_add_reply (ts, 500, "application/json",
                    "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32603,"
                    "\"message\":\"internal error\"}}");
  g_assert_false (block_number_sync (client, &value, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
  g_assert_cmpint (kiln_rpc_error_get_server_code (error), ==, -32603);
  g_assert_cmpuint (ts->ids->len, ==, 2);
  g_clear_error (&error);

  /* "already known": the node has this very transaction, whose hash is known. */
  server_clear_replies (ts);
  server_add_reply (ts, 200, "application/json",
                    "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32000,"
                    "\"message\":\"already known\"}}");
  g_assert_true (send_raw_sync (client, bytes, hash, &error));
  g_assert_no_error (error);
  kiln_keccak256 (raw, sizeof raw, expected);
  g_assert_cmpmem (hash, 32, expected, 32);

  /* A hash that is not the transaction's. */
  server_clear_replies (ts);
  server_add_result (ts, "\"0x1111111111111111111111111111111111111111111111111111111111111111\"");
  g_assert_false (send_raw_sync (client, bytes, hash, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_clear_error (&error);

  /* A receipt for another transaction. */
  server_clear_replies (ts);
  server_add_result (ts, receipt_json);
  g_assert_null (receipt_sync (client, expected, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
  g_assert_nonnull (strstr (error->message, "another transaction"));
}

static void
test_malformed (void)
{
  static const struct
  {
    const char *content_type;
    const char *body;
    const char *message;   /* a part of the error message */
  } cases[] = {
    { "application/json", "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x1", "not valid JSON" },
    { "application/json", "", "empty" },
    { "application/json", "{\"jsonrpc\":\"2.0\",\"id\":999999,\"result\":\"0x1\"}", "id" },
    { "application/json", "[{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x1\"}]", "batch" },
    { "application/json", "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":12}", "not a hex" },
    { "application/json", "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x\"}", "not a hex" },
    { "application/json", "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"12\"}", "not a hex" },
    { "application/json", "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x1ffffffffffffffff\"}",
      "64 bits" },
    { "application/json", "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":null}", "null" },
    { "text/html", "<html><title>Welcome to nginx!</title></html>", "text/html" },
  };
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 value = 0;
      guint before = ts->ids->len;

      server_clear_replies (ts);
      server_add_reply (ts, 200, cases[i].content_type, cases[i].body);
      g_assert_false (block_number_sync (client, &value, &error));
      g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].message));
      g_assert_nonnull (strstr (error->message, "eth_blockNumber"));
      g_assert_nonnull (strstr (error->message, kiln_rpc_client_get_display_name (client)));
      /* Never retried. */
      g_assert_cmpuint (ts->ids->len, ==, before + 1);
    }

  /* A 256-bit result where 256 bits are expected, one digit more where they are not. */
  {
    g_autoptr(GError) error = NULL;
    KilnAddress someone = { { 1 } };
    KilnUint256 balance;

    server_clear_replies (ts);
    server_add_result (ts, "\"0x1000000000000000000000000000000000000000000000000000000000000000"
                           "0\"");
    g_assert_false (balance_sync (client, &someone, "latest", &balance, &error));
    g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE);
    g_assert_nonnull (strstr (error->message, "256 bits"));
  }
}

static void
test_too_large (void)
{
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) result = NULL;
  Reply *reply;

  /* With its length announced: refused before reading it. */
  reply = server_add_reply (ts, 200, "application/json", "");
  reply->huge = 17 * 1024 * 1024;
  result = call_sync (client, "debug_huge", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "16 MiB"));
  g_clear_error (&error);

  /* Without: refused once the limit is passed. */
  reply->chunked = TRUE;
  result = call_sync (client, "debug_huge", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* Just under the limit is fine. */
  reply->huge = 15 * 1024 * 1024;
  result = call_sync (client, "debug_large", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (json_node_get_string (result)), ==, 15 * 1024 * 1024);
  g_assert_cmpuint (ts->ids->len, ==, 3);
}

/* A port on 127.0.0.1 that refuses connections: bound, never listening. */
static GSocket *
refusing_socket (guint16 *port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *socket;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any_port, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return socket;
}

static void
test_connection_refused (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(KilnRpcClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  guint64 value = 0;
  guint16 port;
  gint64 started;
  gint64 elapsed;

  socket = refusing_socket (&port);
  url = g_strdup_printf ("http://127.0.0.1:%u/", port);
  client = client_new (url);

  started = g_get_monotonic_time ();
  g_assert_false (chain_id_sync (client, &value, &error));
  elapsed = g_get_monotonic_time () - started;

  g_test_message ("%s (after %" G_GINT64_FORMAT " ms)", error->message, elapsed / 1000);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_nonnull (strstr (error->message, "Cannot reach the Ethereum node at"));
  g_assert_nonnull (strstr (error->message, "after 3 attempts"));
  /* Two waits between three attempts: 250 ms and 500 ms. */
  g_assert_cmpint (elapsed, >=, 750 * 1000);
  g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);
}

static void
test_timeout (void)
{
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);
  g_autoptr(GError) error = NULL;
  guint64 value = 0;
  gint64 started;
  gint64 elapsed;
  Reply *reply;

  kiln_rpc_client_set_timeout (client, 1);

  /* Accepts the request, never answers. */
  server_add_reply (ts, 200, "application/json", NULL);
  started = g_get_monotonic_time ();
  g_assert_false (chain_id_sync (client, &value, &error));
  elapsed = g_get_monotonic_time () - started;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_true (g_str_has_prefix (error->message, "The Ethereum node at http://127.0.0.1:"));
  g_assert_true (g_str_has_suffix (error->message, "did not answer within 1 s"));
  g_assert_cmpint (elapsed, >=, 900 * 1000);
  g_assert_cmpint (elapsed, <, 3 * G_USEC_PER_SEC);
  g_assert_cmpuint (ts->ids->len, ==, 1);   /* timeouts are not retried */
  g_clear_error (&error);

  /* Answers one byte every 100 ms, so no single read times out: the deadline still holds. */
  server_clear_replies (ts);
  reply = server_add_reply (ts, 200, "application/json", "");
  reply->trickle = TRUE;
  started = g_get_monotonic_time ();
  g_assert_false (chain_id_sync (client, &value, &error));
  elapsed = g_get_monotonic_time () - started;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (elapsed, <, 3 * G_USEC_PER_SEC);
}

static void
test_cancel (void)
{
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) done = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  guint64 value = 0;
  gint64 started;
  Reply *reply;

  /* While waiting for an answer. */
  server_add_reply (ts, 200, "application/json", NULL);
  kiln_rpc_client_get_chain_id_async (client, cancellable, on_result, &result);
  while (ts->ids->len == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  done = await_result (&result);
  g_assert_false (kiln_rpc_client_get_chain_id_finish (client, done, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_clear_object (&done);

  /* While waiting to retry: Retry-After 5 s, cancelled at once. */
  server_clear_replies (ts);
  reply = server_add_reply (ts, 503, "text/plain", "busy");
  reply->retry_after = g_strdup ("5");
  g_cancellable_reset (cancellable);
  started = g_get_monotonic_time ();
  kiln_rpc_client_get_chain_id_async (client, cancellable, on_result, &result);
  while (ts->ids->len == 1)
    g_main_context_iteration (NULL, TRUE);
  run_for (100);
  g_cancellable_cancel (cancellable);
  done = await_result (&result);
  g_assert_false (kiln_rpc_client_get_chain_id_finish (client, done, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (ts->ids->len, ==, 2);
  g_clear_error (&error);
  g_clear_object (&done);

  /* Already cancelled: no request at all. */
  kiln_rpc_client_get_chain_id_async (client, cancellable, on_result, &result);
  done = await_result (&result);
  g_assert_false (kiln_rpc_client_get_chain_id_finish (client, done, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (ts->ids->len, ==, 2);
  g_clear_object (&done);

  /* The client is not kept alive by finished requests. */
  g_clear_pointer (&ts, server_free);
  g_assert_finalize_object (g_steal_pointer (&client));
}

static void
test_fee_fallback (void)
{
  g_autoptr(TestServer) ts = server_new ();
  g_autoptr(KilnRpcClient) client = client_new (ts->url);
  g_autoptr(GError) error = NULL;
  KilnRpcFeeData fees;

  /* No eth_feeHistory on this node: eth_gasPrice. */
  server_add_reply (ts, 200, "application/json",
                    "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32601,"
                    "\"message\":\"the method eth_feeHistory does not exist/is not available\"}}");
  server_add_result (ts, "\"0x4a817c800\"");
  g_assert_true (fee_data_sync (client, &fees, &error));
  g_assert_no_error (error);
  g_assert_false (fees.eip1559);
  assert_u256 (&fees.max_fee_per_gas, "20000000000");
  assert_u256 (&fees.max_priority_fee_per_gas, "20000000000");
  g_assert_true (kiln_uint256_is_zero (&fees.base_fee_per_gas));
  g_assert_cmpstr (g_ptr_array_index (ts->methods, 0), ==, "eth_feeHistory");
  g_assert_cmpstr (g_ptr_array_index (ts->methods, 1), ==, "eth_gasPrice");

  /* A chain without base fees. */
  server_clear_replies (ts);
  server_add_result (ts, "{\"oldestBlock\":\"0x1\",\"gasUsedRatio\":[0.5],"
                         "\"reward\":[[\"0x1\"]]}");
  server_add_result (ts, "\"0x3b9aca00\"");
  g_assert_true (fee_data_sync (client, &fees, &error));
  g_assert_no_error (error);
  g_assert_false (fees.eip1559);
  assert_u256 (&fees.max_fee_per_gas, "1000000000");

  /* Other errors are not a reason to fall back. */
  server_clear_replies (ts);
  server_add_reply (ts, 200, "application/json",
                    "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32602,"
                    "\"message\":\"invalid argument\"}}");
  g_assert_false (fee_data_sync (client, &fees, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
  g_assert_cmpuint (ts->ids->len, ==, 5);
}

/* The client against the devnet */

static KilnTestDevnet *devnet;
static KilnKey *funded;   /* 7.5 ETH and 1234.5 GNT at the start */

static KilnTestDevnet *
get_devnet (void)
{
  if (devnet == NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *spec = NULL;
      const char *fund[2] = { NULL, NULL };
      gint64 started = g_get_monotonic_time ();

      funded = kiln_key_generate (&error);
      g_assert_no_error (error);
      spec = g_strdup_printf ("%s:7.5:1234.5", kiln_key_get_address_string (funded));
      fund[0] = spec;
      devnet = kiln_test_devnet_start (fund, &error);
      g_assert_no_error (error);
      g_assert_nonnull (devnet);
      g_test_message ("devnet at %s started in %" G_GINT64_FORMAT " ms",
                      kiln_test_devnet_get_rpc_url (devnet),
                      (g_get_monotonic_time () - started) / 1000);
    }
  return devnet;
}

static KilnRpcClient *
devnet_client (void)
{
  return client_new (kiln_test_devnet_get_rpc_url (get_devnet ()));
}

static GBytes *
sign_transaction (KilnKey              *key,
                  guint64               nonce,
                  const KilnAddress    *to,
                  const KilnUint256    *value,
                  GBytes               *data,
                  guint64               gas,
                  const KilnRpcFeeData *fees,
                  guint8                hash[32])
{
  g_autoptr(KilnTransaction) tx = kiln_transaction_new (KILN_TRANSACTION_TYPE_EIP1559,
                                                        KILN_TEST_DEVNET_CHAIN_ID);
  g_autoptr(GError) error = NULL;

  kiln_transaction_set_nonce (tx, nonce);
  kiln_transaction_set_gas_limit (tx, gas);
  kiln_transaction_set_max_fee_per_gas (tx, &fees->max_fee_per_gas);
  kiln_transaction_set_max_priority_fee_per_gas (tx, &fees->max_priority_fee_per_gas);
  kiln_transaction_set_to (tx, to);
  if (value != NULL)
    kiln_transaction_set_value (tx, value);
  if (data != NULL)
    kiln_transaction_set_data (tx, data);
  g_assert_true (kiln_transaction_sign (tx, key, &error));
  g_assert_no_error (error);
  kiln_transaction_get_hash (tx, hash);
  return kiln_transaction_encode_signed (tx);
}

static KilnRpcReceipt *
wait_for_receipt (KilnRpcClient *client,
                  const guint8   hash[32])
{
  for (guint i = 0; i < 100; i++)
    {
      g_autoptr(GError) error = NULL;
      KilnRpcReceipt *receipt = receipt_sync (client, hash, &error);

      g_assert_no_error (error);
      if (receipt != NULL)
        return receipt;
      run_for (100);
    }
  g_assert_not_reached ();
}

static KilnUint256
token_balance (KilnRpcClient     *client,
               const KilnAddress *owner)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) call = kiln_abi_encode_balance_of (owner);
  g_autoptr(GBytes) returned = NULL;
  KilnUint256 balance;

  returned = call_contract_sync (client, NULL, kiln_test_devnet_get_token (get_devnet ()), call,
                                 &error);
  g_assert_no_error (error);
  g_assert_true (kiln_abi_decode_uint256 (g_bytes_get_data (returned, NULL),
                                          g_bytes_get_size (returned), &balance, &error));
  g_assert_no_error (error);
  return balance;
}

static KilnAddress
fresh_address (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = kiln_key_generate (&error);

  g_assert_no_error (error);
  return *kiln_key_get_address (key);
}

static void
test_devnet_chain (void)
{
  g_autoptr(KilnRpcClient) client = devnet_client ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) version = NULL;
  g_autoptr(JsonNode) code = NULL;
  g_autoptr(JsonNode) params = NULL;
  g_autofree char *token = kiln_address_to_string (kiln_test_devnet_get_token (devnet));
  g_autofree char *params_text = NULL;
  guint64 value = 0;

  g_assert_true (chain_id_sync (client, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 31337);
  g_assert_cmpuint (value, ==, kiln_test_devnet_get_chain_id (devnet));

  g_assert_true (block_number_sync (client, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (value, >=, kiln_test_devnet_get_block_number (devnet));

  /* Any method through the generic call. */
  version = call_sync (client, "net_version", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (version), ==, "31337");

  params_text = g_strdup_printf ("[\"%s\", \"latest\"]", token);
  params = json (params_text);
  code = call_sync (client, "eth_getCode", params, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (json_node_get_string (code)), >, 100);

  /* The fixture's dev keys are anvil's accounts. */
  {
    g_autoptr(JsonNode) accounts = call_sync (client, "eth_accounts", NULL, &error);
    JsonArray *list;

    g_assert_no_error (error);
    list = json_node_get_array (accounts);
    g_assert_cmpuint (json_array_get_length (list), >=, KILN_TEST_DEVNET_N_DEV_KEYS);
    for (guint i = 0; i < KILN_TEST_DEVNET_N_DEV_KEYS; i++)
      {
        g_autoptr(KilnKey) key = kiln_test_devnet_dev_key (i);
        KilnAddress listed;

        g_assert_true (kiln_address_parse (&listed, json_array_get_string_element (list, i),
                                           &error));
        g_assert_no_error (error);
        g_assert_true (kiln_address_equal (&listed, kiln_key_get_address (key)));
      }
  }

  /* A method anvil does not have. */
  g_clear_pointer (&code, json_node_unref);
  code = call_sync (client, "kiln_noSuchMethod", NULL, &error);
  g_assert_null (code);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
  g_assert_cmpint (kiln_rpc_error_get_server_code (error), ==, KILN_RPC_CODE_METHOD_NOT_FOUND);
}

static void
test_devnet_balances (void)
{
  g_autoptr(KilnRpcClient) client = devnet_client ();
  g_autoptr(GError) error = NULL;
  const KilnAddress *address = kiln_key_get_address (funded);
  KilnAddress nobody = fresh_address ();
  KilnUint256 balance;
  KilnUint256 gnt;
  guint64 nonce = 99;

  g_assert_true (balance_sync (client, address, "latest", &balance, &error));
  g_assert_no_error (error);
  assert_u256 (&balance, "7500000000000000000");
  g_assert_true (balance_sync (client, address, "pending", &balance, &error));
  g_assert_no_error (error);
  assert_u256 (&balance, "7500000000000000000");
  g_assert_true (balance_sync (client, &nobody, "latest", &balance, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_uint256_is_zero (&balance));

  g_assert_true (nonce_sync (client, address, "pending", &nonce, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nonce, ==, 0);
  /* The deployer deployed two contracts and funded one account (ETH and GNT). */
  g_assert_true (nonce_sync (client, kiln_test_devnet_get_deployer (devnet), "latest", &nonce,
                             &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nonce, ==, 4);

  /* balanceOf on the token, ABI-encoded. */
  gnt = token_balance (client, address);
  assert_u256 (&gnt, "1234500000000000000000");
  gnt = token_balance (client, &nobody);
  g_assert_true (kiln_uint256_is_zero (&gnt));
}

static void
test_devnet_fees (void)
{
  g_autoptr(KilnRpcClient) client = devnet_client ();
  g_autoptr(GError) error = NULL;
  KilnRpcFeeData fees;
  KilnUint256 sum;

  g_assert_true (fee_data_sync (client, &fees, &error));
  g_assert_no_error (error);
  g_assert_true (fees.eip1559);
  g_assert_false (kiln_uint256_is_zero (&fees.base_fee_per_gas));
  g_assert_false (kiln_uint256_is_zero (&fees.max_priority_fee_per_gas));
  g_assert_true (kiln_uint256_add (&sum, &fees.base_fee_per_gas,
                                   &fees.max_priority_fee_per_gas));
  g_assert_cmpint (kiln_uint256_compare (&fees.max_fee_per_gas, &sum), >=, 0);
  g_assert_cmpint (kiln_uint256_compare (&fees.max_fee_per_gas, &fees.base_fee_per_gas), >, 0);
}

static void
test_devnet_estimate_and_revert (void)
{
  g_autoptr(KilnRpcClient) client = devnet_client ();
  g_autoptr(GError) error = NULL;
  const KilnAddress *from = kiln_key_get_address (funded);
  const KilnAddress *token = kiln_test_devnet_get_token (devnet);
  KilnAddress to = fresh_address ();
  KilnAddress zero = { { 0 } };
  KilnUint256 amount = u256 ("1000000000000000000");
  KilnUint256 too_much = u256 ("1234500000000000000001");
  KilnUint256 one_eth = u256 ("1000000000000000000");
  g_autoptr(GBytes) transfer = kiln_abi_encode_transfer (&to, &amount);
  g_autoptr(GBytes) overdraw = kiln_abi_encode_transfer (&to, &too_much);
  g_autoptr(GBytes) to_zero = kiln_abi_encode_transfer (&zero, &amount);
  g_autoptr(GBytes) returned = NULL;
  gboolean ok = FALSE;
  guint64 gas = 0;

  /* A plain ETH transfer costs 21000; a token transfer to a new holder more. */
  g_assert_true (estimate_gas_sync (client, from, &to, &one_eth, NULL, &gas, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (gas, ==, 21000);
  g_assert_true (estimate_gas_sync (client, from, token, NULL, transfer, &gas, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (gas, >, 21000 + 20000);
  g_assert_cmpuint (gas, <, 100000);

  /* transfer() returns true. */
  returned = call_contract_sync (client, from, token, transfer, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_abi_decode_bool (g_bytes_get_data (returned, NULL),
                                       g_bytes_get_size (returned), &ok, &error));
  g_assert_true (ok);

  /* Reverts, with the contract's reason, from eth_call and eth_estimateGas. */
  g_clear_pointer (&returned, g_bytes_unref);
  returned = call_contract_sync (client, from, token, overdraw, &error);
  g_assert_null (returned);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_REVERTED);
  g_test_message ("%s (server: %" G_GINT64_FORMAT " %s)", error->message,
                  kiln_rpc_error_get_server_code (error),
                  kiln_rpc_error_get_server_message (error));
  g_assert_cmpstr (kiln_rpc_error_get_revert_reason (error), ==,
                   "GNT: transfer amount exceeds balance");
  g_assert_nonnull (strstr (error->message, "GNT: transfer amount exceeds balance"));
  g_clear_error (&error);

  returned = call_contract_sync (client, from, token, to_zero, &error);
  g_assert_null (returned);
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_REVERTED);
  g_assert_cmpstr (kiln_rpc_error_get_revert_reason (error), ==,
                   "GNT: transfer to the zero address");
  g_clear_error (&error);

  g_assert_false (estimate_gas_sync (client, from, token, NULL, overdraw, &gas, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_REVERTED);
  g_assert_cmpstr (kiln_rpc_error_get_revert_reason (error), ==,
                   "GNT: transfer amount exceeds balance");
}

static void
test_devnet_send (void)
{
  g_autoptr(KilnRpcClient) client = devnet_client ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) dev0 = kiln_test_devnet_dev_key (0);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  const KilnAddress *sender = kiln_key_get_address (dev0);
  KilnAddress to = fresh_address ();
  KilnUint256 value = u256 ("1234567890123456789");
  KilnUint256 before;
  KilnUint256 after;
  KilnUint256 fee;
  KilnUint256 spent;
  KilnUint256 received;
  KilnRpcFeeData fees;
  guint8 expected[32];
  guint8 hash[32];
  guint64 nonce = 0;
  guint64 nonce_after = 0;

  /* anvil's dev account 0 is the deployer. */
  g_assert_true (kiln_address_equal (sender, kiln_test_devnet_get_deployer (get_devnet ())));

  g_assert_true (nonce_sync (client, sender, "pending", &nonce, &error));
  g_assert_no_error (error);
  g_assert_true (balance_sync (client, sender, "latest", &before, &error));
  g_assert_no_error (error);
  g_assert_true (fee_data_sync (client, &fees, &error));
  g_assert_no_error (error);

  raw = sign_transaction (dev0, nonce, &to, &value, NULL, 21000, &fees, expected);
  g_assert_true (send_raw_sync (client, raw, hash, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (hash, 32, expected, 32);

  receipt = wait_for_receipt (client, hash);
  g_assert_true (receipt->success);
  g_assert_cmpmem (receipt->transaction_hash, 32, hash, 32);
  g_assert_cmpuint (receipt->gas_used, ==, 21000);
  g_assert_true (kiln_address_equal (&receipt->from, sender));
  g_assert_true (receipt->has_to);
  g_assert_true (kiln_address_equal (&receipt->to, &to));
  g_assert_cmpuint (receipt->logs->len, ==, 0);
  g_assert_cmpint (kiln_uint256_compare (&receipt->effective_gas_price, &fees.max_fee_per_gas),
                   <=, 0);
  g_assert_false (kiln_uint256_is_zero (&receipt->effective_gas_price));

  /* Exact amounts: the recipient got the value, the sender paid value + fee. */
  g_assert_true (balance_sync (client, &to, "latest", &received, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_uint256_equal (&received, &value));
  g_assert_true (balance_sync (client, sender, "latest", &after, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_rpc_receipt_get_fee (receipt, &fee));
  g_assert_true (kiln_uint256_add (&spent, &value, &fee));
  g_assert_true (kiln_uint256_sub (&before, &before, &spent));
  g_assert_true (kiln_uint256_equal (&after, &before));

  g_assert_true (nonce_sync (client, sender, "latest", &nonce_after, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nonce_after, ==, nonce + 1);

  /* The same bytes again, once mined: the node says its nonce is used. */
  g_assert_false (send_raw_sync (client, raw, hash, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
  g_test_message ("resending a mined transaction: %s", error->message);
  g_assert_nonnull (strstr (kiln_rpc_error_get_server_message (error), "nonce too low"));
}

static void
test_devnet_token_transfer (void)
{
  g_autoptr(KilnRpcClient) client = devnet_client ();
  g_autoptr(GError) error = NULL;
  const KilnAddress *from = kiln_key_get_address (funded);
  const KilnAddress *token = kiln_test_devnet_get_token (devnet);
  KilnAddress to = fresh_address ();
  KilnUint256 amount = u256 ("12345678901234567891");
  g_autoptr(GBytes) call = kiln_abi_encode_transfer (&to, &amount);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  KilnRpcFeeData fees;
  KilnUint256 balance;
  KilnUint256 logged;
  KilnRpcLog *log;
  guint8 transfer_topic[32];
  guint8 hash[32];
  guint8 sent[32];
  guint64 nonce = 99;
  guint64 gas = 0;

  g_assert_true (nonce_sync (client, from, "pending", &nonce, &error));
  g_assert_no_error (error);
  g_assert_true (fee_data_sync (client, &fees, &error));
  g_assert_no_error (error);
  g_assert_true (estimate_gas_sync (client, from, token, NULL, call, &gas, &error));
  g_assert_no_error (error);

  raw = sign_transaction (funded, nonce, token, NULL, call, gas, &fees, hash);
  g_assert_true (send_raw_sync (client, raw, sent, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (sent, 32, hash, 32);

  receipt = wait_for_receipt (client, hash);
  g_assert_true (receipt->success);
  g_assert_cmpuint (receipt->gas_used, <=, gas);
  g_assert_cmpuint (receipt->logs->len, ==, 1);

  /* Transfer(address indexed from, address indexed to, uint256 value) */
  log = &g_array_index (receipt->logs, KilnRpcLog, 0);
  kiln_keccak256 ((const guint8 *) "Transfer(address,address,uint256)", 33, transfer_topic);
  g_assert_true (kiln_address_equal (&log->address, token));
  g_assert_cmpuint (log->n_topics, ==, 3);
  g_assert_cmpmem (log->topics[0], 32, transfer_topic, 32);
  g_assert_cmpmem (log->topics[1] + 12, 20, from->bytes, 20);
  g_assert_cmpmem (log->topics[2] + 12, 20, to.bytes, 20);
  g_assert_true (kiln_abi_decode_uint256 (g_bytes_get_data (log->data, NULL),
                                          g_bytes_get_size (log->data), &logged, &error));
  g_assert_true (kiln_uint256_equal (&logged, &amount));

  balance = token_balance (client, &to);
  g_assert_true (kiln_uint256_equal (&balance, &amount));
  balance = token_balance (client, from);
  assert_u256 (&balance, "1222154321098765432109");
}

static void
test_devnet_send_errors (void)
{
  g_autoptr(KilnRpcClient) client = devnet_client ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) poor = kiln_key_generate (&error);
  g_autoptr(KilnKey) dev1 = kiln_test_devnet_dev_key (1);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GBytes) stale = NULL;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  g_autofree char *lower = NULL;
  KilnAddress to = fresh_address ();
  KilnUint256 value = u256 ("1000000000000000000");
  KilnUint256 other_value = u256 ("2");
  KilnRpcFeeData fees;
  guint8 hash[32];
  guint8 sent[32];
  guint64 nonce = 0;

  g_assert_no_error (error);
  g_assert_true (fee_data_sync (client, &fees, &error));
  g_assert_no_error (error);

  /* An account without ETH. */
  raw = sign_transaction (poor, 0, &to, &value, NULL, 21000, &fees, hash);
  g_assert_false (send_raw_sync (client, raw, sent, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
  g_test_message ("%s", error->message);
  g_assert_cmpint (kiln_rpc_error_get_server_code (error), !=, 0);
  lower = g_ascii_strdown (kiln_rpc_error_get_server_message (error), -1);
  g_assert_nonnull (strstr (lower, "insufficient funds"));
  g_clear_pointer (&lower, g_free);
  g_clear_error (&error);
  g_clear_pointer (&raw, g_bytes_unref);

  /* A nonce already used: dev account 1 sends, then signs another transaction with the same
   * nonce. */
  g_assert_true (nonce_sync (client, kiln_key_get_address (dev1), "pending", &nonce, &error));
  g_assert_no_error (error);
  raw = sign_transaction (dev1, nonce, &to, &value, NULL, 21000, &fees, hash);
  g_assert_true (send_raw_sync (client, raw, sent, &error));
  g_assert_no_error (error);
  receipt = wait_for_receipt (client, hash);
  g_assert_true (receipt->success);

  stale = sign_transaction (dev1, nonce, &to, &other_value, NULL, 21000, &fees, hash);
  g_assert_false (send_raw_sync (client, stale, sent, &error));
  g_assert_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER);
  g_test_message ("%s", error->message);
  lower = g_ascii_strdown (kiln_rpc_error_get_server_message (error), -1);
  g_assert_nonnull (strstr (lower, "nonce too low"));

  /* Unknown transactions have no receipt yet. */
  g_clear_pointer (&receipt, kiln_rpc_receipt_unref);
  g_clear_error (&error);
  receipt = receipt_sync (client, hash, &error);
  g_assert_no_error (error);
  g_assert_null (receipt);
}

static void
test_devnet_fixture_error (void)
{
  g_autoptr(GError) error = NULL;
  const char *fund[] = { "0x1234", NULL };
  g_autoptr(KilnTestDevnet) broken = kiln_test_devnet_start (fund, &error);

  /* The devnet's own one-line reason reaches the test. */
  g_assert_null (broken);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "is not an Ethereum address"));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/rpc-client/parse/quantity", test_parse_quantity);
  g_test_add_func ("/kiln/rpc-client/parse/uint64", test_parse_uint64);
  g_test_add_func ("/kiln/rpc-client/parse/data", test_parse_data);
  g_test_add_func ("/kiln/rpc-client/parse/response", test_parse_response);
  g_test_add_func ("/kiln/rpc-client/parse/server-error", test_parse_server_error);
  g_test_add_func ("/kiln/rpc-client/parse/receipt", test_parse_receipt);
  g_test_add_func ("/kiln/rpc-client/parse/fee-history", test_parse_fee_history);
  g_test_add_func ("/kiln/rpc-client/url", test_url);
  g_test_add_func ("/kiln/rpc-client/http/ids-and-methods", test_ids_and_methods);
  g_test_add_func ("/kiln/rpc-client/http/retry-5xx", test_retry_5xx);
  g_test_add_func ("/kiln/rpc-client/http/5xx-exhausted", test_5xx_exhausted);
  g_test_add_func ("/kiln/rpc-client/http/errors", test_http_errors);
  g_test_add_func ("/kiln/rpc-client/http/server-error", test_server_error);
  g_test_add_func ("/kiln/rpc-client/http/malformed", test_malformed);
  g_test_add_func ("/kiln/rpc-client/http/too-large", test_too_large);
  g_test_add_func ("/kiln/rpc-client/http/connection-refused", test_connection_refused);
  g_test_add_func ("/kiln/rpc-client/http/timeout", test_timeout);
  g_test_add_func ("/kiln/rpc-client/http/cancel", test_cancel);
  g_test_add_func ("/kiln/rpc-client/http/fee-fallback", test_fee_fallback);
  g_test_add_func ("/kiln/rpc-client/devnet/fixture-error", test_devnet_fixture_error);
  g_test_add_func ("/kiln/rpc-client/devnet/chain", test_devnet_chain);
  g_test_add_func ("/kiln/rpc-client/devnet/balances", test_devnet_balances);
  g_test_add_func ("/kiln/rpc-client/devnet/fees", test_devnet_fees);
  g_test_add_func ("/kiln/rpc-client/devnet/estimate-and-revert",
                   test_devnet_estimate_and_revert);
  g_test_add_func ("/kiln/rpc-client/devnet/send", test_devnet_send);
  g_test_add_func ("/kiln/rpc-client/devnet/token-transfer", test_devnet_token_transfer);
  g_test_add_func ("/kiln/rpc-client/devnet/send-errors", test_devnet_send_errors);

  status = g_test_run ();

  if (devnet != NULL)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (kiln_test_devnet_stop (devnet, &error));
      g_assert_no_error (error);
    }
  g_clear_pointer (&devnet, kiln_test_devnet_free);
  g_clear_object (&funded);
  return status;
}
