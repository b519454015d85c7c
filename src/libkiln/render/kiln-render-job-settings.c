/* kiln-render-job-settings.c: what a render job renders and pays, and what it can send
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-market.h"
#include "kiln-render-job-private.h"

/* Settings -------------------------------------------------------------------------------- */

G_DEFINE_BOXED_TYPE (KilnRenderJobSettings, kiln_render_job_settings,
                     kiln_render_job_settings_copy, kiln_render_job_settings_free)

static char *
blend_stem (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  if (g_str_has_suffix (base, ".blend") && strlen (base) > strlen (".blend"))
    base[strlen (base) - strlen (".blend")] = '\0';
  return g_steal_pointer (&base);
}

KilnRenderJobSettings *
kiln_render_job_settings_new_for_scene (KilnSceneInfo *scene)
{
  KilnRenderJobSettings *self;
  g_autofree char *stem = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *output = NULL;
  int start, end, step;

  g_return_val_if_fail (KILN_IS_SCENE_INFO (scene), NULL);

  self = g_new0 (KilnRenderJobSettings, 1);
  stem = blend_stem (kiln_scene_info_get_path (scene));
  dir = g_path_get_dirname (kiln_scene_info_get_path (scene));
  output = g_strdup_printf ("%s-render", stem);

  self->name = g_strdup (stem);
  start = kiln_scene_info_get_frame_start (scene);
  end = kiln_scene_info_get_frame_end (scene);
  step = MAX (kiln_scene_info_get_frame_step (scene), 1);
  self->frames = kiln_frame_spec_new_range (CLAMP (start, 0, KILN_FRAME_MAX),
                                            CLAMP (MAX (start, end), 0, KILN_FRAME_MAX),
                                            step, NULL);
  if (self->frames == NULL)
    self->frames = kiln_frame_spec_new_range (1, 1, 1, NULL);
  kiln_scene_info_get_output_size (scene, &self->width, &self->height);
  self->samples = MAX (kiln_scene_info_get_samples (scene), 1);
  kiln_scene_info_get_image_format (scene, &self->format);
  self->n_subtasks = 0;
  self->subtask_timeout = KILN_RENDER_JOB_DEFAULT_TIMEOUT;
  self->cores = 1;
  self->memory_mib = KILN_RENDER_JOB_DEFAULT_MEMORY_MIB;
  self->output_dir = g_build_filename (dir, output, NULL);

  return self;
}

KilnRenderJobSettings *
kiln_render_job_settings_copy (const KilnRenderJobSettings *self)
{
  KilnRenderJobSettings *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_memdup2 (self, sizeof *self);
  copy->name = g_strdup (self->name);
  copy->frames = self->frames != NULL ? kiln_frame_spec_ref (self->frames) : NULL;
  copy->output_dir = g_strdup (self->output_dir);
  return copy;
}

void
kiln_render_job_settings_free (KilnRenderJobSettings *self)
{
  if (self == NULL)
    return;

  g_free (self->name);
  g_clear_pointer (&self->frames, kiln_frame_spec_unref);
  g_free (self->output_dir);
  g_free (self);
}

JsonNode *
kiln_render_job_settings_to_json (const KilnRenderJobSettings *settings)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *frames = kiln_frame_spec_to_string (settings->frames);
  g_autofree char *price = kiln_uint256_to_string (&settings->max_price);
  g_autofree char *token = kiln_address_to_string (&settings->token);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, settings->name);
  json_builder_set_member_name (builder, "frames");
  json_builder_add_string_value (builder, frames);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, settings->width);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, settings->height);
  json_builder_set_member_name (builder, "samples");
  json_builder_add_int_value (builder, settings->samples);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, kiln_image_format_get_blender_name (settings->format));
  json_builder_set_member_name (builder, "subtasks");
  json_builder_add_int_value (builder, settings->n_subtasks);
  json_builder_set_member_name (builder, "timeout");
  json_builder_add_int_value (builder, settings->subtask_timeout);
  json_builder_set_member_name (builder, "cores");
  json_builder_add_int_value (builder, settings->cores);
  json_builder_set_member_name (builder, "memory_mib");
  json_builder_add_int_value (builder, settings->memory_mib);
  json_builder_set_member_name (builder, "max_price");
  json_builder_add_string_value (builder, price);
  json_builder_set_member_name (builder, "output_dir");
  json_builder_add_string_value (builder, settings->output_dir);
  json_builder_set_member_name (builder, "chain_id");
  json_builder_add_int_value (builder, (gint64) settings->chain_id);
  json_builder_set_member_name (builder, "token");
  json_builder_add_string_value (builder, token);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

KilnRenderJobSettings *
kiln_render_job_settings_from_json (JsonNode  *node,
                                    GError   **error)
{
  g_autoptr(KilnRenderJobSettings) settings = g_new0 (KilnRenderJobSettings, 1);
  JsonObject *object;
  const char *text;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto bad;
  object = json_node_get_object (node);

  settings->name = g_strdup (json_object_get_string_member_with_default (object, "name", ""));
  text = json_object_get_string_member_with_default (object, "frames", "");
  settings->frames = kiln_frame_spec_parse (text, NULL);
  settings->width = json_object_get_int_member_with_default (object, "width", 0);
  settings->height = json_object_get_int_member_with_default (object, "height", 0);
  settings->samples = json_object_get_int_member_with_default (object, "samples", 0);
  text = json_object_get_string_member_with_default (object, "format", "");
  if (settings->frames == NULL || !kiln_image_format_from_blender_name (text, &settings->format))
    goto bad;
  settings->n_subtasks = json_object_get_int_member_with_default (object, "subtasks", 0);
  settings->subtask_timeout = json_object_get_int_member_with_default (object, "timeout", 0);
  settings->cores = json_object_get_int_member_with_default (object, "cores", 0);
  settings->memory_mib = json_object_get_int_member_with_default (object, "memory_mib", 0);
  text = json_object_get_string_member_with_default (object, "max_price", "");
  if (!kiln_uint256_parse (&settings->max_price, text, NULL))
    goto bad;
  settings->output_dir =
    g_strdup (json_object_get_string_member_with_default (object, "output_dir", ""));
  settings->chain_id = json_object_get_int_member_with_default (object, "chain_id", 0);
  text = json_object_get_string_member_with_default (object, "token", "");
  if (!kiln_address_parse (&settings->token, text, NULL))
    goto bad;

  return g_steal_pointer (&settings);

bad:
  g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
               _("A stored render job’s settings are damaged"));
  return NULL;
}

/* Checks ------------------------------------------------------------------------------------ */

static gboolean
invalid (GError     **error,
         const char  *message)
{
  g_set_error_literal (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_INVALID, message);
  return FALSE;
}

gboolean
kiln_render_job_check_settings (const KilnRenderJobSettings  *settings,
                GError                      **error)
{
  if (settings->frames == NULL)
    return invalid (error, _("Choose the frames to render."));
  if (settings->width == 0 || settings->height == 0 || settings->samples == 0)
    return invalid (error, _("The image size and the number of samples must not be zero."));
  if (settings->subtask_timeout == 0 || settings->subtask_timeout > KILN_MARKET_MAX_TIMEOUT)
    return invalid (error, _("Each subtask may take from one second to one day."));
  if (settings->cores == 0 || settings->cores > KILN_MARKET_MAX_CORES)
    return invalid (error, _("Each subtask runs on 1 to 1024 cores."));
  if (settings->memory_mib > KILN_MARKET_MAX_MIB)
    return invalid (error, _("A subtask cannot ask for that much memory."));
  if (kiln_uint256_is_zero (&settings->max_price) ||
      kiln_uint256_bit_length (&settings->max_price) > KILN_MARKET_AMOUNT_BITS)
    return invalid (error, _("Set the most you pay per CPU-hour."));
  if (settings->output_dir == NULL || !g_path_is_absolute (settings->output_dir))
    return invalid (error, _("Choose a folder for the rendered frames."));
  if (settings->n_subtasks > KILN_MARKET_MAX_SUBTASKS)
    return invalid (error, _("A job has at most 10 000 subtasks."));
  return TRUE;
}

/* The files the scene uses must sit beside it, where providers put them too. */
gboolean
kiln_render_job_check_files (KilnSceneInfo  *scene,
             GError        **error)
{
  g_autofree char *dir = g_path_get_dirname (kiln_scene_info_get_path (scene));
  GPtrArray *files = kiln_scene_info_get_files (scene);

  g_autofree char *blend_name = g_path_get_basename (kiln_scene_info_get_path (scene));

  if (!g_str_has_suffix (blend_name, ".blend") || !kiln_market_file_name_is_valid (blend_name))
    {
      g_set_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_FILES,
                   _("Providers cannot be sent a scene named “%s”: rename it to end in "
                     "“.blend”, without a leading dot."), blend_name);
      return FALSE;
    }

  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      const KilnSceneFile *file = g_ptr_array_index (files, i);
      g_autofree char *parent = g_path_get_dirname (file->path);
      g_autofree char *name = g_path_get_basename (file->path);

      if (!kiln_market_file_name_is_valid (name))
        {
          g_set_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_FILES,
                       _("Providers cannot be sent a file named “%s”: rename it, or pack it "
                         "into the .blend (File › External Data › Pack Resources)."), name);
          return FALSE;
        }
      if (file->directory || g_strcmp0 (parent, dir) != 0)
        {
          g_set_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_FILES,
                       _("The scene uses “%s”, which is not in the scene’s own folder. Pack "
                         "it into the .blend (File › External Data › Pack Resources) or move "
                         "it beside the .blend, then try again."), file->path);
          return FALSE;
        }
    }

  if (files != NULL && files->len + 1 > KILN_TASK_MAX_RESOURCES)
    {
      g_set_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_FILES,
                   g_dngettext (GETTEXT_PACKAGE,
                                "The scene uses %u other file, more than a job can send. Pack "
                                "it into the .blend (File › External Data › Pack Resources).",
                                "The scene uses %u other files, more than a job can send. Pack "
                                "them into the .blend (File › External Data › Pack Resources).",
                                files->len),
                   files->len);
      return FALSE;
    }

  return TRUE;
}
