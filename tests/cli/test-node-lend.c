/* test-node-lend.c: kiln-node run --lend as a process, hired by a requestor in this process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A real `kiln-node run --lend` on loopback, paid on the devnet: a KilnRenderJob in this
 * process (its own engine, a wallet on the devnet) links to it, the node offers, renders a
 * one-frame job in its sandbox, the result is verified and paid in a real transaction, and
 * the node sees the payment on chain. What the node printed (one JSON object per event),
 * what the chain says and what the node's database holds once it stopped must all agree on
 * the exact amount. A node stopped in the middle of a render hands the subtask back. A node
 * that cannot lend (no Blender, a bad --min-price) says why in one line and exits non-zero.
 */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "kiln-earnings.h"
#include "kiln-market-bodies.h"
#include "kiln-render-job.h"
#include "kiln-test-render.h"
#include "kiln-test-wallet.h"
#include "node-process.h"

/* Each wait for the job or the node fails the test after this long. */
#define WAIT_S 240

static struct
{
  KilnBlender *blender;
  KilnSandbox *sandbox;
  char        *root;
  char        *quick_scene;   /* 160x120, 4 samples, no denoising, frame 1 */
  char        *slow_scene;    /* the same with enough samples to take minutes */
} shared;

/* Waiting ---------------------------------------------------------------------------------- */

static void
wait_until (gboolean   (*done) (gpointer data),
            gpointer     data,
            const char  *what)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (!done (data))
    {
      if (g_get_monotonic_time () >= deadline)
        g_error ("Gave up waiting for %s", what);
      node_poll_pause (50);
    }
}

/* The lending node ------------------------------------------------------------------------- */

typedef struct
{
  NodeProcess *node;
  char        *root;
  char        *password;
  char        *out;        /* its standard output */
} Lender;

/* The events the node printed so far (JsonObject), in order. */
static GPtrArray *
read_events (Lender *lender)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (lender->out, &text, NULL, NULL))
    return events;

  lines = g_strsplit (text, "\n", -1);
  /* The last piece is empty or a line still being written. */
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *object;

      json_parser_load_from_data (parser, lines[i], -1, &error);
      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
      object = json_node_get_object (json_parser_get_root (parser));
      if (json_object_has_member (object, "event"))
        g_ptr_array_add (events, json_object_ref (object));
    }
  return events;
}

/* The first event @name with member "terms" equal to @terms (any when NULL), or NULL. */
static JsonObject *
find_event (Lender     *lender,
            const char *name,
            const char *terms)
{
  g_autoptr(GPtrArray) events = read_events (lender);

  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *event = g_ptr_array_index (events, i);

      if (g_str_equal (json_object_get_string_member (event, "event"), name) &&
          (terms == NULL ||
           g_strcmp0 (json_object_get_string_member_with_default (event, "terms", NULL),
                      terms) == 0))
        return json_object_ref (event);
    }
  return NULL;
}

typedef struct
{
  Lender     *lender;
  const char *name;
  const char *terms;
} EventWait;

static gboolean
event_printed (gpointer data)
{
  EventWait *wait = data;
  g_autoptr(JsonObject) event = find_event (wait->lender, wait->name, wait->terms);

  /* A node that exits does not print any more. */
  if (event == NULL && wait->lender->node->process != NULL &&
      g_subprocess_get_identifier (wait->lender->node->process) == NULL)
    {
      g_autofree char *log = NULL;

      g_file_get_contents (wait->lender->node->log, &log, NULL, NULL);
      g_error ("The node exited before its “%s” event:\n%s", wait->name, log);
    }
  return event != NULL;
}

static JsonObject *
wait_event (Lender     *lender,
            const char *name,
            const char *terms)
{
  g_autofree char *what = g_strdup_printf ("the node's “%s” event", name);

  wait_until (event_printed, &(EventWait) { lender, name, terms }, what);
  return find_event (lender, name, terms);
}

static const char *
devnet_token_string (void)
{
  static char token[KILN_ADDRESS_STRING_SIZE];

  kiln_address_format (kiln_test_devnet_get_token (get_devnet ()), token);
  return token;
}

/* In the child: a test that fails half-way takes its node with it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts `kiln-node run --lend --cores 1` on 127.0.0.1 and waits until it lends. */
static Lender *
lender_start (void)
{
  Lender *lender = g_new0 (Lender, 1);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) lending = NULL;
  const char *kiln_node = g_getenv ("KILN_NODE");

  lender->root = node_make_tmp_dir ();
  lender->password = g_build_filename (lender->root, "password", NULL);
  lender->node = node_process_new (lender->root, "lender", lender->password);
  lender->out = g_build_filename (lender->root, "lender.out", NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, lender->out);
  g_subprocess_launcher_set_stderr_file_path (launcher, lender->node->log);
  lender->node->process =
    g_subprocess_launcher_spawn (launcher, &error, kiln_node, "run", "--lend", "--cores", "1",
                                 "--min-price", "0.5", "--normal-priority", "--json",
                                 "--verbose", "--listen", "127.0.0.1:0",
                                 "--data-dir", lender->node->dir,
                                 "--password-file", lender->password,
                                 "--rpc", kiln_test_devnet_get_rpc_url (get_devnet ()),
                                 "--token", devnet_token_string (), NULL);
  g_assert_no_error (error);

  lending = wait_event (lender, "lending", NULL);
  g_assert_cmpstr (json_object_get_string_member (lending, "account"), ==,
                   lender->node->address);
  g_assert_cmpstr (json_object_get_string_member (lending, "cores"), ==, "1");
  g_assert_cmpstr (json_object_get_string_member (lending, "min-price"), ==, "0.5");
  g_assert_cmpstr (json_object_get_string_member (lending, "earned"), ==, "0");
  node_process_wait_port (lender->node);
  return lender;
}

static void
lender_free (Lender *lender)
{
  node_process_free (lender->node);
  node_remove_tree (lender->root);
  g_free (lender->root);
  g_free (lender->password);
  g_free (lender->out);
  g_free (lender);
}

/* The requestor ---------------------------------------------------------------------------- */

typedef struct
{
  KilnKey    *key;
  char       *dir;
  KilnStore  *store;
  KilnEngine *engine;
  char       *output_dir;
} Requestor;

static Requestor *
requestor_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  Requestor *requestor = g_new0 (Requestor, 1);

  requestor->key = fresh_key ();
  requestor->dir = g_dir_make_tmp ("kiln-lend-requestor-XXXXXX", &error);
  g_assert_no_error (error);
  db = g_build_filename (requestor->dir, KILN_STORE_FILE_NAME, NULL);
  requestor->store = kiln_store_new (db, NULL, &error);
  g_assert_no_error (error);
  requestor->engine = kiln_engine_new (requestor->key, requestor->store, requestor->dir, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_engine_start (requestor->engine, "127.0.0.1", 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  requestor->output_dir = g_build_filename (requestor->dir, "frames", NULL);
  return requestor;
}

static void
on_engine_stopped (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  kiln_engine_stop_finish (KILN_ENGINE (object), result, &error);
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
requestor_free (Requestor *requestor)
{
  gboolean stopped = FALSE;

  kiln_engine_stop_async (requestor->engine, NULL, on_engine_stopped, &stopped);
  wait_until (flag_set, &stopped, "the requestor's engine to stop");
  g_clear_object (&requestor->engine);
  g_clear_object (&requestor->store);
  g_clear_object (&requestor->key);
  node_remove_tree (requestor->dir);
  g_free (requestor->dir);
  g_free (requestor->output_dir);
  g_free (requestor);
}

typedef struct
{
  gboolean        done;
  KilnEnginePeer *peer;
  GError         *error;
} Dial;

static void
on_connected (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Dial *dial = user_data;

  dial->peer = kiln_engine_connect_finish (KILN_ENGINE (object), result, &dial->error);
  dial->done = TRUE;
}

static void
requestor_link (Requestor *requestor,
                Lender    *lender)
{
  Dial dial = { 0 };

  kiln_engine_connect_async (requestor->engine, "127.0.0.1", lender->node->port, NULL,
                             on_connected, &dial);
  wait_until (flag_set, &dial.done, "the link to the node");
  g_assert_no_error (dial.error);
  g_assert_cmpstr (kiln_engine_peer_get_address_string (dial.peer), ==, lender->node->address);
  g_clear_object (&dial.peer);
}

static KilnSceneInfo *
inspect (const char *scene)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  KilnSceneInfo *info;

  kiln_scene_inspect_async (shared.blender, shared.sandbox, scene, NULL, kiln_test_store_result,
                            &result);
  kiln_test_wait_result (&result);
  info = kiln_scene_inspect_finish (result, &error);
  g_assert_no_error (error);
  return info;
}

static KilnRenderJob *
make_job (Requestor  *requestor,
          const char *scene_path,
          KilnWallet *wallet)
{
  g_autoptr(KilnSceneInfo) scene = inspect (scene_path);
  g_autoptr(KilnRenderJobSettings) settings = kiln_render_job_settings_new_for_scene (scene);
  g_autoptr(GError) error = NULL;
  KilnUint256 balance = units ("1000");
  KilnRenderJob *job;

  g_clear_pointer (&settings->frames, kiln_frame_spec_unref);
  settings->frames = kiln_frame_spec_parse ("1", &error);
  g_assert_no_error (error);
  settings->n_subtasks = 0;
  settings->subtask_timeout = 600;
  settings->cores = 1;
  settings->memory_mib = 512;
  settings->max_price = units ("1");
  g_free (settings->output_dir);
  settings->output_dir = g_strdup (requestor->output_dir);
  settings->chain_id = KILN_TEST_DEVNET_CHAIN_ID;
  settings->token = *kiln_test_devnet_get_token (get_devnet ());

  job = kiln_render_job_new (requestor->engine, shared.blender, shared.sandbox, scene, settings,
                             wallet, wallet == NULL ? &balance : NULL, &error);
  g_assert_no_error (error);
  return job;
}

static void
start_job (KilnRenderJob *job)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  kiln_render_job_start_async (job, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  g_assert_true (kiln_render_job_start_finish (job, result, &error));
  g_assert_no_error (error);
}

static gboolean
job_done (gpointer data)
{
  KilnRenderJob *job = data;

  g_assert_cmpint (kiln_render_job_get_state (job), !=, KILN_RENDER_JOB_STATE_FAILED);
  return kiln_render_job_get_state (job) == KILN_RENDER_JOB_STATE_DONE;
}

static void
dump_events (KilnRenderJob *job)
{
  GListModel *events = kiln_render_job_get_events (job);

  for (guint i = 0; i < g_list_model_get_n_items (events); i++)
    {
      g_autoptr(KilnRenderJobEvent) event = g_list_model_get_item (events, i);

      g_test_message ("job: %s", kiln_render_job_event_get_text (event));
    }
}

/* Tests ------------------------------------------------------------------------------------ */

/* One frame, rendered by the node, verified, paid on chain and confirmed by the node: the
 * amount is the same everywhere. */
static void
test_paid (void)
{
  Fixture chain = { 0 };
  Lender *lender = lender_start ();
  Requestor *requestor = requestor_new ();
  g_autoptr(KilnWallet) wallet = NULL;
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GPtrArray) assignments = NULL;
  g_autoptr(JsonObject) offered = NULL;
  g_autoptr(JsonObject) accepted = NULL;
  g_autoptr(JsonObject) rendering = NULL;
  g_autoptr(JsonObject) sent = NULL;
  g_autoptr(JsonObject) earned = NULL;
  g_autoptr(JsonObject) paid = NULL;
  g_autoptr(JsonObject) confirmed = NULL;
  g_autoptr(JsonObject) stopped = NULL;
  g_autoptr(KilnRpcReceipt) receipt = NULL;
  g_autoptr(KilnStore) store = NULL;
  g_autoptr(KilnEarnings) earnings = NULL;
  g_autoptr(KilnEarningRecord) record = NULL;
  g_autoptr(GError) error = NULL;
  const KilnJobAssignmentRecord *approved = NULL;
  g_autofree char *terms = NULL;
  g_autofree char *owed = NULL;
  g_autofree char *tx_hex = NULL;
  g_autofree char *tx_hash = NULL;
  g_autofree char *requestor_address = NULL;
  g_autofree char *frame = NULL;
  g_autofree char *db = NULL;
  g_autofree char *block = NULL;
  KilnAddress lender_address;
  KilnUint256 balance;
  KilnEarningsTotals totals;

  g_assert_true (kiln_address_parse (&lender_address, lender->node->address, NULL));
  fixture_setup (&chain, NULL);
  wallet = funded_wallet (&chain, requestor->key, "10", "100");
  requestor_address = kiln_address_to_string (kiln_key_get_address (requestor->key));

  requestor_link (requestor, lender);
  job = make_job (requestor, shared.quick_scene, wallet);
  start_job (job);
  wait_until (job_done, job, "the job to be rendered and paid");
  dump_events (job);

  frame = g_build_filename (requestor->output_dir, "frame_0001.png", NULL);
  g_assert_true (g_file_test (frame, G_FILE_TEST_IS_REGULAR));

  /* The node did the work and was paid for it, in one transaction. */
  assignments = kiln_render_job_get_assignments (job);
  for (guint i = 0; i < assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record_i = g_ptr_array_index (assignments, i);

      if (record_i->state == KILN_ASSIGNMENT_APPROVED)
        {
          g_assert_null (approved);
          approved = record_i;
        }
    }
  g_assert_nonnull (approved);
  g_assert_true (kiln_address_equal (&approved->provider, &lender_address));
  g_assert_false (kiln_uint256_is_zero (&approved->owed));
  g_assert_true (approved->has_tx_hash);
  terms = kiln_market_id_to_hex (approved->terms_digest);
  owed = kiln_uint256_to_string (&approved->owed);
  tx_hex = kiln_market_id_to_hex (approved->tx_hash);
  tx_hash = g_strconcat ("0x", tx_hex, NULL);
  g_test_message ("assignment %s: %s base units in %s", terms, owed, tx_hash);

  receipt = receipt_of (approved->tx_hash);
  g_assert_nonnull (receipt);
  g_assert_true (receipt->success);
  balance = token_balance_of (&lender_address);
  assert_u256 (&balance, &approved->owed);

  /* What the node printed, event by event. */
  offered = wait_event (lender, "offered", NULL);
  g_assert_cmpstr (json_object_get_string_member (offered, "requestor"), ==, requestor_address);
  accepted = wait_event (lender, "accepted", terms);
  g_assert_cmpstr (json_object_get_string_member (accepted, "requestor"), ==,
                   requestor_address);
  g_assert_cmpstr (json_object_get_string_member (accepted, "frames"), ==, "1");
  rendering = wait_event (lender, "rendering", terms);
  g_assert_cmpstr (json_object_get_string_member (rendering, "frames"), ==, "1");
  g_assert_cmpstr (json_object_get_string_member (rendering, "requestor"), ==,
                   requestor_address);
  sent = wait_event (lender, "result-sent", terms);
  earned = wait_event (lender, "earned", terms);
  g_assert_cmpstr (json_object_get_string_member (earned, "amount"), ==, owed);
  g_assert_cmpstr (json_object_get_string_member (earned, "requestor"), ==, requestor_address);
  paid = wait_event (lender, "paid", terms);
  g_assert_cmpstr (json_object_get_string_member (paid, "tx-hash"), ==, tx_hash);
  confirmed = wait_event (lender, "confirmed", terms);
  g_assert_cmpstr (json_object_get_string_member (confirmed, "tx-hash"), ==, tx_hash);
  g_assert_cmpstr (json_object_get_string_member (confirmed, "amount"), ==, owed);
  block = g_strdup_printf ("%" G_GUINT64_FORMAT, receipt->block_number);
  g_assert_cmpstr (json_object_get_string_member (confirmed, "block"), ==, block);
  {
    g_autoptr(JsonObject) unconfirmed = find_event (lender, "unconfirmed", terms);
    g_autoptr(JsonObject) ended = find_event (lender, "ended", NULL);

    /* Never "not on the chain yet" and the like: the payment was mined when announced. */
    if (unconfirmed != NULL)
      g_test_message ("unconfirmed: %s",
                      json_object_get_string_member (unconfirmed, "reason"));
    g_assert_null (ended);
  }

  /* Stopped, it hands nothing back; its database keeps the confirmed earning. */
  node_process_stop (lender->node);
  stopped = find_event (lender, "stopped", NULL);
  g_assert_nonnull (stopped);
  g_assert_cmpstr (json_object_get_string_member (stopped, "handed-back"), ==, "0");

  db = g_build_filename (lender->node->dir, KILN_STORE_FILE_NAME, NULL);
  store = kiln_store_new (db, NULL, &error);
  g_assert_no_error (error);
  earnings = kiln_earnings_new (store, &lender_address);
  g_assert_true (kiln_earnings_load (earnings, NULL, &error));
  g_assert_no_error (error);
  record = kiln_earnings_lookup (earnings, approved->terms_digest);
  g_assert_nonnull (record);
  g_assert_cmpint (record->state, ==, KILN_EARNING_STATE_CONFIRMED);
  assert_u256 (&record->amount, &approved->owed);
  g_assert_true (kiln_address_equal (&record->requestor, kiln_key_get_address (requestor->key)));
  g_assert_true (record->has_tx);
  g_assert_cmpmem (record->tx_hash, 32, approved->tx_hash, 32);
  g_assert_cmpuint (record->confirmed_block, ==, receipt->block_number);
  g_assert_null (record->reason);
  kiln_earnings_get_totals (earnings, &totals);
  assert_u256 (&totals.confirmed_total, &approved->owed);
  assert_u256 (&totals.confirmed_today, &approved->owed);
  g_assert_true (kiln_uint256_is_zero (&totals.pending));
  g_assert_cmpuint (totals.n_confirmed, ==, 1);
  g_assert_cmpuint (totals.n_pending, ==, 0);
  g_clear_object (&earnings);
  g_clear_object (&store);

  kiln_test_assert_no_processes (lender->node->dir);
  g_clear_object (&job);
  wallet_free (g_steal_pointer (&wallet));
  fixture_teardown (&chain, NULL);
  requestor_free (requestor);
  lender_free (lender);
}

typedef struct
{
  KilnRenderJob *job;
  KilnAssignmentState state;
} AssignmentWait;

static gboolean
first_assignment_in (gpointer data)
{
  AssignmentWait *wait = data;
  g_autoptr(GPtrArray) assignments = kiln_render_job_get_assignments (wait->job);

  return assignments->len > 0 &&
         ((const KilnJobAssignmentRecord *) g_ptr_array_index (assignments, 0))->state ==
           wait->state;
}

/* Stopped while it renders, the node stops Blender and hands the subtask back at once. */
static void
test_hand_back (void)
{
  Lender *lender = lender_start ();
  Requestor *requestor = requestor_new ();
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GPtrArray) assignments = NULL;
  g_autoptr(JsonObject) rendering = NULL;
  g_autoptr(JsonObject) stopped = NULL;
  g_autoptr(JsonObject) sent = NULL;
  const KilnJobAssignmentRecord *record;

  requestor_link (requestor, lender);
  job = make_job (requestor, shared.slow_scene, NULL);
  start_job (job);
  rendering = wait_event (lender, "rendering", NULL);

  node_process_stop (lender->node);
  stopped = find_event (lender, "stopped", NULL);
  g_assert_nonnull (stopped);
  g_assert_cmpstr (json_object_get_string_member (stopped, "handed-back"), ==, "1");
  sent = find_event (lender, "result-sent", NULL);
  g_assert_null (sent);
  kiln_test_assert_no_processes (lender->node->dir);

  /* The requestor heard it: the assignment ended as given back, not paid. */
  wait_until (first_assignment_in, &(AssignmentWait) { job, KILN_ASSIGNMENT_FAILED },
              "the requestor to hear the subtask was given back");
  dump_events (job);
  assignments = kiln_render_job_get_assignments (job);
  record = g_ptr_array_index (assignments, 0);
  g_assert_true (kiln_uint256_is_zero (&record->owed));
  g_assert_nonnull (record->reason);
  g_test_message ("given back: %s", record->reason);

  g_clear_object (&job);
  requestor_free (requestor);
  lender_free (lender);
}

/* Runs `kiln-node run --lend` with @extra; it must fail with @status and one line that
 * contains @part. */
static void
assert_refused (const char * const *extra,
                int                 status,
                const char         *part)
{
  g_autofree char *root = node_make_tmp_dir ();
  g_autofree char *dir = g_build_filename (root, "node", NULL);
  g_autofree char *password = g_build_filename (root, "password", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_ptr_array_add (argv, (gpointer) "run");
  g_ptr_array_add (argv, (gpointer) "--lend");
  g_ptr_array_add (argv, (gpointer) "--listen");
  g_ptr_array_add (argv, (gpointer) "127.0.0.1:0");
  g_ptr_array_add (argv, (gpointer) "--data-dir");
  g_ptr_array_add (argv, dir);
  g_ptr_array_add (argv, (gpointer) "--password-file");
  g_ptr_array_add (argv, password);
  for (guint i = 0; extra[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra[i]);
  g_ptr_array_add (argv, NULL);

  g_assert_cmpint (node_run_command (NULL, (const char * const *) argv->pdata, &out, &err), ==,
                   status);
  g_test_message ("%s", err);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, "kiln-node: "));
  g_assert_nonnull (strchr (err, '\n'));
  g_assert_cmpuint (strchr (err, '\n') - err + 1, ==, strlen (err));
  g_assert_nonnull (strstr (err, part));
  /* It stopped before opening the account or the data folder. */
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  node_remove_tree (root);
}

static void
test_no_blender (void)
{
  g_autofree char *root = node_make_tmp_dir ();
  g_autofree char *missing = g_build_filename (root, "no-such-blender", NULL);
  g_autofree char *not_blender = g_build_filename (root, "not-blender", NULL);
  g_autoptr(GError) error = NULL;

  {
    const char *extra[] = { "--blender", missing, NULL };

    assert_refused (extra, 1, "Blender");
  }

  /* A program that is not Blender. */
  g_file_set_contents (not_blender, "#!/bin/sh\necho hello\n", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (not_blender, 0700), ==, 0);
  {
    const char *extra[] = { "--blender", not_blender, NULL };

    assert_refused (extra, 1, "Blender");
  }
  node_remove_tree (root);
}

static void
test_bad_price (void)
{
  static const char * const prices[] = {
    "abc", "-1", "1.", ".5", "1e3", "0.1234567890123456789", "1,5", "",
    "400000000000000000000",   /* over 2^128 base units */
  };

  for (guint i = 0; i < G_N_ELEMENTS (prices); i++)
    {
      const char *extra[] = { "--min-price", prices[i], NULL };

      assert_refused (extra, 2, "--min-price");
    }
  {
    const char *extra[] = { "--cores", "0", NULL };

    assert_refused (extra, 2, "--cores");
  }
  {
    /* Lending options without --lend. */
    const char *argv[] = { "run", "--min-price", "1", NULL };
    g_autofree char *err = NULL;

    g_assert_cmpint (node_run_command (NULL, argv, NULL, &err), ==, 2);
    g_assert_nonnull (strstr (err, "--lend"));
  }
}

/* Set-up ----------------------------------------------------------------------------------- */

static char *
make_scene (const char *name,
            guint       samples)
{
  static const char script[] =
    "import bpy, sys\n"
    "bpy.ops.wm.read_factory_settings(use_empty=False)\n"
    "s = bpy.context.scene\n"
    "s.render.engine = 'CYCLES'\n"
    "s.cycles.samples = int(sys.argv[-2])\n"
    "s.cycles.use_denoising = False\n"
    "s.cycles.seed = 7\n"
    "s.render.resolution_x = 160\n"
    "s.render.resolution_y = 120\n"
    "s.render.resolution_percentage = 100\n"
    "s.frame_start = 1\n"
    "s.frame_end = 1\n"
    "s.render.image_settings.file_format = 'PNG'\n"
    "bpy.context.preferences.filepaths.save_version = 0\n"
    "bpy.ops.wm.save_as_mainfile(filepath=sys.argv[-1])\n"
    "print('KILN-SCENE-DONE', flush=True)\n";
  g_autofree char *path = g_build_filename (shared.root, name, NULL);
  g_autofree char *samples_text = g_strdup_printf ("%u", samples);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                              &error, kiln_blender_get_path (shared.blender), "-b",
                              "--factory-startup", "-noaudio", "--python-exit-code", "1",
                              "--python-expr", script, "--", samples_text, path, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process) || strstr (output, "KILN-SCENE-DONE") == NULL)
    g_error ("Could not make the scene %s:\n%s", name, output);
  return g_steal_pointer (&path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  shared.blender = kiln_blender_discover (NULL, NULL, &error);
  if (shared.blender == NULL)
    g_error ("These tests need Blender (Debian: apt install blender): %s", error->message);
  shared.sandbox = kiln_sandbox_new ();
  if (kiln_sandbox_get_backend (shared.sandbox) != KILN_SANDBOX_BACKEND_BUBBLEWRAP)
    g_error ("These tests need Bubblewrap (Debian: apt install bubblewrap)");
  kiln_sandbox_set_memory_limit (shared.sandbox, G_GUINT64_CONSTANT (2048) * 1024 * 1024);
  kiln_sandbox_set_time_limit (shared.sandbox, 120);
  kiln_sandbox_set_idle_priority (shared.sandbox, FALSE);
  shared.root = g_dir_make_tmp ("kiln-lend-scenes-XXXXXX", &error);
  g_assert_no_error (error);
  shared.quick_scene = make_scene ("quick.blend", 4);
  /* Minutes on one core: the node is stopped long before it ends. */
  shared.slow_scene = make_scene ("slow.blend", 100000);

  g_test_add_func ("/kiln/node-lend/paid", test_paid);
  g_test_add_func ("/kiln/node-lend/hand-back", test_hand_back);
  g_test_add_func ("/kiln/node-lend/no-blender", test_no_blender);
  g_test_add_func ("/kiln/node-lend/bad-price", test_bad_price);

  status = g_test_run ();

  wallet_test_cleanup ();
  node_remove_tree (shared.root);
  g_free (shared.root);
  g_free (shared.quick_scene);
  g_free (shared.slow_scene);
  g_clear_object (&shared.sandbox);
  g_clear_object (&shared.blender);
  return status;
}
