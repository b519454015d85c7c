/* test-frame.c: the link wire format: frames, HELLO and CLOSE payloads, reading and writing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>

#include "libkiln.h"

static void
iterate_until (gboolean *done)
{
  while (!*done)
    g_main_context_iteration (NULL, TRUE);
}

static void
iterate_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static GBytes *
bytes_of_size (gsize  len,
               guint8 seed)
{
  guint8 *data = g_malloc (len > 0 ? len : 1);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i * 31 + seed);

  return g_bytes_new_take (data, len);
}

static void
test_frame_header (void)
{
  guint8 header[KILN_FRAME_HEADER_SIZE];
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  guint8 type = 0;

  kiln_frame_header_write (header, 0x42, 0x01020304);
  g_assert_cmpmem (header, sizeof header, "\x01\x02\x03\x04\x42", 5);

  g_assert_true (kiln_frame_header_parse (header, 0x01020304, &type, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (type, ==, 0x42);
  g_assert_cmpuint (len, ==, 0x01020304);

  g_assert_false (kiln_frame_header_parse (header, 0x01020303, &type, &len, &error));
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE);
  g_clear_error (&error);

  kiln_frame_header_write (header, KILN_FRAME_PING, 0);
  g_assert_true (kiln_frame_header_parse (header, 0, &type, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (type, ==, KILN_FRAME_PING);
  g_assert_cmpuint (len, ==, 0);
}

static void
test_frame_encode_decode (void)
{
  static const gsize sizes[] = { 0, 1, 3, 1000, 65536, KILN_FRAME_MAX_PAYLOAD };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) abc = g_bytes_new_static ("abc", 3);
  g_autoptr(GBytes) encoded = NULL;

  /* The exact bytes: length 3 big-endian, type 0x10, payload. */
  encoded = kiln_frame_encode (KILN_FRAME_FIRST_MESSAGE, abc, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                   "\x00\x00\x00\x03\x10" "abc", 8);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GBytes) payload = bytes_of_size (sizes[i], i);
      g_autoptr(GBytes) frame = kiln_frame_encode (0x10 + i, payload, &error);
      g_autoptr(GBytes) decoded = NULL;
      guint8 type = 0;
      gssize taken;

      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (frame), ==, KILN_FRAME_HEADER_SIZE + sizes[i]);

      taken = kiln_frame_decode (g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                 KILN_FRAME_MAX_PAYLOAD, &type, &decoded, &error);
      g_assert_no_error (error);
      g_assert_cmpint (taken, ==, (gssize) g_bytes_get_size (frame));
      g_assert_cmpuint (type, ==, 0x10 + i);
      g_assert_true (g_bytes_equal (decoded, payload));
    }

  /* An empty payload may also be given as NULL. */
  g_clear_pointer (&encoded, g_bytes_unref);
  encoded = kiln_frame_encode (KILN_FRAME_PONG, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                   "\x00\x00\x00\x00\x04", 5);
}

static void
test_frame_encode_too_large (void)
{
  g_autoptr(GBytes) payload = bytes_of_size (KILN_FRAME_MAX_PAYLOAD + 1, 0);
  g_autoptr(GError) error = NULL;

  g_assert_null (kiln_frame_encode (KILN_FRAME_FIRST_MESSAGE, payload, &error));
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE);
}

static void
test_frame_truncated (void)
{
  g_autoptr(GBytes) first = bytes_of_size (300, 1);
  g_autoptr(GBytes) second = bytes_of_size (7, 2);
  g_autoptr(GBytes) frame1 = kiln_frame_encode (0x20, first, NULL);
  g_autoptr(GBytes) frame2 = kiln_frame_encode (0x21, second, NULL);
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  gsize offset = 0;
  guint n_frames = 0;

  g_byte_array_append (stream, g_bytes_get_data (frame1, NULL), g_bytes_get_size (frame1));
  g_byte_array_append (stream, g_bytes_get_data (frame2, NULL), g_bytes_get_size (frame2));

  /* Every proper prefix of a frame asks for more bytes. */
  for (gsize len = 0; len < g_bytes_get_size (frame1); len++)
    {
      g_autoptr(GBytes) payload = NULL;

      g_assert_cmpint (kiln_frame_decode (stream->data, len, 1024, NULL, &payload, &error),
                       ==, 0);
      g_assert_no_error (error);
      g_assert_null (payload);
    }

  /* Back-to-back frames come out one by one. */
  while (offset < stream->len)
    {
      g_autoptr(GBytes) payload = NULL;
      guint8 type = 0;
      gssize taken = kiln_frame_decode (stream->data + offset, stream->len - offset, 1024,
                                        &type, &payload, &error);

      g_assert_no_error (error);
      g_assert_cmpint (taken, >, 0);
      g_assert_true (g_bytes_equal (payload, n_frames == 0 ? first : second));
      g_assert_cmpuint (type, ==, n_frames == 0 ? 0x20 : 0x21);
      offset += taken;
      n_frames++;
    }
  g_assert_cmpuint (n_frames, ==, 2);
}

static void
test_frame_oversized_header (void)
{
  static const guint8 huge[] = { 0xff, 0xff, 0xff, 0xff, 0x10 };
  static const guint8 one_over[] = { 0x00, 0x10, 0x00, 0x01, 0x10 };
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GError) error = NULL;

  /* Refused from the header alone, with none of the claimed payload present. */
  g_assert_cmpint (kiln_frame_decode (huge, sizeof huge, KILN_FRAME_MAX_PAYLOAD, NULL,
                                      &payload, &error), ==, -1);
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE);
  g_assert_null (payload);
  g_clear_error (&error);

  /* One byte over the limit. */
  g_assert_cmpint (kiln_frame_decode (one_over, sizeof one_over, KILN_FRAME_MAX_PAYLOAD, NULL,
                                      &payload, &error), ==, -1);
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE);
}

static void
test_frame_random (void)
{
  guint n_frames = 0;
  guint n_errors = 0;

  /* Random bytes: every outcome is a frame, a request for more, or an error. */
  for (guint round = 0; round < 20000; round++)
    {
      guint8 data[96];
      gsize len = g_test_rand_int_range (0, sizeof data + 1);
      gsize offset = 0;

      for (gsize i = 0; i < len; i++)
        data[i] = g_test_rand_int_range (0, 256);
      /* Small lengths, so that many buffers hold whole frames. */
      if (len > 0 && round % 2 == 0)
        data[0] = data[1 % len] = data[2 % len] = 0;

      while (offset < len)
        {
          g_autoptr(GBytes) payload = NULL;
          g_autoptr(GError) error = NULL;
          gssize taken = kiln_frame_decode (data + offset, len - offset, 64, NULL,
                                            &payload, &error);

          if (taken < 0)
            {
              g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE);
              n_errors++;
              break;
            }
          g_assert_no_error (error);
          if (taken == 0)
            break;
          g_assert_cmpint (taken, <=, (gssize) (len - offset));
          g_assert_cmpuint (g_bytes_get_size (payload), ==, taken - KILN_FRAME_HEADER_SIZE);
          n_frames++;
          offset += taken;
        }
    }

  g_assert_cmpuint (n_frames, >, 0);
  g_assert_cmpuint (n_errors, >, 0);
}

/* Control payloads, against vectors computed with an independent implementation (ethers.js:
 * keccak256, and SigningKey.sign with RFC 6979 nonces). docs/protocol.md quotes them. */

#define KEY_4646 "4646464646464646464646464646464646464646464646464646464646464646"
#define ADDRESS_4646 "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
#define DIGEST_CLIENT "5096a16e9472547b2be414c86a7e9e83a71e70f9b4359d4e28aef61c267a0b6e"
#define DIGEST_SERVER "ecc1358b8741db3e5935b09071da29370e323ca26ec20a5eb616c10efa47cef8"
#define SIGNATURE_CLIENT \
  "96bf0f3c45018f08a8d4f4c0a2b1fbc908b69926b56d949b6bd85707ec6ef660" \
  "5f421e0e59894c7ae467640d9282e396928beac6fd94b2338091d6fd05b0d254" "00"

static void
test_frame_proof_vector (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = kiln_key_new_from_hex (KEY_4646, &error);
  g_autoptr(GBytes) encoded = NULL;
  g_autofree char *hex = NULL;
  guint8 binding[KILN_NET_CHANNEL_BINDING_SIZE];
  guint8 digest[32];
  guint8 expected[KILN_NET_HELLO_SIZE];
  KilnNetHello hello, decoded;

  g_assert_no_error (error);
  g_assert_cmpstr (kiln_key_get_address_string (key), ==, ADDRESS_4646);
  for (guint i = 0; i < sizeof binding; i++)
    binding[i] = i;

  /* keccak256(0x19 || "kiln/link-proof/v1" || role || binding) */
  kiln_net_proof_digest (KILN_NET_ROLE_CLIENT, binding, digest);
  hex = kiln_hex_encode (digest, sizeof digest);
  g_assert_cmpstr (hex, ==, DIGEST_CLIENT);
  g_clear_pointer (&hex, g_free);
  kiln_net_proof_digest (KILN_NET_ROLE_SERVER, binding, digest);
  hex = kiln_hex_encode (digest, sizeof digest);
  g_assert_cmpstr (hex, ==, DIGEST_SERVER);
  g_clear_pointer (&hex, g_free);

  /* HELLO: version 1.0, address, r || s || recovery id. */
  g_assert_true (kiln_net_hello_sign (&hello, key, KILN_NET_ROLE_CLIENT, binding, &error));
  g_assert_no_error (error);
  encoded = kiln_net_hello_encode (&hello);
  expected[0] = 0;
  expected[1] = KILN_NET_PROTOCOL_MAJOR;
  expected[2] = 0;
  expected[3] = KILN_NET_PROTOCOL_MINOR;
  g_assert_true (kiln_hex_decode (ADDRESS_4646, expected + 4, KILN_ADDRESS_SIZE, NULL));
  g_assert_true (kiln_hex_decode (SIGNATURE_CLIENT, expected + 24, KILN_SIGNATURE_SIZE, NULL));
  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                   expected, sizeof expected);

  g_assert_true (kiln_net_hello_decode (encoded, &decoded, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_net_hello_verify (&decoded, KILN_NET_ROLE_CLIENT, binding, &error));
  g_assert_no_error (error);

  /* The same proof does not hold for the other role, nor for another connection. */
  g_assert_false (kiln_net_hello_verify (&decoded, KILN_NET_ROLE_SERVER, binding, &error));
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_BAD_PROOF);
  g_clear_error (&error);
  binding[0] ^= 1;
  g_assert_false (kiln_net_hello_verify (&decoded, KILN_NET_ROLE_CLIENT, binding, &error));
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_BAD_PROOF);
}

static void
test_frame_hello_decode (void)
{
  static const guint8 future[] = { 0x00, 0x02, 0x00, 0x05 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) short_hello = g_bytes_new_static ("\x00\x01\x00\x00", 4);
  g_autoptr(GBytes) future_hello = g_bytes_new_static (future, sizeof future);
  g_autoptr(GBytes) longer = NULL;
  guint8 bytes[KILN_NET_HELLO_SIZE + 16] = { 0x00, 0x01, 0x00, 0x09 };
  guint8 binding[KILN_NET_CHANNEL_BINDING_SIZE] = { 0 };
  KilnNetHello hello;

  /* Version 1 needs its 89 bytes. */
  g_assert_false (kiln_net_hello_decode (short_hello, &hello, &error));
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* Another major version is reported as such, whatever follows it. */
  g_assert_true (kiln_net_hello_decode (future_hello, &hello, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (hello.major, ==, 2);
  g_assert_false (kiln_net_hello_verify (&hello, KILN_NET_ROLE_CLIENT, binding, &error));
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_VERSION);
  g_clear_error (&error);

  /* A later minor version may append fields: they are skipped. */
  longer = g_bytes_new (bytes, sizeof bytes);
  g_assert_true (kiln_net_hello_decode (longer, &hello, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (hello.minor, ==, 9);
}

static void
test_frame_close_payload (void)
{
  g_autoptr(GBytes) encoded = kiln_net_close_encode (KILN_NET_CLOSE_BAD_PROOF, "no");
  g_autoptr(GBytes) hostile = g_bytes_new_static ("\x00\x63" "bad\n\x1b[31m\xff", 12);
  g_autoptr(GBytes) too_long = NULL;
  g_autoptr(GBytes) cut = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *decoded = NULL;
  guint reason = 0;

  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                   "\x00\x04" "no", 4);
  g_assert_true (kiln_net_close_decode (encoded, &reason, &decoded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (reason, ==, KILN_NET_CLOSE_BAD_PROOF);
  g_assert_cmpstr (decoded, ==, "no");
  g_clear_pointer (&decoded, g_free);

  /* Unknown reasons pass through; control characters and broken UTF-8 do not. */
  g_assert_true (kiln_net_close_decode (hostile, &reason, &decoded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (reason, ==, 0x63);
  g_assert_cmpuint (kiln_net_error_from_close_reason (reason), ==, KILN_NET_ERROR_CLOSED);
  g_assert_true (g_utf8_validate (decoded, -1, NULL));
  g_assert_null (strchr (decoded, '\n'));
  g_assert_null (strchr (decoded, '\x1b'));
  g_clear_pointer (&decoded, g_free);

  /* Long texts are cut on a character boundary (é is two bytes). */
  for (guint i = 0; i < 200; i++)
    g_string_append (text, "é");
  cut = kiln_net_close_encode (KILN_NET_CLOSE_NORMAL, text->str);
  g_assert_cmpuint (g_bytes_get_size (cut), ==, 2 + KILN_NET_CLOSE_TEXT_MAX);
  g_assert_true (kiln_net_close_decode (cut, &reason, &decoded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_utf8_strlen (decoded, -1), ==, KILN_NET_CLOSE_TEXT_MAX / 2);

  /* A received CLOSE longer than the limit is malformed. */
  g_string_set_size (text, 0);
  g_string_append_len (text, "\x00\x00", 2);
  for (guint i = 0; i <= KILN_NET_CLOSE_TEXT_MAX; i++)
    g_string_append_c (text, 'x');
  too_long = g_bytes_new (text->str, text->len);
  g_clear_pointer (&decoded, g_free);
  g_assert_false (kiln_net_close_decode (too_long, &reason, &decoded, &error));
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL);
}

/* Reading from streams */

typedef struct
{
  gboolean  done;
  GBytes   *payload;
  guint8    type;
  GError   *error;
} ReadResult;

static void
on_read (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  ReadResult *r = user_data;

  r->payload = kiln_frame_read_finish (G_INPUT_STREAM (object), result, &r->type, &r->error);
  r->done = TRUE;
}

static void
read_one (GInputStream *stream,
          gsize         max_payload,
          ReadResult   *r)
{
  memset (r, 0, sizeof *r);
  kiln_frame_read_async (stream, max_payload, G_PRIORITY_DEFAULT, NULL, on_read, r);
  iterate_until (&r->done);
}

static void
read_result_clear (ReadResult *r)
{
  g_clear_pointer (&r->payload, g_bytes_unref);
  g_clear_error (&r->error);
}

static GInputStream *
memory_stream (const guint8 *data,
               gsize         len)
{
  return g_memory_input_stream_new_from_data (g_memdup2 (data, len), len, g_free);
}

static void
test_frame_read (void)
{
  g_autoptr(GBytes) a = bytes_of_size (5000, 3);
  g_autoptr(GBytes) frame_a = kiln_frame_encode (0x30, a, NULL);
  g_autoptr(GBytes) frame_empty = kiln_frame_encode (KILN_FRAME_PING, NULL, NULL);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GInputStream) stream = NULL;
  ReadResult r;

  g_byte_array_append (data, g_bytes_get_data (frame_a, NULL), g_bytes_get_size (frame_a));
  g_byte_array_append (data, g_bytes_get_data (frame_empty, NULL), 5);
  stream = memory_stream (data->data, data->len);

  read_one (stream, KILN_FRAME_MAX_PAYLOAD, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.type, ==, 0x30);
  g_assert_true (g_bytes_equal (r.payload, a));
  read_result_clear (&r);

  read_one (stream, KILN_FRAME_MAX_PAYLOAD, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.type, ==, KILN_FRAME_PING);
  g_assert_cmpuint (g_bytes_get_size (r.payload), ==, 0);
  read_result_clear (&r);

  /* A clean end between frames. */
  read_one (stream, KILN_FRAME_MAX_PAYLOAD, &r);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_null (r.payload);
  read_result_clear (&r);
}

static void
test_frame_read_truncated (void)
{
  g_autoptr(GBytes) a = bytes_of_size (100, 4);
  g_autoptr(GBytes) frame = kiln_frame_encode (0x30, a, NULL);
  const guint8 *data = g_bytes_get_data (frame, NULL);
  static const gsize cuts[] = { 1, 4, 5, 6, 104 };

  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autoptr(GInputStream) stream = memory_stream (data, cuts[i]);
      ReadResult r;

      read_one (stream, KILN_FRAME_MAX_PAYLOAD, &r);
      g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
      g_assert_null (r.payload);
      read_result_clear (&r);
    }
}

static void
test_frame_read_oversized (void)
{
  static const guint8 header[] = { 0x7f, 0xff, 0xff, 0xff, 0x10 };
  g_autoptr(GInputStream) stream = memory_stream (header, sizeof header);
  ReadResult r;

  /* Had the reader tried to read the 2 GiB, the stream's end would give PARTIAL_INPUT. */
  read_one (stream, KILN_FRAME_MAX_PAYLOAD, &r);
  g_assert_error (r.error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE);
  g_assert_null (r.payload);
  read_result_clear (&r);
}

/* Writing */

typedef struct
{
  guint    completed;
  guint    failed;
  GError  *last_error;
  GString *order;
} SendLog;

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  SendLog *log = user_data;
  g_autoptr(GError) error = NULL;

  if (kiln_frame_writer_send_finish (KILN_FRAME_WRITER (object), result, &error))
    log->completed++;
  else
    {
      log->failed++;
      g_clear_error (&log->last_error);
      log->last_error = g_steal_pointer (&error);
    }
}

static void
on_writer_closed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (kiln_frame_writer_close_finish (KILN_FRAME_WRITER (object), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
assert_frames (GMemoryOutputStream *out,
               const guint8        *types,
               guint                n_types)
{
  const guint8 *data = g_memory_output_stream_get_data (out);
  gsize len = g_memory_output_stream_get_data_size (out);
  gsize offset = 0;

  for (guint i = 0; i < n_types; i++)
    {
      g_autoptr(GBytes) payload = NULL;
      guint8 type = 0;
      gssize taken = kiln_frame_decode (data + offset, len - offset, KILN_FRAME_MAX_PAYLOAD,
                                        &type, &payload, NULL);

      g_assert_cmpint (taken, >, 0);
      g_assert_cmpuint (type, ==, types[i]);
      offset += taken;
    }
  g_assert_cmpuint (offset, ==, len);
}

static void
test_frame_writer_order (void)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(KilnFrameWriter) writer = kiln_frame_writer_new (out, 1024 * 1024);
  g_autoptr(GBytes) payload = bytes_of_size (1000, 5);
  static const guint8 expected[] = { 0x10, 0x03, 0x04, 0x11, 0x12 };
  SendLog log = { 0 };
  gboolean closed = FALSE;

  /* The first starts at once; urgent frames overtake the queued ones, in their own order. */
  kiln_frame_writer_send_async (writer, 0x10, payload, FALSE, NULL, on_sent, &log);
  kiln_frame_writer_send_async (writer, 0x11, payload, FALSE, NULL, on_sent, &log);
  kiln_frame_writer_send_async (writer, 0x12, payload, FALSE, NULL, on_sent, &log);
  kiln_frame_writer_send_async (writer, KILN_FRAME_PING, NULL, TRUE, NULL, on_sent, &log);
  kiln_frame_writer_send_async (writer, KILN_FRAME_PONG, NULL, TRUE, NULL, on_sent, &log);
  g_assert_cmpuint (kiln_frame_writer_get_queued_bytes (writer), ==, 3 * 1005 + 2 * 5);

  kiln_frame_writer_close_async (writer, TRUE, NULL, on_writer_closed, &closed);
  iterate_until (&closed);

  g_assert_cmpuint (log.completed, ==, 5);
  g_assert_cmpuint (log.failed, ==, 0);
  g_assert_cmpuint (kiln_frame_writer_get_queued_bytes (writer), ==, 0);
  g_assert_true (g_output_stream_is_closed (out));
  assert_frames (G_MEMORY_OUTPUT_STREAM (out), expected, G_N_ELEMENTS (expected));

  /* Nothing goes out after the close. */
  kiln_frame_writer_send_async (writer, 0x13, payload, FALSE, NULL, on_sent, &log);
  iterate_pending ();
  g_assert_cmpuint (log.failed, ==, 1);
  g_assert_error (log.last_error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&log.last_error);
}

static void
test_frame_writer_close_drops (void)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(KilnFrameWriter) writer = kiln_frame_writer_new (out, 1024 * 1024);
  static const guint8 expected[] = { 0x10, KILN_FRAME_CLOSE };
  SendLog log = { 0 };
  gboolean closed = FALSE;

  /* Without flush, queued messages are dropped but urgent frames still go. */
  kiln_frame_writer_send_async (writer, 0x10, NULL, FALSE, NULL, on_sent, &log);
  kiln_frame_writer_send_async (writer, 0x11, NULL, FALSE, NULL, on_sent, &log);
  kiln_frame_writer_send_async (writer, KILN_FRAME_CLOSE, NULL, TRUE, NULL, on_sent, &log);
  kiln_frame_writer_close_async (writer, FALSE, NULL, on_writer_closed, &closed);
  iterate_until (&closed);

  g_assert_cmpuint (log.completed, ==, 2);
  g_assert_cmpuint (log.failed, ==, 1);
  g_assert_error (log.last_error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&log.last_error);
  assert_frames (G_MEMORY_OUTPUT_STREAM (out), expected, G_N_ELEMENTS (expected));
}

static void
test_frame_writer_error (void)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(KilnFrameWriter) writer = kiln_frame_writer_new (out, 1024 * 1024);
  SendLog log = { 0 };

  g_assert_true (g_output_stream_close (out, NULL, NULL));

  kiln_frame_writer_send_async (writer, 0x10, NULL, FALSE, NULL, on_sent, &log);
  kiln_frame_writer_send_async (writer, 0x11, NULL, FALSE, NULL, on_sent, &log);
  while (log.failed < 2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (log.last_error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&log.last_error);

  /* The first failure sticks. */
  kiln_frame_writer_send_async (writer, 0x12, NULL, FALSE, NULL, on_sent, &log);
  while (log.failed < 3)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (log.last_error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&log.last_error);
  g_assert_cmpuint (log.completed, ==, 0);
}

static void
test_frame_writer_back_pressure (void)
{
  const gsize frame_size = 256 * 1024;
  g_autoptr(GBytes) payload = bytes_of_size (frame_size, 6);
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(KilnFrameWriter) writer = NULL;
  SendLog log = { 0 };
  int fds[2];

  g_assert_cmpint (pipe (fds), ==, 0);
  g_assert_true (g_unix_set_fd_nonblocking (fds[0], TRUE, NULL));
  g_assert_true (g_unix_set_fd_nonblocking (fds[1], TRUE, NULL));
  in = g_unix_input_stream_new (fds[0], TRUE);
  out = g_unix_output_stream_new (fds[1], TRUE);
  writer = kiln_frame_writer_new (out, 4 * (frame_size + KILN_FRAME_HEADER_SIZE));

  for (guint i = 0; i < 4; i++)
    kiln_frame_writer_send_async (writer, 0x10 + i, payload, FALSE, NULL, on_sent, &log);

  /* Nobody reads the pipe: no send can complete and all four frames stay queued. */
  iterate_pending ();
  g_assert_cmpuint (log.completed, ==, 0);
  g_assert_cmpuint (log.failed, ==, 0);
  g_assert_cmpuint (kiln_frame_writer_get_queued_bytes (writer), ==,
                    4 * (frame_size + KILN_FRAME_HEADER_SIZE));

  /* A fifth would pass the limit: refused at once. */
  kiln_frame_writer_send_async (writer, 0x20, payload, FALSE, NULL, on_sent, &log);
  iterate_pending ();
  g_assert_cmpuint (log.failed, ==, 1);
  g_assert_error (log.last_error, KILN_NET_ERROR, KILN_NET_ERROR_SEND_QUEUE_FULL);
  g_clear_error (&log.last_error);

  /* Reading lets the frames through, in order. */
  for (guint i = 0; i < 4; i++)
    {
      ReadResult r;

      read_one (in, KILN_FRAME_MAX_PAYLOAD, &r);
      g_assert_no_error (r.error);
      g_assert_cmpuint (r.type, ==, 0x10 + i);
      g_assert_true (g_bytes_equal (r.payload, payload));
      read_result_clear (&r);
    }
  while (log.completed < 4)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (kiln_frame_writer_get_queued_bytes (writer), ==, 0);
}

static void
test_frame_writer_abort (void)
{
  g_autoptr(GBytes) payload = bytes_of_size (256 * 1024, 7);
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(KilnFrameWriter) writer = NULL;
  SendLog log = { 0 };
  int fds[2];

  g_assert_cmpint (pipe (fds), ==, 0);
  g_assert_true (g_unix_set_fd_nonblocking (fds[1], TRUE, NULL));
  in = g_unix_input_stream_new (fds[0], TRUE);
  out = g_unix_output_stream_new (fds[1], TRUE);
  writer = kiln_frame_writer_new (out, 4 * 1024 * 1024);

  kiln_frame_writer_send_async (writer, 0x10, payload, FALSE, NULL, on_sent, &log);
  kiln_frame_writer_send_async (writer, 0x11, payload, FALSE, NULL, on_sent, &log);
  iterate_pending ();
  g_assert_cmpuint (log.failed, ==, 0);

  /* A reader that never comes: abort ends the stuck write and the queue. */
  kiln_frame_writer_abort (writer);
  while (log.failed < 2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (log.completed, ==, 0);
  g_assert_error (log.last_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&log.last_error);
  g_assert_cmpuint (kiln_frame_writer_get_queued_bytes (writer), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/frame/header", test_frame_header);
  g_test_add_func ("/kiln/frame/encode-decode", test_frame_encode_decode);
  g_test_add_func ("/kiln/frame/encode-too-large", test_frame_encode_too_large);
  g_test_add_func ("/kiln/frame/truncated", test_frame_truncated);
  g_test_add_func ("/kiln/frame/oversized-header", test_frame_oversized_header);
  g_test_add_func ("/kiln/frame/random", test_frame_random);
  g_test_add_func ("/kiln/frame/proof-vector", test_frame_proof_vector);
  g_test_add_func ("/kiln/frame/hello-decode", test_frame_hello_decode);
  g_test_add_func ("/kiln/frame/close-payload", test_frame_close_payload);
  g_test_add_func ("/kiln/frame/read", test_frame_read);
  g_test_add_func ("/kiln/frame/read-truncated", test_frame_read_truncated);
  g_test_add_func ("/kiln/frame/read-oversized", test_frame_read_oversized);
  g_test_add_func ("/kiln/frame/writer/order", test_frame_writer_order);
  g_test_add_func ("/kiln/frame/writer/close-drops", test_frame_writer_close_drops);
  g_test_add_func ("/kiln/frame/writer/error", test_frame_writer_error);
  g_test_add_func ("/kiln/frame/writer/back-pressure", test_frame_writer_back_pressure);
  g_test_add_func ("/kiln/frame/writer/abort", test_frame_writer_abort);

  return g_test_run ();
}
