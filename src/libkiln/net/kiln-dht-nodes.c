/* kiln-dht-nodes.c: topics and node records on top of KilnDht's raw values
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-dht-private.h"

/* How soon a node record is put again after no node accepted it. */
#define KILN_DHT_RETRY_SECONDS 5
/* While a node joins, its routing table changes fast and the first puts may land on nodes that
 * soon stop being the closest to the key: put again after 1, 2, 4, 8 and 16 seconds. */
#define KILN_DHT_JOIN_REPUBLISHES 5

static void
schedule_retry (KilnDht *self,
                guint    seconds);

static void kiln_dht_publish_node (KilnDht *self);

void
kiln_dht_node_entry_free (gpointer data)
{
  KilnDhtNodeEntry *entry = data;

  kiln_dht_record_free (entry->record);
  kiln_dht_node_info_free (entry->info);
  g_free (entry);
}

/* Topics */

static void
on_publish_put (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (kiln_dht_put_finish (KILN_DHT (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
kiln_dht_publish_async (KilnDht             *self,
                        KilnKey             *key,
                        const char          *topic,
                        GBytes              *payload,
                        guint                lifetime,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) record = NULL;
  GError *error = NULL;
  guint8 dht_key[KILN_DHT_KEY_SIZE];

  g_return_if_fail (KILN_IS_DHT (self));
  g_return_if_fail (KILN_IS_KEY (key));
  g_return_if_fail (topic != NULL && payload != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_dht_publish_async);

  record = kiln_dht_record_sign (key, KILN_DHT_RECORD_TOPIC, self->network_id, topic, payload,
                                 g_get_real_time () / G_USEC_PER_SEC, lifetime, &error);
  if (record == NULL)
    return g_task_return_error (task, error);

  kiln_dht_topic_key (self->network_id, topic, dht_key);
  kiln_dht_put_async (self, dht_key, record, cancellable, on_publish_put,
                      g_steal_pointer (&task));
}

gboolean
kiln_dht_publish_finish (KilnDht       *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
reject (KilnDht      *self,
        const char   *where,
        const GError *error)
{
  self->rejected++;
  g_debug ("Discovery: ignored a record under %s: %s", where, error->message);
}

typedef struct
{
  char              *topic;
  KilnDhtRecordFunc  func;
  gpointer           user_data;
  GDestroyNotify     destroy;
} Subscription;

static void
subscription_free (gpointer data)
{
  Subscription *sub = data;

  if (sub->destroy != NULL)
    sub->destroy (sub->user_data);
  g_free (sub->topic);
  g_free (sub);
}

static void
on_topic_value (KilnDht  *self,
                GBytes   *value,
                gboolean  expired,
                gpointer  user_data)
{
  Subscription *sub = user_data;
  g_autoptr(KilnDhtRecord) record = NULL;
  g_autoptr(GError) error = NULL;

  if (expired)
    return;

  record = kiln_dht_record_verify (value, g_get_real_time () / G_USEC_PER_SEC, &error);
  if (record != NULL && (record->kind != KILN_DHT_RECORD_TOPIC
                         || record->network != self->network_id
                         || g_strcmp0 (record->topic, sub->topic) != 0))
    g_set_error_literal (&error, KILN_DHT_ERROR, KILN_DHT_ERROR_WRONG_PLACE,
                         _("The record belongs to another topic or network"));
  if (error != NULL)
    return reject (self, sub->topic, error);

  sub->func (self, record, sub->user_data);
}

guint
kiln_dht_subscribe (KilnDht           *self,
                    const char        *topic,
                    GCancellable      *cancellable,
                    KilnDhtRecordFunc  func,
                    gpointer           user_data,
                    GDestroyNotify     destroy)
{
  Subscription *sub;
  guint8 key[KILN_DHT_KEY_SIZE];

  g_return_val_if_fail (KILN_IS_DHT (self), 0);
  g_return_val_if_fail (topic != NULL && *topic != '\0' && func != NULL, 0);

  sub = g_new0 (Subscription, 1);
  sub->topic = g_strdup (topic);
  sub->func = func;
  sub->user_data = user_data;
  sub->destroy = destroy;
  kiln_dht_topic_key (self->network_id, topic, key);
  return kiln_dht_listen (self, key, cancellable, on_topic_value, sub, subscription_free);
}

/* Nodes */

static gboolean
on_retry (gpointer user_data)
{
  KilnDht *self = user_data;

  g_clear_pointer (&self->retry, g_source_unref);
  kiln_dht_publish_node (self);
  if (self->join_step < KILN_DHT_JOIN_REPUBLISHES)
    schedule_retry (self, 1u << self->join_step++);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (KilnDht *self,
                guint    seconds)
{
  if (self->runner == NULL || self->retry != NULL)
    return;

  self->retry = g_timeout_source_new_seconds (seconds);
  g_source_set_static_name (self->retry, "[kiln] dht retry");
  g_source_set_callback (self->retry, on_retry, self, NULL);
  g_source_attach (self->retry, self->context);
}

/* A put fails when no node stored the value, typically while the node is still joining. */
static void
on_node_put (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  KilnDht *self = KILN_DHT (source);
  g_autoptr(GError) error = NULL;

  if (kiln_dht_put_finish (self, result, &error)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_debug ("Discovery: could not publish this node’s record: %s", error->message);
  schedule_retry (self, KILN_DHT_RETRY_SECONDS);
}

static void
kiln_dht_publish_node (KilnDht *self)
{
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) record = NULL;
  g_autoptr(GError) error = NULL;
  guint bucket;

  payload = kiln_dht_node_info_encode (self->announce_info, &error);
  if (payload != NULL)
    record = kiln_dht_record_sign (self->announce_key, KILN_DHT_RECORD_NODE, self->network_id,
                                   NULL, payload, g_get_real_time () / G_USEC_PER_SEC,
                                   KILN_DHT_NODE_RECORD_LIFETIME, &error);
  if (record == NULL)
    {
      g_debug ("Discovery: could not sign this node’s record: %s", error->message);
      return;
    }

  bucket = kiln_dht_address_bucket (kiln_key_get_address (self->announce_key));
  for (guint role = 1; role & KILN_DHT_ROLE_ALL; role <<= 1)
    {
      guint8 key[KILN_DHT_KEY_SIZE];

      if ((self->announce_info->roles & role) == 0)
        continue;
      kiln_dht_node_key (self->network_id, role, bucket, key);
      kiln_dht_put_async (self, key, record, NULL, on_node_put, NULL);
    }
}

static gboolean
on_republish (gpointer user_data)
{
  kiln_dht_publish_node (user_data);
  return G_SOURCE_CONTINUE;
}

gboolean
kiln_dht_announce (KilnDht                *self,
                   KilnKey                *key,
                   const KilnDhtNodeInfo  *info,
                   GError                **error)
{
  g_autoptr(GBytes) payload = NULL;

  g_return_val_if_fail (KILN_IS_DHT (self), FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);
  g_return_val_if_fail (info != NULL, FALSE);

  if (self->runner == NULL)
    return (g_set_error_literal (error, KILN_DHT_ERROR, KILN_DHT_ERROR_FAILED,
                                 _("Discovery is not running")), FALSE);
  if ((info->roles & KILN_DHT_ROLE_ALL) == 0)
    return (g_set_error_literal (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED,
                                 _("A node record needs at least one known role")), FALSE);
  payload = kiln_dht_node_info_encode (info, error);
  if (payload == NULL)
    return FALSE;

  g_set_object (&self->announce_key, key);
  g_clear_pointer (&self->announce_info, kiln_dht_node_info_free);
  self->announce_info = kiln_dht_node_info_copy (info);
  kiln_dht_publish_node (self);
  self->join_step = 0;
  schedule_retry (self, 1u << self->join_step++);

  if (self->republish == NULL)
    {
      self->republish = g_timeout_source_new_seconds (KILN_DHT_REPUBLISH_SECONDS);
      g_source_set_static_name (self->republish, "[kiln] dht republish");
      g_source_set_callback (self->republish, on_republish, self, NULL);
      g_source_attach (self->republish, self->context);
    }
  return TRUE;
}

static void
on_node_value (KilnDht  *self,
               GBytes   *value,
               gboolean  expired,
               gpointer  user_data)
{
  guint role = GPOINTER_TO_UINT (user_data) >> 8;
  guint bucket = GPOINTER_TO_UINT (user_data) & 0xff;
  g_autoptr(KilnDhtRecord) record = NULL;
  g_autoptr(KilnDhtNodeInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *where = NULL;
  char address[KILN_ADDRESS_STRING_SIZE];
  KilnDhtNodeEntry *entry;

  if (expired)
    return;

  record = kiln_dht_record_verify (value, g_get_real_time () / G_USEC_PER_SEC, &error);
  if (record != NULL && record->kind == KILN_DHT_RECORD_NODE)
    info = kiln_dht_node_info_decode (record->payload, &error);
  if (info != NULL && (record->network != self->network_id
                       || kiln_dht_address_bucket (&record->author) != bucket
                       || (info->roles & role) == 0))
    g_clear_pointer (&info, kiln_dht_node_info_free);
  if (info == NULL)
    {
      where = g_strdup_printf ("node role %u bucket %u", role, bucket);
      if (error == NULL)
        g_set_error_literal (&error, KILN_DHT_ERROR, KILN_DHT_ERROR_WRONG_PLACE,
                             _("The node record belongs to another network or shard"));
      return reject (self, where, error);
    }

  kiln_address_format (&record->author, address);
  entry = g_hash_table_lookup (self->nodes, address);
  if (entry != NULL && entry->record->created >= record->created)
    return;

  entry = g_new0 (KilnDhtNodeEntry, 1);
  entry->record = g_steal_pointer (&record);
  entry->info = g_steal_pointer (&info);
  g_hash_table_replace (self->nodes, g_strdup (address), entry);
  kiln_dht_emit_node_found (self, entry);
}

void
kiln_dht_watch_nodes (KilnDht *self,
                      guint    roles)
{
  g_return_if_fail (KILN_IS_DHT (self));
  g_return_if_fail (self->runner != NULL);

  for (guint role = 1; role & KILN_DHT_ROLE_ALL; role <<= 1)
    {
      if ((roles & role) == 0 || (self->watched_roles & role) != 0)
        continue;
      self->watched_roles |= role;
      for (guint bucket = 0; bucket < KILN_DHT_NODE_BUCKETS; bucket++)
        {
          guint8 key[KILN_DHT_KEY_SIZE];

          kiln_dht_node_key (self->network_id, role, bucket, key);
          kiln_dht_listen (self, key, NULL, on_node_value,
                           GUINT_TO_POINTER (role << 8 | bucket), NULL);
        }
    }
}

GPtrArray *
kiln_dht_list_nodes (KilnDht *self)
{
  GPtrArray *nodes;
  GHashTableIter iter;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  KilnDhtNodeEntry *entry;

  g_return_val_if_fail (KILN_IS_DHT (self), NULL);

  nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_dht_record_free);
  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    if (entry->record->expires > now)
      g_ptr_array_add (nodes, kiln_dht_record_copy (entry->record));
  return nodes;
}

guint
kiln_dht_get_rejected_records (KilnDht *self)
{
  g_return_val_if_fail (KILN_IS_DHT (self), 0);

  return self->rejected;
}
