/* kiln-image-check.c: is a rendered file a complete image of the right size?
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <png.h>

#include "kiln-image-check.h"

const char *
kiln_image_format_get_blender_name (KilnImageFormat format)
{
  switch (format)
    {
    case KILN_IMAGE_FORMAT_PNG:
      return "PNG";
    case KILN_IMAGE_FORMAT_OPEN_EXR:
      return "OPEN_EXR";
    default:
      g_return_val_if_reached (NULL);
    }
}

const char *
kiln_image_format_get_extension (KilnImageFormat format)
{
  switch (format)
    {
    case KILN_IMAGE_FORMAT_PNG:
      return ".png";
    case KILN_IMAGE_FORMAT_OPEN_EXR:
      return ".exr";
    default:
      g_return_val_if_reached (NULL);
    }
}

gboolean
kiln_image_format_from_blender_name (const char      *name,
                                     KilnImageFormat *format)
{
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (format != NULL, FALSE);

  if (g_str_equal (name, "PNG"))
    *format = KILN_IMAGE_FORMAT_PNG;
  else if (g_str_equal (name, "OPEN_EXR"))
    *format = KILN_IMAGE_FORMAT_OPEN_EXR;
  else
    return FALSE;
  return TRUE;
}

static gboolean
wrong_size (const char  *path,
            guint        actual_width,
            guint        actual_height,
            guint        width,
            guint        height,
            GError     **error)
{
  g_autofree char *name = g_path_get_basename (path);

  if (actual_width == width && actual_height == height)
    return FALSE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The rendered image %s is %u×%u pixels instead of %u×%u"),
               name, actual_width, actual_height, width, height);
  return TRUE;
}

static gboolean
invalid (const char  *path,
         const char  *format,
         const char  *reason,
         GError     **error)
{
  g_autofree char *name = g_path_get_basename (path);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The rendered image %s is not a complete %s file (%s)"), name, format, reason);
  return FALSE;
}

/* PNG: decoded row by row with libpng ---------------------------------------------- */

typedef struct
{
  jmp_buf  jump;
  char     message[128];
  png_byte *row;
} PngDecode;

static void
png_error_cb (png_structp     png,
              png_const_charp message)
{
  PngDecode *decode = png_get_error_ptr (png);

  g_strlcpy (decode->message, message, sizeof decode->message);
  longjmp (decode->jump, 1);
}

static void
png_warning_cb (png_structp     png,
                png_const_charp message)
{
}

/* Decodes the whole file; fills @width and @height from IHDR. FALSE with
 * decode->message on a libpng error. */
static gboolean
png_decode (FILE      *fp,
            PngDecode *decode,
            guint     *width,
            guint     *height)
{
  png_structp png;
  png_infop info;
  volatile gboolean ok = FALSE;

  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, decode, png_error_cb, png_warning_cb);
  if (png == NULL)
    {
      g_strlcpy (decode->message, "out of memory", sizeof decode->message);
      return FALSE;
    }
  info = png_create_info_struct (png);
  if (info == NULL)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      g_strlcpy (decode->message, "out of memory", sizeof decode->message);
      return FALSE;
    }

  if (setjmp (decode->jump) == 0)
    {
      int passes;

      png_init_io (png, fp);
      png_read_info (png, info);
      *width = png_get_image_width (png, info);
      *height = png_get_image_height (png, info);
      passes = png_set_interlace_handling (png);
      png_read_update_info (png, info);
      decode->row = g_malloc (png_get_rowbytes (png, info));
      for (int pass = 0; pass < passes; pass++)
        for (guint y = 0; y < *height; y++)
          png_read_row (png, decode->row, NULL);
      png_read_end (png, NULL);
      ok = TRUE;
    }

  g_clear_pointer (&decode->row, g_free);
  png_destroy_read_struct (&png, &info, NULL);
  return ok;
}

static gboolean
check_png (const char  *path,
           FILE        *fp,
           guint        width,
           guint        height,
           GError     **error)
{
  PngDecode decode = { 0 };
  png_byte signature[8];
  guint actual_width = 0;
  guint actual_height = 0;

  if (fread (signature, 1, sizeof signature, fp) != sizeof signature ||
      png_sig_cmp (signature, 0, sizeof signature) != 0)
    return invalid (path, "PNG", _("no PNG signature"), error);
  rewind (fp);

  if (!png_decode (fp, &decode, &actual_width, &actual_height))
    {
      /* A size mismatch says more than the decoding error that follows it. */
      if (actual_width != 0 && wrong_size (path, actual_width, actual_height, width, height,
                                           error))
        return FALSE;
      return invalid (path, "PNG", decode.message, error);
    }
  return !wrong_size (path, actual_width, actual_height, width, height, error);
}

/* OpenEXR: header, data window, offset table and chunk headers --------------------- */

#define EXR_MAGIC            0x01312f76u
#define EXR_FLAG_TILED       0x200u
#define EXR_FLAG_LONG_NAMES  0x400u
#define EXR_FLAG_DEEP        0x800u
#define EXR_FLAG_MULTIPART   0x1000u
#define EXR_MAX_HEADER       (16 * 1024 * 1024)

static guint32
read_le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static guint64
read_le64 (const guint8 *p)
{
  return (guint64) read_le32 (p) | (guint64) read_le32 (p + 4) << 32;
}

static int
exr_lines_per_chunk (guint8 compression)
{
  static const int lines[] = {
    1,    /* NONE */
    1,    /* RLE */
    1,    /* ZIPS */
    16,   /* ZIP */
    32,   /* PIZ */
    16,   /* PXR24 */
    32,   /* B44 */
    32,   /* B44A */
    32,   /* DWAA */
    256,  /* DWAB */
  };

  return compression < G_N_ELEMENTS (lines) ? lines[compression] : 0;
}

typedef struct
{
  gint32 x_min, y_min, x_max, y_max;
  int    compression;   /* -1 until seen */
  gsize  header_end;
} ExrHeader;

/* Reads attributes until the empty name; reads more of the file as needed. */
static const char *
exr_parse_header (FILE      *fp,
                  ExrHeader *header)
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  guint name_max;
  gboolean seen_window = FALSE;
  gsize pos = 8;

  g_byte_array_set_size (buf, 64 * 1024);
  g_byte_array_set_size (buf, fread (buf->data, 1, buf->len, fp));
  if (buf->len < 8 || read_le32 (buf->data) != EXR_MAGIC)
    return _("no OpenEXR signature");

  {
    guint32 version = read_le32 (buf->data + 4);

    if ((version & 0xff) != 2)
      return _("unknown OpenEXR version");
    if (version & (EXR_FLAG_TILED | EXR_FLAG_DEEP | EXR_FLAG_MULTIPART))
      return _("not a single-part scanline image");
    name_max = (version & EXR_FLAG_LONG_NAMES) ? 255 : 31;
  }

  header->compression = -1;
  for (;;)
    {
      const char *name, *type;
      gsize name_len, type_len;
      guint32 size;

      /* Make sure a whole attribute head (two names and a size) is buffered. */
      if (buf->len - pos < 2 * (name_max + 1) + 4 && !feof (fp))
        {
          gsize old = buf->len;

          if (old >= EXR_MAX_HEADER)
            return _("header too large");
          g_byte_array_set_size (buf, old * 2);
          g_byte_array_set_size (buf, old + fread (buf->data + old, 1, old, fp));
          continue;
        }
      if (pos >= buf->len)
        return _("header cut short");
      if (buf->data[pos] == 0)
        {
          header->header_end = pos + 1;
          break;
        }

      name = (const char *) buf->data + pos;
      name_len = strnlen (name, MIN (buf->len - pos, name_max + 1));
      if (name_len > name_max || pos + name_len + 1 >= buf->len)
        return _("bad attribute name");
      type = name + name_len + 1;
      type_len = strnlen (type, MIN (buf->len - (pos + name_len + 1), name_max + 1));
      if (type_len == 0 || type_len > name_max || pos + name_len + type_len + 6 > buf->len)
        return _("bad attribute type");
      size = read_le32 ((const guint8 *) type + type_len + 1);
      pos += name_len + 1 + type_len + 1 + 4;
      if (size > EXR_MAX_HEADER)
        return _("attribute too large");

      while (buf->len - pos < size && !feof (fp) && buf->len < EXR_MAX_HEADER)
        {
          gsize old = buf->len;

          g_byte_array_set_size (buf, old * 2);
          g_byte_array_set_size (buf, old + fread (buf->data + old, 1, old, fp));
        }
      if (buf->len - pos < size)
        return _("header cut short");

      if (g_str_equal (name, "dataWindow"))
        {
          if (!g_str_equal (type, "box2i") || size != 16)
            return _("bad data window");
          header->x_min = (gint32) read_le32 (buf->data + pos);
          header->y_min = (gint32) read_le32 (buf->data + pos + 4);
          header->x_max = (gint32) read_le32 (buf->data + pos + 8);
          header->y_max = (gint32) read_le32 (buf->data + pos + 12);
          seen_window = TRUE;
        }
      else if (g_str_equal (name, "compression"))
        {
          if (!g_str_equal (type, "compression") || size != 1)
            return _("bad compression attribute");
          header->compression = buf->data[pos];
        }
      pos += size;
    }

  if (!seen_window || header->x_max < header->x_min || header->y_max < header->y_min)
    return _("no data window");
  if (header->compression < 0 || exr_lines_per_chunk (header->compression) == 0)
    return _("unknown compression");
  return NULL;
}

static gboolean
check_exr (const char  *path,
           FILE        *fp,
           guint        width,
           guint        height,
           GError     **error)
{
  ExrHeader header = { 0 };
  const char *problem;
  guint64 actual_width, actual_height, chunks, file_size, table_end;
  int lines;
  struct stat st;

  problem = exr_parse_header (fp, &header);
  if (problem != NULL)
    return invalid (path, "OpenEXR", problem, error);

  actual_width = (guint64) ((gint64) header.x_max - header.x_min + 1);
  actual_height = (guint64) ((gint64) header.y_max - header.y_min + 1);
  if (actual_width > G_MAXUINT || actual_height > G_MAXUINT)
    return invalid (path, "OpenEXR", _("absurd data window"), error);
  if (wrong_size (path, actual_width, actual_height, width, height, error))
    return FALSE;

  if (fstat (fileno (fp), &st) != 0)
    return invalid (path, "OpenEXR", g_strerror (errno), error);
  file_size = st.st_size;

  lines = exr_lines_per_chunk (header.compression);
  chunks = (actual_height + lines - 1) / lines;
  table_end = header.header_end + chunks * 8;
  if (table_end > file_size)
    return invalid (path, "OpenEXR", _("offset table cut short"), error);

  for (guint64 i = 0; i < chunks; i++)
    {
      guint8 entry[8], chunk_head[8];
      guint64 offset;
      gint32 y;
      guint32 size;

      if (fseeko (fp, header.header_end + i * 8, SEEK_SET) != 0 ||
          fread (entry, 1, 8, fp) != 8)
        return invalid (path, "OpenEXR", _("offset table cut short"), error);
      offset = read_le64 (entry);
      if (offset < table_end || offset > file_size - 8)
        return invalid (path, "OpenEXR", _("line chunk outside the file"), error);
      if (fseeko (fp, offset, SEEK_SET) != 0 || fread (chunk_head, 1, 8, fp) != 8)
        return invalid (path, "OpenEXR", _("line chunk cut short"), error);
      y = (gint32) read_le32 (chunk_head);
      size = read_le32 (chunk_head + 4);
      if (y < header.y_min || y > header.y_max || (y - header.y_min) % lines != 0)
        return invalid (path, "OpenEXR", _("line chunk for the wrong lines"), error);
      if (size == 0 || offset + 8 + size > file_size)
        return invalid (path, "OpenEXR", _("line chunk cut short"), error);
    }
  return TRUE;
}

gboolean
kiln_image_check_file (const char       *path,
                       KilnImageFormat   format,
                       guint             width,
                       guint             height,
                       GError          **error)
{
  FILE *fp;
  gboolean ok;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (width > 0 && height > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  fp = g_fopen (path, "rbe");
  if (fp == NULL)
    {
      int saved_errno = errno;
      g_autofree char *name = g_path_get_basename (path);

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("The rendered image %s cannot be opened: %s"),
                   name, g_strerror (saved_errno));
      return FALSE;
    }

  switch (format)
    {
    case KILN_IMAGE_FORMAT_PNG:
      ok = check_png (path, fp, width, height, error);
      break;
    case KILN_IMAGE_FORMAT_OPEN_EXR:
      ok = check_exr (path, fp, width, height, error);
      break;
    default:
      g_critical ("Unknown image format %d", format);
      ok = FALSE;
      break;
    }
  fclose (fp);
  return ok;
}
