/* kiln-image.h: rendered PNG images in memory: reading, writing, pasting, comparing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* An image as a PNG holds it: 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)
 * channels of 8 or 16 bits, stored as 16-bit values in the image's own range
 * (0…255 or 0…65535), rows from the top. */
typedef struct _KilnImage KilnImage;

#define KILN_TYPE_IMAGE (kiln_image_get_type ())

/* The largest image Kiln loads: 65536 × 65536 pixels and 1 GiB of samples. */
#define KILN_IMAGE_MAX_DIMENSION 65536

GType       kiln_image_get_type      (void) G_GNUC_CONST;
KilnImage  *kiln_image_new           (guint             width,
                                      guint             height,
                                      guint             channels,
                                      guint             depth);
KilnImage  *kiln_image_copy          (const KilnImage  *image);
void        kiln_image_free          (KilnImage        *image);

/* Decodes a whole PNG (palette and low bit depths are expanded to 8 bits, a tRNS
 * chunk becomes an alpha channel). G_IO_ERROR_INVALID_DATA when it is not a
 * complete PNG or is too large. Blocking. */
KilnImage  *kiln_image_load_png      (const char       *path,
                                      GError          **error);
/* Writes @image as a PNG, replacing @path only once the whole file is written. */
gboolean    kiln_image_save_png      (const KilnImage  *image,
                                      const char       *path,
                                      GError          **error);

guint       kiln_image_get_width     (const KilnImage  *image);
guint       kiln_image_get_height    (const KilnImage  *image);
guint       kiln_image_get_channels  (const KilnImage  *image);
guint       kiln_image_get_depth     (const KilnImage  *image);
/* The samples of row @y: width × channels values. */
guint16    *kiln_image_get_row       (KilnImage        *image,
                                      guint             y);
const guint16 *kiln_image_peek_row   (const KilnImage  *image,
                                      guint             y);

/* A new image holding the @width × @height rectangle at @x, @y (it must fit). */
KilnImage  *kiln_image_crop          (const KilnImage  *image,
                                      guint             x,
                                      guint             y,
                                      guint             width,
                                      guint             height);
/* Copies @source into @dest with its top-left corner at @x, @y: both must have
 * the same channels and depth, and @source must fit. */
void        kiln_image_paste         (KilnImage        *dest,
                                      const KilnImage  *source,
                                      guint             x,
                                      guint             y);

/* How two equally sized rectangles differ, every channel counted, values scaled
 * to 0…1 (so 8- and 16-bit images compare). */
typedef struct
{
  double   mse;           /* mean squared difference */
  double   psnr;          /* 10·log10(1 / mse) in dB; G_MAXDOUBLE when identical */
  double   max_diff;      /* the largest difference of one value */
  guint64  differing;     /* values that differ at all */
  guint64  values;        /* values compared */
} KilnImageDiff;

/* Compares the @width × @height rectangle of @a at @ax, @ay with that of @b at
 * @bx, @by. Both must have the same number of channels and the rectangles must
 * fit. */
void        kiln_image_compare       (const KilnImage  *a,
                                      guint             ax,
                                      guint             ay,
                                      const KilnImage  *b,
                                      guint             bx,
                                      guint             by,
                                      guint             width,
                                      guint             height,
                                      KilnImageDiff    *diff);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnImage, kiln_image_free)

G_END_DECLS
