/* kiln-test-providers.c: providers on loopback for the app's render tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-test-providers [--honest N] [--cheat-once N] [--dir DIR]
 *
 * Runs nodes on 127.0.0.1 that lend to whoever connects: --honest ones run the provider agent
 * (KilnProviderAgent with Blender in bubblewrap, a headless idle monitor, one core at no less
 * than 0.5 GNT per CPU-hour); --cheat-once ones answer every task with a cheap offer and
 * render what they are assigned, but turn the pixels of their first result upside down in
 * value (a result verification must reject), and hand in honest work after that. Each node
 * prints "provider ADDRESS 127.0.0.1:PORT" once it lends, then "ready" once all do; then "busy"
 * when the honest ones take work and "idle" when none has any left; what the cheats do is
 * printed too ("rejected TERMS", "result TERMS"). SIGTERM or SIGINT stops them
 * (work under way is handed back) and the program exits 0. Node data goes under DIR (a new
 * temporary folder by default), removed at exit.
 */

#include <string.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "kiln-image.h"
#include "kiln-market-bodies.h"
#include "kiln-provider-agent.h"
#include "kiln-render-private.h"
#include "kiln-test-engine.h"
#include "libkiln.h"

#define OFFER_SECONDS 600

typedef struct
{
  KilnTestEngine    *base;         /* its key, data folder, store and engine */
  KilnProviderAgent *agent;        /* honest ones */
  /* Cheats: the assignment under way. */
  guint              results;
  KilnAddress        requestor;
  KilnTerms         *terms;
  KilnSubtask       *subtask;
  char              *work;
  GStrv              outputs;
  guint              next_output;
  KilnResultBody    *result;
} Node;

static struct
{
  char              *root;
  KilnBlender       *blender;
  KilnSandbox       *sandbox;
  KilnLendingPolicy *policy;
  KilnIdleMonitor   *monitor;
  KilnProvider      *provider;
  GPtrArray         *nodes;
  GMainLoop         *loop;
  int                status;
  gboolean           busy;
} app;

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void G_GNUC_PRINTF (1, 2)
say (const char *format,
     ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_print ("%s\n", text);
  fflush (stdout);
}

static void
fail (const char   *what,
      const GError *error)
{
  g_printerr ("kiln-test-providers: %s: %s\n", what, error != NULL ? error->message : "failed");
  app.status = 1;
  g_main_loop_quit (app.loop);
}

/* --- nodes -------------------------------------------------------------------------------- */

/* "127.0.0.1:PORT" of the first node: the others join the network through it, so that the
 * providers know of each other before anyone else comes. */
static char *first_endpoint;

/* A provider on the Kiln network, its data in a folder of its own under the root. */
static Node *
node_new (guint index)
{
  g_autofree char *name = g_strdup_printf ("node-%u", index);
  Node *node = g_new0 (Node, 1);

  node->base = kiln_test_engine_new_stopped_in (app.root, name, KILN_ENGINE_NETWORK_ID);
  kiln_engine_set_roles (node->base->engine, KILN_DHT_ROLE_PROVIDER);
  kiln_test_engine_start (node->base, first_endpoint);
  if (first_endpoint == NULL)
    first_endpoint = kiln_test_engine_endpoint (node->base);
  return node;
}

static void
node_say_ready (Node *node)
{
  g_autofree char *endpoint = kiln_test_engine_endpoint (node->base);

  say ("provider %s %s", kiln_key_get_address_string (node->base->key), endpoint);
}

static void
node_free (Node *node)
{
  if (node->agent != NULL)
    kiln_provider_agent_stop (node->agent);
  g_clear_object (&node->agent);
  /* The links say goodbye; the data folder goes. */
  kiln_test_engine_free (node->base);
  g_clear_object (&node->terms);
  g_clear_pointer (&node->subtask, kiln_subtask_free);
  g_clear_pointer (&node->outputs, g_strfreev);
  g_clear_pointer (&node->result, kiln_result_body_free);
  g_free (node->work);
  g_free (node);
}

static void
send_to (Node              *node,
         const KilnAddress *peer,
         KilnMessageType    type,
         GBytes            *body)
{
  kiln_engine_send_message_async (node->base->engine, peer, type, body, NULL, NULL, NULL);
}

/* --- a provider that cheats once ---------------------------------------------------------- */

static void
cheat_on_announce (KilnEngine     *engine,
                   KilnEnginePeer *peer,
                   KilnMessage    *message,
                   gpointer        user_data)
{
  Node *node = user_data;
  g_autoptr(KilnTaskAnnouncement) announcement = NULL;
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 price;

  announcement = kiln_market_announce_body_decode (kiln_message_get_body (message), now_s (),
                                                   &error);
  if (announcement == NULL)
    return;

  offer = kiln_offer_new (announcement);
  /* 0.1 GNT per CPU-hour: cheaper than anyone honest here. */
  kiln_uint256_from_uint64 (&price, G_GUINT64_CONSTANT (100000000000000000));
  kiln_offer_set_price (offer, &price);
  kiln_offer_set_cores (offer, 1);
  kiln_offer_set_benchmark (offer, 1000000);
  kiln_offer_set_max_concurrent (offer, 1);
  kiln_offer_set_times (offer, now_s (), now_s () + OFFER_SECONDS);
  if (!kiln_offer_sign (offer, node->base->key, &error))
    {
      fail ("signing an offer", error);
      return;
    }
  send_to (node, kiln_message_get_author (message), KILN_MESSAGE_OFFER,
           kiln_offer_get_bytes (offer));
}

static void
invert_image (const char *path)
{
  g_autoptr(KilnImage) image = NULL;
  g_autoptr(GError) error = NULL;
  guint max;

  image = kiln_image_load_png (path, &error);
  if (image == NULL)
    {
      fail ("reading a rendered image", error);
      return;
    }
  max = kiln_image_get_depth (image) == 16 ? 65535 : 255;
  for (guint y = 0; y < kiln_image_get_height (image); y++)
    {
      guint16 *row = kiln_image_get_row (image, y);

      for (guint x = 0; x < kiln_image_get_width (image) * kiln_image_get_channels (image); x++)
        row[x] = max - row[x];
    }
  if (!kiln_image_save_png (image, path, &error))
    fail ("writing an altered image", error);
}

static void cheat_publish_next (Node *node);

static void
cheat_on_published (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Node *node = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *name = NULL;
  const char *path = node->outputs[node->next_output];
  guint8 sha[32];
  GStatBuf st;

  hash = kiln_content_store_add_file_finish (KILN_CONTENT_STORE (object), result, &error);
  if (hash == NULL || !kiln_content_hash_from_hex (hash, sha) || g_stat (path, &st) != 0)
    {
      fail ("offering a result", error);
      return;
    }

  name = g_path_get_basename (path);
  kiln_result_body_add_output (node->result, name, sha, st.st_size);
  node->next_output++;
  cheat_publish_next (node);
}

static void
cheat_publish_next (Node *node)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *terms = NULL;

  if (node->outputs[node->next_output] != NULL)
    {
      file = g_file_new_for_path (node->outputs[node->next_output]);
      kiln_content_store_add_file_async (kiln_engine_get_content_store (node->base->engine),
                                         file, NULL, cheat_on_published, node);
      return;
    }

  node->result->cpu_ms = 1000;
  node->result->wall_ms = 1000;
  bytes = kiln_result_body_encode (node->result, &error);
  if (bytes == NULL)
    {
      fail ("encoding a result", error);
      return;
    }
  send_to (node, &node->requestor, KILN_MESSAGE_RESULT, bytes);
  terms = kiln_market_id_to_hex (kiln_terms_get_digest (node->terms));
  say ("result %s%s", terms, node->results == 0 ? " altered" : "");
  node->results++;
}

static void
cheat_on_rendered (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Node *node = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&node->outputs, g_strfreev);
  node->outputs = kiln_render_run_execute_finish (KILN_RENDER_RUN (object), result, &error);
  if (node->outputs == NULL)
    {
      fail ("rendering", error);
      return;
    }

  if (node->results == 0)
    for (guint i = 0; node->outputs[i] != NULL; i++)
      invert_image (node->outputs[i]);

  g_clear_pointer (&node->result, kiln_result_body_free);
  node->result = kiln_result_body_new (kiln_terms_get_digest (node->terms));
  node->next_output = 0;
  cheat_publish_next (node);
}

static void
cheat_on_fetched (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Node *node = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *blend = NULL;
  g_autofree char *output = NULL;
  g_autoptr(GFile) from = NULL;
  g_autoptr(GFile) to = NULL;
  g_autoptr(KilnRenderSpec) spec = NULL;
  g_autoptr(KilnRenderRun) run = NULL;

  stored = kiln_transfer_fetch_finish (KILN_TRANSFER (object), result, &error);
  if (stored == NULL)
    {
      fail ("fetching the scene", error);
      return;
    }

  /* Blender reads it under its own name, in a folder of the assignment's own. */
  g_free (node->work);
  node->work = g_strdup_printf ("%s/work-%u", node->base->dir, node->results);
  output = g_build_filename (node->work, "output", NULL);
  blend = g_build_filename (node->work, "scene.blend", NULL);
  if (g_mkdir_with_parents (output, 0700) != 0)
    {
      fail ("making a work folder", NULL);
      return;
    }
  from = g_file_new_for_path (stored);
  to = g_file_new_for_path (blend);
  if (!g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error))
    {
      fail ("copying the scene", error);
      return;
    }

  spec = kiln_subtask_to_render_spec (node->subtask, blend, output);
  run = kiln_render_run_new (app.sandbox, app.blender, spec);
  kiln_render_run_execute_async (run, NULL, cheat_on_rendered, node);
}

static void
cheat_on_assign (KilnEngine     *engine,
                 KilnEnginePeer *peer,
                 KilnMessage    *message,
                 gpointer        user_data)
{
  Node *node = user_data;
  g_autoptr(KilnAssignBody) assign = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  const KilnMarketFile *blend;

  assign = kiln_assign_body_decode (kiln_message_get_body (message), &error);
  if (assign == NULL || !kiln_terms_accept (assign->terms, node->base->key, now_s (), &error))
    {
      g_printerr ("kiln-test-providers: an assignment not taken: %s\n",
                  error != NULL ? error->message : "undecodable");
      return;
    }

  node->requestor = *kiln_message_get_author (message);
  g_set_object (&node->terms, assign->terms);
  g_clear_pointer (&node->subtask, kiln_subtask_free);
  node->subtask = kiln_subtask_copy (assign->subtask);
  send_to (node, &node->requestor, KILN_MESSAGE_ACCEPT, kiln_terms_get_bytes (assign->terms));

  blend = g_ptr_array_index (assign->resources, 0);
  hash = kiln_content_hash_to_hex (blend->sha256);
  kiln_transfer_fetch_async (kiln_engine_get_transfer (engine), kiln_engine_peer_get_link (peer),
                             hash, blend->size, NULL, NULL, NULL, NULL, cheat_on_fetched, node);
}

static void
cheat_on_reject (KilnEngine     *engine,
                 KilnEnginePeer *peer,
                 KilnMessage    *message,
                 gpointer        user_data)
{
  g_autoptr(KilnRejectBody) reject = NULL;
  g_autofree char *terms = NULL;

  reject = kiln_reject_body_decode (kiln_message_get_body (message), NULL);
  if (reject == NULL)
    return;
  terms = kiln_market_id_to_hex (reject->ref);
  say ("rejected %s", terms);
}

static Node *
cheat_new (guint index)
{
  Node *node = node_new (index);
  KilnEngine *engine = node->base->engine;

  kiln_engine_add_message_handler (engine, KILN_MESSAGE_TASK_ANNOUNCE, cheat_on_announce, node,
                                   NULL);
  kiln_engine_add_message_handler (engine, KILN_MESSAGE_ASSIGN, cheat_on_assign, node, NULL);
  kiln_engine_add_message_handler (engine, KILN_MESSAGE_REJECT, cheat_on_reject, node, NULL);
  return node;
}

/* --- honest providers --------------------------------------------------------------------- */

/* Says when the honest providers start working, and when none has work left. */
static void
on_n_running (void)
{
  guint running = 0;

  for (guint i = 0; i < app.nodes->len; i++)
    {
      Node *node = g_ptr_array_index (app.nodes, i);

      if (node->agent != NULL)
        running += kiln_provider_agent_get_n_running (node->agent);
    }

  if ((running > 0) != app.busy)
    {
      app.busy = running > 0;
      say ("%s", app.busy ? "busy" : "idle");
    }
}

static Node *
honest_new (guint index)
{
  Node *node = node_new (index);
  g_autofree char *work = g_build_filename (node->base->dir, "work", NULL);

  node->agent = kiln_test_engine_start_agent (node->base, app.provider, app.blender, work);
  g_signal_connect (node->agent, "notify::n-running", G_CALLBACK (on_n_running), NULL);
  return node;
}

/* --- the program -------------------------------------------------------------------------- */

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (app.loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
wait_idle (gpointer user_data)
{
  guint *n = user_data;

  if (!kiln_idle_monitor_get_idle (app.monitor))
    return G_SOURCE_CONTINUE;

  for (guint i = 0; i < app.nodes->len; i++)
    node_say_ready (g_ptr_array_index (app.nodes, i));
  say ("ready");
  *n = 0;
  return G_SOURCE_REMOVE;
}

static void
on_benchmarked (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (kiln_blender_benchmark_finish (KILN_BLENDER (object), result, &error) <= 0)
    fail ("measuring Blender", error);
  else
    g_main_loop_quit (app.loop);
}

int
main (int   argc,
      char *argv[])
{
  int honest = 0;
  int cheats = 0;
  g_autofree char *dir = NULL;
  GOptionEntry entries[] = {
    { "honest", 0, 0, G_OPTION_ARG_INT, &honest, "Honest providers", "N" },
    { "cheat-once", 0, 0, G_OPTION_ARG_INT, &cheats, "Providers whose first result is wrong",
      "N" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Where the nodes keep their data", "DIR" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *cache = NULL;
  g_autoptr(GFile) cache_dir = NULL;
  guint waiting = 1;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || honest < 0 || cheats < 0 ||
      honest + cheats == 0)
    {
      g_printerr ("kiln-test-providers: %s\n",
                  error != NULL ? error->message : "ask for at least one provider");
      return 2;
    }

  app.loop = g_main_loop_new (NULL, FALSE);
  app.nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  app.root = dir != NULL ? g_strdup (dir) : g_dir_make_tmp ("kiln-test-providers-XXXXXX",
                                                            &error);
  if (app.root == NULL || g_mkdir_with_parents (app.root, 0700) != 0)
    {
      g_printerr ("kiln-test-providers: no folder for the nodes\n");
      return 1;
    }

  app.blender = kiln_blender_discover (NULL, NULL, &error);
  if (app.blender == NULL)
    {
      g_printerr ("kiln-test-providers: %s\n", error->message);
      return 1;
    }
  app.sandbox = kiln_sandbox_new ();
  kiln_sandbox_set_idle_priority (app.sandbox, FALSE);

  /* Offers carry the benchmark score: measured once per Blender and CPU, kept in the cache. */
  cache = g_build_filename (g_get_user_cache_dir (), "kiln", NULL);
  cache_dir = g_file_new_for_path (cache);
  kiln_blender_benchmark_async (app.blender, cache_dir, FALSE, NULL, on_benchmarked, NULL);
  g_main_loop_run (app.loop);
  if (app.status != 0)
    return app.status;

  app.policy = kiln_lending_policy_new ();
  /* Other programs' CPU (parallel builds and tests) must not hold lending back. */
  kiln_lending_policy_set_cpu_threshold_percent (app.policy, 100);
  kiln_lending_policy_set_idle_delay_minutes (app.policy, 0);
  kiln_lending_policy_set_cores (app.policy, 1);
  if (!kiln_lending_policy_set_min_price (app.policy, "0.5", &error))
    {
      g_printerr ("kiln-test-providers: %s\n", error->message);
      return 1;
    }
  kiln_lending_policy_set_enabled (app.policy, TRUE);
  app.monitor = kiln_idle_monitor_new_headless (app.policy);
  app.provider = kiln_provider_new (app.policy, app.monitor);

  for (int i = 0; i < honest + cheats; i++)
    g_ptr_array_add (app.nodes, i < honest ? honest_new (i) : cheat_new (i));

  g_unix_signal_add (SIGTERM, on_signal, NULL);
  g_unix_signal_add (SIGINT, on_signal, NULL);
  g_timeout_add (100, wait_idle, &waiting);
  g_main_loop_run (app.loop);

  /* Work under way is handed back; the links say goodbye. */
  g_ptr_array_unref (app.nodes);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&app.provider);
  g_clear_object (&app.monitor);
  g_clear_object (&app.policy);
  g_clear_object (&app.sandbox);
  g_clear_object (&app.blender);
  kiln_render_remove_tree (app.root);
  g_free (app.root);
  g_free (first_endpoint);
  g_main_loop_unref (app.loop);

  return app.status;
}
