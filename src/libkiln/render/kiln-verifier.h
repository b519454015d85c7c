/* kiln-verifier.h: checking a provider's result by re-rendering small random crops
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-blender.h"
#include "kiln-job-plan.h"
#include "kiln-sandbox.h"

G_BEGIN_DECLS

/* Defaults, chosen from measurements (docs/verification.md). */
#define KILN_VERIFIER_DEFAULT_CROPS          6
#define KILN_VERIFIER_DEFAULT_CROP_FRACTION  0.005
#define KILN_VERIFIER_DEFAULT_THRESHOLD      45.0
#define KILN_VERIFIER_MIN_CROP_SIDE          8
#define KILN_VERIFIER_CANDIDATES             16
/* How long the local render of one result's crops may take unless the sandbox has a limit
 * of its own. */
#define KILN_VERIFIER_TIME_LIMIT             600
/* How long Blender stays running, with the scene loaded, after a verification, for the next
 * result of the same scene (seconds). */
#define KILN_VERIFIER_KEEP_WARM              60

typedef enum
{
  KILN_VERDICT_ACCEPTED,    /* every check passed */
  KILN_VERDICT_MISSING,     /* an image is missing */
  KILN_VERDICT_MALFORMED,   /* an image does not decode or has the wrong size */
  KILN_VERDICT_MISMATCH,    /* a crop differs from the local render */
  KILN_VERDICT_UNCHECKED,   /* images are whole but their pixels were not compared
                             * (OpenEXR: Kiln does not decode it) */
} KilnVerdictResult;

/* How a crop's place was chosen. */
typedef enum
{
  KILN_VERIFY_CROP_UNIFORM,   /* anywhere, before the result is looked at */
  KILN_VERIFY_CROP_DETAIL,    /* the most detailed of KILN_VERIFIER_CANDIDATES places */
  KILN_VERIFY_CROP_FLAT,      /* the least detailed of KILN_VERIFIER_CANDIDATES places */
} KilnVerifyCropRole;

/* One crop re-rendered locally: a rectangle of the full frame (rows from the top)
 * and how the provider's pixels there compare with the local render's. */
typedef struct
{
  guint               x;
  guint               y;
  guint               width;
  guint               height;
  double              psnr;       /* dB; G_MAXDOUBLE when identical */
  double              max_diff;   /* the largest difference of one value, 0…1 */
  KilnVerifyCropRole  role;
} KilnVerifyCrop;

typedef struct
{
  KilnVerdictResult  result;
  char              *reason;     /* for people; NULL when accepted */
  int                frame;      /* the frame re-rendered, or G_MININT */
  GArray            *crops;      /* KilnVerifyCrop, empty when nothing was re-rendered */
  double             seconds;    /* wall time of the local render, 0 when none */
} KilnVerdict;

#define KILN_TYPE_VERDICT (kiln_verdict_get_type ())

GType        kiln_verdict_get_type (void) G_GNUC_CONST;
KilnVerdict *kiln_verdict_copy     (const KilnVerdict *verdict);
void         kiln_verdict_free     (KilnVerdict       *verdict);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnVerdict, kiln_verdict_free)

#define KILN_TYPE_VERIFIER (kiln_verifier_get_type ())

G_DECLARE_FINAL_TYPE (KilnVerifier, kiln_verifier, KILN, VERIFIER, GObject)

/* A verifier rendering with @blender in @sandbox (NULL: a default sandbox). */
KilnVerifier *kiln_verifier_new                (KilnBlender   *blender,
                                                KilnSandbox   *sandbox);

/* "crops": how many crops are re-rendered per result of several whole frames (1…16). A
 * result of one frame, or of a strip, costs nearly as much to verify but several times less
 * to render, so it gets one fewer (at least one): kiln_verifier_get_crops_for(). */
guint         kiln_verifier_get_crops          (KilnVerifier  *self);
void          kiln_verifier_set_crops          (KilnVerifier  *self,
                                                guint          crops);
/* How many crops a result of @subtask gets, and how many of them are placed anywhere
 * (@uniform), chosen for detail (@detail) and chosen for flatness (@flat); each may be
 * NULL. */
guint         kiln_verifier_get_crops_for      (KilnVerifier      *self,
                                                const KilnSubtask *subtask,
                                                guint             *uniform,
                                                guint             *detail,
                                                guint             *flat);
/* "crop-fraction": each crop's share of the subtask's area (0.0001…1); crops are
 * at least KILN_VERIFIER_MIN_CROP_SIDE pixels wide and high where the area allows. */
double        kiln_verifier_get_crop_fraction  (KilnVerifier  *self);
void          kiln_verifier_set_crop_fraction  (KilnVerifier  *self,
                                                double         fraction);
/* "threshold": the lowest PSNR in dB a crop may have to be accepted. */
double        kiln_verifier_get_threshold      (KilnVerifier  *self);
void          kiln_verifier_set_threshold      (KilnVerifier  *self,
                                                double         threshold);

/* Crops and frames are drawn from the operating system's CSPRNG, so a provider
 * cannot know which pixels will be checked. For tests and benchmarks only: a
 * fixed 32-byte seed makes them predictable (NULL goes back to the CSPRNG). */
void          kiln_verifier_set_seed           (KilnVerifier  *self,
                                                const guint8  *seed);

/* The frame and crops the next verification of @subtask with @paths will check
 * (each call draws anew: with a fixed seed, the same as the verification that
 * follows a kiln_verifier_set_seed() with the same seed). Blocking: it decodes
 * the chosen frame's image, as verification does to place the crops. */
GArray       *kiln_verifier_choose_crops       (KilnVerifier        *self,
                                                const KilnSubtask   *subtask,
                                                const char * const  *paths,
                                                int                 *frame,
                                                GError             **error);

/* Checks @paths (one image per frame of @subtask, in frame order): each must
 * exist, decode completely and have the subtask's size; then one frame chosen
 * at random is re-rendered locally from @blend_file in the sandbox, in a few small
 * random crops with the subtask's settings (Cycles on the CPU, its sample count,
 * no denoising, no dithering), and each crop is compared with the provider's
 * pixels there. About half of the crops lie anywhere; of the others, one is the
 * least detailed (smallest sum of differences between neighbouring pixels in the
 * provider's image) of KILN_VERIFIER_CANDIDATES random places, which finds a
 * region painted over with one colour, and the rest are each the most detailed of
 * KILN_VERIFIER_CANDIDATES random places, so that crops also land on the scene's
 * objects rather than only on flat background, where any sample count gives the
 * same pixels (kiln_verifier_get_crops_for() says how many of each). One Blender,
 * kept running with the scene loaded for KILN_VERIFIER_KEEP_WARM seconds, renders
 * the crops of every result of the same scene. A wrong result is a verdict, not
 * an error: the verdict says why it was rejected. Errors are for verifications that
 * could not be done: the local render failed (KILN_RENDER_ERROR,
 * G_IO_ERROR_TIMED_OUT) or was cancelled (G_IO_ERROR_CANCELLED). Call from the
 * main thread. */
void          kiln_verifier_verify_async       (KilnVerifier        *self,
                                                const KilnSubtask   *subtask,
                                                const char          *blend_file,
                                                const char * const  *paths,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
KilnVerdict  *kiln_verifier_verify_finish      (KilnVerifier        *self,
                                                GAsyncResult        *result,
                                                GError             **error);

G_END_DECLS
