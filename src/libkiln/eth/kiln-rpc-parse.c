/* kiln-rpc-parse.c: JSON-RPC answers from Ethereum nodes, read as hostile input
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-abi.h"
#include "kiln-rpc-parse.h"

/* The error domain, with the JSON-RPC error's details kept beside the message */

typedef struct
{
  gint64  server_code;
  char   *server_message;
  GBytes *data;
  char   *revert_reason;
  guint   http_status;
} KilnRpcErrorPrivate;

static void
kiln_rpc_error_private_init (KilnRpcErrorPrivate *priv)
{
  memset (priv, 0, sizeof *priv);
}

static void
kiln_rpc_error_private_copy (const KilnRpcErrorPrivate *src,
                             KilnRpcErrorPrivate       *dest)
{
  dest->server_code = src->server_code;
  dest->server_message = g_strdup (src->server_message);
  dest->data = src->data != NULL ? g_bytes_ref (src->data) : NULL;
  dest->revert_reason = g_strdup (src->revert_reason);
  dest->http_status = src->http_status;
}

static void
kiln_rpc_error_private_clear (KilnRpcErrorPrivate *priv)
{
  g_clear_pointer (&priv->server_message, g_free);
  g_clear_pointer (&priv->data, g_bytes_unref);
  g_clear_pointer (&priv->revert_reason, g_free);
}

/* GLib's macro finds the private data by pointer arithmetic, which it keeps aligned. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-align"
G_DEFINE_EXTENDED_ERROR (KilnRpcError, kiln_rpc_error)
#pragma GCC diagnostic pop

static KilnRpcErrorPrivate *
error_private (const GError *error)
{
  if (error == NULL || error->domain != KILN_RPC_ERROR)
    return NULL;
  return kiln_rpc_error_get_private (error);
}

gint64
kiln_rpc_error_get_server_code (const GError *error)
{
  KilnRpcErrorPrivate *priv = error_private (error);

  return priv != NULL ? priv->server_code : 0;
}

const char *
kiln_rpc_error_get_server_message (const GError *error)
{
  KilnRpcErrorPrivate *priv = error_private (error);

  return priv != NULL ? priv->server_message : NULL;
}

GBytes *
kiln_rpc_error_get_data (const GError *error)
{
  KilnRpcErrorPrivate *priv = error_private (error);

  return priv != NULL ? priv->data : NULL;
}

const char *
kiln_rpc_error_get_revert_reason (const GError *error)
{
  KilnRpcErrorPrivate *priv = error_private (error);

  return priv != NULL ? priv->revert_reason : NULL;
}

guint
kiln_rpc_error_get_http_status (const GError *error)
{
  KilnRpcErrorPrivate *priv = error_private (error);

  return priv != NULL ? priv->http_status : 0;
}

void
kiln_rpc_error_set_http_status (GError *error,
                                guint   status)
{
  KilnRpcErrorPrivate *priv = error_private (error);

  g_return_if_fail (priv != NULL);

  priv->http_status = status;
}

/* Receipts */

static void
log_clear (gpointer data)
{
  KilnRpcLog *log = data;

  g_clear_pointer (&log->data, g_bytes_unref);
}

static void
receipt_clear (gpointer data)
{
  KilnRpcReceipt *self = data;

  g_clear_pointer (&self->logs, g_array_unref);
}

KilnRpcReceipt *
kiln_rpc_receipt_new (void)
{
  KilnRpcReceipt *self = g_rc_box_new0 (KilnRpcReceipt);

  self->logs = g_array_new (FALSE, TRUE, sizeof (KilnRpcLog));
  g_array_set_clear_func (self->logs, log_clear);
  return self;
}

KilnRpcReceipt *
kiln_rpc_receipt_ref (KilnRpcReceipt *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_rc_box_acquire (self);
}

void
kiln_rpc_receipt_unref (KilnRpcReceipt *self)
{
  g_return_if_fail (self != NULL);

  g_rc_box_release_full (self, receipt_clear);
}

G_DEFINE_BOXED_TYPE (KilnRpcReceipt, kiln_rpc_receipt, kiln_rpc_receipt_ref,
                     kiln_rpc_receipt_unref)

gboolean
kiln_rpc_receipt_get_fee (const KilnRpcReceipt *self,
                          KilnUint256          *out)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  return kiln_uint256_mul_uint64 (out, &self->effective_gas_price, self->gas_used);
}

/* Text */

char *
kiln_rpc_describe_text (const char *text,
                        gsize       max_chars)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  GString *out = g_string_new (NULL);
  gsize n = 0;

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (n++ == max_chars)
        {
          g_string_append (out, "…");
          break;
        }
      if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029)
        g_string_append_c (out, ' ');
      else
        g_string_append_unichar (out, c);
    }

  return g_string_free (out, FALSE);
}

static char *
describe_node (JsonNode *node)
{
  g_autofree char *text = NULL;

  if (node == NULL)
    return g_strdup (_("missing"));
  if (JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("null");
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      g_autofree char *inner = kiln_rpc_describe_text (json_node_get_string (node), 40);

      return g_strdup_printf ("“%s”", inner);
    }
  if (JSON_NODE_HOLDS_OBJECT (node))
    return g_strdup (_("an object"));
  if (JSON_NODE_HOLDS_ARRAY (node))
    return g_strdup (_("an array"));

  text = json_to_string (node, FALSE);
  return kiln_rpc_describe_text (text, 40);
}

static gboolean
invalid (GError    **error,
         const char *format,
         ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError    **error,
         const char *format,
         ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    {
      g_assert (*error == NULL);
      *error = g_error_new_valist (KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE, format, args);
    }
  va_end (args);
  return FALSE;
}

static const char *
node_string (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Quantities and data */

gboolean
kiln_rpc_parse_quantity_text (const char  *text,
                              const char  *what,
                              KilnUint256 *out,
                              GError     **error)
{
  guint8 bytes[KILN_UINT256_SIZE] = { 0 };
  const char *digits;
  gsize n_digits;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (what != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (text[0] != '0' || text[1] != 'x' || text[2] == '\0')
    {
      g_autofree char *shown = kiln_rpc_describe_text (text, 40);

      return invalid (error, _("%s “%s” is not a hex quantity"), what, shown);
    }

  digits = text + 2;
  /* Leading zeros are not canonical, but some nodes send them: accept any number. */
  while (*digits == '0' && digits[1] != '\0')
    digits++;
  n_digits = strlen (digits);

  for (gsize i = 0; i < n_digits; i++)
    if (!g_ascii_isxdigit (digits[i]))
      {
        g_autofree char *shown = kiln_rpc_describe_text (text, 40);

        return invalid (error, _("%s “%s” is not a hex quantity"), what, shown);
      }

  if (n_digits > 2 * KILN_UINT256_SIZE)
    return invalid (error, _("%s is larger than 256 bits"), what);

  for (gsize i = 0; i < n_digits; i++)
    {
      gsize nibble = 2 * KILN_UINT256_SIZE - n_digits + i;   /* from the most significant */
      guint8 value = (guint8) g_ascii_xdigit_value (digits[i]);

      bytes[nibble / 2] |= (nibble % 2 == 0) ? (guint8) (value << 4) : value;
    }
  kiln_uint256_from_be_bytes (out, bytes);
  return TRUE;
}

gboolean
kiln_rpc_parse_quantity (JsonNode    *node,
                         const char  *what,
                         KilnUint256 *out,
                         GError     **error)
{
  const char *text = node_string (node);

  g_return_val_if_fail (what != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (node == NULL)
    return invalid (error, _("%s is missing"), what);
  if (text == NULL)
    {
      g_autofree char *shown = describe_node (node);

      return invalid (error, _("%s is %s, not a hex quantity"), what, shown);
    }
  return kiln_rpc_parse_quantity_text (text, what, out, error);
}

gboolean
kiln_rpc_parse_uint64 (JsonNode    *node,
                       const char  *what,
                       guint64     *out,
                       GError     **error)
{
  KilnUint256 value;

  g_return_val_if_fail (out != NULL, FALSE);

  if (!kiln_rpc_parse_quantity (node, what, &value, error))
    return FALSE;
  if (!kiln_uint256_to_uint64 (&value, out))
    return invalid (error, _("%s is larger than 64 bits"), what);
  return TRUE;
}

GBytes *
kiln_rpc_parse_data_text (const char  *text,
                          const char  *what,
                          GError     **error)
{
  g_autofree guint8 *bytes = NULL;
  const char *hex;
  gsize n_hex;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (what != NULL, NULL);

  if (text[0] != '0' || text[1] != 'x')
    {
      g_autofree char *shown = kiln_rpc_describe_text (text, 40);

      invalid (error, _("%s “%s” is not hex data"), what, shown);
      return NULL;
    }

  hex = text + 2;
  n_hex = strlen (hex);
  if (n_hex % 2 != 0)
    {
      invalid (error, _("%s has an odd number of hex digits"), what);
      return NULL;
    }

  bytes = g_malloc (n_hex / 2 + 1);
  for (gsize i = 0; i < n_hex; i += 2)
    {
      int high = g_ascii_xdigit_value (hex[i]);
      int low = g_ascii_xdigit_value (hex[i + 1]);

      if (high < 0 || low < 0)
        {
          g_autofree char *shown = kiln_rpc_describe_text (text, 40);

          invalid (error, _("%s “%s” is not hex data"), what, shown);
          return NULL;
        }
      bytes[i / 2] = (guint8) (high << 4 | low);
    }

  return g_bytes_new_take (g_steal_pointer (&bytes), n_hex / 2);
}

GBytes *
kiln_rpc_parse_data (JsonNode    *node,
                     const char  *what,
                     GError     **error)
{
  const char *text = node_string (node);

  g_return_val_if_fail (what != NULL, NULL);

  if (node == NULL)
    {
      invalid (error, _("%s is missing"), what);
      return NULL;
    }
  if (text == NULL)
    {
      g_autofree char *shown = describe_node (node);

      invalid (error, _("%s is %s, not hex data"), what, shown);
      return NULL;
    }
  return kiln_rpc_parse_data_text (text, what, error);
}

gboolean
kiln_rpc_parse_fixed_data (JsonNode    *node,
                           const char  *what,
                           guint8      *out,
                           gsize        len,
                           GError     **error)
{
  g_autoptr(GBytes) bytes = kiln_rpc_parse_data (node, what, error);

  g_return_val_if_fail (out != NULL, FALSE);

  if (bytes == NULL)
    return FALSE;
  if (g_bytes_get_size (bytes) != len)
    return invalid (error, _("%s has %zu bytes instead of %zu"), what,
                    g_bytes_get_size (bytes), len);
  memcpy (out, g_bytes_get_data (bytes, NULL), len);
  return TRUE;
}

/* Answers */

/* json-glib's parser recurses once per nesting level: refuse deep input before it does. */
static gboolean
check_depth (const char *data,
             gsize       len,
             GError    **error)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }

      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          if (++depth > KILN_RPC_MAX_JSON_DEPTH)
            return invalid (error, _("the answer is nested more than %d levels deep"),
                            KILN_RPC_MAX_JSON_DEPTH);
          break;
        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;
        default:
          break;
        }
    }
  return TRUE;
}

static gboolean
is_revert (gint64      code,
           const char *message)
{
  return code == KILN_RPC_CODE_EXECUTION_ERROR
         || g_str_has_prefix (message, "execution reverted")
         || g_str_has_prefix (message, "reverted");
}

static char *
revert_reason (const char *message,
               GBytes     *data)
{
  const char *rest;

  if (data != NULL && g_bytes_get_size (data) > 0)
    {
      gsize len;
      const guint8 *bytes = g_bytes_get_data (data, &len);
      char *reason = kiln_abi_decode_revert_reason (bytes, len, NULL);

      if (reason != NULL)
        return reason;
    }

  /* Nodes that send no data put the reason after this prefix. */
  rest = message;
  if (g_str_has_prefix (rest, "execution reverted"))
    rest += strlen ("execution reverted");
  else
    return NULL;
  if (g_str_has_prefix (rest, ": ") && rest[2] != '\0')
    return g_strdup (rest + 2);
  return NULL;
}

static GError *
parse_error_object (JsonNode *node)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *reason = NULL;
  KilnRpcErrorPrivate *priv;
  JsonObject *object;
  JsonNode *code_node;
  JsonNode *data_node;
  const char *message;
  gint64 code;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      invalid (&error, _("its error member is not an object"));
      return g_steal_pointer (&error);
    }
  object = json_node_get_object (node);

  code_node = json_object_get_member (object, "code");
  if (code_node == NULL || !JSON_NODE_HOLDS_VALUE (code_node)
      || json_node_get_value_type (code_node) != G_TYPE_INT64)
    {
      invalid (&error, _("its error has no integer code"));
      return g_steal_pointer (&error);
    }
  code = json_node_get_int (code_node);

  message = node_string (json_object_get_member (object, "message"));
  if (message == NULL)
    {
      invalid (&error, _("its error has no message"));
      return g_steal_pointer (&error);
    }

  /* Revert data when the node gives it as hex; other forms of "data" are ignored. */
  data_node = json_object_get_member (object, "data");
  if (node_string (data_node) != NULL)
    data = kiln_rpc_parse_data (data_node, "data", NULL);

  if (is_revert (code, message))
    {
      reason = revert_reason (message, data);
      if (reason != NULL)
        {
          shown = kiln_rpc_describe_text (reason, 300);
          error = g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_REVERTED,
                               _("The contract reverted the call: %s"), shown);
        }
      else
        error = g_error_new_literal (KILN_RPC_ERROR, KILN_RPC_ERROR_REVERTED,
                                     _("The contract reverted the call without giving a "
                                       "reason"));
    }
  else
    {
      shown = kiln_rpc_describe_text (message, 300);
      error = g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER,
                           _("%s (error %" PRId64 ")"), shown, code);
    }

  priv = kiln_rpc_error_get_private (error);
  priv->server_code = code;
  priv->server_message = g_strdup (message);
  priv->data = g_steal_pointer (&data);
  priv->revert_reason = g_steal_pointer (&reason);
  return g_steal_pointer (&error);
}

JsonNode *
kiln_rpc_parse_response (const char *data,
                         gsize       len,
                         gint64      expected_id,
                         GError    **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *object;
  JsonNode *root;
  JsonNode *version;
  JsonNode *id;
  JsonNode *result;
  JsonNode *error_node;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > KILN_RPC_MAX_RESPONSE_SIZE)
    {
      g_set_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_TOO_LARGE,
                   _("the answer is larger than %d MiB"), KILN_RPC_MAX_RESPONSE_SIZE >> 20);
      return NULL;
    }
  if (len == 0)
    {
      invalid (error, _("the answer is empty"));
      return NULL;
    }
  /* JSON is UTF-8; this also refuses NUL bytes. */
  if (!g_utf8_validate_len (data, len, NULL))
    {
      invalid (error, _("the answer is not UTF-8 text"));
      return NULL;
    }
  if (!check_depth (data, len, error))
    return NULL;

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      g_autofree char *shown = kiln_rpc_describe_text (local_error->message, 200);

      invalid (error, _("the answer is not valid JSON (%s)"), shown);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      invalid (error, _("the answer is empty"));
      return NULL;
    }
  if (JSON_NODE_HOLDS_ARRAY (root))
    {
      invalid (error, _("the answer is a batch, but one answer was expected"));
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (error, _("the answer is not a JSON object"));
      return NULL;
    }
  object = json_node_get_object (root);

  version = json_object_get_member (object, "jsonrpc");
  if (version != NULL && g_strcmp0 (node_string (version), "2.0") != 0)
    {
      invalid (error, _("the answer is not JSON-RPC 2.0"));
      return NULL;
    }

  result = json_object_get_member (object, "result");
  error_node = json_object_get_member (object, "error");
  if (result != NULL && error_node != NULL)
    {
      invalid (error, _("the answer has both a result and an error"));
      return NULL;
    }
  if (result == NULL && error_node == NULL)
    {
      invalid (error, _("the answer has neither a result nor an error"));
      return NULL;
    }

  /* An error about a request the node could not read carries a null id. */
  id = json_object_get_member (object, "id");
  if (!(error_node != NULL && (id == NULL || JSON_NODE_HOLDS_NULL (id))))
    {
      if (id == NULL || !JSON_NODE_HOLDS_VALUE (id)
          || json_node_get_value_type (id) != G_TYPE_INT64
          || json_node_get_int (id) != expected_id)
        {
          g_autofree char *shown = describe_node (id);

          invalid (error, _("the answer's id is %s instead of %" PRId64), shown,
                   expected_id);
          return NULL;
        }
    }

  if (error_node != NULL)
    {
      g_propagate_error (error, parse_error_object (error_node));
      return NULL;
    }

  return json_node_copy (result);
}

/* Receipts */

static JsonNode *
member (JsonObject *object,
        const char *name)
{
  return json_object_get_member (object, name);
}

static gboolean
parse_optional_address (JsonObject  *object,
                        const char  *name,
                        gboolean    *has,
                        KilnAddress *out,
                        GError     **error)
{
  JsonNode *node = member (object, name);

  *has = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!kiln_rpc_parse_fixed_data (node, name, out->bytes, KILN_ADDRESS_SIZE, error))
    return FALSE;
  *has = TRUE;
  return TRUE;
}

static gboolean
parse_log (JsonNode   *node,
           guint       index,
           KilnRpcLog *log,
           GError    **error)
{
  JsonObject *object;
  JsonArray *topics;
  JsonNode *topics_node;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, _("log %u is not an object"), index);
  object = json_node_get_object (node);

  if (!kiln_rpc_parse_fixed_data (member (object, "address"), "log address",
                                  log->address.bytes, KILN_ADDRESS_SIZE, error))
    return FALSE;

  topics_node = member (object, "topics");
  if (topics_node == NULL || !JSON_NODE_HOLDS_ARRAY (topics_node))
    return invalid (error, _("log %u has no list of topics"), index);
  topics = json_node_get_array (topics_node);
  if (json_array_get_length (topics) > KILN_RPC_MAX_LOG_TOPICS)
    return invalid (error, _("log %u has more than %d topics"), index,
                    KILN_RPC_MAX_LOG_TOPICS);
  log->n_topics = json_array_get_length (topics);
  for (guint i = 0; i < log->n_topics; i++)
    if (!kiln_rpc_parse_fixed_data (json_array_get_element (topics, i), "log topic",
                                    log->topics[i], 32, error))
      return FALSE;

  log->data = kiln_rpc_parse_data (member (object, "data"), "log data", error);
  if (log->data == NULL)
    return FALSE;

  return kiln_rpc_parse_uint64 (member (object, "logIndex"), "logIndex", &log->log_index,
                                error);
}

KilnRpcReceipt *
kiln_rpc_parse_receipt (JsonNode  *node,
                        GError   **error)
{
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  JsonObject *object;
  JsonNode *block_number;
  JsonNode *logs_node;
  JsonNode *price;
  JsonArray *logs;
  guint64 status;

  g_return_val_if_fail (node != NULL, NULL);

  if (JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *shown = describe_node (node);

      invalid (error, _("the receipt is %s, not an object"), shown);
      return NULL;
    }
  object = json_node_get_object (node);

  /* Some nodes answer with a receipt without a block for a pending transaction. */
  block_number = member (object, "blockNumber");
  if (block_number == NULL || JSON_NODE_HOLDS_NULL (block_number))
    return NULL;

  receipt = kiln_rpc_receipt_new ();
  if (!kiln_rpc_parse_fixed_data (member (object, "transactionHash"), "transactionHash",
                                  receipt->transaction_hash, KILN_RPC_HASH_SIZE, error)
      || !kiln_rpc_parse_fixed_data (member (object, "blockHash"), "blockHash",
                                     receipt->block_hash, KILN_RPC_HASH_SIZE, error)
      || !kiln_rpc_parse_uint64 (block_number, "blockNumber", &receipt->block_number, error)
      || !kiln_rpc_parse_uint64 (member (object, "transactionIndex"), "transactionIndex",
                                 &receipt->transaction_index, error)
      || !kiln_rpc_parse_uint64 (member (object, "gasUsed"), "gasUsed", &receipt->gas_used,
                                 error)
      || !kiln_rpc_parse_uint64 (member (object, "cumulativeGasUsed"), "cumulativeGasUsed",
                                 &receipt->cumulative_gas_used, error)
      || !kiln_rpc_parse_fixed_data (member (object, "from"), "from", receipt->from.bytes,
                                     KILN_ADDRESS_SIZE, error)
      || !parse_optional_address (object, "to", &receipt->has_to, &receipt->to, error)
      || !parse_optional_address (object, "contractAddress", &receipt->has_contract_address,
                                  &receipt->contract_address, error))
    return NULL;

  /* Receipts from before Byzantium (2017) have a state root instead: not supported. */
  if (member (object, "status") == NULL)
    {
      invalid (error, _("the receipt has no status"));
      return NULL;
    }
  if (!kiln_rpc_parse_uint64 (member (object, "status"), "status", &status, error))
    return NULL;
  if (status > 1)
    {
      invalid (error, _("the receipt's status is %" PRIu64 ", not 0 or 1"), status);
      return NULL;
    }
  receipt->success = status == 1;

  price = member (object, "effectiveGasPrice");
  if (price != NULL && !JSON_NODE_HOLDS_NULL (price)
      && !kiln_rpc_parse_quantity (price, "effectiveGasPrice", &receipt->effective_gas_price,
                                   error))
    return NULL;

  logs_node = member (object, "logs");
  if (logs_node == NULL || !JSON_NODE_HOLDS_ARRAY (logs_node))
    {
      invalid (error, _("the receipt has no list of logs"));
      return NULL;
    }
  logs = json_node_get_array (logs_node);
  for (guint i = 0; i < json_array_get_length (logs); i++)
    {
      KilnRpcLog log = { 0 };

      if (!parse_log (json_array_get_element (logs, i), i, &log, error))
        {
          log_clear (&log);
          return NULL;
        }
      g_array_append_val (receipt->logs, log);
    }

  return g_steal_pointer (&receipt);
}

/* Fees */

static int
compare_uint256 (gconstpointer a,
                 gconstpointer b)
{
  return kiln_uint256_compare (a, b);
}

gboolean
kiln_rpc_parse_fee_history (JsonNode        *node,
                            KilnRpcFeeData  *out,
                            GError         **error)
{
  g_autoptr(GArray) tips = NULL;
  KilnUint256 base_fee;
  KilnUint256 doubled;
  JsonObject *object;
  JsonNode *base_node;
  JsonNode *reward_node;
  JsonNode *ratio_node;
  JsonArray *base_fees;
  JsonArray *rewards = NULL;
  JsonArray *ratios = NULL;
  guint n_base;

  g_return_val_if_fail (node != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, _("the fee history is not an object"));
  object = json_node_get_object (node);

  base_node = member (object, "baseFeePerGas");
  if (base_node == NULL || JSON_NODE_HOLDS_NULL (base_node))
    return TRUE;   /* no EIP-1559 */
  if (!JSON_NODE_HOLDS_ARRAY (base_node))
    return invalid (error, _("baseFeePerGas is not a list"));
  base_fees = json_node_get_array (base_node);
  n_base = json_array_get_length (base_fees);
  if (n_base == 0)
    return TRUE;

  /* The last entry is the base fee of the block after the newest: the pending one. */
  if (!kiln_rpc_parse_quantity (json_array_get_element (base_fees, n_base - 1),
                                "baseFeePerGas", &base_fee, error))
    return FALSE;
  if (kiln_uint256_is_zero (&base_fee))
    return TRUE;   /* a chain without a base fee reports zeros */

  reward_node = member (object, "reward");
  if (reward_node != NULL && !JSON_NODE_HOLDS_NULL (reward_node))
    {
      if (!JSON_NODE_HOLDS_ARRAY (reward_node))
        return invalid (error, _("reward is not a list"));
      rewards = json_node_get_array (reward_node);
    }
  ratio_node = member (object, "gasUsedRatio");
  if (ratio_node != NULL && JSON_NODE_HOLDS_ARRAY (ratio_node))
    ratios = json_node_get_array (ratio_node);

  /* The median of the chosen percentile's tips over the blocks that had transactions. */
  tips = g_array_new (FALSE, TRUE, sizeof (KilnUint256));
  for (guint i = 0; rewards != NULL && i < json_array_get_length (rewards); i++)
    {
      JsonNode *block = json_array_get_element (rewards, i);
      JsonArray *percentiles;
      KilnUint256 tip;

      if (!JSON_NODE_HOLDS_ARRAY (block))
        return invalid (error, _("reward %u is not a list"), i);
      percentiles = json_node_get_array (block);
      if (json_array_get_length (percentiles) == 0)
        return invalid (error, _("reward %u is empty"), i);
      if (!kiln_rpc_parse_quantity (json_array_get_element (percentiles, 0), "reward", &tip,
                                    error))
        return FALSE;

      /* Empty blocks report a zero tip, which says nothing about what gets included. */
      if (ratios != NULL && i < json_array_get_length (ratios))
        {
          JsonNode *ratio = json_array_get_element (ratios, i);

          if (JSON_NODE_HOLDS_VALUE (ratio) && json_node_get_value_type (ratio) == G_TYPE_INT64
              && json_node_get_int (ratio) == 0)
            continue;
          if (JSON_NODE_HOLDS_VALUE (ratio) && json_node_get_value_type (ratio) == G_TYPE_DOUBLE
              && !(json_node_get_double (ratio) > 0))
            continue;
        }
      g_array_append_val (tips, tip);
    }

  if (tips->len > 0)
    {
      g_array_sort (tips, compare_uint256);
      out->max_priority_fee_per_gas = g_array_index (tips, KilnUint256, tips->len / 2);
    }
  else
    kiln_uint256_from_uint64 (&out->max_priority_fee_per_gas, KILN_RPC_DEFAULT_PRIORITY_FEE);

  if (!kiln_uint256_add (&doubled, &base_fee, &base_fee)
      || !kiln_uint256_add (&out->max_fee_per_gas, &doubled, &out->max_priority_fee_per_gas))
    return invalid (error, _("the fees are larger than 256 bits"));

  out->eip1559 = TRUE;
  out->base_fee_per_gas = base_fee;
  return TRUE;
}
