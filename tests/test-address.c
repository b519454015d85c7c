/* test-address.c: Ethereum addresses, EIP-55 checksums and parsing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "libkiln.h"

/* The test vectors of EIP-55 itself: all caps, all lower, and normal. */
static const char *eip55_vectors[] = {
  "0x52908400098527886E0F7030069857D2E4169EE7",
  "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
  "0xde709f2102306220921060314715629080e2fb77",
  "0x27b1fdb04752bbc536007a920d24acb045561c26",
  "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
  "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
  "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
  "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

static void
test_address_eip55_vectors (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (eip55_vectors); i++)
    {
      const char *vector = eip55_vectors[i];
      g_autoptr(GError) error = NULL;
      g_autofree char *lower = g_ascii_strdown (vector, -1);
      g_autofree char *upper = g_ascii_strup (vector + 2, -1);
      g_autofree char *upper_prefixed = g_strconcat ("0x", upper, NULL);
      char formatted[KILN_ADDRESS_STRING_SIZE];
      KilnAddress address;
      KilnAddress other;

      /* The checksummed form parses and formats back to itself. */
      g_assert_true (kiln_address_parse (&address, vector, &error));
      g_assert_no_error (error);
      kiln_address_format (&address, formatted);
      g_assert_cmpstr (formatted, ==, vector);

      /* Unchecksummed forms of the same address are accepted too. */
      g_assert_true (kiln_address_parse (&other, lower, &error));
      g_assert_no_error (error);
      g_assert_true (kiln_address_equal (&address, &other));

      g_assert_true (kiln_address_parse (&other, upper_prefixed, &error));
      g_assert_no_error (error);
      g_assert_true (kiln_address_equal (&address, &other));
    }
}

static void
test_address_round_trip (void)
{
  for (guint i = 0; i < 256; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL;
      KilnAddress address;
      KilnAddress parsed;

      g_assert_true (kiln_random_bytes (address.bytes, sizeof address.bytes, &error));
      g_assert_no_error (error);

      text = kiln_address_to_string (&address);
      g_assert_cmpuint (strlen (text), ==, KILN_ADDRESS_STRING_SIZE - 1);
      g_assert_true (g_str_has_prefix (text, "0x"));

      g_assert_true (kiln_address_parse (&parsed, text, &error));
      g_assert_no_error (error);
      g_assert_true (kiln_address_equal (&address, &parsed));
    }
}

/* Changing the case of any single letter of a checksummed address must be
 * caught, unless that leaves the address all lower or all upper case. */
static void
test_address_case_flip (void)
{
  for (guint i = 4; i < G_N_ELEMENTS (eip55_vectors); i++)
    {
      const char *vector = eip55_vectors[i];
      guint n_flipped = 0;

      for (guint pos = 2; vector[pos] != '\0'; pos++)
        {
          g_autoptr(GError) error = NULL;
          g_autofree char *flipped = g_strdup (vector);
          KilnAddress address;

          if (!g_ascii_isalpha (flipped[pos]))
            continue;

          flipped[pos] = g_ascii_isupper (flipped[pos]) ? g_ascii_tolower (flipped[pos])
                                                        : g_ascii_toupper (flipped[pos]);

          g_assert_false (kiln_address_parse (&address, flipped, &error));
          g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_BAD_CHECKSUM);
          g_assert_nonnull (error->message);
          n_flipped++;
        }

      g_assert_cmpuint (n_flipped, >, 0);
    }
}

static void
test_address_invalid (void)
{
  static const char *bad[] = {
    "",
    "0x",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",       /* 39 digits */
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd",     /* 41 digits */
    "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00",    /* 42 digits */
    "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",      /* not hex */
    "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea d",      /* space */
    " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",     /* leading space */
    "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae\xc3\xa9", /* non-ASCII */
    "0x0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea",
    "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0000",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      KilnAddress address;

      memset (&address, 0x55, sizeof address);
      g_assert_false (kiln_address_parse (&address, bad[i], &error));
      g_assert_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_ADDRESS);
      g_assert_true (strstr (error->message, "40 hexadecimal digits") != NULL ||
                     strstr (error->message, "0–9") != NULL);

      /* The output is left alone on failure. */
      for (guint b = 0; b < KILN_ADDRESS_SIZE; b++)
        g_assert_cmpuint (address.bytes[b], ==, 0x55);
    }
}

/* The 0x prefix may be left out. */
static void
test_address_no_prefix (void)
{
  g_autoptr(GError) error = NULL;
  KilnAddress with_prefix;
  KilnAddress without_prefix;

  g_assert_true (kiln_address_parse (&with_prefix, eip55_vectors[4], &error));
  g_assert_no_error (error);
  g_assert_true (kiln_address_parse (&without_prefix, eip55_vectors[4] + 2, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_address_equal (&with_prefix, &without_prefix));
}

/* The generator point G is the public key of secret 1. */
static void
test_address_from_public_key (void)
{
  const char *generator =
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
  g_autoptr(GError) error = NULL;
  guint8 public_key[64];
  char formatted[KILN_ADDRESS_STRING_SIZE];
  KilnAddress address;

  g_assert_true (kiln_hex_decode (generator, public_key, sizeof public_key, &error));
  g_assert_no_error (error);

  kiln_address_from_public_key (&address, public_key);
  kiln_address_format (&address, formatted);
  g_assert_cmpstr (formatted, ==, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
}

static void
assert_key_address (const char *secret_hex,
                    const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = kiln_key_new_from_hex (secret_hex, &error);
  g_autofree char *text = NULL;
  KilnAddress parsed;

  g_assert_no_error (error);
  g_assert_nonnull (key);

  g_assert_cmpstr (kiln_key_get_address_string (key), ==, expected);
  text = kiln_address_to_string (kiln_key_get_address (key));
  g_assert_cmpstr (text, ==, expected);

  g_assert_true (kiln_address_parse (&parsed, expected, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_address_equal (&parsed, kiln_key_get_address (key)));
}

static void
test_address_from_known_keys (void)
{
  /* EIP-155's example transaction signer. */
  assert_key_address ("0x4646464646464646464646464646464646464646464646464646464646464646",
                      "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
  assert_key_address ("0000000000000000000000000000000000000000000000000000000000000001",
                      "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
}

static void
test_address_boxed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnAddress) copy = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  KilnAddress address;
  const KilnAddress *held;

  g_assert_true (G_TYPE_IS_BOXED (KILN_TYPE_ADDRESS));
  g_assert_true (kiln_address_parse (&address, eip55_vectors[5], &error));
  g_assert_no_error (error);

  copy = kiln_address_copy (&address);
  g_assert_true (copy != &address);
  g_assert_true (kiln_address_equal (copy, &address));

  g_value_init (&value, KILN_TYPE_ADDRESS);
  g_value_set_boxed (&value, &address);
  held = g_value_get_boxed (&value);
  g_assert_true (held != &address);
  g_assert_true (kiln_address_equal (held, &address));

  copy->bytes[0] ^= 1;
  g_assert_false (kiln_address_equal (copy, &address));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/address/eip55-vectors", test_address_eip55_vectors);
  g_test_add_func ("/kiln/address/round-trip", test_address_round_trip);
  g_test_add_func ("/kiln/address/case-flip", test_address_case_flip);
  g_test_add_func ("/kiln/address/invalid", test_address_invalid);
  g_test_add_func ("/kiln/address/no-prefix", test_address_no_prefix);
  g_test_add_func ("/kiln/address/from-public-key", test_address_from_public_key);
  g_test_add_func ("/kiln/address/from-known-keys", test_address_from_known_keys);
  g_test_add_func ("/kiln/address/boxed", test_address_boxed);

  return g_test_run ();
}
