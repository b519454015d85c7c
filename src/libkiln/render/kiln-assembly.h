/* kiln-assembly.h: joining the strips of one frame into the whole image
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-job-plan.h"

G_BEGIN_DECLS

/* Joins the PNG strips @paths[i], rendered for @strips[i] (KilnSubtask *, any
 * order), into one PNG at @output. The strips must belong to one frame of one
 * job, span the frame's width, tile its rows without gap or overlap, and each
 * image must have its strip's size and the same channels and bit depth as the
 * others; G_IO_ERROR_INVALID_DATA says which does not. Pixels are copied as they
 * are. @output is replaced only once it is completely written. Blocking. */
gboolean kiln_assemble_strips        (GPtrArray            *strips,
                                      const char * const   *paths,
                                      const char           *output,
                                      GError              **error);

/* The same in a worker thread. */
void     kiln_assemble_strips_async  (GPtrArray            *strips,
                                      const char * const   *paths,
                                      const char           *output,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
gboolean kiln_assemble_strips_finish (GAsyncResult         *result,
                                      GError              **error);

G_END_DECLS
