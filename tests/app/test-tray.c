/* test-tray.c: the tray indicator as a panel sees it, over a private session bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs inside dbus-run-session. Each test starts the real status-notifier-watcher on that
 * bus, makes a tray over a real lender and provider (a headless idle monitor, so nobody's
 * input holds lending back; no account, so nothing is lent) and reads the item and its menu
 * from a connection of its own, the way a panel would.
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include "kiln-tray.h"

#define WATCHER_NAME      "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH      "/StatusNotifierWatcher"
#define ITEM_INTERFACE    "org.kde.StatusNotifierItem"
#define MENU_INTERFACE    "com.canonical.dbusmenu"
#define TIMEOUT_MS        10000

typedef struct
{
  char     *interface;
  char     *member;
  GVariant *parameters;
} Signal;

typedef struct
{
  GDBusConnection   *bus;       /* the tray's */
  GDBusConnection   *host;      /* the panel's */
  GSubprocess       *watcher;
  KilnLendingPolicy *policy;
  KilnIdleMonitor   *monitor;
  KilnProvider      *provider;
  KilnLender        *lender;
  KilnTray          *tray;
  char              *item_name;
  GPtrArray         *signals;   /* Signal, as the panel received them */
  guint              subscription;
  guint              n_activate;
  guint              n_quit;
} Fixture;

static void
signal_free (Signal *signal)
{
  g_free (signal->interface);
  g_free (signal->member);
  g_variant_unref (signal->parameters);
  g_free (signal);
}

/* Waiting ------------------------------------------------------------------------------- */

typedef gboolean (*Condition) (gpointer data);

static gboolean
wait_for (Condition condition,
          gpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) TIMEOUT_MS * 1000;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static void
on_call_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

/* Calls @method on @connection while the tray, in this same thread, keeps answering. */
static GVariant *
call (GDBusConnection *connection,
      const char      *dest,
      const char      *path,
      const char      *interface,
      const char      *method,
      GVariant        *parameters,
      const char      *reply_type,
      GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_dbus_connection_call (connection, dest, path, interface, method, parameters,
                          reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                          G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS, NULL, on_call_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return g_dbus_connection_call_finish (connection, result, error);
}

static GVariant *
call_ok (GDBusConnection *connection,
         const char      *dest,
         const char      *path,
         const char      *interface,
         const char      *method,
         GVariant        *parameters,
         const char      *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = call (connection, dest, path, interface, method, parameters, reply_type,
                          &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  return reply;
}

/* The watcher --------------------------------------------------------------------------- */

static gboolean
watcher_on_bus (gpointer data)
{
  Fixture *fixture = data;
  g_autoptr(GVariant) reply = call_ok (fixture->host, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "NameHasOwner", g_variant_new ("(s)", WATCHER_NAME),
                                       "(b)");
  gboolean has_owner;

  g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

static void
start_watcher (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (fixture->watcher);
  /* Its stdout would mix with the test's TAP output. */
  fixture->watcher = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                                       "status-notifier-watcher", NULL);
  g_assert_no_error (error);
  g_assert_true (wait_for (watcher_on_bus, fixture));
}

static void
stop_watcher (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (fixture->watcher, SIGTERM);
  g_assert_true (g_subprocess_wait (fixture->watcher, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&fixture->watcher);
}

static char **
watcher_items (Fixture *fixture)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;

  reply = call_ok (fixture->host, WATCHER_NAME, WATCHER_PATH,
                   "org.freedesktop.DBus.Properties", "Get",
                   g_variant_new ("(ss)", WATCHER_NAME, "RegisteredStatusNotifierItems"),
                   "(v)");
  g_variant_get (reply, "(v)", &value);
  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY));
  return g_variant_dup_strv (value, NULL);
}

static gboolean
watcher_lists_item (gpointer data)
{
  Fixture *fixture = data;
  g_auto(GStrv) items = watcher_items (fixture);

  return g_strv_contains ((const char *const *) items, fixture->item_name);
}

static gboolean
watcher_forgot_item (gpointer data)
{
  return !watcher_lists_item (data);
}

static gboolean
tray_registered (gpointer data)
{
  return kiln_tray_get_registered (data);
}

static gboolean
tray_unregistered (gpointer data)
{
  return !kiln_tray_get_registered (data);
}

/* The panel's side ---------------------------------------------------------------------- */

static void
on_host_signal (GDBusConnection *connection,
                const char      *sender,
                const char      *path,
                const char      *interface,
                const char      *member,
                GVariant        *parameters,
                gpointer         user_data)
{
  Fixture *fixture = user_data;
  Signal *signal = g_new0 (Signal, 1);

  signal->interface = g_strdup (interface);
  signal->member = g_strdup (member);
  signal->parameters = g_variant_ref (parameters);
  g_ptr_array_add (fixture->signals, signal);
}

typedef struct
{
  Fixture    *fixture;
  const char *member;
} SignalWait;

static gboolean
signal_received (gpointer data)
{
  SignalWait *wait = data;

  for (guint i = 0; i < wait->fixture->signals->len; i++)
    {
      Signal *signal = g_ptr_array_index (wait->fixture->signals, i);

      if (g_str_equal (signal->member, wait->member))
        return TRUE;
    }
  return FALSE;
}

/* Waits for the tray's signal @member; the parameters of the first one not taken yet. */
static GVariant *
wait_signal (Fixture    *fixture,
             const char *member)
{
  SignalWait wait = { fixture, member };

  g_assert_true (wait_for (signal_received, &wait));
  for (guint i = 0; i < fixture->signals->len; i++)
    {
      Signal *signal = g_ptr_array_index (fixture->signals, i);

      if (g_str_equal (signal->member, member))
        {
          GVariant *parameters = g_variant_ref (signal->parameters);

          g_ptr_array_remove_index (fixture->signals, i);
          return parameters;
        }
    }
  g_assert_not_reached ();
}

/* Waits for a NewStatus saying @status, passing over the ones before it (the lender may go
 * through several states on the way). */
static void
wait_status (Fixture    *fixture,
             const char *status)
{
  for (;;)
    {
      g_autoptr(GVariant) parameters = wait_signal (fixture, "NewStatus");
      const char *text;

      g_assert_cmpstr (g_variant_get_type_string (parameters), ==, "(s)");
      g_variant_get (parameters, "(&s)", &text);
      if (g_str_equal (text, status))
        return;
    }
}

static gboolean
has_signal (Fixture    *fixture,
            const char *member)
{
  SignalWait wait = { fixture, member };

  /* Whatever was sent before this round trip has arrived after it. */
  g_autoptr(GVariant) ping = call_ok (fixture->host, fixture->item_name, KILN_TRAY_MENU_PATH,
                                      "org.freedesktop.DBus.Peer", "Ping", NULL, NULL);

  while (g_main_context_iteration (NULL, FALSE))
    ;
  return signal_received (&wait);
}

static GVariant *
item_property (Fixture    *fixture,
               const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *value;

  reply = call_ok (fixture->host, fixture->item_name, KILN_TRAY_ITEM_PATH,
                   "org.freedesktop.DBus.Properties", "Get",
                   g_variant_new ("(ss)", ITEM_INTERFACE, name), "(v)");
  g_variant_get (reply, "(v)", &value);
  return value;
}

static char *
item_string (Fixture    *fixture,
             const char *name)
{
  g_autoptr(GVariant) value = item_property (fixture, name);

  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING));
  return g_variant_dup_string (value, NULL);
}

static char *
tool_tip_text (Fixture *fixture,
               char   **title)
{
  g_autoptr(GVariant) value = item_property (fixture, "ToolTip");
  g_autoptr(GVariant) pixmaps = NULL;
  g_autofree char *icon_name = NULL;
  char *text;

  g_assert_cmpstr (g_variant_get_type_string (value), ==, "(sa(iiay)ss)");
  g_variant_get (value, "(s@a(iiay)ss)", &icon_name, &pixmaps, title, &text);
  g_assert_cmpuint (g_variant_n_children (pixmaps), ==, 0);
  return text;
}

static GVariant *
menu_call (Fixture    *fixture,
           const char *method,
           GVariant   *parameters,
           const char *reply_type)
{
  return call_ok (fixture->host, fixture->item_name, KILN_TRAY_MENU_PATH, MENU_INTERFACE,
                  method, parameters, reply_type);
}

static void
assert_menu_error (Fixture    *fixture,
                   const char *method,
                   GVariant   *parameters)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call (fixture->host, fixture->item_name, KILN_TRAY_MENU_PATH,
                                    MENU_INTERFACE, method, parameters, NULL, &error);

  g_assert_null (reply);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
}

static void
click (Fixture *fixture,
       gint32   id)
{
  g_autoptr(GVariant) reply =
    menu_call (fixture, "Event",
               g_variant_new ("(isvu)", id, "clicked", g_variant_new_int32 (0), 0), "()");
}

static char *
menu_label (Fixture *fixture,
            gint32   id)
{
  g_autoptr(GVariant) reply = menu_call (fixture, "GetProperty",
                                         g_variant_new ("(is)", id, "label"), "(v)");
  g_autoptr(GVariant) value = NULL;

  g_variant_get (reply, "(v)", &value);
  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING));
  return g_variant_dup_string (value, NULL);
}

/* The provider -------------------------------------------------------------------------- */

static KilnProviderState wanted_state;

static gboolean
provider_in_state (gpointer data)
{
  return kiln_provider_get_state (data) == wanted_state;
}

static void
assert_state (Fixture           *fixture,
              KilnProviderState  state)
{
  wanted_state = state;
  g_assert_true (wait_for (provider_in_state, fixture->provider));
}

/* Fixture ------------------------------------------------------------------------------- */

static void
on_activate (Fixture *fixture)
{
  fixture->n_activate++;
}

static void
on_quit (Fixture *fixture)
{
  fixture->n_quit++;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;

  fixture->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  fixture->host =
    g_dbus_connection_new_for_address_sync (address,
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);
  g_assert_no_error (error);
  fixture->signals = g_ptr_array_new_with_free_func ((GDestroyNotify) signal_free);
  fixture->subscription =
    g_dbus_connection_signal_subscribe (fixture->host,
                                        g_dbus_connection_get_unique_name (fixture->bus),
                                        NULL, NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        on_host_signal, fixture, NULL);

  start_watcher (fixture);

  fixture->policy = kiln_lending_policy_new ();
  /* Other programs' CPU use never holds lending back here: the machine may be busy. */
  kiln_lending_policy_set_cpu_threshold_percent (fixture->policy, 100);
  fixture->monitor = kiln_idle_monitor_new_headless (fixture->policy);
  fixture->provider = kiln_provider_new (fixture->policy, fixture->monitor);
  fixture->lender = kiln_lender_new (fixture->provider, NULL);
  fixture->tray = kiln_tray_new (fixture->bus, fixture->lender, APP_ID);
  g_signal_connect_swapped (fixture->tray, "activate", G_CALLBACK (on_activate), fixture);
  g_signal_connect_swapped (fixture->tray, "quit", G_CALLBACK (on_quit), fixture);

  g_assert_true (wait_for (tray_registered, fixture->tray));
  fixture->item_name = g_strdup (kiln_tray_get_bus_name (fixture->tray));
  g_assert_nonnull (fixture->item_name);
  g_assert_true (g_str_has_prefix (fixture->item_name, "org.kde.StatusNotifierItem-"));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  /* Going away takes the item off the watcher's list. */
  g_assert_finalize_object (g_steal_pointer (&fixture->tray));
  g_assert_true (wait_for (watcher_forgot_item, fixture));

  stop_watcher (fixture);
  g_assert_finalize_object (g_steal_pointer (&fixture->lender));
  g_clear_object (&fixture->provider);
  g_clear_object (&fixture->monitor);
  g_clear_object (&fixture->policy);
  g_dbus_connection_signal_unsubscribe (fixture->host, fixture->subscription);
  g_clear_pointer (&fixture->signals, g_ptr_array_unref);
  g_clear_pointer (&fixture->item_name, g_free);
  g_clear_object (&fixture->host);
  g_clear_object (&fixture->bus);
}

/* Tests --------------------------------------------------------------------------------- */

static void
test_tray_register (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GVariant) owner = NULL;
  const char *unique_name;

  g_assert_true (wait_for (watcher_lists_item, fixture));

  /* The name is the tray's connection's. */
  owner = call_ok (fixture->host, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                   "org.freedesktop.DBus", "GetNameOwner",
                   g_variant_new ("(s)", fixture->item_name), "(s)");
  g_variant_get (owner, "(&s)", &unique_name);
  g_assert_cmpstr (unique_name, ==, g_dbus_connection_get_unique_name (fixture->bus));
}

static void
test_tray_item_properties (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *app_icon = g_strconcat (APP_ID, "-symbolic", NULL);
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) status_args = NULL;
  g_autoptr(GVariant) menu = NULL;
  g_autoptr(GVariant) is_menu = NULL;
  g_autofree char *tip_title = NULL;
  g_autofree char *tip = NULL;
  g_autofree char *status = NULL;
  g_autofree char *icon = NULL;
  GDateTime *now;
  guint minute;
  const char *text;

  /* What a panel reads first. */
  all = call_ok (fixture->host, fixture->item_name, KILN_TRAY_ITEM_PATH,
                 "org.freedesktop.DBus.Properties", "GetAll",
                 g_variant_new ("(s)", ITEM_INTERFACE), "(a{sv})");
  props = g_variant_get_child_value (all, 0);
  g_assert_true (g_variant_lookup (props, "Category", "&s", &text));
  g_assert_cmpstr (text, ==, "ApplicationStatus");
  g_assert_true (g_variant_lookup (props, "Id", "&s", &text));
  g_assert_cmpstr (text, ==, APP_ID);
  g_assert_true (g_variant_lookup (props, "Title", "&s", &text));
  g_assert_cmpstr (text, ==, "Kiln");
  g_assert_true (g_variant_lookup (props, "Status", "&s", &text));
  g_assert_cmpstr (text, ==, "Passive");
  g_assert_true (g_variant_lookup (props, "IconName", "&s", &text));
  g_assert_cmpstr (text, ==, app_icon);
  menu = item_property (fixture, "Menu");
  g_assert_cmpstr (g_variant_get_type_string (menu), ==, "o");
  g_assert_cmpstr (g_variant_get_string (menu, NULL), ==, KILN_TRAY_MENU_PATH);
  is_menu = item_property (fixture, "ItemIsMenu");
  g_assert_false (g_variant_get_boolean (is_menu));

  g_assert_cmpint (kiln_provider_get_state (fixture->provider), ==, KILN_PROVIDER_STATE_OFF);
  tip = tool_tip_text (fixture, &tip_title);
  g_assert_cmpstr (tip_title, ==, "Kiln");
  g_assert_cmpstr (tip, !=, "");
  g_assert_cmpstr (tip, ==, kiln_lender_get_status (fixture->lender));
  g_clear_pointer (&tip, g_free);
  g_clear_pointer (&tip_title, g_free);

  /* Lending on, the computer idle, but no account to lend with: the item asks for
   * attention and says why. */
  kiln_lending_policy_set_enabled (fixture->policy, TRUE);
  assert_state (fixture, KILN_PROVIDER_STATE_LENDING);
  g_assert_cmpint (kiln_lender_get_state (fixture->lender), ==, KILN_LENDER_STATE_BLOCKED);
  wait_status (fixture, "NeedsAttention");
  status = item_string (fixture, "Status");
  g_assert_cmpstr (status, ==, "NeedsAttention");
  g_assert_true (has_signal (fixture, "NewIcon"));
  icon = item_string (fixture, "IconName");
  g_assert_cmpstr (icon, ==, "media-playback-pause-symbolic");
  g_assert_true (has_signal (fixture, "NewToolTip"));
  tip = tool_tip_text (fixture, &tip_title);
  g_assert_cmpstr (tip, ==, kiln_lender_get_status (fixture->lender));
  g_assert_cmpstr (tip, ==, "Waiting: there is no account yet");
  g_clear_pointer (&tip, g_free);
  g_clear_pointer (&tip_title, g_free);
  g_clear_pointer (&status, g_free);
  g_clear_pointer (&icon, g_free);

  /* Outside the schedule, lending waits: the icon says it is held back. */
  now = g_date_time_new_now_local ();
  minute = g_date_time_get_hour (now) * 60 + g_date_time_get_minute (now);
  g_date_time_unref (now);
  g_ptr_array_set_size (fixture->signals, 0);
  kiln_lending_policy_set_schedule (fixture->policy, KILN_WEEKDAY_ALL,
                                    (minute + 120) % KILN_MINUTES_PER_DAY,
                                    (minute + 180) % KILN_MINUTES_PER_DAY);
  assert_state (fixture, KILN_PROVIDER_STATE_WAITING);
  wait_status (fixture, "Active");
  icon = item_string (fixture, "IconName");
  g_assert_cmpstr (icon, ==, "media-playback-pause-symbolic");
  status = item_string (fixture, "Status");
  g_assert_cmpstr (status, ==, "Active");
  g_assert_true (has_signal (fixture, "NewToolTip"));
  tip = tool_tip_text (fixture, &tip_title);
  g_assert_cmpstr (tip, ==, kiln_lender_get_status (fixture->lender));
  g_assert_cmpstr (tip, ==, "Waiting: outside the lending schedule");
  g_clear_pointer (&tip, g_free);
  g_clear_pointer (&tip_title, g_free);
  g_clear_pointer (&status, g_free);
  g_clear_pointer (&icon, g_free);

  /* Off again: passive, with the app's icon. */
  g_ptr_array_set_size (fixture->signals, 0);
  kiln_lending_policy_set_enabled (fixture->policy, FALSE);
  assert_state (fixture, KILN_PROVIDER_STATE_OFF);
  status_args = wait_signal (fixture, "NewStatus");
  g_variant_get (status_args, "(&s)", &text);
  g_assert_cmpstr (text, ==, "Passive");
  g_assert_true (has_signal (fixture, "NewIcon"));
  icon = item_string (fixture, "IconName");
  g_assert_cmpstr (icon, ==, app_icon);
  tip = tool_tip_text (fixture, &tip_title);
  g_assert_cmpstr (tip, ==, kiln_lender_get_status (fixture->lender));
}

/* Checks the layout node @node: @id, the label (NULL: none) and the type (NULL: standard). */
static void
assert_node (GVariant   *node,
             gint32      id,
             const char *label,
             const char *type)
{
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) children = NULL;
  const char *text;
  gint32 node_id;

  g_assert_cmpstr (g_variant_get_type_string (node), ==, "(ia{sv}av)");
  g_variant_get (node, "(i@a{sv}@av)", &node_id, &props, &children);
  g_assert_cmpint (node_id, ==, id);
  g_assert_cmpuint (g_variant_n_children (children), ==, 0);
  if (label != NULL)
    {
      g_assert_true (g_variant_lookup (props, "label", "&s", &text));
      g_assert_cmpstr (text, ==, label);
    }
  else
    g_assert_false (g_variant_lookup (props, "label", "&s", &text));
  if (type != NULL)
    {
      g_assert_true (g_variant_lookup (props, "type", "&s", &text));
      g_assert_cmpstr (text, ==, type);
    }
  else
    g_assert_false (g_variant_lookup (props, "type", "&s", &text));
}

static void
test_tray_menu_layout (Fixture       *fixture,
                       gconstpointer  data)
{
  static const struct {
    gint32      id;
    const char *label;
    const char *type;
  } items[] = {
    { KILN_TRAY_MENU_TOGGLE_LENDING, "_Pause Lending", NULL },
    { KILN_TRAY_MENU_SEPARATOR, NULL, "separator" },
    { KILN_TRAY_MENU_OPEN, "_Open Kiln", NULL },
    { KILN_TRAY_MENU_QUIT, "_Quit", NULL },
  };
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) root = NULL;
  g_autoptr(GVariant) root_props = NULL;
  g_autoptr(GVariant) children = NULL;
  g_autoptr(GVariant) single = NULL;
  g_autoptr(GVariant) group = NULL;
  g_autoptr(GVariant) label = NULL;
  g_autoptr(GVariant) shown = NULL;
  g_autoptr(GVariant) shown_group = NULL;
  const char *text;
  guint32 version, revision;
  gint32 root_id;
  gboolean need_update;

  all = call_ok (fixture->host, fixture->item_name, KILN_TRAY_MENU_PATH,
                 "org.freedesktop.DBus.Properties", "GetAll",
                 g_variant_new ("(s)", MENU_INTERFACE), "(a{sv})");
  props = g_variant_get_child_value (all, 0);
  g_assert_true (g_variant_lookup (props, "Version", "u", &version));
  g_assert_cmpuint (version, ==, 3);
  g_assert_true (g_variant_lookup (props, "Status", "&s", &text));
  g_assert_cmpstr (text, ==, "normal");
  g_assert_true (g_variant_lookup (props, "TextDirection", "&s", &text));
  g_assert_cmpstr (text, ==, "ltr");

  kiln_lending_policy_set_enabled (fixture->policy, TRUE);

  /* The whole menu. */
  reply = menu_call (fixture, "GetLayout",
                     g_variant_new ("(ii^as)", 0, -1, (const char *const[]) { NULL }),
                     "(u(ia{sv}av))");
  g_variant_get (reply, "(u@(ia{sv}av))", &revision, &root);
  g_assert_cmpuint (revision, >, 0);
  g_variant_get (root, "(i@a{sv}@av)", &root_id, &root_props, &children);
  g_assert_cmpint (root_id, ==, KILN_TRAY_MENU_ROOT);
  g_assert_true (g_variant_lookup (root_props, "children-display", "&s", &text));
  g_assert_cmpstr (text, ==, "submenu");
  g_assert_cmpuint (g_variant_n_children (children), ==, G_N_ELEMENTS (items));
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (children, i);
      g_autoptr(GVariant) node = g_variant_get_variant (boxed);

      assert_node (node, items[i].id, items[i].label, items[i].type);
    }
  g_clear_pointer (&reply, g_variant_unref);
  g_clear_pointer (&root, g_variant_unref);
  g_clear_pointer (&root_props, g_variant_unref);
  g_clear_pointer (&children, g_variant_unref);

  /* Depth 0: the root alone. */
  reply = menu_call (fixture, "GetLayout",
                     g_variant_new ("(ii^as)", 0, 0, (const char *const[]) { NULL }),
                     "(u(ia{sv}av))");
  g_variant_get (reply, "(u@(ia{sv}av))", &revision, &root);
  g_variant_get (root, "(i@a{sv}@av)", &root_id, &root_props, &children);
  g_assert_cmpuint (g_variant_n_children (children), ==, 0);
  g_clear_pointer (&reply, g_variant_unref);
  g_clear_pointer (&root, g_variant_unref);
  g_clear_pointer (&root_props, g_variant_unref);
  g_clear_pointer (&children, g_variant_unref);

  /* One item, and only the properties asked for. */
  reply = menu_call (fixture, "GetLayout",
                     g_variant_new ("(ii^as)", KILN_TRAY_MENU_QUIT, -1,
                                    (const char *const[]) { "label", NULL }),
                     "(u(ia{sv}av))");
  g_variant_get (reply, "(u@(ia{sv}av))", &revision, &single);
  assert_node (single, KILN_TRAY_MENU_QUIT, "_Quit", NULL);
  g_variant_get (single, "(i@a{sv}@av)", &root_id, &root_props, &children);
  g_assert_cmpuint (g_variant_n_children (root_props), ==, 1);
  assert_menu_error (fixture, "GetLayout",
                     g_variant_new ("(ii^as)", 42, -1, (const char *const[]) { NULL }));

  /* Several items at once; unknown ids are left out, no ids means all. */
  group = menu_call (fixture, "GetGroupProperties",
                     g_variant_new ("(@ai^as)",
                                    g_variant_new_fixed_array (G_VARIANT_TYPE_INT32,
                                                               (gint32[]) { 1, 42, 4 }, 3,
                                                               sizeof (gint32)),
                                    (const char *const[]) { "label", NULL }),
                     "(a(ia{sv}))");
  {
    g_autoptr(GVariant) list = g_variant_get_child_value (group, 0);
    g_autoptr(GVariant) first = g_variant_get_child_value (list, 0);
    g_autoptr(GVariant) second = g_variant_get_child_value (list, 1);
    g_autoptr(GVariant) first_props = NULL;
    g_autoptr(GVariant) second_props = NULL;
    gint32 id;

    g_assert_cmpuint (g_variant_n_children (list), ==, 2);
    g_variant_get (first, "(i@a{sv})", &id, &first_props);
    g_assert_cmpint (id, ==, 1);
    g_assert_true (g_variant_lookup (first_props, "label", "&s", &text));
    g_assert_cmpstr (text, ==, "_Pause Lending");
    g_assert_cmpuint (g_variant_n_children (first_props), ==, 1);
    g_variant_get (second, "(i@a{sv})", &id, &second_props);
    g_assert_cmpint (id, ==, 4);
    g_assert_true (g_variant_lookup (second_props, "label", "&s", &text));
    g_assert_cmpstr (text, ==, "_Quit");
  }
  g_clear_pointer (&group, g_variant_unref);
  group = menu_call (fixture, "GetGroupProperties",
                     g_variant_new ("(@ai^as)",
                                    g_variant_new_array (G_VARIANT_TYPE_INT32, NULL, 0),
                                    (const char *const[]) { NULL }),
                     "(a(ia{sv}))");
  {
    g_autoptr(GVariant) list = g_variant_get_child_value (group, 0);

    g_assert_cmpuint (g_variant_n_children (list), ==, 5);
  }

  /* One property. */
  label = menu_call (fixture, "GetProperty",
                     g_variant_new ("(is)", KILN_TRAY_MENU_OPEN, "label"), "(v)");
  {
    g_autoptr(GVariant) value = NULL;

    g_variant_get (label, "(v)", &value);
    g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "_Open Kiln");
  }
  assert_menu_error (fixture, "GetProperty",
                     g_variant_new ("(is)", KILN_TRAY_MENU_SEPARATOR, "label"));
  assert_menu_error (fixture, "GetProperty", g_variant_new ("(is)", 42, "label"));

  /* Nothing to refresh before the menu opens. */
  shown = menu_call (fixture, "AboutToShow", g_variant_new ("(i)", 0), "(b)");
  g_variant_get (shown, "(b)", &need_update);
  g_assert_false (need_update);
  assert_menu_error (fixture, "AboutToShow", g_variant_new ("(i)", 42));
  shown_group = menu_call (fixture, "AboutToShowGroup",
                           g_variant_new ("(@ai)",
                                          g_variant_new_fixed_array (G_VARIANT_TYPE_INT32,
                                                                     (gint32[]) { 0, 1, 42 },
                                                                     3, sizeof (gint32))),
                           "(aiai)");
  {
    g_autoptr(GVariant) updates = g_variant_get_child_value (shown_group, 0);
    g_autoptr(GVariant) errors = g_variant_get_child_value (shown_group, 1);
    gsize n_errors;
    const gint32 *error_ids = g_variant_get_fixed_array (errors, &n_errors, sizeof (gint32));

    g_assert_cmpuint (g_variant_n_children (updates), ==, 0);
    g_assert_cmpuint (n_errors, ==, 1);
    g_assert_cmpint (error_ids[0], ==, 42);
  }
}

/* Waits for ItemsPropertiesUpdated and checks that it gives the lending item @label. */
static void
assert_label_update (Fixture    *fixture,
                     const char *label)
{
  g_autoptr(GVariant) args = wait_signal (fixture, "ItemsPropertiesUpdated");
  g_autoptr(GVariant) updated = NULL;
  g_autoptr(GVariant) removed = NULL;
  g_autoptr(GVariant) item = NULL;
  g_autoptr(GVariant) props = NULL;
  const char *text;
  gint32 id;

  g_assert_cmpstr (g_variant_get_type_string (args), ==, "(a(ia{sv})a(ias))");
  g_variant_get (args, "(@a(ia{sv})@a(ias))", &updated, &removed);
  g_assert_cmpuint (g_variant_n_children (updated), ==, 1);
  g_assert_cmpuint (g_variant_n_children (removed), ==, 0);
  item = g_variant_get_child_value (updated, 0);
  g_variant_get (item, "(i@a{sv})", &id, &props);
  g_assert_cmpint (id, ==, KILN_TRAY_MENU_TOGGLE_LENDING);
  g_assert_true (g_variant_lookup (props, "label", "&s", &text));
  g_assert_cmpstr (text, ==, label);
}

static void
test_tray_menu_toggle (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GVariant) errors = NULL;
  g_autoptr(GVariant) status_args = NULL;
  g_autofree char *label = NULL;
  g_autoptr(GVariant) hovered = NULL;
  const char *status;

  kiln_lending_policy_set_enabled (fixture->policy, TRUE);
  assert_state (fixture, KILN_PROVIDER_STATE_LENDING);
  assert_label_update (fixture, "_Pause Lending");
  label = menu_label (fixture, KILN_TRAY_MENU_TOGGLE_LENDING);
  g_assert_cmpstr (label, ==, "_Pause Lending");
  g_clear_pointer (&label, g_free);
  g_ptr_array_set_size (fixture->signals, 0);

  /* Pause Lending: the policy's switch goes off, and so does the provider. */
  click (fixture, KILN_TRAY_MENU_TOGGLE_LENDING);
  g_assert_false (kiln_lending_policy_get_enabled (fixture->policy));
  g_assert_cmpint (kiln_provider_get_state (fixture->provider), ==, KILN_PROVIDER_STATE_OFF);
  assert_label_update (fixture, "_Resume Lending");
  label = menu_label (fixture, KILN_TRAY_MENU_TOGGLE_LENDING);
  g_assert_cmpstr (label, ==, "_Resume Lending");
  g_clear_pointer (&label, g_free);
  status_args = wait_signal (fixture, "NewStatus");
  g_variant_get (status_args, "(&s)", &status);
  g_assert_cmpstr (status, ==, "Passive");
  g_clear_pointer (&status_args, g_variant_unref);

  /* Other events change nothing. */
  hovered = menu_call (fixture, "Event",
                       g_variant_new ("(isvu)", KILN_TRAY_MENU_TOGGLE_LENDING, "hovered",
                                      g_variant_new_int32 (0), 0), "()");
  g_assert_false (kiln_lending_policy_get_enabled (fixture->policy));
  g_assert_false (has_signal (fixture, "ItemsPropertiesUpdated"));

  /* Resume Lending. */
  g_ptr_array_set_size (fixture->signals, 0);
  click (fixture, KILN_TRAY_MENU_TOGGLE_LENDING);
  g_assert_true (kiln_lending_policy_get_enabled (fixture->policy));
  assert_state (fixture, KILN_PROVIDER_STATE_LENDING);
  assert_label_update (fixture, "_Pause Lending");
  label = menu_label (fixture, KILN_TRAY_MENU_TOGGLE_LENDING);
  g_assert_cmpstr (label, ==, "_Pause Lending");
  g_clear_pointer (&label, g_free);
  /* On and idle, without an account to lend with. */
  wait_status (fixture, "NeedsAttention");

  /* A group of events: the unknown id comes back, the known one is clicked. */
  g_ptr_array_set_size (fixture->signals, 0);
  errors = menu_call (fixture, "EventGroup",
                      g_variant_new_parsed ("([(1, 'clicked', <0>, uint32 0),"
                                            "  (42, 'clicked', <0>, uint32 0)],)"),
                      "(ai)");
  {
    g_autoptr(GVariant) ids = g_variant_get_child_value (errors, 0);
    gsize n_ids;
    const gint32 *id = g_variant_get_fixed_array (ids, &n_ids, sizeof (gint32));

    g_assert_cmpuint (n_ids, ==, 1);
    g_assert_cmpint (id[0], ==, 42);
  }
  g_assert_false (kiln_lending_policy_get_enabled (fixture->policy));
  assert_label_update (fixture, "_Resume Lending");
  assert_menu_error (fixture, "EventGroup",
                     g_variant_new_parsed ("([(42, 'clicked', <0>, uint32 0)],)"));
  assert_menu_error (fixture, "Event",
                     g_variant_new ("(isvu)", 42, "clicked", g_variant_new_int32 (0), 0));

  /* A middle click on the icon switches lending too. */
  g_ptr_array_set_size (fixture->signals, 0);
  g_variant_unref (call_ok (fixture->host, fixture->item_name, KILN_TRAY_ITEM_PATH,
                            ITEM_INTERFACE, "SecondaryActivate", g_variant_new ("(ii)", 5, 5),
                            "()"));
  g_assert_true (kiln_lending_policy_get_enabled (fixture->policy));
  assert_label_update (fixture, "_Pause Lending");
  g_assert_cmpuint (fixture->n_activate, ==, 0);
  g_assert_cmpuint (fixture->n_quit, ==, 0);
}

static void
test_tray_menu_activate_quit (Fixture       *fixture,
                              gconstpointer  data)
{
  click (fixture, KILN_TRAY_MENU_OPEN);
  g_assert_cmpuint (fixture->n_activate, ==, 1);
  g_assert_cmpuint (fixture->n_quit, ==, 0);

  click (fixture, KILN_TRAY_MENU_QUIT);
  g_assert_cmpuint (fixture->n_activate, ==, 1);
  g_assert_cmpuint (fixture->n_quit, ==, 1);

  /* The separator does nothing. */
  click (fixture, KILN_TRAY_MENU_SEPARATOR);
  g_assert_cmpuint (fixture->n_activate, ==, 1);
  g_assert_cmpuint (fixture->n_quit, ==, 1);

  /* A click on the icon itself opens the window. */
  g_variant_unref (call_ok (fixture->host, fixture->item_name, KILN_TRAY_ITEM_PATH,
                            ITEM_INTERFACE, "Activate", g_variant_new ("(ii)", 10, 10), "()"));
  g_assert_cmpuint (fixture->n_activate, ==, 2);
  g_assert_cmpuint (fixture->n_quit, ==, 1);
  g_assert_false (kiln_lending_policy_get_enabled (fixture->policy));
}

static void
test_tray_watcher_restart (Fixture       *fixture,
                           gconstpointer  data)
{
  g_auto(GStrv) items = NULL;

  g_assert_true (wait_for (watcher_lists_item, fixture));

  /* The panel goes away… */
  stop_watcher (fixture);
  g_assert_true (wait_for (tray_unregistered, fixture->tray));

  /* …and comes back with an empty list: the item registers again. */
  start_watcher (fixture);
  g_assert_true (wait_for (tray_registered, fixture->tray));
  g_assert_true (wait_for (watcher_lists_item, fixture));
  items = watcher_items (fixture);
  g_assert_cmpuint (g_strv_length (items), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      g_printerr ("test-tray must run on a private session bus (dbus-run-session)\n");
      return 1;
    }

  g_test_add ("/kiln/tray/register", Fixture, NULL,
              fixture_set_up, test_tray_register, fixture_tear_down);
  g_test_add ("/kiln/tray/item/properties", Fixture, NULL,
              fixture_set_up, test_tray_item_properties, fixture_tear_down);
  g_test_add ("/kiln/tray/menu/layout", Fixture, NULL,
              fixture_set_up, test_tray_menu_layout, fixture_tear_down);
  g_test_add ("/kiln/tray/menu/toggle", Fixture, NULL,
              fixture_set_up, test_tray_menu_toggle, fixture_tear_down);
  g_test_add ("/kiln/tray/menu/activate-quit", Fixture, NULL,
              fixture_set_up, test_tray_menu_activate_quit, fixture_tear_down);
  g_test_add ("/kiln/tray/watcher-restart", Fixture, NULL,
              fixture_set_up, test_tray_watcher_restart, fixture_tear_down);

  return g_test_run ();
}
