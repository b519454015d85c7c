/* kiln-lending-policy.h: what a provider lends, when, and for how much
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-types.h"

G_BEGIN_DECLS

#define KILN_LENDING_POLICY_ERROR (kiln_lending_policy_error_quark ())

typedef enum
{
  KILN_LENDING_POLICY_ERROR_DISABLED,        /* lending is switched off */
  KILN_LENDING_POLICY_ERROR_PRICE_TOO_LOW,   /* the task pays less than the minimum price */
  KILN_LENDING_POLICY_ERROR_TOO_MANY_CORES,  /* the task wants more cores than lent */
  KILN_LENDING_POLICY_ERROR_TOO_MUCH_MEMORY, /* the task wants more memory than lent */
  KILN_LENDING_POLICY_ERROR_INVALID,         /* a setting that cannot be used */
} KilnLendingPolicyError;

GQuark kiln_lending_policy_error_quark (void);

/* Days of the week, as in the "schedule-days" bitmask. */
typedef enum /*< flags >*/
{
  KILN_WEEKDAY_MONDAY    = 1 << 0,
  KILN_WEEKDAY_TUESDAY   = 1 << 1,
  KILN_WEEKDAY_WEDNESDAY = 1 << 2,
  KILN_WEEKDAY_THURSDAY  = 1 << 3,
  KILN_WEEKDAY_FRIDAY    = 1 << 4,
  KILN_WEEKDAY_SATURDAY  = 1 << 5,
  KILN_WEEKDAY_SUNDAY    = 1 << 6,
} KilnWeekday;

#define KILN_WEEKDAY_ALL      0x7f
#define KILN_MINUTES_PER_DAY  1440
/* The token's decimals: prices are GNT base units per CPU-hour. */
#define KILN_LENDING_PRICE_DECIMALS 18

#define KILN_TYPE_LENDING_POLICY (kiln_lending_policy_get_type ())

G_DECLARE_FINAL_TYPE (KilnLendingPolicy, kiln_lending_policy, KILN, LENDING_POLICY, GObject)

/* Properties (all readable and writable, notified only on change):
 *   "enabled"               gboolean  lending switched on (default FALSE)
 *   "cores"                 guint     CPU cores lent; 0 = all (default 0)
 *   "memory-mb"             guint     memory lent in MiB; 0 = no limit (default 0)
 *   "disk-mb"               guint     disk space lent in MiB; 0 = no limit (default 0)
 *   "min-price"             char *    minimum GNT per CPU-hour, a decimal such as "0.25"
 *                                     (default "0"); an unparsable value is refused with
 *                                     a warning, use kiln_lending_policy_set_min_price()
 *                                     to get the reason as an error
 *   "schedule-days"         guint     KilnWeekday bitmask (default all days)
 *   "schedule-start"        guint     minute of the day the lending window opens, 0..1439
 *   "schedule-end"          guint     minute of the day it closes, 0..1440; equal to the
 *                                     start means the whole day (default 0 and 0)
 *   "idle-delay-minutes"    guint     minutes without input before lending (default 5)
 *   "cpu-threshold-percent" guint     other programs' CPU use (percent of all CPUs) above
 *                                     which lending waits; 100 = never (default 30)
 *   "lend-on-battery"       gboolean  keep lending on battery power (default FALSE)
 *
 * The schedule: the window opens at "schedule-start" on each day in "schedule-days"
 * and closes at "schedule-end" of the same day, or of the next day when the end is
 * not after the start (an overnight window, 22:00–06:00: Friday in the days then
 * covers Friday night until Saturday 06:00). */
KilnLendingPolicy *kiln_lending_policy_new               (void);

gboolean     kiln_lending_policy_get_enabled             (KilnLendingPolicy  *self);
void         kiln_lending_policy_set_enabled             (KilnLendingPolicy  *self,
                                                          gboolean            enabled);
guint        kiln_lending_policy_get_cores               (KilnLendingPolicy  *self);
void         kiln_lending_policy_set_cores               (KilnLendingPolicy  *self,
                                                          guint               cores);
guint        kiln_lending_policy_get_memory_mb           (KilnLendingPolicy  *self);
void         kiln_lending_policy_set_memory_mb           (KilnLendingPolicy  *self,
                                                          guint               memory_mb);
guint        kiln_lending_policy_get_disk_mb             (KilnLendingPolicy  *self);
void         kiln_lending_policy_set_disk_mb             (KilnLendingPolicy  *self,
                                                          guint               disk_mb);

/* The minimum price as written ("0.25"); the canonical decimal form after setting. */
const char  *kiln_lending_policy_get_min_price           (KilnLendingPolicy  *self);
/* Parses @text as GNT per CPU-hour (strict decimal, up to 18 fractional digits). On
 * failure the price is unchanged and @error says why (KILN_LENDING_POLICY_ERROR_INVALID). */
gboolean     kiln_lending_policy_set_min_price           (KilnLendingPolicy  *self,
                                                          const char         *text,
                                                          GError            **error);
/* The minimum price in GNT base units (10^-18 GNT) per CPU-hour. */
void         kiln_lending_policy_get_min_price_units     (KilnLendingPolicy  *self,
                                                          KilnUint256        *out);

guint        kiln_lending_policy_get_schedule_days       (KilnLendingPolicy  *self);
guint        kiln_lending_policy_get_schedule_start      (KilnLendingPolicy  *self);
guint        kiln_lending_policy_get_schedule_end        (KilnLendingPolicy  *self);
/* Sets the three schedule properties at once: @days a KilnWeekday mask, @start_minute
 * 0..1439, @end_minute 0..1440. */
void         kiln_lending_policy_set_schedule            (KilnLendingPolicy  *self,
                                                          guint               days,
                                                          guint               start_minute,
                                                          guint               end_minute);
/* Reads "HH:MM" (00:00..24:00) into a minute of the day; FALSE if it is not one. */
gboolean     kiln_lending_policy_parse_time_of_day       (const char         *text,
                                                          guint              *minute);

guint        kiln_lending_policy_get_idle_delay_minutes  (KilnLendingPolicy  *self);
void         kiln_lending_policy_set_idle_delay_minutes  (KilnLendingPolicy  *self,
                                                          guint               minutes);
guint        kiln_lending_policy_get_cpu_threshold_percent (KilnLendingPolicy *self);
void         kiln_lending_policy_set_cpu_threshold_percent (KilnLendingPolicy *self,
                                                            guint              percent);
gboolean     kiln_lending_policy_get_lend_on_battery     (KilnLendingPolicy  *self);
void         kiln_lending_policy_set_lend_on_battery     (KilnLendingPolicy  *self,
                                                          gboolean            lend);

/* Whether @now (in its own time zone) lies inside the lending schedule. */
gboolean     kiln_lending_policy_in_schedule             (KilnLendingPolicy  *self,
                                                          GDateTime          *now);

/* Whether a task's terms are acceptable: lending on, @price (GNT base units per
 * CPU-hour) at least the minimum, @cores and @memory_mb (MiB) within what is lent.
 * When not, @error (KILN_LENDING_POLICY_ERROR) says why, for people. */
gboolean     kiln_lending_policy_accepts                 (KilnLendingPolicy  *self,
                                                          const KilnUint256  *price,
                                                          guint               cores,
                                                          guint               memory_mb,
                                                          GError            **error);

G_END_DECLS
