/* kiln-uint256-text.c: reading and writing 256-bit integers and token amounts as text
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-eth.h"
#include "kiln-uint256.h"

/* Longest piece of user text quoted back in an error message. */
#define QUOTE_MAX_CHARS 80

/* Quotes user text for an error message: valid UTF-8, not too long. */
static char *
quote_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  if (g_utf8_strlen (valid, -1) > QUOTE_MAX_CHARS)
    {
      g_autofree char *head = g_utf8_substring (valid, 0, QUOTE_MAX_CHARS);
      return g_strdup_printf ("“%s…”", head);
    }

  return g_strdup_printf ("“%s”", valid);
}

typedef enum
{
  TEXT_NUMBER,
  TEXT_AMOUNT,
} TextKind;

static void
set_invalid_error (GError     **error,
                   TextKind     kind,
                   const char  *text,
                   const char  *reason)
{
  g_autofree char *quoted = quote_text (text);

  if (kind == TEXT_AMOUNT)
    g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT,
                 _("The amount %s is not valid: %s"), quoted, reason);
  else
    g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_NUMBER,
                 _("The number %s is not valid: %s"), quoted, reason);
}

/* Explains why @c cannot appear in a number or an amount. */
static void
set_bad_character_error (GError     **error,
                         TextKind     kind,
                         const char  *text,
                         char         c)
{
  const char *reason;

  if (g_ascii_isspace (c))
    reason = _("it contains a space");
  else if (c == '-')
    reason = _("negative values are not allowed");
  else if (c == '+')
    reason = _("write it without a sign");
  else if (c == ',')
    reason = _("write it without commas, with a point as the decimal separator");
  else if (kind == TEXT_AMOUNT)
    reason = _("only digits and one decimal point are allowed");
  else
    reason = _("only digits are allowed, or “0x” followed by hex digits");

  set_invalid_error (error, kind, text, reason);
}

static void
set_overflow_error (GError     **error,
                    TextKind     kind,
                    const char  *text)
{
  g_autofree char *quoted = quote_text (text);

  if (kind == TEXT_AMOUNT)
    g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_OVERFLOW,
                 _("The amount %s is too large: it does not fit in 256 bits"), quoted);
  else
    g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_OVERFLOW,
                 _("The number %s is too large: it does not fit in 256 bits"), quoted);
}

/* Parses @len decimal digits at @digits (already checked) into @out. */
static gboolean
parse_decimal_digits (KilnUint256 *out,
                      const char  *digits,
                      gsize        len)
{
  KilnUint256 value = KILN_UINT256_INIT (0);

  for (gsize i = 0; i < len; i++)
    {
      if (!kiln_uint256_mul_uint64 (&value, &value, 10) ||
          !kiln_uint256_add_uint64 (&value, &value, (guint64) (digits[i] - '0')))
        return FALSE;
    }

  *out = value;
  return TRUE;
}

static gboolean
parse_hex_digits (KilnUint256 *out,
                  const char  *text,
                  const char  *digits,
                  GError     **error)
{
  KilnUint256 value = KILN_UINT256_INIT (0);
  gsize len = strlen (digits);
  gsize start = 0;

  if (len == 0)
    {
      set_invalid_error (error, TEXT_NUMBER, text, _("“0x” must be followed by hex digits"));
      return FALSE;
    }

  for (gsize i = 0; i < len; i++)
    {
      if (g_ascii_xdigit_value (digits[i]) < 0)
        {
          set_invalid_error (error, TEXT_NUMBER, text,
                             g_ascii_isspace (digits[i])
                               ? _("it contains a space")
                               : _("only hex digits may follow “0x”"));
          return FALSE;
        }
    }

  while (start < len && digits[start] == '0')
    start++;

  if (len - start > 64)
    {
      set_overflow_error (error, TEXT_NUMBER, text);
      return FALSE;
    }

  for (gsize i = start; i < len; i++)
    {
      guint nibble = len - 1 - i;

      value.limbs[nibble / 16] |= (guint64) g_ascii_xdigit_value (digits[i]) << (4 * (nibble % 16));
    }

  *out = value;
  return TRUE;
}

gboolean
kiln_uint256_parse (KilnUint256  *self,
                    const char   *text,
                    GError      **error)
{
  KilnUint256 value;
  gsize len;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (text[0] == '\0')
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_NUMBER,
                           _("A number is required, but the text is empty"));
      return FALSE;
    }

  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    {
      if (!parse_hex_digits (&value, text, text + 2, error))
        return FALSE;

      *self = value;
      return TRUE;
    }

  len = strlen (text);
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        {
          set_bad_character_error (error, TEXT_NUMBER, text, text[i]);
          return FALSE;
        }
    }

  if (!parse_decimal_digits (&value, text, len))
    {
      set_overflow_error (error, TEXT_NUMBER, text);
      return FALSE;
    }

  *self = value;
  return TRUE;
}

void
kiln_uint256_format_decimal (const KilnUint256 *self,
                             char               out[KILN_UINT256_DECIMAL_SIZE])
{
  /* Nine digits at a time: 10^9 fits the 32-bit divisor of div_small(). */
  guint32 chunks[9];
  guint n_chunks = 0;
  KilnUint256 rest;
  gsize pos;

  g_return_if_fail (self != NULL);
  g_return_if_fail (out != NULL);

  rest = *self;
  do
    chunks[n_chunks++] = kiln_uint256_div_small (&rest, &rest, 1000000000u);
  while (!kiln_uint256_is_zero (&rest));

  pos = (gsize) g_snprintf (out, KILN_UINT256_DECIMAL_SIZE, "%u", chunks[n_chunks - 1]);
  for (guint i = n_chunks - 1; i-- > 0;)
    pos += (gsize) g_snprintf (out + pos, KILN_UINT256_DECIMAL_SIZE - pos, "%09u", chunks[i]);
}

void
kiln_uint256_format_hex (const KilnUint256 *self,
                         char               out[KILN_UINT256_HEX_SIZE])
{
  int top = 3;
  gsize pos;

  g_return_if_fail (self != NULL);
  g_return_if_fail (out != NULL);

  while (top > 0 && self->limbs[top] == 0)
    top--;

  pos = (gsize) g_snprintf (out, KILN_UINT256_HEX_SIZE, "0x%" G_GINT64_MODIFIER "x",
                            self->limbs[top]);
  for (int i = top - 1; i >= 0; i--)
    pos += (gsize) g_snprintf (out + pos, KILN_UINT256_HEX_SIZE - pos,
                               "%016" G_GINT64_MODIFIER "x", self->limbs[i]);
}

char *
kiln_uint256_to_string (const KilnUint256 *self)
{
  char buffer[KILN_UINT256_DECIMAL_SIZE];

  g_return_val_if_fail (self != NULL, NULL);

  kiln_uint256_format_decimal (self, buffer);
  return g_strdup (buffer);
}

char *
kiln_uint256_to_hex (const KilnUint256 *self)
{
  char buffer[KILN_UINT256_HEX_SIZE];

  g_return_val_if_fail (self != NULL, NULL);

  kiln_uint256_format_hex (self, buffer);
  return g_strdup (buffer);
}

static gboolean
check_amount_syntax (const char  *text,
                     gsize       *int_len,
                     gsize       *frac_len,
                     GError     **error)
{
  const char *p = text;
  const char *dot = NULL;

  if (text[0] == '\0')
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT,
                           _("An amount is required, but the text is empty"));
      return FALSE;
    }

  for (; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        continue;

      if (*p == '.' && dot == NULL)
        {
          dot = p;
          continue;
        }

      if (*p == '.')
        {
          set_invalid_error (error, TEXT_AMOUNT, text,
                             _("it has more than one decimal point"));
          return FALSE;
        }

      set_bad_character_error (error, TEXT_AMOUNT, text, *p);
      return FALSE;
    }

  *int_len = dot != NULL ? (gsize) (dot - text) : (gsize) (p - text);
  *frac_len = dot != NULL ? (gsize) (p - dot - 1) : 0;

  if (*int_len == 0 || (dot != NULL && *frac_len == 0))
    {
      set_invalid_error (error, TEXT_AMOUNT, text,
                         *int_len == 0
                           ? _("put a digit before the decimal point, as in “0.5”")
                           : _("put a digit after the decimal point, or leave the point out"));
      return FALSE;
    }

  return TRUE;
}

gboolean
kiln_uint256_parse_units (KilnUint256  *self,
                          const char   *text,
                          guint         decimals,
                          const char   *symbol,
                          GError      **error)
{
  KilnUint256 whole, fraction, scale, value;
  gsize int_len = 0, frac_len = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (decimals <= KILN_UINT256_MAX_DECIMALS, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_amount_syntax (text, &int_len, &frac_len, error))
    return FALSE;

  if (frac_len > decimals)
    {
      if (symbol != NULL)
        g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT,
                     g_dngettext (GETTEXT_PACKAGE,
                                  "Too many decimal places: %s has %u",
                                  "Too many decimal places: %s has %u",
                                  decimals),
                     symbol, decimals);
      else
        g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_AMOUNT,
                     g_dngettext (GETTEXT_PACKAGE,
                                  "Too many decimal places: this token has %u",
                                  "Too many decimal places: this token has %u",
                                  decimals),
                     decimals);
      return FALSE;
    }

  /* value = whole * 10^decimals + fraction * 10^(decimals - frac_len); frac_len <= 77 digits
   * always fit, the whole part and the sums are checked. */
  if (!parse_decimal_digits (&whole, text, int_len) ||
      !kiln_uint256_pow10 (&scale, decimals) ||
      !kiln_uint256_mul (&value, &whole, &scale))
    {
      set_overflow_error (error, TEXT_AMOUNT, text);
      return FALSE;
    }

  if (frac_len > 0)
    {
      if (!parse_decimal_digits (&fraction, text + int_len + 1, frac_len) ||
          !kiln_uint256_pow10 (&scale, decimals - (guint) frac_len) ||
          !kiln_uint256_mul (&fraction, &fraction, &scale))
        g_assert_not_reached ();

      if (!kiln_uint256_add (&value, &value, &fraction))
        {
          set_overflow_error (error, TEXT_AMOUNT, text);
          return FALSE;
        }
    }

  *self = value;
  return TRUE;
}

char *
kiln_uint256_format_units (const KilnUint256 *self,
                           guint              decimals)
{
  KilnUint256 scale, whole, fraction;
  char whole_text[KILN_UINT256_DECIMAL_SIZE];
  char fraction_text[KILN_UINT256_DECIMAL_SIZE];
  char padded[KILN_UINT256_DECIMAL_SIZE];
  gsize fraction_len, end;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (decimals <= KILN_UINT256_MAX_DECIMALS, NULL);

  if (!kiln_uint256_pow10 (&scale, decimals) ||
      !kiln_uint256_divmod (&whole, &fraction, self, &scale))
    g_assert_not_reached ();

  kiln_uint256_format_decimal (&whole, whole_text);
  if (kiln_uint256_is_zero (&fraction))
    return g_strdup (whole_text);

  /* The remainder is below 10^decimals: left-pad it to @decimals digits, then trim. */
  kiln_uint256_format_decimal (&fraction, fraction_text);
  fraction_len = strlen (fraction_text);
  g_assert (fraction_len <= decimals);
  memset (padded, '0', decimals - fraction_len);
  memcpy (padded + decimals - fraction_len, fraction_text, fraction_len + 1);

  end = decimals;
  while (end > 0 && padded[end - 1] == '0')
    end--;
  padded[end] = '\0';

  return g_strconcat (whole_text, ".", padded, NULL);
}
