/* kiln-earnings.c: what this node earned as a provider, kept in SQLite and checked on chain
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The records live in the store's "earnings" table (store/kiln-store-schema.c) and, once
 * loaded, in memory: every write runs on the store's worker thread, reads its rows back in
 * the same transaction, and the main thread takes those rows as the new state of its records
 * when the write is committed. Checking payments on chain is in kiln-earnings-check.c.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-earnings-private.h"
#include "kiln-market-bodies.h"

enum {
  PROP_0,
  PROP_STORE,
  PROP_ACCOUNT,
  PROP_AGENT,
  PROP_LOADED,
  N_PROPS
};

enum {
  SIGNAL_CHANGED,
  SIGNAL_CONFIRMED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KilnEarnings, kiln_earnings, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (KilnEarningState, kiln_earning_state,
  G_DEFINE_ENUM_VALUE (KILN_EARNING_STATE_APPROVED, "approved"),
  G_DEFINE_ENUM_VALUE (KILN_EARNING_STATE_PAID, "paid"),
  G_DEFINE_ENUM_VALUE (KILN_EARNING_STATE_CONFIRMED, "confirmed"))

/* Records */

G_DEFINE_BOXED_TYPE (KilnEarningRecord, kiln_earning_record,
                     kiln_earning_record_copy, kiln_earning_record_free)

KilnEarningRecord *
kiln_earning_record_copy (const KilnEarningRecord *self)
{
  KilnEarningRecord *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_memdup2 (self, sizeof *self);
  copy->reason = g_strdup (self->reason);
  return copy;
}

void
kiln_earning_record_free (KilnEarningRecord *self)
{
  if (self == NULL)
    return;

  g_free (self->reason);
  g_free (self);
}

/* The caller's side */

static char *
record_key (const KilnEarningRecord *record)
{
  return kiln_market_id_to_hex (record->terms);
}

/* Takes the rows @request read back as the records' new state, and tells. */
static void
apply_request (KilnEarnings        *self,
               KilnEarningsRequest *request)
{
  g_autofree char *changed_terms = NULL;
  guint n_changed = 0;

  if (request->op == KILN_EARNINGS_OP_LOAD)
    {
      g_hash_table_remove_all (self->records);
      for (guint i = 0; i < request->records->len; i++)
        {
          KilnEarningRecord *record = g_ptr_array_index (request->records, i);

          g_hash_table_replace (self->records, record_key (record),
                                kiln_earning_record_copy (record));
        }
      if (!self->loaded)
        {
          self->loaded = TRUE;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
        }
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0, NULL);
      kiln_earnings_check_all (self);
      return;
    }

  for (guint i = 0; i < request->records->len; i++)
    {
      KilnEarningRecord *record = g_ptr_array_index (request->records, i);
      g_autofree char *key = record_key (record);
      KilnEarningRecord *old = g_hash_table_lookup (self->records, key);
      gboolean confirmed_now;

      if (old != NULL && old->state == record->state &&
          old->has_tx == record->has_tx &&
          memcmp (old->tx_hash, record->tx_hash, sizeof old->tx_hash) == 0 &&
          g_strcmp0 (old->reason, record->reason) == 0 &&
          old->confirmed_block == record->confirmed_block)
        continue;

      confirmed_now = record->state == KILN_EARNING_STATE_CONFIRMED &&
                      (old == NULL || old->state != KILN_EARNING_STATE_CONFIRMED);
      g_hash_table_replace (self->records, g_strdup (key), kiln_earning_record_copy (record));
      n_changed++;
      g_free (changed_terms);
      changed_terms = g_steal_pointer (&key);

      if (confirmed_now)
        {
          g_autofree char *terms = record_key (record);
          g_autofree char *tx = kiln_market_id_to_hex (record->tx_hash);
          g_autofree char *tx_hash = g_strconcat ("0x", tx, NULL);
          char amount[KILN_UINT256_DECIMAL_SIZE];

          kiln_uint256_format_decimal (&record->amount, amount);
          g_info ("Earning %s confirmed by transaction %s in block %" G_GUINT64_FORMAT,
                  terms, tx_hash, record->confirmed_block);
          g_signal_emit (self, signals[SIGNAL_CONFIRMED], 0, terms, tx_hash, amount);
        }
    }

  if (n_changed > 0)
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0, n_changed == 1 ? changed_terms : NULL);
}

static void
on_run_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnEarnings *self = g_task_get_source_object (task);
  KilnEarningsRequest *request = g_task_get_task_data (task);
  GError *error = NULL;

  if (!kiln_store_run_finish (KILN_STORE (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  apply_request (self, request);
  if (request->op == KILN_EARNINGS_OP_PAID && self->rpc != NULL && self->has_token)
    {
      KilnEarningRecord *record = g_ptr_array_index (request->records, 0);

      if (record->state == KILN_EARNING_STATE_PAID)
        kiln_earnings_check_request (self, record->tx_hash, NULL);
    }
  g_task_return_boolean (task, TRUE);
}

/* Takes @request. */
static void
run_async (KilnEarnings        *self,
           KilnEarningsRequest *request,
           gpointer             source_tag,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, request, kiln_earnings_request_free);
  /* Report what was written, even if @cancellable fired after the transaction started. */
  g_task_set_check_cancellable (task, FALSE);

  kiln_store_run_async (self->store, kiln_earnings_request_func (request), request, NULL,
                        cancellable, on_run_done, g_steal_pointer (&task));
}

static gboolean
run_finish (KilnEarnings  *self,
            GAsyncResult  *result,
            gpointer       source_tag,
            GError       **error)
{
  g_return_val_if_fail (KILN_IS_EARNINGS (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kiln_earnings_write_outcome (KilnEarnings        *self,
                             KilnEarningsOutcome *outcome,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  KilnEarningsRequest *request = kiln_earnings_request_new (KILN_EARNINGS_OP_OUTCOME);

  request->outcome = outcome;
  run_async (self, request, kiln_earnings_write_outcome, NULL, callback, user_data);
}

gboolean
kiln_earnings_write_outcome_finish (KilnEarnings  *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  return run_finish (self, result, kiln_earnings_write_outcome, error);
}

/* Following an agent */

static void
on_run_logged (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Could not record an earning: %s", error->message);
}

static void
on_agent_earned (KilnProviderAgent *agent,
                 const char        *terms_hex,
                 const char        *amount,
                 KilnEarnings      *self)
{
  g_autoptr(GPtrArray) earnings = kiln_provider_agent_dup_earnings (agent);
  guint8 terms[KILN_MARKET_DIGEST_SIZE];

  if (!kiln_market_id_from_hex (terms_hex, terms, NULL))
    return;

  for (guint i = earnings->len; i > 0; i--)
    {
      const KilnEarning *earning = g_ptr_array_index (earnings, i - 1);

      if (memcmp (earning->terms, terms, sizeof terms) == 0)
        {
          kiln_earnings_add_async (self, earning, NULL, on_run_logged, NULL);
          return;
        }
    }
  g_warning ("Could not record the earning of the terms %s: the agent does not know them",
             terms_hex);
}

static void
on_agent_paid (KilnProviderAgent *agent,
               const char        *terms_hex,
               const char        *tx_hex,
               KilnEarnings      *self)
{
  guint8 terms[KILN_MARKET_DIGEST_SIZE];
  guint8 tx_hash[32];

  if (g_str_has_prefix (tx_hex, "0x"))
    tx_hex += 2;
  if (!kiln_market_id_from_hex (terms_hex, terms, NULL) ||
      !kiln_market_id_from_hex (tx_hex, tx_hash, NULL))
    return;

  kiln_earnings_set_paid_async (self, terms, tx_hash, NULL, on_run_logged, NULL);
}

/* GObject */

static void
kiln_earnings_dispose (GObject *object)
{
  KilnEarnings *self = KILN_EARNINGS (object);

  kiln_earnings_set_agent (self, NULL);
  kiln_earnings_drop_checks (self);
  g_clear_object (&self->rpc);

  G_OBJECT_CLASS (kiln_earnings_parent_class)->dispose (object);
}

static void
kiln_earnings_finalize (GObject *object)
{
  KilnEarnings *self = KILN_EARNINGS (object);

  g_clear_pointer (&self->records, g_hash_table_unref);
  g_clear_pointer (&self->checks, g_hash_table_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kiln_earnings_parent_class)->finalize (object);
}

static void
kiln_earnings_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KilnEarnings *self = KILN_EARNINGS (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_ACCOUNT:
      g_value_set_boxed (value, &self->account);
      break;

    case PROP_AGENT:
      g_value_set_object (value, self->agent);
      break;

    case PROP_LOADED:
      g_value_set_boolean (value, self->loaded);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_earnings_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  KilnEarnings *self = KILN_EARNINGS (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_assert (self->store == NULL);
      self->store = g_value_dup_object (value);
      break;

    case PROP_ACCOUNT:
      if (g_value_get_boxed (value) != NULL)
        self->account = *(const KilnAddress *) g_value_get_boxed (value);
      break;

    case PROP_AGENT:
      kiln_earnings_set_agent (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_earnings_class_init (KilnEarningsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_earnings_dispose;
  object_class->finalize = kiln_earnings_finalize;
  object_class->get_property = kiln_earnings_get_property;
  object_class->set_property = kiln_earnings_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         KILN_TYPE_STORE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_ACCOUNT] =
    g_param_spec_boxed ("account", NULL, NULL,
                        KILN_TYPE_ADDRESS,
                        (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_AGENT] =
    g_param_spec_object ("agent", NULL, NULL,
                         KILN_TYPE_PROVIDER_AGENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_CONFIRMED] =
    g_signal_new ("confirmed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}

static void
kiln_earnings_init (KilnEarnings *self)
{
  self->records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) kiln_earning_record_free);
  self->checks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

KilnEarnings *
kiln_earnings_new (KilnStore         *store,
                   const KilnAddress *account)
{
  g_return_val_if_fail (KILN_IS_STORE (store), NULL);
  g_return_val_if_fail (account != NULL, NULL);

  return g_object_new (KILN_TYPE_EARNINGS, "store", store, "account", account, NULL);
}

KilnStore *
kiln_earnings_get_store (KilnEarnings *self)
{
  g_return_val_if_fail (KILN_IS_EARNINGS (self), NULL);

  return self->store;
}

const KilnAddress *
kiln_earnings_get_account (KilnEarnings *self)
{
  g_return_val_if_fail (KILN_IS_EARNINGS (self), NULL);

  return &self->account;
}

void
kiln_earnings_set_chain (KilnEarnings      *self,
                         KilnRpcClient     *rpc,
                         const KilnAddress *token)
{
  g_return_if_fail (KILN_IS_EARNINGS (self));
  g_return_if_fail (rpc == NULL || KILN_IS_RPC_CLIENT (rpc));

  kiln_earnings_drop_checks (self);
  g_set_object (&self->rpc, rpc);
  self->has_token = token != NULL;
  if (token != NULL)
    self->token = *token;
  else
    memset (&self->token, 0, sizeof self->token);

  kiln_earnings_check_all (self);
}

KilnRpcClient *
kiln_earnings_get_rpc (KilnEarnings *self)
{
  g_return_val_if_fail (KILN_IS_EARNINGS (self), NULL);

  return self->rpc;
}

const KilnAddress *
kiln_earnings_get_token (KilnEarnings *self)
{
  g_return_val_if_fail (KILN_IS_EARNINGS (self), NULL);

  return self->has_token ? &self->token : NULL;
}

void
kiln_earnings_set_agent (KilnEarnings      *self,
                         KilnProviderAgent *agent)
{
  g_return_if_fail (KILN_IS_EARNINGS (self));
  g_return_if_fail (agent == NULL || KILN_IS_PROVIDER_AGENT (agent));

  if (self->agent == agent)
    return;

  if (self->agent != NULL)
    {
      g_clear_signal_handler (&self->earned_id, self->agent);
      g_clear_signal_handler (&self->paid_id, self->agent);
    }
  g_set_object (&self->agent, agent);
  if (agent != NULL)
    {
      self->earned_id = g_signal_connect_object (agent, "earned", G_CALLBACK (on_agent_earned),
                                                 self, 0);
      self->paid_id = g_signal_connect_object (agent, "paid", G_CALLBACK (on_agent_paid),
                                               self, 0);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AGENT]);
}

KilnProviderAgent *
kiln_earnings_get_agent (KilnEarnings *self)
{
  g_return_val_if_fail (KILN_IS_EARNINGS (self), NULL);

  return self->agent;
}

/* Loading */

void
kiln_earnings_load_async (KilnEarnings        *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (KILN_IS_EARNINGS (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  run_async (self, kiln_earnings_request_new (KILN_EARNINGS_OP_LOAD), kiln_earnings_load_async,
             cancellable, callback, user_data);
}

gboolean
kiln_earnings_load_finish (KilnEarnings  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return run_finish (self, result, kiln_earnings_load_async, error);
}

gboolean
kiln_earnings_load (KilnEarnings  *self,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(KilnEarningsRequest) request = NULL;

  g_return_val_if_fail (KILN_IS_EARNINGS (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  request = kiln_earnings_request_new (KILN_EARNINGS_OP_LOAD);
  if (!kiln_store_run_sync (self->store, kiln_earnings_request_func (request), request,
                            cancellable, error))
    return FALSE;

  apply_request (self, request);
  return TRUE;
}

gboolean
kiln_earnings_get_loaded (KilnEarnings *self)
{
  g_return_val_if_fail (KILN_IS_EARNINGS (self), FALSE);

  return self->loaded;
}

/* Writing */

void
kiln_earnings_add_async (KilnEarnings        *self,
                         const KilnEarning   *earning,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  KilnEarningsRequest *request;

  g_return_if_fail (KILN_IS_EARNINGS (self));
  g_return_if_fail (earning != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  request = kiln_earnings_request_new (KILN_EARNINGS_OP_ADD);
  memcpy (request->input.terms, earning->terms, sizeof request->input.terms);
  memcpy (request->input.task_id, earning->task_id, sizeof request->input.task_id);
  request->input.requestor = earning->requestor;
  request->input.amount = earning->amount;
  request->input.approved_at = earning->approved > 0 ? earning->approved * G_USEC_PER_SEC
                                                     : request->now;
  run_async (self, request, kiln_earnings_add_async, cancellable, callback, user_data);
}

gboolean
kiln_earnings_add_finish (KilnEarnings  *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  return run_finish (self, result, kiln_earnings_add_async, error);
}

void
kiln_earnings_set_paid_async (KilnEarnings        *self,
                              const guint8        *terms,
                              const guint8         tx_hash[32],
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  KilnEarningsRequest *request;

  g_return_if_fail (KILN_IS_EARNINGS (self));
  g_return_if_fail (terms != NULL);
  g_return_if_fail (tx_hash != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  request = kiln_earnings_request_new (KILN_EARNINGS_OP_PAID);
  memcpy (request->input.terms, terms, sizeof request->input.terms);
  memcpy (request->input.tx_hash, tx_hash, sizeof request->input.tx_hash);
  request->input.has_tx = TRUE;
  run_async (self, request, kiln_earnings_set_paid_async, cancellable, callback, user_data);
}

gboolean
kiln_earnings_set_paid_finish (KilnEarnings  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return run_finish (self, result, kiln_earnings_set_paid_async, error);
}

/* Checking */

void
kiln_earnings_check_async (KilnEarnings        *self,
                           const guint8         tx_hash[32],
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_EARNINGS (self));
  g_return_if_fail (tx_hash != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_earnings_check_async);

  if (self->rpc == NULL || !self->has_token)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _("Payments cannot be checked: no chain is set"));
      return;
    }

  kiln_earnings_check_request (self, tx_hash, g_steal_pointer (&task));
}

gboolean
kiln_earnings_check_finish (KilnEarnings  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return run_finish (self, result, kiln_earnings_check_async, error);
}

/* Reading */

static int
compare_newest_first (gconstpointer a,
                      gconstpointer b)
{
  const KilnEarningRecord *ra = *(KilnEarningRecord * const *) a;
  const KilnEarningRecord *rb = *(KilnEarningRecord * const *) b;

  if (ra->approved_at != rb->approved_at)
    return ra->approved_at > rb->approved_at ? -1 : 1;
  if (ra->paid_at != rb->paid_at)
    return ra->paid_at > rb->paid_at ? -1 : 1;
  return memcmp (ra->terms, rb->terms, sizeof ra->terms);
}

GPtrArray *
kiln_earnings_dup_records (KilnEarnings *self,
                           guint         max)
{
  g_autoptr(GPtrArray) all = NULL;
  GPtrArray *records;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (KILN_IS_EARNINGS (self), NULL);

  all = g_ptr_array_sized_new (g_hash_table_size (self->records));
  g_hash_table_iter_init (&iter, self->records);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (all, value);
  g_ptr_array_sort (all, compare_newest_first);

  records = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_earning_record_free);
  for (guint i = 0; i < all->len && (max == 0 || i < max); i++)
    g_ptr_array_add (records, kiln_earning_record_copy (g_ptr_array_index (all, i)));
  return records;
}

KilnEarningRecord *
kiln_earnings_lookup (KilnEarnings *self,
                      const guint8 *terms)
{
  g_autofree char *key = NULL;
  KilnEarningRecord *record;

  g_return_val_if_fail (KILN_IS_EARNINGS (self), NULL);
  g_return_val_if_fail (terms != NULL, NULL);

  key = kiln_market_id_to_hex (terms);
  record = g_hash_table_lookup (self->records, key);
  return record != NULL ? kiln_earning_record_copy (record) : NULL;
}

void
kiln_earnings_get_totals (KilnEarnings       *self,
                          KilnEarningsTotals *out)
{
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GDateTime) midnight = NULL;
  g_autoptr(GDateTime) tomorrow = NULL;
  gint64 day_start;
  gint64 day_end;
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (KILN_IS_EARNINGS (self));
  g_return_if_fail (out != NULL);

  memset (out, 0, sizeof *out);

  /* The local day, from its midnight to the next (23 or 25 hours on the days the clocks
   * change). */
  now = g_date_time_new_now_local ();
  midnight = g_date_time_new_local (g_date_time_get_year (now), g_date_time_get_month (now),
                                    g_date_time_get_day_of_month (now), 0, 0, 0);
  tomorrow = g_date_time_add_days (midnight, 1);
  day_start = g_date_time_to_unix (midnight) * G_USEC_PER_SEC;
  day_end = g_date_time_to_unix (tomorrow) * G_USEC_PER_SEC;

  g_hash_table_iter_init (&iter, self->records);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const KilnEarningRecord *record = value;

      /* Amounts are below 2^128 base units (KILN_MARKET_AMOUNT_BITS): sums of them do not
       * overflow in practice; one that would is left at the largest value. */
      if (record->state == KILN_EARNING_STATE_CONFIRMED)
        {
          out->n_confirmed++;
          if (!kiln_uint256_add (&out->confirmed_total, &out->confirmed_total, &record->amount))
            kiln_uint256_set_max (&out->confirmed_total);
          if (record->confirmed_at >= day_start && record->confirmed_at < day_end &&
              !kiln_uint256_add (&out->confirmed_today, &out->confirmed_today,
                                 &record->amount))
            kiln_uint256_set_max (&out->confirmed_today);
        }
      else
        {
          out->n_pending++;
          if (!kiln_uint256_add (&out->pending, &out->pending, &record->amount))
            kiln_uint256_set_max (&out->pending);
        }
    }
}
