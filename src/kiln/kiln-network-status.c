/* kiln-network-status.c: the node's connection state, in the header bar
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A flat button with an icon and a few words: "Offline", "Connecting…", "Online · 3 peers".
 * Whoever puts it in a window decides what a click does (the window shows its Network page).
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-network-status.h"

struct _KilnNetworkStatus
{
  GtkButton    parent_instance;

  GtkImage    *image;
  GtkLabel    *label;

  KilnSession *session;
  KilnEngine  *engine;
};

G_DEFINE_FINAL_TYPE (KilnNetworkStatus, kiln_network_status, GTK_TYPE_BUTTON)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
kiln_network_status_update (KilnNetworkStatus *self)
{
  KilnEngineState state = KILN_ENGINE_STATE_STOPPED;
  gboolean failed = self->session != NULL &&
                    kiln_session_get_engine_error (self->session) != NULL;
  const char *icon_name = "network-offline-symbolic";
  const char *style = "dim-label";
  g_autofree char *text = NULL;
  g_autofree char *tooltip = NULL;
  g_autofree char *accessible = NULL;
  guint n_connected = 0;

  if (self->engine != NULL)
    {
      state = kiln_engine_get_state (self->engine);
      n_connected = kiln_engine_get_n_connected (self->engine);
    }

  switch (state)
    {
    case KILN_ENGINE_STATE_CONNECTING:
      icon_name = "network-idle-symbolic";
      style = NULL;
      text = g_strdup (_("Connecting…"));
      tooltip = g_strdup (_("Looking for other Kiln nodes"));
      break;

    case KILN_ENGINE_STATE_ONLINE:
      icon_name = "network-transmit-receive-symbolic";
      style = "success";
      /* TRANSLATORS: the node's state in the header bar: "Online · 3 peers" */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Online · %u peer",
                                           "Online · %u peers", n_connected),
                              n_connected);
      tooltip = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "Connected to %u other Kiln node",
                                              "Connected to %u other Kiln nodes",
                                              n_connected),
                                 n_connected);
      break;

    case KILN_ENGINE_STATE_STOPPING:
      text = g_strdup (_("Disconnecting…"));
      break;

    case KILN_ENGINE_STATE_STOPPED:
    default:
      if (failed)
        {
          icon_name = "network-error-symbolic";
          style = "warning";
          tooltip = g_strdup (_("This node could not start: see the Network page"));
        }
      /* TRANSLATORS: the node's state in the header bar */
      text = g_strdup (_("Offline"));
      break;
    }

  gtk_image_set_from_icon_name (self->image, icon_name);
  gtk_label_set_label (self->label, text);
  /* TRANSLATORS: what a screen reader says for the state in the header bar */
  accessible = g_strdup_printf (_("Network: %s"), text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);

  for (guint i = 0; i < 3; i++)
    {
      static const char * const styles[] = { "dim-label", "success", "warning" };

      if (style != NULL && g_str_equal (style, styles[i]))
        gtk_widget_add_css_class (GTK_WIDGET (self->image), styles[i]);
      else
        gtk_widget_remove_css_class (GTK_WIDGET (self->image), styles[i]);
    }

  if (tooltip != NULL)
    {
      g_autofree char *full = g_strdup_printf ("%s. %s", tooltip, _("Show the Network page"));

      gtk_widget_set_tooltip_text (GTK_WIDGET (self), full);
    }
  else
    {
      gtk_widget_set_tooltip_text (GTK_WIDGET (self), _("Show the Network page"));
    }
}

static void
kiln_network_status_set_engine (KilnNetworkStatus *self,
                                KilnEngine        *engine)
{
  if (self->engine == engine)
    return;

  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);

  g_set_object (&self->engine, engine);

  if (engine != NULL)
    {
      g_signal_connect_object (engine, "notify::state",
                               G_CALLBACK (kiln_network_status_update),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (engine, "notify::n-connected",
                               G_CALLBACK (kiln_network_status_update),
                               self, G_CONNECT_SWAPPED);
    }

  kiln_network_status_update (self);
}

static void
kiln_network_status_sync_engine (KilnNetworkStatus *self)
{
  kiln_network_status_set_engine (self,
                                  self->session != NULL ? kiln_session_get_engine (self->session)
                                                        : NULL);
}

static void
kiln_network_status_dispose (GObject *object)
{
  KilnNetworkStatus *self = (KilnNetworkStatus *)object;

  kiln_network_status_set_engine (self, NULL);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (kiln_network_status_parent_class)->dispose (object);
}

static void
kiln_network_status_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  KilnNetworkStatus *self = KILN_NETWORK_STATUS (object);

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
kiln_network_status_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  KilnNetworkStatus *self = KILN_NETWORK_STATUS (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      kiln_network_status_set_session (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_network_status_class_init (KilnNetworkStatusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_network_status_dispose;
  object_class->get_property = kiln_network_status_get_property;
  object_class->set_property = kiln_network_status_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL,
                         KILN_TYPE_SESSION,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_network_status_init (KilnNetworkStatus *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  self->image = GTK_IMAGE (gtk_image_new ());
  self->label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_ellipsize (self->label, PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->image));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->label));
  gtk_button_set_child (GTK_BUTTON (self), box);
  gtk_widget_add_css_class (GTK_WIDGET (self), "flat");

  kiln_network_status_update (self);
}

KilnSession *
kiln_network_status_get_session (KilnNetworkStatus *self)
{
  g_return_val_if_fail (KILN_IS_NETWORK_STATUS (self), NULL);

  return self->session;
}

void
kiln_network_status_set_session (KilnNetworkStatus *self,
                                 KilnSession       *session)
{
  g_return_if_fail (KILN_IS_NETWORK_STATUS (self));
  g_return_if_fail (!session || KILN_IS_SESSION (session));

  if (self->session == session)
    return;

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);

  g_set_object (&self->session, session);

  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::engine",
                               G_CALLBACK (kiln_network_status_sync_engine),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (session, "notify::engine-error",
                               G_CALLBACK (kiln_network_status_update),
                               self, G_CONNECT_SWAPPED);
    }

  kiln_network_status_sync_engine (self);
  kiln_network_status_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}
