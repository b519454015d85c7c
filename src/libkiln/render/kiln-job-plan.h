/* kiln-job-plan.h: splitting a job into subtasks providers render
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "kiln-frame-spec.h"
#include "kiln-image-check.h"
#include "kiln-render-run.h"

G_BEGIN_DECLS

/* Strips are at least this many rows high. */
#define KILN_JOB_PLAN_MIN_STRIP_ROWS 8
/* The most subtasks one job may have. */
#define KILN_JOB_PLAN_MAX_SUBTASKS   100000u

/* One subtask: frames frame_start, frame_start + frame_step, … frame_end of a
 * width × height image, or one strip of one frame (a band of whole rows: Blender's
 * border render, cropped to the border). What a provider is sent; the scene file
 * and the output folder are the provider's own. */
typedef struct
{
  guint            index;          /* position in its plan */
  int              frame_start;
  int              frame_end;
  int              frame_step;     /* ≥ 1 */
  guint            width;          /* the full frame, in pixels */
  guint            height;
  guint            samples;        /* Cycles samples per pixel */
  KilnImageFormat  format;
  gboolean         use_border;     /* a strip (or any rectangle) of the frame: */
  guint            border_x;       /*   left edge, pixels from the left */
  guint            border_y;       /*   top edge, pixels from the top */
  guint            border_width;
  guint            border_height;
} KilnSubtask;

#define KILN_TYPE_SUBTASK (kiln_subtask_get_type ())

GType           kiln_subtask_get_type         (void) G_GNUC_CONST;
KilnSubtask    *kiln_subtask_new              (void);
KilnSubtask    *kiln_subtask_copy             (const KilnSubtask *subtask);
void            kiln_subtask_free             (KilnSubtask       *subtask);

guint           kiln_subtask_get_n_frames     (const KilnSubtask *subtask);
/* The size of each image the subtask produces (the border's for a strip). */
void            kiln_subtask_get_output_size  (const KilnSubtask *subtask,
                                               guint             *width,
                                               guint             *height);
/* Checks every field (the same limits a provider applies). G_IO_ERROR_INVALID_DATA
 * says which one is wrong. */
gboolean        kiln_subtask_validate         (const KilnSubtask *subtask,
                                               GError           **error);

/* {"index": 0, "frames": {"start": 1, "end": 9, "step": 2}, "width": 1920,
 *  "height": 1080, "samples": 128, "format": "PNG",
 *  "border": {"x": 0, "y": 270, "width": 1920, "height": 270}} ("border" only for
 * strips). Reading is strict: unknown formats, missing or mistyped members and
 * out-of-range values are G_IO_ERROR_INVALID_DATA. */
JsonNode       *kiln_subtask_to_json          (const KilnSubtask *subtask);
KilnSubtask    *kiln_subtask_new_from_json    (JsonNode          *node,
                                               GError           **error);

/* What KilnRenderRun executes for this subtask on a provider: @blend_file and
 * @output_dir are the provider's. Denoising is off: Kiln renders without it. */
KilnRenderSpec *kiln_subtask_to_render_spec   (const KilnSubtask *subtask,
                                               const char        *blend_file,
                                               const char        *output_dir);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnSubtask, kiln_subtask_free)

typedef enum
{
  KILN_JOB_PLAN_FLAGS_NONE      = 0,
  /* Never split a frame into strips (for scenes whose compositing looks at
   * neighbouring pixels). */
  KILN_JOB_PLAN_FLAGS_NO_STRIPS = 1 << 0,
} KilnJobPlanFlags;

#define KILN_TYPE_JOB_PLAN (kiln_job_plan_get_type ())

G_DECLARE_FINAL_TYPE (KilnJobPlan, kiln_job_plan, KILN, JOB_PLAN, GObject)

/* Splits @frames of a @width × @height image into at most @max_subtasks subtasks:
 *  - with at least as many frames as subtasks: chunks of consecutive frames of
 *    near-equal length. A subtask renders one evenly spaced run of frames, so a
 *    frame list made of more runs than @max_subtasks gets one subtask per run;
 *  - with fewer frames than subtasks: each frame is cut into the same number of
 *    strips (max_subtasks / frames, each at least KILN_JOB_PLAN_MIN_STRIP_ROWS
 *    rows high), whose rows tile the frame exactly: strip i of n covers rows
 *    ⌊i·height/n⌋ to ⌊(i+1)·height/n⌋ − 1, counted from the top. OpenEXR frames
 *    are not cut (Kiln assembles PNG strips only).
 * G_IO_ERROR_INVALID_ARGUMENT for sizes, sample counts or subtask counts out of
 * range. */
KilnJobPlan       *kiln_job_plan_new            (KilnFrameSpec       *frames,
                                                 guint                width,
                                                 guint                height,
                                                 guint                samples,
                                                 KilnImageFormat      format,
                                                 guint                max_subtasks,
                                                 KilnJobPlanFlags     flags,
                                                 GError             **error);

KilnFrameSpec     *kiln_job_plan_get_frames     (KilnJobPlan         *self);
guint              kiln_job_plan_get_width      (KilnJobPlan         *self);
guint              kiln_job_plan_get_height     (KilnJobPlan         *self);
guint              kiln_job_plan_get_samples    (KilnJobPlan         *self);
KilnImageFormat    kiln_job_plan_get_format     (KilnJobPlan         *self);
guint              kiln_job_plan_get_n_subtasks (KilnJobPlan         *self);
const KilnSubtask *kiln_job_plan_get_subtask    (KilnJobPlan         *self,
                                                 guint                index);
/* Strips per frame: 1 when frames are not cut. */
guint              kiln_job_plan_get_n_strips   (KilnJobPlan         *self);
/* The subtasks that render @frame, top strip first (one when it is not cut). */
GPtrArray         *kiln_job_plan_get_subtasks_for_frame (KilnJobPlan *self,
                                                         int          frame);

/* {"frames": "1-250", "width": …, "height": …, "samples": …, "format": "PNG",
 *  "subtasks": [ … ]}; reading checks every subtask and that together they render
 * each frame of the list exactly once, every pixel exactly once. */
JsonNode          *kiln_job_plan_to_json        (KilnJobPlan         *self);
KilnJobPlan       *kiln_job_plan_new_from_json  (JsonNode            *node,
                                                 GError             **error);

G_END_DECLS
