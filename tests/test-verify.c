/* test-verify.c: results checked by re-rendering random crops with the real Blender
 *
 * An honest result (rendered by KilnRenderRun, as a provider does) is accepted;
 * tampered ones are rejected with a reason. bench/bench-verify.c measures the
 * rates on many more results.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "kiln-image.h"
#include "kiln-job-plan.h"
#include "kiln-test-render.h"
#include "kiln-test-util.h"
#include "kiln-verifier.h"

static KilnTestRender env;

static struct
{
  char        *scene;
  KilnSubtask *chunk;       /* frames 1-2, whole frames */
  GStrv        honest;      /* its images, as a provider renders them */
  KilnSubtask *strip;       /* frame 3, rows 30-59 */
  GStrv        honest_strip;
} job;

static const guint8 seed[32] = { 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30 };

static GStrv
render_subtask (const KilnSubtask *subtask,
                const char        *name)
{
  g_autofree char *dir = kiln_test_render_new_dir (&env, name);
  g_autoptr(KilnRenderSpec) spec = kiln_subtask_to_render_spec (subtask, job.scene, dir);

  return kiln_test_render_spec (&env, spec);
}

static KilnVerdict *
verify_full (KilnVerifier        *verifier,
             const KilnSubtask   *subtask,
             const char * const  *paths,
             GCancellable        *cancellable,
             GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_verifier_verify_async (verifier, subtask, job.scene, paths, cancellable,
                              kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  return kiln_verifier_verify_finish (verifier, result, error);
}

static KilnVerdict *
verify (KilnVerifier       *verifier,
        const KilnSubtask  *subtask,
        const char * const *paths)
{
  g_autoptr(GError) error = NULL;
  KilnVerdict *verdict = verify_full (verifier, subtask, paths, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (verdict);
  if (verdict->reason != NULL)
    g_test_message ("verdict %d: %s", verdict->result, verdict->reason);
  for (guint i = 0; i < verdict->crops->len; i++)
    {
      const KilnVerifyCrop *crop = &g_array_index (verdict->crops, KilnVerifyCrop, i);

      g_test_message ("frame %d, crop %u×%u at %u,%u: PSNR %s%.1f dB, largest difference %g",
                      verdict->frame, crop->width, crop->height, crop->x, crop->y,
                      crop->psnr == G_MAXDOUBLE ? "∞ " : "",
                      crop->psnr == G_MAXDOUBLE ? 0 : crop->psnr, crop->max_diff);
    }
  return verdict;
}

static KilnVerifier *
new_verifier (void)
{
  return kiln_verifier_new (env.blender, env.sandbox);
}

/* A copy of @paths in a new folder, with image @index replaced by @image. */
static GStrv
tampered_copy (const char * const *paths,
               guint               index,
               const KilnImage    *image,
               const char         *name)
{
  g_autofree char *dir = kiln_test_render_new_dir (&env, name);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *base = g_path_get_basename (paths[i]);
      g_autofree char *path = g_build_filename (dir, base, NULL);
      g_autoptr(GError) error = NULL;

      if (i == index)
        kiln_image_save_png (image, path, &error);
      else
        {
          g_autoptr(KilnImage) original = kiln_image_load_png (paths[i], &error);

          g_assert_no_error (error);
          kiln_image_save_png (original, path, &error);
        }
      g_assert_no_error (error);
      g_strv_builder_add (builder, path);
    }
  return g_strv_builder_end (builder);
}

static KilnImage *
load (const char *path)
{
  g_autoptr(GError) error = NULL;
  KilnImage *image = kiln_image_load_png (path, &error);

  g_assert_no_error (error);
  return image;
}

/* Honest results ---------------------------------------------------------------------- */

static void
assert_accepted (KilnVerifier      *verifier,
                 KilnVerdict       *verdict,
                 const KilnSubtask *subtask)
{
  guint uniform, detail, flat;
  guint n = kiln_verifier_get_crops_for (verifier, subtask, &uniform, &detail, &flat);

  g_assert_cmpint (verdict->result, ==, KILN_VERDICT_ACCEPTED);
  g_assert_null (verdict->reason);
  g_assert_true (verdict->frame >= subtask->frame_start && verdict->frame <= subtask->frame_end);
  g_assert_cmpuint (verdict->crops->len, ==, n);
  g_assert_cmpuint (uniform + detail + flat, ==, n);
  for (guint i = 0; i < verdict->crops->len; i++)
    {
      const KilnVerifyCrop *crop = &g_array_index (verdict->crops, KilnVerifyCrop, i);
      KilnVerifyCropRole role = i < uniform ? KILN_VERIFY_CROP_UNIFORM
                                : i < uniform + detail ? KILN_VERIFY_CROP_DETAIL
                                : KILN_VERIFY_CROP_FLAT;
      guint rx = subtask->use_border ? subtask->border_y : 0;
      guint rw, rh;

      /* The crops placed anywhere first (their places do not depend on the image), then
       * those chosen for detail, then for flatness. */
      g_assert_cmpint (crop->role, ==, role);

      kiln_subtask_get_output_size (subtask, &rw, &rh);
      /* Inside the subtask's part of the frame, at least 8 pixels a side. */
      g_assert_cmpuint (crop->y, >=, rx);
      g_assert_cmpuint (crop->y + crop->height, <=, rx + rh);
      g_assert_cmpuint (crop->x + crop->width, <=, subtask->width);
      g_assert_cmpuint (crop->width, >=, KILN_VERIFIER_MIN_CROP_SIDE);
      g_assert_cmpuint (crop->height, >=, KILN_VERIFIER_MIN_CROP_SIDE);
      /* The same Blender renders the same pixels, crop or whole frame. */
      g_assert_cmpfloat (crop->psnr, ==, G_MAXDOUBLE);
      g_assert_cmpfloat (crop->max_diff, ==, 0);
    }
}

static void
test_honest (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  g_autoptr(KilnVerdict) verdict = NULL;
  g_autoptr(KilnVerdict) strip = NULL;

  verdict = verify (verifier, job.chunk, (const char * const *) job.honest);
  assert_accepted (verifier, verdict, job.chunk);
  g_assert_cmpfloat (verdict->seconds, >, 0);
  /* A whole chunk of frames gets the full count; a strip one fewer. */
  g_assert_cmpuint (verdict->crops->len, ==, KILN_VERIFIER_DEFAULT_CROPS);

  strip = verify (verifier, job.strip, (const char * const *) job.honest_strip);
  assert_accepted (verifier, strip, job.strip);
  g_assert_cmpint (strip->frame, ==, 3);
  g_assert_cmpuint (strip->crops->len, ==, KILN_VERIFIER_DEFAULT_CROPS - 1);

  kiln_test_assert_finalize_soon (g_steal_pointer (&verifier));
}

/* Every other frame: KilnRenderRun renders frames 1 and 3 only, and the verifier
 * checks one of them. */
static void
test_stepped (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  g_autoptr(KilnSubtask) stepped = kiln_subtask_copy (job.chunk);
  g_autoptr(KilnVerdict) verdict = NULL;
  g_auto(GStrv) paths = NULL;

  stepped->frame_start = 1;
  stepped->frame_end = 3;
  stepped->frame_step = 2;
  paths = render_subtask (stepped, "stepped");
  g_assert_cmpuint (g_strv_length (paths), ==, 2);
  g_assert_true (g_str_has_suffix (paths[0], "frame_0001.png"));
  g_assert_true (g_str_has_suffix (paths[1], "frame_0003.png"));

  verdict = verify (verifier, stepped, (const char * const *) paths);
  assert_accepted (verifier, verdict, stepped);
  g_assert_true (verdict->frame == 1 || verdict->frame == 3);
}

/* The crops come from the CSPRNG unless a seed is fixed; a fixed seed repeats them. */
static void
test_choose_crops (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  const char * const *paths = (const char * const *) job.honest;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) a = NULL;
  g_autoptr(GArray) b = NULL;
  g_autoptr(GArray) c = NULL;
  g_autoptr(GArray) d = NULL;
  int frame_a, frame_b, frame;
  guint draws, first = 0, uniform_on_cube = 0, detailed_on_cube = 0, flat_on_cube = 0;
  guint n_uniform, n_detailed, n_flat;

  g_assert_cmpuint (kiln_verifier_get_crops_for (verifier, job.chunk, &n_uniform, &n_detailed,
                                                 &n_flat), ==, KILN_VERIFIER_DEFAULT_CROPS);
  g_assert_cmpuint (n_uniform, ==, (KILN_VERIFIER_DEFAULT_CROPS + 1) / 2);
  g_assert_cmpuint (n_flat, ==, 1);

  /* 0.5 % of 160 × 120, about in the frame's shape: 11 × 9 pixels. */
  a = kiln_verifier_choose_crops (verifier, job.chunk, paths, &frame_a, &error);
  g_assert_no_error (error);
  b = kiln_verifier_choose_crops (verifier, job.chunk, paths, &frame_b, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->len, ==, KILN_VERIFIER_DEFAULT_CROPS);
  g_assert_cmpuint (g_array_index (a, KilnVerifyCrop, 0).width, ==, 11);
  g_assert_cmpuint (g_array_index (a, KilnVerifyCrop, 0).height, ==, 9);
  g_assert_false (frame_a == frame_b &&
                  memcmp (a->data, b->data, a->len * sizeof (KilnVerifyCrop)) == 0);

  kiln_verifier_set_seed (verifier, seed);
  c = kiln_verifier_choose_crops (verifier, job.chunk, paths, &frame, &error);
  g_assert_no_error (error);
  kiln_verifier_set_seed (verifier, seed);
  d = kiln_verifier_choose_crops (verifier, job.chunk, paths, &frame_b, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (c->data, c->len * sizeof (KilnVerifyCrop),
                   d->data, d->len * sizeof (KilnVerifyCrop));
  g_assert_cmpint (frame, ==, frame_b);

  /* Both frames of the chunk get chosen; the crops chosen for detail land on the
   * cube (the frame's middle) much more often than those placed anywhere. */
  kiln_verifier_set_seed (verifier, NULL);
  for (draws = 0; draws < 40; draws++)
    {
      g_autoptr(GArray) crops = kiln_verifier_choose_crops (verifier, job.chunk, paths, &frame,
                                                            &error);

      g_assert_no_error (error);
      g_assert_true (frame == 1 || frame == 2);
      first += frame == 1;
      for (guint i = 0; i < crops->len; i++)
        {
          const KilnVerifyCrop *crop = &g_array_index (crops, KilnVerifyCrop, i);
          gboolean on_cube = crop->x + crop->width > 50 && crop->x < 110 &&
                             crop->y + crop->height > 35 && crop->y < 90;

          if (crop->role == KILN_VERIFY_CROP_UNIFORM)
            uniform_on_cube += on_cube;
          else if (crop->role == KILN_VERIFY_CROP_DETAIL)
            detailed_on_cube += on_cube;
          else
            flat_on_cube += on_cube;
        }
    }
  g_assert_cmpuint (first, >, 0);
  g_assert_cmpuint (first, <, draws);
  /* The cube fills about a quarter of the frame: crops placed anywhere hit it about
   * a third of the time, the most detailed of 16 places nearly always, the flattest (the
   * world behind it is one flat colour) hardly ever. */
  g_test_message ("on the cube: %u of %u crops placed anywhere, %u of %u chosen for detail, "
                  "%u of %u chosen for flatness", uniform_on_cube, n_uniform * draws,
                  detailed_on_cube, n_detailed * draws, flat_on_cube, n_flat * draws);
  g_assert_cmpuint (detailed_on_cube, >=, n_detailed * draws * 3 / 4);
  g_assert_cmpuint (detailed_on_cube * 1000 / (n_detailed * draws), >,
                    uniform_on_cube * 1000 / (n_uniform * draws));
  g_assert_cmpuint (flat_on_cube * 1000 / (n_flat * draws), <,
                    uniform_on_cube * 1000 / (n_uniform * draws));
}

/* Tampered results ------------------------------------------------------------------- */

static void
assert_rejected (KilnVerdict       *verdict,
                 KilnVerdictResult  expected,
                 const char        *reason)
{
  g_assert_cmpint (verdict->result, ==, expected);
  g_assert_nonnull (verdict->reason);
  if (strstr (verdict->reason, reason) == NULL)
    g_error ("“%s” does not say “%s”", verdict->reason, reason);
}

static void
test_blank (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  g_autoptr(KilnImage) original = load (job.honest[0]);
  g_autoptr(KilnImage) blank = kiln_image_new (160, 120, kiln_image_get_channels (original),
                                               kiln_image_get_depth (original));
  g_auto(GStrv) paths = NULL;
  g_autoptr(KilnVerdict) verdict = NULL;
  int frame;

  /* Tamper with the frame the verifier will pick. */
  kiln_verifier_set_seed (verifier, seed);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) crops = kiln_verifier_choose_crops (verifier, job.chunk,
                                                          (const char * const *) job.honest,
                                                          &frame, &error);

    g_assert_no_error (error);
  }
  paths = tampered_copy ((const char * const *) job.honest, (guint) frame - 1, blank, "blank");
  kiln_verifier_set_seed (verifier, seed);
  verdict = verify (verifier, job.chunk, (const char * const *) paths);
  assert_rejected (verdict, KILN_VERDICT_MISMATCH, "does not match a local render");
}

static void
test_swapped_frames (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  const char *swapped[] = { job.honest[1], job.honest[0], NULL };
  g_autoptr(KilnVerdict) verdict = verify (verifier, job.chunk, swapped);

  assert_rejected (verdict, KILN_VERDICT_MISMATCH, "does not match a local render");
}

static void
test_fewer_samples (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  g_autoptr(KilnSubtask) cheap = kiln_subtask_copy (job.chunk);
  g_auto(GStrv) paths = NULL;
  g_autoptr(KilnVerdict) verdict = NULL;

  cheap->samples = 2;
  paths = render_subtask (cheap, "cheap");
  verdict = verify (verifier, job.chunk, (const char * const *) paths);
  assert_rejected (verdict, KILN_VERDICT_MISMATCH, "does not match a local render");
}

/* A 3 × 3 patch painted in the middle of the first crop the verifier will check
 * (the first crop's place does not depend on the image). */
static void
test_edit_inside_crop (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) crops = NULL;
  g_autoptr(KilnImage) image = NULL;
  g_autoptr(KilnVerdict) verdict = NULL;
  g_auto(GStrv) paths = NULL;
  const KilnVerifyCrop *crop;
  int frame;

  kiln_verifier_set_seed (verifier, seed);
  crops = kiln_verifier_choose_crops (verifier, job.strip,
                                      (const char * const *) job.honest_strip, &frame, &error);
  g_assert_no_error (error);
  crop = &g_array_index (crops, KilnVerifyCrop, 0);
  image = load (job.honest_strip[0]);
  for (guint y = 0; y < 3; y++)
    {
      guint16 *row = kiln_image_get_row (image, crop->y - job.strip->border_y +
                                                crop->height / 2 - 1 + y);

      for (guint x = 0; x < 3; x++)
        for (guint c = 0; c < 3; c++)
          {
            guint16 *value = &row[(crop->x + crop->width / 2 - 1 + x) *
                                  kiln_image_get_channels (image) + c];

            *value = *value > 127 ? *value - 64 : *value + 64;
          }
    }
  paths = tampered_copy ((const char * const *) job.honest_strip, 0, image, "edited");

  kiln_verifier_set_seed (verifier, seed);
  verdict = verify (verifier, job.strip, (const char * const *) paths);
  assert_rejected (verdict, KILN_VERDICT_MISMATCH, "does not match a local render");
}

static void
test_missing_and_malformed (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  g_autoptr(KilnImage) original = load (job.honest[1]);
  g_autoptr(KilnImage) small = kiln_image_crop (original, 0, 0, 160, 100);
  g_auto(GStrv) wrong_size = tampered_copy ((const char * const *) job.honest, 1, small, "small");
  g_autofree char *gone = g_build_filename (env.root, "gone.png", NULL);
  g_autofree char *cut = g_build_filename (env.root, "cut.png", NULL);
  const char *missing[] = { job.honest[0], gone, NULL };
  const char *one[] = { job.honest[0], NULL };
  const char *truncated[] = { job.honest[0], cut, NULL };
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_file_get_contents (job.honest[1], &contents, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (cut, contents, (gssize) len - 40, &error);
  g_assert_no_error (error);

  /* Refused before anything is rendered. */
  {
    g_autoptr(KilnVerdict) verdict = verify (verifier, job.chunk, missing);

    assert_rejected (verdict, KILN_VERDICT_MISSING, "Frame 2");
    g_assert_cmpuint (verdict->crops->len, ==, 0);
    g_assert_cmpfloat (verdict->seconds, ==, 0);
  }
  {
    g_autoptr(KilnVerdict) verdict = verify (verifier, job.chunk, one);

    assert_rejected (verdict, KILN_VERDICT_MISSING, "1 images for 2 frames");
  }
  {
    g_autoptr(KilnVerdict) verdict = verify (verifier, job.chunk,
                                             (const char * const *) wrong_size);

    assert_rejected (verdict, KILN_VERDICT_MALFORMED, "160×100 pixels instead of 160×120");
  }
  {
    g_autoptr(KilnVerdict) verdict = verify (verifier, job.chunk, truncated);

    assert_rejected (verdict, KILN_VERDICT_MALFORMED, "not a complete PNG");
  }
}

/* A region painted over with one colour (here over the cube, the costly part to render) is
 * what the crop chosen for flatness looks for: the frame's own flat places are the world
 * behind the cube, all of one other colour. */
static void
test_painted (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  g_autoptr(KilnImage) image = load (job.honest[0]);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  g_autoptr(KilnVerdict) verdict = NULL;
  guint channels = kiln_image_get_channels (image);
  const guint x0 = 40, y0 = 30, w = 80, h = 60;
  guint in_paint = 0, draws = 0;

  for (guint y = y0; y < y0 + h; y++)
    for (guint x = x0; x < x0 + w; x++)
      for (guint c = 0; c < MIN (channels, 3u); c++)
        kiln_image_get_row (image, y)[x * channels + c] = 90;
  paths = tampered_copy ((const char * const *) job.honest, 0, image, "painted");

  /* About half the draws check frame 1, the painted one. */
  for (guint d = 0; d < 80; d++)
    {
      int frame;
      g_autoptr(GArray) crops = kiln_verifier_choose_crops (verifier, job.chunk,
                                                            (const char * const *) paths,
                                                            &frame, &error);

      g_assert_no_error (error);
      if (frame != 1)
        continue;
      draws++;
      for (guint i = 0; i < crops->len; i++)
        {
          const KilnVerifyCrop *crop = &g_array_index (crops, KilnVerifyCrop, i);

          if (crop->role == KILN_VERIFY_CROP_FLAT)
            in_paint += crop->x >= x0 && crop->x + crop->width <= x0 + w &&
                        crop->y >= y0 && crop->y + crop->height <= y0 + h;
        }
    }
  g_test_message ("the crop chosen for flatness fell in the paint in %u of %u draws of frame 1",
                  in_paint, draws);
  g_assert_cmpuint (draws, >, 0);
  g_assert_cmpuint (in_paint * 10, >=, draws * 7);

  /* And the verification sees it: the seed draws frame 1. */
  kiln_verifier_set_seed (verifier, seed);
  verdict = verify (verifier, job.chunk, (const char * const *) paths);
  assert_rejected (verdict, KILN_VERDICT_MISMATCH, "does not match a local render");
}

/* One Blender renders the crops of every result of a scene, and goes with the verifier. */
static guint
count_processes (const char *needle)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint n = 0;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", name, "cmdline", NULL);
      g_autofree char *cmdline = NULL;
      gsize len;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &cmdline, &len, NULL))
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      n += strstr (cmdline, needle) != NULL && strstr (cmdline, "blender") != NULL;
    }
  return n;
}

static void
test_warm (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  guint running = 0;

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(KilnVerdict) verdict = verify (verifier, i == 1 ? job.strip : job.chunk,
                                               (const char * const *)
                                               (i == 1 ? job.honest_strip : job.honest));

      assert_accepted (verifier, verdict, i == 1 ? job.strip : job.chunk);
      /* Still there for the next result, and the same one. */
      if (i == 0)
        running = count_processes (job.scene);
      g_assert_cmpuint (running, >, 0);
      g_assert_cmpuint (count_processes (job.scene), ==, running);
    }

  g_clear_object (&verifier);
  kiln_test_assert_no_processes (job.scene);
}

static gboolean
cancel_soon (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (void)
{
  g_autoptr(KilnVerifier) verifier = new_verifier ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnVerdict) verdict = NULL;

  g_timeout_add (300, cancel_soon, cancellable);
  verdict = verify_full (verifier, job.chunk, (const char * const *) job.honest, cancellable,
                         &error);
  g_assert_null (verdict);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  kiln_test_assert_no_processes (job.scene);
}

static void
set_up_job (void)
{
  job.scene = kiln_test_render_scene (&env, "anim.blend");

  job.chunk = kiln_subtask_new ();
  job.chunk->frame_start = 1;
  job.chunk->frame_end = 2;
  job.chunk->width = 160;
  job.chunk->height = 120;
  job.chunk->samples = 8;
  job.honest = render_subtask (job.chunk, "honest");

  job.strip = kiln_subtask_copy (job.chunk);
  job.strip->frame_start = job.strip->frame_end = 3;
  job.strip->use_border = TRUE;
  job.strip->border_x = 0;
  job.strip->border_y = 30;
  job.strip->border_width = 160;
  job.strip->border_height = 30;
  job.honest_strip = render_subtask (job.strip, "honest-strip");
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  kiln_test_render_set_up (&env);
  set_up_job ();

  g_test_add_func ("/kiln/verify/honest", test_honest);
  g_test_add_func ("/kiln/verify/stepped", test_stepped);
  g_test_add_func ("/kiln/verify/choose-crops", test_choose_crops);
  g_test_add_func ("/kiln/verify/tampered/blank", test_blank);
  g_test_add_func ("/kiln/verify/tampered/swapped-frames", test_swapped_frames);
  g_test_add_func ("/kiln/verify/tampered/fewer-samples", test_fewer_samples);
  g_test_add_func ("/kiln/verify/tampered/edit-inside-crop", test_edit_inside_crop);
  g_test_add_func ("/kiln/verify/tampered/missing-malformed", test_missing_and_malformed);
  g_test_add_func ("/kiln/verify/tampered/painted", test_painted);
  g_test_add_func ("/kiln/verify/warm", test_warm);
  g_test_add_func ("/kiln/verify/cancel", test_cancel);

  status = g_test_run ();
  g_clear_pointer (&job.chunk, kiln_subtask_free);
  g_clear_pointer (&job.strip, kiln_subtask_free);
  g_clear_pointer (&job.honest, g_strfreev);
  g_clear_pointer (&job.honest_strip, g_strfreev);
  g_clear_pointer (&job.scene, g_free);
  kiln_test_render_tear_down (&env);
  return status;
}
