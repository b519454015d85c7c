/* kiln-network-page.c: this node on the Kiln network, and its peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page follows the session's node: a spinner while it starts, what went wrong when it
 * cannot (the port is in use, a bootstrap address is wrong), what to do while it knows no
 * peer yet, and otherwise this node's address, ports and reachability above the list of its
 * peers. The "This Node" group moves between the empty state and the list, so that it is
 * there in both.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-connect-dialog.h"
#include "kiln-network-page.h"
#include "kiln-peer-row.h"
#include "kiln-window.h"

/* The relative times of the peers ("for 5 minutes") are written again this often. */
#define TIME_UPDATE_INTERVAL_S 20

struct _KilnNetworkPage
{
  AdwBin               parent_instance;

  GtkStack            *stack;
  GtkSpinner          *loading_spinner;
  AdwStatusPage       *error_page;
  AdwStatusPage       *empty_page;
  AdwClamp            *empty_clamp;
  GtkButton           *lan_button;
  GtkBox              *peers_box;
  AdwPreferencesGroup *node_group;
  AdwActionRow        *address_row;
  AdwActionRow        *listen_row;
  AdwActionRow        *reachable_row;
  GtkLabel            *reachable_label;
  GtkLabel            *dht_label;
  GtkSwitch           *lan_switch;
  GtkListBox          *peers_list;

  KilnSession         *session;
  GSettings           *settings;
  KilnEngine          *engine;
  guint                time_source;
};

G_DEFINE_FINAL_TYPE (KilnNetworkPage, kiln_network_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
kiln_network_page_show_message (KilnNetworkPage *self,
                                const char      *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (KILN_IS_WINDOW (root))
    kiln_window_show_message (KILN_WINDOW (root), message);
}

static gboolean
is_port_in_use (const GError *error,
                guint16       port)
{
  /* The TCP port is bound first; a fixed UDP port that cannot be is taken too. */
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE) ||
         (port != 0 && g_error_matches (error, KILN_DHT_ERROR, KILN_DHT_ERROR_FAILED));
}

/* --- the error screen ---------------------------------------------------------------------- */

static void
kiln_network_page_show_error (KilnNetworkPage *self,
                              const GError    *error)
{
  guint16 port = kiln_session_get_listen_port (self->session);
  g_autofree char *escaped = g_markup_escape_text (error->message, -1);
  g_autofree char *title = NULL;
  g_autofree char *description = NULL;
  const char *icon_name = "network-error-symbolic";

  if (is_port_in_use (error, port))
    {
      /* TRANSLATORS: %u is a port number */
      title = g_strdup_printf (_("Port %u Is in Use"), port);
      description = g_strdup_printf (_("Another program, or another copy of Kiln, already "
                                       "uses port %u, so this node cannot listen for other "
                                       "nodes. Choose another port in Preferences → Peers, "
                                       "or 0 for any free port."),
                                     port);
    }
  else if (error->domain == KILN_STORE_ERROR)
    {
      icon_name = "drive-harddisk-symbolic";
      title = g_strdup (_("Can’t Open Kiln’s Database"));
      description = g_strdup_printf ("%s %s", escaped,
                                     _("Another folder can be chosen in Preferences."));
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    {
      title = g_strdup (_("Can’t Start the Node"));
      description = g_strdup_printf ("%s %s", escaped,
                                     _("Check the bootstrap addresses in Preferences → "
                                       "Peers."));
    }
  else
    {
      title = g_strdup (_("Can’t Start the Node"));
      description = g_strdup_printf ("%s %s", escaped,
                                     _("Check Preferences → Peers, then try again."));
    }

  adw_status_page_set_icon_name (self->error_page, icon_name);
  adw_status_page_set_title (self->error_page, title);
  adw_status_page_set_description (self->error_page, description);
}

/* --- the empty state ----------------------------------------------------------------------- */

static void
kiln_network_page_update_empty (KilnNetworkPage *self)
{
  g_autofree char *description = NULL;
  const char * const *bootstrap = NULL;
  gboolean lan = FALSE;

  if (self->session != NULL)
    {
      bootstrap = kiln_session_get_bootstrap (self->session);
      lan = g_settings_get_boolean (self->settings, "network-lan");
    }

  if (bootstrap != NULL && bootstrap[0] != NULL)
    {
      g_autofree char *joined = g_strjoinv (", ", (char **) bootstrap);
      g_autofree char *escaped = g_markup_escape_text (joined, -1);

      /* TRANSLATORS: %s is one or more HOST:PORT addresses */
      description = g_strdup_printf (_("This node asks %s for other Kiln nodes, but none "
                                       "has answered yet. Check the bootstrap addresses in "
                                       "Preferences, or connect to a node yourself."),
                                     escaped);
    }
  else if (lan)
    {
      description = g_strdup (_("This node is looking for Kiln nodes on this local network, "
                                "but none has answered yet. Add the address of a bootstrap "
                                "node in Preferences to find nodes elsewhere."));
    }
  else
    {
      description = g_strdup (_("Kiln finds other nodes through a bootstrap node whose "
                                "address you know, or on your local network. Add a bootstrap "
                                "address in Preferences, or turn on LAN discovery."));
    }

  adw_status_page_set_description (self->empty_page, description);
  gtk_widget_set_visible (GTK_WIDGET (self->lan_button), !lan);
}

/* --- this node ----------------------------------------------------------------------------- */

static void
kiln_network_page_update_node (KilnNetworkPage *self)
{
  const char * const *endpoints = NULL;
  g_autofree char *listening = NULL;
  g_autofree char *reachable = NULL;
  g_autofree char *dht = NULL;
  gboolean is_reachable = FALSE;
  guint16 port = 0;

  if (self->engine == NULL)
    return;

  adw_action_row_set_subtitle (self->address_row,
                               kiln_engine_get_address_string (self->engine));

  port = kiln_engine_get_listen_port (self->engine);
  endpoints = kiln_engine_get_endpoints (self->engine);
  if (!kiln_engine_get_listening (self->engine))
    listening = g_strdup (_("Not listening"));
  else if (endpoints != NULL && endpoints[0] != NULL)
    listening = g_strjoinv (", ", (char **) endpoints);
  else
    /* TRANSLATORS: %u is a port number */
    listening = g_strdup_printf (_("Port %u on every network interface"), port);
  adw_action_row_set_subtitle (self->listen_row, listening);
  if (port != 0)
    {
      /* TRANSLATORS: %u is a port number */
      g_autofree char *tooltip = g_strdup_printf (_("Links come in over TCP port %u, "
                                                    "discovery uses UDP port %u"),
                                                  port, port);

      gtk_widget_set_tooltip_text (GTK_WIDGET (self->listen_row), tooltip);
    }

  is_reachable = kiln_engine_get_reachable (self->engine);
  gtk_label_set_label (self->reachable_label,
                       /* TRANSLATORS: whether other nodes can reach this one */
                       is_reachable ? C_("reachable", "Yes") : C_("reachable", "Not yet"));
  if (is_reachable)
    reachable = g_strdup (_("Another node has opened a link to this one, so others can "
                            "reach it."));
  else
    reachable = g_strdup_printf (_("No other node has opened a link to this one yet. Behind "
                                   "a router, forward port %u (TCP and UDP) to this computer "
                                   "so that others can."),
                                 port);
  adw_action_row_set_subtitle (self->reachable_row, reachable);
  if (is_reachable)
    gtk_widget_add_css_class (GTK_WIDGET (self->reachable_label), "success");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->reachable_label), "success");

  dht = g_strdup_printf ("%u", kiln_engine_get_n_dht_nodes (self->engine));
  gtk_label_set_label (self->dht_label, dht);
}

/* Puts "This Node" in the empty state (@empty) or above the peers. */
static void
kiln_network_page_place_node_group (KilnNetworkPage *self,
                                    gboolean         empty)
{
  GtkWidget *group = GTK_WIDGET (self->node_group);
  GtkWidget *parent = gtk_widget_get_parent (group);

  if (empty && parent == GTK_WIDGET (self->empty_clamp))
    return;
  if (!empty && parent == GTK_WIDGET (self->peers_box))
    return;

  g_object_ref (group);
  if (parent == GTK_WIDGET (self->peers_box))
    gtk_box_remove (self->peers_box, group);
  else
    adw_clamp_set_child (self->empty_clamp, NULL);

  if (empty)
    adw_clamp_set_child (self->empty_clamp, group);
  else
    gtk_box_prepend (self->peers_box, group);
  g_object_unref (group);
}

static void
kiln_network_page_update_view (KilnNetworkPage *self)
{
  const GError *error = NULL;
  KilnEngineState state = KILN_ENGINE_STATE_STOPPED;
  const char *page;

  if (self->session != NULL)
    error = kiln_session_get_engine_error (self->session);
  if (self->engine != NULL)
    state = kiln_engine_get_state (self->engine);

  if (error != NULL)
    page = "error";
  else if (state == KILN_ENGINE_STATE_STOPPED)
    page = "loading";
  else if (g_list_model_get_n_items (kiln_engine_get_peers (self->engine)) == 0)
    page = "empty";
  else
    page = "peers";

  if (error != NULL)
    kiln_network_page_show_error (self, error);
  else if (g_str_equal (page, "empty"))
    kiln_network_page_update_empty (self);

  kiln_network_page_place_node_group (self, g_str_equal (page, "empty"));
  gtk_stack_set_visible_child_name (self->stack, page);
  gtk_spinner_set_spinning (self->loading_spinner, g_str_equal (page, "loading"));

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "network.connect",
                                 state == KILN_ENGINE_STATE_CONNECTING ||
                                 state == KILN_ENGINE_STATE_ONLINE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "network.copy-address",
                                 self->engine != NULL);
}

/* --- peers --------------------------------------------------------------------------------- */

static GtkWidget *
kiln_network_page_create_row (gpointer item,
                              gpointer user_data)
{
  return kiln_peer_row_new (KILN_ENGINE_PEER (item));
}

static gboolean
kiln_network_page_time_cb (gpointer user_data)
{
  KilnNetworkPage *self = user_data;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->peers_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (KILN_IS_PEER_ROW (child))
        kiln_peer_row_update_time (KILN_PEER_ROW (child));
    }

  return G_SOURCE_CONTINUE;
}

static void
kiln_network_page_engine_notify_cb (KilnNetworkPage *self)
{
  kiln_network_page_update_node (self);
  kiln_network_page_update_view (self);
}

static void
kiln_network_page_set_engine (KilnNetworkPage *self,
                              KilnEngine      *engine)
{
  if (self->engine == engine)
    return;

  if (self->engine != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->engine, self);
      g_signal_handlers_disconnect_by_data (kiln_engine_get_peers (self->engine), self);
    }

  g_set_object (&self->engine, engine);

  if (engine != NULL)
    {
      GListModel *peers = kiln_engine_get_peers (engine);

      g_signal_connect_object (engine, "notify",
                               G_CALLBACK (kiln_network_page_engine_notify_cb),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (peers, "items-changed",
                               G_CALLBACK (kiln_network_page_update_view),
                               self, G_CONNECT_SWAPPED);
      gtk_list_box_bind_model (self->peers_list, peers,
                               kiln_network_page_create_row, NULL, NULL);
    }
  else
    {
      gtk_list_box_bind_model (self->peers_list, NULL, NULL, NULL, NULL);
    }

  kiln_network_page_update_node (self);
  kiln_network_page_update_view (self);
}

static void
kiln_network_page_sync_engine (KilnNetworkPage *self)
{
  kiln_network_page_set_engine (self,
                                self->session != NULL ? kiln_session_get_engine (self->session)
                                                      : NULL);
}

/* --- actions ------------------------------------------------------------------------------- */

static void
kiln_network_page_retry_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  KilnNetworkPage *self = KILN_NETWORK_PAGE (widget);

  if (self->session != NULL)
    kiln_session_restart_engine (self->session);
}

static void
kiln_network_page_copy_address_action (GtkWidget  *widget,
                                       const char *action_name,
                                       GVariant   *param)
{
  KilnNetworkPage *self = KILN_NETWORK_PAGE (widget);

  if (self->engine == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget),
                          kiln_engine_get_address_string (self->engine));
  kiln_network_page_show_message (self, _("Address copied"));
}

static void
kiln_network_page_enable_lan_action (GtkWidget  *widget,
                                     const char *action_name,
                                     GVariant   *param)
{
  KilnNetworkPage *self = KILN_NETWORK_PAGE (widget);

  if (self->settings != NULL)
    g_settings_set_boolean (self->settings, "network-lan", TRUE);
}

static void
kiln_network_page_connect_action (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *param)
{
  KilnNetworkPage *self = KILN_NETWORK_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  KilnConnectDialog *dialog;

  if (self->engine == NULL || !KILN_IS_WINDOW (root))
    return;

  dialog = kiln_connect_dialog_new (KILN_WINDOW (root), self->engine);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- GObject and GtkWidget ----------------------------------------------------------------- */

static void
kiln_network_page_map (GtkWidget *widget)
{
  KilnNetworkPage *self = KILN_NETWORK_PAGE (widget);

  GTK_WIDGET_CLASS (kiln_network_page_parent_class)->map (widget);

  /* Times may have moved on while the page was not shown. */
  kiln_network_page_time_cb (self);
  g_clear_handle_id (&self->time_source, g_source_remove);
  self->time_source = g_timeout_add_seconds (TIME_UPDATE_INTERVAL_S,
                                             kiln_network_page_time_cb, self);
}

static void
kiln_network_page_unmap (GtkWidget *widget)
{
  KilnNetworkPage *self = KILN_NETWORK_PAGE (widget);

  g_clear_handle_id (&self->time_source, g_source_remove);

  GTK_WIDGET_CLASS (kiln_network_page_parent_class)->unmap (widget);
}

static void
kiln_network_page_dispose (GObject *object)
{
  KilnNetworkPage *self = (KilnNetworkPage *)object;

  g_clear_handle_id (&self->time_source, g_source_remove);
  kiln_network_page_set_session (self, NULL);

  G_OBJECT_CLASS (kiln_network_page_parent_class)->dispose (object);
}

static void
kiln_network_page_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  KilnNetworkPage *self = KILN_NETWORK_PAGE (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_network_page_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  KilnNetworkPage *self = KILN_NETWORK_PAGE (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      kiln_network_page_set_session (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_network_page_class_init (KilnNetworkPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_network_page_dispose;
  object_class->get_property = kiln_network_page_get_property;
  object_class->set_property = kiln_network_page_set_property;

  widget_class->map = kiln_network_page_map;
  widget_class->unmap = kiln_network_page_unmap;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL,
                         KILN_TYPE_SESSION,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-network-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, stack);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, error_page);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, empty_clamp);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, lan_button);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, peers_box);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, node_group);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, address_row);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, listen_row);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, reachable_row);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, reachable_label);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, dht_label);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, lan_switch);
  gtk_widget_class_bind_template_child (widget_class, KilnNetworkPage, peers_list);

  gtk_widget_class_install_action (widget_class, "network.retry", NULL,
                                   kiln_network_page_retry_action);
  gtk_widget_class_install_action (widget_class, "network.copy-address", NULL,
                                   kiln_network_page_copy_address_action);
  gtk_widget_class_install_action (widget_class, "network.enable-lan", NULL,
                                   kiln_network_page_enable_lan_action);
  gtk_widget_class_install_action (widget_class, "network.connect", NULL,
                                   kiln_network_page_connect_action);
}

static void
kiln_network_page_init (KilnNetworkPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  kiln_network_page_update_empty (self);
  kiln_network_page_update_view (self);
}

KilnSession *
kiln_network_page_get_session (KilnNetworkPage *self)
{
  g_return_val_if_fail (KILN_IS_NETWORK_PAGE (self), NULL);

  return self->session;
}

void
kiln_network_page_set_session (KilnNetworkPage *self,
                               KilnSession     *session)
{
  g_return_if_fail (KILN_IS_NETWORK_PAGE (self));
  g_return_if_fail (!session || KILN_IS_SESSION (session));

  if (self->session == session)
    return;

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  if (self->settings != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->settings, self);
      g_settings_unbind (self->lan_switch, "active");
    }
  kiln_network_page_set_engine (self, NULL);
  g_clear_object (&self->settings);

  g_set_object (&self->session, session);

  if (session != NULL)
    {
      g_object_get (session, "settings", &self->settings, NULL);

      g_signal_connect_object (session, "notify::engine",
                               G_CALLBACK (kiln_network_page_sync_engine),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (session, "notify::engine-error",
                               G_CALLBACK (kiln_network_page_update_view),
                               self, G_CONNECT_SWAPPED);
      /* The empty state says what to do with what is set now. */
      g_signal_connect_object (self->settings, "changed::network-bootstrap",
                               G_CALLBACK (kiln_network_page_update_empty),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->settings, "changed::network-lan",
                               G_CALLBACK (kiln_network_page_update_empty),
                               self, G_CONNECT_SWAPPED);
      g_settings_bind (self->settings, "network-lan", self->lan_switch, "active",
                       G_SETTINGS_BIND_DEFAULT);
    }

  kiln_network_page_sync_engine (self);
  kiln_network_page_update_empty (self);
  kiln_network_page_update_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}
