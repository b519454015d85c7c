/* kiln-test-sandbox.c: what code inside a sandbox can do, checked the same way for
 * every backend
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sched.h>

#include <json-glib/json-glib.h>

#include "kiln-test-sandbox.h"

char *
kiln_test_sandbox_run (KilnSandbox         *sandbox,
                       const char          *writable,
                       const char * const  *readonly,
                       const char * const  *command,
                       int                 *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  char *output = NULL;

  process = kiln_sandbox_spawn (sandbox, writable, readonly, command, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  *status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  return output;
}

int
kiln_test_usable_cpu_count (void)
{
  cpu_set_t set;

  CPU_ZERO (&set);
  g_assert_cmpint (sched_getaffinity (0, sizeof set, &set), ==, 0);
  return CPU_COUNT (&set);
}

/* Runs tests/data/sandbox/@script with @args in @sandbox; its JSON answer. */
static JsonObject *
run_script (KilnSandbox         *sandbox,
            const char          *script,
            const char          *work,
            const char * const  *readonly,
            const char * const  *args)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "sandbox", script, NULL);
  g_autofree char *program = NULL;
  g_autofree char *output = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) command = NULL;
  JsonNode *root;
  int status;

  /* Given as text: the source tree need not be visible in the sandbox. */
  g_file_get_contents (path, &program, NULL, &error);
  g_assert_no_error (error);
  g_strv_builder_add_many (builder, "/usr/bin/python3", "-c", program, NULL);
  g_strv_builder_addv (builder, (const char **) args);
  command = g_strv_builder_end (builder);

  output = kiln_test_sandbox_run (sandbox, work, readonly, (const char * const *) command,
                                  &status);
  g_test_message ("%s: %s", script, output);
  g_assert_cmpint (status, ==, 0);
  json_parser_load_from_data (parser, output, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

void
kiln_test_sandbox_assert_limits (KilnSandbox         *sandbox,
                                 const char          *work,
                                 guint64              memory,
                                 const char * const  *hidden)
{
  const char * const none[] = { NULL };
  g_autoptr(JsonObject) result = NULL;

  result = run_script (sandbox, "limits.py", work, NULL, hidden != NULL ? hidden : none);
  g_assert_true (json_object_get_boolean_member (result, "idle"));
  g_assert_cmpint (json_object_get_int_member (result, "nice"), ==, 19);
  g_assert_cmpint (json_object_get_int_member (result, "data"), ==, (gint64) memory);
  g_assert_cmpint (json_object_get_int_member (result, "core"), ==, 0);
  /* "cpu-limit" is a thread count, not an affinity (see kiln-sandbox.c). */
  g_assert_cmpint (json_object_get_int_member (result, "cpus"), ==,
                   kiln_test_usable_cpu_count ());
  g_assert_cmpint (json_object_get_int_member (result, "caps"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (result, "hostname"), ==, "kiln-sandbox");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (result, "visible")),
                    ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (result, "env")),
                    <=, 5);
}

void
kiln_test_sandbox_assert_escapes_fail (KilnSandbox *sandbox,
                                       const char  *work,
                                       const char  *scene_dir,
                                       const char  *markers,
                                       guint16      port,
                                       const char  *secret)
{
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  const char * const readonly[] = { scene_dir, NULL };
  const char * const args[] = { markers, scene_dir, port_text, secret, NULL };
  g_autoptr(JsonObject) result = NULL;
  JsonArray *interfaces;

  result = run_script (sandbox, "escape-attempts.py", work, readonly, args);

  /* The markers folder does not exist in there; the scene folder and the system are
   * read-only; $HOME is a private tmpfs; only the work folder reaches the disk. */
  g_assert_cmpstr (json_object_get_string_member (result, "outside"), ==,
                   "No such file or directory");
  g_assert_cmpstr (json_object_get_string_member (result, "beside"), ==,
                   "Read-only file system");
  g_assert_cmpstr (json_object_get_string_member (result, "usr"), ==, "Read-only file system");
  g_assert_cmpstr (json_object_get_string_member (result, "root"), ==, "Read-only file system");
  g_assert_cmpstr (json_object_get_string_member (result, "home"), ==, "written");
  g_assert_cmpstr (json_object_get_string_member (result, "work"), ==, "written");
  if (secret != NULL)
    g_assert_cmpstr (json_object_get_string_member (result, "secret"), ==,
                     "No such file or directory");
  g_assert_cmpstr (json_object_get_string_member (result, "socket"), !=, "connected");
  interfaces = json_object_get_array_member (result, "interfaces");
  g_assert_cmpuint (json_array_get_length (interfaces), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (interfaces, 0), ==, "lo");
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           user_data)
{
  KilnTestListener *listener = user_data;

  listener->connections++;
  return FALSE;
}

void
kiln_test_listener_start (KilnTestListener *listener)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  listener->connections = 0;
  listener->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (listener->service), any,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound,
                                 &error);
  g_assert_no_error (error);
  listener->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (listener->service, "incoming", G_CALLBACK (on_incoming), listener);
  g_socket_service_start (listener->service);
}

void
kiln_test_listener_stop (KilnTestListener *listener)
{
  g_socket_service_stop (listener->service);
  g_socket_listener_close (G_SOCKET_LISTENER (listener->service));
  g_clear_object (&listener->service);
}

void
kiln_test_listener_drain (KilnTestListener *listener,
                          guint             milliseconds)
{
  gint64 deadline = g_get_monotonic_time () + milliseconds * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10 * 1000);
    }
}
