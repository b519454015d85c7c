/* kiln-node-render-follow.c: following a render job to its end, for people and scripts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On a terminal one line shows the progress, rewritten in place (state, frames, subtasks,
 * providers at work, peers, what verified work costs against the most the job can cost),
 * with the frames that came in and the subtasks that went back to the market printed above
 * it. Otherwise every line of the job's log is printed with its time; with --json every
 * step is one JSON object on a line of its own ("log", "subtask", "frame", "progress",
 * "note", and "end" last). A job with no provider at work for --wait-providers seconds is
 * cancelled, and so is one interrupted by a signal; unfinished work is never paid.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "kiln-node-account.h"
#include "kiln-node-render-private.h"
#include "kiln-node-wallet-private.h"

/* Amounts on the progress line keep this many decimals. */
#define SHORT_DECIMALS 6

typedef struct
{
  KilnRenderJobState state;
  guint              frames_done;
  guint              frames_total;
  guint              subtasks_done;
  guint              n_subtasks;
  guint              pending;      /* waiting for a provider */
  guint              out;          /* offered to or rendering with a provider */
  guint              providers;    /* distinct providers with work out */
  guint              peers;
  KilnUint256        cost;
  KilnUint256        max_cost;
} Progress;

static void
collect_progress (KilnNodeRender *self,
                  Progress       *progress)
{
  KilnRenderJob *job = self->job;
  g_autoptr(GArray) providers = g_array_new (FALSE, FALSE, sizeof (KilnAddress));

  memset (progress, 0, sizeof *progress);
  progress->state = kiln_render_job_get_state (job);
  progress->frames_done = kiln_render_job_get_frames_done (job);
  progress->frames_total = kiln_render_job_get_frames_total (job);
  progress->subtasks_done = kiln_render_job_get_subtasks_done (job);
  progress->n_subtasks = kiln_render_job_get_n_subtasks (job);
  progress->peers = kiln_engine_get_n_connected (self->engine);
  kiln_render_job_get_cost (job, &progress->cost);
  kiln_render_job_get_max_cost (job, &progress->max_cost);

  for (guint i = 0; i < progress->n_subtasks; i++)
    {
      KilnSubtaskState state = kiln_render_job_get_subtask_state (job, i);
      KilnAddress provider;
      gboolean known = FALSE;

      if (state == KILN_SUBTASK_STATE_PENDING)
        progress->pending++;
      if (state != KILN_SUBTASK_STATE_ASSIGNED && state != KILN_SUBTASK_STATE_RENDERING)
        continue;
      progress->out++;
      if (!kiln_render_job_get_subtask_provider (job, i, &provider))
        continue;
      for (guint j = 0; j < providers->len && !known; j++)
        known = kiln_address_equal (&g_array_index (providers, KilnAddress, j), &provider);
      if (!known)
        g_array_append_val (providers, provider);
    }
  progress->providers = providers->len;
}

static const char *
describe_state (KilnRenderJobState state)
{
  switch (state)
    {
    case KILN_RENDER_JOB_STATE_PREPARING:
      return _("Preparing");
    case KILN_RENDER_JOB_STATE_ANNOUNCING:
      return _("Announced");
    case KILN_RENDER_JOB_STATE_RUNNING:
      return _("Rendering");
    case KILN_RENDER_JOB_STATE_VERIFYING:
      return _("Verifying");
    case KILN_RENDER_JOB_STATE_ASSEMBLING:
      return _("Joining");
    case KILN_RENDER_JOB_STATE_PAYING:
      return _("Paying");
    case KILN_RENDER_JOB_STATE_DONE:
      return _("Done");
    case KILN_RENDER_JOB_STATE_FAILED:
      return _("Failed");
    case KILN_RENDER_JOB_STATE_CANCELLED:
      return _("Cancelled");
    default:
      g_assert_not_reached ();
    }
}

static KilnChain *
get_chain (KilnNodeRender *self)
{
  return kiln_wallet_get_chain (self->node->wallet);
}

char *
kiln_node_render_format_short_amount (KilnNodeRender    *self,
                                      const KilnUint256 *value)
{
  KilnChain *chain = get_chain (self);
  guint decimals = kiln_chain_get_token_decimals (chain);
  KilnUint256 scale, quotient, remainder;
  g_autofree char *number = NULL;

  if (decimals <= SHORT_DECIMALS ||
      !kiln_uint256_pow10 (&scale, decimals - SHORT_DECIMALS) ||
      !kiln_uint256_divmod (&quotient, &remainder, value, &scale))
    return kiln_node_format_amount (value, decimals, kiln_chain_get_token_symbol (chain));

  /* Rounded up: a cost is never shown below what it is. */
  if (!kiln_uint256_is_zero (&remainder) && !kiln_uint256_add_uint64 (&quotient, &quotient, 1))
    g_assert_not_reached ();  /* the quotient is far below 2^256 */
  number = kiln_uint256_format_units (&quotient, SHORT_DECIMALS);

  return g_strdup_printf ("%s %s", number, kiln_chain_get_token_symbol (chain));
}

/* The progress line: short enough for 80 columns while the amounts stay small. */
static char *
describe_progress (KilnNodeRender *self,
                   const Progress *progress)
{
  g_autofree char *cost = kiln_node_render_format_short_amount (self, &progress->cost);
  g_autofree char *most = kiln_node_render_format_short_amount (self, &progress->max_cost);

  /* "0.0021 GNT/0.26 GNT" reads as "0.0021/0.26 GNT". */
  *strrchr (cost, ' ') = '\0';

  /* TRANSLATORS: the job's state, frames done of all, subtasks done of all, providers
   * working on it, peers linked, then the cost so far and the most it can cost, such as
   * "Rendering · frames 3/8 · subtasks 3/8 · providers 2, peers 2 · 0.0021/0.26 GNT" */
  return g_strdup_printf (_("%s · frames %u/%u · subtasks %u/%u · providers %u, peers %u · "
                            "%s/%s"),
                          describe_state (progress->state), progress->frames_done,
                          progress->frames_total, progress->subtasks_done,
                          progress->n_subtasks, progress->providers, progress->peers, cost,
                          most);
}

/* Everything the progress says, to tell only changes. */
static char *
progress_key (const Progress *progress)
{
  g_autofree char *cost = kiln_uint256_to_string (&progress->cost);

  return g_strdup_printf ("%d %u %u %u %u %u %u %u %u %s", progress->state,
                          progress->frames_done, progress->frames_total,
                          progress->subtasks_done, progress->n_subtasks, progress->pending,
                          progress->out, progress->providers, progress->peers, cost);
}

void
kiln_node_render_json_add_progress (KilnNodeRender *self,
                                    JsonBuilder    *builder)
{
  KilnChain *chain = get_chain (self);
  guint decimals = kiln_chain_get_token_decimals (chain);
  const char *symbol = kiln_chain_get_token_symbol (chain);
  Progress progress;

  collect_progress (self, &progress);
  kiln_node_json_add_string (builder, "state",
                             kiln_render_job_state_to_string (progress.state));
  kiln_node_json_add_int (builder, "frames_done", progress.frames_done);
  kiln_node_json_add_int (builder, "frames_total", progress.frames_total);
  kiln_node_json_add_int (builder, "subtasks_done", progress.subtasks_done);
  kiln_node_json_add_int (builder, "subtasks", progress.n_subtasks);
  kiln_node_json_add_int (builder, "out", progress.out);
  kiln_node_json_add_int (builder, "providers", progress.providers);
  kiln_node_json_add_int (builder, "peers", progress.peers);
  kiln_node_json_add_amount (builder, "cost", &progress.cost, decimals, symbol);
  kiln_node_json_add_amount (builder, "max_cost", &progress.max_cost, decimals, symbol);
}

/* Writing */

static guint
terminal_columns (void)
{
  struct winsize size;

  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 1)
    return size.ws_col;
  return 80;
}

static void
draw_status (KilnNodeRender *self)
{
  g_autofree char *line = NULL;
  glong width = terminal_columns () - 1;

  if (!self->terminal || self->status_line == NULL)
    return;

  /* One line only: a line that wraps could not be rewritten in place. */
  line = g_strdup (self->status_line);
  if (g_utf8_strlen (line, -1) > width)
    {
      *g_utf8_offset_to_pointer (line, width - 1) = '\0';
      line = g_strconcat (g_steal_pointer (&line), "…", NULL);
    }

  /* Back to the start of the line, the line, then clear what an earlier one left. */
  fputc ('\r', stdout);
  fputs (line, stdout);
  fputs ("\033[K", stdout);
  fflush (stdout);
  self->status_shown = TRUE;
}

static void
clear_status (KilnNodeRender *self)
{
  if (!self->status_shown)
    return;
  fputs ("\r\033[K", stdout);
  self->status_shown = FALSE;
}

void
kiln_node_render_print_line (KilnNodeRender *self,
                             const char     *text)
{
  if (self->ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      kiln_node_json_add_string (builder, "event", "note");
      kiln_node_json_add_string (builder, "text", text);
      json_builder_end_object (builder);
      kiln_node_print_json_builder (builder);
      fflush (stdout);
      return;
    }

  clear_status (self);
  fputs (text, stdout);
  fputc ('\n', stdout);
  draw_status (self);
  fflush (stdout);
}

static void
print_json_event (KilnNodeRender *self,
                  JsonBuilder    *builder)
{
  json_builder_end_object (builder);
  kiln_node_print_json_builder (builder);
  fflush (stdout);
}

static JsonBuilder *
begin_json_event (const char *event)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  kiln_node_json_add_string (builder, "event", event);
  return builder;
}

/* Tells the progress when it changed. */
static void
update_progress (KilnNodeRender *self)
{
  g_autofree char *key = NULL;
  Progress progress;

  collect_progress (self, &progress);
  key = progress_key (&progress);
  if (g_strcmp0 (key, self->last_progress) == 0)
    return;
  g_free (self->last_progress);
  self->last_progress = g_steal_pointer (&key);
  g_free (self->status_line);
  self->status_line = describe_progress (self, &progress);

  if (self->ctx->json)
    {
      g_autoptr(JsonBuilder) builder = begin_json_event ("progress");

      kiln_node_render_json_add_progress (self, builder);
      print_json_event (self, builder);
    }
  else if (self->terminal)
    draw_status (self);
}

/* No provider at work: the deadline */

static void cancel_job (KilnNodeRender *self);

static gboolean
on_no_providers (gpointer user_data)
{
  KilnNodeRender *self = user_data;

  self->no_provider_id = 0;
  self->no_providers = TRUE;
  cancel_job (self);
  return G_SOURCE_REMOVE;
}

/* The clock runs while subtasks wait for a provider and none is out with one. */
static void
update_deadline (KilnNodeRender *self)
{
  KilnRenderJobState state = kiln_render_job_get_state (self->job);
  gboolean waiting = FALSE;
  Progress progress;

  if (self->wait_providers > 0 && !self->cancelling &&
      (state == KILN_RENDER_JOB_STATE_ANNOUNCING || state == KILN_RENDER_JOB_STATE_RUNNING ||
       state == KILN_RENDER_JOB_STATE_VERIFYING))
    {
      collect_progress (self, &progress);
      waiting = progress.pending > 0 && progress.out == 0;
    }

  if (!waiting)
    g_clear_handle_id (&self->no_provider_id, g_source_remove);
  else if (self->no_provider_id == 0)
    self->no_provider_id = g_timeout_add_seconds (self->wait_providers, on_no_providers, self);
}

/* Cancelling */

static void
on_cancelled (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  KilnNodeRender *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kiln_render_job_cancel_finish (KILN_RENDER_JOB (object), result, &error) &&
      !g_error_matches (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_NOT_RUNNING))
    self->cancel_error = g_steal_pointer (&error);
}

static void
cancel_job (KilnNodeRender *self)
{
  KilnRenderJobState state = kiln_render_job_get_state (self->job);

  if (self->cancelling || kiln_render_job_state_is_final (state))
    return;

  if (state == KILN_RENDER_JOB_STATE_PAYING)
    {
      /* Every frame is in: the providers are paid for all of it. */
      kiln_node_render_print_line (self, _("Every frame is in; waiting for the payment to be "
                                           "confirmed (signal again to stop at once)"));
      return;
    }

  self->cancelling = TRUE;
  g_clear_handle_id (&self->no_provider_id, g_source_remove);
  if (self->no_providers)
    {
      g_autofree char *text = NULL;

      text = g_strdup_printf (_("No provider worked on the job for %u s: cancelling it"),
                              self->wait_providers);
      kiln_node_render_print_line (self, text);
    }
  else
    kiln_node_render_print_line (self, _("Cancelling the job: the work that is out is "
                                         "withdrawn (signal again to stop at once)"));
  kiln_render_job_cancel_async (self->job, NULL, on_cancelled, self);
}

void
kiln_node_render_interrupt (KilnNodeRender *self)
{
  self->n_signals++;
  self->interrupted = TRUE;
  g_cancellable_cancel (self->cancellable);

  if (self->stopping || self->n_signals > 1)
    {
      /* At once: the links close without waiting for goodbyes. */
      if (self->stopping && self->engine != NULL)
        kiln_engine_stop (self->engine);
      return;
    }

  if (self->started)
    cancel_job (self);
}

/* What the job tells */

static void
print_event (KilnNodeRender     *self,
             KilnRenderJobEvent *event)
{
  int subtask = kiln_render_job_event_get_subtask (event);
  gint64 time = kiln_render_job_event_get_time (event);

  if (self->ctx->json)
    {
      g_autoptr(JsonBuilder) builder = begin_json_event ("log");

      kiln_node_json_add_int (builder, "time_ms", time / 1000);
      json_builder_set_member_name (builder, "subtask");
      if (subtask >= 0)
        json_builder_add_int_value (builder, subtask);
      else
        json_builder_add_null_value (builder);
      kiln_node_json_add_string (builder, "text", kiln_render_job_event_get_text (event));
      print_json_event (self, builder);
    }
  else if (!self->terminal)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (time / G_USEC_PER_SEC);
      g_autofree char *clock = when != NULL ? g_date_time_format (when, "%H:%M:%S")
                                            : g_strdup ("--:--:--");

      if (subtask >= 0)
        /* TRANSLATORS: the time, a subtask's number, what happened to it */
        g_print (_("%s subtask %d: %s\n"), clock, subtask,
                 kiln_render_job_event_get_text (event));
      else
        g_print ("%s %s\n", clock, kiln_render_job_event_get_text (event));
      fflush (stdout);
    }
}

static void
on_events_changed (GListModel     *events,
                   guint           position,
                   guint           removed,
                   guint           added,
                   KilnNodeRender *self)
{
  guint n = g_list_model_get_n_items (events);

  for (; self->n_events_shown < n; self->n_events_shown++)
    {
      g_autoptr(KilnRenderJobEvent) event = g_list_model_get_item (events, self->n_events_shown);

      print_event (self, event);
    }
}

/* The last line of the log about subtask @index. */
static KilnRenderJobEvent *
last_event_of (KilnNodeRender *self,
               guint           index)
{
  GListModel *events = kiln_render_job_get_events (self->job);

  for (guint i = g_list_model_get_n_items (events); i > 0; i--)
    {
      g_autoptr(KilnRenderJobEvent) event = g_list_model_get_item (events, i - 1);

      if (kiln_render_job_event_get_subtask (event) == (int) index)
        return g_steal_pointer (&event);
    }
  return NULL;
}

static void
on_subtask_changed (KilnRenderJob    *job,
                    guint             index,
                    KilnSubtaskState  state,
                    KilnNodeRender   *self)
{
  KilnSubtaskState *was;
  KilnAddress provider;
  gboolean has_provider;

  if (index >= self->subtask_states->len)
    return;
  was = &g_array_index (self->subtask_states, KilnSubtaskState, index);
  has_provider = kiln_render_job_get_subtask_provider (job, index, &provider);

  if (self->ctx->json)
    {
      g_autoptr(JsonBuilder) builder = begin_json_event ("subtask");

      kiln_node_json_add_int (builder, "index", index);
      kiln_node_json_add_string (builder, "state", kiln_subtask_state_to_string (state));
      if (has_provider && state != KILN_SUBTASK_STATE_PENDING)
        kiln_node_json_add_address (builder, "provider", &provider);
      else
        kiln_node_json_add_string (builder, "provider", NULL);
      print_json_event (self, builder);
    }
  else if (self->terminal && state == KILN_SUBTASK_STATE_PENDING &&
           *was != KILN_SUBTASK_STATE_PENDING && !self->cancelling)
    {
      /* Work back on the market says why; the rest shows on the progress line. */
      g_autoptr(KilnRenderJobEvent) event = last_event_of (self, index);
      g_autofree char *text = NULL;

      text = g_strdup_printf (_("Subtask %u goes back to the market: %s"), index,
                              event != NULL ? kiln_render_job_event_get_text (event) : "");
      kiln_node_render_print_line (self, text);
    }

  *was = state;
  update_deadline (self);
  update_progress (self);
}

static void
on_frame_ready (KilnRenderJob  *job,
                int             frame,
                const char     *path,
                KilnNodeRender *self)
{
  g_autofree char *display = kiln_node_display_path (path);

  if (self->ctx->json)
    {
      g_autoptr(JsonBuilder) builder = begin_json_event ("frame");

      kiln_node_json_add_int (builder, "frame", frame);
      kiln_node_json_add_string (builder, "path", display);
      kiln_node_json_add_int (builder, "frames_done", kiln_render_job_get_frames_done (job));
      kiln_node_json_add_int (builder, "frames_total", kiln_render_job_get_frames_total (job));
      print_json_event (self, builder);
    }
  else
    {
      g_autofree char *text = NULL;

      /* TRANSLATORS: a frame's number, then the file it was written to */
      text = g_strdup_printf (_("Frame %d → %s (%u of %u)"), frame, display,
                              kiln_render_job_get_frames_done (job),
                              kiln_render_job_get_frames_total (job));
      kiln_node_render_print_line (self, text);
    }
  update_progress (self);
}

static void
on_job_notify (KilnRenderJob  *job,
               GParamSpec     *pspec,
               KilnNodeRender *self)
{
  /* A payment that failed: the job stays "paying" with its error. */
  if (g_str_equal (pspec->name, "error") &&
      kiln_render_job_get_state (job) == KILN_RENDER_JOB_STATE_PAYING &&
      kiln_render_job_get_error (job) != NULL)
    self->payment_failed = TRUE;

  if (g_str_equal (pspec->name, "state"))
    update_deadline (self);
  update_progress (self);
}

static void
on_peers_changed (KilnNodeRender *self)
{
  update_progress (self);
}

/* The end */

typedef struct
{
  KilnAddress provider;
  KilnUint256 amount;
  guint       n_subtasks;
  gboolean    has_tx_hash;
  guint8      tx_hash[32];
} Payee;

/* What verified work each provider is owed or was paid, in the order they first were. */
static GArray *
collect_payees (KilnNodeRender *self)
{
  g_autoptr(GPtrArray) assignments = kiln_render_job_get_assignments (self->job);
  GArray *payees = g_array_new (FALSE, TRUE, sizeof (Payee));

  for (guint i = 0; i < assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record = g_ptr_array_index (assignments, i);
      Payee *payee = NULL;

      if (record->state != KILN_ASSIGNMENT_APPROVED)
        continue;
      for (guint j = 0; j < payees->len && payee == NULL; j++)
        if (kiln_address_equal (&g_array_index (payees, Payee, j).provider, &record->provider))
          payee = &g_array_index (payees, Payee, j);
      if (payee == NULL)
        {
          g_array_set_size (payees, payees->len + 1);
          payee = &g_array_index (payees, Payee, payees->len - 1);
          payee->provider = record->provider;
        }
      if (!kiln_uint256_add (&payee->amount, &payee->amount, &record->owed))
        g_assert_not_reached ();  /* amounts below 2^128, at most 10^4 of them */
      payee->n_subtasks++;
      if (record->has_tx_hash)
        {
          payee->has_tx_hash = TRUE;
          memcpy (payee->tx_hash, record->tx_hash, sizeof payee->tx_hash);
        }
    }

  return payees;
}

static void
print_end (KilnNodeRender *self,
           const char     *error)
{
  KilnChain *chain = get_chain (self);
  guint decimals = kiln_chain_get_token_decimals (chain);
  const char *symbol = kiln_chain_get_token_symbol (chain);
  g_autoptr(GArray) payees = collect_payees (self);
  g_autofree char *output = kiln_node_display_path (kiln_render_job_get_output_dir (self->job));
  KilnRenderJobState state = kiln_render_job_get_state (self->job);
  KilnUint256 cost;

  kiln_render_job_get_cost (self->job, &cost);

  if (self->ctx->json)
    {
      g_autoptr(JsonBuilder) builder = begin_json_event ("end");

      kiln_node_json_add_string (builder, "id", kiln_render_job_get_id (self->job));
      kiln_node_json_add_string (builder, "state", kiln_render_job_state_to_string (state));
      kiln_node_json_add_string (builder, "error", error);
      kiln_node_json_add_int (builder, "frames_done", kiln_render_job_get_frames_done (self->job));
      kiln_node_json_add_int (builder, "frames_total",
                              kiln_render_job_get_frames_total (self->job));
      kiln_node_json_add_string (builder, "output_dir", output);
      kiln_node_json_add_amount (builder, "cost", &cost, decimals, symbol);
      json_builder_set_member_name (builder, "payments");
      json_builder_begin_array (builder);
      for (guint i = 0; i < payees->len; i++)
        {
          const Payee *payee = &g_array_index (payees, Payee, i);
          g_autofree char *hash = payee->has_tx_hash ? kiln_node_format_tx_hash (payee->tx_hash)
                                                     : NULL;

          json_builder_begin_object (builder);
          kiln_node_json_add_address (builder, "provider", &payee->provider);
          kiln_node_json_add_amount (builder, "amount", &payee->amount, decimals, symbol);
          kiln_node_json_add_int (builder, "subtasks", payee->n_subtasks);
          kiln_node_json_add_string (builder, "tx_hash", hash);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      print_json_event (self, builder);
      return;
    }

  clear_status (self);
  for (guint i = 0; i < payees->len; i++)
    {
      const Payee *payee = &g_array_index (payees, Payee, i);
      g_autofree char *amount = kiln_node_format_amount (&payee->amount, decimals, symbol);
      char who[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (&payee->provider, who);
      if (payee->has_tx_hash)
        {
          g_autofree char *hash = kiln_node_format_tx_hash (payee->tx_hash);

          /* TRANSLATORS: an amount, a provider's address, subtasks, a transaction hash */
          g_print (g_dngettext (GETTEXT_PACKAGE, "Paid %s to %s for %u subtask in %s\n",
                                "Paid %s to %s for %u subtasks in %s\n", payee->n_subtasks),
                   amount, who, payee->n_subtasks, hash);
        }
      else
        g_print (g_dngettext (GETTEXT_PACKAGE, "Owed %s to %s for %u subtask, not paid\n",
                              "Owed %s to %s for %u subtasks, not paid\n", payee->n_subtasks),
                 amount, who, payee->n_subtasks);
    }

  if (state == KILN_RENDER_JOB_STATE_DONE)
    {
      g_autofree char *total = kiln_node_format_amount (&cost, decimals, symbol);

      /* TRANSLATORS: frames, the output folder, what the job cost */
      g_print (g_dngettext (GETTEXT_PACKAGE, "Done: %u frame in %s, for %s\n",
                            "Done: %u frames in %s, for %s\n",
                            kiln_render_job_get_frames_total (self->job)),
               kiln_render_job_get_frames_total (self->job), output, total);
    }
  fflush (stdout);
}

static gboolean
has_ended (KilnNodeRender *self)
{
  return kiln_render_job_state_is_final (kiln_render_job_get_state (self->job)) ||
         self->n_signals > 1 || self->payment_failed || self->cancel_error != NULL;
}

/* Why the command did not succeed, in one line; NULL when it did. */
static char *
describe_failure (KilnNodeRender *self)
{
  KilnRenderJobState state = kiln_render_job_get_state (self->job);
  guint done = kiln_render_job_get_frames_done (self->job);
  guint total = kiln_render_job_get_frames_total (self->job);
  g_autofree char *output = kiln_node_display_path (kiln_render_job_get_output_dir (self->job));
  const char *job_error = kiln_render_job_get_error (self->job);

  if (state == KILN_RENDER_JOB_STATE_DONE)
    return NULL;

  if (self->cancel_error != NULL)
    return g_strdup_printf (_("could not cancel the job: %s"), self->cancel_error->message);

  if (self->payment_failed)
    return g_strdup_printf (_("every frame is in “%s”, but paying the providers failed: %s"),
                            output, job_error != NULL ? job_error : _("no reason given"));

  if (!kiln_render_job_state_is_final (state))
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "interrupted: stopped at once with %u of %u frame in "
                                         "“%s”; the job’s record stays in the data folder",
                                         "interrupted: stopped at once with %u of %u frames in "
                                         "“%s”; the job’s record stays in the data folder",
                                         total),
                            done, total, output);

  if (state == KILN_RENDER_JOB_STATE_FAILED)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "the job failed with %u of %u frame in “%s”: %s",
                                         "the job failed with %u of %u frames in “%s”: %s",
                                         total),
                            done, total, output,
                            job_error != NULL ? job_error : _("no reason given"));

  if (self->no_providers)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         /* Translators: the numbers are seconds, peers
                                          * linked, frames done and frames in all */
                                         "no provider worked on the job for %u s (peers "
                                         "linked: %u); it was cancelled with %u of %u frame in "
                                         "“%s”, and unfinished work is not paid",
                                         "no provider worked on the job for %u s (peers "
                                         "linked: %u); it was cancelled with %u of %u frames "
                                         "in “%s”, and unfinished work is not paid",
                                         total),
                            self->wait_providers, kiln_engine_get_n_connected (self->engine),
                            done, total, output);

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "interrupted: the job was cancelled with %u of %u frame "
                                       "in “%s”, and unfinished work is not paid",
                                       "interrupted: the job was cancelled with %u of %u frames "
                                       "in “%s”, and unfinished work is not paid",
                                       total),
                          done, total, output);
}

gboolean
kiln_node_render_follow (KilnNodeRender  *self,
                         GError         **error)
{
  GListModel *events = kiln_render_job_get_events (self->job);
  g_autofree char *failure = NULL;

  self->subtask_states = g_array_new (FALSE, TRUE, sizeof (KilnSubtaskState));
  g_array_set_size (self->subtask_states, kiln_render_job_get_n_subtasks (self->job));
  for (guint i = 0; i < self->subtask_states->len; i++)
    g_array_index (self->subtask_states, KilnSubtaskState, i) =
      kiln_render_job_get_subtask_state (self->job, i);

  g_signal_connect (events, "items-changed", G_CALLBACK (on_events_changed), self);
  g_signal_connect (self->job, "subtask-changed", G_CALLBACK (on_subtask_changed), self);
  g_signal_connect (self->job, "frame-ready", G_CALLBACK (on_frame_ready), self);
  g_signal_connect (self->job, "notify", G_CALLBACK (on_job_notify), self);
  g_signal_connect_swapped (self->engine, "notify::n-connected", G_CALLBACK (on_peers_changed),
                            self);

  /* The log so far, then whatever comes. */
  on_events_changed (events, 0, 0, 0, self);
  update_progress (self);
  update_deadline (self);

  /* A signal while the job was being announced. */
  if (self->interrupted)
    cancel_job (self);

  while (!has_ended (self))
    g_main_context_iteration (NULL, TRUE);

  /* What follows (links closing as the node stops) is no longer the job's progress. */
  g_clear_handle_id (&self->no_provider_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (events, self);
  g_signal_handlers_disconnect_by_data (self->job, self);
  g_signal_handlers_disconnect_by_data (self->engine, self);

  failure = describe_failure (self);
  print_end (self, failure);
  if (failure != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, failure);
      return FALSE;
    }

  return TRUE;
}
