/* kiln-peer-table.c: the nodes this node has met, kept in SQLite across restarts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-peer-table.h"
#include "kiln-store.h"

struct _KilnPeerTable
{
  GObject    parent_instance;
  KilnStore *store;
};

G_DEFINE_FINAL_TYPE (KilnPeerTable, kiln_peer_table, G_TYPE_OBJECT)

void
kiln_peer_free (KilnPeer *peer)
{
  if (peer == NULL)
    return;

  g_clear_pointer (&peer->info, kiln_dht_node_info_free);
  g_free (peer);
}

static void
kiln_peer_table_dispose (GObject *object)
{
  KilnPeerTable *self = KILN_PEER_TABLE (object);

  g_clear_object (&self->store);

  G_OBJECT_CLASS (kiln_peer_table_parent_class)->dispose (object);
}

static void
kiln_peer_table_class_init (KilnPeerTableClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = kiln_peer_table_dispose;
}

static void
kiln_peer_table_init (KilnPeerTable *self)
{
}

KilnPeerTable *
kiln_peer_table_new (KilnStore *store)
{
  KilnPeerTable *self;

  g_return_val_if_fail (KILN_IS_STORE (store), NULL);

  self = g_object_new (KILN_TYPE_PEER_TABLE, NULL);
  self->store = g_object_ref (store);
  return self;
}

/* One request for the worker thread. */
typedef struct
{
  KilnAddress  address;
  GBytes      *info;
  gint64       now;
  guint        max_failures;
  guint        limit;
  GPtrArray   *peers;
} Request;

static void
request_free (gpointer data)
{
  Request *request = data;

  g_clear_pointer (&request->info, g_bytes_unref);
  g_clear_pointer (&request->peers, g_ptr_array_unref);
  g_free (request);
}

/* The request stays owned by the task; the store only borrows it. */
static void
run_request (KilnPeerTable *self,
             GTask         *task,
             Request       *request,
             KilnStoreFunc  func)
{
  g_task_set_task_data (task, request, request_free);
  kiln_store_run_task (self->store, func, task);
}

static gboolean
seen_in_db (sqlite3   *db,
            gpointer   data,
            GError   **error)
{
  Request *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gsize size;
  gconstpointer info = g_bytes_get_data (request->info, &size);

  stmt = kiln_store_prepare (db,
                             "INSERT INTO peers (address, info, first_seen, last_seen, failures)"
                             " VALUES (?1, ?2, ?3, ?3, 0)"
                             " ON CONFLICT (address) DO UPDATE SET info = ?2, last_seen = ?3,"
                             " failures = 0", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, request->address.bytes, KILN_ADDRESS_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, info, size, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, request->now);
  return kiln_store_step_done (stmt, error);
}

void
kiln_peer_table_seen_async (KilnPeerTable         *self,
                            const KilnAddress     *address,
                            const KilnDhtNodeInfo *info,
                            GCancellable          *cancellable,
                            GAsyncReadyCallback    callback,
                            gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *request;
  GError *error = NULL;
  GBytes *encoded;

  g_return_if_fail (KILN_IS_PEER_TABLE (self));
  g_return_if_fail (address != NULL && info != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_peer_table_seen_async);

  encoded = kiln_dht_node_info_encode (info, &error);
  if (encoded == NULL)
    return g_task_return_error (task, error);

  request = g_new0 (Request, 1);
  request->address = *address;
  request->info = encoded;
  request->now = g_get_real_time ();
  run_request (self, g_steal_pointer (&task), request, seen_in_db);
}

gboolean
kiln_peer_table_seen_finish (KilnPeerTable  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
failed_in_db (sqlite3   *db,
              gpointer   data,
              GError   **error)
{
  Request *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = kiln_store_prepare (db, "UPDATE peers SET failures = failures + 1 WHERE address = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, request->address.bytes, KILN_ADDRESS_SIZE, SQLITE_STATIC);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    {
      g_autofree char *address = kiln_address_to_string (&request->address);

      return (g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND,
                           _("The node %s is not in the peer table"), address), FALSE);
    }
  return TRUE;
}

void
kiln_peer_table_failed_async (KilnPeerTable       *self,
                              const KilnAddress   *address,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;
  Request *request;

  g_return_if_fail (KILN_IS_PEER_TABLE (self));
  g_return_if_fail (address != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_peer_table_failed_async);
  request = g_new0 (Request, 1);
  request->address = *address;
  run_request (self, task, request, failed_in_db);
}

gboolean
kiln_peer_table_failed_finish (KilnPeerTable  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
list_in_db (sqlite3   *db,
            gpointer   data,
            GError   **error)
{
  Request *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = kiln_store_prepare (db,
                             "SELECT address, info, first_seen, last_seen, failures FROM peers"
                             " WHERE failures <= ?1 ORDER BY last_seen DESC, address LIMIT ?2",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, request->max_failures);
  sqlite3_bind_int64 (stmt, 2, request->limit == 0 ? -1 : (gint64) request->limit);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(KilnPeer) peer = g_new0 (KilnPeer, 1);
      g_autoptr(GBytes) info = NULL;
      g_autoptr(GError) local_error = NULL;

      if (sqlite3_column_bytes (stmt, 0) != KILN_ADDRESS_SIZE)
        continue;
      memcpy (peer->address.bytes, sqlite3_column_blob (stmt, 0), KILN_ADDRESS_SIZE);
      info = g_bytes_new (sqlite3_column_blob (stmt, 1), sqlite3_column_bytes (stmt, 1));
      peer->info = kiln_dht_node_info_decode (info, &local_error);
      if (peer->info == NULL)
        {
          g_debug ("Peer table: skipped an unreadable row: %s", local_error->message);
          continue;
        }
      peer->first_seen = sqlite3_column_int64 (stmt, 2);
      peer->last_seen = sqlite3_column_int64 (stmt, 3);
      peer->failures = sqlite3_column_int64 (stmt, 4);
      g_ptr_array_add (request->peers, g_steal_pointer (&peer));
    }
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read the peer table"));
  return TRUE;
}

void
kiln_peer_table_list_async (KilnPeerTable       *self,
                            guint                max_failures,
                            guint                limit,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  Request *request;

  g_return_if_fail (KILN_IS_PEER_TABLE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_peer_table_list_async);
  request = g_new0 (Request, 1);
  request->max_failures = max_failures;
  request->limit = limit;
  request->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_peer_free);
  run_request (self, task, request, list_in_db);
}

GPtrArray *
kiln_peer_table_list_finish (KilnPeerTable  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  return g_steal_pointer (&((Request *) g_task_get_task_data (G_TASK (result)))->peers);
}
