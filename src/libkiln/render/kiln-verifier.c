/* kiln-verifier.c: checking a provider's result by re-rendering small random crops
 *
 * Cycles with a fixed seed, the same sample count and no denoising or dithering
 * gives the same pixels for the same Blender build whatever the thread count, the
 * CPU kernel or the part of the frame rendered (docs/verification.md has the
 * measurements), so a crop of a border render here must match the provider's
 * pixels there. Blender loads the scene once and renders every crop in turn with
 * persistent data, and stays running for the next result of the same scene
 * (kiln-verifier-blender.c), so scene loading and BVH building are paid once a job.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "kiln-random.h"
#include "kiln-image.h"
#include "kiln-render-private.h"
#include "kiln-render-run.h"
#include "kiln-verifier.h"
#include "kiln-verifier-private.h"

#define MAX_CROPS    16

/* Verdicts --------------------------------------------------------------------------- */

G_DEFINE_BOXED_TYPE (KilnVerdict, kiln_verdict, kiln_verdict_copy, kiln_verdict_free)

static KilnVerdict *
verdict_new (void)
{
  KilnVerdict *verdict = g_new0 (KilnVerdict, 1);

  verdict->frame = G_MININT;
  verdict->crops = g_array_new (FALSE, FALSE, sizeof (KilnVerifyCrop));
  return verdict;
}

KilnVerdict *
kiln_verdict_copy (const KilnVerdict *verdict)
{
  KilnVerdict *copy;

  g_return_val_if_fail (verdict != NULL, NULL);

  copy = g_memdup2 (verdict, sizeof *verdict);
  copy->reason = g_strdup (verdict->reason);
  copy->crops = g_array_copy (verdict->crops);
  return copy;
}

void
kiln_verdict_free (KilnVerdict *verdict)
{
  if (verdict == NULL)
    return;
  g_free (verdict->reason);
  g_array_unref (verdict->crops);
  g_free (verdict);
}

/* The object ---------------------------------------------------------------------------- */

struct _KilnVerifier
{
  GObject       parent_instance;

  KilnBlender      *blender;
  KilnSandbox      *sandbox;
  KilnCropRenderer *renderer;
  guint         crops;
  double        crop_fraction;
  double        threshold;

  gboolean      seeded;
  guint8        seed[32];
  guint64       counter;
  guint8        block[32];
  guint         block_used;
};

enum {
  PROP_0,
  PROP_CROPS,
  PROP_CROP_FRACTION,
  PROP_THRESHOLD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_TYPE (KilnVerifier, kiln_verifier, G_TYPE_OBJECT)

static void
kiln_verifier_dispose (GObject *object)
{
  KilnVerifier *self = KILN_VERIFIER (object);

  g_clear_pointer (&self->renderer, kiln_crop_renderer_free);
  g_clear_object (&self->blender);
  g_clear_object (&self->sandbox);

  G_OBJECT_CLASS (kiln_verifier_parent_class)->dispose (object);
}

static void
kiln_verifier_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KilnVerifier *self = KILN_VERIFIER (object);

  switch (prop_id)
    {
    case PROP_CROPS:
      g_value_set_uint (value, self->crops);
      break;
    case PROP_CROP_FRACTION:
      g_value_set_double (value, self->crop_fraction);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_verifier_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  KilnVerifier *self = KILN_VERIFIER (object);

  switch (prop_id)
    {
    case PROP_CROPS:
      kiln_verifier_set_crops (self, g_value_get_uint (value));
      break;
    case PROP_CROP_FRACTION:
      kiln_verifier_set_crop_fraction (self, g_value_get_double (value));
      break;
    case PROP_THRESHOLD:
      kiln_verifier_set_threshold (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_verifier_class_init (KilnVerifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = kiln_verifier_dispose;
  object_class->get_property = kiln_verifier_get_property;
  object_class->set_property = kiln_verifier_set_property;

  properties[PROP_CROPS] =
    g_param_spec_uint ("crops", NULL, NULL, 1, MAX_CROPS, KILN_VERIFIER_DEFAULT_CROPS, rw);
  properties[PROP_CROP_FRACTION] =
    g_param_spec_double ("crop-fraction", NULL, NULL, 0.0001, 1.0,
                         KILN_VERIFIER_DEFAULT_CROP_FRACTION, rw);
  properties[PROP_THRESHOLD] =
    g_param_spec_double ("threshold", NULL, NULL, 0, 200, KILN_VERIFIER_DEFAULT_THRESHOLD, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_verifier_init (KilnVerifier *self)
{
  self->crops = KILN_VERIFIER_DEFAULT_CROPS;
  self->crop_fraction = KILN_VERIFIER_DEFAULT_CROP_FRACTION;
  self->threshold = KILN_VERIFIER_DEFAULT_THRESHOLD;
}

KilnVerifier *
kiln_verifier_new (KilnBlender *blender,
                   KilnSandbox *sandbox)
{
  KilnVerifier *self;

  g_return_val_if_fail (KILN_IS_BLENDER (blender), NULL);
  g_return_val_if_fail (sandbox == NULL || KILN_IS_SANDBOX (sandbox), NULL);

  self = g_object_new (KILN_TYPE_VERIFIER, NULL);
  self->blender = g_object_ref (blender);
  self->sandbox = sandbox != NULL ? g_object_ref (sandbox) : kiln_sandbox_new ();
  self->renderer = kiln_crop_renderer_new (self->blender, self->sandbox);
  return self;
}

guint
kiln_verifier_get_crops (KilnVerifier *self)
{
  g_return_val_if_fail (KILN_IS_VERIFIER (self), 0);
  return self->crops;
}

void
kiln_verifier_set_crops (KilnVerifier *self,
                         guint         crops)
{
  g_return_if_fail (KILN_IS_VERIFIER (self));
  g_return_if_fail (crops >= 1 && crops <= MAX_CROPS);

  if (self->crops == crops)
    return;
  self->crops = crops;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CROPS]);
}

double
kiln_verifier_get_crop_fraction (KilnVerifier *self)
{
  g_return_val_if_fail (KILN_IS_VERIFIER (self), 0);
  return self->crop_fraction;
}

void
kiln_verifier_set_crop_fraction (KilnVerifier *self,
                                 double        fraction)
{
  g_return_if_fail (KILN_IS_VERIFIER (self));
  g_return_if_fail (fraction >= 0.0001 && fraction <= 1.0);

  if (self->crop_fraction == fraction)
    return;
  self->crop_fraction = fraction;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CROP_FRACTION]);
}

double
kiln_verifier_get_threshold (KilnVerifier *self)
{
  g_return_val_if_fail (KILN_IS_VERIFIER (self), 0);
  return self->threshold;
}

void
kiln_verifier_set_threshold (KilnVerifier *self,
                             double        threshold)
{
  g_return_if_fail (KILN_IS_VERIFIER (self));
  g_return_if_fail (threshold >= 0 && threshold <= 200);

  if (self->threshold == threshold)
    return;
  self->threshold = threshold;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THRESHOLD]);
}

void
kiln_verifier_set_seed (KilnVerifier *self,
                        const guint8 *seed)
{
  g_return_if_fail (KILN_IS_VERIFIER (self));

  self->seeded = seed != NULL;
  if (seed != NULL)
    memcpy (self->seed, seed, sizeof self->seed);
  self->counter = 0;
  self->block_used = sizeof self->block;
}

/* Randomness ------------------------------------------------------------------------------ */

/* 32 random bits: from getrandom, or with a fixed seed SHA-256 (seed ‖ counter). */
static gboolean
random_u32 (KilnVerifier  *self,
            guint32       *value,
            GError       **error)
{
  guint8 bytes[4];

  if (!self->seeded)
    {
      if (!kiln_random_bytes (bytes, sizeof bytes, error))
        return FALSE;
    }
  else
    {
      if (self->block_used + sizeof bytes > sizeof self->block)
        {
          g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
          guint64 counter = GUINT64_TO_BE (self->counter);
          gsize len = sizeof self->block;

          self->counter++;
          g_checksum_update (checksum, self->seed, sizeof self->seed);
          g_checksum_update (checksum, (const guchar *) &counter, sizeof counter);
          g_checksum_get_digest (checksum, self->block, &len);
          self->block_used = 0;
        }
      memcpy (bytes, self->block + self->block_used, sizeof bytes);
      self->block_used += sizeof bytes;
    }
  *value = (guint32) bytes[0] << 24 | (guint32) bytes[1] << 16 | (guint32) bytes[2] << 8 |
           bytes[3];
  return TRUE;
}

/* Uniform in 0 … @n − 1, without modulo bias. */
static gboolean
random_below (KilnVerifier  *self,
              guint32        n,
              guint32       *value,
              GError       **error)
{
  guint32 limit, r;

  if (n <= 1)
    {
      *value = 0;
      return TRUE;
    }
  limit = G_MAXUINT32 - G_MAXUINT32 % n;
  do
    {
      if (!random_u32 (self, &r, error))
        return FALSE;
    }
  while (r >= limit);
  *value = r % n;
  return TRUE;
}

/* How many crops a result of @subtask gets, and of which kind. A result of several whole
 * frames gets the "crops" property's number: it took several frames to render and one is
 * checked. One frame, or a strip of one, gets one fewer: each crop costs a render call
 * (Blender syncs the scene again for each) besides its pixels, against less rendering. */
static guint
crops_for (KilnVerifier      *self,
           const KilnSubtask *subtask,
           guint             *uniform,
           guint             *detail,
           guint             *flat)
{
  guint n = self->crops;

  if (subtask->use_border || kiln_subtask_get_n_frames (subtask) == 1)
    n = MAX (n, 2) - 1;
  /* About half anywhere, one flat, the rest detailed. */
  *flat = n >= 3 ? 1 : 0;
  *uniform = MAX ((n - *flat + 1) / 2, 1);
  *detail = n - *flat - *uniform;
  return n;
}

guint
kiln_verifier_get_crops_for (KilnVerifier      *self,
                             const KilnSubtask *subtask,
                             guint             *uniform,
                             guint             *detail,
                             guint             *flat)
{
  guint u, d, f, n;

  g_return_val_if_fail (KILN_IS_VERIFIER (self), 0);
  g_return_val_if_fail (subtask != NULL, 0);

  n = crops_for (self, subtask, &u, &d, &f);
  if (uniform != NULL)
    *uniform = u;
  if (detail != NULL)
    *detail = d;
  if (flat != NULL)
    *flat = f;
  return n;
}

/* Random places for the crops: one for each crop placed anywhere, then
 * KILN_VERIFIER_CANDIDATES for each crop chosen for detail or flatness. Drawn before
 * anything of the result is looked at. */
static GArray *
draw_candidates (KilnVerifier       *self,
                 const KilnSubtask  *subtask,
                 int                *frame,
                 GError            **error)
{
  g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (KilnVerifyCrop));
  guint rx, ry, rw, rh, cw, ch, uniform, detail, flat;
  double area, aspect;
  guint32 pick;

  if (!kiln_subtask_validate (subtask, error))
    return NULL;
  crops_for (self, subtask, &uniform, &detail, &flat);

  if (!random_below (self, kiln_subtask_get_n_frames (subtask), &pick, error))
    return NULL;
  *frame = subtask->frame_start + (int) pick * subtask->frame_step;

  rx = subtask->use_border ? subtask->border_x : 0;
  ry = subtask->use_border ? subtask->border_y : 0;
  kiln_subtask_get_output_size (subtask, &rw, &rh);

  /* Crops of the region's shape, but no thinner than the minimum where it fits. */
  area = self->crop_fraction * rw * rh;
  aspect = (double) rw / rh;
  cw = (guint) CLAMP (lround (sqrt (area * aspect)), 1, rw);
  ch = (guint) CLAMP (lround (area / MAX (cw, 1)), 1, rh);
  cw = MIN (MAX (cw, KILN_VERIFIER_MIN_CROP_SIDE), rw);
  ch = MIN (MAX (ch, KILN_VERIFIER_MIN_CROP_SIDE), rh);

  for (guint i = 0; i < uniform + (detail + flat) * KILN_VERIFIER_CANDIDATES; i++)
    {
      KilnVerifyCrop crop = { 0, };
      guint32 dx, dy;

      crop.role = i < uniform ? KILN_VERIFY_CROP_UNIFORM
                  : i < uniform + detail * KILN_VERIFIER_CANDIDATES ? KILN_VERIFY_CROP_DETAIL
                  : KILN_VERIFY_CROP_FLAT;
      if (!random_below (self, rw - cw + 1, &dx, error) ||
          !random_below (self, rh - ch + 1, &dy, error))
        return NULL;
      crop.x = rx + dx;
      crop.y = ry + dy;
      crop.width = cw;
      crop.height = ch;
      g_array_append_val (candidates, crop);
    }
  return g_steal_pointer (&candidates);
}

/* How much detail the provider's image shows in @crop: the sum of differences
 * between horizontally and vertically neighbouring values (colour channels). */
static guint64
detail (const KilnImage      *image,
        guint                 rx,
        guint                 ry,
        const KilnVerifyCrop *crop)
{
  guint channels = kiln_image_get_channels (image);
  guint colours = channels >= 3 ? 3 : 1;
  guint64 sum = 0;

  for (guint y = 0; y < crop->height; y++)
    {
      guint image_y = crop->y - ry + y;
      const guint16 *row = kiln_image_peek_row (image, image_y);
      const guint16 *below = y + 1 < crop->height ? kiln_image_peek_row (image, image_y + 1)
                                                  : NULL;

      for (guint x = 0; x < crop->width; x++)
        for (guint c = 0; c < colours; c++)
          {
            gsize i = (gsize) (crop->x - rx + x) * channels + c;

            if (x + 1 < crop->width)
              sum += (guint64) ABS ((int) row[i + channels] - (int) row[i]);
            if (below != NULL)
              sum += (guint64) ABS ((int) below[i] - (int) row[i]);
          }
    }
  return sum;
}

/* The colour of the top left pixel of @crop in the provider's image, as one number. */
static guint64
first_colour (const KilnImage      *image,
              guint                 rx,
              guint                 ry,
              const KilnVerifyCrop *crop)
{
  guint channels = kiln_image_get_channels (image);
  const guint16 *pixel = kiln_image_peek_row (image, crop->y - ry) +
                         (gsize) (crop->x - rx) * channels;
  guint64 colour = 0;

  for (guint c = 0; c < MIN (channels, 4u); c++)
    colour = colour << 16 | pixel[c];
  return colour;
}

/* The least detailed of @n candidates from @first. When several are equally flat (one
 * colour each, typically), the one whose colour is the rarest among them: an honest frame's
 * flat places are mostly one background, and a region painted over with one colour, if
 * any candidate fell in it, stands out from it. */
static guint
flattest (GArray          *candidates,
          guint            first,
          guint            n,
          const KilnImage *image,
          guint            rx,
          guint            ry)
{
  guint64 details[KILN_VERIFIER_CANDIDATES];
  guint64 colours[KILN_VERIFIER_CANDIDATES];
  guint64 least = G_MAXUINT64;
  guint best = first, best_count = G_MAXUINT;

  g_assert (n <= KILN_VERIFIER_CANDIDATES);
  for (guint i = 0; i < n; i++)
    {
      const KilnVerifyCrop *crop = &g_array_index (candidates, KilnVerifyCrop, first + i);

      details[i] = detail (image, rx, ry, crop);
      colours[i] = first_colour (image, rx, ry, crop);
      least = MIN (least, details[i]);
    }
  for (guint i = 0; i < n; i++)
    {
      guint count = 0;

      if (details[i] != least)
        continue;
      for (guint j = 0; j < n; j++)
        count += details[j] == least && colours[j] == colours[i];
      if (count < best_count)
        {
          best = first + i;
          best_count = count;
        }
    }
  return best;
}

/* The crops placed anywhere, then from each following group of candidates the most
 * detailed (a detail crop) or the flattest (a flat crop). */
static GArray *
select_crops (GArray            *candidates,
              const KilnImage   *image,
              const KilnSubtask *subtask)
{
  GArray *crops = g_array_new (FALSE, FALSE, sizeof (KilnVerifyCrop));
  guint rx = subtask->use_border ? subtask->border_x : 0;
  guint ry = subtask->use_border ? subtask->border_y : 0;
  guint first = 0;

  while (first < candidates->len &&
         g_array_index (candidates, KilnVerifyCrop, first).role == KILN_VERIFY_CROP_UNIFORM)
    g_array_append_val (crops, g_array_index (candidates, KilnVerifyCrop, first++));

  for (; first < candidates->len; first += KILN_VERIFIER_CANDIDATES)
    {
      guint n = MIN (KILN_VERIFIER_CANDIDATES, candidates->len - first);
      guint best = first;
      guint64 best_detail = 0;

      if (g_array_index (candidates, KilnVerifyCrop, first).role == KILN_VERIFY_CROP_FLAT)
        best = flattest (candidates, first, n, image, rx, ry);
      else
        for (guint i = first; i < first + n; i++)
          {
            guint64 d = detail (image, rx, ry, &g_array_index (candidates, KilnVerifyCrop, i));

            if (d > best_detail)
              {
                best = i;
                best_detail = d;
              }
          }
      g_array_append_val (crops, g_array_index (candidates, KilnVerifyCrop, best));
    }
  return crops;
}

static guint
frame_index (const KilnSubtask *subtask,
             int                frame)
{
  return (guint) ((frame - subtask->frame_start) / subtask->frame_step);
}

GArray *
kiln_verifier_choose_crops (KilnVerifier        *self,
                            const KilnSubtask   *subtask,
                            const char * const  *paths,
                            int                 *frame,
                            GError             **error)
{
  g_autoptr(GArray) candidates = NULL;
  g_autoptr(KilnImage) image = NULL;

  g_return_val_if_fail (KILN_IS_VERIFIER (self), NULL);
  g_return_val_if_fail (subtask != NULL && paths != NULL && frame != NULL, NULL);

  candidates = draw_candidates (self, subtask, frame, error);
  if (candidates == NULL)
    return NULL;
  if (frame_index (subtask, *frame) >= g_strv_length ((char **) paths))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("There is no image for frame %d"), *frame);
      return NULL;
    }
  image = kiln_image_load_png (paths[frame_index (subtask, *frame)], error);
  if (image == NULL)
    return NULL;
  return select_crops (candidates, image, subtask);
}

/* Verifying ------------------------------------------------------------------------------ */

typedef struct
{
  KilnSubtask  *subtask;
  char         *blend_file;
  GStrv         paths;
  int           frame;
  GArray       *candidates;   /* places drawn for the crops */
  GArray       *crops;        /* the places chosen */
  double        threshold;
  char         *work_dir;
  KilnImage    *result;       /* the provider's image of @frame */
  KilnVerdict  *verdict;      /* set as soon as it is known */
  gint64        started;
} VerifyData;

static void
verify_data_free (VerifyData *data)
{
  kiln_subtask_free (data->subtask);
  g_free (data->blend_file);
  g_strfreev (data->paths);
  g_clear_pointer (&data->candidates, g_array_unref);
  g_clear_pointer (&data->crops, g_array_unref);
  kiln_render_remove_tree (data->work_dir);
  g_free (data->work_dir);
  g_clear_pointer (&data->result, kiln_image_free);
  g_clear_pointer (&data->verdict, kiln_verdict_free);
  g_free (data);
}

static void
reject (VerifyData        *data,
        KilnVerdictResult  result,
        char              *reason)
{
  data->verdict = verdict_new ();
  data->verdict->result = result;
  data->verdict->reason = reason;
}

/* Worker thread: every image whole and of the right size; the chosen frame loaded. */
static void
check_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  VerifyData *data = task_data;
  const KilnSubtask *subtask = data->subtask;
  guint n_frames = kiln_subtask_get_n_frames (subtask);
  guint n_paths = g_strv_length (data->paths);
  guint width, height, index;
  GError *error = NULL;

  kiln_subtask_get_output_size (subtask, &width, &height);
  if (n_paths < n_frames)
    {
      reject (data, KILN_VERDICT_MISSING,
              g_strdup_printf (_("The result has %u images for %u frames"), n_paths, n_frames));
      g_task_return_boolean (task, TRUE);
      return;
    }
  for (guint i = 0; i < n_frames; i++)
    {
      g_autoptr(GError) check_error = NULL;

      if (!kiln_image_check_file (data->paths[i], subtask->format, width, height, &check_error))
        {
          int frame = subtask->frame_start + (int) i * subtask->frame_step;

          reject (data, g_error_matches (check_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                        ? KILN_VERDICT_MISSING : KILN_VERDICT_MALFORMED,
                  g_strdup_printf (_("Frame %d: %s"), frame, check_error->message));
          g_task_return_boolean (task, TRUE);
          return;
        }
    }
  if (subtask->format != KILN_IMAGE_FORMAT_PNG)
    {
      reject (data, KILN_VERDICT_UNCHECKED,
              g_strdup (_("The images are whole and of the right size; OpenEXR pixels are "
                          "not compared with a local render")));
      g_task_return_boolean (task, TRUE);
      return;
    }

  index = frame_index (subtask, data->frame);
  data->result = kiln_image_load_png (data->paths[index], &error);
  if (data->result == NULL)
    {
      reject (data, KILN_VERDICT_MALFORMED,
              g_strdup_printf (_("Frame %d: %s"), data->frame, error->message));
      g_clear_error (&error);
      g_task_return_boolean (task, TRUE);
      return;
    }
  data->crops = select_crops (data->candidates, data->result, subtask);
  g_task_return_boolean (task, TRUE);
}

/* Worker thread: the local crops against the provider's pixels. */
static void
compare_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  VerifyData *data = task_data;
  const KilnSubtask *subtask = data->subtask;
  guint rx = subtask->use_border ? subtask->border_x : 0;
  guint ry = subtask->use_border ? subtask->border_y : 0;
  g_autoptr(KilnVerdict) verdict = verdict_new ();
  guint worst = 0;

  verdict->frame = data->frame;
  verdict->seconds = (g_get_monotonic_time () - data->started) / (double) G_USEC_PER_SEC;
  for (guint i = 0; i < data->crops->len; i++)
    {
      KilnVerifyCrop *crop = &g_array_index (data->crops, KilnVerifyCrop, i);
      g_autofree char *name = g_strdup_printf ("crop-%u.png", i);
      g_autofree char *path = g_build_filename (data->work_dir, name, NULL);
      g_autoptr(KilnImage) local = NULL;
      KilnImageDiff diff;
      GError *error = NULL;

      local = kiln_image_load_png (path, &error);
      if (local == NULL)
        {
          g_prefix_error (&error, _("The local render of a crop failed: "));
          g_task_return_error (task, error);
          return;
        }
      if (kiln_image_get_width (local) != crop->width ||
          kiln_image_get_height (local) != crop->height)
        {
          g_task_return_new_error (task, KILN_RENDER_ERROR, KILN_RENDER_ERROR_BAD_OUTPUT,
                                   _("The local render of a crop is %u×%u pixels instead of "
                                     "%u×%u"), kiln_image_get_width (local),
                                   kiln_image_get_height (local), crop->width, crop->height);
          return;
        }
      if (kiln_image_get_channels (local) != kiln_image_get_channels (data->result))
        {
          verdict->result = KILN_VERDICT_MISMATCH;
          verdict->reason = g_strdup_printf (_("Frame %d has %u colour channels; the scene "
                                               "renders %u"), data->frame,
                                             kiln_image_get_channels (data->result),
                                             kiln_image_get_channels (local));
          break;
        }
      kiln_image_compare (data->result, crop->x - rx, crop->y - ry, local, 0, 0,
                          crop->width, crop->height, &diff);
      crop->psnr = diff.psnr;
      crop->max_diff = diff.max_diff;
      if (crop->psnr < g_array_index (data->crops, KilnVerifyCrop, worst).psnr)
        worst = i;
    }
  g_array_append_vals (verdict->crops, data->crops->data, data->crops->len);

  if (verdict->result == KILN_VERDICT_ACCEPTED && data->crops->len > 0)
    {
      const KilnVerifyCrop *crop = &g_array_index (data->crops, KilnVerifyCrop, worst);

      if (crop->psnr < data->threshold)
        {
          verdict->result = KILN_VERDICT_MISMATCH;
          verdict->reason = g_strdup_printf (_("Frame %d does not match a local render: the "
                                               "%u×%u pixels at %u, %u differ by %.1f dB "
                                               "PSNR (at least %.1f dB is needed)"),
                                             data->frame, crop->width, crop->height,
                                             crop->x, crop->y, crop->psnr, data->threshold);
        }
    }
  g_task_return_pointer (task, g_steal_pointer (&verdict), (GDestroyNotify) kiln_verdict_free);
}

static void
compared (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  KilnVerdict *verdict = g_task_propagate_pointer (G_TASK (result), &error);

  if (verdict == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, verdict, (GDestroyNotify) kiln_verdict_free);
}

static void
rendered (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  VerifyData *data = g_task_get_task_data (task);
  g_autoptr(GTask) compare_task = NULL;
  GError *error = NULL;

  data->work_dir = kiln_crop_renderer_render_finish (result, &error);
  if (data->work_dir == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  compare_task = g_task_new (NULL, g_task_get_cancellable (task), compared,
                             g_object_ref (task));
  g_task_set_source_tag (compare_task, kiln_verifier_verify_async);
  g_task_set_task_data (compare_task, data, NULL);
  g_task_run_in_thread (compare_task, compare_thread);
}

static void
checked (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnVerifier *self = g_task_get_source_object (task);
  VerifyData *data = g_task_get_task_data (task);
  GCancellable *cancellable;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (data->verdict != NULL)
    {
      g_task_return_pointer (task, g_steal_pointer (&data->verdict),
                             (GDestroyNotify) kiln_verdict_free);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  cancellable = g_task_get_cancellable (task);
  data->started = g_get_monotonic_time ();
  kiln_crop_renderer_render_async (self->renderer, data->blend_file, data->frame,
                                   data->subtask->width, data->subtask->height,
                                   data->subtask->samples, data->crops, cancellable, rendered,
                                   g_steal_pointer (&task));
}

void
kiln_verifier_verify_async (KilnVerifier        *self,
                            const KilnSubtask   *subtask,
                            const char          *blend_file,
                            const char * const  *paths,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) check_task = NULL;
  VerifyData *data;
  GError *error = NULL;

  g_return_if_fail (KILN_IS_VERIFIER (self));
  g_return_if_fail (subtask != NULL && blend_file != NULL && paths != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_verifier_verify_async);
  data = g_new0 (VerifyData, 1);
  data->subtask = kiln_subtask_copy (subtask);
  data->blend_file = g_strdup (blend_file);
  data->paths = g_strdupv ((char **) paths);
  data->threshold = self->threshold;
  g_task_set_task_data (task, data, (GDestroyNotify) verify_data_free);

  /* Drawn here, on the main thread, before anything of the result is looked at. */
  data->candidates = draw_candidates (self, subtask, &data->frame, &error);
  if (data->candidates == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  check_task = g_task_new (self, cancellable, checked, g_steal_pointer (&task));
  g_task_set_source_tag (check_task, kiln_verifier_verify_async);
  g_task_set_task_data (check_task, data, NULL);
  g_task_run_in_thread (check_task, check_thread);
}

KilnVerdict *
kiln_verifier_verify_finish (KilnVerifier  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (KILN_IS_VERIFIER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_verifier_verify_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
