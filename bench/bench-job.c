/* bench-job.c: what a render job across providers costs against rendering locally, how soon
 * its first subtask starts, and what verifying it costs
 *
 * A scene of about ten CPU seconds a frame (320×240, 192 samples, no adaptive sampling, glass
 * and glossy surfaces, a subdivided monkey; 8 frames of a turning cube), built by Blender at
 * start-up, is rendered two ways in the same run, interleaved:
 *  - the baseline: `blender -b SCENE -t 2 -a`, all 8 frames, on this computer's two cores;
 *  - a KilnRenderJob of the same 8 frames, in this process, over real KilnEngines on loopback,
 *    across two provider agents, each in a process of its own pinned to one core (a one-core
 *    computer: two providers in one process would have their sandboxes pinned to the same
 *    core), lending that core at normal priority; the requestor verifies every result here
 *    (its sandbox at normal priority on both cores) and pays on the devnet.
 * Figures:
 *  - job overhead: from kiln_render_job_start_async() until every frame is verified and in
 *    the output folder, over the baseline's wall time (the payment that follows, one batch
 *    transaction on the devnet, is printed apart);
 *  - submit → first subtask started: from kiln_render_job_start_async() until a provider has
 *    spawned the sandbox that runs Blender for an assignment (its KilnProvider counts the
 *    render); Blender's own start and scene load come after;
 *  - verification cost: CPU seconds of the requestor's sandboxed processes over those of the
 *    providers' sandboxed processes during the job (every process sampled from /proc every
 *    50 ms, each one's own user + system time counted once, at its highest);
 *  - the job's CPU time in all (the providers' sandboxes and agent processes, the requestor's
 *    verification and its own process, less what sampling costs it) against the baseline's:
 *    unlike wall-clock time, it hardly depends on what else the computer runs meanwhile.
 * Each job has its own copy of the scene (a different file, the same picture), so no provider
 * has its files already. KILN_BENCH_JOB_RUNS=N repeats each measurement N times (default 2)
 * and prints medians; KILN_BENCH_JOB_VERBOSE=1 prints every job's log with times.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sched.h>
#include <time.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>

#include "kiln-provider-private.h"
#include "kiln-render-private.h"
#include "kiln-test-devnet.h"
#include "kiln-test-idle.h"
#include "kiln-bench-util.h"
#include "libkiln.h"

#define NETWORK      0xbe7c70b5u
#define N_FRAMES     8
#define WIDTH        320
#define HEIGHT       240
#define SAMPLES      192   /* KILN_BENCH_JOB_SAMPLES=N for quicker, lighter runs */
#define N_PROVIDERS  2
#define DEFAULT_RUNS 2
#define GNT          G_GUINT64_CONSTANT (1000000000000000000)
/* How often the processes' CPU time is read (a process's last interval can be missed). */
#define SAMPLE_MS    50
/* Any wait longer than this fails the benchmark. */
#define WAIT_LIMIT_S 600

static const char scenes_script[] =
  "import bpy, os, sys\n"
  "args = sys.argv[sys.argv.index('--') + 1:]\n"
  "out, copies = args[0], int(args[1])\n"
  "bpy.ops.wm.read_factory_settings(use_empty=False)\n"
  "scene = bpy.context.scene\n"
  "scene.render.engine = 'CYCLES'\n"
  "scene.cycles.samples = %d\n"
  "scene.cycles.use_adaptive_sampling = False\n"
  "scene.cycles.use_denoising = False\n"
  "for layer in scene.view_layers:\n"
  "    layer.cycles.use_denoising = False\n"
  "scene.render.resolution_x = %d\n"
  "scene.render.resolution_y = %d\n"
  "scene.render.resolution_percentage = 100\n"
  "scene.render.image_settings.file_format = 'PNG'\n"
  "scene.frame_start, scene.frame_end = 1, %d\n"
  "cube = bpy.data.objects['Cube']\n"
  "cube.rotation_euler = (0, 0, 0)\n"
  "cube.keyframe_insert('rotation_euler', frame=1)\n"
  "cube.rotation_euler = (0, 0, 1.2)\n"
  "cube.keyframe_insert('rotation_euler', frame=scene.frame_end)\n"
  "checker = bpy.data.materials.new('Checker')\n"
  "checker.use_nodes = True\n"
  "nodes = checker.node_tree.nodes\n"
  "texture = nodes.new('ShaderNodeTexChecker')\n"
  "texture.inputs['Scale'].default_value = 12\n"
  "checker.node_tree.links.new(texture.outputs['Color'],\n"
  "                            nodes['Principled BSDF'].inputs['Base Color'])\n"
  "cube.data.materials.append(checker)\n"
  "bpy.ops.mesh.primitive_plane_add(size=12, location=(0, 0, -1))\n"
  "bpy.ops.mesh.primitive_uv_sphere_add(radius=0.6, location=(1.6, -0.8, -0.4))\n"
  "sphere = bpy.context.active_object\n"
  "bpy.ops.object.shade_smooth()\n"
  "glass = bpy.data.materials.new('Glass')\n"
  "glass.use_nodes = True\n"
  "principled = glass.node_tree.nodes['Principled BSDF']\n"
  "principled.inputs['Transmission'].default_value = 1.0\n"
  "principled.inputs['Roughness'].default_value = 0.05\n"
  "sphere.data.materials.append(glass)\n"
  "bpy.ops.mesh.primitive_monkey_add(location=(-1.6, 0.2, 0))\n"
  "monkey = bpy.context.active_object\n"
  "monkey.modifiers.new('Subdivision', 'SUBSURF').render_levels = 3\n"
  "glossy = bpy.data.materials.new('Glossy')\n"
  "glossy.use_nodes = True\n"
  "glossy.node_tree.nodes['Principled BSDF'].inputs['Metallic'].default_value = 1.0\n"
  "glossy.node_tree.nodes['Principled BSDF'].inputs['Roughness'].default_value = 0.2\n"
  "monkey.data.materials.append(glossy)\n"
  "# The same picture in different files: a property nothing renders.\n"
  "for i in range(copies):\n"
  "    scene['kiln_bench_copy'] = i\n"
  "    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, 'scene-%%d.blend' %% i),\n"
  "                                copy=True)\n"
  "print('KILN-BENCH-SCENES', flush=True)\n";

/* Waiting ------------------------------------------------------------------------------- */

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context until @done (@data) holds. */
static void
wait_until (gboolean   (*done) (gpointer data),
            gpointer     data,
            const char  *what)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_S * G_USEC_PER_SEC;
  guint tick = g_timeout_add (100, on_tick, NULL);

  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("bench-job: gave up waiting for %s", what);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
}

static gboolean
result_set (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
await_result (GAsyncResult **slot,
              const char    *what)
{
  wait_until (result_set, slot, what);
  return *slot;
}

static void
check (GError     *error,
       const char *what)
{
  if (error != NULL)
    g_error ("bench-job: %s: %s", what, error->message);
}

static double
seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static void
on_stdin_closed (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result,
                                                              NULL);

  if (bytes != NULL && g_bytes_get_size (bytes) > 0)
    g_input_stream_read_bytes_async (G_INPUT_STREAM (object), 64, G_PRIORITY_DEFAULT, NULL,
                                     on_stdin_closed, user_data);
  else
    *(gboolean *) user_data = TRUE;
}

static void
on_engine_stopped (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  kiln_engine_stop_finish (KILN_ENGINE (object), result, &error);
  check (error, "stopping an engine");
  *(gboolean *) user_data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
stop_engine (KilnEngine *engine)
{
  gboolean stopped = FALSE;

  kiln_engine_stop_async (engine, NULL, on_engine_stopped, &stopped);
  wait_until (flag_set, &stopped, "an engine to stop");
}

static KilnEngine *
engine_new (const char  *dir,
            KilnKey     *key,
            KilnStore  **store)
{
  g_autofree char *db = g_build_filename (dir, KILN_STORE_FILE_NAME, NULL);
  g_autoptr(GError) error = NULL;
  KilnEngine *engine;

  *store = kiln_store_new (db, NULL, &error);
  check (error, "opening a store");
  engine = kiln_engine_new (key, *store, dir, &error);
  check (error, "making an engine");
  kiln_engine_set_network_id (engine, NETWORK);
  kiln_engine_start (engine, "127.0.0.1", 0, NULL, FALSE, &error);
  check (error, "starting an engine");
  return engine;
}

/* A provider: `bench-job provider CPU DIR`, one process per provider ---------------------- */

/* One line to the parent (stdout is a pipe: flushed at once). */
static void report (const char *format,
                    ...) G_GNUC_PRINTF (1, 2);

static void
report (const char *format,
        ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  fflush (stdout);
}

static void
on_n_runs (KilnProvider *provider,
           GParamSpec   *pspec,
           guint        *n_runs)
{
  guint n = kiln_provider_get_n_runs (provider);

  /* A render was added: its sandbox has just been spawned. */
  if (n > *n_runs)
    report ("spawned %" G_GINT64_FORMAT "\n", g_get_monotonic_time ());
  *n_runs = n;
}

static gboolean
monitor_idle (gpointer data)
{
  return kiln_idle_monitor_get_idle (data);
}

static void
on_benchmarked (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  kiln_blender_benchmark_finish (KILN_BLENDER (object), result, &error);
  check (error, "the Blender benchmark");
  *(gboolean *) user_data = TRUE;
}

static int
provider_main (guint       cpu,
               const char *dir)
{
  FakeServices *services;
  g_autoptr(GDBusConnection) session = NULL;
  g_autoptr(GDBusConnection) system = NULL;
  g_autoptr(KilnLendingPolicy) policy = NULL;
  g_autoptr(KilnIdleMonitor) monitor = NULL;
  g_autoptr(KilnProvider) provider = NULL;
  g_autoptr(KilnBlender) blender = NULL;
  g_autoptr(KilnKey) key = NULL;
  g_autoptr(KilnStore) store = NULL;
  g_autoptr(KilnEngine) engine = NULL;
  g_autoptr(KilnProviderAgent) agent = NULL;
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GFile) cache = NULL;
  g_autofree char *cache_dir = g_build_filename (dir, "cache", NULL);
  g_autofree char *work_dir = g_build_filename (dir, "work", NULL);
  g_autoptr(GError) error = NULL;
  gboolean benchmarked = FALSE, closed = FALSE;
  guint n_runs = 0;
  cpu_set_t set;

  /* A one-core computer: everything this process starts runs on core @cpu. */
  CPU_ZERO (&set);
  CPU_SET (cpu, &set);
  if (sched_setaffinity (0, sizeof set, &set) != 0)
    g_error ("bench-job: cannot pin a provider to core %u", cpu);

  services = fake_services_new ();
  fake_mutter_own (services, TRUE);
  fake_mutter_set_idletime (services, 10 * 60 * 1000);
  session = fake_services_connect (services, FALSE);
  system = fake_services_connect (services, TRUE);

  policy = kiln_lending_policy_new ();
  kiln_lending_policy_set_cpu_threshold_percent (policy, 100);
  kiln_lending_policy_set_idle_delay_minutes (policy, 0);
  kiln_lending_policy_set_min_price (policy, "0.1", &error);
  check (error, "the lending policy");
  kiln_lending_policy_set_cores (policy, 1);
  kiln_lending_policy_set_memory_mb (policy, 2048);
  kiln_lending_policy_set_enabled (policy, TRUE);
  monitor = g_object_new (KILN_TYPE_IDLE_MONITOR,
                          "policy", policy,
                          "session-bus", session,
                          "system-bus", system,
                          NULL);
  provider = kiln_provider_new (policy, monitor);
  wait_until (monitor_idle, monitor, "the provider's computer to be idle");
  g_signal_connect (provider, "notify::n-runs", G_CALLBACK (on_n_runs), &n_runs);

  blender = kiln_blender_discover (NULL, NULL, &error);
  check (error, "finding Blender");
  g_mkdir_with_parents (cache_dir, 0700);
  cache = g_file_new_for_path (cache_dir);
  kiln_blender_benchmark_async (blender, cache, FALSE, NULL, on_benchmarked, &benchmarked);
  wait_until (flag_set, &benchmarked, "the Blender benchmark");

  key = kiln_key_generate (&error);
  check (error, "a provider key");
  engine = engine_new (dir, key, &store);
  agent = kiln_provider_agent_new (engine, provider, blender, work_dir);
  /* Normal priority, like the baseline: the computer runs other work too. */
  kiln_provider_agent_set_idle_priority (agent, FALSE);
  kiln_provider_agent_start (agent, &error);
  check (error, "starting the provider agent");

  report ("ready %u\n", kiln_engine_get_listen_port (engine));

  /* Until the parent goes. */
  input = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_input_stream_read_bytes_async (input, 64, G_PRIORITY_DEFAULT, NULL, on_stdin_closed,
                                   &closed);
  while (!closed)
    g_main_context_iteration (NULL, TRUE);

  kiln_provider_agent_stop (agent);
  g_clear_object (&agent);
  stop_engine (engine);
  fake_services_free (services);
  return 0;
}

/* Provider processes, seen from the requestor ----------------------------------------------- */

typedef struct
{
  GSubprocess      *process;
  GPid              pid;
  GDataInputStream *lines;
  guint16           port;
  GArray           *spawned;   /* gint64: monotonic µs of each sandbox spawned */
  gboolean          gone;
  char             *log;       /* its standard error */
} Lender;

static void read_next_line (Lender *lender);

static void
on_line (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Lender *lender = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  guint64 value;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result, NULL,
                                                    &error);
  if (line == NULL)
    {
      lender->gone = TRUE;
      return;
    }
  if (g_str_has_prefix (line, "ready ") &&
      g_ascii_string_to_unsigned (line + 6, 10, 1, G_MAXUINT16, &value, NULL))
    lender->port = (guint16) value;
  else if (g_str_has_prefix (line, "spawned ") &&
           g_ascii_string_to_unsigned (line + 8, 10, 0, G_MAXINT64, &value, NULL))
    {
      gint64 when = (gint64) value;

      g_array_append_val (lender->spawned, when);
    }
  read_next_line (lender);
}

static void
read_next_line (Lender *lender)
{
  g_data_input_stream_read_line_async (lender->lines, G_PRIORITY_DEFAULT, NULL, on_line,
                                       lender);
}

static Lender *
lender_spawn (const char *self_path,
              guint       cpu,
              const char *root)
{
  g_autofree char *name = g_strdup_printf ("provider-%u", cpu);
  g_autofree char *dir = g_build_filename (root, name, NULL);
  g_autofree char *cpu_text = g_strdup_printf ("%u", cpu);
  const char * const argv[] = { self_path, "provider", cpu_text, dir, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  Lender *lender = g_new0 (Lender, 1);

  g_mkdir_with_parents (dir, 0700);
  lender->spawned = g_array_new (FALSE, FALSE, sizeof (gint64));
  /* What it prints besides its reports (its bus daemons are chatty) is shown only when it
   * fails. */
  lender->log = g_build_filename (dir, "messages.log", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_stderr_file_path (launcher, lender->log);
  lender->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  check (error, "starting a provider");
  lender->pid = (GPid) atoi (g_subprocess_get_identifier (lender->process));
  lender->lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (lender->process));
  read_next_line (lender);
  return lender;
}

static void
lender_die (Lender     *lender,
            const char *what)
{
  g_autofree char *log = NULL;

  g_file_get_contents (lender->log, &log, NULL, NULL);
  g_printerr ("%s\n", log != NULL ? log : "");
  g_error ("bench-job: %s", what);
}

static gboolean
lender_ready (gpointer data)
{
  Lender *lender = data;

  if (lender->gone)
    lender_die (lender, "a provider process ended before it was ready");
  return lender->port != 0;
}

static gboolean
lender_gone (gpointer data)
{
  return ((Lender *) data)->gone;
}

static void
lender_free (Lender *lender)
{
  g_autoptr(GError) error = NULL;

  /* Its standard input closes: it stops its agent and engine, then ends. */
  g_output_stream_close (g_subprocess_get_stdin_pipe (lender->process), NULL, NULL);
  wait_until (lender_gone, lender, "a provider to end");
  if (!g_subprocess_wait_check (lender->process, NULL, &error))
    lender_die (lender, error->message);
  g_object_unref (lender->lines);
  g_object_unref (lender->process);
  g_array_unref (lender->spawned);
  g_free (lender->log);
  g_free (lender);
}

/* CPU time by who spent it ------------------------------------------------------------------ */

typedef enum
{
  SPENT_RENDERING,   /* the providers' sandboxes */
  SPENT_AGENTS,      /* the provider processes themselves */
  SPENT_VERIFYING,   /* the requestor's sandboxes */
  SPENT_BASELINE,    /* the local render */
  SPENT_OTHER,       /* the devnet */
  N_SPENT
} Spent;

typedef struct
{
  Spent   spent;
  guint64 ticks;
} Sample;

static struct
{
  GHashTable *samples;     /* pid → Sample */
  Lender     *lenders[N_PROVIDERS];
  GPid        baseline;
  guint       source;
  double      sampling;    /* CPU seconds this process spent sampling */
} cpu;

static double
thread_cpu_seconds (void)
{
  struct timespec now;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec / 1e9;
}

static gboolean
read_stat (GPid     pid,
           GPid    *ppid,
           guint64 *ticks)
{
  char path[64];
  g_autofree char *contents = NULL;
  g_auto(GStrv) parts = NULL;
  const char *end;

  g_snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (!g_file_get_contents (path, &contents, NULL, NULL) ||
      (end = strrchr (contents, ')')) == NULL)
    return FALSE;
  /* After the name: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
   * utime stime. */
  parts = g_strsplit (end + 2, " ", 14);
  if (g_strv_length (parts) < 14)
    return FALSE;
  *ppid = (GPid) g_ascii_strtoll (parts[1], NULL, 10);
  *ticks = g_ascii_strtoull (parts[11], NULL, 10) + g_ascii_strtoull (parts[12], NULL, 10);
  return TRUE;
}

static Spent
classify (GHashTable *parents,
          GPid        pid)
{
  GPid self = getpid ();
  GPid top = pid;
  gboolean sandboxed;
  GPid parent;

  /* The ancestor that is this process's own child. */
  while ((parent = GPOINTER_TO_INT (g_hash_table_lookup (parents, GINT_TO_POINTER (top)))) != 0 &&
         parent != self)
    top = parent;
  for (guint i = 0; i < N_PROVIDERS; i++)
    if (cpu.lenders[i] != NULL && top == cpu.lenders[i]->pid)
      return pid == top ? SPENT_AGENTS : SPENT_RENDERING;
  if (cpu.baseline != 0 && top == cpu.baseline)
    return SPENT_BASELINE;
  {
    char path[64];
    g_autofree char *comm = NULL;

    g_snprintf (path, sizeof path, "/proc/%d/comm", (int) top);
    sandboxed = g_file_get_contents (path, &comm, NULL, NULL) && g_str_has_prefix (comm, "bwrap");
  }
  return sandboxed ? SPENT_VERIFYING : SPENT_OTHER;
}

static gboolean
sample_processes (gpointer user_data)
{
  double started = thread_cpu_seconds ();
  g_autoptr(GArray) tree = kiln_process_tree_list (getpid ());
  g_autoptr(GHashTable) parents = g_hash_table_new (NULL, NULL);
  g_autoptr(GArray) ticks = g_array_sized_new (FALSE, FALSE, sizeof (guint64), tree->len);

  for (guint i = 0; i < tree->len; i++)
    {
      GPid pid = g_array_index (tree, GPid, i), ppid = 0;
      guint64 t = 0;

      if (i > 0 && read_stat (pid, &ppid, &t))
        g_hash_table_insert (parents, GINT_TO_POINTER (pid), GINT_TO_POINTER (ppid));
      g_array_append_val (ticks, t);
    }
  for (guint i = 1; i < tree->len; i++)
    {
      GPid pid = g_array_index (tree, GPid, i);
      Sample *sample = g_hash_table_lookup (cpu.samples, GINT_TO_POINTER (pid));

      if (!g_hash_table_contains (parents, GINT_TO_POINTER (pid)))
        continue;
      if (sample == NULL)
        {
          sample = g_new0 (Sample, 1);
          sample->spent = classify (parents, pid);
          g_hash_table_insert (cpu.samples, GINT_TO_POINTER (pid), sample);
        }
      sample->ticks = MAX (sample->ticks, g_array_index (ticks, guint64, i));
    }
  cpu.sampling += thread_cpu_seconds () - started;
  return G_SOURCE_CONTINUE;
}

/* Starts counting from now: what processes alive now have spent so far is taken off. */
static void
sampling_start (guint64 before[N_SPENT])
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_remove_all (cpu.samples);
  sample_processes (NULL);
  memset (before, 0, N_SPENT * sizeof *before);
  g_hash_table_iter_init (&iter, cpu.samples);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    before[((Sample *) value)->spent] += ((Sample *) value)->ticks;
  cpu.source = g_timeout_add (SAMPLE_MS, sample_processes, NULL);
}

/* CPU seconds spent since sampling_start(), by who spent them. */
static void
sampling_stop (const guint64 before[N_SPENT],
               double        seconds[N_SPENT])
{
  GHashTableIter iter;
  gpointer value;
  guint64 total[N_SPENT] = { 0, };

  sample_processes (NULL);
  g_clear_handle_id (&cpu.source, g_source_remove);
  g_hash_table_iter_init (&iter, cpu.samples);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    total[((Sample *) value)->spent] += ((Sample *) value)->ticks;
  for (guint i = 0; i < N_SPENT; i++)
    seconds[i] = (double) (total[i] - MIN (before[i], total[i])) / sysconf (_SC_CLK_TCK);
}

/* The requestor ---------------------------------------------------------------------------- */

static struct
{
  char           *root;
  char           *self_path;
  KilnBlender    *blender;
  KilnSandbox    *sandbox;      /* the requestor's: both cores, normal priority */
  KilnSceneInfo  *scenes[16];   /* a copy of the scene per job */
  KilnTestDevnet *devnet;
  KilnKey        *key;
  KilnStore      *store;
  KilnEngine     *engine;
  KilnPaymentLedger *ledger;
  KilnWallet     *wallet;
  guint           samples;
  gboolean        verbose;
} bench;

typedef struct
{
  double  seconds;         /* start → every frame verified and kept */
  double  requestor_cpu;   /* this process's own CPU time meanwhile */
  double  paid_after;      /* … → paid */
  double  first_started;   /* start → a provider spawned the first sandbox */
  double  cpu[N_SPENT];
  guint   n_subtasks;
} JobRun;

static void
make_scenes (guint copies)
{
  g_autofree char *script = g_strdup_printf (scenes_script, bench.samples, WIDTH, HEIGHT,
                                             N_FRAMES);
  g_autofree char *script_path = g_build_filename (bench.root, "scenes.py", NULL);
  g_autofree char *copies_text = g_strdup_printf ("%u", copies);
  g_autofree char *output = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char * const argv[] = {
    kiln_blender_get_path (bench.blender), "-b", "--factory-startup", "-noaudio",
    "--python-exit-code", "1", "--python", script_path, "--", bench.root, copies_text, NULL
  };

  g_file_set_contents (script_path, script, -1, &error);
  check (error, "writing the scene script");
  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                     G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  check (error, "starting Blender");
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  check (error, "building the scene");
  if (strstr (output, "KILN-BENCH-SCENES") == NULL)
    g_error ("bench-job: building the scene failed:\n%s", output);
}

static void
inspect_scenes (guint copies)
{
  GAsyncResult *results[G_N_ELEMENTS (bench.scenes)] = { NULL, };

  /* Each read in the sandbox, as the app reads a dropped file; all at once. */
  for (guint i = 0; i < copies; i++)
    {
      g_autofree char *name = g_strdup_printf ("scene-%u.blend", i);
      g_autofree char *path = g_build_filename (bench.root, name, NULL);

      kiln_scene_inspect_async (bench.blender, bench.sandbox, path, NULL, store_result,
                                &results[i]);
    }
  for (guint i = 0; i < copies; i++)
    {
      g_autoptr(GError) error = NULL;

      await_result (&results[i], "the scene to be read");
      bench.scenes[i] = kiln_scene_inspect_finish (results[i], &error);
      check (error, "reading the scene");
      g_clear_object (&results[i]);
    }
}

static void
start_wallet (void)
{
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *token = NULL;
  g_autofree char *batch = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 eth, gnt;

  bench.devnet = kiln_test_devnet_start (NULL, &error);
  check (error, "starting the devnet");
  token = kiln_address_to_string (kiln_test_devnet_get_token (bench.devnet));
  batch = kiln_address_to_string (kiln_test_devnet_get_batch_pay (bench.devnet));
  chain = kiln_chain_new_custom (kiln_test_devnet_get_rpc_url (bench.devnet),
                                 KILN_DEVNET_CHAIN_ID, token, batch, &error);
  check (error, "the devnet's chain");
  bench.ledger = kiln_payment_ledger_new (bench.store);
  /* Polling at its default interval, as the app does. */
  bench.wallet = kiln_wallet_new (chain, bench.key, bench.ledger);

  kiln_wallet_start_async (bench.wallet, NULL, store_result, &result);
  kiln_wallet_start_finish (bench.wallet, await_result (&result, "the wallet"), &error);
  check (error, "starting the wallet");
  g_clear_object (&result);
  kiln_uint256_parse_units (&eth, "10", 18, "ETH", &error);
  check (error, "an amount");
  kiln_uint256_parse_units (&gnt, "1000", 18, "GNT", &error);
  check (error, "an amount");
  kiln_wallet_devnet_fund_async (bench.wallet, &eth, &gnt, NULL, store_result, &result);
  kiln_wallet_devnet_fund_finish (bench.wallet, await_result (&result, "the devnet's funds"),
                                  &error);
  check (error, "funding the wallet");
}

static gboolean
peer_connected (gpointer data)
{
  KilnEnginePeer *peer = data;

  return kiln_engine_peer_get_connected (peer);
}

static void
link_to (Lender *lender)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(KilnEnginePeer) peer = NULL;
  g_autoptr(GError) error = NULL;

  kiln_engine_connect_async (bench.engine, "127.0.0.1", lender->port, NULL, store_result,
                             &result);
  peer = kiln_engine_connect_finish (bench.engine, await_result (&result, "a link"), &error);
  check (error, "linking to a provider");
  wait_until (peer_connected, peer, "a link to a provider");
}

/* The local render: every frame with two threads. Its wall-clock time, and in @cpu_s the
 * CPU time it took. */
static double
run_baseline (guint   copy,
              double *cpu_s)
{
  g_autofree char *name = g_strdup_printf ("scene-%u.blend", copy);
  g_autofree char *scene = g_build_filename (bench.root, name, NULL);
  g_autofree char *dir_name = g_strdup_printf ("baseline-%u", copy);
  g_autofree char *dir = g_build_filename (bench.root, dir_name, NULL);
  g_autofree char *output = g_build_filename (dir, "frame_####", NULL);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char * const argv[] = {
    kiln_blender_get_path (bench.blender), "-b", "--factory-startup", "--disable-autoexec",
    "-noaudio", "-t", "2", scene, "--render-output", output, "--render-format", "PNG",
    "--render-anim", NULL
  };
  g_autoptr(GAsyncResult) result = NULL;
  guint64 before[N_SPENT];
  double spent[N_SPENT];
  gint64 start;
  double seconds;

  g_mkdir_with_parents (dir, 0700);
  sampling_start (before);
  start = g_get_monotonic_time ();
  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                     G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  check (error, "starting the local render");
  cpu.baseline = (GPid) atoi (g_subprocess_get_identifier (process));
  /* Waited for on the main loop: the links to the providers must keep answering. */
  g_subprocess_wait_check_async (process, NULL, store_result, &result);
  g_subprocess_wait_check_finish (process, await_result (&result, "the local render"), &error);
  check (error, "the local render");
  seconds = seconds_since (start);
  sampling_stop (before, spent);
  cpu.baseline = 0;
  *cpu_s = spent[SPENT_BASELINE];

  for (int f = 1; f <= N_FRAMES; f++)
    {
      g_autofree char *frame = g_strdup_printf ("frame_%04d.png", f);
      g_autofree char *path = g_build_filename (dir, frame, NULL);

      kiln_image_check_file (path, KILN_IMAGE_FORMAT_PNG, WIDTH, HEIGHT, &error);
      check (error, "a locally rendered frame");
    }
  kiln_render_remove_tree (dir);
  return seconds;
}

static void
check_lenders (void)
{
  for (guint i = 0; i < N_PROVIDERS; i++)
    if (cpu.lenders[i]->gone)
      lender_die (cpu.lenders[i], "a provider process ended during a job");
}

/* User and system time of this process (the requestor: engine, job, wallet) so far. */
static double
process_cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static gboolean
job_verified (gpointer data)
{
  KilnRenderJobState state = kiln_render_job_get_state (data);

  check_lenders ();
  if (state == KILN_RENDER_JOB_STATE_FAILED)
    g_error ("bench-job: the job failed: %s", kiln_render_job_get_error (data));
  return state == KILN_RENDER_JOB_STATE_PAYING || state == KILN_RENDER_JOB_STATE_DONE;
}

static gboolean
job_done (gpointer data)
{
  KilnRenderJobState state = kiln_render_job_get_state (data);

  check_lenders ();
  if (state == KILN_RENDER_JOB_STATE_FAILED)
    g_error ("bench-job: the job failed: %s", kiln_render_job_get_error (data));
  return state == KILN_RENDER_JOB_STATE_DONE;
}

static void
print_log (KilnRenderJob *job,
           gint64         start_real)
{
  GListModel *events = kiln_render_job_get_events (job);

  for (guint i = 0; i < g_list_model_get_n_items (events); i++)
    {
      g_autoptr(KilnRenderJobEvent) event = g_list_model_get_item (events, i);
      double at = (double) (kiln_render_job_event_get_time (event) - start_real) /
                  G_USEC_PER_SEC;

      if (kiln_render_job_event_get_subtask (event) >= 0)
        g_print ("  %7.3f s  subtask %d: %s\n", at, kiln_render_job_event_get_subtask (event),
                 kiln_render_job_event_get_text (event));
      else
        g_print ("  %7.3f s  %s\n", at, kiln_render_job_event_get_text (event));
    }
}

static JobRun
run_job (guint copy,
         guint n_subtasks)
{
  g_autoptr(KilnRenderJobSettings) settings = NULL;
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir_name = g_strdup_printf ("frames-%u", copy);
  JobRun run = { 0, };
  guint64 before[N_SPENT];
  gint64 start, start_real, first = G_MAXINT64;
  double start_cpu;

  settings = kiln_render_job_settings_new_for_scene (bench.scenes[copy]);
  settings->n_subtasks = n_subtasks;
  settings->subtask_timeout = 600;
  settings->cores = 1;
  settings->memory_mib = 1024;
  kiln_uint256_from_uint64 (&settings->max_price, GNT);
  g_free (settings->output_dir);
  settings->output_dir = g_build_filename (bench.root, dir_name, NULL);
  job = kiln_render_job_new (bench.engine, bench.blender, bench.sandbox, bench.scenes[copy],
                             settings, bench.wallet, NULL, &error);
  check (error, "making the job");
  run.n_subtasks = kiln_render_job_get_n_subtasks (job);
  for (guint i = 0; i < N_PROVIDERS; i++)
    g_array_set_size (cpu.lenders[i]->spawned, 0);

  sampling_start (before);
  start_cpu = process_cpu_seconds () - cpu.sampling;
  start = g_get_monotonic_time ();
  start_real = g_get_real_time ();
  kiln_render_job_start_async (job, NULL, store_result, &result);
  kiln_render_job_start_finish (job, await_result (&result, "the job to start"), &error);
  check (error, "starting the job");
  wait_until (job_verified, job, "every frame to be verified");
  run.seconds = seconds_since (start);
  /* Not what measuring here costs. */
  run.requestor_cpu = process_cpu_seconds () - cpu.sampling - start_cpu;
  sampling_stop (before, run.cpu);
  wait_until (job_done, job, "the job to be paid");
  run.paid_after = seconds_since (start) - run.seconds;

  if (kiln_render_job_get_frames_done (job) != N_FRAMES)
    g_error ("bench-job: %u frames done instead of %u", kiln_render_job_get_frames_done (job),
             N_FRAMES);
  for (guint i = 0; i < N_PROVIDERS; i++)
    for (guint j = 0; j < cpu.lenders[i]->spawned->len; j++)
      first = MIN (first, g_array_index (cpu.lenders[i]->spawned, gint64, j));
  if (first == G_MAXINT64)
    g_error ("bench-job: no provider reported a render");
  run.first_started = (double) (first - start) / G_USEC_PER_SEC;

  if (bench.verbose)
    {
      g_print ("job %u (%u subtasks): %.2f s, first sandbox spawned after %.3f s\n", copy,
               run.n_subtasks, run.seconds, run.first_started);
      print_log (job, start_real);
    }
  kiln_render_remove_tree (settings->output_dir);
  return run;
}

static void
print_job_figures (const char   *what,
                   const JobRun *runs,
                   guint         n_runs,
                   double        baseline,
                   double        baseline_cpu)
{
  g_autofree double *seconds = g_new (double, n_runs);
  g_autofree double *started = g_new (double, n_runs);
  g_autofree double *paid = g_new (double, n_runs);
  double rendering = 0, verifying = 0, agents = 0, requestor = 0, t, all;
  g_autofree char *runs_text = n_runs > 1 ? g_strdup_printf (", median of %u", n_runs)
                                          : g_strdup ("");
  g_autofree char *mean_text = n_runs > 1 ? g_strdup_printf ("; mean of %u", n_runs)
                                          : g_strdup ("");

  for (guint i = 0; i < n_runs; i++)
    {
      seconds[i] = runs[i].seconds;
      started[i] = runs[i].first_started;
      paid[i] = runs[i].paid_after;
      rendering += runs[i].cpu[SPENT_RENDERING];
      verifying += runs[i].cpu[SPENT_VERIFYING];
      agents += runs[i].cpu[SPENT_AGENTS];
      requestor += runs[i].requestor_cpu;
    }
  rendering /= n_runs;
  verifying /= n_runs;
  agents /= n_runs;
  requestor /= n_runs;
  all = rendering + verifying + agents + requestor;

  t = kiln_bench_median (seconds, n_runs);
  g_print ("job overhead, %s: %.2f s (local render: %.2f s, ratio %.3f%s; goal ≤ 1.10)\n",
           what, t, baseline, t / baseline, runs_text);
  g_print ("  in CPU time: %.2f CPU s (local render: %.2f CPU s, ratio %.3f): providers' "
           "sandboxes %.2f, verifying %.2f, provider agents %.2f, requestor %.2f\n",
           all, baseline_cpu, all / baseline_cpu, rendering, verifying, agents, requestor);
  t = kiln_bench_median (started, n_runs);
  g_print ("submit → first subtask started (a provider spawned its sandboxed Blender), %s: "
           "%.3f s (goal 1 s, ratio %.3f%s)\n", what, t, t, runs_text);
  g_print ("verification cost, %s: %.2f CPU s verifying / %.2f CPU s rendering = %.1f %% "
           "(goal ≤ 5 %%%s)\n", what, verifying, rendering, 100 * verifying / rendering,
           mean_text);
  g_print ("  one frame on one core: %.2f CPU s; paid on the devnet %.2f s after the last frame "
           "was verified\n", rendering / N_FRAMES, kiln_bench_median (paid, n_runs));
}

static double
load_average (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return -1;
  return g_ascii_strtod (text, NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  const char *runs_text = g_getenv ("KILN_BENCH_JOB_RUNS");
  guint n_runs = runs_text != NULL ? (guint) CLAMP (atoi (runs_text), 1, 7) : DEFAULT_RUNS;
  g_autofree double *baseline = NULL;
  g_autofree double *baseline_cpu = NULL;
  double load_before;
  g_autofree JobRun *frames = NULL;
  g_autofree JobRun *chunks = NULL;
  Lender *lenders[N_PROVIDERS];
  guint copy = 0;

  if (argc == 4 && g_str_equal (argv[1], "provider"))
    return provider_main ((guint) atoi (argv[2]), argv[3]);

  if (g_getenv ("KILN_SOURCE_ROOT") == NULL)
    g_setenv ("KILN_SOURCE_ROOT", KILN_SOURCE_ROOT, TRUE);
  if (sysconf (_SC_NPROCESSORS_ONLN) < N_PROVIDERS)
    g_error ("bench-job: needs %u cores", N_PROVIDERS);
  bench.samples = g_getenv ("KILN_BENCH_JOB_SAMPLES") != NULL
                  ? (guint) CLAMP (atoi (g_getenv ("KILN_BENCH_JOB_SAMPLES")), 1, 4096) : SAMPLES;
  bench.verbose = g_strcmp0 (g_getenv ("KILN_BENCH_JOB_VERBOSE"), "1") == 0;
  bench.self_path = g_file_read_link ("/proc/self/exe", &error);
  check (error, "finding this program");
  bench.root = g_dir_make_tmp ("kiln-bench-job-XXXXXX", &error);
  check (error, "a folder");
  cpu.samples = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  /* The providers start (and measure their Blender) while the rest is set up. */
  for (guint i = 0; i < N_PROVIDERS; i++)
    cpu.lenders[i] = lenders[i] = lender_spawn (bench.self_path, i, bench.root);

  bench.blender = kiln_blender_discover (NULL, NULL, &error);
  check (error, "finding Blender");
  bench.sandbox = kiln_sandbox_new ();
  kiln_sandbox_set_idle_priority (bench.sandbox, FALSE);
  make_scenes (n_runs + 1);
  inspect_scenes (n_runs + 1);

  bench.key = kiln_key_generate (&error);
  check (error, "the requestor's key");
  {
    g_autofree char *dir = g_build_filename (bench.root, "requestor", NULL);

    g_mkdir_with_parents (dir, 0700);
    bench.engine = engine_new (dir, bench.key, &bench.store);
  }
  start_wallet ();
  for (guint i = 0; i < N_PROVIDERS; i++)
    {
      wait_until (lender_ready, lenders[i], "a provider to start");
      link_to (lenders[i]);
    }

  /* Interleaved, so that whatever else the computer does weighs on both alike. */
  baseline = g_new (double, n_runs);
  baseline_cpu = g_new (double, n_runs);
  frames = g_new0 (JobRun, n_runs);
  chunks = g_new0 (JobRun, 1);
  load_before = load_average ();
  for (guint i = 0; i < n_runs; i++)
    {
      baseline[i] = run_baseline (copy, &baseline_cpu[i]);
      frames[i] = run_job (copy++, 0);
      if (i == 0)
        chunks[0] = run_job (copy++, N_PROVIDERS);
    }

  g_print ("scene: %d×%d, %d samples, %d frames; local render (blender -b -t 2 -a, the "
           "baseline): %.2f s, %.2f CPU s%s; load average %.1f before, %.1f after (2 cores)\n",
           WIDTH, HEIGHT, bench.samples, N_FRAMES, kiln_bench_median (baseline, n_runs),
           kiln_bench_median (baseline_cpu, n_runs), n_runs > 1 ? " (medians)" : "", load_before,
           load_average ());
  {
    g_autofree char *what = g_strdup_printf ("%u one-frame subtasks", frames[0].n_subtasks);
    g_autofree char *chunk_what = g_strdup_printf ("%u subtasks of %u frames",
                                                   chunks[0].n_subtasks,
                                                   N_FRAMES / MAX (chunks[0].n_subtasks, 1));

    print_job_figures (what, frames, n_runs, kiln_bench_median (baseline, n_runs),
                       kiln_bench_median (baseline_cpu, n_runs));
    print_job_figures (chunk_what, chunks, 1, kiln_bench_median (baseline, n_runs),
                       kiln_bench_median (baseline_cpu, n_runs));
  }

  for (guint i = 0; i < N_PROVIDERS; i++)
    {
      lender_free (lenders[i]);
      cpu.lenders[i] = NULL;
    }
  stop_engine (bench.engine);
  g_clear_object (&bench.wallet);
  g_clear_object (&bench.ledger);
  g_clear_object (&bench.engine);
  g_clear_object (&bench.store);
  for (guint i = 0; i < G_N_ELEMENTS (bench.scenes); i++)
    g_clear_object (&bench.scenes[i]);
  kiln_test_devnet_stop (bench.devnet, &error);
  check (error, "stopping the devnet");
  g_clear_pointer (&bench.devnet, kiln_test_devnet_free);
  g_clear_object (&bench.sandbox);
  g_clear_object (&bench.blender);
  g_clear_object (&bench.key);
  g_hash_table_unref (cpu.samples);
  kiln_render_remove_tree (bench.root);
  g_free (bench.root);
  g_free (bench.self_path);
  return 0;
}
