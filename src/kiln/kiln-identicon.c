/* kiln-identicon.c: the "blockies" identicon of an Ethereum address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Wallets and block explorers draw an address as an 8 × 8 grid seeded from its lowercase
 * text: a xorshift generator whose four 32-bit words are filled like Java's String.hashCode(),
 * three HSL colors (foreground, background, spots), then the left half of each row, mirrored.
 * Following the same arithmetic bit for bit lets people recognise their account at a glance
 * wherever they see it.
 */

#include "config.h"

#include <math.h>

#include "kiln-identicon.h"

typedef struct
{
  guint32 seed[4];
} Xorshift;

static void
xorshift_init (Xorshift   *rng,
               const char *text)
{
  memset (rng->seed, 0, sizeof rng->seed);

  /* seed[i % 4] = seed[i % 4] * 31 + c, in 32-bit two's complement. */
  for (gsize i = 0; text[i] != '\0'; i++)
    {
      guint32 *word = &rng->seed[i % 4];

      *word = (*word << 5) - *word + (guint8) text[i];
    }
}

/* Arithmetic right shift of a 32-bit two's complement value. */
static guint32
sar32 (guint32 value,
       guint   shift)
{
  guint32 shifted = value >> shift;

  if (value & 0x80000000u)
    shifted |= ~(G_MAXUINT32 >> shift);

  return shifted;
}

/* Uniform in [0, 2): the reference divides the unsigned word by 2³¹, not 2³². */
static double
xorshift_next (Xorshift *rng)
{
  guint32 t = rng->seed[0] ^ (rng->seed[0] << 11);

  rng->seed[0] = rng->seed[1];
  rng->seed[1] = rng->seed[2];
  rng->seed[2] = rng->seed[3];
  rng->seed[3] = rng->seed[3] ^ sar32 (rng->seed[3], 19) ^ t ^ sar32 (t, 8);

  return (double) rng->seed[3] / 2147483648.0;
}

static double
hue_to_channel (double p,
                double q,
                double t)
{
  if (t < 0)
    t += 1;
  if (t > 1)
    t -= 1;
  if (t < 1.0 / 6)
    return p + (q - p) * 6 * t;
  if (t < 1.0 / 2)
    return q;
  if (t < 2.0 / 3)
    return p + (q - p) * (2.0 / 3 - t) * 6;
  return p;
}

/* CSS hsl(): hue wraps around, saturation and lightness are clamped to 0–100 %. */
static void
hsl_to_rgba (double   hue,
             double   saturation,
             double   lightness,
             GdkRGBA *out)
{
  double h = fmod (hue, 360.0) / 360.0;
  double s = CLAMP (saturation, 0.0, 100.0) / 100.0;
  double l = CLAMP (lightness, 0.0, 100.0) / 100.0;

  out->alpha = 1.0;

  if (s == 0.0)
    {
      out->red = out->green = out->blue = l;
    }
  else
    {
      double q = l < 0.5 ? l * (1 + s) : l + s - l * s;
      double p = 2 * l - q;

      out->red = hue_to_channel (p, q, h + 1.0 / 3);
      out->green = hue_to_channel (p, q, h);
      out->blue = hue_to_channel (p, q, h - 1.0 / 3);
    }
}

static void
next_color (Xorshift *rng,
            GdkRGBA  *out)
{
  double hue = floor (xorshift_next (rng) * 360);
  double saturation = xorshift_next (rng) * 60 + 40;
  double lightness;

  lightness = xorshift_next (rng);
  lightness += xorshift_next (rng);
  lightness += xorshift_next (rng);
  lightness += xorshift_next (rng);
  lightness *= 25;

  hsl_to_rgba (hue, saturation, lightness, out);
}

void
kiln_identicon_compute (const char    *address,
                        KilnIdenticon *out)
{
  const guint data_width = (KILN_IDENTICON_GRID_SIZE + 1) / 2;
  g_autofree char *seed = NULL;
  Xorshift rng;

  g_return_if_fail (address != NULL);
  g_return_if_fail (out != NULL);

  seed = g_ascii_strdown (address, -1);
  xorshift_init (&rng, seed);

  next_color (&rng, &out->color);
  next_color (&rng, &out->background);
  next_color (&rng, &out->spot);

  for (guint y = 0; y < KILN_IDENTICON_GRID_SIZE; y++)
    {
      guint8 *row = &out->cells[y * KILN_IDENTICON_GRID_SIZE];

      for (guint x = 0; x < data_width; x++)
        {
          /* 0 and 1 about 43 % each, the spot color about 13 %. */
          row[x] = (guint8) floor (xorshift_next (&rng) * 2.3);
          row[KILN_IDENTICON_GRID_SIZE - 1 - x] = row[x];
        }
    }
}

static const GdkRGBA *
cell_color (const KilnIdenticon *identicon,
            guint8               cell)
{
  switch ((KilnIdenticonCell) cell)
    {
    case KILN_IDENTICON_CELL_COLOR:
      return &identicon->color;
    case KILN_IDENTICON_CELL_SPOT:
      return &identicon->spot;
    case KILN_IDENTICON_CELL_BACKGROUND:
    default:
      return &identicon->background;
    }
}

GdkTexture *
kiln_identicon_new_texture (const char *address,
                            int         size)
{
  g_autoptr(GBytes) bytes = NULL;
  cairo_surface_t *surface;
  KilnIdenticon identicon;
  cairo_t *cr;
  int stride;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (size >= KILN_IDENTICON_GRID_SIZE, NULL);

  kiln_identicon_compute (address, &identicon);

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, size, size);
  cr = cairo_create (surface);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);

  for (int y = 0; y < KILN_IDENTICON_GRID_SIZE; y++)
    {
      /* Integer cell edges, so that neighbouring cells never leave a seam. */
      int top = y * size / KILN_IDENTICON_GRID_SIZE;
      int bottom = (y + 1) * size / KILN_IDENTICON_GRID_SIZE;

      for (int x = 0; x < KILN_IDENTICON_GRID_SIZE; x++)
        {
          int left = x * size / KILN_IDENTICON_GRID_SIZE;
          int right = (x + 1) * size / KILN_IDENTICON_GRID_SIZE;
          guint8 cell = identicon.cells[y * KILN_IDENTICON_GRID_SIZE + x];

          gdk_cairo_set_source_rgba (cr, cell_color (&identicon, cell));
          cairo_rectangle (cr, left, top, right - left, bottom - top);
          cairo_fill (cr);
        }
    }

  cairo_destroy (cr);
  cairo_surface_flush (surface);

  stride = cairo_image_surface_get_stride (surface);
  bytes = g_bytes_new (cairo_image_surface_get_data (surface), (gsize) stride * size);
  cairo_surface_destroy (surface);

  /* GDK_MEMORY_DEFAULT is cairo's native-endian premultiplied ARGB32. */
  return gdk_memory_texture_new (size, size, GDK_MEMORY_DEFAULT, bytes, stride);
}
