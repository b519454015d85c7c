/* test-provider-agent.c: a lending node answering the market, against a requestor written
 * here with the real engine and market API
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two engines on loopback in this process, linked by hand: the provider runs a
 * KilnProviderAgent with real Blender in bubblewrap and an idle monitor on a private bus
 * (a test Mutter IdleMonitor makes the computer idle or in use); the requestor is this file,
 * speaking the market's messages with kiln-market-bodies.h and serving the scene from its
 * content store.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "kiln-market-bodies.h"
#include "kiln-render-private.h"
#include "kiln-provider-agent.h"
#include "kiln-test-idle.h"
#include "kiln-test-link.h"
#include "kiln-test-engine.h"
#include "kiln-test-render.h"
#include "kiln-test-util.h"

#define NETWORK 0x7e57a6e7u
#define GNT     G_GUINT64_CONSTANT (1000000000000000000)

static KilnTestRender render;

/* Nodes ----------------------------------------------------------------------------------- */

static KilnTestEngine *
node_new (void)
{
  static const KilnMessageType types[] = {
    KILN_MESSAGE_OFFER, KILN_MESSAGE_ACCEPT, KILN_MESSAGE_RESULT, KILN_MESSAGE_REJECT,
    KILN_MESSAGE_CANCEL,
  };
  KilnTestEngine *node = kiln_test_engine_new ("provider-agent", NETWORK);

  kiln_test_engine_record (node, types, G_N_ELEMENTS (types));
  return node;
}

/* The fixture ----------------------------------------------------------------------------- */

typedef struct
{
  FakeServices      *services;
  KilnLendingPolicy *policy;
  KilnIdleMonitor   *monitor;
  KilnProvider      *provider;
  KilnTestEngine              *requestor;
  KilnTestEngine              *lender;
  KilnProviderAgent *agent;
  char              *work_dir;
  /* The scene, in the requestor's content store. */
  char              *blend_hex;
  guint8             blend_sha[32];
  guint64            blend_size;
  /* What the agent signalled. */
  GPtrArray         *finished;    /* char *: "TERMS REASON" */
  GPtrArray         *earned;      /* char *: "TERMS AMOUNT" */
  GPtrArray         *paid;        /* char *: "TERMS TX" */
  GPtrArray         *requestors;  /* char *: every "current-requestor" shown */
} Fixture;

static void
on_finished (KilnProviderAgent *agent,
             const char        *terms,
             const char        *reason,
             Fixture           *fixture)
{
  g_ptr_array_add (fixture->finished, g_strdup_printf ("%s %s", terms,
                                                       reason != NULL ? reason : "done"));
}

static void
on_earned (KilnProviderAgent *agent,
           const char        *terms,
           const char        *amount,
           Fixture           *fixture)
{
  g_ptr_array_add (fixture->earned, g_strdup_printf ("%s %s", terms, amount));
}

static void
on_paid (KilnProviderAgent *agent,
         const char        *terms,
         const char        *tx_hash,
         Fixture           *fixture)
{
  g_ptr_array_add (fixture->paid, g_strdup_printf ("%s %s", terms, tx_hash));
}

static void
on_current_requestor (KilnProviderAgent *agent,
                      GParamSpec        *pspec,
                      Fixture           *fixture)
{
  const char *requestor = kiln_provider_agent_get_current_requestor (agent);

  if (requestor != NULL)
    g_ptr_array_add (fixture->requestors, g_strdup (requestor));
}

static gboolean
monitor_is_idle (gpointer data)
{
  return kiln_idle_monitor_get_idle (data);
}

static gboolean
monitor_is_busy (gpointer data)
{
  return !kiln_idle_monitor_get_idle (data);
}

static void
add_scene (Fixture *fixture)
{
  g_autofree char *scene = kiln_test_render_scene (&render, "anim.blend");
  g_autoptr(GFile) file = g_file_new_for_path (scene);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf buf;

  kiln_content_store_add_file_async (kiln_engine_get_content_store (fixture->requestor->engine),
                                     file, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  fixture->blend_hex = kiln_content_store_add_file_finish (
      kiln_engine_get_content_store (fixture->requestor->engine), result, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_content_hash_from_hex (fixture->blend_hex, fixture->blend_sha));
  g_assert_cmpint (g_stat (scene, &buf), ==, 0);
  fixture->blend_size = (guint64) buf.st_size;
}

static void
fixture_set_up (Fixture       *fixture,
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
  kiln_lending_policy_set_enabled (fixture->policy, TRUE);
  fixture->monitor = g_object_new (KILN_TYPE_IDLE_MONITOR,
                                   "policy", fixture->policy,
                                   "session-bus", session,
                                   "system-bus", system,
                                   NULL);
  fixture->provider = kiln_provider_new (fixture->policy, fixture->monitor);
  kiln_test_wait_until (monitor_is_idle, fixture->monitor);

  fixture->requestor = node_new ();
  fixture->lender = node_new ();
  kiln_test_engine_link (fixture->requestor, fixture->lender);
  add_scene (fixture);

  fixture->work_dir = kiln_test_render_new_dir (&render, "work");
  fixture->agent = kiln_provider_agent_new (fixture->lender->engine, fixture->provider,
                                            render.blender, fixture->work_dir);
  /* Normal priority: the machine running the tests is busy with other work. */
  kiln_provider_agent_set_idle_priority (fixture->agent, FALSE);
  fixture->finished = g_ptr_array_new_with_free_func (g_free);
  fixture->earned = g_ptr_array_new_with_free_func (g_free);
  fixture->paid = g_ptr_array_new_with_free_func (g_free);
  fixture->requestors = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (fixture->agent, "finished", G_CALLBACK (on_finished), fixture);
  g_signal_connect (fixture->agent, "earned", G_CALLBACK (on_earned), fixture);
  g_signal_connect (fixture->agent, "paid", G_CALLBACK (on_paid), fixture);
  g_signal_connect (fixture->agent, "notify::current-requestor",
                    G_CALLBACK (on_current_requestor), fixture);
  g_assert_true (kiln_provider_agent_start (fixture->agent, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_provider_agent_get_running (fixture->agent));
}

static gboolean
work_dir_empty (gpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (data, 0, NULL);

  return dir != NULL && g_dir_read_name (dir) == NULL;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  kiln_provider_agent_stop (fixture->agent);
  g_assert_false (kiln_provider_agent_get_running (fixture->agent));
  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->agent));
  /* Every assignment's folder goes once it ends. */
  kiln_test_wait_until (work_dir_empty, fixture->work_dir);
  kiln_test_assert_no_processes (fixture->work_dir);

  kiln_test_engine_free (fixture->lender);
  kiln_test_engine_free (fixture->requestor);
  g_assert_finalize_object (fixture->provider);
  g_assert_finalize_object (fixture->monitor);
  g_assert_finalize_object (fixture->policy);
  fake_services_free (fixture->services);
  g_free (fixture->work_dir);
  g_free (fixture->blend_hex);
  g_ptr_array_unref (fixture->finished);
  g_ptr_array_unref (fixture->earned);
  g_ptr_array_unref (fixture->paid);
  g_ptr_array_unref (fixture->requestors);
}

/* The requestor's side -------------------------------------------------------------------- */

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static KilnUint256
gnt_fraction (guint64 numerator,
              guint64 denominator)
{
  KilnUint256 value;

  kiln_uint256_from_uint64 (&value, GNT / denominator * numerator);
  return value;
}

/* A task of @n_subtasks subtasks of one core for @timeout seconds at most @max_price, with
 * the scene as its one file, signed by the requestor. */
static KilnTaskAnnouncement *
make_announcement (Fixture           *fixture,
                   const KilnUint256 *max_price,
                   guint              n_subtasks,
                   guint              timeout)
{
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_task_announcement_new ();
  g_autoptr(GError) error = NULL;
  KilnUint256 max_total = gnt_fraction (100, 1);
  KilnAddress token;
  guint major, minor, patch;
  gint64 now = now_s ();

  memset (token.bytes, 0x70, sizeof token.bytes);
  kiln_blender_get_version_numbers (render.blender, &major, &minor, &patch);
  kiln_task_announcement_set_payment (announcement, 1337, &token);
  kiln_task_announcement_set_times (announcement, now, now + 600, now + 3600);
  kiln_task_announcement_set_blender_version (announcement, major, minor);
  kiln_task_announcement_set_engine (announcement, "CYCLES");
  kiln_task_announcement_set_hardware (announcement, 1, 512, 0);
  kiln_task_announcement_set_subtasks (announcement, n_subtasks, timeout);
  kiln_task_announcement_set_max_price (announcement, max_price);
  kiln_task_announcement_set_max_total (announcement, &max_total);
  kiln_task_announcement_add_resource (announcement, fixture->blend_sha);
  g_assert_true (kiln_task_announcement_sign (announcement, fixture->requestor->key, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&announcement);
}

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = kiln_engine_send_message_finish (KILN_ENGINE (object), result, &error);
  g_assert_no_error (error);
  g_atomic_int_set ((int *) user_data, 1);
}

static void
on_broadcast (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = kiln_engine_broadcast_message_finish (KILN_ENGINE (object), result, &error);
  g_assert_no_error (error);
  g_atomic_int_set ((int *) user_data, 1);
}

/* The requestor sends @body to the provider and waits until it is written. */
static void
send_to_provider (Fixture         *fixture,
                  KilnMessageType  type,
                  GBytes          *body)
{
  int sent = 0;

  kiln_engine_send_message_async (fixture->requestor->engine,
                                  kiln_test_engine_address (fixture->lender),
                                  type, body, NULL, on_sent, &sent);
  kiln_test_wait_until (kiln_test_flag_set, &sent);
}

static void
announce (Fixture              *fixture,
          KilnTaskAnnouncement *announcement)
{
  int sent = 0;

  kiln_engine_broadcast_message_async (fixture->requestor->engine, KILN_MESSAGE_TASK_ANNOUNCE,
                                       kiln_task_announcement_get_bytes (announcement), NULL,
                                       on_broadcast, &sent);
  kiln_test_wait_until (kiln_test_flag_set, &sent);
}

static guint
count_received (KilnTestEngine            *node,
                KilnMessageType  type)
{
  guint n = 0;

  for (guint i = 0; i < node->received->len; i++)
    n += kiln_message_get_message_type (g_ptr_array_index (node->received, i)) == type;
  return n;
}

typedef struct
{
  KilnTestEngine            *node;
  KilnMessageType  type;
  guint            n;
} MessageWait;

static gboolean
has_received (gpointer data)
{
  MessageWait *wait = data;

  return count_received (wait->node, wait->type) >= wait->n;
}

/* The @index-th message of @type the requestor received, waiting for it. */
static KilnMessage *
wait_message (Fixture         *fixture,
              KilnMessageType  type,
              guint            index)
{
  MessageWait wait = { fixture->requestor, type, index + 1 };
  KilnTestEngine *node = fixture->requestor;

  kiln_test_wait_until (has_received, &wait);
  for (guint i = 0; i < node->received->len; i++)
    {
      KilnMessage *message = g_ptr_array_index (node->received, i);

      if (kiln_message_get_message_type (message) == type && index-- == 0)
        {
          g_assert_true (kiln_address_equal (kiln_message_get_author (message),
                                             kiln_test_engine_address (fixture->lender)));
          return message;
        }
    }
  g_assert_not_reached ();
  return NULL;
}

static KilnOffer *
wait_offer (Fixture *fixture,
            guint    index)
{
  KilnMessage *message = wait_message (fixture, KILN_MESSAGE_OFFER, index);
  g_autoptr(GError) error = NULL;
  KilnOffer *offer;

  offer = kiln_market_offer_body_decode (kiln_message_get_body (message), now_s (), &error);
  g_assert_no_error (error);
  return offer;
}

static KilnSubtask *
make_subtask (guint index,
              guint samples)
{
  KilnSubtask *subtask = kiln_subtask_new ();

  subtask->index = index;
  subtask->frame_start = 2;
  subtask->frame_end = 2;
  subtask->frame_step = 1;
  subtask->width = 160;
  subtask->height = 120;
  subtask->samples = samples;
  subtask->format = KILN_IMAGE_FORMAT_PNG;
  return subtask;
}

/* Terms for subtask @index on @offer, sent in an ASSIGN due at @deadline. */
static KilnTerms *
assign (Fixture              *fixture,
        KilnTaskAnnouncement *announcement,
        KilnOffer            *offer,
        guint                 index,
        guint                 samples,
        gint64                deadline)
{
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(KilnSubtask) subtask = make_subtask (index, samples);
  g_autoptr(KilnAssignBody) body = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  terms = kiln_terms_propose (announcement, offer, &index, 1, NULL, fixture->requestor->key,
                              now_s (), 300, &error);
  g_assert_no_error (error);
  body = kiln_assign_body_new (terms, subtask, deadline);
  kiln_assign_body_add_resource (body, "scene.blend", fixture->blend_sha, fixture->blend_size);
  bytes = kiln_assign_body_encode (body, &error);
  g_assert_no_error (error);
  send_to_provider (fixture, KILN_MESSAGE_ASSIGN, bytes);
  return g_steal_pointer (&terms);
}

static char *
terms_hex (KilnTerms *terms)
{
  return kiln_market_id_to_hex (kiln_terms_get_digest (terms));
}

/* The requestor withdraws @terms (CANCEL with @reason). */
static void
withdraw (Fixture    *fixture,
          KilnTerms  *terms,
          const char *reason)
{
  g_autoptr(KilnCancelBody) cancel = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  cancel = kiln_cancel_body_new (KILN_CANCEL_TERMS, kiln_terms_get_digest (terms), reason);
  body = kiln_cancel_body_encode (cancel, &error);
  g_assert_no_error (error);
  send_to_provider (fixture, KILN_MESSAGE_CANCEL, body);
}

/* The accepted terms of the @index-th ACCEPT, checked against @terms. */
static void
expect_accept (Fixture   *fixture,
               KilnTerms *terms,
               guint      index)
{
  KilnMessage *message = wait_message (fixture, KILN_MESSAGE_ACCEPT, index);
  g_autoptr(KilnTerms) accepted = NULL;
  g_autoptr(GError) error = NULL;

  accepted = kiln_market_accept_body_decode (kiln_message_get_body (message), &error);
  g_assert_no_error (error);
  g_assert_true (kiln_terms_is_accepted (accepted));
  g_assert_cmpmem (kiln_terms_get_digest (accepted), KILN_MARKET_DIGEST_SIZE,
                   kiln_terms_get_digest (terms), KILN_MARKET_DIGEST_SIZE);
  g_assert_true (kiln_address_equal (kiln_terms_get_provider (accepted),
                                     kiln_test_engine_address (fixture->lender)));
}

static KilnRejectBody *
expect_reject (Fixture *fixture,
               guint    index)
{
  KilnMessage *message = wait_message (fixture, KILN_MESSAGE_REJECT, index);
  g_autoptr(GError) error = NULL;
  KilnRejectBody *reject;

  reject = kiln_reject_body_decode (kiln_message_get_body (message), &error);
  g_assert_no_error (error);
  g_test_message ("REJECT %s: %s", reject->reason, reject->text);
  return reject;
}

/* Fetches @file from the provider into the requestor's content store. */
static char *
fetch_output (Fixture              *fixture,
              const KilnMarketFile *file)
{
  KilnEnginePeer *peer = kiln_engine_lookup_peer (fixture->requestor->engine,
                                                  kiln_test_engine_address (fixture->lender));
  g_autofree char *hash = kiln_content_hash_to_hex (file->sha256);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *path;

  kiln_transfer_fetch_async (kiln_engine_get_transfer (fixture->requestor->engine),
                             kiln_engine_peer_get_link (peer), hash, file->size, NULL, NULL,
                             NULL, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  path = kiln_transfer_fetch_finish (kiln_engine_get_transfer (fixture->requestor->engine),
                                     result, &error);
  g_assert_no_error (error);
  return path;
}

typedef struct
{
  GPtrArray  *list;
  guint       n;
} CountWait;

static gboolean
has_count (gpointer data)
{
  CountWait *wait = data;

  return wait->list->len >= wait->n;
}

static void
wait_count (GPtrArray *list,
            guint      n)
{
  CountWait wait = { list, n };

  kiln_test_wait_until (has_count, &wait);
}

/* Tests ----------------------------------------------------------------------------------- */

/* The whole way: announce, offer, assign, accept, render, result, approval, payment. */
static void
test_render (Fixture       *fixture,
             gconstpointer  user_data)
{
  KilnUint256 max_price = gnt_fraction (1, 1);
  KilnUint256 min_price;
  KilnUint256 price;
  g_autoptr(KilnTaskAnnouncement) announcement = make_announcement (fixture, &max_price, 4, 120);
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(KilnResultBody) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *path = NULL;
  g_autoptr(KilnImage) image = NULL;
  g_autoptr(GPtrArray) earnings = NULL;
  const KilnMarketFile *output;
  KilnMessage *message;
  gint64 start = g_get_monotonic_time ();

  announce (fixture, announcement);
  offer = wait_offer (fixture, 0);
  g_assert_true (kiln_address_equal (kiln_offer_get_provider (offer),
                                     kiln_test_engine_address (fixture->lender)));
  g_assert_cmpmem (kiln_offer_get_announcement (offer), KILN_MARKET_DIGEST_SIZE,
                   kiln_task_announcement_get_digest (announcement), KILN_MARKET_DIGEST_SIZE);
  /* It asks the policy's minimum price. */
  kiln_offer_get_price (offer, &price);
  kiln_lending_policy_get_min_price_units (fixture->policy, &min_price);
  g_assert_cmpint (kiln_uint256_compare (&price, &min_price), ==, 0);
  g_assert_cmpuint (kiln_offer_get_benchmark (offer), >, 0);

  /* The same announcement again, while the provider could take work: the offer stands, and
   * comes again byte for byte (in case it was lost on the way), never a second one. */
  announce (fixture, announcement);
  {
    KilnMessage *again = wait_message (fixture, KILN_MESSAGE_OFFER, 1);

    g_assert_true (g_bytes_equal (kiln_message_get_body (again), kiln_offer_get_bytes (offer)));
  }

  terms = assign (fixture, announcement, offer, 1, 8, now_s () + 600);
  id = terms_hex (terms);
  expect_accept (fixture, terms, 0);
  g_assert_cmpuint (count_received (fixture->requestor, KILN_MESSAGE_OFFER), ==, 2);

  message = wait_message (fixture, KILN_MESSAGE_RESULT, 0);
  g_test_message ("RESULT %.1f s after the announcement",
                  (g_get_monotonic_time () - start) / 1e6);
  result = kiln_result_body_decode (kiln_message_get_body (message), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (result->terms, KILN_MARKET_DIGEST_SIZE, kiln_terms_get_digest (terms),
                   KILN_MARKET_DIGEST_SIZE);
  g_assert_cmpuint (result->outputs->len, ==, 1);
  g_assert_cmpuint (result->wall_ms, >, 0);
  g_assert_cmpuint (result->wall_ms, <, 120 * 1000);
  g_test_message ("cpu %" G_GUINT64_FORMAT " ms, wall %" G_GUINT64_FORMAT " ms",
                  result->cpu_ms, result->wall_ms);
  g_assert_cmpuint (result->cpu_ms, >, 0);
  output = g_ptr_array_index (result->outputs, 0);
  g_assert_cmpstr (output->name, ==, "frame_0002.png");

  /* The requestor fetches the image by hash: a whole PNG of the frame's size. */
  path = fetch_output (fixture, output);
  image = kiln_image_load_png (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_image_get_width (image), ==, 160);
  g_assert_cmpuint (kiln_image_get_height (image), ==, 120);

  wait_count (fixture->finished, 1);
  expected = g_strdup_printf ("%s done", id);
  g_assert_cmpstr (g_ptr_array_index (fixture->finished, 0), ==, expected);
  g_assert_cmpuint (kiln_provider_agent_get_n_done (fixture->agent), ==, 1);
  g_assert_cmpuint (kiln_provider_agent_get_n_running (fixture->agent), ==, 0);
  g_assert_null (kiln_provider_agent_get_current_requestor (fixture->agent));
  g_assert_cmpuint (fixture->requestors->len, >=, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->requestors, 0), ==,
                   kiln_key_get_address_string (fixture->requestor->key));
  g_assert_null (kiln_provider_agent_lookup_run (fixture->agent, id));

  /* Approval: what is owed is recorded. An approval above the maximum is not. */
  {
    KilnApproveBody approve;
    g_autoptr(GBytes) body = NULL;
    char amount[KILN_UINT256_DECIMAL_SIZE];
    g_autofree char *earned = NULL;

    memcpy (approve.terms, kiln_terms_get_digest (terms), sizeof approve.terms);
    kiln_terms_get_max_payment (terms, &approve.amount);
    g_assert_true (kiln_uint256_add (&approve.amount, &approve.amount,
                                     &(KilnUint256) KILN_UINT256_INIT (1)));
    body = kiln_approve_body_encode (&approve, &error);
    g_assert_no_error (error);
    send_to_provider (fixture, KILN_MESSAGE_APPROVE, body);
    g_clear_pointer (&body, g_bytes_unref);

    kiln_terms_compute_payment (terms, 10, &approve.amount);
    body = kiln_approve_body_encode (&approve, &error);
    g_assert_no_error (error);
    send_to_provider (fixture, KILN_MESSAGE_APPROVE, body);
    wait_count (fixture->earned, 1);
    kiln_uint256_format_decimal (&approve.amount, amount);
    earned = g_strdup_printf ("%s %s", id, amount);
    g_assert_cmpstr (g_ptr_array_index (fixture->earned, 0), ==, earned);
  }
  {
    g_autoptr(KilnPaymentBody) payment = NULL;
    g_autoptr(GBytes) body = NULL;
    KilnUint256 amount;
    guint8 tx[32];
    g_autofree char *tx_hex = NULL;
    g_autofree char *paid = NULL;

    memset (tx, 0xee, sizeof tx);
    kiln_terms_compute_payment (terms, 10, &amount);
    payment = kiln_payment_body_new (tx, &amount);
    kiln_payment_body_add_terms (payment, kiln_terms_get_digest (terms));
    body = kiln_payment_body_encode (payment, &error);
    g_assert_no_error (error);
    send_to_provider (fixture, KILN_MESSAGE_PAYMENT, body);
    wait_count (fixture->paid, 1);
    tx_hex = kiln_market_id_to_hex (tx);
    paid = g_strdup_printf ("%s %s", id, tx_hex);
    g_assert_cmpstr (g_ptr_array_index (fixture->paid, 0), ==, paid);
  }
  g_assert_cmpuint (fixture->earned->len, ==, 1);
  earnings = kiln_provider_agent_dup_earnings (fixture->agent);
  g_assert_cmpuint (earnings->len, ==, 1);
  {
    KilnEarning *earning = g_ptr_array_index (earnings, 0);
    KilnUint256 amount;

    kiln_terms_compute_payment (terms, 10, &amount);
    g_assert_true (earning->paid);
    g_assert_cmpint (kiln_uint256_compare (&earning->amount, &amount), ==, 0);
    g_assert_true (kiln_address_equal (&earning->requestor,
                                       kiln_test_engine_address (fixture->requestor)));
  }
}

/* A task paying less than the policy's minimum price gets no offer; one paying enough does. */
static void
test_no_offer (Fixture       *fixture,
               gconstpointer  user_data)
{
  KilnUint256 low = gnt_fraction (1, 4);
  KilnUint256 high = gnt_fraction (1, 1);
  g_autoptr(KilnTaskAnnouncement) cheap = make_announcement (fixture, &low, 1, 60);
  g_autoptr(KilnTaskAnnouncement) fair = make_announcement (fixture, &high, 1, 60);
  g_autoptr(KilnOffer) offer = NULL;

  /* Messages on a link are handled in order: once the fair task's offer is here, the cheap
   * one was decided on before it. */
  announce (fixture, cheap);
  announce (fixture, fair);
  offer = wait_offer (fixture, 0);
  g_assert_cmpmem (kiln_offer_get_task_id (offer), KILN_MARKET_ID_SIZE,
                   kiln_task_announcement_get_task_id (fair), KILN_MARKET_ID_SIZE);
  g_assert_cmpuint (count_received (fixture->requestor, KILN_MESSAGE_OFFER), ==, 1);

  /* While the computer is in use there are no offers either. A malformed ASSIGN marks when
   * the announcement before it was handled (its REJECT comes after). */
  {
    g_autoptr(KilnTaskAnnouncement) busy = make_announcement (fixture, &high, 1, 60);
    g_autoptr(KilnTaskAnnouncement) idle = make_announcement (fixture, &high, 1, 60);
    g_autoptr(GBytes) junk = g_bytes_new_static ("{}", 2);
    g_autoptr(KilnRejectBody) reject = NULL;
    g_autoptr(KilnOffer) idle_offer = NULL;

    fake_mutter_user_active (fixture->services);
    kiln_test_wait_until (monitor_is_busy, fixture->monitor);
    announce (fixture, busy);
    send_to_provider (fixture, KILN_MESSAGE_ASSIGN, junk);
    reject = expect_reject (fixture, 0);
    g_assert_cmpstr (reject->reason, ==, KILN_MARKET_REASON_MALFORMED);

    fake_mutter_set_idletime (fixture->services, 10 * 60 * 1000);
    kiln_test_wait_until (monitor_is_idle, fixture->monitor);
    announce (fixture, idle);
    idle_offer = wait_offer (fixture, 1);
    g_assert_cmpmem (kiln_offer_get_task_id (idle_offer), KILN_MARKET_ID_SIZE,
                     kiln_task_announcement_get_task_id (idle), KILN_MARKET_ID_SIZE);
    g_assert_cmpuint (count_received (fixture->requestor, KILN_MESSAGE_OFFER), ==, 2);
  }
}

/* An offer like @model for @announcement at @price, signed with the provider's key, but not
 * made by its agent. */
static KilnOffer *
forge_offer (Fixture              *fixture,
             KilnTaskAnnouncement *announcement,
             KilnOffer            *model,
             const KilnUint256    *price)
{
  g_autoptr(KilnOffer) offer = kiln_offer_new (announcement);
  g_autoptr(GError) error = NULL;

  kiln_offer_set_price (offer, price);
  kiln_offer_set_cores (offer, kiln_offer_get_cores (model));
  kiln_offer_set_benchmark (offer, kiln_offer_get_benchmark (model));
  kiln_offer_set_times (offer, now_s (), now_s () + 600);
  g_assert_true (kiln_offer_sign (offer, fixture->lender->key, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&offer);
}

/* Terms that do not match the offer, and terms on a task never offered on, are refused. */
static void
test_reject (Fixture       *fixture,
             gconstpointer  user_data)
{
  KilnUint256 max_price = gnt_fraction (1, 1);
  KilnUint256 dearer = gnt_fraction (3, 4);
  g_autoptr(KilnTaskAnnouncement) announcement = make_announcement (fixture, &max_price, 4, 60);
  g_autoptr(KilnTaskAnnouncement) other = make_announcement (fixture, &max_price, 4, 60);
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(KilnOffer) forged = NULL;
  g_autoptr(KilnOffer) other_offer = NULL;
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(KilnTerms) other_terms = NULL;
  KilnUint256 price;
  g_autoptr(KilnRejectBody) reject = NULL;
  g_autoptr(GError) error = NULL;

  announce (fixture, announcement);
  offer = wait_offer (fixture, 0);
  kiln_offer_get_price (offer, &price);

  /* Terms at a higher price than the offer asked (on an offer the provider never made,
   * signed with its key: the agent holds to its own offer). */
  forged = forge_offer (fixture, announcement, offer, &dearer);
  terms = assign (fixture, announcement, forged, 0, 8, now_s () + 600);
  reject = expect_reject (fixture, 0);
  g_assert_cmpstr (reject->reason, ==, KILN_MARKET_REASON_MISMATCH);
  g_assert_cmpmem (reject->ref, KILN_MARKET_ID_SIZE, kiln_terms_get_digest (terms),
                   KILN_MARKET_DIGEST_SIZE);
  g_clear_pointer (&reject, kiln_reject_body_free);

  /* A task the provider never saw. */
  other_offer = forge_offer (fixture, other, offer, &price);
  other_terms = assign (fixture, other, other_offer, 0, 8, now_s () + 600);
  reject = expect_reject (fixture, 1);
  g_assert_cmpstr (reject->reason, ==, KILN_MARKET_REASON_NO_OFFER);
  g_clear_pointer (&reject, kiln_reject_body_free);

  /* A body that does not decode: refused naming the message. */
  {
    g_autoptr(GBytes) junk = g_bytes_new_static ("{\"terms\": 1}", 12);

    send_to_provider (fixture, KILN_MESSAGE_ASSIGN, junk);
    reject = expect_reject (fixture, 2);
    g_assert_cmpstr (reject->reason, ==, KILN_MARKET_REASON_MALFORMED);
  }

  g_assert_cmpuint (count_received (fixture->requestor, KILN_MESSAGE_ACCEPT), ==, 0);
  g_assert_cmpuint (kiln_provider_agent_get_n_running (fixture->agent), ==, 0);
}

typedef struct
{
  Fixture    *fixture;
  const char *terms;
} RunWait;

static gboolean
run_has_progress (gpointer data)
{
  RunWait *wait = data;
  KilnRenderRun *run = kiln_provider_agent_lookup_run (wait->fixture->agent, wait->terms);

  return run != NULL &&
         kiln_blender_output_get_sample (kiln_render_run_get_output (run)) > 0;
}

static gboolean
run_paused (gpointer data)
{
  RunWait *wait = data;
  KilnRenderRun *run = kiln_provider_agent_lookup_run (wait->fixture->agent, wait->terms);

  return run != NULL && kiln_provider_is_run_paused (wait->fixture->provider, run);
}

static gboolean
run_running (gpointer data)
{
  return !run_paused (data);
}

/* Activity pauses the render, idleness resumes it; the requestor's CANCEL stops it. */
static void
test_pause_cancel (Fixture       *fixture,
                   gconstpointer  user_data)
{
  KilnUint256 max_price = gnt_fraction (1, 1);
  g_autoptr(KilnTaskAnnouncement) announcement = make_announcement (fixture, &max_price, 4, 120);
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(KilnTerms) terms = NULL;
  g_autofree char *id = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *assignment_dir = NULL;
  RunWait wait = { fixture, NULL };

  announce (fixture, announcement);
  offer = wait_offer (fixture, 0);
  /* Far more samples than the test lasts. */
  terms = assign (fixture, announcement, offer, 0, 1 << 20, now_s () + 600);
  id = terms_hex (terms);
  wait.terms = id;
  expect_accept (fixture, terms, 0);
  kiln_test_wait_until (run_has_progress, &wait);
  g_assert_cmpstr (kiln_provider_agent_get_current_frames (fixture->agent), ==, "2");
  g_assert_cmpstr (kiln_provider_agent_get_current_requestor (fixture->agent), ==,
                   kiln_key_get_address_string (fixture->requestor->key));

  for (guint round = 0; round < 2; round++)
    {
      fake_mutter_user_active (fixture->services);
      kiln_test_wait_until (run_paused, &wait);
      g_assert_cmpint (kiln_provider_get_state (fixture->provider), ==,
                       KILN_PROVIDER_STATE_PAUSED);
      fake_mutter_set_idletime (fixture->services, 10 * 60 * 1000);
      kiln_test_wait_until (run_running, &wait);
    }

  /* The requestor withdraws the assignment: the sandbox goes, without an answer. */
  assignment_dir = g_build_filename (fixture->work_dir, id, NULL);
  withdraw (fixture, terms, "The job was stopped.");
  wait_count (fixture->finished, 1);
  expected = g_strdup_printf ("%s %s", id, KILN_MARKET_REASON_CANCELLED);
  g_assert_cmpstr (g_ptr_array_index (fixture->finished, 0), ==, expected);
  g_assert_null (kiln_provider_agent_lookup_run (fixture->agent, id));
  g_assert_cmpuint (kiln_provider_get_n_runs (fixture->provider), ==, 0);
  kiln_test_assert_no_processes (assignment_dir);
  g_assert_cmpuint (kiln_provider_agent_get_n_done (fixture->agent), ==, 0);
  g_assert_cmpuint (count_received (fixture->requestor, KILN_MESSAGE_RESULT), ==, 0);
  g_assert_cmpuint (count_received (fixture->requestor, KILN_MESSAGE_REJECT), ==, 0);
}

/* Paused past its deadline, the work is handed back with a CANCEL for its terms. */
static void
test_hand_back (Fixture       *fixture,
                gconstpointer  user_data)
{
  KilnUint256 max_price = gnt_fraction (1, 1);
  g_autoptr(KilnTaskAnnouncement) announcement = make_announcement (fixture, &max_price, 4, 120);
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(KilnCancelBody) cancel = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  RunWait wait = { fixture, NULL };
  KilnMessage *message;

  announce (fixture, announcement);
  offer = wait_offer (fixture, 0);
  /* Due in 15 s: time enough to start rendering on a busy machine. */
  terms = assign (fixture, announcement, offer, 0, 1 << 20, now_s () + 15);
  id = terms_hex (terms);
  wait.terms = id;
  expect_accept (fixture, terms, 0);
  kiln_test_wait_until (run_has_progress, &wait);
  fake_mutter_user_active (fixture->services);
  kiln_test_wait_until (run_paused, &wait);

  message = wait_message (fixture, KILN_MESSAGE_CANCEL, 0);
  cancel = kiln_cancel_body_decode (kiln_message_get_body (message), &error);
  g_assert_no_error (error);
  g_assert_cmpint (cancel->scope, ==, KILN_CANCEL_TERMS);
  g_assert_cmpmem (cancel->id, KILN_MARKET_ID_SIZE, kiln_terms_get_digest (terms),
                   KILN_MARKET_DIGEST_SIZE);
  wait_count (fixture->finished, 1);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (fixture->finished, 0),
                                   KILN_MARKET_REASON_DEADLINE));
  g_assert_cmpuint (count_received (fixture->requestor, KILN_MESSAGE_RESULT), ==, 0);
}

/* With its one lent core taken, the provider refuses terms that need another (busy) and
 * makes no offer on a task announced meanwhile, however often; once the core is free it
 * offers on both tasks by itself, without being asked again. */
static void
test_offer_when_free (Fixture       *fixture,
                      gconstpointer  user_data)
{
  KilnUint256 max_price = gnt_fraction (1, 1);
  g_autoptr(KilnTaskAnnouncement) first = make_announcement (fixture, &max_price, 4, 120);
  g_autoptr(KilnTaskAnnouncement) second = make_announcement (fixture, &max_price, 4, 120);
  g_autoptr(KilnTaskAnnouncement) third = make_announcement (fixture, &max_price, 4, 120);
  g_autoptr(KilnOffer) first_offer = NULL;
  g_autoptr(KilnOffer) second_offer = NULL;
  g_autoptr(KilnOffer) later_a = NULL;
  g_autoptr(KilnOffer) later_b = NULL;
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(KilnTerms) refused = NULL;
  g_autoptr(KilnRejectBody) reject = NULL;
  g_autoptr(GBytes) junk = g_bytes_new_static ("{}", 2);
  const guint8 *a, *b;

  kiln_lending_policy_set_cores (fixture->policy, 1);
  announce (fixture, first);
  first_offer = wait_offer (fixture, 0);
  announce (fixture, second);
  second_offer = wait_offer (fixture, 1);
  g_assert_cmpuint (kiln_offer_get_max_concurrent (first_offer), ==, 1);

  /* The first task takes the core; terms on the second find none free. */
  terms = assign (fixture, first, first_offer, 0, 1 << 20, now_s () + 600);
  expect_accept (fixture, terms, 0);
  refused = assign (fixture, second, second_offer, 0, 8, now_s () + 600);
  reject = expect_reject (fixture, 0);
  g_assert_cmpstr (reject->reason, ==, KILN_MARKET_REASON_BUSY);
  g_assert_cmpmem (reject->ref, KILN_MARKET_ID_SIZE, kiln_terms_get_digest (refused),
                   KILN_MARKET_DIGEST_SIZE);
  g_clear_pointer (&reject, kiln_reject_body_free);

  /* A third task, announced twice while the core is taken: no offer. A malformed ASSIGN
   * marks when the announcements before it were handled. */
  announce (fixture, third);
  announce (fixture, third);
  send_to_provider (fixture, KILN_MESSAGE_ASSIGN, junk);
  reject = expect_reject (fixture, 1);
  g_assert_cmpstr (reject->reason, ==, KILN_MARKET_REASON_MALFORMED);
  g_assert_cmpuint (count_received (fixture->requestor, KILN_MESSAGE_OFFER), ==, 2);
  g_assert_cmpuint (kiln_provider_agent_get_n_running (fixture->agent), ==, 1);

  /* The core comes free: offers on the second and third tasks follow by themselves. */
  withdraw (fixture, terms, KILN_MARKET_REASON_CANCELLED);
  later_a = wait_offer (fixture, 2);
  later_b = wait_offer (fixture, 3);
  a = kiln_offer_get_task_id (later_a);
  b = kiln_offer_get_task_id (later_b);
  g_assert_true (memcmp (a, b, KILN_MARKET_ID_SIZE) != 0);
  g_assert_true (memcmp (a, kiln_task_announcement_get_task_id (second), KILN_MARKET_ID_SIZE) ==
                 0 ||
                 memcmp (a, kiln_task_announcement_get_task_id (third), KILN_MARKET_ID_SIZE) ==
                 0);
  g_assert_true (memcmp (b, kiln_task_announcement_get_task_id (second), KILN_MARKET_ID_SIZE) ==
                 0 ||
                 memcmp (b, kiln_task_announcement_get_task_id (third), KILN_MARKET_ID_SIZE) ==
                 0);
  g_assert_cmpuint (kiln_offer_get_max_concurrent (later_a), ==, 1);
  g_assert_cmpuint (kiln_provider_agent_get_n_running (fixture->agent), ==, 0);

  /* Each once: nothing more comes before the next marker's answer. */
  send_to_provider (fixture, KILN_MESSAGE_ASSIGN, junk);
  g_clear_pointer (&reject, kiln_reject_body_free);
  reject = expect_reject (fixture, 2);
  g_assert_cmpuint (count_received (fixture->requestor, KILN_MESSAGE_OFFER), ==, 4);
}

/* Announcements published on the DHT topic get offers too. */
typedef struct
{
  KilnKey *key;
  GBytes  *payload;
  int      published;
} Publish;

static void
on_published (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Publish *publish = user_data;
  g_autoptr(GError) error = NULL;

  if (!kiln_dht_publish_finish (KILN_DHT (object), result, &error))
    {
      /* No DHT node known yet: again. */
      g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_FAILED);
      kiln_dht_publish_async (KILN_DHT (object), publish->key, KILN_MARKET_TASK_TOPIC,
                              publish->payload, 300, NULL, on_published, publish);
      return;
    }
  g_atomic_int_set (&publish->published, 1);
}

static void
test_dht_topic (Fixture       *fixture,
                gconstpointer  user_data)
{
  KilnUint256 max_price = gnt_fraction (1, 1);
  g_autoptr(KilnTaskAnnouncement) announcement = make_announcement (fixture, &max_price, 2, 60);
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *bootstrap = NULL;
  KilnDht *requestor_dht = kiln_engine_get_dht (fixture->requestor->engine);
  Publish publish = { fixture->requestor->key,
                      kiln_task_announcement_get_bytes (announcement), 0 };

  bootstrap = g_strdup_printf ("127.0.0.1:%u", kiln_dht_get_port (requestor_dht));
  g_assert_true (kiln_dht_bootstrap (kiln_engine_get_dht (fixture->lender->engine), bootstrap,
                                     &error));
  g_assert_no_error (error);
  kiln_dht_publish_async (requestor_dht, fixture->requestor->key, KILN_MARKET_TASK_TOPIC,
                          publish.payload, 300, NULL, on_published, &publish);
  offer = wait_offer (fixture, 0);
  g_assert_cmpmem (kiln_offer_get_task_id (offer), KILN_MARKET_ID_SIZE,
                   kiln_task_announcement_get_task_id (announcement), KILN_MARKET_ID_SIZE);
  kiln_test_wait_until (kiln_test_flag_set, &publish.published);
}

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

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GFile) cache = NULL;
  g_autofree char *cache_dir = NULL;
  int benchmarked = 0;
  int status;

  g_test_init (&argc, &argv, NULL);

  kiln_test_render_set_up (&render);
  cache_dir = kiln_test_render_new_dir (&render, "cache");
  cache = g_file_new_for_path (cache_dir);
  kiln_blender_benchmark_async (render.blender, cache, FALSE, NULL, on_benchmarked,
                                &benchmarked);
  while (!g_atomic_int_get (&benchmarked))
    g_main_context_iteration (NULL, TRUE);

  g_test_add ("/kiln/provider-agent/render", Fixture, NULL, fixture_set_up, test_render,
              fixture_tear_down);
  g_test_add ("/kiln/provider-agent/no-offer", Fixture, NULL, fixture_set_up, test_no_offer,
              fixture_tear_down);
  g_test_add ("/kiln/provider-agent/reject", Fixture, NULL, fixture_set_up, test_reject,
              fixture_tear_down);
  g_test_add ("/kiln/provider-agent/pause-cancel", Fixture, NULL, fixture_set_up,
              test_pause_cancel, fixture_tear_down);
  g_test_add ("/kiln/provider-agent/dht-topic", Fixture, NULL, fixture_set_up,
              test_dht_topic, fixture_tear_down);
  g_test_add ("/kiln/provider-agent/hand-back", Fixture, NULL, fixture_set_up, test_hand_back,
              fixture_tear_down);
  g_test_add ("/kiln/provider-agent/offer-when-free", Fixture, NULL, fixture_set_up,
              test_offer_when_free, fixture_tear_down);

  status = g_test_run ();
  kiln_test_render_tear_down (&render);
  return status;
}
