/* node-process.c: kiln-node processes for the network tests: accounts, run, peers, stop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "node-process.h"

#define PASSWORD "network test password"

static const char *
kiln_node_path (void)
{
  const char *path = g_getenv ("KILN_NODE");

  g_assert_nonnull (path);
  return path;
}

char *
node_make_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password_file = NULL;
  char *dir = g_dir_make_tmp ("kiln-net-XXXXXX", &error);

  g_assert_no_error (error);
  password_file = g_build_filename (dir, "password", NULL);
  g_file_set_contents (password_file, PASSWORD "\n", -1, &error);
  g_assert_no_error (error);
  return dir;
}

void
node_remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      GFile *child = NULL;

      while (g_file_enumerator_iterate (children, NULL, &child, NULL, NULL) && child != NULL)
        {
          g_autofree char *child_path = g_file_get_path (child);

          node_remove_tree (child_path);
        }
    }
  g_file_delete (file, NULL, NULL);
}

static GPtrArray *
command_line (const char * const *wrapper,
              const char * const *argv)
{
  GPtrArray *args = g_ptr_array_new ();

  for (guint i = 0; wrapper != NULL && wrapper[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) wrapper[i]);
  g_ptr_array_add (args, (gpointer) kiln_node_path ());
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) argv[i]);
  g_ptr_array_add (args, NULL);
  return args;
}

int
node_run_command (const char * const *wrapper,
                  const char * const *argv,
                  char              **out,
                  char              **err)
{
  g_autoptr(GPtrArray) args = command_line (wrapper, argv);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;

  process = g_subprocess_newv ((const char * const *) args->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &stdout_text, &stderr_text, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));

  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);
  return g_subprocess_get_exit_status (process);
}

NodeProcess *
node_process_new (const char *root,
                  const char *name,
                  const char *password_file)
{
  NodeProcess *node = g_new0 (NodeProcess, 1);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  int status;

  node->dir = g_build_filename (root, name, NULL);
  node->log = g_strconcat (node->dir, ".log", NULL);

  {
    const char *argv[] = { "identity", "create", "--light", "--json",
                           "--data-dir", node->dir, "--password-file", password_file, NULL };

    status = node_run_command (NULL, argv, &out, &err);
  }
  if (status != 0)
    g_test_message ("identity create: %s", err);
  g_assert_cmpint (status, ==, 0);

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  node->address = g_strdup (json_object_get_string_member (
                              json_node_get_object (json_parser_get_root (parser)),
                              "address"));
  g_assert_nonnull (node->address);

  return node;
}

void
node_process_free (NodeProcess *node)
{
  if (node->process != NULL)
    {
      g_subprocess_force_exit (node->process);
      g_subprocess_wait (node->process, NULL, NULL);
      g_clear_object (&node->process);
    }
  g_free (node->dir);
  g_free (node->address);
  g_free (node->log);
  g_free (node);
}

void
node_process_start (NodeProcess        *node,
                    const char * const *wrapper,
                    const char         *password_file,
                    const char * const *extra)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GPtrArray) args = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_null (node->process);

  g_ptr_array_add (argv, (gpointer) "run");
  g_ptr_array_add (argv, (gpointer) "--verbose");
  g_ptr_array_add (argv, (gpointer) "--data-dir");
  g_ptr_array_add (argv, node->dir);
  g_ptr_array_add (argv, (gpointer) "--password-file");
  g_ptr_array_add (argv, (gpointer) password_file);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra[i]);
  g_ptr_array_add (argv, NULL);
  args = command_line (wrapper, (const char * const *) argv->pdata);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (launcher, node->log);
  node->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) args->pdata,
                                                &error);
  g_assert_no_error (error);
}

JsonObject *
node_process_peers (NodeProcess *node)
{
  const char *argv[] = { "peers", "--json", "--data-dir", node->dir, NULL };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  status = node_run_command (NULL, argv, &out, &err);
  if (status != 0)
    {
      /* Only "nobody is there yet" and "still starting" may happen. */
      g_assert_cmpint (status, ==, 1);
      g_assert_true (g_str_has_prefix (err, "kiln-node: "));
      g_assert_nonnull (strchr (err, '\n'));
      g_assert_cmpuint (strchr (err, '\n') - err + 1, ==, strlen (err));
      return NULL;
    }

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static gboolean
on_pause_over (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
node_poll_pause (guint ms)
{
  gboolean over = FALSE;

  g_timeout_add (ms, on_pause_over, &over);
  while (!over)
    g_main_context_iteration (NULL, TRUE);
}

guint16
node_process_wait_port (NodeProcess *node)
{
  gint64 deadline = g_get_monotonic_time () + NODE_DEADLINE_S * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(JsonObject) reply = node_process_peers (node);

      if (reply != NULL)
        {
          JsonObject *self = json_object_get_object_member (reply, "node");

          g_assert_cmpstr (json_object_get_string_member (self, "address"), ==, node->address);
          node->port = json_object_get_int_member (self, "listen-port");
          g_assert_cmpuint (node->port, >, 0);
          return node->port;
        }

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      node_poll_pause (100);
    }
}

guint
node_count_connected (JsonObject *reply,
                      GPtrArray  *addresses)
{
  JsonArray *peers = json_object_get_array_member (reply, "peers");
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (peers); i++)
    {
      JsonObject *peer = json_array_get_object_element (peers, i);

      if (json_object_get_boolean_member (peer, "connected") &&
          g_ptr_array_find_with_equal_func (addresses,
                                            json_object_get_string_member (peer, "address"),
                                            g_str_equal, NULL))
        n++;
    }

  return n;
}

static void
on_exited (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static gboolean
on_wait_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
node_process_stop (NodeProcess *node)
{
  g_autofree char *socket_path = g_build_filename (node->dir, "control.sock", NULL);
  gint64 deadline = g_get_monotonic_time () + NODE_DEADLINE_S * G_USEC_PER_SEC;
  gboolean exited = FALSE;
  guint tick;

  g_assert_nonnull (node->process);
  g_assert_true (g_file_test (socket_path, G_FILE_TEST_EXISTS));

  g_subprocess_send_signal (node->process, SIGTERM);
  g_subprocess_wait_async (node->process, NULL, on_exited, &exited);
  tick = g_timeout_add (100, on_wait_tick, NULL);
  while (!exited)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);

  if (!g_subprocess_get_if_exited (node->process) ||
      g_subprocess_get_exit_status (node->process) != 0)
    {
      g_autofree char *log = NULL;

      g_file_get_contents (node->log, &log, NULL, NULL);
      g_test_message ("%s", log != NULL ? log : "(no log)");
    }
  g_assert_true (g_subprocess_get_if_exited (node->process));
  g_assert_cmpint (g_subprocess_get_exit_status (node->process), ==, 0);
  g_assert_false (g_file_test (socket_path, G_FILE_TEST_EXISTS));
  g_clear_object (&node->process);
}
