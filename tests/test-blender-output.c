/* test-blender-output.c: parsing Blender's console output
 *
 * The fixtures in tests/data/blender-output/ are real captures from Blender 3.4.1
 * (Debian 12) rendering small generated scenes: a two-frame Cycles render, an EEVEE
 * render, a render that needs OpenImageDenoise, a scene whose script was skipped,
 * missing textures, libraries and .blend files, three kinds of memory exhaustion
 * under a data-size limit, and a failing setup script.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "kiln-blender-output.h"

typedef struct
{
  KilnBlenderOutput *output;
  GPtrArray         *events;   /* KilnBlenderEvent, every line's */
} Capture;

static void
capture_free (Capture *capture)
{
  kiln_blender_output_free (capture->output);
  g_ptr_array_unref (capture->events);
  g_free (capture);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Capture, capture_free)

static Capture *
feed_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "blender-output",
                                                 name, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  Capture *capture;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  capture = g_new0 (Capture, 1);
  capture->output = kiln_blender_output_new ();
  capture->events = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_blender_event_free);

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      KilnBlenderEvent event;

      kiln_blender_output_feed (capture->output, lines[i], &event);
      g_ptr_array_add (capture->events, kiln_blender_event_copy (&event));
      kiln_blender_event_clear (&event);
    }
  return capture;
}

static guint
count_kind (Capture              *capture,
            KilnBlenderEventKind  kind)
{
  guint n = 0;

  for (guint i = 0; i < capture->events->len; i++)
    {
      KilnBlenderEvent *event = g_ptr_array_index (capture->events, i);

      if (event->kind == kind)
        n++;
    }
  return n;
}

static KilnBlenderEvent *
nth_of_kind (Capture              *capture,
             KilnBlenderEventKind  kind,
             guint                 nth)
{
  for (guint i = 0; i < capture->events->len; i++)
    {
      KilnBlenderEvent *event = g_ptr_array_index (capture->events, i);

      if (event->kind == kind && nth-- == 0)
        return event;
    }
  g_assert_not_reached ();
}

static void
assert_no_failure (Capture *capture)
{
  g_assert_false (kiln_blender_output_get_out_of_memory (capture->output));
  g_assert_false (kiln_blender_output_get_python_failed (capture->output));
  g_assert_false (kiln_blender_output_get_crashed (capture->output));
  g_assert_null (kiln_blender_output_get_first_error (capture->output));
  g_assert_null (kiln_blender_output_get_unreadable_file (capture->output));
  g_assert_cmpuint (kiln_blender_output_get_missing_files (capture->output)->len, ==, 0);
}

/* Cycles: progress, saved frames and frame times --------------------------------- */

static void
test_cycles_two_frames (void)
{
  g_autoptr(Capture) capture = feed_fixture ("two-frames.txt");
  KilnBlenderOutput *output = capture->output;
  GPtrArray *saved = kiln_blender_output_get_saved (output);
  GArray *times = kiln_blender_output_get_frame_times (output);
  KilnBlenderEvent *event;

  assert_no_failure (capture);
  g_assert_cmpstr (kiln_blender_output_get_version (output), ==, "3.4.1");
  g_assert_true (kiln_blender_output_get_quit (output));

  g_assert_cmpuint (saved->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (saved, 0), ==, "/tmp/kb/out/frame_0001.png");
  g_assert_cmpstr (g_ptr_array_index (saved, 1), ==, "/tmp/kb/out/frame_0002.png");

  g_assert_cmpuint (times->len, ==, 2);
  g_assert_cmpfloat_with_epsilon (g_array_index (times, double, 0), 0.28, 1e-9);
  g_assert_cmpfloat_with_epsilon (g_array_index (times, double, 1), 0.09, 1e-9);

  /* Sample 0/16, 1/16 and 16/16 for each frame. */
  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_PROGRESS), ==, 6);
  event = nth_of_kind (capture, KILN_BLENDER_EVENT_PROGRESS, 1);
  g_assert_cmpint (event->frame, ==, 1);
  g_assert_cmpuint (event->sample, ==, 1);
  g_assert_cmpuint (event->samples, ==, 16);
  g_assert_cmpfloat_with_epsilon (event->peak_mib, 10.83, 1e-9);
  g_assert_cmpstr (event->message, ==, "Scene, ViewLayer | Sample 1/16");
  event = nth_of_kind (capture, KILN_BLENDER_EVENT_PROGRESS, 5);
  g_assert_cmpint (event->frame, ==, 2);
  g_assert_cmpuint (event->sample, ==, 16);

  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_FRAME_FINISHED), ==, 2);
  event = nth_of_kind (capture, KILN_BLENDER_EVENT_READ_BLEND, 0);
  g_assert_cmpstr (event->path, ==, "/tmp/kb/simple.blend");

  /* Status lines keep their text, sub-status included. */
  event = nth_of_kind (capture, KILN_BLENDER_EVENT_STATUS, 0);
  g_assert_cmpstr (event->message, ==, "Scene, ViewLayer | Synchronizing object | Cube");

  g_assert_cmpint (kiln_blender_output_get_frame (output), ==, 2);
  g_assert_cmpuint (kiln_blender_output_get_sample (output), ==, 16);
  g_assert_cmpuint (kiln_blender_output_get_samples (output), ==, 16);
  g_assert_cmpfloat_with_epsilon (kiln_blender_output_get_peak_mib (output), 11.45, 1e-9);
}

static void
test_eevee (void)
{
  g_autoptr(Capture) capture = feed_fixture ("eevee.txt");
  KilnBlenderEvent *event;

  assert_no_failure (capture);
  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_PROGRESS), ==, 4);
  event = nth_of_kind (capture, KILN_BLENDER_EVENT_PROGRESS, 1);
  g_assert_cmpuint (event->sample, ==, 26);
  g_assert_cmpuint (event->samples, ==, 64);
  g_assert_cmpuint (kiln_blender_output_get_saved (capture->output)->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (g_array_index (kiln_blender_output_get_frame_times
                                                   (capture->output), double, 0), 3.80, 1e-9);
  /* EGL chatter is not an error. */
  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_ERROR), ==, 0);
}

/* Failures ------------------------------------------------------------------------ */

static void
test_denoiser_missing (void)
{
  g_autoptr(Capture) capture = feed_fixture ("denoiser-missing.txt");

  g_assert_cmpstr (kiln_blender_output_get_first_error (capture->output), ==,
                   "Build without OpenImageDenoiser");
  g_assert_cmpuint (kiln_blender_output_get_saved (capture->output)->len, ==, 0);
  g_assert_false (kiln_blender_output_get_out_of_memory (capture->output));
  g_assert_true (kiln_blender_output_get_quit (capture->output));
}

static void
test_scripts_disabled (void)
{
  g_autoptr(Capture) capture = feed_fixture ("scripts-disabled.txt");
  GPtrArray *skipped = kiln_blender_output_get_skipped_scripts (capture->output);
  KilnBlenderEvent *event = nth_of_kind (capture, KILN_BLENDER_EVENT_SCRIPT_SKIPPED, 0);

  assert_no_failure (capture);
  g_assert_cmpuint (skipped->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (skipped, 0), ==, "hostile.py");
  g_assert_cmpstr (event->path, ==, "/tmp/kb/hostile.blend");
  g_assert_cmpuint (kiln_blender_output_get_saved (capture->output)->len, ==, 1);
}

static void
test_missing_image (void)
{
  g_autoptr(Capture) capture = feed_fixture ("missing-image.txt");
  GPtrArray *missing = kiln_blender_output_get_missing_files (capture->output);

  g_assert_cmpuint (missing->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (missing, 0), ==, "/tmp/kb/textures/missing.png");
  /* This capture left the scene's denoiser on. */
  g_assert_cmpstr (kiln_blender_output_get_first_error (capture->output), ==,
                   "Build without OpenImageDenoiser");
}

static void
test_missing_library (void)
{
  g_autoptr(Capture) capture = feed_fixture ("missing-library.txt");
  GPtrArray *missing = kiln_blender_output_get_missing_files (capture->output);

  /* Reported twice ("Unable to open", "Cannot find lib"), listed once. */
  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_MISSING_FILE), ==, 2);
  g_assert_cmpuint (missing->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (missing, 0), ==, "/tmp/kb/libs/lib.blend");
  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_WARNING), ==, 1);
  g_assert_cmpstr (kiln_blender_output_get_first_error (capture->output), ==,
                   "Cannot render, no camera");
}

static void
test_missing_blend (void)
{
  g_autoptr(Capture) capture = feed_fixture ("missing-blend.txt");

  g_assert_cmpstr (kiln_blender_output_get_unreadable_file (capture->output), ==,
                   "/tmp/kb/nonexist.blend");
  g_assert_cmpstr (kiln_blender_output_get_first_error (capture->output), ==,
                   "Cannot read file '/tmp/kb/nonexist.blend': No such file or directory");
  g_assert_cmpuint (kiln_blender_output_get_saved (capture->output)->len, ==, 0);
}

static void
test_out_of_memory_mesh (void)
{
  g_autoptr(Capture) capture = feed_fixture ("out-of-memory-mesh.txt");
  KilnBlenderEvent *event = nth_of_kind (capture, KILN_BLENDER_EVENT_CRASH, 0);

  g_assert_true (kiln_blender_output_get_out_of_memory (capture->output));
  g_assert_true (kiln_blender_output_get_crashed (capture->output));
  g_assert_false (kiln_blender_output_get_quit (capture->output));
  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_OUT_OF_MEMORY), ==, 7);
  g_assert_cmpstr (event->path, ==, "/tmp/huge.crash.txt");
}

static void
test_out_of_memory_abort (void)
{
  g_autoptr(Capture) capture = feed_fixture ("out-of-memory-abort.txt");

  g_assert_true (kiln_blender_output_get_out_of_memory (capture->output));
  /* "Malloc returns null", then std::bad_alloc's two lines. */
  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_OUT_OF_MEMORY), ==, 3);
  g_assert_false (kiln_blender_output_get_quit (capture->output));
}

static void
test_out_of_memory_cycles (void)
{
  g_autoptr(Capture) capture = feed_fixture ("out-of-memory-cycles.txt");

  g_assert_true (kiln_blender_output_get_out_of_memory (capture->output));
  /* The allocator's line, Cycles' status, "run out of memory!", "Out of memory". */
  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_OUT_OF_MEMORY), ==, 4);
  g_assert_true (kiln_blender_output_get_quit (capture->output));
  g_assert_cmpuint (kiln_blender_output_get_saved (capture->output)->len, ==, 0);
}

static void
test_setup_script_failed (void)
{
  g_autoptr(Capture) capture = feed_fixture ("setup-script-failed.txt");

  g_assert_true (kiln_blender_output_get_python_failed (capture->output));
  g_assert_cmpstr (kiln_blender_output_get_first_error (capture->output), ==,
                   "Python: Traceback (most recent call last):");
  g_assert_cmpuint (count_kind (capture, KILN_BLENDER_EVENT_PYTHON_ERROR), ==, 2);
}

/* Single lines -------------------------------------------------------------------- */

static void
test_lines (void)
{
  static const struct {
    const char           *line;
    KilnBlenderEventKind  kind;
    int                   frame;
    const char           *path;
  } cases[] = {
    { "Fra:-12 Mem:9.04M (Peak 10.83M) | Time:00:00.00 | Scene, ViewLayer | Initializing",
      KILN_BLENDER_EVENT_STATUS, -12, NULL },
    { "Fra:x Mem:9.04M", KILN_BLENDER_EVENT_NONE, G_MININT, NULL },
    { "Fra:99999999999 Mem:1M", KILN_BLENDER_EVENT_NONE, G_MININT, NULL },
    { "Fra:3 Mem:1M | Scene, ViewLayer | Sample 5/", KILN_BLENDER_EVENT_STATUS, 3, NULL },
    { "Fra:3 Mem:1M | Rendering 5 / 9 samples extra", KILN_BLENDER_EVENT_STATUS, 3, NULL },
    { "Saved: '/a b/it''s.png'", KILN_BLENDER_EVENT_SAVED, G_MININT, "/a b/it''s.png" },
    { " Time: 01:02:03.50 (Saving: 00:00.13)", KILN_BLENDER_EVENT_FRAME_TIME, G_MININT, NULL },
    { " Time: soon", KILN_BLENDER_EVENT_NONE, G_MININT, NULL },
    { "Warning: Path 'x' not found here", KILN_BLENDER_EVENT_WARNING, G_MININT, NULL },
    { "Error: Not freed memory blocks: 3, total unfreed memory 0.001 MB",
      KILN_BLENDER_EVENT_NOTICE, G_MININT, NULL },
    { "MEM_mallocN_aligned returns null: len=1", KILN_BLENDER_EVENT_OUT_OF_MEMORY, G_MININT,
      NULL },
    { " returns null", KILN_BLENDER_EVENT_NONE, G_MININT, NULL },
    { "Writing: /tmp/a.crash.txt", KILN_BLENDER_EVENT_CRASH, G_MININT, "/tmp/a.crash.txt" },
    { "scripts disabled for \"/s.blend\", skipping", KILN_BLENDER_EVENT_NONE, G_MININT, NULL },
    { "Blender quitting", KILN_BLENDER_EVENT_NONE, G_MININT, NULL },
    { "", KILN_BLENDER_EVENT_NONE, G_MININT, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(KilnBlenderEvent) event = { 0, };

      g_test_message ("%s", cases[i].line);
      g_assert_cmpint (kiln_blender_parse_line (cases[i].line, &event), ==, cases[i].kind);
      g_assert_cmpint (event.frame, ==, cases[i].frame);
      g_assert_cmpstr (event.path, ==, cases[i].path);
      if (event.kind == KILN_BLENDER_EVENT_FRAME_TIME)
        g_assert_cmpfloat_with_epsilon (event.seconds, 3723.5, 1e-9);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/blender-output/cycles-two-frames", test_cycles_two_frames);
  g_test_add_func ("/kiln/blender-output/eevee", test_eevee);
  g_test_add_func ("/kiln/blender-output/denoiser-missing", test_denoiser_missing);
  g_test_add_func ("/kiln/blender-output/scripts-disabled", test_scripts_disabled);
  g_test_add_func ("/kiln/blender-output/missing-image", test_missing_image);
  g_test_add_func ("/kiln/blender-output/missing-library", test_missing_library);
  g_test_add_func ("/kiln/blender-output/missing-blend", test_missing_blend);
  g_test_add_func ("/kiln/blender-output/out-of-memory/mesh", test_out_of_memory_mesh);
  g_test_add_func ("/kiln/blender-output/out-of-memory/abort", test_out_of_memory_abort);
  g_test_add_func ("/kiln/blender-output/out-of-memory/cycles", test_out_of_memory_cycles);
  g_test_add_func ("/kiln/blender-output/setup-script-failed", test_setup_script_failed);
  g_test_add_func ("/kiln/blender-output/lines", test_lines);

  return g_test_run ();
}
