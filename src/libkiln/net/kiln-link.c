/* kiln-link.c: one authenticated, encrypted connection to another node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A link reads frames one at a time for its whole life: during the handshake the first one
 * goes to kiln-link-handshake.c, while open they are dispatched here (keep-alive frames
 * answered, messages emitted), and while closing (kiln-link-close.c) the bytes are dropped.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-link-private.h"

/* Bytes skipped per read while waiting for the peer to finish after a CLOSE. */
#define DRAIN_CHUNK (64 * 1024)

enum {
  PROP_0,
  PROP_STATE,
  PROP_PEER_ADDRESS,
  PROP_REMOTE_ADDRESS,
  PROP_LATENCY,
  N_PROPS
};

enum {
  MESSAGE_RECEIVED,
  CLOSED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_ENUM_TYPE (KilnLinkState, kiln_link_state,
                    G_DEFINE_ENUM_VALUE (KILN_LINK_STATE_HANDSHAKING, "handshaking"),
                    G_DEFINE_ENUM_VALUE (KILN_LINK_STATE_OPEN, "open"),
                    G_DEFINE_ENUM_VALUE (KILN_LINK_STATE_CLOSING, "closing"),
                    G_DEFINE_ENUM_VALUE (KILN_LINK_STATE_CLOSED, "closed"))

G_DEFINE_FINAL_TYPE (KilnLink, kiln_link, G_TYPE_OBJECT)

void
kiln_link_clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

GSource *
kiln_link_add_timeout (KilnLink    *self,
                       guint        interval_ms,
                       GSourceFunc  callback)
{
  GSource *source = g_timeout_source_new (interval_ms);

  g_source_set_callback (source, callback, self, NULL);
  g_source_set_static_name (source, "[kiln] link timer");
  g_source_attach (source, self->context);

  return source;
}

void
kiln_link_set_state (KilnLink      *self,
                     KilnLinkState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
kiln_link_dispose (GObject *object)
{
  KilnLink *self = KILN_LINK (object);

  /* Every operation in flight holds a reference, so only timers can be left. */
  g_cancellable_cancel (self->cancellable);
  kiln_link_clear_source (&self->handshake_timer);
  kiln_link_clear_source (&self->keepalive_timer);
  kiln_link_clear_source (&self->linger_timer);

  G_OBJECT_CLASS (kiln_link_parent_class)->dispose (object);
}

static void
kiln_link_finalize (GObject *object)
{
  KilnLink *self = KILN_LINK (object);

  g_assert (self->handshake_task == NULL);
  g_assert (self->user_cancellable == NULL);
  g_assert (self->close_tasks->len == 0);

  g_clear_object (&self->config);
  g_clear_pointer (&self->host, g_free);
  g_clear_object (&self->remote_address);
  g_clear_object (&self->writer);
  g_clear_object (&self->tls);
  g_clear_object (&self->base);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_error (&self->close_error);
  g_clear_pointer (&self->close_tasks, g_ptr_array_unref);

  G_OBJECT_CLASS (kiln_link_parent_class)->finalize (object);
}

static void
kiln_link_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KilnLink *self = KILN_LINK (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_PEER_ADDRESS:
      g_value_set_boxed (value, kiln_link_get_peer_address (self));
      break;
    case PROP_REMOTE_ADDRESS:
      g_value_set_object (value, self->remote_address);
      break;
    case PROP_LATENCY:
      g_value_set_int64 (value, self->latency);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_link_class_init (KilnLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_link_dispose;
  object_class->finalize = kiln_link_finalize;
  object_class->get_property = kiln_link_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       KILN_TYPE_LINK_STATE, KILN_LINK_STATE_HANDSHAKING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PEER_ADDRESS] =
    g_param_spec_boxed ("peer-address", NULL, NULL,
                        KILN_TYPE_ADDRESS,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REMOTE_ADDRESS] =
    g_param_spec_object ("remote-address", NULL, NULL,
                         G_TYPE_SOCKET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LATENCY] =
    g_param_spec_int64 ("latency", NULL, NULL,
                        -1, G_MAXINT64, -1,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KilnLink::message-received:
   * @type: the frame type, KILN_FRAME_FIRST_MESSAGE or above
   * @payload: the frame's payload
   *
   * The next frame is read only after the handlers return.
   */
  signals[MESSAGE_RECEIVED] =
    g_signal_new ("message-received",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_BYTES);

  /**
   * KilnLink::closed:
   * @error: why
   * @by_peer: whether the peer closed the link (with a CLOSE frame)
   */
  signals[CLOSED] =
    g_signal_new ("closed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_ERROR, G_TYPE_BOOLEAN);
}

static void
kiln_link_init (KilnLink *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
  self->close_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->latency = -1;
}

void
kiln_link_emit_closed (KilnLink *self)
{
  g_signal_emit (self, signals[CLOSED], 0, self->close_error, self->closed_by_peer);
}

KilnLink *
kiln_link_new (KilnLinkConfig *config,
               KilnNetRole     role)
{
  KilnLink *self = g_object_new (KILN_TYPE_LINK, NULL);

  self->config = g_object_ref (config);
  self->role = role;

  return self;
}

/* Keep-alive */

static gboolean on_keepalive_tick (gpointer user_data);

/* A PING carries the number of pings sent so far, so that its PONG can be recognised. */
static void
encode_ping (guint64 number,
             guint8  ping[KILN_NET_PING_SIZE])
{
  for (guint i = 0; i < KILN_NET_PING_SIZE; i++)
    ping[i] = (number >> (8 * (KILN_NET_PING_SIZE - 1 - i))) & 0xff;
}

static void
send_ping (KilnLink *self)
{
  guint8 ping[KILN_NET_PING_SIZE];
  g_autoptr(GBytes) payload = NULL;

  self->pings_sent++;
  encode_ping (self->pings_sent, ping);
  payload = g_bytes_new (ping, sizeof ping);
  self->ping_sent_at = g_get_monotonic_time ();
  kiln_frame_writer_send_async (self->writer, KILN_FRAME_PING, payload, TRUE,
                                NULL, NULL, NULL);
}

/* Only the answer to the last PING measures the round trip. */
static void
on_pong (KilnLink *self,
         GBytes   *payload)
{
  guint8 expected[KILN_NET_PING_SIZE];
  gint64 latency;

  encode_ping (self->pings_sent, expected);
  if (self->ping_sent_at == 0 || g_bytes_get_size (payload) != KILN_NET_PING_SIZE ||
      memcmp (g_bytes_get_data (payload, NULL), expected, KILN_NET_PING_SIZE) != 0)
    return;

  latency = g_get_monotonic_time () - self->ping_sent_at;
  self->ping_sent_at = 0;
  if (latency == self->latency)
    return;

  self->latency = latency;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LATENCY]);
}

static void
schedule_keepalive (KilnLink *self,
                    gint64    now)
{
  guint interval = kiln_link_config_get_keepalive_interval (self->config);
  guint timeout = kiln_link_config_get_keepalive_timeout (self->config);
  gint64 due = self->last_received + (gint64) (self->ping_outstanding ? timeout : interval) * 1000;
  gint64 delay_ms = MAX ((due - now + 999) / 1000, 1);

  kiln_link_clear_source (&self->keepalive_timer);
  self->keepalive_timer = kiln_link_add_timeout (self, MIN (delay_ms, G_MAXINT),
                                                 on_keepalive_tick);
}

static gboolean
on_keepalive_tick (gpointer user_data)
{
  g_autoptr(KilnLink) self = g_object_ref (user_data);
  guint interval = kiln_link_config_get_keepalive_interval (self->config);
  guint timeout = kiln_link_config_get_keepalive_timeout (self->config);
  gint64 now = g_get_monotonic_time ();
  gint64 silent_ms = (now - self->last_received) / 1000;

  g_clear_pointer (&self->keepalive_timer, g_source_unref);

  if (silent_ms >= timeout)
    {
      g_autofree char *wire = g_strdup_printf ("No answer to keep-alive pings for %u ms",
                                               timeout);

      kiln_link_fail (self,
                      g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_TIMED_OUT,
                                   _("The peer stopped answering: nothing heard for %u ms"),
                                   timeout),
                      FALSE, KILN_NET_CLOSE_TIMED_OUT, wire);
      return G_SOURCE_REMOVE;
    }

  if (silent_ms >= interval && !self->ping_outstanding)
    {
      send_ping (self);
      self->ping_outstanding = TRUE;
    }

  schedule_keepalive (self, now);

  return G_SOURCE_REMOVE;
}

void
kiln_link_set_open (KilnLink *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->handshake_task);

  g_assert (self->state == KILN_LINK_STATE_HANDSHAKING);

  kiln_link_clear_source (&self->handshake_timer);
  kiln_link_disconnect_user_cancellable (self);
  kiln_link_set_state (self, KILN_LINK_STATE_OPEN);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEER_ADDRESS]);

  self->last_received = g_get_monotonic_time ();
  schedule_keepalive (self, self->last_received);

  if (task == NULL)
    return;

  if (self->role == KILN_NET_ROLE_CLIENT)
    g_task_return_pointer (task, g_object_ref (self), g_object_unref);
  else
    g_task_return_boolean (task, TRUE);
}

/* Reading */

static void
fail_protocol (KilnLink   *self,
               const char *wire_text,
               GError     *error)
{
  kiln_link_fail (self, error, FALSE, KILN_NET_CLOSE_PROTOCOL, wire_text);
}

static void
dispatch_frame (KilnLink *self,
                guint8    type,
                GBytes   *payload)
{
  switch (type)
    {
    case KILN_FRAME_PING:
      if (g_bytes_get_size (payload) != KILN_NET_PING_SIZE)
        {
          fail_protocol (self, "PING must carry 8 bytes",
                         g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL,
                                      _("The peer sent a malformed keep-alive ping")));
          return;
        }
      kiln_frame_writer_send_async (self->writer, KILN_FRAME_PONG, payload, TRUE,
                                    NULL, NULL, NULL);
      return;

    case KILN_FRAME_PONG:
      on_pong (self, payload);
      return;

    case KILN_FRAME_CLOSE:
      kiln_link_fail (self, kiln_link_error_from_close (payload, FALSE), TRUE, -1, NULL);
      return;

    case KILN_FRAME_HELLO:
      fail_protocol (self, "HELLO sent twice",
                     g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL,
                                  _("The peer sent a second HELLO")));
      return;

    default:
      if (type < KILN_FRAME_FIRST_MESSAGE)
        {
          g_autofree char *wire = g_strdup_printf ("Reserved frame type 0x%02x", type);

          fail_protocol (self, wire,
                         g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL,
                                      _("The peer sent a frame of reserved type 0x%02x"),
                                      type));
          return;
        }
      g_signal_emit (self, signals[MESSAGE_RECEIVED], 0, (guint) type, payload);
    }
}

static void
on_read_failed (KilnLink *self,
                GError   *error)
{
  g_autoptr(GError) local = error;

  if (g_error_matches (error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE))
    {
      /* Frames cannot be told apart any more; closing drains raw bytes. */
      kiln_link_fail (self,
                      g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE,
                                   _("The peer sent too large a frame: %s"), error->message),
                      FALSE, KILN_NET_CLOSE_FRAME_TOO_LARGE, error->message);
      return;
    }

  self->read_ended = TRUE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    kiln_link_fail (self, g_steal_pointer (&local), FALSE, -1, NULL);
  else
    kiln_link_fail (self,
                    g_error_new (KILN_NET_ERROR, KILN_NET_ERROR_CONNECTION_LOST,
                                 self->state == KILN_LINK_STATE_HANDSHAKING
                                   ? _("The connection ended during the handshake: %s")
                                   : _("The connection to the peer was lost: %s"),
                                 error->message),
                    FALSE, -1, NULL);
}

static void
on_frame_read (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(KilnLink) self = user_data;
  g_autoptr(GBytes) payload = NULL;
  GError *error = NULL;
  guint8 type = 0;

  payload = kiln_frame_read_finish (G_INPUT_STREAM (object), result, &type, &error);
  self->reading = FALSE;

  if (payload == NULL)
    {
      if (self->state >= KILN_LINK_STATE_CLOSING)
        {
          g_error_free (error);
          self->read_ended = TRUE;
          kiln_link_maybe_finish_close (self);
        }
      else
        on_read_failed (self, error);
      return;
    }

  self->last_received = g_get_monotonic_time ();
  self->ping_outstanding = FALSE;

  if (self->state == KILN_LINK_STATE_HANDSHAKING)
    kiln_link_handshake_frame (self, type, payload);
  else if (self->state == KILN_LINK_STATE_OPEN)
    dispatch_frame (self, type, payload);

  if (!self->reading && self->state <= KILN_LINK_STATE_CLOSING)
    kiln_link_read_next (self);
}

static void
on_drained (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(KilnLink) self = user_data;
  gssize skipped = g_input_stream_skip_finish (G_INPUT_STREAM (object), result, NULL);

  self->reading = FALSE;
  if (skipped <= 0)
    {
      self->read_ended = TRUE;
      kiln_link_maybe_finish_close (self);
      return;
    }

  kiln_link_read_next (self);
}

void
kiln_link_read_next (KilnLink *self)
{
  GInputStream *input;

  g_assert (!self->reading);

  if (self->read_ended || self->tls == NULL)
    return;

  input = g_io_stream_get_input_stream (G_IO_STREAM (self->tls));
  self->reading = TRUE;

  if (self->state == KILN_LINK_STATE_CLOSING)
    g_input_stream_skip_async (input, DRAIN_CHUNK, G_PRIORITY_DEFAULT, self->cancellable,
                               on_drained, g_object_ref (self));
  else
    kiln_frame_read_async (input,
                           self->state == KILN_LINK_STATE_HANDSHAKING ? KILN_NET_HELLO_MAX_SIZE
                                                                      : KILN_FRAME_MAX_PAYLOAD,
                           G_PRIORITY_DEFAULT, self->cancellable,
                           on_frame_read, g_object_ref (self));
}

/* Public API */

KilnLinkState
kiln_link_get_state (KilnLink *self)
{
  g_return_val_if_fail (KILN_IS_LINK (self), KILN_LINK_STATE_CLOSED);

  return self->state;
}

KilnNetRole
kiln_link_get_role (KilnLink *self)
{
  g_return_val_if_fail (KILN_IS_LINK (self), KILN_NET_ROLE_CLIENT);

  return self->role;
}

const KilnAddress *
kiln_link_get_peer_address (KilnLink *self)
{
  g_return_val_if_fail (KILN_IS_LINK (self), NULL);

  return self->has_peer_address ? &self->peer_address : NULL;
}

GSocketAddress *
kiln_link_get_remote_address (KilnLink *self)
{
  g_return_val_if_fail (KILN_IS_LINK (self), NULL);

  return self->remote_address;
}

GTlsProtocolVersion
kiln_link_get_tls_protocol_version (KilnLink *self)
{
  g_return_val_if_fail (KILN_IS_LINK (self), G_TLS_PROTOCOL_VERSION_UNKNOWN);

  if (self->tls == NULL)
    return G_TLS_PROTOCOL_VERSION_UNKNOWN;

  return g_tls_connection_get_protocol_version (self->tls);
}

const GError *
kiln_link_get_close_error (KilnLink *self)
{
  g_return_val_if_fail (KILN_IS_LINK (self), NULL);

  return self->close_error;
}

gboolean
kiln_link_get_closed_by_peer (KilnLink *self)
{
  g_return_val_if_fail (KILN_IS_LINK (self), FALSE);

  return self->closed_by_peer;
}

gint64
kiln_link_get_latency (KilnLink *self)
{
  g_return_val_if_fail (KILN_IS_LINK (self), -1);

  return self->latency;
}

void
kiln_link_ping (KilnLink *self)
{
  g_return_if_fail (KILN_IS_LINK (self));

  if (self->state == KILN_LINK_STATE_OPEN)
    send_ping (self);
}

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (kiln_frame_writer_send_finish (KILN_FRAME_WRITER (object), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
kiln_link_send_async (KilnLink            *self,
                      guint8               type,
                      GBytes              *payload,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_LINK (self));
  g_return_if_fail (type >= KILN_FRAME_FIRST_MESSAGE);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_link_send_async);
  g_task_set_check_cancellable (task, FALSE);

  if (self->state != KILN_LINK_STATE_OPEN)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                               _("The link is not open"));
      return;
    }

  kiln_frame_writer_send_async (self->writer, type, payload, FALSE, cancellable,
                                on_sent, g_steal_pointer (&task));
}

gboolean
kiln_link_send_finish (KilnLink      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_link_send_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
