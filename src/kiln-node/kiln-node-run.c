/* kiln-node-run.c: kiln-node run (the node itself) and kiln-node peers (asking it)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `run` opens the account and the data folder, starts a KilnEngine and a control socket in
 * the data folder, and runs until SIGINT or SIGTERM, then says goodbye to its peers and
 * exits 0. With --lend it is also a provider (kiln-node-lend.c), which on a signal first
 * hands its running assignments back. `peers` asks the node running with the same data
 * folder, through that socket.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "kiln-engine.h"
#include "kiln-control.h"

#include "kiln-node-account.h"
#include "kiln-node-cli.h"
#include "kiln-node-lend.h"

/* The engine's log domains, shown by --verbose. */
#define VERBOSE_DOMAINS "Kiln KilnNode"

/* HOST:PORT */

/* Splits "HOST:PORT", "[IPV6]:PORT", ":PORT" or "*:PORT" (an empty host for the last two).
 * With @need_host, the host may not be empty; with @allow_zero, the port may be 0. */
static gboolean
parse_host_port (const char  *text,
                 const char  *option,
                 gboolean     need_host,
                 gboolean     allow_zero,
                 char       **host,
                 guint16     *port,
                 GError     **error)
{
  g_autofree char *host_part = NULL;
  const char *colon;
  guint64 number;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');

      if (end == NULL || end[1] != ':')
        goto bad;
      host_part = g_strndup (text + 1, end - text - 1);
      colon = end + 1;
      if (!g_hostname_is_ip_address (host_part) || strchr (host_part, ':') == NULL)
        goto bad;
    }
  else
    {
      colon = strrchr (text, ':');
      if (colon == NULL)
        goto bad;
      host_part = g_strndup (text, colon - text);
      if (strchr (host_part, ':') != NULL)
        goto bad;
    }

  if (g_str_equal (host_part, "*"))
    g_clear_pointer (&host_part, g_free);
  if (host_part != NULL && host_part[0] == '\0')
    g_clear_pointer (&host_part, g_free);
  if (need_host && host_part == NULL)
    goto bad;

  if (!g_ascii_string_to_unsigned (colon + 1, 10, allow_zero ? 0 : 1, G_MAXUINT16, &number,
                                   NULL))
    goto bad;

  *host = g_steal_pointer (&host_part);
  *port = number;
  return TRUE;

bad:
  g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
               need_host ? _("%s needs HOST:PORT (IPv6 as [ADDR]:PORT), not “%s”")
                         : _("%s needs [HOST]:PORT (IPv6 as [ADDR]:PORT), not “%s”"),
               option, text);
  return FALSE;
}

static const struct
{
  const char *name;
  KilnDhtRole role;
} role_names[] = {
  { "provider", KILN_DHT_ROLE_PROVIDER },
  { "requestor", KILN_DHT_ROLE_REQUESTOR },
  { "bootstrap", KILN_DHT_ROLE_BOOTSTRAP },
};

static gboolean
parse_roles (const char  *text,
             guint       *roles,
             GError     **error)
{
  g_auto(GStrv) names = g_strsplit (text, ",", -1);

  *roles = 0;
  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *name = g_strstrip (names[i]);
      guint j;

      for (j = 0; j < G_N_ELEMENTS (role_names); j++)
        if (g_str_equal (name, role_names[j].name))
          break;

      if (j == G_N_ELEMENTS (role_names))
        {
          g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                       _("--roles takes provider, requestor and bootstrap separated by "
                         "commas, not “%s”"), name);
          return FALSE;
        }
      *roles |= role_names[j].role;
    }

  return TRUE;
}

static void
json_add_roles (JsonBuilder *builder,
                guint        roles)
{
  json_builder_begin_array (builder);
  for (guint i = 0; i < G_N_ELEMENTS (role_names); i++)
    if (roles & role_names[i].role)
      json_builder_add_string_value (builder, role_names[i].name);
  json_builder_end_array (builder);
}

static void
json_add_strv (JsonBuilder        *builder,
               const char * const *strv)
{
  json_builder_begin_array (builder);
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    json_builder_add_string_value (builder, strv[i]);
  json_builder_end_array (builder);
}

/* Unix seconds, or null for 0 (never). */
static void
json_add_time (JsonBuilder *builder,
               const char  *name,
               gint64       usec)
{
  json_builder_set_member_name (builder, name);
  if (usec == 0)
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, usec / G_USEC_PER_SEC);
}

/* The control socket's answers */

typedef struct
{
  KilnEngine   *engine;    /* NULL while starting */
  KilnNodeLend *lend;      /* with --lend */
  gboolean      stopping;
  gboolean      done;
  GError       *error;
} Run;

static void
json_add_node (JsonBuilder *builder,
               KilnEngine  *engine)
{
  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, kiln_engine_get_address_string (engine));
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder,
                                 g_enum_get_value (g_type_class_peek (KILN_TYPE_ENGINE_STATE),
                                                   kiln_engine_get_state (engine))->value_nick);
  json_builder_set_member_name (builder, "listen-host");
  if (kiln_engine_get_listen_host (engine) != NULL)
    json_builder_add_string_value (builder, kiln_engine_get_listen_host (engine));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "listen-port");
  json_builder_add_int_value (builder, kiln_engine_get_listen_port (engine));
  json_builder_set_member_name (builder, "endpoints");
  json_add_strv (builder, kiln_engine_get_endpoints (engine));
  json_builder_set_member_name (builder, "roles");
  json_add_roles (builder, kiln_engine_get_roles (engine));
  json_builder_set_member_name (builder, "lan");
  json_builder_add_boolean_value (builder, kiln_engine_get_lan (engine));
  json_builder_set_member_name (builder, "reachable");
  json_builder_add_boolean_value (builder, kiln_engine_get_reachable (engine));
  json_builder_set_member_name (builder, "dht-nodes");
  json_builder_add_int_value (builder, kiln_engine_get_n_dht_nodes (engine));
  json_builder_set_member_name (builder, "connected");
  json_builder_add_int_value (builder, kiln_engine_get_n_connected (engine));
}

static void
json_add_peer (JsonBuilder    *builder,
               KilnEnginePeer *peer)
{
  gboolean connected = kiln_engine_peer_get_connected (peer);
  gint64 latency = kiln_engine_peer_get_latency (peer);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, kiln_engine_peer_get_address_string (peer));
  json_builder_set_member_name (builder, "endpoints");
  json_add_strv (builder, kiln_engine_peer_get_endpoints (peer));
  json_builder_set_member_name (builder, "roles");
  json_add_roles (builder, kiln_engine_peer_get_roles (peer));
  json_builder_set_member_name (builder, "connected");
  json_builder_add_boolean_value (builder, connected);
  json_builder_set_member_name (builder, "inbound");
  if (connected)
    json_builder_add_boolean_value (builder, kiln_engine_peer_get_inbound (peer));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "remote-address");
  if (kiln_engine_peer_get_remote_address (peer) != NULL)
    json_builder_add_string_value (builder, kiln_engine_peer_get_remote_address (peer));
  else
    json_builder_add_null_value (builder);
  json_add_time (builder, "connected-since", kiln_engine_peer_get_connected_since (peer));
  json_add_time (builder, "last-seen", kiln_engine_peer_get_last_seen (peer));
  json_builder_set_member_name (builder, "latency-ms");
  if (latency >= 0)
    json_builder_add_double_value (builder, latency / 1000.0);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "failures");
  json_builder_add_int_value (builder, kiln_engine_peer_get_failures (peer));
  json_builder_end_object (builder);
}

/* The bans in force, as "bans": [{ "address", "until" (Unix seconds), "reason" }]. */
static void
json_add_bans (JsonBuilder *builder,
               KilnEngine  *engine)
{
  g_autoptr(GPtrArray) bans = NULL;

  bans = kiln_message_guard_list_bans (kiln_engine_get_message_guard (engine));
  json_builder_set_member_name (builder, "bans");
  json_builder_begin_array (builder);
  for (guint i = 0; i < bans->len; i++)
    {
      KilnMessageBan *ban = g_ptr_array_index (bans, i);
      char address[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (&ban->address, address);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "address");
      json_builder_add_string_value (builder, address);
      json_builder_set_member_name (builder, "until");
      json_builder_add_int_value (builder, ban->until);
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, ban->reason);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static JsonNode *
answer_request (KilnControl  *control,
                const char   *method,
                JsonObject   *params,
                gpointer      user_data,
                GError      **error)
{
  Run *run = user_data;
  KilnEngine *engine = run->engine;
  g_autoptr(JsonBuilder) builder = NULL;

  if (!g_str_equal (method, "status") && !g_str_equal (method, "peers"))
    {
      g_set_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_UNKNOWN_METHOD,
                   _("Unknown method “%s”; this node knows “status” and “peers”"), method);
      return NULL;
    }
  if (engine == NULL)
    {
      g_set_error_literal (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_FAILED,
                           _("The node is still starting; ask again in a moment"));
      return NULL;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "node");
  json_builder_begin_object (builder);
  json_add_node (builder, engine);
  json_builder_end_object (builder);
  json_add_bans (builder, engine);

  if (g_str_equal (method, "peers"))
    {
      GListModel *peers = kiln_engine_get_peers (engine);

      json_builder_set_member_name (builder, "peers");
      json_builder_begin_array (builder);
      for (guint i = 0; i < g_list_model_get_n_items (peers); i++)
        {
          g_autoptr(KilnEnginePeer) peer = g_list_model_get_item (peers, i);

          json_add_peer (builder, peer);
        }
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* kiln-node run */

static void
on_stopped (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Run *run = user_data;

  kiln_engine_stop_finish (KILN_ENGINE (object), result, &run->error);
  run->done = TRUE;
}

static gboolean
on_signal (gpointer user_data)
{
  Run *run = user_data;

  if (!run->stopping)
    {
      run->stopping = TRUE;
      /* First the work: it is handed back while the links are still open. */
      if (run->lend != NULL)
        kiln_node_lend_stop (run->lend);
      g_message ("Stopping: saying goodbye to the peers (signal again to stop at once)");
      kiln_engine_stop_async (run->engine, NULL, on_stopped, run);
    }
  else
    kiln_engine_stop (run->engine);

  return G_SOURCE_CONTINUE;
}

static void
print_started (KilnNodeContext *ctx,
               KilnEngine      *engine,
               const char      *socket_path)
{
  const char * const *endpoints = kiln_engine_get_endpoints (engine);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *display = kiln_node_display_path (socket_path);

      json_builder_begin_object (builder);
      json_add_node (builder, engine);
      json_builder_set_member_name (builder, "control-socket");
      json_builder_add_string_value (builder, display);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      kiln_node_print_json (root);
    }
  else
    {
      g_autofree char *list = g_strjoinv (", ", (char **) endpoints);

      g_print (_("Node %s running on port %u, reachable at %s\n"),
               kiln_engine_get_address_string (engine), kiln_engine_get_listen_port (engine),
               list);
    }

  fflush (stdout);
}

static gboolean
node_run (KilnNodeContext  *ctx,
          int               argc,
          char            **argv,
          GError          **error)
{
  g_autofree char *listen = NULL;
  g_auto(GStrv) bootstrap = NULL;
  g_autofree char *roles_text = NULL;
  gboolean lan = FALSE;
  gboolean verbose = FALSE;
  int max_links = KILN_ENGINE_MAX_LINKS;
  g_auto(KilnNodeLendOptions) lend_options = KILN_NODE_LEND_OPTIONS_INIT;
  g_autoptr(GArray) entries = g_array_new (FALSE, FALSE, sizeof (GOptionEntry));
  const GOptionEntry run_entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      N_("Listen for links on HOST:PORT, and for discovery on the same UDP port (default: "
         "*:4747, every interface; port 0 picks a free one)"), N_("HOST:PORT") },
    { "bootstrap", 0, 0, G_OPTION_ARG_STRING_ARRAY, &bootstrap,
      N_("Join the network through the node at HOST:PORT (repeatable)"), N_("HOST:PORT") },
    { "lan", 0, 0, G_OPTION_ARG_NONE, &lan,
      N_("Find nodes on the local network by multicast"), NULL },
    { "roles", 0, 0, G_OPTION_ARG_STRING, &roles_text,
      N_("What this node announces: provider, requestor, bootstrap, separated by commas "
         "(default: requestor; provider with --lend)"), N_("LIST") },
    { "max-links", 0, 0, G_OPTION_ARG_INT, &max_links,
      N_("Keep at most N links open (default: 32)"), N_("N") },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Log what the node does on standard error"), NULL },
  };
  const GOptionEntry end = G_OPTION_ENTRY_NULL;
  g_autoptr(KilnKey) key = NULL;
  g_autoptr(KilnStore) store = NULL;
  g_autoptr(KilnControl) control = NULL;
  g_autoptr(KilnEngine) engine = NULL;
  g_autoptr(KilnNodeLend) lend = NULL;
  g_autofree char *host = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *socket_path = NULL;
  guint roles = KILN_DHT_ROLE_REQUESTOR;
  guint16 port = KILN_ENGINE_DEFAULT_PORT;
  Run run = { 0 };
  guint sigint_id;
  guint sigterm_id;

  g_array_append_vals (entries, run_entries, G_N_ELEMENTS (run_entries));
  kiln_node_lend_add_entries (entries, &lend_options);
  g_array_append_val (entries, end);
  if (!kiln_node_context_parse_options (ctx, (const GOptionEntry *) entries->data, NULL, &argc,
                                        &argv, error))
    return FALSE;

  if (listen != NULL &&
      !parse_host_port (listen, "--listen", FALSE, TRUE, &host, &port, error))
    return FALSE;
  if (host != NULL && !g_hostname_is_ip_address (host))
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("--listen needs an IP address to listen on, not “%s”"), host);
      return FALSE;
    }
  for (guint i = 0; bootstrap != NULL && bootstrap[i] != NULL; i++)
    {
      g_autofree char *bootstrap_host = NULL;
      guint16 bootstrap_port;

      if (!parse_host_port (bootstrap[i], "--bootstrap", TRUE, FALSE, &bootstrap_host,
                            &bootstrap_port, error))
        return FALSE;
    }
  if (roles_text != NULL && !parse_roles (roles_text, &roles, error))
    return FALSE;
  if (!kiln_node_lend_check_options (&lend_options, error))
    return FALSE;
  if (lend_options.lend)
    roles = (roles_text != NULL ? roles : 0) | KILN_DHT_ROLE_PROVIDER;
  if (max_links < 1)
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("--max-links needs a positive number, not %d"), max_links);
      return FALSE;
    }
  /* Standard output is for the node's own lines (and lending's events); the log, --verbose
   * included, goes to standard error. */
  g_log_writer_default_set_use_stderr (TRUE);
  if (verbose)
    g_setenv ("G_MESSAGES_DEBUG", VERBOSE_DOMAINS, TRUE);

  /* Lending needs Blender and its benchmark: without them, no password is asked. */
  if (lend_options.lend)
    {
      lend = kiln_node_lend_new (ctx, &lend_options, error);
      if (lend == NULL)
        return FALSE;
    }

  key = kiln_node_account_unlock (ctx, NULL, error);
  if (key == NULL)
    return FALSE;

  if (!kiln_node_context_ensure_data_dir (ctx, error))
    return FALSE;
  data_dir = kiln_node_context_get_data_dir (ctx);

  /* First the socket: it tells whether another node already runs in this folder. */
  socket_path = g_build_filename (data_dir, KILN_CONTROL_SOCKET_NAME, NULL);
  control = kiln_control_new (socket_path, answer_request, &run, NULL);
  if (!kiln_control_start (control, error))
    return FALSE;

  db_path = g_build_filename (data_dir, KILN_STORE_FILE_NAME, NULL);
  store = kiln_store_new (db_path, NULL, error);
  if (store == NULL)
    return FALSE;

  engine = kiln_engine_new (key, store, data_dir, error);
  if (engine == NULL)
    return FALSE;
  kiln_engine_set_roles (engine, roles);
  kiln_engine_set_max_links (engine, max_links);

  if (!kiln_engine_start (engine, host, port, (const char * const *) bootstrap, lan, error))
    return FALSE;

  run.engine = engine;
  print_started (ctx, engine, socket_path);

  if (lend != NULL)
    {
      if (!kiln_node_lend_start (lend, engine, store, data_dir, error))
        {
          kiln_engine_stop (engine);
          kiln_control_stop (control);
          return FALSE;
        }
      run.lend = lend;
    }

  sigint_id = g_unix_signal_add (SIGINT, on_signal, &run);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &run);

  while (!run.done)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  kiln_control_stop (control);
  g_clear_pointer (&lend, kiln_node_lend_free);

  if (run.error != NULL)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }

  g_message ("Stopped");
  return TRUE;
}

/* kiln-node peers */

typedef struct
{
  JsonNode *result;
  GError   *error;
  gboolean  done;
} Call;

static void
on_called (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Call *call = user_data;

  call->result = kiln_control_call_finish (result, &call->error);
  call->done = TRUE;
}

static char *
describe_last_seen (gint64 usec,
                    gint64 now)
{
  gint64 seconds;
  gint64 days;

  if (usec == 0)
    return g_strdup (_("never"));

  seconds = (now - usec) / G_USEC_PER_SEC;
  if (seconds < 5)
    return g_strdup (_("now"));
  if (seconds < 60)
    return g_strdup_printf (_("%d s ago"), (int) seconds);
  if (seconds < 60 * 60)
    return g_strdup_printf (_("%d min ago"), (int) (seconds / 60));
  if (seconds < 24 * 60 * 60)
    return g_strdup_printf (_("%d h ago"), (int) (seconds / 3600));
  days = seconds / 86400;
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d day ago", "%d days ago", days),
                          (int) days);
}

static void
print_peer_table (JsonObject *result)
{
  JsonObject *node = json_object_get_object_member (result, "node");
  JsonArray *peers = json_object_get_array_member (result, "peers");
  gint64 now = g_get_real_time ();
  guint connected = 0;

  g_print (_("Node %s (%s, port %u)\n"),
           json_object_get_string_member (node, "address"),
           json_object_get_string_member (node, "state"),
           (guint) json_object_get_int_member (node, "listen-port"));

  if (json_array_get_length (peers) == 0)
    {
      g_print ("%s\n", _("No peers known yet."));
      return;
    }

  g_print ("%-42s  %-13s  %9s  %-12s  %s\n",
           _("ADDRESS"), _("LINK"), _("LATENCY"), _("LAST SEEN"), _("ENDPOINTS"));
  for (guint i = 0; i < json_array_get_length (peers); i++)
    {
      JsonObject *peer = json_array_get_object_element (peers, i);
      JsonArray *endpoints = json_object_get_array_member (peer, "endpoints");
      JsonNode *latency = json_object_get_member (peer, "latency-ms");
      JsonNode *last_seen = json_object_get_member (peer, "last-seen");
      gboolean is_connected = json_object_get_boolean_member (peer, "connected");
      g_autoptr(GString) list = g_string_new (NULL);
      g_autofree char *latency_text = NULL;
      g_autofree char *seen_text = NULL;
      const char *link;

      for (guint j = 0; j < json_array_get_length (endpoints); j++)
        g_string_append_printf (list, "%s%s", j > 0 ? ", " : "",
                                json_array_get_string_element (endpoints, j));
      if (list->len == 0)
        g_string_append (list, "—");

      if (is_connected)
        {
          connected++;
          link = json_object_get_boolean_member (peer, "inbound") ? _("connected in")
                                                                   : _("connected out");
        }
      else
        link = _("not connected");

      latency_text = JSON_NODE_HOLDS_NULL (latency)
                       ? g_strdup ("—")
                       : g_strdup_printf ("%.1f ms", json_node_get_double (latency));
      seen_text = describe_last_seen (JSON_NODE_HOLDS_NULL (last_seen)
                                        ? 0
                                        : json_node_get_int (last_seen) * G_USEC_PER_SEC,
                                      now);

      g_print ("%-42s  %-13s  %9s  %-12s  %s\n",
               json_object_get_string_member (peer, "address"), link, latency_text,
               seen_text, list->str);
    }

  g_print (ngettext ("%u peer, %u connected\n", "%u peers, %u connected\n",
                     json_array_get_length (peers)),
           json_array_get_length (peers), connected);
}

static void
print_bans (JsonObject *result)
{
  JsonArray *bans;

  if (!json_object_has_member (result, "bans"))
    return;

  bans = json_object_get_array_member (result, "bans");
  for (guint i = 0; bans != NULL && i < json_array_get_length (bans); i++)
    {
      JsonObject *ban = json_array_get_object_element (bans, i);
      g_autoptr(GDateTime) until = NULL;
      g_autofree char *when = NULL;

      until = g_date_time_new_from_unix_local (json_object_get_int_member (ban, "until"));
      when = until != NULL ? g_date_time_format (until, "%Y-%m-%d %H:%M") : g_strdup ("—");
      g_print (_("Banned %s until %s: %s\n"), json_object_get_string_member (ban, "address"),
               when, json_object_get_string_member (ban, "reason"));
    }
}

static gboolean
node_peers (KilnNodeContext  *ctx,
            int               argc,
            char            **argv,
            GError          **error)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *display = NULL;
  JsonObject *result;
  Call call = { 0 };

  if (!kiln_node_context_parse_options (ctx, NULL, NULL, &argc, &argv, error))
    return FALSE;

  data_dir = kiln_node_context_get_data_dir (ctx);
  socket_path = g_build_filename (data_dir, KILN_CONTROL_SOCKET_NAME, NULL);
  kiln_control_call_async (socket_path, "peers", NULL, NULL, on_called, &call);
  while (!call.done)
    g_main_context_iteration (NULL, TRUE);

  if (call.result == NULL)
    {
      display = kiln_node_display_path (data_dir);
      if (g_error_matches (call.error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_NOT_RUNNING))
        g_set_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_NOT_RUNNING,
                     _("no node is running with the data folder “%s”; start one with "
                       "“kiln-node run”"), display);
      else
        g_set_error (error, call.error->domain, call.error->code,
                     _("could not ask the node running with the data folder “%s”: %s"),
                     display, call.error->message);
      g_clear_error (&call.error);
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (call.result) ||
      !json_object_has_member (json_node_get_object (call.result), "peers"))
    {
      json_node_unref (call.result);
      g_set_error_literal (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_PROTOCOL,
                           _("the node’s answer has no list of peers"));
      return FALSE;
    }

  result = json_node_get_object (call.result);
  if (ctx->json)
    kiln_node_print_json (call.result);
  else
    {
      print_peer_table (result);
      print_bans (result);
    }

  json_node_unref (call.result);
  return TRUE;
}

const KilnNodeCommand kiln_node_run_command = {
  "run",
  N_("Run the node until it is stopped"),
  N_("Opens the account and the data folder, listens for other nodes, joins the\n"
     "network through --bootstrap nodes, the peers it remembers and, with --lan,\n"
     "the local network, and keeps links to the nodes it finds. Runs until SIGINT\n"
     "or SIGTERM, then closes its links cleanly and exits 0. While it runs,\n"
     "“kiln-node peers” with the same --data-dir shows its peers (through the\n"
     "socket DIR/control.sock, private to the user).\n"
     "\n"
     "With --lend the node is also a provider: it offers on render tasks within\n"
     "--cores, --memory and --min-price, renders the subtasks it is assigned with\n"
     "Blender in a sandbox, and is paid in GNT to its own account. Without a desktop\n"
     "session the computer counts as idle (--idle-only follows the session where\n"
     "there is one). Each event is one line on standard output (with --json, one\n"
     "JSON object with an \"event\" member): lending, offered, accepted, rendering,\n"
     "result-sent, ended, earned, paid, confirmed, unconfirmed, paused, resumed,\n"
     "stopped. Earnings are kept in DIR/kiln.db and count once the chain shows the\n"
     "payment. On SIGINT or SIGTERM, running subtasks are handed back first."),
  node_run,
  NULL,
};

const KilnNodeCommand kiln_node_peers_command = {
  "peers",
  N_("List the peers of the node running with this data folder"),
  N_("Asks the node started by “kiln-node run” with the same --data-dir for the\n"
     "nodes it knows: address, announced endpoints, whether a link is open (and\n"
     "who dialled), its latency and when it was last seen. Fails if no node is\n"
     "running there."),
  node_peers,
  NULL,
};
