/* kiln-lending-policy.c: what a provider lends, when, and for how much
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-eth.h"
#include "kiln-lending-policy.h"
#include "kiln-uint256.h"

#define DEFAULT_IDLE_DELAY     5
#define DEFAULT_CPU_THRESHOLD  30
#define MAX_IDLE_DELAY         (24 * 60)

struct _KilnLendingPolicy
{
  GObject      parent_instance;

  KilnUint256  min_price;
  char        *min_price_text;
  guint        cores;
  guint        memory_mb;
  guint        disk_mb;
  guint        schedule_days;
  guint        schedule_start;
  guint        schedule_end;
  guint        idle_delay;
  guint        cpu_threshold;
  guint        enabled : 1;
  guint        lend_on_battery : 1;
};

enum {
  PROP_0,
  PROP_ENABLED,
  PROP_CORES,
  PROP_MEMORY_MB,
  PROP_DISK_MB,
  PROP_MIN_PRICE,
  PROP_SCHEDULE_DAYS,
  PROP_SCHEDULE_START,
  PROP_SCHEDULE_END,
  PROP_IDLE_DELAY_MINUTES,
  PROP_CPU_THRESHOLD_PERCENT,
  PROP_LEND_ON_BATTERY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_QUARK (kiln-lending-policy-error-quark, kiln_lending_policy_error)

G_DEFINE_FINAL_TYPE (KilnLendingPolicy, kiln_lending_policy, G_TYPE_OBJECT)

/* Sets *@field to @value and notifies @prop when it changes. */
static void
set_uint (KilnLendingPolicy *self,
          guint             *field,
          guint              value,
          guint              prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
kiln_lending_policy_finalize (GObject *object)
{
  KilnLendingPolicy *self = KILN_LENDING_POLICY (object);

  g_free (self->min_price_text);

  G_OBJECT_CLASS (kiln_lending_policy_parent_class)->finalize (object);
}

static void
kiln_lending_policy_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  KilnLendingPolicy *self = KILN_LENDING_POLICY (object);

  switch (prop_id)
    {
    case PROP_ENABLED:
      g_value_set_boolean (value, self->enabled);
      break;
    case PROP_CORES:
      g_value_set_uint (value, self->cores);
      break;
    case PROP_MEMORY_MB:
      g_value_set_uint (value, self->memory_mb);
      break;
    case PROP_DISK_MB:
      g_value_set_uint (value, self->disk_mb);
      break;
    case PROP_MIN_PRICE:
      g_value_set_string (value, self->min_price_text);
      break;
    case PROP_SCHEDULE_DAYS:
      g_value_set_uint (value, self->schedule_days);
      break;
    case PROP_SCHEDULE_START:
      g_value_set_uint (value, self->schedule_start);
      break;
    case PROP_SCHEDULE_END:
      g_value_set_uint (value, self->schedule_end);
      break;
    case PROP_IDLE_DELAY_MINUTES:
      g_value_set_uint (value, self->idle_delay);
      break;
    case PROP_CPU_THRESHOLD_PERCENT:
      g_value_set_uint (value, self->cpu_threshold);
      break;
    case PROP_LEND_ON_BATTERY:
      g_value_set_boolean (value, self->lend_on_battery);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_lending_policy_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  KilnLendingPolicy *self = KILN_LENDING_POLICY (object);

  switch (prop_id)
    {
    case PROP_ENABLED:
      kiln_lending_policy_set_enabled (self, g_value_get_boolean (value));
      break;
    case PROP_CORES:
      kiln_lending_policy_set_cores (self, g_value_get_uint (value));
      break;
    case PROP_MEMORY_MB:
      kiln_lending_policy_set_memory_mb (self, g_value_get_uint (value));
      break;
    case PROP_DISK_MB:
      kiln_lending_policy_set_disk_mb (self, g_value_get_uint (value));
      break;
    case PROP_MIN_PRICE:
      {
        g_autoptr(GError) error = NULL;

        if (!kiln_lending_policy_set_min_price (self, g_value_get_string (value), &error))
          g_warning ("Ignoring the minimum price: %s", error->message);
      }
      break;
    case PROP_SCHEDULE_DAYS:
      set_uint (self, &self->schedule_days, g_value_get_uint (value), PROP_SCHEDULE_DAYS);
      break;
    case PROP_SCHEDULE_START:
      set_uint (self, &self->schedule_start, g_value_get_uint (value), PROP_SCHEDULE_START);
      break;
    case PROP_SCHEDULE_END:
      set_uint (self, &self->schedule_end, g_value_get_uint (value), PROP_SCHEDULE_END);
      break;
    case PROP_IDLE_DELAY_MINUTES:
      kiln_lending_policy_set_idle_delay_minutes (self, g_value_get_uint (value));
      break;
    case PROP_CPU_THRESHOLD_PERCENT:
      kiln_lending_policy_set_cpu_threshold_percent (self, g_value_get_uint (value));
      break;
    case PROP_LEND_ON_BATTERY:
      kiln_lending_policy_set_lend_on_battery (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_lending_policy_class_init (KilnLendingPolicyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = kiln_lending_policy_finalize;
  object_class->get_property = kiln_lending_policy_get_property;
  object_class->set_property = kiln_lending_policy_set_property;

  properties[PROP_ENABLED] = g_param_spec_boolean ("enabled", NULL, NULL, FALSE, flags);
  properties[PROP_CORES] = g_param_spec_uint ("cores", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_MEMORY_MB] =
    g_param_spec_uint ("memory-mb", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_DISK_MB] = g_param_spec_uint ("disk-mb", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_MIN_PRICE] = g_param_spec_string ("min-price", NULL, NULL, "0", flags);
  properties[PROP_SCHEDULE_DAYS] =
    g_param_spec_uint ("schedule-days", NULL, NULL, 0, KILN_WEEKDAY_ALL, KILN_WEEKDAY_ALL,
                       flags);
  properties[PROP_SCHEDULE_START] =
    g_param_spec_uint ("schedule-start", NULL, NULL, 0, KILN_MINUTES_PER_DAY - 1, 0, flags);
  properties[PROP_SCHEDULE_END] =
    g_param_spec_uint ("schedule-end", NULL, NULL, 0, KILN_MINUTES_PER_DAY, 0, flags);
  properties[PROP_IDLE_DELAY_MINUTES] =
    g_param_spec_uint ("idle-delay-minutes", NULL, NULL, 0, MAX_IDLE_DELAY,
                       DEFAULT_IDLE_DELAY, flags);
  properties[PROP_CPU_THRESHOLD_PERCENT] =
    g_param_spec_uint ("cpu-threshold-percent", NULL, NULL, 0, 100, DEFAULT_CPU_THRESHOLD,
                       flags);
  properties[PROP_LEND_ON_BATTERY] =
    g_param_spec_boolean ("lend-on-battery", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_lending_policy_init (KilnLendingPolicy *self)
{
  self->min_price_text = g_strdup ("0");
  self->schedule_days = KILN_WEEKDAY_ALL;
  self->idle_delay = DEFAULT_IDLE_DELAY;
  self->cpu_threshold = DEFAULT_CPU_THRESHOLD;
}

KilnLendingPolicy *
kiln_lending_policy_new (void)
{
  return g_object_new (KILN_TYPE_LENDING_POLICY, NULL);
}

/* Accessors ------------------------------------------------------------------------------ */

gboolean
kiln_lending_policy_get_enabled (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), FALSE);
  return self->enabled;
}

void
kiln_lending_policy_set_enabled (KilnLendingPolicy *self,
                                 gboolean           enabled)
{
  g_return_if_fail (KILN_IS_LENDING_POLICY (self));

  enabled = !!enabled;
  if (self->enabled == (guint) enabled)
    return;
  self->enabled = enabled;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENABLED]);
}

guint
kiln_lending_policy_get_cores (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), 0);
  return self->cores;
}

void
kiln_lending_policy_set_cores (KilnLendingPolicy *self,
                               guint              cores)
{
  g_return_if_fail (KILN_IS_LENDING_POLICY (self));
  set_uint (self, &self->cores, cores, PROP_CORES);
}

guint
kiln_lending_policy_get_memory_mb (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), 0);
  return self->memory_mb;
}

void
kiln_lending_policy_set_memory_mb (KilnLendingPolicy *self,
                                   guint              memory_mb)
{
  g_return_if_fail (KILN_IS_LENDING_POLICY (self));
  set_uint (self, &self->memory_mb, memory_mb, PROP_MEMORY_MB);
}

guint
kiln_lending_policy_get_disk_mb (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), 0);
  return self->disk_mb;
}

void
kiln_lending_policy_set_disk_mb (KilnLendingPolicy *self,
                                 guint              disk_mb)
{
  g_return_if_fail (KILN_IS_LENDING_POLICY (self));
  set_uint (self, &self->disk_mb, disk_mb, PROP_DISK_MB);
}

const char *
kiln_lending_policy_get_min_price (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), NULL);
  return self->min_price_text;
}

gboolean
kiln_lending_policy_set_min_price (KilnLendingPolicy  *self,
                                   const char         *text,
                                   GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *canonical = NULL;
  KilnUint256 price;

  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (text == NULL ||
      !kiln_uint256_parse_units (&price, text, KILN_LENDING_PRICE_DECIMALS, "GNT",
                                 &local_error))
    {
      g_set_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_INVALID,
                   _("The minimum price must be an amount of GNT per CPU-hour, such as "
                     "0.25: %s"),
                   local_error != NULL ? local_error->message : _("no amount given"));
      return FALSE;
    }

  canonical = kiln_uint256_format_units (&price, KILN_LENDING_PRICE_DECIMALS);
  self->min_price = price;
  if (g_strcmp0 (canonical, self->min_price_text) != 0)
    {
      g_free (self->min_price_text);
      self->min_price_text = g_steal_pointer (&canonical);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_PRICE]);
    }
  return TRUE;
}

void
kiln_lending_policy_get_min_price_units (KilnLendingPolicy *self,
                                         KilnUint256       *out)
{
  g_return_if_fail (KILN_IS_LENDING_POLICY (self));
  g_return_if_fail (out != NULL);
  *out = self->min_price;
}

guint
kiln_lending_policy_get_schedule_days (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), 0);
  return self->schedule_days;
}

guint
kiln_lending_policy_get_schedule_start (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), 0);
  return self->schedule_start;
}

guint
kiln_lending_policy_get_schedule_end (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), 0);
  return self->schedule_end;
}

void
kiln_lending_policy_set_schedule (KilnLendingPolicy *self,
                                  guint              days,
                                  guint              start_minute,
                                  guint              end_minute)
{
  g_return_if_fail (KILN_IS_LENDING_POLICY (self));
  g_return_if_fail (days <= KILN_WEEKDAY_ALL);
  g_return_if_fail (start_minute < KILN_MINUTES_PER_DAY);
  g_return_if_fail (end_minute <= KILN_MINUTES_PER_DAY);

  g_object_freeze_notify (G_OBJECT (self));
  set_uint (self, &self->schedule_days, days, PROP_SCHEDULE_DAYS);
  set_uint (self, &self->schedule_start, start_minute, PROP_SCHEDULE_START);
  set_uint (self, &self->schedule_end, end_minute, PROP_SCHEDULE_END);
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
kiln_lending_policy_parse_time_of_day (const char *text,
                                       guint      *minute)
{
  guint hours, minutes;

  g_return_val_if_fail (minute != NULL, FALSE);

  if (text == NULL || !g_ascii_isdigit (text[0]) || !g_ascii_isdigit (text[1]) ||
      text[2] != ':' || !g_ascii_isdigit (text[3]) || !g_ascii_isdigit (text[4]) ||
      text[5] != '\0')
    return FALSE;
  hours = (text[0] - '0') * 10 + (text[1] - '0');
  minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (minutes > 59 || hours > 24 || (hours == 24 && minutes != 0))
    return FALSE;
  *minute = hours * 60 + minutes;
  return TRUE;
}

guint
kiln_lending_policy_get_idle_delay_minutes (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), 0);
  return self->idle_delay;
}

void
kiln_lending_policy_set_idle_delay_minutes (KilnLendingPolicy *self,
                                            guint              minutes)
{
  g_return_if_fail (KILN_IS_LENDING_POLICY (self));
  set_uint (self, &self->idle_delay, MIN (minutes, MAX_IDLE_DELAY), PROP_IDLE_DELAY_MINUTES);
}

guint
kiln_lending_policy_get_cpu_threshold_percent (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), 0);
  return self->cpu_threshold;
}

void
kiln_lending_policy_set_cpu_threshold_percent (KilnLendingPolicy *self,
                                               guint              percent)
{
  g_return_if_fail (KILN_IS_LENDING_POLICY (self));
  set_uint (self, &self->cpu_threshold, MIN (percent, 100), PROP_CPU_THRESHOLD_PERCENT);
}

gboolean
kiln_lending_policy_get_lend_on_battery (KilnLendingPolicy *self)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), FALSE);
  return self->lend_on_battery;
}

void
kiln_lending_policy_set_lend_on_battery (KilnLendingPolicy *self,
                                         gboolean           lend)
{
  g_return_if_fail (KILN_IS_LENDING_POLICY (self));

  lend = !!lend;
  if (self->lend_on_battery == (guint) lend)
    return;
  self->lend_on_battery = lend;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LEND_ON_BATTERY]);
}

/* Decisions ------------------------------------------------------------------------------ */

/* The KilnWeekday bit of @day_of_week (1 = Monday … 7 = Sunday, as GDateTime counts). */
static guint
weekday_bit (int day_of_week)
{
  return 1u << ((day_of_week - 1) % 7);
}

gboolean
kiln_lending_policy_in_schedule (KilnLendingPolicy *self,
                                 GDateTime         *now)
{
  int day;
  guint minute;
  guint start, end;
  guint previous_day;

  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), FALSE);
  g_return_val_if_fail (now != NULL, FALSE);

  day = g_date_time_get_day_of_week (now);
  minute = (guint) (g_date_time_get_hour (now) * 60 + g_date_time_get_minute (now));
  start = self->schedule_start;
  end = self->schedule_end;
  previous_day = weekday_bit (day == 1 ? 7 : day - 1);

  /* The whole day. */
  if (start == end || (start == 0 && end >= KILN_MINUTES_PER_DAY))
    return (self->schedule_days & weekday_bit (day)) != 0;

  if (start < end)
    return (self->schedule_days & weekday_bit (day)) != 0 && minute >= start && minute < end;

  /* Overnight: the evening part belongs to today's window, the morning part to the
   * window that opened yesterday. */
  if (minute >= start)
    return (self->schedule_days & weekday_bit (day)) != 0;
  if (minute < end)
    return (self->schedule_days & previous_day) != 0;
  return FALSE;
}

gboolean
kiln_lending_policy_accepts (KilnLendingPolicy  *self,
                             const KilnUint256  *price,
                             guint               cores,
                             guint               memory_mb,
                             GError            **error)
{
  guint lent_cores;

  g_return_val_if_fail (KILN_IS_LENDING_POLICY (self), FALSE);
  g_return_val_if_fail (price != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!self->enabled)
    {
      g_set_error_literal (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_DISABLED,
                           _("Lending is switched off"));
      return FALSE;
    }

  if (kiln_uint256_compare (price, &self->min_price) < 0)
    {
      g_autofree char *offered = kiln_uint256_format_units (price, KILN_LENDING_PRICE_DECIMALS);

      g_set_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_PRICE_TOO_LOW,
                   _("The task pays %s GNT per CPU-hour, less than your minimum of %s GNT"),
                   offered, self->min_price_text);
      return FALSE;
    }

  lent_cores = self->cores > 0 ? self->cores : g_get_num_processors ();
  if (cores > lent_cores)
    {
      g_set_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_TOO_MANY_CORES,
                   g_dngettext (GETTEXT_PACKAGE,
                                "The task needs %u cores but you lend %u core",
                                "The task needs %u cores but you lend %u cores", lent_cores),
                   cores, lent_cores);
      return FALSE;
    }

  if (self->memory_mb > 0 && memory_mb > self->memory_mb)
    {
      g_set_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_TOO_MUCH_MEMORY,
                   _("The task needs %u MiB of memory but you lend %u MiB"),
                   memory_mb, self->memory_mb);
      return FALSE;
    }

  return TRUE;
}
