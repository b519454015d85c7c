/* kiln-crypto.c: the crypto subsystem's error domain and helpers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gio/gio.h>

#include "kiln-crypto.h"

G_DEFINE_QUARK (kiln-crypto-error-quark, kiln_crypto_error)

void
kiln_secure_wipe (gpointer data,
                  gsize    len)
{
  if (data == NULL || len == 0)
    return;

  explicit_bzero (data, len);
}

char *
kiln_hex_encode (const guint8 *data,
                 gsize         len)
{
  static const char digits[] = "0123456789abcdef";
  char *out;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (len < G_MAXSIZE / 2, NULL);

  out = g_malloc (len * 2 + 1);
  for (gsize i = 0; i < len; i++)
    {
      out[2 * i] = digits[data[i] >> 4];
      out[2 * i + 1] = digits[data[i] & 0x0f];
    }
  out[len * 2] = '\0';

  return out;
}

static inline int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Errors never quote the input: it may be key material. */
gboolean
kiln_hex_decode (const char  *hex,
                 guint8      *out,
                 gsize        len,
                 GError     **error)
{
  gsize n_digits;

  g_return_val_if_fail (hex != NULL, FALSE);
  g_return_val_if_fail (out != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
    hex += 2;

  n_digits = strlen (hex);
  if (n_digits != len * 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Expected %zu hexadecimal digits but found %zu"),
                   len * 2, n_digits);
      return FALSE;
    }

  for (gsize i = 0; i < len; i++)
    {
      int hi = hex_value (hex[2 * i]);
      int lo = hex_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        {
          gsize position = 2 * i + (hi < 0 ? 1 : 2);

          kiln_secure_wipe (out, len);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Character %zu is not a hexadecimal digit "
                         "(only 0–9 and a–f are allowed)"),
                       position);
          return FALSE;
        }

      out[i] = (guint8) ((hi << 4) | lo);
    }

  return TRUE;
}
