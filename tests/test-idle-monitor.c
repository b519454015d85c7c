/* test-idle-monitor.c: idle detection and pausing renders, on private buses
 *
 * Two private dbus-daemons stand in for the session and system buses. On them this
 * process serves Mutter's IdleMonitor interface (the same introspection as Mutter),
 * org.freedesktop.ScreenSaver and UPower's OnBattery, each on a connection of its
 * own, the way the real services would; the monitor under test uses other
 * connections. The provider tests render a real scene with the real Blender inside
 * bubblewrap and read the processes' states from /proc.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "kiln-idle-monitor.h"
#include "kiln-provider.h"
#include "kiln-test-idle.h"

/* Waiting --------------------------------------------------------------------------------- */

typedef gboolean (*Condition) (gpointer data);

/* Runs the main context until @condition holds; the time it took in ms, or -1. */
static double
wait_for (Condition condition,
          gpointer  data,
          guint     timeout_ms)
{
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) timeout_ms * 1000;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        return -1;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (1000);
    }
  return (g_get_monotonic_time () - start) / 1000.0;
}

static gboolean
monitor_is_idle (gpointer data)
{
  return kiln_idle_monitor_get_idle (data);
}

static gboolean
monitor_is_busy (gpointer data)
{
  return !kiln_idle_monitor_get_idle (data);
}

static KilnIdleInput wanted_input;

static gboolean
monitor_has_input (gpointer data)
{
  return kiln_idle_monitor_get_input_source (data) == wanted_input;
}

static void
assert_input (KilnIdleMonitor *monitor,
              KilnIdleInput    input)
{
  wanted_input = input;
  g_assert_cmpfloat (wait_for (monitor_has_input, monitor, 5000), >=, 0);
}

static void
assert_idle (KilnIdleMonitor *monitor,
             gboolean         idle)
{
  g_assert_cmpfloat (wait_for (idle ? monitor_is_idle : monitor_is_busy, monitor, 5000), >=, 0);
}

/* Fixture --------------------------------------------------------------------------------- */

typedef struct
{
  FakeServices      *services;
  KilnLendingPolicy *policy;
  KilnIdleMonitor   *monitor;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->services = fake_services_new ();
  fixture->policy = kiln_lending_policy_new ();
  /* Other programs' CPU (parallel builds and tests) must not decide these tests. */
  kiln_lending_policy_set_cpu_threshold_percent (fixture->policy, 100);
}

static KilnIdleMonitor *
new_monitor (Fixture  *fixture,
             gboolean  watch_input)
{
  g_autoptr(GDBusConnection) session = fake_services_connect (fixture->services, FALSE);
  g_autoptr(GDBusConnection) system = fake_services_connect (fixture->services, TRUE);

  return g_object_new (KILN_TYPE_IDLE_MONITOR,
                       "policy", fixture->policy,
                       "session-bus", session,
                       "system-bus", system,
                       "watch-input", watch_input,
                       NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  if (fixture->monitor != NULL)
    g_assert_finalize_object (fixture->monitor);
  g_assert_finalize_object (fixture->policy);
  fake_services_free (fixture->services);
}

/* Idle monitor ---------------------------------------------------------------------------- */

static void
test_mutter (Fixture       *fixture,
             gconstpointer  data)
{
  FakeServices *services = fixture->services;
  KilnIdleMonitor *monitor;
  gint64 start;
  double latency;

  fake_mutter_own (services, TRUE);
  fake_screensaver_own (services, TRUE);
  fake_mutter_set_idletime (services, 0);
  monitor = fixture->monitor = new_monitor (fixture, TRUE);

  /* Mutter wins over the ScreenSaver, and gets an idle watch at the delay. */
  assert_input (monitor, KILN_IDLE_INPUT_MUTTER);
  g_assert_cmpfloat (wait_for ((Condition) fake_mutter_has_idle_watch, services, 5000), >=, 0);
  g_assert_cmpuint (fake_mutter_get_idle_interval (services), ==, 5 * 60 * 1000);
  g_assert_false (kiln_idle_monitor_get_idle (monitor));
  g_assert_cmpint (kiln_idle_monitor_get_reason (monitor), ==, KILN_IDLE_REASON_USER_ACTIVE);
  g_assert_cmpstr (kiln_idle_monitor_get_status (monitor), ==, "You are using the computer");

  /* Five minutes without input: the idle watch fires. */
  fake_mutter_set_idletime (services, 5 * 60 * 1000);
  assert_idle (monitor, TRUE);
  g_assert_cmpint (kiln_idle_monitor_get_reason (monitor), ==, KILN_IDLE_REASON_IDLE);
  g_assert_cmpstr (kiln_idle_monitor_get_status (monitor), ==, "Idle");
  g_assert_cmpfloat (wait_for ((Condition) fake_mutter_has_active_watch, services, 5000), >=, 0);

  /* Input: the user-active watch fires, no polling involved. */
  for (guint round = 0; round < 3; round++)
    {
      start = g_get_monotonic_time ();
      fake_mutter_user_active (services);
      latency = wait_for (monitor_is_busy, monitor, 1000);
      g_assert_cmpfloat (latency, >=, 0);
      g_test_message ("Mutter: input noticed after %.1f ms (round %u)",
                      (g_get_monotonic_time () - start) / 1000.0, round + 1);
      g_assert_cmpint (kiln_idle_monitor_get_reason (monitor), ==,
                       KILN_IDLE_REASON_USER_ACTIVE);

      fake_mutter_set_idletime (services, 5 * 60 * 1000);
      assert_idle (monitor, TRUE);
      g_assert_cmpfloat (wait_for ((Condition) fake_mutter_has_active_watch, services, 5000),
                         >=, 0);
    }

  /* A new delay: a new idle watch. */
  kiln_lending_policy_set_idle_delay_minutes (fixture->policy, 2);
  g_assert_cmpfloat (wait_for ((Condition) fake_mutter_idle_interval_is, services, 5000), >=, 0);
}

static void
test_battery (Fixture       *fixture,
              gconstpointer  data)
{
  FakeServices *services = fixture->services;
  KilnIdleMonitor *monitor;
  double latency;
  gint64 start;

  fake_mutter_own (services, TRUE);
  fake_mutter_set_idletime (services, 10 * 60 * 1000);
  fake_upower_own (services, TRUE);
  monitor = fixture->monitor = new_monitor (fixture, TRUE);
  assert_idle (monitor, TRUE);
  g_assert_false (kiln_idle_monitor_get_on_battery (monitor));

  start = g_get_monotonic_time ();
  fake_upower_set_on_battery (services, TRUE);
  latency = wait_for (monitor_is_busy, monitor, 1000);
  g_assert_cmpfloat (latency, >=, 0);
  g_test_message ("UPower: battery noticed after %.1f ms",
                  (g_get_monotonic_time () - start) / 1000.0);
  g_assert_true (kiln_idle_monitor_get_on_battery (monitor));
  g_assert_cmpint (kiln_idle_monitor_get_reason (monitor), ==, KILN_IDLE_REASON_ON_BATTERY);
  g_assert_cmpstr (kiln_idle_monitor_get_status (monitor), ==, "On battery");

  /* Lending on battery was allowed. */
  kiln_lending_policy_set_lend_on_battery (fixture->policy, TRUE);
  g_assert_true (kiln_idle_monitor_get_idle (monitor));
  kiln_lending_policy_set_lend_on_battery (fixture->policy, FALSE);
  g_assert_false (kiln_idle_monitor_get_idle (monitor));

  fake_upower_set_on_battery (services, FALSE);
  assert_idle (monitor, TRUE);

  /* UPower gone (a server): no battery. */
  fake_upower_set_on_battery (services, TRUE);
  assert_idle (monitor, FALSE);
  fake_upower_own (services, FALSE);
  assert_idle (monitor, TRUE);
}

static void
test_screensaver_fallback (Fixture       *fixture,
                           gconstpointer  data)
{
  FakeServices *services = fixture->services;
  KilnIdleMonitor *monitor;
  double worst = 0;

  fake_screensaver_own (services, TRUE);
  fake_screensaver_set_idle_ms (services, 0);
  monitor = fixture->monitor = new_monitor (fixture, TRUE);

  assert_input (monitor, KILN_IDLE_INPUT_SCREENSAVER);
  g_assert_false (kiln_idle_monitor_get_idle (monitor));

  for (guint round = 0; round < 3; round++)
    {
      gint64 start;
      double latency;

      fake_screensaver_set_idle_ms (services, 6 * 60 * 1000);
      assert_idle (monitor, TRUE);
      start = g_get_monotonic_time ();
      fake_screensaver_set_idle_ms (services, 0);
      latency = wait_for (monitor_is_busy, monitor, 1000);
      g_assert_cmpfloat (latency, >=, 0);
      latency = (g_get_monotonic_time () - start) / 1000.0;
      worst = MAX (worst, latency);
      g_test_message ("ScreenSaver (polled): input noticed after %.1f ms", latency);
    }
  /* Polled twice a second: within a second. */
  g_assert_cmpfloat (worst, <, 1000);

  /* Without GetSessionIdleTime (KDE on Wayland) the locked state decides. */
  fake_screensaver_set_idle_time_supported (services, FALSE);
  fake_screensaver_set_active (services, TRUE);
  assert_idle (monitor, TRUE);
  fake_screensaver_set_active (services, FALSE);
  assert_idle (monitor, FALSE);

  /* Mutter appears: it takes over; it goes: back to the ScreenSaver. */
  fake_mutter_set_idletime (services, 10 * 60 * 1000);
  fake_mutter_own (services, TRUE);
  assert_input (monitor, KILN_IDLE_INPUT_MUTTER);
  assert_idle (monitor, TRUE);
  fake_mutter_own (services, FALSE);
  assert_input (monitor, KILN_IDLE_INPUT_SCREENSAVER);
  assert_idle (monitor, FALSE);
}

static void
test_headless (Fixture       *fixture,
               gconstpointer  data)
{
  KilnIdleMonitor *monitor;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  guint today = 1u << (g_date_time_get_day_of_week (now) - 1);

  /* Nobody at the machine: input does not count, whatever Mutter says. */
  fake_mutter_own (fixture->services, TRUE);
  fake_mutter_set_idletime (fixture->services, 0);
  monitor = fixture->monitor = new_monitor (fixture, FALSE);
  assert_input (monitor, KILN_IDLE_INPUT_NONE);
  assert_idle (monitor, TRUE);

  /* The schedule still holds it back. */
  kiln_lending_policy_set_schedule (fixture->policy, KILN_WEEKDAY_ALL & ~today, 0, 0);
  g_assert_false (kiln_idle_monitor_get_idle (monitor));
  g_assert_cmpint (kiln_idle_monitor_get_reason (monitor), ==,
                   KILN_IDLE_REASON_OUTSIDE_SCHEDULE);
  g_assert_cmpstr (kiln_idle_monitor_get_status (monitor), ==, "Outside the lending schedule");
  kiln_lending_policy_set_schedule (fixture->policy, today, 0, 0);
  g_assert_true (kiln_idle_monitor_get_idle (monitor));
}

static gboolean
monitor_cpu_busy (gpointer data)
{
  return kiln_idle_monitor_get_reason (data) == KILN_IDLE_REASON_CPU_BUSY;
}

static gboolean
monitor_counts_own (gpointer data)
{
  return kiln_idle_monitor_get_own_cpu_percent (data) > 5;
}

static void
test_cpu (Fixture       *fixture,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) spinner = NULL;
  KilnIdleMonitor *monitor;
  const char *status;
  GPid pid;

  spinner = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                              "sh", "-c", "while :; do :; done", NULL);
  g_assert_no_error (error);
  pid = (GPid) atoi (g_subprocess_get_identifier (spinner));

  kiln_lending_policy_set_cpu_threshold_percent (fixture->policy, 1);
  monitor = fixture->monitor = new_monitor (fixture, FALSE);

  /* The spinner alone takes most of a CPU. */
  g_assert_cmpfloat (wait_for (monitor_cpu_busy, monitor, 7000), >=, 0);
  status = kiln_idle_monitor_get_status (monitor);
  g_assert_true (g_str_has_prefix (status, "Other programs are busy (CPU "));
  g_assert_true (g_str_has_suffix (status, " %)"));
  g_test_message ("%s", status);

  /* Made ours, its use is counted apart. */
  kiln_idle_monitor_add_own_process (monitor, pid);
  g_assert_cmpfloat (wait_for (monitor_counts_own, monitor, 7000), >=, 0);
  g_test_message ("own %.0f %%, others %.0f %%",
                  kiln_idle_monitor_get_own_cpu_percent (monitor),
                  kiln_idle_monitor_get_other_cpu_percent (monitor));
  g_assert_cmpfloat (kiln_idle_monitor_get_own_cpu_percent (monitor) +
                     kiln_idle_monitor_get_other_cpu_percent (monitor), <=, 100.0);

  kiln_lending_policy_set_cpu_threshold_percent (fixture->policy, 100);
  g_assert_true (kiln_idle_monitor_get_idle (monitor));

  g_subprocess_force_exit (spinner);
  g_subprocess_wait (spinner, NULL, NULL);
}

/* Provider: pausing a real render ------------------------------------------------------- */

static struct
{
  char        *root;      /* a temporary folder */
  char        *scenes;
  KilnBlender *blender;
} env;

static void
make_scenes (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "data", "scenes",
                                                   "make-scenes.py", NULL);
  g_autofree char *markers = g_build_filename (env.root, "markers", NULL);
  g_autofree char *output = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  const char * const argv[] = {
    kiln_blender_get_path (env.blender), "-b", "--factory-startup", "-noaudio",
    "--python-exit-code", "1", "--python", script, "--", env.scenes, "9", markers, NULL
  };

  g_assert_cmpint (g_mkdir (env.scenes, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (markers, 0700), ==, 0);
  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                     G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process) || strstr (output, "KILN-SCENES-DONE") == NULL)
    g_error ("make-scenes.py failed:\n%s", output);
}

/* The states ('R', 'S', 'T', …) of every process whose command line mentions @needle
 * (the render's own output folder: bubblewrap's and Blender's). */
static GString *
process_states (const char *needle)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  GString *states = g_string_new (NULL);
  const char *name;

  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *cmdline = NULL;
      g_autofree char *stat = NULL;
      gsize len;
      const char *end;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_build_filename ("/proc", name, "cmdline", NULL);
      if (!g_file_get_contents (path, &cmdline, &len, NULL) || len == 0)
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, needle) == NULL)
        continue;
      g_free (path);
      path = g_build_filename ("/proc", name, "stat", NULL);
      if (!g_file_get_contents (path, &stat, NULL, NULL) ||
          (end = strrchr (stat, ')')) == NULL)
        continue;
      g_string_append_c (states, end[2]);
    }
  return states;
}

static const char *states_needle;

static gboolean
all_stopped (gpointer data)
{
  g_autoptr(GString) states = process_states (states_needle);

  /* bubblewrap outside, bubblewrap as the sandbox's init, Blender. */
  return states->len >= 3 && strspn (states->str, "Tt") == states->len;
}

static gboolean
none_stopped (gpointer data)
{
  g_autoptr(GString) states = process_states (states_needle);

  return states->len >= 3 && strpbrk (states->str, "Tt") == NULL;
}

static gboolean
none_left (gpointer data)
{
  g_autoptr(GString) states = process_states (states_needle);

  return states->len == 0;
}

static gboolean
has_progress (gpointer data)
{
  return kiln_blender_output_get_sample (kiln_render_run_get_output (data)) > 0;
}

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
has_result (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static void
on_handed_back (KilnProvider  *provider,
                KilnRenderRun *run,
                guint         *count)
{
  (*count)++;
}

static KilnRenderRun *
start_render (const char     *name,
              char          **out,
              GAsyncResult  **result)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autoptr(KilnRenderSpec) spec = kiln_render_spec_new ();
  KilnRenderRun *run;

  *out = g_build_filename (env.root, name, NULL);
  g_assert_cmpint (g_mkdir (*out, 0700), ==, 0);
  kiln_sandbox_set_cpu_limit (sandbox, 1);
  spec->blend_file = g_build_filename (env.scenes, "slow.blend", NULL);
  spec->output_dir = g_strdup (*out);
  spec->width = 160;
  spec->height = 120;
  spec->samples = 1 << 20;  /* busy for far longer than the test */
  run = kiln_render_run_new (sandbox, env.blender, spec);
  kiln_render_run_execute_async (run, NULL, store_result, result);
  g_assert_cmpint (kiln_render_run_get_pid (run), >, 0);
  return run;
}

static void
test_provider_pause (Fixture       *fixture,
                     gconstpointer  data)
{
  FakeServices *services = fixture->services;
  g_autoptr(KilnProvider) provider = NULL;
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_auto(GStrv) frames = NULL;
  KilnIdleMonitor *monitor;

  fake_mutter_own (services, TRUE);
  fake_mutter_set_idletime (services, 10 * 60 * 1000);
  monitor = fixture->monitor = new_monitor (fixture, TRUE);
  provider = kiln_provider_new (fixture->policy, monitor);
  g_assert_cmpint (kiln_provider_get_state (provider), ==, KILN_PROVIDER_STATE_OFF);
  g_assert_cmpstr (kiln_provider_get_status (provider), ==, "Lending is off");
  kiln_lending_policy_set_enabled (fixture->policy, TRUE);
  assert_idle (monitor, TRUE);
  g_assert_cmpint (kiln_provider_get_state (provider), ==, KILN_PROVIDER_STATE_LENDING);
  g_assert_true (kiln_provider_can_start_work (provider));

  run = start_render ("pause", &out, &result);
  states_needle = out;
  kiln_provider_add_run (provider, run, NULL);
  g_assert_cmpstr (kiln_provider_get_status (provider), ==, "Rendering 1 subtask");
  /* Blender is rendering samples. */
  g_assert_cmpfloat (wait_for (has_progress, run, 60000), >=, 0);
  g_assert_true (none_stopped (NULL));

  for (guint round = 0; round < 3; round++)
    {
      gint64 start = g_get_monotonic_time ();
      guint sample;

      fake_mutter_user_active (services);
      if (wait_for (all_stopped, NULL, 1000) < 0)
        {
          g_autoptr(GString) states = process_states (states_needle);

          g_error ("Not every process stopped, states: %s", states->str);
        }
      g_test_message ("pause: every sandboxed process stopped %.1f ms after the input",
                      (g_get_monotonic_time () - start) / 1000.0);
      g_assert_cmpint (kiln_provider_get_state (provider), ==, KILN_PROVIDER_STATE_PAUSED);
      g_assert_cmpstr (kiln_provider_get_status (provider), ==,
                       "Paused: You are using the computer");
      g_assert_true (kiln_provider_is_run_paused (provider, run));

      /* Stopped means no progress. */
      wait_for (has_result, &result, 300);
      sample = kiln_blender_output_get_sample (kiln_render_run_get_output (run));
      g_usleep (300 * 1000);
      wait_for (has_result, &result, 300);
      g_assert_cmpuint (kiln_blender_output_get_sample (kiln_render_run_get_output (run)), ==,
                        sample);
      g_assert_true (all_stopped (NULL));

      start = g_get_monotonic_time ();
      fake_mutter_set_idletime (services, 10 * 60 * 1000);
      g_assert_cmpfloat (wait_for (none_stopped, NULL, 1000), >=, 0);
      g_test_message ("resume: every sandboxed process running %.1f ms after idle",
                      (g_get_monotonic_time () - start) / 1000.0);
      g_assert_cmpint (kiln_provider_get_state (provider), ==, KILN_PROVIDER_STATE_LENDING);
      g_assert_false (kiln_provider_is_run_paused (provider, run));
    }
  g_assert_null (result);

  /* Switching lending off hands the render back. */
  {
    guint handed_back = 0;

    g_signal_connect (provider, "handed-back", G_CALLBACK (on_handed_back), &handed_back);
    kiln_lending_policy_set_enabled (fixture->policy, FALSE);
    g_assert_cmpuint (handed_back, ==, 1);
    g_assert_cmpint (kiln_provider_get_state (provider), ==, KILN_PROVIDER_STATE_OFF);
    g_assert_cmpuint (kiln_provider_get_n_runs (provider), ==, 0);
  }
  g_assert_cmpfloat (wait_for (has_result, &result, 10000), >=, 0);
  frames = kiln_render_run_execute_finish (run, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpfloat (wait_for (none_left, NULL, 5000), >=, 0);
}

static void
test_provider_hand_back (Fixture       *fixture,
                         gconstpointer  data)
{
  FakeServices *services = fixture->services;
  g_autoptr(KilnProvider) provider = NULL;
  g_autoptr(KilnRenderRun) run = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GDateTime) deadline = NULL;
  g_autofree char *out = NULL;
  g_auto(GStrv) frames = NULL;
  guint handed_back = 0;
  KilnIdleMonitor *monitor;

  fake_mutter_own (services, TRUE);
  fake_mutter_set_idletime (services, 10 * 60 * 1000);
  fake_upower_own (services, TRUE);
  monitor = fixture->monitor = new_monitor (fixture, TRUE);
  kiln_lending_policy_set_enabled (fixture->policy, TRUE);
  provider = kiln_provider_new (fixture->policy, monitor);
  g_signal_connect (provider, "handed-back", G_CALLBACK (on_handed_back), &handed_back);
  assert_idle (monitor, TRUE);

  run = start_render ("hand-back", &out, &result);
  /* Due 2 s after Blender started rendering. */
  g_assert_cmpfloat (wait_for (has_progress, run, 60000), >=, 0);
  now = g_date_time_new_now_utc ();
  deadline = g_date_time_add_seconds (now, 2);
  states_needle = out;
  kiln_provider_add_run (provider, run, deadline);

  /* Unplugged: paused, and still paused at the deadline: handed back. */
  fake_upower_set_on_battery (services, TRUE);
  g_assert_cmpfloat (wait_for (all_stopped, NULL, 1000), >=, 0);
  g_assert_cmpstr (kiln_provider_get_status (provider), ==, "Paused: On battery");
  g_assert_cmpuint (handed_back, ==, 0);
  g_assert_cmpfloat (wait_for (has_result, &result, 10000), >=, 0);
  g_assert_cmpuint (handed_back, ==, 1);
  g_assert_cmpint (kiln_provider_get_state (provider), ==, KILN_PROVIDER_STATE_WAITING);
  g_assert_cmpstr (kiln_provider_get_status (provider), ==, "Waiting: On battery");
  g_assert_false (kiln_provider_can_start_work (provider));
  frames = kiln_render_run_execute_finish (run, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpfloat (wait_for (none_left, NULL, 5000), >=, 0);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  env.root = g_dir_make_tmp ("kiln-idle-test-XXXXXX", &error);
  g_assert_no_error (error);
  env.scenes = g_build_filename (env.root, "scenes", NULL);
  env.blender = kiln_blender_discover (NULL, NULL, &error);
  if (env.blender == NULL)
    g_error ("These tests need Blender (Debian: apt install blender): %s", error->message);
  make_scenes ();

  g_test_add ("/kiln/idle-monitor/mutter", Fixture, NULL,
              fixture_set_up, test_mutter, fixture_tear_down);
  g_test_add ("/kiln/idle-monitor/battery", Fixture, NULL,
              fixture_set_up, test_battery, fixture_tear_down);
  g_test_add ("/kiln/idle-monitor/screensaver-fallback", Fixture, NULL,
              fixture_set_up, test_screensaver_fallback, fixture_tear_down);
  g_test_add ("/kiln/idle-monitor/headless", Fixture, NULL,
              fixture_set_up, test_headless, fixture_tear_down);
  g_test_add ("/kiln/idle-monitor/cpu", Fixture, NULL,
              fixture_set_up, test_cpu, fixture_tear_down);

  g_test_add ("/kiln/provider/pause-resume", Fixture, NULL,
              fixture_set_up, test_provider_pause, fixture_tear_down);
  g_test_add ("/kiln/provider/hand-back", Fixture, NULL,
              fixture_set_up, test_provider_hand_back, fixture_tear_down);

  status = g_test_run ();
  g_clear_object (&env.blender);
  remove_tree (env.root);
  g_free (env.root);
  g_free (env.scenes);
  return status;
}
