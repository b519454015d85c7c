/* kiln-frame-spec.h: which frames to render, as people write them ("1-250", "1,5,9-12")
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Blender's highest frame number (MAXFRAME). */
#define KILN_FRAME_MAX          1048574
/* The most frames one job may render. */
#define KILN_FRAME_SPEC_MAX_FRAMES 100000u
/* The longest frame list accepted as text (any list of the most frames fits), and
 * the most frames its items may name together, repeats included. */
#define KILN_FRAME_SPEC_MAX_LENGTH (1024 * 1024)
#define KILN_FRAME_SPEC_MAX_LISTED (10u * KILN_FRAME_SPEC_MAX_FRAMES)

/* A sorted set of frame numbers (0 … KILN_FRAME_MAX), never empty. Immutable and
 * reference counted. */
typedef struct _KilnFrameSpec KilnFrameSpec;

#define KILN_TYPE_FRAME_SPEC (kiln_frame_spec_get_type ())

GType          kiln_frame_spec_get_type    (void) G_GNUC_CONST;

/* Parses a comma-separated list of items, each "N", "A-B" (A ≤ B, both included)
 * or "A-BxS" (every S-th frame from A up to B); spaces around numbers and commas
 * are allowed. Frames may repeat or overlap: the result is sorted and each frame
 * appears once. Errors (G_IO_ERROR_INVALID_ARGUMENT) say which character is
 * wrong, counting from 1: garbage, negative numbers, reversed ranges, a step of 0,
 * frames past KILN_FRAME_MAX, more than KILN_FRAME_SPEC_MAX_FRAMES frames (or items
 * naming more than KILN_FRAME_SPEC_MAX_LISTED together), an empty list. */
KilnFrameSpec *kiln_frame_spec_parse       (const char           *text,
                                            GError              **error);
/* start..end every @step (≥ 1); NULL with an error when out of the limits above. */
KilnFrameSpec *kiln_frame_spec_new_range   (int                   start,
                                            int                   end,
                                            int                   step,
                                            GError              **error);
/* From frame numbers in any order, repeats allowed; same limits. */
KilnFrameSpec *kiln_frame_spec_new_from_frames (const int         *frames,
                                                guint              n_frames,
                                                GError           **error);

KilnFrameSpec *kiln_frame_spec_ref         (KilnFrameSpec        *self);
void           kiln_frame_spec_unref       (KilnFrameSpec        *self);

guint          kiln_frame_spec_get_n_frames (const KilnFrameSpec *self);
int            kiln_frame_spec_get_frame    (const KilnFrameSpec *self,
                                             guint                index);
/* All frames, ascending; @n_frames receives their number. */
const int     *kiln_frame_spec_get_frames   (const KilnFrameSpec *self,
                                             guint               *n_frames);
gboolean       kiln_frame_spec_contains     (const KilnFrameSpec *self,
                                             int                  frame);
gboolean       kiln_frame_spec_equal        (const KilnFrameSpec *a,
                                             const KilnFrameSpec *b);

/* The shortest text of the form kiln_frame_spec_parse() reads that gives the same
 * frames back: runs of three or more evenly spaced frames become "A-B" or "A-BxS". */
char          *kiln_frame_spec_to_string    (const KilnFrameSpec *self);

/* A run of evenly spaced frames: first, first + step, … last. */
typedef struct
{
  int first;
  int last;
  int step;
} KilnFrameRun;

/* The frames as runs of evenly spaced frames, ascending (the runs the text form
 * shows): a frame range Blender can render in one go. */
GArray        *kiln_frame_spec_get_runs     (const KilnFrameSpec *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnFrameSpec, kiln_frame_spec_unref)

G_END_DECLS
