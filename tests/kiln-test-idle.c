/* kiln-test-idle.c: the desktop's idle and power services, served on private buses
 *
 * The interfaces are those the real services export: Mutter's IdleMonitor
 * introspection is copied from Mutter (org.gnome.Mutter.IdleMonitor.xml), and, as
 * Mutter does, WatchFired goes only to the client that added the watch.
 *
 * The buses are dbus-daemons of their own that end with the test process, whichever way it
 * ends (GTestDBus's helper misses that once it runs two: the second daemon inherits the pipe
 * the helper waits on).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kiln-test-idle.h"
#include "kiln-test-link.h"
#include "kiln-test-util.h"

static const char mutter_xml[] =
  "<node>"
  "  <interface name='org.gnome.Mutter.IdleMonitor'>"
  "    <method name='GetIdletime'>"
  "      <arg name='idletime' direction='out' type='t'/>"
  "    </method>"
  "    <method name='AddIdleWatch'>"
  "      <arg name='interval' direction='in' type='t'/>"
  "      <arg name='id' direction='out' type='u'/>"
  "    </method>"
  "    <method name='AddUserActiveWatch'>"
  "      <arg name='id' direction='out' type='u'/>"
  "    </method>"
  "    <method name='RemoveWatch'>"
  "      <arg name='id' direction='in' type='u'/>"
  "    </method>"
  "    <signal name='WatchFired'>"
  "      <arg name='id' type='u'/>"
  "    </signal>"
  "  </interface>"
  "</node>";

static const char screensaver_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.ScreenSaver'>"
  "    <method name='GetActive'>"
  "      <arg type='b' direction='out'/>"
  "    </method>"
  "    <method name='GetSessionIdleTime'>"
  "      <arg type='u' direction='out'/>"
  "    </method>"
  "  </interface>"
  "</node>";

static const char upower_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.UPower'>"
  "    <property name='OnBattery' type='b' access='read'/>"
  "  </interface>"
  "</node>";

typedef struct
{
  guint    id;
  guint64  interval;   /* 0: a user-active watch */
  char    *sender;
  gboolean fired;
} Watch;

typedef struct
{
  GDBusConnection *connection;
  guint            registration;
  guint            owner_id;
  gboolean         acquired;
} Service;

/* A private bus: a dbus-daemon that lets anyone own any name and activates nothing. */
typedef struct
{
  GSubprocess *daemon;
  char        *address;
} Bus;

struct _FakeServices
{
  Bus        session;
  Bus        system;
  Service    mutter;
  Service    screensaver;
  Service    upower;

  GArray    *watches;     /* Watch */
  guint      next_watch;
  guint64    idletime;
  guint32    screensaver_idle_ms;
  gboolean   screensaver_idle_supported;
  gboolean   screensaver_active;
  gboolean   on_battery;
};

static void
watch_clear (Watch *watch)
{
  g_free (watch->sender);
}

static void
emit_fired (FakeServices *services,
            Watch        *watch)
{
  g_autoptr(GError) error = NULL;

  g_dbus_connection_emit_signal (services->mutter.connection, watch->sender,
                                 "/org/gnome/Mutter/IdleMonitor/Core",
                                 "org.gnome.Mutter.IdleMonitor", "WatchFired",
                                 g_variant_new ("(u)", watch->id), &error);
  g_assert_no_error (error);
}

static guint
add_watch (FakeServices *services,
           const char   *sender,
           guint64       interval)
{
  Watch watch = { ++services->next_watch, interval, g_strdup (sender), FALSE };

  g_array_append_val (services->watches, watch);
  return watch.id;
}

static void
mutter_method (GDBusConnection       *connection,
               const char            *sender,
               const char            *path,
               const char            *interface,
               const char            *method,
               GVariant              *parameters,
               GDBusMethodInvocation *invocation,
               gpointer               user_data)
{
  FakeServices *services = user_data;

  if (g_str_equal (method, "GetIdletime"))
    {
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(t)", services->idletime));
    }
  else if (g_str_equal (method, "AddIdleWatch"))
    {
      guint64 interval;

      g_variant_get (parameters, "(t)", &interval);
      if (interval == 0)
        g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR,
                                                       G_DBUS_ERROR_INVALID_ARGS,
                                                       "Invalid idle interval");
      else
        g_dbus_method_invocation_return_value (invocation,
                                               g_variant_new ("(u)",
                                                              add_watch (services, sender,
                                                                         interval)));
    }
  else if (g_str_equal (method, "AddUserActiveWatch"))
    {
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(u)",
                                                            add_watch (services, sender, 0)));
    }
  else /* RemoveWatch */
    {
      guint id;

      g_variant_get (parameters, "(u)", &id);
      for (guint i = 0; i < services->watches->len; i++)
        if (g_array_index (services->watches, Watch, i).id == id)
          {
            g_array_remove_index (services->watches, i);
            break;
          }
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
}

static void
screensaver_method (GDBusConnection       *connection,
                    const char            *sender,
                    const char            *path,
                    const char            *interface,
                    const char            *method,
                    GVariant              *parameters,
                    GDBusMethodInvocation *invocation,
                    gpointer               user_data)
{
  FakeServices *services = user_data;

  if (g_str_equal (method, "GetActive"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(b)", services->screensaver_active));
  else if (!services->screensaver_idle_supported)
    g_dbus_method_invocation_return_dbus_error (invocation,
                                                "org.freedesktop.DBus.Error.NotSupported",
                                                "GetSessionIdleTime is not supported on "
                                                "this platform");
  else
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(u)",
                                                          services->screensaver_idle_ms));
}

static GVariant *
upower_get_property (GDBusConnection  *connection,
                     const char       *sender,
                     const char       *path,
                     const char       *interface,
                     const char       *property,
                     GError          **error,
                     gpointer          user_data)
{
  FakeServices *services = user_data;

  return g_variant_new_boolean (services->on_battery);
}

/* Buses ----------------------------------------------------------------------------------- */

static const char bus_config[] =
  "<busconfig>\n"
  "  <type>session</type>\n"
  "  <listen>unix:tmpdir=/tmp</listen>\n"
  "  <policy context='default'>\n"
  "    <allow send_destination='*' eavesdrop='true'/>\n"
  "    <allow eavesdrop='true'/>\n"
  "    <allow own='*'/>\n"
  "  </policy>\n"
  "</busconfig>\n";

static void
bus_start (Bus *bus)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_arg = NULL;
  int fd;

  fd = g_file_open_tmp ("kiln-test-bus-XXXXXX.conf", &config, &error);
  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (config, bus_config, -1, &error);
  g_assert_no_error (error);

  /* The daemon prints its address once it listens. */
  config_arg = g_strconcat ("--config-file=", config, NULL);
  launcher = kiln_test_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  bus->daemon = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", "--nofork",
                                             "--print-address", config_arg, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus->daemon));
  /* The pipe stays open with the daemon: nothing it writes may fail. */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  bus->address = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (bus->address);
  g_unlink (config);
}

static void
bus_stop (Bus *bus)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (bus->daemon, SIGTERM);
  g_subprocess_wait (bus->daemon, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&bus->daemon);
  g_clear_pointer (&bus->address, g_free);
}

/* Services -------------------------------------------------------------------------------- */

static void
service_start (FakeServices              *services,
               Service                   *service,
               Bus                       *bus,
               const char                *xml,
               const char                *path,
               const GDBusInterfaceVTable *vtable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (xml, &error);

  g_assert_no_error (error);
  service->connection =
    g_dbus_connection_new_for_address_sync (bus->address,
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);
  g_assert_no_error (error);
  service->registration = g_dbus_connection_register_object (service->connection, path,
                                                             info->interfaces[0], vtable,
                                                             services, NULL, &error);
  g_assert_no_error (error);
}

static void
on_acquired (GDBusConnection *connection,
             const char      *name,
             gpointer         user_data)
{
  ((Service *) user_data)->acquired = TRUE;
}

static void
service_own (Service    *service,
             const char *name,
             gboolean    own)
{
  if (own && service->owner_id == 0)
    {
      service->acquired = FALSE;
      service->owner_id = g_bus_own_name_on_connection (service->connection, name,
                                                        G_BUS_NAME_OWNER_FLAGS_NONE,
                                                        on_acquired, NULL, service, NULL);
      while (!service->acquired)
        g_main_context_iteration (NULL, TRUE);
    }
  else if (!own && service->owner_id != 0)
    {
      g_clear_handle_id (&service->owner_id, g_bus_unown_name);
    }
}

static void
service_stop (Service *service)
{
  g_clear_handle_id (&service->owner_id, g_bus_unown_name);
  g_dbus_connection_unregister_object (service->connection, service->registration);
  g_dbus_connection_close_sync (service->connection, NULL, NULL);
  g_clear_object (&service->connection);
}

FakeServices *
fake_services_new (void)
{
  static const GDBusInterfaceVTable mutter_vtable = { mutter_method, NULL, NULL, { 0 } };
  static const GDBusInterfaceVTable screensaver_vtable = { screensaver_method, NULL, NULL,
                                                           { 0 } };
  static const GDBusInterfaceVTable upower_vtable = { NULL, upower_get_property, NULL,
                                                      { 0 } };
  FakeServices *services = g_new0 (FakeServices, 1);

  /* Nothing in the test reaches the desktop's own buses: connections to the private ones
   * come from fake_services_connect(). */
  g_test_dbus_unset ();
  bus_start (&services->session);
  bus_start (&services->system);
  services->watches = g_array_new (FALSE, FALSE, sizeof (Watch));
  g_array_set_clear_func (services->watches, (GDestroyNotify) watch_clear);
  services->screensaver_idle_supported = TRUE;

  service_start (services, &services->mutter, &services->session, mutter_xml,
                 "/org/gnome/Mutter/IdleMonitor/Core", &mutter_vtable);
  service_start (services, &services->screensaver, &services->session, screensaver_xml,
                 "/org/freedesktop/ScreenSaver", &screensaver_vtable);
  service_start (services, &services->upower, &services->system, upower_xml,
                 "/org/freedesktop/UPower", &upower_vtable);
  return services;
}

void
fake_services_free (FakeServices *services)
{
  service_stop (&services->mutter);
  service_stop (&services->screensaver);
  service_stop (&services->upower);
  g_array_unref (services->watches);
  bus_stop (&services->system);
  bus_stop (&services->session);
  g_free (services);
}

GDBusConnection *
fake_services_connect (FakeServices *services,
                       gboolean      system)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  connection = g_dbus_connection_new_for_address_sync (
    system ? services->system.address : services->session.address,
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

/* Mutter ---------------------------------------------------------------------------------- */

void
fake_mutter_own (FakeServices *services,
                 gboolean      own)
{
  /* A Mutter that goes forgets every watch. */
  if (!own)
    g_array_set_size (services->watches, 0);
  service_own (&services->mutter, "org.gnome.Mutter.IdleMonitor", own);
}

void
fake_mutter_set_idletime (FakeServices *services,
                          guint64       ms)
{
  services->idletime = ms;
  for (guint i = 0; i < services->watches->len; i++)
    {
      Watch *watch = &g_array_index (services->watches, Watch, i);

      if (watch->interval > 0 && !watch->fired && watch->interval <= ms)
        {
          watch->fired = TRUE;
          emit_fired (services, watch);
        }
    }
}

void
fake_mutter_user_active (FakeServices *services)
{
  services->idletime = 0;
  for (guint i = 0; i < services->watches->len;)
    {
      Watch *watch = &g_array_index (services->watches, Watch, i);

      if (watch->interval == 0)
        {
          emit_fired (services, watch);
          g_array_remove_index (services->watches, i);
          continue;
        }
      watch->fired = FALSE;
      i++;
    }
}

static guint
count_watches (FakeServices *services,
               gboolean      idle)
{
  guint count = 0;

  for (guint i = 0; i < services->watches->len; i++)
    if ((g_array_index (services->watches, Watch, i).interval > 0) == idle)
      count++;
  return count;
}

gboolean
fake_mutter_has_idle_watch (FakeServices *services)
{
  return count_watches (services, TRUE) > 0;
}

gboolean
fake_mutter_has_active_watch (FakeServices *services)
{
  return count_watches (services, FALSE) > 0;
}

guint64
fake_mutter_get_idle_interval (FakeServices *services)
{
  for (guint i = 0; i < services->watches->len; i++)
    if (g_array_index (services->watches, Watch, i).interval > 0)
      return g_array_index (services->watches, Watch, i).interval;
  return 0;
}

gboolean
fake_mutter_idle_interval_is (FakeServices *services)
{
  return count_watches (services, TRUE) == 1 &&
         fake_mutter_get_idle_interval (services) == 2 * 60 * 1000;
}

/* ScreenSaver ----------------------------------------------------------------------------- */

void
fake_screensaver_own (FakeServices *services,
                      gboolean      own)
{
  service_own (&services->screensaver, "org.freedesktop.ScreenSaver", own);
}

void
fake_screensaver_set_idle_ms (FakeServices *services,
                              guint32       ms)
{
  services->screensaver_idle_ms = ms;
}

void
fake_screensaver_set_idle_time_supported (FakeServices *services,
                                          gboolean      supported)
{
  services->screensaver_idle_supported = supported;
}

void
fake_screensaver_set_active (FakeServices *services,
                             gboolean      active)
{
  services->screensaver_active = active;
}

/* UPower ---------------------------------------------------------------------------------- */

void
fake_upower_own (FakeServices *services,
                 gboolean      own)
{
  service_own (&services->upower, "org.freedesktop.UPower", own);
}

void
fake_upower_set_on_battery (FakeServices *services,
                            gboolean      on_battery)
{
  g_autoptr(GError) error = NULL;
  GVariantBuilder changed;

  services->on_battery = on_battery;
  g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&changed, "{sv}", "OnBattery", g_variant_new_boolean (on_battery));
  g_dbus_connection_emit_signal (services->upower.connection, NULL, "/org/freedesktop/UPower",
                                 "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                 g_variant_new ("(sa{sv}as)", "org.freedesktop.UPower",
                                                &changed, NULL),
                                 &error);
  g_assert_no_error (error);
}

static gboolean
monitor_is_idle (gpointer data)
{
  return kiln_idle_monitor_get_idle (data);
}

KilnProvider *
kiln_test_idle_provider_new (FakeServices *services,
                             guint         cores)
{
  g_autoptr(GDBusConnection) session = NULL;
  g_autoptr(GDBusConnection) system = NULL;
  g_autoptr(KilnLendingPolicy) policy = NULL;
  g_autoptr(KilnIdleMonitor) monitor = NULL;
  g_autoptr(GError) error = NULL;

  fake_mutter_own (services, TRUE);
  fake_mutter_set_idletime (services, 10 * 60 * 1000);
  session = fake_services_connect (services, FALSE);
  system = fake_services_connect (services, TRUE);

  policy = kiln_lending_policy_new ();
  kiln_lending_policy_set_cpu_threshold_percent (policy, 100);
  kiln_lending_policy_set_idle_delay_minutes (policy, 0);
  g_assert_true (kiln_lending_policy_set_min_price (policy, "0.5", &error));
  g_assert_no_error (error);
  kiln_lending_policy_set_cores (policy, cores);
  kiln_lending_policy_set_enabled (policy, TRUE);
  monitor = g_object_new (KILN_TYPE_IDLE_MONITOR,
                          "policy", policy,
                          "session-bus", session,
                          "system-bus", system,
                          NULL);
  kiln_test_wait_until (monitor_is_idle, monitor);

  return kiln_provider_new (policy, monitor);
}
