/* test-crypto.c: hex helpers, secure wipe and the OS random source
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <string.h>

#include "libkiln.h"

static void
test_crypto_hex_encode (void)
{
  static const guint8 bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
  g_autofree char *hex = kiln_hex_encode (bytes, sizeof bytes);
  g_autofree char *empty = kiln_hex_encode (NULL, 0);

  g_assert_cmpstr (hex, ==, "00017f80abff");
  g_assert_cmpstr (empty, ==, "");
}

static void
test_crypto_hex_decode (void)
{
  g_autoptr(GError) error = NULL;
  static const guint8 expected[] = { 0xde, 0xad, 0xbe, 0xef };
  static const char *good[] = { "deadbeef", "0xdeadbeef", "0XDEADBEEF", "DeAdBeEf" };
  guint8 out[4];

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      memset (out, 0, sizeof out);
      g_assert_true (kiln_hex_decode (good[i], out, sizeof out, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (out, sizeof out, expected, sizeof expected);
    }

  g_assert_true (kiln_hex_decode ("", out, 0, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_hex_decode ("0x", out, 0, &error));
  g_assert_no_error (error);
}

static void
test_crypto_hex_decode_invalid (void)
{
  static const struct {
    const char *hex;
    const char *message_part;
  } bad[] = {
    { "deadbee", "Expected 8 hexadecimal digits but found 7" },
    { "deadbeef00", "Expected 8 hexadecimal digits but found 10" },
    { "0x", "Expected 8 hexadecimal digits but found 0" },
    { "deadbeeg", "Character 8 " },
    { "gdeadbee", "Character 1 " },
    { "dead beef", "Expected 8" },
    { "de\xc3\xa9" "dbee", "Character 3 " },
    { "0xx0deadbe", "Character 1 " },
    { "-1deadbe", "Character 1 " },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      guint8 out[4];

      g_assert_false (kiln_hex_decode (bad[i].hex, out, sizeof out, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, bad[i].message_part));
    }
}

static void
test_crypto_hex_round_trip (void)
{
  for (gsize len = 0; len < 70; len++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *data = g_malloc (len + 1);
      g_autofree guint8 *back = g_malloc (len + 1);
      g_autofree char *hex = NULL;
      g_autofree char *prefixed = NULL;

      g_assert_true (kiln_random_bytes (data, len, &error));
      g_assert_no_error (error);

      hex = kiln_hex_encode (data, len);
      g_assert_cmpuint (strlen (hex), ==, 2 * len);
      g_assert_true (kiln_hex_decode (hex, back, len, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (back, len, data, len);

      prefixed = g_strconcat ("0x", hex, NULL);
      g_assert_true (kiln_hex_decode (prefixed, back, len, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (back, len, data, len);
    }
}

static void
test_crypto_secure_wipe (void)
{
  guint8 buffer[64];

  memset (buffer, 0xa5, sizeof buffer);
  kiln_secure_wipe (buffer + 8, 32);

  for (guint i = 0; i < sizeof buffer; i++)
    g_assert_cmpuint (buffer[i], ==, (i >= 8 && i < 40) ? 0 : 0xa5);

  kiln_secure_wipe (NULL, 0);
  kiln_secure_wipe (NULL, 16);
}

/* Not a statistical test: it catches a source that returns nothing, a
 * constant, or the same bytes twice. */
static void
test_crypto_random (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *a = g_malloc0 (1 << 20);
  g_autofree guint8 *b = g_malloc0 (1 << 20);
  guint counts[256] = { 0 };

  g_assert_true (kiln_random_bytes (a, 1 << 20, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_random_bytes (b, 1 << 20, &error));
  g_assert_no_error (error);
  g_assert_true (memcmp (a, b, 1 << 20) != 0);

  for (gsize i = 0; i < (1 << 20); i++)
    counts[a[i]]++;
  /* Each value is expected 4096 times; 3500..4700 is beyond 9 sigma. */
  for (guint v = 0; v < 256; v++)
    g_assert_cmpuint (counts[v], >, 3500);
  for (guint v = 0; v < 256; v++)
    g_assert_cmpuint (counts[v], <, 4700);

  g_assert_true (kiln_random_bytes (NULL, 0, &error));
  g_assert_no_error (error);
}

static void
test_crypto_error_quark (void)
{
  g_assert_cmpstr (g_quark_to_string (KILN_CRYPTO_ERROR), ==, "kiln-crypto-error-quark");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/crypto/hex/encode", test_crypto_hex_encode);
  g_test_add_func ("/kiln/crypto/hex/decode", test_crypto_hex_decode);
  g_test_add_func ("/kiln/crypto/hex/decode-invalid", test_crypto_hex_decode_invalid);
  g_test_add_func ("/kiln/crypto/hex/round-trip", test_crypto_hex_round_trip);
  g_test_add_func ("/kiln/crypto/secure-wipe", test_crypto_secure_wipe);
  g_test_add_func ("/kiln/crypto/random", test_crypto_random);
  g_test_add_func ("/kiln/crypto/error-quark", test_crypto_error_quark);

  return g_test_run ();
}
