/* kiln-tray-menu.c: the tray's menu, served as com.canonical.dbusmenu
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The panel draws the menu from the layout this serves: a root (id 0) holding a lending
 * switch, a separator, "Open Kiln" and "Quit". Labels carry dbusmenu's "_" mnemonics.
 * Only the lending item ever changes, and only its label, so the layout keeps revision 1
 * and changes are told with ItemsPropertiesUpdated.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include "kiln-tray-private.h"

#define MENU_INTERFACE "com.canonical.dbusmenu"
#define MENU_REVISION  1

static const char menu_xml[] =
  "<node>"
  "  <interface name='" MENU_INTERFACE "'>"
  "    <property name='Version' type='u' access='read'/>"
  "    <property name='TextDirection' type='s' access='read'/>"
  "    <property name='Status' type='s' access='read'/>"
  "    <property name='IconThemePath' type='as' access='read'/>"
  "    <method name='GetLayout'>"
  "      <arg name='parentId' type='i' direction='in'/>"
  "      <arg name='recursionDepth' type='i' direction='in'/>"
  "      <arg name='propertyNames' type='as' direction='in'/>"
  "      <arg name='revision' type='u' direction='out'/>"
  "      <arg name='layout' type='(ia{sv}av)' direction='out'/>"
  "    </method>"
  "    <method name='GetGroupProperties'>"
  "      <arg name='ids' type='ai' direction='in'/>"
  "      <arg name='propertyNames' type='as' direction='in'/>"
  "      <arg name='properties' type='a(ia{sv})' direction='out'/>"
  "    </method>"
  "    <method name='GetProperty'>"
  "      <arg name='id' type='i' direction='in'/>"
  "      <arg name='name' type='s' direction='in'/>"
  "      <arg name='value' type='v' direction='out'/>"
  "    </method>"
  "    <method name='Event'>"
  "      <arg name='id' type='i' direction='in'/>"
  "      <arg name='eventId' type='s' direction='in'/>"
  "      <arg name='data' type='v' direction='in'/>"
  "      <arg name='timestamp' type='u' direction='in'/>"
  "    </method>"
  "    <method name='EventGroup'>"
  "      <arg name='events' type='a(isvu)' direction='in'/>"
  "      <arg name='idErrors' type='ai' direction='out'/>"
  "    </method>"
  "    <method name='AboutToShow'>"
  "      <arg name='id' type='i' direction='in'/>"
  "      <arg name='needUpdate' type='b' direction='out'/>"
  "    </method>"
  "    <method name='AboutToShowGroup'>"
  "      <arg name='ids' type='ai' direction='in'/>"
  "      <arg name='updatesNeeded' type='ai' direction='out'/>"
  "      <arg name='idErrors' type='ai' direction='out'/>"
  "    </method>"
  "    <signal name='ItemsPropertiesUpdated'>"
  "      <arg name='updatedProps' type='a(ia{sv})'/>"
  "      <arg name='removedProps' type='a(ias)'/>"
  "    </signal>"
  "    <signal name='LayoutUpdated'>"
  "      <arg name='revision' type='u'/>"
  "      <arg name='parent' type='i'/>"
  "    </signal>"
  "    <signal name='ItemActivationRequested'>"
  "      <arg name='id' type='i'/>"
  "      <arg name='timestamp' type='u'/>"
  "    </signal>"
  "  </interface>"
  "</node>";

static gboolean
is_item (gint32 id)
{
  return id >= KILN_TRAY_MENU_ROOT && id <= KILN_TRAY_MENU_QUIT;
}

static const char *
lending_label (KilnTray *self)
{
  if (kiln_lending_policy_get_enabled (kiln_provider_get_policy (self->provider)))
    {
      /* Translators: tray menu item; the underscore marks the access key */
      return _("_Pause Lending");
    }
  /* Translators: tray menu item; the underscore marks the access key */
  return _("_Resume Lending");
}

/* Adds @value under @name unless @names (empty: all) leaves it out. */
static void
add_property (GVariantBuilder    *builder,
              const char *const  *names,
              const char         *name,
              GVariant           *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  if (names == NULL || names[0] == NULL || g_strv_contains (names, name))
    g_variant_builder_add (builder, "{sv}", name, owned);
}

static GVariant *
item_properties (KilnTray          *self,
                 gint32             id,
                 const char *const *names)
{
  GVariantBuilder builder;
  const char *label = NULL;

  g_assert (is_item (id));

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  switch ((KilnTrayMenuItem) id)
    {
    case KILN_TRAY_MENU_ROOT:
      add_property (&builder, names, "children-display", g_variant_new_string ("submenu"));
      return g_variant_builder_end (&builder);
    case KILN_TRAY_MENU_TOGGLE_LENDING:
      label = lending_label (self);
      break;
    case KILN_TRAY_MENU_SEPARATOR:
      add_property (&builder, names, "type", g_variant_new_string ("separator"));
      break;
    case KILN_TRAY_MENU_OPEN:
      /* Translators: tray menu item; the underscore marks the access key */
      label = _("_Open Kiln");
      break;
    case KILN_TRAY_MENU_QUIT:
      /* Translators: tray menu item; the underscore marks the access key */
      label = _("_Quit");
      break;
    default:
      g_assert_not_reached ();
    }

  if (label != NULL)
    add_property (&builder, names, "label", g_variant_new_string (label));
  add_property (&builder, names, "enabled", g_variant_new_boolean (TRUE));
  add_property (&builder, names, "visible", g_variant_new_boolean (TRUE));
  return g_variant_builder_end (&builder);
}

/* @id's (ia{sv}av) node, with its children down to @depth levels (-1: all). */
static GVariant *
layout_node (KilnTray          *self,
             gint32             id,
             gint32             depth,
             const char *const *names)
{
  GVariantBuilder children;

  g_variant_builder_init (&children, G_VARIANT_TYPE ("av"));
  if (id == KILN_TRAY_MENU_ROOT && depth != 0)
    {
      for (gint32 child = KILN_TRAY_MENU_TOGGLE_LENDING; child <= KILN_TRAY_MENU_QUIT; child++)
        g_variant_builder_add (&children, "v",
                               layout_node (self, child, depth < 0 ? -1 : depth - 1, names));
    }
  return g_variant_new ("(i@a{sv}av)", id, item_properties (self, id, names), &children);
}

/* Runs what clicking @id does. */
static void
item_clicked (KilnTray *self,
              gint32    id)
{
  switch ((KilnTrayMenuItem) id)
    {
    case KILN_TRAY_MENU_TOGGLE_LENDING:
      kiln_tray_toggle_lending (self);
      break;
    case KILN_TRAY_MENU_OPEN:
      kiln_tray_emit_activate (self);
      break;
    case KILN_TRAY_MENU_QUIT:
      kiln_tray_emit_quit (self);
      break;
    case KILN_TRAY_MENU_ROOT:
    case KILN_TRAY_MENU_SEPARATOR:
    default:
      break;
    }
}

static void
unknown_item (GDBusMethodInvocation *invocation,
              gint32                 id)
{
  g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                         "The menu has no item %d", id);
}

static void
get_layout (KilnTray              *self,
            GVariant              *parameters,
            GDBusMethodInvocation *invocation)
{
  g_autofree const char **names = NULL;
  gint32 parent, depth;

  g_variant_get (parameters, "(ii^a&s)", &parent, &depth, &names);
  if (!is_item (parent))
    {
      unknown_item (invocation, parent);
      return;
    }
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(u@(ia{sv}av))", MENU_REVISION,
                                                        layout_node (self, parent, depth,
                                                                     names)));
}

static void
get_group_properties (KilnTray              *self,
                      GVariant              *parameters,
                      GDBusMethodInvocation *invocation)
{
  g_autoptr(GVariant) ids = NULL;
  g_autofree const char **names = NULL;
  GVariantBuilder builder;
  gsize n_ids;
  const gint32 *id;

  g_variant_get (parameters, "(@ai^a&s)", &ids, &names);
  id = g_variant_get_fixed_array (ids, &n_ids, sizeof (gint32));

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ia{sv})"));
  if (n_ids == 0)
    {
      /* No ids: every item. */
      for (gint32 item = KILN_TRAY_MENU_ROOT; item <= KILN_TRAY_MENU_QUIT; item++)
        g_variant_builder_add (&builder, "(i@a{sv})", item, item_properties (self, item, names));
    }
  for (gsize i = 0; i < n_ids; i++)
    {
      if (is_item (id[i]))
        g_variant_builder_add (&builder, "(i@a{sv})", id[i],
                               item_properties (self, id[i], names));
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(ia{sv}))", &builder));
}

static void
get_item_property (KilnTray              *self,
                   GVariant              *parameters,
                   GDBusMethodInvocation *invocation)
{
  const char *names[2] = { NULL, NULL };
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) value = NULL;
  gint32 id;

  g_variant_get (parameters, "(i&s)", &id, &names[0]);
  if (!is_item (id))
    {
      unknown_item (invocation, id);
      return;
    }
  props = item_properties (self, id, names);
  value = g_variant_lookup_value (props, names[0], NULL);
  if (value == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_INVALID_ARGS,
                                             "The menu item %d has no property %s",
                                             id, names[0]);
      return;
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(v)", value));
}

static void
event (KilnTray              *self,
       GVariant              *parameters,
       GDBusMethodInvocation *invocation)
{
  const char *event_id;
  gint32 id;

  g_variant_get (parameters, "(i&svu)", &id, &event_id, NULL, NULL);
  if (!is_item (id))
    {
      unknown_item (invocation, id);
      return;
    }
  /* The reply goes first: "Quit" may end the app. */
  g_dbus_method_invocation_return_value (invocation, NULL);
  /* "hovered", "opened" and "closed" change nothing here. */
  if (g_str_equal (event_id, "clicked"))
    item_clicked (self, id);
}

static void
event_group (KilnTray              *self,
             GVariant              *parameters,
             GDBusMethodInvocation *invocation)
{
  g_autoptr(GVariantIter) events = NULL;
  g_autoptr(GArray) clicked = g_array_new (FALSE, FALSE, sizeof (gint32));
  GVariantBuilder errors;
  const char *event_id;
  gsize n_events = 0, n_errors = 0;
  gint32 id;

  g_variant_get (parameters, "(a(isvu))", &events);
  g_variant_builder_init (&errors, G_VARIANT_TYPE ("ai"));
  while (g_variant_iter_next (events, "(i&svu)", &id, &event_id, NULL, NULL))
    {
      n_events++;
      if (!is_item (id))
        {
          g_variant_builder_add (&errors, "i", id);
          n_errors++;
        }
      else if (g_str_equal (event_id, "clicked"))
        g_array_append_val (clicked, id);
    }

  if (n_events > 0 && n_errors == n_events)
    {
      g_variant_builder_clear (&errors);
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_INVALID_ARGS,
                                             "None of the events is for an item of the menu");
      return;
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(ai)", &errors));
  for (guint i = 0; i < clicked->len; i++)
    item_clicked (self, g_array_index (clicked, gint32, i));
}

static void
about_to_show (GVariant              *parameters,
               GDBusMethodInvocation *invocation)
{
  gint32 id;

  g_variant_get (parameters, "(i)", &id);
  if (!is_item (id))
    {
      unknown_item (invocation, id);
      return;
    }
  /* The layout is always up to date: nothing to refresh before showing. */
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(b)", FALSE));
}

static void
about_to_show_group (GVariant              *parameters,
                     GDBusMethodInvocation *invocation)
{
  g_autoptr(GVariant) ids = NULL;
  GVariantBuilder errors;
  gsize n_ids;
  const gint32 *id;

  g_variant_get (parameters, "(@ai)", &ids);
  id = g_variant_get_fixed_array (ids, &n_ids, sizeof (gint32));
  g_variant_builder_init (&errors, G_VARIANT_TYPE ("ai"));
  for (gsize i = 0; i < n_ids; i++)
    {
      if (!is_item (id[i]))
        g_variant_builder_add (&errors, "i", id[i]);
    }
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(@aiai)",
                                                        g_variant_new_array (G_VARIANT_TYPE_INT32,
                                                                             NULL, 0),
                                                        &errors));
}

static void
menu_method_call (GDBusConnection       *connection,
                  const char            *sender,
                  const char            *object_path,
                  const char            *interface_name,
                  const char            *method_name,
                  GVariant              *parameters,
                  GDBusMethodInvocation *invocation,
                  gpointer               user_data)
{
  KilnTray *self = user_data;

  if (g_str_equal (method_name, "GetLayout"))
    get_layout (self, parameters, invocation);
  else if (g_str_equal (method_name, "GetGroupProperties"))
    get_group_properties (self, parameters, invocation);
  else if (g_str_equal (method_name, "GetProperty"))
    get_item_property (self, parameters, invocation);
  else if (g_str_equal (method_name, "Event"))
    event (self, parameters, invocation);
  else if (g_str_equal (method_name, "EventGroup"))
    event_group (self, parameters, invocation);
  else if (g_str_equal (method_name, "AboutToShow"))
    about_to_show (parameters, invocation);
  else if (g_str_equal (method_name, "AboutToShowGroup"))
    about_to_show_group (parameters, invocation);
  else
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                           G_DBUS_ERROR_UNKNOWN_METHOD,
                                           "No such method: %s", method_name);
}

static GVariant *
menu_get_property (GDBusConnection *connection,
                   const char      *sender,
                   const char      *object_path,
                   const char      *interface_name,
                   const char      *property_name,
                   GError         **error,
                   gpointer         user_data)
{
  if (g_str_equal (property_name, "Version"))
    return g_variant_new_uint32 (3);
  if (g_str_equal (property_name, "TextDirection"))
    return g_variant_new_string (gtk_widget_get_default_direction () == GTK_TEXT_DIR_RTL
                                 ? "rtl" : "ltr");
  if (g_str_equal (property_name, "Status"))
    return g_variant_new_string ("normal");
  if (g_str_equal (property_name, "IconThemePath"))
    return g_variant_new_strv (NULL, 0);

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
               "No such property: %s", property_name);
  return NULL;
}

static const GDBusInterfaceVTable menu_vtable = {
  .method_call = menu_method_call,
  .get_property = menu_get_property,
};

static GDBusInterfaceInfo *
menu_interface_info (void)
{
  static GDBusNodeInfo *node;

  return kiln_tray_parse_interface (&node, menu_xml);
}

guint
kiln_tray_menu_export (KilnTray *self,
                       GError  **error)
{
  g_assert (KILN_IS_TRAY (self));

  return g_dbus_connection_register_object (self->connection, KILN_TRAY_MENU_PATH,
                                            menu_interface_info (), &menu_vtable, self, NULL,
                                            error);
}

void
kiln_tray_menu_lending_changed (KilnTray *self)
{
  const char *names[] = { "label", NULL };
  g_autoptr(GError) error = NULL;
  GVariantBuilder updated;

  g_assert (KILN_IS_TRAY (self));

  g_variant_builder_init (&updated, G_VARIANT_TYPE ("a(ia{sv})"));
  g_variant_builder_add (&updated, "(i@a{sv})", KILN_TRAY_MENU_TOGGLE_LENDING,
                         item_properties (self, KILN_TRAY_MENU_TOGGLE_LENDING, names));
  if (!g_dbus_connection_emit_signal (self->connection, NULL, KILN_TRAY_MENU_PATH,
                                      MENU_INTERFACE, "ItemsPropertiesUpdated",
                                      g_variant_new ("(a(ia{sv})a(ias))", &updated, NULL),
                                      &error))
    g_debug ("The tray menu could not signal its new label: %s", error->message);
}
