/* kiln-idle-monitor-private.h: shared by kiln-idle-monitor.c and its D-Bus sources
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-idle-monitor.h"

G_BEGIN_DECLS

#define MUTTER_NAME        "org.gnome.Mutter.IdleMonitor"
#define MUTTER_PATH        "/org/gnome/Mutter/IdleMonitor/Core"
#define MUTTER_IFACE       "org.gnome.Mutter.IdleMonitor"
#define SCREENSAVER_NAME   "org.freedesktop.ScreenSaver"
#define SCREENSAVER_PATH   "/org/freedesktop/ScreenSaver"
#define LOGIN1_NAME        "org.freedesktop.login1"
#define LOGIN1_PATH        "/org/freedesktop/login1"
#define UPOWER_NAME        "org.freedesktop.UPower"
#define UPOWER_PATH        "/org/freedesktop/UPower"
#define PROPERTIES_IFACE   "org.freedesktop.DBus.Properties"
#define POLL_INTERVAL_MS   500
#define CPU_INTERVAL_MS    2000
#define CALL_TIMEOUT_MS    5000

typedef struct
{
  GPid    pid;
  guint64 ticks;  /* at the last sample */
} OwnProcess;

struct _KilnIdleMonitor
{
  GObject            parent_instance;

  KilnLendingPolicy *policy;
  GDBusConnection   *session_bus;
  GDBusConnection   *system_bus;
  GCancellable      *cancellable;

  /* Input */
  KilnIdleInput      input;
  guint              mutter_watch;        /* bus name watches */
  guint              screensaver_watch;
  guint              upower_watch;
  char              *mutter_owner;
  char              *screensaver_owner;
  guint              fired_subscription;
  guint              idle_watch_id;       /* Mutter's watch ids */
  guint              active_watch_id;
  guint              poll_id;
  char              *logind_session;
  guint64            screensaver_idle_ms;

  /* Battery */
  guint              upower_subscription;

  /* CPU */
  GArray            *own;                 /* OwnProcess */
  guint              cpu_id;
  guint64            last_busy;
  guint64            last_total;
  double             other_cpu;
  double             own_cpu;

  KilnIdleReason     reason;
  char              *status;

  guint              watch_input : 1;
  guint              mutter_known : 1;
  guint              screensaver_known : 1;
  guint              logind_known : 1;
  guint              screensaver_no_idle_time : 1;
  guint              polling : 1;             /* a poll call is on its way */
  guint              active_watch_pending : 1;
  guint              user_idle : 1;
  guint              on_battery : 1;
  guint              need_session_bus : 1;
  guint              need_system_bus : 1;
};

static inline gboolean
kiln_idle_monitor_ignorable_error (GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static inline guint64
kiln_idle_monitor_idle_delay_ms (KilnIdleMonitor *self)
{
  return MAX ((guint64) kiln_lending_policy_get_idle_delay_minutes (self->policy) * 60000, 1000);
}

/* kiln-idle-monitor.c */
void kiln_idle_monitor_update            (KilnIdleMonitor *self);
void kiln_idle_monitor_set_user_idle     (KilnIdleMonitor *self,
                                          gboolean         idle);
void kiln_idle_monitor_set_on_battery    (KilnIdleMonitor *self,
                                          gboolean         on_battery);
void kiln_idle_monitor_notify_input      (KilnIdleMonitor *self);

/* kiln-idle-monitor-sources.c */
void kiln_idle_monitor_watch_sources     (KilnIdleMonitor *self);
void kiln_idle_monitor_unwatch_sources   (KilnIdleMonitor *self);
void kiln_idle_monitor_restart_input     (KilnIdleMonitor *self);

G_END_DECLS
