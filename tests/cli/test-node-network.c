/* test-node-network.c: kiln-node run and peers, as processes on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Ten nodes bootstrap from the first and must all end up linked to each other; a node
 * refuses a data folder another node runs in, and takes over the socket of one that was
 * killed. Nodes listen on 127.0.0.1 and only ever dial what others announce there. Two
 * nodes with --lan find each other by multicast between two network namespaces made for
 * the test, and nowhere else (skipped when namespaces cannot be made).
 */
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "node-process.h"

#define N_NODES 10

static char *
password_file (const char *root)
{
  return g_build_filename (root, "password", NULL);
}

static void
test_ten_nodes (void)
{
  g_autofree char *root = node_make_tmp_dir ();
  g_autofree char *password = password_file (root);
  g_autoptr(GPtrArray) addresses = g_ptr_array_new ();
  g_autofree char *bootstrap = NULL;
  NodeProcess *nodes[N_NODES];
  gboolean done[N_NODES] = { FALSE };
  gint64 started;
  gint64 deadline;
  guint n_done = 0;

  for (guint i = 0; i < N_NODES; i++)
    {
      g_autofree char *name = g_strdup_printf ("node-%u", i);

      nodes[i] = node_process_new (root, name, password);
      g_ptr_array_add (addresses, nodes[i]->address);
    }

  started = g_get_monotonic_time ();
  {
    const char *extra[] = { "--listen", "127.0.0.1:0", "--roles", "bootstrap,requestor", NULL };

    node_process_start (nodes[0], NULL, password, extra);
  }
  bootstrap = g_strdup_printf ("127.0.0.1:%u", node_process_wait_port (nodes[0]));
  for (guint i = 1; i < N_NODES; i++)
    {
      const char *extra[] = { "--listen", "127.0.0.1:0", "--bootstrap", bootstrap, NULL };

      node_process_start (nodes[i], NULL, password, extra);
    }
  for (guint i = 1; i < N_NODES; i++)
    node_process_wait_port (nodes[i]);

  /* Poll every node until each has a link to all nine others. */
  deadline = g_get_monotonic_time () + NODE_DEADLINE_S * G_USEC_PER_SEC;
  while (n_done < N_NODES)
    {
      for (guint i = 0; i < N_NODES; i++)
        {
          g_autoptr(JsonObject) reply = NULL;

          if (done[i])
            continue;
          reply = node_process_peers (nodes[i]);
          g_assert_nonnull (reply);
          if (node_count_connected (reply, addresses) == N_NODES - 1)
            {
              done[i] = TRUE;
              n_done++;
            }
        }

      if (n_done < N_NODES)
        {
          if (g_get_monotonic_time () >= deadline)
            for (guint i = 0; i < N_NODES; i++)
              {
                g_autoptr(JsonObject) reply = node_process_peers (nodes[i]);

                g_test_message ("node %u %s: %u connected", i, nodes[i]->address,
                                node_count_connected (reply, addresses));
              }
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          node_poll_pause (250);
        }
    }
  g_test_message ("%u processes linked up in %.1f s", N_NODES,
                  (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC);

  /* What each one says about the others matches what they say about themselves. */
  for (guint i = 0; i < N_NODES; i++)
    {
      g_autoptr(JsonObject) reply = node_process_peers (nodes[i]);
      JsonObject *self = json_object_get_object_member (reply, "node");
      JsonArray *peers = json_object_get_array_member (reply, "peers");

      g_assert_cmpstr (json_object_get_string_member (self, "state"), ==, "online");
      g_assert_cmpint (json_object_get_int_member (self, "connected"), ==, N_NODES - 1);
      g_assert_cmpuint (json_array_get_length (peers), ==, N_NODES - 1);
      for (guint j = 0; j < json_array_get_length (peers); j++)
        {
          JsonObject *peer = json_array_get_object_element (peers, j);
          JsonArray *endpoints = json_object_get_array_member (peer, "endpoints");
          const char *address = json_object_get_string_member (peer, "address");
          NodeProcess *other = NULL;
          g_autofree char *endpoint = NULL;

          for (guint k = 0; k < N_NODES; k++)
            if (g_str_equal (nodes[k]->address, address))
              other = nodes[k];
          g_assert_nonnull (other);
          g_assert_true (other != nodes[i]);

          /* Known from its node record once it has arrived; a link may come first. */
          if (json_array_get_length (endpoints) > 0)
            {
              endpoint = g_strdup_printf ("127.0.0.1:%u", other->port);
              g_assert_cmpuint (json_array_get_length (endpoints), ==, 1);
              g_assert_cmpstr (json_array_get_string_element (endpoints, 0), ==, endpoint);
            }
          g_assert_true (json_object_get_boolean_member (peer, "connected"));
          g_assert_false (JSON_NODE_HOLDS_NULL (json_object_get_member (peer, "last-seen")));
        }
    }

  for (guint i = 0; i < N_NODES; i++)
    node_process_stop (nodes[i]);
  for (guint i = 0; i < N_NODES; i++)
    node_process_free (nodes[i]);
  node_remove_tree (root);
}

/* A node refuses a data folder another node runs in, and replaces the socket left by one
 * that was killed; the human-readable listing works; errors are one line. */
static void
test_data_folder (void)
{
  g_autofree char *root = node_make_tmp_dir ();
  g_autofree char *password = password_file (root);
  NodeProcess *node = node_process_new (root, "node", password);
  g_autofree char *socket_path = g_build_filename (node->dir, "control.sock", NULL);
  const char *extra[] = { "--listen", "127.0.0.1:0", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  GStatBuf st;
  int status;

  /* Nobody there yet. */
  {
    const char *argv[] = { "peers", "--data-dir", node->dir, NULL };

    status = node_run_command (NULL, argv, &out, &err);
    g_assert_cmpint (status, ==, 1);
    g_assert_cmpstr (out, ==, "");
    g_assert_true (g_str_has_prefix (err, "kiln-node: no node is running with the data folder"));
    g_assert_cmpuint (strlen (err), ==, strchr (err, '\n') - err + 1);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  node_process_start (node, NULL, password, extra);
  node_process_wait_port (node);
  g_assert_cmpint (g_stat (socket_path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* A second node in the same folder is refused, and leaves the first one's socket. */
  {
    const char *argv[] = { "run", "--data-dir", node->dir, "--password-file", password,
                           "--listen", "127.0.0.1:0", NULL };

    status = node_run_command (NULL, argv, &out, &err);
    g_assert_cmpint (status, ==, 1);
    g_assert_nonnull (strstr (err, "already running"));
    g_assert_cmpuint (strlen (err), ==, strchr (err, '\n') - err + 1);
    g_assert_true (g_file_test (socket_path, G_FILE_TEST_EXISTS));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  /* The table for people. */
  {
    const char *argv[] = { "peers", "--data-dir", node->dir, NULL };

    status = node_run_command (NULL, argv, &out, &err);
    g_assert_cmpint (status, ==, 0);
    g_assert_nonnull (strstr (out, node->address));
    g_assert_nonnull (strstr (out, "No peers known yet."));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  /* Killed: the socket stays behind, and the next node takes its place. */
  g_subprocess_send_signal (node->process, SIGKILL);
  g_subprocess_wait (node->process, NULL, NULL);
  g_clear_object (&node->process);
  g_assert_true (g_file_test (socket_path, G_FILE_TEST_EXISTS));
  node_process_start (node, NULL, password, extra);
  node_process_wait_port (node);
  node_process_stop (node);

  node_process_free (node);
  node_remove_tree (root);
}

static void
test_usage (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  {
    const char *argv[] = { "run", "--help", NULL };

    g_assert_cmpint (node_run_command (NULL, argv, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "--listen"));
    g_assert_nonnull (strstr (out, "--bootstrap"));
    g_assert_nonnull (strstr (out, "--lan"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { "peers", "--help", NULL };

    g_assert_cmpint (node_run_command (NULL, argv, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "--json"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  /* Wrong values are usage errors (status 2), found before any password is asked. */
  {
    const char *bad[][3] = {
      { "--listen", "127.0.0.1", NULL },
      { "--listen", "localhost:4747", NULL },
      { "--listen", "127.0.0.1:70000", NULL },
      { "--bootstrap", ":4747", NULL },
      { "--bootstrap", "[::1:4747", NULL },
      { "--roles", "lender", NULL },
      { "--max-links", "0", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        const char *argv[] = { "run", "--data-dir", "/nonexistent", bad[i][0], bad[i][1], NULL };

        g_assert_cmpint (node_run_command (NULL, argv, &out, &err), ==, 2);
        g_assert_true (g_str_has_prefix (err, "kiln-node: "));
        g_assert_cmpuint (strlen (err), ==, strchr (err, '\n') - err + 1);
        g_clear_pointer (&out, g_free);
        g_clear_pointer (&err, g_free);
      }
  }
}

/* LAN discovery between two network namespaces joined by a veth pair. The namespaces are
 * made here and always removed here; the nodes run in a subprocess of the test, so that
 * a failed assertion still leaves this process to clean up. */

typedef struct
{
  char *ns[2];
  char *veth[2];
  char *address[2];   /* 10.213.N.1 and 10.213.N.2 */
} Lan;

static gboolean
run_ip (GError **error,
        ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err = NULL;
  const char *arg;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, (gpointer) "ip");
  va_start (args, error);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     &err, &status, error) ||
      !g_spawn_check_wait_status (status, error))
    {
      g_prefix_error (error, "ip %s: %s: ", (const char *) argv->pdata[1],
                      err != NULL ? g_strstrip (err) : "");
      return FALSE;
    }

  return TRUE;
}

static void
lan_init (Lan *lan)
{
  guint pid = getpid ();

  lan->ns[0] = g_strdup_printf ("kiln-lan-a-%u", pid);
  lan->ns[1] = g_strdup_printf ("kiln-lan-b-%u", pid);
  /* Interface names have at most 15 characters. */
  lan->veth[0] = g_strdup_printf ("kla%u", pid % 1000000);
  lan->veth[1] = g_strdup_printf ("klb%u", pid % 1000000);
  lan->address[0] = g_strdup_printf ("10.213.%u.1", pid % 250 + 1);
  lan->address[1] = g_strdup_printf ("10.213.%u.2", pid % 250 + 1);
}

/* Kills what still runs in the namespaces and removes them. */
static void
lan_tear_down (Lan *lan)
{
  for (guint i = 0; i < 2; i++)
    {
      const char *argv[] = { "ip", "netns", "pids", lan->ns[i], NULL };
      g_autofree char *out = NULL;
      g_auto(GStrv) pids = NULL;

      if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH |
                        G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, NULL, NULL) &&
          out != NULL)
        {
          pids = g_strsplit (g_strstrip (out), "\n", -1);
          for (guint j = 0; pids[j] != NULL; j++)
            {
              guint64 pid;

              if (g_ascii_string_to_unsigned (pids[j], 10, 1, G_MAXINT, &pid, NULL))
                kill ((pid_t) pid, SIGKILL);
            }
        }
      run_ip (NULL, "netns", "del", lan->ns[i], NULL);
    }

  for (guint i = 0; i < 2; i++)
    {
      g_free (lan->ns[i]);
      g_free (lan->veth[i]);
      g_free (lan->address[i]);
    }
}

static gboolean
lan_set_up (Lan     *lan,
            GError **error)
{
  if (!run_ip (error, "netns", "add", lan->ns[0], NULL) ||
      !run_ip (error, "netns", "add", lan->ns[1], NULL) ||
      !run_ip (error, "link", "add", lan->veth[0], "netns", lan->ns[0], "type", "veth",
               "peer", "name", lan->veth[1], "netns", lan->ns[1], NULL))
    return FALSE;

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *cidr = g_strconcat (lan->address[i], "/24", NULL);

      if (!run_ip (error, "-n", lan->ns[i], "link", "set", "lo", "up", NULL) ||
          !run_ip (error, "-n", lan->ns[i], "addr", "add", cidr, "dev", lan->veth[i], NULL) ||
          !run_ip (error, "-n", lan->ns[i], "link", "set", lan->veth[i], "up", NULL) ||
          !run_ip (error, "-n", lan->ns[i], "route", "add", "224.0.0.0/4", "dev", lan->veth[i],
                   NULL))
        return FALSE;
    }

  return TRUE;
}

/* In the subprocess: two nodes with --lan and no bootstrap, one per namespace. */
static void
lan_nodes (void)
{
  const char *ns[] = { g_getenv ("KILN_LAN_NS_A"), g_getenv ("KILN_LAN_NS_B") };
  const char *ip[] = { g_getenv ("KILN_LAN_IP_A"), g_getenv ("KILN_LAN_IP_B") };
  g_autofree char *root = node_make_tmp_dir ();
  g_autofree char *password = password_file (root);
  g_autoptr(GPtrArray) addresses = g_ptr_array_new ();
  NodeProcess *nodes[2];
  gint64 deadline;
  gint64 started;

  for (guint i = 0; i < 2; i++)
    {
      const char *wrapper[] = { "ip", "netns", "exec", ns[i], NULL };
      const char *extra[] = { "--lan", NULL };

      g_assert_nonnull (ns[i]);
      nodes[i] = node_process_new (root, i == 0 ? "a" : "b", password);
      g_ptr_array_add (addresses, nodes[i]->address);
      node_process_start (nodes[i], wrapper, password, extra);
    }
  started = g_get_monotonic_time ();
  for (guint i = 0; i < 2; i++)
    g_assert_cmpuint (node_process_wait_port (nodes[i]), ==, 4747);

  deadline = g_get_monotonic_time () + NODE_DEADLINE_S * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(JsonObject) a = node_process_peers (nodes[0]);
      g_autoptr(JsonObject) b = node_process_peers (nodes[1]);

      if (node_count_connected (a, addresses) == 1 && node_count_connected (b, addresses) == 1)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      node_poll_pause (250);
    }
  g_test_message ("two nodes found each other on the LAN in %.1f s",
                  (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC);

  /* Each knows the other at its address on the LAN, as announced by the other. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(JsonObject) reply = node_process_peers (nodes[i]);
      JsonObject *self = json_object_get_object_member (reply, "node");
      JsonArray *peers = json_object_get_array_member (reply, "peers");
      JsonArray *endpoints = json_object_get_array_member (self, "endpoints");
      g_autofree char *own = g_strdup_printf ("%s:4747", ip[i]);

      g_assert_true (json_object_get_boolean_member (self, "lan"));
      g_assert_cmpuint (json_array_get_length (endpoints), ==, 1);
      g_assert_cmpstr (json_array_get_string_element (endpoints, 0), ==, own);
      g_assert_cmpuint (json_array_get_length (peers), ==, 1);
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (peers, 0),
                                                      "address"), ==, nodes[1 - i]->address);
    }

  for (guint i = 0; i < 2; i++)
    node_process_stop (nodes[i]);
  for (guint i = 0; i < 2; i++)
    node_process_free (nodes[i]);
  node_remove_tree (root);
}

static void
test_lan (void)
{
  g_autoptr(GError) error = NULL;
  Lan lan = { { NULL } };

  if (g_test_subprocess ())
    {
      lan_nodes ();
      return;
    }

  if (getuid () != 0)
    {
      g_test_skip ("LAN discovery needs root to make network namespaces");
      return;
    }

  lan_init (&lan);
  if (!lan_set_up (&lan, &error))
    {
      g_autofree char *message = g_strdup_printf ("Cannot make network namespaces here (%s)",
                                                  error->message);

      lan_tear_down (&lan);
      g_test_skip (message);
      return;
    }

  g_setenv ("KILN_LAN_NS_A", lan.ns[0], TRUE);
  g_setenv ("KILN_LAN_NS_B", lan.ns[1], TRUE);
  g_setenv ("KILN_LAN_IP_A", lan.address[0], TRUE);
  g_setenv ("KILN_LAN_IP_B", lan.address[1], TRUE);
  g_test_trap_subprocess (NULL, (NODE_DEADLINE_S + 60) * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  lan_tear_down (&lan);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/cli/node/usage", test_usage);
  g_test_add_func ("/kiln/cli/node/data-folder", test_data_folder);
  g_test_add_func ("/kiln/cli/node/ten-nodes", test_ten_nodes);
  g_test_add_func ("/kiln/cli/node/lan", test_lan);

  return g_test_run ();
}
