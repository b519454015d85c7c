/* test-key.c: secp256k1 keys, recoverable signatures and address recovery
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "libkiln.h"

#define KEY_4646 "0x4646464646464646464646464646464646464646464646464646464646464646"
#define ADDRESS_4646 "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"

/* secp256k1's group order n. */
#define CURVE_ORDER "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
#define CURVE_ORDER_MINUS_1 "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"

/* keccak256("hello") signed with KEY_4646 (RFC 6979 nonce, low S), as r || s ||
 * recovery id, computed with an independent ECDSA implementation. */
#define HELLO_SIGNATURE_4646 \
  "bb8cd76becb20512f2146e9951df1db177dfcb608eaff0a4b1f9971fc7c5eaf2" \
  "0c914f267446678673e521309e7f3c5b60f095c321b12ab5cdf30a176df8cdb4" \
  "00"
/* The same signature's high-S twin: s' = n - s, recovery id flipped. */
#define HELLO_SIGNATURE_4646_HIGH_S \
  "bb8cd76becb20512f2146e9951df1db177dfcb608eaff0a4b1f9971fc7c5eaf2" \
  "f36eb0d98bb998798c1adecf6180c3a359be47238d977585f1df5475623d738d" \
  "01"

static KilnKey *
key_from_hex (const char *hex)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_new_from_hex (hex, &error);

  g_assert_no_error (error);
  g_assert_true (KILN_IS_KEY (key));

  return key;
}

static void
random_digest (guint8 digest[32])
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kiln_random_bytes (digest, 32, &error));
  g_assert_no_error (error);
}

static void
assert_valid_address_string (const char *text)
{
  g_autoptr(GError) error = NULL;
  char formatted[KILN_ADDRESS_STRING_SIZE];
  KilnAddress parsed;

  g_assert_nonnull (text);
  g_assert_true (kiln_address_parse (&parsed, text, &error));
  g_assert_no_error (error);
  kiln_address_format (&parsed, formatted);
  g_assert_cmpstr (formatted, ==, text);
}

static void
test_key_generate (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *a = kiln_key_generate (&error);
  KilnKey *b;
  guint8 secret_a[KILN_SECRET_KEY_SIZE];
  guint8 secret_b[KILN_SECRET_KEY_SIZE];

  g_assert_no_error (error);
  b = kiln_key_generate (&error);
  g_assert_no_error (error);

  assert_valid_address_string (kiln_key_get_address_string (a));
  assert_valid_address_string (kiln_key_get_address_string (b));
  g_assert_false (kiln_address_equal (kiln_key_get_address (a), kiln_key_get_address (b)));

  kiln_key_copy_secret (a, secret_a);
  kiln_key_copy_secret (b, secret_b);
  g_assert_true (memcmp (secret_a, secret_b, sizeof secret_a) != 0);
  kiln_secure_wipe (secret_a, sizeof secret_a);
  kiln_secure_wipe (secret_b, sizeof secret_b);

  g_assert_finalize_object (a);
  g_assert_finalize_object (b);
}

/* The copied secret gives back the same key, and the public key gives back
 * the same address. */
static void
test_key_consistency (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_generate (&error);
  KilnKey *again;
  guint8 secret[KILN_SECRET_KEY_SIZE];
  guint8 public_key[KILN_PUBLIC_KEY_SIZE];
  guint8 public_again[KILN_PUBLIC_KEY_SIZE];
  KilnAddress from_public;

  g_assert_no_error (error);

  kiln_key_copy_secret (key, secret);
  again = kiln_key_new_from_bytes (secret, sizeof secret, &error);
  kiln_secure_wipe (secret, sizeof secret);
  g_assert_no_error (error);

  kiln_key_get_public_key (key, public_key);
  kiln_key_get_public_key (again, public_again);
  g_assert_cmpmem (public_key, sizeof public_key, public_again, sizeof public_again);

  kiln_address_from_public_key (&from_public, public_key);
  g_assert_true (kiln_address_equal (&from_public, kiln_key_get_address (key)));
  g_assert_cmpstr (kiln_key_get_address_string (key), ==,
                   kiln_key_get_address_string (again));

  g_assert_finalize_object (key);
  g_assert_finalize_object (again);
}

static void
test_key_from_bytes (void)
{
  g_autoptr(GError) error = NULL;
  guint8 secret[KILN_SECRET_KEY_SIZE];
  KilnKey *key;

  memset (secret, 0x46, sizeof secret);
  key = kiln_key_new_from_bytes (secret, sizeof secret, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kiln_key_get_address_string (key), ==, ADDRESS_4646);
  g_assert_finalize_object (key);

  /* Wrong lengths. */
  g_assert_null (kiln_key_new_from_bytes (secret, 31, &error));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY);
  g_clear_error (&error);
  g_assert_null (kiln_key_new_from_bytes (secret, 0, &error));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY);
  g_clear_error (&error);

  /* Zero is not a key. */
  memset (secret, 0, sizeof secret);
  g_assert_null (kiln_key_new_from_bytes (secret, sizeof secret, &error));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY);
  g_clear_error (&error);

  /* Nor are the curve order and anything above it. */
  memset (secret, 0xff, sizeof secret);
  g_assert_null (kiln_key_new_from_bytes (secret, sizeof secret, &error));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY);
  g_clear_error (&error);

  g_assert_true (kiln_hex_decode (CURVE_ORDER, secret, sizeof secret, &error));
  g_assert_no_error (error);
  g_assert_null (kiln_key_new_from_bytes (secret, sizeof secret, &error));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY);
  g_clear_error (&error);

  /* n - 1 is the largest key. */
  g_assert_true (kiln_hex_decode (CURVE_ORDER_MINUS_1, secret, sizeof secret, &error));
  g_assert_no_error (error);
  key = kiln_key_new_from_bytes (secret, sizeof secret, &error);
  g_assert_no_error (error);
  g_assert_finalize_object (key);
}

static void
test_key_from_hex (void)
{
  static const char *good[] = {
    KEY_4646,
    "4646464646464646464646464646464646464646464646464646464646464646",
    "0X4646464646464646464646464646464646464646464646464646464646464646",
    "  " KEY_4646 "\n",
    "\t4646464646464646464646464646464646464646464646464646464646464646 \r\n",
  };
  static const char *bad[] = {
    "",
    "0x",
    "464646464646464646464646464646464646464646464646464646464646464",
    "464646464646464646464646464646464646464646464646464646464646464646",
    "46464646464646464646464646464646464646464646464646464646464646zz",
    "4646464646464646464646464646 464646464646464646464646464646464646",
    "0x0000000000000000000000000000000000000000000000000000000000000000",
    "0x" CURVE_ORDER,
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      KilnKey *key = key_from_hex (good[i]);

      g_assert_cmpstr (kiln_key_get_address_string (key), ==, ADDRESS_4646);
      g_assert_finalize_object (key);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_null (kiln_key_new_from_hex (bad[i], &error));
      g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY);
      /* Errors never repeat key material. */
      g_assert_null (strstr (error->message, "4646"));
      g_assert_null (strstr (error->message, "zz"));
    }
}

static void
test_key_sign_recover (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_generate (&error);

  g_assert_no_error (error);

  for (guint i = 0; i < 200; i++)
    {
      guint8 digest[32];
      guint8 signature[KILN_SIGNATURE_SIZE];
      KilnAddress recovered;

      random_digest (digest);
      g_assert_true (kiln_key_sign_digest (key, digest, signature, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (signature[64], <=, 1);

      g_assert_true (kiln_recover_address (digest, signature, &recovered, &error));
      g_assert_no_error (error);
      g_assert_true (kiln_address_equal (&recovered, kiln_key_get_address (key)));
    }

  g_assert_finalize_object (key);
}

/* RFC 6979 makes signing deterministic: the same bytes every time, equal to
 * what an independent implementation computes. */
static void
test_key_deterministic (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = key_from_hex (KEY_4646);
  guint8 digest[32];
  guint8 first[KILN_SIGNATURE_SIZE];
  guint8 second[KILN_SIGNATURE_SIZE];
  g_autofree char *hex = NULL;
  KilnAddress recovered;

  kiln_keccak256 ((const guint8 *) "hello", 5, digest);

  g_assert_true (kiln_key_sign_digest (key, digest, first, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_key_sign_digest (key, digest, second, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (first, sizeof first, second, sizeof second);

  hex = kiln_hex_encode (first, sizeof first);
  g_assert_cmpstr (hex, ==, HELLO_SIGNATURE_4646);

  g_assert_true (kiln_recover_address (digest, first, &recovered, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_address_equal (&recovered, kiln_key_get_address (key)));

  g_assert_finalize_object (key);
}

/* @signature over @digest must either be refused or recover someone else. */
static void
assert_not_signed_by (const guint8  digest[32],
                      const guint8  signature[KILN_SIGNATURE_SIZE],
                      KilnKey      *key)
{
  g_autoptr(GError) error = NULL;
  KilnAddress recovered;

  if (kiln_recover_address (digest, signature, &recovered, &error))
    g_assert_false (kiln_address_equal (&recovered, kiln_key_get_address (key)));
  else
    g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_SIGNATURE);
}

/* Flipping any bit of r or s, or of the digest, must not recover the signer. */
static void
test_key_tampered (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_generate (&error);
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];

  g_assert_no_error (error);
  random_digest (digest);
  g_assert_true (kiln_key_sign_digest (key, digest, signature, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < 64 * 8; i++)
    {
      guint8 tampered[KILN_SIGNATURE_SIZE];

      memcpy (tampered, signature, sizeof tampered);
      tampered[i / 8] ^= (guint8) (1u << (i % 8));
      assert_not_signed_by (digest, tampered, key);
    }

  for (guint i = 0; i < 32 * 8; i++)
    {
      guint8 tampered[32];

      memcpy (tampered, digest, sizeof tampered);
      tampered[i / 8] ^= (guint8) (1u << (i % 8));
      assert_not_signed_by (tampered, signature, key);
    }

  g_assert_finalize_object (key);
}

static void
assert_signature_refused (const guint8 digest[32],
                          const guint8 signature[KILN_SIGNATURE_SIZE])
{
  g_autoptr(GError) error = NULL;
  KilnAddress recovered;

  g_assert_false (kiln_recover_address (digest, signature, &recovered, &error));
  g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_SIGNATURE);
  g_assert_nonnull (error->message);
}

static void
test_key_invalid_signatures (void)
{
  g_autoptr(GError) error = NULL;
  guint8 digest[32];
  guint8 valid[KILN_SIGNATURE_SIZE];
  guint8 signature[KILN_SIGNATURE_SIZE];
  static const guint8 bad_recids[] = { 4, 5, 27, 28, 0x80, 0xff };
  char text[KILN_ADDRESS_STRING_SIZE];
  KilnAddress recovered;

  kiln_keccak256 ((const guint8 *) "hello", 5, digest);
  g_assert_true (kiln_hex_decode (HELLO_SIGNATURE_4646, valid, sizeof valid, &error));
  g_assert_no_error (error);

  /* Recovery ids outside 0..3, including Ethereum's 27/28 "v" encoding. */
  for (guint i = 0; i < G_N_ELEMENTS (bad_recids); i++)
    {
      memcpy (signature, valid, sizeof signature);
      signature[64] = bad_recids[i];
      assert_signature_refused (digest, signature);
    }

  /* The other parity recovers someone else. */
  memcpy (signature, valid, sizeof signature);
  signature[64] = 1;
  g_assert_true (kiln_recover_address (digest, signature, &recovered, &error));
  g_assert_no_error (error);
  kiln_address_format (&recovered, text);
  g_assert_cmpstr (text, !=, ADDRESS_4646);

  /* r = 0, s = 0, r >= n and s >= n. */
  memcpy (signature, valid, sizeof signature);
  memset (signature, 0, 32);
  assert_signature_refused (digest, signature);

  memcpy (signature, valid, sizeof signature);
  memset (signature + 32, 0, 32);
  assert_signature_refused (digest, signature);

  memcpy (signature, valid, sizeof signature);
  g_assert_true (kiln_hex_decode (CURVE_ORDER, signature, 32, &error));
  g_assert_no_error (error);
  assert_signature_refused (digest, signature);

  memcpy (signature, valid, sizeof signature);
  memset (signature + 32, 0xff, 32);
  assert_signature_refused (digest, signature);

  /* The malleated high-S twin of a valid signature. */
  g_assert_true (kiln_hex_decode (HELLO_SIGNATURE_4646_HIGH_S, signature, sizeof signature,
                                  &error));
  g_assert_no_error (error);
  assert_signature_refused (digest, signature);
}

static void
test_key_address_property (void)
{
  KilnKey *key = key_from_hex (KEY_4646);
  g_autofree char *address = NULL;
  GParamSpec *pspec;

  g_object_get (key, "address", &address, NULL);
  g_assert_cmpstr (address, ==, ADDRESS_4646);
  g_assert_cmpstr (address, ==, kiln_key_get_address_string (key));

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (key), "address");
  g_assert_nonnull (pspec);
  g_assert_true (pspec->flags & G_PARAM_READABLE);
  g_assert_false (pspec->flags & G_PARAM_WRITABLE);

  g_assert_finalize_object (key);
}

/* The shared secp256k1 context is used from several threads at once. */
static gpointer
sign_in_thread (gpointer data)
{
  KilnKey *key = data;

  for (guint i = 0; i < 100; i++)
    {
      g_autoptr(GError) error = NULL;
      guint8 digest[32];
      guint8 signature[KILN_SIGNATURE_SIZE];
      KilnAddress recovered;

      random_digest (digest);
      g_assert_true (kiln_key_sign_digest (key, digest, signature, &error));
      g_assert_no_error (error);
      g_assert_true (kiln_recover_address (digest, signature, &recovered, &error));
      g_assert_no_error (error);
      g_assert_true (kiln_address_equal (&recovered, kiln_key_get_address (key)));
    }

  return NULL;
}

static void
test_key_threads (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_generate (&error);
  GThread *threads[4];

  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("kiln-sign", sign_in_thread, key);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_assert_finalize_object (key);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/key/generate", test_key_generate);
  g_test_add_func ("/kiln/key/consistency", test_key_consistency);
  g_test_add_func ("/kiln/key/from-bytes", test_key_from_bytes);
  g_test_add_func ("/kiln/key/from-hex", test_key_from_hex);
  g_test_add_func ("/kiln/key/sign-recover", test_key_sign_recover);
  g_test_add_func ("/kiln/key/deterministic", test_key_deterministic);
  g_test_add_func ("/kiln/key/tampered", test_key_tampered);
  g_test_add_func ("/kiln/key/invalid-signatures", test_key_invalid_signatures);
  g_test_add_func ("/kiln/key/address-property", test_key_address_property);
  g_test_add_func ("/kiln/key/threads", test_key_threads);

  return g_test_run ();
}
