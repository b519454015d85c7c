/* test-amount.c: amounts shortened for display, and read back from what people type
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs in the C locale, whose missing separators become "," and ".".
 */

#include "config.h"

#include <locale.h>

#include "kiln-amount.h"

static void
units (KilnUint256 *out,
       const char  *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kiln_uint256_parse_units (out, text, 18, "GNT", &error));
  g_assert_no_error (error);
}

typedef struct
{
  const char *value;      /* exact, in whole units with 18 decimals */
  const char *down;
  const char *up;
  gboolean    exact;
} DisplayCase;

static void
test_amount_display (void)
{
  static const DisplayCase cases[] = {
    { "0", "0", "0", TRUE },
    { "10", "10", "10", TRUE },
    { "1000", "1,000", "1,000", TRUE },
    { "1.5", "1.5", "1.5", TRUE },
    { "999999.1234", "999,999.1234", "999,999.1234", TRUE },
    { "1234567.891234567", "1,234,567.8912", "1,234,567.8913", FALSE },
    { "0.000042", "0.000042", "0.000042", TRUE },
    { "0.00004315789", "0.00004315", "0.00004316", FALSE },
    { "0.99999", "0.9999", "1", FALSE },
    { "0.000001", "0.000001", "0.000001", TRUE },
    { "0.000000999", "< 0.000001", "0.000001", FALSE },
    { "0.000000000000000001", "< 0.000001", "0.000001", FALSE },
    { "12.30001", "12.3", "12.3001", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *down = NULL;
      g_autofree char *up = NULL;
      gboolean exact_down = !cases[i].exact, exact_up = !cases[i].exact;
      KilnUint256 value;

      units (&value, cases[i].value);
      down = kiln_amount_format_display (&value, 18, KILN_AMOUNT_ROUND_DOWN, &exact_down);
      up = kiln_amount_format_display (&value, 18, KILN_AMOUNT_ROUND_UP, &exact_up);

      g_assert_cmpstr (down, ==, cases[i].down);
      g_assert_cmpstr (up, ==, cases[i].up);
      g_assert_cmpint (exact_down, ==, cases[i].exact);
      g_assert_cmpint (exact_up, ==, cases[i].exact);
    }
}

static void
test_amount_display_max (void)
{
  g_autofree char *shown = NULL;
  KilnUint256 max;

  /* 2^256 - 1 = 115792089237316195423570985008687907853269984665640564039457584007913129639935 */
  kiln_uint256_set_max (&max);
  shown = kiln_amount_format_display (&max, 18, KILN_AMOUNT_ROUND_DOWN, NULL);
  g_assert_cmpstr (shown, ==,
                   "115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,457"
                   ".584");
  g_clear_pointer (&shown, g_free);

  /* Rounding the largest value up stays in range: the dropped digits are below a unit. */
  shown = kiln_amount_format_display (&max, 18, KILN_AMOUNT_ROUND_UP, NULL);
  g_assert_cmpstr (shown, ==,
                   "115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,457"
                   ".5841");
  g_clear_pointer (&shown, g_free);

  shown = kiln_amount_format_display (&max, 0, KILN_AMOUNT_ROUND_DOWN, NULL);
  g_assert_true (g_str_has_prefix (shown, "115,792,089,"));
  g_assert_true (g_str_has_suffix (shown, ",129,639,935"));
}

static void
test_amount_symbol (void)
{
  g_autofree char *shown = NULL;
  g_autofree char *exact = NULL;
  KilnUint256 value;
  gboolean is_exact = TRUE;

  units (&value, "1000.000000000000000001");
  shown = kiln_amount_format_with_symbol (&value, 18, "GNT", KILN_AMOUNT_ROUND_DOWN, &is_exact);
  exact = kiln_amount_format_exact (&value, 18, "GNT");

  g_assert_cmpstr (shown, ==, "1,000 GNT");
  g_assert_false (is_exact);
  g_assert_cmpstr (exact, ==, "1000.000000000000000001 GNT");
}

static void
test_amount_parse (void)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 value, expected;

  g_assert_true (kiln_amount_parse (&value, "  1.5 ", 18, "GNT", &error));
  g_assert_no_error (error);
  units (&expected, "1.5");
  g_assert_true (kiln_uint256_equal (&value, &expected));

  /* The C locale's decimal separator is a point: a comma is refused as the engine refuses
   * it, with the engine's explanation. */
  g_assert_false (kiln_amount_parse (&value, "1,5", 18, "GNT", &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT);
  g_clear_error (&error);

  g_assert_false (kiln_amount_parse (&value, "0.0000000000000000001", 18, "GNT", &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT);
  g_assert_nonnull (strstr (error->message, "GNT"));
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/amount/display", test_amount_display);
  g_test_add_func ("/kiln/amount/display-max", test_amount_display_max);
  g_test_add_func ("/kiln/amount/symbol", test_amount_symbol);
  g_test_add_func ("/kiln/amount/parse", test_amount_parse);

  return g_test_run ();
}
