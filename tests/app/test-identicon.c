/* test-identicon.c: the blockies identicon matches what wallets draw
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The expected grids and colors come from the reference JavaScript implementation
 * (ethereum/blockies) run on the same seeds, with its CSS hsl() colors converted to 8-bit RGB.
 */

#include "config.h"

#include <math.h>

#include "kiln-identicon.h"

typedef struct
{
  const char *address;
  const char *cells;
  guint8      rgb[3][3];  /* color, background, spot */
} Vector;

static const Vector vectors[] = {
  {
    "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
    "1000000100000000110000111211112101011010021221200200002010211201",
    { { 250, 173, 21 }, { 231, 237, 51 }, { 115, 105, 248 } },
  },
  {
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "2211112201022010011001100011110000000000012112100012210010100101",
    { { 19, 65, 174 }, { 14, 254, 174 }, { 65, 109, 153 } },
  },
  {
    "0x0000000000000000000000000000000000000000",
    "0010010010000001011001102111111210122101100110012000000200211200",
    { { 218, 69, 84 }, { 44, 118, 209 }, { 200, 123, 165 } },
  },
};

static void
assert_rgb (const GdkRGBA *color,
            const guint8   expected[3])
{
  /* The reference rounds once from the exact value; allow that rounding step. */
  g_assert_cmpint (abs ((int) lround (color->red * 255) - expected[0]), <=, 1);
  g_assert_cmpint (abs ((int) lround (color->green * 255) - expected[1]), <=, 1);
  g_assert_cmpint (abs ((int) lround (color->blue * 255) - expected[2]), <=, 1);
  g_assert_cmpfloat (color->alpha, ==, 1.0);
}

static void
test_identicon_reference_vectors (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      KilnIdenticon identicon;

      kiln_identicon_compute (vectors[i].address, &identicon);

      for (guint c = 0; c < G_N_ELEMENTS (identicon.cells); c++)
        g_assert_cmpint (identicon.cells[c], ==, vectors[i].cells[c] - '0');

      assert_rgb (&identicon.color, vectors[i].rgb[0]);
      assert_rgb (&identicon.background, vectors[i].rgb[1]);
      assert_rgb (&identicon.spot, vectors[i].rgb[2]);
    }
}

static void
test_identicon_ignores_case (void)
{
  KilnIdenticon lower, upper;

  kiln_identicon_compute ("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", &lower);
  kiln_identicon_compute ("0xFB6916095CA1DF60BB79CE92CE3EA74C37C5D359", &upper);

  g_assert_cmpmem (lower.cells, sizeof lower.cells, upper.cells, sizeof upper.cells);
  g_assert_true (gdk_rgba_equal (&lower.color, &upper.color));
  g_assert_true (gdk_rgba_equal (&lower.background, &upper.background));
  g_assert_true (gdk_rgba_equal (&lower.spot, &upper.spot));
}

static void
test_identicon_rows_are_mirrored (void)
{
  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *address = g_strdup_printf ("0x%040x", i * 2654435761u);
      KilnIdenticon identicon;

      kiln_identicon_compute (address, &identicon);

      for (guint y = 0; y < KILN_IDENTICON_GRID_SIZE; y++)
        for (guint x = 0; x < KILN_IDENTICON_GRID_SIZE; x++)
          {
            guint8 cell = identicon.cells[y * KILN_IDENTICON_GRID_SIZE + x];

            g_assert_cmpint (cell, <=, KILN_IDENTICON_CELL_SPOT);
            g_assert_cmpint (cell, ==,
                             identicon.cells[y * KILN_IDENTICON_GRID_SIZE +
                                             KILN_IDENTICON_GRID_SIZE - 1 - x]);
          }
    }
}

static guint8 *
download (GdkTexture *texture,
          gsize      *out_len)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  guint8 *data = g_malloc0 ((gsize) width * height * 4);

  gdk_texture_download (texture, data, (gsize) width * 4);
  *out_len = (gsize) width * height * 4;

  return data;
}

static void
test_identicon_texture (void)
{
  const Vector *vector = &vectors[0];
  const int size = 96;
  const int cell = size / KILN_IDENTICON_GRID_SIZE;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GdkTexture) again = NULL;
  g_autoptr(GdkTexture) other = NULL;
  g_autofree guint8 *pixels = NULL;
  g_autofree guint8 *pixels_again = NULL;
  g_autofree guint8 *pixels_other = NULL;
  gsize len, len_again, len_other;

  texture = kiln_identicon_new_texture (vector->address, size);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, size);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, size);

  /* gdk_texture_download() gives premultiplied B, G, R, A bytes on little-endian and A, R, G, B
   * on big-endian: the same as 32-bit ARGB words, which is how they are read here. */
  pixels = download (texture, &len);

  for (int y = 0; y < KILN_IDENTICON_GRID_SIZE; y++)
    for (int x = 0; x < KILN_IDENTICON_GRID_SIZE; x++)
      {
        guint which = (guint) (vector->cells[y * KILN_IDENTICON_GRID_SIZE + x] - '0');
        const guint8 *expected = vector->rgb[which == 0 ? 1 : which == 1 ? 0 : 2];

        /* Every pixel of the cell, edges included: no seams, no blending. */
        for (int py = y * cell; py < (y + 1) * cell; py++)
          for (int px = x * cell; px < (x + 1) * cell; px++)
            {
              guint32 argb;

              memcpy (&argb, pixels + ((gsize) py * size + px) * 4, 4);
              g_assert_cmpuint (argb >> 24, ==, 0xff);
              g_assert_cmpint (abs ((int) ((argb >> 16) & 0xff) - expected[0]), <=, 1);
              g_assert_cmpint (abs ((int) ((argb >> 8) & 0xff) - expected[1]), <=, 1);
              g_assert_cmpint (abs ((int) (argb & 0xff) - expected[2]), <=, 1);
            }
      }

  /* Deterministic: the same address draws the same bytes; another address does not. */
  again = kiln_identicon_new_texture (vector->address, size);
  pixels_again = download (again, &len_again);
  g_assert_cmpmem (pixels, len, pixels_again, len_again);

  other = kiln_identicon_new_texture (vectors[1].address, size);
  pixels_other = download (other, &len_other);
  g_assert_cmpuint (len, ==, len_other);
  g_assert_true (memcmp (pixels, pixels_other, len) != 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/identicon/reference-vectors", test_identicon_reference_vectors);
  g_test_add_func ("/kiln/identicon/ignores-case", test_identicon_ignores_case);
  g_test_add_func ("/kiln/identicon/rows-are-mirrored", test_identicon_rows_are_mirrored);
  g_test_add_func ("/kiln/identicon/texture", test_identicon_texture);

  return g_test_run ();
}
