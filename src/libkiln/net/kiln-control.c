/* kiln-control.c: a running node's local control socket
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "kiln-control.h"

#define READ_CHUNK 4096
/* Requests served at once; more connections are closed without an answer. */
#define MAX_REQUESTS 16

G_DEFINE_QUARK (kiln-control-error-quark, kiln_control_error)

struct _KilnControl
{
  GObject          parent_instance;

  char            *path;
  KilnControlFunc  func;
  gpointer         user_data;
  GDestroyNotify   destroy;

  GSocketService  *service;
  GCancellable    *cancellable;
  guint            n_requests;
};

G_DEFINE_FINAL_TYPE (KilnControl, kiln_control, G_TYPE_OBJECT)

/* Reading one line */

typedef struct
{
  GByteArray *buffer;
  gsize       max;
} LineRead;

static void
line_read_free (gpointer data)
{
  LineRead *read = data;

  g_byte_array_unref (read->buffer);
  g_free (read);
}

static void read_chunk (GTask *task);

static void
on_chunk (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LineRead *read = g_task_get_task_data (task);
  g_autoptr(GBytes) chunk = NULL;
  GError *error = NULL;
  const guint8 *data;
  const guint8 *newline;
  gsize len;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (chunk == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  data = g_bytes_get_data (chunk, &len);
  newline = len > 0 ? memchr (data, '\n', len) : NULL;
  if (newline != NULL)
    len = newline - data;

  if (read->buffer->len + len >= read->max)
    {
      g_task_return_new_error (task, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_PROTOCOL,
                               _("The line is longer than %u bytes"), (guint) read->max);
      return;
    }
  g_byte_array_append (read->buffer, data, len);

  /* The line ends at a newline or at the end of the stream. */
  if (newline != NULL || g_bytes_get_size (chunk) == 0)
    {
      g_byte_array_append (read->buffer, (const guint8 *) "", 1);
      g_task_return_pointer (task, g_strdup ((const char *) read->buffer->data), g_free);
      return;
    }

  read_chunk (g_steal_pointer (&task));
}

static void
read_chunk (GTask *task)
{
  GInputStream *input = g_task_get_source_object (task);

  g_input_stream_read_bytes_async (input, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), on_chunk, task);
}

static void
read_line_async (GInputStream        *input,
                 gsize                max,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (input, cancellable, callback, user_data);
  LineRead *read = g_new0 (LineRead, 1);

  g_task_set_source_tag (task, read_line_async);
  read->buffer = g_byte_array_new ();
  read->max = max;
  g_task_set_task_data (task, read, line_read_free);
  read_chunk (task);
}

static char *
read_line_finish (GAsyncResult  *result,
                  GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static char *
json_to_line (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  return g_strconcat (text, "\n", NULL);
}

/* A timer cancelling @cancellable after KILN_CONTROL_TIMEOUT_MS. */
static gboolean
on_timeout (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static GSource *
timeout_new (GCancellable *cancellable)
{
  GSource *source = g_timeout_source_new (KILN_CONTROL_TIMEOUT_MS);

  g_source_set_static_name (source, "[kiln] control timeout");
  g_source_set_callback (source, on_timeout, g_object_ref (cancellable), g_object_unref);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

static void
timeout_clear (GSource **source)
{
  if (*source != NULL)
    g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Serving */

typedef struct
{
  KilnControl       *control;
  GSocketConnection *connection;
  GCancellable      *cancellable;
  GSource           *timeout;
  char              *reply;
} Request;

static void
request_free (Request *request)
{
  timeout_clear (&request->timeout);
  request->control->n_requests--;
  g_clear_object (&request->control);
  g_clear_object (&request->connection);
  g_clear_object (&request->cancellable);
  g_clear_pointer (&request->reply, g_free);
  g_free (request);
}

static void
on_request_closed (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (object), result, NULL);
  request_free (user_data);
}

static void
request_close (Request *request)
{
  g_io_stream_close_async (G_IO_STREAM (request->connection), G_PRIORITY_DEFAULT, NULL,
                           on_request_closed, request);
}

static void
on_reply_written (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Request *request = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    g_debug ("Control socket: could not answer: %s", error->message);
  request_close (request);
}

static JsonNode *
reply_new (JsonNode     *result,
           const GError *error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, KILN_CONTROL_VERSION);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, error == NULL);
  if (error == NULL)
    {
      json_builder_set_member_name (builder, "result");
      json_builder_add_value (builder, json_node_ref (result));
    }
  else
    {
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, error->message);
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder,
                                     g_error_matches (error, KILN_CONTROL_ERROR,
                                                      KILN_CONTROL_ERROR_UNKNOWN_METHOD)
                                       ? "unknown-method" : "failed");
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Checks @line and asks the handler; the "result" or an error. */
static JsonNode *
answer (KilnControl  *self,
        const char   *line,
        GError      **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *request;
  JsonNode *params;
  const char *method;

  if (!json_parser_load_from_data (parser, line, -1, NULL) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return (g_set_error_literal (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_PROTOCOL,
                                 _("The request is not a JSON object")), NULL);

  request = json_node_get_object (json_parser_get_root (parser));
  if (json_object_get_int_member_with_default (request, "version", 0) != KILN_CONTROL_VERSION)
    return (g_set_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_PROTOCOL,
                         _("Only version %d of the control protocol is known"),
                         KILN_CONTROL_VERSION), NULL);

  method = json_object_get_string_member_with_default (request, "method", NULL);
  if (method == NULL)
    return (g_set_error_literal (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_PROTOCOL,
                                 _("The request names no method")), NULL);

  params = json_object_get_member (request, "params");
  if (params != NULL && !JSON_NODE_HOLDS_OBJECT (params) && !JSON_NODE_HOLDS_NULL (params))
    return (g_set_error_literal (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_PROTOCOL,
                                 _("The request’s params are not an object")), NULL);

  return self->func (self, method,
                     params != NULL && JSON_NODE_HOLDS_OBJECT (params)
                       ? json_node_get_object (params) : NULL,
                     self->user_data, error);
}

static void
on_request_read (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Request *request = user_data;
  g_autofree char *line = NULL;
  g_autoptr(JsonNode) value = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  GOutputStream *output;

  line = read_line_finish (result, &error);
  /* Stopped meanwhile: the node is going away and answers nothing more. */
  if (request->control->service == NULL ||
      (line == NULL && !g_error_matches (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_PROTOCOL)))
    {
      g_debug ("Control socket: no request: %s",
               error != NULL ? error->message : "stopped");
      request_close (request);
      return;
    }

  if (line != NULL)
    value = answer (request->control, line, &error);
  if (value == NULL && error == NULL)
    value = json_node_new (JSON_NODE_NULL);
  reply = reply_new (value, error);
  request->reply = json_to_line (reply);

  output = g_io_stream_get_output_stream (G_IO_STREAM (request->connection));
  g_output_stream_write_all_async (output, request->reply, strlen (request->reply),
                                   G_PRIORITY_DEFAULT, request->cancellable,
                                   on_reply_written, request);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             KilnControl       *self)
{
  Request *request;

  if (self->n_requests >= MAX_REQUESTS)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }

  request = g_new0 (Request, 1);
  request->control = g_object_ref (self);
  request->connection = g_object_ref (connection);
  request->cancellable = g_cancellable_new ();
  request->timeout = timeout_new (request->cancellable);
  self->n_requests++;

  read_line_async (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                   KILN_CONTROL_REQUEST_MAX, request->cancellable, on_request_read, request);
  return TRUE;
}

/* GObject */

static void
kiln_control_dispose (GObject *object)
{
  kiln_control_stop (KILN_CONTROL (object));

  G_OBJECT_CLASS (kiln_control_parent_class)->dispose (object);
}

static void
kiln_control_finalize (GObject *object)
{
  KilnControl *self = KILN_CONTROL (object);

  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_clear_pointer (&self->path, g_free);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (kiln_control_parent_class)->finalize (object);
}

static void
kiln_control_class_init (KilnControlClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_control_dispose;
  object_class->finalize = kiln_control_finalize;
}

static void
kiln_control_init (KilnControl *self)
{
}

KilnControl *
kiln_control_new (const char      *path,
                  KilnControlFunc  func,
                  gpointer         user_data,
                  GDestroyNotify   destroy)
{
  KilnControl *self;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (KILN_TYPE_CONTROL, NULL);
  self->path = g_strdup (path);
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;

  return self;
}

const char *
kiln_control_get_path (KilnControl *self)
{
  g_return_val_if_fail (KILN_IS_CONTROL (self), NULL);

  return self->path;
}

static gboolean
check_path_length (const char  *path,
                   GError     **error)
{
  struct sockaddr_un address;

  if (strlen (path) < sizeof address.sun_path)
    return TRUE;

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
               _("The path “%s” is too long for a Unix socket (at most %u bytes); use a "
                 "shorter data folder"), path, (guint) sizeof address.sun_path - 1);
  return FALSE;
}

/* Whether a node answers at @path: connecting to a Unix socket succeeds or fails at once. */
static gboolean
socket_is_live (const char *path)
{
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GSocket) socket = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_DEFAULT, NULL);
  return socket != NULL && g_socket_connect (socket, address, NULL, NULL);
}

/* Clears the way for the socket: removes a dead node's socket. */
static gboolean
remove_stale (const char  *path,
              GError     **error)
{
  g_autofree char *display = g_filename_display_name (path);
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return TRUE;

  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("“%s” exists and is not a control socket; remove it"), display);
      return FALSE;
    }

  if (socket_is_live (path))
    {
      g_set_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_RUNNING,
                   _("A node is already running with this data folder (its control socket "
                     "is “%s”)"), display);
      return FALSE;
    }

  g_debug ("Removing the control socket of a node that is gone: %s", display);
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not remove the old control socket “%s”: %s"), display,
                   g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

gboolean
kiln_control_start (KilnControl  *self,
                    GError      **error)
{
  g_autoptr(GSocketService) service = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display = NULL;

  g_return_val_if_fail (KILN_IS_CONTROL (self), FALSE);
  g_return_val_if_fail (self->service == NULL, FALSE);

  if (!check_path_length (self->path, error) || !remove_stale (self->path, error))
    return FALSE;

  display = g_filename_display_name (self->path);
  service = g_socket_service_new ();
  address = g_unix_socket_address_new (self->path);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                      NULL, NULL, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_RUNNING,
                     _("A node is already running with this data folder (its control "
                       "socket is “%s”)"), display);
      else
        g_set_error (error, local_error->domain, local_error->code,
                     _("Could not create the control socket “%s”: %s"), display,
                     local_error->message);
      return FALSE;
    }

  /* The data folder is private already; the socket is too. */
  if (g_chmod (self->path, 0600) != 0)
    {
      int saved_errno = errno;

      g_socket_listener_close (G_SOCKET_LISTENER (service));
      g_unlink (self->path);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not make the control socket “%s” private: %s"), display,
                   g_strerror (saved_errno));
      return FALSE;
    }

  g_signal_connect_object (service, "incoming", G_CALLBACK (on_incoming), self, 0);
  g_socket_service_start (service);
  self->service = g_steal_pointer (&service);
  self->cancellable = g_cancellable_new ();

  return TRUE;
}

void
kiln_control_stop (KilnControl *self)
{
  g_return_if_fail (KILN_IS_CONTROL (self));

  if (self->service == NULL)
    return;

  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  g_signal_handlers_disconnect_by_data (self->service, self);
  g_clear_object (&self->service);
  g_cancellable_cancel (self->cancellable);
  if (g_unlink (self->path) != 0 && errno != ENOENT)
    g_warning ("Could not remove the control socket: %s", g_strerror (errno));
}

/* The client */

typedef struct
{
  char              *request;
  GSocketConnection *connection;
  GCancellable      *cancellable;   /* ours: the caller's and the timeout */
  gulong             cancelled_id;
  GCancellable      *caller;
  GSource           *timeout;
} Call;

static void
call_free (gpointer data)
{
  Call *call = data;

  timeout_clear (&call->timeout);
  if (call->caller != NULL)
    g_cancellable_disconnect (call->caller, call->cancelled_id);
  g_clear_object (&call->caller);
  g_clear_pointer (&call->request, g_free);
  g_clear_object (&call->connection);
  g_clear_object (&call->cancellable);
  g_free (call);
}

/* Turns our own cancellation back into what it stood for. */
static void
call_return_error (GTask  *task,
                   GError *error)
{
  Call *call = g_task_get_task_data (task);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      (call->caller == NULL || !g_cancellable_is_cancelled (call->caller)))
    {
      g_error_free (error);
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                           _("The node did not answer within %u seconds"),
                           KILN_CONTROL_TIMEOUT_MS / 1000);
    }

  g_task_return_error (task, error);
}

static void
on_reply_read (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *line = NULL;
  JsonObject *reply;
  JsonNode *value;
  GError *error = NULL;

  line = read_line_finish (result, &error);
  if (line == NULL)
    {
      call_return_error (task, error);
      return;
    }

  if (!json_parser_load_from_data (parser, line, -1, NULL) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_task_return_new_error (task, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_PROTOCOL,
                               _("The node’s answer is not a JSON object"));
      return;
    }

  reply = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_get_boolean_member_with_default (reply, "ok", FALSE))
    {
      const char *message = json_object_get_string_member_with_default (reply, "error", NULL);
      const char *code = json_object_get_string_member_with_default (reply, "code", "");

      g_task_return_new_error (task, KILN_CONTROL_ERROR,
                               g_str_equal (code, "unknown-method")
                                 ? KILN_CONTROL_ERROR_UNKNOWN_METHOD
                                 : KILN_CONTROL_ERROR_FAILED,
                               "%s", message != NULL ? message : _("The node refused"));
      return;
    }

  value = json_object_get_member (reply, "result");
  g_task_return_pointer (task,
                         value != NULL ? json_node_copy (value) : json_node_new (JSON_NODE_NULL),
                         (GDestroyNotify) json_node_unref);
}

static void
on_request_written (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Call *call = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      call_return_error (task, error);
      return;
    }

  read_line_async (g_io_stream_get_input_stream (G_IO_STREAM (call->connection)),
                   KILN_CONTROL_REPLY_MAX, call->cancellable, on_reply_read,
                   g_steal_pointer (&task));
}

static void
on_connected (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Call *call = g_task_get_task_data (task);
  GError *error = NULL;
  GOutputStream *output;

  call->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (call->connection == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        {
          g_task_return_new_error (task, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_NOT_RUNNING,
                                   _("No node is running with this data folder: %s"),
                                   error->message);
          g_error_free (error);
          return;
        }
      call_return_error (task, error);
      return;
    }

  output = g_io_stream_get_output_stream (G_IO_STREAM (call->connection));
  g_output_stream_write_all_async (output, call->request, strlen (call->request),
                                   G_PRIORITY_DEFAULT, call->cancellable,
                                   on_request_written, g_steal_pointer (&task));
}

static void
on_caller_cancelled (GCancellable *caller,
                     GCancellable *ours)
{
  g_cancellable_cancel (ours);
}

void
kiln_control_call_async (const char          *path,
                         const char          *method,
                         JsonObject          *params,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(GError) error = NULL;
  Call *call;

  g_return_if_fail (path != NULL);
  g_return_if_fail (method != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_control_call_async);

  if (!check_path_length (path, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, KILN_CONTROL_VERSION);
  json_builder_set_member_name (builder, "method");
  json_builder_add_string_value (builder, method);
  if (params != NULL)
    {
      json_builder_set_member_name (builder, "params");
      json_builder_add_value (builder, json_node_init_object (json_node_alloc (), params));
    }
  json_builder_end_object (builder);
  request = json_builder_get_root (builder);

  call = g_new0 (Call, 1);
  call->request = json_to_line (request);
  call->cancellable = g_cancellable_new ();
  call->timeout = timeout_new (call->cancellable);
  if (cancellable != NULL)
    {
      call->caller = g_object_ref (cancellable);
      call->cancelled_id = g_cancellable_connect (cancellable,
                                                  G_CALLBACK (on_caller_cancelled),
                                                  call->cancellable, NULL);
    }
  g_task_set_task_data (task, call, call_free);

  client = g_socket_client_new ();
  address = g_unix_socket_address_new (path);
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (address), call->cancellable,
                                 on_connected, g_steal_pointer (&task));
}

JsonNode *
kiln_control_call_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_control_call_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
