/* kiln-idle-monitor.c: whether the computer is idle enough to lend
 *
 * The decision, CPU sampling and the object; the D-Bus sources of user input and
 * battery state are in kiln-idle-monitor-sources.c. CPU: /proc/stat every 2 s, less
 * the ticks of our own sandboxed process trees.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>

#include <glib/gi18n-lib.h>

#include "kiln-idle-monitor-private.h"
#include "kiln-provider-private.h"

enum {
  PROP_0,
  PROP_POLICY,
  PROP_SESSION_BUS,
  PROP_SYSTEM_BUS,
  PROP_WATCH_INPUT,
  PROP_IDLE,
  PROP_REASON,
  PROP_STATUS,
  PROP_INPUT_SOURCE,
  PROP_ON_BATTERY,
  PROP_OTHER_CPU_PERCENT,
  PROP_OWN_CPU_PERCENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_ENUM_TYPE (KilnIdleReason, kiln_idle_reason,
  G_DEFINE_ENUM_VALUE (KILN_IDLE_REASON_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (KILN_IDLE_REASON_USER_ACTIVE, "user-active"),
  G_DEFINE_ENUM_VALUE (KILN_IDLE_REASON_ON_BATTERY, "on-battery"),
  G_DEFINE_ENUM_VALUE (KILN_IDLE_REASON_CPU_BUSY, "cpu-busy"),
  G_DEFINE_ENUM_VALUE (KILN_IDLE_REASON_OUTSIDE_SCHEDULE, "outside-schedule"))

G_DEFINE_ENUM_TYPE (KilnIdleInput, kiln_idle_input,
  G_DEFINE_ENUM_VALUE (KILN_IDLE_INPUT_UNKNOWN, "unknown"),
  G_DEFINE_ENUM_VALUE (KILN_IDLE_INPUT_NONE, "none"),
  G_DEFINE_ENUM_VALUE (KILN_IDLE_INPUT_MUTTER, "mutter"),
  G_DEFINE_ENUM_VALUE (KILN_IDLE_INPUT_SCREENSAVER, "screensaver"),
  G_DEFINE_ENUM_VALUE (KILN_IDLE_INPUT_LOGIND, "logind"))

G_DEFINE_FINAL_TYPE (KilnIdleMonitor, kiln_idle_monitor, G_TYPE_OBJECT)


/* The decision ---------------------------------------------------------------------------- */

char *
kiln_idle_reason_to_string (KilnIdleReason reason,
                            double         cpu_percent)
{
  switch (reason)
    {
    case KILN_IDLE_REASON_USER_ACTIVE:
      return g_strdup (_("You are using the computer"));
    case KILN_IDLE_REASON_ON_BATTERY:
      return g_strdup (_("On battery"));
    case KILN_IDLE_REASON_CPU_BUSY:
      /* Translators: the share of all processors other programs use, "63 %" */
      return g_strdup_printf (_("Other programs are busy (CPU %.0f %%)"), cpu_percent);
    case KILN_IDLE_REASON_OUTSIDE_SCHEDULE:
      return g_strdup (_("Outside the lending schedule"));
    case KILN_IDLE_REASON_IDLE:
    default:
      return g_strdup (_("Idle"));
    }
}

void
kiln_idle_monitor_update (KilnIdleMonitor *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *status = NULL;
  KilnIdleReason reason;
  guint threshold = kiln_lending_policy_get_cpu_threshold_percent (self->policy);
  gboolean was_idle = self->reason == KILN_IDLE_REASON_IDLE;

  if (self->watch_input && !self->user_idle)
    reason = KILN_IDLE_REASON_USER_ACTIVE;
  else if (self->on_battery && !kiln_lending_policy_get_lend_on_battery (self->policy))
    reason = KILN_IDLE_REASON_ON_BATTERY;
  else if (threshold < 100 && self->other_cpu > threshold)
    reason = KILN_IDLE_REASON_CPU_BUSY;
  else if (!kiln_lending_policy_in_schedule (self->policy, now))
    reason = KILN_IDLE_REASON_OUTSIDE_SCHEDULE;
  else
    reason = KILN_IDLE_REASON_IDLE;

  status = kiln_idle_reason_to_string (reason, self->other_cpu);
  g_object_freeze_notify (G_OBJECT (self));
  if (reason != self->reason)
    {
      self->reason = reason;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REASON]);
    }
  if (g_strcmp0 (status, self->status) != 0)
    {
      g_free (self->status);
      self->status = g_steal_pointer (&status);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }
  if (was_idle != (reason == KILN_IDLE_REASON_IDLE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE]);
  g_object_thaw_notify (G_OBJECT (self));
}

void
kiln_idle_monitor_set_user_idle (KilnIdleMonitor *self,
               gboolean         idle)
{
  self->user_idle = !!idle;
  kiln_idle_monitor_update (self);
}

void
kiln_idle_monitor_set_on_battery (KilnIdleMonitor *self,
                gboolean         on_battery)
{
  if (self->on_battery == (guint) !!on_battery)
    return;
  self->on_battery = !!on_battery;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ON_BATTERY]);
  kiln_idle_monitor_update (self);
}

void
kiln_idle_monitor_notify_input (KilnIdleMonitor *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INPUT_SOURCE]);
}

/* CPU ------------------------------------------------------------------------------------- */

static gboolean
read_cpu_totals (guint64 *busy,
                 guint64 *total)
{
  g_autofree char *contents = NULL;
  guint64 v[8] = { 0, };

  if (!g_file_get_contents ("/proc/stat", &contents, NULL, NULL) ||
      sscanf (contents, "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
              &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
    return FALSE;
  *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  *busy = *total - v[3] - v[4];
  return TRUE;
}

static gboolean
on_cpu_sample (gpointer user_data)
{
  KilnIdleMonitor *self = user_data;
  guint64 busy, total, own = 0;

  if (!read_cpu_totals (&busy, &total))
    return G_SOURCE_CONTINUE;

  for (guint i = 0; i < self->own->len; i++)
    {
      OwnProcess *process = &g_array_index (self->own, OwnProcess, i);
      guint64 ticks = kiln_process_tree_cpu_ticks (process->pid);

      /* A process leaving the tree takes its ticks along: never count backwards. */
      if (ticks > process->ticks)
        own += ticks - process->ticks;
      process->ticks = ticks;
    }

  if (total > self->last_total && self->last_total != 0)
    {
      double span = (double) (total - self->last_total);
      double busy_delta = busy >= self->last_busy ? (double) (busy - self->last_busy) : 0;
      double own_delta = MIN ((double) own, busy_delta);

      self->own_cpu = 100.0 * own_delta / span;
      self->other_cpu = 100.0 * (busy_delta - own_delta) / span;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OTHER_CPU_PERCENT]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OWN_CPU_PERCENT]);
    }
  self->last_busy = busy;
  self->last_total = total;
  /* The schedule is checked here too, so its edges are seen within 2 s. */
  kiln_idle_monitor_update (self);
  return G_SOURCE_CONTINUE;
}

void
kiln_idle_monitor_add_own_process (KilnIdleMonitor *self,
                                   GPid             pid)
{
  OwnProcess process = { pid, 0 };

  g_return_if_fail (KILN_IS_IDLE_MONITOR (self));
  g_return_if_fail (pid > 0);

  for (guint i = 0; i < self->own->len; i++)
    if (g_array_index (self->own, OwnProcess, i).pid == pid)
      return;
  /* Only what it uses from now on counts. */
  process.ticks = kiln_process_tree_cpu_ticks (pid);
  g_array_append_val (self->own, process);
}

void
kiln_idle_monitor_remove_own_process (KilnIdleMonitor *self,
                                      GPid             pid)
{
  g_return_if_fail (KILN_IS_IDLE_MONITOR (self));

  for (guint i = 0; i < self->own->len; i++)
    if (g_array_index (self->own, OwnProcess, i).pid == pid)
      {
        g_array_remove_index_fast (self->own, i);
        return;
      }
}

/* Start-up -------------------------------------------------------------------------------- */

static void
on_policy_changed (KilnIdleMonitor *self,
                   GParamSpec      *pspec)
{
  if (g_str_equal (pspec->name, "idle-delay-minutes"))
    {
      kiln_idle_monitor_restart_input (self);
    }
  kiln_idle_monitor_update (self);
}

static void
start (KilnIdleMonitor *self)
{
  kiln_idle_monitor_watch_sources (self);

  g_signal_connect_object (self->policy, "notify", G_CALLBACK (on_policy_changed), self,
                           G_CONNECT_SWAPPED);
  self->cpu_id = g_timeout_add (CPU_INTERVAL_MS, on_cpu_sample, self);
  on_cpu_sample (self);
}

static void fetch_buses (KilnIdleMonitor *self);

static void
bus_ready (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection = g_bus_get_finish (result, &error);
  KilnIdleMonitor *self = user_data;

  if (connection == NULL && kiln_idle_monitor_ignorable_error (error))
    return;
  if (connection == NULL)
    g_debug ("Going on without a bus: %s", error->message);

  if (self->need_session_bus)
    {
      self->need_session_bus = FALSE;
      self->session_bus = connection;
    }
  else
    {
      self->need_system_bus = FALSE;
      self->system_bus = connection;
    }
  fetch_buses (self);
}

/* The real buses unless given; then start. */
static void
fetch_buses (KilnIdleMonitor *self)
{
  if (self->need_session_bus)
    g_bus_get (G_BUS_TYPE_SESSION, self->cancellable, bus_ready, self);
  else if (self->need_system_bus)
    g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, bus_ready, self);
  else
    start (self);
}

/* GObject --------------------------------------------------------------------------------- */

static void
kiln_idle_monitor_constructed (GObject *object)
{
  KilnIdleMonitor *self = KILN_IDLE_MONITOR (object);

  G_OBJECT_CLASS (kiln_idle_monitor_parent_class)->constructed (object);

  g_assert (self->policy != NULL);
  self->need_session_bus = self->watch_input && self->session_bus == NULL;
  self->need_system_bus = self->system_bus == NULL;
  self->status = kiln_idle_reason_to_string (self->reason, 0);
  fetch_buses (self);
}

static void
kiln_idle_monitor_dispose (GObject *object)
{
  KilnIdleMonitor *self = KILN_IDLE_MONITOR (object);

  g_cancellable_cancel (self->cancellable);
  kiln_idle_monitor_unwatch_sources (self);
  g_clear_handle_id (&self->cpu_id, g_source_remove);
  g_clear_object (&self->session_bus);
  g_clear_object (&self->system_bus);
  g_clear_object (&self->policy);

  G_OBJECT_CLASS (kiln_idle_monitor_parent_class)->dispose (object);
}

static void
kiln_idle_monitor_finalize (GObject *object)
{
  KilnIdleMonitor *self = KILN_IDLE_MONITOR (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->own, g_array_unref);
  g_free (self->mutter_owner);
  g_free (self->screensaver_owner);
  g_free (self->logind_session);
  g_free (self->status);

  G_OBJECT_CLASS (kiln_idle_monitor_parent_class)->finalize (object);
}

static void
kiln_idle_monitor_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  KilnIdleMonitor *self = KILN_IDLE_MONITOR (object);

  switch (prop_id)
    {
    case PROP_POLICY:
      g_value_set_object (value, self->policy);
      break;
    case PROP_SESSION_BUS:
      g_value_set_object (value, self->session_bus);
      break;
    case PROP_SYSTEM_BUS:
      g_value_set_object (value, self->system_bus);
      break;
    case PROP_WATCH_INPUT:
      g_value_set_boolean (value, self->watch_input);
      break;
    case PROP_IDLE:
      g_value_set_boolean (value, self->reason == KILN_IDLE_REASON_IDLE);
      break;
    case PROP_REASON:
      g_value_set_enum (value, self->reason);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    case PROP_INPUT_SOURCE:
      g_value_set_enum (value, self->input);
      break;
    case PROP_ON_BATTERY:
      g_value_set_boolean (value, self->on_battery);
      break;
    case PROP_OTHER_CPU_PERCENT:
      g_value_set_double (value, self->other_cpu);
      break;
    case PROP_OWN_CPU_PERCENT:
      g_value_set_double (value, self->own_cpu);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_idle_monitor_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  KilnIdleMonitor *self = KILN_IDLE_MONITOR (object);

  switch (prop_id)
    {
    case PROP_POLICY:
      self->policy = g_value_dup_object (value);
      break;
    case PROP_SESSION_BUS:
      self->session_bus = g_value_dup_object (value);
      break;
    case PROP_SYSTEM_BUS:
      self->system_bus = g_value_dup_object (value);
      break;
    case PROP_WATCH_INPUT:
      self->watch_input = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_idle_monitor_class_init (KilnIdleMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                G_PARAM_STATIC_STRINGS;
  const GParamFlags readable = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                               G_PARAM_STATIC_STRINGS;

  object_class->constructed = kiln_idle_monitor_constructed;
  object_class->dispose = kiln_idle_monitor_dispose;
  object_class->finalize = kiln_idle_monitor_finalize;
  object_class->get_property = kiln_idle_monitor_get_property;
  object_class->set_property = kiln_idle_monitor_set_property;

  properties[PROP_POLICY] =
    g_param_spec_object ("policy", NULL, NULL, KILN_TYPE_LENDING_POLICY, construct);
  properties[PROP_SESSION_BUS] =
    g_param_spec_object ("session-bus", NULL, NULL, G_TYPE_DBUS_CONNECTION, construct);
  properties[PROP_SYSTEM_BUS] =
    g_param_spec_object ("system-bus", NULL, NULL, G_TYPE_DBUS_CONNECTION, construct);
  properties[PROP_WATCH_INPUT] =
    g_param_spec_boolean ("watch-input", NULL, NULL, TRUE, construct);
  properties[PROP_IDLE] = g_param_spec_boolean ("idle", NULL, NULL, FALSE, readable);
  properties[PROP_REASON] =
    g_param_spec_enum ("reason", NULL, NULL, KILN_TYPE_IDLE_REASON,
                       KILN_IDLE_REASON_USER_ACTIVE, readable);
  properties[PROP_STATUS] = g_param_spec_string ("status", NULL, NULL, NULL, readable);
  properties[PROP_INPUT_SOURCE] =
    g_param_spec_enum ("input-source", NULL, NULL, KILN_TYPE_IDLE_INPUT,
                       KILN_IDLE_INPUT_UNKNOWN, readable);
  properties[PROP_ON_BATTERY] = g_param_spec_boolean ("on-battery", NULL, NULL, FALSE,
                                                      readable);
  properties[PROP_OTHER_CPU_PERCENT] =
    g_param_spec_double ("other-cpu-percent", NULL, NULL, 0, 100, 0, readable);
  properties[PROP_OWN_CPU_PERCENT] =
    g_param_spec_double ("own-cpu-percent", NULL, NULL, 0, 100, 0, readable);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_idle_monitor_init (KilnIdleMonitor *self)
{
  self->cancellable = g_cancellable_new ();
  self->own = g_array_new (FALSE, FALSE, sizeof (OwnProcess));
  self->reason = KILN_IDLE_REASON_USER_ACTIVE;
  self->watch_input = TRUE;
}

KilnIdleMonitor *
kiln_idle_monitor_new (KilnLendingPolicy *policy)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (policy), NULL);
  return g_object_new (KILN_TYPE_IDLE_MONITOR, "policy", policy, NULL);
}

KilnIdleMonitor *
kiln_idle_monitor_new_headless (KilnLendingPolicy *policy)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (policy), NULL);
  return g_object_new (KILN_TYPE_IDLE_MONITOR, "policy", policy, "watch-input", FALSE, NULL);
}

KilnLendingPolicy *
kiln_idle_monitor_get_policy (KilnIdleMonitor *self)
{
  g_return_val_if_fail (KILN_IS_IDLE_MONITOR (self), NULL);
  return self->policy;
}

gboolean
kiln_idle_monitor_get_idle (KilnIdleMonitor *self)
{
  g_return_val_if_fail (KILN_IS_IDLE_MONITOR (self), FALSE);
  return self->reason == KILN_IDLE_REASON_IDLE;
}

KilnIdleReason
kiln_idle_monitor_get_reason (KilnIdleMonitor *self)
{
  g_return_val_if_fail (KILN_IS_IDLE_MONITOR (self), KILN_IDLE_REASON_USER_ACTIVE);
  return self->reason;
}

const char *
kiln_idle_monitor_get_status (KilnIdleMonitor *self)
{
  g_return_val_if_fail (KILN_IS_IDLE_MONITOR (self), NULL);
  return self->status;
}

KilnIdleInput
kiln_idle_monitor_get_input_source (KilnIdleMonitor *self)
{
  g_return_val_if_fail (KILN_IS_IDLE_MONITOR (self), KILN_IDLE_INPUT_UNKNOWN);
  return self->input;
}

gboolean
kiln_idle_monitor_get_on_battery (KilnIdleMonitor *self)
{
  g_return_val_if_fail (KILN_IS_IDLE_MONITOR (self), FALSE);
  return self->on_battery;
}

double
kiln_idle_monitor_get_other_cpu_percent (KilnIdleMonitor *self)
{
  g_return_val_if_fail (KILN_IS_IDLE_MONITOR (self), 0);
  return self->other_cpu;
}

double
kiln_idle_monitor_get_own_cpu_percent (KilnIdleMonitor *self)
{
  g_return_val_if_fail (KILN_IS_IDLE_MONITOR (self), 0);
  return self->own_cpu;
}
