/* test-assembly.c: PNG images in memory, and strips joined into whole frames
 *
 * The last test renders one frame of tests/data/render/make-scenes.py's anim.blend
 * in four strips with the real Blender in the sandbox, joins them and compares the
 * result with a full render of the same frame: they must be identical.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "kiln-assembly.h"
#include "kiln-image.h"
#include "kiln-job-plan.h"
#include "kiln-test-render.h"

static KilnTestRender env;

/* A test card: every value depends on its position. */
static KilnImage *
test_card (guint width,
           guint height,
           guint channels,
           guint depth,
           guint seed)
{
  KilnImage *image = kiln_image_new (width, height, channels, depth);
  guint max = (1u << depth) - 1;

  for (guint y = 0; y < height; y++)
    {
      guint16 *row = kiln_image_get_row (image, y);

      for (guint i = 0; i < width * channels; i++)
        row[i] = (guint16) ((y * 7919u + i * 104729u + seed * 31u) % (max + 1));
    }
  return image;
}

static char *
path_in (const char *dir,
         const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static void
assert_same (const KilnImage *a,
             const KilnImage *b)
{
  KilnImageDiff diff;

  g_assert_cmpuint (kiln_image_get_width (a), ==, kiln_image_get_width (b));
  g_assert_cmpuint (kiln_image_get_height (a), ==, kiln_image_get_height (b));
  g_assert_cmpuint (kiln_image_get_channels (a), ==, kiln_image_get_channels (b));
  g_assert_cmpuint (kiln_image_get_depth (a), ==, kiln_image_get_depth (b));
  kiln_image_compare (a, 0, 0, b, 0, 0, kiln_image_get_width (a), kiln_image_get_height (a),
                      &diff);
  g_assert_cmpuint (diff.differing, ==, 0);
  g_assert_cmpfloat (diff.psnr, ==, G_MAXDOUBLE);
}

static void
test_image_round_trip (void)
{
  g_autofree char *dir = kiln_test_render_new_dir (&env, "images");
  static const guint kinds[][2] = { { 4, 8 }, { 3, 8 }, { 1, 16 }, { 2, 16 }, { 4, 16 } };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr(KilnImage) card = test_card (37, 23, kinds[k][0], kinds[k][1], k);
      g_autoptr(KilnImage) loaded = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("card-%u.png", k);
      g_autofree char *path = path_in (dir, name);

      g_assert_true (kiln_image_save_png (card, path, &error));
      g_assert_no_error (error);
      loaded = kiln_image_load_png (path, &error);
      g_assert_no_error (error);
      assert_same (card, loaded);
    }
}

static void
test_image_rectangles (void)
{
  g_autoptr(KilnImage) card = test_card (40, 30, 4, 8, 1);
  g_autoptr(KilnImage) crop = kiln_image_crop (card, 5, 7, 10, 8);
  g_autoptr(KilnImage) canvas = kiln_image_new (40, 30, 4, 8);
  g_autoptr(KilnImage) deep = test_card (40, 30, 4, 16, 1);
  KilnImageDiff diff;

  kiln_image_compare (card, 5, 7, crop, 0, 0, 10, 8, &diff);
  g_assert_cmpuint (diff.differing, ==, 0);
  g_assert_cmpuint (diff.values, ==, 10 * 8 * 4);

  kiln_image_paste (canvas, crop, 5, 7);
  kiln_image_compare (canvas, 5, 7, card, 5, 7, 10, 8, &diff);
  g_assert_cmpuint (diff.differing, ==, 0);
  kiln_image_compare (canvas, 0, 0, card, 0, 0, 40, 30, &diff);
  g_assert_cmpuint (diff.differing, >, 0);

  /* One value changed, outside the first 4 × 4 pixels. */
  kiln_image_get_row (crop, 5)[5] ^= 0xff;
  kiln_image_compare (card, 5, 7, crop, 0, 0, 4, 4, &diff);
  g_assert_cmpuint (diff.differing, ==, 0);
  kiln_image_compare (card, 5, 7, crop, 0, 0, 10, 8, &diff);
  g_assert_cmpuint (diff.differing, ==, 1);
  g_assert_cmpfloat (diff.max_diff, >, 0);

  {
    g_autoptr(KilnImage) one = kiln_image_new (2, 2, 1, 8);
    g_autoptr(KilnImage) other = kiln_image_new (2, 2, 1, 8);

    kiln_image_get_row (other, 0)[0] = 255;
    kiln_image_compare (one, 0, 0, other, 0, 0, 2, 2, &diff);
    g_assert_cmpfloat_with_epsilon (diff.mse, 0.25, 1e-12);
    g_assert_cmpfloat_with_epsilon (diff.psnr, 6.0206, 1e-4);
    g_assert_cmpfloat (diff.max_diff, ==, 1.0);
  }

  /* 8- and 16-bit images compare by value, not by number. */
  kiln_image_compare (card, 0, 0, deep, 0, 0, 40, 30, &diff);
  g_assert_cmpfloat (diff.psnr, <, 40);
}

static void
test_image_load_errors (void)
{
  g_autofree char *dir = kiln_test_render_new_dir (&env, "bad-images");
  g_autofree char *text = path_in (dir, "text.png");
  g_autofree char *cut = path_in (dir, "cut.png");
  g_autofree char *good = path_in (dir, "good.png");
  g_autofree char *absent = path_in (dir, "absent.png");
  g_autoptr(KilnImage) card = test_card (64, 64, 3, 8, 2);
  g_autoptr(KilnImage) image = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (kiln_image_save_png (card, good, &error));
  g_file_get_contents (good, &contents, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (cut, contents, (gssize) len / 2, &error);
  g_assert_no_error (error);
  g_file_set_contents (text, "not an image", -1, &error);
  g_assert_no_error (error);

  image = kiln_image_load_png (text, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "no PNG signature"));
  g_clear_error (&error);
  image = kiln_image_load_png (cut, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  image = kiln_image_load_png (absent, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (image);
}

/* Strips of a synthetic frame ------------------------------------------------------- */

typedef struct
{
  char       *dir;
  KilnImage  *frame;
  GPtrArray  *strips;     /* KilnSubtask * */
  GStrv       paths;
} Synthetic;

static void
synthetic_clear (Synthetic *synthetic)
{
  g_free (synthetic->dir);
  g_clear_pointer (&synthetic->frame, kiln_image_free);
  g_clear_pointer (&synthetic->strips, g_ptr_array_unref);
  g_clear_pointer (&synthetic->paths, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Synthetic, synthetic_clear)

/* A 50 × 43 frame cut into @n strips by a job plan, each written as its own PNG. */
static void
synthetic_init (Synthetic *synthetic,
                guint      n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnFrameSpec) frames = kiln_frame_spec_parse ("3", &error);
  g_autoptr(KilnJobPlan) job = NULL;
  g_autoptr(GStrvBuilder) paths = g_strv_builder_new ();

  g_assert_no_error (error);
  job = kiln_job_plan_new (frames, 50, 43, 4, KILN_IMAGE_FORMAT_PNG, n, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (job), ==, n);

  synthetic->dir = kiln_test_render_new_dir (&env, "strips");
  synthetic->frame = test_card (50, 43, 4, 8, 3);
  synthetic->strips = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_subtask_free);
  for (guint i = 0; i < n; i++)
    {
      const KilnSubtask *subtask = kiln_job_plan_get_subtask (job, i);
      g_autoptr(KilnImage) strip = kiln_image_crop (synthetic->frame, 0, subtask->border_y, 50,
                                                    subtask->border_height);
      g_autofree char *name = g_strdup_printf ("strip-%u.png", i);
      g_autofree char *path = path_in (synthetic->dir, name);

      g_assert_true (kiln_image_save_png (strip, path, &error));
      g_assert_no_error (error);
      g_strv_builder_add (paths, path);
      g_ptr_array_add (synthetic->strips, kiln_subtask_copy (subtask));
    }
  synthetic->paths = g_strv_builder_end (paths);
}

static void
assert_join_fails (Synthetic  *synthetic,
                   const char *expected)
{
  g_autofree char *output = path_in (synthetic->dir, "frame.png");
  g_autoptr(GError) error = NULL;

  g_assert_false (kiln_assemble_strips (synthetic->strips,
                                        (const char * const *) synthetic->paths, output,
                                        &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("%s", error->message);
  if (strstr (error->message, expected) == NULL)
    g_error ("“%s” does not say “%s”", error->message, expected);
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
}

static void
test_join_synthetic (void)
{
  g_auto(Synthetic) synthetic = { 0, };
  g_autofree char *output = NULL;
  g_autoptr(KilnImage) joined = NULL;
  g_autoptr(GError) error = NULL;

  synthetic_init (&synthetic, 5);
  output = path_in (synthetic.dir, "frame.png");

  /* Given in any order. */
  g_ptr_array_add (synthetic.strips, g_ptr_array_steal_index (synthetic.strips, 0));
  {
    char *first = synthetic.paths[0];

    memmove (synthetic.paths, synthetic.paths + 1, 4 * sizeof (char *));
    synthetic.paths[4] = first;
  }
  g_assert_true (kiln_assemble_strips (synthetic.strips, (const char * const *) synthetic.paths,
                                       output, &error));
  g_assert_no_error (error);
  joined = kiln_image_load_png (output, &error);
  g_assert_no_error (error);
  assert_same (joined, synthetic.frame);
}

static void
test_join_errors (void)
{
  {
    g_auto(Synthetic) synthetic = { 0, };
    KilnSubtask *strip;

    synthetic_init (&synthetic, 3);
    strip = g_ptr_array_index (synthetic.strips, 1);
    strip->border_y += 1;
    strip->border_height -= 1;
    assert_join_fails (&synthetic, "rows 14 to 14 are missing");
  }
  {
    g_auto(Synthetic) synthetic = { 0, };
    KilnSubtask *strip;

    synthetic_init (&synthetic, 3);
    strip = g_ptr_array_index (synthetic.strips, 1);
    strip->border_y -= 2;
    assert_join_fails (&synthetic, "rows 12 to 13 overlap");
  }
  {
    g_auto(Synthetic) synthetic = { 0, };

    synthetic_init (&synthetic, 3);
    g_ptr_array_remove_index (synthetic.strips, 2);
    g_free (synthetic.paths[2]);
    synthetic.paths[2] = NULL;
    assert_join_fails (&synthetic, "are missing");
  }
  {
    g_auto(Synthetic) synthetic = { 0, };

    synthetic_init (&synthetic, 3);
    g_ptr_array_remove_index (synthetic.strips, 2);
    assert_join_fails (&synthetic, "more images than strips");
  }
  {
    g_auto(Synthetic) synthetic = { 0, };
    g_autoptr(KilnImage) small = test_card (50, 5, 4, 8, 9);
    g_autoptr(GError) error = NULL;

    /* An image of the wrong size, and one of another kind. */
    synthetic_init (&synthetic, 3);
    g_assert_true (kiln_image_save_png (small, synthetic.paths[1], &error));
    assert_join_fails (&synthetic, "is 50×5 pixels instead of 50×14");
  }
  {
    g_auto(Synthetic) synthetic = { 0, };
    g_autoptr(KilnImage) rgb = test_card (50, 14, 3, 8, 9);
    g_autoptr(GError) error = NULL;

    synthetic_init (&synthetic, 3);
    g_assert_true (kiln_image_save_png (rgb, synthetic.paths[1], &error));
    assert_join_fails (&synthetic, "has 3 channels of 8 bits, the strip above 4 of 8");
  }
  {
    g_auto(Synthetic) synthetic = { 0, };
    KilnSubtask *strip;

    synthetic_init (&synthetic, 3);
    strip = g_ptr_array_index (synthetic.strips, 2);
    strip->frame_start = strip->frame_end = 4;
    assert_join_fails (&synthetic, "do not all belong to frame 3");
  }
  {
    g_auto(Synthetic) synthetic = { 0, };
    g_autofree char *output = NULL;
    g_autoptr(GError) error = NULL;

    synthetic_init (&synthetic, 3);
    output = path_in (synthetic.dir, "frame.png");
    g_unlink (synthetic.paths[0]);
    g_assert_false (kiln_assemble_strips (synthetic.strips,
                                          (const char * const *) synthetic.paths, output,
                                          &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  }
}

/* With Blender --------------------------------------------------------------------- */

static void
test_join_blender_strips (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnFrameSpec) frames = kiln_frame_spec_parse ("2", &error);
  g_autoptr(KilnJobPlan) job = NULL;
  g_autoptr(GPtrArray) strips = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(KilnImage) joined = NULL;
  g_autoptr(KilnImage) full = NULL;
  g_autoptr(KilnSubtask) whole = kiln_subtask_new ();
  g_autoptr(KilnRenderSpec) whole_spec = NULL;
  g_autofree char *scene = kiln_test_render_scene (&env, "anim.blend");
  g_autofree char *out = kiln_test_render_new_dir (&env, "blender-strips");
  g_autofree char *output = path_in (out, "joined.png");
  g_autofree char *full_dir = kiln_test_render_new_dir (&env, "blender-full");
  g_auto(GStrv) full_paths = NULL;
  g_auto(GStrv) paths = NULL;
  KilnImageDiff diff;

  /* 121 rows: strips at rows 30, 60 and 90, edges that Blender misplaces by a row
   * when handed the exact fraction (60/121 comes back as 59). */
  g_assert_no_error (error);
  job = kiln_job_plan_new (frames, 160, 121, 8, KILN_IMAGE_FORMAT_PNG, 4, 0, &error);
  g_assert_no_error (error);
  strips = kiln_job_plan_get_subtasks_for_frame (job, 2);
  g_assert_cmpuint (strips->len, ==, 4);

  for (guint i = 0; i < strips->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("strip-%u", i);
      g_autofree char *dir = path_in (out, name);
      g_autoptr(KilnRenderSpec) spec = NULL;
      g_auto(GStrv) rendered = NULL;

      g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
      spec = kiln_subtask_to_render_spec (g_ptr_array_index (strips, i), scene, dir);
      rendered = kiln_test_render_spec (&env, spec);
      g_assert_cmpuint (g_strv_length (rendered), ==, 1);
      g_strv_builder_add (builder, rendered[0]);
    }
  paths = g_strv_builder_end (builder);

  kiln_assemble_strips_async (strips, (const char * const *) paths, output, NULL,
                              kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  g_assert_true (kiln_assemble_strips_finish (result, &error));
  g_assert_no_error (error);

  whole->frame_start = whole->frame_end = 2;
  whole->width = 160;
  whole->height = 121;
  whole->samples = 8;
  whole_spec = kiln_subtask_to_render_spec (whole, scene, full_dir);
  full_paths = kiln_test_render_spec (&env, whole_spec);

  joined = kiln_image_load_png (output, &error);
  g_assert_no_error (error);
  full = kiln_image_load_png (full_paths[0], &error);
  g_assert_no_error (error);
  kiln_image_compare (joined, 0, 0, full, 0, 0, 160, 121, &diff);
  g_test_message ("joined strips against the full frame: %" G_GUINT64_FORMAT " of %"
                  G_GUINT64_FORMAT " values differ, largest difference %g",
                  diff.differing, diff.values, diff.max_diff);
  /* Identical, bit for bit. */
  assert_same (joined, full);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  kiln_test_render_set_up (&env);

  g_test_add_func ("/kiln/assembly/image/round-trip", test_image_round_trip);
  g_test_add_func ("/kiln/assembly/image/rectangles", test_image_rectangles);
  g_test_add_func ("/kiln/assembly/image/load-errors", test_image_load_errors);
  g_test_add_func ("/kiln/assembly/join/synthetic", test_join_synthetic);
  g_test_add_func ("/kiln/assembly/join/errors", test_join_errors);
  g_test_add_func ("/kiln/assembly/join/blender-strips", test_join_blender_strips);

  status = g_test_run ();
  kiln_test_render_tear_down (&env);
  return status;
}
