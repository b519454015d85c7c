/* kiln-blender-private.h: shared between kiln-blender.c and kiln-blender-benchmark.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "kiln-blender.h"

G_BEGIN_DECLS

/* Runs @argv (a trusted Blender) in the calling thread and returns its merged
 * output; kills it past @timeout_seconds or when cancelled; fails on a non-zero
 * exit with the last line it printed. @on_host: @argv is a program of the
 * computer outside Kiln's Flatpak, started with flatpak-spawn --host. */
char       *kiln_blender_run_captured       (const char * const  *argv,
                                             gboolean             on_host,
                                             guint                timeout_seconds,
                                             GCancellable        *cancellable,
                                             GError             **error);
/* The JSON object printed after @marker on a line of its own. */
JsonObject *kiln_blender_find_marked_json   (const char          *output,
                                             const char          *marker,
                                             GError             **error);
/* The member @name when it is an object, else NULL (without json-glib's warning). */
JsonObject *kiln_blender_json_object_member (JsonObject          *object,
                                             const char          *name);
/* Records a measured or cached score; notifies "benchmark-score" on change. */
void        kiln_blender_set_benchmark      (KilnBlender         *self,
                                             double               score,
                                             guint                threads);

G_END_DECLS
