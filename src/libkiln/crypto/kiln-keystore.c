/* kiln-keystore.c: Web3 Secret Storage (keystore V3) files
 *
 * Reads what geth, ethers and other wallets write (scrypt or PBKDF2-HMAC-SHA256,
 * AES-128-CTR, MAC = keccak256(derived key[16..31] || ciphertext)) and writes what
 * geth writes. Every field is checked for type and size (kiln-keystore-parse.c),
 * and the KDF's cost against fixed limits (kiln-keystore-kdf.c), before anything
 * is derived or allocated.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <nettle/aes.h>
#include <nettle/ctr.h>
#include <nettle/memops.h>

#include "kiln-address.h"
#include "kiln-crypto.h"
#include "kiln-keccak.h"
#include "kiln-key.h"
#include "kiln-keystore.h"
#include "kiln-keystore-private.h"
#include "kiln-random.h"

#define SALT_SIZE        32
#define UUID_SIZE        16
#define WRITE_SCRYPT_R   8
#define WRITE_SCRYPT_P   1

/* Deriving and decrypting ---------------------------------------------------- */

static gboolean
check_limits (const KilnKeystoreDocument  *doc,
              GError                     **error)
{
  switch (doc->kdf)
    {
    case KILN_KEYSTORE_KDF_SCRYPT:
      return kiln_keystore_check_scrypt_params (doc->n, doc->r, doc->p, error);

    case KILN_KEYSTORE_KDF_PBKDF2:
      return kiln_keystore_check_pbkdf2_rounds (doc->rounds, error);

    default:
      g_assert_not_reached ();
    }
}

static gboolean
derive_key (const KilnKeystoreDocument  *doc,
            const char                  *password,
            guint8                       derived[KILN_KEYSTORE_DERIVED_KEY_SIZE],
            GError                     **error)
{
  switch (doc->kdf)
    {
    case KILN_KEYSTORE_KDF_SCRYPT:
      return kiln_keystore_scrypt ((const guint8 *) password, strlen (password),
                                   doc->salt, doc->salt_len, doc->n, doc->r, doc->p,
                                   derived, KILN_KEYSTORE_DERIVED_KEY_SIZE, error);

    case KILN_KEYSTORE_KDF_PBKDF2:
      return kiln_keystore_pbkdf2_sha256 ((const guint8 *) password, strlen (password),
                                          doc->salt, doc->salt_len, doc->rounds,
                                          derived, KILN_KEYSTORE_DERIVED_KEY_SIZE, error);

    default:
      g_assert_not_reached ();
    }
}

static void
compute_mac (const guint8  derived[KILN_KEYSTORE_DERIVED_KEY_SIZE],
             const guint8 *ciphertext,
             gsize         ciphertext_len,
             guint8        mac[KILN_KEYSTORE_MAC_SIZE])
{
  KilnKeccak256 ctx;

  kiln_keccak256_init (&ctx);
  kiln_keccak256_update (&ctx, derived + 16, 16);
  kiln_keccak256_update (&ctx, ciphertext, ciphertext_len);
  kiln_keccak256_digest (&ctx, mac);
  kiln_secure_wipe (&ctx, sizeof ctx);
}

/* AES-128-CTR with the first half of @derived; encrypts and decrypts alike. */
static void
aes_128_ctr (const guint8  derived[KILN_KEYSTORE_DERIVED_KEY_SIZE],
             const guint8  iv[KILN_KEYSTORE_IV_SIZE],
             const guint8 *in,
             gsize         len,
             guint8       *out)
{
  struct aes128_ctx aes;
  guint8 counter[AES_BLOCK_SIZE];

  memcpy (counter, iv, AES_BLOCK_SIZE);
  aes128_set_encrypt_key (&aes, derived);
  ctr_crypt (&aes, (nettle_cipher_func *) aes128_encrypt, AES_BLOCK_SIZE, counter,
             len, out, in);
  kiln_secure_wipe (&aes, sizeof aes);
  kiln_secure_wipe (counter, sizeof counter);
}

static KilnKey *
decrypt_document (const KilnKeystoreDocument  *doc,
                  const char                  *password,
                  GError                     **error)
{
  g_autoptr(KilnKey) key = NULL;
  guint8 derived[KILN_KEYSTORE_DERIVED_KEY_SIZE];
  guint8 mac[KILN_KEYSTORE_MAC_SIZE];
  guint8 secret[KILN_SECRET_KEY_SIZE] = { 0 };
  gsize pad = KILN_SECRET_KEY_SIZE - doc->ciphertext_len;

  if (!derive_key (doc, password, derived, error))
    {
      kiln_secure_wipe (derived, sizeof derived);
      return NULL;
    }

  compute_mac (derived, doc->ciphertext, doc->ciphertext_len, mac);
  if (!memeql_sec (mac, doc->mac, KILN_KEYSTORE_MAC_SIZE))
    {
      kiln_secure_wipe (derived, sizeof derived);
      g_set_error_literal (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_WRONG_PASSWORD,
                           _("Wrong password, or the keystore file is damaged"));
      return NULL;
    }

  /* A short ciphertext is a secret whose leading zero bytes were dropped. */
  aes_128_ctr (derived, doc->iv, doc->ciphertext, doc->ciphertext_len, secret + pad);
  key = kiln_key_new_from_bytes (secret, sizeof secret, error);

  kiln_secure_wipe (derived, sizeof derived);
  kiln_secure_wipe (secret, sizeof secret);

  if (key == NULL)
    return NULL;

  /* The MAC does not cover the IV: a changed IV gives another key, caught here. */
  if (doc->has_address && !kiln_address_equal (&doc->address, kiln_key_get_address (key)))
    {
      g_autofree char *recorded = kiln_address_to_string (&doc->address);

      g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT,
                   _("The keystore file says it holds the key of %s, but it holds the key "
                     "of %s. The file has been tampered with or put together from two "
                     "files."),
                   recorded, kiln_key_get_address_string (key));
      return NULL;
    }

  return g_steal_pointer (&key);
}

KilnKey *
kiln_keystore_decrypt (const char  *json,
                       gssize       len,
                       const char  *password,
                       GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_auto(KilnKeystoreDocument) doc = { 0 };
  JsonObject *root;

  g_return_val_if_fail (json != NULL || len == 0, NULL);
  g_return_val_if_fail (password != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = json_parser_new_immutable ();
  if (!(root = kiln_keystore_parse_json (parser, json != NULL ? json : "", len, error)))
    return NULL;

  if (!kiln_keystore_document_parse (&doc, root, error) || !check_limits (&doc, error))
    return NULL;

  return decrypt_document (&doc, password, error);
}

char *
kiln_keystore_peek_address (const char  *json,
                            gssize       len,
                            GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *root;
  KilnAddress address;
  gboolean has_address;

  g_return_val_if_fail (json != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = json_parser_new_immutable ();
  if (!(root = kiln_keystore_parse_json (parser, json != NULL ? json : "", len, error)))
    return NULL;

  if (!kiln_keystore_read_address (root, &has_address, &address, error))
    return NULL;

  if (!has_address)
    {
      g_set_error_literal (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT,
                           _("This keystore file does not record its address; it can only "
                             "be known by opening the file with its password"));
      return NULL;
    }

  return kiln_address_to_string (&address);
}

/* Writing ----------------------------------------------------------------- */

static char *
uuid_v4_from_bytes (guint8 bytes[UUID_SIZE])
{
  g_autofree char *hex = NULL;

  bytes[6] = (bytes[6] & 0x0f) | 0x40;  /* version 4 */
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  /* RFC 4122 variant */
  hex = kiln_hex_encode (bytes, UUID_SIZE);

  return g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s",
                          hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static void
add_hex_member (JsonBuilder  *builder,
                const char   *name,
                const guint8 *data,
                gsize         len)
{
  g_autofree char *hex = kiln_hex_encode (data, len);

  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, hex);
}

static void
add_int_member (JsonBuilder *builder,
                const char  *name,
                gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

/* Lays the document out as geth does. Nothing secret goes in. */
static char *
build_document (KilnKey      *key,
                const guint8  ciphertext[KILN_SECRET_KEY_SIZE],
                const guint8  iv[KILN_KEYSTORE_IV_SIZE],
                const guint8  salt[SALT_SIZE],
                guint64       scrypt_n,
                const guint8  mac[KILN_KEYSTORE_MAC_SIZE],
                const char   *uuid)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  add_hex_member (builder, "address", kiln_key_get_address (key)->bytes, KILN_ADDRESS_SIZE);

  json_builder_set_member_name (builder, "crypto");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "cipher");
  json_builder_add_string_value (builder, KILN_KEYSTORE_CIPHER);
  add_hex_member (builder, "ciphertext", ciphertext, KILN_SECRET_KEY_SIZE);
  json_builder_set_member_name (builder, "cipherparams");
  json_builder_begin_object (builder);
  add_hex_member (builder, "iv", iv, KILN_KEYSTORE_IV_SIZE);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "kdf");
  json_builder_add_string_value (builder, "scrypt");
  json_builder_set_member_name (builder, "kdfparams");
  json_builder_begin_object (builder);
  add_int_member (builder, "dklen", KILN_KEYSTORE_DERIVED_KEY_SIZE);
  add_int_member (builder, "n", (gint64) scrypt_n);
  add_int_member (builder, "p", WRITE_SCRYPT_P);
  add_int_member (builder, "r", WRITE_SCRYPT_R);
  add_hex_member (builder, "salt", salt, SALT_SIZE);
  json_builder_end_object (builder);
  add_hex_member (builder, "mac", mac, KILN_KEYSTORE_MAC_SIZE);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, uuid);
  add_int_member (builder, "version", KILN_KEYSTORE_VERSION);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);

  return json_generator_to_data (generator, NULL);
}

char *
kiln_keystore_encrypt (KilnKey     *key,
                       const char  *password,
                       guint64      scrypt_n,
                       GError     **error)
{
  guint8 salt[SALT_SIZE];
  guint8 iv[KILN_KEYSTORE_IV_SIZE];
  guint8 uuid_bytes[UUID_SIZE];
  guint8 derived[KILN_KEYSTORE_DERIVED_KEY_SIZE];
  guint8 secret[KILN_SECRET_KEY_SIZE];
  guint8 ciphertext[KILN_SECRET_KEY_SIZE];
  guint8 mac[KILN_KEYSTORE_MAC_SIZE];
  g_autofree char *uuid = NULL;

  g_return_val_if_fail (KILN_IS_KEY (key), NULL);
  g_return_val_if_fail (password != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!kiln_keystore_check_scrypt_params (scrypt_n, WRITE_SCRYPT_R, WRITE_SCRYPT_P, error))
    return NULL;

  if (!kiln_random_bytes (salt, sizeof salt, error) ||
      !kiln_random_bytes (iv, sizeof iv, error) ||
      !kiln_random_bytes (uuid_bytes, sizeof uuid_bytes, error))
    return NULL;

  if (!kiln_keystore_scrypt ((const guint8 *) password, strlen (password), salt, sizeof salt,
                             scrypt_n, WRITE_SCRYPT_R, WRITE_SCRYPT_P,
                             derived, sizeof derived, error))
    {
      kiln_secure_wipe (derived, sizeof derived);
      return NULL;
    }

  kiln_key_copy_secret (key, secret);
  aes_128_ctr (derived, iv, secret, sizeof secret, ciphertext);
  kiln_secure_wipe (secret, sizeof secret);

  compute_mac (derived, ciphertext, sizeof ciphertext, mac);
  kiln_secure_wipe (derived, sizeof derived);

  uuid = uuid_v4_from_bytes (uuid_bytes);

  return build_document (key, ciphertext, iv, salt, scrypt_n, mac, uuid);
}

/* Files ------------------------------------------------------------------- */

/* Reads at most one byte more than a keystore may hold, so a huge file is
 * refused without being read. */
static char *
read_document (GFile         *file,
               gsize         *len,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GFileInputStream) stream = NULL;
  g_autofree char *buffer = NULL;
  gsize bytes_read = 0;

  if (!(stream = g_file_read (file, cancellable, error)))
    return NULL;

  buffer = g_malloc (KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 1);
  if (!g_input_stream_read_all (G_INPUT_STREAM (stream), buffer,
                                KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 1, &bytes_read,
                                cancellable, error))
    return NULL;

  *len = bytes_read;

  return g_steal_pointer (&buffer);
}

KilnKey *
kiln_keystore_load_file (GFile         *file,
                         const char    *password,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autofree char *json = NULL;
  gsize len = 0;

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (password != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!(json = read_document (file, &len, cancellable, error)))
    return NULL;

  /* The size check in kiln_keystore_decrypt() sees the extra byte. */
  return kiln_keystore_decrypt (json, (gssize) len, password, error);
}

gboolean
kiln_keystore_save_file (GFile         *file,
                         KilnKey       *key,
                         const char    *password,
                         guint64        scrypt_n,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autofree char *json = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *path;

  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);
  g_return_val_if_fail (password != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(json = kiln_keystore_encrypt (key, password, scrypt_n, error)))
    return FALSE;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* Local files: a temporary file created 0600 in the same folder, flushed to disk
   * and renamed over the destination, whether or not it existed before.
   * g_file_replace() would write a new file in place. */
  if ((path = g_file_peek_path (file)) != NULL)
    {
      if (g_file_set_contents_full (path, json, -1,
                                    G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                    0600, &local_error))
        return TRUE;

      g_set_error (error, G_IO_ERROR, g_io_error_from_file_error (local_error->code),
                   _("Could not save the keystore file: %s"), local_error->message);
      return FALSE;
    }

  /* Other backends: their own replace, with a private temporary where they have one. */
  return g_file_replace_contents (file, json, strlen (json), NULL, FALSE,
                                  G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
                                  NULL, cancellable, error);
}

typedef struct
{
  GFile   *file;
  KilnKey *key;
  char    *password;
  guint64  scrypt_n;
} FileTaskData;

static void
file_task_data_free (FileTaskData *data)
{
  g_clear_object (&data->file);
  g_clear_object (&data->key);
  if (data->password != NULL)
    {
      kiln_secure_wipe (data->password, strlen (data->password));
      g_free (data->password);
    }
  g_free (data);
}

static GTask *
file_task_new (GFile               *file,
               KilnKey             *key,
               const char          *password,
               guint64              scrypt_n,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data,
               gpointer             source_tag)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  FileTaskData *data = g_new0 (FileTaskData, 1);

  g_task_set_source_tag (task, source_tag);
  data->file = g_object_ref (file);
  data->key = key != NULL ? g_object_ref (key) : NULL;
  data->password = g_strdup (password);
  data->scrypt_n = scrypt_n;
  g_task_set_task_data (task, data, (GDestroyNotify) file_task_data_free);

  return task;
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  FileTaskData *data = task_data;
  GError *error = NULL;
  KilnKey *key;

  key = kiln_keystore_load_file (data->file, data->password, cancellable, &error);
  if (key == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, key, g_object_unref);
}

void
kiln_keystore_load_async (GFile               *file,
                          const char          *password,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (password != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = file_task_new (file, NULL, password, 0, cancellable, callback, user_data,
                        kiln_keystore_load_async);
  g_task_run_in_thread (task, load_thread);
}

KilnKey *
kiln_keystore_load_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_keystore_load_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
save_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  FileTaskData *data = task_data;
  GError *error = NULL;

  if (kiln_keystore_save_file (data->file, data->key, data->password, data->scrypt_n,
                               cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
kiln_keystore_save_async (GFile               *file,
                          KilnKey             *key,
                          const char          *password,
                          guint64              scrypt_n,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (KILN_IS_KEY (key));
  g_return_if_fail (password != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = file_task_new (file, key, password, scrypt_n, cancellable, callback, user_data,
                        kiln_keystore_save_async);
  g_task_run_in_thread (task, save_thread);
}

gboolean
kiln_keystore_save_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_keystore_save_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
