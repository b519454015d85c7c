/* kiln-preferences-window.c: the data folder, the payment network and the peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every row is bound to its GSettings key. Text that is not valid yet is shown with the error
 * style and is not written, so the settings only ever hold values the engine can use.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "libkiln.h"

#include "kiln-connect-dialog.h"
#include "kiln-file-chooser.h"
#include "kiln-preferences-window.h"

struct _KilnPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  AdwActionRow         *data_dir_row;
  GtkButton            *reset_folder_button;
  AdwComboRow          *network_row;
  AdwEntryRow          *rpc_url_row;
  AdwEntryRow          *chain_id_row;
  AdwEntryRow          *token_row;
  GtkSpinButton        *listen_port_button;
  AdwEntryRow          *bootstrap_row;
  GtkSwitch            *lan_switch;

  GSettings            *settings;
  GCancellable         *cancellable;
};

G_DEFINE_FINAL_TYPE (KilnPreferencesWindow, kiln_preferences_window,
                     ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The nicks of the "network-preset" key, in the order of the rows of network_row. */
static const char * const network_presets[] = {
  "devnet",
  "sepolia",
  "mainnet",
  "polygon",
  "custom",
};

static void
set_error_style (AdwEntryRow *row,
                 gboolean     error)
{
  if (error)
    gtk_widget_add_css_class (GTK_WIDGET (row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
}

static gboolean
rpc_url_is_valid (const char *text)
{
  static const char * const schemes[] = { "http", "https", "ws", "wss", NULL };
  g_autoptr(GUri) uri = NULL;
  const char *host;

  uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return FALSE;

  host = g_uri_get_host (uri);

  return host != NULL && host[0] != '\0' &&
         g_strv_contains (schemes, g_uri_get_scheme (uri));
}

static gboolean
chain_id_parse (const char *text,
                guint64    *out)
{
  return g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT64, out, NULL);
}

static gboolean
map_data_dir_to_subtitle (GValue   *value,
                          GVariant *variant,
                          gpointer  user_data)
{
  const char *path = g_variant_get_string (variant, NULL);
  g_autofree char *default_path = NULL;
  g_autoptr(GFile) file = NULL;

  if (path[0] == '\0')
    {
      default_path = g_build_filename (g_get_user_data_dir (), "kiln", NULL);
      path = default_path;
    }

  file = g_file_new_for_path (path);
  g_value_take_string (value, kiln_file_chooser_display_path (file));

  return TRUE;
}

static gboolean
map_string_is_set (GValue   *value,
                   GVariant *variant,
                   gpointer  user_data)
{
  g_value_set_boolean (value, g_variant_get_string (variant, NULL)[0] != '\0');
  return TRUE;
}

static gboolean
map_preset_to_index (GValue   *value,
                     GVariant *variant,
                     gpointer  user_data)
{
  const char *nick = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (network_presets); i++)
    {
      if (g_str_equal (nick, network_presets[i]))
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }

  return FALSE;
}

static GVariant *
map_index_to_preset (const GValue       *value,
                     const GVariantType *expected_type,
                     gpointer            user_data)
{
  guint index = g_value_get_uint (value);

  if (index >= G_N_ELEMENTS (network_presets))
    return NULL;

  return g_variant_new_string (network_presets[index]);
}

static gboolean
map_preset_is_custom (GValue   *value,
                      GVariant *variant,
                      gpointer  user_data)
{
  g_value_set_boolean (value, g_str_equal (g_variant_get_string (variant, NULL), "custom"));
  return TRUE;
}

static GVariant *
map_rpc_url_to_setting (const GValue       *value,
                        const GVariantType *expected_type,
                        gpointer            user_data)
{
  const char *text = g_value_get_string (value);

  if (text[0] != '\0' && !rpc_url_is_valid (text))
    return NULL;

  return g_variant_new_string (text);
}

static gboolean
map_chain_id_to_text (GValue   *value,
                      GVariant *variant,
                      gpointer  user_data)
{
  guint64 chain_id = g_variant_get_uint64 (variant);

  if (chain_id == 0)
    g_value_set_string (value, "");
  else
    g_value_take_string (value, g_strdup_printf ("%" G_GUINT64_FORMAT, chain_id));

  return TRUE;
}

static GVariant *
map_text_to_chain_id (const GValue       *value,
                      const GVariantType *expected_type,
                      gpointer            user_data)
{
  const char *text = g_value_get_string (value);
  guint64 chain_id = 0;

  /* Empty means "ask the RPC endpoint". */
  if (text[0] != '\0' && !chain_id_parse (text, &chain_id))
    return NULL;

  return g_variant_new_uint64 (chain_id);
}

static GVariant *
map_token_to_setting (const GValue       *value,
                      const GVariantType *expected_type,
                      gpointer            user_data)
{
  const char *text = g_value_get_string (value);
  char formatted[KILN_ADDRESS_STRING_SIZE];
  KilnAddress address;

  if (text[0] == '\0')
    return g_variant_new_string ("");

  if (!kiln_address_parse (&address, text, NULL))
    return NULL;

  kiln_address_format (&address, formatted);
  return g_variant_new_string (formatted);
}

static void
kiln_preferences_window_rpc_url_changed_cb (KilnPreferencesWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->rpc_url_row));

  set_error_style (self->rpc_url_row, text[0] != '\0' && !rpc_url_is_valid (text));
}

static void
kiln_preferences_window_chain_id_changed_cb (KilnPreferencesWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->chain_id_row));
  guint64 chain_id;

  set_error_style (self->chain_id_row, text[0] != '\0' && !chain_id_parse (text, &chain_id));
}

static void
kiln_preferences_window_token_changed_cb (KilnPreferencesWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->token_row));
  KilnAddress address;

  set_error_style (self->token_row, text[0] != '\0' && !kiln_address_parse (&address, text, NULL));
}

/* "a:1, b:2" → { "a:1", "b:2" }, or NULL when one of them is not HOST:PORT. */
static GStrv
bootstrap_parse (const char *text)
{
  g_auto(GStrv) parts = g_strsplit_set (text, ", \t\n", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0')
        continue;
      if (!kiln_connect_dialog_parse_address (parts[i], NULL, NULL, NULL))
        return NULL;
      g_strv_builder_add (builder, parts[i]);
    }

  return g_strv_builder_end (builder);
}

static gboolean
map_bootstrap_to_text (GValue   *value,
                       GVariant *variant,
                       gpointer  user_data)
{
  g_autofree const char **bootstrap = g_variant_get_strv (variant, NULL);

  g_value_take_string (value, g_strjoinv (", ", (char **) bootstrap));

  return TRUE;
}

static void
kiln_preferences_window_bootstrap_changed_cb (KilnPreferencesWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->bootstrap_row));
  g_auto(GStrv) bootstrap = bootstrap_parse (text);

  set_error_style (self->bootstrap_row, bootstrap == NULL);
}

static void
kiln_preferences_window_bootstrap_apply_cb (KilnPreferencesWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->bootstrap_row));
  g_auto(GStrv) bootstrap = bootstrap_parse (text);

  if (bootstrap == NULL)
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                        adw_toast_new (_("Write each bootstrap node as "
                                                         "HOST:PORT, such as "
                                                         "192.168.1.20:4747")));
      return;
    }

  g_settings_set_strv (self->settings, "network-bootstrap", (const char * const *) bootstrap);
}

static void
kiln_preferences_window_folder_chosen_cb (GObject      *object,
                                          GAsyncResult *result,
                                          gpointer      user_data)
{
  g_autoptr(KilnPreferencesWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) folder = NULL;
  g_autofree char *path = NULL;
  const char *message = NULL;

  folder = kiln_file_chooser_run_finish (result, &error);
  if (folder == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                          adw_toast_new (_("Could not choose the folder")));
      return;
    }

  path = g_file_get_path (folder);
  if (path == NULL)
    message = _("Choose a folder on this computer");
  else if (!g_utf8_validate (path, -1, NULL))
    message = _("Choose a folder whose name is readable text");

  if (message != NULL)
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (message));
      return;
    }

  g_settings_set_string (self->settings, "data-dir", path);
}

static void
kiln_preferences_window_choose_folder_cb (KilnPreferencesWindow *self)
{
  g_autofree char *current = g_settings_get_string (self->settings, "data-dir");
  g_autoptr(GFile) folder = NULL;

  if (current[0] != '\0')
    folder = g_file_new_for_path (current);

  kiln_file_chooser_run_async (GTK_WINDOW (self),
                               KILN_FILE_CHOOSER_SELECT_FOLDER,
                               _("Choose a Data Folder"),
                               _("_Select"),
                               NULL,
                               folder,
                               self->cancellable,
                               kiln_preferences_window_folder_chosen_cb,
                               g_object_ref (self));
}

static void
kiln_preferences_window_reset_folder_cb (KilnPreferencesWindow *self)
{
  g_settings_reset (self->settings, "data-dir");
}

static void
kiln_preferences_window_constructed (GObject *object)
{
  KilnPreferencesWindow *self = (KilnPreferencesWindow *)object;

  G_OBJECT_CLASS (kiln_preferences_window_parent_class)->constructed (object);

  g_assert (G_IS_SETTINGS (self->settings));

  g_settings_bind_with_mapping (self->settings, "data-dir",
                                self->data_dir_row, "subtitle",
                                G_SETTINGS_BIND_GET,
                                map_data_dir_to_subtitle, NULL, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "data-dir",
                                self->reset_folder_button, "sensitive",
                                G_SETTINGS_BIND_GET,
                                map_string_is_set, NULL, NULL, NULL);

  g_settings_bind_with_mapping (self->settings, "network-preset",
                                self->network_row, "selected",
                                G_SETTINGS_BIND_DEFAULT,
                                map_preset_to_index, map_index_to_preset, NULL, NULL);

  g_settings_bind_with_mapping (self->settings, "network-preset",
                                self->rpc_url_row, "visible",
                                G_SETTINGS_BIND_GET,
                                map_preset_is_custom, NULL, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "network-preset",
                                self->chain_id_row, "visible",
                                G_SETTINGS_BIND_GET,
                                map_preset_is_custom, NULL, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "network-preset",
                                self->token_row, "visible",
                                G_SETTINGS_BIND_GET,
                                map_preset_is_custom, NULL, NULL, NULL);

  g_settings_bind_with_mapping (self->settings, "custom-rpc-url",
                                self->rpc_url_row, "text",
                                G_SETTINGS_BIND_DEFAULT,
                                NULL, map_rpc_url_to_setting, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "custom-chain-id",
                                self->chain_id_row, "text",
                                G_SETTINGS_BIND_DEFAULT,
                                map_chain_id_to_text, map_text_to_chain_id, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "custom-token-address",
                                self->token_row, "text",
                                G_SETTINGS_BIND_DEFAULT,
                                NULL, map_token_to_setting, NULL, NULL);

  g_settings_bind (self->settings, "network-listen-port",
                   self->listen_port_button, "value",
                   G_SETTINGS_BIND_DEFAULT);
  /* Written when applied: a node restarts with every change. */
  g_settings_bind_with_mapping (self->settings, "network-bootstrap",
                                self->bootstrap_row, "text",
                                G_SETTINGS_BIND_GET,
                                map_bootstrap_to_text, NULL, NULL, NULL);
  g_settings_bind (self->settings, "network-lan",
                   self->lan_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
}

static void
kiln_preferences_window_dispose (GObject *object)
{
  KilnPreferencesWindow *self = (KilnPreferencesWindow *)object;

  g_cancellable_cancel (self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), KILN_TYPE_PREFERENCES_WINDOW);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kiln_preferences_window_parent_class)->dispose (object);
}

static void
kiln_preferences_window_finalize (GObject *object)
{
  KilnPreferencesWindow *self = (KilnPreferencesWindow *)object;

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (kiln_preferences_window_parent_class)->finalize (object);
}

static void
kiln_preferences_window_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  KilnPreferencesWindow *self = KILN_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_preferences_window_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  KilnPreferencesWindow *self = KILN_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_preferences_window_class_init (KilnPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = kiln_preferences_window_constructed;
  object_class->dispose = kiln_preferences_window_dispose;
  object_class->finalize = kiln_preferences_window_finalize;
  object_class->get_property = kiln_preferences_window_get_property;
  object_class->set_property = kiln_preferences_window_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnPreferencesWindow, data_dir_row);
  gtk_widget_class_bind_template_child (widget_class, KilnPreferencesWindow, reset_folder_button);
  gtk_widget_class_bind_template_child (widget_class, KilnPreferencesWindow, network_row);
  gtk_widget_class_bind_template_child (widget_class, KilnPreferencesWindow, rpc_url_row);
  gtk_widget_class_bind_template_child (widget_class, KilnPreferencesWindow, chain_id_row);
  gtk_widget_class_bind_template_child (widget_class, KilnPreferencesWindow, token_row);
  gtk_widget_class_bind_template_child (widget_class, KilnPreferencesWindow, listen_port_button);
  gtk_widget_class_bind_template_child (widget_class, KilnPreferencesWindow, bootstrap_row);
  gtk_widget_class_bind_template_child (widget_class, KilnPreferencesWindow, lan_switch);
  gtk_widget_class_bind_template_callback (widget_class,
                                           kiln_preferences_window_rpc_url_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class,
                                           kiln_preferences_window_chain_id_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class,
                                           kiln_preferences_window_token_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class,
                                           kiln_preferences_window_bootstrap_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class,
                                           kiln_preferences_window_bootstrap_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class,
                                           kiln_preferences_window_choose_folder_cb);
  gtk_widget_class_bind_template_callback (widget_class,
                                           kiln_preferences_window_reset_folder_cb);
}

static void
kiln_preferences_window_init (KilnPreferencesWindow *self)
{
  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
}

KilnPreferencesWindow *
kiln_preferences_window_new (GtkWindow *parent,
                             GSettings *settings)
{
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (KILN_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "settings", settings,
                       NULL);
}
