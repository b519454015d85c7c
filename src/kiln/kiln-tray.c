/* kiln-tray.c: the tray indicator, a StatusNotifierItem with a menu over D-Bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GTK 4 has no tray API, so the item speaks the StatusNotifierItem protocol itself:
 * KDE's panel and GNOME's AppIndicator extension run an org.kde.StatusNotifierWatcher,
 * items own a name of their own and register it there, and the panel reads the item's
 * properties and its com.canonical.dbusmenu menu (kiln-tray-menu.c) from that name.
 */

#include "config.h"

#include <unistd.h>

#include "kiln-tray-private.h"

#define WATCHER_NAME      "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH      "/StatusNotifierWatcher"
#define WATCHER_INTERFACE "org.kde.StatusNotifierWatcher"
#define ITEM_INTERFACE    "org.kde.StatusNotifierItem"

/* A watcher may own its name a moment before it serves its object: registering is tried
 * again after 50 ms, 100 ms, 200 ms… this many times. */
#define MAX_REGISTER_ATTEMPTS 8

/* Lending is on but held back: the computer is in use, work is stopped, or Kiln cannot lend
 * yet. */
#define HELD_BACK_ICON_NAME "media-playback-pause-symbolic"
/* A subtask is being worked on. */
#define RENDERING_ICON_NAME "media-playback-start-symbolic"

static const char item_xml[] =
  "<node>"
  "  <interface name='" ITEM_INTERFACE "'>"
  "    <property name='Category' type='s' access='read'/>"
  "    <property name='Id' type='s' access='read'/>"
  "    <property name='Title' type='s' access='read'/>"
  "    <property name='Status' type='s' access='read'/>"
  "    <property name='WindowId' type='i' access='read'/>"
  "    <property name='IconThemePath' type='s' access='read'/>"
  "    <property name='IconName' type='s' access='read'/>"
  "    <property name='IconPixmap' type='a(iiay)' access='read'/>"
  "    <property name='OverlayIconName' type='s' access='read'/>"
  "    <property name='OverlayIconPixmap' type='a(iiay)' access='read'/>"
  "    <property name='AttentionIconName' type='s' access='read'/>"
  "    <property name='AttentionIconPixmap' type='a(iiay)' access='read'/>"
  "    <property name='AttentionMovieName' type='s' access='read'/>"
  "    <property name='ToolTip' type='(sa(iiay)ss)' access='read'/>"
  "    <property name='Menu' type='o' access='read'/>"
  "    <property name='ItemIsMenu' type='b' access='read'/>"
  "    <method name='ContextMenu'>"
  "      <arg name='x' type='i' direction='in'/>"
  "      <arg name='y' type='i' direction='in'/>"
  "    </method>"
  "    <method name='Activate'>"
  "      <arg name='x' type='i' direction='in'/>"
  "      <arg name='y' type='i' direction='in'/>"
  "    </method>"
  "    <method name='SecondaryActivate'>"
  "      <arg name='x' type='i' direction='in'/>"
  "      <arg name='y' type='i' direction='in'/>"
  "    </method>"
  "    <method name='Scroll'>"
  "      <arg name='delta' type='i' direction='in'/>"
  "      <arg name='orientation' type='s' direction='in'/>"
  "    </method>"
  "    <signal name='NewTitle'/>"
  "    <signal name='NewIcon'/>"
  "    <signal name='NewAttentionIcon'/>"
  "    <signal name='NewOverlayIcon'/>"
  "    <signal name='NewToolTip'/>"
  "    <signal name='NewStatus'>"
  "      <arg name='status' type='s'/>"
  "    </signal>"
  "  </interface>"
  "</node>";

struct _KilnTrayClass
{
  GObjectClass parent_class;
};

enum {
  PROP_0,
  PROP_CONNECTION,
  PROP_LENDER,
  PROP_APP_ID,
  PROP_REGISTERED,
  N_PROPS
};

enum {
  SIGNAL_ACTIVATE,
  SIGNAL_QUIT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KilnTray, kiln_tray, G_TYPE_OBJECT)

/* What the item shows ------------------------------------------------------------------- */

static const char *
item_status (KilnTray *self)
{
  switch (kiln_lender_get_state (self->lender))
    {
    case KILN_LENDER_STATE_OFF:
      return "Passive";
    case KILN_LENDER_STATE_PAUSED:
      /* Work stopped half-way is handed back if the computer stays busy until its
       * deadline: worth a look. */
    case KILN_LENDER_STATE_BLOCKED:
      /* Lending is on but cannot work: no Blender, no network. */
      return "NeedsAttention";
    case KILN_LENDER_STATE_WAITING:
    case KILN_LENDER_STATE_PREPARING:
    case KILN_LENDER_STATE_READY:
    case KILN_LENDER_STATE_RENDERING:
    default:
      return "Active";
    }
}

static const char *
item_icon_name (KilnTray *self)
{
  switch (kiln_lender_get_state (self->lender))
    {
    case KILN_LENDER_STATE_WAITING:
    case KILN_LENDER_STATE_PAUSED:
    case KILN_LENDER_STATE_BLOCKED:
      return HELD_BACK_ICON_NAME;
    case KILN_LENDER_STATE_RENDERING:
      return RENDERING_ICON_NAME;
    case KILN_LENDER_STATE_OFF:
    case KILN_LENDER_STATE_PREPARING:
    case KILN_LENDER_STATE_READY:
    default:
      return self->app_icon_name;
    }
}

static GVariant *
no_pixmaps (void)
{
  return g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0);
}

static GVariant *
item_tool_tip (KilnTray *self)
{
  const char *status = kiln_lender_get_status (self->lender);

  return g_variant_new ("(s@a(iiay)ss)", item_icon_name (self), no_pixmaps (), "Kiln",
                        status != NULL ? status : "");
}

static GVariant *
item_get_property (GDBusConnection *connection,
                   const char      *sender,
                   const char      *object_path,
                   const char      *interface_name,
                   const char      *property_name,
                   GError         **error,
                   gpointer         user_data)
{
  KilnTray *self = user_data;

  if (g_str_equal (property_name, "Category"))
    return g_variant_new_string ("ApplicationStatus");
  if (g_str_equal (property_name, "Id"))
    return g_variant_new_string (self->app_id);
  if (g_str_equal (property_name, "Title"))
    return g_variant_new_string ("Kiln");
  if (g_str_equal (property_name, "Status"))
    return g_variant_new_string (item_status (self));
  if (g_str_equal (property_name, "WindowId"))
    return g_variant_new_int32 (0);
  if (g_str_equal (property_name, "IconName"))
    return g_variant_new_string (item_icon_name (self));
  if (g_str_equal (property_name, "AttentionIconName"))
    return g_variant_new_string (HELD_BACK_ICON_NAME);
  if (g_str_equal (property_name, "IconThemePath") ||
      g_str_equal (property_name, "OverlayIconName") ||
      g_str_equal (property_name, "AttentionMovieName"))
    return g_variant_new_string ("");
  if (g_str_equal (property_name, "IconPixmap") ||
      g_str_equal (property_name, "OverlayIconPixmap") ||
      g_str_equal (property_name, "AttentionIconPixmap"))
    return no_pixmaps ();
  if (g_str_equal (property_name, "ToolTip"))
    return item_tool_tip (self);
  if (g_str_equal (property_name, "Menu"))
    return g_variant_new_object_path (KILN_TRAY_MENU_PATH);
  if (g_str_equal (property_name, "ItemIsMenu"))
    return g_variant_new_boolean (FALSE);

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
               "No such property: %s", property_name);
  return NULL;
}

static void
item_method_call (GDBusConnection       *connection,
                  const char            *sender,
                  const char            *object_path,
                  const char            *interface_name,
                  const char            *method_name,
                  GVariant              *parameters,
                  GDBusMethodInvocation *invocation,
                  gpointer               user_data)
{
  KilnTray *self = user_data;

  /* The reply goes first: what the click does may end the app. */
  g_dbus_method_invocation_return_value (invocation, NULL);

  if (g_str_equal (method_name, "Activate"))
    kiln_tray_emit_activate (self);
  else if (g_str_equal (method_name, "SecondaryActivate"))
    /* A middle click switches lending on or off, as the menu's first item does. */
    kiln_tray_toggle_lending (self);
  else if (g_str_equal (method_name, "ContextMenu"))
    /* Only panels that cannot show the menu ask for this; the window has it all. */
    kiln_tray_emit_activate (self);
  /* "Scroll": there is nothing to scroll through. */
}

static const GDBusInterfaceVTable item_vtable = {
  .method_call = item_method_call,
  .get_property = item_get_property,
};

static void
emit_item_signal (KilnTray   *self,
                  const char *name,
                  GVariant   *parameters)
{
  g_autoptr(GError) error = NULL;

  if (!g_dbus_connection_emit_signal (self->connection, NULL, KILN_TRAY_ITEM_PATH,
                                      ITEM_INTERFACE, name, parameters, &error))
    g_debug ("The tray could not signal %s: %s", name, error->message);
}

static void
on_lender_state (KilnTray *self)
{
  const char *icon_name = item_icon_name (self);
  const char *status = item_status (self);

  if (self->item_registration_id == 0)
    return;
  if (icon_name != self->shown_icon_name)
    {
      self->shown_icon_name = icon_name;
      emit_item_signal (self, "NewIcon", NULL);
    }
  if (status != self->shown_status)
    {
      self->shown_status = status;
      emit_item_signal (self, "NewStatus", g_variant_new ("(s)", status));
    }
}

static void
on_lender_status (KilnTray *self)
{
  if (self->item_registration_id != 0)
    emit_item_signal (self, "NewToolTip", NULL);
}

static void
on_policy_enabled (KilnTray *self)
{
  gboolean enabled = kiln_lending_policy_get_enabled (kiln_provider_get_policy (self->provider));

  if (self->menu_registration_id == 0 || enabled == self->shown_enabled)
    return;
  self->shown_enabled = enabled;
  kiln_tray_menu_lending_changed (self);
}

/* What the menu does -------------------------------------------------------------------- */

void
kiln_tray_toggle_lending (KilnTray *self)
{
  KilnLendingPolicy *policy = kiln_provider_get_policy (self->provider);

  kiln_lending_policy_set_enabled (policy, !kiln_lending_policy_get_enabled (policy));
}

void
kiln_tray_emit_activate (KilnTray *self)
{
  g_signal_emit (self, signals[SIGNAL_ACTIVATE], 0);
}

void
kiln_tray_emit_quit (KilnTray *self)
{
  g_signal_emit (self, signals[SIGNAL_QUIT], 0);
}

/* Registration -------------------------------------------------------------------------- */

static void
set_registered (KilnTray *self,
                gboolean  registered)
{
  if (self->registered == registered)
    return;
  self->registered = registered;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGISTERED]);
}

static void register_item (KilnTray *self);

static gboolean
on_retry_register (gpointer user_data)
{
  KilnTray *self = user_data;

  self->retry_id = 0;
  register_item (self);
  return G_SOURCE_REMOVE;
}

static void
on_registered (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  KilnTray *self;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = KILN_TRAY (user_data);
  if (reply != NULL)
    set_registered (self, TRUE);
  else if (!self->watcher_present)
    g_debug ("The panel left before the tray icon was registered: %s", error->message);
  else if ((g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
            g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE) ||
            g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD)) &&
           self->n_attempts < MAX_REGISTER_ATTEMPTS)
    {
      g_debug ("The panel is not ready for the tray icon yet: %s", error->message);
      g_clear_handle_id (&self->retry_id, g_source_remove);
      self->retry_id = g_timeout_add (25u << self->n_attempts, on_retry_register, self);
    }
  else
    g_warning ("The tray icon could not be shown: the panel refused it (%s)", error->message);
}

static void
register_item (KilnTray *self)
{
  if (!self->name_owned || !self->watcher_present)
    return;
  self->n_attempts++;
  g_dbus_connection_call (self->connection, WATCHER_NAME, WATCHER_PATH, WATCHER_INTERFACE,
                          "RegisterStatusNotifierItem", g_variant_new ("(s)", self->bus_name),
                          NULL, G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
                          on_registered, self);
}

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  KilnTray *self = user_data;

  self->name_owned = TRUE;
  register_item (self);
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  KilnTray *self = user_data;

  /* Names are unique to this process, so only a closed connection takes one away. */
  g_debug ("The tray lost its bus name %s", name);
  self->name_owned = FALSE;
  set_registered (self, FALSE);
}

static void
on_watcher_appeared (GDBusConnection *connection,
                     const char      *name,
                     const char      *owner,
                     gpointer         user_data)
{
  KilnTray *self = user_data;

  self->watcher_present = TRUE;
  self->n_attempts = 0;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  register_item (self);
}

static void
on_watcher_vanished (GDBusConnection *connection,
                     const char      *name,
                     gpointer         user_data)
{
  KilnTray *self = user_data;

  /* The next watcher to appear (the panel restarted) gets the item again. */
  self->watcher_present = FALSE;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  set_registered (self, FALSE);
}

/* The object ---------------------------------------------------------------------------- */

GDBusInterfaceInfo *
kiln_tray_parse_interface (GDBusNodeInfo **node,
                           const char     *xml)
{
  if (g_once_init_enter (node))
    {
      g_autoptr(GError) error = NULL;
      GDBusNodeInfo *info = g_dbus_node_info_new_for_xml (xml, &error);

      g_assert_no_error (error);
      g_once_init_leave (node, info);
    }
  return (*node)->interfaces[0];
}

static GDBusInterfaceInfo *
item_interface_info (void)
{
  static GDBusNodeInfo *node;

  return kiln_tray_parse_interface (&node, item_xml);
}

static void
kiln_tray_constructed (GObject *object)
{
  KilnTray *self = KILN_TRAY (object);
  static gint n_trays;
  g_autoptr(GError) error = NULL;

  G_OBJECT_CLASS (kiln_tray_parent_class)->constructed (object);

  g_assert (G_IS_DBUS_CONNECTION (self->connection));
  g_assert (KILN_IS_LENDER (self->lender));
  g_assert (self->app_id != NULL);

  self->provider = g_object_ref (kiln_lender_get_provider (self->lender));

  self->app_icon_name = g_strconcat (self->app_id, "-symbolic", NULL);
  self->shown_icon_name = item_icon_name (self);
  self->shown_status = item_status (self);
  self->shown_enabled =
    kiln_lending_policy_get_enabled (kiln_provider_get_policy (self->provider));

  self->item_registration_id =
    g_dbus_connection_register_object (self->connection, KILN_TRAY_ITEM_PATH,
                                       item_interface_info (), &item_vtable, self, NULL,
                                       &error);
  if (self->item_registration_id == 0)
    {
      g_critical ("The tray icon cannot be shown: %s", error->message);
      return;
    }
  self->menu_registration_id = kiln_tray_menu_export (self, &error);
  if (self->menu_registration_id == 0)
    {
      g_critical ("The tray menu cannot be shown: %s", error->message);
      return;
    }

  g_signal_connect_object (self->lender, "notify::state", G_CALLBACK (on_lender_state),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->lender, "notify::status", G_CALLBACK (on_lender_status),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (kiln_provider_get_policy (self->provider), "notify::enabled",
                           G_CALLBACK (on_policy_enabled), self, G_CONNECT_SWAPPED);

  self->bus_name = g_strdup_printf ("org.kde.StatusNotifierItem-%d-%d", (int) getpid (),
                                    g_atomic_int_add (&n_trays, 1) + 1);
  self->own_name_id = g_bus_own_name_on_connection (self->connection, self->bus_name,
                                                    G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                    on_name_acquired, on_name_lost,
                                                    self, NULL);
  self->watch_watcher_id = g_bus_watch_name_on_connection (self->connection, WATCHER_NAME,
                                                           G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                           on_watcher_appeared,
                                                           on_watcher_vanished,
                                                           self, NULL);
}

static void
kiln_tray_dispose (GObject *object)
{
  KilnTray *self = KILN_TRAY (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  /* Releasing the name is what takes the item off the panel. */
  g_clear_handle_id (&self->own_name_id, g_bus_unown_name);
  g_clear_handle_id (&self->watch_watcher_id, g_bus_unwatch_name);
  if (self->connection != NULL)
    {
      if (self->item_registration_id != 0)
        g_dbus_connection_unregister_object (self->connection, self->item_registration_id);
      if (self->menu_registration_id != 0)
        g_dbus_connection_unregister_object (self->connection, self->menu_registration_id);
    }
  self->item_registration_id = 0;
  self->menu_registration_id = 0;
  if (self->lender != NULL)
    g_signal_handlers_disconnect_by_data (self->lender, self);
  if (self->provider != NULL)
    g_signal_handlers_disconnect_by_data (kiln_provider_get_policy (self->provider), self);
  self->name_owned = FALSE;
  self->watcher_present = FALSE;
  self->registered = FALSE;
  g_clear_object (&self->provider);
  g_clear_object (&self->lender);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (kiln_tray_parent_class)->dispose (object);
}

static void
kiln_tray_finalize (GObject *object)
{
  KilnTray *self = KILN_TRAY (object);

  g_clear_object (&self->cancellable);
  g_free (self->app_id);
  g_free (self->app_icon_name);
  g_free (self->bus_name);

  G_OBJECT_CLASS (kiln_tray_parent_class)->finalize (object);
}

static void
kiln_tray_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KilnTray *self = KILN_TRAY (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    case PROP_LENDER:
      g_value_set_object (value, self->lender);
      break;
    case PROP_APP_ID:
      g_value_set_string (value, self->app_id);
      break;
    case PROP_REGISTERED:
      g_value_set_boolean (value, self->registered);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_tray_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  KilnTray *self = KILN_TRAY (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      self->connection = g_value_dup_object (value);
      break;
    case PROP_LENDER:
      self->lender = g_value_dup_object (value);
      break;
    case PROP_APP_ID:
      self->app_id = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_tray_class_init (KilnTrayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                G_PARAM_STATIC_STRINGS;

  object_class->constructed = kiln_tray_constructed;
  object_class->dispose = kiln_tray_dispose;
  object_class->finalize = kiln_tray_finalize;
  object_class->get_property = kiln_tray_get_property;
  object_class->set_property = kiln_tray_set_property;

  properties[PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL, G_TYPE_DBUS_CONNECTION, construct);
  properties[PROP_LENDER] =
    g_param_spec_object ("lender", NULL, NULL, KILN_TYPE_LENDER, construct);
  properties[PROP_APP_ID] = g_param_spec_string ("app-id", NULL, NULL, NULL, construct);
  properties[PROP_REGISTERED] =
    g_param_spec_boolean ("registered", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The window should be shown (the icon was clicked, or "Open Kiln" chosen). */
  signals[SIGNAL_ACTIVATE] =
    g_signal_new ("activate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* "Quit" was chosen. */
  signals[SIGNAL_QUIT] =
    g_signal_new ("quit", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kiln_tray_init (KilnTray *self)
{
  self->cancellable = g_cancellable_new ();
}

KilnTray *
kiln_tray_new (GDBusConnection *bus,
               KilnLender      *lender,
               const char      *app_id)
{
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (bus), NULL);
  g_return_val_if_fail (KILN_IS_LENDER (lender), NULL);
  g_return_val_if_fail (app_id != NULL && g_application_id_is_valid (app_id), NULL);

  return g_object_new (KILN_TYPE_TRAY,
                       "connection", bus,
                       "lender", lender,
                       "app-id", app_id,
                       NULL);
}

GDBusConnection *
kiln_tray_get_connection (KilnTray *self)
{
  g_return_val_if_fail (KILN_IS_TRAY (self), NULL);
  return self->connection;
}

KilnLender *
kiln_tray_get_lender (KilnTray *self)
{
  g_return_val_if_fail (KILN_IS_TRAY (self), NULL);
  return self->lender;
}

const char *
kiln_tray_get_app_id (KilnTray *self)
{
  g_return_val_if_fail (KILN_IS_TRAY (self), NULL);
  return self->app_id;
}

const char *
kiln_tray_get_bus_name (KilnTray *self)
{
  g_return_val_if_fail (KILN_IS_TRAY (self), NULL);
  return self->name_owned ? self->bus_name : NULL;
}

gboolean
kiln_tray_get_registered (KilnTray *self)
{
  g_return_val_if_fail (KILN_IS_TRAY (self), FALSE);
  return self->registered;
}
