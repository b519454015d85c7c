/* kiln-frame.h: length-prefixed frames on a byte stream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A frame is a 5-byte header, the payload length (unsigned 32-bit big-endian) and a type
 * byte, followed by the payload. docs/protocol.md has the details.
 */
#pragma once

#include <gio/gio.h>

#include "kiln-types.h"

G_BEGIN_DECLS

#define KILN_FRAME_HEADER_SIZE  5
/* The largest payload any frame may carry: 1 MiB. */
#define KILN_FRAME_MAX_PAYLOAD  (1024 * 1024)

/* Frame types. 0x00 and 0x05–0x0f are reserved; 0x10–0xff carry the messages of the layers
 * above the link. */
typedef enum
{
  KILN_FRAME_HELLO         = 0x01,
  KILN_FRAME_CLOSE         = 0x02,
  KILN_FRAME_PING          = 0x03,
  KILN_FRAME_PONG          = 0x04,
  KILN_FRAME_FIRST_MESSAGE = 0x10,
} KilnFrameType;

void     kiln_frame_header_write  (guint8         header[KILN_FRAME_HEADER_SIZE],
                                   guint8         type,
                                   gsize          payload_len);
/* Fails with KILN_NET_ERROR_FRAME_TOO_LARGE when the length exceeds @max_payload. */
gboolean kiln_frame_header_parse  (const guint8   header[KILN_FRAME_HEADER_SIZE],
                                   gsize          max_payload,
                                   guint8        *type,
                                   gsize         *payload_len,
                                   GError       **error);

/* Header and payload in one buffer. @payload may be NULL for an empty one. */
GBytes  *kiln_frame_encode        (guint8         type,
                                   GBytes        *payload,
                                   GError       **error);
/* Decodes the frame at the start of @data. Returns the bytes it took (> 0) and sets @type and
 * @payload; 0 when @data holds only part of a frame; -1 with @error when the header is
 * invalid, which is known from its first 5 bytes, before anything is allocated. */
gssize   kiln_frame_decode        (const guint8  *data,
                                   gsize          len,
                                   gsize          max_payload,
                                   guint8        *type,
                                   GBytes       **payload,
                                   GError       **error);

/* Reads one frame. Fails with G_IO_ERROR_CONNECTION_CLOSED on a clean end of stream before
 * a frame starts, G_IO_ERROR_PARTIAL_INPUT when the stream ends inside a frame, and
 * KILN_NET_ERROR_FRAME_TOO_LARGE (without reading on) for a header over @max_payload. */
void     kiln_frame_read_async    (GInputStream         *stream,
                                   gsize                 max_payload,
                                   int                   io_priority,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data);
GBytes  *kiln_frame_read_finish   (GInputStream         *stream,
                                   GAsyncResult         *result,
                                   guint8               *type,
                                   GError              **error);

/* Writes frames to a stream one after another. A send completes when its frame has been
 * written, so a sender that waits for completion goes no faster than the stream drains;
 * a send that would queue more than the writer's limit fails at once with
 * KILN_NET_ERROR_SEND_QUEUE_FULL. After a write error every later send fails with it. */
#define KILN_TYPE_FRAME_WRITER (kiln_frame_writer_get_type ())

G_DECLARE_FINAL_TYPE (KilnFrameWriter, kiln_frame_writer, KILN, FRAME_WRITER, GObject)

KilnFrameWriter *kiln_frame_writer_new              (GOutputStream        *stream,
                                                     gsize                 max_queued);
gsize            kiln_frame_writer_get_queued_bytes (KilnFrameWriter      *self);
/* An @urgent frame (keep-alive, CLOSE) goes ahead of queued ones, after the frame being
 * written. Cancelling only withdraws a frame that has not started. */
void             kiln_frame_writer_send_async       (KilnFrameWriter      *self,
                                                     guint8                type,
                                                     GBytes               *payload,
                                                     gboolean              urgent,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean         kiln_frame_writer_send_finish      (KilnFrameWriter      *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
/* Closes the stream once the frame being written and the queued urgent frames are out, and
 * with @flush the other queued frames too (else they fail with G_IO_ERROR_CLOSED). Later
 * sends fail with G_IO_ERROR_CLOSED. */
void             kiln_frame_writer_close_async      (KilnFrameWriter      *self,
                                                     gboolean              flush,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean         kiln_frame_writer_close_finish     (KilnFrameWriter      *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
/* Stops the write in progress and fails every queued frame: for a peer that stopped reading.
 * The stream is unusable afterwards. */
void             kiln_frame_writer_abort            (KilnFrameWriter      *self);

G_END_DECLS
