/* test-node-render.c: kiln-node render, the requestor as a program, against real providers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The requestor is the built kiln-node, run with --json against a real devnet (anvil, the
 * GNT test token, KilnBatchPay) with real Blender in bubblewrap; without --json, what it
 * prints is read as a person would. Providers are KilnProviderAgents over engines on
 * loopback in this process (one idle monitor on private buses, kept idle), except where one
 * must die: there they are `kiln-node run --lend` processes, and one is killed with SIGKILL
 * while its Blender renders. Nodes find each other only through --bootstrap on 127.0.0.1.
 * The nodes, the buses and the devnet started here end with this program, even when a test
 * fails half-way.
 *
 * Frames are compared value for value with a local render of the same scene: they are
 * pixel-identical. Whole frames are also the very file Blender wrote but for its text chunks:
 * Blender writes the date and the render times into every PNG it saves, so two renders of
 * the same pixels never are byte-identical as files; joined strips are PNGs Kiln writes
 * itself, so only their pixels are compared. What reached the chain is read back from the
 * token contract, never from Kiln's records, and must equal what each provider was told it
 * earned, to the base unit.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kiln-image.h"
#include "kiln-provider-agent.h"
#include "kiln-render-private.h"
#include "kiln-test-devnet.h"
#include "kiln-test-engine.h"
#include "kiln-test-idle.h"
#include "kiln-test-link.h"
#include "kiln-test-render.h"
#include "kiln-test-util.h"
#include "node-process.h"

/* Each wait fails the test after this long. */
#define WAIT_S      180
#define FUNDED_ETH  "10"
#define FUNDED_GNT  "1000"

static KilnTestRender render;

static struct
{
  char           *root;            /* a temporary folder with the password file */
  char           *password_file;
  char           *cache_dir;       /* $XDG_CACHE_HOME: the benchmark measured once */
  NodeProcess    *requestor;       /* the account kiln-node render uses */
  NodeProcess    *poor;            /* an account with GNT but no ETH for the fees */
  KilnTestDevnet *devnet;
  char            token[KILN_ADDRESS_STRING_SIZE];
  char           *scene;           /* anim.blend: 160×120, 8 samples, denoising asked for */
  char           *reference_dir;   /* frames 1-8 of it rendered here, whole */
  FakeServices   *services;        /* the desktop's idle services, kept idle */
  KilnProvider   *provider;        /* every provider in this process: one core each */
} shared;

/* Waiting ------------------------------------------------------------------------------- */

static gboolean
time_is_up (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

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

/* The chain, read back ------------------------------------------------------------------ */

static KilnUint256
gnt_balance (const char *address)
{
  g_autoptr(KilnRpcClient) client = NULL;
  g_autoptr(GBytes) call = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  KilnAddress owner;
  KilnUint256 value;
  const guint8 *data;
  gsize len;

  g_assert_true (kiln_address_parse (&owner, address, NULL));
  client = kiln_rpc_client_new (kiln_test_devnet_get_rpc_url (shared.devnet), &error);
  g_assert_no_error (error);
  call = kiln_abi_encode_balance_of (&owner);
  kiln_rpc_client_call_contract_async (client, NULL, kiln_test_devnet_get_token (shared.devnet),
                                       call, "latest", NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  answer = kiln_rpc_client_call_contract_finish (client, result, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (answer, &len);
  kiln_abi_decode_uint256 (data, len, &value, &error);
  g_assert_no_error (error);
  return value;
}

static char *
gnt_balance_string (const char *address)
{
  KilnUint256 value = gnt_balance (address);

  return kiln_uint256_to_string (&value);
}

/* How much @address gained since @before (base units, decimal). */
static char *
gnt_gained (const char *address,
            const char *before)
{
  KilnUint256 now = gnt_balance (address);
  KilnUint256 then;

  g_assert_true (kiln_uint256_parse (&then, before, NULL));
  g_assert_true (kiln_uint256_sub (&now, &now, &then));
  return kiln_uint256_to_string (&now);
}

/* kiln-node render ---------------------------------------------------------------------- */

typedef struct _Requestor Requestor;
typedef void (*RequestorEventFunc) (Requestor  *requestor,
                                    JsonObject *event,
                                    gpointer    data);

struct _Requestor
{
  GSubprocess        *process;
  GDataInputStream   *out;
  GPtrArray          *events;      /* JsonObject: every line of standard output */
  char               *err_path;
  char               *err;         /* standard error, once it exited */
  char               *output_dir;
  gboolean            eof;
  gboolean            exited;
  int                 status;
  gint64              started;     /* monotonic µs */
  double              seconds;     /* how long it ran */
  RequestorEventFunc  on_event;
  gpointer            data;
};

static void read_next_line (Requestor *requestor);

static void
on_line (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Requestor *requestor = user_data;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  JsonObject *event;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result, NULL,
                                                    &error);
  g_assert_no_error (error);
  if (line == NULL)
    {
      requestor->eof = TRUE;
      return;
    }

  /* With --json every line is one object, and nothing else is printed. */
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  event = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (event, "event"));
  g_ptr_array_add (requestor->events, json_object_ref (event));
  if (requestor->on_event != NULL)
    requestor->on_event (requestor, event, requestor->data);

  read_next_line (requestor);
}

static void
read_next_line (Requestor *requestor)
{
  g_data_input_stream_read_line_async (requestor->out, G_PRIORITY_DEFAULT, NULL, on_line,
                                       requestor);
}

static void
on_exited (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Requestor *requestor = user_data;

  g_assert_true (g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL));
  requestor->exited = TRUE;
}

/* `render SCENE [--json] …` as the funded account, with @args after; NULL-terminated. */
static GPtrArray *
requestor_args (const char         *scene,
                const char         *data_dir,
                gboolean            json,
                const char * const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup ("render"));
  g_ptr_array_add (argv, g_strdup (scene));
  if (json)
    g_ptr_array_add (argv, g_strdup ("--json"));
  g_ptr_array_add (argv, g_strdup ("--data-dir"));
  g_ptr_array_add (argv, g_strdup (data_dir));
  if (shared.devnet != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--password-file"));
      g_ptr_array_add (argv, g_strdup (shared.password_file));
      g_ptr_array_add (argv, g_strdup ("--rpc"));
      g_ptr_array_add (argv, g_strdup (kiln_test_devnet_get_rpc_url (shared.devnet)));
      g_ptr_array_add (argv, g_strdup ("--token"));
      g_ptr_array_add (argv, g_strdup (shared.token));
    }
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup ("127.0.0.1:0"));
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* Starts `kiln-node render SCENE --json …` as the funded account, with @args after. */
static Requestor *
requestor_start_full (const char         *scene,
                      const char         *data_dir,
                      const char * const *args,
                      RequestorEventFunc  on_event,
                      gpointer            data)
{
  Requestor *requestor = g_new0 (Requestor, 1);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = requestor_args (scene, data_dir, TRUE, args);
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;

  g_ptr_array_insert (argv, 0, g_strdup (g_getenv ("KILN_NODE")));
  command = g_strjoinv (" ", (char **) argv->pdata);

  g_test_message ("running %s", command);

  requestor->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  requestor->on_event = on_event;
  requestor->data = data;
  requestor->err_path = g_build_filename (shared.root, "render.err", NULL);
  launcher = kiln_test_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                     G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_stderr_file_path (launcher, requestor->err_path);
  requestor->started = g_get_monotonic_time ();
  requestor->process = g_subprocess_launcher_spawnv (launcher,
                                                     (const char * const *) argv->pdata,
                                                     &error);
  g_assert_no_error (error);
  requestor->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (requestor->process));
  read_next_line (requestor);
  g_subprocess_wait_async (requestor->process, NULL, on_exited, requestor);
  return requestor;
}

static gboolean
requestor_ended (gpointer data)
{
  Requestor *requestor = data;

  return requestor->eof && requestor->exited;
}

/* Waits for the program to exit; its standard error then holds at most one line. */
static void
requestor_wait (Requestor *requestor)
{
  g_autoptr(GError) error = NULL;

  wait_for (requestor_ended, requestor, "kiln-node render to exit");
  requestor->seconds = (g_get_monotonic_time () - requestor->started) / (double) G_USEC_PER_SEC;
  g_assert_true (g_subprocess_get_if_exited (requestor->process));
  requestor->status = g_subprocess_get_exit_status (requestor->process);
  g_file_get_contents (requestor->err_path, &requestor->err, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < requestor->events->len; i++)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (),
                                                        g_ptr_array_index (requestor->events,
                                                                           i));
      g_autofree char *text = json_to_string (node, FALSE);

      g_test_message ("render: %s", text);
    }
  g_test_message ("exit status %d after %.1f s, %u lines; stderr: %s", requestor->status,
                  requestor->seconds, requestor->events->len, requestor->err);
}

static void
requestor_free (Requestor *requestor)
{
  g_clear_object (&requestor->out);
  g_clear_object (&requestor->process);
  g_ptr_array_unref (requestor->events);
  g_unlink (requestor->err_path);
  g_free (requestor->err_path);
  g_free (requestor->err);
  g_free (requestor->output_dir);
  g_free (requestor);
}

/* The events named @name, in order. */
static GPtrArray *
find_events (Requestor  *requestor,
             const char *name)
{
  GPtrArray *found = g_ptr_array_new ();

  for (guint i = 0; i < requestor->events->len; i++)
    {
      JsonObject *event = g_ptr_array_index (requestor->events, i);

      if (g_str_equal (json_object_get_string_member (event, "event"), name))
        g_ptr_array_add (found, event);
    }
  return found;
}

static JsonObject *
find_event (Requestor  *requestor,
            const char *name)
{
  g_autoptr(GPtrArray) found = find_events (requestor, name);

  return found->len > 0 ? g_ptr_array_index (found, 0) : NULL;
}

/* Exit status 1, nothing but @reason's line on standard error. */
static void
assert_failed (Requestor  *requestor,
               const char *reason)
{
  g_assert_cmpint (requestor->status, ==, 1);
  g_assert_true (g_str_has_prefix (requestor->err, "kiln-node: "));
  g_assert_nonnull (strchr (requestor->err, '\n'));
  g_assert_cmpuint (strchr (requestor->err, '\n') - requestor->err + 1, ==,
                    strlen (requestor->err));
  if (strstr (requestor->err, reason) == NULL)
    g_error ("“%s” is not in: %s", reason, requestor->err);
}

/* Exit status 0 and the "end" event of a job that is done. */
static JsonObject *
assert_done (Requestor *requestor)
{
  JsonObject *end;

  g_assert_cmpint (requestor->status, ==, 0);
  g_assert_cmpstr (requestor->err, ==, "");

  end = g_ptr_array_index (requestor->events, requestor->events->len - 1);
  g_assert_cmpstr (json_object_get_string_member (end, "event"), ==, "end");
  g_assert_cmpstr (json_object_get_string_member (end, "state"), ==, "done");
  g_assert_true (json_object_get_null_member (end, "error"));
  g_assert_cmpint (json_object_get_int_member (end, "frames_done"), ==,
                   json_object_get_int_member (end, "frames_total"));
  return end;
}

static const char *
amount_base_units (JsonObject *object,
                   const char *member)
{
  return json_object_get_string_member (json_object_get_object_member (object, member),
                                        "base_units");
}

/* The payment of the "end" event to @address, or NULL. */
static JsonObject *
find_payment (JsonObject *end,
              const char *address)
{
  JsonArray *payments = json_object_get_array_member (end, "payments");

  for (guint i = 0; i < json_array_get_length (payments); i++)
    {
      JsonObject *payment = json_array_get_object_element (payments, i);

      if (g_ascii_strcasecmp (json_object_get_string_member (payment, "provider"), address) == 0)
        return payment;
    }
  return NULL;
}

/* The providers the "subtask" events showed at work. */
static GPtrArray *
providers_seen (Requestor *requestor)
{
  g_autoptr(GPtrArray) subtasks = find_events (requestor, "subtask");
  GPtrArray *seen = g_ptr_array_new ();

  for (guint i = 0; i < subtasks->len; i++)
    {
      JsonObject *event = g_ptr_array_index (subtasks, i);
      const char *provider;

      if (json_object_get_null_member (event, "provider"))
        continue;
      provider = json_object_get_string_member (event, "provider");
      if (!g_ptr_array_find_with_equal_func (seen, provider, g_str_equal, NULL))
        g_ptr_array_add (seen, (gpointer) provider);
    }
  return seen;
}

/* Frames --------------------------------------------------------------------------------- */

static KilnImage *
load_image (const char *path)
{
  g_autoptr(GError) error = NULL;
  KilnImage *image = kiln_image_load_png (path, &error);

  g_assert_no_error (error);
  return image;
}

/* The chunks of the PNG at @path but its text (tEXt, zTXt, iTXt): what Blender writes
 * whatever the run, without the date and render times it adds. */
static GBytes *
png_without_text (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = NULL;
  GByteArray *kept = g_byte_array_new ();
  gsize length;
  gsize at = 8;

  g_file_get_contents (path, (char **) &data, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 8);
  g_byte_array_append (kept, data, 8);
  while (at + 12 <= length)
    {
      const char *type = (const char *) data + at + 4;
      guint32 size;

      memcpy (&size, data + at, sizeof size);
      size = GUINT32_FROM_BE (size);

      g_assert_cmpuint (at + 12 + size, <=, length);
      if (memcmp (type, "tEXt", 4) != 0 && memcmp (type, "zTXt", 4) != 0 &&
          memcmp (type, "iTXt", 4) != 0)
        g_byte_array_append (kept, data + at, 12 + size);
      at += 12 + size;
    }
  g_assert_cmpuint (at, ==, length);
  return g_byte_array_free_to_bytes (kept);
}

/* Frame @frame in @dir has the very values of the local render; with @as_written, it is also
 * the file Blender wrote, byte for byte but for its text chunks (joined strips are written by
 * Kiln, not Blender). */
static void
assert_frame_matches (const char *dir,
                      int         frame,
                      gboolean    as_written)
{
  g_autofree char *name = g_strdup_printf ("frame_%04d.png", frame);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *reference = g_build_filename (shared.reference_dir, name, NULL);
  g_autoptr(KilnImage) got = load_image (path);
  g_autoptr(KilnImage) expected = load_image (reference);
  KilnImageDiff diff;

  g_assert_cmpuint (kiln_image_get_width (got), ==, 160);
  g_assert_cmpuint (kiln_image_get_height (got), ==, 120);
  g_assert_cmpuint (kiln_image_get_width (got), ==, kiln_image_get_width (expected));
  g_assert_cmpuint (kiln_image_get_height (got), ==, kiln_image_get_height (expected));
  g_assert_cmpuint (kiln_image_get_channels (got), ==, kiln_image_get_channels (expected));
  g_assert_cmpuint (kiln_image_get_depth (got), ==, kiln_image_get_depth (expected));
  kiln_image_compare (got, 0, 0, expected, 0, 0, kiln_image_get_width (got),
                      kiln_image_get_height (got), &diff);
  g_assert_cmpuint (diff.differing, ==, 0);

  if (as_written)
    {
      g_autoptr(GBytes) got_bytes = png_without_text (path);
      g_autoptr(GBytes) expected_bytes = png_without_text (reference);

      g_assert_true (g_bytes_equal (got_bytes, expected_bytes));
    }
}

/* The "frame" events name each frame of @first…@last once, in @dir. */
static void
assert_frame_events (Requestor  *requestor,
                     const char *dir,
                     int         first,
                     int         last)
{
  g_autoptr(GPtrArray) frames = find_events (requestor, "frame");
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  g_assert_cmpuint (frames->len, ==, last - first + 1);
  for (guint i = 0; i < frames->len; i++)
    {
      JsonObject *event = g_ptr_array_index (frames, i);
      int frame = json_object_get_int_member (event, "frame");
      g_autofree char *name = g_strdup_printf ("frame_%04d.png", frame);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_cmpint (frame, >=, first);
      g_assert_cmpint (frame, <=, last);
      g_assert_false (g_hash_table_contains (seen, GINT_TO_POINTER (frame)));
      g_hash_table_add (seen, GINT_TO_POINTER (frame));
      g_assert_cmpstr (json_object_get_string_member (event, "path"), ==, path);
      g_assert_cmpint (json_object_get_int_member (event, "frames_done"), ==, i + 1);
    }
}

/* Providers in this process -------------------------------------------------------------- */

typedef struct
{
  KilnTestEngine    *node;
  char              *address;
  KilnProviderAgent *agent;
  char              *work_dir;
  char              *balance_before;
  GPtrArray         *earned;     /* char *: "TERMS AMOUNT" */
  GPtrArray         *paid;       /* char *: "TERMS TX" */
  GPtrArray         *finished;   /* char *: "TERMS REASON" */
} Lender;

typedef struct
{
  char *output_dir;
} Fixture;

static void
on_earned (KilnProviderAgent *agent,
           const char        *terms,
           const char        *amount,
           Lender            *lender)
{
  g_ptr_array_add (lender->earned, g_strdup_printf ("%s %s", terms, amount));
}

static void
on_paid (KilnProviderAgent *agent,
         const char        *terms,
         const char        *tx_hash,
         Lender            *lender)
{
  g_ptr_array_add (lender->paid, g_strdup_printf ("%s %s", terms, tx_hash));
}

static void
on_finished (KilnProviderAgent *agent,
             const char        *terms,
             const char        *reason,
             Lender            *lender)
{
  g_ptr_array_add (lender->finished, g_strdup_printf ("%s %s", terms,
                                                      reason != NULL ? reason : "done"));
}

/* A provider with one core on 127.0.0.1, joining through @bootstrap (may be NULL). */
static Lender *
lender_new (Fixture *fixture,
            Lender  *bootstrap)
{
  g_autofree char *peer = NULL;
  Lender *lender = g_new0 (Lender, 1);

  lender->node = kiln_test_engine_new_stopped ("render-lender", KILN_ENGINE_NETWORK_ID);
  lender->address = kiln_address_to_string (kiln_test_engine_address (lender->node));
  kiln_engine_set_roles (lender->node->engine, KILN_DHT_ROLE_PROVIDER);
  if (bootstrap != NULL)
    peer = kiln_test_engine_endpoint (bootstrap->node);
  kiln_test_engine_start (lender->node, peer);

  lender->work_dir = kiln_test_render_new_dir (&render, "work");
  lender->agent = kiln_test_engine_start_agent (lender->node, shared.provider, render.blender,
                                                lender->work_dir);
  lender->earned = g_ptr_array_new_with_free_func (g_free);
  lender->paid = g_ptr_array_new_with_free_func (g_free);
  lender->finished = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (lender->agent, "earned", G_CALLBACK (on_earned), lender);
  g_signal_connect (lender->agent, "paid", G_CALLBACK (on_paid), lender);
  g_signal_connect (lender->agent, "finished", G_CALLBACK (on_finished), lender);

  lender->balance_before = gnt_balance_string (lender->address);
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
  g_ptr_array_unref (lender->paid);
  g_ptr_array_unref (lender->finished);
  g_free (lender->address);
  g_free (lender->balance_before);
  g_free (lender->work_dir);
  g_free (lender);
}

static char *
bootstrap_option (Lender *lender)
{
  g_autofree char *endpoint = kiln_test_engine_endpoint (lender->node);

  return g_strconcat ("--bootstrap=", endpoint, NULL);
}

typedef struct
{
  Lender *lender;
  guint   n;
} CountWait;

static gboolean
earned_enough (gpointer data)
{
  CountWait *wait = data;

  return wait->lender->earned->len >= wait->n;
}

static gboolean
paid_enough (gpointer data)
{
  CountWait *wait = data;

  return wait->lender->paid->len >= wait->n;
}

/* The provider's GNT rose by exactly what it was told it earned, term by term, and that is
 * what kiln-node render says it paid it; it heard of the payment. */
static void
assert_lender_paid (Lender     *lender,
                    JsonObject *end)
{
  JsonObject *payment = find_payment (end, lender->address);
  g_autofree char *gained = gnt_gained (lender->address, lender->balance_before);
  KilnUint256 sum = { { 0 } };
  g_autofree char *sum_text = NULL;
  guint n_subtasks;

  g_assert_nonnull (payment);
  n_subtasks = json_object_get_int_member (payment, "subtasks");
  g_assert_cmpuint (n_subtasks, >, 0);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (payment, "tx_hash"), "0x"));

  wait_for (earned_enough, &(CountWait) { lender, n_subtasks }, "the approvals to arrive");
  g_assert_cmpuint (lender->earned->len, ==, n_subtasks);
  for (guint i = 0; i < lender->earned->len; i++)
    {
      const char *line = g_ptr_array_index (lender->earned, i);
      KilnUint256 amount;

      g_assert_true (kiln_uint256_parse (&amount, strchr (line, ' ') + 1, NULL));
      g_assert_false (kiln_uint256_is_zero (&amount));
      g_assert_true (kiln_uint256_add (&sum, &sum, &amount));
    }
  sum_text = kiln_uint256_to_string (&sum);

  g_test_message ("%s earned %s for %u subtasks, gained %s", lender->address, sum_text,
                  n_subtasks, gained);
  g_assert_cmpstr (gained, ==, sum_text);
  g_assert_cmpstr (amount_base_units (payment, "amount"), ==, sum_text);

  wait_for (paid_enough, &(CountWait) { lender, n_subtasks }, "the payment to be announced");
}

/* The requestor's GNT fell by what the job cost, and no more. */
static void
assert_requestor_spent (const char *before_text,
                        JsonObject *end)
{
  KilnUint256 cost, before, now;

  g_assert_true (kiln_uint256_parse (&cost, amount_base_units (end, "cost"), NULL));
  g_assert_true (kiln_uint256_parse (&before, before_text, NULL));
  now = gnt_balance (shared.requestor->address);
  g_assert_true (kiln_uint256_sub (&before, &before, &now));
  g_assert_true (kiln_uint256_equal (&before, &cost));
}

/* The fixture ----------------------------------------------------------------------------- */

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->output_dir = kiln_test_render_new_dir (&render, "frames");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_free (fixture->output_dir);
}

static Requestor *
render_with (Fixture            *fixture,
             const char * const *args,
             RequestorEventFunc  on_event,
             gpointer            data)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  Requestor *requestor;

  g_ptr_array_add (all, g_strdup_printf ("--out=%s", fixture->output_dir));
  /* A deadline far beyond what the tests take, for a test that goes wrong. */
  g_ptr_array_add (all, g_strdup ("--wait-providers=90"));
  g_ptr_array_add (all, g_strdup ("--timeout=120"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (all, g_strdup (args[i]));
  g_ptr_array_add (all, NULL);

  requestor = requestor_start_full (shared.scene, shared.requestor->dir,
                                    (const char * const *) all->pdata, on_event, data);
  requestor_wait (requestor);
  return requestor;
}

/* Tests ------------------------------------------------------------------------------------ */

/* Eight frames in four subtasks on two providers of one core each: both work, every frame
 * is the local render's, and each is paid exactly what it earned. */
static void
test_frames (Fixture       *fixture,
             gconstpointer  data)
{
  Lender *a = lender_new (fixture, NULL);
  Lender *b = lender_new (fixture, a);
  g_autofree char *via_a = bootstrap_option (a);
  g_autofree char *via_b = bootstrap_option (b);
  g_autofree char *spent_before = gnt_balance_string (shared.requestor->address);
  const char *args[] = { "--frames=1-8", "--subtasks=4", via_a, via_b, NULL };
  g_autoptr(GPtrArray) seen = NULL;
  Requestor *requestor;
  JsonObject *scene, *job, *end;

  requestor = render_with (fixture, args, NULL, NULL);
  end = assert_done (requestor);

  scene = find_event (requestor, "scene");
  g_assert_cmpstr (json_object_get_string_member (scene, "frames"), ==, "1-8");
  g_assert_cmpint (json_object_get_int_member (scene, "width"), ==, 160);
  g_assert_cmpint (json_object_get_int_member (scene, "samples"), ==, 8);
  /* The scene asks for denoising: the note says it is off. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (scene, "notes")), ==,
                    1);
  job = find_event (requestor, "job");
  g_assert_cmpint (json_object_get_int_member (job, "subtasks"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (job, "frames_total"), ==, 8);
  g_assert_cmpstr (json_object_get_string_member (job, "address"), ==,
                   shared.requestor->address);

  assert_frame_events (requestor, fixture->output_dir, 1, 8);
  for (int frame = 1; frame <= 8; frame++)
    assert_frame_matches (fixture->output_dir, frame, TRUE);

  /* Both providers rendered, and nobody else. */
  seen = providers_seen (requestor);
  g_assert_cmpuint (seen->len, ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (end, "payments")), ==,
                    2);
  assert_lender_paid (a, end);
  assert_lender_paid (b, end);

  assert_requestor_spent (spent_before, end);

  requestor_free (requestor);
  lender_free (a);
  lender_free (b);
}

/* One frame cut into four strips on two providers: the joined frame is the local render. */
static void
test_strips (Fixture       *fixture,
             gconstpointer  data)
{
  Lender *a = lender_new (fixture, NULL);
  Lender *b = lender_new (fixture, a);
  g_autofree char *via_a = bootstrap_option (a);
  g_autofree char *via_b = bootstrap_option (b);
  g_autofree char *spent_before = gnt_balance_string (shared.requestor->address);
  const char *args[] = { "--frames=2", "--subtasks=4", via_a, via_b, NULL };
  Requestor *requestor;
  JsonObject *job, *end;

  requestor = render_with (fixture, args, NULL, NULL);
  end = assert_done (requestor);

  job = find_event (requestor, "job");
  g_assert_cmpint (json_object_get_int_member (job, "subtasks"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (job, "strips"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (job, "frames_total"), ==, 1);

  assert_frame_events (requestor, fixture->output_dir, 2, 2);
  assert_frame_matches (fixture->output_dir, 2, FALSE);

  for (guint i = 0; i < 2; i++)
    {
      Lender *lender = i == 0 ? a : b;

      if (find_payment (end, lender->address) != NULL)
        assert_lender_paid (lender, end);
      else
        {
          g_autofree char *gained = gnt_gained (lender->address, lender->balance_before);

          g_assert_cmpstr (gained, ==, "0");
          g_assert_cmpuint (lender->earned->len, ==, 0);
        }
    }
  assert_requestor_spent (spent_before, end);

  requestor_free (requestor);
  lender_free (a);
  lender_free (b);
}

typedef struct
{
  gboolean sent;
} Interrupt;

static void
interrupt_when_rendering (Requestor  *requestor,
                          JsonObject *event,
                          gpointer    data)
{
  Interrupt *interrupt = data;

  if (interrupt->sent || !g_str_equal (json_object_get_string_member (event, "event"),
                                       "subtask") ||
      !g_str_equal (json_object_get_string_member (event, "state"), "rendering"))
    return;

  g_subprocess_send_signal (requestor->process, SIGINT);
  interrupt->sent = TRUE;
}

static gboolean
lender_stopped (gpointer data)
{
  return ((Lender *) data)->finished->len > 0;
}

/* SIGINT withdraws the subtask being rendered; nothing is paid for it. */
static void
test_interrupted (Fixture       *fixture,
                  gconstpointer  data)
{
  Lender *lender = lender_new (fixture, NULL);
  g_autofree char *via = bootstrap_option (lender);
  g_autofree char *spent_before = gnt_balance_string (shared.requestor->address);
  g_autofree char *spent_after = NULL;
  g_autofree char *gained = NULL;
  const char *args[] = { "--frames=1-2", via, NULL };
  Interrupt interrupt = { FALSE };
  Requestor *requestor;
  JsonObject *end;

  requestor = render_with (fixture, args, interrupt_when_rendering, &interrupt);
  g_assert_true (interrupt.sent);
  assert_failed (requestor, "interrupted: the job was cancelled with 0 of 2 frames");

  end = g_ptr_array_index (requestor->events, requestor->events->len - 1);
  g_assert_cmpstr (json_object_get_string_member (end, "event"), ==, "end");
  g_assert_cmpstr (json_object_get_string_member (end, "state"), ==, "cancelled");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (end, "payments")), ==,
                    0);

  /* The provider was told to stop, earned nothing and got nothing. */
  wait_for (lender_stopped, lender, "the provider to hear of the cancellation");
  g_assert_true (g_str_has_suffix (g_ptr_array_index (lender->finished, 0), " cancelled"));
  g_assert_cmpuint (lender->earned->len, ==, 0);
  gained = gnt_gained (lender->address, lender->balance_before);
  g_assert_cmpstr (gained, ==, "0");
  spent_after = gnt_balance_string (shared.requestor->address);
  g_assert_cmpstr (spent_after, ==, spent_before);

  requestor_free (requestor);
  lender_free (lender);
}

/* No provider: the job gives up after --wait-providers and pays nothing. */
static void
test_no_providers (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *before = gnt_balance_string (shared.requestor->address);
  g_autofree char *after = NULL;
  const char *args[] = { "--frames=1", "--wait-providers=3", NULL };
  Requestor *requestor;
  JsonObject *end;

  requestor = render_with (fixture, args, NULL, NULL);
  assert_failed (requestor, "no provider worked on the job for 3 s");
  end = g_ptr_array_index (requestor->events, requestor->events->len - 1);
  g_assert_cmpstr (json_object_get_string_member (end, "state"), ==, "cancelled");
  g_assert_nonnull (find_event (requestor, "job"));
  after = gnt_balance_string (shared.requestor->address);
  g_assert_cmpstr (after, ==, before);

  requestor_free (requestor);
}

/* Without --json the job is told in sentences with one number each, so that each number
 * has a plural of its own: samples, frames, strips when frames are cut, subtasks, cores.
 * Nobody lends here: each job gives up after a second, paying nothing. */
static void
test_summary (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *out = g_strdup_printf ("--out=%s", fixture->output_dir);
  const struct
  {
    const char *args[4];
    const char *lines[6];
  } cases[] = {
    { { "--frames=1-8", "--subtasks=4", "--cores=2", NULL },
      { " · 8 samples · ",
        "\nJob ",
        " renders 8 frames\n",
        "\nThe job is split into 4 subtasks of at most 60 s each\n",
        "\nEach subtask runs on 2 cores, paid at most 1 GNT per CPU-hour\n",
        NULL } },
    { { "--frames=2", "--subtasks=4", NULL },
      { " renders 1 frame\n",
        "\nEach frame is cut into 4 strips\n",
        "\nThe job is split into 4 subtasks of at most 60 s each\n",
        "\nEach subtask runs on 1 core, paid at most 1 GNT per CPU-hour\n",
        NULL } },
    { { "--frames=3", "--subtasks=1", "--samples=1", NULL },
      { " · 1 sample · ",
        " renders 1 frame\n",
        "\nThe job is split into 1 subtask of at most 60 s\n",
        "\nEach subtask runs on 1 core, paid at most 1 GNT per CPU-hour\n",
        NULL } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      g_auto(GStrv) args = NULL;
      g_autoptr(GPtrArray) argv = NULL;
      g_autofree char *stdout_text = NULL;
      g_autofree char *stderr_text = NULL;
      gboolean cut;
      int status;

      g_strv_builder_addv (builder, (const char **) cases[i].args);
      g_strv_builder_add_many (builder, out, "--timeout=60", "--wait-providers=1", NULL);
      args = g_strv_builder_end (builder);
      argv = requestor_args (shared.scene, shared.requestor->dir, FALSE,
                             (const char * const *) args);

      status = node_run_command (NULL, (const char * const *) argv->pdata, &stdout_text,
                                 &stderr_text);
      g_test_message ("exit status %d\n%s%s", status, stdout_text, stderr_text);
      g_assert_cmpint (status, ==, 1);
      g_assert_true (g_str_has_prefix (stderr_text, "kiln-node: no provider worked on the job"));
      for (guint j = 0; cases[i].lines[j] != NULL; j++)
        if (strstr (stdout_text, cases[i].lines[j]) == NULL)
          g_error ("“%s” is not in:\n%s", cases[i].lines[j], stdout_text);
      /* Strips are told only when frames are cut. */
      cut = strstr (stdout_text, "\nEach frame is cut into ") != NULL;
      g_assert_cmpint (cut, ==, g_str_equal (cases[i].args[0], "--frames=2"));
    }
}

/* A job the balance cannot cover is refused before anything is announced, and so is one
 * whose account could not pay the network fee of paying the providers. */
static void
test_refused (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *out = g_strdup_printf ("--out=%s", fixture->output_dir);
  const char *args[] = { "--frames=1-8", "--max-price=100000", NULL };
  const char *poor_args[] = { "--frames=1", out, NULL };
  Requestor *requestor;

  requestor = render_with (fixture, args, NULL, NULL);
  assert_failed (requestor, "This job can cost up to 26666.666666666666666672 GNT, but the "
                            "wallet holds 1000 GNT");
  g_assert_nonnull (find_event (requestor, "scene"));
  g_assert_null (find_event (requestor, "job"));
  g_assert_null (find_event (requestor, "end"));
  requestor_free (requestor);

  requestor = requestor_start_full (shared.scene, shared.poor->dir, poor_args, NULL, NULL);
  requestor_wait (requestor);
  assert_failed (requestor, "the account holds no ETH for the network fee");
  g_assert_null (find_event (requestor, "job"));
  requestor_free (requestor);

  /* Neither left anything in the output folder. */
  g_assert_cmpint (g_rmdir (fixture->output_dir), ==, 0);
  g_assert_cmpint (g_mkdir (fixture->output_dir, 0700), ==, 0);
}

/* Files that are not scenes: one line, exit status 1, nothing announced, and no waiting for
 * the account or the chain (the data folder given has no account at all). */
static void
test_unreadable (void)
{
  g_autofree char *dir = g_build_filename (shared.root, "unreadable", NULL);
  g_autofree char *no_account = g_build_filename (dir, "no-account", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.blend", NULL);
  g_autofree char *garbage = g_build_filename (dir, "garbage.blend", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.blend", NULL);
  g_autofree char *folder = g_build_filename (dir, "folder.blend", NULL);
  g_autofree char *truncated = g_build_filename (dir, "truncated.blend", NULL);
  g_autofree char *scene = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;
  const struct
  {
    const char *path;
    const char *reason;
    double      most_seconds;
  } cases[] = {
    { missing, "there is no file", 10 },
    { garbage, "is not a Blender scene (it does not start like one)", 10 },
    { empty, "is not a Blender scene (the file is empty)", 10 },
    { folder, "is not a Blender scene (it is a folder)", 10 },
    /* Only Blender can tell: it is found and started, then reads the file. */
    { truncated, "the file is damaged or incomplete", 60 },
  };

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_file_set_contents (garbage, "these are not the bytes of a scene\n", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (empty, "", 0, &error);
  g_assert_no_error (error);
  /* The start of a real scene: its header is right, the rest is missing. */
  g_file_get_contents (shared.scene, &scene, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 20000);
  g_file_set_contents (truncated, scene, 20000, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Requestor *requestor = requestor_start_full (cases[i].path, no_account, NULL, NULL, NULL);

      requestor_wait (requestor);
      assert_failed (requestor, cases[i].reason);
      g_assert_cmpuint (requestor->events->len, ==, 0);
      g_assert_cmpfloat (requestor->seconds, <, cases[i].most_seconds);
      requestor_free (requestor);
    }

  /* Nothing was made for the account that is not there. */
  g_assert_false (g_file_test (no_account, G_FILE_TEST_EXISTS));
  node_remove_tree (dir);
}

/* Providers as processes: kiln-node run --lend ------------------------------------------- */

typedef struct
{
  NodeProcess *node;
  char        *work_dir;
  char        *out;
  char        *balance_before;
} LendProcess;

static LendProcess *
lend_process_start (const char  *name,
                    LendProcess *bootstrap)
{
  LendProcess *lender = g_new0 (LendProcess, 1);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  lender->node = node_process_new (shared.root, name, shared.password_file);
  lender->work_dir = g_strconcat (lender->node->dir, "-work", NULL);
  lender->out = g_strconcat (lender->node->dir, ".out", NULL);

  g_ptr_array_add (argv, g_strdup (g_getenv ("KILN_NODE")));
  g_ptr_array_add (argv, g_strdup ("run"));
  g_ptr_array_add (argv, g_strdup ("--lend"));
  g_ptr_array_add (argv, g_strdup ("--cores=1"));
  g_ptr_array_add (argv, g_strdup ("--min-price=0.5"));
  g_ptr_array_add (argv, g_strdup ("--normal-priority"));
  g_ptr_array_add (argv, g_strdup ("--verbose"));
  g_ptr_array_add (argv, g_strdup ("--json"));
  g_ptr_array_add (argv, g_strdup ("--listen=127.0.0.1:0"));
  g_ptr_array_add (argv, g_strdup_printf ("--work-dir=%s", lender->work_dir));
  g_ptr_array_add (argv, g_strdup_printf ("--data-dir=%s", lender->node->dir));
  g_ptr_array_add (argv, g_strdup_printf ("--password-file=%s", shared.password_file));
  g_ptr_array_add (argv, g_strdup_printf ("--rpc=%s",
                                          kiln_test_devnet_get_rpc_url (shared.devnet)));
  g_ptr_array_add (argv, g_strdup_printf ("--token=%s", shared.token));
  if (bootstrap != NULL)
    g_ptr_array_add (argv, g_strdup_printf ("--bootstrap=127.0.0.1:%u", bootstrap->node->port));
  g_ptr_array_add (argv, NULL);

  launcher = kiln_test_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_set_stdout_file_path (launcher, lender->out);
  g_subprocess_launcher_set_stderr_file_path (launcher, lender->node->log);
  lender->node->process = g_subprocess_launcher_spawnv (launcher,
                                                        (const char * const *) argv->pdata,
                                                        &error);
  g_assert_no_error (error);
  node_process_wait_port (lender->node);
  lender->balance_before = gnt_balance_string (lender->node->address);
  return lender;
}

static void
lend_process_free (LendProcess *lender)
{
  node_process_free (lender->node);
  g_free (lender->work_dir);
  g_free (lender->out);
  g_free (lender->balance_before);
  g_free (lender);
}

/* Whether Blender itself (not its sandbox) runs with @dir on its command line. */
/* The CPU time process @pid has used, in clock ticks. */
static guint64
cpu_ticks (const char *pid)
{
  g_autofree char *path = g_build_filename ("/proc", pid, "stat", NULL);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return 0;
  /* "PID (NAME) STATE …": the name may hold spaces; utime and stime are fields 14 and 15. */
  after_name = strrchr (stat, ')');
  if (after_name == NULL)
    return 0;
  fields = g_strsplit (after_name + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    return 0;
  return g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
}

/* Whether Blender itself (not its sandbox) runs with @dir on its command line and has
 * worked for at least @ticks of CPU time. */
static gboolean
blender_works_in (const char *dir,
                  guint64     ticks)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *cmdline = NULL;
      g_autofree char *program = NULL;
      gsize len;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_build_filename ("/proc", name, "cmdline", NULL);
      if (!g_file_get_contents (path, &cmdline, &len, NULL) || len == 0)
        continue;
      program = g_path_get_basename (cmdline);
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (g_str_equal (program, "blender") && strstr (cmdline, dir) != NULL &&
          cpu_ticks (name) >= ticks)
        return TRUE;
    }
  return FALSE;
}

typedef struct
{
  LendProcess *lenders[2];
  LendProcess *victim;
  guint        poll_id;
  gboolean     killed;
  guint        given_back;   /* subtasks back to "pending" after the kill */
} Kill;

static gboolean
kill_when_blender_runs (gpointer data)
{
  Kill *kill = data;

  /* Half a second of work: Blender has read the scene and is rendering it. */
  if (!blender_works_in (kill->victim->work_dir, sysconf (_SC_CLK_TCK) / 2))
    return G_SOURCE_CONTINUE;

  g_test_message ("SIGKILL to %s while its Blender works", kill->victim->node->address);
  g_subprocess_send_signal (kill->victim->node->process, SIGKILL);
  kill->killed = TRUE;
  kill->poll_id = 0;
  return G_SOURCE_REMOVE;
}

static void
on_kill_event (Requestor  *requestor,
               JsonObject *event,
               gpointer    data)
{
  Kill *kill = data;
  const char *state;

  if (!g_str_equal (json_object_get_string_member (event, "event"), "subtask"))
    return;
  state = json_object_get_string_member (event, "state");

  if (kill->killed && g_str_equal (state, "pending"))
    kill->given_back++;

  /* The first provider to render is the one that dies. */
  if (kill->victim == NULL && g_str_equal (state, "rendering"))
    {
      const char *provider = json_object_get_string_member (event, "provider");

      for (guint i = 0; i < G_N_ELEMENTS (kill->lenders); i++)
        if (g_ascii_strcasecmp (kill->lenders[i]->node->address, provider) == 0)
          kill->victim = kill->lenders[i];
      g_assert_nonnull (kill->victim);
      kill->poll_id = g_timeout_add (20, kill_when_blender_runs, kill);
    }
}

static gboolean
kiln_node_can_lend (void)
{
  const char *argv[] = { "run", "--help", NULL };
  g_autofree char *out = NULL;

  return node_run_command (NULL, argv, &out, NULL) == 0 && strstr (out, "--lend") != NULL;
}

/* Two `kiln-node run --lend` processes; one is killed with SIGKILL while its Blender works.
 * Its subtask goes to the other, the job completes, and the dead one is paid nothing. */
static void
test_provider_killed (Fixture       *fixture,
                      gconstpointer  data)
{
  Kill kill = { { NULL } };
  LendProcess *survivor;
  g_autofree char *via_a = NULL;
  g_autofree char *via_b = NULL;
  g_autofree char *victim_gained = NULL;
  g_autofree char *survivor_gained = NULL;
  g_autofree char *spent_before = NULL;
  g_autoptr(GPtrArray) logs = NULL;
  JsonObject *end, *payment;
  Requestor *requestor;
  gboolean went_away = FALSE;

  if (!kiln_node_can_lend ())
    {
      g_test_skip ("this kiln-node cannot lend (no “run --lend”)");
      return;
    }

  kill.lenders[0] = lend_process_start ("lender-a", NULL);
  kill.lenders[1] = lend_process_start ("lender-b", kill.lenders[0]);
  via_a = g_strdup_printf ("--bootstrap=127.0.0.1:%u", kill.lenders[0]->node->port);
  via_b = g_strdup_printf ("--bootstrap=127.0.0.1:%u", kill.lenders[1]->node->port);
  spent_before = gnt_balance_string (shared.requestor->address);

  {
    const char *args[] = { "--frames=1-4", "--subtasks=4", via_a, via_b, NULL };

    requestor = render_with (fixture, args, on_kill_event, &kill);
  }
  g_clear_handle_id (&kill.poll_id, g_source_remove);
  g_assert_true (kill.killed);
  end = assert_done (requestor);

  /* The job saw the provider go and gave its subtask to the other. */
  g_assert_cmpuint (kill.given_back, >=, 1);
  logs = find_events (requestor, "log");
  for (guint i = 0; i < logs->len && !went_away; i++)
    went_away = strstr (json_object_get_string_member (g_ptr_array_index (logs, i), "text"),
                        "the provider went away") != NULL;
  g_assert_true (went_away);

  assert_frame_events (requestor, fixture->output_dir, 1, 4);
  for (int frame = 1; frame <= 4; frame++)
    assert_frame_matches (fixture->output_dir, frame, TRUE);

  /* Its sandbox died with it. */
  kiln_test_assert_no_processes (kill.victim->work_dir);

  /* Unfinished work is not paid; the survivor got exactly what the job says it paid. */
  survivor = kill.victim == kill.lenders[0] ? kill.lenders[1] : kill.lenders[0];
  g_assert_null (find_payment (end, kill.victim->node->address));
  victim_gained = gnt_gained (kill.victim->node->address, kill.victim->balance_before);
  g_assert_cmpstr (victim_gained, ==, "0");
  payment = find_payment (end, survivor->node->address);
  g_assert_nonnull (payment);
  g_assert_cmpint (json_object_get_int_member (payment, "subtasks"), ==, 4);
  survivor_gained = gnt_gained (survivor->node->address, survivor->balance_before);
  g_assert_cmpstr (survivor_gained, ==, amount_base_units (payment, "amount"));
  assert_requestor_spent (spent_before, end);

  node_process_stop (survivor->node);
  requestor_free (requestor);
  lend_process_free (kill.lenders[0]);
  lend_process_free (kill.lenders[1]);
}

/* Set-up --------------------------------------------------------------------------------- */

static void
on_benchmarked (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpfloat (kiln_blender_benchmark_finish (KILN_BLENDER (object), result, &error), >,
                     0);
  g_assert_no_error (error);
  g_atomic_int_set ((int *) user_data, 1);
}

static void
prepare_shared (void)
{
  g_autofree char *kiln_cache = g_build_filename (shared.cache_dir, "kiln", NULL);
  g_autoptr(GFile) cache = g_file_new_for_path (kiln_cache);
  g_autoptr(KilnRenderSpec) spec = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fund = NULL;
  g_autofree char *fund_poor = NULL;
  g_auto(GStrv) paths = NULL;
  int benchmarked = 0;

  shared.scene = kiln_test_render_scene (&render, "anim.blend");

  /* Providers offer only with a benchmark score; `run --lend` reads it from the cache. */
  kiln_blender_benchmark_async (render.blender, cache, FALSE, NULL, on_benchmarked,
                                &benchmarked);
  kiln_test_wait_until (kiln_test_flag_set, &benchmarked);

  /* The reference: frames 1-8, whole, rendered here as a provider would. */
  shared.reference_dir = kiln_test_render_new_dir (&render, "reference");
  spec = kiln_render_spec_new ();
  spec->blend_file = g_strdup (shared.scene);
  spec->output_dir = g_strdup (shared.reference_dir);
  spec->frame_start = 1;
  spec->frame_end = 8;
  spec->frame_step = 1;
  spec->width = 160;
  spec->height = 120;
  spec->samples = 8;
  spec->format = KILN_IMAGE_FORMAT_PNG;
  paths = kiln_test_render_spec (&render, spec);
  g_assert_cmpuint (g_strv_length (paths), ==, 8);

  /* The desktop's idle services on private buses, which end with this program. */
  shared.services = fake_services_new ();
  /* One core each: a provider renders one subtask at a time. */
  shared.provider = kiln_test_idle_provider_new (shared.services, 1);

  /* The requestor's account, funded on a devnet of this program's own. */
  shared.requestor = node_process_new (shared.root, "requestor", shared.password_file);
  shared.poor = node_process_new (shared.root, "poor", shared.password_file);
  fund = g_strdup_printf ("%s:%s:%s", shared.requestor->address, FUNDED_ETH, FUNDED_GNT);
  fund_poor = g_strdup_printf ("%s:0:%s", shared.poor->address, FUNDED_GNT);
  shared.devnet = kiln_test_devnet_start ((const char * const[]) { fund, fund_poor, NULL },
                                          &error);
  g_assert_no_error (error);
  kiln_address_format (kiln_test_devnet_get_token (shared.devnet), shared.token);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *no_state = NULL;
  g_autofree char *data_home = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  shared.root = node_make_tmp_dir ();
  shared.password_file = g_build_filename (shared.root, "password", NULL);
  shared.cache_dir = g_build_filename (shared.root, "cache", NULL);
  no_state = g_build_filename (shared.root, "no-devnet-state.json", NULL);
  data_home = g_build_filename (shared.root, "data", NULL);
  /* For every kiln-node this runs: English messages, this program's devnet and caches. */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_setenv ("KILN_DEVNET_STATE", no_state, TRUE);
  g_setenv ("XDG_CACHE_HOME", shared.cache_dir, TRUE);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);

  kiln_test_render_set_up (&render);
  prepare_shared ();

  g_test_add_func ("/kiln/node-render/unreadable", test_unreadable);
  g_test_add ("/kiln/node-render/refused", Fixture, NULL, fixture_set_up, test_refused,
              fixture_tear_down);
  g_test_add ("/kiln/node-render/no-providers", Fixture, NULL, fixture_set_up,
              test_no_providers, fixture_tear_down);
  g_test_add ("/kiln/node-render/summary", Fixture, NULL, fixture_set_up, test_summary,
              fixture_tear_down);
  g_test_add ("/kiln/node-render/frames", Fixture, NULL, fixture_set_up, test_frames,
              fixture_tear_down);
  g_test_add ("/kiln/node-render/strips", Fixture, NULL, fixture_set_up, test_strips,
              fixture_tear_down);
  g_test_add ("/kiln/node-render/interrupted", Fixture, NULL, fixture_set_up,
              test_interrupted, fixture_tear_down);
  g_test_add ("/kiln/node-render/provider-killed", Fixture, NULL, fixture_set_up,
              test_provider_killed, fixture_tear_down);

  status = g_test_run ();

  g_clear_pointer (&shared.devnet, kiln_test_devnet_free);
  g_assert_finalize_object (shared.provider);
  fake_services_free (shared.services);
  g_clear_pointer (&shared.requestor, node_process_free);
  g_clear_pointer (&shared.poor, node_process_free);
  g_free (shared.scene);
  g_free (shared.reference_dir);
  kiln_test_render_tear_down (&render);
  node_remove_tree (shared.root);
  g_free (shared.root);
  g_free (shared.password_file);
  g_free (shared.cache_dir);
  return status;
}
