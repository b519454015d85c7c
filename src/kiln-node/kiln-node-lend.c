/* kiln-node-lend.c: kiln-node run --lend, a headless provider
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A provider agent over the node's engine, under a lending policy made from the options: on a
 * server nobody sits at, the computer counts as idle (no input is watched, other programs'
 * CPU use does not hold lending back, battery does not matter) unless --idle-only asks to
 * follow the session's idle state as the desktop app does. What it earns is written to the
 * data folder's database and checked on chain (KilnEarnings); payments go to the node's own
 * account. Every event is one line on standard output, for people or, with --json, one JSON
 * object per line for scripts; the same events go to the log with structured fields.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "kiln-blender.h"
#include "kiln-chain.h"
#include "kiln-earnings.h"
#include "kiln-idle-monitor.h"
#include "kiln-lending-policy.h"
#include "kiln-market.h"
#include "kiln-market-bodies.h"
#include "kiln-provider-agent.h"
#include "kiln-provider.h"
#include "kiln-rpc-client.h"

#include "kiln-node-chain.h"
#include "kiln-node-lend.h"

/* The work folder inside the data folder, by default. */
#define WORK_DIR_NAME "lend-work"

/* An assignment being worked on. */
typedef struct
{
  char     *requestor;
  char     *frames;
  gboolean  rendering;   /* its "rendering" line was printed */
} Assignment;

static void
assignment_free (gpointer data)
{
  Assignment *assignment = data;

  g_free (assignment->requestor);
  g_free (assignment->frames);
  g_free (assignment);
}

struct _KilnNodeLend
{
  gboolean           json;
  KilnChain         *chain;
  KilnRpcClient     *rpc;
  KilnBlender       *blender;
  KilnLendingPolicy *policy;
  KilnIdleMonitor   *monitor;
  KilnProvider      *provider;
  KilnProviderAgent *agent;
  KilnEarnings      *earnings;
  KilnStore         *store;
  char              *work_dir;
  gboolean           normal_priority;
  gboolean           idle_only;
  GHashTable        *assignments;   /* terms hex → Assignment */
  GHashTable        *reasons;       /* terms hex → the last reason printed for its payment */
};

/* Options */

void
kiln_node_lend_options_clear (KilnNodeLendOptions *options)
{
  g_clear_pointer (&options->min_price, g_free);
  g_clear_pointer (&options->work_dir, g_free);
  g_clear_pointer (&options->blender, g_free);
}

void
kiln_node_lend_add_entries (GArray              *entries,
                            KilnNodeLendOptions *options)
{
  const GOptionEntry lend_entries[] = {
    { "lend", 0, 0, G_OPTION_ARG_NONE, &options->lend,
      N_("Lend this computer: render other nodes’ Blender subtasks for GNT"), NULL },
    { "cores", 0, 0, G_OPTION_ARG_INT, &options->cores,
      N_("With --lend: CPU cores to lend (default: half of them, at least 1)"), N_("N") },
    { "memory", 0, 0, G_OPTION_ARG_INT, &options->memory_mib,
      N_("With --lend: lend at most N MiB of memory (default: no limit)"), N_("N") },
    { "min-price", 0, 0, G_OPTION_ARG_STRING, &options->min_price,
      N_("With --lend: the least GNT per CPU-hour to work for, such as 0.5 (default: 0)"),
      N_("GNT") },
    { "work-dir", 0, 0, G_OPTION_ARG_FILENAME, &options->work_dir,
      N_("With --lend: the folder subtasks run in (default: DIR/lend-work)"), N_("DIR") },
    { "blender", 0, 0, G_OPTION_ARG_FILENAME, &options->blender,
      N_("With --lend: the Blender program to render with (default: found in PATH or the "
         "usual places)"), N_("FILE") },
    { "idle-only", 0, 0, G_OPTION_ARG_NONE, &options->idle_only,
      N_("With --lend: lend only while the desktop session is idle, as the app does "
         "(without a session, the computer counts as idle)"), NULL },
    { "cpu-threshold", 0, 0, G_OPTION_ARG_INT, &options->cpu_threshold,
      N_("With --lend: wait while other programs use more than PERCENT of the CPUs "
         "(default: 100, never; 30 with --idle-only)"), N_("PERCENT") },
    { "normal-priority", 0, 0, G_OPTION_ARG_NONE, &options->normal_priority,
      N_("With --lend: render at normal priority instead of the idle one"), NULL },
  };

  g_array_append_vals (entries, lend_entries, G_N_ELEMENTS (lend_entries));
}

/* The minimum price in base units per CPU-hour. */
static gboolean
parse_min_price (const char   *text,
                 KilnUint256  *out,
                 GError      **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!kiln_uint256_parse_units (out, text, KILN_MARKET_TOKEN_DECIMALS, "GNT", &local_error))
    return kiln_node_usage_error (error,
                                  _("--min-price needs an amount of GNT per CPU-hour such as "
                                    "0.5, not “%s”: %s"), text, local_error->message);
  if (kiln_uint256_bit_length (out) > KILN_MARKET_AMOUNT_BITS)
    return kiln_node_usage_error (error, _("--min-price “%s” is more than any task can pay"), text);
  return TRUE;
}

gboolean
kiln_node_lend_check_options (const KilnNodeLendOptions  *options,
                              GError                    **error)
{
  const char *without = NULL;
  KilnUint256 price;

  if (options->cores != -1)
    without = "--cores";
  else if (options->memory_mib != -1)
    without = "--memory";
  else if (options->min_price != NULL)
    without = "--min-price";
  else if (options->work_dir != NULL)
    without = "--work-dir";
  else if (options->blender != NULL)
    without = "--blender";
  else if (options->idle_only)
    without = "--idle-only";
  else if (options->cpu_threshold != -1)
    without = "--cpu-threshold";
  else if (options->normal_priority)
    without = "--normal-priority";

  if (!options->lend)
    {
      if (without != NULL)
        return kiln_node_usage_error (error, _("%s is for lending: add --lend"), without);
      return TRUE;
    }

  if (options->cores != -1 && (options->cores < 1 || options->cores > KILN_MARKET_MAX_CORES))
    return kiln_node_usage_error (error, _("--cores needs a number of cores from 1 to %d, not %d"),
                                  KILN_MARKET_MAX_CORES, options->cores);
  if (options->memory_mib != -1 && options->memory_mib < 1)
    return kiln_node_usage_error (error, _("--memory needs a positive number of MiB, not %d"),
                                  options->memory_mib);
  if (options->cpu_threshold != -1 &&
      (options->cpu_threshold < 1 || options->cpu_threshold > 100))
    return kiln_node_usage_error (error,
                                  _("--cpu-threshold needs a percentage from 1 to 100, not %d"),
                                  options->cpu_threshold);
  if (options->min_price != NULL && !parse_min_price (options->min_price, &price, error))
    return FALSE;
  if (options->work_dir != NULL && options->work_dir[0] == '\0')
    return kiln_node_usage_error (error, _("%s needs a value, not an empty string"), "--work-dir");
  if (options->blender != NULL && options->blender[0] == '\0')
    return kiln_node_usage_error (error, _("%s needs a value, not an empty string"), "--blender");

  return TRUE;
}

/* Events */

/* One event: a line for people on standard output (or, with --json, a JSON object with
 * "event" and the fields), and the same in the log with the fields as KILN_* fields.
 * @fields are name/value pairs of strings, NULL-terminated; a NULL value is left out. */
static void
emit_event (KilnNodeLend *self,
            const char   *event,
            const char   *text,
            ...) G_GNUC_NULL_TERMINATED;

static void
emit_event (KilnNodeLend *self,
            const char   *event,
            const char   *text,
            ...)
{
  g_autoptr(GArray) log_fields = g_array_new (FALSE, FALSE, sizeof (GLogField));
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *name;
  va_list args;
  GLogField field;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, event);

  field = (GLogField) { "MESSAGE", text, -1 };
  g_array_append_val (log_fields, field);
  field = (GLogField) { "PRIORITY", "6", -1 };   /* syslog's "info" */
  g_array_append_val (log_fields, field);
  field = (GLogField) { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 };
  g_array_append_val (log_fields, field);
  field = (GLogField) { "KILN_EVENT", event, -1 };
  g_array_append_val (log_fields, field);

  va_start (args, text);
  while ((name = va_arg (args, const char *)) != NULL)
    {
      const char *value = va_arg (args, const char *);
      char *log_name;

      if (value == NULL)
        continue;
      json_builder_set_member_name (builder, name);
      json_builder_add_string_value (builder, value);

      /* "tx-hash" → KILN_TX_HASH */
      log_name = g_strconcat ("KILN_", name, NULL);
      g_strdelimit (log_name, "-", '_');
      for (char *p = log_name; *p != '\0'; p++)
        *p = g_ascii_toupper (*p);
      g_ptr_array_add (names, log_name);
      field = (GLogField) { log_name, value, -1 };
      g_array_append_val (log_fields, field);
    }
  va_end (args);
  json_builder_end_object (builder);

  if (self->json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (builder);

      kiln_node_print_json (root);
    }
  else
    g_print ("%s\n", text);
  fflush (stdout);

  g_log_structured_array (G_LOG_LEVEL_INFO, (const GLogField *) log_fields->data,
                          log_fields->len);
}

static char *
format_gnt (const KilnUint256 *amount)
{
  return kiln_uint256_format_units (amount, KILN_MARKET_TOKEN_DECIMALS);
}

static void
on_offered (KilnNodeLend      *self,
            const char        *task,
            const char        *requestor)
{
  g_autofree char *text = g_strdup_printf (_("Offered on task %s to %s"), task, requestor);

  emit_event (self, "offered", text, "task", task, "requestor", requestor, NULL);
}

static void
on_accepted (KilnNodeLend      *self,
             const char        *terms,
             const char        *requestor,
             const char        *frames,
             KilnProviderAgent *agent)
{
  g_autofree char *text = NULL;
  Assignment *assignment = g_new0 (Assignment, 1);

  assignment->requestor = g_strdup (requestor);
  assignment->frames = g_strdup (frames);
  g_hash_table_replace (self->assignments, g_strdup (terms), assignment);

  text = g_strdup_printf (_("Accepted assignment %s from %s (frames %s)"), terms, requestor,
                          frames);
  emit_event (self, "accepted", text, "terms", terms, "requestor", requestor, "frames", frames,
              NULL);
}

/* The provider watches a new render: say which assignment started rendering. */
static void
on_n_runs (KilnNodeLend *self)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->assignments);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *terms = key;
      Assignment *assignment = value;
      g_autofree char *text = NULL;

      if (assignment->rendering || kiln_provider_agent_lookup_run (self->agent, terms) == NULL)
        continue;

      assignment->rendering = TRUE;
      text = g_strdup_printf (_("Rendering frames %s for %s"), assignment->frames,
                              assignment->requestor);
      emit_event (self, "rendering", text, "terms", terms, "requestor", assignment->requestor,
                  "frames", assignment->frames, NULL);
    }
}

static const char *
find_run (KilnNodeLend  *self,
          KilnRenderRun *run)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->assignments);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (kiln_provider_agent_lookup_run (self->agent, key) == run)
      return key;
  return NULL;
}

static void
on_paused (KilnNodeLend  *self,
           KilnRenderRun *run)
{
  const char *terms = find_run (self, run);
  g_autofree char *text = NULL;

  if (terms == NULL)
    return;
  text = g_strdup_printf (_("Paused assignment %s: %s"), terms,
                          kiln_provider_get_status (self->provider));
  emit_event (self, "paused", text, "terms", terms, NULL);
}

static void
on_resumed (KilnNodeLend  *self,
            KilnRenderRun *run)
{
  const char *terms = find_run (self, run);
  g_autofree char *text = NULL;

  if (terms == NULL)
    return;
  text = g_strdup_printf (_("Resumed assignment %s"), terms);
  emit_event (self, "resumed", text, "terms", terms, NULL);
}

static void
on_finished (KilnNodeLend      *self,
             const char        *terms,
             const char        *reason,
             KilnProviderAgent *agent)
{
  g_autofree char *text = NULL;

  g_hash_table_remove (self->assignments, terms);
  if (reason == NULL)
    {
      text = g_strdup_printf (_("Result sent for assignment %s"), terms);
      emit_event (self, "result-sent", text, "terms", terms, NULL);
    }
  else
    {
      text = g_strdup_printf (_("Assignment %s ended without a result: %s"), terms, reason);
      emit_event (self, "ended", text, "terms", terms, "reason", reason, NULL);
    }
}

static void
on_earned (KilnNodeLend      *self,
           const char        *terms,
           const char        *amount,
           KilnProviderAgent *agent)
{
  g_autoptr(GPtrArray) earnings = kiln_provider_agent_dup_earnings (agent);
  g_autofree char *requestor = NULL;
  g_autofree char *gnt = NULL;
  g_autofree char *text = NULL;
  KilnUint256 value;

  if (!kiln_uint256_parse (&value, amount, NULL))
    return;
  for (guint i = 0; i < earnings->len && requestor == NULL; i++)
    {
      const KilnEarning *earning = g_ptr_array_index (earnings, i);
      g_autofree char *hex = kiln_market_id_to_hex (earning->terms);

      if (g_str_equal (hex, terms))
        requestor = kiln_address_to_string (&earning->requestor);
    }

  gnt = format_gnt (&value);
  text = g_strdup_printf (_("Earned %s GNT for assignment %s"), gnt, terms);
  emit_event (self, "earned", text, "terms", terms, "requestor", requestor, "amount", amount,
              "gnt", gnt, NULL);
}

static void
on_paid (KilnNodeLend      *self,
         const char        *terms,
         const char        *tx,
         KilnProviderAgent *agent)
{
  g_autofree char *tx_hash = g_str_has_prefix (tx, "0x") ? g_strdup (tx)
                                                         : g_strconcat ("0x", tx, NULL);
  g_autofree char *text = g_strdup_printf (_("Paid in tx %s for assignment %s"), tx_hash,
                                           terms);

  emit_event (self, "paid", text, "terms", terms, "tx-hash", tx_hash, NULL);
}

static void
on_confirmed (KilnNodeLend *self,
              const char   *terms,
              const char   *tx_hash,
              const char   *amount,
              KilnEarnings *earnings)
{
  guint8 digest[KILN_MARKET_DIGEST_SIZE];
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autofree char *block = NULL;
  g_autofree char *gnt = NULL;
  g_autofree char *text = NULL;
  KilnUint256 value;

  if (!kiln_uint256_parse (&value, amount, NULL) ||
      !kiln_market_id_from_hex (terms, digest, NULL))
    return;
  record = kiln_earnings_lookup (earnings, digest);
  if (record != NULL)
    block = g_strdup_printf ("%" G_GUINT64_FORMAT, record->confirmed_block);

  g_hash_table_remove (self->reasons, terms);
  gnt = format_gnt (&value);
  text = g_strdup_printf (_("Payment confirmed: %s GNT for assignment %s in tx %s"), gnt,
                          terms, tx_hash);
  emit_event (self, "confirmed", text, "terms", terms, "tx-hash", tx_hash, "amount", amount,
              "gnt", gnt, "block", block, NULL);
}

/* A payment that is not confirmed says why, once per reason. */
static void
on_earnings_changed (KilnNodeLend *self,
                     const char   *terms,
                     KilnEarnings *earnings)
{
  guint8 digest[KILN_MARKET_DIGEST_SIZE];
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autofree char *tx_hex = NULL;
  g_autofree char *tx_hash = NULL;
  g_autofree char *text = NULL;

  if (terms == NULL || !kiln_market_id_from_hex (terms, digest, NULL))
    return;
  record = kiln_earnings_lookup (earnings, digest);
  if (record == NULL || record->state != KILN_EARNING_STATE_PAID || record->reason == NULL ||
      g_strcmp0 (g_hash_table_lookup (self->reasons, terms), record->reason) == 0)
    return;

  g_hash_table_replace (self->reasons, g_strdup (terms), g_strdup (record->reason));
  tx_hex = kiln_market_id_to_hex (record->tx_hash);
  tx_hash = g_strconcat ("0x", tx_hex, NULL);
  text = g_strdup_printf (_("Payment for assignment %s not confirmed: %s"), terms,
                          record->reason);
  emit_event (self, "unconfirmed", text, "terms", terms, "tx-hash", tx_hash,
              "reason", record->reason, NULL);
}

/* Setting up */

static gboolean
on_benchmark_signal (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
measure (KilnNodeLend  *self,
         GError       **error)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) local_error = NULL;
  g_auto(KilnNodeAsync) call = { 0 };
  guint sigint_id;
  guint sigterm_id;
  double score;

  g_message (_("Measuring this computer with Blender %s (once per Blender version)…"),
             kiln_blender_get_version (self->blender));

  sigint_id = g_unix_signal_add (SIGINT, on_benchmark_signal, cancellable);
  sigterm_id = g_unix_signal_add (SIGTERM, on_benchmark_signal, cancellable);
  kiln_blender_benchmark_async (self->blender, NULL, FALSE, cancellable, kiln_node_async_done,
                                &call);
  score = kiln_blender_benchmark_finish (self->blender, kiln_node_async_wait (&call),
                                         &local_error);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  if (score <= 0)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("stopped while measuring this computer, before lending"));
      else
        g_set_error (error, local_error->domain, local_error->code,
                     _("cannot lend: Blender’s benchmark failed: %s"), local_error->message);
      return FALSE;
    }

  return TRUE;
}

static KilnLendingPolicy *
make_policy (const KilnNodeLendOptions *options)
{
  KilnLendingPolicy *policy = kiln_lending_policy_new ();
  guint cores = options->cores;
  guint threshold = options->cpu_threshold;

  if (options->cores == -1)
    cores = MAX (1, g_get_num_processors () / 2);
  if (options->cpu_threshold == -1)
    threshold = options->idle_only ? kiln_lending_policy_get_cpu_threshold_percent (policy)
                                   : 100;

  kiln_lending_policy_set_cores (policy, cores);
  if (options->memory_mib != -1)
    kiln_lending_policy_set_memory_mb (policy, options->memory_mib);
  if (options->min_price != NULL &&
      !kiln_lending_policy_set_min_price (policy, options->min_price, NULL))
    g_assert_not_reached ();   /* checked by kiln_node_lend_check_options() */
  kiln_lending_policy_set_cpu_threshold_percent (policy, threshold);
  if (!options->idle_only)
    {
      /* A server: nobody's input to wait for, and its power is its own business. */
      kiln_lending_policy_set_idle_delay_minutes (policy, 0);
      kiln_lending_policy_set_lend_on_battery (policy, TRUE);
    }
  kiln_lending_policy_set_enabled (policy, TRUE);
  return policy;
}

KilnNodeLend *
kiln_node_lend_new (KilnNodeContext            *ctx,
                    const KilnNodeLendOptions  *options,
                    GError                    **error)
{
  g_autoptr(KilnNodeLend) self = g_new0 (KilnNodeLend, 1);
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (options->lend, NULL);

  self->json = ctx->json;
  self->normal_priority = options->normal_priority;
  self->idle_only = options->idle_only;
  /* The agent needs an absolute folder; a relative one is taken from here. */
  if (options->work_dir != NULL)
    self->work_dir = g_canonicalize_filename (options->work_dir, NULL);
  self->assignments = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, assignment_free);
  self->reasons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  self->chain = kiln_node_chain_new (ctx, error);
  if (self->chain == NULL)
    return NULL;
  self->rpc = kiln_rpc_client_new (kiln_chain_get_rpc_url (self->chain), error);
  if (self->rpc == NULL)
    return NULL;

  self->policy = make_policy (options);

  self->blender = kiln_blender_discover (options->blender, NULL, &local_error);
  if (self->blender == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code,
                   _("cannot lend without Blender: %s"), local_error->message);
      return NULL;
    }
  if (!kiln_blender_has_cycles (self->blender))
    {
      g_set_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NO_CYCLES,
                   _("cannot lend: Blender %s at %s cannot render with Cycles"),
                   kiln_blender_get_version (self->blender),
                   kiln_blender_get_path (self->blender));
      return NULL;
    }
  if (!measure (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

gboolean
kiln_node_lend_start (KilnNodeLend  *self,
                      KilnEngine    *engine,
                      KilnStore     *store,
                      const char    *data_dir,
                      GError       **error)
{
  g_autofree char *price = NULL;
  g_autofree char *memory = NULL;
  g_autofree char *cores = NULL;
  g_autofree char *score = NULL;
  g_autofree char *confirmed = NULL;
  g_autofree char *pending = NULL;
  g_autofree char *text = NULL;
  g_autofree char *memory_text = NULL;
  KilnEarningsTotals totals;
  KilnUint256 min_price;

  g_return_val_if_fail (self->agent == NULL, FALSE);

  if (self->work_dir == NULL)
    self->work_dir = g_build_filename (data_dir, WORK_DIR_NAME, NULL);

  self->store = g_object_ref (store);
  self->earnings = kiln_earnings_new (store, kiln_engine_get_address (engine));
  kiln_earnings_set_chain (self->earnings, self->rpc, kiln_chain_get_token (self->chain));
  if (!kiln_earnings_load (self->earnings, NULL, error))
    return FALSE;

  self->monitor = self->idle_only ? kiln_idle_monitor_new (self->policy)
                                  : kiln_idle_monitor_new_headless (self->policy);
  self->provider = kiln_provider_new (self->policy, self->monitor);
  self->agent = kiln_provider_agent_new (engine, self->provider, self->blender, self->work_dir);
  kiln_provider_agent_set_idle_priority (self->agent, !self->normal_priority);

  g_signal_connect_swapped (self->agent, "offered", G_CALLBACK (on_offered), self);
  g_signal_connect_swapped (self->agent, "accepted", G_CALLBACK (on_accepted), self);
  g_signal_connect_swapped (self->agent, "finished", G_CALLBACK (on_finished), self);
  g_signal_connect_swapped (self->agent, "earned", G_CALLBACK (on_earned), self);
  g_signal_connect_swapped (self->agent, "paid", G_CALLBACK (on_paid), self);
  g_signal_connect_swapped (self->provider, "notify::n-runs", G_CALLBACK (on_n_runs), self);
  g_signal_connect_swapped (self->provider, "paused", G_CALLBACK (on_paused), self);
  g_signal_connect_swapped (self->provider, "resumed", G_CALLBACK (on_resumed), self);
  g_signal_connect_swapped (self->earnings, "confirmed", G_CALLBACK (on_confirmed), self);
  g_signal_connect_swapped (self->earnings, "changed", G_CALLBACK (on_earnings_changed), self);
  kiln_earnings_set_agent (self->earnings, self->agent);

  if (!kiln_provider_agent_start (self->agent, error))
    return FALSE;

  kiln_lending_policy_get_min_price_units (self->policy, &min_price);
  price = format_gnt (&min_price);
  cores = g_strdup_printf ("%u", kiln_lending_policy_get_cores (self->policy));
  if (kiln_lending_policy_get_memory_mb (self->policy) > 0)
    memory = g_strdup_printf ("%u", kiln_lending_policy_get_memory_mb (self->policy));
  score = g_strdup_printf ("%.3f", kiln_blender_get_benchmark_score (self->blender));
  kiln_earnings_get_totals (self->earnings, &totals);
  confirmed = format_gnt (&totals.confirmed_total);
  pending = format_gnt (&totals.pending);

  memory_text = memory != NULL ? g_strdup_printf (_("%s MiB"), memory)
                               : g_strdup (_("no memory limit"));
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "Lending %u core, %s, for at least %s GNT per CPU-hour, "
                                       "with Blender %s; earned so far %s GNT, %s GNT pending",
                                       "Lending %u cores, %s, for at least %s GNT per CPU-hour, "
                                       "with Blender %s; earned so far %s GNT, %s GNT pending",
                                       kiln_lending_policy_get_cores (self->policy)),
                          kiln_lending_policy_get_cores (self->policy), memory_text, price,
                          kiln_blender_get_version (self->blender), confirmed, pending);
  emit_event (self, "lending", text,
              "account", kiln_engine_get_address_string (engine),
              "cores", cores,
              "memory-mib", memory,
              "min-price", price,
              "blender", kiln_blender_get_version (self->blender),
              "benchmark", score,
              "work-dir", self->work_dir,
              "earned", confirmed,
              "pending", pending,
              NULL);
  return TRUE;
}

void
kiln_node_lend_stop (KilnNodeLend *self)
{
  g_autofree char *text = NULL;
  g_autofree char *count = NULL;
  guint running;

  if (self->agent == NULL || !kiln_provider_agent_get_running (self->agent))
    return;

  running = kiln_provider_agent_get_n_running (self->agent);
  kiln_provider_agent_stop (self->agent);
  kiln_earnings_set_agent (self->earnings, NULL);

  count = g_strdup_printf ("%u", running);
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "Stopped lending; %u assignment handed back",
                                       "Stopped lending; %u assignments handed back", running),
                          running);
  emit_event (self, "stopped", text, "handed-back", count, NULL);
}

static gboolean
noop_in_db (sqlite3   *db,
            gpointer   data,
            GError   **error)
{
  return TRUE;
}

void
kiln_node_lend_free (KilnNodeLend *self)
{
  if (self == NULL)
    return;

  if (self->agent != NULL)
    {
      kiln_node_lend_stop (self);
      g_signal_handlers_disconnect_by_data (self->agent, self);
    }
  if (self->provider != NULL)
    g_signal_handlers_disconnect_by_data (self->provider, self);
  if (self->earnings != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->earnings, self);
      kiln_earnings_set_chain (self->earnings, NULL, NULL);
    }
  /* The store runs its work in order: once this has run, every earning written before is
   * on disk. */
  if (self->store != NULL)
    kiln_store_run_sync (self->store, noop_in_db, NULL, NULL, NULL);

  g_clear_object (&self->agent);
  g_clear_object (&self->earnings);
  g_clear_object (&self->provider);
  g_clear_object (&self->monitor);
  g_clear_object (&self->policy);
  g_clear_object (&self->blender);
  g_clear_object (&self->rpc);
  g_clear_object (&self->chain);
  g_clear_object (&self->store);
  g_clear_pointer (&self->assignments, g_hash_table_unref);
  g_clear_pointer (&self->reasons, g_hash_table_unref);
  g_free (self->work_dir);
  g_free (self);
}
