/* kiln-account-page.c: the account in use: identicon, address, key backup
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kiln-account-page.h"
#include "kiln-identicon.h"

/* Drawn at twice the avatar's size, so that it stays sharp on high-density screens. */
#define IDENTICON_TEXTURE_SIZE 192

struct _KilnAccountPage
{
  AdwBin     parent_instance;

  AdwAvatar *avatar;
  GtkLabel  *address_label;
  GtkButton *copy_button;

  KilnKey   *key;
};

G_DEFINE_FINAL_TYPE (KilnAccountPage, kiln_account_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
kiln_account_page_update (KilnAccountPage *self)
{
  g_autoptr(GdkTexture) identicon = NULL;
  const char *address = NULL;

  if (self->key != NULL)
    {
      address = kiln_key_get_address_string (self->key);
      identicon = kiln_identicon_new_texture (address, IDENTICON_TEXTURE_SIZE);
    }

  gtk_label_set_label (self->address_label, address != NULL ? address : "");
  adw_avatar_set_text (self->avatar, address);
  adw_avatar_set_custom_image (self->avatar, GDK_PAINTABLE (identicon));
}

/* Focus lands on the copy button: a selectable label that takes focus selects all its text,
 * which looks like a mistake when it happens on its own. */
static gboolean
kiln_account_page_grab_focus (GtkWidget *widget)
{
  KilnAccountPage *self = KILN_ACCOUNT_PAGE (widget);

  return gtk_widget_grab_focus (GTK_WIDGET (self->copy_button));
}

static void
kiln_account_page_dispose (GObject *object)
{
  KilnAccountPage *self = (KilnAccountPage *)object;

  g_clear_object (&self->key);

  G_OBJECT_CLASS (kiln_account_page_parent_class)->dispose (object);
}

static void
kiln_account_page_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  KilnAccountPage *self = KILN_ACCOUNT_PAGE (object);

  switch (prop_id)
    {
    case PROP_KEY:
      g_value_set_object (value, self->key);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_account_page_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  KilnAccountPage *self = KILN_ACCOUNT_PAGE (object);

  switch (prop_id)
    {
    case PROP_KEY:
      kiln_account_page_set_key (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_account_page_class_init (KilnAccountPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_account_page_dispose;
  object_class->get_property = kiln_account_page_get_property;
  object_class->set_property = kiln_account_page_set_property;

  widget_class->grab_focus = kiln_account_page_grab_focus;

  properties[PROP_KEY] =
    g_param_spec_object ("key", NULL, NULL,
                         KILN_TYPE_KEY,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-account-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnAccountPage, avatar);
  gtk_widget_class_bind_template_child (widget_class, KilnAccountPage, address_label);
  gtk_widget_class_bind_template_child (widget_class, KilnAccountPage, copy_button);
}

static void
kiln_account_page_init (KilnAccountPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

KilnKey *
kiln_account_page_get_key (KilnAccountPage *self)
{
  g_return_val_if_fail (KILN_IS_ACCOUNT_PAGE (self), NULL);

  return self->key;
}

void
kiln_account_page_set_key (KilnAccountPage *self,
                           KilnKey         *key)
{
  g_return_if_fail (KILN_IS_ACCOUNT_PAGE (self));
  g_return_if_fail (!key || KILN_IS_KEY (key));

  if (!g_set_object (&self->key, key))
    return;

  kiln_account_page_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEY]);
}
