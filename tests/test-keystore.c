/* test-keystore.c: Web3 Secret Storage (keystore V3) reading, writing and refusing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "libkiln.h"
#include "kiln-keystore-private.h"

/* The Web3 Secret Storage Definition's test vectors (tests/data/keystore/web3-*.json):
 * one password and one key for both the PBKDF2 and the scrypt file. */
#define VECTOR_PASSWORD "testpassword"
#define VECTOR_SECRET   "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
#define VECTOR_ADDRESS  "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b"

/* A quick scrypt cost for documents that are decrypted many times. */
#define TINY_N 16

/* Helpers ------------------------------------------------------------------ */

static char *
load_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "keystore", name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  return contents;
}

static KilnKey *
vector_key (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_new_from_hex (VECTOR_SECRET, &error);

  g_assert_no_error (error);
  g_assert_nonnull (key);

  return key;
}

static void
assert_secret (KilnKey    *key,
               const char *expected_hex)
{
  guint8 secret[KILN_SECRET_KEY_SIZE];
  g_autofree char *hex = NULL;

  kiln_key_copy_secret (key, secret);
  hex = kiln_hex_encode (secret, sizeof secret);
  kiln_secure_wipe (secret, sizeof secret);
  g_assert_cmpstr (hex, ==, expected_hex);
  kiln_secure_wipe (hex, strlen (hex));
}

static void
assert_same_key (KilnKey *a,
                 KilnKey *b)
{
  guint8 secret_a[KILN_SECRET_KEY_SIZE];
  guint8 secret_b[KILN_SECRET_KEY_SIZE];
  gboolean same;

  kiln_key_copy_secret (a, secret_a);
  kiln_key_copy_secret (b, secret_b);
  same = memcmp (secret_a, secret_b, sizeof secret_a) == 0;
  kiln_secure_wipe (secret_a, sizeof secret_a);
  kiln_secure_wipe (secret_b, sizeof secret_b);

  g_assert_true (same);
  g_assert_cmpstr (kiln_key_get_address_string (a), ==, kiln_key_get_address_string (b));
}

static KilnKey *
decrypt_ok (const char *json,
            const char *password)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_keystore_decrypt (json, -1, password, &error);

  g_assert_no_error (error);
  g_assert_true (KILN_IS_KEY (key));

  return key;
}

static void
assert_message_mentions (const GError *error,
                         const char   *mention)
{
  if (mention != NULL && strstr (error->message, mention) == NULL)
    g_error ("The message “%s” does not mention “%s”", error->message, mention);
}

/* Fails with @code, without running a KDF for long, mentioning @mention if given. */
static void
assert_decrypt_fails (const char      *json,
                      gssize           len,
                      const char      *password,
                      KilnCryptoError  code,
                      const char      *mention)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = kiln_keystore_decrypt (json, len, password, &error);

  g_assert_null (key);
  g_assert_error (error, KILN_CRYPTO_ERROR, (int) code);
  g_assert_cmpstr (error->message, !=, "");
  assert_message_mentions (error, mention);
}

/* A fresh document for the vector key, protected with @password and scrypt cost @n. */
static char *
encrypt_vector_key (const char *password,
                    guint64     n)
{
  g_autoptr(KilnKey) key = vector_key ();
  g_autoptr(GError) error = NULL;
  char *json = kiln_keystore_encrypt (key, password, n, &error);

  g_assert_no_error (error);
  g_assert_nonnull (json);

  return json;
}

/* @json with the member at the dotted @path set to @value (taken), or removed if NULL. */
static char *
edit_document (const char *json,
               const char *path,
               JsonNode   *value)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  g_autoptr(GError) error = NULL;
  guint n_parts = g_strv_length (parts);
  JsonObject *object;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));

  for (guint i = 0; i + 1 < n_parts; i++)
    object = json_object_get_object_member (object, parts[i]);

  if (value != NULL)
    json_object_set_member (object, parts[n_parts - 1], value);
  else
    {
      g_assert_true (json_object_has_member (object, parts[n_parts - 1]));
      json_object_remove_member (object, parts[n_parts - 1]);
    }

  json_generator_set_root (generator, json_parser_get_root (parser));

  return json_generator_to_data (generator, NULL);
}

static JsonNode *
int_node (gint64 value)
{
  return json_node_init_int (json_node_alloc (), value);
}

static JsonNode *
string_node (const char *value)
{
  return json_node_init_string (json_node_alloc (), value);
}

static JsonNode *
double_node (double value)
{
  return json_node_init_double (json_node_alloc (), value);
}

static JsonNode *
null_node (void)
{
  return json_node_init_null (json_node_alloc ());
}

static const char *
string_member (JsonObject *root,
               const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  guint n_parts = g_strv_length (parts);
  JsonObject *object = root;

  for (guint i = 0; i + 1 < n_parts; i++)
    object = json_object_get_object_member (object, parts[i]);

  return json_object_get_string_member (object, parts[n_parts - 1]);
}

/* @hex with its digit at @position changed (negative: from the end). */
static char *
flip_digit (const char *hex,
            int         position)
{
  char *copy = g_strdup (hex);
  gsize i = position >= 0 ? (gsize) position : strlen (copy) - (gsize) -position;

  copy[i] = copy[i] == '0' ? '1' : '0';

  return copy;
}

static char *
flip_first_digit (const char *hex)
{
  return flip_digit (hex, 0);
}

/* Published vectors ---------------------------------------------------------- */

static void
test_vector_pbkdf2 (void)
{
  g_autofree char *json = load_fixture ("web3-pbkdf2.json");
  g_autoptr(KilnKey) key = decrypt_ok (json, VECTOR_PASSWORD);

  assert_secret (key, VECTOR_SECRET);
  g_assert_cmpstr (kiln_key_get_address_string (key), ==, VECTOR_ADDRESS);
  g_assert_finalize_object (g_steal_pointer (&key));
}

/* N = 2^18 with r = 1, p = 8: a file OpenSSL's scrypt refuses, read by the in-tree one. */
static void
test_vector_scrypt (void)
{
  g_autofree char *json = load_fixture ("web3-scrypt.json");
  g_autoptr(KilnKey) key = decrypt_ok (json, VECTOR_PASSWORD);

  assert_secret (key, VECTOR_SECRET);
  g_assert_cmpstr (kiln_key_get_address_string (key), ==, VECTOR_ADDRESS);
  g_assert_finalize_object (g_steal_pointer (&key));
}

static void
test_vector_wrong_password (void)
{
  g_autofree char *pbkdf2 = load_fixture ("web3-pbkdf2.json");
  g_autofree char *scrypt = load_fixture ("web3-scrypt.json");

  assert_decrypt_fails (pbkdf2, -1, "testpassworD", KILN_CRYPTO_ERROR_WRONG_PASSWORD,
                        "Wrong password");
  assert_decrypt_fails (scrypt, -1, "", KILN_CRYPTO_ERROR_WRONG_PASSWORD, "Wrong password");
}

/* Files written by geth (its own test data): an "address" field, r = 8 with p = 16,
 * an empty password, and keys whose leading zero bytes were dropped. */
static void
test_vector_geth (void)
{
  static const struct {
    const char *file;
    const char *password;
    const char *secret;
    const char *address;
  } vectors[] = {
    { "geth-aaa.json", "foobar",
      "539f9b4106fb452408e1ee43d177077f057a8fdc1e1fad92c61e68982b4e3c4b",
      "0xf466859eAD1932D743d622CB74FC058882E8648A" },
    { "geth-very-light-scrypt.json", "",
      "33ff86a4a29a842eedd42a84f569d945c771857d4ddb639de730a547f08030c3",
      "0x45DeA0FB0bBA44f4fcF290bbA71Fd57d7117Cbb8" },
    { "geth-31-byte-key.json", "foo",
      "00fa7b3db73dc7dfdf8c5fbdb796d741e4488628c41fc4febd9160a866ba0f35",
      "0xd1E64E5480bFaf733Ba7D48712DEcb8227797a4e" },
    { "geth-30-byte-key.json", "foo",
      "000081c29e8142bb6a81bef5a92bda7a8328a5c85bb2f9542e76f9b0f94fc018",
      "0x31e9D1e6D844bd3a536800Ef8d8Be6A9975Db509" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *json = load_fixture (vectors[i].file);
      g_autoptr(KilnKey) key = NULL;

      g_test_message ("%s", vectors[i].file);
      key = decrypt_ok (json, vectors[i].password);
      assert_secret (key, vectors[i].secret);
      g_assert_cmpstr (kiln_key_get_address_string (key), ==, vectors[i].address);

      assert_decrypt_fails (json, -1, "wrong", KILN_CRYPTO_ERROR_WRONG_PASSWORD, NULL);
    }
}

/* scrypt itself ---------------------------------------------------------------- */

typedef gboolean (*ScryptFunc) (const guint8 *, gsize, const guint8 *, gsize,
                                guint64, guint64, guint64, guint8 *, gsize, GError **);

/* RFC 7914 section 12, through both implementations. */
static void
test_scrypt_rfc7914 (void)
{
  static const struct {
    const char *password;
    const char *salt;
    guint64 n, r, p;
    const char *expected;
  } vectors[] = {
    { "", "", 16, 1, 1,
      "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
      "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906" },
    { "password", "NaCl", 1024, 8, 16,
      "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
      "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640" },
    { "pleaseletmein", "SodiumChloride", 16384, 8, 1,
      "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
      "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887" },
  };
  const ScryptFunc funcs[] = { kiln_keystore_scrypt, kiln_keystore_scrypt_fallback };

  for (guint f = 0; f < G_N_ELEMENTS (funcs); f++)
    for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *hex = NULL;
        guint8 out[64];

        funcs[f] ((const guint8 *) vectors[i].password, strlen (vectors[i].password),
                  (const guint8 *) vectors[i].salt, strlen (vectors[i].salt),
                  vectors[i].n, vectors[i].r, vectors[i].p, out, sizeof out, &error);
        g_assert_no_error (error);

        hex = kiln_hex_encode (out, sizeof out);
        g_assert_cmpstr (hex, ==, vectors[i].expected);
      }
}

/* The in-tree scrypt agrees with OpenSSL wherever OpenSSL accepts the parameters. */
static void
test_scrypt_fallback_matches_openssl (void)
{
  static const guint64 ns[] = { 2, 64, 1024 };
  static const guint64 rs[] = { 1, 2, 3, 5, 8 };
  static const guint64 ps[] = { 1, 3 };
  guint8 password[19];
  guint8 salt[32];

  g_assert_true (kiln_random_bytes (password, sizeof password, NULL));
  g_assert_true (kiln_random_bytes (salt, sizeof salt, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (ns); i++)
    for (guint j = 0; j < G_N_ELEMENTS (rs); j++)
      for (guint k = 0; k < G_N_ELEMENTS (ps); k++)
        {
          g_autoptr(GError) error = NULL;
          guint8 a[48];
          guint8 b[48];

          g_assert_true (kiln_keystore_scrypt (password, sizeof password, salt, sizeof salt,
                                               ns[i], rs[j], ps[k], a, sizeof a, &error));
          g_assert_no_error (error);
          g_assert_true (kiln_keystore_scrypt_fallback (password, sizeof password,
                                                        salt, sizeof salt,
                                                        ns[i], rs[j], ps[k], b, sizeof b,
                                                        &error));
          g_assert_no_error (error);
          g_assert_cmpmem (a, sizeof a, b, sizeof b);
        }
}

static void
test_scrypt_check_params (void)
{
  static const struct {
    guint64 n, r, p;
    gboolean ok;
  } cases[] = {
    { 2, 1, 1, TRUE },
    { KILN_KEYSTORE_SCRYPT_N_STANDARD, 8, 1, TRUE },
    { G_GUINT64_CONSTANT (1) << 20, 8, 1, TRUE },      /* exactly 1 GiB */
    { G_GUINT64_CONSTANT (1) << 21, 8, 1, FALSE },     /* 2 GiB */
    { G_GUINT64_CONSTANT (1) << 23, 1, 1, TRUE },
    { G_GUINT64_CONSTANT (1) << 24, 1, 1, FALSE },
    { KILN_KEYSTORE_SCRYPT_N_STANDARD, 8, 16, TRUE },  /* the most work allowed */
    { KILN_KEYSTORE_SCRYPT_N_STANDARD, 8, 17, FALSE },
    { 1024, 1, G_GUINT64_CONSTANT (1) << 23, FALSE },
    { 0, 8, 1, FALSE },
    { 1, 8, 1, FALSE },
    { 3, 8, 1, FALSE },
    { 1000, 8, 1, FALSE },
    { G_MAXUINT64, 8, 1, FALSE },
    { G_GUINT64_CONSTANT (1) << 63, 8, 1, FALSE },
    { G_GUINT64_CONSTANT (1) << 63, G_MAXUINT64, G_MAXUINT64, FALSE },
    { 1024, 0, 1, FALSE },
    { 1024, 8, 0, FALSE },
    { 1024, G_GUINT64_CONSTANT (1) << 62, 1, FALSE },
    { 1024, 1, G_GUINT64_CONSTANT (1) << 62, FALSE },
    { 2, G_GUINT64_CONSTANT (1) << 29, 2, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok = kiln_keystore_check_scrypt_params (cases[i].n, cases[i].r, cases[i].p,
                                                       &error);

      g_test_message ("N = %" G_GUINT64_FORMAT ", r = %" G_GUINT64_FORMAT ", p = %"
                      G_GUINT64_FORMAT, cases[i].n, cases[i].r, cases[i].p);
      g_assert_cmpint (ok, ==, cases[i].ok);
      if (cases[i].ok)
        g_assert_no_error (error);
      else
        g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_LIMITS);
    }
}

/* Writing and reading back -------------------------------------------------- */

static gboolean
is_lower_hex (const char *text,
              gsize       n_digits)
{
  if (strlen (text) != n_digits)
    return FALSE;

  for (gsize i = 0; i < n_digits; i++)
    if (!g_ascii_isdigit (text[i]) && !(text[i] >= 'a' && text[i] <= 'f'))
      return FALSE;

  return TRUE;
}

static void
test_round_trip_light (void)
{
  g_autoptr(KilnKey) key = NULL;
  g_autoptr(KilnKey) decrypted = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *json = NULL;
  g_autofree char *lower_address = NULL;
  JsonObject *root;
  JsonObject *params;
  const char *id;

  key = kiln_key_generate (&error);
  g_assert_no_error (error);

  json = kiln_keystore_encrypt (key, "correct horse battery staple",
                                KILN_KEYSTORE_SCRYPT_N_LIGHT, &error);
  g_assert_no_error (error);
  g_assert_nonnull (json);

  /* Pretty-printed, as geth lays it out. */
  g_assert_nonnull (strstr (json, "\n  \"crypto\""));

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));

  g_assert_cmpint (json_object_get_int_member (root, "version"), ==, 3);
  g_assert_cmpstr (string_member (root, "crypto.cipher"), ==, "aes-128-ctr");
  g_assert_cmpstr (string_member (root, "crypto.kdf"), ==, "scrypt");
  g_assert_true (is_lower_hex (string_member (root, "crypto.cipherparams.iv"), 32));
  g_assert_true (is_lower_hex (string_member (root, "crypto.ciphertext"), 64));
  g_assert_true (is_lower_hex (string_member (root, "crypto.mac"), 64));
  g_assert_true (is_lower_hex (string_member (root, "crypto.kdfparams.salt"), 64));

  params = json_object_get_object_member (json_object_get_object_member (root, "crypto"),
                                          "kdfparams");
  g_assert_cmpint (json_object_get_int_member (params, "n"), ==, KILN_KEYSTORE_SCRYPT_N_LIGHT);
  g_assert_cmpint (json_object_get_int_member (params, "r"), ==, 8);
  g_assert_cmpint (json_object_get_int_member (params, "p"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (params, "dklen"), ==, 32);

  /* geth's form: lowercase, no 0x. */
  lower_address = g_ascii_strdown (kiln_key_get_address_string (key) + 2, -1);
  g_assert_cmpstr (json_object_get_string_member (root, "address"), ==, lower_address);

  /* A random (version 4, RFC 4122 variant) UUID. */
  id = json_object_get_string_member (root, "id");
  g_assert_true (g_uuid_string_is_valid (id));
  g_assert_cmpint (id[14], ==, '4');
  g_assert_nonnull (strchr ("89ab", id[19]));

  decrypted = decrypt_ok (json, "correct horse battery staple");
  assert_same_key (key, decrypted);
  g_assert_finalize_object (g_steal_pointer (&decrypted));
  g_assert_finalize_object (g_steal_pointer (&key));
}

static void
test_round_trip_passwords (void)
{
  static const char *passwords[] = {
    "",
    "pässwörd 🔑 with spaces",
    "a-much-longer-password-than-the-64-byte-hmac-block-so-it-gets-hashed-first-0123456789",
  };

  for (guint i = 0; i < G_N_ELEMENTS (passwords); i++)
    {
      g_autofree char *json = encrypt_vector_key (passwords[i], TINY_N);
      g_autofree char *with_newline = g_strconcat (passwords[i], "\n", NULL);
      g_autoptr(KilnKey) key = decrypt_ok (json, passwords[i]);

      assert_secret (key, VECTOR_SECRET);
      assert_decrypt_fails (json, -1, with_newline, KILN_CRYPTO_ERROR_WRONG_PASSWORD,
                            "Wrong password");
    }
}

static void
test_round_trip_fresh_randomness (void)
{
  g_autofree char *a = encrypt_vector_key ("same", TINY_N);
  g_autofree char *b = encrypt_vector_key ("same", TINY_N);
  g_autoptr(JsonParser) parser_a = json_parser_new ();
  g_autoptr(JsonParser) parser_b = json_parser_new ();
  static const char *paths[] = {
    "id", "crypto.cipherparams.iv", "crypto.kdfparams.salt", "crypto.ciphertext", "crypto.mac",
  };
  JsonObject *root_a;
  JsonObject *root_b;

  g_assert_true (json_parser_load_from_data (parser_a, a, -1, NULL));
  g_assert_true (json_parser_load_from_data (parser_b, b, -1, NULL));
  root_a = json_node_get_object (json_parser_get_root (parser_a));
  root_b = json_node_get_object (json_parser_get_root (parser_b));

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    g_assert_cmpstr (string_member (root_a, paths[i]), !=, string_member (root_b, paths[i]));

  g_assert_cmpstr (json_object_get_string_member (root_a, "address"), ==,
                   json_object_get_string_member (root_b, "address"));
}

/* The strength written by default: 256 MiB through OpenSSL. */
static void
test_round_trip_standard (void)
{
  g_autofree char *json = encrypt_vector_key ("standard", KILN_KEYSTORE_SCRYPT_N_STANDARD);
  g_autoptr(KilnKey) key = decrypt_ok (json, "standard");

  g_assert_nonnull (strstr (json, "\"n\" : 262144"));
  assert_secret (key, VECTOR_SECRET);
}

static void
test_encrypt_refuses_bad_cost (void)
{
  static const guint64 bad[] = {
    0, 1, 3, 1000, KILN_KEYSTORE_SCRYPT_N_LIGHT + 1, G_GUINT64_CONSTANT (1) << 21, G_MAXUINT64,
  };
  g_autoptr(KilnKey) key = vector_key ();

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *json = kiln_keystore_encrypt (key, "x", bad[i], &error);

      g_assert_null (json);
      g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_LIMITS);
    }
}

/* geth also reads "Crypto", as written by some early clients. */
static void
test_capitalised_crypto (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *renamed = NULL;
  g_autoptr(KilnKey) key = NULL;
  JsonObject *root;
  JsonNode *crypto;

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  crypto = json_node_copy (json_object_get_member (root, "crypto"));
  json_object_remove_member (root, "crypto");
  json_object_set_member (root, "Crypto", crypto);
  json_generator_set_root (generator, json_parser_get_root (parser));
  renamed = json_generator_to_data (generator, NULL);

  g_assert_null (strstr (renamed, "\"crypto\""));
  key = decrypt_ok (renamed, "pw");
  assert_secret (key, VECTOR_SECRET);
}

/* The spec allows dklen ≥ 32; the first 32 bytes do not depend on it. */
static void
test_longer_dklen (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  g_autofree char *longer = edit_document (json, "crypto.kdfparams.dklen", int_node (64));
  g_autoptr(KilnKey) key = decrypt_ok (longer, "pw");

  assert_secret (key, VECTOR_SECRET);
}

/* Tampering -------------------------------------------------------------------- */

static void
test_tamper (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  /* The MAC covers the derived key and the ciphertext. */
  static const char *mac_covered[] = {
    "crypto.mac", "crypto.ciphertext", "crypto.kdfparams.salt",
  };

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));

  for (guint i = 0; i < G_N_ELEMENTS (mac_covered); i++)
    for (int position = -1; position <= 0; position++)
      {
        const char *original = string_member (root, mac_covered[i]);
        g_autofree char *flipped = flip_digit (original, position);
        g_autofree char *tampered = edit_document (json, mac_covered[i], string_node (flipped));

        g_test_message ("%s, digit %d", mac_covered[i], position);
        assert_decrypt_fails (tampered, -1, "pw", KILN_CRYPTO_ERROR_WRONG_PASSWORD,
                              "Wrong password, or the keystore file is damaged");
      }

  {
    g_autofree char *cheaper = edit_document (json, "crypto.kdfparams.n", int_node (TINY_N / 2));

    assert_decrypt_fails (cheaper, -1, "pw", KILN_CRYPTO_ERROR_WRONG_PASSWORD, NULL);
  }

  /* The MAC does not cover the IV: a changed IV yields another key, which the
   * recorded address catches. */
  {
    g_autofree char *flipped = flip_first_digit (string_member (root, "crypto.cipherparams.iv"));
    g_autofree char *tampered = edit_document (json, "crypto.cipherparams.iv",
                                               string_node (flipped));

    assert_decrypt_fails (tampered, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, NULL);
  }
}

static void
test_address_mismatch (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  g_autofree char *other = edit_document (json, "address",
                                          string_node ("f466859ead1932d743d622cb74fc058882e8648a"));
  g_autofree char *checksummed = edit_document (json, "address", string_node (VECTOR_ADDRESS));
  g_autofree char *without = edit_document (json, "address", NULL);
  g_autoptr(KilnKey) key = NULL;

  assert_decrypt_fails (other, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT,
                        "0xf466859eAD1932D743d622CB74FC058882E8648A");

  /* "0x" and EIP-55 capitals are fine, and the field is optional. */
  key = decrypt_ok (checksummed, "pw");
  g_clear_object (&key);
  key = decrypt_ok (without, "pw");
  assert_secret (key, VECTOR_SECRET);
}

/* Malformed documents ------------------------------------------------------- */

/* Every proper prefix of a document is refused as malformed, quickly. */
static void
test_truncated (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", KILN_KEYSTORE_SCRYPT_N_LIGHT);
  gsize len = strlen (json);
  gint64 start = g_get_monotonic_time ();

  for (gsize i = 0; i < len; i++)
    {
      g_autofree char *prefix = g_strndup (json, i);

      assert_decrypt_fails (json, (gssize) i, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, NULL);
      assert_decrypt_fails (prefix, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, NULL);
    }

  /* No prefix got as far as the KDF. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

/* Any single byte changed anywhere: an error from this subsystem, or the same key. */
static void
test_corrupted_bytes (void)
{
  static const char replacements[] = { '0', 'f', 'x', '"', '{', '}', ':', ',', ' ', '\\', '\0' };
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  g_autoptr(KilnKey) original = vector_key ();
  gsize len = strlen (json);

  for (gsize i = 0; i < len; i++)
    for (guint j = 0; j < G_N_ELEMENTS (replacements); j++)
      {
        g_autofree char *copy = g_memdup2 (json, len + 1);
        g_autoptr(GError) error = NULL;
        g_autoptr(KilnKey) key = NULL;

        if (copy[i] == replacements[j])
          continue;
        copy[i] = replacements[j];

        key = kiln_keystore_decrypt (copy, (gssize) len, "pw", &error);
        if (key != NULL)
          assert_same_key (key, original);
        else
          g_assert_true (error != NULL && error->domain == KILN_CRYPTO_ERROR);
      }
}

static void
test_version (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  const struct {
    JsonNode *value;
    KilnCryptoError code;
  } cases[] = {
    { int_node (1), KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED },
    { int_node (2), KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED },
    { int_node (4), KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED },
    { int_node (-3), KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED },
    { string_node ("3"), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { double_node (3.0), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { null_node (), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { NULL, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *edited = edit_document (json, "version", cases[i].value);

      assert_decrypt_fails (edited, -1, "pw", cases[i].code, "version");
    }
}

static void
test_missing_fields (void)
{
  static const char *paths[] = {
    "crypto", "crypto.cipher", "crypto.cipherparams", "crypto.cipherparams.iv",
    "crypto.ciphertext", "crypto.kdf", "crypto.kdfparams", "crypto.kdfparams.n",
    "crypto.kdfparams.r", "crypto.kdfparams.p", "crypto.kdfparams.dklen",
    "crypto.kdfparams.salt", "crypto.mac",
  };
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *edited = edit_document (json, paths[i], NULL);

      g_test_message ("without %s", paths[i]);
      assert_decrypt_fails (edited, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, paths[i]);
    }
}

static void
test_missing_pbkdf2_fields (void)
{
  static const char *paths[] = {
    "crypto.kdfparams.c", "crypto.kdfparams.prf", "crypto.kdfparams.salt",
    "crypto.kdfparams.dklen",
  };
  g_autofree char *json = load_fixture ("web3-pbkdf2.json");

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *edited = edit_document (json, paths[i], NULL);

      assert_decrypt_fails (edited, -1, VECTOR_PASSWORD, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT,
                            paths[i]);
    }
}

static void
test_wrong_types (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  const struct {
    const char *path;
    JsonNode *value;
    KilnCryptoError code;
  } cases[] = {
    { "crypto", string_node ("crypto"), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.cipher", int_node (128), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.cipherparams", null_node (), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.n", string_node ("4096"), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.n", double_node (16.0), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.n", int_node (-16), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.r", double_node (8.5), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.p", null_node (), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.dklen", int_node (16), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.dklen", int_node (1024), KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED },
    { "crypto.kdfparams.salt", int_node (12), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.salt", string_node (""), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.salt", string_node ("abc"), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.kdfparams.salt", string_node ("0x00112233"), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.cipherparams.iv", string_node ("00112233"), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.cipherparams.iv", string_node ("zz0102030405060708090a0b0c0d0e0f"),
      KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.ciphertext", string_node (VECTOR_SECRET "00"), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.ciphertext", string_node (""), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.mac", string_node (VECTOR_SECRET + 2), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "crypto.mac", string_node ("0x" VECTOR_SECRET), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "address", int_node (5), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    { "address", string_node ("not an address"), KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
    /* Mixed case with a wrong EIP-55 checksum. */
    { "address", string_node ("0x008aeEda4D805471dF9b2A5B0f38A0C3bCBA786b"),
      KILN_CRYPTO_ERROR_KEYSTORE_FORMAT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *edited = edit_document (json, cases[i].path, cases[i].value);
      g_autofree char *field = g_strdup (strrchr (cases[i].path, '.') != NULL
                                         ? strrchr (cases[i].path, '.') + 1 : cases[i].path);

      g_test_message ("%s", cases[i].path);
      assert_decrypt_fails (edited, -1, "pw", cases[i].code, field);
    }
}

static void
test_unsupported (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  g_autofree char *pbkdf2 = load_fixture ("web3-pbkdf2.json");
  g_autofree char *argon = edit_document (json, "crypto.kdf", string_node ("argon2id"));
  g_autofree char *cbc = edit_document (json, "crypto.cipher", string_node ("aes-128-cbc"));
  g_autofree char *gcm = edit_document (json, "crypto.cipher", string_node ("aes-256-gcm"));
  g_autofree char *sha512 = edit_document (pbkdf2, "crypto.kdfparams.prf",
                                           string_node ("hmac-sha512"));

  assert_decrypt_fails (argon, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED, "argon2id");
  assert_decrypt_fails (cbc, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED, "aes-128-cbc");
  assert_decrypt_fails (gcm, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED, "aes-256-gcm");
  assert_decrypt_fails (sha512, -1, VECTOR_PASSWORD, KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED,
                        "hmac-sha512");
}

static void
test_not_keystores (void)
{
  static const char *documents[] = {
    "", "   \n", "null", "3", "\"keystore\"", "[]", "[{\"version\": 3}]", "{", "}", "{}",
    "{\"version\": 3}", "{\"version\": 3, \"crypto\": []}", "{\"version\": 3} trailing",
    "\xff\xfe{}", "{\"version\": 3, \"crypto\": {\"cipher\": \"\xc3\x28\"}}",
  };
  g_autofree char *deep = NULL;
  g_autofree char *deep_strings = NULL;
  GString *nested;

  for (guint i = 0; i < G_N_ELEMENTS (documents); i++)
    {
      g_test_message ("document %u", i);
      assert_decrypt_fails (documents[i], -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, NULL);
    }

  /* A NUL inside the given length. */
  assert_decrypt_fails ("{\"version\"\0: 3}", 15, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT,
                        NULL);

  /* Nesting deep enough to exhaust a small thread stack in a recursive parser. */
  deep = g_strnfill (KILN_KEYSTORE_MAX_DOCUMENT_SIZE / 2, '[');
  assert_decrypt_fails (deep, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, "nested");

  /* Brackets inside strings do not count as nesting. */
  nested = g_string_new ("{\"version\": 3, \"note\": \"");
  for (guint i = 0; i < 100; i++)
    g_string_append (nested, "[{\\\"");
  g_string_append (nested, "\"}");
  deep_strings = g_string_free (nested, FALSE);
  assert_decrypt_fails (deep_strings, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, "crypto");
}

static void
test_oversize (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  gsize len = strlen (json);
  g_autofree char *padded = g_malloc (KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 2);
  g_autoptr(KilnKey) key = NULL;

  /* Whitespace after the object: valid JSON up to the limit, refused past it. */
  memcpy (padded, json, len);
  memset (padded + len, ' ', KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 1 - len);
  padded[KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 1] = '\0';

  assert_decrypt_fails (padded, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, "larger");
  assert_decrypt_fails (padded, KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 1, "pw",
                        KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, "larger");
  assert_decrypt_fails (padded, G_MAXSSIZE, "pw", KILN_CRYPTO_ERROR_KEYSTORE_FORMAT, "larger");

  key = kiln_keystore_decrypt (padded, KILN_KEYSTORE_MAX_DOCUMENT_SIZE, "pw", NULL);
  g_assert_nonnull (key);
  assert_secret (key, VECTOR_SECRET);
}

/* Limits --------------------------------------------------------------------- */

/* Each absurd cost is refused with KEYSTORE_LIMITS before anything is allocated
 * or derived, so well under a second. */
static void
test_limits_scrypt (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  const struct {
    gint64 n, r, p;
  } cases[] = {
    { G_GINT64_CONSTANT (1) << 40, 8, 1 },
    { G_GINT64_CONSTANT (1) << 62, 8, 1 },
    { G_MAXINT64, 8, 1 },
    { 4096, G_GINT64_CONSTANT (1) << 20, 1 },
    { 4096, G_GINT64_CONSTANT (1) << 62, 1 },
    { 4096, 8, G_GINT64_CONSTANT (1) << 40 },
    { 4096, 8, G_MAXINT64 },
    { 4096, 8, G_GINT64_CONSTANT (1) << 20 },  /* fits in memory, far too slow */
    { G_GINT64_CONSTANT (1) << 21, 8, 1 },     /* 2 GiB */
    { 1000, 8, 1 },
    { 4097, 8, 1 },
    { 0, 8, 1 },
    { 1, 8, 1 },
    { 4096, 0, 1 },
    { 4096, 8, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *with_n = edit_document (json, "crypto.kdfparams.n", int_node (cases[i].n));
      g_autofree char *with_r = edit_document (with_n, "crypto.kdfparams.r",
                                               int_node (cases[i].r));
      g_autofree char *edited = edit_document (with_r, "crypto.kdfparams.p",
                                               int_node (cases[i].p));
      gint64 start = g_get_monotonic_time ();

      g_test_message ("N = %" G_GINT64_FORMAT ", r = %" G_GINT64_FORMAT ", p = %"
                      G_GINT64_FORMAT, cases[i].n, cases[i].r, cases[i].p);
      assert_decrypt_fails (edited, -1, "pw", KILN_CRYPTO_ERROR_KEYSTORE_LIMITS, "scrypt");
      g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
    }
}

static void
test_limits_pbkdf2 (void)
{
  g_autofree char *json = load_fixture ("web3-pbkdf2.json");
  static const gint64 rounds[] = {
    0, KILN_KEYSTORE_MAX_PBKDF2_ROUNDS + 1, G_GINT64_CONSTANT (1) << 40, G_MAXINT64,
  };

  for (guint i = 0; i < G_N_ELEMENTS (rounds); i++)
    {
      g_autofree char *edited = edit_document (json, "crypto.kdfparams.c", int_node (rounds[i]));
      gint64 start = g_get_monotonic_time ();

      assert_decrypt_fails (edited, -1, VECTOR_PASSWORD, KILN_CRYPTO_ERROR_KEYSTORE_LIMITS,
                            "PBKDF2");
      g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
    }
}

/* Address without the password ---------------------------------------------- */

static void
test_peek_address (void)
{
  g_autofree char *json = encrypt_vector_key ("pw", TINY_N);
  g_autofree char *aaa = load_fixture ("geth-aaa.json");
  g_autofree char *vector = load_fixture ("web3-pbkdf2.json");
  g_autofree char *broken = edit_document (json, "address", string_node ("0x1234"));
  g_autofree char *wrong_type = edit_document (json, "address", int_node (1234));
  g_autofree char *address = NULL;
  g_autoptr(GError) error = NULL;

  address = kiln_keystore_peek_address (json, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, VECTOR_ADDRESS);
  g_clear_pointer (&address, g_free);

  address = kiln_keystore_peek_address (aaa, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, "0xf466859eAD1932D743d622CB74FC058882E8648A");
  g_clear_pointer (&address, g_free);

  /* The published vectors do not record it. */
  address = kiln_keystore_peek_address (vector, -1, &error);
  g_assert_null (address);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT);
  assert_message_mentions (error, "address");
  g_clear_error (&error);

  address = kiln_keystore_peek_address (broken, -1, &error);
  g_assert_null (address);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT);
  g_clear_error (&error);

  address = kiln_keystore_peek_address (wrong_type, -1, &error);
  g_assert_null (address);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT);
  g_clear_error (&error);

  address = kiln_keystore_peek_address ("{\"address\": ", -1, &error);
  g_assert_null (address);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT);
}

/* Files ------------------------------------------------------------------------ */

typedef struct
{
  char  *dir;
  GFile *file;
} FileFixture;

static void
file_fixture_set_up (FileFixture   *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("kiln-keystore-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->file = g_file_new_build_filename (fixture->dir, "node.json", NULL);
}

static void
file_fixture_tear_down (FileFixture   *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(GDir) dir = g_dir_open (fixture->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);

      g_assert_no_errno (g_unlink (path));
    }

  g_assert_no_errno (g_rmdir (fixture->dir));
  g_clear_object (&fixture->file);
  g_clear_pointer (&fixture->dir, g_free);
}

static guint
file_mode (GFile *file)
{
  GStatBuf st;

  g_assert_no_errno (g_stat (g_file_peek_path (file), &st));

  return st.st_mode & 07777;
}

static guint
count_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint count = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    count++;

  return count;
}

static void
test_file_round_trip (FileFixture   *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(KilnKey) key = vector_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(KilnKey) other = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *address = NULL;

  g_assert_true (kiln_keystore_save_file (fixture->file, key, "pw", TINY_N, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (fixture->file), ==, 0600);
  g_assert_cmpuint (count_files (fixture->dir), ==, 1);

  loaded = kiln_keystore_load_file (fixture->file, "pw", NULL, &error);
  g_assert_no_error (error);
  assert_same_key (key, loaded);

  /* The file is what kiln_keystore_encrypt() writes. */
  g_assert_true (g_file_load_contents (fixture->file, NULL, &contents, NULL, NULL, &error));
  address = kiln_keystore_peek_address (contents, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, VECTOR_ADDRESS);

  /* Replacing a readable file leaves it private, and leaves nothing else behind. */
  g_assert_no_errno (g_chmod (g_file_peek_path (fixture->file), 0644));
  other = kiln_key_generate (&error);
  g_assert_no_error (error);
  g_assert_true (kiln_keystore_save_file (fixture->file, other, "new", TINY_N, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (fixture->file), ==, 0600);
  g_assert_cmpuint (count_files (fixture->dir), ==, 1);

  g_clear_object (&loaded);
  loaded = kiln_keystore_load_file (fixture->file, "new", NULL, &error);
  g_assert_no_error (error);
  assert_same_key (other, loaded);

  g_clear_object (&loaded);
  loaded = kiln_keystore_load_file (fixture->file, "pw", NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_WRONG_PASSWORD);
}

static void
test_file_errors (FileFixture   *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(KilnKey) key = vector_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) nowhere = g_file_new_build_filename (fixture->dir, "missing", "node.json",
                                                        NULL);
  g_autofree char *huge = g_strnfill (4 * KILN_KEYSTORE_MAX_DOCUMENT_SIZE, ' ');

  loaded = kiln_keystore_load_file (fixture->file, "pw", NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (kiln_keystore_save_file (nowhere, key, "pw", TINY_N, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (g_file_peek_path (fixture->file), huge, -1, NULL));
  loaded = kiln_keystore_load_file (fixture->file, "pw", NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (g_file_peek_path (fixture->file), "{}", -1, NULL));
  loaded = kiln_keystore_load_file (fixture->file, "pw", NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT);
}

/* Drops @object and waits (up to ten seconds) for other threads to drop theirs. */
static void
assert_released (gpointer object)
{
  GWeakRef weak;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GObject *still;

  g_weak_ref_init (&weak, object);
  g_object_unref (object);

  while ((still = g_weak_ref_get (&weak)) != NULL)
    {
      g_object_unref (still);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }

  g_weak_ref_clear (&weak);
}

typedef struct
{
  GAsyncResult *result;
} AsyncWait;

static void
on_ready (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  AsyncWait *wait = user_data;

  g_assert_null (source);
  wait->result = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (AsyncWait *wait)
{
  while (wait->result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return wait->result;
}

static void
test_file_async (FileFixture   *fixture,
                 gconstpointer  user_data)
{
  g_autoptr(KilnKey) key = vector_key ();
  g_autoptr(KilnKey) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  AsyncWait wait = { NULL };

  kiln_keystore_save_async (fixture->file, key, "async", TINY_N, NULL, on_ready, &wait);
  g_assert_true (kiln_keystore_save_finish (wait_for_result (&wait), &error));
  g_assert_no_error (error);
  g_clear_object (&wait.result);
  g_assert_cmpuint (file_mode (fixture->file), ==, 0600);

  kiln_keystore_load_async (fixture->file, "async", NULL, on_ready, &wait);
  loaded = kiln_keystore_load_finish (wait_for_result (&wait), &error);
  g_assert_no_error (error);
  g_clear_object (&wait.result);
  assert_same_key (key, loaded);
  g_assert_finalize_object (g_steal_pointer (&loaded));

  kiln_keystore_load_async (fixture->file, "wrong", NULL, on_ready, &wait);
  loaded = kiln_keystore_load_finish (wait_for_result (&wait), &error);
  g_assert_null (loaded);
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_WRONG_PASSWORD);
  g_clear_error (&error);
  g_clear_object (&wait.result);

  g_cancellable_cancel (cancellable);
  kiln_keystore_load_async (fixture->file, "async", cancellable, on_ready, &wait);
  loaded = kiln_keystore_load_finish (wait_for_result (&wait), &error);
  g_assert_null (loaded);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_clear_object (&wait.result);

  kiln_keystore_save_async (fixture->file, key, "again", TINY_N, cancellable, on_ready, &wait);
  g_assert_false (kiln_keystore_save_finish (wait_for_result (&wait), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&wait.result);

  /* The tasks drop their references, possibly a moment later in a worker thread. */
  assert_released (g_steal_pointer (&key));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/keystore/vectors/pbkdf2", test_vector_pbkdf2);
  g_test_add_func ("/kiln/keystore/vectors/scrypt", test_vector_scrypt);
  g_test_add_func ("/kiln/keystore/vectors/wrong-password", test_vector_wrong_password);
  g_test_add_func ("/kiln/keystore/vectors/geth", test_vector_geth);

  g_test_add_func ("/kiln/keystore/scrypt/rfc7914", test_scrypt_rfc7914);
  g_test_add_func ("/kiln/keystore/scrypt/fallback-matches-openssl",
                   test_scrypt_fallback_matches_openssl);
  g_test_add_func ("/kiln/keystore/scrypt/check-params", test_scrypt_check_params);

  g_test_add_func ("/kiln/keystore/round-trip/light", test_round_trip_light);
  g_test_add_func ("/kiln/keystore/round-trip/passwords", test_round_trip_passwords);
  g_test_add_func ("/kiln/keystore/round-trip/fresh-randomness",
                   test_round_trip_fresh_randomness);
  g_test_add_func ("/kiln/keystore/round-trip/standard", test_round_trip_standard);
  g_test_add_func ("/kiln/keystore/encrypt/bad-cost", test_encrypt_refuses_bad_cost);
  g_test_add_func ("/kiln/keystore/read/capitalised-crypto", test_capitalised_crypto);
  g_test_add_func ("/kiln/keystore/read/longer-dklen", test_longer_dklen);

  g_test_add_func ("/kiln/keystore/tamper/fields", test_tamper);
  g_test_add_func ("/kiln/keystore/tamper/address", test_address_mismatch);

  g_test_add_func ("/kiln/keystore/malformed/truncated", test_truncated);
  g_test_add_func ("/kiln/keystore/malformed/corrupted-bytes", test_corrupted_bytes);
  g_test_add_func ("/kiln/keystore/malformed/version", test_version);
  g_test_add_func ("/kiln/keystore/malformed/missing-fields", test_missing_fields);
  g_test_add_func ("/kiln/keystore/malformed/missing-pbkdf2-fields", test_missing_pbkdf2_fields);
  g_test_add_func ("/kiln/keystore/malformed/wrong-types", test_wrong_types);
  g_test_add_func ("/kiln/keystore/malformed/unsupported", test_unsupported);
  g_test_add_func ("/kiln/keystore/malformed/not-keystores", test_not_keystores);
  g_test_add_func ("/kiln/keystore/malformed/oversize", test_oversize);

  g_test_add_func ("/kiln/keystore/limits/scrypt", test_limits_scrypt);
  g_test_add_func ("/kiln/keystore/limits/pbkdf2", test_limits_pbkdf2);

  g_test_add_func ("/kiln/keystore/peek-address", test_peek_address);

  g_test_add ("/kiln/keystore/file/round-trip", FileFixture, NULL,
              file_fixture_set_up, test_file_round_trip, file_fixture_tear_down);
  g_test_add ("/kiln/keystore/file/errors", FileFixture, NULL,
              file_fixture_set_up, test_file_errors, file_fixture_tear_down);
  g_test_add ("/kiln/keystore/file/async", FileFixture, NULL,
              file_fixture_set_up, test_file_async, file_fixture_tear_down);

  return g_test_run ();
}
