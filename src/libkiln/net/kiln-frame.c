/* kiln-frame.c: length-prefixed frames on a byte stream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-frame.h"
#include "kiln-net.h"

void
kiln_frame_header_write (guint8 header[KILN_FRAME_HEADER_SIZE],
                         guint8 type,
                         gsize  payload_len)
{
  g_return_if_fail (payload_len <= G_MAXUINT32);

  header[0] = (payload_len >> 24) & 0xff;
  header[1] = (payload_len >> 16) & 0xff;
  header[2] = (payload_len >> 8) & 0xff;
  header[3] = payload_len & 0xff;
  header[4] = type;
}

gboolean
kiln_frame_header_parse (const guint8   header[KILN_FRAME_HEADER_SIZE],
                         gsize          max_payload,
                         guint8        *type,
                         gsize         *payload_len,
                         GError       **error)
{
  guint32 len;

  g_return_val_if_fail (header != NULL, FALSE);

  len = ((guint32) header[0] << 24) | ((guint32) header[1] << 16) |
        ((guint32) header[2] << 8) | header[3];
  if (len > max_payload)
    {
      g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE,
                   _("A frame of %u bytes is over the limit of %zu bytes"), len, max_payload);
      return FALSE;
    }

  if (type != NULL)
    *type = header[4];
  if (payload_len != NULL)
    *payload_len = len;

  return TRUE;
}

static gboolean
check_payload_size (gsize    len,
                    GError **error)
{
  if (len <= KILN_FRAME_MAX_PAYLOAD)
    return TRUE;

  g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE,
               _("A message of %zu bytes is over the frame limit of %u bytes"),
               len, KILN_FRAME_MAX_PAYLOAD);
  return FALSE;
}

GBytes *
kiln_frame_encode (guint8   type,
                   GBytes  *payload,
                   GError **error)
{
  gsize len = payload != NULL ? g_bytes_get_size (payload) : 0;
  guint8 *out;

  if (!check_payload_size (len, error))
    return NULL;

  out = g_malloc (KILN_FRAME_HEADER_SIZE + len);
  kiln_frame_header_write (out, type, len);
  if (len > 0)
    memcpy (out + KILN_FRAME_HEADER_SIZE, g_bytes_get_data (payload, NULL), len);

  return g_bytes_new_take (out, KILN_FRAME_HEADER_SIZE + len);
}

gssize
kiln_frame_decode (const guint8  *data,
                   gsize          len,
                   gsize          max_payload,
                   guint8        *type,
                   GBytes       **payload,
                   GError       **error)
{
  gsize payload_len;
  guint8 frame_type;

  g_return_val_if_fail (data != NULL || len == 0, -1);
  g_return_val_if_fail (payload != NULL && *payload == NULL, -1);

  if (len < KILN_FRAME_HEADER_SIZE)
    return 0;

  if (!kiln_frame_header_parse (data, max_payload, &frame_type, &payload_len, error))
    return -1;

  if (len - KILN_FRAME_HEADER_SIZE < payload_len)
    return 0;

  if (type != NULL)
    *type = frame_type;
  *payload = g_bytes_new (data + KILN_FRAME_HEADER_SIZE, payload_len);

  return KILN_FRAME_HEADER_SIZE + payload_len;
}

/* Reading */

typedef struct
{
  guint8  header[KILN_FRAME_HEADER_SIZE];
  gsize   max_payload;
  guint8  type;
  gsize   len;
  guint8 *payload;
} ReadData;

static void
read_data_free (ReadData *data)
{
  g_free (data->payload);
  g_free (data);
}

static void
on_payload_read (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ReadData *data = g_task_get_task_data (task);
  GError *error = NULL;
  gsize n = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (n < data->len)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                               _("The connection ended in the middle of a frame"));
      return;
    }

  g_task_return_pointer (task, g_bytes_new_take (g_steal_pointer (&data->payload), data->len),
                         (GDestroyNotify) g_bytes_unref);
}

static void
on_header_read (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ReadData *data = g_task_get_task_data (task);
  GCancellable *cancellable;
  GError *error = NULL;
  int priority;
  gsize n = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (n == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               _("The peer closed the connection"));
      return;
    }

  if (n < KILN_FRAME_HEADER_SIZE)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                               _("The connection ended in the middle of a frame"));
      return;
    }

  /* The length is checked before the payload buffer exists. */
  if (!kiln_frame_header_parse (data->header, data->max_payload, &data->type, &data->len,
                                &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (data->len == 0)
    {
      g_task_return_pointer (task, g_bytes_new (NULL, 0), (GDestroyNotify) g_bytes_unref);
      return;
    }

  data->payload = g_malloc (data->len);
  priority = g_task_get_priority (task);
  cancellable = g_task_get_cancellable (task);
  g_input_stream_read_all_async (G_INPUT_STREAM (object), data->payload, data->len,
                                 priority, cancellable, on_payload_read, g_steal_pointer (&task));
}

void
kiln_frame_read_async (GInputStream        *stream,
                       gsize                max_payload,
                       int                  io_priority,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ReadData *data;

  g_return_if_fail (G_IS_INPUT_STREAM (stream));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (stream, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_frame_read_async);
  g_task_set_priority (task, io_priority);

  data = g_new0 (ReadData, 1);
  data->max_payload = max_payload;
  g_task_set_task_data (task, data, (GDestroyNotify) read_data_free);

  g_input_stream_read_all_async (stream, data->header, KILN_FRAME_HEADER_SIZE, io_priority,
                                 cancellable, on_header_read, g_steal_pointer (&task));
}

GBytes *
kiln_frame_read_finish (GInputStream  *stream,
                        GAsyncResult  *result,
                        guint8        *type,
                        GError       **error)
{
  GBytes *payload;

  g_return_val_if_fail (g_task_is_valid (result, stream), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_frame_read_async, NULL);

  payload = g_task_propagate_pointer (G_TASK (result), error);
  if (payload != NULL && type != NULL)
    *type = ((ReadData *) g_task_get_task_data (G_TASK (result)))->type;

  return payload;
}

/* Writing */

typedef struct
{
  GTask         *task;
  guint8         header[KILN_FRAME_HEADER_SIZE];
  GBytes        *payload;
  GOutputVector  vectors[2];
  gsize          size;
} Pending;

struct _KilnFrameWriter
{
  GObject        parent_instance;

  GOutputStream *stream;
  GCancellable  *cancellable;
  gsize          max_queued;
  gsize          queued_bytes;   /* includes the frame being written */

  GQueue         urgent;
  GQueue         normal;
  Pending       *current;

  GTask         *close_task;
  gboolean       closing_stream;
  gboolean       closed;
  GError        *error;          /* the write error every later send fails with */
};

G_DEFINE_FINAL_TYPE (KilnFrameWriter, kiln_frame_writer, G_TYPE_OBJECT)

static void kiln_frame_writer_pump (KilnFrameWriter *self);

static void
pending_free (Pending *pending)
{
  g_clear_object (&pending->task);
  g_clear_pointer (&pending->payload, g_bytes_unref);
  g_free (pending);
}

static void
pending_fail (KilnFrameWriter *self,
              Pending         *pending,
              const GError    *error)
{
  self->queued_bytes -= pending->size;
  g_task_return_error (pending->task, g_error_copy (error));
  pending_free (pending);
}

static void
fail_queue (KilnFrameWriter *self,
            GQueue          *queue,
            const GError    *error)
{
  Pending *pending;

  while ((pending = g_queue_pop_head (queue)) != NULL)
    pending_fail (self, pending, error);
}

static void
kiln_frame_writer_dispose (GObject *object)
{
  KilnFrameWriter *self = KILN_FRAME_WRITER (object);

  /* Queued and running sends hold references, so nothing is left to fail here. */
  g_cancellable_cancel (self->cancellable);

  G_OBJECT_CLASS (kiln_frame_writer_parent_class)->dispose (object);
}

static void
kiln_frame_writer_finalize (GObject *object)
{
  KilnFrameWriter *self = KILN_FRAME_WRITER (object);

  g_assert (self->current == NULL);
  g_assert (self->close_task == NULL);

  g_clear_object (&self->stream);
  g_clear_object (&self->cancellable);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (kiln_frame_writer_parent_class)->finalize (object);
}

static void
kiln_frame_writer_class_init (KilnFrameWriterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_frame_writer_dispose;
  object_class->finalize = kiln_frame_writer_finalize;
}

static void
kiln_frame_writer_init (KilnFrameWriter *self)
{
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->urgent);
  g_queue_init (&self->normal);
}

KilnFrameWriter *
kiln_frame_writer_new (GOutputStream *stream,
                       gsize          max_queued)
{
  KilnFrameWriter *self;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), NULL);

  self = g_object_new (KILN_TYPE_FRAME_WRITER, NULL);
  self->stream = g_object_ref (stream);
  self->max_queued = max_queued;

  return self;
}

gsize
kiln_frame_writer_get_queued_bytes (KilnFrameWriter *self)
{
  g_return_val_if_fail (KILN_IS_FRAME_WRITER (self), 0);

  return self->queued_bytes;
}

static void
on_stream_closed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KilnFrameWriter) self = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&self->close_task);
  GError *error = NULL;

  self->closed = TRUE;
  if (g_output_stream_close_finish (G_OUTPUT_STREAM (object), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_frame_written (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KilnFrameWriter) self = user_data;
  Pending *pending = g_steal_pointer (&self->current);
  GError *error = NULL;

  if (!g_output_stream_writev_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      /* A frame cut short leaves the stream unusable: everything after it fails. */
      if (self->error == NULL)
        self->error = g_error_copy (error);
      fail_queue (self, &self->urgent, self->error);
      fail_queue (self, &self->normal, self->error);
      pending_fail (self, pending, error);
      g_error_free (error);
    }
  else
    {
      self->queued_bytes -= pending->size;
      g_task_return_boolean (pending->task, TRUE);
      pending_free (pending);
    }

  kiln_frame_writer_pump (self);
}

static void
kiln_frame_writer_pump (KilnFrameWriter *self)
{
  while (self->current == NULL)
    {
      Pending *pending = g_queue_pop_head (&self->urgent);

      if (pending == NULL)
        pending = g_queue_pop_head (&self->normal);

      if (pending == NULL)
        {
          if (self->close_task != NULL && !self->closing_stream)
            {
              self->closing_stream = TRUE;
              g_output_stream_close_async (self->stream, G_PRIORITY_DEFAULT,
                                           g_task_get_cancellable (self->close_task),
                                           on_stream_closed, g_object_ref (self));
            }
          return;
        }

      if (g_task_return_error_if_cancelled (pending->task))
        {
          self->queued_bytes -= pending->size;
          pending_free (pending);
          continue;
        }

      /* The sender's cancellable stays out of the write: half a frame would break the
       * stream for every frame after it. */
      self->current = pending;
      g_output_stream_writev_all_async (self->stream, pending->vectors,
                                        pending->payload != NULL ? 2 : 1,
                                        G_PRIORITY_DEFAULT, self->cancellable,
                                        on_frame_written, g_object_ref (self));
    }
}

void
kiln_frame_writer_send_async (KilnFrameWriter     *self,
                              guint8               type,
                              GBytes              *payload,
                              gboolean             urgent,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  gsize len = payload != NULL ? g_bytes_get_size (payload) : 0;
  Pending *pending;

  g_return_if_fail (KILN_IS_FRAME_WRITER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_frame_writer_send_async);
  /* Once written, a frame's result is the write's, whatever happened to the cancellable. */
  g_task_set_check_cancellable (task, FALSE);

  if (self->error != NULL)
    {
      g_task_return_error (task, g_error_copy (self->error));
      return;
    }

  if (self->close_task != NULL || self->closed)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED,
                               _("The connection is closing"));
      return;
    }

  if (!check_payload_size (len, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (self->queued_bytes > 0 &&
      self->queued_bytes + KILN_FRAME_HEADER_SIZE + len > self->max_queued)
    {
      g_task_return_new_error (task, KILN_NET_ERROR, KILN_NET_ERROR_SEND_QUEUE_FULL,
                               _("The peer is not reading fast enough: %zu bytes are "
                                 "waiting to be sent"), self->queued_bytes);
      return;
    }

  pending = g_new0 (Pending, 1);
  pending->task = g_steal_pointer (&task);
  kiln_frame_header_write (pending->header, type, len);
  pending->vectors[0].buffer = pending->header;
  pending->vectors[0].size = KILN_FRAME_HEADER_SIZE;
  if (len > 0)
    {
      pending->payload = g_bytes_ref (payload);
      pending->vectors[1].buffer = g_bytes_get_data (payload, NULL);
      pending->vectors[1].size = len;
    }
  pending->size = KILN_FRAME_HEADER_SIZE + len;

  self->queued_bytes += pending->size;
  g_queue_push_tail (urgent ? &self->urgent : &self->normal, pending);

  kiln_frame_writer_pump (self);
}

gboolean
kiln_frame_writer_send_finish (KilnFrameWriter  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_frame_writer_send_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kiln_frame_writer_close_async (KilnFrameWriter     *self,
                               gboolean             flush,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_FRAME_WRITER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_frame_writer_close_async);

  if (self->close_task != NULL || self->closed)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED,
                               _("The connection is already closing"));
      return;
    }

  if (!flush)
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                             _("The connection was closed before the "
                                               "message was sent"));

      fail_queue (self, &self->normal, error);
    }

  self->close_task = g_steal_pointer (&task);
  kiln_frame_writer_pump (self);
}

gboolean
kiln_frame_writer_close_finish (KilnFrameWriter  *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_frame_writer_close_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kiln_frame_writer_abort (KilnFrameWriter *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (KILN_IS_FRAME_WRITER (self));

  error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Sending was stopped"));
  if (self->error == NULL)
    self->error = g_error_copy (error);
  fail_queue (self, &self->urgent, error);
  fail_queue (self, &self->normal, error);
  g_cancellable_cancel (self->cancellable);
}
