/* kiln-application.c: the desktop app and the account it uses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-application-private.h"
#include "kiln-enums.h"
#include "kiln-window.h"

G_DEFINE_FINAL_TYPE (KilnApplication, kiln_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_ACCOUNT_STATE,
  PROP_BUSY,
  PROP_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  KilnKey  *key;
  gboolean  session_fallback;
  gboolean  saved;
} AdoptData;

static void
adopt_data_free (gpointer data)
{
  AdoptData *adopt = data;

  g_clear_object (&adopt->key);
  g_free (adopt);
}

static void
kiln_application_set_account_state (KilnApplication  *self,
                                    KilnAccountState  state)
{
  g_assert (KILN_IS_APPLICATION (self));

  if (self->account_state == state)
    return;

  self->account_state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCOUNT_STATE]);
}

static void
kiln_application_set_key (KilnApplication *self,
                          KilnKey         *key)
{
  g_assert (KILN_IS_APPLICATION (self));

  if (g_set_object (&self->key, key))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEY]);
}

static void
kiln_application_hold_busy (KilnApplication *self)
{
  if (self->busy++ == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
kiln_application_release_busy (KilnApplication *self)
{
  g_assert (self->busy > 0);

  if (--self->busy == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static gboolean
is_keyring_error (const GError *error)
{
  return g_error_matches (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_LOCKED) ||
         g_error_matches (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_UNAVAILABLE);
}

/* Makes @key the account in use; @persist remembers it for the next start. */
static void
kiln_application_use_key (KilnApplication *self,
                          KilnKey         *key,
                          gboolean         persist)
{
  g_assert (KILN_IS_APPLICATION (self));
  g_assert (KILN_IS_KEY (key));

  if (persist)
    g_settings_set_string (self->settings, "account", kiln_key_get_address_string (key));

  g_clear_error (&self->keyring_error);
  kiln_application_set_key (self, key);
  kiln_application_set_account_state (self, KILN_ACCOUNT_STATE_READY);
}

static void
kiln_application_load_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  KilnSecretStore *store = KILN_SECRET_STORE (object);
  g_autoptr(KilnApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = NULL;

  g_assert (KILN_IS_APPLICATION (self));

  key = kiln_secret_store_load_finish (store, result, &error);
  self->loading = FALSE;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* An account chosen while the keyring was being read wins. */
  if (self->account_state != KILN_ACCOUNT_STATE_LOADING)
    return;

  if (key != NULL)
    {
      kiln_application_use_key (self, key, FALSE);
    }
  else if (g_error_matches (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_NOT_FOUND))
    {
      kiln_application_set_account_state (self, KILN_ACCOUNT_STATE_NONE);
    }
  else
    {
      g_debug ("Could not read the keyring: %s", error->message);
      g_clear_error (&self->keyring_error);
      self->keyring_error = g_steal_pointer (&error);
      kiln_application_set_account_state (self, KILN_ACCOUNT_STATE_KEYRING_ERROR);
    }
}

/**
 * kiln_application_reload_account:
 * @self: a #KilnApplication
 *
 * Reads the account named by the "account" setting from the keyring, or any stored account
 * when the setting is empty, and moves to the matching state.
 */
void
kiln_application_reload_account (KilnApplication *self)
{
  g_autofree char *address = NULL;

  g_return_if_fail (KILN_IS_APPLICATION (self));
  g_return_if_fail (self->secret_store != NULL);

  if (self->loading || self->busy > 0)
    return;

  address = g_settings_get_string (self->settings, "account");

  self->loading = TRUE;
  kiln_application_set_account_state (self, KILN_ACCOUNT_STATE_LOADING);
  kiln_secret_store_load_async (self->secret_store,
                                address[0] != '\0' ? address : NULL,
                                self->cancellable,
                                kiln_application_load_cb,
                                g_object_ref (self));
}

static void
kiln_application_save_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  KilnSecretStore *store = KILN_SECRET_STORE (object);
  g_autoptr(GTask) task = user_data;
  KilnApplication *self = g_task_get_source_object (task);
  AdoptData *adopt = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  kiln_application_release_busy (self);

  if (kiln_secret_store_save_finish (store, result, &error))
    {
      adopt->saved = TRUE;
      kiln_application_use_key (self, adopt->key, TRUE);
      g_task_return_boolean (task, TRUE);
    }
  else if (adopt->session_fallback && is_keyring_error (error))
    {
      g_debug ("Using the account without saving it: %s", error->message);
      adopt->saved = FALSE;
      kiln_application_use_key (self, adopt->key, FALSE);
      g_task_return_boolean (task, TRUE);
    }
  else
    {
      g_task_return_error (task, g_steal_pointer (&error));
    }
}

static void
kiln_application_save_key (KilnApplication *self,
                           GTask           *task)
{
  AdoptData *adopt = g_task_get_task_data (task);
  g_autofree char *label = NULL;

  g_assert (KILN_IS_APPLICATION (self));
  g_assert (G_IS_TASK (task));

  /* TRANSLATORS: the name of the key in the keyring, as Passwords and Keys shows it */
  label = g_strdup_printf (_("Kiln account %s"), kiln_key_get_address_string (adopt->key));

  kiln_application_hold_busy (self);
  kiln_secret_store_save_async (self->secret_store,
                                adopt->key,
                                label,
                                g_task_get_cancellable (task),
                                kiln_application_save_cb,
                                task);
}

/**
 * kiln_application_create_account_async:
 * @self: a #KilnApplication
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the account is in use or could not be saved
 * @user_data: data for @callback
 *
 * Generates a new key, saves it in the keyring and makes it the account in use. A new key
 * that cannot be saved is dropped: nothing else holds it.
 */
void
kiln_application_create_account_async (KilnApplication     *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  AdoptData *adopt;

  g_return_if_fail (KILN_IS_APPLICATION (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_application_create_account_async);

  adopt = g_new0 (AdoptData, 1);
  g_task_set_task_data (task, adopt, adopt_data_free);

  adopt->key = kiln_key_generate (&error);
  if (adopt->key == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  kiln_application_save_key (self, g_steal_pointer (&task));
}

gboolean
kiln_application_create_account_finish (KilnApplication  *self,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  g_return_val_if_fail (KILN_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_application_create_account_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * kiln_application_adopt_key_async:
 * @self: a #KilnApplication
 * @key: an imported key
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the account is in use or could not be
 * @user_data: data for @callback
 *
 * Saves @key in the keyring and makes it the account in use. When the keyring is locked or
 * missing, @key is still used until the app quits (it came from a file or from text the
 * person still has) and kiln_application_adopt_key_finish() says it was not saved.
 */
void
kiln_application_adopt_key_async (KilnApplication     *self,
                                  KilnKey             *key,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AdoptData *adopt;

  g_return_if_fail (KILN_IS_APPLICATION (self));
  g_return_if_fail (KILN_IS_KEY (key));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_application_adopt_key_async);

  adopt = g_new0 (AdoptData, 1);
  adopt->key = g_object_ref (key);
  adopt->session_fallback = TRUE;
  g_task_set_task_data (task, adopt, adopt_data_free);

  kiln_application_save_key (self, g_steal_pointer (&task));
}

gboolean
kiln_application_adopt_key_finish (KilnApplication  *self,
                                   GAsyncResult     *result,
                                   gboolean         *out_saved,
                                   GError          **error)
{
  AdoptData *adopt;

  g_return_val_if_fail (KILN_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_application_adopt_key_async, FALSE);

  adopt = g_task_get_task_data (G_TASK (result));

  if (out_saved != NULL)
    *out_saved = adopt->saved;

  return g_task_propagate_boolean (G_TASK (result), error);
}

KilnWindow *
_kiln_application_get_window (KilnApplication *self)
{
  GtkWindow *window;

  g_assert (KILN_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (KILN_IS_WINDOW (window))
    return KILN_WINDOW (window);

  for (const GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (KILN_IS_WINDOW (l->data))
        return KILN_WINDOW (l->data);
    }

  window = GTK_WINDOW (kiln_window_new (self));
  gtk_window_present (window);

  return KILN_WINDOW (window);
}

static void
kiln_application_activate (GApplication *application)
{
  KilnApplication *self = KILN_APPLICATION (application);

  /* Started with --background: the tray or a second start asks for the window later. */
  if (self->start_hidden)
    {
      self->start_hidden = FALSE;
      return;
    }

  gtk_window_present (GTK_WINDOW (_kiln_application_get_window (self)));
}

/* `kiln scene.blend`, or a .blend opened from the file manager: the Render page reads it. */
static void
kiln_application_open (GApplication  *application,
                       GFile        **files,
                       int            n_files,
                       const char    *hint)
{
  KilnApplication *self = KILN_APPLICATION (application);
  KilnWindow *window;

  g_assert (n_files > 0);

  /* A file asked for is a window asked for, even after --background. */
  self->start_hidden = FALSE;

  window = _kiln_application_get_window (self);
  kiln_window_open_scene (window, files[0]);
  if (n_files > 1)
    kiln_window_show_message (window, _("Kiln renders one scene at a time: it opened the "
                                        "first one"));

  gtk_window_present (GTK_WINDOW (window));
}

static void
kiln_application_startup (GApplication *application)
{
  KilnApplication *self = KILN_APPLICATION (application);

  G_APPLICATION_CLASS (kiln_application_parent_class)->startup (application);

  gtk_window_set_default_icon_name (APP_ID);

  self->settings = g_settings_new (BASE_APP_ID);
  self->secret_store = kiln_secret_store_new (BASE_APP_ID);

  /* The wallet follows the account in use. */
  self->session = kiln_session_new (self->settings);
  kiln_session_override_network (self->session,
                                 (const char * const *) self->bootstrap_option,
                                 self->listen_port_option);
  g_object_bind_property (self, "key", self->session, "key", G_BINDING_SYNC_CREATE);

  /* Lending runs for as long as the app does, with or without a window. */
  _kiln_application_lending_startup (self);
  _kiln_application_background_startup (self);
  /* Render jobs too, and they tell how they end. */
  _kiln_application_jobs_startup (self);

  _kiln_application_actions_init (self);
  kiln_application_reload_account (self);
}

static void
kiln_application_shutdown (GApplication *application)
{
  KilnApplication *self = KILN_APPLICATION (application);

  g_cancellable_cancel (self->cancellable);
  _kiln_application_jobs_shutdown (self);
  _kiln_application_background_shutdown (self);
  _kiln_application_lending_shutdown (self);
  /* The node's peers hear goodbye before the app exits. */
  kiln_session_shutdown (self->session);

  G_APPLICATION_CLASS (kiln_application_parent_class)->shutdown (application);

  /* Stops following payments and closes the database before the main loop ends. */
  g_clear_object (&self->session);
}

/* --bootstrap HOST:PORT (repeatable) and --listen-port N take the place of the settings for
 * this run. */
static gboolean
kiln_application_parse_network_options (KilnApplication *self,
                                        GVariantDict    *options)
{
  g_autofree const char **bootstrap = NULL;
  const char *port_text;
  guint64 port;

  /* A string: GApplication does not tell an integer option of 0 from a missing one. */
  if (g_variant_dict_lookup (options, "listen-port", "&s", &port_text))
    {
      if (!g_ascii_string_to_unsigned (port_text, 10, 0, G_MAXUINT16, &port, NULL))
        {
          g_printerr (_("--listen-port wants a port from 0 to 65535, not “%s”\n"), port_text);
          return FALSE;
        }
      self->listen_port_option = port;
    }

  if (g_variant_dict_lookup (options, "bootstrap", "^a&s", &bootstrap))
    {
      for (guint i = 0; bootstrap[i] != NULL; i++)
        {
          g_autoptr(GSocketConnectable) address = NULL;

          address = g_network_address_parse (bootstrap[i], 0, NULL);
          if (address == NULL ||
              g_network_address_get_port (G_NETWORK_ADDRESS (address)) == 0)
            {
              g_printerr (_("--bootstrap wants HOST:PORT, not “%s”\n"), bootstrap[i]);
              return FALSE;
            }
        }
      g_strfreev (self->bootstrap_option);
      self->bootstrap_option = g_strdupv ((char **) bootstrap);
    }

  return TRUE;
}

static int
kiln_application_handle_local_options (GApplication *application,
                                       GVariantDict *options)
{
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("kiln %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (!kiln_application_parse_network_options (KILN_APPLICATION (application), options))
    return EXIT_FAILURE;

  if (g_variant_dict_contains (options, "background"))
    {
      g_autoptr(GError) error = NULL;

      if (!g_application_register (application, NULL, &error))
        {
          g_printerr ("%s\n", error->message);
          return EXIT_FAILURE;
        }

      /* Already running, window or not: it lends already. */
      if (g_application_get_is_remote (application))
        return EXIT_SUCCESS;

      _kiln_application_start_hidden (KILN_APPLICATION (application));
    }

  return G_APPLICATION_CLASS (kiln_application_parent_class)->handle_local_options (application,
                                                                                   options);
}

static void
kiln_application_dispose (GObject *object)
{
  KilnApplication *self = (KilnApplication *)object;

  g_cancellable_cancel (self->cancellable);

  g_clear_object (&self->key);
  g_clear_object (&self->tray);
  g_clear_object (&self->lender);
  g_clear_object (&self->provider);
  g_clear_object (&self->idle_monitor);
  g_clear_object (&self->policy);
  g_clear_object (&self->portal_cancellable);
  g_clear_object (&self->session);
  g_clear_object (&self->secret_store);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kiln_application_parent_class)->dispose (object);
}

static void
kiln_application_finalize (GObject *object)
{
  KilnApplication *self = (KilnApplication *)object;

  g_clear_object (&self->cancellable);
  g_clear_error (&self->keyring_error);
  g_clear_pointer (&self->bootstrap_option, g_strfreev);

  G_OBJECT_CLASS (kiln_application_parent_class)->finalize (object);
}

static void
kiln_application_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KilnApplication *self = KILN_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_STATE:
      g_value_set_enum (value, self->account_state);
      break;

    case PROP_BUSY:
      g_value_set_boolean (value, self->busy > 0);
      break;

    case PROP_KEY:
      g_value_set_object (value, self->key);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_application_class_init (KilnApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = kiln_application_dispose;
  object_class->finalize = kiln_application_finalize;
  object_class->get_property = kiln_application_get_property;

  app_class->activate = kiln_application_activate;
  app_class->open = kiln_application_open;
  app_class->startup = kiln_application_startup;
  app_class->shutdown = kiln_application_shutdown;
  app_class->handle_local_options = kiln_application_handle_local_options;

  properties[PROP_ACCOUNT_STATE] =
    g_param_spec_enum ("account-state", NULL, NULL,
                       KILN_TYPE_ACCOUNT_STATE,
                       KILN_ACCOUNT_STATE_LOADING,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_KEY] =
    g_param_spec_object ("key", NULL, NULL,
                         KILN_TYPE_KEY,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_application_init (KilnApplication *self)
{
  static const GOptionEntry main_entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Show the version and quit"), NULL },
    { "background", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Start without a window, to lend this computer in the background"), NULL },
    { "bootstrap", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL,
      N_("Join the Kiln network through this node instead of the bootstrap nodes of the "
         "settings (repeatable)"), N_("HOST:PORT") },
    { "listen-port", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("Listen for other nodes on this port instead of the one in the settings (0: any "
         "free port)"), N_("PORT") },
    { NULL }
  };

  self->cancellable = g_cancellable_new ();
  self->account_state = KILN_ACCOUNT_STATE_LOADING;
  self->listen_port_option = -1;

  g_application_add_main_option_entries (G_APPLICATION (self), main_entries);
}

KilnApplication *
kiln_application_new (void)
{
  return g_object_new (KILN_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS | G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", RESOURCE_PREFIX,
                       NULL);
}

GSettings *
kiln_application_get_settings (KilnApplication *self)
{
  g_return_val_if_fail (KILN_IS_APPLICATION (self), NULL);

  return self->settings;
}

KilnAccountState
kiln_application_get_account_state (KilnApplication *self)
{
  g_return_val_if_fail (KILN_IS_APPLICATION (self), KILN_ACCOUNT_STATE_LOADING);

  return self->account_state;
}

KilnKey *
kiln_application_get_key (KilnApplication *self)
{
  g_return_val_if_fail (KILN_IS_APPLICATION (self), NULL);

  return self->key;
}

const GError *
kiln_application_get_keyring_error (KilnApplication *self)
{
  g_return_val_if_fail (KILN_IS_APPLICATION (self), NULL);

  return self->keyring_error;
}

KilnSession *
kiln_application_get_session (KilnApplication *self)
{
  g_return_val_if_fail (KILN_IS_APPLICATION (self), NULL);

  return self->session;
}

gboolean
kiln_application_get_busy (KilnApplication *self)
{
  g_return_val_if_fail (KILN_IS_APPLICATION (self), FALSE);

  return self->busy > 0;
}
