/* kiln-test-devnet.c: the local devnet (anvil, GNT test token, KilnBatchPay) for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <signal.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "kiln-test-devnet.h"

/* The first start compiles the contracts (cached afterwards). */
#define START_TIMEOUT_S 90
#define STOP_TIMEOUT_S  15
#define STDERR_LIMIT    4096

struct _KilnTestDevnet
{
  GSubprocess *process;
  char        *rpc_url;
  guint64      chain_id;
  KilnAddress  token;
  KilnAddress  batch_pay;
  KilnAddress  deployer;
  guint64      block_number;
};

/* From anvil's default mnemonic "test test … junk", m/44'/60'/0'/0/i. */
static const char *const dev_keys[KILN_TEST_DEVNET_N_DEV_KEYS] = {
  "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
  "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
  "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
};

KilnKey *
kiln_test_devnet_dev_key (guint index)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key;

  g_return_val_if_fail (index < KILN_TEST_DEVNET_N_DEV_KEYS, NULL);

  key = kiln_key_new_from_hex (dev_keys[index], &error);
  g_assert_no_error (error);
  return key;
}

/* Waiting on a private main context, with a deadline */

typedef struct
{
  gboolean      done;
  GCancellable *cancellable;
  char         *line;
  GError       *error;
} Wait;

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates @context until @wait is done or @timeout_s pass; on timeout, cancels the operation
 * and still waits for its callback, which must not outlive @wait. */
static gboolean
wait_for (GMainContext *context,
          Wait         *wait,
          guint         timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  GSource *tick = g_timeout_source_new (100);
  gboolean in_time;

  g_source_set_callback (tick, on_tick, NULL, NULL);
  g_source_attach (tick, context);
  while (!wait->done && g_get_monotonic_time () < deadline)
    g_main_context_iteration (context, TRUE);
  in_time = wait->done;
  if (!in_time)
    {
      g_cancellable_cancel (wait->cancellable);
      while (!wait->done)
        g_main_context_iteration (context, TRUE);
    }
  g_source_destroy (tick);
  g_source_unref (tick);
  return in_time;
}

static void
wait_clear (Wait *wait)
{
  g_clear_object (&wait->cancellable);
  g_clear_pointer (&wait->line, g_free);
  g_clear_error (&wait->error);
}

static void
on_line (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  wait->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result,
                                                          NULL, &wait->error);
  wait->done = TRUE;
}

static void
on_exited (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Wait *wait = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, &wait->error);
  wait->done = TRUE;
}

/* Waits up to @timeout_s for @process to exit, then kills it. FALSE if it had to be killed. */
static gboolean
wait_exit (GSubprocess *process,
           guint        timeout_s)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  Wait wait = { .cancellable = g_cancellable_new () };
  gboolean in_time;

  g_main_context_push_thread_default (context);
  g_subprocess_wait_async (process, wait.cancellable, on_exited, &wait);
  in_time = wait_for (context, &wait, timeout_s);
  g_main_context_pop_thread_default (context);
  wait_clear (&wait);

  if (!in_time)
    {
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, NULL, NULL);
    }
  return in_time;
}

/* What the devnet wrote on stderr (it reports errors in one line), once it has exited. */
static char *
read_stderr (GSubprocess *process)
{
  GInputStream *stream = g_subprocess_get_stderr_pipe (process);
  char buffer[STDERR_LIMIT + 1];
  gsize len = 0;

  if (stream == NULL)
    return g_strdup ("");
  g_input_stream_read_all (stream, buffer, STDERR_LIMIT, &len, NULL, NULL);
  buffer[len] = '\0';
  return g_strstrip (g_utf8_make_valid (buffer, (gssize) len));
}

/* Starting */

static gboolean
read_address (JsonObject  *object,
              const char  *name,
              KilnAddress *out,
              GError     **error)
{
  const char *text = json_object_get_string_member_with_default (object, name, NULL);

  if (text == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The devnet's JSON has no “%s”", name);
      return FALSE;
    }
  if (!kiln_address_parse (out, text, error))
    {
      g_prefix_error (error, "The devnet's “%s” is not an address: ", name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_endpoints (KilnTestDevnet *self,
                 const char     *line,
                 GError        **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;
  gint64 chain_id;
  gint64 block_number;

  if (!json_parser_load_from_data (parser, line, -1, error))
    {
      g_prefix_error (error, "The devnet did not print JSON: ");
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The devnet did not print a JSON object");
      return FALSE;
    }
  object = json_node_get_object (json_parser_get_root (parser));

  self->rpc_url = g_strdup (json_object_get_string_member_with_default (object, "rpc_url",
                                                                        NULL));
  chain_id = json_object_get_int_member_with_default (object, "chain_id", -1);
  block_number = json_object_get_int_member_with_default (object, "block_number", -1);
  if (self->rpc_url == NULL || chain_id <= 0 || block_number < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The devnet's JSON lacks rpc_url, chain_id or block_number: %s", line);
      return FALSE;
    }
  self->chain_id = (guint64) chain_id;
  self->block_number = (guint64) block_number;

  return read_address (object, "token", &self->token, error)
         && read_address (object, "batch_pay", &self->batch_pay, error)
         && read_address (object, "deployer", &self->deployer, error);
}

KilnTestDevnet *
kiln_test_devnet_start (const char *const *fund,
                        GError           **error)
{
  g_autoptr(KilnTestDevnet) self = g_new0 (KilnTestDevnet, 1);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  const char *root = g_getenv ("KILN_SOURCE_ROOT");
  g_autofree char *node = g_find_program_in_path ("node");
  Wait wait = { 0 };
  gboolean in_time;

  if (root == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "KILN_SOURCE_ROOT is not set: run the tests with `meson test`");
      return NULL;
    }
  if (node == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "node is not installed: the devnet needs Node.js (run make check, "
                           "which installs it)");
      return NULL;
    }

  g_ptr_array_add (argv, g_steal_pointer (&node));
  g_ptr_array_add (argv, g_build_filename (root, "data", "devnet", "devnet.mjs", NULL));
  g_ptr_array_add (argv, g_strdup ("--json"));
  for (guint i = 0; fund != NULL && fund[i] != NULL; i++)
    {
      g_ptr_array_add (argv, g_strdup ("--fund"));
      g_ptr_array_add (argv, g_strdup (fund[i]));
    }
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                        | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, root);
  self->process = g_subprocess_launcher_spawnv (launcher,
                                                (const char *const *) argv->pdata, error);
  if (self->process == NULL)
    {
      g_prefix_error (error, "Cannot start the devnet: ");
      return NULL;
    }

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  context = g_main_context_new ();
  wait.cancellable = g_cancellable_new ();
  g_main_context_push_thread_default (context);
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, wait.cancellable, on_line,
                                       &wait);
  in_time = wait_for (context, &wait, START_TIMEOUT_S);
  g_main_context_pop_thread_default (context);

  if (!in_time || wait.line == NULL)
    {
      g_autofree char *stderr_text = NULL;
      gboolean exited = wait_exit (self->process, in_time ? STOP_TIMEOUT_S : 0);

      stderr_text = read_stderr (self->process);
      if (!in_time)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                     "The devnet did not start within %d s: %s", START_TIMEOUT_S,
                     stderr_text);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "The devnet failed to start%s: %s",
                     exited ? "" : " and had to be killed", stderr_text);
      g_clear_object (&self->process);
      wait_clear (&wait);
      return NULL;
    }

  if (!parse_endpoints (self, wait.line, error))
    {
      wait_clear (&wait);
      return NULL;
    }
  wait_clear (&wait);

  return g_steal_pointer (&self);
}

gboolean
kiln_test_devnet_stop (KilnTestDevnet  *self,
                       GError         **error)
{
  g_autoptr(GSubprocess) process = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->process == NULL)
    return TRUE;
  process = g_steal_pointer (&self->process);

  g_subprocess_send_signal (process, SIGTERM);
  if (!wait_exit (process, STOP_TIMEOUT_S))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "The devnet did not stop within %d s of SIGTERM and was killed",
                   STOP_TIMEOUT_S);
      return FALSE;
    }
  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    {
      g_autofree char *stderr_text = read_stderr (process);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "The devnet did not exit cleanly: %s", stderr_text);
      return FALSE;
    }
  return TRUE;
}

void
kiln_test_devnet_free (KilnTestDevnet *self)
{
  if (self == NULL)
    return;

  if (self->process != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!kiln_test_devnet_stop (self, &error))
        g_printerr ("# %s\n", error->message);
    }
  g_free (self->rpc_url);
  g_free (self);
}

const char *
kiln_test_devnet_get_rpc_url (KilnTestDevnet *self)
{
  return self->rpc_url;
}

guint64
kiln_test_devnet_get_chain_id (KilnTestDevnet *self)
{
  return self->chain_id;
}

const KilnAddress *
kiln_test_devnet_get_token (KilnTestDevnet *self)
{
  return &self->token;
}

const KilnAddress *
kiln_test_devnet_get_batch_pay (KilnTestDevnet *self)
{
  return &self->batch_pay;
}

const KilnAddress *
kiln_test_devnet_get_deployer (KilnTestDevnet *self)
{
  return &self->deployer;
}

guint64
kiln_test_devnet_get_block_number (KilnTestDevnet *self)
{
  return self->block_number;
}
