/* test-job-plan.c: splitting jobs into chunks of frames and strips of frames
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kiln-job-plan.h"

static KilnJobPlan *
plan (const char       *frames_text,
      guint             width,
      guint             height,
      KilnImageFormat   format,
      guint             subtasks,
      KilnJobPlanFlags  flags)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnFrameSpec) frames = kiln_frame_spec_parse (frames_text, &error);
  KilnJobPlan *job;

  g_assert_no_error (error);
  job = kiln_job_plan_new (frames, width, height, 16, format, subtasks, flags, &error);
  g_assert_no_error (error);
  return job;
}

static void
assert_chunk (KilnJobPlan *job,
              guint        index,
              int          start,
              int          end,
              int          step)
{
  const KilnSubtask *subtask = kiln_job_plan_get_subtask (job, index);

  g_assert_cmpuint (subtask->index, ==, index);
  g_assert_cmpint (subtask->frame_start, ==, start);
  g_assert_cmpint (subtask->frame_end, ==, end);
  g_assert_cmpint (subtask->frame_step, ==, step);
  g_assert_false (subtask->use_border);
}

/* Serialising and reading back checks coverage: every frame once, every row once. */
static KilnJobPlan *
round_trip (KilnJobPlan *job)
{
  g_autoptr(JsonNode) node = kiln_job_plan_to_json (job);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr(JsonNode) parsed = json_from_string (text, &error);
  KilnJobPlan *again;

  g_assert_no_error (error);
  again = kiln_job_plan_new_from_json (parsed, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (again), ==, kiln_job_plan_get_n_subtasks (job));
  g_assert_cmpuint (kiln_job_plan_get_n_strips (again), ==, kiln_job_plan_get_n_strips (job));
  g_assert_true (kiln_frame_spec_equal (kiln_job_plan_get_frames (again),
                                        kiln_job_plan_get_frames (job)));
  for (guint i = 0; i < kiln_job_plan_get_n_subtasks (job); i++)
    g_assert_cmpmem (kiln_job_plan_get_subtask (job, i), sizeof (KilnSubtask),
                     kiln_job_plan_get_subtask (again, i), sizeof (KilnSubtask));
  return again;
}

static void
test_chunks (void)
{
  g_autoptr(KilnJobPlan) ten = plan ("1-10", 160, 120, KILN_IMAGE_FORMAT_PNG, 3, 0);
  g_autoptr(KilnJobPlan) stepped = plan ("1-20x3", 160, 120, KILN_IMAGE_FORMAT_PNG, 2, 0);
  g_autoptr(KilnJobPlan) exact = plan ("1-4", 160, 120, KILN_IMAGE_FORMAT_PNG, 4, 0);
  g_autoptr(KilnJobPlan) runs = plan ("1,5,9-12", 160, 120, KILN_IMAGE_FORMAT_PNG, 1, 0);
  g_autoptr(KilnJobPlan) again = NULL;

  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (ten), ==, 3);
  assert_chunk (ten, 0, 1, 4, 1);
  assert_chunk (ten, 1, 5, 7, 1);
  assert_chunk (ten, 2, 8, 10, 1);
  g_assert_cmpuint (kiln_job_plan_get_n_strips (ten), ==, 1);
  again = round_trip (ten);

  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (stepped), ==, 2);
  assert_chunk (stepped, 0, 1, 10, 3);
  assert_chunk (stepped, 1, 13, 19, 3);
  g_assert_cmpuint (kiln_subtask_get_n_frames (kiln_job_plan_get_subtask (stepped, 0)), ==, 4);

  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (exact), ==, 4);
  for (guint i = 0; i < 4; i++)
    assert_chunk (exact, i, (int) i + 1, (int) i + 1, 1);

  /* One subtask renders one evenly spaced run: two runs need two subtasks. */
  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (runs), ==, 2);
  assert_chunk (runs, 0, 1, 9, 4);
  assert_chunk (runs, 1, 10, 12, 1);
}

static void
assert_tiles (KilnJobPlan *job,
              int          frame,
              guint        strips)
{
  g_autoptr(GPtrArray) subtasks = kiln_job_plan_get_subtasks_for_frame (job, frame);
  guint next_row = 0;

  g_assert_cmpuint (subtasks->len, ==, strips);
  for (guint i = 0; i < subtasks->len; i++)
    {
      const KilnSubtask *subtask = g_ptr_array_index (subtasks, i);
      guint expected_top = (guint) ((guint64) i * kiln_job_plan_get_height (job) / strips);

      g_assert_true (subtask->use_border);
      g_assert_cmpint (subtask->frame_start, ==, frame);
      g_assert_cmpint (subtask->frame_end, ==, frame);
      g_assert_cmpuint (subtask->border_x, ==, 0);
      g_assert_cmpuint (subtask->border_width, ==, kiln_job_plan_get_width (job));
      g_assert_cmpuint (subtask->border_y, ==, next_row);
      g_assert_cmpuint (subtask->border_y, ==, expected_top);
      g_assert_cmpuint (subtask->border_height, >=, KILN_JOB_PLAN_MIN_STRIP_ROWS);
      next_row += subtask->border_height;
    }
  g_assert_cmpuint (next_row, ==, kiln_job_plan_get_height (job));
}

static void
test_strips (void)
{
  g_autoptr(KilnJobPlan) one = plan ("1", 160, 120, KILN_IMAGE_FORMAT_PNG, 4, 0);
  g_autoptr(KilnJobPlan) odd = plan ("5", 97, 121, KILN_IMAGE_FORMAT_PNG, 7, 0);
  g_autoptr(KilnJobPlan) thin = plan ("1", 160, 20, KILN_IMAGE_FORMAT_PNG, 10, 0);
  g_autoptr(KilnJobPlan) three = plan ("1-3", 160, 120, KILN_IMAGE_FORMAT_PNG, 8, 0);
  g_autoptr(KilnJobPlan) exr = plan ("1", 160, 120, KILN_IMAGE_FORMAT_OPEN_EXR, 4, 0);
  g_autoptr(KilnJobPlan) no_strips = plan ("1", 160, 120, KILN_IMAGE_FORMAT_PNG, 4,
                                           KILN_JOB_PLAN_FLAGS_NO_STRIPS);
  g_autoptr(KilnJobPlan) tiny = plan ("1", 160, 15, KILN_IMAGE_FORMAT_PNG, 4, 0);
  g_autoptr(KilnJobPlan) again = NULL;
  const KilnSubtask *subtask;
  guint width, height;

  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (one), ==, 4);
  g_assert_cmpuint (kiln_job_plan_get_n_strips (one), ==, 4);
  assert_tiles (one, 1, 4);
  subtask = kiln_job_plan_get_subtask (one, 1);
  g_assert_cmpuint (subtask->border_y, ==, 30);
  g_assert_cmpuint (subtask->border_height, ==, 30);
  kiln_subtask_get_output_size (subtask, &width, &height);
  g_assert_cmpuint (width, ==, 160);
  g_assert_cmpuint (height, ==, 30);
  again = round_trip (one);

  /* 121 rows in 7 strips: 17 or 18 rows each, no gap, no overlap. */
  assert_tiles (odd, 5, 7);
  g_clear_object (&again);
  again = round_trip (odd);

  /* Strips are at least 8 rows high. */
  assert_tiles (thin, 1, 2);
  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (thin), ==, 2);

  /* 8 subtasks for 3 frames: 2 strips each (a third strip for one frame alone
   * would not finish the job sooner). */
  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (three), ==, 6);
  for (int frame = 1; frame <= 3; frame++)
    assert_tiles (three, frame, 2);
  g_clear_object (&again);
  again = round_trip (three);

  /* Whole frames: OpenEXR strips are not joined, some scenes ask for no strips,
   * and a frame too short for two strips. */
  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (exr), ==, 1);
  assert_chunk (exr, 0, 1, 1, 1);
  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (no_strips), ==, 1);
  g_assert_cmpuint (kiln_job_plan_get_n_subtasks (tiny), ==, 1);
}

static void
test_invalid_settings (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnFrameSpec) frames = kiln_frame_spec_parse ("1-3", &error);
  g_autoptr(KilnJobPlan) job = NULL;

  g_assert_no_error (error);
  job = kiln_job_plan_new (frames, 0, 120, 16, KILN_IMAGE_FORMAT_PNG, 2, 0, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  job = kiln_job_plan_new (frames, 160, 70000, 16, KILN_IMAGE_FORMAT_PNG, 2, 0, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  job = kiln_job_plan_new (frames, 160, 120, 0, KILN_IMAGE_FORMAT_PNG, 2, 0, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  job = kiln_job_plan_new (frames, 160, 120, 16, KILN_IMAGE_FORMAT_PNG, 0, 0, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (job);
}

static KilnSubtask *
subtask_from_text (const char  *text,
                   GError     **error)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  return kiln_subtask_new_from_json (node, error);
}

static void
assert_subtask_rejected (const char *text,
                         const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSubtask) subtask = subtask_from_text (text, &error);

  g_assert_null (subtask);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("%s", error->message);
  if (strstr (error->message, expected) == NULL)
    g_error ("%s gave “%s”, expected “%s”", text, error->message, expected);
}

static void
test_subtask_json (void)
{
  static const char strip[] =
    "{\"index\":3,\"frames\":{\"start\":7,\"end\":7,\"step\":1},\"width\":1920,"
    "\"height\":1080,\"samples\":128,\"format\":\"PNG\","
    "\"border\":{\"x\":0,\"y\":270,\"width\":1920,\"height\":270}}";
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSubtask) subtask = subtask_from_text (strip, &error);
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (subtask->index, ==, 3);
  g_assert_cmpint (subtask->frame_start, ==, 7);
  g_assert_cmpuint (subtask->samples, ==, 128);
  g_assert_true (subtask->use_border);
  g_assert_cmpuint (subtask->border_y, ==, 270);
  g_assert_cmpuint (subtask->border_height, ==, 270);
  node = kiln_subtask_to_json (subtask);
  text = json_to_string (node, FALSE);
  g_assert_cmpstr (text, ==, strip);

  assert_subtask_rejected ("[1]", "not a JSON object");
  assert_subtask_rejected ("{\"index\":0}", "no frames");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":1,\"end\":1,\"step\":1},"
                           "\"width\":160,\"height\":120,\"samples\":8}", "format");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":1,\"end\":1,\"step\":1},"
                           "\"width\":160,\"height\":120,\"samples\":8,\"format\":\"JPEG\"}",
                           "format is unknown");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":-1,\"end\":1,\"step\":1},"
                           "\"width\":160,\"height\":120,\"samples\":8,\"format\":\"PNG\"}",
                           "“start” is out of range");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":5,\"end\":1,\"step\":1},"
                           "\"width\":160,\"height\":120,\"samples\":8,\"format\":\"PNG\"}",
                           "frame range");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":1,\"end\":1,\"step\":0},"
                           "\"width\":160,\"height\":120,\"samples\":8,\"format\":\"PNG\"}",
                           "“step” is out of range");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":1,\"end\":1,\"step\":1},"
                           "\"width\":\"160\",\"height\":120,\"samples\":8,\"format\":\"PNG\"}",
                           "“width” is missing or not a whole number");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":1,\"end\":1,\"step\":1},"
                           "\"width\":160,\"height\":120,\"samples\":1.5,\"format\":\"PNG\"}",
                           "“samples”");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":1,\"end\":1,\"step\":1},"
                           "\"width\":160,\"height\":120,\"samples\":8,\"format\":\"PNG\","
                           "\"border\":{\"x\":0,\"y\":100,\"width\":160,\"height\":30}}",
                           "outside the frame");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":1,\"end\":1,\"step\":1},"
                           "\"width\":160,\"height\":120,\"samples\":8,\"format\":\"PNG\","
                           "\"border\":7}", "border is not an object");
  assert_subtask_rejected ("{\"index\":0,\"frames\":{\"start\":0,\"end\":1000000,\"step\":1},"
                           "\"width\":160,\"height\":120,\"samples\":8,\"format\":\"PNG\"}",
                           "too many frames");
}

static void
assert_plan_rejected (KilnJobPlan *job,
                      void       (*tamper) (JsonArray *subtasks),
                      const char  *expected)
{
  g_autoptr(JsonNode) node = kiln_job_plan_to_json (job);
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnJobPlan) again = NULL;

  tamper (json_object_get_array_member (json_node_get_object (node), "subtasks"));
  again = kiln_job_plan_new_from_json (node, &error);
  g_assert_null (again);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, expected));
}

static JsonObject *
subtask_object (JsonArray *subtasks,
                guint      index)
{
  return json_array_get_object_element (subtasks, index);
}

static void
move_strip_down (JsonArray *subtasks)
{
  JsonObject *border = json_object_get_object_member (subtask_object (subtasks, 1), "border");

  json_object_set_int_member (border, "y", json_object_get_int_member (border, "y") + 1);
}

static void
drop_last (JsonArray *subtasks)
{
  json_array_remove_element (subtasks, json_array_get_length (subtasks) - 1);
}

static void
repeat_frame (JsonArray *subtasks)
{
  JsonObject *frames = json_object_get_object_member (subtask_object (subtasks, 1), "frames");

  json_object_set_int_member (frames, "start", 1);
}

static void
extra_frame (JsonArray *subtasks)
{
  JsonObject *frames = json_object_get_object_member (subtask_object (subtasks, 2), "frames");

  json_object_set_int_member (frames, "end", 11);
}

static void
shuffle (JsonArray *subtasks)
{
  json_object_set_int_member (subtask_object (subtasks, 0), "index", 1);
}

static void
test_plan_json_checks (void)
{
  g_autoptr(KilnJobPlan) strips = plan ("1", 160, 120, KILN_IMAGE_FORMAT_PNG, 4, 0);
  g_autoptr(KilnJobPlan) chunks = plan ("1-10", 160, 120, KILN_IMAGE_FORMAT_PNG, 3, 0);

  assert_plan_rejected (strips, move_strip_down, "gaps or overlap");
  assert_plan_rejected (strips, drop_last, "gaps or overlap");
  assert_plan_rejected (chunks, repeat_frame, "more than once");
  assert_plan_rejected (chunks, extra_frame, "not asked for");
  assert_plan_rejected (chunks, drop_last, "not rendered");
  assert_plan_rejected (chunks, shuffle, "out of order");
}

/* Random jobs: every plan covers its frames exactly (checked by reading it back)
 * and uses no more subtasks than asked for, unless the list has more runs. */
static void
test_plan_random (void)
{
  GRand *rand = g_rand_new_with_seed (77);

  for (guint round = 0; round < 200; round++)
    {
      guint n = g_rand_int_range (rand, 1, 40);
      g_autofree int *frames = g_new (int, n);
      g_autoptr(GError) error = NULL;
      g_autoptr(KilnFrameSpec) spec = NULL;
      g_autoptr(KilnJobPlan) job = NULL;
      g_autoptr(KilnJobPlan) again = NULL;
      g_autoptr(GArray) runs = NULL;
      guint max_subtasks = g_rand_int_range (rand, 1, 64);
      guint height = g_rand_int_range (rand, 1, 400);
      guint longest = 0, shortest = G_MAXUINT;

      for (guint i = 0; i < n; i++)
        frames[i] = g_rand_int_range (rand, 0, 60);
      spec = kiln_frame_spec_new_from_frames (frames, n, &error);
      g_assert_no_error (error);
      job = kiln_job_plan_new (spec, g_rand_int_range (rand, 1, 400), height, 4,
                               KILN_IMAGE_FORMAT_PNG, max_subtasks, 0, &error);
      g_assert_no_error (error);
      again = round_trip (job);
      runs = kiln_frame_spec_get_runs (spec);
      g_assert_cmpuint (kiln_job_plan_get_n_subtasks (job), <=, MAX (max_subtasks, runs->len));

      /* Chunks of one run differ in length by one frame at most. */
      if (kiln_job_plan_get_n_strips (job) == 1 && runs->len == 1)
        {
          for (guint i = 0; i < kiln_job_plan_get_n_subtasks (job); i++)
            {
              guint length = kiln_subtask_get_n_frames (kiln_job_plan_get_subtask (job, i));

              longest = MAX (longest, length);
              shortest = MIN (shortest, length);
            }
          g_assert_cmpuint (longest - shortest, <=, 1);
        }
    }
  g_rand_free (rand);
}

static void
test_render_spec (void)
{
  g_autoptr(KilnJobPlan) stepped = plan ("1-20x3", 160, 120, KILN_IMAGE_FORMAT_PNG, 2, 0);
  g_autoptr(KilnJobPlan) strips = plan ("4", 160, 120, KILN_IMAGE_FORMAT_PNG, 4, 0);
  g_autoptr(KilnRenderSpec) chunk = NULL;
  g_autoptr(KilnRenderSpec) strip = NULL;
  g_autoptr(GError) error = NULL;
  const char *out = g_get_tmp_dir ();
  guint width, height;

  chunk = kiln_subtask_to_render_spec (kiln_job_plan_get_subtask (stepped, 1),
                                       "/scenes/anim.blend", out);
  g_assert_cmpstr (chunk->blend_file, ==, "/scenes/anim.blend");
  g_assert_cmpstr (chunk->output_dir, ==, out);
  g_assert_cmpint (chunk->frame_start, ==, 13);
  g_assert_cmpint (chunk->frame_end, ==, 19);
  g_assert_cmpint (chunk->frame_step, ==, 3);
  g_assert_cmpuint (kiln_render_spec_get_frame_count (chunk), ==, 3);
  g_assert_cmpuint (chunk->samples, ==, 16);
  g_assert_false (chunk->denoise);
  g_assert_false (chunk->use_border);
  g_assert_true (kiln_render_spec_validate (chunk, &error));
  g_assert_no_error (error);

  strip = kiln_subtask_to_render_spec (kiln_job_plan_get_subtask (strips, 3),
                                       "/scenes/anim.blend", out);
  g_assert_true (strip->use_border);
  g_assert_cmpuint (strip->border_y, ==, 90);
  kiln_render_spec_get_output_size (strip, &width, &height);
  g_assert_cmpuint (width, ==, 160);
  g_assert_cmpuint (height, ==, 30);
  g_assert_true (kiln_render_spec_validate (strip, &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/job-plan/chunks", test_chunks);
  g_test_add_func ("/kiln/job-plan/strips", test_strips);
  g_test_add_func ("/kiln/job-plan/invalid-settings", test_invalid_settings);
  g_test_add_func ("/kiln/job-plan/subtask-json", test_subtask_json);
  g_test_add_func ("/kiln/job-plan/plan-json-checks", test_plan_json_checks);
  g_test_add_func ("/kiln/job-plan/random", test_plan_random);
  g_test_add_func ("/kiln/job-plan/render-spec", test_render_spec);

  return g_test_run ();
}
