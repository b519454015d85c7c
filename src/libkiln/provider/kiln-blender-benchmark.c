/* kiln-blender-benchmark.c: how fast this computer renders with Blender
 *
 * A fixed scene that Blender builds itself (no file from anyone else, so it runs
 * outside the sandbox), timed around bpy.ops.render.render() alone, scored in
 * millions of path samples per second, and cached per Blender version, CPU model
 * and thread count so that it runs once per upgrade.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <sched.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kiln-blender.h"
#include "kiln-blender-private.h"

#define BENCHMARK_TIMEOUT_SECONDS  600
#define BENCHMARK_WIDTH            320
#define BENCHMARK_HEIGHT           240
#define BENCHMARK_SAMPLES          32
#define BENCHMARK_CACHE_FILE       "blender-benchmarks.json"
#define BENCHMARK_CACHE_VERSION    1

/* Builds a fixed scene (the factory cube, a glossy sphere, a ground plane, a sun)
 * and times bpy.ops.render.render() alone. Formatted with samples, width,
 * height and threads. */
static const char benchmark_script[] =
  "import bpy, json, time\n"
  "s = bpy.context.scene\n"
  "s.render.engine = 'CYCLES'\n"
  "s.cycles.device = 'CPU'\n"
  "s.cycles.samples = %u\n"
  "s.cycles.use_adaptive_sampling = False\n"
  "s.cycles.use_denoising = False\n"
  "s.cycles.seed = 1\n"
  "for layer in s.view_layers:\n"
  "    layer.cycles.use_denoising = False\n"
  "s.render.resolution_x = %u\n"
  "s.render.resolution_y = %u\n"
  "s.render.resolution_percentage = 100\n"
  "s.render.threads_mode = 'FIXED'\n"
  "s.render.threads = %u\n"
  "bpy.ops.mesh.primitive_uv_sphere_add(radius=0.9, location=(1.8, 0.6, 0.2),\n"
  "                                     segments=64, ring_count=32)\n"
  "bpy.ops.object.shade_smooth()\n"
  "glossy = bpy.data.materials.new('Glossy')\n"
  "glossy.use_nodes = True\n"
  "bsdf = glossy.node_tree.nodes['Principled BSDF']\n"
  "bsdf.inputs['Metallic'].default_value = 0.8\n"
  "bsdf.inputs['Roughness'].default_value = 0.25\n"
  "bpy.context.object.data.materials.append(glossy)\n"
  "bpy.ops.mesh.primitive_plane_add(size=30, location=(0, 0, -1))\n"
  "bpy.ops.object.light_add(type='SUN', location=(0, 0, 6))\n"
  "bpy.context.object.data.energy = 3\n"
  "start = time.perf_counter()\n"
  "bpy.ops.render.render()\n"
  "seconds = time.perf_counter() - start\n"
  "print('KILN-BENCHMARK ' + json.dumps({'seconds': seconds}), flush=True)\n";

static guint
usable_cpu_count (void)
{
  cpu_set_t set;

  if (sched_getaffinity (0, sizeof set, &set) == 0 && CPU_COUNT (&set) > 0)
    return CPU_COUNT (&set);
  return MAX (g_get_num_processors (), 1);
}


typedef struct
{
  char   *blender_path;
  gboolean on_host;
  char   *cache_file;
  char   *key;
  guint   threads;
  gboolean force;
  double  score;
} Benchmark;

static void
benchmark_free (Benchmark *benchmark)
{
  g_free (benchmark->blender_path);
  g_free (benchmark->cache_file);
  g_free (benchmark->key);
  g_free (benchmark);
}

/* The cache's "benchmarks" object (a new one when the file is absent or unusable). */
static JsonObject *
load_cache (const char *cache_file)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *object;

  if (!json_parser_load_from_mapped_file (parser, cache_file, NULL))
    return json_object_new ();
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return json_object_new ();
  object = json_node_get_object (root);
  if (json_object_get_int_member_with_default (object, "version", 0) != BENCHMARK_CACHE_VERSION ||
      kiln_blender_json_object_member (object, "benchmarks") == NULL)
    return json_object_new ();
  return json_object_ref (kiln_blender_json_object_member (object, "benchmarks"));
}

static gboolean
save_cache (const char  *cache_file,
            JsonObject  *benchmarks,
            GError     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) entries = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *dir = g_path_get_dirname (cache_file);
  g_autofree char *text = NULL;

  json_node_set_object (entries, benchmarks);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, BENCHMARK_CACHE_VERSION);
  json_builder_set_member_name (builder, "benchmarks");
  json_builder_add_value (builder, g_steal_pointer (&entries));
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot create the cache folder %s: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }
  return g_file_set_contents_full (cache_file, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                   0600, error);
}

static void
benchmark_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  Benchmark *benchmark = task_data;
  g_autoptr(JsonObject) benchmarks = load_cache (benchmark->cache_file);
  g_autoptr(JsonObject) result = NULL;
  g_autoptr(JsonObject) entry = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *script = NULL;
  g_autofree char *output = NULL;
  g_autofree char *measured = NULL;
  JsonObject *cached;
  double seconds;

  cached = kiln_blender_json_object_member (benchmarks, benchmark->key);
  if (!benchmark->force && cached != NULL &&
      json_object_get_double_member_with_default (cached, "score", 0) > 0)
    {
      benchmark->score = json_object_get_double_member (cached, "score");
      g_task_return_boolean (task, TRUE);
      return;
    }

  script = g_strdup_printf (benchmark_script, BENCHMARK_SAMPLES, BENCHMARK_WIDTH,
                            BENCHMARK_HEIGHT, benchmark->threads);
  {
    const char * const argv[] = {
      benchmark->blender_path, "-b", "--factory-startup", "-noaudio",
      "--python-exit-code", "3", "--python-expr", script, NULL
    };

    output = kiln_blender_run_captured (argv, benchmark->on_host, BENCHMARK_TIMEOUT_SECONDS,
                                        cancellable, &error);
  }
  if (output != NULL)
    result = kiln_blender_find_marked_json (output, "KILN-BENCHMARK ", &error);
  if (result == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_BENCHMARK,
                                 _("The Blender benchmark failed: %s"), error->message);
      return;
    }

  seconds = json_object_get_double_member_with_default (result, "seconds", 0);
  if (!(seconds > 0))
    {
      g_task_return_new_error (task, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_BENCHMARK,
                               _("The Blender benchmark reported no render time"));
      return;
    }
  benchmark->score = (double) BENCHMARK_WIDTH * BENCHMARK_HEIGHT * BENCHMARK_SAMPLES /
                     seconds / 1e6;

  now = g_date_time_new_now_utc ();
  measured = g_date_time_format_iso8601 (now);
  entry = json_object_new ();
  json_object_set_double_member (entry, "score", benchmark->score);
  json_object_set_double_member (entry, "seconds", seconds);
  json_object_set_int_member (entry, "threads", benchmark->threads);
  json_object_set_string_member (entry, "measured", measured);
  json_object_set_object_member (benchmarks, benchmark->key, g_steal_pointer (&entry));

  /* A cache that cannot be written costs a re-run next time, nothing more. */
  if (!save_cache (benchmark->cache_file, benchmarks, &error))
    g_warning ("Cannot save the Blender benchmark: %s", error->message);

  g_task_return_boolean (task, TRUE);
}

static void
benchmark_done (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  KilnBlender *self = KILN_BLENDER (object);
  g_autoptr(GTask) outer = user_data;
  Benchmark *benchmark = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (outer, error);
      return;
    }

  kiln_blender_set_benchmark (self, benchmark->score, benchmark->threads);
  g_task_return_pointer (outer, g_memdup2 (&benchmark->score, sizeof (double)), g_free);
}

void
kiln_blender_benchmark_async (KilnBlender         *self,
                              GFile               *cache_dir,
                              gboolean             force,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;
  g_autofree char *dir = NULL;
  Benchmark *benchmark;

  g_return_if_fail (KILN_IS_BLENDER (self));
  g_return_if_fail (cache_dir == NULL || G_IS_FILE (cache_dir));

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, kiln_blender_benchmark_async);

  if (cache_dir != NULL)
    dir = g_file_get_path (cache_dir);
  else
    dir = g_build_filename (g_get_user_cache_dir (), "kiln", NULL);

  benchmark = g_new0 (Benchmark, 1);
  benchmark->blender_path = g_strdup (kiln_blender_get_path (self));
  benchmark->on_host = kiln_blender_is_on_host (self);
  benchmark->cache_file = g_build_filename (dir, BENCHMARK_CACHE_FILE, NULL);
  benchmark->threads = usable_cpu_count ();
  benchmark->key = g_strdup_printf ("%s|%s|%u", kiln_blender_get_version (self),
                                    kiln_blender_get_cpu_model (self),
                                    benchmark->threads);
  benchmark->force = force;

  inner = g_task_new (self, cancellable, benchmark_done, g_steal_pointer (&outer));
  g_task_set_source_tag (inner, kiln_blender_benchmark_async);
  g_task_set_task_data (inner, benchmark, (GDestroyNotify) benchmark_free);
  g_task_run_in_thread (inner, benchmark_thread);
}

double
kiln_blender_benchmark_finish (KilnBlender   *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_autofree double *score = NULL;

  g_return_val_if_fail (KILN_IS_BLENDER (self), 0);
  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_blender_benchmark_async,
                        0);

  score = g_task_propagate_pointer (G_TASK (result), error);
  return score != NULL ? *score : 0;
}
