/* kiln-lender.c: lending this computer to the market, and saying what lending does
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is decided again in kiln_lender_sync() whenever something it depends on
 * changes: the lending switch, the computer's idleness, the session's node and wallet,
 * Blender and its benchmark. What lending does is then said in one sentence, built from the
 * provider's state and the idle monitor's reason, the setup that is missing, or the agent's
 * current subtask.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-enums.h"
#include "kiln-lender.h"
#include "kiln-util.h"

/* With lending switched off, the agent stays this long at most to hear how the requestors
 * of results it delivered approve and pay them. */
#define LINGER_SECONDS (60 * 60)

struct _KilnLender
{
  GObject            parent_instance;

  KilnProvider      *provider;
  KilnSession       *session;
  GCancellable      *cancellable;

  gboolean           was_enabled;

  /* Blender, found and measured once lending is on. */
  KilnBlender       *blender;
  GError            *blender_error;
  gboolean           discovering;
  gboolean           benchmarking;
  GError            *benchmark_error;

  /* The session's node and what works over it. */
  KilnEngine        *engine;
  KilnProviderAgent *agent;
  GError            *agent_error;
  guint              n_paid;          /* the agent's ::paid so far */
  guint              linger_id;       /* lending is off; the agent still hears payments */
  gboolean           linger_over;
  KilnEarnings      *earnings;
  GCancellable      *earnings_cancellable;
  KilnWallet        *wallet;          /* whose chain the earnings are checked on */

  KilnLenderState    state;
  char              *status;
  char              *requestor;
  double             progress;
};

enum {
  PROP_0,
  PROP_PROVIDER,
  PROP_SESSION,
  PROP_STATE,
  PROP_STATUS,
  PROP_REQUESTOR,
  PROP_PROGRESS,
  PROP_AGENT,
  PROP_EARNINGS,
  PROP_CHAIN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (KilnLender, kiln_lender, G_TYPE_OBJECT)

static void kiln_lender_sync (KilnLender *self);

char *
kiln_lender_get_work_dir (void)
{
  return g_build_filename (g_get_user_cache_dir (), "kiln", "lent-work", NULL);
}

/* --- what lending does, in words ------------------------------------------------------------ */

static char *
describe_waiting (KilnIdleMonitor *monitor)
{
  switch (kiln_idle_monitor_get_reason (monitor))
    {
    case KILN_IDLE_REASON_ON_BATTERY:
      return g_strdup (C_("lending status", "Waiting: on battery"));
    case KILN_IDLE_REASON_CPU_BUSY:
      /* Translators: the share of all processors other programs use, "63 %" */
      return g_strdup_printf (C_("lending status", "Waiting: other programs are busy "
                                 "(CPU %.0f %%)"),
                              kiln_idle_monitor_get_other_cpu_percent (monitor));
    case KILN_IDLE_REASON_OUTSIDE_SCHEDULE:
      return g_strdup (C_("lending status", "Waiting: outside the lending schedule"));
    case KILN_IDLE_REASON_USER_ACTIVE:
    case KILN_IDLE_REASON_IDLE:
    default:
      return g_strdup (C_("lending status", "Waiting: you are using the computer"));
    }
}

static char *
describe_paused (KilnIdleMonitor *monitor)
{
  switch (kiln_idle_monitor_get_reason (monitor))
    {
    case KILN_IDLE_REASON_ON_BATTERY:
      return g_strdup (C_("lending status", "Paused: on battery"));
    case KILN_IDLE_REASON_CPU_BUSY:
      /* Translators: the share of all processors other programs use, "63 %" */
      return g_strdup_printf (C_("lending status", "Paused: other programs are busy "
                                 "(CPU %.0f %%)"),
                              kiln_idle_monitor_get_other_cpu_percent (monitor));
    case KILN_IDLE_REASON_OUTSIDE_SCHEDULE:
      return g_strdup (C_("lending status", "Paused: outside the lending schedule"));
    case KILN_IDLE_REASON_USER_ACTIVE:
    case KILN_IDLE_REASON_IDLE:
    default:
      return g_strdup (C_("lending status", "Paused: you are using the computer"));
    }
}

static char *
describe_rendering (KilnProviderAgent *agent)
{
  const char *frames = kiln_provider_agent_get_current_frames (agent);
  g_autofree char *requestor = NULL;
  int first = 0, last = 0;
  gulong n_frames = 1;

  requestor = kiln_abbreviate_address (kiln_provider_agent_get_current_requestor (agent));
  if (kiln_provider_agent_get_current_frame_range (agent, &first, &last) && last > first)
    n_frames = (gulong) last - (gulong) first + 1;

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       /* Translators: what lending does now: the frame, or
                                        * a run of frames such as "1–9", then the shortened
                                        * address of the requestor, "0x2c75…5c23" */
                                       "Lending: rendering frame %s for %s",
                                       "Lending: rendering frames %s for %s", n_frames),
                          frames != NULL ? frames : "", requestor);
}

/* Idle and on: why lending cannot start yet, or what it does. */
static char *
describe_lending (KilnLender      *self,
                  KilnLenderState *state)
{
  *state = KILN_LENDER_STATE_BLOCKED;

  if (self->engine == NULL)
    {
      if (self->session == NULL || kiln_session_get_key (self->session) == NULL)
        return g_strdup (C_("lending status", "Waiting: there is no account yet"));
      return g_strdup (C_("lending status", "Waiting: not connected to the Kiln network"));
    }
  if (kiln_engine_get_state (self->engine) == KILN_ENGINE_STATE_STOPPED ||
      kiln_engine_get_state (self->engine) == KILN_ENGINE_STATE_STOPPING)
    return g_strdup (C_("lending status", "Waiting: not connected to the Kiln network"));

  if (self->blender_error != NULL)
    {
      if (g_error_matches (self->blender_error, KILN_BLENDER_ERROR,
                           KILN_BLENDER_ERROR_NOT_FOUND))
        return g_strdup (C_("lending status", "Waiting: Blender is not installed"));
      if (g_error_matches (self->blender_error, KILN_BLENDER_ERROR,
                           KILN_BLENDER_ERROR_TOO_OLD))
        return g_strdup (C_("lending status", "Waiting: Blender is too old to lend with"));
      if (g_error_matches (self->blender_error, KILN_BLENDER_ERROR,
                           KILN_BLENDER_ERROR_NO_CYCLES))
        return g_strdup (C_("lending status", "Waiting: Blender cannot render with Cycles"));
      return g_strdup (C_("lending status", "Waiting: Blender does not work on this computer"));
    }
  if (self->benchmark_error != NULL)
    return g_strdup (C_("lending status",
                        "Waiting: Kiln could not measure how fast this computer renders"));
  if (self->agent_error != NULL)
    return g_strdup (C_("lending status", "Waiting: the folder for lent work cannot be made"));

  if (self->blender == NULL)
    {
      *state = KILN_LENDER_STATE_PREPARING;
      return g_strdup (C_("lending status", "Looking for Blender…"));
    }
  if (self->agent == NULL)
    {
      *state = KILN_LENDER_STATE_PREPARING;
      return g_strdup (C_("lending status", "Measuring how fast this computer renders…"));
    }

  if (kiln_provider_agent_get_current_requestor (self->agent) != NULL)
    {
      *state = KILN_LENDER_STATE_RENDERING;
      return describe_rendering (self->agent);
    }

  *state = KILN_LENDER_STATE_READY;
  return g_strdup (C_("lending status", "Waiting for work"));
}

static void
kiln_lender_update_status (KilnLender *self)
{
  KilnIdleMonitor *monitor = kiln_provider_get_monitor (self->provider);
  const char *current = NULL;
  g_autofree char *status = NULL;
  KilnLenderState state;
  double progress = 0;

  switch (kiln_provider_get_state (self->provider))
    {
    case KILN_PROVIDER_STATE_OFF:
      state = KILN_LENDER_STATE_OFF;
      status = g_strdup (_("Lending is off"));
      break;
    case KILN_PROVIDER_STATE_PAUSED:
      state = KILN_LENDER_STATE_PAUSED;
      status = describe_paused (monitor);
      break;
    case KILN_PROVIDER_STATE_WAITING:
      state = KILN_LENDER_STATE_WAITING;
      status = describe_waiting (monitor);
      break;
    case KILN_PROVIDER_STATE_LENDING:
    default:
      status = describe_lending (self, &state);
      break;
    }

  if (self->agent != NULL && state != KILN_LENDER_STATE_OFF)
    {
      current = kiln_provider_agent_get_current_requestor (self->agent);
      if (current != NULL)
        progress = kiln_provider_agent_get_progress (self->agent);
    }

  g_object_freeze_notify (G_OBJECT (self));
  if (state != self->state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  if (g_strcmp0 (status, self->status) != 0)
    {
      g_free (self->status);
      self->status = g_steal_pointer (&status);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }
  if (g_strcmp0 (current, self->requestor) != 0)
    {
      g_free (self->requestor);
      self->requestor = g_strdup (current);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUESTOR]);
    }
  if (progress != self->progress)
    {
      self->progress = progress;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/* --- Blender ----------------------------------------------------------------------------- */

static void
kiln_lender_benchmark_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  KilnBlender *blender = KILN_BLENDER (object);
  KilnLender *self = user_data;
  g_autoptr(GError) error = NULL;
  double score;

  /* Cancelled by dispose: @self is gone. */
  score = kiln_blender_benchmark_finish (blender, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->benchmarking = FALSE;
  if (score <= 0)
    {
      g_info ("Blender’s speed could not be measured: %s",
              error != NULL ? error->message : "no score");
      if (error == NULL)
        g_set_error_literal (&error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_BENCHMARK,
                             "no score");
      self->benchmark_error = g_steal_pointer (&error);
    }
  else
    {
      g_debug ("Blender %s renders %.3g million samples per second here",
               kiln_blender_get_version (blender), score);
    }
  kiln_lender_sync (self);
}

static void
kiln_lender_discover_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  KilnLender *self = user_data;
  g_autoptr(KilnBlender) blender = NULL;
  g_autoptr(GError) error = NULL;

  /* Cancelled by dispose: @self is gone. */
  blender = kiln_blender_discover_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->discovering = FALSE;
  if (blender == NULL)
    {
      g_info ("No Blender to lend with: %s", error->message);
      self->blender_error = g_steal_pointer (&error);
    }
  else
    {
      self->blender = g_steal_pointer (&blender);
    }
  kiln_lender_sync (self);
}

/* Blender is found once lending is on and there is a node to lend through, and measured
 * while the computer is idle: the benchmark is a render too. The callbacks hold no
 * reference: dispose cancels them. */
static void
kiln_lender_sync_blender (KilnLender *self,
                          gboolean    enabled)
{
  if (!enabled || self->engine == NULL)
    return;

  if (self->blender == NULL)
    {
      if (!self->discovering && self->blender_error == NULL)
        {
          self->discovering = TRUE;
          kiln_blender_discover_async (NULL, self->cancellable, kiln_lender_discover_cb, self);
        }
      return;
    }

  if (kiln_blender_get_benchmark_score (self->blender) <= 0 && !self->benchmarking &&
      self->benchmark_error == NULL && kiln_provider_can_start_work (self->provider))
    {
      self->benchmarking = TRUE;
      kiln_blender_benchmark_async (self->blender, NULL, FALSE, self->cancellable,
                                    kiln_lender_benchmark_cb, self);
    }
}

/* --- earnings ------------------------------------------------------------------------------ */

static void
kiln_lender_earnings_loaded_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!kiln_earnings_load_finish (KILN_EARNINGS (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("The earnings could not be read from the database: %s", error->message);
}

/* Payments are checked on the chain of the session's wallet, once it is connected. */
static void
kiln_lender_sync_wallet (KilnLender *self)
{
  KilnWallet *wallet = self->session != NULL ? kiln_session_get_wallet (self->session) : NULL;
  KilnChain *chain;

  if (self->earnings == NULL || wallet == NULL || wallet == self->wallet)
    return;

  g_set_object (&self->wallet, wallet);
  chain = kiln_wallet_get_chain (wallet);
  kiln_earnings_set_chain (self->earnings, kiln_wallet_get_rpc (wallet),
                           kiln_chain_get_token (chain));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHAIN]);
}

/* --- the agent ----------------------------------------------------------------------------- */

static void
kiln_lender_drop_agent (KilnLender *self)
{
  g_clear_handle_id (&self->linger_id, g_source_remove);
  self->linger_over = FALSE;
  if (self->agent == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->agent, self);
  if (self->earnings != NULL)
    kiln_earnings_set_agent (self->earnings, NULL);
  /* Work still running is handed back to its requestors. */
  kiln_provider_agent_stop (self->agent);
  g_clear_object (&self->agent);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AGENT]);
}

static void
kiln_lender_paid_cb (KilnLender *self)
{
  self->n_paid++;
  kiln_lender_sync (self);
}

static gboolean
kiln_lender_linger_cb (gpointer user_data)
{
  KilnLender *self = user_data;

  self->linger_id = 0;
  self->linger_over = TRUE;
  kiln_lender_sync (self);
  return G_SOURCE_REMOVE;
}

/* Whether the agent waits to hear that results it delivered are paid. (A result the
 * requestor rejected is never paid: hence the time limit.) */
static gboolean
kiln_lender_is_owed (KilnLender *self)
{
  return !self->linger_over && kiln_provider_agent_get_n_done (self->agent) > self->n_paid;
}

static void
kiln_lender_make_agent (KilnLender *self)
{
  g_autoptr(KilnProviderAgent) agent = NULL;
  g_autofree char *work_dir = kiln_lender_get_work_dir ();
  g_autoptr(GError) error = NULL;

  agent = kiln_provider_agent_new (self->engine, self->provider, self->blender, work_dir);
  if (!kiln_provider_agent_start (agent, &error))
    {
      g_info ("Not lending: %s", error->message);
      self->agent_error = g_steal_pointer (&error);
      return;
    }

  self->agent = g_steal_pointer (&agent);
  self->n_paid = 0;
  g_signal_connect_object (self->agent, "paid", G_CALLBACK (kiln_lender_paid_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->agent, "notify::current-requestor",
                           G_CALLBACK (kiln_lender_update_status), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->agent, "notify::current-frames",
                           G_CALLBACK (kiln_lender_update_status), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->agent, "notify::progress",
                           G_CALLBACK (kiln_lender_update_status), self, G_CONNECT_SWAPPED);
  if (self->earnings != NULL)
    kiln_earnings_set_agent (self->earnings, self->agent);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AGENT]);
}

/* The node announces that it lends while lending is on. */
static void
kiln_lender_sync_roles (KilnLender *self,
                        gboolean    enabled)
{
  guint roles, wanted;

  if (self->engine == NULL)
    return;

  roles = kiln_engine_get_roles (self->engine);
  if (enabled && self->agent != NULL)
    wanted = roles | KILN_DHT_ROLE_PROVIDER;
  else
    wanted = roles & ~(guint) KILN_DHT_ROLE_PROVIDER;
  if (wanted != roles)
    kiln_engine_set_roles (self->engine, wanted);
}

/* --- the node ------------------------------------------------------------------------------ */

static void
kiln_lender_set_engine (KilnLender *self,
                        KilnEngine *engine)
{
  kiln_lender_drop_agent (self);
  g_clear_error (&self->agent_error);

  if (self->earnings != NULL)
    {
      g_cancellable_cancel (self->earnings_cancellable);
      g_clear_object (&self->earnings_cancellable);
      g_clear_object (&self->earnings);
      g_clear_object (&self->wallet);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EARNINGS]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHAIN]);
    }
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_set_object (&self->engine, engine);
  if (engine == NULL)
    return;

  g_signal_connect_object (engine, "notify::state", G_CALLBACK (kiln_lender_update_status),
                           self, G_CONNECT_SWAPPED);

  /* What this node earned, from its own database. */
  self->earnings = kiln_earnings_new (kiln_engine_get_store (engine),
                                      kiln_engine_get_address (engine));
  self->earnings_cancellable = g_cancellable_new ();
  kiln_earnings_load_async (self->earnings, self->earnings_cancellable,
                            kiln_lender_earnings_loaded_cb, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EARNINGS]);
}

static void
kiln_lender_sync (KilnLender *self)
{
  KilnEngine *engine = self->session != NULL ? kiln_session_get_engine (self->session) : NULL;
  gboolean enabled = kiln_lending_policy_get_enabled (kiln_provider_get_policy (self->provider));

  if (engine != self->engine)
    kiln_lender_set_engine (self, engine);
  kiln_lender_sync_wallet (self);

  /* Switching lending on tries again what failed before. */
  if (enabled && !self->was_enabled)
    {
      if (!self->discovering)
        g_clear_error (&self->blender_error);
      g_clear_error (&self->benchmark_error);
      g_clear_error (&self->agent_error);
    }
  self->was_enabled = enabled;

  kiln_lender_sync_blender (self, enabled);

  /* The agent runs while lending is on; switched off, it stays only while requestors still
   * owe it word of their approvals and payments. */
  if (enabled)
    {
      g_clear_handle_id (&self->linger_id, g_source_remove);
      self->linger_over = FALSE;
      if (self->engine != NULL && self->agent == NULL && self->agent_error == NULL &&
          self->blender != NULL && kiln_blender_get_benchmark_score (self->blender) > 0)
        kiln_lender_make_agent (self);
    }
  else if (self->agent != NULL && kiln_lender_is_owed (self))
    {
      if (self->linger_id == 0)
        self->linger_id = g_timeout_add_seconds (LINGER_SECONDS, kiln_lender_linger_cb, self);
    }
  else
    {
      kiln_lender_drop_agent (self);
    }

  kiln_lender_sync_roles (self, enabled);
  kiln_lender_update_status (self);
}

/* --- GObject ------------------------------------------------------------------------------- */

static void
kiln_lender_constructed (GObject *object)
{
  KilnLender *self = KILN_LENDER (object);

  G_OBJECT_CLASS (kiln_lender_parent_class)->constructed (object);

  g_assert (KILN_IS_PROVIDER (self->provider));

  g_signal_connect_object (self->provider, "notify::state",
                           G_CALLBACK (kiln_lender_sync), self, G_CONNECT_SWAPPED);
  /* The reason for waiting may change while the state stays. */
  g_signal_connect_object (self->provider, "notify::status",
                           G_CALLBACK (kiln_lender_update_status), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (kiln_provider_get_policy (self->provider), "notify::enabled",
                           G_CALLBACK (kiln_lender_sync), self, G_CONNECT_SWAPPED);
  if (self->session != NULL)
    {
      g_signal_connect_object (self->session, "notify::engine",
                               G_CALLBACK (kiln_lender_sync), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->session, "notify::wallet",
                               G_CALLBACK (kiln_lender_sync), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->session, "notify::key",
                               G_CALLBACK (kiln_lender_update_status), self,
                               G_CONNECT_SWAPPED);
    }

  kiln_lender_sync (self);
}

static void
kiln_lender_dispose (GObject *object)
{
  KilnLender *self = KILN_LENDER (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->linger_id, g_source_remove);
  if (self->provider != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->provider, self);
      g_signal_handlers_disconnect_by_data (kiln_provider_get_policy (self->provider), self);
    }
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  kiln_lender_set_engine (self, NULL);

  g_clear_object (&self->blender);
  g_clear_object (&self->session);
  g_clear_object (&self->provider);

  G_OBJECT_CLASS (kiln_lender_parent_class)->dispose (object);
}

static void
kiln_lender_finalize (GObject *object)
{
  KilnLender *self = KILN_LENDER (object);

  g_clear_object (&self->cancellable);
  g_clear_error (&self->blender_error);
  g_clear_error (&self->benchmark_error);
  g_clear_error (&self->agent_error);
  g_free (self->status);
  g_free (self->requestor);

  G_OBJECT_CLASS (kiln_lender_parent_class)->finalize (object);
}

static void
kiln_lender_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  KilnLender *self = KILN_LENDER (object);

  switch (prop_id)
    {
    case PROP_PROVIDER:
      g_value_set_object (value, self->provider);
      break;
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    case PROP_REQUESTOR:
      g_value_set_string (value, self->requestor);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_AGENT:
      g_value_set_object (value, self->agent);
      break;
    case PROP_EARNINGS:
      g_value_set_object (value, self->earnings);
      break;
    case PROP_CHAIN:
      g_value_set_object (value, kiln_lender_get_chain (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_lender_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  KilnLender *self = KILN_LENDER (object);

  switch (prop_id)
    {
    case PROP_PROVIDER:
      self->provider = g_value_dup_object (value);
      break;
    case PROP_SESSION:
      self->session = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_lender_class_init (KilnLenderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                G_PARAM_STATIC_STRINGS;
  const GParamFlags readable = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                               G_PARAM_STATIC_STRINGS;

  object_class->constructed = kiln_lender_constructed;
  object_class->dispose = kiln_lender_dispose;
  object_class->finalize = kiln_lender_finalize;
  object_class->get_property = kiln_lender_get_property;
  object_class->set_property = kiln_lender_set_property;

  properties[PROP_PROVIDER] =
    g_param_spec_object ("provider", NULL, NULL, KILN_TYPE_PROVIDER, construct);
  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, KILN_TYPE_SESSION, construct);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KILN_TYPE_LENDER_STATE, KILN_LENDER_STATE_OFF,
                       readable);
  properties[PROP_STATUS] = g_param_spec_string ("status", NULL, NULL, NULL, readable);
  properties[PROP_REQUESTOR] = g_param_spec_string ("requestor", NULL, NULL, NULL, readable);
  properties[PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0, 1, 0, readable);
  properties[PROP_AGENT] =
    g_param_spec_object ("agent", NULL, NULL, KILN_TYPE_PROVIDER_AGENT, readable);
  properties[PROP_EARNINGS] =
    g_param_spec_object ("earnings", NULL, NULL, KILN_TYPE_EARNINGS, readable);
  properties[PROP_CHAIN] = g_param_spec_object ("chain", NULL, NULL, KILN_TYPE_CHAIN, readable);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_lender_init (KilnLender *self)
{
  self->cancellable = g_cancellable_new ();
  self->state = KILN_LENDER_STATE_OFF;
}

KilnLender *
kiln_lender_new (KilnProvider *provider,
                 KilnSession  *session)
{
  g_return_val_if_fail (KILN_IS_PROVIDER (provider), NULL);
  g_return_val_if_fail (session == NULL || KILN_IS_SESSION (session), NULL);

  return g_object_new (KILN_TYPE_LENDER,
                       "provider", provider,
                       "session", session,
                       NULL);
}

KilnProvider *
kiln_lender_get_provider (KilnLender *self)
{
  g_return_val_if_fail (KILN_IS_LENDER (self), NULL);
  return self->provider;
}

KilnSession *
kiln_lender_get_session (KilnLender *self)
{
  g_return_val_if_fail (KILN_IS_LENDER (self), NULL);
  return self->session;
}

KilnLenderState
kiln_lender_get_state (KilnLender *self)
{
  g_return_val_if_fail (KILN_IS_LENDER (self), KILN_LENDER_STATE_OFF);
  return self->state;
}

const char *
kiln_lender_get_status (KilnLender *self)
{
  g_return_val_if_fail (KILN_IS_LENDER (self), NULL);
  return self->status;
}

const char *
kiln_lender_get_requestor (KilnLender *self)
{
  g_return_val_if_fail (KILN_IS_LENDER (self), NULL);
  return self->requestor;
}

double
kiln_lender_get_progress (KilnLender *self)
{
  g_return_val_if_fail (KILN_IS_LENDER (self), 0);
  return self->progress;
}

KilnProviderAgent *
kiln_lender_get_agent (KilnLender *self)
{
  g_return_val_if_fail (KILN_IS_LENDER (self), NULL);
  return self->agent;
}

KilnEarnings *
kiln_lender_get_earnings (KilnLender *self)
{
  g_return_val_if_fail (KILN_IS_LENDER (self), NULL);
  return self->earnings;
}

KilnChain *
kiln_lender_get_chain (KilnLender *self)
{
  g_return_val_if_fail (KILN_IS_LENDER (self), NULL);

  if (self->wallet != NULL)
    return kiln_wallet_get_chain (self->wallet);
  return self->session != NULL ? kiln_session_get_chain (self->session) : NULL;
}
