/* test-qr-code.c: the QR code of an address is a well-formed QR symbol
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The matrix is checked against the structure ISO/IEC 18004 fixes: its size for the data,
 * the three finder patterns with their light separators, the timing patterns, the dark
 * module, and both copies of the format information, which must name error correction
 * level M and carry a valid BCH code. The app test decodes a screenshot of the drawn code.
 */

#include "config.h"

#include "kiln-qr-code.h"

#define ADDRESS "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"

static gboolean
module_at (const guint8 *modules,
           guint         size,
           guint         x,
           guint         y)
{
  g_assert_cmpuint (x, <, size);
  g_assert_cmpuint (y, <, size);

  return modules[y * size + x] != 0;
}

static void
assert_finder (const guint8 *modules,
               guint         size,
               guint         left,
               guint         top)
{
  for (guint y = 0; y < 7; y++)
    for (guint x = 0; x < 7; x++)
      {
        gboolean ring = x == 0 || x == 6 || y == 0 || y == 6;
        gboolean center = x >= 2 && x <= 4 && y >= 2 && y <= 4;

        g_assert_cmpint (module_at (modules, size, left + x, top + y), ==, ring || center);
      }
}

/* The 15 format bits, least significant first, as libqrencode and the standard place them:
 * @second selects the copy split between the other two finders. */
static guint
read_format (const guint8 *modules,
             guint         size,
             gboolean      second)
{
  guint format = 0;

  for (guint i = 0; i < 15; i++)
    {
      guint x, y;

      if (!second)
        {
          if (i < 6)
            x = 8, y = i;
          else if (i < 8)
            x = 8, y = i + 1;
          else if (i == 8)
            x = 7, y = 8;
          else
            x = 14 - i, y = 8;
        }
      else
        {
          if (i < 8)
            x = size - 1 - i, y = 8;
          else
            x = 8, y = size - 15 + i;
        }

      if (module_at (modules, size, x, y))
        format |= 1u << i;
    }

  return format;
}

static guint
bch_format (guint data)
{
  guint value = data << 10;

  for (int bit = 14; bit >= 10; bit--)
    if (value & (1u << bit))
      value ^= 0x537u << (bit - 10);

  return (data << 10) | value;
}

static void
test_qr_code_address (void)
{
  g_autofree guint8 *modules = NULL;
  guint size = 0;
  guint format;

  modules = kiln_qr_code_encode (ADDRESS, &size);
  g_assert_nonnull (modules);

  /* 42 bytes fill version 3 at level M exactly: 29 modules. */
  g_assert_cmpuint (size, ==, 29);

  assert_finder (modules, size, 0, 0);
  assert_finder (modules, size, size - 7, 0);
  assert_finder (modules, size, 0, size - 7);

  /* Separators: the row and column next to each finder are light. */
  for (guint i = 0; i < 8; i++)
    {
      g_assert_false (module_at (modules, size, 7, i));
      g_assert_false (module_at (modules, size, i, 7));
      g_assert_false (module_at (modules, size, size - 8, i));
      g_assert_false (module_at (modules, size, size - 8 + i, 7));
      g_assert_false (module_at (modules, size, 7, size - 8 + i));
      g_assert_false (module_at (modules, size, i, size - 8));
    }

  /* Timing patterns alternate, dark on even positions. */
  for (guint i = 8; i < size - 8; i++)
    {
      g_assert_cmpint (module_at (modules, size, i, 6), ==, i % 2 == 0);
      g_assert_cmpint (module_at (modules, size, 6, i), ==, i % 2 == 0);
    }

  /* The dark module above the bottom-left finder. */
  g_assert_true (module_at (modules, size, 8, size - 8));

  /* Both copies of the format information agree, decode to level M (bits 00), and carry a
   * valid BCH(15,5) code under the 0x5412 mask. */
  format = read_format (modules, size, FALSE);
  g_assert_cmpuint (format, ==, read_format (modules, size, TRUE));
  format ^= 0x5412;
  g_assert_cmpuint (format >> 13, ==, 0);
  g_assert_cmpuint (bch_format (format >> 10), ==, format);
}

static void
test_qr_code_empty (void)
{
  guint size = 7;

  g_assert_null (kiln_qr_code_encode ("", &size));
  g_assert_cmpuint (size, ==, 0);
  g_assert_null (kiln_qr_code_encode (NULL, &size));
  g_assert_cmpuint (size, ==, 0);
}

static void
test_qr_code_too_long (void)
{
  /* Version 40 at level M holds 2331 bytes. */
  g_autofree char *text = g_strnfill (4000, 'a');
  guint size = 7;

  g_assert_null (kiln_qr_code_encode (text, &size));
  g_assert_cmpuint (size, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/qr-code/address", test_qr_code_address);
  g_test_add_func ("/kiln/qr-code/empty", test_qr_code_empty);
  g_test_add_func ("/kiln/qr-code/too-long", test_qr_code_too_long);

  return g_test_run ();
}
