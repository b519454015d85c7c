/* kiln-scene-info.h: what a .blend file asks for, read by Blender in the sandbox
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-blender.h"
#include "kiln-image-check.h"
#include "kiln-sandbox.h"

G_BEGIN_DECLS

#define KILN_SCENE_ERROR (kiln_scene_error_quark ())

typedef enum
{
  KILN_SCENE_ERROR_NOT_BLEND,           /* the file is not a Blender file at all */
  KILN_SCENE_ERROR_UNREADABLE,          /* Blender could not read it (truncated, corrupt) */
  KILN_SCENE_ERROR_UNSUPPORTED_ENGINE,  /* rendered with an engine providers do not offer */
  KILN_SCENE_ERROR_NO_CAMERA,           /* nothing to render from */
  KILN_SCENE_ERROR_MISSING_FILES,       /* it refers to files that are not there */
  KILN_SCENE_ERROR_FAILED,              /* Blender failed for another reason */
} KilnSceneError;

GQuark kiln_scene_error_quark (void);

/* How long inspection may take unless the sandbox has a time limit of its own. */
#define KILN_SCENE_INSPECT_TIME_LIMIT 60

/* The render engine providers offer: Cycles on the CPU. */
#define KILN_SCENE_ENGINE_CYCLES "CYCLES"

typedef enum
{
  KILN_SCENE_FILE_IMAGE,      /* image textures, image sequences, UDIM tiles */
  KILN_SCENE_FILE_MOVIE,      /* movie clips and movie textures */
  KILN_SCENE_FILE_LIBRARY,    /* linked .blend libraries */
  KILN_SCENE_FILE_CACHE,      /* Alembic/USD caches, point caches, fluid caches */
  KILN_SCENE_FILE_VOLUME,     /* OpenVDB volumes */
  KILN_SCENE_FILE_FONT,       /* fonts of text objects */
} KilnSceneFileKind;

/* An external file the scene refers to (packed files are not external). */
typedef struct
{
  KilnSceneFileKind  kind;
  char              *path;        /* absolute, in the file system's encoding */
  gboolean           directory;   /* a cache folder rather than a file */
  gboolean           missing;     /* not on this computer */
} KilnSceneFile;

#define KILN_TYPE_SCENE_FILE (kiln_scene_file_get_type ())

GType          kiln_scene_file_get_type (void) G_GNUC_CONST;
KilnSceneFile *kiln_scene_file_copy     (const KilnSceneFile *file);
void           kiln_scene_file_free     (KilnSceneFile       *file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnSceneFile, kiln_scene_file_free)

#define KILN_TYPE_SCENE_INFO (kiln_scene_info_get_type ())

G_DECLARE_FINAL_TYPE (KilnSceneInfo, kiln_scene_info, KILN, SCENE_INFO, GObject)

/* Reads @blend_file's active scene. First, without Blender, the file must start
 * like a Blender file ("BLENDER", or a zstd or gzip stream holding one); then
 *   blender --background --factory-startup --disable-autoexec FILE --python SCRIPT
 * runs in @sandbox (NULL: a default one) with Kiln's own script: the scene's
 * scripts never run. It is killed after the sandbox's time limit, or
 * KILN_SCENE_INSPECT_TIME_LIMIT seconds when it has none, and when @cancellable
 * is cancelled. Which external files are missing is checked on this computer,
 * outside the sandbox. Call from the main thread.
 *
 * Errors: G_IO_ERROR_NOT_FOUND (no such file), KILN_SCENE_ERROR_NOT_BLEND,
 * KILN_SCENE_ERROR_UNREADABLE, KILN_SCENE_ERROR_FAILED, G_IO_ERROR_TIMED_OUT,
 * G_IO_ERROR_CANCELLED. A scene that loads but cannot be rendered by providers
 * is not an error here: see kiln_scene_info_check(). */
void           kiln_scene_inspect_async                (KilnBlender         *blender,
                                                        KilnSandbox         *sandbox,
                                                        const char          *blend_file,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
KilnSceneInfo *kiln_scene_inspect_finish               (GAsyncResult        *result,
                                                        GError             **error);

/* Whether the first bytes of a file are those of a .blend (plain, zstd or gzip).
 * KILN_SCENE_ERROR_NOT_BLEND says why not. Blocking: reads a few kilobytes. */
gboolean       kiln_scene_check_blend_header           (const char          *blend_file,
                                                        GError             **error);

/* Whether providers can render the scene as it is; the error says what to change
 * in Blender: KILN_SCENE_ERROR_UNSUPPORTED_ENGINE (only Cycles is accepted),
 * KILN_SCENE_ERROR_NO_CAMERA, KILN_SCENE_ERROR_MISSING_FILES. */
gboolean       kiln_scene_info_check                   (KilnSceneInfo       *self,
                                                        GError             **error);

const char    *kiln_scene_info_get_path                (KilnSceneInfo       *self);
const char    *kiln_scene_info_get_scene_name          (KilnSceneInfo       *self);
/* The Blender version that saved the file ("3.4.1"). */
const char    *kiln_scene_info_get_file_version        (KilnSceneInfo       *self);

int            kiln_scene_info_get_frame_start         (KilnSceneInfo       *self);
int            kiln_scene_info_get_frame_end           (KilnSceneInfo       *self);
int            kiln_scene_info_get_frame_step          (KilnSceneInfo       *self);
/* Frames per second (fps / fps_base: 29.97 for NTSC). */
double         kiln_scene_info_get_fps                 (KilnSceneInfo       *self);

guint          kiln_scene_info_get_resolution_x        (KilnSceneInfo       *self);
guint          kiln_scene_info_get_resolution_y        (KilnSceneInfo       *self);
guint          kiln_scene_info_get_resolution_percentage (KilnSceneInfo     *self);
/* The size of the rendered image: resolution × percentage, as Blender rounds it. */
void           kiln_scene_info_get_output_size         (KilnSceneInfo       *self,
                                                        guint               *width,
                                                        guint               *height);

/* Blender's name of the engine: "CYCLES", "BLENDER_EEVEE", "BLENDER_WORKBENCH", … */
const char    *kiln_scene_info_get_engine              (KilnSceneInfo       *self);
/* Samples per pixel of the scene's engine (Cycles: render samples). */
guint          kiln_scene_info_get_samples             (KilnSceneInfo       *self);
/* Whether the scene asks for denoising (Cycles' or the compositor's). */
gboolean       kiln_scene_info_get_uses_denoising      (KilnSceneInfo       *self);
/* Whether compositing nodes change the rendered image (so strips, rendered
 * and composited one by one, may not join seamlessly). */
gboolean       kiln_scene_info_get_uses_compositing    (KilnSceneInfo       *self);

/* Blender's name of the output format: "PNG", "OPEN_EXR", "FFMPEG", … */
const char    *kiln_scene_info_get_file_format         (KilnSceneInfo       *self);
/* The format subtasks use: the scene's when providers can write it, else PNG
 * (FALSE then, so that the person can be told). */
gboolean       kiln_scene_info_get_image_format        (KilnSceneInfo       *self,
                                                        KilnImageFormat     *format);

gboolean       kiln_scene_info_get_has_camera          (KilnSceneInfo       *self);

/* KilnSceneFile * elements, each path once, in the order Blender lists them. */
GPtrArray     *kiln_scene_info_get_files               (KilnSceneInfo       *self);
guint          kiln_scene_info_get_n_missing_files     (KilnSceneInfo       *self);

G_END_DECLS
