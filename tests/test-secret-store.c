/* test-secret-store.c: node keys in a real gnome-keyring on a private session bus
 *
 * Run through with-keyring.sh, which starts the daemon with an unlocked "login" collection
 * as the default alias and puts its password in $KILN_TEST_KEYRING_PASSWORD. The stored
 * items are read back with libsecret directly, not through KilnSecretStore.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <libsecret/secret.h>

#include "libkiln.h"

#define UNAVAILABLE_MESSAGE \
  "No keyring service is running. Kiln keeps its key in the desktop keyring (GNOME Keyring " \
  "or KWallet); start one and try again, or import a keystore file."

/* An unlock prompt that cannot be shown must be dismissed well before this. */
#define PROMPT_TIMEOUT_SECONDS 30

typedef struct
{
  char            *schema_name;
  KilnSecretStore *store;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  static guint counter;

  fixture->schema_name = g_strdup_printf ("io.github.kilnapp.Kiln.Test%u", ++counter);
  fixture->store = kiln_secret_store_new (fixture->schema_name);
  g_assert_cmpstr (kiln_secret_store_get_schema_name (fixture->store), ==,
                   fixture->schema_name);
}

static GHashTable *
schema_attributes (const char *schema_name)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, (gpointer) "xdg:schema", (gpointer) schema_name);
  return attributes;
}

/* Every item of @schema_name, straight from libsecret. */
static GList *
search_schema_items (const char        *schema_name,
                     SecretSearchFlags  flags)
{
  g_autoptr(GHashTable) attributes = schema_attributes (schema_name);
  g_autoptr(GError) error = NULL;
  GList *items;

  items = secret_service_search_sync (NULL, NULL, attributes, SECRET_SEARCH_ALL | flags,
                                      NULL, &error);
  g_assert_no_error (error);
  return items;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GHashTable) attributes = schema_attributes (fixture->schema_name);
  g_autoptr(GError) error = NULL;
  GList *left;

  secret_service_clear_sync (NULL, NULL, attributes, NULL, &error);
  g_assert_no_error (error);
  left = search_schema_items (fixture->schema_name, SECRET_SEARCH_NONE);
  g_assert_null (left);

  g_assert_finalize_object (fixture->store);
  g_free (fixture->schema_name);
}

/* Running the async API to completion. Each call must return before its result arrives:
 * the store never blocks the caller's main loop. */

static void
on_ready (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

static void
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
save_key (KilnSecretStore  *store,
          KilnKey          *key,
          const char       *label,
          GCancellable     *cancellable,
          GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_secret_store_save_async (store, key, label, cancellable, on_ready, &result);
  g_assert_null (result);
  wait_for (&result);
  return kiln_secret_store_save_finish (store, result, error);
}

static KilnKey *
load_key (KilnSecretStore  *store,
          const char       *address,
          GCancellable     *cancellable,
          GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_secret_store_load_async (store, address, cancellable, on_ready, &result);
  g_assert_null (result);
  wait_for (&result);
  return kiln_secret_store_load_finish (store, result, error);
}

static GStrv
list_keys (KilnSecretStore  *store,
           GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_secret_store_list_async (store, NULL, on_ready, &result);
  g_assert_null (result);
  wait_for (&result);
  return kiln_secret_store_list_finish (store, result, error);
}

static gboolean
delete_key_with_cancellable (KilnSecretStore  *store,
                             const char       *address,
                             GCancellable     *cancellable,
                             GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_secret_store_delete_async (store, address, cancellable, on_ready, &result);
  g_assert_null (result);
  wait_for (&result);
  return kiln_secret_store_delete_finish (store, result, error);
}

static gboolean
delete_key (KilnSecretStore  *store,
            const char       *address,
            GError          **error)
{
  return delete_key_with_cancellable (store, address, NULL, error);
}

static KilnKey *
new_key (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key;

  key = kiln_key_generate (&error);
  g_assert_no_error (error);
  g_assert_nonnull (key);
  return key;
}

/* Compares secrets without ever printing them. */
static void
assert_same_key (KilnKey *a,
                 KilnKey *b)
{
  guint8 secret_a[KILN_SECRET_KEY_SIZE];
  guint8 secret_b[KILN_SECRET_KEY_SIZE];
  gboolean same;

  g_assert_cmpstr (kiln_key_get_address_string (a), ==, kiln_key_get_address_string (b));

  kiln_key_copy_secret (a, secret_a);
  kiln_key_copy_secret (b, secret_b);
  same = memcmp (secret_a, secret_b, sizeof secret_a) == 0;
  kiln_secure_wipe (secret_a, sizeof secret_a);
  kiln_secure_wipe (secret_b, sizeof secret_b);
  g_assert_true (same);
}

/* The expected addresses follow @addresses, ending with NULL (alone for none). */
static void
assert_addresses (GStrv        addresses,
                  const char  *first,
                  ...)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new ();
  va_list args;

  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (expected, (gpointer) a);
  va_end (args);

  g_assert_nonnull (addresses);
  g_assert_cmpuint (g_strv_length (addresses), ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    g_assert_true (g_strv_contains ((const char * const *) addresses, expected->pdata[i]));
}

/* Plants an item the way a damaged or foreign writer might, bypassing KilnSecretStore. */
static void
plant_item (const char *schema_name,
            const char *address,
            const char *secret_text)
{
  g_autoptr(GHashTable) attributes = schema_attributes (schema_name);
  g_autoptr(SecretValue) value = NULL;
  g_autoptr(GError) error = NULL;

  g_hash_table_insert (attributes, (gpointer) "address", (gpointer) address);
  g_hash_table_insert (attributes, (gpointer) "kind", (gpointer) "node-key");
  value = secret_value_new (secret_text, -1, "text/plain");

  secret_service_store_sync (NULL, NULL, attributes, SECRET_COLLECTION_DEFAULT,
                             "Planted item", value, NULL, &error);
  g_assert_no_error (error);
}

static void
test_round_trip (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(KilnKey) any = NULL;
  g_autoptr(KilnKey) gone = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) addresses = NULL;
  g_auto(GStrv) after = NULL;
  g_autofree char *lower = NULL;
  const char *address = kiln_key_get_address_string (key);
  gboolean ok;

  ok = save_key (fixture->store, key, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  addresses = list_keys (fixture->store, &error);
  g_assert_no_error (error);
  assert_addresses (addresses, address, NULL);

  loaded = load_key (fixture->store, address, NULL, &error);
  g_assert_no_error (error);
  assert_same_key (key, loaded);

  /* Without an address, any stored key; the address may be written in lower case. */
  any = load_key (fixture->store, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_same_key (key, any);

  lower = g_ascii_strdown (address, -1);
  ok = delete_key (fixture->store, lower, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  gone = load_key (fixture->store, address, NULL, &error);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_NOT_FOUND);
  g_assert_null (gone);
  g_assert_nonnull (strstr (error->message, address));
  g_clear_error (&error);

  gone = load_key (fixture->store, NULL, NULL, &error);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_NOT_FOUND);
  g_assert_null (gone);
  g_clear_error (&error);

  g_assert_false (delete_key (fixture->store, address, &error));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  after = list_keys (fixture->store, &error);
  g_assert_no_error (error);
  assert_addresses (after, NULL);
}

static void
test_replace (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) addresses = NULL;
  g_autofree char *label = NULL;
  GList *items;
  gboolean ok;

  ok = save_key (fixture->store, key, "First", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  ok = save_key (fixture->store, key, "Second", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  items = search_schema_items (fixture->schema_name, SECRET_SEARCH_NONE);
  g_assert_cmpuint (g_list_length (items), ==, 1);
  label = secret_item_get_label (items->data);
  g_assert_cmpstr (label, ==, "Second");
  g_list_free_full (items, g_object_unref);

  addresses = list_keys (fixture->store, &error);
  g_assert_no_error (error);
  assert_addresses (addresses, kiln_key_get_address_string (key), NULL);

  loaded = load_key (fixture->store, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_same_key (key, loaded);
}

static void
test_two_keys (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(KilnKey) first = new_key ();
  g_autoptr(KilnKey) second = new_key ();
  g_autoptr(KilnKey) loaded_first = NULL;
  g_autoptr(KilnKey) loaded_second = NULL;
  g_autoptr(KilnKey) any = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) addresses = NULL;
  g_auto(GStrv) remaining = NULL;
  gboolean ok;

  ok = save_key (fixture->store, first, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  ok = save_key (fixture->store, second, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  addresses = list_keys (fixture->store, &error);
  g_assert_no_error (error);
  assert_addresses (addresses, kiln_key_get_address_string (first),
                    kiln_key_get_address_string (second), NULL);
  g_assert_cmpstr (addresses[0], <, addresses[1]);

  loaded_first = load_key (fixture->store, kiln_key_get_address_string (first), NULL, &error);
  g_assert_no_error (error);
  assert_same_key (first, loaded_first);

  loaded_second = load_key (fixture->store, kiln_key_get_address_string (second), NULL, &error);
  g_assert_no_error (error);
  assert_same_key (second, loaded_second);

  any = load_key (fixture->store, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_equal (kiln_key_get_address_string (any),
                              kiln_key_get_address_string (first)) ||
                 g_str_equal (kiln_key_get_address_string (any),
                              kiln_key_get_address_string (second)));

  /* Deleting one leaves the other. */
  ok = delete_key (fixture->store, kiln_key_get_address_string (first), &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  remaining = list_keys (fixture->store, &error);
  g_assert_no_error (error);
  assert_addresses (remaining, kiln_key_get_address_string (second), NULL);
}

static void
test_item_format (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(GHashTable) attributes = NULL;
  g_autoptr(SecretValue) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *label = NULL;
  g_autofree char *expected_label = NULL;
  g_autofree char *expected_hex = NULL;
  guint8 secret[KILN_SECRET_KEY_SIZE];
  guint8 decoded[KILN_SECRET_KEY_SIZE];
  const char *data;
  gsize len = 0;
  gboolean is_hex = TRUE;
  gboolean same;
  GList *items;
  gboolean ok;

  ok = save_key (fixture->store, key, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  items = search_schema_items (fixture->schema_name, SECRET_SEARCH_LOAD_SECRETS);
  g_assert_cmpuint (g_list_length (items), ==, 1);

  /* Exactly the documented attributes. */
  attributes = secret_item_get_attributes (items->data);
  g_assert_cmpuint (g_hash_table_size (attributes), ==, 3);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "xdg:schema"), ==, fixture->schema_name);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "address"), ==,
                   kiln_key_get_address_string (key));
  g_assert_cmpstr (g_hash_table_lookup (attributes, "kind"), ==, "node-key");

  label = secret_item_get_label (items->data);
  expected_label = g_strdup_printf ("Kiln node key %s", kiln_key_get_address_string (key));
  g_assert_cmpstr (label, ==, expected_label);

  /* The secret is 64 lowercase hex digits of text, not the 32 raw bytes. */
  value = secret_item_get_secret (items->data);
  g_assert_nonnull (value);
  g_assert_cmpstr (secret_value_get_content_type (value), ==, "text/plain");
  data = secret_value_get (value, &len);
  g_assert_cmpuint (len, ==, 2 * KILN_SECRET_KEY_SIZE);
  for (gsize i = 0; i < len; i++)
    is_hex = is_hex && g_ascii_isxdigit (data[i]) && !g_ascii_isupper (data[i]);
  g_assert_true (is_hex);

  kiln_key_copy_secret (key, secret);
  expected_hex = kiln_hex_encode (secret, sizeof secret);
  g_assert_true (kiln_hex_decode (secret_value_get_text (value), decoded, sizeof decoded,
                                  &error));
  g_assert_no_error (error);
  same = memcmp (data, expected_hex, len) == 0 && memcmp (decoded, secret, sizeof secret) == 0;
  kiln_secure_wipe (secret, sizeof secret);
  kiln_secure_wipe (decoded, sizeof decoded);
  kiln_secure_wipe (expected_hex, strlen (expected_hex));
  g_assert_true (same);

  g_list_free_full (items, g_object_unref);
}

static void
test_damaged_item (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(KilnKey) filed = new_key ();
  g_autoptr(KilnKey) other = new_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *other_hex = NULL;
  const char *filed_address = kiln_key_get_address_string (filed);
  guint8 secret[KILN_SECRET_KEY_SIZE];
  gboolean ok;

  /* Filed under one address, holding another account's key. */
  kiln_key_copy_secret (other, secret);
  other_hex = kiln_hex_encode (secret, sizeof secret);
  kiln_secure_wipe (secret, sizeof secret);
  plant_item (fixture->schema_name, filed_address, other_hex);
  kiln_secure_wipe (other_hex, strlen (other_hex));

  loaded = load_key (fixture->store, filed_address, NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY);
  g_assert_nonnull (strstr (error->message, "damaged"));
  g_assert_nonnull (strstr (error->message, filed_address));
  g_assert_nonnull (strstr (error->message, kiln_key_get_address_string (other)));
  g_clear_error (&error);

  loaded = load_key (fixture->store, NULL, NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY);
  g_clear_error (&error);

  /* A secret that is no key at all. */
  plant_item (fixture->schema_name, filed_address, "not a key");
  loaded = load_key (fixture->store, filed_address, NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY);
  g_assert_nonnull (strstr (error->message, "damaged"));
  g_clear_error (&error);

  /* Saving the real key repairs the item in place. */
  ok = save_key (fixture->store, filed, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  loaded = load_key (fixture->store, filed_address, NULL, &error);
  g_assert_no_error (error);
  assert_same_key (filed, loaded);
}

static void
test_schema_isolation (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autofree char *other_name = g_strconcat (fixture->schema_name, ".Other", NULL);
  g_autoptr(KilnSecretStore) other = kiln_secret_store_new (other_name);
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) seen_by_other = NULL;
  g_auto(GStrv) seen_by_owner = NULL;
  const char *address = kiln_key_get_address_string (key);
  gboolean ok;

  ok = save_key (fixture->store, key, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  seen_by_other = list_keys (other, &error);
  g_assert_no_error (error);
  assert_addresses (seen_by_other, NULL);

  loaded = load_key (other, address, NULL, &error);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_NOT_FOUND);
  g_assert_null (loaded);
  g_clear_error (&error);

  loaded = load_key (other, NULL, NULL, &error);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_NOT_FOUND);
  g_assert_null (loaded);
  g_clear_error (&error);

  g_assert_false (delete_key (other, address, &error));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  seen_by_owner = list_keys (fixture->store, &error);
  g_assert_no_error (error);
  assert_addresses (seen_by_owner, address, NULL);

  loaded = load_key (fixture->store, address, NULL, &error);
  g_assert_no_error (error);
  assert_same_key (key, loaded);

  g_assert_finalize_object (g_steal_pointer (&other));
}

static void
test_bad_address (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(GError) error = NULL;

  loaded = load_key (fixture->store, "0x1234", NULL, &error);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_ADDRESS);
  g_assert_null (loaded);
  g_clear_error (&error);

  g_assert_false (delete_key (fixture->store, "not an address", &error));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_ADDRESS);
}

static void
test_cancelled (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(GError) error = NULL;
  GList *items;

  g_cancellable_cancel (cancellable);

  g_assert_false (save_key (fixture->store, key, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  items = search_schema_items (fixture->schema_name, SECRET_SEARCH_NONE);
  g_assert_null (items);

  loaded = load_key (fixture->store, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (loaded);
}

/* gnome-keyring's own call for unlocking a collection with its password, over a "plain"
 * session (the bus is private to the test). */
static void
unlock_with_password (const char *collection_path)
{
  const char *password = g_getenv ("KILN_TEST_KEYRING_PASSWORD");
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) opened = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *session = NULL;

  g_assert_nonnull (password);

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);

  opened = g_dbus_connection_call_sync (bus, "org.freedesktop.secrets", "/org/freedesktop/secrets",
                                        "org.freedesktop.Secret.Service", "OpenSession",
                                        g_variant_new ("(sv)", "plain", g_variant_new_string ("")),
                                        G_VARIANT_TYPE ("(vo)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                        NULL, &error);
  g_assert_no_error (error);
  g_variant_get (opened, "(v&o)", NULL, &session);

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.secrets", "/org/freedesktop/secrets",
                                       "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
                                       "UnlockWithMasterPassword",
                                       g_variant_new ("(o(o@ay@ays))", collection_path, session,
                                                      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                 "", 0, 1),
                                                      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                 password,
                                                                                 strlen (password),
                                                                                 1),
                                                      "text/plain"),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);

  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.secrets", session,
                                       "org.freedesktop.Secret.Session", "Close",
                                       NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

static gboolean
cancel_on_timeout (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_locked (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(SecretService) service = NULL;
  g_autoptr(SecretCollection) collection = NULL;
  g_autoptr(GCancellable) timeout = g_cancellable_new ();
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(KilnKey) other = new_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) addresses = NULL;
  g_autofree char *collection_path = NULL;
  const char *address = kiln_key_get_address_string (key);
  GList *objects;
  guint timeout_id;
  int n_locked;
  gboolean ok;

  ok = save_key (fixture->store, key, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  service = secret_service_get_sync (SECRET_SERVICE_LOAD_COLLECTIONS, NULL, &error);
  g_assert_no_error (error);
  collection = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT,
                                                 SECRET_COLLECTION_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (collection);
  collection_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (collection)));

  objects = g_list_append (NULL, collection);
  n_locked = secret_service_lock_sync (service, objects, NULL, NULL, &error);
  g_list_free (objects);
  g_assert_no_error (error);
  g_assert_cmpint (n_locked, ==, 1);

  /* Unlocking needs a prompt; without a display gnome-keyring cannot show one and the
   * prompt ends dismissed. The timeout only keeps a hanging prompt from hanging the test. */
  timeout_id = g_timeout_add_seconds (PROMPT_TIMEOUT_SECONDS, cancel_on_timeout, timeout);

  loaded = load_key (fixture->store, address, timeout, &error);
  g_assert_false (g_cancellable_is_cancelled (timeout));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_LOCKED);
  g_assert_null (loaded);
  g_assert_true (g_str_has_prefix (error->message, "The keyring is locked. Unlock it"));
  g_clear_error (&error);

  loaded = load_key (fixture->store, NULL, timeout, &error);
  g_assert_false (g_cancellable_is_cancelled (timeout));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_LOCKED);
  g_assert_null (loaded);
  g_clear_error (&error);

  g_assert_false (save_key (fixture->store, other, NULL, timeout, &error));
  g_assert_false (g_cancellable_is_cancelled (timeout));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_LOCKED);
  g_clear_error (&error);

  g_assert_false (delete_key_with_cancellable (fixture->store, address, timeout, &error));
  g_assert_false (g_cancellable_is_cancelled (timeout));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_LOCKED);
  g_clear_error (&error);

  g_source_remove (timeout_id);

  /* Listing does not unlock, and still sees the key. */
  addresses = list_keys (fixture->store, &error);
  g_assert_no_error (error);
  assert_addresses (addresses, address, NULL);

  /* Once the person unlocks the keyring, the key loads again. */
  unlock_with_password (collection_path);
  loaded = load_key (fixture->store, address, NULL, &error);
  g_assert_no_error (error);
  assert_same_key (key, loaded);

  ok = save_key (fixture->store, other, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* No Secret Service: a private bus of the test's own, with nothing activatable on it. */

static void
assert_unavailable (GError *error)
{
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_UNAVAILABLE);
  g_assert_cmpstr (error->message, ==, UNAVAILABLE_MESSAGE);
}

static void
check_every_call_unavailable (void)
{
  g_autoptr(KilnSecretStore) store = kiln_secret_store_new ("io.github.kilnapp.Kiln.Test");
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) addresses = NULL;

  g_assert_false (save_key (store, key, NULL, NULL, &error));
  assert_unavailable (error);
  g_clear_error (&error);

  loaded = load_key (store, NULL, NULL, &error);
  g_assert_null (loaded);
  assert_unavailable (error);
  g_clear_error (&error);

  loaded = load_key (store, kiln_key_get_address_string (key), NULL, &error);
  g_assert_null (loaded);
  assert_unavailable (error);
  g_clear_error (&error);

  addresses = list_keys (store, &error);
  g_assert_null (addresses);
  assert_unavailable (error);
  g_clear_error (&error);

  g_assert_false (delete_key (store, kiln_key_get_address_string (key), &error));
  assert_unavailable (error);
  g_clear_error (&error);

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_unavailable_no_service (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);

      g_test_dbus_up (bus);
      check_every_call_unavailable ();
      secret_service_disconnect ();
      g_test_dbus_down (bus);
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_unavailable_no_bus (void)
{
  if (g_test_subprocess ())
    {
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/kiln-test-bus", TRUE);
      check_every_call_unavailable ();
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* A keyring daemon on a bus of the test's own, started with no login keyring: there is no
 * default collection, and the prompt to create one cannot be shown. */
static void
test_no_default_collection (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);
      g_autoptr(GSubprocessLauncher) launcher = NULL;
      g_autoptr(GSubprocess) daemon = NULL;
      g_autoptr(KilnSecretStore) store = NULL;
      g_autoptr(GCancellable) timeout = g_cancellable_new ();
      g_autoptr(KilnKey) key = new_key ();
      g_autoptr(GError) error = NULL;
      g_autofree char *home = g_build_filename (g_get_home_dir (), "no-default-collection", NULL);
      g_autofree char *runtime = g_build_filename (home, "runtime", NULL);
      g_autofree char *data = g_build_filename (home, "data", NULL);
      guint timeout_id;
      gboolean owned = FALSE;

      g_assert_cmpint (g_mkdir_with_parents (runtime, 0700), ==, 0);
      g_assert_cmpint (g_mkdir_with_parents (data, 0700), ==, 0);

      g_test_dbus_up (bus);

      launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                            G_SUBPROCESS_FLAGS_STDERR_SILENCE);
      g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", runtime, TRUE);
      g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
      g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
      daemon = g_subprocess_launcher_spawn (launcher, &error, "gnome-keyring-daemon",
                                            "--foreground", "--components=secrets", NULL);
      g_assert_no_error (error);

      for (guint tries = 0; !owned && tries < 200; tries++)
        {
          g_autoptr(GDBusConnection) connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL,
                                                                  &error);
          g_autoptr(GVariant) reply = NULL;

          g_assert_no_error (error);
          reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                               "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                               "NameHasOwner",
                                               g_variant_new ("(s)", "org.freedesktop.secrets"),
                                               G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
                                               -1, NULL, &error);
          g_assert_no_error (error);
          g_variant_get (reply, "(b)", &owned);
          if (!owned)
            g_usleep (50 * 1000);
        }
      g_assert_true (owned);

      store = kiln_secret_store_new ("io.github.kilnapp.Kiln.Test");
      timeout_id = g_timeout_add_seconds (PROMPT_TIMEOUT_SECONDS, cancel_on_timeout, timeout);
      g_assert_false (save_key (store, key, NULL, timeout, &error));
      g_assert_false (g_cancellable_is_cancelled (timeout));
      g_source_remove (timeout_id);
      g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYRING_UNAVAILABLE);
      g_assert_true (g_str_has_prefix (error->message,
                                       "The keyring has no default collection"));
      g_clear_error (&error);

      g_assert_finalize_object (g_steal_pointer (&store));
      g_subprocess_force_exit (daemon);
      g_subprocess_wait (daemon, NULL, NULL);
      secret_service_disconnect ();
      g_test_dbus_down (bus);
      return;
    }

  g_test_trap_subprocess (NULL, 90 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (!g_test_subprocess () && g_getenv ("KILN_TEST_KEYRING_PASSWORD") == NULL)
    g_error ("Run this test through tests/with-keyring.sh: it needs a private gnome-keyring");

#define ADD(path, func) \
  g_test_add ("/kiln/secret-store/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("round-trip", test_round_trip);
  ADD ("replace", test_replace);
  ADD ("two-keys", test_two_keys);
  ADD ("item-format", test_item_format);
  ADD ("damaged-item", test_damaged_item);
  ADD ("schema-isolation", test_schema_isolation);
  ADD ("bad-address", test_bad_address);
  ADD ("cancelled", test_cancelled);
  ADD ("locked", test_locked);

#undef ADD

  g_test_add_func ("/kiln/secret-store/unavailable/no-service", test_unavailable_no_service);
  g_test_add_func ("/kiln/secret-store/unavailable/no-session-bus", test_unavailable_no_bus);
  g_test_add_func ("/kiln/secret-store/unavailable/no-default-collection",
                   test_no_default_collection);

  return g_test_run ();
}
