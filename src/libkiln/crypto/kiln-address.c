/* kiln-address.c: Ethereum addresses and EIP-55 checksums
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-address.h"
#include "kiln-crypto.h"
#include "kiln-keccak.h"

G_DEFINE_BOXED_TYPE (KilnAddress, kiln_address, kiln_address_copy, kiln_address_free)

#define ADDRESS_HEX_DIGITS (KILN_ADDRESS_SIZE * 2)

KilnAddress *
kiln_address_copy (const KilnAddress *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_memdup2 (self, sizeof *self);
}

void
kiln_address_free (KilnAddress *self)
{
  g_free (self);
}

void
kiln_address_from_public_key (KilnAddress  *self,
                              const guint8  public_key[64])
{
  guint8 digest[KILN_KECCAK256_DIGEST_SIZE];

  g_return_if_fail (self != NULL);
  g_return_if_fail (public_key != NULL);

  kiln_keccak256 (public_key, 64, digest);
  memcpy (self->bytes, digest + KILN_KECCAK256_DIGEST_SIZE - KILN_ADDRESS_SIZE,
          KILN_ADDRESS_SIZE);
}

/* Writes the 40 EIP-55 digits of @bytes to @out (no prefix, no NUL). A
 * letter is upper case when the matching nibble of keccak256(lowercase hex
 * as ASCII) is 8 or more. */
static void
eip55_digits (const guint8 bytes[KILN_ADDRESS_SIZE],
              char         out[ADDRESS_HEX_DIGITS])
{
  static const char digits[] = "0123456789abcdef";
  guint8 hash[KILN_KECCAK256_DIGEST_SIZE];

  for (guint i = 0; i < KILN_ADDRESS_SIZE; i++)
    {
      out[2 * i] = digits[bytes[i] >> 4];
      out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }

  kiln_keccak256 ((const guint8 *) out, ADDRESS_HEX_DIGITS, hash);

  for (guint i = 0; i < ADDRESS_HEX_DIGITS; i++)
    {
      guint nibble = (i % 2 == 0) ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f;

      if (nibble >= 8 && out[i] >= 'a' && out[i] <= 'f')
        out[i] = (char) (out[i] - 'a' + 'A');
    }
}

void
kiln_address_format (const KilnAddress *self,
                     char               out[KILN_ADDRESS_STRING_SIZE])
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (out != NULL);

  out[0] = '0';
  out[1] = 'x';
  eip55_digits (self->bytes, out + 2);
  out[KILN_ADDRESS_STRING_SIZE - 1] = '\0';
}

char *
kiln_address_to_string (const KilnAddress *self)
{
  char buffer[KILN_ADDRESS_STRING_SIZE];

  g_return_val_if_fail (self != NULL, NULL);

  kiln_address_format (self, buffer);

  return g_strdup (buffer);
}

gboolean
kiln_address_parse (KilnAddress  *self,
                    const char   *text,
                    GError      **error)
{
  KilnAddress parsed;
  char expected[ADDRESS_HEX_DIGITS];
  gboolean has_lower = FALSE;
  gboolean has_upper = FALSE;
  gsize n_digits;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    text += 2;

  n_digits = strlen (text);
  if (n_digits != ADDRESS_HEX_DIGITS)
    {
      g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_ADDRESS,
                   _("This is not an Ethereum address: an address is “0x” followed by "
                     "40 hexadecimal digits, and this one has %zu"),
                   n_digits);
      return FALSE;
    }

  for (guint i = 0; i < ADDRESS_HEX_DIGITS; i++)
    {
      char c = text[i];

      if (c >= 'a' && c <= 'f')
        has_lower = TRUE;
      else if (c >= 'A' && c <= 'F')
        has_upper = TRUE;
      else if (!(c >= '0' && c <= '9'))
        {
          g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_ADDRESS,
                       _("This is not an Ethereum address: after “0x” only the digits "
                         "0–9 and the letters a–f may appear, and character %u is "
                         "neither"),
                       i + 1);
          return FALSE;
        }
    }

  if (!kiln_hex_decode (text, parsed.bytes, KILN_ADDRESS_SIZE, NULL))
    g_assert_not_reached ();

  if (has_lower && has_upper)
    {
      eip55_digits (parsed.bytes, expected);
      if (memcmp (expected, text, ADDRESS_HEX_DIGITS) != 0)
        {
          g_set_error_literal (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_BAD_CHECKSUM,
                               _("The address’s capital and small letters do not match "
                                 "its checksum, so it probably contains a typing mistake. "
                                 "Copy it again from where it came from."));
          return FALSE;
        }
    }

  *self = parsed;

  return TRUE;
}

gboolean
kiln_address_equal (const KilnAddress *a,
                    const KilnAddress *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return memcmp (a->bytes, b->bytes, KILN_ADDRESS_SIZE) == 0;
}
