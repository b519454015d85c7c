/* bench-verify.c: how well re-rendering random crops tells honest results from
 * tampered ones, and what it costs
 *
 * Two scenes, built by Blender at start-up:
 *  - small: 160×120, 16 samples (adaptive sampling on, as Blender's default), a
 *    checker-textured cube turning over frames 1-4, a sphere and a floor. Honest
 *    results are rendered through KilnRenderRun on one thread (a provider); the
 *    verifier renders its crops on two. Results of two frames, of one frame and of
 *    a strip, honest and tampered, are verified with crops drawn from the CSPRNG (or
 *    a fresh random seed where the tampering must know the crops) by one verifier,
 *    as a job's are, and the worst crop's PSNR is recorded.
 *  - heavy: 320×240, 192 samples, no adaptive sampling, glass and glossy
 *    surfaces, about 10 CPU seconds a frame here: the cost of verification, in
 *    CPU seconds of the sandboxed processes (sampled from /proc), against those
 *    of the render it checks, for the first result of the scene (Blender starts)
 *    and for the next ones (the same Blender, kept running).
 * docs/verification.md reports the figures.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kiln-bench-util.h"
#include "kiln-blender.h"
#include "kiln-image.h"
#include "kiln-job-plan.h"
#include "kiln-provider-private.h"
#include "kiln-render-private.h"
#include "kiln-random.h"
#include "kiln-render-run.h"
#include "kiln-sandbox.h"
#include "kiln-verifier.h"

/* Trials per kind of tampering (twice as many honest ones); more with
 * KILN_BENCH_VERIFY_TRIALS=N in the environment. */
#define TAMPER_TRIALS   5
#define EDIT_DRAWS   2000

static const char scenes_script[] =
  "import bpy, os, sys\n"
  "out = sys.argv[sys.argv.index('--') + 1]\n"
  "def build(width, height, samples, adaptive, heavy):\n"
  "    bpy.ops.wm.read_factory_settings(use_empty=False)\n"
  "    scene = bpy.context.scene\n"
  "    scene.render.engine = 'CYCLES'\n"
  "    scene.cycles.samples = samples\n"
  "    scene.cycles.use_adaptive_sampling = adaptive\n"
  "    scene.cycles.use_denoising = False\n"
  "    scene.render.resolution_x = width\n"
  "    scene.render.resolution_y = height\n"
  "    scene.render.resolution_percentage = 100\n"
  "    scene.render.image_settings.file_format = 'PNG'\n"
  "    scene.frame_start, scene.frame_end = 1, 4\n"
  "    cube = bpy.data.objects['Cube']\n"
  "    cube.rotation_euler = (0, 0, 0)\n"
  "    cube.keyframe_insert('rotation_euler', frame=1)\n"
  "    cube.rotation_euler = (0, 0, 1.2)\n"
  "    cube.keyframe_insert('rotation_euler', frame=4)\n"
  "    checker = bpy.data.materials.new('Checker')\n"
  "    checker.use_nodes = True\n"
  "    nodes = checker.node_tree.nodes\n"
  "    texture = nodes.new('ShaderNodeTexChecker')\n"
  "    texture.inputs['Scale'].default_value = 12\n"
  "    checker.node_tree.links.new(texture.outputs['Color'],\n"
  "                                nodes['Principled BSDF'].inputs['Base Color'])\n"
  "    cube.data.materials.append(checker)\n"
  "    bpy.ops.mesh.primitive_plane_add(size=12, location=(0, 0, -1))\n"
  "    bpy.ops.mesh.primitive_uv_sphere_add(radius=0.6, location=(1.6, -0.8, -0.4))\n"
  "    sphere = bpy.context.active_object\n"
  "    bpy.ops.object.shade_smooth()\n"
  "    if heavy:\n"
  "        glass = bpy.data.materials.new('Glass')\n"
  "        glass.use_nodes = True\n"
  "        principled = glass.node_tree.nodes['Principled BSDF']\n"
  "        principled.inputs['Transmission'].default_value = 1.0\n"
  "        principled.inputs['Roughness'].default_value = 0.05\n"
  "        sphere.data.materials.append(glass)\n"
  "        bpy.ops.mesh.primitive_monkey_add(location=(-1.6, 0.2, 0))\n"
  "        monkey = bpy.context.active_object\n"
  "        monkey.modifiers.new('Subdivision', 'SUBSURF').render_levels = 3\n"
  "        glossy = bpy.data.materials.new('Glossy')\n"
  "        glossy.use_nodes = True\n"
  "        glossy.node_tree.nodes['Principled BSDF'].inputs['Metallic'].default_value = 1.0\n"
  "        glossy.node_tree.nodes['Principled BSDF'].inputs['Roughness'].default_value = 0.2\n"
  "        monkey.data.materials.append(glossy)\n"
  "    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, 'heavy.blend' if heavy\n"
  "                                                           else 'small.blend'))\n"
  "build(160, 120, 16, True, False)\n"
  "build(320, 240, 192, False, True)\n"
  "print('KILN-BENCH-SCENES', flush=True)\n";

static struct
{
  char        *root;
  char        *small;
  char        *heavy;
  KilnBlender *blender;
  KilnSandbox *provider;   /* one thread, like a provider lending one core */
  KilnSandbox *local;      /* every thread, like a requestor's verification */
} bench;

/* Helpers ------------------------------------------------------------------------------ */

/* CPU time of the sandboxes: every process below this one is sampled from /proc
 * every 20 ms and each one's own user + system time counted once, at its highest
 * (bubblewrap's init does not hand its reaped children's times up to us, so
 * getrusage (RUSAGE_CHILDREN) sees none of Blender's). A process's last 20 ms
 * can be missed. */
static GHashTable *sampled;   /* pid → highest own ticks seen */
static guint64     sampled_before;   /* what the processes alive at the start had spent */

static guint64
own_ticks (GPid pid)
{
  char path[64];
  g_autofree char *contents = NULL;
  g_auto(GStrv) parts = NULL;
  const char *end;

  g_snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (!g_file_get_contents (path, &contents, NULL, NULL) ||
      (end = strrchr (contents, ')')) == NULL)
    return 0;
  /* After the name: state ppid pgrp session tty_nr tpgid flags minflt cminflt
   * majflt cmajflt utime stime. */
  parts = g_strsplit (end + 2, " ", 14);
  if (g_strv_length (parts) < 14)
    return 0;
  return g_ascii_strtoull (parts[11], NULL, 10) + g_ascii_strtoull (parts[12], NULL, 10);
}

static gboolean
sample_processes (gpointer user_data)
{
  g_autoptr(GArray) tree = kiln_process_tree_list (getpid ());

  for (guint i = 1; i < tree->len; i++)
    {
      GPid pid = g_array_index (tree, GPid, i);
      guint64 ticks = own_ticks (pid);
      gpointer old = g_hash_table_lookup (sampled, GINT_TO_POINTER (pid));

      if (ticks > GPOINTER_TO_SIZE (old))
        g_hash_table_insert (sampled, GINT_TO_POINTER (pid), GSIZE_TO_POINTER (ticks));
    }
  return G_SOURCE_CONTINUE;
}

/* Counts from now: a process alive before (the verifier's Blender, kept running between
 * verifications) counts only what it spends from now on. */
static guint
sampling_start (void)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_remove_all (sampled);
  sample_processes (NULL);
  sampled_before = 0;
  g_hash_table_iter_init (&iter, sampled);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    sampled_before += GPOINTER_TO_SIZE (value);
  return g_timeout_add (20, sample_processes, NULL);
}

static double
sampling_stop (guint source)
{
  GHashTableIter iter;
  gpointer value;
  guint64 total = 0;

  g_source_remove (source);
  sample_processes (NULL);
  g_hash_table_iter_init (&iter, sampled);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    total += GPOINTER_TO_SIZE (value);
  return (double) (total - MIN (sampled_before, total)) / sysconf (_SC_CLK_TCK);
}

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static char *
new_dir (const char *name)
{
  g_autofree char *template = g_strdup_printf ("%s-XXXXXX", name);
  char *path = g_build_filename (bench.root, template, NULL);

  if (g_mkdtemp (path) == NULL)
    g_error ("Cannot make %s", path);
  return path;
}

static GStrv
render (KilnSandbox       *sandbox,
        const char        *scene,
        const KilnSubtask *subtask,
        double            *cpu)
{
  g_autofree char *dir = new_dir ("render");
  g_autoptr(KilnRenderSpec) spec = kiln_subtask_to_render_spec (subtask, scene, dir);
  g_autoptr(KilnRenderRun) run = kiln_render_run_new (sandbox, bench.blender, spec);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint sampling = sampling_start ();
  GStrv paths;

  kiln_render_run_execute_async (run, NULL, store_result, &result);
  wait_for (&result);
  paths = kiln_render_run_execute_finish (run, result, &error);
  if (paths == NULL)
    g_error ("Rendering failed: %s", error->message);
  if (cpu != NULL)
    *cpu = sampling_stop (sampling);
  else
    g_source_remove (sampling);
  return paths;
}

static KilnVerdict *
verify (KilnVerifier       *verifier,
        const char         *scene,
        const KilnSubtask  *subtask,
        const char * const *paths,
        double             *cpu)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint sampling = sampling_start ();
  KilnVerdict *verdict;

  kiln_verifier_verify_async (verifier, subtask, scene, paths, NULL, store_result, &result);
  wait_for (&result);
  verdict = kiln_verifier_verify_finish (verifier, result, &error);
  if (verdict == NULL)
    g_error ("Verification failed: %s", error->message);
  if (cpu != NULL)
    *cpu = sampling_stop (sampling);
  else
    g_source_remove (sampling);
  return verdict;
}

static double
worst_psnr (const KilnVerdict *verdict)
{
  double worst = G_MAXDOUBLE;

  for (guint i = 0; i < verdict->crops->len; i++)
    worst = MIN (worst, g_array_index (verdict->crops, KilnVerifyCrop, i).psnr);
  return worst;
}

static KilnImage *
load (const char *path)
{
  g_autoptr(GError) error = NULL;
  KilnImage *image = kiln_image_load_png (path, &error);

  if (image == NULL)
    g_error ("%s", error->message);
  return image;
}

/* @paths with image @index replaced by @image, in a new folder. */
static GStrv
replace_image (const char * const *paths,
               guint               index,
               const KilnImage    *image)
{
  g_autofree char *dir = new_dir ("tampered");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *base = g_path_get_basename (paths[i]);
      g_autofree char *path = g_build_filename (dir, base, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(KilnImage) original = i == index ? NULL : load (paths[i]);

      if (!kiln_image_save_png (i == index ? image : original, path, &error))
        g_error ("%s", error->message);
      g_strv_builder_add (builder, path);
    }
  return g_strv_builder_end (builder);
}

/* A 3 × 3 patch moved by a quarter of the range: a small, visible local edit. */
static void
paint_patch (KilnImage *image,
             guint      x,
             guint      y)
{
  guint channels = kiln_image_get_channels (image);
  guint colours = MIN (channels, 3);
  guint half = 1u << (kiln_image_get_depth (image) - 1);
  guint quarter = half / 2;

  for (guint dy = 0; dy < 3; dy++)
    for (guint dx = 0; dx < 3; dx++)
      for (guint c = 0; c < colours; c++)
        {
          guint16 *value = &kiln_image_get_row (image, y + dy)[(x + dx) * channels + c];

          *value = *value >= half ? *value - quarter : *value + quarter;
        }
}

static gboolean
overlaps (const KilnVerifyCrop *crop,
          guint                 x,
          guint                 y,
          guint                 size)
{
  return x < crop->x + crop->width && crop->x < x + size &&
         y < crop->y + crop->height && crop->y < y + size;
}

/* Results ------------------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  guint       trials;
  guint       accepted;
  double      lowest;
  double      highest;
} Tally;

static void
tally_add (Tally             *tally,
           const KilnVerdict *verdict)
{
  double psnr = worst_psnr (verdict);

  if (tally->trials == 0)
    tally->lowest = tally->highest = psnr;
  tally->trials++;
  tally->accepted += verdict->result == KILN_VERDICT_ACCEPTED;
  tally->lowest = MIN (tally->lowest, psnr);
  tally->highest = MAX (tally->highest, psnr);
}

static char *
format_psnr (double psnr)
{
  return psnr == G_MAXDOUBLE ? g_strdup ("identical") : g_strdup_printf ("%.1f dB", psnr);
}

static void
tally_print (const Tally *tally,
             gboolean     honest)
{
  g_autofree char *lowest = format_psnr (tally->lowest);
  g_autofree char *highest = format_psnr (tally->highest);

  g_print ("%s: %s %u of %u (worst crop's PSNR from %s to %s)\n", tally->name,
           honest ? "rejected" : "accepted",
           honest ? tally->trials - tally->accepted : tally->accepted, tally->trials,
           lowest, highest);
}

/* The tampering ---------------------------------------------------------------------------- */

typedef enum
{
  TAMPER_OTHER_FRAME,
  TAMPER_HALF_SAMPLES,
  TAMPER_QUARTER_SAMPLES,
  TAMPER_SHIFTED,
  TAMPER_PAINTED,
  TAMPER_NOISE,
  TAMPER_BLANK,
  TAMPER_EDIT_INSIDE,
  TAMPER_EDIT_OUTSIDE,
  TAMPER_ROUNDING,
  N_TAMPERS
} Tamper;

static const char * const tamper_names[N_TAMPERS] = {
  "another frame's image",
  "half the samples",
  "a quarter of the samples",
  "shifted one pixel right",
  "a quarter of the frame painted over",
  "random noise",
  "blank",
  "3×3 patch edited inside a crop",
  "3×3 patch edited outside the crops",
  "±1/255 on a quarter of the values (not tampering: within tolerance)",
};

/* One kind of subtask of the small scene, its honest result and what cheats start from. */
typedef struct
{
  const char  *name;
  KilnSubtask *subtask;
  GStrv        honest;       /* its images */
  GStrv        other;        /* another frame (3) in its place */
  GStrv        half;         /* at 8 samples */
  GStrv        quarter;      /* at 4 samples */
} Target;

static void
target_init (Target            *target,
             const char        *name,
             const KilnSubtask *subtask)
{
  g_autoptr(KilnSubtask) other = kiln_subtask_copy (subtask);
  g_autoptr(KilnSubtask) cheap = kiln_subtask_copy (subtask);

  target->name = name;
  target->subtask = kiln_subtask_copy (subtask);
  target->honest = render (bench.provider, bench.small, subtask, NULL);
  other->frame_start = other->frame_end = 3;
  target->other = render (bench.provider, bench.small, other, NULL);
  cheap->samples = subtask->samples / 2;
  target->half = render (bench.provider, bench.small, cheap, NULL);
  cheap->samples = subtask->samples / 4;
  target->quarter = render (bench.provider, bench.small, cheap, NULL);
}

static void
target_clear (Target *target)
{
  g_strfreev (target->honest);
  g_strfreev (target->other);
  g_strfreev (target->half);
  g_strfreev (target->quarter);
  kiln_subtask_free (target->subtask);
}

static GStrv
tampered_result (Target       *target,
                 Tamper        tamper,
                 KilnVerifier *verifier,
                 GRand        *rand)
{
  const KilnSubtask *subtask = target->subtask;
  guint8 seed[32];
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) crops = NULL;
  g_autoptr(KilnImage) image = NULL;
  guint rx = subtask->use_border ? subtask->border_x : 0;
  guint ry = subtask->use_border ? subtask->border_y : 0;
  guint width, height, channels;
  int frame = subtask->frame_start;
  guint index;

  switch (tamper)
    {
    case TAMPER_HALF_SAMPLES:
      return g_strdupv (target->half);
    case TAMPER_QUARTER_SAMPLES:
      return g_strdupv (target->quarter);
    case TAMPER_OTHER_FRAME:
    case TAMPER_SHIFTED:
    case TAMPER_PAINTED:
    case TAMPER_NOISE:
    case TAMPER_BLANK:
    case TAMPER_ROUNDING:
    case TAMPER_EDIT_INSIDE:
    case TAMPER_EDIT_OUTSIDE:
    case N_TAMPERS:
    default:
      break;
    }

  /* Tamper with the frame that will be checked: draw the crops with a fresh seed
   * and verify with the same seed. */
  if (!kiln_random_bytes (seed, sizeof seed, &error))
    g_error ("%s", error->message);
  kiln_verifier_set_seed (verifier, seed);
  crops = kiln_verifier_choose_crops (verifier, subtask, (const char * const *) target->honest,
                                      &frame, &error);
  if (crops == NULL)
    g_error ("%s", error->message);
  kiln_verifier_set_seed (verifier, seed);
  index = (guint) (frame - subtask->frame_start) / subtask->frame_step;
  image = load (target->honest[index]);
  width = kiln_image_get_width (image);
  height = kiln_image_get_height (image);
  channels = kiln_image_get_channels (image);

  switch (tamper)
    {
    case TAMPER_OTHER_FRAME:
      g_clear_pointer (&image, kiln_image_free);
      image = load (target->other[0]);
      break;
    case TAMPER_SHIFTED:
      {
        g_autoptr(KilnImage) copy = kiln_image_copy (image);
        g_autoptr(KilnImage) moved = kiln_image_crop (copy, 0, 0, width - 1, height);

        kiln_image_paste (image, moved, 1, 0);
      }
      break;
    case TAMPER_PAINTED:
      {
        guint x0 = g_rand_int_range (rand, 0, width / 2 + 1);
        guint y0 = g_rand_int_range (rand, 0, height / 2 + 1);
        guint64 sums[4] = { 0, };

        for (guint y = 0; y < height; y++)
          for (guint x = 0; x < width; x++)
            for (guint c = 0; c < channels; c++)
              sums[c] += kiln_image_get_row (image, y)[x * channels + c];
        for (guint y = y0; y < y0 + height / 2; y++)
          for (guint x = x0; x < x0 + width / 2; x++)
            for (guint c = 0; c < channels; c++)
              kiln_image_get_row (image, y)[x * channels + c] =
                (guint16) (sums[c] / ((guint64) width * height));
      }
      break;
    case TAMPER_NOISE:
    case TAMPER_BLANK:
      for (guint y = 0; y < height; y++)
        {
          guint16 *row = kiln_image_get_row (image, y);
          guint max = (1u << kiln_image_get_depth (image)) - 1;

          for (guint i = 0; i < width * channels; i++)
            if (channels == 4 && i % 4 == 3)
              row[i] = (guint16) max;
            else if (tamper == TAMPER_BLANK)
              row[i] = 0;
            else
              row[i] = (guint16) g_rand_int_range (rand, 0, (int) max + 1);
        }
      break;
    case TAMPER_EDIT_INSIDE:
      {
        /* The first crop's place does not depend on the image. */
        const KilnVerifyCrop *crop = &g_array_index (crops, KilnVerifyCrop, 0);

        paint_patch (image, crop->x - rx + crop->width / 2 - 1,
                     crop->y - ry + crop->height / 2 - 1);
      }
      break;
    case TAMPER_EDIT_OUTSIDE:
      for (;;)
        {
          guint x = g_rand_int_range (rand, 0, width - 2);
          guint y = g_rand_int_range (rand, 0, height - 2);
          gboolean inside = FALSE;

          for (guint i = 0; i < crops->len; i++)
            inside |= overlaps (&g_array_index (crops, KilnVerifyCrop, i), x + rx, y + ry, 3);
          if (!inside)
            {
              paint_patch (image, x, y);
              break;
            }
        }
      break;
    case TAMPER_ROUNDING:
      for (guint y = 0; y < height; y++)
        {
          guint16 *row = kiln_image_get_row (image, y);

          for (guint i = 0; i < width * channels; i++)
            if ((channels != 4 || i % 4 != 3) && g_rand_int_range (rand, 0, 4) == 0)
              row[i] = row[i] == 0 ? 1 : row[i] - 1;
        }
      break;
    case TAMPER_HALF_SAMPLES:
    case TAMPER_QUARTER_SAMPLES:
    case N_TAMPERS:
    default:
      g_assert_not_reached ();
    }
  return replace_image ((const char * const *) target->honest, index, image);
}

/* Honest and tampered results of one kind of subtask. */
static void
measure_target (KilnVerifier *verifier,
                Target       *target,
                guint         trials,
                GRand        *rand)
{
  Tally honest = { "honest results", 0, 0, 0, 0 };
  Tally tampered[N_TAMPERS] = { { 0, }, };
  guint uniform, detail, flat;
  guint n = kiln_verifier_get_crops_for (verifier, target->subtask, &uniform, &detail, &flat);

  g_print ("%s: %u crops (%u anywhere, %u for detail, %u for flatness)\n", target->name, n,
           uniform, detail, flat);
  for (guint t = 0; t < 2 * trials; t++)
    {
      g_autoptr(KilnVerdict) verdict = verify (verifier, bench.small, target->subtask,
                                               (const char * const *) target->honest, NULL);

      tally_add (&honest, verdict);
    }
  g_print ("  ");
  tally_print (&honest, TRUE);

  for (Tamper tamper = 0; tamper < N_TAMPERS; tamper++)
    {
      tampered[tamper].name = tamper_names[tamper];
      for (guint t = 0; t < trials; t++)
        {
          g_auto(GStrv) paths = tampered_result (target, tamper, verifier, rand);
          g_autoptr(KilnVerdict) verdict = verify (verifier, bench.small, target->subtask,
                                                   (const char * const *) paths, NULL);

          kiln_verifier_set_seed (verifier, NULL);
          tally_add (&tampered[tamper], verdict);
        }
      g_print ("  ");
      tally_print (&tampered[tamper], FALSE);
    }
}

/* Part 1: honest and tampered results on the small scene: a subtask of two frames, one of
 * one frame, and a strip. */
static void
measure_rates (void)
{
  g_autoptr(KilnVerifier) verifier = kiln_verifier_new (bench.blender, bench.local);
  g_autoptr(KilnSubtask) chunk = kiln_subtask_new ();
  g_autoptr(KilnSubtask) frame = NULL;
  g_autoptr(KilnSubtask) strip = NULL;
  GRand *rand = g_rand_new_with_seed (4242);
  Target targets[3] = { { 0, }, };
  double threshold = kiln_verifier_get_threshold (verifier);
  const char *trials_text = g_getenv ("KILN_BENCH_VERIFY_TRIALS");
  guint trials = trials_text != NULL ? (guint) CLAMP (atoi (trials_text), 1, 1000) : TAMPER_TRIALS;

  chunk->frame_start = 1;
  chunk->frame_end = 2;
  chunk->width = 160;
  chunk->height = 120;
  chunk->samples = 16;
  frame = kiln_subtask_copy (chunk);
  frame->frame_start = frame->frame_end = 2;
  strip = kiln_subtask_copy (frame);
  strip->use_border = TRUE;
  strip->border_y = 30;
  strip->border_width = 160;
  strip->border_height = 30;
  target_init (&targets[0], "frames 1-2", chunk);
  target_init (&targets[1], "frame 2", frame);
  target_init (&targets[2], "rows 30-59 of frame 2", strip);

  g_print ("threshold: %.1f dB PSNR, crops of %.1f %% of the subtask's area, %u candidates "
           "for each crop chosen for detail or flatness\n", threshold,
           100 * kiln_verifier_get_crop_fraction (verifier), KILN_VERIFIER_CANDIDATES);
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    measure_target (verifier, &targets[i], trials, rand);

  /* How likely a 3×3 edit anywhere, or on the scene's objects, is covered by a crop. */
  for (guint k = 0; k < 2; k++)
    {
      Target *target = &targets[k];
      guint anywhere = 0, on_objects = 0;

      for (guint d = 0; d < EDIT_DRAWS; d++)
        {
          g_autoptr(GError) error = NULL;
          int chosen;
          g_autoptr(GArray) crops = kiln_verifier_choose_crops (verifier, target->subtask,
                                                                (const char * const *)
                                                                target->honest,
                                                                &chosen, &error);
          guint x = g_rand_int_range (rand, 0, 158), y = g_rand_int_range (rand, 0, 118);
          guint ox = g_rand_int_range (rand, 50, 108), oy = g_rand_int_range (rand, 30, 88);
          gboolean hit = FALSE, object_hit = FALSE;

          if (crops == NULL)
            g_error ("%s", error->message);
          for (guint i = 0; i < crops->len; i++)
            {
              hit |= overlaps (&g_array_index (crops, KilnVerifyCrop, i), x, y, 3);
              object_hit |= overlaps (&g_array_index (crops, KilnVerifyCrop, i), ox, oy, 3);
            }
          anywhere += hit;
          on_objects += object_hit;
        }
      g_print ("%s: 3×3 edit caught (a crop covers it): %.1f %% placed anywhere, %.1f %% "
               "placed on the cube (%u draws each)\n", target->name,
               100.0 * anywhere / EDIT_DRAWS, 100.0 * on_objects / EDIT_DRAWS, EDIT_DRAWS);
    }

  g_rand_free (rand);
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    target_clear (&targets[i]);
}

/* Part 2: what verification costs on a frame of about ten CPU seconds: the first result of
 * a scene (Blender starts and loads it), then each next one (the same Blender, kept running,
 * renders only the crops). */
#define COST_NEXT 3

static void
measure_cost (void)
{
  g_autoptr(KilnSubtask) frame = kiln_subtask_new ();
  g_autoptr(KilnSubtask) chunk = NULL;
  g_autoptr(KilnSubtask) strip = NULL;
  struct { const char *name; KilnSubtask *subtask; } cases[3];

  frame->width = 320;
  frame->height = 240;
  frame->samples = 192;
  chunk = kiln_subtask_copy (frame);
  chunk->frame_end = 4;
  strip = kiln_subtask_copy (frame);
  strip->use_border = TRUE;
  strip->border_y = 60;
  strip->border_width = 320;
  strip->border_height = 60;
  cases[0].name = "one frame";
  cases[0].subtask = frame;
  cases[1].name = "four frames";
  cases[1].subtask = chunk;
  cases[2].name = "a quarter-frame strip";
  cases[2].subtask = strip;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(KilnVerifier) verifier = kiln_verifier_new (bench.blender, bench.local);
      double render_cpu, first_cpu, next_cpu[COST_NEXT], next;
      g_auto(GStrv) paths = render (bench.local, bench.heavy, cases[i].subtask, &render_cpu);

      for (guint n = 0; n <= COST_NEXT; n++)
        {
          double cpu;
          g_autoptr(KilnVerdict) verdict = verify (verifier, bench.heavy, cases[i].subtask,
                                                   (const char * const *) paths, &cpu);

          if (verdict->result != KILN_VERDICT_ACCEPTED)
            g_error ("An honest heavy result was rejected: %s", verdict->reason);
          if (n == 0)
            first_cpu = cpu;
          else
            next_cpu[n - 1] = cpu;
        }
      next = kiln_bench_median (next_cpu, COST_NEXT);
      g_print ("verification cost, %s: the first result of the scene %.2f CPU s = %.1f %%, "
               "each next one %.2f CPU s = %.1f %% (median of %u), of %.2f CPU s rendering\n",
               cases[i].name, first_cpu, 100 * first_cpu / render_cpu, next,
               100 * next / render_cpu, COST_NEXT, render_cpu);
    }
}

/* Set-up ----------------------------------------------------------------------------------- */

static void
make_scenes (void)
{
  g_autofree char *script = g_build_filename (bench.root, "scenes.py", NULL);
  g_autofree char *output = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;

  if (!g_file_set_contents (script, scenes_script, -1, &error))
    g_error ("%s", error->message);
  {
    const char * const argv[] = {
      kiln_blender_get_path (bench.blender), "-b", "--factory-startup", "-noaudio",
      "--python-exit-code", "1", "--python", script, "--", bench.root, NULL
    };

    process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                       G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  }
  if (process == NULL ||
      !g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error))
    g_error ("%s", error->message);
  if (strstr (output, "KILN-BENCH-SCENES") == NULL)
    g_error ("Building the scenes failed:\n%s", output);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;

  sampled = g_hash_table_new (NULL, NULL);
  bench.root = g_dir_make_tmp ("kiln-bench-verify-XXXXXX", &error);
  if (bench.root == NULL)
    g_error ("%s", error->message);
  bench.small = g_build_filename (bench.root, "small.blend", NULL);
  bench.heavy = g_build_filename (bench.root, "heavy.blend", NULL);
  bench.blender = kiln_blender_discover (NULL, NULL, &error);
  if (bench.blender == NULL)
    g_error ("%s", error->message);
  bench.provider = kiln_sandbox_new ();
  kiln_sandbox_set_cpu_limit (bench.provider, 1);
  kiln_sandbox_set_idle_priority (bench.provider, FALSE);
  bench.local = kiln_sandbox_new ();
  kiln_sandbox_set_idle_priority (bench.local, FALSE);
  make_scenes ();

  if (argc < 2 || g_str_equal (argv[1], "rates"))
    measure_rates ();
  if (argc < 2 || g_str_equal (argv[1], "cost"))
    measure_cost ();

  kiln_render_remove_tree (bench.root);
  g_clear_object (&bench.provider);
  g_clear_object (&bench.local);
  g_clear_object (&bench.blender);
  g_free (bench.small);
  g_free (bench.heavy);
  g_free (bench.root);
  return 0;
}
