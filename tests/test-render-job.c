/* test-render-job.c: a requestor's render job across providers, with real Blender
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Engines on loopback in this process, linked by hand: the requestor runs a KilnRenderJob;
 * honest providers run KilnProviderAgent with Blender in bubblewrap (one idle monitor on a
 * private bus, kept idle, shared by them); a dishonest provider written here with the market
 * API inverts its image before it answers. Frames are compared with a local render of the
 * same scene: verified, kept and joined results must be identical to it.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "kiln-image.h"
#include "kiln-market-bodies.h"
#include "kiln-provider-agent.h"
#include "kiln-render-job.h"
#include "kiln-render-private.h"
#include "kiln-test-idle.h"
#include "kiln-test-link.h"
#include "kiln-test-engine.h"
#include "kiln-test-render.h"
#include "kiln-test-util.h"
#include "kiln-test-wallet.h"

#define NETWORK  0x7e57a0b5u
#define GNT      G_GUINT64_CONSTANT (1000000000000000000)
#define CHAIN_ID 1337
/* Each wait for a job fails the test after this long. */
#define WAIT_S   120

static KilnTestRender render;

static struct
{
  KilnSceneInfo *scene;
  char          *reference_dir;   /* frames 1 and 2 rendered here whole */
} shared;

/* Waiting ------------------------------------------------------------------------------- */

static gboolean
time_is_up (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @done says so; everything it waits for happens there. */
static void
wait_for (gboolean   (*done) (gpointer data),
          gpointer     data,
          const char  *what)
{
  gboolean up = FALSE;
  guint timer = g_timeout_add_seconds (WAIT_S, time_is_up, &up);

  while (!done (data))
    {
      if (up)
        g_error ("Gave up waiting for %s", what);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (timer);
}

/* Nodes --------------------------------------------------------------------------------- */


static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Honest providers ---------------------------------------------------------------------- */

typedef struct
{
  KilnTestEngine              *node;
  KilnProviderAgent *agent;
  char              *work_dir;
  GPtrArray         *earned;     /* char *: "TERMS AMOUNT" */
  GPtrArray         *finished;   /* char *: "TERMS REASON" */
  GPtrArray         *paid;       /* char *: "TERMS TX" */
  GPtrArray         *events;     /* char *, in order: "announced TASK", "offered TASK",
                                  * "accepted TERMS", "finished TERMS" */
  guint              announced;  /* TASK_ANNOUNCE messages received */
  guint              max_running; /* the most subtasks it ran at once */
} Lender;

static void
on_earned (KilnProviderAgent *agent,
           const char        *terms,
           const char        *amount,
           Lender            *lender)
{
  g_ptr_array_add (lender->earned, g_strdup_printf ("%s %s", terms, amount));
}

static void
on_finished (KilnProviderAgent *agent,
             const char        *terms,
             const char        *reason,
             Lender            *lender)
{
  g_ptr_array_add (lender->finished, g_strdup_printf ("%s %s", terms,
                                                      reason != NULL ? reason : "done"));
  g_ptr_array_add (lender->events, g_strdup_printf ("finished %s", terms));
}

static void
on_offered (KilnProviderAgent *agent,
            const char        *task,
            const char        *requestor,
            Lender            *lender)
{
  g_ptr_array_add (lender->events, g_strdup_printf ("offered %s", task));
}

static void
on_accepted (KilnProviderAgent *agent,
             const char        *terms,
             const char        *requestor,
             const char        *frames,
             Lender            *lender)
{
  g_ptr_array_add (lender->events, g_strdup_printf ("accepted %s", terms));
}

static void
on_n_running (KilnProviderAgent *agent,
              GParamSpec        *pspec,
              Lender            *lender)
{
  lender->max_running = MAX (lender->max_running, kiln_provider_agent_get_n_running (agent));
}

/* Beside the agent's own handler: which announcements reached the provider, and when. */
static void
on_lender_announce (KilnEngine     *engine,
                    KilnEnginePeer *peer,
                    KilnMessage    *message,
                    gpointer        user_data)
{
  Lender *lender = user_data;
  g_autoptr(KilnTaskAnnouncement) announcement = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *task = NULL;

  announcement = kiln_market_announce_body_decode (kiln_message_get_body (message), now_s (),
                                                   &error);
  g_assert_no_error (error);
  task = kiln_market_id_to_hex (kiln_task_announcement_get_task_id (announcement));
  lender->announced++;
  g_ptr_array_add (lender->events, g_strdup_printf ("announced %s", task));
}

static void
on_lender_paid (KilnProviderAgent *agent,
                const char        *terms,
                const char        *tx_hash,
                Lender            *lender)
{
  g_ptr_array_add (lender->paid, g_strdup_printf ("%s %s", terms, tx_hash));
}

static Lender *
lender_new (KilnProvider *provider)
{
  g_autoptr(GError) error = NULL;
  Lender *lender = g_new0 (Lender, 1);

  lender->node = kiln_test_engine_new ("render-job", NETWORK);
  lender->work_dir = kiln_test_render_new_dir (&render, "lender");
  lender->agent = kiln_provider_agent_new (lender->node->engine, provider, render.blender,
                                           lender->work_dir);
  /* Normal priority: the machine running the tests is busy with other work. */
  kiln_provider_agent_set_idle_priority (lender->agent, FALSE);
  lender->earned = g_ptr_array_new_with_free_func (g_free);
  lender->finished = g_ptr_array_new_with_free_func (g_free);
  lender->paid = g_ptr_array_new_with_free_func (g_free);
  lender->events = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (lender->agent, "paid", G_CALLBACK (on_lender_paid), lender);
  g_signal_connect (lender->agent, "earned", G_CALLBACK (on_earned), lender);
  g_signal_connect (lender->agent, "finished", G_CALLBACK (on_finished), lender);
  g_signal_connect (lender->agent, "offered", G_CALLBACK (on_offered), lender);
  g_signal_connect (lender->agent, "accepted", G_CALLBACK (on_accepted), lender);
  g_signal_connect (lender->agent, "notify::n-running", G_CALLBACK (on_n_running), lender);
  kiln_engine_add_message_handler (lender->node->engine, KILN_MESSAGE_TASK_ANNOUNCE,
                                   on_lender_announce, lender, NULL);
  g_assert_true (kiln_provider_agent_start (lender->agent, &error));
  g_assert_no_error (error);
  return lender;
}

static void
lender_free (Lender *lender)
{
  kiln_provider_agent_stop (lender->agent);
  kiln_test_assert_finalize_soon (g_steal_pointer (&lender->agent));
  kiln_test_assert_no_processes (lender->work_dir);
  kiln_test_engine_free (lender->node);
  g_ptr_array_unref (lender->earned);
  g_ptr_array_unref (lender->finished);
  g_ptr_array_unref (lender->paid);
  g_ptr_array_unref (lender->events);
  g_free (lender->work_dir);
  g_free (lender);
}

/* A dishonest provider ------------------------------------------------------------------ */

/* Offers cheaply on every task, renders what it is assigned honestly, then inverts every
 * pixel of its images before it hands them in. */
typedef struct
{
  KilnTestEngine        *node;
  char        *dir;
  GPtrArray   *rejects;    /* KilnRejectBody it received */
  guint        results;    /* RESULTs sent */
  /* The assignment under way. */
  KilnAddress  requestor;
  KilnTerms   *terms;
  KilnSubtask *subtask;
  char        *blend;
  char        *output;
} Cheat;

static void
send_to (KilnTestEngine              *node,
         const KilnAddress *peer,
         KilnMessageType    type,
         GBytes            *body)
{
  kiln_engine_send_message_async (node->engine, peer, type, body, NULL, NULL, NULL);
}

static void
cheat_on_announce (KilnEngine     *engine,
                   KilnEnginePeer *peer,
                   KilnMessage    *message,
                   gpointer        user_data)
{
  Cheat *cheat = user_data;
  g_autoptr(KilnTaskAnnouncement) announcement = NULL;
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 price;

  announcement = kiln_market_announce_body_decode (kiln_message_get_body (message), now_s (),
                                                   &error);
  g_assert_no_error (error);

  offer = kiln_offer_new (announcement);
  kiln_uint256_from_uint64 (&price, GNT / 10);
  kiln_offer_set_price (offer, &price);
  kiln_offer_set_cores (offer, 1);
  kiln_offer_set_benchmark (offer, 1000000);
  kiln_offer_set_max_concurrent (offer, 1);
  kiln_offer_set_times (offer, now_s (), now_s () + 600);
  g_assert_true (kiln_offer_sign (offer, cheat->node->key, &error));
  g_assert_no_error (error);
  send_to (cheat->node, kiln_message_get_author (message), KILN_MESSAGE_OFFER,
           kiln_offer_get_bytes (offer));
}

static void
invert_image (const char *path)
{
  g_autoptr(KilnImage) image = NULL;
  g_autoptr(GError) error = NULL;
  guint max;

  image = kiln_image_load_png (path, &error);
  g_assert_no_error (error);
  max = kiln_image_get_depth (image) == 16 ? 65535 : 255;
  for (guint y = 0; y < kiln_image_get_height (image); y++)
    {
      guint16 *row = kiln_image_get_row (image, y);

      for (guint x = 0; x < kiln_image_get_width (image) * kiln_image_get_channels (image); x++)
        row[x] = max - row[x];
    }
  kiln_image_save_png (image, path, &error);
  g_assert_no_error (error);
}

static void
cheat_on_published (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Cheat *cheat = user_data;
  g_autoptr(KilnResultBody) body = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *name = g_path_get_basename (cheat->output);
  guint8 sha[32];
  GStatBuf st;

  hash = kiln_content_store_add_file_finish (KILN_CONTENT_STORE (object), result, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_content_hash_from_hex (hash, sha));
  g_assert_cmpint (g_stat (cheat->output, &st), ==, 0);

  body = kiln_result_body_new (kiln_terms_get_digest (cheat->terms));
  kiln_result_body_add_output (body, name, sha, st.st_size);
  body->cpu_ms = 1000;
  body->wall_ms = 1000;
  bytes = kiln_result_body_encode (body, &error);
  g_assert_no_error (error);
  send_to (cheat->node, &cheat->requestor, KILN_MESSAGE_RESULT, bytes);
  cheat->results++;
}

static void
cheat_on_rendered (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Cheat *cheat = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  g_autoptr(GFile) file = NULL;

  paths = kiln_render_run_execute_finish (KILN_RENDER_RUN (object), result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (paths), ==, 1);

  g_free (cheat->output);
  cheat->output = g_strdup (paths[0]);
  invert_image (cheat->output);
  file = g_file_new_for_path (cheat->output);
  kiln_content_store_add_file_async (kiln_engine_get_content_store (cheat->node->engine), file,
                                     NULL, cheat_on_published, cheat);
}

static void
cheat_on_fetched (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Cheat *cheat = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *output = NULL;
  g_autoptr(GFile) from = NULL;
  g_autoptr(GFile) to = NULL;
  g_autoptr(KilnRenderSpec) spec = NULL;
  KilnRenderRun *run;

  stored = kiln_transfer_fetch_finish (KILN_TRANSFER (object), result, &error);
  g_assert_no_error (error);

  /* Blender reads it under its own name. */
  g_free (cheat->blend);
  cheat->blend = g_build_filename (cheat->dir, "scene.blend", NULL);
  from = g_file_new_for_path (stored);
  to = g_file_new_for_path (cheat->blend);
  g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  output = g_build_filename (cheat->dir, "output", NULL);
  g_assert_cmpint (g_mkdir_with_parents (output, 0700), ==, 0);
  spec = kiln_subtask_to_render_spec (cheat->subtask, cheat->blend, output);
  run = kiln_render_run_new (render.sandbox, render.blender, spec);
  kiln_render_run_execute_async (run, NULL, cheat_on_rendered, cheat);
  g_object_unref (run);
}

static void
cheat_on_assign (KilnEngine     *engine,
                 KilnEnginePeer *peer,
                 KilnMessage    *message,
                 gpointer        user_data)
{
  Cheat *cheat = user_data;
  g_autoptr(KilnAssignBody) assign = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  const KilnMarketFile *blend;

  assign = kiln_assign_body_decode (kiln_message_get_body (message), &error);
  g_assert_no_error (error);
  g_assert_true (kiln_terms_accept (assign->terms, cheat->node->key, now_s (), &error));
  g_assert_no_error (error);

  cheat->requestor = *kiln_message_get_author (message);
  g_set_object (&cheat->terms, assign->terms);
  g_clear_pointer (&cheat->subtask, kiln_subtask_free);
  cheat->subtask = kiln_subtask_copy (assign->subtask);
  send_to (cheat->node, &cheat->requestor, KILN_MESSAGE_ACCEPT,
           kiln_terms_get_bytes (assign->terms));

  blend = g_ptr_array_index (assign->resources, 0);
  hash = kiln_content_hash_to_hex (blend->sha256);
  kiln_transfer_fetch_async (kiln_engine_get_transfer (engine), kiln_engine_peer_get_link (peer),
                             hash, blend->size, NULL, NULL, NULL, NULL, cheat_on_fetched, cheat);
}

static void
cheat_on_reject (KilnEngine     *engine,
                 KilnEnginePeer *peer,
                 KilnMessage    *message,
                 gpointer        user_data)
{
  Cheat *cheat = user_data;
  g_autoptr(GError) error = NULL;
  KilnRejectBody *reject = kiln_reject_body_decode (kiln_message_get_body (message), &error);

  g_assert_no_error (error);
  g_ptr_array_add (cheat->rejects, reject);
}

static Cheat *
cheat_new (void)
{
  Cheat *cheat = g_new0 (Cheat, 1);

  cheat->node = kiln_test_engine_new ("render-job", NETWORK);
  cheat->dir = kiln_test_render_new_dir (&render, "cheat");
  cheat->rejects = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_reject_body_free);
  kiln_engine_add_message_handler (cheat->node->engine, KILN_MESSAGE_TASK_ANNOUNCE,
                                   cheat_on_announce, cheat, NULL);
  kiln_engine_add_message_handler (cheat->node->engine, KILN_MESSAGE_ASSIGN, cheat_on_assign,
                                   cheat, NULL);
  kiln_engine_add_message_handler (cheat->node->engine, KILN_MESSAGE_REJECT, cheat_on_reject,
                                   cheat, NULL);
  return cheat;
}

static void
cheat_free (Cheat *cheat)
{
  kiln_test_engine_free (cheat->node);
  g_ptr_array_unref (cheat->rejects);
  g_clear_object (&cheat->terms);
  g_clear_pointer (&cheat->subtask, kiln_subtask_free);
  g_free (cheat->blend);
  g_free (cheat->output);
  g_free (cheat->dir);
  g_free (cheat);
}

/* The fixture --------------------------------------------------------------------------- */

typedef struct
{
  FakeServices      *services;
  KilnLendingPolicy *policy;
  KilnIdleMonitor   *monitor;
  KilnProvider      *provider;
  KilnTestEngine              *requestor;
  char              *output_dir;
  GPtrArray         *ready;        /* char *: "FRAME PATH", from ::frame-ready */
} JobFixture;

static gboolean
monitor_is_idle (gpointer data)
{
  return kiln_idle_monitor_get_idle (data);
}

static void
fixture_set_up (JobFixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GDBusConnection) session = NULL;
  g_autoptr(GDBusConnection) system = NULL;
  g_autoptr(GError) error = NULL;

  fixture->services = fake_services_new ();
  fake_mutter_own (fixture->services, TRUE);
  fake_mutter_set_idletime (fixture->services, 10 * 60 * 1000);
  session = fake_services_connect (fixture->services, FALSE);
  system = fake_services_connect (fixture->services, TRUE);

  fixture->policy = kiln_lending_policy_new ();
  /* Other programs' CPU (parallel builds and tests) must not decide these tests. */
  kiln_lending_policy_set_cpu_threshold_percent (fixture->policy, 100);
  kiln_lending_policy_set_idle_delay_minutes (fixture->policy, 0);
  g_assert_true (kiln_lending_policy_set_min_price (fixture->policy, "0.5", &error));
  g_assert_no_error (error);
  /* One core each: a provider runs one subtask at a time. */
  kiln_lending_policy_set_cores (fixture->policy, 1);
  kiln_lending_policy_set_enabled (fixture->policy, TRUE);
  fixture->monitor = g_object_new (KILN_TYPE_IDLE_MONITOR,
                                   "policy", fixture->policy,
                                   "session-bus", session,
                                   "system-bus", system,
                                   NULL);
  fixture->provider = kiln_provider_new (fixture->policy, fixture->monitor);
  kiln_test_wait_until (monitor_is_idle, fixture->monitor);

  fixture->requestor = kiln_test_engine_new ("render-job", NETWORK);
  fixture->output_dir = kiln_test_render_new_dir (&render, "frames");
  fixture->ready = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_tear_down (JobFixture       *fixture,
                   gconstpointer  user_data)
{
  kiln_test_engine_free (fixture->requestor);
  g_assert_finalize_object (fixture->provider);
  g_assert_finalize_object (fixture->monitor);
  g_assert_finalize_object (fixture->policy);
  fake_services_free (fixture->services);
  g_free (fixture->output_dir);
  g_ptr_array_unref (fixture->ready);
}

static void
on_frame_ready (KilnRenderJob *job,
                int            frame,
                const char    *path,
                JobFixture       *fixture)
{
  g_ptr_array_add (fixture->ready, g_strdup_printf ("%d %s", frame, path));
}

static KilnRenderJobSettings *
make_settings (JobFixture    *fixture,
               const char *frames,
               guint       n_subtasks)
{
  KilnRenderJobSettings *settings = kiln_render_job_settings_new_for_scene (shared.scene);
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&settings->frames, kiln_frame_spec_unref);
  settings->frames = kiln_frame_spec_parse (frames, &error);
  g_assert_no_error (error);
  settings->n_subtasks = n_subtasks;
  settings->subtask_timeout = 120;
  settings->memory_mib = 512;
  kiln_uint256_from_uint64 (&settings->max_price, GNT);
  g_free (settings->output_dir);
  settings->output_dir = g_strdup (fixture->output_dir);
  settings->chain_id = CHAIN_ID;
  memset (settings->token.bytes, 0x70, sizeof settings->token.bytes);
  return settings;
}

static KilnRenderJob *
make_job_with (JobFixture                  *fixture,
               const KilnRenderJobSettings *settings)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 balance;
  KilnRenderJob *job;

  kiln_uint256_from_uint64 (&balance, 1000 * GNT);
  job = kiln_render_job_new (fixture->requestor->engine, render.blender, render.sandbox,
                             shared.scene, settings, NULL, &balance, &error);
  g_assert_no_error (error);
  g_assert_nonnull (job);
  g_signal_connect (job, "frame-ready", G_CALLBACK (on_frame_ready), fixture);
  return job;
}

static KilnRenderJob *
make_job (JobFixture    *fixture,
          const char *frames,
          guint       n_subtasks)
{
  g_autoptr(KilnRenderJobSettings) settings = make_settings (fixture, frames, n_subtasks);

  return make_job_with (fixture, settings);
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
  g_assert_cmpint (kiln_render_job_get_state (job), !=, KILN_RENDER_JOB_STATE_FAILED);
}

static gboolean
job_paying (gpointer data)
{
  KilnRenderJob *job = data;

  g_assert_cmpint (kiln_render_job_get_state (job), !=, KILN_RENDER_JOB_STATE_FAILED);
  return kiln_render_job_get_state (job) == KILN_RENDER_JOB_STATE_PAYING;
}

static void
dump_events (KilnRenderJob *job)
{
  GListModel *events = kiln_render_job_get_events (job);

  for (guint i = 0; i < g_list_model_get_n_items (events); i++)
    {
      g_autoptr(KilnRenderJobEvent) event = g_list_model_get_item (events, i);

      if (kiln_render_job_event_get_subtask (event) >= 0)
        g_test_message ("subtask %d: %s", kiln_render_job_event_get_subtask (event),
                        kiln_render_job_event_get_text (event));
      else
        g_test_message ("job: %s", kiln_render_job_event_get_text (event));
    }
}

static void
wait_paying (KilnRenderJob *job)
{
  wait_for (job_paying, job, "the job to reach “paying”");
  dump_events (job);
}

static KilnImage *
load_image (const char *path)
{
  g_autoptr(GError) error = NULL;
  KilnImage *image = kiln_image_load_png (path, &error);

  g_assert_no_error (error);
  return image;
}

/* @frame in the output folder is, value for value, the local render of it. */
static void
assert_frame_matches (JobFixture *fixture,
                      int      frame)
{
  g_autofree char *name = g_strdup_printf ("frame_%04d.png", frame);
  g_autofree char *path = g_build_filename (fixture->output_dir, name, NULL);
  g_autofree char *reference = g_build_filename (shared.reference_dir, name, NULL);
  g_autoptr(KilnImage) got = load_image (path);
  g_autoptr(KilnImage) expected = load_image (reference);
  KilnImageDiff diff;

  g_assert_cmpuint (kiln_image_get_width (got), ==, kiln_image_get_width (expected));
  g_assert_cmpuint (kiln_image_get_height (got), ==, kiln_image_get_height (expected));
  g_assert_cmpuint (kiln_image_get_channels (got), ==, kiln_image_get_channels (expected));
  kiln_image_compare (got, 0, 0, expected, 0, 0, kiln_image_get_width (got),
                      kiln_image_get_height (got), &diff);
  g_assert_cmpuint (diff.differing, ==, 0);
}

static guint
count_assignments (KilnRenderJob       *job,
                   guint                subtask,
                   KilnAssignmentState  state)
{
  g_autoptr(GPtrArray) assignments = kiln_render_job_get_assignments (job);
  guint n = 0;

  for (guint i = 0; i < assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record = g_ptr_array_index (assignments, i);

      n += record->subtask == subtask && record->state == state;
    }
  return n;
}

/* What the job says it owes is what the providers were told, per terms. */
static void
assert_owed_matches (KilnRenderJob *job,
                     GPtrArray     *earned)
{
  g_autoptr(GPtrArray) assignments = kiln_render_job_get_assignments (job);
  KilnUint256 cost, owed, sum = { { 0 } };
  guint approved = 0;

  for (guint i = 0; i < assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record = g_ptr_array_index (assignments, i);
      g_autofree char *terms = NULL;
      g_autofree char *amount = NULL;
      g_autofree char *line = NULL;
      gboolean found = FALSE;

      if (record->state != KILN_ASSIGNMENT_APPROVED)
        continue;
      approved++;
      g_assert_false (kiln_uint256_is_zero (&record->owed));
      g_assert_true (kiln_uint256_add (&sum, &sum, &record->owed));
      terms = kiln_market_id_to_hex (record->terms_digest);
      amount = kiln_uint256_to_string (&record->owed);
      line = g_strdup_printf ("%s %s", terms, amount);
      for (guint j = 0; j < earned->len && !found; j++)
        found = g_str_equal (g_ptr_array_index (earned, j), line);
      g_assert_true (found);
      /* Not paid: there is no wallet. */
      g_assert_cmpint (record->payment_id, ==, 0);
      g_assert_null (record->payment_key);
    }
  g_assert_cmpuint (approved, ==, kiln_render_job_get_n_subtasks (job));

  kiln_render_job_get_cost (job, &cost);
  kiln_render_job_get_owed (job, &owed);
  g_assert_true (kiln_uint256_equal (&cost, &sum));
  g_assert_true (kiln_uint256_equal (&owed, &sum));
  {
    KilnUint256 max_cost;

    kiln_render_job_get_max_cost (job, &max_cost);
    g_assert_cmpint (kiln_uint256_compare (&cost, &max_cost), <=, 0);
  }
}

typedef struct
{
  Lender *a;
  Lender *b;
  guint   n;
} Earnings;

static gboolean
earned_enough (gpointer data)
{
  Earnings *earnings = data;

  return earnings->a->earned->len + (earnings->b != NULL ? earnings->b->earned->len : 0) >=
         earnings->n;
}

/* Tests --------------------------------------------------------------------------------- */

static void
test_two_frames (JobFixture       *fixture,
                 gconstpointer  user_data)
{
  Lender *a = lender_new (fixture->provider);
  Lender *b = lender_new (fixture->provider);
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GPtrArray) earned = g_ptr_array_new ();
  KilnAddress first, second;

  kiln_test_engine_link (fixture->requestor, a->node);
  kiln_test_engine_link (fixture->requestor, b->node);

  job = make_job (fixture, "1-2", 0);
  g_assert_cmpuint (kiln_render_job_get_n_subtasks (job), ==, 2);
  g_assert_cmpuint (kiln_render_job_get_frames_total (job), ==, 2);
  g_assert_cmpint (kiln_render_job_get_state (job), ==, KILN_RENDER_JOB_STATE_PREPARING);
  start_job (job);
  wait_paying (job);

  g_assert_cmpuint (kiln_render_job_get_frames_done (job), ==, 2);
  g_assert_cmpuint (kiln_render_job_get_subtasks_done (job), ==, 2);
  g_assert_cmpuint (fixture->ready->len, ==, 2);
  assert_frame_matches (fixture, 1);
  assert_frame_matches (fixture, 2);

  /* Each provider rendered one frame: one core each, one subtask at a time. */
  g_assert_true (kiln_render_job_get_subtask_provider (job, 0, &first));
  g_assert_true (kiln_render_job_get_subtask_provider (job, 1, &second));
  g_assert_false (kiln_address_equal (&first, &second));
  g_assert_true (kiln_address_equal (&first, kiln_test_engine_address (a->node)) ||
                 kiln_address_equal (&first, kiln_test_engine_address (b->node)));
  g_assert_true (kiln_address_equal (&second, kiln_test_engine_address (a->node)) ||
                 kiln_address_equal (&second, kiln_test_engine_address (b->node)));

  /* The providers heard of the approvals, with the amounts the job owes. */
  wait_for (earned_enough, &(Earnings) { a, b, 2 }, "the providers to hear of the approvals");
  for (guint i = 0; i < a->earned->len; i++)
    g_ptr_array_add (earned, g_ptr_array_index (a->earned, i));
  for (guint i = 0; i < b->earned->len; i++)
    g_ptr_array_add (earned, g_ptr_array_index (b->earned, i));
  assert_owed_matches (job, earned);

  /* Without a wallet the job stays "paying": what is owed is recorded, not sent. */
  g_assert_cmpint (kiln_render_job_get_state (job), ==, KILN_RENDER_JOB_STATE_PAYING);

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  lender_free (a);
  lender_free (b);
}

/* One frame cut into strips, rendered by two providers and joined. */
static void
test_strips (JobFixture       *fixture,
             gconstpointer  user_data)
{
  Lender *a = lender_new (fixture->provider);
  Lender *b = lender_new (fixture->provider);
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GPtrArray) earned = g_ptr_array_new ();
  g_autofree char *strip = NULL;

  kiln_test_engine_link (fixture->requestor, a->node);
  kiln_test_engine_link (fixture->requestor, b->node);

  job = make_job (fixture, "2", 3);
  g_assert_cmpuint (kiln_render_job_get_n_subtasks (job), ==, 3);
  g_assert_cmpuint (kiln_job_plan_get_n_strips (kiln_render_job_get_plan (job)), ==, 3);
  start_job (job);
  wait_paying (job);

  g_assert_cmpuint (kiln_render_job_get_frames_done (job), ==, 1);
  g_assert_cmpuint (fixture->ready->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (fixture->ready, 0), "2 "));
  assert_frame_matches (fixture, 2);

  /* The strips themselves are not left behind. */
  strip = g_build_filename (kiln_engine_get_data_dir (fixture->requestor->engine),
                            "render-jobs", kiln_render_job_get_id (job), "strips", "strip-0.png",
                            NULL);
  g_assert_false (g_file_test (strip, G_FILE_TEST_EXISTS));

  wait_for (earned_enough, &(Earnings) { a, b, 3 }, "the providers to hear of the approvals");
  for (guint i = 0; i < a->earned->len; i++)
    g_ptr_array_add (earned, g_ptr_array_index (a->earned, i));
  for (guint i = 0; i < b->earned->len; i++)
    g_ptr_array_add (earned, g_ptr_array_index (b->earned, i));
  assert_owed_matches (job, earned);

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  lender_free (a);
  lender_free (b);
}

static gboolean
first_rejected (gpointer data)
{
  KilnRenderJob *job = data;

  g_assert_cmpint (kiln_render_job_get_state (job), !=, KILN_RENDER_JOB_STATE_FAILED);
  return count_assignments (job, 0, KILN_ASSIGNMENT_REJECTED) == 1;
}

static gboolean
cheat_told (gpointer data)
{
  return ((Cheat *) data)->rejects->len > 0;
}

/* A provider that hands in an inverted image is caught, told, not paid and left out; the
 * frame goes to an honest provider that turns up later. */
static void
test_tampered (JobFixture       *fixture,
               gconstpointer  user_data)
{
  Cheat *cheat = cheat_new ();
  Lender *honest = lender_new (fixture->provider);
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GPtrArray) assignments = NULL;
  g_autoptr(KilnReputation) reputation = NULL;
  g_autoptr(KilnReputationEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  const KilnJobAssignmentRecord *rejected;
  const KilnRejectBody *reject;
  KilnAddress provider;

  kiln_test_engine_link (fixture->requestor, cheat->node);
  job = make_job (fixture, "1", 0);
  start_job (job);
  wait_for (first_rejected, job, "the tampered result to be rejected");

  g_assert_cmpuint (cheat->results, ==, 1);
  assignments = kiln_render_job_get_assignments (job);
  rejected = g_ptr_array_index (assignments, 0);
  g_assert_true (kiln_address_equal (&rejected->provider, kiln_test_engine_address (cheat->node)));
  g_assert_nonnull (rejected->reason);
  g_test_message ("rejected: %s", rejected->reason);
  g_assert_true (kiln_uint256_is_zero (&rejected->owed));
  g_clear_pointer (&assignments, g_ptr_array_unref);

  wait_for (cheat_told, cheat, "the REJECT to reach the provider");
  reject = g_ptr_array_index (cheat->rejects, 0);
  g_assert_cmpstr (reject->reason, ==, KILN_MARKET_REASON_BAD_RESULT);
  g_assert_cmpmem (reject->ref, 32, rejected->terms_digest, 32);

  /* Reassigned to the next provider that comes along, never again to the cheat. */
  g_assert_cmpint (kiln_render_job_get_subtask_state (job, 0), ==, KILN_SUBTASK_STATE_PENDING);
  kiln_test_engine_link (fixture->requestor, honest->node);
  wait_paying (job);

  g_assert_cmpuint (count_assignments (job, 0, KILN_ASSIGNMENT_APPROVED), ==, 1);
  g_assert_true (kiln_render_job_get_subtask_provider (job, 0, &provider));
  g_assert_true (kiln_address_equal (&provider, kiln_test_engine_address (honest->node)));
  g_assert_cmpuint (cheat->results, ==, 1);
  assert_frame_matches (fixture, 1);
  wait_for (earned_enough, &(Earnings) { honest, NULL, 1 }, "the approval");
  assert_owed_matches (job, honest->earned);

  /* The requestor remembers. */
  reputation = kiln_reputation_new (fixture->requestor->store);
  entry = kiln_reputation_lookup (reputation, kiln_test_engine_address (cheat->node), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entry->rejected, ==, 1);
  g_assert_cmpuint (entry->accepted, ==, 0);

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  lender_free (honest);
  cheat_free (cheat);
}

static gboolean
first_done_second_out (gpointer data)
{
  KilnRenderJob *job = data;
  KilnSubtaskState second = kiln_render_job_get_subtask_state (job, 1);

  g_assert_cmpint (kiln_render_job_get_state (job), !=, KILN_RENDER_JOB_STATE_FAILED);
  /* The provider takes frame 2 as soon as it has handed in frame 1, so frame 2 may already
   * be in, waiting for its verification. */
  return kiln_render_job_get_subtask_state (job, 0) == KILN_SUBTASK_STATE_DONE &&
         (second == KILN_SUBTASK_STATE_ASSIGNED || second == KILN_SUBTASK_STATE_RENDERING ||
          second == KILN_SUBTASK_STATE_VERIFYING);
}

/* A job dropped half way is loaded from the store and finishes: the frame already verified
 * is kept, the assignment that was out is withdrawn and the frame assigned again. */
static void
test_reload (JobFixture       *fixture,
             gconstpointer  user_data)
{
  Lender *lender = lender_new (fixture->provider);
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) assignments = NULL;
  g_autofree char *id = NULL;
  g_autofree guint8 *old_task = NULL;
  guint withdrawn = 0;

  kiln_test_engine_link (fixture->requestor, lender->node);
  job = make_job (fixture, "1-2", 0);
  start_job (job);
  wait_for (first_done_second_out, job, "frame 1 to be verified and frame 2 assigned");
  id = g_strdup (kiln_render_job_get_id (job));
  old_task = g_memdup2 (kiln_render_job_get_task_id (job), KILN_MARKET_ID_SIZE);
  kiln_test_assert_finalize_soon (g_steal_pointer (&job));

  kiln_render_job_load_async (fixture->requestor->engine, render.blender, render.sandbox, NULL,
                              id, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  job = kiln_render_job_load_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (job);
  g_clear_object (&result);
  g_signal_connect (job, "frame-ready", G_CALLBACK (on_frame_ready), fixture);

  g_assert_cmpstr (kiln_render_job_get_id (job), ==, id);
  g_assert_cmpint (kiln_render_job_get_subtask_state (job, 0), ==, KILN_SUBTASK_STATE_DONE);
  g_assert_cmpuint (kiln_render_job_get_frames_done (job), ==, 1);
  /* A fresh announcement: offers for the old one are not taken. */
  g_assert_true (memcmp (kiln_render_job_get_task_id (job), old_task, KILN_MARKET_ID_SIZE) != 0);

  wait_paying (job);
  assert_frame_matches (fixture, 1);
  assert_frame_matches (fixture, 2);

  /* Frame 1 was rendered once; frame 2's first assignment was withdrawn, not paid. */
  g_assert_cmpuint (count_assignments (job, 0, KILN_ASSIGNMENT_APPROVED), ==, 1);
  g_assert_cmpuint (count_assignments (job, 1, KILN_ASSIGNMENT_APPROVED), ==, 1);
  assignments = kiln_render_job_get_assignments (job);
  for (guint i = 0; i < assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record = g_ptr_array_index (assignments, i);

      g_assert_cmpuint (record->subtask, ==, record->attempt == 1 ? 0 : 1);
      if (record->state == KILN_ASSIGNMENT_CANCELLED)
        {
          withdrawn++;
          g_assert_true (kiln_uint256_is_zero (&record->owed));
        }
    }
  g_assert_cmpuint (withdrawn, ==, 1);
  wait_for (earned_enough, &(Earnings) { lender, NULL, 2 }, "the approvals");
  assert_owed_matches (job, lender->earned);

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  lender_free (lender);
}

static gboolean
job_rendering (gpointer data)
{
  return kiln_render_job_get_subtask_state (data, 0) == KILN_SUBTASK_STATE_RENDERING;
}

static gboolean
lender_stopped (gpointer data)
{
  Lender *lender = data;

  return lender->finished->len > 0;
}

/* Cancelling withdraws the work that is out, and nothing is owed for it. */
static void
test_cancel (JobFixture       *fixture,
             gconstpointer  user_data)
{
  Lender *lender = lender_new (fixture->provider);
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 cost;

  kiln_test_engine_link (fixture->requestor, lender->node);
  job = make_job (fixture, "1-2", 0);
  start_job (job);
  wait_for (job_rendering, job, "the first subtask to be accepted");

  kiln_render_job_cancel_async (job, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  g_assert_true (kiln_render_job_cancel_finish (job, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kiln_render_job_get_state (job), ==, KILN_RENDER_JOB_STATE_CANCELLED);
  g_assert_cmpuint (count_assignments (job, 0, KILN_ASSIGNMENT_CANCELLED), ==, 1);
  kiln_render_job_get_cost (job, &cost);
  g_assert_true (kiln_uint256_is_zero (&cost));

  /* The provider stops and is told why. */
  wait_for (lender_stopped, lender, "the provider to stop");
  g_assert_true (g_str_has_suffix (g_ptr_array_index (lender->finished, 0),
                                   KILN_MARKET_REASON_CANCELLED));
  g_clear_object (&result);
  kiln_render_job_cancel_async (job, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  g_assert_false (kiln_render_job_cancel_finish (job, result, &error));
  g_assert_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_NOT_RUNNING);
  g_clear_object (&result);

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  lender_free (lender);
}

/* Refusals before anything is written. */
static void
test_refused (JobFixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(KilnRenderJobSettings) settings = make_settings (fixture, "1-4", 0);
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 balance;
  KilnUint256 max_cost;

  /* 4 subtasks of 120 s at 1 GNT per CPU-hour cost at most 4 × ⌈10^18 × 120 / 3600⌉. */
  kiln_uint256_from_uint64 (&balance, 4 * G_GUINT64_CONSTANT (33333333333333334) - 1);
  job = kiln_render_job_new (fixture->requestor->engine, render.blender, render.sandbox,
                             shared.scene, settings, NULL, &balance, &error);
  g_assert_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_INSUFFICIENT_FUNDS);
  g_assert_null (job);
  g_clear_error (&error);

  kiln_uint256_from_uint64 (&balance, 4 * G_GUINT64_CONSTANT (33333333333333334));
  job = kiln_render_job_new (fixture->requestor->engine, render.blender, render.sandbox,
                             shared.scene, settings, NULL, &balance, &error);
  g_assert_no_error (error);
  kiln_render_job_get_max_cost (job, &max_cost);
  g_assert_true (kiln_uint256_equal (&max_cost, &balance));
  g_clear_object (&job);

  kiln_uint256_from_uint64 (&settings->max_price, 0);
  job = kiln_render_job_new (fixture->requestor->engine, render.blender, render.sandbox,
                             shared.scene, settings, NULL, &balance, &error);
  g_assert_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_INVALID);
  g_assert_null (job);
}

static gboolean
job_done (gpointer data)
{
  KilnRenderJob *job = data;

  g_assert_cmpint (kiln_render_job_get_state (job), !=, KILN_RENDER_JOB_STATE_FAILED);
  return kiln_render_job_get_state (job) == KILN_RENDER_JOB_STATE_DONE;
}

typedef struct
{
  Lender *lender;
  guint   n;
} LenderWait;

static gboolean
on_paid_count (gpointer data)
{
  LenderWait *wait = data;

  return wait->lender->paid->len >= wait->n;
}

/* With a wallet on the devnet, verified work is paid in one batch transaction: each
 * provider's GNT balance rises by exactly what the job owed it, and it is told. */
static void
test_paid (JobFixture    *fixture,
           gconstpointer  user_data)
{
  Fixture chain = { 0 };
  Lender *a = NULL;
  Lender *b = NULL;
  g_autoptr(KilnRenderJobSettings) settings = make_settings (fixture, "1-2", 0);
  g_autoptr(KilnRenderJob) job = NULL;
  g_autoptr(GPtrArray) assignments = NULL;
  g_autoptr(GError) error = NULL;
  KilnWallet *wallet;
  KilnUint256 before_a, before_b, after_a, after_b, owed_a = { { 0 } }, owed_b = { { 0 } };
  KilnUint256 cost, owed;
  gint64 payment_id = 0;

  fixture_setup (&chain, NULL);
  wallet = funded_wallet (&chain, fixture->requestor->key, "10", "100");
  a = lender_new (fixture->provider);
  b = lender_new (fixture->provider);
  kiln_test_engine_link (fixture->requestor, a->node);
  kiln_test_engine_link (fixture->requestor, b->node);
  before_a = token_balance_of (kiln_test_engine_address (a->node));
  before_b = token_balance_of (kiln_test_engine_address (b->node));

  /* The wallet's balance decides, and its chain and token are announced. */
  job = kiln_render_job_new (fixture->requestor->engine, render.blender, render.sandbox,
                             shared.scene, settings, wallet, NULL, &error);
  g_assert_no_error (error);
  start_job (job);
  wait_for (job_done, job, "the job to be paid");
  dump_events (job);

  kiln_render_job_get_cost (job, &cost);
  kiln_render_job_get_owed (job, &owed);
  g_assert_false (kiln_uint256_is_zero (&cost));
  g_assert_true (kiln_uint256_is_zero (&owed));

  assignments = kiln_render_job_get_assignments (job);
  for (guint i = 0; i < assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record = g_ptr_array_index (assignments, i);
      KilnUint256 *sum;

      if (record->state != KILN_ASSIGNMENT_APPROVED)
        continue;
      g_assert_cmpint (record->payment_id, >, 0);
      g_assert_true (payment_id == 0 || payment_id == record->payment_id);
      payment_id = record->payment_id;
      g_assert_true (record->has_tx_hash);
      g_assert_true (record->notified);
      g_assert_nonnull (record->payment_key);
      sum = kiln_address_equal (&record->provider, kiln_test_engine_address (a->node))
            ? &owed_a : &owed_b;
      g_assert_true (kiln_uint256_add (sum, sum, &record->owed));
    }

  after_a = token_balance_of (kiln_test_engine_address (a->node));
  after_b = token_balance_of (kiln_test_engine_address (b->node));
  g_assert_true (kiln_uint256_sub (&after_a, &after_a, &before_a));
  g_assert_true (kiln_uint256_sub (&after_b, &after_b, &before_b));
  assert_u256 (&after_a, &owed_a);
  assert_u256 (&after_b, &owed_b);
  g_assert_false (kiln_uint256_is_zero (&owed_a));
  g_assert_false (kiln_uint256_is_zero (&owed_b));

  /* Each provider heard which transaction paid it. */
  wait_for (on_paid_count, &(LenderWait) { a, 1 }, "the first provider to hear of its payment");
  wait_for (on_paid_count, &(LenderWait) { b, 1 }, "the second provider to hear of its payment");

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  lender_free (a);
  lender_free (b);
  wallet_free (wallet);
  fixture_teardown (&chain, NULL);
}

static gboolean
monitor_is_busy (gpointer data)
{
  return !kiln_idle_monitor_get_idle (data);
}

/* The position of @event in @lender's events, or -1. */
static int
find_event (Lender     *lender,
            const char *event)
{
  for (guint i = 0; i < lender->events->len; i++)
    if (g_str_equal (g_ptr_array_index (lender->events, i), event))
      return i;
  return -1;
}

static char *
task_hex (KilnRenderJob *job)
{
  return kiln_market_id_to_hex (kiln_render_job_get_task_id (job));
}

static gboolean
job_waits_paying (gpointer data)
{
  KilnRenderJob **jobs = data;

  return job_paying (jobs[0]) && job_paying (jobs[1]);
}

/* The only provider is busy with another job when a task is announced: with its one core
 * taken it makes no offer then, and offers by itself as soon as the core is free. The job is
 * not announced again meanwhile, so nothing else can bring the offer. */
static void
test_busy_provider (JobFixture    *fixture,
                    gconstpointer  user_data)
{
  Lender *lender = lender_new (fixture->provider);
  g_autoptr(KilnRenderJobSettings) settings = make_settings (fixture, "1", 0);
  g_autoptr(KilnRenderJob) first = NULL;
  g_autoptr(KilnRenderJob) second = NULL;
  g_autofree char *first_finished = NULL;
  g_autofree char *second_announced = NULL;
  g_autofree char *second_offered = NULL;
  g_autofree char *task = NULL;
  int finished_at, announced_at, offered_at;
  KilnAddress provider;

  kiln_test_engine_link (fixture->requestor, lender->node);

  /* More samples than the scene's: the first job keeps the core for a few seconds. */
  settings->samples = 64;
  first = make_job_with (fixture, settings);
  start_job (first);
  wait_for (job_rendering, first, "the first job's subtask to be accepted");

  second = make_job (fixture, "2", 0);
  kiln_render_job_set_announce_intervals (second, 600 * 1000, 600 * 1000);
  start_job (second);
  task = task_hex (second);
  wait_for (job_waits_paying, (KilnRenderJob *[]) { first, second },
            "both jobs to reach “paying”");
  dump_events (second);

  /* The announcement came while the first subtask ran; the offer once it had finished. */
  g_assert_cmpuint (lender->finished->len, ==, 2);
  first_finished = g_strdup_printf ("finished %.64s",
                                    (const char *) g_ptr_array_index (lender->finished, 0));
  second_announced = g_strdup_printf ("announced %s", task);
  second_offered = g_strdup_printf ("offered %s", task);
  finished_at = find_event (lender, first_finished);
  announced_at = find_event (lender, second_announced);
  offered_at = find_event (lender, second_offered);
  g_assert_cmpint (announced_at, >=, 0);
  g_assert_cmpint (finished_at, >, announced_at);
  g_assert_cmpint (offered_at, >, finished_at);
  /* Announced once: no repetition brought the offer. */
  for (guint i = announced_at + 1; i < lender->events->len; i++)
    g_assert_cmpstr (g_ptr_array_index (lender->events, i), !=, second_announced);
  /* One core lent, one subtask at a time. */
  g_assert_cmpuint (lender->max_running, ==, 1);

  g_assert_true (kiln_render_job_get_subtask_provider (second, 0, &provider));
  g_assert_true (kiln_address_equal (&provider, kiln_test_engine_address (lender->node)));
  assert_frame_matches (fixture, 2);

  kiln_test_assert_finalize_soon (g_steal_pointer (&first));
  kiln_test_assert_finalize_soon (g_steal_pointer (&second));
  lender_free (lender);
}

static gboolean
announced_enough (gpointer data)
{
  LenderWait *wait = data;

  return wait->lender->announced >= wait->n;
}

/* The only provider's computer is in use when the task is announced, so it makes no offer.
 * While its subtask waits, the job announces the task again, less and less often, until the
 * provider, idle again, answers; its message rate stays far within the provider's limits. */
static void
test_reannounce (JobFixture    *fixture,
                 gconstpointer  user_data)
{
  Lender *lender = lender_new (fixture->provider);
  g_autoptr(KilnRenderJob) job = NULL;
  KilnMessageGuard *guard = kiln_engine_get_message_guard (lender->node->engine);
  gint64 start, waited_ms;
  guint most;

  kiln_test_engine_link (fixture->requestor, lender->node);
  fake_mutter_user_active (fixture->services);
  kiln_test_wait_until (monitor_is_busy, fixture->monitor);

  job = make_job (fixture, "1", 0);
  /* Announced again after 0.1 s, 0.2 s, 0.4 s, then every 0.8 s. */
  kiln_render_job_set_announce_intervals (job, 100, 800);
  g_assert_cmpuint (kiln_render_job_get_announce_interval (job), ==, 100);
  g_assert_cmpuint (kiln_render_job_get_announce_max_interval (job), ==, 800);
  start = g_get_monotonic_time ();
  start_job (job);
  wait_for (announced_enough, &(LenderWait) { lender, 5 }, "the task to be announced again");
  for (guint i = 0; i < lender->events->len; i++)
    g_assert_false (g_str_has_prefix (g_ptr_array_index (lender->events, i), "offered "));
  g_assert_cmpint (kiln_render_job_get_state (job), ==, KILN_RENDER_JOB_STATE_ANNOUNCING);

  fake_mutter_set_idletime (fixture->services, 10 * 60 * 1000);
  kiln_test_wait_until (monitor_is_idle, fixture->monitor);
  wait_paying (job);
  waited_ms = (g_get_monotonic_time () - start) / 1000;
  assert_frame_matches (fixture, 1);

  /* The waits doubled: the first announcement, three growing repetitions, then at most one
   * every 0.8 s (and one more, the clocks being what they are). Without backing off there
   * would be one every 0.1 s. */
  most = 1 + 3 + waited_ms / 800 + 1;
  g_test_message ("%u announcements in %" G_GINT64_FORMAT " ms", lender->announced, waited_ms);
  g_assert_cmpuint (lender->announced, <=, most);
  g_assert_cmpuint (kiln_message_guard_get_score (guard,
                                                  kiln_test_engine_address (fixture->requestor)),
                    ==, 0);

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  lender_free (lender);
}

typedef struct
{
  KilnProvider *provider;
  guint         n;
} PausedWait;

static gboolean
runs_paused (gpointer data)
{
  PausedWait *wait = data;
  g_autoptr(GPtrArray) runs = kiln_provider_dup_runs (wait->provider);
  guint paused = 0;

  for (guint i = 0; i < runs->len; i++)
    paused += kiln_provider_is_run_paused (wait->provider, g_ptr_array_index (runs, i));
  return paused >= wait->n;
}

/* The app stops and starts again (a new engine over the same key and store), and loads job
 * @id while its engine starts, before any provider can be linked again. */
static KilnRenderJob *
restart_and_load (JobFixture *fixture,
                  const char *id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  KilnRenderJob *job;

  kiln_test_engine_stop (fixture->requestor);
  kiln_test_engine_reopen (fixture->requestor);
  kiln_render_job_load_async (fixture->requestor->engine, render.blender, render.sandbox, NULL,
                              id, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  job = kiln_render_job_load_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (job);
  g_signal_connect (job, "frame-ready", G_CALLBACK (on_frame_ready), fixture);
  kiln_test_engine_start (fixture->requestor, NULL);
  return job;
}

/* The terms digest (hex) of the assignment of @job to @provider; there must be exactly one. */
static char *
assignment_to (KilnRenderJob     *job,
               const KilnAddress *provider)
{
  g_autoptr(GPtrArray) assignments = kiln_render_job_get_assignments (job);
  char *terms = NULL;

  for (guint i = 0; i < assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record = g_ptr_array_index (assignments, i);

      if (!kiln_address_equal (&record->provider, provider))
        continue;
      g_assert_null (terms);
      terms = kiln_market_id_to_hex (record->terms_digest);
    }
  g_assert_nonnull (terms);
  return terms;
}

/* The assignment with terms @terms (hex) was withdrawn, unpaid. */
static void
assert_withdrawn (KilnRenderJob *job,
                  const char    *terms)
{
  g_autoptr(GPtrArray) assignments = kiln_render_job_get_assignments (job);
  gboolean found = FALSE;

  for (guint i = 0; i < assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record = g_ptr_array_index (assignments, i);
      g_autofree char *hex = kiln_market_id_to_hex (record->terms_digest);

      if (!g_str_equal (hex, terms))
        continue;
      found = TRUE;
      g_assert_cmpint (record->state, ==, KILN_ASSIGNMENT_CANCELLED);
      g_assert_true (kiln_uint256_is_zero (&record->owed));
      g_assert_cmpint (record->payment_id, ==, 0);
    }
  g_assert_true (found);
}

/* The app stops while a provider has a subtask, and that provider never comes back. Once
 * loaded again, the job withdraws the assignment at once, without waiting for it: another
 * provider renders the frame, and the gone one is paid nothing. */
static void
test_reload_provider_gone (JobFixture    *fixture,
                           gconstpointer  user_data)
{
  Lender *gone = lender_new (fixture->provider);
  Lender *other = NULL;
  g_autoptr(KilnRenderJob) job = NULL;
  g_autofree char *id = NULL;
  g_autofree char *withdrawn = NULL;
  KilnAddress gone_address = *kiln_test_engine_address (gone->node);
  KilnAddress provider;

  kiln_test_engine_link (fixture->requestor, gone->node);
  job = make_job (fixture, "1", 0);
  start_job (job);
  wait_for (job_rendering, job, "the subtask to be accepted");
  id = g_strdup (kiln_render_job_get_id (job));
  withdrawn = assignment_to (job, &gone_address);

  /* The app stops; the provider goes for good, having earned nothing. */
  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  g_assert_cmpuint (gone->earned->len, ==, 0);
  lender_free (gone);

  job = restart_and_load (fixture, id);
  g_assert_cmpint (kiln_render_job_get_subtask_state (job, 0), ==, KILN_SUBTASK_STATE_PENDING);
  assert_withdrawn (job, withdrawn);

  other = lender_new (fixture->provider);
  kiln_test_engine_link (fixture->requestor, other->node);
  wait_paying (job);
  assert_frame_matches (fixture, 1);

  g_assert_true (kiln_render_job_get_subtask_provider (job, 0, &provider));
  g_assert_true (kiln_address_equal (&provider, kiln_test_engine_address (other->node)));
  assert_withdrawn (job, withdrawn);
  g_assert_cmpuint (count_assignments (job, 0, KILN_ASSIGNMENT_CANCELLED), ==, 1);
  wait_for (earned_enough, &(Earnings) { other, NULL, 1 }, "the approval");
  assert_owed_matches (job, other->earned);

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  lender_free (other);
}

typedef struct
{
  KilnTestEngine *node;
  KilnTestEngine *peer;
} PeerPair;

static gboolean
linked_again (gpointer data)
{
  PeerPair *pair = data;

  return kiln_test_engine_is_linked (pair->node, pair->peer);
}

static void
use_computer (KilnProviderAgent *agent,
              const char        *terms,
              const char        *requestor,
              const char        *frames,
              JobFixture        *fixture)
{
  fake_mutter_user_active (fixture->services);
}

/* The app stops while a provider renders a subtask (paused: the computer is in use, so it
 * cannot finish). The job, loaded again while the provider is away, withdraws the work at
 * once; the provider is told as soon as it is linked again, and stops. Idle again, it gets
 * the frame under the job's new announcement. */
static void
test_reload_provider_back (JobFixture    *fixture,
                           gconstpointer  user_data)
{
  Lender *lender = lender_new (fixture->provider);
  g_autoptr(KilnRenderJob) job = NULL;
  g_autofree char *id = NULL;
  g_autofree char *terms = NULL;
  g_autofree char *told = NULL;
  gulong handler;

  kiln_test_engine_link (fixture->requestor, lender->node);
  /* The person comes back as soon as the provider has taken the work. */
  handler = g_signal_connect (lender->agent, "accepted", G_CALLBACK (use_computer), fixture);
  job = make_job (fixture, "1", 0);
  start_job (job);
  kiln_test_wait_until (runs_paused, &(PausedWait) { fixture->provider, 1 });
  g_signal_handler_disconnect (lender->agent, handler);
  g_assert_cmpint (kiln_render_job_get_subtask_state (job, 0), ==, KILN_SUBTASK_STATE_RENDERING);
  id = g_strdup (kiln_render_job_get_id (job));
  terms = assignment_to (job, kiln_test_engine_address (lender->node));

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  job = restart_and_load (fixture, id);
  kiln_render_job_set_announce_intervals (job, 100, 800);
  g_assert_cmpint (kiln_render_job_get_subtask_state (job, 0), ==, KILN_SUBTASK_STATE_PENDING);
  assert_withdrawn (job, terms);
  /* Nobody could be told yet. */
  g_assert_cmpuint (lender->finished->len, ==, 0);

  /* Back (the restarted node dials the peers it knew): told of the withdrawal, it stops the
   * paused render. */
  wait_for (linked_again, &(PeerPair) { fixture->requestor, lender->node },
            "the provider to be linked again");
  wait_for (lender_stopped, lender, "the withdrawal to reach the provider");
  told = g_strdup_printf ("%s %s", terms, KILN_MARKET_REASON_CANCELLED);
  g_assert_cmpstr (g_ptr_array_index (lender->finished, 0), ==, told);

  /* Idle again, it answers the job's next announcement. */
  fake_mutter_set_idletime (fixture->services, 10 * 60 * 1000);
  kiln_test_wait_until (monitor_is_idle, fixture->monitor);
  wait_paying (job);
  assert_frame_matches (fixture, 1);
  assert_withdrawn (job, terms);
  wait_for (earned_enough, &(Earnings) { lender, NULL, 1 }, "the approval");
  assert_owed_matches (job, lender->earned);

  kiln_test_assert_finalize_soon (g_steal_pointer (&job));
  lender_free (lender);
}

/* Set-up ------------------------------------------------------------------------------- */

static void
on_benchmarked (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  double score;

  score = kiln_blender_benchmark_finish (KILN_BLENDER (object), result, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (score, >, 0);
  g_atomic_int_set ((int *) user_data, 1);
}

static void
prepare_shared (void)
{
  g_autofree char *scene = kiln_test_render_scene (&render, "anim.blend");
  g_autofree char *cache_dir = kiln_test_render_new_dir (&render, "cache");
  g_autoptr(GFile) cache = g_file_new_for_path (cache_dir);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnRenderSpec) spec = NULL;
  g_auto(GStrv) paths = NULL;
  int benchmarked = 0;

  /* Providers offer only with a benchmark score. */
  kiln_blender_benchmark_async (render.blender, cache, FALSE, NULL, on_benchmarked,
                                &benchmarked);
  while (!g_atomic_int_get (&benchmarked))
    g_main_context_iteration (NULL, TRUE);

  kiln_scene_inspect_async (render.blender, render.sandbox, scene, NULL, kiln_test_store_result,
                            &result);
  kiln_test_wait_result (&result);
  shared.scene = kiln_scene_inspect_finish (result, &error);
  g_assert_no_error (error);

  /* The reference: frames 1 and 2, whole, rendered here as a provider would. */
  shared.reference_dir = kiln_test_render_new_dir (&render, "reference");
  spec = kiln_render_spec_new ();
  spec->blend_file = g_strdup (scene);
  spec->output_dir = g_strdup (shared.reference_dir);
  spec->frame_start = 1;
  spec->frame_end = 2;
  spec->frame_step = 1;
  kiln_scene_info_get_output_size (shared.scene, &spec->width, &spec->height);
  spec->samples = kiln_scene_info_get_samples (shared.scene);
  spec->format = KILN_IMAGE_FORMAT_PNG;
  paths = kiln_test_render_spec (&render, spec);
  g_assert_cmpuint (g_strv_length (paths), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  kiln_test_render_set_up (&render);
  prepare_shared ();

  g_test_add ("/kiln/render-job/refused", JobFixture, NULL, fixture_set_up, test_refused,
              fixture_tear_down);
  g_test_add ("/kiln/render-job/two-frames", JobFixture, NULL, fixture_set_up, test_two_frames,
              fixture_tear_down);
  g_test_add ("/kiln/render-job/strips", JobFixture, NULL, fixture_set_up, test_strips,
              fixture_tear_down);
  g_test_add ("/kiln/render-job/tampered", JobFixture, NULL, fixture_set_up, test_tampered,
              fixture_tear_down);
  g_test_add ("/kiln/render-job/reload", JobFixture, NULL, fixture_set_up, test_reload,
              fixture_tear_down);
  g_test_add ("/kiln/render-job/cancel", JobFixture, NULL, fixture_set_up, test_cancel,
              fixture_tear_down);
  g_test_add ("/kiln/render-job/paid", JobFixture, NULL, fixture_set_up, test_paid,
              fixture_tear_down);
  g_test_add ("/kiln/render-job/busy-provider-offers-later", JobFixture, NULL, fixture_set_up,
              test_busy_provider, fixture_tear_down);
  g_test_add ("/kiln/render-job/reannounce", JobFixture, NULL, fixture_set_up,
              test_reannounce, fixture_tear_down);
  g_test_add ("/kiln/render-job/reload-provider-gone", JobFixture, NULL, fixture_set_up,
              test_reload_provider_gone, fixture_tear_down);
  g_test_add ("/kiln/render-job/reload-provider-back", JobFixture, NULL, fixture_set_up,
              test_reload_provider_back, fixture_tear_down);

  status = g_test_run ();
  wallet_test_cleanup ();
  g_clear_object (&shared.scene);
  g_free (shared.reference_dir);
  kiln_test_render_tear_down (&render);
  return status;
}
