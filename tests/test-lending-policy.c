/* test-lending-policy.c: the lending schedule, price parsing and accepting terms
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "kiln-lending-policy.h"
#include "kiln-uint256.h"

/* 2024-01-01 was a Monday: day @weekday (1 = Monday) of that week at @hour:@minute. */
static GDateTime *
at (int weekday,
    int hour,
    int minute)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();

  return g_date_time_new (utc, 2024, 1, weekday, hour, minute, 0);
}

static gboolean
in_schedule (KilnLendingPolicy *policy,
             int                weekday,
             int                hour,
             int                minute)
{
  g_autoptr(GDateTime) when = at (weekday, hour, minute);

  return kiln_lending_policy_in_schedule (policy, when);
}

static void
test_defaults (void)
{
  g_autoptr(KilnLendingPolicy) policy = kiln_lending_policy_new ();
  KilnUint256 price;

  g_assert_false (kiln_lending_policy_get_enabled (policy));
  g_assert_cmpuint (kiln_lending_policy_get_schedule_days (policy), ==, KILN_WEEKDAY_ALL);
  g_assert_cmpuint (kiln_lending_policy_get_idle_delay_minutes (policy), ==, 5);
  g_assert_cmpuint (kiln_lending_policy_get_cpu_threshold_percent (policy), ==, 30);
  g_assert_false (kiln_lending_policy_get_lend_on_battery (policy));
  g_assert_cmpstr (kiln_lending_policy_get_min_price (policy), ==, "0");
  kiln_lending_policy_get_min_price_units (policy, &price);
  g_assert_true (kiln_uint256_is_zero (&price));
  /* The whole week, every minute. */
  for (int day = 1; day <= 7; day++)
    {
      g_assert_true (in_schedule (policy, day, 0, 0));
      g_assert_true (in_schedule (policy, day, 23, 59));
    }
}

static void
test_schedule_daytime (void)
{
  g_autoptr(KilnLendingPolicy) policy = kiln_lending_policy_new ();

  /* Weekdays, 09:00–17:30. */
  kiln_lending_policy_set_schedule (policy, 0x1f, 9 * 60, 17 * 60 + 30);
  g_assert_false (in_schedule (policy, 1, 8, 59));
  g_assert_true (in_schedule (policy, 1, 9, 0));
  g_assert_true (in_schedule (policy, 5, 17, 29));
  g_assert_false (in_schedule (policy, 5, 17, 30));   /* the end is excluded */
  g_assert_false (in_schedule (policy, 6, 12, 0));    /* Saturday */
  g_assert_false (in_schedule (policy, 7, 12, 0));    /* Sunday */

  /* Until midnight: 1440 is the end of the day. */
  kiln_lending_policy_set_schedule (policy, KILN_WEEKDAY_SUNDAY, 20 * 60, 24 * 60);
  g_assert_true (in_schedule (policy, 7, 23, 59));
  g_assert_false (in_schedule (policy, 1, 0, 0));
  g_assert_false (in_schedule (policy, 7, 19, 59));
}

static void
test_schedule_overnight (void)
{
  g_autoptr(KilnLendingPolicy) policy = kiln_lending_policy_new ();

  /* Friday and Saturday nights, 22:00–06:00. */
  kiln_lending_policy_set_schedule (policy, KILN_WEEKDAY_FRIDAY | KILN_WEEKDAY_SATURDAY,
                                    22 * 60, 6 * 60);
  g_assert_false (in_schedule (policy, 5, 21, 59));
  g_assert_true (in_schedule (policy, 5, 22, 0));
  g_assert_true (in_schedule (policy, 5, 23, 59));
  g_assert_true (in_schedule (policy, 6, 0, 0));      /* Friday's night goes on */
  g_assert_true (in_schedule (policy, 6, 5, 59));
  g_assert_false (in_schedule (policy, 6, 6, 0));
  g_assert_false (in_schedule (policy, 6, 12, 0));
  g_assert_true (in_schedule (policy, 6, 22, 30));    /* Saturday night */
  g_assert_true (in_schedule (policy, 7, 3, 0));      /* … into Sunday morning */
  g_assert_false (in_schedule (policy, 7, 22, 30));   /* Sunday night is not in */
  g_assert_false (in_schedule (policy, 1, 3, 0));     /* nor Monday morning */
  g_assert_false (in_schedule (policy, 5, 3, 0));     /* Thursday's night is not in */

  /* The week wraps: Sunday night runs into Monday. */
  kiln_lending_policy_set_schedule (policy, KILN_WEEKDAY_SUNDAY, 23 * 60, 1 * 60);
  g_assert_true (in_schedule (policy, 1, 0, 30));
  g_assert_false (in_schedule (policy, 7, 0, 30));

  /* Equal ends: the whole day; no days: never. */
  kiln_lending_policy_set_schedule (policy, KILN_WEEKDAY_WEDNESDAY, 600, 600);
  g_assert_true (in_schedule (policy, 3, 0, 0));
  g_assert_true (in_schedule (policy, 3, 23, 59));
  g_assert_false (in_schedule (policy, 4, 0, 0));
  kiln_lending_policy_set_schedule (policy, 0, 0, 0);
  for (int day = 1; day <= 7; day++)
    g_assert_false (in_schedule (policy, day, 12, 0));
}

static void
test_schedule_time_zone (void)
{
  g_autoptr(KilnLendingPolicy) policy = kiln_lending_policy_new ();
  g_autoptr(GTimeZone) tokyo = g_time_zone_new_identifier ("+09:00");
  g_autoptr(GDateTime) utc = at (1, 20, 0);             /* Monday 20:00 UTC */
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, tokyo);  /* Tue 05:00 */

  g_assert_nonnull (tokyo);
  kiln_lending_policy_set_schedule (policy, KILN_WEEKDAY_TUESDAY, 4 * 60, 6 * 60);
  g_assert_false (kiln_lending_policy_in_schedule (policy, utc));
  g_assert_true (kiln_lending_policy_in_schedule (policy, local));
}

static void
test_time_of_day (void)
{
  guint minute = 7;

  g_assert_true (kiln_lending_policy_parse_time_of_day ("00:00", &minute));
  g_assert_cmpuint (minute, ==, 0);
  g_assert_true (kiln_lending_policy_parse_time_of_day ("22:30", &minute));
  g_assert_cmpuint (minute, ==, 22 * 60 + 30);
  g_assert_true (kiln_lending_policy_parse_time_of_day ("24:00", &minute));
  g_assert_cmpuint (minute, ==, 1440);
  minute = 7;
  g_assert_false (kiln_lending_policy_parse_time_of_day ("24:01", &minute));
  g_assert_false (kiln_lending_policy_parse_time_of_day ("9:00", &minute));
  g_assert_false (kiln_lending_policy_parse_time_of_day ("09:60", &minute));
  g_assert_false (kiln_lending_policy_parse_time_of_day ("09:00 ", &minute));
  g_assert_false (kiln_lending_policy_parse_time_of_day ("", &minute));
  g_assert_cmpuint (minute, ==, 7);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              guint      *count)
{
  (*count)++;
}

static void
test_price_parsing (void)
{
  g_autoptr(KilnLendingPolicy) policy = kiln_lending_policy_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  KilnUint256 price, expected;
  guint notified = 0;
  const char * const bad[] = {
    "", "-1", "1.", ".5", "1,5", " 1", "1e3", "0.0000000000000000001", "abc", NULL
  };

  g_signal_connect (policy, "notify::min-price", G_CALLBACK (count_notify), &notified);

  g_assert_true (kiln_lending_policy_set_min_price (policy, "0.25", &error));
  g_assert_no_error (error);
  kiln_lending_policy_get_min_price_units (policy, &price);
  g_assert_true (kiln_uint256_parse (&expected, "250000000000000000", NULL));
  g_assert_true (kiln_uint256_equal (&price, &expected));
  g_assert_cmpuint (notified, ==, 1);

  /* The same value written differently: no change. */
  g_assert_true (kiln_lending_policy_set_min_price (policy, "0.250", NULL));
  g_assert_cmpstr (kiln_lending_policy_get_min_price (policy), ==, "0.25");
  g_assert_cmpuint (notified, ==, 1);

  /* The smallest unit, and a large whole amount. */
  g_assert_true (kiln_lending_policy_set_min_price (policy, "0.000000000000000001", NULL));
  kiln_lending_policy_get_min_price_units (policy, &price);
  g_assert_true (kiln_uint256_parse (&expected, "1", NULL));
  g_assert_true (kiln_uint256_equal (&price, &expected));
  g_assert_true (kiln_lending_policy_set_min_price (policy, "1000000", NULL));
  g_object_get (policy, "min-price", &text, NULL);
  g_assert_cmpstr (text, ==, "1000000");

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_clear_error (&error);
      g_assert_false (kiln_lending_policy_set_min_price (policy, bad[i], &error));
      g_assert_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "GNT per CPU-hour"));
      g_assert_cmpstr (kiln_lending_policy_get_min_price (policy), ==, "1000000");
    }
}

static void
test_accepts (void)
{
  g_autoptr(KilnLendingPolicy) policy = kiln_lending_policy_new ();
  g_autoptr(GError) error = NULL;
  KilnUint256 price, low;
  guint cpus = g_get_num_processors ();

  g_assert_true (kiln_lending_policy_set_min_price (policy, "0.5", NULL));
  g_assert_true (kiln_uint256_parse_units (&price, "0.5", 18, "GNT", NULL));
  g_assert_true (kiln_uint256_parse_units (&low, "0.499999999999999999", 18, "GNT", NULL));

  /* Off: nothing is accepted. */
  g_assert_false (kiln_lending_policy_accepts (policy, &price, 1, 100, &error));
  g_assert_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_DISABLED);
  g_clear_error (&error);

  kiln_lending_policy_set_enabled (policy, TRUE);
  g_assert_true (kiln_lending_policy_accepts (policy, &price, 1, 100, &error));
  g_assert_no_error (error);

  /* One base unit below the minimum. */
  g_assert_false (kiln_lending_policy_accepts (policy, &low, 1, 100, &error));
  g_assert_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_PRICE_TOO_LOW);
  g_assert_nonnull (strstr (error->message, "0.499999999999999999"));
  g_assert_nonnull (strstr (error->message, "0.5 GNT"));
  g_clear_error (&error);

  /* All cores lent (0): as many as there are. */
  g_assert_true (kiln_lending_policy_accepts (policy, &price, cpus, 100, NULL));
  g_assert_false (kiln_lending_policy_accepts (policy, &price, cpus + 1, 100, &error));
  g_assert_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_TOO_MANY_CORES);
  g_clear_error (&error);

  kiln_lending_policy_set_cores (policy, 1);
  g_assert_true (kiln_lending_policy_accepts (policy, &price, 1, 100, NULL));
  g_assert_false (kiln_lending_policy_accepts (policy, &price, 2, 100, &error));
  g_assert_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_TOO_MANY_CORES);
  g_clear_error (&error);

  /* Memory: 0 is no limit. */
  g_assert_true (kiln_lending_policy_accepts (policy, &price, 1, 1 << 20, NULL));
  g_object_set (policy, "memory-mb", 2048, NULL);
  g_assert_true (kiln_lending_policy_accepts (policy, &price, 1, 2048, NULL));
  g_assert_false (kiln_lending_policy_accepts (policy, &price, 1, 2049, &error));
  g_assert_error (error, KILN_LENDING_POLICY_ERROR, KILN_LENDING_POLICY_ERROR_TOO_MUCH_MEMORY);
  g_assert_nonnull (strstr (error->message, "2048 MiB"));
}

static void
test_properties (void)
{
  KilnLendingPolicy *policy = kiln_lending_policy_new ();
  guint notified = 0;
  guint threshold, delay;

  g_signal_connect (policy, "notify", G_CALLBACK (count_notify), &notified);
  g_object_set (policy, "cores", 2, "disk-mb", 4096, "lend-on-battery", TRUE,
                "cpu-threshold-percent", 50, "idle-delay-minutes", 10, NULL);
  g_assert_cmpuint (notified, ==, 5);
  /* Setting the same values again notifies nothing. */
  g_object_set (policy, "cores", 2, "disk-mb", 4096, "lend-on-battery", TRUE, NULL);
  g_assert_cmpuint (notified, ==, 5);
  g_object_get (policy, "cpu-threshold-percent", &threshold, "idle-delay-minutes", &delay,
                NULL);
  g_assert_cmpuint (threshold, ==, 50);
  g_assert_cmpuint (delay, ==, 10);
  g_assert_cmpuint (kiln_lending_policy_get_disk_mb (policy), ==, 4096);

  /* The schedule in one notification burst per property that changed. */
  notified = 0;
  kiln_lending_policy_set_schedule (policy, KILN_WEEKDAY_MONDAY, 60, 120);
  g_assert_cmpuint (notified, ==, 3);
  kiln_lending_policy_set_schedule (policy, KILN_WEEKDAY_MONDAY, 60, 180);
  g_assert_cmpuint (notified, ==, 4);

  g_assert_finalize_object (policy);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/lending-policy/defaults", test_defaults);
  g_test_add_func ("/kiln/lending-policy/schedule/daytime", test_schedule_daytime);
  g_test_add_func ("/kiln/lending-policy/schedule/overnight", test_schedule_overnight);
  g_test_add_func ("/kiln/lending-policy/schedule/time-zone", test_schedule_time_zone);
  g_test_add_func ("/kiln/lending-policy/time-of-day", test_time_of_day);
  g_test_add_func ("/kiln/lending-policy/price-parsing", test_price_parsing);
  g_test_add_func ("/kiln/lending-policy/accepts", test_accepts);
  g_test_add_func ("/kiln/lending-policy/properties", test_properties);

  return g_test_run ();
}
