/* kiln-amount.c: token and ETH amounts as people read and type them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Amounts stay 256-bit integers: shortening for display divides by a power of ten, so that
 * a balance is never shown larger than it is and a fee never smaller.
 */

#include "config.h"

#include <langinfo.h>
#include <string.h>

#include "kiln-amount.h"

/* Below this many leading fractional zeros a value is shown as a bound. */
#define TINY_ZEROS 6

static void
get_separators (const char **group,
                const char **point)
{
  const char *thousands = nl_langinfo (THOUSEP);
  const char *radix = nl_langinfo (RADIXCHAR);

  *point = radix != NULL && radix[0] != '\0' ? radix : ".";
  if (thousands != NULL && thousands[0] != '\0' && !g_str_equal (thousands, *point))
    *group = thousands;
  else
    *group = g_str_equal (*point, ",") ? "." : ",";
}

/* "1234567.5" → "1,234,567.5" with the locale's separators. */
static char *
localize (const char *plain)
{
  const char *group, *point;
  const char *dot = strchr (plain, '.');
  gsize int_len = dot != NULL ? (gsize) (dot - plain) : strlen (plain);
  GString *out = g_string_sized_new (strlen (plain) + int_len / 3 * 3 + 4);

  get_separators (&group, &point);

  for (gsize i = 0; i < int_len; i++)
    {
      if (i > 0 && (int_len - i) % 3 == 0)
        g_string_append (out, group);
      g_string_append_c (out, plain[i]);
    }

  if (dot != NULL)
    {
      g_string_append (out, point);
      g_string_append (out, dot + 1);
    }

  return g_string_free (out, FALSE);
}

char *
kiln_amount_format_display (const KilnUint256  *value,
                            guint               decimals,
                            KilnAmountRounding  rounding,
                            gboolean           *exact)
{
  g_autofree char *plain = NULL;
  const char *dot;
  gsize frac_len, zeros;
  gboolean whole_is_zero;
  guint keep;
  KilnUint256 unit, quotient, remainder;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (decimals <= KILN_UINT256_MAX_DECIMALS, NULL);

  if (exact != NULL)
    *exact = TRUE;

  plain = kiln_uint256_format_units (value, decimals);
  dot = strchr (plain, '.');
  if (dot == NULL)
    return localize (plain);

  frac_len = strlen (dot + 1);
  zeros = strspn (dot + 1, "0");
  whole_is_zero = dot - plain == 1 && plain[0] == '0';

  if (whole_is_zero && zeros >= TINY_ZEROS)
    {
      g_autofree char *bound = g_strdup_printf ("0.%0*d", TINY_ZEROS, 1);
      g_autofree char *shown = localize (bound);

      if (exact != NULL)
        *exact = FALSE;
      if (rounding == KILN_AMOUNT_ROUND_UP)
        return g_steal_pointer (&shown);
      return g_strconcat ("< ", shown, NULL);
    }

  keep = (guint) MIN (frac_len, (whole_is_zero ? zeros : 0) + KILN_AMOUNT_DISPLAY_DIGITS);
  if (keep < frac_len)
    {
      if (!kiln_uint256_pow10 (&unit, decimals - keep) ||
          !kiln_uint256_divmod (&quotient, &remainder, value, &unit))
        g_assert_not_reached ();

      /* Rounding a value below 2^256 - 1 up by one unit of 10^k with k >= 1 cannot wrap. */
      if (rounding == KILN_AMOUNT_ROUND_UP && !kiln_uint256_is_zero (&remainder) &&
          !kiln_uint256_add_uint64 (&quotient, &quotient, 1))
        g_assert_not_reached ();

      g_free (plain);
      plain = kiln_uint256_format_units (&quotient, keep);
      if (exact != NULL)
        *exact = FALSE;
    }

  return localize (plain);
}

char *
kiln_amount_format_with_symbol (const KilnUint256  *value,
                                guint               decimals,
                                const char         *symbol,
                                KilnAmountRounding  rounding,
                                gboolean           *exact)
{
  g_autofree char *number = NULL;

  g_return_val_if_fail (symbol != NULL, NULL);

  number = kiln_amount_format_display (value, decimals, rounding, exact);

  return g_strconcat (number, " ", symbol, NULL);
}

char *
kiln_amount_format_exact (const KilnUint256 *value,
                          guint              decimals,
                          const char        *symbol)
{
  g_autofree char *number = NULL;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (symbol != NULL, NULL);

  number = kiln_uint256_format_units (value, decimals);

  return g_strconcat (number, " ", symbol, NULL);
}

gboolean
kiln_amount_parse (KilnUint256  *value,
                   const char   *text,
                   guint         decimals,
                   const char   *symbol,
                   GError      **error)
{
  g_autofree char *copy = NULL;
  const char *group, *point;

  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  copy = g_strstrip (g_strdup (text));

  get_separators (&group, &point);
  if (g_str_equal (point, ",") && strchr (copy, '.') == NULL)
    g_strdelimit (copy, ",", '.');

  return kiln_uint256_parse_units (value, copy, decimals, symbol, error);
}
