/* kiln-idle-monitor-sources.c: user input and battery state over D-Bus
 *
 * User input: Mutter's IdleMonitor when its name is owned (an idle watch at the
 * idle delay, then a user-active watch that fires on the next input), else
 * org.freedesktop.ScreenSaver's GetSessionIdleTime (milliseconds, as KDE answers)
 * or GetActive, else logind's IdleHint for our session: the fallbacks are polled
 * twice a second. Battery: UPower's OnBattery and its PropertiesChanged.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <unistd.h>

#include "kiln-idle-monitor-private.h"

static void choose_input (KilnIdleMonitor *self);
static void mutter_add_active_watch (KilnIdleMonitor *self);

/* Mutter ---------------------------------------------------------------------------------- */

static void
mutter_call (KilnIdleMonitor     *self,
             const char          *method,
             GVariant            *parameters,
             const GVariantType  *reply_type,
             GAsyncReadyCallback  callback)
{
  g_dbus_connection_call (self->session_bus, self->mutter_owner, MUTTER_PATH, MUTTER_IFACE,
                          method, parameters, reply_type, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          CALL_TIMEOUT_MS, self->cancellable, callback, self);
}

static void
mutter_idletime_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  KilnIdleMonitor *self = user_data;
  guint64 idletime;

  if (reply == NULL)
    {
      if (!kiln_idle_monitor_ignorable_error (error))
        g_debug ("Mutter did not tell the idle time: %s", error->message);
      return;
    }
  if (self->input != KILN_IDLE_INPUT_MUTTER)
    return;
  g_variant_get (reply, "(t)", &idletime);
  kiln_idle_monitor_set_user_idle (self, idletime >= kiln_idle_monitor_idle_delay_ms (self));
  /* Idle already (at start, or after a new delay): watch for the next input. */
  if (self->user_idle && self->active_watch_id == 0 && !self->active_watch_pending)
    mutter_add_active_watch (self);
}

static void
mutter_add_active_done (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  KilnIdleMonitor *self = user_data;

  if (reply == NULL && kiln_idle_monitor_ignorable_error (error))
    return;
  self->active_watch_pending = FALSE;
  if (reply == NULL)
    {
      g_debug ("Mutter did not add a user-active watch: %s", error->message);
      return;
    }
  if (self->input != KILN_IDLE_INPUT_MUTTER)
    return;
  g_variant_get (reply, "(u)", &self->active_watch_id);
  /* Input between the idle watch firing and now would otherwise go unnoticed. */
  mutter_call (self, "GetIdletime", NULL, G_VARIANT_TYPE ("(t)"), mutter_idletime_done);
}

static void
mutter_add_idle_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  KilnIdleMonitor *self = user_data;

  if (reply == NULL)
    {
      if (!kiln_idle_monitor_ignorable_error (error))
        g_debug ("Mutter did not add an idle watch: %s", error->message);
      return;
    }
  if (self->input != KILN_IDLE_INPUT_MUTTER)
    return;
  g_variant_get (reply, "(u)", &self->idle_watch_id);
  mutter_call (self, "GetIdletime", NULL, G_VARIANT_TYPE ("(t)"), mutter_idletime_done);
}

static void
mutter_add_active_watch (KilnIdleMonitor *self)
{
  self->active_watch_pending = TRUE;
  mutter_call (self, "AddUserActiveWatch", NULL, G_VARIANT_TYPE ("(u)"),
               mutter_add_active_done);
}

static void
on_watch_fired (GDBusConnection *connection,
                const char      *sender,
                const char      *path,
                const char      *interface,
                const char      *signal,
                GVariant        *parameters,
                gpointer         user_data)
{
  KilnIdleMonitor *self = user_data;
  guint id;

  if (self->input != KILN_IDLE_INPUT_MUTTER || g_strcmp0 (sender, self->mutter_owner) != 0 ||
      !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(u)")))
    return;
  g_variant_get (parameters, "(u)", &id);

  if (id != 0 && id == self->active_watch_id)
    {
      /* User-active watches fire once and are gone. */
      self->active_watch_id = 0;
      kiln_idle_monitor_set_user_idle (self, FALSE);
    }
  else if (id != 0 && id == self->idle_watch_id)
    {
      kiln_idle_monitor_set_user_idle (self, TRUE);
      if (self->active_watch_id == 0 && !self->active_watch_pending)
        mutter_add_active_watch (self);
    }
}

static void
mutter_remove_watches (KilnIdleMonitor *self)
{
  guint ids[] = { self->idle_watch_id, self->active_watch_id };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    if (ids[i] != 0 && self->mutter_owner != NULL)
      g_dbus_connection_call (self->session_bus, self->mutter_owner, MUTTER_PATH,
                              MUTTER_IFACE, "RemoveWatch", g_variant_new ("(u)", ids[i]),
                              NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS,
                              NULL, NULL, NULL);
  self->idle_watch_id = 0;
  self->active_watch_id = 0;
  self->active_watch_pending = FALSE;
}

static void
mutter_start (KilnIdleMonitor *self)
{
  mutter_call (self, "AddIdleWatch", g_variant_new ("(t)", kiln_idle_monitor_idle_delay_ms (self)),
               G_VARIANT_TYPE ("(u)"), mutter_add_idle_done);
}

/* Polled fallbacks ------------------------------------------------------------------------ */

static void
poll_reply (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  KilnIdleMonitor *self = user_data;

  if (reply == NULL && kiln_idle_monitor_ignorable_error (error))
    return;
  self->polling = FALSE;

  if (self->input == KILN_IDLE_INPUT_SCREENSAVER)
    {
      if (reply == NULL && !self->screensaver_no_idle_time)
        {
          /* KDE on Wayland answers NotSupported: use the locked state instead. */
          g_debug ("ScreenSaver has no idle time: %s", error->message);
          self->screensaver_no_idle_time = TRUE;
        }
      else if (reply != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(u)")))
        {
          guint32 idle_ms;

          g_variant_get (reply, "(u)", &idle_ms);
          kiln_idle_monitor_set_user_idle (self, idle_ms >= kiln_idle_monitor_idle_delay_ms (self));
        }
      else if (reply != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(b)")))
        {
          gboolean active;

          g_variant_get (reply, "(b)", &active);
          kiln_idle_monitor_set_user_idle (self, active);
        }
    }
  else if (self->input == KILN_IDLE_INPUT_LOGIND && reply != NULL)
    {
      g_autoptr(GVariant) value = NULL;
      gboolean hint = FALSE;
      guint64 since = 0;

      g_variant_get (reply, "(@a{sv})", &value);
      g_variant_lookup (value, "IdleHint", "b", &hint);
      g_variant_lookup (value, "IdleSinceHintMonotonic", "t", &since);
      kiln_idle_monitor_set_user_idle (self, hint && (guint64) g_get_monotonic_time () >=
                                   since + kiln_idle_monitor_idle_delay_ms (self) * 1000);
    }
}

static gboolean
on_poll (gpointer user_data)
{
  KilnIdleMonitor *self = user_data;

  if (self->polling)
    return G_SOURCE_CONTINUE;
  self->polling = TRUE;

  if (self->input == KILN_IDLE_INPUT_SCREENSAVER)
    g_dbus_connection_call (self->session_bus, self->screensaver_owner, SCREENSAVER_PATH,
                            SCREENSAVER_NAME,
                            self->screensaver_no_idle_time ? "GetActive" : "GetSessionIdleTime",
                            NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS,
                            self->cancellable, poll_reply, self);
  else if (self->input == KILN_IDLE_INPUT_LOGIND)
    g_dbus_connection_call (self->system_bus, LOGIN1_NAME, self->logind_session,
                            PROPERTIES_IFACE, "GetAll",
                            g_variant_new ("(s)", "org.freedesktop.login1.Session"),
                            G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                            CALL_TIMEOUT_MS, self->cancellable, poll_reply, self);
  else
    self->polling = FALSE;
  return G_SOURCE_CONTINUE;
}

static void
logind_session_done (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  KilnIdleMonitor *self = user_data;

  if (reply == NULL && kiln_idle_monitor_ignorable_error (error))
    return;
  if (reply != NULL)
    g_variant_get (reply, "(o)", &self->logind_session);
  else
    g_debug ("Not in a logind session: %s", error->message);
  self->logind_known = TRUE;
  choose_input (self);
}

/* Input source ---------------------------------------------------------------------------- */

static void
set_input (KilnIdleMonitor *self,
           KilnIdleInput    input)
{
  if (self->input == input)
    return;

  if (self->input == KILN_IDLE_INPUT_MUTTER)
    mutter_remove_watches (self);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  self->polling = FALSE;
  self->input = input;
  kiln_idle_monitor_notify_input (self);

  switch (input)
    {
    case KILN_IDLE_INPUT_MUTTER:
      mutter_start (self);
      break;
    case KILN_IDLE_INPUT_SCREENSAVER:
    case KILN_IDLE_INPUT_LOGIND:
      self->poll_id = g_timeout_add (POLL_INTERVAL_MS, on_poll, self);
      on_poll (self);
      break;
    case KILN_IDLE_INPUT_NONE:
      kiln_idle_monitor_set_user_idle (self, TRUE);
      break;
    case KILN_IDLE_INPUT_UNKNOWN:
    default:
      break;
    }
}

static void
choose_input (KilnIdleMonitor *self)
{
  if (!self->watch_input)
    set_input (self, KILN_IDLE_INPUT_NONE);
  else if (self->mutter_owner != NULL)
    set_input (self, KILN_IDLE_INPUT_MUTTER);
  else if (!self->mutter_known)
    return;
  else if (self->screensaver_owner != NULL)
    set_input (self, KILN_IDLE_INPUT_SCREENSAVER);
  else if (!self->screensaver_known)
    return;
  else if (self->system_bus != NULL && !self->logind_known)
    return;
  else if (self->logind_session != NULL)
    set_input (self, KILN_IDLE_INPUT_LOGIND);
  else
    set_input (self, KILN_IDLE_INPUT_NONE);
}

static void
on_name_appeared (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  KilnIdleMonitor *self = user_data;

  if (g_str_equal (name, MUTTER_NAME))
    {
      /* A restarted Mutter has forgotten our watches. */
      if (self->input == KILN_IDLE_INPUT_MUTTER)
        set_input (self, KILN_IDLE_INPUT_UNKNOWN);
      self->idle_watch_id = self->active_watch_id = 0;
      self->active_watch_pending = FALSE;
      g_free (self->mutter_owner);
      self->mutter_owner = g_strdup (owner);
      self->mutter_known = TRUE;
    }
  else
    {
      g_free (self->screensaver_owner);
      self->screensaver_owner = g_strdup (owner);
      self->screensaver_known = TRUE;
      self->screensaver_no_idle_time = FALSE;
    }
  choose_input (self);
}

static void
on_name_vanished (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  KilnIdleMonitor *self = user_data;

  if (g_str_equal (name, MUTTER_NAME))
    {
      self->idle_watch_id = self->active_watch_id = 0;
      self->active_watch_pending = FALSE;
      g_clear_pointer (&self->mutter_owner, g_free);
      self->mutter_known = TRUE;
      if (self->input == KILN_IDLE_INPUT_MUTTER)
        set_input (self, KILN_IDLE_INPUT_UNKNOWN);
    }
  else
    {
      g_clear_pointer (&self->screensaver_owner, g_free);
      self->screensaver_known = TRUE;
      if (self->input == KILN_IDLE_INPUT_SCREENSAVER)
        set_input (self, KILN_IDLE_INPUT_UNKNOWN);
    }
  choose_input (self);
}

/* Battery --------------------------------------------------------------------------------- */

static void
upower_get_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  g_autoptr(GVariant) value = NULL;

  if (reply == NULL)
    {
      if (!kiln_idle_monitor_ignorable_error (error))
        g_debug ("UPower did not tell the power source: %s", error->message);
      return;
    }
  g_variant_get (reply, "(v)", &value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    kiln_idle_monitor_set_on_battery (user_data, g_variant_get_boolean (value));
}

static void
on_upower_changed (GDBusConnection *connection,
                   const char      *sender,
                   const char      *path,
                   const char      *interface,
                   const char      *signal,
                   GVariant        *parameters,
                   gpointer         user_data)
{
  g_autoptr(GVariant) changed = NULL;
  gboolean on_battery;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  g_variant_get (parameters, "(&s@a{sv}^a&s)", NULL, &changed, NULL);
  if (g_variant_lookup (changed, "OnBattery", "b", &on_battery))
    kiln_idle_monitor_set_on_battery (user_data, on_battery);
}

static void
on_upower_appeared (GDBusConnection *connection,
                    const char      *name,
                    const char      *owner,
                    gpointer         user_data)
{
  KilnIdleMonitor *self = user_data;

  if (self->upower_subscription != 0)
    g_dbus_connection_signal_unsubscribe (connection, self->upower_subscription);
  self->upower_subscription =
    g_dbus_connection_signal_subscribe (connection, owner, PROPERTIES_IFACE,
                                        "PropertiesChanged", UPOWER_PATH, UPOWER_NAME,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_upower_changed, self, NULL);
  g_dbus_connection_call (connection, owner, UPOWER_PATH, PROPERTIES_IFACE, "Get",
                          g_variant_new ("(ss)", UPOWER_NAME, "OnBattery"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          CALL_TIMEOUT_MS, self->cancellable, upower_get_done, self);
}

static void
on_upower_vanished (GDBusConnection *connection,
                    const char      *name,
                    gpointer         user_data)
{
  KilnIdleMonitor *self = user_data;

  if (self->upower_subscription != 0 && connection != NULL)
    g_dbus_connection_signal_unsubscribe (connection, self->upower_subscription);
  self->upower_subscription = 0;
  /* No UPower, no battery to run down (servers). */
  kiln_idle_monitor_set_on_battery (self, FALSE);
}

/* Watching ---------------------------------------------------------------------------------- */

void
kiln_idle_monitor_watch_sources (KilnIdleMonitor *self)
{
  const GBusNameWatcherFlags flags = G_BUS_NAME_WATCHER_FLAGS_NONE;

  if (self->watch_input && self->session_bus != NULL)
    {
      self->fired_subscription =
        g_dbus_connection_signal_subscribe (self->session_bus, NULL, MUTTER_IFACE,
                                            "WatchFired", MUTTER_PATH, NULL,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_watch_fired,
                                            self, NULL);
      self->mutter_watch =
        g_bus_watch_name_on_connection (self->session_bus, MUTTER_NAME, flags,
                                        on_name_appeared, on_name_vanished, self, NULL);
      self->screensaver_watch =
        g_bus_watch_name_on_connection (self->session_bus, SCREENSAVER_NAME, flags,
                                        on_name_appeared, on_name_vanished, self, NULL);
    }
  else
    {
      self->mutter_known = self->screensaver_known = TRUE;
    }

  if (self->system_bus != NULL)
    {
      self->upower_watch =
        g_bus_watch_name_on_connection (self->system_bus, UPOWER_NAME, flags,
                                        on_upower_appeared, on_upower_vanished, self, NULL);
      if (self->watch_input)
        g_dbus_connection_call (self->system_bus, LOGIN1_NAME, LOGIN1_PATH,
                                "org.freedesktop.login1.Manager", "GetSessionByPID",
                                g_variant_new ("(u)", (guint32) getpid ()),
                                G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE,
                                CALL_TIMEOUT_MS, self->cancellable, logind_session_done, self);
    }
  choose_input (self);
}

void
kiln_idle_monitor_unwatch_sources (KilnIdleMonitor *self)
{
  if (self->input == KILN_IDLE_INPUT_MUTTER)
    mutter_remove_watches (self);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_handle_id (&self->mutter_watch, g_bus_unwatch_name);
  g_clear_handle_id (&self->screensaver_watch, g_bus_unwatch_name);
  g_clear_handle_id (&self->upower_watch, g_bus_unwatch_name);
  if (self->fired_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->session_bus, self->fired_subscription);
  if (self->upower_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->system_bus, self->upower_subscription);
  self->fired_subscription = self->upower_subscription = 0;
}

void
kiln_idle_monitor_restart_input (KilnIdleMonitor *self)
{
  KilnIdleInput input = self->input;

  /* Mutter's idle watch has the delay in it: new watches for a new delay. */
  if (input == KILN_IDLE_INPUT_MUTTER)
    {
      set_input (self, KILN_IDLE_INPUT_UNKNOWN);
      set_input (self, input);
    }
}
