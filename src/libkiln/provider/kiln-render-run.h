/* kiln-render-run.h: one subtask rendered by Blender inside the sandbox
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-blender.h"
#include "kiln-blender-output.h"
#include "kiln-image-check.h"
#include "kiln-sandbox.h"

G_BEGIN_DECLS

#define KILN_RENDER_ERROR (kiln_render_error_quark ())

typedef enum
{
  KILN_RENDER_ERROR_INVALID,         /* the subtask's settings cannot be rendered */
  KILN_RENDER_ERROR_SANDBOX,         /* the sandbox could not be set up or started */
  KILN_RENDER_ERROR_UNREADABLE,      /* Blender could not read the scene */
  KILN_RENDER_ERROR_MISSING_FILES,   /* the scene refers to files that are not there */
  KILN_RENDER_ERROR_SETUP_FAILED,    /* the render settings could not be applied */
  KILN_RENDER_ERROR_OUT_OF_MEMORY,   /* the scene needs more memory than allowed */
  KILN_RENDER_ERROR_TIMED_OUT,       /* the time limit passed */
  KILN_RENDER_ERROR_CRASHED,         /* Blender died */
  KILN_RENDER_ERROR_FAILED,          /* Blender reported an error and rendered nothing */
  KILN_RENDER_ERROR_BAD_OUTPUT,      /* a frame is missing, incomplete or the wrong size */
} KilnRenderError;

GQuark kiln_render_error_quark (void);

/* What to render: one subtask. */
typedef struct
{
  char            *blend_file;      /* absolute; its folder is visible read-only */
  char            *output_dir;      /* absolute, existing; the only writable place */
  int              frame_start;     /* frames frame_start..frame_end, every */
  int              frame_end;       /*   frame_step-th (see frame_step below) */
  guint            width;           /* full frame resolution in pixels (100 %) */
  guint            height;
  guint            samples;         /* Cycles samples per pixel */
  gboolean         use_border;      /* render only a strip: */
  guint            border_x;        /*   left edge, pixels from the left */
  guint            border_y;        /*   top edge, pixels from the top */
  guint            border_width;
  guint            border_height;
  KilnImageFormat  format;
  gboolean         denoise;         /* honoured only when Blender has OpenImageDenoise */
  gboolean         allow_missing_files;
  int              frame_step;      /* 1 renders every frame; 0 counts as 1 */
} KilnRenderSpec;

#define KILN_TYPE_RENDER_SPEC (kiln_render_spec_get_type ())

GType           kiln_render_spec_get_type (void) G_GNUC_CONST;
KilnRenderSpec *kiln_render_spec_new      (void);
KilnRenderSpec *kiln_render_spec_copy     (const KilnRenderSpec *spec);
void            kiln_render_spec_free     (KilnRenderSpec       *spec);
/* Checks ranges and paths; KILN_RENDER_ERROR_INVALID says what is wrong. */
gboolean        kiln_render_spec_validate (const KilnRenderSpec *spec,
                                           GError              **error);
/* The size of each output image: the border's when rendering a strip. */
void            kiln_render_spec_get_output_size (const KilnRenderSpec *spec,
                                                  guint                *width,
                                                  guint                *height);
/* How many frames the spec renders: frame_start, frame_start + step, … up to
 * frame_end. */
guint           kiln_render_spec_get_frame_count (const KilnRenderSpec *spec);
/* The path Blender writes @frame to: OUTPUT_DIR/frame_0001.png. */
char           *kiln_render_spec_get_output_path (const KilnRenderSpec *spec,
                                                  int                   frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnRenderSpec, kiln_render_spec_free)

#define KILN_TYPE_RENDER_RUN (kiln_render_run_get_type ())

G_DECLARE_FINAL_TYPE (KilnRenderRun, kiln_render_run, KILN, RENDER_RUN, GObject)

/* Renders @spec with @blender inside @sandbox's profile and limits:
 *   blender --background --factory-startup --disable-autoexec -noaudio
 *           --threads N --python-exit-code 3 SCENE --python SETUP --render-anim -- PARAMS
 * where SETUP is Kiln's own script, written into the output folder and mounted
 * read-only there, which sets engine (Cycles on the CPU), resolution, samples,
 * border, denoising, output format and path and frame range from PARAMS (JSON),
 * turns dithering off (so strips and crops match the full frame bit for bit)
 * and lists missing external files. The scene's own scripts never run.
 *
 * Signals: "event" (KilnBlenderEvent *) for every line Blender prints,
 * "progress" (frame, sample, samples, fraction 0..1) as samples complete.
 * Properties "fraction" and "frame" follow the same. */
KilnRenderRun  *kiln_render_run_new           (KilnSandbox          *sandbox,
                                               KilnBlender          *blender,
                                               const KilnRenderSpec *spec);

const KilnRenderSpec *kiln_render_run_get_spec (KilnRenderRun       *self);
double          kiln_render_run_get_fraction  (KilnRenderRun        *self);
int             kiln_render_run_get_frame     (KilnRenderRun        *self);
/* Everything Blender printed, summed up (valid during and after the run). */
KilnBlenderOutput *kiln_render_run_get_output (KilnRenderRun        *self);

/* Starts the render (once per object). Completes when Blender and the whole
 * sandbox are gone: with the paths of the output images, in frame order, each
 * checked to exist, decode and have the expected size; or with an error
 * (KILN_RENDER_ERROR, or G_IO_ERROR_CANCELLED). Cancelling @cancellable, or
 * kiln_render_run_cancel(), kills the whole sandbox. Call from the main thread. */
void            kiln_render_run_execute_async  (KilnRenderRun       *self,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
GStrv           kiln_render_run_execute_finish (KilnRenderRun       *self,
                                                GAsyncResult        *result,
                                                GError             **error);

void            kiln_render_run_cancel        (KilnRenderRun        *self);

/* The sandbox's first process while the render runs, 0 before and after. It leads
 * its own process group; the processes inside the sandbox are its descendants. */
GPid            kiln_render_run_get_pid       (KilnRenderRun        *self);

G_END_DECLS
