/* kiln-peer-row.c: one peer of the node on the Network page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The row shows who the peer is (identicon and short address, the whole address in the
 * tooltip), what it does and where it is (roles, endpoint, latency), and whether a link to it
 * is open: for how long, or when it was last seen. It follows the peer's properties.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-identicon.h"
#include "kiln-peer-row.h"
#include "kiln-util.h"

/* Drawn at twice the avatar's size, so that it stays sharp on high-density screens. */
#define IDENTICON_TEXTURE_SIZE 64

struct _KilnPeerRow
{
  AdwActionRow    parent_instance;

  AdwAvatar      *avatar;
  GtkImage       *state_image;
  GtkLabel       *state_label;
  GtkLabel       *time_label;

  KilnEnginePeer *peer;
};

G_DEFINE_FINAL_TYPE (KilnPeerRow, kiln_peer_row, ADW_TYPE_ACTION_ROW)

enum {
  PROP_0,
  PROP_PEER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

char *
kiln_peer_row_describe_roles (guint roles)
{
  gboolean provider = (roles & KILN_DHT_ROLE_PROVIDER) != 0;
  gboolean requestor = (roles & KILN_DHT_ROLE_REQUESTOR) != 0;
  gboolean bootstrap = (roles & KILN_DHT_ROLE_BOOTSTRAP) != 0;
  const char *what = NULL;

  if (provider && requestor)
    /* TRANSLATORS: what a peer does: lends its computer and renders on others' */
    what = _("Provider and requestor");
  else if (provider)
    /* TRANSLATORS: what a peer does: lends its computer */
    what = _("Provider");
  else if (requestor)
    /* TRANSLATORS: what a peer does: renders on other computers */
    what = _("Requestor");

  if (bootstrap && what != NULL)
    /* TRANSLATORS: %s is what a peer does, such as "Provider"; it also helps others join */
    return g_strdup_printf (_("%s, bootstrap node"), what);
  if (bootstrap)
    return g_strdup (_("Bootstrap node"));

  return g_strdup (what);
}

char *
kiln_peer_row_describe_span (gint64 usec)
{
  gint64 minutes = MAX (usec, 0) / (60 * G_USEC_PER_SEC);
  gint64 hours = minutes / 60;
  gint64 days = hours / 24;

  if (minutes < 1)
    return g_strdup (_("less than a minute"));
  if (hours < 1)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d minute", "%d minutes", minutes),
                            (int) minutes);
  if (days < 1)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d hour", "%d hours", hours),
                            (int) hours);

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d day", "%d days", days),
                          (int) MIN (days, G_MAXINT));
}

static char *
describe_latency (gint64 latency)
{
  if (latency < 0)
    return NULL;
  if (latency < 1000)
    /* TRANSLATORS: the round trip time to a peer, under one millisecond */
    return g_strdup (_("< 1 ms"));

  /* TRANSLATORS: the round trip time to a peer, in milliseconds */
  return g_strdup_printf (_("%d ms"), (int) MIN ((latency + 500) / 1000, G_MAXINT));
}

/* Where the peer is: the endpoint it announced, or the one its link comes from. */
static const char *
peer_endpoint (KilnEnginePeer *peer)
{
  const char * const *endpoints = kiln_engine_peer_get_endpoints (peer);

  if (endpoints != NULL && endpoints[0] != NULL)
    return endpoints[0];

  return kiln_engine_peer_get_remote_address (peer);
}

void
kiln_peer_row_update_time (KilnPeerRow *self)
{
  gint64 now = g_get_real_time ();
  g_autofree char *span = NULL;
  g_autofree char *text = NULL;
  gint64 since, seen;

  g_return_if_fail (KILN_IS_PEER_ROW (self));

  if (self->peer == NULL)
    return;

  since = kiln_engine_peer_get_connected_since (self->peer);
  seen = kiln_engine_peer_get_last_seen (self->peer);

  if (kiln_engine_peer_get_connected (self->peer) && since > 0)
    {
      span = kiln_peer_row_describe_span (now - since);
      /* TRANSLATORS: how long a link to a peer has been open: "for 5 minutes" */
      text = g_strdup_printf (_("for %s"), span);
    }
  else if (kiln_engine_peer_get_connected (self->peer))
    {
      text = g_strdup ("");
    }
  else if (seen > 0 && now - seen < 60 * G_USEC_PER_SEC)
    {
      text = g_strdup (_("last seen just now"));
    }
  else if (seen > 0)
    {
      span = kiln_peer_row_describe_span (now - seen);
      /* TRANSLATORS: when a peer was last heard of: "last seen 5 minutes ago" */
      text = g_strdup_printf (_("last seen %s ago"), span);
    }
  else
    {
      text = g_strdup (_("never reached"));
    }

  gtk_label_set_label (self->time_label, text);
}

static void
kiln_peer_row_update_state (KilnPeerRow *self)
{
  gboolean connected = kiln_engine_peer_get_connected (self->peer);
  guint failures = kiln_engine_peer_get_failures (self->peer);
  GtkWidget *image = GTK_WIDGET (self->state_image);
  GtkWidget *label = GTK_WIDGET (self->state_label);
  g_autofree char *tooltip = NULL;

  gtk_widget_remove_css_class (image, "success");
  gtk_widget_remove_css_class (image, "warning");
  gtk_widget_remove_css_class (image, "dim-label");
  gtk_widget_remove_css_class (label, "success");
  gtk_widget_remove_css_class (label, "warning");
  gtk_widget_remove_css_class (label, "dim-label");

  if (connected)
    {
      gtk_image_set_from_icon_name (self->state_image, "network-transmit-receive-symbolic");
      gtk_label_set_label (self->state_label, _("Connected"));
      gtk_widget_add_css_class (image, "success");
      gtk_widget_add_css_class (label, "success");
      if (kiln_engine_peer_get_inbound (self->peer))
        tooltip = g_strdup (_("The peer opened this link"));
      else
        tooltip = g_strdup (_("This node opened this link"));
    }
  else if (failures > 0)
    {
      gtk_image_set_from_icon_name (self->state_image, "network-offline-symbolic");
      /* TRANSLATORS: a peer this node tried and failed to reach */
      gtk_label_set_label (self->state_label, _("Unreachable"));
      gtk_widget_add_css_class (image, "warning");
      gtk_widget_add_css_class (label, "warning");
      tooltip = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "%u attempt to reach it failed; Kiln keeps trying",
                                              "%u attempts to reach it failed; Kiln keeps trying",
                                              failures),
                                 failures);
    }
  else
    {
      gtk_image_set_from_icon_name (self->state_image, "network-offline-symbolic");
      gtk_label_set_label (self->state_label, _("Not connected"));
      gtk_widget_add_css_class (image, "dim-label");
      gtk_widget_add_css_class (label, "dim-label");
    }

  gtk_widget_set_tooltip_text (label, tooltip);
  kiln_peer_row_update_time (self);
}

static void
kiln_peer_row_update_details (KilnPeerRow *self)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *roles = kiln_peer_row_describe_roles (kiln_engine_peer_get_roles (self->peer));
  g_autofree char *latency = describe_latency (kiln_engine_peer_get_latency (self->peer));
  const char *endpoint = peer_endpoint (self->peer);
  g_autofree char *subtitle = NULL;

  g_ptr_array_add (parts, roles != NULL ? g_steal_pointer (&roles) : g_strdup (_("Role unknown")));
  if (endpoint != NULL)
    g_ptr_array_add (parts, g_strdup (endpoint));
  if (latency != NULL && kiln_engine_peer_get_connected (self->peer))
    g_ptr_array_add (parts, g_steal_pointer (&latency));
  g_ptr_array_add (parts, NULL);

  /* TRANSLATORS: joins the details of a peer: "Provider · 192.168.1.20:4747 · 3 ms" */
  subtitle = g_strjoinv (_(" · "), (char **) parts->pdata);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);
}

static void
kiln_peer_row_update_identity (KilnPeerRow *self)
{
  const char *address = kiln_engine_peer_get_address_string (self->peer);
  const char * const *endpoints = kiln_engine_peer_get_endpoints (self->peer);
  g_autoptr(GdkTexture) identicon = kiln_identicon_new_texture (address, IDENTICON_TEXTURE_SIZE);
  g_autofree char *short_address = kiln_abbreviate_address (address);
  g_autoptr(GString) tooltip = g_string_new (address);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), short_address);
  adw_avatar_set_text (self->avatar, address);
  adw_avatar_set_custom_image (self->avatar, GDK_PAINTABLE (identicon));

  for (guint i = 0; endpoints != NULL && endpoints[i] != NULL; i++)
    g_string_append_printf (tooltip, "\n%s", endpoints[i]);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), tooltip->str);

  /* A screen reader reads the whole address, which the title shortens. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, address,
                                  -1);
}

static void
kiln_peer_row_peer_notify_cb (KilnPeerRow *self,
                              GParamSpec  *pspec,
                              GObject     *peer)
{
  const char *name = g_param_spec_get_name (pspec);

  if (g_str_equal (name, "endpoints"))
    kiln_peer_row_update_identity (self);

  if (g_str_equal (name, "connected") || g_str_equal (name, "failures") ||
      g_str_equal (name, "inbound"))
    kiln_peer_row_update_state (self);
  else if (g_str_equal (name, "connected-since") || g_str_equal (name, "last-seen"))
    kiln_peer_row_update_time (self);

  kiln_peer_row_update_details (self);
}

static void
kiln_peer_row_set_peer (KilnPeerRow    *self,
                        KilnEnginePeer *peer)
{
  g_assert (self->peer == NULL);

  if (peer == NULL)
    return;

  self->peer = g_object_ref (peer);
  g_signal_connect_object (peer, "notify", G_CALLBACK (kiln_peer_row_peer_notify_cb),
                           self, G_CONNECT_SWAPPED);

  kiln_peer_row_update_identity (self);
  kiln_peer_row_update_state (self);
  kiln_peer_row_update_details (self);
}

static void
kiln_peer_row_dispose (GObject *object)
{
  KilnPeerRow *self = (KilnPeerRow *)object;

  g_clear_object (&self->peer);

  G_OBJECT_CLASS (kiln_peer_row_parent_class)->dispose (object);
}

static void
kiln_peer_row_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KilnPeerRow *self = KILN_PEER_ROW (object);

  switch (prop_id)
    {
    case PROP_PEER:
      g_value_set_object (value, self->peer);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_peer_row_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  KilnPeerRow *self = KILN_PEER_ROW (object);

  switch (prop_id)
    {
    case PROP_PEER:
      kiln_peer_row_set_peer (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_peer_row_class_init (KilnPeerRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_peer_row_dispose;
  object_class->get_property = kiln_peer_row_get_property;
  object_class->set_property = kiln_peer_row_set_property;

  properties[PROP_PEER] =
    g_param_spec_object ("peer", NULL, NULL,
                         KILN_TYPE_ENGINE_PEER,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-peer-row.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnPeerRow, avatar);
  gtk_widget_class_bind_template_child (widget_class, KilnPeerRow, state_image);
  gtk_widget_class_bind_template_child (widget_class, KilnPeerRow, state_label);
  gtk_widget_class_bind_template_child (widget_class, KilnPeerRow, time_label);
}

static void
kiln_peer_row_init (KilnPeerRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
kiln_peer_row_new (KilnEnginePeer *peer)
{
  g_return_val_if_fail (KILN_IS_ENGINE_PEER (peer), NULL);

  return g_object_new (KILN_TYPE_PEER_ROW,
                       "peer", peer,
                       NULL);
}

KilnEnginePeer *
kiln_peer_row_get_peer (KilnPeerRow *self)
{
  g_return_val_if_fail (KILN_IS_PEER_ROW (self), NULL);

  return self->peer;
}
