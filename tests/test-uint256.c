/* test-uint256.c: 256-bit integers and token amounts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "libkiln.h"

#define MAX_DECIMAL \
  "115792089237316195423570985008687907853269984665640564039457584007913129639935"
#define MAX_PLUS_ONE_DECIMAL \
  "115792089237316195423570985008687907853269984665640564039457584007913129639936"
#define MAX_HEX "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static KilnUint256
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 value;

  g_assert_true (kiln_uint256_parse (&value, text, &error));
  g_assert_no_error (error);
  return value;
}

static void
assert_decimal (const KilnUint256 *value,
                const char        *expected)
{
  g_autofree char *text = kiln_uint256_to_string (value);

  g_assert_cmpstr (text, ==, expected);
}

static void
assert_hex (const KilnUint256 *value,
            const char        *expected)
{
  g_autofree char *text = kiln_uint256_to_hex (value);

  g_assert_cmpstr (text, ==, expected);
}

/* A random value whose bit length is itself random, so that small values occur often. */
static KilnUint256
random_value (void)
{
  KilnUint256 value;
  guint bits = (guint) g_test_rand_int_range (0, 257);

  for (guint i = 0; i < 4; i++)
    value.limbs[i] = ((guint64) g_test_rand_int () << 32) | (guint32) g_test_rand_int ();

  for (guint i = 0; i < 4; i++)
    {
      if (bits <= i * 64)
        value.limbs[i] = 0;
      else if (bits < (i + 1) * 64)
        value.limbs[i] &= (G_GUINT64_CONSTANT (1) << (bits - i * 64)) - 1;
    }

  return value;
}

static void
test_bytes (void)
{
  g_autoptr(GError) error = NULL;
  guint8 bytes[32], back[32];
  guint8 long_input[40] = { 0 };
  KilnUint256 value, other;

  for (guint i = 0; i < 32; i++)
    bytes[i] = (guint8) (i + 1);

  kiln_uint256_from_be_bytes (&value, bytes);
  g_assert_cmphex (value.limbs[3], ==, G_GUINT64_CONSTANT (0x0102030405060708));
  g_assert_cmphex (value.limbs[0], ==, G_GUINT64_CONSTANT (0x191a1b1c1d1e1f20));
  kiln_uint256_to_be_bytes (&value, back);
  g_assert_cmpmem (back, 32, bytes, 32);
  g_assert_cmpuint (kiln_uint256_byte_length (&value), ==, 32);
  g_assert_cmpuint (kiln_uint256_bit_length (&value), ==, 249);

  /* A short slice is a small number; leading zero bytes beyond 32 are harmless. */
  g_assert_true (kiln_uint256_from_be_slice (&other, bytes + 30, 2, &error));
  g_assert_no_error (error);
  assert_hex (&other, "0x1f20");
  g_assert_cmpuint (kiln_uint256_byte_length (&other), ==, 2);

  memcpy (long_input + 8, bytes, 32);
  g_assert_true (kiln_uint256_from_be_slice (&other, long_input, sizeof long_input, &error));
  g_assert_true (kiln_uint256_equal (&other, &value));

  long_input[7] = 1;
  g_assert_false (kiln_uint256_from_be_slice (&other, long_input, sizeof long_input, &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_OVERFLOW);

  kiln_uint256_from_uint64 (&value, 0);
  g_assert_true (kiln_uint256_is_zero (&value));
  g_assert_cmpuint (kiln_uint256_byte_length (&value), ==, 0);
}

static void
test_parse_decimal (void)
{
  KilnUint256 value;
  guint64 small = 0;

  value = parse ("0");
  g_assert_true (kiln_uint256_is_zero (&value));

  value = parse ("18446744073709551615");
  g_assert_true (kiln_uint256_to_uint64 (&value, &small));
  g_assert_cmpuint (small, ==, G_MAXUINT64);

  value = parse ("18446744073709551616");
  g_assert_false (kiln_uint256_to_uint64 (&value, NULL));
  g_assert_cmphex (value.limbs[0], ==, 0);
  g_assert_cmphex (value.limbs[1], ==, 1);

  value = parse ("000042");
  assert_decimal (&value, "42");

  value = parse (MAX_DECIMAL);
  for (guint i = 0; i < 4; i++)
    g_assert_cmphex (value.limbs[i], ==, G_MAXUINT64);
  assert_decimal (&value, MAX_DECIMAL);
}

static void
test_parse_hex (void)
{
  KilnUint256 value, max;

  value = parse ("0x0");
  g_assert_true (kiln_uint256_is_zero (&value));

  value = parse ("0xff");
  assert_decimal (&value, "255");

  value = parse ("0X1a");
  assert_decimal (&value, "26");

  value = parse ("0xDE0B6B3A7640000");
  assert_decimal (&value, "1000000000000000000");

  kiln_uint256_set_max (&max);
  value = parse (MAX_HEX);
  g_assert_true (kiln_uint256_equal (&value, &max));

  /* 65 digits are fine while the first is a zero. */
  value = parse ("0x0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
  g_assert_true (kiln_uint256_equal (&value, &max));
}

static void
assert_parse_fails (const char *text,
                    gint        code)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 value = KILN_UINT256_INIT (7);

  g_assert_false (kiln_uint256_parse (&value, text, &error));
  g_assert_error (error, KILN_ETH_ERROR, code);
  g_assert_cmpuint (value.limbs[0], ==, 7);
  g_test_message ("%s → %s", text, error->message);
}

static void
test_parse_invalid (void)
{
  const char *invalid[] = {
    "", "-1", "+1", " 1", "1 ", "1 2", "1\n", "0x", "0x 1", "0x1g", "1.5", "1e3", "abc",
    "0xff ", "١", "1,000", "0b101",
  };

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    assert_parse_fails (invalid[i], KILN_ETH_ERROR_INVALID_NUMBER);

  assert_parse_fails (MAX_PLUS_ONE_DECIMAL, KILN_ETH_ERROR_OVERFLOW);
  assert_parse_fails ("1" MAX_DECIMAL, KILN_ETH_ERROR_OVERFLOW);
  assert_parse_fails ("0x1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                      KILN_ETH_ERROR_OVERFLOW);

  {
    g_autoptr(GError) error = NULL;
    KilnUint256 value;

    g_assert_false (kiln_uint256_parse (&value, "-5", &error));
    g_assert_nonnull (strstr (error->message, "negative"));
    g_clear_error (&error);

    g_assert_false (kiln_uint256_parse (&value, "1 000", &error));
    g_assert_nonnull (strstr (error->message, "space"));
  }
}

static void
test_format (void)
{
  KilnUint256 value;
  char decimal[KILN_UINT256_DECIMAL_SIZE];
  char hex[KILN_UINT256_HEX_SIZE];

  kiln_uint256_from_uint64 (&value, 0);
  assert_decimal (&value, "0");
  assert_hex (&value, "0x0");

  kiln_uint256_from_uint64 (&value, 255);
  assert_hex (&value, "0xff");

  value = parse ("18446744073709551616");
  assert_hex (&value, "0x10000000000000000");

  value = parse ("0x0100000000000000000000000000000001");
  assert_hex (&value, "0x100000000000000000000000000000001");
  assert_decimal (&value, "340282366920938463463374607431768211457");

  kiln_uint256_set_max (&value);
  kiln_uint256_format_decimal (&value, decimal);
  kiln_uint256_format_hex (&value, hex);
  g_assert_cmpstr (decimal, ==, MAX_DECIMAL);
  g_assert_cmpstr (hex, ==, MAX_HEX);

  value = parse ("1000000000000000000");
  assert_hex (&value, "0xde0b6b3a7640000");
  assert_decimal (&value, "1000000000000000000");
}

static void
test_arithmetic (void)
{
  KilnUint256 a, b, out, max, one = KILN_UINT256_INIT (1), zero = KILN_UINT256_INIT (0);

  kiln_uint256_set_max (&max);

  out = one;
  g_assert_false (kiln_uint256_add (&out, &max, &one));
  g_assert_true (kiln_uint256_equal (&out, &one));   /* untouched on overflow */
  g_assert_false (kiln_uint256_sub (&out, &zero, &one));
  g_assert_true (kiln_uint256_sub (&out, &max, &max));
  g_assert_true (kiln_uint256_is_zero (&out));

  /* Carries across every limb. */
  a = parse ("0xffffffffffffffffffffffffffffffffffffffffffffffff");
  g_assert_true (kiln_uint256_add (&out, &a, &one));
  assert_hex (&out, "0x1000000000000000000000000000000000000000000000000");
  g_assert_true (kiln_uint256_sub (&out, &out, &one));
  g_assert_true (kiln_uint256_equal (&out, &a));

  kiln_uint256_from_uint64 (&a, G_MAXUINT64);
  g_assert_true (kiln_uint256_mul (&out, &a, &a));
  assert_decimal (&out, "340282366920938463426481119284349108225");

  a = parse ("0x100000000000000000000000000000000");   /* 2^128 */
  g_assert_false (kiln_uint256_mul (&out, &a, &a));
  b = parse ("0x80000000000000000000000000000000");    /* 2^127 */
  g_assert_true (kiln_uint256_mul (&out, &a, &b));
  assert_hex (&out, "0x8000000000000000000000000000000000000000000000000000000000000000");
  g_assert_false (kiln_uint256_mul_uint64 (&out, &out, 2));
  g_assert_true (kiln_uint256_mul (&out, &max, &one));
  g_assert_true (kiln_uint256_equal (&out, &max));
  g_assert_true (kiln_uint256_mul (&out, &max, &zero));
  g_assert_true (kiln_uint256_is_zero (&out));

  g_assert_true (kiln_uint256_pow10 (&out, 77));
  g_assert_false (kiln_uint256_mul_uint64 (&out, &out, 10));
  g_assert_false (kiln_uint256_pow10 (&out, 78));

  a = parse ("5");
  b = parse ("7");
  g_assert_cmpint (kiln_uint256_compare (&a, &b), ==, -1);
  g_assert_cmpint (kiln_uint256_compare (&b, &a), ==, 1);
  g_assert_cmpint (kiln_uint256_compare (&a, &a), ==, 0);
  g_assert_cmpint (kiln_uint256_compare (&max, &a), ==, 1);
}

static void
test_division (void)
{
  KilnUint256 max, q, r, divisor, zero = KILN_UINT256_INIT (0);
  guint32 rem;

  kiln_uint256_set_max (&max);

  rem = kiln_uint256_div_small (&q, &max, 10);
  g_assert_cmpuint (rem, ==, 5);
  assert_decimal (&q, "1157920892373161954235709850086879078532699846656405640394575840079131"
                      "2963993");

  divisor = parse ("1000000000000000000");
  g_assert_true (kiln_uint256_divmod (&q, &r, &max, &divisor));
  assert_decimal (&q, "115792089237316195423570985008687907853269984665640564039457");
  assert_decimal (&r, "584007913129639935");

  divisor = parse ("18446744073709563961");   /* 2^64 + 12345 */
  g_assert_true (kiln_uint256_divmod (&q, &r, &max, &divisor));
  assert_hex (&q, "0xffffffffffffcfc70000000009156cb0fffffe49f5d99c97");
  assert_hex (&r, "0x52836f752fd260");

  /* A divisor with the top bit set exercises the carry of the shifted remainder. */
  divisor = parse ("0x8000000000000000000000000000000000000000000000000000000000000001");
  g_assert_true (kiln_uint256_divmod (&q, &r, &max, &divisor));
  assert_decimal (&q, "1");
  assert_hex (&r, "0x7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe");

  g_assert_true (kiln_uint256_divmod (&q, &r, &divisor, &max));
  g_assert_true (kiln_uint256_is_zero (&q));
  g_assert_true (kiln_uint256_equal (&r, &divisor));

  q = max;
  g_assert_false (kiln_uint256_divmod (&q, &r, &max, &zero));
  g_assert_true (kiln_uint256_equal (&q, &max));

  /* q * b + r == a with r < b pins the quotient and remainder down uniquely. */
  for (guint i = 0; i < 2000; i++)
    {
      KilnUint256 a = random_value ();
      KilnUint256 b = random_value ();
      KilnUint256 back;

      if (kiln_uint256_is_zero (&b))
        continue;

      g_assert_true (kiln_uint256_divmod (&q, &r, &a, &b));
      g_assert_cmpint (kiln_uint256_compare (&r, &b), <, 0);
      g_assert_true (kiln_uint256_mul (&back, &q, &b));
      g_assert_true (kiln_uint256_add (&back, &back, &r));
      g_assert_true (kiln_uint256_equal (&back, &a));
    }
}

static KilnUint256
parse_units (const char *text,
             guint       decimals)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 value;

  g_assert_true (kiln_uint256_parse_units (&value, text, decimals, "GNT", &error));
  g_assert_no_error (error);
  return value;
}

static void
test_units_parse (void)
{
  KilnUint256 value;

  value = parse_units ("1.5", 18);
  assert_decimal (&value, "1500000000000000000");
  value = parse_units ("0.000000000000000001", 18);
  assert_decimal (&value, "1");
  value = parse_units ("0", 18);
  assert_decimal (&value, "0");
  value = parse_units ("12", 18);
  assert_decimal (&value, "12000000000000000000");
  value = parse_units ("1.50", 18);
  assert_decimal (&value, "1500000000000000000");
  value = parse_units ("5", 0);
  assert_decimal (&value, "5");
  value = parse_units ("115792089237316195423570985008687907853269984665640564039457"
                       ".584007913129639935", 18);
  assert_decimal (&value, MAX_DECIMAL);
}

static void
assert_units_fail (const char *text,
                   guint       decimals,
                   gint        code,
                   const char *message_part)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 value = KILN_UINT256_INIT (3);

  g_assert_false (kiln_uint256_parse_units (&value, text, decimals, "GNT", &error));
  g_assert_error (error, KILN_ETH_ERROR, code);
  g_assert_cmpuint (value.limbs[0], ==, 3);
  if (message_part != NULL && strstr (error->message, message_part) == NULL)
    g_error ("“%s” gave “%s”, which lacks “%s”", text, error->message, message_part);
}

static void
test_units_invalid (void)
{
  const gint invalid = KILN_ETH_ERROR_INVALID_AMOUNT;

  assert_units_fail ("", 18, invalid, "empty");
  assert_units_fail ("-1", 18, invalid, "negative");
  assert_units_fail ("+1", 18, invalid, "sign");
  assert_units_fail ("1.", 18, invalid, "after the decimal point");
  assert_units_fail (".5", 18, invalid, "0.5");
  assert_units_fail ("1.2.3", 18, invalid, "more than one decimal point");
  assert_units_fail ("1,5", 18, invalid, "commas");
  assert_units_fail (" 1", 18, invalid, "space");
  assert_units_fail ("1 .5", 18, invalid, "space");
  assert_units_fail ("1e18", 18, invalid, NULL);
  assert_units_fail ("0x10", 18, invalid, NULL);
  assert_units_fail ("1.0000000000000000001", 18, invalid,
                     "Too many decimal places: GNT has 18");
  assert_units_fail ("1.0000000000000000000", 18, invalid, "GNT has 18");
  assert_units_fail ("5.0", 0, invalid, "GNT has 0");
  assert_units_fail ("115792089237316195423570985008687907853269984665640564039458", 18,
                     KILN_ETH_ERROR_OVERFLOW, "too large");
  assert_units_fail ("115792089237316195423570985008687907853269984665640564039457"
                     ".584007913129639936", 18, KILN_ETH_ERROR_OVERFLOW, "too large");

  {
    g_autoptr(GError) error = NULL;
    KilnUint256 value;

    g_assert_false (kiln_uint256_parse_units (&value, "0.1234", 2, NULL, &error));
    g_assert_cmpstr (error->message, ==, "Too many decimal places: this token has 2");
  }
}

static void
assert_units_format (const char *value_text,
                     guint       decimals,
                     const char *expected)
{
  KilnUint256 value = parse (value_text);
  g_autofree char *text = kiln_uint256_format_units (&value, decimals);

  g_assert_cmpstr (text, ==, expected);
}

static void
test_units_format (void)
{
  assert_units_format ("1", 18, "0.000000000000000001");
  assert_units_format ("1500000000000000000", 18, "1.5");
  assert_units_format ("0", 18, "0");
  assert_units_format ("12000000000000000000", 18, "12");
  assert_units_format ("12000000000000000001", 18, "12.000000000000000001");
  assert_units_format ("100", 2, "1");
  assert_units_format ("105", 2, "1.05");
  assert_units_format ("7", 0, "7");
  assert_units_format (MAX_DECIMAL, 18,
                       "115792089237316195423570985008687907853269984665640564039457"
                       ".584007913129639935");
  assert_units_format (MAX_DECIMAL, 77,
                       "1.15792089237316195423570985008687907853269984665640564039457"
                       "584007913129639935");
}

static void
test_round_trip (void)
{
  for (guint i = 0; i < 3000; i++)
    {
      g_autoptr(GError) error = NULL;
      KilnUint256 value = random_value ();
      KilnUint256 back;
      guint decimals = (guint) g_test_rand_int_range (0, KILN_UINT256_MAX_DECIMALS + 1);
      g_autofree char *decimal = kiln_uint256_to_string (&value);
      g_autofree char *hex = kiln_uint256_to_hex (&value);
      g_autofree char *amount = kiln_uint256_format_units (&value, decimals);
      g_autofree char *amount_again = NULL;

      g_assert_true (kiln_uint256_parse (&back, decimal, &error));
      g_assert_true (kiln_uint256_equal (&back, &value));
      g_assert_true (kiln_uint256_parse (&back, hex, &error));
      g_assert_true (kiln_uint256_equal (&back, &value));

      /* Display then parse gives the value back, and the display is canonical. */
      g_assert_true (kiln_uint256_parse_units (&back, amount, decimals, "GNT", &error));
      g_assert_no_error (error);
      g_assert_true (kiln_uint256_equal (&back, &value));
      amount_again = kiln_uint256_format_units (&back, decimals);
      g_assert_cmpstr (amount_again, ==, amount);
      g_assert_false (g_str_has_suffix (amount, "."));
      if (strchr (amount, '.') != NULL)
        g_assert_false (g_str_has_suffix (amount, "0"));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/uint256/bytes", test_bytes);
  g_test_add_func ("/kiln/uint256/parse/decimal", test_parse_decimal);
  g_test_add_func ("/kiln/uint256/parse/hex", test_parse_hex);
  g_test_add_func ("/kiln/uint256/parse/invalid", test_parse_invalid);
  g_test_add_func ("/kiln/uint256/format", test_format);
  g_test_add_func ("/kiln/uint256/arithmetic", test_arithmetic);
  g_test_add_func ("/kiln/uint256/division", test_division);
  g_test_add_func ("/kiln/uint256/units/parse", test_units_parse);
  g_test_add_func ("/kiln/uint256/units/invalid", test_units_invalid);
  g_test_add_func ("/kiln/uint256/units/format", test_units_format);
  g_test_add_func ("/kiln/uint256/units/round-trip", test_round_trip);

  return g_test_run ();
}
