/* test-frame-spec.c: frame lists as people write them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "kiln-frame-spec.h"

static void
assert_frames (const char *text,
               const int  *expected,
               guint       n_expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnFrameSpec) spec = kiln_frame_spec_parse (text, &error);
  const int *frames;
  guint n = 0;

  g_assert_no_error (error);
  frames = kiln_frame_spec_get_frames (spec, &n);
  g_assert_cmpmem (frames, n * sizeof (int), expected, n_expected * sizeof (int));
  g_assert_cmpuint (kiln_frame_spec_get_n_frames (spec), ==, n_expected);
}

static void
test_parse (void)
{
  static const int single[] = { 7 };
  static const int range[] = { 1, 2, 3, 4, 5 };
  static const int list[] = { 1, 5, 9, 10, 11, 12 };
  static const int stepped[] = { 1, 4, 7, 10, 13, 16, 19 };
  static const int messy[] = { 0, 2, 3, 4, 6, 8, 10 };
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnFrameSpec) big = NULL;

  assert_frames ("7", single, G_N_ELEMENTS (single));
  assert_frames ("1-5", range, G_N_ELEMENTS (range));
  assert_frames ("1,5,9-12", list, G_N_ELEMENTS (list));
  assert_frames ("1-20x3", stepped, G_N_ELEMENTS (stepped));
  assert_frames ("1-20X3", stepped, G_N_ELEMENTS (stepped));
  /* Spaces, repeats, overlaps and any order. */
  assert_frames ("  12 , 9 - 11,5,1,10 ,12 ", list, G_N_ELEMENTS (list));
  assert_frames ("2-4x1,0-10x2,3-4,2-4", messy, G_N_ELEMENTS (messy));
  assert_frames ("5-5", (const int[]) { 5 }, 1);
  assert_frames ("1048574", (const int[]) { KILN_FRAME_MAX }, 1);

  /* The largest job, and items naming the same frames again. */
  big = kiln_frame_spec_parse ("1-100000,1-100000x2", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_frame_spec_get_n_frames (big), ==, KILN_FRAME_SPEC_MAX_FRAMES);
  g_assert_true (kiln_frame_spec_contains (big, 1));
  g_assert_true (kiln_frame_spec_contains (big, 100000));
  g_assert_false (kiln_frame_spec_contains (big, 0));
  g_assert_false (kiln_frame_spec_contains (big, 100001));
}

static void
assert_rejected (const char *text,
                 const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnFrameSpec) spec = kiln_frame_spec_parse (text, &error);

  g_assert_null (spec);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_test_message ("“%.40s”: %s", text, error->message);
  if (strstr (error->message, expected) == NULL)
    g_error ("“%.40s” gave “%s”, expected “%s”", text, error->message, expected);
}

static void
test_errors (void)
{
  g_autofree char *long_text = NULL;

  assert_rejected ("", "empty");
  assert_rejected ("   ", "empty");
  assert_rejected ("abc", "character 1: expected a frame number, found “a”");
  assert_rejected ("1-x", "character 3: expected the last frame of the range, found “x”");
  assert_rejected ("1,,2", "character 3: expected a frame number, found “,”");
  assert_rejected ("1,2,", "character 5: expected a frame number, found the end");
  assert_rejected ("-5", "character 1: frame numbers cannot be negative");
  assert_rejected ("3, -1", "character 4: frame numbers cannot be negative");
  assert_rejected ("1--5", "character 3: frame numbers cannot be negative");
  assert_rejected ("10-1", "character 1: the range 10-1 runs backwards; write 1-10");
  assert_rejected ("1, 20-3", "character 4: the range 20-3 runs backwards");
  assert_rejected ("1-10x0", "character 6: the step must be at least 1");
  assert_rejected ("1-10x", "character 6: expected a step, found the end");
  assert_rejected ("1-10y2", "character 5: expected a comma or the end, found “y”");
  assert_rejected ("5 6", "character 3: expected a comma or the end, found “6”");
  assert_rejected ("1048575", "character 1: frames go up to 1048574");
  assert_rejected ("99999999999999999999", "frames go up to");
  assert_rejected ("0-100000", "more than 100000 frames");
  assert_rejected ("1-60000,100000-160000", "character 9: the list now has more than");
  assert_rejected ("é", "character 1: expected a frame number, found “é”");
  assert_rejected ("1,2,€", "character 5");

  long_text = g_strnfill (KILN_FRAME_SPEC_MAX_LENGTH + 1, '1');
  assert_rejected (long_text, "longer than");
  {
    /* Items that name the same frames over and over: refused before they cost much. */
    g_autoptr(GString) repeats = g_string_new (NULL);

    for (guint i = 0; i < 11; i++)
      g_string_append (repeats, "1-100000,");
    g_string_append (repeats, "1");
    assert_rejected (repeats->str, "repeats included");
  }
}

static void
assert_round_trip (const char *text,
                   const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnFrameSpec) spec = kiln_frame_spec_parse (text, &error);
  g_autoptr(KilnFrameSpec) again = NULL;
  g_autofree char *formatted = NULL;

  g_assert_no_error (error);
  formatted = kiln_frame_spec_to_string (spec);
  g_assert_cmpstr (formatted, ==, expected);
  again = kiln_frame_spec_parse (formatted, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_frame_spec_equal (spec, again));
}

static void
test_format (void)
{
  assert_round_trip ("1-250", "1-250");
  assert_round_trip ("1,5,9-12", "1-9x4,10-12");
  assert_round_trip ("1-20x3", "1-19x3");
  assert_round_trip ("7", "7");
  assert_round_trip ("3,1", "1,3");
  assert_round_trip ("1,2,3,5,8", "1-3,5,8");
  assert_round_trip ("1,4,5,6,7", "1,4-7");
  assert_round_trip ("0,2,4,5,6", "0-4x2,5,6");
  assert_round_trip ("10 , 20 , 30 , 31", "10-30x10,31");
}

/* Random lists: parse (format (frames)) gives the same frames. */
static void
test_round_trip_random (void)
{
  GRand *rand = g_rand_new_with_seed (20240601);

  for (guint round = 0; round < 300; round++)
    {
      guint n = g_rand_int_range (rand, 1, 200);
      g_autofree int *frames = g_new (int, n);
      g_autoptr(GError) error = NULL;
      g_autoptr(KilnFrameSpec) spec = NULL;
      g_autoptr(KilnFrameSpec) again = NULL;
      g_autoptr(GArray) runs = NULL;
      g_autofree char *text = NULL;
      int base = g_rand_int_range (rand, 0, 1000);
      guint covered = 0;

      for (guint i = 0; i < n; i++)
        frames[i] = base + g_rand_int_range (rand, 0, 1 + (int) n * g_rand_int_range (rand, 1, 4));
      spec = kiln_frame_spec_new_from_frames (frames, n, &error);
      g_assert_no_error (error);
      text = kiln_frame_spec_to_string (spec);
      again = kiln_frame_spec_parse (text, &error);
      g_assert_no_error (error);
      g_assert_true (kiln_frame_spec_equal (spec, again));
      for (guint i = 0; i < n; i++)
        g_assert_true (kiln_frame_spec_contains (again, frames[i]));

      /* The runs hold each frame once, in order. */
      runs = kiln_frame_spec_get_runs (spec);
      for (guint r = 0; r < runs->len; r++)
        {
          const KilnFrameRun *run = &g_array_index (runs, KilnFrameRun, r);

          g_assert_cmpint (run->step, >=, 1);
          for (int f = run->first; f <= run->last; f += run->step)
            g_assert_cmpint (f, ==, kiln_frame_spec_get_frame (spec, covered++));
        }
      g_assert_cmpuint (covered, ==, kiln_frame_spec_get_n_frames (spec));
    }
  g_rand_free (rand);
}

static void
test_constructors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnFrameSpec) range = kiln_frame_spec_new_range (1, 9, 4, &error);
  g_autoptr(KilnFrameSpec) bad = NULL;
  g_autoptr(KilnFrameSpec) copy = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  text = kiln_frame_spec_to_string (range);
  g_assert_cmpstr (text, ==, "1-9x4");

  bad = kiln_frame_spec_new_range (5, 1, 1, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  bad = kiln_frame_spec_new_range (-1, 1, 1, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  bad = kiln_frame_spec_new_range (1, 2, 0, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  bad = kiln_frame_spec_new_range (0, KILN_FRAME_MAX, 1, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  bad = kiln_frame_spec_new_from_frames (NULL, 0, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  bad = kiln_frame_spec_new_from_frames ((const int[]) { 3, -2 }, 2, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (bad);

  /* A boxed type: copies share the frames. */
  copy = g_boxed_copy (KILN_TYPE_FRAME_SPEC, range);
  g_assert_true (copy == range);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/frame-spec/parse", test_parse);
  g_test_add_func ("/kiln/frame-spec/errors", test_errors);
  g_test_add_func ("/kiln/frame-spec/format", test_format);
  g_test_add_func ("/kiln/frame-spec/round-trip-random", test_round_trip_random);
  g_test_add_func ("/kiln/frame-spec/constructors", test_constructors);

  return g_test_run ();
}
