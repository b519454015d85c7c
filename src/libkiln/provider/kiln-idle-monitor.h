/* kiln-idle-monitor.h: whether the computer is idle enough to lend
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-lending-policy.h"

G_BEGIN_DECLS

/* Why the computer is, or is not, idle; the first that holds, in this order. */
typedef enum
{
  KILN_IDLE_REASON_IDLE,              /* every condition holds */
  KILN_IDLE_REASON_USER_ACTIVE,       /* input within the idle delay (or not known yet) */
  KILN_IDLE_REASON_ON_BATTERY,        /* on battery power and not lending on battery */
  KILN_IDLE_REASON_CPU_BUSY,          /* other programs use more CPU than the threshold */
  KILN_IDLE_REASON_OUTSIDE_SCHEDULE,  /* outside the lending schedule */
} KilnIdleReason;

#define KILN_TYPE_IDLE_REASON (kiln_idle_reason_get_type ())
GType kiln_idle_reason_get_type (void) G_GNUC_CONST;

/* Where the user's idle time comes from. */
typedef enum
{
  KILN_IDLE_INPUT_UNKNOWN,      /* still finding out */
  KILN_IDLE_INPUT_NONE,         /* no session (a server), or nothing reports it: input
                                 * does not hold lending back */
  KILN_IDLE_INPUT_MUTTER,       /* org.gnome.Mutter.IdleMonitor watches */
  KILN_IDLE_INPUT_SCREENSAVER,  /* org.freedesktop.ScreenSaver, polled twice a second */
  KILN_IDLE_INPUT_LOGIND,       /* logind's IdleHint of our session, polled twice a second */
} KilnIdleInput;

#define KILN_TYPE_IDLE_INPUT (kiln_idle_input_get_type ())
GType kiln_idle_input_get_type (void) G_GNUC_CONST;

#define KILN_TYPE_IDLE_MONITOR (kiln_idle_monitor_get_type ())

G_DECLARE_FINAL_TYPE (KilnIdleMonitor, kiln_idle_monitor, KILN, IDLE_MONITOR, GObject)

/* Follows @policy's idle delay, CPU threshold, battery choice and schedule.
 *
 * Construct properties: "policy"; "session-bus" and "system-bus" (GDBusConnection,
 * default: the user's session bus and the system bus, each optional); "watch-input"
 * (default TRUE; FALSE for a headless node, where nobody sits at the machine).
 *
 * Read-only properties: "idle", "reason" (KilnIdleReason), "status" (a translated
 * sentence for people), "input-source" (KilnIdleInput), "on-battery",
 * "other-cpu-percent" (other programs' share of all CPUs over the last 2 s, our
 * own sandboxed processes left out) and "own-cpu-percent" (theirs).
 *
 * Input is followed through Mutter's watches, so activity is seen as soon as
 * Mutter reports it; the ScreenSaver and logind fallbacks are polled twice a second.
 * Battery state follows UPower's PropertiesChanged. */
KilnIdleMonitor *kiln_idle_monitor_new                (KilnLendingPolicy *policy);
/* For servers: no session, user input does not count. */
KilnIdleMonitor *kiln_idle_monitor_new_headless       (KilnLendingPolicy *policy);

KilnLendingPolicy *kiln_idle_monitor_get_policy       (KilnIdleMonitor   *self);
gboolean         kiln_idle_monitor_get_idle           (KilnIdleMonitor   *self);
KilnIdleReason   kiln_idle_monitor_get_reason         (KilnIdleMonitor   *self);
const char      *kiln_idle_monitor_get_status         (KilnIdleMonitor   *self);
KilnIdleInput    kiln_idle_monitor_get_input_source   (KilnIdleMonitor   *self);
gboolean         kiln_idle_monitor_get_on_battery     (KilnIdleMonitor   *self);
double           kiln_idle_monitor_get_other_cpu_percent (KilnIdleMonitor *self);
double           kiln_idle_monitor_get_own_cpu_percent   (KilnIdleMonitor *self);

/* The status sentence for @reason; @cpu_percent is shown for KILN_IDLE_REASON_CPU_BUSY. */
char            *kiln_idle_reason_to_string           (KilnIdleReason     reason,
                                                       double             cpu_percent);

/* Our own work: @pid and all its descendants are left out of other programs' CPU
 * use. Adding the same pid twice counts once. */
void             kiln_idle_monitor_add_own_process    (KilnIdleMonitor   *self,
                                                       GPid               pid);
void             kiln_idle_monitor_remove_own_process (KilnIdleMonitor   *self,
                                                       GPid               pid);

G_END_DECLS
