/* kiln-scene-info.c: what a .blend file asks for
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-file-list.h"
#include "kiln-render-private.h"
#include "kiln-scene-info.h"

/* Limits on what a scene may claim (Blender's own: MAXFRAME, 65536 pixels). */
#define MAX_FRAME       1048574
#define MAX_DIMENSION   65536
#define MAX_FILES       100000

struct _KilnSceneInfo
{
  GObject    parent_instance;

  char      *path;
  char      *scene_name;
  char      *file_version;
  int        frame_start;
  int        frame_end;
  int        frame_step;
  double     fps;
  guint      resolution_x;
  guint      resolution_y;
  guint      resolution_percentage;
  char      *engine;
  guint      samples;
  gboolean   uses_denoising;
  gboolean   uses_compositing;
  char      *file_format;
  gboolean   has_camera;
  GPtrArray *files;
};

G_DEFINE_TYPE (KilnSceneInfo, kiln_scene_info, G_TYPE_OBJECT)

G_DEFINE_QUARK (kiln-scene-error-quark, kiln_scene_error)

G_DEFINE_BOXED_TYPE (KilnSceneFile, kiln_scene_file, kiln_scene_file_copy, kiln_scene_file_free)

KilnSceneFile *
kiln_scene_file_copy (const KilnSceneFile *file)
{
  KilnSceneFile *copy;

  g_return_val_if_fail (file != NULL, NULL);

  copy = g_new (KilnSceneFile, 1);
  *copy = *file;
  copy->path = g_strdup (file->path);
  return copy;
}

void
kiln_scene_file_free (KilnSceneFile *file)
{
  if (file == NULL)
    return;
  g_free (file->path);
  g_free (file);
}

static void
kiln_scene_info_finalize (GObject *object)
{
  KilnSceneInfo *self = KILN_SCENE_INFO (object);

  g_free (self->path);
  g_free (self->scene_name);
  g_free (self->file_version);
  g_free (self->engine);
  g_free (self->file_format);
  g_clear_pointer (&self->files, g_ptr_array_unref);

  G_OBJECT_CLASS (kiln_scene_info_parent_class)->finalize (object);
}

static void
kiln_scene_info_class_init (KilnSceneInfoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kiln_scene_info_finalize;
}

static void
kiln_scene_info_init (KilnSceneInfo *self)
{
  self->files = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_scene_file_free);
  self->frame_step = 1;
  self->resolution_percentage = 100;
}

/* From JSON ------------------------------------------------------------------------- */

static gboolean
get_int (JsonObject  *object,
         const char  *name,
         gint64       min,
         gint64       max,
         gint64      *value)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *value = json_node_get_int (node);
  return *value >= min && *value <= max;
}

static const char *
get_string (JsonObject *object,
            const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
get_bool (JsonObject *object,
          const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN && json_node_get_boolean (node);
}

static gboolean
file_kind_from_string (const char        *name,
                       KilnSceneFileKind *kind)
{
  static const struct { const char *name; KilnSceneFileKind kind; } kinds[] = {
    { "image", KILN_SCENE_FILE_IMAGE },
    { "movie", KILN_SCENE_FILE_MOVIE },
    { "library", KILN_SCENE_FILE_LIBRARY },
    { "cache", KILN_SCENE_FILE_CACHE },
    { "volume", KILN_SCENE_FILE_VOLUME },
    { "font", KILN_SCENE_FILE_FONT },
  };

  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (kinds); i++)
    if (g_str_equal (name, kinds[i].name))
      {
        *kind = kinds[i].kind;
        return TRUE;
      }
  return FALSE;
}

/* Paths come hex-encoded: file names need not be UTF-8. */
static char *
decode_hex_path (const char *hex)
{
  gsize len;
  char *path;

  if (hex == NULL || (len = strlen (hex)) == 0 || len % 2 != 0)
    return NULL;
  path = g_malloc (len / 2 + 1);
  for (gsize i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
        {
          g_free (path);
          return NULL;
        }
      path[i] = (char) (hi << 4 | lo);
    }
  path[len / 2] = '\0';
  return path;
}

static void
add_files (KilnSceneInfo *self,
           JsonArray     *array)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < json_array_get_length (array) && self->files->len < MAX_FILES; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *entry;
      KilnSceneFileKind kind;
      g_autofree char *path = NULL;
      KilnSceneFile *file;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      entry = json_node_get_object (node);
      path = decode_hex_path (get_string (entry, "path"));
      if (path == NULL || !g_path_is_absolute (path) ||
          !file_kind_from_string (get_string (entry, "kind"), &kind) ||
          g_hash_table_contains (seen, path))
        continue;

      file = g_new0 (KilnSceneFile, 1);
      file->kind = kind;
      file->path = g_steal_pointer (&path);
      file->directory = get_bool (entry, "directory");
      g_ptr_array_add (self->files, file);
      g_hash_table_add (seen, file->path);
    }
}

KilnSceneInfo *
kiln_scene_info_new_from_json (const char  *blend_file,
                               JsonObject  *object,
                               GError     **error)
{
  g_autoptr(KilnSceneInfo) self = g_object_new (KILN_TYPE_SCENE_INFO, NULL);
  gint64 frame_start, frame_end, frame_step, x, y, percentage, samples;
  JsonNode *fps = json_object_get_member (object, "fps");
  JsonNode *files = json_object_get_member (object, "files");
  const char *engine = get_string (object, "engine");
  const char *format = get_string (object, "file_format");

  if (!get_int (object, "frame_start", -MAX_FRAME, MAX_FRAME, &frame_start) ||
      !get_int (object, "frame_end", -MAX_FRAME, MAX_FRAME, &frame_end) ||
      !get_int (object, "frame_step", 1, MAX_FRAME, &frame_step) ||
      !get_int (object, "resolution_x", 1, MAX_DIMENSION, &x) ||
      !get_int (object, "resolution_y", 1, MAX_DIMENSION, &y) ||
      !get_int (object, "resolution_percentage", 1, 32767, &percentage) ||
      !get_int (object, "samples", 0, G_MAXINT32, &samples) ||
      engine == NULL || format == NULL || fps == NULL || !JSON_NODE_HOLDS_VALUE (fps))
    {
      g_set_error_literal (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_FAILED,
                           _("Blender’s description of the scene is incomplete"));
      return NULL;
    }

  self->path = g_strdup (blend_file);
  self->scene_name = g_strdup (get_string (object, "scene") ? get_string (object, "scene") : "");
  self->file_version = g_strdup (get_string (object, "file_version") ?
                                 get_string (object, "file_version") : "");
  self->frame_start = (int) frame_start;
  self->frame_end = (int) frame_end;
  self->frame_step = (int) frame_step;
  self->fps = json_node_get_double (fps);
  self->resolution_x = (guint) x;
  self->resolution_y = (guint) y;
  self->resolution_percentage = (guint) percentage;
  self->engine = g_strdup (engine);
  self->samples = (guint) samples;
  self->uses_denoising = get_bool (object, "denoising");
  self->uses_compositing = get_bool (object, "compositing");
  self->file_format = g_strdup (format);
  self->has_camera = get_bool (object, "camera");
  if (files != NULL && JSON_NODE_HOLDS_ARRAY (files))
    add_files (self, json_node_get_array (files));
  return g_steal_pointer (&self);
}

void
kiln_scene_info_check_files (KilnSceneInfo *self)
{
  g_return_if_fail (KILN_IS_SCENE_INFO (self));

  for (guint i = 0; i < self->files->len; i++)
    {
      KilnSceneFile *file = g_ptr_array_index (self->files, i);

      file->missing = !g_file_test (file->path, file->directory ? G_FILE_TEST_IS_DIR
                                                                : G_FILE_TEST_IS_REGULAR);
    }
}

/* Checks ------------------------------------------------------------------------------ */

static char *
display_name (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  return g_filename_display_name (base);
}

gboolean
kiln_scene_info_check (KilnSceneInfo  *self,
                       GError        **error)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  name = display_name (self->path);
  if (g_str_equal (self->engine, "BLENDER_EEVEE") ||
      g_str_equal (self->engine, "BLENDER_EEVEE_NEXT"))
    {
      g_set_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_UNSUPPORTED_ENGINE,
                   _("“%s” renders with EEVEE, but providers render with Cycles. EEVEE draws "
                     "with OpenGL: a provider’s sandbox has no graphics card, only a slow "
                     "software fallback whose pixels depend on the graphics driver, so the "
                     "results could not be checked. Choose Cycles as the render engine in "
                     "Blender’s Render Properties and save the scene."), name);
      return FALSE;
    }
  if (g_str_equal (self->engine, "BLENDER_WORKBENCH"))
    {
      g_set_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_UNSUPPORTED_ENGINE,
                   _("“%s” renders with Workbench, but providers render with Cycles. "
                     "Workbench draws with OpenGL, which a provider’s sandbox does not "
                     "have. Choose Cycles as the render engine in Blender’s Render "
                     "Properties and save the scene."), name);
      return FALSE;
    }
  if (!g_str_equal (self->engine, KILN_SCENE_ENGINE_CYCLES))
    {
      g_set_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_UNSUPPORTED_ENGINE,
                   _("“%s” renders with the engine “%s”, which providers do not have: "
                     "they render with Cycles. Choose Cycles as the render engine in "
                     "Blender’s Render Properties and save the scene."), name, self->engine);
      return FALSE;
    }
  if (!self->has_camera)
    {
      g_set_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_NO_CAMERA,
                   _("The scene in “%s” has no active camera, so there is nothing to render "
                     "from. Add a camera in Blender, make it the scene’s camera and save."),
                   name);
      return FALSE;
    }
  if (kiln_scene_info_get_n_missing_files (self) > 0)
    {
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *list = NULL;

      for (guint i = 0; i < self->files->len; i++)
        {
          KilnSceneFile *file = g_ptr_array_index (self->files, i);

          if (file->missing)
            g_ptr_array_add (names, g_filename_display_name (file->path));
        }
      list = kiln_file_list_format ((const char * const *) names->pdata, names->len, 3);
      g_set_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_MISSING_FILES,
                   g_dngettext (GETTEXT_PACKAGE,
                                /* TRANSLATORS: the first %s is the scene's file name, the
                                 * second a list of the files it uses that are missing
                                 * ("a.png, b.png and 3 more files") */
                                "“%s” uses a file that is not on this computer: %s. Put it "
                                "back, or pack it into the .blend (File › External Data › "
                                "Pack Resources).",
                                "“%s” uses files that are not on this computer: %s. Put them "
                                "back, or pack them into the .blend (File › External Data › "
                                "Pack Resources).", names->len),
                   name, list);
      return FALSE;
    }
  return TRUE;
}

/* Getters ------------------------------------------------------------------------------ */

const char *
kiln_scene_info_get_path (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), NULL);
  return self->path;
}

const char *
kiln_scene_info_get_scene_name (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), NULL);
  return self->scene_name;
}

const char *
kiln_scene_info_get_file_version (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), NULL);
  return self->file_version;
}

int
kiln_scene_info_get_frame_start (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), 0);
  return self->frame_start;
}

int
kiln_scene_info_get_frame_end (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), 0);
  return self->frame_end;
}

int
kiln_scene_info_get_frame_step (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), 1);
  return self->frame_step;
}

double
kiln_scene_info_get_fps (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), 0);
  return self->fps;
}

guint
kiln_scene_info_get_resolution_x (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), 0);
  return self->resolution_x;
}

guint
kiln_scene_info_get_resolution_y (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), 0);
  return self->resolution_y;
}

guint
kiln_scene_info_get_resolution_percentage (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), 100);
  return self->resolution_percentage;
}

void
kiln_scene_info_get_output_size (KilnSceneInfo *self,
                                 guint         *width,
                                 guint         *height)
{
  g_return_if_fail (KILN_IS_SCENE_INFO (self));

  /* Blender truncates: (xsch * size) / 100 in BKE_render_resolution(). */
  if (width != NULL)
    *width = MAX ((guint64) self->resolution_x * self->resolution_percentage / 100, 1);
  if (height != NULL)
    *height = MAX ((guint64) self->resolution_y * self->resolution_percentage / 100, 1);
}

const char *
kiln_scene_info_get_engine (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), NULL);
  return self->engine;
}

guint
kiln_scene_info_get_samples (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), 0);
  return self->samples;
}

gboolean
kiln_scene_info_get_uses_denoising (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), FALSE);
  return self->uses_denoising;
}

gboolean
kiln_scene_info_get_uses_compositing (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), FALSE);
  return self->uses_compositing;
}

const char *
kiln_scene_info_get_file_format (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), NULL);
  return self->file_format;
}

gboolean
kiln_scene_info_get_image_format (KilnSceneInfo   *self,
                                  KilnImageFormat *format)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), FALSE);
  g_return_val_if_fail (format != NULL, FALSE);

  if (kiln_image_format_from_blender_name (self->file_format, format))
    return TRUE;
  *format = KILN_IMAGE_FORMAT_PNG;
  return FALSE;
}

gboolean
kiln_scene_info_get_has_camera (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), FALSE);
  return self->has_camera;
}

GPtrArray *
kiln_scene_info_get_files (KilnSceneInfo *self)
{
  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), NULL);
  return self->files;
}

guint
kiln_scene_info_get_n_missing_files (KilnSceneInfo *self)
{
  guint missing = 0;

  g_return_val_if_fail (KILN_IS_SCENE_INFO (self), 0);

  for (guint i = 0; i < self->files->len; i++)
    if (((KilnSceneFile *) g_ptr_array_index (self->files, i))->missing)
      missing++;
  return missing;
}
