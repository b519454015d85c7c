/* bench-sandbox.c: what the sandbox costs a render
 *
 * One small Cycles scene (160×120, 32 samples, no adaptive sampling), built by
 * Blender at start-up, rendered start to finish (Blender's start, scene load,
 * render, PNG written) through KilnRenderRun in the bubblewrap sandbox, and the
 * same frame by a plain `blender -b` with the same thread count. Idle priority
 * is off so that only confinement is measured. Median of 5 runs each,
 * interleaved, after one untimed run each. Goal: ratio under 1.05.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdlib.h>

#include <glib/gstdio.h>

#include "kiln-bench-util.h"
#include "kiln-blender.h"
#include "kiln-render-run.h"
#include "kiln-sandbox.h"

#define N_RUNS   5
#define WIDTH    160
#define HEIGHT   120
#define SAMPLES  32

static const char scene_script[] =
  "import bpy, sys\n"
  "scene = bpy.context.scene\n"
  "scene.render.engine = 'CYCLES'\n"
  "scene.cycles.device = 'CPU'\n"
  "scene.cycles.samples = %d\n"
  "scene.cycles.use_adaptive_sampling = False\n"
  "scene.cycles.use_denoising = False\n"
  "for layer in scene.view_layers:\n"
  "    layer.cycles.use_denoising = False\n"
  "scene.render.resolution_x = %d\n"
  "scene.render.resolution_y = %d\n"
  "scene.render.resolution_percentage = 100\n"
  "scene.render.image_settings.file_format = 'PNG'\n"
  "bpy.ops.wm.save_as_mainfile(filepath=sys.argv[sys.argv.index('--') + 1])\n";

static void
run_or_die (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                     G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  if (process == NULL || !g_subprocess_wait_check (process, NULL, &error))
    g_error ("%s failed: %s", argv[0], error->message);
}

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static double
render_sandboxed (KilnSandbox    *sandbox,
                  KilnBlender    *blender,
                  KilnRenderSpec *spec)
{
  g_autoptr(KilnRenderRun) run = kiln_render_run_new (sandbox, blender, spec);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  gint64 start = g_get_monotonic_time ();

  kiln_render_run_execute_async (run, NULL, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  paths = kiln_render_run_execute_finish (run, result, &error);
  if (paths == NULL)
    g_error ("sandboxed render failed: %s", error->message);
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static double
render_plain (KilnBlender    *blender,
              KilnRenderSpec *spec,
              guint           threads)
{
  g_autofree char *threads_text = g_strdup_printf ("%u", threads);
  g_autofree char *output = g_build_filename (spec->output_dir, "plain_####", NULL);
  g_autofree char *png = g_build_filename (spec->output_dir, "plain_0001.png", NULL);
  g_autoptr(GError) error = NULL;
  const char * const argv[] = {
    kiln_blender_get_path (blender), "--background", "--factory-startup",
    "--disable-autoexec", "-noaudio", "--threads", threads_text, spec->blend_file,
    "--render-output", output, "--render-format", "PNG", "--render-frame", "1", NULL
  };
  gint64 start = g_get_monotonic_time ();
  double seconds;

  run_or_die (argv);
  seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  if (!kiln_image_check_file (png, KILN_IMAGE_FORMAT_PNG, WIDTH, HEIGHT, &error))
    g_error ("plain render failed: %s", error->message);
  g_unlink (png);
  return seconds;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnBlender) blender = NULL;
  g_autoptr(KilnSandbox) sandbox = NULL;
  g_autoptr(KilnRenderSpec) spec = kiln_render_spec_new ();
  g_autofree char *root = NULL;
  g_autofree char *scene_dir = NULL;
  g_autofree char *script = NULL;
  double sandboxed[N_RUNS], plain[N_RUNS];
  double s, p;
  guint threads;

  blender = kiln_blender_discover (NULL, NULL, &error);
  if (blender == NULL)
    g_error ("%s", error->message);
  sandbox = kiln_sandbox_new ();
  kiln_sandbox_set_idle_priority (sandbox, FALSE);
  threads = kiln_sandbox_get_cpu_count (sandbox);

  root = g_dir_make_tmp ("kiln-bench-sandbox-XXXXXX", &error);
  g_assert_no_error (error);
  scene_dir = g_build_filename (root, "scene", NULL);
  spec->blend_file = g_build_filename (scene_dir, "bench.blend", NULL);
  spec->output_dir = g_build_filename (root, "out", NULL);
  g_mkdir (scene_dir, 0700);
  g_mkdir (spec->output_dir, 0700);
  spec->width = WIDTH;
  spec->height = HEIGHT;
  spec->samples = SAMPLES;

  script = g_strdup_printf (scene_script, SAMPLES, WIDTH, HEIGHT);
  {
    const char * const make[] = {
      kiln_blender_get_path (blender), "-b", "--factory-startup", "-noaudio",
      "--python-exit-code", "1", "--python-expr", script, "--", spec->blend_file, NULL
    };

    run_or_die (make);
  }

  render_sandboxed (sandbox, blender, spec);
  render_plain (blender, spec, threads);
  for (guint i = 0; i < N_RUNS; i++)
    {
      sandboxed[i] = render_sandboxed (sandbox, blender, spec);
      plain[i] = render_plain (blender, spec, threads);
    }

  s = kiln_bench_median (sandboxed, N_RUNS);
  p = kiln_bench_median (plain, N_RUNS);
  g_print ("sandboxed render: %.3f s (unsandboxed: %.3f s, ratio %.3f)\n", s, p, s / p);

  remove_tree (root);
  return 0;
}
