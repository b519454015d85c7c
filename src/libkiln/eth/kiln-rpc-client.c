/* kiln-rpc-client.c: an Ethereum node's JSON-RPC API over HTTP(S)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>

#include "kiln-rpc-client-private.h"
#include "kiln-rpc-parse.h"

#define RETRY_BASE_DELAY_MS 250
#define RETRY_MAX_DELAY_MS  2000
/* A node asking to wait longer than this (Retry-After) ends the request instead. */
#define RETRY_AFTER_MAX_S   5
#define READ_CHUNK_SIZE     (64 * 1024)
#define IDLE_TIMEOUT_S      30
#define MAX_TIMEOUT_S       3600
#define MAX_ATTEMPTS        10

enum {
  PROP_0,
  PROP_URL,
  PROP_DISPLAY_NAME,
  PROP_TIMEOUT,
  PROP_MAX_ATTEMPTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KilnRpcClient, kiln_rpc_client, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

/* Construction */

static gboolean
kiln_rpc_client_initable_init (GInitable     *initable,
                               GCancellable  *cancellable,
                               GError       **error)
{
  KilnRpcClient *self = KILN_RPC_CLIENT (initable);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *scheme;
  const char *host;

  if (self->url == NULL || *self->url == '\0')
    {
      g_set_error_literal (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_URL,
                           _("No Ethereum node URL is set"));
      return FALSE;
    }

  uri = g_uri_parse (self->url, SOUP_HTTP_URI_FLAGS, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_URL,
                   _("“%s” is not a valid Ethereum node URL: %s"), self->url,
                   local_error->message);
      return FALSE;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_URL,
                   _("The Ethereum node URL “%s” must start with http:// or https://"),
                   self->url);
      return FALSE;
    }

  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0')
    {
      g_set_error (error, KILN_RPC_ERROR, KILN_RPC_ERROR_INVALID_URL,
                   _("The Ethereum node URL “%s” names no host"), self->url);
      return FALSE;
    }

  /* Messages show no path, query or user name: they often hold API keys. */
  self->display_name = g_uri_join (G_URI_FLAGS_NONE, scheme, NULL, host, g_uri_get_port (uri),
                                   "", NULL, NULL);
  self->uri = g_steal_pointer (&uri);
  return TRUE;
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = kiln_rpc_client_initable_init;
}

static void
kiln_rpc_client_dispose (GObject *object)
{
  KilnRpcClient *self = KILN_RPC_CLIENT (object);

  /* Every request holds a reference to the client: nothing is in flight here. */
  g_clear_object (&self->session);

  G_OBJECT_CLASS (kiln_rpc_client_parent_class)->dispose (object);
}

static void
kiln_rpc_client_finalize (GObject *object)
{
  KilnRpcClient *self = KILN_RPC_CLIENT (object);

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->uri, g_uri_unref);
  g_clear_pointer (&self->display_name, g_free);

  G_OBJECT_CLASS (kiln_rpc_client_parent_class)->finalize (object);
}

static void
kiln_rpc_client_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KilnRpcClient *self = KILN_RPC_CLIENT (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_MAX_ATTEMPTS:
      g_value_set_uint (value, self->max_attempts);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_rpc_client_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  KilnRpcClient *self = KILN_RPC_CLIENT (object);

  switch (prop_id)
    {
    case PROP_URL:
      self->url = g_value_dup_string (value);
      break;
    case PROP_TIMEOUT:
      kiln_rpc_client_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_MAX_ATTEMPTS:
      kiln_rpc_client_set_max_attempts (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_rpc_client_class_init (KilnRpcClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_rpc_client_dispose;
  object_class->finalize = kiln_rpc_client_finalize;
  object_class->get_property = kiln_rpc_client_get_property;
  object_class->set_property = kiln_rpc_client_set_property;

  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * KilnRpcClient:timeout:
   *
   * Seconds a request may take, from connecting to the last byte of the answer.
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       1, MAX_TIMEOUT_S, KILN_RPC_DEFAULT_TIMEOUT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_MAX_ATTEMPTS] =
    g_param_spec_uint ("max-attempts", NULL, NULL,
                       1, MAX_ATTEMPTS, KILN_RPC_DEFAULT_MAX_ATTEMPTS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_rpc_client_init (KilnRpcClient *self)
{
  self->timeout = KILN_RPC_DEFAULT_TIMEOUT;
  self->max_attempts = KILN_RPC_DEFAULT_MAX_ATTEMPTS;
  self->next_id = 1;
  self->session = soup_session_new_with_options ("timeout", self->timeout,
                                                 "idle-timeout", IDLE_TIMEOUT_S,
                                                 "user-agent", "Kiln/" PACKAGE_VERSION " ",
                                                 NULL);
}

KilnRpcClient *
kiln_rpc_client_new (const char  *url,
                     GError     **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (KILN_TYPE_RPC_CLIENT, NULL, error, "url", url, NULL);
}

const char *
kiln_rpc_client_get_url (KilnRpcClient *self)
{
  g_return_val_if_fail (KILN_IS_RPC_CLIENT (self), NULL);

  return self->url;
}

const char *
kiln_rpc_client_get_display_name (KilnRpcClient *self)
{
  g_return_val_if_fail (KILN_IS_RPC_CLIENT (self), NULL);

  return self->display_name;
}

guint
kiln_rpc_client_get_timeout (KilnRpcClient *self)
{
  g_return_val_if_fail (KILN_IS_RPC_CLIENT (self), 0);

  return self->timeout;
}

void
kiln_rpc_client_set_timeout (KilnRpcClient *self,
                             guint          seconds)
{
  g_return_if_fail (KILN_IS_RPC_CLIENT (self));
  g_return_if_fail (seconds >= 1 && seconds <= MAX_TIMEOUT_S);

  if (self->timeout == seconds)
    return;
  self->timeout = seconds;
  /* The session's own socket timeout, beside the whole-request deadline below. */
  g_object_set (self->session, "timeout", seconds, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

guint
kiln_rpc_client_get_max_attempts (KilnRpcClient *self)
{
  g_return_val_if_fail (KILN_IS_RPC_CLIENT (self), 0);

  return self->max_attempts;
}

void
kiln_rpc_client_set_max_attempts (KilnRpcClient *self,
                                  guint          max_attempts)
{
  g_return_if_fail (KILN_IS_RPC_CLIENT (self));
  g_return_if_fail (max_attempts >= 1 && max_attempts <= MAX_ATTEMPTS);

  if (self->max_attempts == max_attempts)
    return;
  self->max_attempts = max_attempts;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_ATTEMPTS]);
}

/* One request: attempts, each with a deadline, and waits between them */

typedef struct
{
  char         *method;
  GBytes       *body;
  gint64        id;
  guint         attempt;
  guint         timeout;
  guint         max_attempts;

  /* The current attempt. */
  GCancellable *attempt_cancellable;   /* cancelled by the caller's one or by the deadline */
  gulong        cancelled_id;
  GSource      *deadline_source;
  gboolean      timed_out;
  SoupMessage  *message;
  GInputStream *stream;
  GByteArray   *received;

  /* Between attempts. */
  GSource      *delay_source;
  GSource      *delay_cancel_source;
} Request;

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
request_end_attempt (Request      *request,
                     GCancellable *cancellable)
{
  if (request->cancelled_id != 0)
    {
      g_cancellable_disconnect (cancellable, request->cancelled_id);
      request->cancelled_id = 0;
    }
  clear_source (&request->deadline_source);
  g_clear_object (&request->attempt_cancellable);
  g_clear_object (&request->stream);
  g_clear_object (&request->message);
  g_clear_pointer (&request->received, g_byte_array_unref);
}

static void
request_end_delay (Request *request)
{
  clear_source (&request->delay_source);
  clear_source (&request->delay_cancel_source);
}

static void
request_free (gpointer data)
{
  Request *request = data;

  /* Attempts end before the task returns; this only drops what remains. */
  g_assert (request->cancelled_id == 0);
  request_end_attempt (request, NULL);
  request_end_delay (request);
  g_clear_pointer (&request->method, g_free);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request);
}

static GBytes *
build_body (gint64      id,
            const char *method,
            JsonNode   *params)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  gsize len;
  char *text;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "jsonrpc");
  json_builder_add_string_value (builder, "2.0");
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, id);
  json_builder_set_member_name (builder, "method");
  json_builder_add_string_value (builder, method);
  json_builder_set_member_name (builder, "params");
  if (params != NULL)
    json_builder_add_value (builder, json_node_copy (params));
  else
    {
      json_builder_begin_array (builder);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &len);
  return g_bytes_new_take (text, len);
}

static void start_attempt (GTask *task);

static void
return_error (GTask  *task,
              GError *error)
{
  Request *request = g_task_get_task_data (task);

  request_end_attempt (request, g_task_get_cancellable (task));
  request_end_delay (request);
  g_task_return_error (task, error);
}

static void
return_cancelled (GTask *task)
{
  return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                           _("The request to the Ethereum node was cancelled")));
}

static gboolean
on_retry_delay_done (gpointer user_data)
{
  GTask *task = user_data;

  request_end_delay (g_task_get_task_data (task));
  start_attempt (task);
  return G_SOURCE_REMOVE;
}

static gboolean
on_retry_delay_cancelled (GCancellable *cancellable,
                          gpointer      user_data)
{
  return_cancelled (user_data);
  return G_SOURCE_REMOVE;
}

static void
retry_later (GTask *task,
             guint  delay_ms)
{
  Request *request = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GMainContext *context = g_task_get_context (task);

  request_end_attempt (request, cancellable);
  g_debug ("Retrying %s (request %" G_GINT64_FORMAT ") in %u ms", request->method, request->id,
           delay_ms);

  request->delay_source = g_timeout_source_new (delay_ms);
  g_source_set_static_name (request->delay_source, "[kiln] rpc retry delay");
  g_source_set_callback (request->delay_source, on_retry_delay_done, g_object_ref (task),
                         g_object_unref);
  g_source_attach (request->delay_source, context);

  if (cancellable != NULL)
    {
      request->delay_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (request->delay_cancel_source, "[kiln] rpc retry cancel");
      g_source_set_callback (request->delay_cancel_source,
                             G_SOURCE_FUNC (on_retry_delay_cancelled), g_object_ref (task),
                             g_object_unref);
      g_source_attach (request->delay_cancel_source, context);
    }
}

static guint
backoff_delay_ms (guint attempt)
{
  guint delay = RETRY_BASE_DELAY_MS << MIN (attempt - 1, 8);

  return MIN (delay, RETRY_MAX_DELAY_MS);
}

/* Whether a transport failure may go away by itself. Timeouts are not retried, so that a
 * request never takes much longer than the timeout. */
static gboolean
is_transient (const GError *error)
{
  if (error->domain == G_RESOLVER_ERROR)
    return error->code == G_RESOLVER_ERROR_TEMPORARY_FAILURE;
  if (error->domain != G_IO_ERROR)
    return FALSE;

  switch (error->code)
    {
    case G_IO_ERROR_CANCELLED:
    case G_IO_ERROR_TIMED_OUT:
    case G_IO_ERROR_INVALID_ARGUMENT:
    case G_IO_ERROR_NOT_SUPPORTED:
    case G_IO_ERROR_PERMISSION_DENIED:
    case G_IO_ERROR_PROXY_AUTH_FAILED:
    case G_IO_ERROR_PROXY_NEED_AUTH:
    case G_IO_ERROR_PROXY_NOT_ALLOWED:
      return FALSE;
    default:
      return TRUE;
    }
}

static void
timed_out (GTask *task)
{
  KilnRpcClient *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);

  return_error (task, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                   _("The Ethereum node at %s did not answer within %u s"),
                                   self->display_name, request->timeout));
}

/* Takes @failure. */
static void
transport_failed (GTask  *task,
                  GError *failure)
{
  KilnRpcClient *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GError) error = failure;

  if (request->timed_out || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      timed_out (task);
      return;
    }
  if (g_cancellable_is_cancelled (cancellable)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      return_cancelled (task);
      return;
    }

  if (is_transient (error) && request->attempt < request->max_attempts)
    {
      g_debug ("%s to %s failed: %s", request->method, self->display_name, error->message);
      retry_later (task, backoff_delay_ms (request->attempt));
      return;
    }

  if (request->attempt > 1)
    return_error (task, g_error_new (error->domain, error->code,
                                     _("Cannot reach the Ethereum node at %s after %u attempts: "
                                       "%s"),
                                     self->display_name, request->attempt, error->message));
  else
    return_error (task, g_error_new (error->domain, error->code,
                                     _("Cannot reach the Ethereum node at %s: %s"),
                                     self->display_name, error->message));
}

static GError *
http_error (KilnRpcClient *self,
            Request       *request,
            guint          status,
            const char    *reason)
{
  g_autofree char *shown = kiln_rpc_describe_text (reason != NULL ? reason : "", 80);
  GError *error;

  if (status >= 300 && status < 400)
    error = g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP,
                         _("The Ethereum node at %s answered with a redirect (HTTP %u %s): use "
                           "the URL it redirects to"),
                         self->display_name, status, shown);
  else if (status == 401 || status == 403)
    error = g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP,
                         _("The Ethereum node at %s refused access (HTTP %u %s): check the API "
                           "key in the RPC URL"),
                         self->display_name, status, shown);
  else if (status == 429)
    error = g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP,
                         _("The Ethereum node at %s is limiting requests (HTTP 429): try again "
                           "later or use another node"),
                         self->display_name);
  else if (status >= 500 && request->attempt > 1)
    error = g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP,
                         _("The Ethereum node at %s failed %u times (last HTTP %u %s): try "
                           "again later or use another node"),
                         self->display_name, request->attempt, status, shown);
  else if (status >= 500)
    error = g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP,
                         _("The Ethereum node at %s failed (HTTP %u %s): try again later or "
                           "use another node"),
                         self->display_name, status, shown);
  else
    error = g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_HTTP,
                         _("The Ethereum node at %s answered HTTP %u %s: check the RPC URL"),
                         self->display_name, status, shown);

  kiln_rpc_error_set_http_status (error, status);
  return error;
}

/* Seconds from a Retry-After header in its delta-seconds form; -1 without one. */
static gint64
retry_after_seconds (SoupMessage *message)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  const char *value = soup_message_headers_get_one (headers, "Retry-After");
  guint64 seconds;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT, &seconds, NULL))
    return -1;
  return (gint64) seconds;
}

static gboolean
is_json_content (SoupMessage *message)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  const char *type = soup_message_headers_get_content_type (headers, NULL);

  return type == NULL || g_str_has_suffix (type, "/json") || g_str_has_suffix (type, "+json");
}

static void
body_received (GTask *task)
{
  KilnRpcClient *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  SoupMessage *message = request->message;
  guint status = soup_message_get_status (message);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) result = NULL;

  result = kiln_rpc_parse_response ((const char *) request->received->data,
                                    request->received->len, request->id, &error);
  if (result != NULL)
    {
      request_end_attempt (request, g_task_get_cancellable (task));
      g_task_return_pointer (task, g_steal_pointer (&result), (GDestroyNotify) json_node_unref);
      return;
    }

  /* A JSON-RPC error is the node's answer whatever the HTTP status: never retried. */
  if (g_error_matches (error, KILN_RPC_ERROR, KILN_RPC_ERROR_SERVER))
    {
      g_prefix_error (&error, _("The Ethereum node at %s refused %s: "), self->display_name,
                      request->method);
      return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_error_matches (error, KILN_RPC_ERROR, KILN_RPC_ERROR_REVERTED))
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }

  if (status == 429 || (status >= 500 && status < 600))
    {
      gint64 wait_s = retry_after_seconds (message);

      if (request->attempt < request->max_attempts && wait_s <= RETRY_AFTER_MAX_S)
        {
          guint delay_ms = backoff_delay_ms (request->attempt);

          if (wait_s > 0)
            delay_ms = MAX (delay_ms, (guint) wait_s * 1000);
          retry_later (task, delay_ms);
          return;
        }
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      return_error (task, http_error (self, request, status,
                                      soup_message_get_reason_phrase (message)));
      return;
    }

  if (!is_json_content (message))
    {
      SoupMessageHeaders *headers = soup_message_get_response_headers (message);
      g_autofree char *type = kiln_rpc_describe_text (
        soup_message_headers_get_content_type (headers, NULL), 60);

      g_prefix_error (&error, _("The Ethereum node at %s sent %s instead of JSON for %s, so "
                                "the URL may not be a JSON-RPC endpoint: "),
                      self->display_name, type, request->method);
    }
  else
    g_prefix_error (&error, _("The Ethereum node at %s sent an invalid answer to %s: "),
                    self->display_name, request->method);
  return_error (task, g_steal_pointer (&error));
}

static void read_more (GTask *task);

static void
on_closed (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* The whole answer is in; only a cancellation or the deadline matters here. */
  if (!g_input_stream_close_finish (G_INPUT_STREAM (object), result, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      transport_failed (task, g_steal_pointer (&error));
      return;
    }
  body_received (task);
}

static void
on_read (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnRpcClient *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = NULL;
  gsize len;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (chunk == NULL)
    {
      transport_failed (task, g_steal_pointer (&error));
      return;
    }

  len = g_bytes_get_size (chunk);
  if (len == 0)
    {
      /* Closing, rather than dropping, the stream returns the connection to the pool. */
      g_input_stream_close_async (request->stream, G_PRIORITY_DEFAULT,
                                  request->attempt_cancellable, on_closed, g_object_ref (task));
      return;
    }

  if (len > KILN_RPC_MAX_RESPONSE_SIZE - request->received->len)
    {
      return_error (task, g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_TOO_LARGE,
                                       _("The Ethereum node at %s sent an answer to %s larger "
                                         "than %d MiB"),
                                       self->display_name, request->method,
                                       KILN_RPC_MAX_RESPONSE_SIZE >> 20));
      return;
    }
  g_byte_array_append (request->received, g_bytes_get_data (chunk, NULL), len);
  read_more (task);
}

static void
read_more (GTask *task)
{
  Request *request = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (request->stream, READ_CHUNK_SIZE, G_PRIORITY_DEFAULT,
                                   request->attempt_cancellable, on_read, g_object_ref (task));
}

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KilnRpcClient *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers;

  request->stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (request->stream == NULL)
    {
      transport_failed (task, g_steal_pointer (&error));
      return;
    }

  /* A declared length over the limit ends the request at once; the read below enforces the
   * limit whatever the headers say. */
  headers = soup_message_get_response_headers (request->message);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) > KILN_RPC_MAX_RESPONSE_SIZE)
    {
      return_error (task, g_error_new (KILN_RPC_ERROR, KILN_RPC_ERROR_TOO_LARGE,
                                       _("The Ethereum node at %s sent an answer to %s larger "
                                         "than %d MiB"),
                                       self->display_name, request->method,
                                       KILN_RPC_MAX_RESPONSE_SIZE >> 20));
      return;
    }

  request->received = g_byte_array_new ();
  read_more (task);
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static gboolean
on_deadline (gpointer user_data)
{
  GTask *task = user_data;
  Request *request = g_task_get_task_data (task);

  request->timed_out = TRUE;
  g_cancellable_cancel (request->attempt_cancellable);
  return G_SOURCE_REMOVE;
}

static void
start_attempt (GTask *task)
{
  KilnRpcClient *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  SoupMessageHeaders *headers;

  if (g_cancellable_is_cancelled (cancellable))
    {
      return_cancelled (task);
      return;
    }

  request->attempt++;
  request->timed_out = FALSE;
  request->attempt_cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    request->cancelled_id = g_cancellable_connect (cancellable,
                                                   G_CALLBACK (on_caller_cancelled),
                                                   g_object_ref (request->attempt_cancellable),
                                                   g_object_unref);

  /* The whole attempt, connecting included, has one deadline. */
  request->deadline_source = g_timeout_source_new (request->timeout * 1000);
  g_source_set_static_name (request->deadline_source, "[kiln] rpc deadline");
  g_source_set_callback (request->deadline_source, on_deadline, g_object_ref (task),
                         g_object_unref);
  g_source_attach (request->deadline_source, g_task_get_context (task));

  request->message = soup_message_new_from_uri (SOUP_METHOD_POST, self->uri);
  /* Without IDEMPOTENT, libsoup opens a new connection (and TLS session) for every POST.
   * With it, it may also resend a request once when a kept-alive connection turns out to be
   * closed, as this client does on network errors: harmless for reads, and for
   * eth_sendRawTransaction (see kiln_rpc_client_send_raw_transaction_async()). */
  soup_message_add_flags (request->message,
                          SOUP_MESSAGE_NO_REDIRECT | SOUP_MESSAGE_IDEMPOTENT);
  headers = soup_message_get_request_headers (request->message);
  soup_message_headers_replace (headers, "Accept", "application/json");
  soup_message_set_request_body_from_bytes (request->message, "application/json",
                                            request->body);

  g_debug ("%s (request %" G_GINT64_FORMAT ", attempt %u) to %s", request->method,
           request->id, request->attempt, self->display_name);
  soup_session_send_async (self->session, request->message, G_PRIORITY_DEFAULT,
                           request->attempt_cancellable, on_sent, g_object_ref (task));
}

void
kiln_rpc_client_call_async (KilnRpcClient       *self,
                            const char          *method,
                            JsonNode            *params,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *request;

  g_return_if_fail (KILN_IS_RPC_CLIENT (self));
  g_return_if_fail (self->uri != NULL);   /* made with kiln_rpc_client_new () */
  g_return_if_fail (method != NULL && *method != '\0');
  g_return_if_fail (params == NULL || JSON_NODE_HOLDS_ARRAY (params));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_rpc_client_call_async);

  request = g_new0 (Request, 1);
  request->method = g_strdup (method);
  request->id = self->next_id++;
  request->body = build_body (request->id, method, params);
  request->timeout = self->timeout;
  request->max_attempts = self->max_attempts;
  g_task_set_task_data (task, request, request_free);

  start_attempt (task);
}

JsonNode *
kiln_rpc_client_call_finish (KilnRpcClient  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (KILN_IS_RPC_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_rpc_client_call_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
