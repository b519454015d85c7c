/* kiln-secret-store.c: node keys in the desktop keyring (Secret Service via libsecret)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "kiln-address.h"
#include "kiln-crypto.h"
#include "kiln-key.h"
#include "kiln-secret-store.h"

/* Each key is one item in the default collection:
 *   attributes  xdg:schema = <schema name>, address = <EIP-55 address>, kind = "node-key"
 *   label       "Kiln node key 0x…" unless the caller gives one
 *   secret      the 32 secret bytes as 64 lowercase hex digits, content type text/plain
 * Saving replaces the item with the same attributes, so one address has one item. */

#define ATTRIBUTE_ADDRESS "address"
#define ATTRIBUTE_KIND    "kind"
#define KIND_NODE_KEY     "node-key"

/* 64 hex digits with room for a "0x" prefix and stray whitespace; anything longer is not ours. */
#define MAX_SECRET_TEXT   128

struct _KilnSecretStore
{
  GObject       parent_instance;

  char         *schema_name;
  SecretSchema *schema;
};

G_DEFINE_FINAL_TYPE (KilnSecretStore, kiln_secret_store, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SCHEMA_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  GHashTable          *attributes;
  char                *address;       /* EIP-55, or NULL for "any key" */
  char                *label;
  SecretValue         *value;
  GList               *items;         /* items still to delete */
  SecretSearchFlags    search_flags;
  GAsyncReadyCallback  searched;
} Operation;

static void
operation_free (gpointer data)
{
  Operation *op = data;

  g_clear_pointer (&op->attributes, g_hash_table_unref);
  g_clear_pointer (&op->address, g_free);
  g_clear_pointer (&op->label, g_free);
  g_clear_pointer (&op->value, secret_value_unref);
  g_list_free_full (g_steal_pointer (&op->items), g_object_unref);
  g_free (op);
}

/* Error messages */

static GError *
keyring_unavailable_error (void)
{
  return g_error_new_literal (KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_UNAVAILABLE,
                              _("No keyring service is running. Kiln keeps its key in the "
                                "desktop keyring (GNOME Keyring or KWallet); start one and "
                                "try again, or import a keystore file."));
}

static GError *
keyring_locked_error (void)
{
  return g_error_new_literal (KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_LOCKED,
                              _("The keyring is locked. Unlock it with its password when your "
                                "desktop asks for it (or in the Passwords and Keys app) and "
                                "try again."));
}

static GError *
no_default_collection_error (void)
{
  return g_error_new_literal (KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_UNAVAILABLE,
                              _("The keyring has no default collection to keep the key in, "
                                "and none could be created. Set up a default keyring (for "
                                "example in the Passwords and Keys app) and try again, or "
                                "import a keystore file."));
}

static GError *
not_found_error (const char *address)
{
  if (address != NULL)
    return g_error_new (KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_NOT_FOUND,
                        _("The keyring holds no key for %s. Import that account’s keystore "
                          "file to use it here."),
                        address);

  return g_error_new_literal (KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_NOT_FOUND,
                              _("The keyring holds no Kiln node key yet. Create a new identity "
                                "or import a keystore file."));
}

/* Errors meaning that nothing answers for the Secret Service on the session bus (or that
 * there is no usable session bus at all). */
static gboolean
error_means_unavailable (const GError *error)
{
  if (error->domain != G_DBUS_ERROR)
    return FALSE;

  switch (error->code)
    {
    case G_DBUS_ERROR_SERVICE_UNKNOWN:
    case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
    case G_DBUS_ERROR_NO_SERVER:
    case G_DBUS_ERROR_DISCONNECTED:
    case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
    case G_DBUS_ERROR_SPAWN_FORK_FAILED:
    case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
    case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
    case G_DBUS_ERROR_SPAWN_FAILED:
    case G_DBUS_ERROR_SPAWN_SETUP_FAILED:
    case G_DBUS_ERROR_SPAWN_CONFIG_INVALID:
    case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
    case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
    case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
    case G_DBUS_ERROR_SPAWN_FILE_INVALID:
    case G_DBUS_ERROR_SPAWN_NO_MEMORY:
      return TRUE;

    default:
      return FALSE;
    }
}

/* Returns @task's error for @error (consumed) from a keyring call: cancellation stays as it
 * is, the known situations get a message that says what to do, anything else keeps its
 * domain and code behind a short explanation. */
static void
return_keyring_error (GTask      *task,
                      GError     *error,
                      const char *what)
{
  g_assert (error != NULL);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }

  g_debug ("Keyring: %s: %s (%s, %d)", what, error->message,
           g_quark_to_string (error->domain), error->code);

  if (error_means_unavailable (error))
    {
      g_task_return_error (task, keyring_unavailable_error ());
      g_error_free (error);
    }
  else if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
    {
      g_task_return_error (task, keyring_locked_error ());
      g_error_free (error);
    }
  else
    {
      g_prefix_error (&error, "%s: ", what);
      g_task_return_error (task, error);
    }
}

/* Connecting: any failure to reach the service or to open a session with it means that
 * there is no usable keyring, whatever GIO or libsecret call it. */
static void
get_service (GTask               *task,
             GAsyncReadyCallback  callback)
{
  secret_service_get (SECRET_SERVICE_OPEN_SESSION, g_task_get_cancellable (task), callback, task);
}

static SecretService *
get_service_finish (GTask        *task,
                    GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;
  SecretService *service;

  service = secret_service_get_finish (result, &error);
  if (service != NULL)
    {
      /* The service is a shared singleton that may come back at once, cancelled or not. */
      if (g_task_return_error_if_cancelled (task))
        g_clear_object (&service);
      return service;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return NULL;
    }

  g_debug ("Keyring: cannot reach the Secret Service: %s (%s, %d)", error->message,
           g_quark_to_string (error->domain), error->code);
  g_task_return_error (task, keyring_unavailable_error ());
  return NULL;
}

/* Normalizes a caller's address to its EIP-55 form. */
static char *
normalize_address (const char  *text,
                   GError     **error)
{
  KilnAddress address;

  if (!kiln_address_parse (&address, text, error))
    return NULL;

  return kiln_address_to_string (&address);
}

static void
wipe_and_free_string (gpointer data)
{
  char *text = data;

  if (text == NULL)
    return;

  kiln_secure_wipe (text, strlen (text));
  g_free (text);
}

/* The secret as hex text; the only copy lives in the returned value and is wiped with it. */
static SecretValue *
secret_value_for_key (KilnKey *key)
{
  guint8 secret[KILN_SECRET_KEY_SIZE];
  char *hex;

  kiln_key_copy_secret (key, secret);
  hex = kiln_hex_encode (secret, sizeof secret);
  kiln_secure_wipe (secret, sizeof secret);

  return secret_value_new_full (hex, -1, "text/plain", wipe_and_free_string);
}

/* The key in @item, checked against the item's own "address" attribute. */
static KilnKey *
key_from_item (SecretItem  *item,
               SecretValue *value,
               GError     **error)
{
  g_autoptr(GHashTable) attributes = NULL;
  g_autoptr(KilnKey) key = NULL;
  g_autofree char *label = NULL;
  char text[MAX_SECRET_TEXT + 1];
  const char *stored_address;
  const char *data;
  KilnAddress address;
  gsize len = 0;

  label = secret_item_get_label (item);
  attributes = secret_item_get_attributes (item);
  stored_address = g_hash_table_lookup (attributes, ATTRIBUTE_ADDRESS);

  data = secret_value_get (value, &len);
  if (data != NULL && len > 0 && len <= MAX_SECRET_TEXT)
    {
      memcpy (text, data, len);
      text[len] = '\0';
      key = kiln_key_new_from_hex (text, NULL);
      kiln_secure_wipe (text, sizeof text);
    }

  if (key == NULL)
    {
      g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY,
                   _("The keyring item “%s” is damaged: it does not hold a node key. Delete it "
                     "and import the key again from a keystore file."),
                   label ? label : "");
      return NULL;
    }

  if (stored_address == NULL
      || !kiln_address_parse (&address, stored_address, NULL)
      || !kiln_address_equal (&address, kiln_key_get_address (key)))
    {
      g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY,
                   _("The keyring item “%s” is damaged: it is filed under the address %s but "
                     "holds the key of %s. Delete it and import the key again from a keystore "
                     "file."),
                   label ? label : "", stored_address ? stored_address : "(none)",
                   kiln_key_get_address_string (key));
      return NULL;
    }

  return g_steal_pointer (&key);
}

/* GObject */

static void
kiln_secret_store_constructed (GObject *object)
{
  KilnSecretStore *self = (KilnSecretStore *) object;

  G_OBJECT_CLASS (kiln_secret_store_parent_class)->constructed (object);

  if (self->schema_name == NULL || self->schema_name[0] == '\0')
    {
      g_critical ("KilnSecretStore needs a schema name");
      g_free (self->schema_name);
      self->schema_name = g_strdup ("io.github.kilnapp.Kiln");
    }

  self->schema = secret_schema_new (self->schema_name, SECRET_SCHEMA_NONE,
                                    ATTRIBUTE_ADDRESS, SECRET_SCHEMA_ATTRIBUTE_STRING,
                                    ATTRIBUTE_KIND, SECRET_SCHEMA_ATTRIBUTE_STRING,
                                    NULL);
}

static void
kiln_secret_store_finalize (GObject *object)
{
  KilnSecretStore *self = (KilnSecretStore *) object;

  g_clear_pointer (&self->schema, secret_schema_unref);
  g_clear_pointer (&self->schema_name, g_free);

  G_OBJECT_CLASS (kiln_secret_store_parent_class)->finalize (object);
}

static void
kiln_secret_store_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  KilnSecretStore *self = KILN_SECRET_STORE (object);

  switch (prop_id)
    {
    case PROP_SCHEMA_NAME:
      g_value_set_string (value, self->schema_name);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_secret_store_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  KilnSecretStore *self = KILN_SECRET_STORE (object);

  switch (prop_id)
    {
    case PROP_SCHEMA_NAME:
      g_free (self->schema_name);
      self->schema_name = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_secret_store_class_init (KilnSecretStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = kiln_secret_store_constructed;
  object_class->finalize = kiln_secret_store_finalize;
  object_class->get_property = kiln_secret_store_get_property;
  object_class->set_property = kiln_secret_store_set_property;

  /**
   * KilnSecretStore:schema-name:
   *
   * The Secret Service schema of the stored items (the application ID). Stores with
   * different schema names do not see each other's keys.
   */
  properties[PROP_SCHEMA_NAME] =
    g_param_spec_string ("schema-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_secret_store_init (KilnSecretStore *self)
{
}

KilnSecretStore *
kiln_secret_store_new (const char *schema_name)
{
  g_return_val_if_fail (schema_name != NULL && schema_name[0] != '\0', NULL);

  return g_object_new (KILN_TYPE_SECRET_STORE,
                       "schema-name", schema_name,
                       NULL);
}

const char *
kiln_secret_store_get_schema_name (KilnSecretStore *self)
{
  g_return_val_if_fail (KILN_IS_SECRET_STORE (self), NULL);

  return self->schema_name;
}

static GTask *
operation_task_new (KilnSecretStore     *self,
                    gpointer             source_tag,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, g_new0 (Operation, 1), operation_free);

  return task;
}

/* The attributes of the items to look for: the key of @address (any address form), or every
 * node key when @address is NULL. */
static gboolean
operation_match_address (GTask       *task,
                         const char  *address,
                         GError     **error)
{
  KilnSecretStore *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);

  if (address == NULL)
    {
      op->attributes = secret_attributes_build (self->schema,
                                                ATTRIBUTE_KIND, KIND_NODE_KEY,
                                                NULL);
      return TRUE;
    }

  op->address = normalize_address (address, error);
  if (op->address == NULL)
    return FALSE;

  op->attributes = secret_attributes_build (self->schema,
                                            ATTRIBUTE_ADDRESS, op->address,
                                            ATTRIBUTE_KIND, KIND_NODE_KEY,
                                            NULL);
  return TRUE;
}

static void
search_service_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(SecretService) service = NULL;
  KilnSecretStore *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);

  service = get_service_finish (task, result);
  if (service == NULL)
    return;

  secret_service_search (service, self->schema, op->attributes, op->search_flags,
                         g_task_get_cancellable (task), op->searched, g_object_ref (task));
}

/* Connects, then searches for the operation's attributes; @searched gets the result. */
static void
search (GTask               *task,
        SecretSearchFlags    flags,
        GAsyncReadyCallback  searched)
{
  Operation *op = g_task_get_task_data (task);

  op->search_flags = flags;
  op->searched = searched;
  get_service (task, search_service_cb);
}

/* Save */

static void
save_stored_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_service_store_finish (SECRET_SERVICE (object), result, &error))
    {
      /* libsecret offers to create a missing default collection; this is what is left
       * when that prompt could not be shown or was dismissed. */
      if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_NO_SUCH_OBJECT)
          || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT)
          || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
        {
          g_debug ("Keyring: no default collection: %s", error->message);
          g_task_return_error (task, no_default_collection_error ());
          g_error_free (error);
          return;
        }

      return_keyring_error (task, error, _("Could not save the node key in the keyring"));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
save_service_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(SecretService) service = NULL;
  KilnSecretStore *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);

  service = get_service_finish (task, result);
  if (service == NULL)
    return;

  secret_service_store (service, self->schema, op->attributes, SECRET_COLLECTION_DEFAULT,
                        op->label, op->value, g_task_get_cancellable (task),
                        save_stored_cb, g_object_ref (task));
}

/**
 * kiln_secret_store_save_async:
 * @self: a #KilnSecretStore
 * @key: the key to store
 * @label: (nullable): the item's label, or %NULL for "Kiln node key 0x…"
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the key is stored
 * @user_data: data for @callback
 *
 * Stores @key in the default collection of the Secret Service, replacing the item for
 * the same address if there is one.
 */
void
kiln_secret_store_save_async (KilnSecretStore     *self,
                              KilnKey             *key,
                              const char          *label,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  const char *address;
  Operation *op;

  g_return_if_fail (KILN_IS_SECRET_STORE (self));
  g_return_if_fail (KILN_IS_KEY (key));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = operation_task_new (self, kiln_secret_store_save_async, cancellable, callback,
                             user_data);
  op = g_task_get_task_data (task);

  address = kiln_key_get_address_string (key);
  op->attributes = secret_attributes_build (self->schema,
                                            ATTRIBUTE_ADDRESS, address,
                                            ATTRIBUTE_KIND, KIND_NODE_KEY,
                                            NULL);
  if (label != NULL && label[0] != '\0')
    op->label = g_strdup (label);
  else
    op->label = g_strdup_printf (_("Kiln node key %s"), address);
  op->value = secret_value_for_key (key);

  get_service (g_steal_pointer (&task), save_service_cb);
}

/**
 * kiln_secret_store_save_finish:
 * @self: a #KilnSecretStore
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the key is stored
 */
gboolean
kiln_secret_store_save_finish (KilnSecretStore  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (KILN_IS_SECRET_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_secret_store_save_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Load */

static void
load_searched_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GList *items;
  GError *error = NULL;
  SecretValue *value;
  KilnKey *key;

  items = secret_service_search_finish (SECRET_SERVICE (object), result, &error);
  if (error != NULL)
    {
      return_keyring_error (task, error, _("Could not search the keyring"));
      return;
    }

  /* Unlock failures do not fail the search; a cancelled prompt must not look like a
   * locked keyring though. */
  if (g_task_return_error_if_cancelled (task))
    {
      g_list_free_full (items, g_object_unref);
      return;
    }

  if (items == NULL)
    {
      g_task_return_error (task, not_found_error (op->address));
      return;
    }

  /* Loaded secrets come only with unlocked items: no secret means that the collection
   * stayed locked (the unlock prompt was dismissed or could not be shown). */
  value = secret_item_get_secret (items->data);
  if (value == NULL)
    {
      g_task_return_error (task, keyring_locked_error ());
      g_list_free_full (items, g_object_unref);
      return;
    }

  key = key_from_item (items->data, value, &error);
  secret_value_unref (value);
  g_list_free_full (items, g_object_unref);

  if (key == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, key, g_object_unref);
}

/**
 * kiln_secret_store_load_async:
 * @self: a #KilnSecretStore
 * @address: (nullable): the account to load, or %NULL for any stored key
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the key
 * @user_data: data for @callback
 *
 * Loads a stored key, asking the desktop to unlock the keyring if it is locked. The key is
 * checked against the address the item is filed under.
 */
void
kiln_secret_store_load_async (KilnSecretStore     *self,
                              const char          *address,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (KILN_IS_SECRET_STORE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = operation_task_new (self, kiln_secret_store_load_async, cancellable, callback,
                             user_data);
  if (!operation_match_address (task, address, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  search (g_steal_pointer (&task), SECRET_SEARCH_UNLOCK | SECRET_SEARCH_LOAD_SECRETS,
          load_searched_cb);
}

/**
 * kiln_secret_store_load_finish:
 * @self: a #KilnSecretStore
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the key, or %NULL with @error set
 */
KilnKey *
kiln_secret_store_load_finish (KilnSecretStore  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (KILN_IS_SECRET_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_secret_store_load_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* List */

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
list_searched_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GPtrArray) addresses = NULL;
  GError *error = NULL;
  GList *items;

  items = secret_service_search_finish (SECRET_SERVICE (object), result, &error);
  if (error != NULL)
    {
      return_keyring_error (task, error, _("Could not search the keyring"));
      return;
    }

  addresses = g_ptr_array_new_with_free_func (g_free);
  for (const GList *l = items; l != NULL; l = l->next)
    {
      g_autoptr(GHashTable) attributes = secret_item_get_attributes (l->data);
      const char *text = g_hash_table_lookup (attributes, ATTRIBUTE_ADDRESS);
      KilnAddress address;
      char *formatted;

      /* A locked item may not show its attributes; it cannot be listed then. */
      if (text == NULL || !kiln_address_parse (&address, text, NULL))
        continue;

      formatted = kiln_address_to_string (&address);
      if (g_ptr_array_find_with_equal_func (addresses, formatted, g_str_equal, NULL))
        g_free (formatted);
      else
        g_ptr_array_add (addresses, formatted);
    }
  g_list_free_full (items, g_object_unref);

  g_ptr_array_sort (addresses, compare_strings);
  g_ptr_array_add (addresses, NULL);

  g_task_return_pointer (task, g_ptr_array_free (g_steal_pointer (&addresses), FALSE),
                         (GDestroyNotify) g_strfreev);
}

/**
 * kiln_secret_store_list_async:
 * @self: a #KilnSecretStore
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the addresses
 * @user_data: data for @callback
 *
 * Lists the addresses of the stored keys without unlocking anything or reading secrets.
 */
void
kiln_secret_store_list_async (KilnSecretStore     *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_SECRET_STORE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = operation_task_new (self, kiln_secret_store_list_async, cancellable, callback,
                             user_data);
  operation_match_address (task, NULL, NULL);

  /* Neither unlocking nor loading secrets: listing never prompts. */
  search (g_steal_pointer (&task), SECRET_SEARCH_ALL, list_searched_cb);
}

/**
 * kiln_secret_store_list_finish:
 * @self: a #KilnSecretStore
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the EIP-55 addresses, sorted; empty when there is none
 */
GStrv
kiln_secret_store_list_finish (KilnSecretStore  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (KILN_IS_SECRET_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_secret_store_list_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Delete */

static void delete_next (GTask *task);

static void
delete_item_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_item_delete_finish (SECRET_ITEM (object), result, &error))
    {
      return_keyring_error (task, error, _("Could not delete the node key from the keyring"));
      return;
    }

  delete_next (task);
}

static void
delete_next (GTask *task)
{
  Operation *op = g_task_get_task_data (task);
  g_autoptr(SecretItem) item = NULL;
  GList *first;

  if (op->items == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  first = op->items;
  op->items = g_list_remove_link (op->items, first);
  item = first->data;
  g_list_free_1 (first);

  secret_item_delete (item, g_task_get_cancellable (task), delete_item_cb, g_object_ref (task));
}

static void
delete_searched_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GError *error = NULL;

  op->items = secret_service_search_finish (SECRET_SERVICE (object), result, &error);
  if (error != NULL)
    {
      return_keyring_error (task, error, _("Could not search the keyring"));
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  if (op->items == NULL)
    {
      g_task_return_error (task, not_found_error (op->address));
      return;
    }

  delete_next (task);
}

/**
 * kiln_secret_store_delete_async:
 * @self: a #KilnSecretStore
 * @address: the account whose key to delete
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the key is deleted
 * @user_data: data for @callback
 *
 * Deletes the stored key for @address. Fails with %KILN_CRYPTO_ERROR_NOT_FOUND when there
 * is none.
 */
void
kiln_secret_store_delete_async (KilnSecretStore     *self,
                                const char          *address,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (KILN_IS_SECRET_STORE (self));
  g_return_if_fail (address != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = operation_task_new (self, kiln_secret_store_delete_async, cancellable, callback,
                             user_data);
  if (!operation_match_address (task, address, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* secret_service_clear() silently skips locked items; searching first lets a locked
   * keyring be unlocked, or be reported as locked by the delete itself. */
  search (g_steal_pointer (&task), SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK, delete_searched_cb);
}

/**
 * kiln_secret_store_delete_finish:
 * @self: a #KilnSecretStore
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the key was deleted
 */
gboolean
kiln_secret_store_delete_finish (KilnSecretStore  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (KILN_IS_SECRET_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_secret_store_delete_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
