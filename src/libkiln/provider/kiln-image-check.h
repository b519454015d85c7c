/* kiln-image-check.h: is a rendered file a complete image of the right size?
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The output formats a subtask may ask for. */
typedef enum
{
  KILN_IMAGE_FORMAT_PNG,
  KILN_IMAGE_FORMAT_OPEN_EXR,
} KilnImageFormat;

/* Blender's name for the format ("PNG", "OPEN_EXR") and the file extension it
 * writes (".png", ".exr"). */
const char *kiln_image_format_get_blender_name (KilnImageFormat  format);
const char *kiln_image_format_get_extension    (KilnImageFormat  format);
/* From Blender's name; FALSE for formats subtasks cannot use. */
gboolean    kiln_image_format_from_blender_name (const char      *name,
                                                 KilnImageFormat *format);

/* Checks that @path holds a whole image of @format, @width × @height pixels.
 * PNG is decoded completely (every row, every CRC, up to IEND). OpenEXR is checked
 * structurally: a single-part scanline file whose data window has the right size,
 * whose compression is known, and whose every line chunk lies inside the file at
 * the place the offset table says (pixels are not decompressed).
 * Errors: G_IO_ERROR_NOT_FOUND, G_IO_ERROR_INVALID_DATA (wrong format, truncated,
 * corrupt, wrong size). Blocking; fast for render-sized files. */
gboolean    kiln_image_check_file              (const char      *path,
                                                KilnImageFormat  format,
                                                guint            width,
                                                guint            height,
                                                GError         **error);

G_END_DECLS
