/* kiln-identicon.h: the "blockies" identicon of an Ethereum address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define KILN_IDENTICON_GRID_SIZE 8

typedef enum
{
  KILN_IDENTICON_CELL_BACKGROUND = 0,
  KILN_IDENTICON_CELL_COLOR      = 1,
  KILN_IDENTICON_CELL_SPOT       = 2,
} KilnIdenticonCell;

typedef struct
{
  /* Row-major, KILN_IDENTICON_GRID_SIZE × KILN_IDENTICON_GRID_SIZE, each row mirrored. */
  guint8  cells[KILN_IDENTICON_GRID_SIZE * KILN_IDENTICON_GRID_SIZE];
  GdkRGBA color;
  GdkRGBA background;
  GdkRGBA spot;
} KilnIdenticon;

/* The same pattern and colors as the blockies identicons that Ethereum wallets and block
 * explorers show; @address is compared without regard to case. */
void        kiln_identicon_compute      (const char    *address,
                                         KilnIdenticon *out);

/* A @size × @size pixel image of the identicon. */
GdkTexture *kiln_identicon_new_texture  (const char    *address,
                                         int            size);

G_END_DECLS
