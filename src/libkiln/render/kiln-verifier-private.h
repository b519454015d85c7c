/* kiln-verifier-private.h: the verifier's Blender, kept running between verifications
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-verifier.c          the object: drawing and choosing crops, checking and comparing
 * kiln-verifier-blender.c  rendering crops in a sandboxed Blender that keeps the scene loaded
 */
#pragma once

#include <gio/gio.h>

#include "kiln-blender.h"
#include "kiln-sandbox.h"
#include "kiln-verifier.h"

G_BEGIN_DECLS

/* One Blender per scene file, started in the sandbox on the first request for that scene,
 * loading the scene and building what Cycles needs once, then rendering the crops of each
 * request in turn with persistent data; it is stopped when no request has come for
 * KILN_VERIFIER_KEEP_WARM seconds, when a request is cancelled or runs out of time, and
 * when the renderer is freed. Use from the main thread. */
typedef struct _KilnCropRenderer KilnCropRenderer;

KilnCropRenderer *kiln_crop_renderer_new          (KilnBlender          *blender,
                                                   KilnSandbox          *sandbox);
/* Stops every Blender; requests still waiting fail with G_IO_ERROR_CANCELLED. */
void              kiln_crop_renderer_free         (KilnCropRenderer     *self);

/* Renders @crops (rectangles of the whole @width × @height frame, rows from the top) of
 * @frame of @blend_file with @samples, each into crop-N.png of a new folder, and completes
 * with that folder (the caller deletes it). Errors: G_IO_ERROR_CANCELLED,
 * G_IO_ERROR_TIMED_OUT (KILN_VERIFIER_TIME_LIMIT or the sandbox's time limit passed),
 * KILN_RENDER_ERROR_FAILED (Blender failed: the message says why). */
void              kiln_crop_renderer_render_async (KilnCropRenderer     *self,
                                                   const char           *blend_file,
                                                   int                   frame,
                                                   guint                 width,
                                                   guint                 height,
                                                   guint                 samples,
                                                   GArray               *crops,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
char             *kiln_crop_renderer_render_finish (GAsyncResult        *result,
                                                    GError             **error);

/* How many Blenders run now (for tests). */
guint             kiln_crop_renderer_get_n_running (KilnCropRenderer    *self);

G_END_DECLS
