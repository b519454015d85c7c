/* kiln-window.c: the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window follows the application's account state: a spinner while the keyring is read,
 * the welcome page on first run, what went wrong when the keyring cannot be read, and the
 * main view once an account is in use.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-account-page.h"
#include "kiln-lending-page.h"
#include "kiln-network-page.h"
#include "kiln-network-status.h"
#include "kiln-render-page.h"
#include "kiln-wallet-page.h"
#include "kiln-window.h"

struct _KilnWindow
{
  AdwApplicationWindow  parent_instance;

  AdwToastOverlay      *toast_overlay;
  AdwHeaderBar         *header_bar;
  AdwViewSwitcherTitle *switcher_title;
  GtkStack             *stack;
  GtkStack             *create_stack;
  GtkSpinner           *create_spinner;
  AdwStatusPage        *welcome_page;
  AdwStatusPage        *keyring_page;
  GtkButton            *retry_button;
  KilnRenderPage       *render_page;
  KilnAccountPage      *account_page;
  KilnWalletPage       *wallet_page;
  KilnLendingPage      *lending_page;
  KilnNetworkPage      *network_page;
  KilnNetworkStatus    *network_status;
  AdwViewStack         *view_stack;
};

G_DEFINE_FINAL_TYPE (KilnWindow, kiln_window, ADW_TYPE_APPLICATION_WINDOW)

static KilnApplication *
kiln_window_get_kiln_application (KilnWindow *self)
{
  return KILN_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
}

static void
kiln_window_show_keyring_error (KilnWindow   *self,
                                const GError *error)
{
  const char *icon_name = "dialog-warning-symbolic";
  g_autofree char *escaped = NULL;
  const char *title;
  const char *description;

  if (g_error_matches (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_LOCKED))
    {
      icon_name = "dialog-password-symbolic";
      title = _("The Keyring Is Locked");
      description = _("Kiln keeps your account key in your keyring. Unlock the keyring when "
                      "your computer asks for its password, then try again.");
    }
  else if (g_error_matches (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_UNAVAILABLE))
    {
      title = _("No Keyring Service");
      description = _("Kiln keeps your account key in the keyring, but no keyring service "
                      "is running. Start one, such as GNOME Keyring, and try again, or "
                      "import a keystore file to use an account until Kiln quits.");
    }
  else
    {
      /* Status page descriptions are markup. */
      title = _("Could Not Read the Keyring");
      if (error != NULL)
        escaped = g_markup_escape_text (error->message, -1);
      description = escaped;
    }

  adw_status_page_set_icon_name (self->keyring_page, icon_name);
  adw_status_page_set_title (self->keyring_page, title);
  adw_status_page_set_description (self->keyring_page, description);
}

static void
kiln_window_sync_state (KilnWindow *self)
{
  KilnApplication *app = kiln_window_get_kiln_application (self);
  const char *page;

  g_assert (KILN_IS_WINDOW (self));

  switch (kiln_application_get_account_state (app))
    {
    case KILN_ACCOUNT_STATE_NONE:
      page = "welcome";
      break;

    case KILN_ACCOUNT_STATE_KEYRING_ERROR:
      kiln_window_show_keyring_error (self, kiln_application_get_keyring_error (app));
      page = "keyring-error";
      break;

    case KILN_ACCOUNT_STATE_READY:
      page = "main";
      break;

    case KILN_ACCOUNT_STATE_LOADING:
    default:
      page = "loading";
      break;
    }

  gtk_stack_set_visible_child_name (self->stack, page);

  /* Empty states have a flat header bar and no title over them, and no switcher for pages
   * that are not there yet. */
  gtk_widget_set_visible (GTK_WIDGET (self->switcher_title), g_str_equal (page, "main"));
  gtk_widget_set_visible (GTK_WIDGET (self->network_status), g_str_equal (page, "main"));
  if (g_str_equal (page, "main"))
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->header_bar), "flat");
      adw_view_switcher_title_set_title (self->switcher_title, _("Kiln"));
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->header_bar), "flat");
      adw_view_switcher_title_set_title (self->switcher_title, NULL);
    }

  if (g_str_equal (page, "keyring-error"))
    gtk_widget_grab_focus (GTK_WIDGET (self->retry_button));
  else if (g_str_equal (page, "main"))
    gtk_widget_grab_focus (adw_view_stack_get_visible_child (self->view_stack));
}

static void
kiln_window_sync_busy (KilnWindow *self)
{
  gboolean busy = kiln_application_get_busy (kiln_window_get_kiln_application (self));

  gtk_spinner_set_spinning (self->create_spinner, busy);
  gtk_stack_set_visible_child_name (self->create_stack, busy ? "spinner" : "label");
}

static void
kiln_window_show_network_cb (KilnWindow *self)
{
  g_assert (KILN_IS_WINDOW (self));

  adw_view_stack_set_visible_child_name (self->view_stack, "network");
  gtk_widget_child_focus (GTK_WIDGET (self->network_page), GTK_DIR_TAB_FORWARD);
}

static void
kiln_window_retry_cb (KilnWindow *self)
{
  g_assert (KILN_IS_WINDOW (self));

  kiln_application_reload_account (kiln_window_get_kiln_application (self));
}

/* Follows @app's settings and account; "application" is not a construct property, so this
 * runs once it is set. */
static void
kiln_window_attach (KilnWindow      *self,
                    KilnApplication *app)
{
  GSettings *settings;

  g_assert (KILN_IS_WINDOW (self));
  g_assert (KILN_IS_APPLICATION (app));

  settings = kiln_application_get_settings (app);
  g_settings_bind (settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);

  g_object_bind_property (app, "key", self->account_page, "key", G_BINDING_SYNC_CREATE);
  kiln_render_page_set_session (self->render_page, kiln_application_get_session (app));
  kiln_wallet_page_set_session (self->wallet_page, kiln_application_get_session (app));
  kiln_network_page_set_session (self->network_page, kiln_application_get_session (app));
  kiln_network_status_set_session (self->network_status, kiln_application_get_session (app));
  kiln_lending_page_setup (self->lending_page, settings, kiln_application_get_lender (app));

  g_signal_connect_object (app, "notify::account-state",
                           G_CALLBACK (kiln_window_sync_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (app, "notify::busy",
                           G_CALLBACK (kiln_window_sync_busy), self, G_CONNECT_SWAPPED);

  kiln_window_sync_state (self);
  kiln_window_sync_busy (self);
}

static void
kiln_window_class_init (KilnWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, create_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, create_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, welcome_page);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, keyring_page);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, retry_button);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, render_page);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, account_page);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, wallet_page);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, lending_page);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, network_page);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, network_status);
  gtk_widget_class_bind_template_child (widget_class, KilnWindow, view_stack);
  gtk_widget_class_bind_template_callback (widget_class, kiln_window_retry_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_window_show_network_cb);

  g_type_ensure (KILN_TYPE_RENDER_PAGE);
  g_type_ensure (KILN_TYPE_ACCOUNT_PAGE);
  g_type_ensure (KILN_TYPE_WALLET_PAGE);
  g_type_ensure (KILN_TYPE_LENDING_PAGE);
  g_type_ensure (KILN_TYPE_NETWORK_PAGE);
  g_type_ensure (KILN_TYPE_NETWORK_STATUS);
}

static void
kiln_window_init (KilnWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

#if DEVELOPMENT_BUILD
  gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
#endif

  adw_status_page_set_icon_name (self->welcome_page, APP_ID);
}

KilnWindow *
kiln_window_new (KilnApplication *application)
{
  KilnWindow *self;

  g_return_val_if_fail (KILN_IS_APPLICATION (application), NULL);

  self = g_object_new (KILN_TYPE_WINDOW,
                       "application", application,
                       NULL);
  kiln_window_attach (self, application);

  return self;
}

void
kiln_window_add_toast (KilnWindow *self,
                       AdwToast   *toast)
{
  g_return_if_fail (KILN_IS_WINDOW (self));
  g_return_if_fail (ADW_IS_TOAST (toast));

  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
kiln_window_show_message (KilnWindow *self,
                          const char *message)
{
  g_autofree char *escaped = NULL;

  g_return_if_fail (KILN_IS_WINDOW (self));
  g_return_if_fail (message != NULL);

  /* Toast titles are markup; messages may come from errors that contain "<" or "&". */
  escaped = g_markup_escape_text (message, -1);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (escaped));
}

void
kiln_window_show_page (KilnWindow *self,
                       const char *name)
{
  g_return_if_fail (KILN_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  adw_view_stack_set_visible_child_name (self->view_stack, name);
}

void
kiln_window_open_scene (KilnWindow *self,
                        GFile      *file)
{
  g_return_if_fail (KILN_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  adw_view_stack_set_visible_child_name (self->view_stack, "render");
  kiln_render_page_open_file (self->render_page, file);
}

void
kiln_window_choose_scene (KilnWindow *self)
{
  g_return_if_fail (KILN_IS_WINDOW (self));

  adw_view_stack_set_visible_child_name (self->view_stack, "render");
  kiln_render_page_choose_file (self->render_page);
}

void
kiln_window_show_job (KilnWindow *self,
                      const char *id)
{
  g_return_if_fail (KILN_IS_WINDOW (self));
  g_return_if_fail (id != NULL);

  adw_view_stack_set_visible_child_name (self->view_stack, "render");
  kiln_render_page_show_job (self->render_page, id);
}
