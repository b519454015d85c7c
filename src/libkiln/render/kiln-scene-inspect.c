/* kiln-scene-inspect.c: reading a scene's settings with Blender in the sandbox
 *
 * Three steps, none on the main loop's time: the file's first bytes are checked
 * in a worker thread (a text file renamed .blend never reaches Blender); Blender
 * runs Kiln's inspection script in the sandbox, watched from the main context;
 * its answer is parsed and the external files it names are looked for in a
 * worker thread again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "kiln-blender-private.h"
#include "kiln-render-private.h"
#include "kiln-scene-info.h"

#define INSPECT_MARKER "KILN-SCENE "

/* Reads the active scene; prints one JSON line. Paths are hex-encoded bytes. */
static const char inspect_script[] =
  "import bpy, json, os\n"
  "\n"
  "scene = bpy.context.scene\n"
  "render = scene.render\n"
  "files = []\n"
  "\n"
  "def add(kind, path, library=None, directory=False):\n"
  "    if not path or path.startswith('<'):\n"
  "        return\n"
  "    try:\n"
  "        path = bpy.path.abspath(path, library=library)\n"
  "    except Exception:\n"
  "        pass\n"
  "    if not os.path.isabs(path):\n"
  "        return\n"
  "    files.append({'kind': kind, 'directory': directory,\n"
  "                  'path': os.fsencode(os.path.normpath(path)).hex()})\n"
  "\n"
  "for image in bpy.data.images:\n"
  "    if image.packed_file is not None or image.source not in ('FILE', 'SEQUENCE', 'MOVIE',\n"
  "                                                               'TILED'):\n"
  "        continue\n"
  "    kind = 'movie' if image.source == 'MOVIE' else 'image'\n"
  "    path = image.filepath\n"
  "    if image.source == 'TILED' and ('<UDIM>' in path or '<UVTILE>' in path):\n"
  "        for tile in image.tiles:\n"
  "            n = tile.number - 1001\n"
  "            add(kind, path.replace('<UDIM>', str(tile.number))\n"
  "                          .replace('<UVTILE>', 'u%d_v%d' % (n % 10 + 1, n // 10 + 1)),\n"
  "                image.library)\n"
  "    else:\n"
  "        add(kind, path, image.library)\n"
  "for library in bpy.data.libraries:\n"
  "    if library.packed_file is None:\n"
  "        add('library', library.filepath, library.parent)\n"
  "for clip in bpy.data.movieclips:\n"
  "    add('movie', clip.filepath, clip.library)\n"
  "for cache in bpy.data.cache_files:\n"
  "    add('cache', cache.filepath, cache.library)\n"
  "for volume in bpy.data.volumes:\n"
  "    if volume.packed_file is None:\n"
  "        add('volume', volume.filepath, volume.library)\n"
  "for font in bpy.data.fonts:\n"
  "    if font.packed_file is None:\n"
  "        add('font', font.filepath, font.library)\n"
  "\n"
  "blend_dir = os.path.dirname(bpy.data.filepath)\n"
  "blend_name = os.path.splitext(os.path.basename(bpy.data.filepath))[0]\n"
  "def add_point_cache(cache):\n"
  "    if cache is None or not getattr(cache, 'use_disk_cache', False):\n"
  "        return\n"
  "    if getattr(cache, 'use_external', False):\n"
  "        add('cache', cache.filepath, directory=True)\n"
  "    else:\n"
  "        add('cache', os.path.join(blend_dir, 'blendcache_' + blend_name), directory=True)\n"
  "\n"
  "for obj in scene.objects:\n"
  "    for modifier in obj.modifiers:\n"
  "        add_point_cache(getattr(modifier, 'point_cache', None))\n"
  "        if modifier.type == 'FLUID' and modifier.fluid_type == 'DOMAIN':\n"
  "            add('cache', modifier.domain_settings.cache_directory, obj.library, True)\n"
  "    for system in obj.particle_systems:\n"
  "        add_point_cache(system.point_cache)\n"
  "\n"
  "denoising = False\n"
  "compositing = False\n"
  "if render.engine == 'CYCLES':\n"
  "    samples = scene.cycles.samples\n"
  "    denoising = bool(scene.cycles.use_denoising) and any(\n"
  "        getattr(layer.cycles, 'use_denoising', True)\n"
  "        for layer in scene.view_layers if layer.use)\n"
  "elif render.engine.startswith('BLENDER_EEVEE'):\n"
  "    samples = scene.eevee.taa_render_samples\n"
  "else:\n"
  "    samples = 0\n"
  "if scene.use_nodes and scene.node_tree is not None and render.use_compositing:\n"
  "    kinds = {node.bl_idname for node in scene.node_tree.nodes if not node.mute}\n"
  "    denoising = denoising or 'CompositorNodeDenoise' in kinds\n"
  "    compositing = bool(kinds - {'CompositorNodeRLayers', 'CompositorNodeComposite',\n"
  "                                'CompositorNodeViewer', 'NodeFrame', 'NodeReroute'})\n"
  "\n"
  "camera = scene.camera\n"
  "info = {\n"
  "    'scene': scene.name,\n"
  "    'file_version': '%d.%d.%d' % tuple(bpy.data.version),\n"
  "    'frame_start': scene.frame_start,\n"
  "    'frame_end': scene.frame_end,\n"
  "    'frame_step': scene.frame_step,\n"
  "    'fps': render.fps / render.fps_base,\n"
  "    'resolution_x': render.resolution_x,\n"
  "    'resolution_y': render.resolution_y,\n"
  "    'resolution_percentage': render.resolution_percentage,\n"
  "    'engine': render.engine,\n"
  "    'samples': samples,\n"
  "    'denoising': denoising,\n"
  "    'compositing': compositing,\n"
  "    'file_format': render.image_settings.file_format,\n"
  "    'camera': camera is not None and camera.type == 'CAMERA',\n"
  "    'files': files,\n"
  "}\n"
  "print('" INSPECT_MARKER "' + json.dumps(info), flush=True)\n";

typedef struct
{
  KilnBlender   *blender;
  KilnSandbox   *sandbox;
  char          *blend_file;   /* absolute, as given */
  char          *work_dir;
  char          *output;
} InspectData;

static void
inspect_data_free (InspectData *data)
{
  g_clear_object (&data->blender);
  g_clear_object (&data->sandbox);
  kiln_render_remove_tree (data->work_dir);
  g_free (data->work_dir);
  g_free (data->blend_file);
  g_free (data->output);
  g_free (data);
}

/* The header --------------------------------------------------------------------------- */

static gboolean
not_blend (const char  *path,
           const char  *reason,
           GError     **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_filename_display_name (base);

  g_set_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_NOT_BLEND,
               _("“%s” is not a Blender scene (%s). Choose a .blend file saved by Blender."),
               name, reason);
  return FALSE;
}

/* The first bytes of the .blend inside a gzip stream. */
static gboolean
gunzip_head (const guint8 *data,
             gsize         len,
             guint8       *head,
             gsize         head_len)
{
  g_autoptr(GZlibDecompressor) decompressor = NULL;
  gsize read = 0, written = 0;
  GConverterResult result;

  decompressor = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  result = g_converter_convert (G_CONVERTER (decompressor), data, len, head, head_len,
                                G_CONVERTER_NO_FLAGS, &read, &written, NULL);
  return result != G_CONVERTER_ERROR && written == head_len;
}

gboolean
kiln_scene_check_blend_header (const char  *blend_file,
                               GError     **error)
{
  static const guint8 zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };
  static const guint8 gzip_magic[] = { 0x1f, 0x8b };
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 buffer[4096];
  guint8 head[12];
  gsize len = 0;

  g_return_val_if_fail (blend_file != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Not a pipe or a device: reading one could block for ever. */
  if (g_file_test (blend_file, G_FILE_TEST_IS_DIR))
    return not_blend (blend_file, _("it is a folder"), error);
  if (g_file_test (blend_file, G_FILE_TEST_EXISTS) &&
      !g_file_test (blend_file, G_FILE_TEST_IS_REGULAR))
    return not_blend (blend_file, _("it is not a regular file"), error);

  file = g_file_new_for_path (blend_file);
  stream = g_file_read (file, NULL, &local_error);
  if (stream == NULL ||
      !g_input_stream_read_all (G_INPUT_STREAM (stream), buffer, sizeof buffer, &len, NULL,
                                &local_error))
    {
      g_autofree char *name = g_filename_display_name (blend_file);

      g_set_error (error, G_IO_ERROR, local_error->domain == G_IO_ERROR ? local_error->code
                                                                        : G_IO_ERROR_FAILED,
                   _("Cannot read %s: %s"), name, local_error->message);
      return FALSE;
    }

  if (len == 0)
    return not_blend (blend_file, _("the file is empty"), error);
  /* "BLENDER", pointer size '_' or '-', endianness 'v' or 'V', version "304". */
  if (len >= 12 && memcmp (buffer, "BLENDER", 7) == 0)
    memcpy (head, buffer, sizeof head);
  else if (len >= sizeof zstd_magic && memcmp (buffer, zstd_magic, sizeof zstd_magic) == 0)
    return TRUE;  /* Blender 3's compression: Blender itself reads past the frame header */
  else if (len >= sizeof gzip_magic && memcmp (buffer, gzip_magic, sizeof gzip_magic) == 0)
    {
      if (!gunzip_head (buffer, len, head, sizeof head))
        return not_blend (blend_file, _("a compressed file that does not hold a scene"), error);
    }
  else
    return not_blend (blend_file, _("it does not start like one"), error);

  if (memcmp (head, "BLENDER", 7) != 0 || (head[7] != '_' && head[7] != '-') ||
      (head[8] != 'v' && head[8] != 'V') || !g_ascii_isdigit (head[9]) ||
      !g_ascii_isdigit (head[10]) || !g_ascii_isdigit (head[11]))
    return not_blend (blend_file, _("it does not start like one"), error);
  return TRUE;
}

static void
check_header_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  InspectData *data = task_data;
  GError *error = NULL;

  if (!kiln_scene_check_blend_header (data->blend_file, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  data->work_dir = kiln_sandbox_make_work_dir ("kiln-inspect-XXXXXX", &error);
  if (data->work_dir == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* The answer ----------------------------------------------------------------------------- */

static GError *
blender_error (InspectData              *data,
               KilnBlenderScriptResult  *run)
{
  g_autofree char *base = g_path_get_basename (data->blend_file);
  g_autofree char *name = g_filename_display_name (base);
  g_autofree char *reason = kiln_blender_script_find_error (run->output);

  if (reason != NULL && (strstr (reason, "read blend file") != NULL ||
                         strstr (reason, "Cannot read file") != NULL ||
                         strstr (reason, "not supported in file") != NULL))
    {
      /* "Failed to read blend file 'PATH': REASON": the reason is what helps. */
      const char *tail = strstr (reason, "': ");

      return g_error_new (KILN_SCENE_ERROR, KILN_SCENE_ERROR_UNREADABLE,
                          _("Blender could not read “%s”: the file is damaged or incomplete "
                            "(%s). Open it in Blender and save it again, or copy it again "
                            "if it came from elsewhere."),
                          name, tail != NULL ? tail + 3 : reason);
    }
  if (!run->exited)
    return g_error_new (KILN_SCENE_ERROR, KILN_SCENE_ERROR_FAILED,
                        _("Blender stopped unexpectedly while reading “%s”"), name);
  return g_error_new (KILN_SCENE_ERROR, KILN_SCENE_ERROR_FAILED,
                      _("Blender could not read the settings of “%s”: %s"), name,
                      reason != NULL ? reason : _("no reason given"));
}

static void
parse_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  InspectData *data = task_data;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(KilnSceneInfo) info = NULL;
  GError *error = NULL;

  object = kiln_blender_find_marked_json (data->output, INSPECT_MARKER, NULL);
  if (object == NULL)
    {
      g_task_return_new_error (task, KILN_SCENE_ERROR, KILN_SCENE_ERROR_FAILED,
                               _("Blender read the scene but did not describe it"));
      return;
    }
  info = kiln_scene_info_new_from_json (data->blend_file, object, &error);
  if (info == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  kiln_scene_info_check_files (info);
  g_task_return_pointer (task, g_steal_pointer (&info), g_object_unref);
}

static void
script_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  InspectData *data = g_task_get_task_data (task);
  g_autoptr(KilnBlenderScriptResult) run = NULL;
  GError *error = NULL;

  run = kiln_blender_script_run_finish (result, &error);
  if (run == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        {
          g_autofree char *base = g_path_get_basename (data->blend_file);
          g_autofree char *name = g_filename_display_name (base);
          guint limit = kiln_sandbox_get_time_limit (data->sandbox);

          g_clear_error (&error);
          error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("Blender took longer than %u seconds to read “%s” and was "
                                 "stopped. The scene, or a file it links, may be too large "
                                 "or may never finish loading."),
                               limit > 0 ? limit : KILN_SCENE_INSPECT_TIME_LIMIT, name);
        }
      g_task_return_error (task, error);
      return;
    }

  if (!run->exited || run->exit_status != 0 || strstr (run->output, INSPECT_MARKER) == NULL)
    {
      g_task_return_error (task, blender_error (data, run));
      return;
    }

  data->output = g_steal_pointer (&run->output);
  g_task_run_in_thread (task, parse_thread);
}

static void
header_checked (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  InspectData *data = g_task_get_task_data (task);
  GCancellable *cancellable;
  GError *error = NULL;
  guint limit;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  limit = kiln_sandbox_get_time_limit (data->sandbox);
  cancellable = g_task_get_cancellable (task);
  kiln_blender_script_run_async (data->sandbox, data->blender, data->work_dir,
                                 data->blend_file, inspect_script, NULL, 1,
                                 limit > 0 ? limit : KILN_SCENE_INSPECT_TIME_LIMIT,
                                 cancellable, script_done, g_steal_pointer (&task));
}

void
kiln_scene_inspect_async (KilnBlender         *blender,
                          KilnSandbox         *sandbox,
                          const char          *blend_file,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) header_task = NULL;
  InspectData *data;

  g_return_if_fail (KILN_IS_BLENDER (blender));
  g_return_if_fail (sandbox == NULL || KILN_IS_SANDBOX (sandbox));
  g_return_if_fail (blend_file != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_scene_inspect_async);

  data = g_new0 (InspectData, 1);
  data->blender = g_object_ref (blender);
  if (sandbox != NULL)
    data->sandbox = g_object_ref (sandbox);
  else
    {
      /* Inspection is the person's own wait: no idle priority. */
      data->sandbox = kiln_sandbox_new ();
      kiln_sandbox_set_idle_priority (data->sandbox, FALSE);
    }
  data->blend_file = g_canonicalize_filename (blend_file, NULL);
  g_task_set_task_data (task, data, (GDestroyNotify) inspect_data_free);

  header_task = g_task_new (NULL, cancellable, header_checked, g_steal_pointer (&task));
  g_task_set_source_tag (header_task, kiln_scene_inspect_async);
  g_task_set_task_data (header_task, data, NULL);
  g_task_run_in_thread (header_task, check_header_thread);
}

KilnSceneInfo *
kiln_scene_inspect_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_scene_inspect_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
