/* kiln-image.c: rendered PNG images in memory, with libpng
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <png.h>

#include "kiln-image.h"

#define MAX_SAMPLES (G_GUINT64_CONSTANT (512) * 1024 * 1024)   /* 1 GiB of 16-bit values */

struct _KilnImage
{
  guint    width;
  guint    height;
  guint    channels;
  guint    depth;
  guint16 *pixels;
};

G_DEFINE_BOXED_TYPE (KilnImage, kiln_image, kiln_image_copy, kiln_image_free)

static gboolean
size_fits (guint width,
           guint height,
           guint channels)
{
  return width > 0 && height > 0 && width <= KILN_IMAGE_MAX_DIMENSION &&
         height <= KILN_IMAGE_MAX_DIMENSION &&
         (guint64) width * height * channels <= MAX_SAMPLES;
}

KilnImage *
kiln_image_new (guint width,
                guint height,
                guint channels,
                guint depth)
{
  KilnImage *image;

  g_return_val_if_fail (channels >= 1 && channels <= 4, NULL);
  g_return_val_if_fail (depth == 8 || depth == 16, NULL);
  g_return_val_if_fail (size_fits (width, height, channels), NULL);

  image = g_new0 (KilnImage, 1);
  image->width = width;
  image->height = height;
  image->channels = channels;
  image->depth = depth;
  image->pixels = g_new0 (guint16, (gsize) width * height * channels);
  return image;
}

KilnImage *
kiln_image_copy (const KilnImage *image)
{
  KilnImage *copy;

  g_return_val_if_fail (image != NULL, NULL);

  copy = g_memdup2 (image, sizeof *image);
  copy->pixels = g_memdup2 (image->pixels, (gsize) image->width * image->height *
                                           image->channels * sizeof (guint16));
  return copy;
}

void
kiln_image_free (KilnImage *image)
{
  if (image == NULL)
    return;
  g_free (image->pixels);
  g_free (image);
}

guint
kiln_image_get_width (const KilnImage *image)
{
  g_return_val_if_fail (image != NULL, 0);
  return image->width;
}

guint
kiln_image_get_height (const KilnImage *image)
{
  g_return_val_if_fail (image != NULL, 0);
  return image->height;
}

guint
kiln_image_get_channels (const KilnImage *image)
{
  g_return_val_if_fail (image != NULL, 0);
  return image->channels;
}

guint
kiln_image_get_depth (const KilnImage *image)
{
  g_return_val_if_fail (image != NULL, 0);
  return image->depth;
}

guint16 *
kiln_image_get_row (KilnImage *image,
                    guint      y)
{
  g_return_val_if_fail (image != NULL && y < image->height, NULL);
  return image->pixels + (gsize) y * image->width * image->channels;
}

const guint16 *
kiln_image_peek_row (const KilnImage *image,
                     guint            y)
{
  g_return_val_if_fail (image != NULL && y < image->height, NULL);
  return image->pixels + (gsize) y * image->width * image->channels;
}

/* Reading ------------------------------------------------------------------------------- */

typedef struct
{
  jmp_buf  jump;
  char     message[128];
} PngState;

static void
on_png_error (png_structp     png,
              png_const_charp message)
{
  PngState *state = png_get_error_ptr (png);

  g_strlcpy (state->message, message, sizeof state->message);
  longjmp (state->jump, 1);
}

static void
on_png_warning (png_structp     png,
                png_const_charp message)
{
}

static gboolean
io_error (const char  *path,
          gboolean     writing,
          int          saved_errno,
          GError     **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_filename_display_name (base);

  if (writing)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 _("Cannot write %s: %s"), name, g_strerror (saved_errno));
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 _("The image %s cannot be opened: %s"), name, g_strerror (saved_errno));
  return FALSE;
}

static gboolean
bad_png (const char  *path,
         const char  *reason,
         GError     **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_filename_display_name (base);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("%s is not a complete PNG image (%s)"), name, reason);
  return FALSE;
}

/* Runs between setjmp and the decode: nothing here may own memory that a longjmp
 * would leak, so the image and row buffer live in @image and @row. */
static gboolean
decode (FILE        *fp,
        PngState    *state,
        KilnImage  **image,
        png_bytep   *row,
        const char **problem)
{
  png_structp png;
  png_infop info;
  volatile gboolean ok = FALSE;

  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, state, on_png_error, on_png_warning);
  info = png != NULL ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      *problem = "out of memory";
      return FALSE;
    }

  if (setjmp (state->jump) == 0)
    {
      png_uint_32 width, height;
      int depth, color_type, passes;
      guint channels;

      png_init_io (png, fp);
      png_set_user_limits (png, KILN_IMAGE_MAX_DIMENSION, KILN_IMAGE_MAX_DIMENSION);
      png_read_info (png, info);
      png_get_IHDR (png, info, &width, &height, &depth, &color_type, NULL, NULL, NULL);
      png_set_expand (png);
      if (depth == 16 && G_BYTE_ORDER == G_LITTLE_ENDIAN)
        png_set_swap (png);
      passes = png_set_interlace_handling (png);
      png_read_update_info (png, info);
      channels = png_get_channels (png, info);
      depth = png_get_bit_depth (png, info);

      if (!size_fits (width, height, channels) || channels < 1 || channels > 4 ||
          (depth != 8 && depth != 16))
        {
          *problem = _("too large or of an unknown kind");
          png_destroy_read_struct (&png, &info, NULL);
          return FALSE;
        }
      *image = kiln_image_new (width, height, channels, (guint) depth);
      *row = g_malloc (png_get_rowbytes (png, info));
      for (int pass = 0; pass < passes; pass++)
        for (guint y = 0; y < height; y++)
          {
            guint16 *out = kiln_image_get_row (*image, y);
            gsize n = (gsize) width * channels;

            /* Interlaced passes read the row back in and add to it. */
            if (depth == 16)
              memcpy (*row, out, n * 2);
            else
              for (gsize i = 0; i < n; i++)
                (*row)[i] = (png_byte) out[i];
            png_read_row (png, *row, NULL);
            if (depth == 16)
              memcpy (out, *row, n * 2);
            else
              for (gsize i = 0; i < n; i++)
                out[i] = (*row)[i];
          }
      png_read_end (png, NULL);
      ok = TRUE;
    }
  else
    *problem = state->message;

  png_destroy_read_struct (&png, &info, NULL);
  return ok;
}

KilnImage *
kiln_image_load_png (const char  *path,
                     GError     **error)
{
  PngState state = { 0 };
  KilnImage *image = NULL;
  png_bytep row = NULL;
  const char *problem = NULL;
  png_byte signature[8];
  FILE *fp;
  gboolean ok;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  fp = g_fopen (path, "rbe");
  if (fp == NULL)
    {
      io_error (path, FALSE, errno, error);
      return NULL;
    }
  if (fread (signature, 1, sizeof signature, fp) != sizeof signature ||
      png_sig_cmp (signature, 0, sizeof signature) != 0)
    {
      fclose (fp);
      bad_png (path, _("no PNG signature"), error);
      return NULL;
    }
  rewind (fp);

  ok = decode (fp, &state, &image, &row, &problem);
  fclose (fp);
  g_free (row);
  if (!ok)
    {
      g_clear_pointer (&image, kiln_image_free);
      bad_png (path, problem != NULL ? problem : "?", error);
      return NULL;
    }
  return image;
}

/* Writing ------------------------------------------------------------------------------- */

static gboolean
encode (FILE            *fp,
        PngState        *state,
        const KilnImage *image,
        png_bytep        row)
{
  static const int color_types[] = {
    PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA
  };
  png_structp png;
  png_infop info;
  volatile gboolean ok = FALSE;

  png = png_create_write_struct (PNG_LIBPNG_VER_STRING, state, on_png_error, on_png_warning);
  info = png != NULL ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    {
      png_destroy_write_struct (&png, NULL);
      g_strlcpy (state->message, "out of memory", sizeof state->message);
      return FALSE;
    }

  if (setjmp (state->jump) == 0)
    {
      gsize n = (gsize) image->width * image->channels;

      png_init_io (png, fp);
      png_set_IHDR (png, info, image->width, image->height, (int) image->depth,
                    color_types[image->channels - 1], PNG_INTERLACE_NONE,
                    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
      png_write_info (png, info);
      if (image->depth == 16 && G_BYTE_ORDER == G_LITTLE_ENDIAN)
        png_set_swap (png);
      for (guint y = 0; y < image->height; y++)
        {
          const guint16 *in = kiln_image_peek_row (image, y);

          if (image->depth == 16)
            memcpy (row, in, n * 2);
          else
            for (gsize i = 0; i < n; i++)
              row[i] = (png_byte) in[i];
          png_write_row (png, row);
        }
      png_write_end (png, NULL);
      ok = TRUE;
    }

  png_destroy_write_struct (&png, &info);
  return ok;
}

gboolean
kiln_image_save_png (const KilnImage  *image,
                     const char       *path,
                     GError          **error)
{
  PngState state = { 0 };
  g_autofree char *temp = NULL;
  g_autofree png_bytep row = NULL;
  FILE *fp;
  int fd;
  gboolean ok;

  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  temp = g_strconcat (path, ".XXXXXX", NULL);
  fd = g_mkstemp_full (temp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_error (path, TRUE, errno, error);
  fp = fdopen (fd, "wb");
  if (fp == NULL)
    {
      int saved_errno = errno;

      close (fd);
      g_unlink (temp);
      return io_error (path, TRUE, saved_errno, error);
    }

  row = g_malloc ((gsize) image->width * image->channels * 2);
  ok = encode (fp, &state, image, row);
  if (fflush (fp) != 0 || fsync (fileno (fp)) != 0)
    {
      int saved_errno = errno;

      fclose (fp);
      g_unlink (temp);
      return io_error (path, TRUE, saved_errno, error);
    }
  fclose (fp);
  if (!ok)
    {
      g_autofree char *base = g_path_get_basename (path);

      g_unlink (temp);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s: %s"), base,
                   state.message);
      return FALSE;
    }
  if (g_rename (temp, path) != 0)
    {
      int saved_errno = errno;

      g_unlink (temp);
      return io_error (path, TRUE, saved_errno, error);
    }
  return TRUE;
}

/* Rectangles --------------------------------------------------------------------------- */

static gboolean
fits (const KilnImage *image,
      guint            x,
      guint            y,
      guint            width,
      guint            height)
{
  return x <= image->width && width <= image->width - x &&
         y <= image->height && height <= image->height - y;
}

KilnImage *
kiln_image_crop (const KilnImage *image,
                 guint            x,
                 guint            y,
                 guint            width,
                 guint            height)
{
  KilnImage *crop;

  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0 && fits (image, x, y, width, height), NULL);

  crop = kiln_image_new (width, height, image->channels, image->depth);
  for (guint row = 0; row < height; row++)
    memcpy (kiln_image_get_row (crop, row),
            kiln_image_peek_row (image, y + row) + (gsize) x * image->channels,
            (gsize) width * image->channels * sizeof (guint16));
  return crop;
}

void
kiln_image_paste (KilnImage       *dest,
                  const KilnImage *source,
                  guint            x,
                  guint            y)
{
  g_return_if_fail (dest != NULL && source != NULL);
  g_return_if_fail (dest->channels == source->channels && dest->depth == source->depth);
  g_return_if_fail (fits (dest, x, y, source->width, source->height));

  for (guint row = 0; row < source->height; row++)
    memcpy (kiln_image_get_row (dest, y + row) + (gsize) x * dest->channels,
            kiln_image_peek_row (source, row),
            (gsize) source->width * source->channels * sizeof (guint16));
}

void
kiln_image_compare (const KilnImage *a,
                    guint            ax,
                    guint            ay,
                    const KilnImage *b,
                    guint            bx,
                    guint            by,
                    guint            width,
                    guint            height,
                    KilnImageDiff   *diff)
{
  double scale_a, scale_b, sum = 0;
  gsize n;

  g_return_if_fail (a != NULL && b != NULL && diff != NULL);
  g_return_if_fail (a->channels == b->channels);
  g_return_if_fail (fits (a, ax, ay, width, height) && fits (b, bx, by, width, height));

  memset (diff, 0, sizeof *diff);
  scale_a = 1.0 / ((1u << a->depth) - 1);
  scale_b = 1.0 / ((1u << b->depth) - 1);
  n = (gsize) width * a->channels;
  for (guint row = 0; row < height; row++)
    {
      const guint16 *pa = kiln_image_peek_row (a, ay + row) + (gsize) ax * a->channels;
      const guint16 *pb = kiln_image_peek_row (b, by + row) + (gsize) bx * b->channels;

      for (gsize i = 0; i < n; i++)
        {
          double d = fabs (pa[i] * scale_a - pb[i] * scale_b);

          sum += d * d;
          if (d > 0)
            diff->differing++;
          diff->max_diff = MAX (diff->max_diff, d);
        }
    }
  diff->values = (guint64) n * height;
  diff->mse = diff->values > 0 ? sum / diff->values : 0;
  diff->psnr = diff->mse > 0 ? 10 * log10 (1.0 / diff->mse) : G_MAXDOUBLE;
}
