/* kiln-reputation.c: how well each provider has done for this node, kept in SQLite
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-reputation.h"
#include "kiln-store.h"

struct _KilnReputation
{
  GObject    parent_instance;

  KilnStore *store;
};

G_DEFINE_FINAL_TYPE (KilnReputation, kiln_reputation, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STORE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Entries */

G_DEFINE_BOXED_TYPE (KilnReputationEntry, kiln_reputation_entry,
                     kiln_reputation_entry_copy, kiln_reputation_entry_free)

KilnReputationEntry *
kiln_reputation_entry_copy (const KilnReputationEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_memdup2 (self, sizeof *self);
}

void
kiln_reputation_entry_free (KilnReputationEntry *self)
{
  g_free (self);
}

/* How much evidence from @age microseconds ago still counts. */
static double
decay (gint64 age)
{
  if (age <= 0)
    return 1.0;

  return exp2 (-(double) age / (double) KILN_REPUTATION_HALF_LIFE);
}

double
kiln_reputation_entry_get_score (const KilnReputationEntry *self,
                                 gint64                     now)
{
  double factor;
  double good;
  double bad;

  g_return_val_if_fail (self != NULL, KILN_REPUTATION_PRIOR_SCORE);

  factor = decay (now - self->updated_at);
  good = self->good * factor;
  bad = self->bad * factor;

  return (KILN_REPUTATION_PRIOR_GOOD + good) /
         (KILN_REPUTATION_PRIOR_GOOD + KILN_REPUTATION_PRIOR_BAD + good + bad);
}

/* Adds @event at @when to @entry. */
static void
entry_add (KilnReputationEntry *entry,
           KilnReputationEvent  event,
           gint64               when)
{
  double good = 0;
  double bad = 0;

  switch (event)
    {
    case KILN_REPUTATION_ACCEPTED:
      entry->accepted++;
      good = KILN_REPUTATION_WEIGHT_ACCEPTED;
      break;

    case KILN_REPUTATION_REJECTED:
      entry->rejected++;
      bad = KILN_REPUTATION_WEIGHT_REJECTED;
      break;

    case KILN_REPUTATION_TIMED_OUT:
      entry->timed_out++;
      bad = KILN_REPUTATION_WEIGHT_TIMED_OUT;
      break;

    case KILN_REPUTATION_CANCELLED:
      entry->cancelled++;
      bad = KILN_REPUTATION_WEIGHT_CANCELLED;
      break;

    default:
      g_assert_not_reached ();
    }

  if (when >= entry->updated_at)
    {
      /* Bring the evidence to @when, then add the event at full weight. */
      double factor = decay (when - entry->updated_at);

      entry->good = entry->good * factor + good;
      entry->bad = entry->bad * factor + bad;
      entry->updated_at = when;
    }
  else
    {
      /* An event older than the record: weighed as old as it is. */
      double factor = decay (entry->updated_at - when);

      entry->good += good * factor;
      entry->bad += bad * factor;
    }
}

/* GObject */

static void
kiln_reputation_dispose (GObject *object)
{
  KilnReputation *self = KILN_REPUTATION (object);

  g_clear_object (&self->store);

  G_OBJECT_CLASS (kiln_reputation_parent_class)->dispose (object);
}

static void
kiln_reputation_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KilnReputation *self = KILN_REPUTATION (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_reputation_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  KilnReputation *self = KILN_REPUTATION (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_assert (self->store == NULL);
      self->store = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_reputation_class_init (KilnReputationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_reputation_dispose;
  object_class->get_property = kiln_reputation_get_property;
  object_class->set_property = kiln_reputation_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         KILN_TYPE_STORE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_reputation_init (KilnReputation *self)
{
}

KilnReputation *
kiln_reputation_new (KilnStore *store)
{
  g_return_val_if_fail (KILN_IS_STORE (store), NULL);

  return g_object_new (KILN_TYPE_REPUTATION, "store", store, NULL);
}

KilnStore *
kiln_reputation_get_store (KilnReputation *self)
{
  g_return_val_if_fail (KILN_IS_REPUTATION (self), NULL);

  return self->store;
}

/* The worker's side */

/* One call's inputs and, once it ran, its output. */
typedef struct
{
  KilnAddress          provider;
  KilnReputationEvent  event;
  gint64               when;
  KilnReputationEntry *entry;
} Request;

static Request *
request_new (const KilnAddress   *provider,
             KilnReputationEvent  event,
             gint64               when)
{
  Request *request = g_new0 (Request, 1);

  request->provider = *provider;
  request->event = event;
  request->when = when;
  return request;
}

static void
request_free (gpointer data)
{
  Request *request = data;

  g_clear_pointer (&request->entry, kiln_reputation_entry_free);
  g_free (request);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Request, request_free)

static gboolean
load_entry (sqlite3              *db,
            const KilnAddress    *provider,
            KilnReputationEntry **out,
            GError              **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(KilnReputationEntry) entry = g_new0 (KilnReputationEntry, 1);
  int rc;

  stmt = kiln_store_prepare (db,
                             "SELECT accepted, rejected, timed_out, cancelled, good, bad,"
                             " updated_at FROM market_reputation WHERE provider = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, provider->bytes, KILN_ADDRESS_SIZE, SQLITE_STATIC);

  entry->provider = *provider;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      entry->accepted = sqlite3_column_int64 (stmt, 0);
      entry->rejected = sqlite3_column_int64 (stmt, 1);
      entry->timed_out = sqlite3_column_int64 (stmt, 2);
      entry->cancelled = sqlite3_column_int64 (stmt, 3);
      entry->good = sqlite3_column_double (stmt, 4);
      entry->bad = sqlite3_column_double (stmt, 5);
      entry->updated_at = sqlite3_column_int64 (stmt, 6);
    }
  else if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, db, rc, _("Could not read a provider’s reputation"));

  *out = g_steal_pointer (&entry);
  return TRUE;
}

static gboolean
lookup_in_db (sqlite3   *db,
              gpointer   data,
              GError   **error)
{
  Request *request = data;

  return load_entry (db, &request->provider, &request->entry, error);
}

static gboolean
record_in_db (sqlite3   *db,
              gpointer   data,
              GError   **error)
{
  Request *request = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(KilnReputationEntry) entry = NULL;

  if (!load_entry (db, &request->provider, &entry, error))
    return FALSE;

  entry_add (entry, request->event, request->when);

  stmt = kiln_store_prepare (db,
                             "INSERT INTO market_reputation (provider, accepted, rejected,"
                             " timed_out, cancelled, good, bad, updated_at)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                             " ON CONFLICT (provider) DO UPDATE SET accepted = ?2,"
                             " rejected = ?3, timed_out = ?4, cancelled = ?5, good = ?6,"
                             " bad = ?7, updated_at = ?8", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_blob (stmt, 1, entry->provider.bytes, KILN_ADDRESS_SIZE, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, entry->accepted);
  sqlite3_bind_int64 (stmt, 3, entry->rejected);
  sqlite3_bind_int64 (stmt, 4, entry->timed_out);
  sqlite3_bind_int64 (stmt, 5, entry->cancelled);
  sqlite3_bind_double (stmt, 6, entry->good);
  sqlite3_bind_double (stmt, 7, entry->bad);
  sqlite3_bind_int64 (stmt, 8, entry->updated_at);
  if (!kiln_store_step_done (stmt, error))
    return FALSE;

  request->entry = g_steal_pointer (&entry);
  return TRUE;
}

/* The caller's side */

/* Takes @request. */
static void
run_async (KilnReputation      *self,
           KilnStoreFunc        func,
           Request             *request,
           gpointer             source_tag,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, request, request_free);
  kiln_store_run_task (self->store, func, g_steal_pointer (&task));
}

static KilnReputationEntry *
run_finish (KilnReputation  *self,
            GAsyncResult    *result,
            gpointer         source_tag,
            GError         **error)
{
  g_return_val_if_fail (KILN_IS_REPUTATION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  return g_steal_pointer (&((Request *) g_task_get_task_data (G_TASK (result)))->entry);
}

/* Takes @request_. */
static KilnReputationEntry *
run_sync (KilnReputation  *self,
          KilnStoreFunc    func,
          Request         *request_,
          GCancellable    *cancellable,
          GError         **error)
{
  g_autoptr(Request) request = request_;

  if (!kiln_store_run_sync (self->store, func, request, cancellable, error))
    return NULL;

  return g_steal_pointer (&request->entry);
}

static gboolean
event_is_valid (KilnReputationEvent event)
{
  return event >= KILN_REPUTATION_ACCEPTED && event <= KILN_REPUTATION_CANCELLED;
}

void
kiln_reputation_record_async (KilnReputation      *self,
                              const KilnAddress   *provider,
                              KilnReputationEvent  event,
                              gint64               when,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (KILN_IS_REPUTATION (self));
  g_return_if_fail (provider != NULL);
  g_return_if_fail (event_is_valid (event));
  g_return_if_fail (when >= 0);

  run_async (self, record_in_db, request_new (provider, event, when),
             kiln_reputation_record_async, cancellable, callback, user_data);
}

KilnReputationEntry *
kiln_reputation_record_finish (KilnReputation  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  return run_finish (self, result, kiln_reputation_record_async, error);
}

KilnReputationEntry *
kiln_reputation_record (KilnReputation       *self,
                        const KilnAddress    *provider,
                        KilnReputationEvent   event,
                        gint64                when,
                        GCancellable         *cancellable,
                        GError              **error)
{
  g_return_val_if_fail (KILN_IS_REPUTATION (self), NULL);
  g_return_val_if_fail (provider != NULL, NULL);
  g_return_val_if_fail (event_is_valid (event), NULL);
  g_return_val_if_fail (when >= 0, NULL);

  return run_sync (self, record_in_db, request_new (provider, event, when), cancellable, error);
}

void
kiln_reputation_lookup_async (KilnReputation      *self,
                              const KilnAddress   *provider,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (KILN_IS_REPUTATION (self));
  g_return_if_fail (provider != NULL);

  run_async (self, lookup_in_db, request_new (provider, KILN_REPUTATION_ACCEPTED, 0),
             kiln_reputation_lookup_async, cancellable, callback, user_data);
}

KilnReputationEntry *
kiln_reputation_lookup_finish (KilnReputation  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  return run_finish (self, result, kiln_reputation_lookup_async, error);
}

KilnReputationEntry *
kiln_reputation_lookup (KilnReputation     *self,
                        const KilnAddress  *provider,
                        GCancellable       *cancellable,
                        GError            **error)
{
  g_return_val_if_fail (KILN_IS_REPUTATION (self), NULL);
  g_return_val_if_fail (provider != NULL, NULL);

  return run_sync (self, lookup_in_db, request_new (provider, KILN_REPUTATION_ACCEPTED, 0),
                   cancellable, error);
}
