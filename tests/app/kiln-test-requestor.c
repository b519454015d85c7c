/* kiln-test-requestor.c: a requestor on loopback for the app's lending tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   kiln-test-requestor --provider HOST:PORT --dir DIR [--dev-key N] [--samples N]
 *                       [--frames SPEC] [--subtasks N] [--max-price GNT] [--add-to UNITS]
 *                       [--timeout SECONDS]
 *
 * Runs a real KilnRenderJob over its own KilnEngine on 127.0.0.1, joined to the network
 * through the node at HOST:PORT (the app's), and paid on the local devnet whose state file
 * $KILN_DEVNET_STATE names, from anvil's dev account N (tests/kiln-test-devnet.h; the
 * devnet must have minted GNT for it). The job renders frames SPEC (default 1) of a tiny
 * two-frame scene Blender makes here (160×120, Cycles on the CPU, N samples, no denoising)
 * in N subtasks (default: one per frame), verified with Blender in the sandbox. DIR holds
 * the scene, the node's database and the frames.
 *
 * Tells the test what happens, one line each on standard output:
 *   requestor ADDRESS          its EIP-55 address, once its node runs
 *   connected PROVIDER         linked to the node at HOST:PORT, whose address that is
 *   announced                  the task is announced
 *   subtask STATE PROVIDER     subtask 0 moved on ("rendering" once a provider accepted)
 *   frame PATH                 a frame is verified and in DIR/frames
 *   paid AMOUNT SHOWN…         every provider is paid: the job's cost in base units, then
 *                              that amount as the app shows it
 *   total SHOWN…               with --add-to: the cost and UNITS base units together, as the
 *                              app shows them
 * and exits 0 once the job is done, else prints "failed REASON" and exits 1. The job's
 * log goes to standard error.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "kiln-amount.h"
#include "kiln-test-devnet.h"
#include "libkiln.h"

/* The scene: Blender's factory cube, rendered small. */
static const char scene_script[] =
  "import sys, bpy\n"
  "args = sys.argv[sys.argv.index('--') + 1:]\n"
  "scene = bpy.context.scene\n"
  "scene.render.engine = 'CYCLES'\n"
  "scene.cycles.device = 'CPU'\n"
  "scene.cycles.use_adaptive_sampling = False\n"
  "scene.cycles.use_denoising = False\n"
  "scene.cycles.samples = int(args[1])\n"
  "scene.render.resolution_x = 160\n"
  "scene.render.resolution_y = 120\n"
  "scene.render.resolution_percentage = 100\n"
  "scene.render.image_settings.file_format = 'PNG'\n"
  "scene.frame_start = 1\n"
  "scene.frame_end = 2\n"
  "bpy.ops.wm.save_as_mainfile(filepath=args[0])\n"
  "print('KILN-SCENE-DONE')\n";

static struct
{
  char       *provider;
  char       *dir;
  int         dev_key;
  int         samples;
  char       *frames;
  int         subtasks;
  char       *max_price;
  char       *add_to;
  int         timeout;
} options = { NULL, NULL, 3, 192, NULL, 0, NULL, NULL, 300 };

/* Standard output ----------------------------------------------------------------------- */

static void say (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

static G_NORETURN void
fail (const char *what,
      const GError *error)
{
  say ("failed %s%s%s", what, error != NULL ? ": " : "", error != NULL ? error->message : "");
  exit (1);
}

static gboolean
on_timeout (gpointer user_data)
{
  fail ("in time: the job did not end within the timeout", NULL);
}

/* Waiting ------------------------------------------------------------------------------- */

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
await (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* The scene ----------------------------------------------------------------------------- */

static char *
make_scene (KilnBlender *blender)
{
  g_autofree char *path = g_build_filename (options.dir, "lent.blend", NULL);
  g_autofree char *samples = g_strdup_printf ("%d", options.samples);
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *output = NULL;
  g_autoptr(GError) error = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                              &error, kiln_blender_get_path (blender), "-b",
                              "--factory-startup", "-noaudio", "--python-exit-code", "1",
                              "--python-expr", scene_script, "--", path, samples, NULL);
  if (process == NULL ||
      !g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error))
    fail ("to run Blender", error);
  if (!g_subprocess_get_successful (process) || strstr (output, "KILN-SCENE-DONE") == NULL)
    {
      g_printerr ("%s\n", output);
      fail ("to make the scene", NULL);
    }
  return g_steal_pointer (&path);
}

/* The job ------------------------------------------------------------------------------- */

static void
on_subtask_changed (KilnRenderJob    *job,
                    guint             index,
                    KilnSubtaskState  state,
                    gpointer          user_data)
{
  KilnAddress provider;
  g_autofree char *address = NULL;

  if (kiln_render_job_get_subtask_provider (job, index, &provider))
    address = kiln_address_to_string (&provider);
  say ("subtask %s %s", kiln_subtask_state_to_string (state), address != NULL ? address : "-");
}

static void
on_frame_ready (KilnRenderJob *job,
                int            frame,
                const char    *path,
                gpointer       user_data)
{
  say ("frame %s", path);
}

static void
on_events_changed (GListModel *events,
                   guint       position,
                   guint       removed,
                   guint       added,
                   gpointer    user_data)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(KilnRenderJobEvent) event = g_list_model_get_item (events, i);

      g_printerr ("job: %s\n", kiln_render_job_event_get_text (event));
    }
}

static void
on_state (KilnRenderJob *job,
          GParamSpec    *pspec,
          gboolean      *ended)
{
  KilnRenderJobState state = kiln_render_job_get_state (job);

  if (state == KILN_RENDER_JOB_STATE_DONE)
    *ended = TRUE;
  else if (state == KILN_RENDER_JOB_STATE_FAILED || state == KILN_RENDER_JOB_STATE_CANCELLED)
    {
      say ("failed the job: %s", kiln_render_job_get_error (job) != NULL ?
                                 kiln_render_job_get_error (job) : "cancelled");
      exit (1);
    }
}

/* The node ------------------------------------------------------------------------------ */

static KilnEnginePeer *
connect_provider (KilnEngine *engine)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  KilnEnginePeer *peer;

  address = g_network_address_parse (options.provider, 0, &error);
  if (address == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (address)) == 0)
    fail ("to read --provider (HOST:PORT)", error);
  kiln_engine_connect_async (engine, g_network_address_get_hostname (G_NETWORK_ADDRESS (address)),
                             g_network_address_get_port (G_NETWORK_ADDRESS (address)), NULL,
                             store_result, &result);
  peer = kiln_engine_connect_finish (engine, await (&result), &error);
  if (peer == NULL)
    fail ("to reach the provider", error);
  return peer;
}

/* Main ---------------------------------------------------------------------------------- */

int
main (int   argc,
      char *argv[])
{
  GOptionEntry entries[] = {
    { "provider", 0, 0, G_OPTION_ARG_STRING, &options.provider, "The node to join", "HOST:PORT" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &options.dir, "Where to work", "DIR" },
    { "dev-key", 0, 0, G_OPTION_ARG_INT, &options.dev_key, "anvil's dev account", "N" },
    { "samples", 0, 0, G_OPTION_ARG_INT, &options.samples, "Cycles samples", "N" },
    { "frames", 0, 0, G_OPTION_ARG_STRING, &options.frames, "The frames to render", "SPEC" },
    { "subtasks", 0, 0, G_OPTION_ARG_INT, &options.subtasks, "Subtasks", "N" },
    { "max-price", 0, 0, G_OPTION_ARG_STRING, &options.max_price,
      "The most paid, GNT per CPU-hour", "GNT" },
    { "add-to", 0, 0, G_OPTION_ARG_STRING, &options.add_to,
      "Also show the cost added to this many base units", "UNITS" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &options.timeout, "Seconds the job may take", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- a requestor for tests");
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = NULL;
  g_autoptr(KilnStore) store = NULL;
  g_autoptr(KilnPaymentLedger) ledger = NULL;
  g_autoptr(KilnChain) chain = NULL;
  g_autoptr(KilnWallet) wallet = NULL;
  g_autoptr(KilnBlender) blender = NULL;
  g_autoptr(KilnSandbox) sandbox = NULL;
  g_autoptr(KilnSceneInfo) scene = NULL;
  g_autoptr(KilnEngine) engine = NULL;
  g_autoptr(KilnRenderJobSettings) settings = NULL;
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *db = NULL;
  g_autofree char *blend = NULL;
  g_autofree char *cost_text = NULL;
  g_autofree char *shown = NULL;
  KilnEnginePeer *peer;
  KilnUint256 cost;
  gboolean ended = FALSE;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    fail ("to read the command line", error);
  if (options.provider == NULL || options.dir == NULL)
    fail ("to read the command line: --provider and --dir are needed", NULL);
  if (options.dev_key < 0 || options.dev_key >= KILN_TEST_DEVNET_N_DEV_KEYS)
    fail ("to read the command line: no such dev account", NULL);
  g_timeout_add_seconds ((guint) MAX (options.timeout, 1), on_timeout, NULL);

  /* Money first: the devnet minted GNT for this dev account. */
  key = kiln_test_devnet_dev_key ((guint) options.dev_key);
  if (g_mkdir_with_parents (options.dir, 0700) != 0)
    fail ("to make --dir", NULL);
  db = g_build_filename (options.dir, KILN_STORE_FILE_NAME, NULL);
  store = kiln_store_new (db, NULL, &error);
  if (store == NULL)
    fail ("to open the database", error);
  ledger = kiln_payment_ledger_new (store);
  chain = kiln_chain_new_preset (KILN_CHAIN_PRESET_DEVNET, &error);
  if (chain == NULL)
    fail ("to read the devnet's state", error);
  wallet = kiln_wallet_new (chain, key, ledger);
  g_object_set (wallet, "poll-interval", 250, NULL);
  kiln_wallet_start_async (wallet, NULL, store_result, &result);
  if (!kiln_wallet_start_finish (wallet, await (&result), &error))
    fail ("to connect the wallet", error);
  g_clear_object (&result);

  /* The scene, read as the app's Render page reads it. */
  blender = kiln_blender_discover (NULL, NULL, &error);
  if (blender == NULL)
    fail ("to find Blender", error);
  sandbox = kiln_sandbox_new ();
  blend = make_scene (blender);
  kiln_scene_inspect_async (blender, sandbox, blend, NULL, store_result, &result);
  scene = kiln_scene_inspect_finish (await (&result), &error);
  if (scene == NULL)
    fail ("to read the scene", error);
  g_clear_object (&result);

  /* The node, joined to the provider's. */
  engine = kiln_engine_new (key, store, options.dir, &error);
  if (engine == NULL)
    fail ("to make the node", error);
  {
    const char *bootstrap[] = { options.provider, NULL };

    if (!kiln_engine_start (engine, "127.0.0.1", 0, bootstrap, FALSE, &error))
      fail ("to start the node", error);
  }
  say ("requestor %s", kiln_engine_get_address_string (engine));
  peer = connect_provider (engine);
  while (!kiln_engine_peer_get_connected (peer))
    g_main_context_iteration (NULL, TRUE);
  say ("connected %s", kiln_engine_peer_get_address_string (peer));
  g_object_unref (peer);

  /* The frames asked for, on one core per subtask. */
  settings = kiln_render_job_settings_new_for_scene (scene);
  g_clear_pointer (&settings->frames, kiln_frame_spec_unref);
  settings->frames = kiln_frame_spec_parse (options.frames != NULL ? options.frames : "1",
                                            &error);
  if (settings->frames == NULL)
    fail ("to read --frames", error);
  settings->n_subtasks = (guint) MAX (options.subtasks, 0);
  settings->cores = 1;
  settings->memory_mib = 512;
  settings->subtask_timeout = 120;
  if (!kiln_uint256_parse_units (&settings->max_price,
                                 options.max_price != NULL ? options.max_price : "100",
                                 KILN_MARKET_TOKEN_DECIMALS, NULL, &error))
    fail ("to read --max-price", error);
  g_free (settings->output_dir);
  settings->output_dir = g_build_filename (options.dir, "frames", NULL);

  job = kiln_render_job_new (engine, blender, sandbox, scene, settings, wallet, NULL, &error);
  if (job == NULL)
    fail ("to make the job", error);
  g_signal_connect (job, "subtask-changed", G_CALLBACK (on_subtask_changed), NULL);
  g_signal_connect (job, "frame-ready", G_CALLBACK (on_frame_ready), NULL);
  g_signal_connect (job, "notify::state", G_CALLBACK (on_state), &ended);
  g_signal_connect (kiln_render_job_get_events (job), "items-changed",
                    G_CALLBACK (on_events_changed), NULL);

  kiln_render_job_start_async (job, NULL, store_result, &result);
  if (!kiln_render_job_start_finish (job, await (&result), &error))
    fail ("to start the job", error);
  g_clear_object (&result);
  say ("announced");

  while (!ended)
    g_main_context_iteration (NULL, TRUE);

  kiln_render_job_get_cost (job, &cost);
  cost_text = kiln_uint256_to_string (&cost);
  shown = kiln_amount_format_with_symbol (&cost, kiln_chain_get_token_decimals (chain),
                                          kiln_chain_get_token_symbol (chain),
                                          KILN_AMOUNT_ROUND_DOWN, NULL);
  say ("paid %s %s", cost_text, shown);
  if (options.add_to != NULL)
    {
      g_autofree char *total_shown = NULL;
      KilnUint256 total;

      if (!kiln_uint256_parse (&total, options.add_to, &error) ||
          !kiln_uint256_add (&total, &total, &cost))
        fail ("to add --add-to", error);
      total_shown = kiln_amount_format_with_symbol (&total, kiln_chain_get_token_decimals (chain),
                                                    kiln_chain_get_token_symbol (chain),
                                                    KILN_AMOUNT_ROUND_DOWN, NULL);
      say ("total %s", total_shown);
    }

  /* Goodbye to the provider, so that its side ends cleanly. */
  kiln_engine_stop_async (engine, NULL, store_result, &result);
  kiln_engine_stop_finish (engine, await (&result), NULL);
  return 0;
}
