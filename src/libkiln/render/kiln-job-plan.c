/* kiln-job-plan.c: splitting a job into subtasks providers render
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "kiln-job-plan.h"

/* The same limits a provider's KilnRenderSpec applies. */
#define MAX_DIMENSION 65536
#define MAX_SAMPLES   (1 << 24)

/* Subtasks ----------------------------------------------------------------------------- */

G_DEFINE_BOXED_TYPE (KilnSubtask, kiln_subtask, kiln_subtask_copy, kiln_subtask_free)

KilnSubtask *
kiln_subtask_new (void)
{
  KilnSubtask *subtask = g_new0 (KilnSubtask, 1);

  subtask->frame_start = 1;
  subtask->frame_end = 1;
  subtask->frame_step = 1;
  subtask->format = KILN_IMAGE_FORMAT_PNG;
  return subtask;
}

KilnSubtask *
kiln_subtask_copy (const KilnSubtask *subtask)
{
  g_return_val_if_fail (subtask != NULL, NULL);
  return g_memdup2 (subtask, sizeof *subtask);
}

void
kiln_subtask_free (KilnSubtask *subtask)
{
  g_free (subtask);
}

guint
kiln_subtask_get_n_frames (const KilnSubtask *subtask)
{
  g_return_val_if_fail (subtask != NULL, 0);

  if (subtask->frame_end < subtask->frame_start || subtask->frame_step < 1)
    return 0;
  return (guint) (((gint64) subtask->frame_end - subtask->frame_start) / subtask->frame_step + 1);
}

void
kiln_subtask_get_output_size (const KilnSubtask *subtask,
                              guint             *width,
                              guint             *height)
{
  g_return_if_fail (subtask != NULL);

  if (width != NULL)
    *width = subtask->use_border ? subtask->border_width : subtask->width;
  if (height != NULL)
    *height = subtask->use_border ? subtask->border_height : subtask->height;
}

static gboolean
invalid (GError     **error,
         const char  *message)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("Invalid subtask: %s"), message);
  return FALSE;
}

gboolean
kiln_subtask_validate (const KilnSubtask  *subtask,
                       GError            **error)
{
  g_return_val_if_fail (subtask != NULL, FALSE);

  if (subtask->frame_start < 0 || subtask->frame_end > KILN_FRAME_MAX ||
      subtask->frame_end < subtask->frame_start)
    return invalid (error, _("its frame range is empty or outside Blender’s frames"));
  if (subtask->frame_step < 1)
    return invalid (error, _("its frame step is below 1"));
  if (kiln_subtask_get_n_frames (subtask) > KILN_FRAME_SPEC_MAX_FRAMES)
    return invalid (error, _("it has too many frames"));
  if (subtask->width == 0 || subtask->height == 0 ||
      subtask->width > MAX_DIMENSION || subtask->height > MAX_DIMENSION)
    return invalid (error, _("its resolution is out of range"));
  if (subtask->samples == 0 || subtask->samples > MAX_SAMPLES)
    return invalid (error, _("its sample count is out of range"));
  if (subtask->format != KILN_IMAGE_FORMAT_PNG && subtask->format != KILN_IMAGE_FORMAT_OPEN_EXR)
    return invalid (error, _("its image format is unknown"));
  if (subtask->use_border &&
      (subtask->border_width == 0 || subtask->border_height == 0 ||
       subtask->border_x >= subtask->width || subtask->border_y >= subtask->height ||
       subtask->border_width > subtask->width - subtask->border_x ||
       subtask->border_height > subtask->height - subtask->border_y))
    return invalid (error, _("its strip lies outside the frame"));
  return TRUE;
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
build_subtask (JsonBuilder       *builder,
               const KilnSubtask *subtask)
{
  json_builder_begin_object (builder);
  add_int (builder, "index", subtask->index);
  json_builder_set_member_name (builder, "frames");
  json_builder_begin_object (builder);
  add_int (builder, "start", subtask->frame_start);
  add_int (builder, "end", subtask->frame_end);
  add_int (builder, "step", subtask->frame_step);
  json_builder_end_object (builder);
  add_int (builder, "width", subtask->width);
  add_int (builder, "height", subtask->height);
  add_int (builder, "samples", subtask->samples);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, kiln_image_format_get_blender_name (subtask->format));
  if (subtask->use_border)
    {
      json_builder_set_member_name (builder, "border");
      json_builder_begin_object (builder);
      add_int (builder, "x", subtask->border_x);
      add_int (builder, "y", subtask->border_y);
      add_int (builder, "width", subtask->border_width);
      add_int (builder, "height", subtask->border_height);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
}

JsonNode *
kiln_subtask_to_json (const KilnSubtask *subtask)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (subtask != NULL, NULL);

  build_subtask (builder, subtask);
  return json_builder_get_root (builder);
}

/* Strict readers: the member must exist, be an integer and lie in range. */
static gboolean
read_int (JsonObject  *object,
          const char  *name,
          gint64       min,
          gint64       max,
          gint64      *value,
          GError     **error)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Invalid subtask: “%s” is missing or not a whole number"), name);
      return FALSE;
    }
  *value = json_node_get_int (node);
  if (*value < min || *value > max)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Invalid subtask: “%s” is out of range"), name);
      return FALSE;
    }
  return TRUE;
}

static JsonObject *
read_object (JsonObject *object,
             const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

KilnSubtask *
kiln_subtask_new_from_json (JsonNode  *node,
                            GError   **error)
{
  g_autoptr(KilnSubtask) subtask = kiln_subtask_new ();
  JsonObject *object, *frames, *border;
  JsonNode *format;
  gint64 index, start, end, step, width, height, samples;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      invalid (error, _("it is not a JSON object"));
      return NULL;
    }
  object = json_node_get_object (node);
  frames = read_object (object, "frames");
  if (frames == NULL)
    {
      invalid (error, _("it has no frames"));
      return NULL;
    }
  if (!read_int (object, "index", 0, KILN_JOB_PLAN_MAX_SUBTASKS - 1, &index, error) ||
      !read_int (frames, "start", 0, KILN_FRAME_MAX, &start, error) ||
      !read_int (frames, "end", 0, KILN_FRAME_MAX, &end, error) ||
      !read_int (frames, "step", 1, KILN_FRAME_MAX, &step, error) ||
      !read_int (object, "width", 1, MAX_DIMENSION, &width, error) ||
      !read_int (object, "height", 1, MAX_DIMENSION, &height, error) ||
      !read_int (object, "samples", 1, MAX_SAMPLES, &samples, error))
    return NULL;

  format = json_object_get_member (object, "format");
  if (format == NULL || !JSON_NODE_HOLDS_VALUE (format) ||
      json_node_get_value_type (format) != G_TYPE_STRING ||
      !kiln_image_format_from_blender_name (json_node_get_string (format), &subtask->format))
    {
      invalid (error, _("its image format is unknown"));
      return NULL;
    }

  subtask->index = (guint) index;
  subtask->frame_start = (int) start;
  subtask->frame_end = (int) end;
  subtask->frame_step = (int) step;
  subtask->width = (guint) width;
  subtask->height = (guint) height;
  subtask->samples = (guint) samples;

  if (json_object_has_member (object, "border"))
    {
      gint64 x, y, border_width, border_height;

      border = read_object (object, "border");
      if (border == NULL)
        {
          invalid (error, _("its border is not an object"));
          return NULL;
        }
      if (!read_int (border, "x", 0, MAX_DIMENSION, &x, error) ||
          !read_int (border, "y", 0, MAX_DIMENSION, &y, error) ||
          !read_int (border, "width", 1, MAX_DIMENSION, &border_width, error) ||
          !read_int (border, "height", 1, MAX_DIMENSION, &border_height, error))
        return NULL;
      subtask->use_border = TRUE;
      subtask->border_x = (guint) x;
      subtask->border_y = (guint) y;
      subtask->border_width = (guint) border_width;
      subtask->border_height = (guint) border_height;
    }

  if (!kiln_subtask_validate (subtask, error))
    return NULL;
  return g_steal_pointer (&subtask);
}

KilnRenderSpec *
kiln_subtask_to_render_spec (const KilnSubtask *subtask,
                             const char        *blend_file,
                             const char        *output_dir)
{
  KilnRenderSpec *spec;

  g_return_val_if_fail (subtask != NULL, NULL);
  g_return_val_if_fail (blend_file != NULL && output_dir != NULL, NULL);

  spec = kiln_render_spec_new ();
  spec->blend_file = g_strdup (blend_file);
  spec->output_dir = g_strdup (output_dir);
  spec->frame_start = subtask->frame_start;
  spec->frame_end = subtask->frame_end;
  spec->frame_step = subtask->frame_step;
  spec->width = subtask->width;
  spec->height = subtask->height;
  spec->samples = subtask->samples;
  spec->format = subtask->format;
  spec->use_border = subtask->use_border;
  spec->border_x = subtask->border_x;
  spec->border_y = subtask->border_y;
  spec->border_width = subtask->border_width;
  spec->border_height = subtask->border_height;
  spec->denoise = FALSE;
  return spec;
}

/* The plan ------------------------------------------------------------------------------- */

struct _KilnJobPlan
{
  GObject          parent_instance;

  KilnFrameSpec   *frames;
  guint            width;
  guint            height;
  guint            samples;
  KilnImageFormat  format;
  guint            n_strips;
  GPtrArray       *subtasks;    /* KilnSubtask * */
};

G_DEFINE_TYPE (KilnJobPlan, kiln_job_plan, G_TYPE_OBJECT)

static void
kiln_job_plan_finalize (GObject *object)
{
  KilnJobPlan *self = KILN_JOB_PLAN (object);

  g_clear_pointer (&self->frames, kiln_frame_spec_unref);
  g_clear_pointer (&self->subtasks, g_ptr_array_unref);

  G_OBJECT_CLASS (kiln_job_plan_parent_class)->finalize (object);
}

static void
kiln_job_plan_class_init (KilnJobPlanClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kiln_job_plan_finalize;
}

static void
kiln_job_plan_init (KilnJobPlan *self)
{
  self->subtasks = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_subtask_free);
  self->n_strips = 1;
}

static KilnSubtask *
add_subtask (KilnJobPlan *self,
             int          start,
             int          end,
             int          step)
{
  KilnSubtask *subtask = kiln_subtask_new ();

  subtask->index = self->subtasks->len;
  subtask->frame_start = start;
  subtask->frame_end = end;
  subtask->frame_step = step;
  subtask->width = self->width;
  subtask->height = self->height;
  subtask->samples = self->samples;
  subtask->format = self->format;
  g_ptr_array_add (self->subtasks, subtask);
  return subtask;
}

static guint
run_length (const KilnFrameRun *run)
{
  return (guint) ((run->last - run->first) / run->step + 1);
}

/* Chunks: the smallest longest chunk M such that cutting every run into chunks of
 * at most M frames needs no more than @max_subtasks; then each run is cut into
 * that many chunks of near-equal length. */
static void
plan_chunks (KilnJobPlan *self,
             GArray      *runs,
             guint        max_subtasks)
{
  guint lo = 1, hi = 1;

  for (guint i = 0; i < runs->len; i++)
    hi = MAX (hi, run_length (&g_array_index (runs, KilnFrameRun, i)));
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      guint64 needed = 0;

      for (guint i = 0; i < runs->len; i++)
        needed += (run_length (&g_array_index (runs, KilnFrameRun, i)) + mid - 1) / mid;
      if (needed <= max_subtasks)
        hi = mid;
      else
        lo = mid + 1;
    }

  for (guint i = 0; i < runs->len; i++)
    {
      const KilnFrameRun *run = &g_array_index (runs, KilnFrameRun, i);
      guint length = run_length (run);
      guint chunks = (length + lo - 1) / lo;
      guint done = 0;

      for (guint c = 0; c < chunks; c++)
        {
          guint size = length / chunks + (c < length % chunks ? 1 : 0);
          int first = run->first + (int) done * run->step;

          add_subtask (self, first, first + (int) (size - 1) * run->step, run->step);
          done += size;
        }
    }
}

static void
plan_strips (KilnJobPlan *self,
             guint        strips)
{
  guint n_frames = 0;
  const int *frames = kiln_frame_spec_get_frames (self->frames, &n_frames);

  self->n_strips = strips;
  for (guint f = 0; f < n_frames; f++)
    for (guint i = 0; i < strips; i++)
      {
        guint top = (guint) ((guint64) i * self->height / strips);
        guint bottom = (guint) ((guint64) (i + 1) * self->height / strips);
        KilnSubtask *subtask = add_subtask (self, frames[f], frames[f], 1);

        subtask->use_border = TRUE;
        subtask->border_x = 0;
        subtask->border_y = top;
        subtask->border_width = self->width;
        subtask->border_height = bottom - top;
      }
}

static gboolean
check_settings (guint             width,
                guint             height,
                guint             samples,
                KilnImageFormat   format,
                guint             max_subtasks,
                GError          **error)
{
  if (width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The image size %u×%u is outside 1×1 to %u×%u pixels"), width, height,
                   MAX_DIMENSION, MAX_DIMENSION);
      return FALSE;
    }
  if (samples == 0 || samples > MAX_SAMPLES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The sample count %u is outside 1 to %u"), samples, MAX_SAMPLES);
      return FALSE;
    }
  if (format != KILN_IMAGE_FORMAT_PNG && format != KILN_IMAGE_FORMAT_OPEN_EXR)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Subtasks can only write PNG or OpenEXR images"));
      return FALSE;
    }
  if (max_subtasks == 0 || max_subtasks > KILN_JOB_PLAN_MAX_SUBTASKS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("A job has 1 to %u subtasks, not %u"), KILN_JOB_PLAN_MAX_SUBTASKS,
                   max_subtasks);
      return FALSE;
    }
  return TRUE;
}

KilnJobPlan *
kiln_job_plan_new (KilnFrameSpec     *frames,
                   guint              width,
                   guint              height,
                   guint              samples,
                   KilnImageFormat    format,
                   guint              max_subtasks,
                   KilnJobPlanFlags   flags,
                   GError           **error)
{
  g_autoptr(KilnJobPlan) self = NULL;
  g_autoptr(GArray) runs = NULL;
  guint n_frames;

  g_return_val_if_fail (frames != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_settings (width, height, samples, format, max_subtasks, error))
    return NULL;

  self = g_object_new (KILN_TYPE_JOB_PLAN, NULL);
  self->frames = kiln_frame_spec_ref (frames);
  self->width = width;
  self->height = height;
  self->samples = samples;
  self->format = format;

  n_frames = kiln_frame_spec_get_n_frames (frames);
  if (n_frames < max_subtasks && format == KILN_IMAGE_FORMAT_PNG &&
      !(flags & KILN_JOB_PLAN_FLAGS_NO_STRIPS))
    {
      guint strips = MIN (max_subtasks / n_frames, height / KILN_JOB_PLAN_MIN_STRIP_ROWS);

      if (strips > 1)
        {
          plan_strips (self, strips);
          return g_steal_pointer (&self);
        }
    }

  runs = kiln_frame_spec_get_runs (frames);
  plan_chunks (self, runs, MAX (max_subtasks, runs->len));
  return g_steal_pointer (&self);
}

KilnFrameSpec *
kiln_job_plan_get_frames (KilnJobPlan *self)
{
  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), NULL);
  return self->frames;
}

guint
kiln_job_plan_get_width (KilnJobPlan *self)
{
  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), 0);
  return self->width;
}

guint
kiln_job_plan_get_height (KilnJobPlan *self)
{
  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), 0);
  return self->height;
}

guint
kiln_job_plan_get_samples (KilnJobPlan *self)
{
  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), 0);
  return self->samples;
}

KilnImageFormat
kiln_job_plan_get_format (KilnJobPlan *self)
{
  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), KILN_IMAGE_FORMAT_PNG);
  return self->format;
}

guint
kiln_job_plan_get_n_subtasks (KilnJobPlan *self)
{
  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), 0);
  return self->subtasks->len;
}

const KilnSubtask *
kiln_job_plan_get_subtask (KilnJobPlan *self,
                           guint        index)
{
  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), NULL);
  g_return_val_if_fail (index < self->subtasks->len, NULL);
  return g_ptr_array_index (self->subtasks, index);
}

guint
kiln_job_plan_get_n_strips (KilnJobPlan *self)
{
  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), 1);
  return self->n_strips;
}

static gboolean
subtask_has_frame (const KilnSubtask *subtask,
                   int                frame)
{
  return frame >= subtask->frame_start && frame <= subtask->frame_end &&
         (frame - subtask->frame_start) % subtask->frame_step == 0;
}

static int
compare_strips (gconstpointer a,
                gconstpointer b)
{
  const KilnSubtask *sa = *(const KilnSubtask * const *) a;
  const KilnSubtask *sb = *(const KilnSubtask * const *) b;

  if (sa->border_y != sb->border_y)
    return sa->border_y < sb->border_y ? -1 : 1;
  return 0;
}

GPtrArray *
kiln_job_plan_get_subtasks_for_frame (KilnJobPlan *self,
                                      int          frame)
{
  GPtrArray *found;

  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), NULL);

  found = g_ptr_array_new ();
  for (guint i = 0; i < self->subtasks->len; i++)
    {
      KilnSubtask *subtask = g_ptr_array_index (self->subtasks, i);

      if (subtask_has_frame (subtask, frame))
        g_ptr_array_add (found, subtask);
    }
  g_ptr_array_sort (found, compare_strips);
  return found;
}

/* JSON ------------------------------------------------------------------------------------ */

JsonNode *
kiln_job_plan_to_json (KilnJobPlan *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *frames = NULL;

  g_return_val_if_fail (KILN_IS_JOB_PLAN (self), NULL);

  frames = kiln_frame_spec_to_string (self->frames);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "frames");
  json_builder_add_string_value (builder, frames);
  add_int (builder, "width", self->width);
  add_int (builder, "height", self->height);
  add_int (builder, "samples", self->samples);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, kiln_image_format_get_blender_name (self->format));
  json_builder_set_member_name (builder, "subtasks");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->subtasks->len; i++)
    build_subtask (builder, g_ptr_array_index (self->subtasks, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
plan_invalid (GError     **error,
              const char  *message)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("Invalid job plan: %s"), message);
  return FALSE;
}

/* Every frame of the list rendered once: by one whole-frame subtask, or by strips
 * of full width whose rows tile the frame. */
static gboolean
check_coverage (KilnJobPlan  *self,
                GError      **error)
{
  g_autoptr(GHashTable) rows = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                                      (GDestroyNotify) g_ptr_array_unref);
  guint64 covered = 0;

  for (guint i = 0; i < self->subtasks->len; i++)
    {
      KilnSubtask *subtask = g_ptr_array_index (self->subtasks, i);

      if (subtask->index != i)
        return plan_invalid (error, _("its subtasks are out of order"));
      if (subtask->width != self->width || subtask->height != self->height ||
          subtask->samples != self->samples || subtask->format != self->format)
        return plan_invalid (error, _("a subtask’s settings differ from the job’s"));
      if (subtask->use_border && (subtask->border_x != 0 || subtask->border_width != self->width))
        return plan_invalid (error, _("a strip does not span the frame’s width"));
      for (gint64 frame = subtask->frame_start; frame <= subtask->frame_end;
           frame += subtask->frame_step)
        {
          GPtrArray *list;

          if (!kiln_frame_spec_contains (self->frames, (int) frame))
            return plan_invalid (error, _("a subtask renders a frame that is not asked for"));
          /* Whole frames once each, and one entry per strip: no more than this. */
          if (++covered > (guint64) kiln_frame_spec_get_n_frames (self->frames) +
                          self->subtasks->len)
            return plan_invalid (error, _("it renders some frames more than once"));
          list = g_hash_table_lookup (rows, GINT_TO_POINTER ((int) frame));
          if (list == NULL)
            {
              list = g_ptr_array_new ();
              g_hash_table_insert (rows, GINT_TO_POINTER ((int) frame), list);
            }
          g_ptr_array_add (list, subtask);
        }
    }

  if (g_hash_table_size (rows) != kiln_frame_spec_get_n_frames (self->frames))
    return plan_invalid (error, _("some frames are not rendered by any subtask"));

  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, rows);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      {
        GPtrArray *list = value;
        guint next_row = 0;

        g_ptr_array_sort (list, compare_strips);
        for (guint i = 0; i < list->len; i++)
          {
            KilnSubtask *subtask = g_ptr_array_index (list, i);
            guint top = subtask->use_border ? subtask->border_y : 0;
            guint height = subtask->use_border ? subtask->border_height : self->height;

            if (top != next_row)
              return plan_invalid (error, _("strips of a frame leave gaps or overlap"));
            next_row = top + height;
          }
        if (next_row != self->height)
          return plan_invalid (error, _("strips of a frame leave gaps or overlap"));
        self->n_strips = MAX (self->n_strips, list->len);
      }
  }
  return TRUE;
}

KilnJobPlan *
kiln_job_plan_new_from_json (JsonNode  *node,
                             GError   **error)
{
  g_autoptr(KilnJobPlan) self = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *object;
  JsonNode *frames, *format, *subtasks;
  JsonArray *array;
  gint64 width, height, samples;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      plan_invalid (error, _("it is not a JSON object"));
      return NULL;
    }
  object = json_node_get_object (node);
  self = g_object_new (KILN_TYPE_JOB_PLAN, NULL);

  frames = json_object_get_member (object, "frames");
  if (frames == NULL || !JSON_NODE_HOLDS_VALUE (frames) ||
      json_node_get_value_type (frames) != G_TYPE_STRING ||
      (self->frames = kiln_frame_spec_parse (json_node_get_string (frames),
                                             &local_error)) == NULL)
    {
      plan_invalid (error, local_error != NULL ? local_error->message : _("it has no frames"));
      return NULL;
    }
  if (!read_int (object, "width", 1, MAX_DIMENSION, &width, error) ||
      !read_int (object, "height", 1, MAX_DIMENSION, &height, error) ||
      !read_int (object, "samples", 1, MAX_SAMPLES, &samples, error))
    return NULL;
  self->width = (guint) width;
  self->height = (guint) height;
  self->samples = (guint) samples;
  format = json_object_get_member (object, "format");
  if (format == NULL || !JSON_NODE_HOLDS_VALUE (format) ||
      json_node_get_value_type (format) != G_TYPE_STRING ||
      !kiln_image_format_from_blender_name (json_node_get_string (format), &self->format))
    {
      plan_invalid (error, _("its image format is unknown"));
      return NULL;
    }

  subtasks = json_object_get_member (object, "subtasks");
  if (subtasks == NULL || !JSON_NODE_HOLDS_ARRAY (subtasks))
    {
      plan_invalid (error, _("it has no subtasks"));
      return NULL;
    }
  array = json_node_get_array (subtasks);
  if (json_array_get_length (array) == 0 ||
      json_array_get_length (array) > KILN_JOB_PLAN_MAX_SUBTASKS)
    {
      plan_invalid (error, _("its number of subtasks is out of range"));
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      KilnSubtask *subtask = kiln_subtask_new_from_json (json_array_get_element (array, i),
                                                         error);

      if (subtask == NULL)
        return NULL;
      g_ptr_array_add (self->subtasks, subtask);
    }
  self->n_strips = 1;
  if (!check_coverage (self, error))
    return NULL;
  return g_steal_pointer (&self);
}
