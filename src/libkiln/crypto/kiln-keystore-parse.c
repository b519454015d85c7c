/* kiln-keystore-parse.c: reading a keystore V3 document's fields, strictly
 *
 * Every field decryption needs is checked for presence, JSON type, encoding and
 * size, and named in the error when it is wrong. Nothing expensive runs here.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <inttypes.h>

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-keystore.h"
#include "kiln-keystore-private.h"

#define MAX_SALT_SIZE 1024
/* A keystore is three objects deep; anything much deeper is not one. */
#define MAX_NESTING   16
/* The spec asks for dklen ≥ 32; only the first 32 bytes are used, and they do
 * not depend on dklen for either KDF. */
#define MIN_DKLEN     KILN_KEYSTORE_DERIVED_KEY_SIZE
#define MAX_DKLEN     64

gboolean
kiln_keystore_set_error (GError          **error,
                         KilnCryptoError   code,
                         const char       *format,
                         ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (KILN_CRYPTO_ERROR, code, format, args));
  va_end (args);

  return FALSE;
}

#define format_error(error, ...) \
  kiln_keystore_set_error (error, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, __VA_ARGS__)
#define unsupported_error(error, ...) \
  kiln_keystore_set_error (error, KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED, __VA_ARGS__)

void
kiln_keystore_document_clear (KilnKeystoreDocument *doc)
{
  g_clear_pointer (&doc->salt, g_free);
}

/* json-glib's parser recurses once per level; refuse absurd nesting before it runs. */
static gboolean
check_nesting (const char  *json,
               gsize        len,
               GError     **error)
{
  gboolean in_string = FALSE;
  gboolean escaped = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = json[i];

      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }

      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;

        case '{':
        case '[':
          if (++depth > MAX_NESTING)
            return format_error (error, _("This is not a keystore file: its data is nested "
                                          "far too deeply"));
          break;

        case '}':
        case ']':
          if (depth > 0)
            depth--;
          break;

        default:
          break;
        }
    }

  return TRUE;
}

/* Parses @json into @parser and returns its root object (owned by @parser). */
JsonObject *
kiln_keystore_parse_json (JsonParser  *parser,
                          const char  *json,
                          gssize       len,
                          GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  gsize size;

  /* Never read past the limit, even when the caller gives no length. */
  size = len < 0 ? strnlen (json, KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 1) : (gsize) len;
  if (size > KILN_KEYSTORE_MAX_DOCUMENT_SIZE)
    {
      g_autofree char *limit = g_format_size (KILN_KEYSTORE_MAX_DOCUMENT_SIZE);

      format_error (error, _("This is not a keystore file: it is larger than %s, and "
                             "keystore files are much smaller"), limit);
      return NULL;
    }

  if (!check_nesting (json, size, error))
    return NULL;

  if (!json_parser_load_from_data (parser, json, (gssize) size, &local_error))
    {
      format_error (error, _("This is not a keystore file: it is not valid JSON (%s)"),
                    local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      format_error (error, _("This is not a keystore file: it is empty"));
      return NULL;
    }

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      format_error (error, _("This is not a keystore file: it is not a JSON object"));
      return NULL;
    }

  return json_node_get_object (root);
}

static char *
field_path (const char *parent,
            const char *name)
{
  return parent != NULL ? g_strconcat (parent, ".", name, NULL) : g_strdup (name);
}

static JsonNode *
get_member (JsonObject  *object,
            const char  *parent,
            const char  *name,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    {
      g_autofree char *path = field_path (parent, name);

      format_error (error, _("This is not a keystore file: the field “%s” is missing"), path);
    }

  return node;
}

static JsonObject *
get_object (JsonObject  *object,
            const char  *parent,
            const char  *name,
            GError     **error)
{
  JsonNode *node = get_member (object, parent, name, error);

  if (node == NULL)
    return NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *path = field_path (parent, name);

      format_error (error, _("This is not a keystore file: the field “%s” must be an object"),
                    path);
      return NULL;
    }

  return json_node_get_object (node);
}

static const char *
get_string (JsonObject  *object,
            const char  *parent,
            const char  *name,
            GError     **error)
{
  JsonNode *node = get_member (object, parent, name, error);

  if (node == NULL)
    return NULL;

  if (json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_autofree char *path = field_path (parent, name);

      format_error (error, _("This is not a keystore file: the field “%s” must be a string"),
                    path);
      return NULL;
    }

  return json_node_get_string (node);
}

static gboolean
get_uint (JsonObject  *object,
          const char  *parent,
          const char  *name,
          guint64     *out,
          GError     **error)
{
  JsonNode *node = get_member (object, parent, name, error);
  gint64 value;

  if (node == NULL)
    return FALSE;

  if (json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_autofree char *path = field_path (parent, name);

      return format_error (error, _("This is not a keystore file: the field “%s” must be a "
                                    "whole number"), path);
    }

  value = json_node_get_int (node);
  if (value < 0)
    {
      g_autofree char *path = field_path (parent, name);

      return format_error (error, _("This is not a keystore file: the field “%s” must not be "
                                    "negative"), path);
    }

  *out = (guint64) value;

  return TRUE;
}

/* Decodes a hex string field of @min_len to @max_len bytes into @out. */
static gboolean
get_hex (JsonObject  *object,
         const char  *parent,
         const char  *name,
         gsize        min_len,
         gsize        max_len,
         guint8      *out,
         gsize       *out_len,
         GError     **error)
{
  g_autofree char *path = NULL;
  const char *hex;
  gsize n_digits;

  if (!(hex = get_string (object, parent, name, error)))
    return FALSE;

  path = field_path (parent, name);
  n_digits = strlen (hex);

  if (n_digits % 2 != 0 || n_digits / 2 < min_len || n_digits / 2 > max_len)
    {
      if (min_len == max_len)
        return format_error (error, _("This is not a keystore file: the field “%s” must be "
                                      "%zu hexadecimal digits long"),
                             path, 2 * min_len);
      else
        return format_error (error, _("This is not a keystore file: the field “%s” must be "
                                      "%zu to %zu hexadecimal digits long"),
                             path, 2 * min_len, 2 * max_len);
    }

  /* kiln_hex_decode() would skip a "0x"; the digit count above then no longer
   * matches and it fails, which is right: keystores never use the prefix. */
  if (!kiln_hex_decode (hex, out, n_digits / 2, NULL))
    return format_error (error, _("This is not a keystore file: the field “%s” must be "
                                  "hexadecimal"), path);

  if (out_len != NULL)
    *out_len = n_digits / 2;

  return TRUE;
}

/* The optional "address" field, without "0x" in geth's files, with it in some others. */
gboolean
kiln_keystore_read_address (JsonObject   *root,
                            gboolean     *has_address,
                            KilnAddress  *address,
                            GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *prefixed = NULL;
  const char *text;

  *has_address = json_object_has_member (root, "address");
  if (!*has_address)
    return TRUE;

  if (!(text = get_string (root, NULL, "address", error)))
    return FALSE;

  if (!g_str_has_prefix (text, "0x") && !g_str_has_prefix (text, "0X"))
    text = prefixed = g_strconcat ("0x", text, NULL);

  if (!kiln_address_parse (address, text, &local_error))
    return format_error (error, _("This is not a keystore file: its “address” field is not "
                                  "valid. %s"), local_error->message);

  return TRUE;
}

static gboolean
check_version (JsonObject  *root,
               GError     **error)
{
  JsonNode *node = get_member (root, NULL, "version", error);
  gint64 version;

  if (node == NULL)
    return FALSE;

  if (json_node_get_value_type (node) != G_TYPE_INT64)
    return format_error (error, _("This is not a keystore file: the field “version” must be "
                                  "a whole number"));

  version = json_node_get_int (node);
  if (version != KILN_KEYSTORE_VERSION)
    return unsupported_error (error, _("This keystore file is version %" PRId64 ", and only version 3 files can be opened"),
                              version);

  return TRUE;
}

static gboolean
parse_dklen (JsonObject  *params,
             const char  *path,
             GError     **error)
{
  guint64 dklen;

  if (!get_uint (params, path, "dklen", &dklen, error))
    return FALSE;

  if (dklen < MIN_DKLEN)
    return format_error (error, _("This is not a keystore file: its derived key length "
                                  "(“%s.dklen”) is %" PRIu64 " bytes, and it must be "
                                  "at least %d"), path, dklen, MIN_DKLEN);

  if (dklen > MAX_DKLEN)
    return unsupported_error (error, _("The keystore’s derived key length (“%s.dklen”) of %" PRIu64 " bytes is not supported (at most %d)"),
                              path, dklen, MAX_DKLEN);

  return TRUE;
}

static gboolean
parse_kdf (JsonObject            *crypto,
           const char            *crypto_path,
           KilnKeystoreDocument  *doc,
           GError               **error)
{
  g_autofree char *params_path = field_path (crypto_path, "kdfparams");
  JsonObject *params;
  const char *kdf;

  if (!(kdf = get_string (crypto, crypto_path, "kdf", error)))
    return FALSE;

  if (g_str_equal (kdf, "scrypt"))
    doc->kdf = KILN_KEYSTORE_KDF_SCRYPT;
  else if (g_str_equal (kdf, "pbkdf2"))
    doc->kdf = KILN_KEYSTORE_KDF_PBKDF2;
  else
    return unsupported_error (error, _("The keystore is protected with the key derivation "
                                       "function “%s”, which is not supported (only scrypt "
                                       "and pbkdf2 are)"), kdf);

  if (!(params = get_object (crypto, crypto_path, "kdfparams", error)))
    return FALSE;

  if (doc->kdf == KILN_KEYSTORE_KDF_PBKDF2)
    {
      const char *prf;

      if (!(prf = get_string (params, params_path, "prf", error)))
        return FALSE;
      if (!g_str_equal (prf, "hmac-sha256"))
        return unsupported_error (error, _("The keystore uses PBKDF2 with “%s”, which is not "
                                           "supported (only hmac-sha256 is)"), prf);
      if (!get_uint (params, params_path, "c", &doc->rounds, error))
        return FALSE;
    }
  else
    {
      if (!get_uint (params, params_path, "n", &doc->n, error) ||
          !get_uint (params, params_path, "r", &doc->r, error) ||
          !get_uint (params, params_path, "p", &doc->p, error))
        return FALSE;
    }

  if (!parse_dklen (params, params_path, error))
    return FALSE;

  g_clear_pointer (&doc->salt, g_free);
  doc->salt = g_malloc (MAX_SALT_SIZE);
  if (!get_hex (params, params_path, "salt", 1, MAX_SALT_SIZE,
                doc->salt, &doc->salt_len, error))
    return FALSE;

  return TRUE;
}

gboolean
kiln_keystore_document_parse (KilnKeystoreDocument  *doc,
                              JsonObject            *root,
                              GError               **error)
{
  const char *crypto_path = "crypto";
  g_autofree char *cipherparams_path = NULL;
  JsonObject *crypto;
  JsonObject *cipherparams;
  const char *cipher;

  if (!check_version (root, error))
    return FALSE;

  /* geth reads the capitalised name written by some early clients too. */
  if (!json_object_has_member (root, "crypto") && json_object_has_member (root, "Crypto"))
    crypto_path = "Crypto";

  if (!(crypto = get_object (root, NULL, crypto_path, error)))
    return FALSE;

  if (!(cipher = get_string (crypto, crypto_path, "cipher", error)))
    return FALSE;
  if (!g_str_equal (cipher, KILN_KEYSTORE_CIPHER))
    return unsupported_error (error, _("The keystore is encrypted with the cipher “%s”, "
                                       "which is not supported (only aes-128-ctr is)"),
                              cipher);

  if (!parse_kdf (crypto, crypto_path, doc, error))
    return FALSE;

  cipherparams_path = field_path (crypto_path, "cipherparams");
  if (!(cipherparams = get_object (crypto, crypto_path, "cipherparams", error)) ||
      !get_hex (cipherparams, cipherparams_path, "iv", KILN_KEYSTORE_IV_SIZE,
                KILN_KEYSTORE_IV_SIZE, doc->iv, NULL, error))
    return FALSE;

  /* Some old writers dropped a secret's leading zero bytes; the key is then
   * padded back on the left after decryption, as geth does. */
  if (!get_hex (crypto, crypto_path, "ciphertext", 1, KILN_SECRET_KEY_SIZE,
                doc->ciphertext, &doc->ciphertext_len, error))
    return FALSE;

  if (!get_hex (crypto, crypto_path, "mac", KILN_KEYSTORE_MAC_SIZE, KILN_KEYSTORE_MAC_SIZE,
                doc->mac, NULL, error))
    return FALSE;

  if (!kiln_keystore_read_address (root, &doc->has_address, &doc->address, error))
    return FALSE;

  return TRUE;
}
