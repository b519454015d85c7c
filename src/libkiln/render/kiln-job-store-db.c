/* kiln-job-store-db.c: the job store's side on the store's worker thread: its SQL
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Jobs, their resources, subtasks and assignments in the tables of migration 5
 * (store/kiln-store-schema.c), written and read inside the transactions KilnStore runs.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "kiln-job-store-private.h"

/* The value of @nick, or -1. */
static int
enum_from_nick (GType       type,
                const char *nick)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *found = nick != NULL ? g_enum_get_value_by_nick (klass, nick) : NULL;

  return found != NULL ? found->value : -1;
}


void
kiln_job_request_free (gpointer data)
{
  Request *request = data;

  g_free (request->id);
  g_clear_pointer (&request->job, kiln_job_record_free);
  g_clear_pointer (&request->subtasks, g_array_unref);
  g_clear_pointer (&request->assignment, kiln_job_assignment_record_free);
  g_clear_pointer (&request->snapshot, kiln_job_snapshot_free);
  g_clear_pointer (&request->jobs, g_ptr_array_unref);
  g_free (request);
}

static void
bind_text (sqlite3_stmt *stmt,
           int           column,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, column, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, column);
}

static void
bind_u256 (sqlite3_stmt      *stmt,
           int                column,
           const KilnUint256 *value)
{
  guint8 bytes[KILN_UINT256_SIZE];

  kiln_uint256_to_be_bytes (value, bytes);
  sqlite3_bind_blob (stmt, column, bytes, sizeof bytes, SQLITE_TRANSIENT);
}

static char *
column_text (sqlite3_stmt *stmt,
             int           column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

/* Reads a blob of exactly @size bytes into @out; FALSE when it is NULL or another size. */
static gboolean
column_fixed (sqlite3_stmt *stmt,
              int           column,
              guint8       *out,
              gsize         size)
{
  const void *blob = sqlite3_column_blob (stmt, column);

  if (blob == NULL || (gsize) sqlite3_column_bytes (stmt, column) != size)
    return FALSE;
  memcpy (out, blob, size);
  return TRUE;
}

static GBytes *
column_bytes (sqlite3_stmt *stmt,
              int           column)
{
  const void *blob = sqlite3_column_blob (stmt, column);

  if (blob == NULL)
    return NULL;
  return g_bytes_new (blob, sqlite3_column_bytes (stmt, column));
}

static gboolean
corrupt (GError     **error,
         const char  *what)
{
  g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
               _("A stored render job is damaged (%s)"), what);
  return FALSE;
}

static char *
outputs_to_json (GPtrArray *outputs)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (builder);
  for (guint i = 0; i < outputs->len; i++)
    {
      const KilnMarketFile *file = g_ptr_array_index (outputs, i);
      g_autofree char *hash = kiln_market_id_to_hex (file->sha256);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, file->name);
      json_builder_set_member_name (builder, "sha256");
      json_builder_add_string_value (builder, hash);
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, (gint64) file->size);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static GPtrArray *
outputs_from_json (const char  *text,
                   GError     **error)
{
  g_autoptr(GPtrArray) outputs = NULL;
  g_autoptr(JsonNode) root = json_from_string (text, NULL);
  JsonArray *array;

  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return (corrupt (error, "outputs"), NULL);

  outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_market_file_free);
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *object;
      const char *name;
      const char *hash;
      guint8 sha256[KILN_MARKET_HASH_SIZE];

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return (corrupt (error, "outputs"), NULL);
      object = json_node_get_object (node);
      name = json_object_get_string_member_with_default (object, "name", NULL);
      hash = json_object_get_string_member_with_default (object, "sha256", NULL);
      if (name == NULL || hash == NULL || !kiln_market_id_from_hex (hash, sha256, NULL))
        return (corrupt (error, "outputs"), NULL);
      g_ptr_array_add (outputs,
                       kiln_market_file_new (name, sha256,
                                             json_object_get_int_member_with_default (object,
                                                                                      "size",
                                                                                      0)));
    }
  return g_steal_pointer (&outputs);
}

static gboolean
write_subtask (sqlite3                    *db,
               const char                 *job_id,
               const KilnJobSubtaskRecord *subtask,
               GError                    **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = kiln_store_prepare (db,
                             "INSERT OR REPLACE INTO render_subtasks (job_id, idx, state,"
                             " attempt, done_at) VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, subtask->index);
  sqlite3_bind_text (stmt, 3, kiln_subtask_state_to_string (subtask->state), -1,
                     SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, subtask->attempt);
  sqlite3_bind_int64 (stmt, 5, subtask->done_at);
  return kiln_store_step_done (stmt, error);
}

static gboolean
write_job (sqlite3              *db,
           const KilnJobRecord  *job,
           GError              **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) clear = NULL;
  g_autoptr(sqlite3_stmt) resource = NULL;

  stmt = kiln_store_prepare (db,
                             "INSERT INTO render_jobs (id, name, blend_file, output_dir,"
                             " work_dir, state, error, settings, plan, max_cost, announcement,"
                             " next_attempt, created_at, updated_at) VALUES (?1, ?2, ?3, ?4,"
                             " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                             " ON CONFLICT (id) DO UPDATE SET name = ?2, blend_file = ?3,"
                             " output_dir = ?4, work_dir = ?5, state = ?6, error = ?7,"
                             " settings = ?8, plan = ?9, max_cost = ?10, announcement = ?11,"
                             " next_attempt = ?12, created_at = ?13, updated_at = ?14", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, job->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, job->blend_file, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, job->output_dir, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, job->work_dir, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, kiln_render_job_state_to_string (job->state), -1, SQLITE_STATIC);
  bind_text (stmt, 7, job->error);
  sqlite3_bind_text (stmt, 8, job->settings, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, job->plan, -1, SQLITE_STATIC);
  bind_u256 (stmt, 10, &job->max_cost);
  if (job->announcement != NULL)
    sqlite3_bind_blob (stmt, 11, g_bytes_get_data (job->announcement, NULL),
                       g_bytes_get_size (job->announcement), SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, 11);
  sqlite3_bind_int64 (stmt, 12, job->next_attempt);
  sqlite3_bind_int64 (stmt, 13, job->created_at);
  sqlite3_bind_int64 (stmt, 14, job->updated_at);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  clear = kiln_store_prepare (db, "DELETE FROM render_job_resources WHERE job_id = ?1", error);
  if (clear == NULL)
    return FALSE;
  sqlite3_bind_text (clear, 1, job->id, -1, SQLITE_STATIC);
  if (!kiln_store_step_done (clear, error))
    return FALSE;

  resource = kiln_store_prepare (db,
                                 "INSERT INTO render_job_resources (job_id, position, name,"
                                 " path, sha256, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);
  if (resource == NULL)
    return FALSE;
  for (guint i = 0; i < job->resources->len; i++)
    {
      const KilnJobResource *file = g_ptr_array_index (job->resources, i);

      sqlite3_reset (resource);
      sqlite3_bind_text (resource, 1, job->id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (resource, 2, i);
      sqlite3_bind_text (resource, 3, file->name, -1, SQLITE_STATIC);
      sqlite3_bind_text (resource, 4, file->path, -1, SQLITE_STATIC);
      sqlite3_bind_blob (resource, 5, file->sha256, sizeof file->sha256, SQLITE_STATIC);
      sqlite3_bind_int64 (resource, 6, (gint64) file->size);
      if (!kiln_store_step_done (resource, error))
        return FALSE;
    }

  return TRUE;
}

gboolean
kiln_job_store_save_in_db (sqlite3   *db,
                           gpointer   data,
                           GError   **error)
{
  Request *request = data;

  if (!write_job (db, request->job, error))
    return FALSE;

  for (guint i = 0; request->subtasks != NULL && i < request->subtasks->len; i++)
    if (!write_subtask (db, request->job->id,
                        &g_array_index (request->subtasks, KilnJobSubtaskRecord, i), error))
      return FALSE;

  return TRUE;
}

static gboolean
write_assignment (sqlite3                       *db,
                  const char                    *job_id,
                  const KilnJobAssignmentRecord *assignment,
                  GError                       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = kiln_store_prepare (db,
                             "INSERT OR REPLACE INTO render_assignments (job_id, attempt,"
                             " subtask, provider, state, terms, terms_digest, reason,"
                             " proposed_at, accepted_at, finished_at) VALUES (?1, ?2, ?3, ?4,"
                             " ?5, ?6, ?7, ?8, ?9, ?10, ?11)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, assignment->attempt);
  sqlite3_bind_int64 (stmt, 3, assignment->subtask);
  sqlite3_bind_blob (stmt, 4, assignment->provider.bytes, KILN_ADDRESS_SIZE, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, kiln_assignment_state_to_string (assignment->state), -1,
                     SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 6, g_bytes_get_data (assignment->terms, NULL),
                     g_bytes_get_size (assignment->terms), SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 7, assignment->terms_digest, 32, SQLITE_STATIC);
  bind_text (stmt, 8, assignment->reason);
  sqlite3_bind_int64 (stmt, 9, assignment->proposed_at);
  sqlite3_bind_int64 (stmt, 10, assignment->accepted_at);
  sqlite3_bind_int64 (stmt, 11, assignment->finished_at);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  if (assignment->outputs != NULL)
    {
      g_autoptr(sqlite3_stmt) result = NULL;
      g_autofree char *outputs = outputs_to_json (assignment->outputs);

      result = kiln_store_prepare (db,
                                   "INSERT OR REPLACE INTO render_results (job_id, attempt,"
                                   " outputs, cpu_ms, received_at, owed) VALUES (?1, ?2, ?3,"
                                   " ?4, ?5, ?6)", error);
      if (result == NULL)
        return FALSE;
      sqlite3_bind_text (result, 1, job_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (result, 2, assignment->attempt);
      sqlite3_bind_text (result, 3, outputs, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (result, 4, (gint64) MIN (assignment->cpu_ms, G_MAXINT64));
      sqlite3_bind_int64 (result, 5, assignment->result_at);
      if (assignment->state == KILN_ASSIGNMENT_APPROVED)
        bind_u256 (result, 6, &assignment->owed);
      else
        sqlite3_bind_null (result, 6);
      if (!kiln_store_step_done (result, error))
        return FALSE;
    }

  if (assignment->payment_key != NULL)
    {
      g_autoptr(sqlite3_stmt) payment = NULL;

      payment = kiln_store_prepare (db,
                                    "INSERT OR REPLACE INTO render_payments (job_id, attempt,"
                                    " payment_key, payment_id, tx_hash, notified) VALUES (?1,"
                                    " ?2, ?3, ?4, ?5, ?6)", error);
      if (payment == NULL)
        return FALSE;
      sqlite3_bind_text (payment, 1, job_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (payment, 2, assignment->attempt);
      sqlite3_bind_text (payment, 3, assignment->payment_key, -1, SQLITE_STATIC);
      if (assignment->payment_id > 0)
        sqlite3_bind_int64 (payment, 4, assignment->payment_id);
      else
        sqlite3_bind_null (payment, 4);
      if (assignment->has_tx_hash)
        sqlite3_bind_blob (payment, 5, assignment->tx_hash, 32, SQLITE_STATIC);
      else
        sqlite3_bind_null (payment, 5);
      sqlite3_bind_int (payment, 6, assignment->notified ? 1 : 0);
      if (!kiln_store_step_done (payment, error))
        return FALSE;
    }

  return TRUE;
}

gboolean
kiln_job_store_update_in_db (sqlite3   *db,
                             gpointer   data,
                             GError   **error)
{
  Request *request = data;
  const KilnJobRecord *job = request->job;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = kiln_store_prepare (db,
                             "UPDATE render_jobs SET state = ?2, error = ?3, announcement = ?4,"
                             " next_attempt = ?5, updated_at = ?6 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, kiln_render_job_state_to_string (job->state), -1, SQLITE_STATIC);
  bind_text (stmt, 3, job->error);
  if (job->announcement != NULL)
    sqlite3_bind_blob (stmt, 4, g_bytes_get_data (job->announcement, NULL),
                       g_bytes_get_size (job->announcement), SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, 4);
  sqlite3_bind_int64 (stmt, 5, job->next_attempt);
  sqlite3_bind_int64 (stmt, 6, job->updated_at);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    return (g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND,
                         _("There is no render job %s"), job->id), FALSE);

  if (request->assignment != NULL &&
      !write_assignment (db, job->id, request->assignment, error))
    return FALSE;

  if (request->has_subtask && !write_subtask (db, job->id, &request->subtask, error))
    return FALSE;

  return TRUE;
}

/* Reads the job columns of @stmt: id, name, blend_file, output_dir, work_dir, state, error,
 * settings, plan, max_cost, announcement, next_attempt, created_at, updated_at. */
#define JOB_COLUMNS "id, name, blend_file, output_dir, work_dir, state, error, settings," \
                    " plan, max_cost, announcement, next_attempt, created_at, updated_at"

static KilnJobRecord *
read_job (sqlite3_stmt  *stmt,
          GError       **error)
{
  g_autoptr(KilnJobRecord) job = kiln_job_record_new ();
  guint8 cost[KILN_UINT256_SIZE];
  int state;

  job->id = column_text (stmt, 0);
  job->name = column_text (stmt, 1);
  job->blend_file = column_text (stmt, 2);
  job->output_dir = column_text (stmt, 3);
  job->work_dir = column_text (stmt, 4);
  state = enum_from_nick (KILN_TYPE_RENDER_JOB_STATE, (const char *) sqlite3_column_text (stmt, 5));
  job->error = column_text (stmt, 6);
  job->settings = column_text (stmt, 7);
  job->plan = column_text (stmt, 8);
  if (state < 0 || !column_fixed (stmt, 9, cost, sizeof cost))
    return (corrupt (error, "job"), NULL);
  job->state = state;
  kiln_uint256_from_be_bytes (&job->max_cost, cost);
  job->announcement = column_bytes (stmt, 10);
  job->next_attempt = sqlite3_column_int64 (stmt, 11);
  job->created_at = sqlite3_column_int64 (stmt, 12);
  job->updated_at = sqlite3_column_int64 (stmt, 13);
  return g_steal_pointer (&job);
}

static gboolean
read_resources (sqlite3        *db,
                KilnJobRecord  *job,
                GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = kiln_store_prepare (db,
                             "SELECT name, path, sha256, size FROM render_job_resources"
                             " WHERE job_id = ?1 ORDER BY position", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->id, -1, SQLITE_STATIC);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint8 sha256[32];

      if (!column_fixed (stmt, 2, sha256, sizeof sha256))
        return corrupt (error, "resource");
      g_ptr_array_add (job->resources,
                       kiln_job_resource_new ((const char *) sqlite3_column_text (stmt, 0),
                                              (const char *) sqlite3_column_text (stmt, 1),
                                              sha256, sqlite3_column_int64 (stmt, 3)));
    }
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read a render job’s files"));

  return TRUE;
}

static gboolean
read_subtasks (sqlite3          *db,
               const char       *job_id,
               GArray           *subtasks,
               GError          **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = kiln_store_prepare (db,
                             "SELECT idx, state, attempt, done_at FROM render_subtasks"
                             " WHERE job_id = ?1 ORDER BY idx", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job_id, -1, SQLITE_STATIC);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KilnJobSubtaskRecord subtask = { 0 };
      int state = enum_from_nick (KILN_TYPE_SUBTASK_STATE,
                                  (const char *) sqlite3_column_text (stmt, 1));

      if (state < 0)
        return corrupt (error, "subtask");
      subtask.index = sqlite3_column_int64 (stmt, 0);
      subtask.state = state;
      subtask.attempt = sqlite3_column_int64 (stmt, 2);
      subtask.done_at = sqlite3_column_int64 (stmt, 3);
      g_array_append_val (subtasks, subtask);
    }
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read a render job’s subtasks"));

  return TRUE;
}

static gboolean
read_assignments (sqlite3     *db,
                  const char  *job_id,
                  GPtrArray   *assignments,
                  GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = kiln_store_prepare (db,
                             "SELECT a.attempt, a.subtask, a.provider, a.state, a.terms,"
                             " a.terms_digest, a.reason, a.proposed_at, a.accepted_at,"
                             " a.finished_at, r.outputs, r.cpu_ms, r.received_at, r.owed,"
                             " p.payment_key, p.payment_id, p.tx_hash, p.notified"
                             " FROM render_assignments a"
                             " LEFT JOIN render_results r USING (job_id, attempt)"
                             " LEFT JOIN render_payments p USING (job_id, attempt)"
                             " WHERE a.job_id = ?1 ORDER BY a.attempt", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job_id, -1, SQLITE_STATIC);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(KilnJobAssignmentRecord) assignment = kiln_job_assignment_record_new ();
      int state = enum_from_nick (KILN_TYPE_ASSIGNMENT_STATE,
                                  (const char *) sqlite3_column_text (stmt, 3));

      assignment->attempt = sqlite3_column_int64 (stmt, 0);
      assignment->subtask = sqlite3_column_int64 (stmt, 1);
      if (state < 0 ||
          !column_fixed (stmt, 2, assignment->provider.bytes, KILN_ADDRESS_SIZE) ||
          !column_fixed (stmt, 5, assignment->terms_digest, 32))
        return corrupt (error, "assignment");
      assignment->state = state;
      assignment->terms = column_bytes (stmt, 4);
      assignment->reason = column_text (stmt, 6);
      assignment->proposed_at = sqlite3_column_int64 (stmt, 7);
      assignment->accepted_at = sqlite3_column_int64 (stmt, 8);
      assignment->finished_at = sqlite3_column_int64 (stmt, 9);

      if (sqlite3_column_type (stmt, 10) != SQLITE_NULL)
        {
          assignment->outputs = outputs_from_json ((const char *) sqlite3_column_text (stmt, 10),
                                                   error);
          if (assignment->outputs == NULL)
            return FALSE;
          assignment->cpu_ms = sqlite3_column_int64 (stmt, 11);
          assignment->result_at = sqlite3_column_int64 (stmt, 12);
          if (sqlite3_column_type (stmt, 13) != SQLITE_NULL)
            {
              guint8 owed[KILN_UINT256_SIZE];

              if (!column_fixed (stmt, 13, owed, sizeof owed))
                return corrupt (error, "result");
              kiln_uint256_from_be_bytes (&assignment->owed, owed);
            }
        }

      if (sqlite3_column_type (stmt, 14) != SQLITE_NULL)
        {
          assignment->payment_key = column_text (stmt, 14);
          assignment->payment_id = sqlite3_column_int64 (stmt, 15);
          assignment->has_tx_hash = column_fixed (stmt, 16, assignment->tx_hash, 32);
          assignment->notified = sqlite3_column_int (stmt, 17) != 0;
        }

      g_ptr_array_add (assignments, g_steal_pointer (&assignment));
    }
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read a render job’s assignments"));

  return TRUE;
}

gboolean
kiln_job_store_load_in_db (sqlite3   *db,
                           gpointer   data,
                           GError   **error)
{
  Request *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(KilnJobSnapshot) snapshot = g_new0 (KilnJobSnapshot, 1);
  int rc;

  stmt = kiln_store_prepare (db, "SELECT " JOB_COLUMNS " FROM render_jobs WHERE id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, request->id, -1, SQLITE_STATIC);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return (g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND,
                         _("There is no render job %s"), request->id), FALSE);
  if (rc != SQLITE_ROW)
    return kiln_store_set_error (error, db, rc, _("Could not read a render job"));

  snapshot->job = read_job (stmt, error);
  if (snapshot->job == NULL || !read_resources (db, snapshot->job, error))
    return FALSE;

  snapshot->subtasks = g_array_new (FALSE, TRUE, sizeof (KilnJobSubtaskRecord));
  snapshot->assignments =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_job_assignment_record_free);
  if (!read_subtasks (db, request->id, snapshot->subtasks, error) ||
      !read_assignments (db, request->id, snapshot->assignments, error))
    return FALSE;

  request->snapshot = g_steal_pointer (&snapshot);
  return TRUE;
}

gboolean
kiln_job_store_list_in_db (sqlite3   *db,
                           gpointer   data,
                           GError   **error)
{
  Request *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) jobs =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_job_record_free);
  int rc;

  stmt = kiln_store_prepare (db, "SELECT " JOB_COLUMNS " FROM render_jobs"
                                 " ORDER BY created_at DESC, id", error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KilnJobRecord *job = read_job (stmt, error);

      if (job == NULL)
        return FALSE;
      g_ptr_array_add (jobs, job);
      if (!read_resources (db, job, error))
        return FALSE;
    }
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not list the render jobs"));

  request->jobs = g_steal_pointer (&jobs);
  return TRUE;
}

gboolean
kiln_job_store_delete_in_db (sqlite3   *db,
                             gpointer   data,
                             GError   **error)
{
  Request *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = kiln_store_prepare (db, "DELETE FROM render_jobs WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, request->id, -1, SQLITE_STATIC);
  return kiln_store_step_done (stmt, error);
}
