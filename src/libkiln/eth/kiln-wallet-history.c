/* kiln-wallet-history.c: payments out of the ledger and token transfers in, newest first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Outgoing entries are the ledger's payments of this account on this chain. Incoming ones are
 * the token's Transfer events to this account, read with eth_getLogs over the last
 * KILN_WALLET_HISTORY_BLOCKS blocks (about 33 hours on Ethereum, 6 hours on Polygon), or the
 * last KILN_WALLET_HISTORY_MIN_BLOCKS when the node refuses so wide a range, as public nodes
 * may. They are dated by their block's timestamp.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-rpc-parse.h"
#include "kiln-wallet-private.h"

/* Keccak-256 of "Transfer(address,address,uint256)" */
static const char transfer_topic[] =
  "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

struct _KilnWalletEntry
{
  gboolean          incoming;
  KilnWalletAsset   asset;
  KilnAddress       counterparty;
  guint             n_recipients;
  KilnUint256       amount;
  char             *tx_hash;
  KilnPaymentState  state;
  gint64            time;          /* µs since the Unix epoch */
  KilnPayment      *payment;
  guint64           block;         /* incoming: where the transfer is */
  guint64           log_index;
};

static void
entry_clear (gpointer data)
{
  KilnWalletEntry *self = data;

  g_free (self->tx_hash);
  g_clear_pointer (&self->payment, kiln_payment_unref);
}

KilnWalletEntry *
kiln_wallet_entry_ref (KilnWalletEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

void
kiln_wallet_entry_unref (KilnWalletEntry *self)
{
  g_return_if_fail (self != NULL);

  g_atomic_rc_box_release_full (self, entry_clear);
}

G_DEFINE_BOXED_TYPE (KilnWalletEntry, kiln_wallet_entry, kiln_wallet_entry_ref,
                     kiln_wallet_entry_unref)

gboolean
kiln_wallet_entry_is_incoming (KilnWalletEntry *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->incoming;
}

KilnWalletAsset
kiln_wallet_entry_get_asset (KilnWalletEntry *self)
{
  g_return_val_if_fail (self != NULL, KILN_WALLET_ASSET_TOKEN);

  return self->asset;
}

const KilnAddress *
kiln_wallet_entry_get_counterparty (KilnWalletEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return &self->counterparty;
}

guint
kiln_wallet_entry_get_n_recipients (KilnWalletEntry *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_recipients;
}

void
kiln_wallet_entry_get_amount (KilnWalletEntry *self,
                              KilnUint256     *out)
{
  g_return_if_fail (self != NULL && out != NULL);

  *out = self->amount;
}

const char *
kiln_wallet_entry_get_tx_hash (KilnWalletEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->tx_hash;
}

KilnPaymentState
kiln_wallet_entry_get_state (KilnWalletEntry *self)
{
  g_return_val_if_fail (self != NULL, KILN_PAYMENT_STATE_PENDING);

  return self->state;
}

gint64
kiln_wallet_entry_get_time (KilnWalletEntry *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->time;
}

KilnPayment *
kiln_wallet_entry_get_payment (KilnWalletEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->payment;
}

static char *
format_hash (const guint8 hash[32])
{
  g_autofree char *hex = kiln_hex_encode (hash, 32);

  return g_strconcat ("0x", hex, NULL);
}

static KilnWalletEntry *
entry_new_outgoing (KilnPayment *payment)
{
  KilnWalletEntry *self = g_atomic_rc_box_new0 (KilnWalletEntry);
  const KilnPaymentAttempt *shown = kiln_payment_get_latest_attempt (payment);

  self->asset = kiln_payment_get_kind (payment) == KILN_PAYMENT_KIND_ETH
                ? KILN_WALLET_ASSET_ETH : KILN_WALLET_ASSET_TOKEN;
  self->counterparty = kiln_payment_get_recipient (payment, 0)->address;
  self->n_recipients = kiln_payment_get_n_recipients (payment);
  kiln_payment_get_total (payment, &self->amount);
  self->state = kiln_payment_get_state (payment);
  self->time = kiln_payment_get_created_at (payment);
  self->payment = kiln_payment_ref (payment);

  /* The attempt that was mined, else the newest. */
  for (guint i = 0; i < kiln_payment_get_n_attempts (payment); i++)
    if (kiln_payment_get_attempt (payment, i)->state == KILN_PAYMENT_ATTEMPT_CONFIRMED)
      shown = kiln_payment_get_attempt (payment, i);
  if (shown != NULL)
    self->tx_hash = format_hash (shown->tx_hash);

  return self;
}

/* A Transfer log to this account, or NULL (with @error unset) for one to skip. */
static KilnWalletEntry *
entry_new_incoming (KilnWallet  *self,
                    JsonNode    *node,
                    GError     **error)
{
  g_autoptr(KilnWalletEntry) entry = g_atomic_rc_box_new0 (KilnWalletEntry);
  g_autoptr(GBytes) data = NULL;
  JsonObject *object;
  JsonArray *topics;
  JsonNode *member;
  guint8 word[32], hash[32];

  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto invalid;
  object = json_node_get_object (node);
  member = json_object_get_member (object, "removed");
  if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
      json_node_get_value_type (member) == G_TYPE_BOOLEAN && json_node_get_boolean (member))
    return NULL;   /* undone by a reorganization */

  member = json_object_get_member (object, "topics");
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member))
    goto invalid;
  topics = json_node_get_array (member);
  if (json_array_get_length (topics) != 3)
    goto invalid;
  if (!kiln_rpc_parse_fixed_data (json_array_get_element (topics, 1), "a log topic", word, 32,
                                  error))
    return NULL;
  memcpy (entry->counterparty.bytes, word + 12, KILN_ADDRESS_SIZE);
  if (kiln_address_equal (&entry->counterparty, &self->address))
    return NULL;   /* to ourselves: already listed as outgoing */

  data = kiln_rpc_parse_data (json_object_get_member (object, "data"), "a log's data", error);
  if (data == NULL ||
      !kiln_uint256_from_be_slice (&entry->amount, g_bytes_get_data (data, NULL),
                                   g_bytes_get_size (data), error) ||
      !kiln_rpc_parse_uint64 (json_object_get_member (object, "blockNumber"), "a block number",
                              &entry->block, error) ||
      !kiln_rpc_parse_uint64 (json_object_get_member (object, "logIndex"), "a log index",
                              &entry->log_index, error) ||
      !kiln_rpc_parse_fixed_data (json_object_get_member (object, "transactionHash"),
                                  "a transaction hash", hash, 32, error))
    return NULL;

  member = json_object_get_member (object, "blockTimestamp");
  if (member != NULL && !JSON_NODE_HOLDS_NULL (member))
    {
      guint64 seconds;

      if (!kiln_rpc_parse_uint64 (member, "a block timestamp", &seconds, error))
        return NULL;
      entry->time = (gint64) MIN (seconds, (guint64) (G_MAXINT64 / G_USEC_PER_SEC)) *
                    G_USEC_PER_SEC;
    }

  entry->incoming = TRUE;
  entry->asset = KILN_WALLET_ASSET_TOKEN;
  entry->n_recipients = 1;
  entry->state = KILN_PAYMENT_STATE_CONFIRMED;
  entry->tx_hash = format_hash (hash);
  return g_steal_pointer (&entry);

invalid:
  g_set_error_literal (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE,
                       _("a log is not a Transfer event"));
  return NULL;
}

/* Listing */

typedef struct
{
  guint       limit;
  GPtrArray  *entries;     /* KilnWalletEntry: outgoing, then incoming */
  GPtrArray  *undated;     /* KilnWalletEntry: incoming ones whose block time is needed */
  guint       index;
  guint64     head;
  guint64     range;
} History;

static void
history_free (gpointer data)
{
  History *history = data;

  g_clear_pointer (&history->entries, g_ptr_array_unref);
  g_clear_pointer (&history->undated, g_ptr_array_unref);
  g_free (history);
}

static gint
compare_newest_first (gconstpointer a,
                      gconstpointer b)
{
  const KilnWalletEntry *ea = *(KilnWalletEntry **) a;
  const KilnWalletEntry *eb = *(KilnWalletEntry **) b;

  if (ea->time != eb->time)
    return ea->time > eb->time ? -1 : 1;
  if (ea->block != eb->block)
    return ea->block > eb->block ? -1 : 1;
  return ea->log_index > eb->log_index ? -1 : ea->log_index < eb->log_index ? 1 : 0;
}

static void
history_return (GTask *task)
{
  History *history = g_task_get_task_data (task);

  g_ptr_array_sort (history->entries, compare_newest_first);
  if (history->entries->len > history->limit)
    g_ptr_array_set_size (history->entries, history->limit);
  g_task_return_pointer (task, g_ptr_array_ref (history->entries),
                         (GDestroyNotify) g_ptr_array_unref);
  g_object_unref (task);
}

static void history_date_next (GTask *task);

static void
on_history_block (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  History *history = g_task_get_task_data (task);
  KilnWalletEntry *entry = g_ptr_array_index (history->undated, history->index);
  g_autoptr(JsonNode) block = NULL;
  GError *error = NULL;
  guint64 seconds;

  block = kiln_rpc_client_call_finish (KILN_RPC_CLIENT (object), result, &error);
  if (block == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (block) ||
      !kiln_rpc_parse_uint64 (json_object_get_member (json_node_get_object (block),
                                                      "timestamp"),
                              "a block timestamp", &seconds, &error))
    {
      if (error == NULL)
        g_set_error_literal (&error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE,
                             _("The Ethereum node does not know a block it has logs of"));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  seconds = MIN (seconds, (guint64) (G_MAXINT64 / G_USEC_PER_SEC));
  /* Every entry of this block gets its time. */
  for (guint i = history->index; i < history->undated->len; i++)
    {
      KilnWalletEntry *other = g_ptr_array_index (history->undated, i);

      if (other->block == entry->block)
        other->time = (gint64) seconds * G_USEC_PER_SEC;
    }
  history->index++;
  history_date_next (task);
}

/* Nodes that do not put blockTimestamp in logs: one eth_getBlockByNumber per block. */
static void
history_date_next (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  History *history = g_task_get_task_data (task);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) params = NULL;
  char number[32];

  while (history->index < history->undated->len &&
         ((KilnWalletEntry *) g_ptr_array_index (history->undated, history->index))->time != 0)
    history->index++;
  if (history->index >= history->undated->len)
    {
      history_return (task);
      return;
    }

  g_snprintf (number, sizeof number, "0x%" G_GINT64_MODIFIER "x",
              ((KilnWalletEntry *) g_ptr_array_index (history->undated, history->index))->block);
  builder = json_builder_new ();
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, number);
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_end_array (builder);
  params = json_builder_get_root (builder);
  kiln_rpc_client_call_async (self->rpc, "eth_getBlockByNumber", params,
                              g_task_get_cancellable (task), on_history_block, task);
}

static void history_get_logs (GTask *task);

static void
on_history_logs (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  History *history = g_task_get_task_data (task);
  g_autoptr(GPtrArray) incoming = NULL;
  g_autoptr(JsonNode) logs = NULL;
  GError *error = NULL;
  JsonArray *array;

  logs = kiln_rpc_client_call_finish (KILN_RPC_CLIENT (object), result, &error);
  if (logs == NULL && g_error_matches (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER) &&
      history->range > KILN_WALLET_HISTORY_MIN_BLOCKS)
    {
      g_debug ("Wallet: the node refused logs of %" G_GUINT64_FORMAT " blocks (%s); asking "
               "for fewer", history->range, error->message);
      g_clear_error (&error);
      history->range = KILN_WALLET_HISTORY_MIN_BLOCKS;
      history_get_logs (task);
      return;
    }
  if (logs == NULL || !JSON_NODE_HOLDS_ARRAY (logs))
    {
      if (error == NULL)
        g_set_error_literal (&error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_RESPONSE,
                             _("The Ethereum node’s answer to eth_getLogs is not a list"));
      g_prefix_error (&error, _("Cannot list the transfers to this account: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  array = json_node_get_array (logs);
  incoming = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_wallet_entry_unref);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      KilnWalletEntry *entry = entry_new_incoming (self, json_array_get_element (array, i),
                                                   &error);

      if (error != NULL)
        {
          g_prefix_error (&error, _("The Ethereum node at %s sent an invalid answer to "
                                    "eth_getLogs: "),
                          kiln_rpc_client_get_display_name (self->rpc));
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      if (entry != NULL)
        g_ptr_array_add (incoming, entry);
    }

  /* Only the newest can make it into the list: date those. */
  g_ptr_array_sort (incoming, compare_newest_first);
  for (guint i = 0; i < incoming->len && i < history->limit; i++)
    {
      KilnWalletEntry *entry = g_ptr_array_index (incoming, i);

      g_ptr_array_add (history->entries, kiln_wallet_entry_ref (entry));
      if (entry->time == 0)
        g_ptr_array_add (history->undated, kiln_wallet_entry_ref (entry));
    }

  history->index = 0;
  history_date_next (task);
}

static void
history_get_logs (GTask *task)
{
  KilnWallet *self = g_task_get_source_object (task);
  History *history = g_task_get_task_data (task);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) params = NULL;
  g_autofree char *token = kiln_address_to_string (kiln_chain_get_token (self->chain));
  g_autofree char *hex = kiln_hex_encode (self->address.bytes, KILN_ADDRESS_SIZE);
  g_autofree char *to_topic = g_strconcat ("0x000000000000000000000000", hex, NULL);
  guint64 from = history->head >= history->range ? history->head - history->range + 1 : 0;
  char from_text[32], to_text[32];

  g_snprintf (from_text, sizeof from_text, "0x%" G_GINT64_MODIFIER "x", from);
  g_snprintf (to_text, sizeof to_text, "0x%" G_GINT64_MODIFIER "x", history->head);
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "fromBlock");
  json_builder_add_string_value (builder, from_text);
  json_builder_set_member_name (builder, "toBlock");
  json_builder_add_string_value (builder, to_text);
  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, token);
  json_builder_set_member_name (builder, "topics");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, transfer_topic);
  json_builder_add_null_value (builder);
  json_builder_add_string_value (builder, to_topic);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  params = json_builder_get_root (builder);

  kiln_rpc_client_call_async (self->rpc, "eth_getLogs", params, g_task_get_cancellable (task),
                              on_history_logs, task);
}

static void
on_history_head (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  History *history = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_rpc_client_get_block_number_finish (KILN_RPC_CLIENT (object), result,
                                                &history->head, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  history_get_logs (task);
}

static void
on_history_outgoing (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  KilnWallet *self = g_task_get_source_object (task);
  History *history = g_task_get_task_data (task);
  g_autoptr(KilnPaymentHistory) payments = NULL;
  GError *error = NULL;

  payments = kiln_payment_ledger_list_history_finish (KILN_PAYMENT_LEDGER (object), result,
                                                      &error);
  if (payments == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  for (guint i = 0; i < payments->payments->len; i++)
    {
      KilnPayment *payment = g_ptr_array_index (payments->payments, i);

      if (kiln_payment_get_n_recipients (payment) > 0)
        g_ptr_array_add (history->entries, entry_new_outgoing (payment));
    }

  kiln_rpc_client_get_block_number_async (self->rpc, g_task_get_cancellable (task),
                                          on_history_head, task);
}

void
kiln_wallet_list_history_async (KilnWallet          *self,
                                guint                limit,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task;
  History *history;
  GError *error = NULL;

  g_return_if_fail (KILN_IS_WALLET (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_wallet_list_history_async);
  if (!kiln_wallet_check_started (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  history = g_new0 (History, 1);
  history->limit = limit != 0 ? limit : G_MAXUINT;
  history->range = KILN_WALLET_HISTORY_BLOCKS;
  history->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_wallet_entry_unref);
  history->undated = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_wallet_entry_unref);
  g_task_set_task_data (task, history, history_free);

  kiln_payment_ledger_list_history_async (self->ledger, self->chain_id, &self->address, 0,
                                          MIN (history->limit, (guint) G_MAXINT), cancellable,
                                          on_history_outgoing, task);
}

GPtrArray *
kiln_wallet_list_history_finish (KilnWallet    *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_wallet_list_history_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
