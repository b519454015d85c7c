/* test-message.c: the signed message envelope: encoding, limits and signatures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libkiln.h"

/* The test vector of docs/protocol.md ("Messages"), computed independently of this code. */
#define VECTOR_KEY        "4646464646464646464646464646464646464646464646464646464646464646"
#define VECTOR_AUTHOR     "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
#define VECTOR_RECIPIENT  "0x00112233445566778899aabbccddeeff00112233"
#define VECTOR_NONCE      G_GUINT64_CONSTANT (0x0123456789abcdef)
#define VECTOR_TIMESTAMP  G_GINT64_CONSTANT (1700000000000)
#define VECTOR_BODY       "kiln"
#define VECTOR_DIGEST     "67b3e417c8dba813e52132fd078e9231cc35ec5fb924dfd6a9c7c1dfb4e585dc"
#define VECTOR_MESSAGE \
  "0001" "0000" "0003" "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f" \
  "00112233445566778899aabbccddeeff00112233" "0123456789abcdef" "0000018bcfe56800" "0000" \
  "00000004" "6b696c6e" \
  "864f73d3e40443bdb540f9f993285adc68d313aa812e24cd6f5620d81562ee4a" \
  "0319cbf55ed444a09f91a2b4d85038576ff19c93e7bb985bb8b0e2805f25ac07" "01"

/* secp256k1's group order n, for making the high-S twin of a signature. */
static const guint8 curve_order[32] = {
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
  0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static KilnKey *
vector_key (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_new_from_hex (VECTOR_KEY, &error);

  g_assert_no_error (error);
  return key;
}

static KilnAddress
parse_address (const char *text)
{
  g_autoptr(GError) error = NULL;
  KilnAddress address;

  g_assert_true (kiln_address_parse (&address, text, &error));
  g_assert_no_error (error);
  return address;
}

static GBytes *
hex_bytes (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data = g_malloc (len);
  g_autoptr(GError) error = NULL;

  g_assert_true (kiln_hex_decode (hex, data, len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

static GBytes *
filled_bytes (gsize  len,
              guint8 seed)
{
  guint8 *data = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (seed + i * 7);
  return g_bytes_new_take (data, len);
}

static KilnMessage *
signed_message (KilnKey           *key,
                KilnMessageType    type,
                const KilnAddress *recipient,
                GBytes            *body)
{
  g_autoptr(GError) error = NULL;
  KilnMessage *message = kiln_message_new (type, recipient, body);

  g_assert_true (kiln_message_sign (message, key, &error));
  g_assert_no_error (error);
  return message;
}

static GByteArray *
encoded_copy (KilnMessage *message)
{
  g_autoptr(GBytes) bytes = kiln_message_encode (message);
  GByteArray *copy = g_byte_array_new ();

  g_byte_array_append (copy, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  return copy;
}

static void
put_be (guint8  *out,
        guint64  value,
        guint    width)
{
  for (guint i = 0; i < width; i++)
    out[i] = (value >> (8 * (width - 1 - i))) & 0xff;
}

/* Signs @signed_part as docs/protocol.md says, with no help from kiln-message.c, and gives the
 * whole message. */
static GBytes *
sign_raw (KilnKey      *key,
          const guint8 *signed_part,
          gsize         len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  GByteArray *m = g_byte_array_new ();
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];

  g_byte_array_append (m, (const guint8 *) "\x19", 1);
  g_byte_array_append (m, (const guint8 *) "kiln/message/v1", 15);
  g_byte_array_append (m, signed_part, len);
  kiln_keccak256 (m->data, m->len, digest);
  g_byte_array_unref (m);

  g_assert_true (kiln_key_sign_digest (key, digest, signature, &error));
  g_assert_no_error (error);
  g_byte_array_append (out, signed_part, len);
  g_byte_array_append (out, signature, sizeof signature);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* A message laid out by hand: @ext_len extension bytes and @body_len body bytes. */
static GBytes *
raw_message (KilnKey           *key,
             guint              major,
             guint              minor,
             guint              type,
             const KilnAddress *recipient,
             guint64            timestamp,
             gsize              ext_len,
             gsize              body_len)
{
  gsize len = KILN_MESSAGE_HEADER_SIZE + ext_len + 4 + body_len;
  g_autofree guint8 *part = g_malloc0 (len);

  put_be (part, major, 2);
  put_be (part + 2, minor, 2);
  put_be (part + 4, type, 2);
  memcpy (part + 6, kiln_key_get_address (key)->bytes, KILN_ADDRESS_SIZE);
  if (recipient != NULL)
    memcpy (part + 26, recipient->bytes, KILN_ADDRESS_SIZE);
  put_be (part + 46, g_random_int (), 8);
  put_be (part + 54, timestamp, 8);
  put_be (part + 62, ext_len, 2);
  for (gsize i = 0; i < ext_len; i++)
    part[64 + i] = 0xe0 + (i & 0xf);
  put_be (part + 64 + ext_len, body_len, 4);
  for (gsize i = 0; i < body_len; i++)
    part[68 + ext_len + i] = (guint8) i;

  return sign_raw (key, part, len);
}

static GBytes *
array_bytes (GByteArray *array)
{
  return g_bytes_new (array->data, array->len);
}

static void
assert_decode_fails (GBytes     *bytes,
                     int         code,
                     const char *pattern)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnMessage) message = kiln_message_decode (bytes, &error);

  g_assert_null (message);
  g_assert_error (error, KILN_MESSAGE_ERROR, code);
  if (pattern != NULL && !g_pattern_match_simple (pattern, error->message))
    g_error ("“%s” does not match “%s”", error->message, pattern);
}

static void
assert_verify_fails (GBytes     *bytes,
                     const char *pattern)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnMessage) message = kiln_message_decode (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  g_assert_false (kiln_message_is_verified (message));
  g_assert_false (kiln_message_verify (message, &error));
  g_assert_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_BAD_SIGNATURE);
  if (pattern != NULL && !g_pattern_match_simple (pattern, error->message))
    g_error ("“%s” does not match “%s”", error->message, pattern);
  g_assert_false (kiln_message_is_verified (message));
}

/* The registry */

static void
test_message_registry (void)
{
  static const struct
  {
    guint       type;
    const char *name;
    gsize       body_max;
    gboolean    broadcast;
  } expected[] = {
    { 0x0001, "PEER_INFO",     4096,   TRUE  },
    { 0x0002, "TASK_ANNOUNCE", 65536,  TRUE  },
    { 0x0003, "OFFER",         16384,  FALSE },
    { 0x0004, "ASSIGN",        131072, FALSE },
    { 0x0005, "ACCEPT",        4096,   FALSE },
    { 0x0006, "RESULT",        65536,  FALSE },
    { 0x0007, "APPROVE",       4096,   FALSE },
    { 0x0008, "REJECT",        4096,   FALSE },
    { 0x0009, "PAYMENT",       4096,   FALSE },
    { 0x000a, "CANCEL",        4096,   TRUE  },
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_true (kiln_message_type_is_known (expected[i].type));
      g_assert_cmpstr (kiln_message_type_to_string (expected[i].type), ==, expected[i].name);
      g_assert_cmpuint (kiln_message_type_get_body_max (expected[i].type), ==,
                        expected[i].body_max);
      g_assert_cmpint (kiln_message_type_allows_broadcast (expected[i].type), ==,
                       expected[i].broadcast);
      /* Every known type fits in a message whatever its body. */
      g_assert_cmpuint (KILN_MESSAGE_MIN_SIZE + expected[i].body_max, <=, KILN_MESSAGE_MAX_SIZE);
    }

  for (guint type = 0; type <= 0xffff; type++)
    if (type == 0 || type > 0x000a)
      {
        g_assert_false (kiln_message_type_is_known (type));
        g_assert_null (kiln_message_type_to_string (type));
        g_assert_false (kiln_message_type_allows_broadcast (type));
        g_assert_cmpuint (kiln_message_type_get_body_max (type), ==,
                          KILN_MESSAGE_MAX_SIZE - KILN_MESSAGE_MIN_SIZE);
      }

  g_assert_cmpuint (KILN_FRAME_MESSAGE, ==, 0x30);
  g_assert_cmpuint (KILN_MESSAGE_MIN_SIZE, ==, 133);
}

/* Encoding */

static void
assert_round_trip (KilnKey           *key,
                   KilnMessageType    type,
                   const KilnAddress *recipient,
                   GBytes            *body)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnMessage) sent = signed_message (key, type, recipient, body);
  g_autoptr(GBytes) encoded = kiln_message_encode (sent);
  g_autoptr(GBytes) copy = g_bytes_new (g_bytes_get_data (encoded, NULL),
                                        g_bytes_get_size (encoded));
  g_autoptr(KilnMessage) received = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autofree char *id = NULL;
  gint64 now_ms = g_get_real_time () / 1000;

  g_assert_cmpuint (g_bytes_get_size (encoded), ==,
                    KILN_MESSAGE_MIN_SIZE + g_bytes_get_size (body));

  received = kiln_message_decode (copy, &error);
  g_assert_no_error (error);
  g_assert_nonnull (received);
  g_assert_false (kiln_message_is_verified (received));
  g_assert_true (kiln_message_verify (received, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_message_is_verified (received));

  g_assert_cmpuint (kiln_message_get_message_type (received), ==, type);
  g_assert_cmpuint (kiln_message_get_protocol_minor (received), ==, KILN_MESSAGE_PROTOCOL_MINOR);
  g_assert_true (kiln_address_equal (kiln_message_get_author (received),
                                     kiln_key_get_address (key)));
  if (recipient == NULL)
    g_assert_null (kiln_message_get_recipient (received));
  else
    g_assert_true (kiln_address_equal (kiln_message_get_recipient (received), recipient));
  g_assert_cmpuint (kiln_message_get_nonce (received), ==, kiln_message_get_nonce (sent));
  g_assert_cmpint (kiln_message_get_timestamp (received), ==, kiln_message_get_timestamp (sent));
  g_assert_cmpint (ABS (kiln_message_get_timestamp (received) - now_ms), <, 60 * 1000);
  g_assert_true (g_bytes_equal (kiln_message_get_body (received), body));
  g_assert_cmpmem (kiln_message_get_id (received), KILN_MESSAGE_ID_SIZE,
                   kiln_message_get_id (sent), KILN_MESSAGE_ID_SIZE);
  id = kiln_message_dup_id_string (received);
  g_assert_cmpuint (strlen (id), ==, 64);

  /* The encoded bytes are the message: what is stored re-encodes identically. */
  again = kiln_message_encode (received);
  g_assert_true (g_bytes_equal (again, encoded));
}

static void
test_message_round_trip (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  g_autoptr(KilnKey) other = kiln_key_generate (NULL);
  const KilnAddress *to = kiln_key_get_address (other);

  for (guint type = 1; type <= 0x000a; type++)
    {
      gsize max = kiln_message_type_get_body_max (type);
      g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
      g_autoptr(GBytes) small = filled_bytes (100, type);
      g_autoptr(GBytes) largest = filled_bytes (max, type);

      assert_round_trip (key, type, to, empty);
      assert_round_trip (key, type, to, small);
      assert_round_trip (key, type, to, largest);
      if (kiln_message_type_allows_broadcast (type))
        assert_round_trip (key, type, NULL, small);
    }
}

static void
test_message_nonces_differ (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                      (GDestroyNotify) g_bytes_unref, NULL);

  /* Two messages with the same content are still two messages. */
  for (guint i = 0; i < 64; i++)
    {
      g_autoptr(KilnMessage) message = signed_message (key, KILN_MESSAGE_PEER_INFO, NULL, NULL);
      guint64 nonce = kiln_message_get_nonce (message);

      g_assert_true (g_hash_table_add (seen, g_bytes_new (&nonce, sizeof nonce)));
    }
}

static void
test_message_known_answer (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = vector_key ();
  KilnAddress recipient = parse_address (VECTOR_RECIPIENT);
  KilnAddress author = parse_address (VECTOR_AUTHOR);
  g_autoptr(GBytes) body = g_bytes_new_static (VECTOR_BODY, strlen (VECTOR_BODY));
  g_autoptr(GBytes) expected = hex_bytes (VECTOR_MESSAGE);
  g_autoptr(KilnMessage) message = kiln_message_new (KILN_MESSAGE_OFFER, &recipient, body);
  g_autoptr(KilnMessage) decoded = NULL;
  g_autoptr(GBytes) encoded = NULL;
  g_autofree char *id = NULL;
  g_autofree char *decoded_id = NULL;

  g_assert_true (kiln_message_sign_full (message, key, VECTOR_NONCE, VECTOR_TIMESTAMP, &error));
  g_assert_no_error (error);
  encoded = kiln_message_encode (message);
  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
  id = kiln_message_dup_id_string (message);
  g_assert_cmpstr (id, ==, VECTOR_DIGEST);

  decoded = kiln_message_decode (expected, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_message_verify (decoded, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_address_equal (kiln_message_get_author (decoded), &author));
  g_assert_true (kiln_address_equal (kiln_message_get_recipient (decoded), &recipient));
  g_assert_cmpuint (kiln_message_get_nonce (decoded), ==, VECTOR_NONCE);
  g_assert_cmpint (kiln_message_get_timestamp (decoded), ==, VECTOR_TIMESTAMP);
  decoded_id = kiln_message_dup_id_string (decoded);
  g_assert_cmpstr (decoded_id, ==, VECTOR_DIGEST);
}

static void
test_message_sign_limits (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  g_autoptr(KilnKey) other = kiln_key_generate (NULL);
  g_autoptr(GBytes) too_big = filled_bytes (16 * 1024 + 1, 1);
  g_autoptr(KilnMessage) offer = kiln_message_new (KILN_MESSAGE_OFFER,
                                                   kiln_key_get_address (other), too_big);
  g_autoptr(KilnMessage) broadcast = kiln_message_new (KILN_MESSAGE_ASSIGN, NULL, NULL);
  KilnAddress zero = { { 0 } };
  g_autoptr(KilnMessage) zero_recipient = kiln_message_new (KILN_MESSAGE_RESULT, &zero, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (kiln_message_sign (offer, key, &error));
  g_assert_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "OFFER"));
  g_assert_nonnull (strstr (error->message, "16384"));
  g_clear_error (&error);

  g_assert_false (kiln_message_sign (broadcast, key, &error));
  g_assert_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_WRONG_RECIPIENT);
  g_assert_nonnull (strstr (error->message, "ASSIGN"));
  g_clear_error (&error);

  /* The zero address is the broadcast address. */
  g_assert_false (kiln_message_sign (zero_recipient, key, &error));
  g_assert_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_WRONG_RECIPIENT);
}

/* Malformed input */

static void
test_message_truncated (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  g_autoptr(GBytes) body = filled_bytes (40, 3);
  g_autoptr(KilnMessage) message = signed_message (key, KILN_MESSAGE_TASK_ANNOUNCE, NULL, body);
  g_autoptr(GByteArray) full = encoded_copy (message);

  /* Every proper prefix, each in a buffer of exactly its length. */
  for (gsize len = 0; len < full->len; len++)
    {
      g_autoptr(GBytes) prefix = g_bytes_new (full->data, len);

      assert_decode_fails (prefix, KILN_MESSAGE_ERROR_MALFORMED, "Not a valid Kiln message: *");
    }
}

static void
test_message_trailing (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  g_autoptr(KilnKey) other = kiln_key_generate (NULL);
  g_autoptr(KilnMessage) message = signed_message (key, KILN_MESSAGE_ACCEPT,
                                                   kiln_key_get_address (other), NULL);
  g_autoptr(GByteArray) full = encoded_copy (message);
  g_autoptr(GBytes) one = NULL;
  g_autoptr(GBytes) many = NULL;

  g_byte_array_append (full, (const guint8 *) "x", 1);
  one = array_bytes (full);
  assert_decode_fails (one, KILN_MESSAGE_ERROR_MALFORMED, "*1 bytes follow its signature*");

  g_byte_array_append (full, (const guint8 *) "0123456789", 10);
  many = array_bytes (full);
  assert_decode_fails (many, KILN_MESSAGE_ERROR_MALFORMED, "*11 bytes follow its signature*");
}

static void
test_message_oversized (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  g_autoptr(KilnKey) other = kiln_key_generate (NULL);
  const KilnAddress *to = kiln_key_get_address (other);
  gint64 now = g_get_real_time () / 1000;
  g_autoptr(GBytes) whole = NULL;
  g_autoptr(GBytes) at_limit = NULL;
  g_autoptr(GBytes) ext = NULL;
  g_autoptr(GBytes) ext_at_limit = NULL;
  g_autoptr(GBytes) offer = NULL;
  g_autoptr(GBytes) assign = NULL;
  g_autoptr(GByteArray) lying = NULL;
  g_autoptr(GBytes) lying_bytes = NULL;
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  /* Over the whole-message limit: refused before anything else is read. */
  whole = raw_message (key, 1, 0, 0x0100, to, now, 0,
                       KILN_MESSAGE_MAX_SIZE - KILN_MESSAGE_MIN_SIZE + 1);
  assert_decode_fails (whole, KILN_MESSAGE_ERROR_TOO_LARGE, "*262145 bytes*262144*");

  /* Exactly at it, a type from a newer version decodes. */
  at_limit = raw_message (key, 1, 0, 0x0100, to, now, 0,
                          KILN_MESSAGE_MAX_SIZE - KILN_MESSAGE_MIN_SIZE);
  message = kiln_message_decode (at_limit, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_message_verify (message, &error));
  g_assert_no_error (error);
  g_clear_pointer (&message, kiln_message_unref);

  ext = raw_message (key, 1, 0, KILN_MESSAGE_OFFER, to, now, KILN_MESSAGE_EXTENSIONS_MAX + 1, 8);
  assert_decode_fails (ext, KILN_MESSAGE_ERROR_TOO_LARGE, "*extensions are 1025 bytes*");
  ext_at_limit = raw_message (key, 1, 0, KILN_MESSAGE_OFFER, to, now,
                              KILN_MESSAGE_EXTENSIONS_MAX, 8);
  message = kiln_message_decode (ext_at_limit, &error);
  g_assert_no_error (error);
  g_clear_pointer (&message, kiln_message_unref);

  /* Over a type's own limit, signed and otherwise well formed. */
  offer = raw_message (key, 1, 0, KILN_MESSAGE_OFFER, to, now, 0, 16 * 1024 + 1);
  assert_decode_fails (offer, KILN_MESSAGE_ERROR_TOO_LARGE, "*OFFER*16385 bytes*16384*");
  assign = raw_message (key, 1, 0, KILN_MESSAGE_ASSIGN, to, now, 0, 128 * 1024 + 1);
  assert_decode_fails (assign, KILN_MESSAGE_ERROR_TOO_LARGE, "*ASSIGN*131073*");

  /* A body length that promises more than there is. */
  lying = g_byte_array_new ();
  g_byte_array_append (lying, g_bytes_get_data (ext_at_limit, NULL),
                       g_bytes_get_size (ext_at_limit));
  put_be (lying->data + KILN_MESSAGE_HEADER_SIZE + KILN_MESSAGE_EXTENSIONS_MAX,
          G_MAXUINT32, 4);
  lying_bytes = array_bytes (lying);
  assert_decode_fails (lying_bytes, KILN_MESSAGE_ERROR_MALFORMED,
                       "*body of 4294967295 bytes but only 8 follow*");
}

static void
test_message_version (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  g_autoptr(KilnKey) other = kiln_key_generate (NULL);
  const KilnAddress *to = kiln_key_get_address (other);
  gint64 now = g_get_real_time () / 1000;
  g_autoptr(GBytes) major2 = raw_message (key, 2, 0, KILN_MESSAGE_OFFER, to, now, 0, 8);
  g_autoptr(GBytes) major0 = raw_message (key, 0, 3, KILN_MESSAGE_OFFER, to, now, 0, 8);
  g_autoptr(GBytes) minor = raw_message (key, 1, 7, KILN_MESSAGE_OFFER, to, now, 12, 8);
  g_autoptr(GBytes) short_major2 = g_bytes_new ("\x00\x02\x00\x01", 4);
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  assert_decode_fails (major2, KILN_MESSAGE_ERROR_VERSION,
                       "*message protocol 2.0 but this node speaks 1.0*");
  assert_decode_fails (major0, KILN_MESSAGE_ERROR_VERSION, "*0.3*");
  /* Nothing after the version is looked at. */
  assert_decode_fails (short_major2, KILN_MESSAGE_ERROR_VERSION, "*2.1*");

  /* A later minor version with extension bytes: decoded and verified, extensions signed. */
  message = kiln_message_decode (minor, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_message_get_protocol_minor (message), ==, 7);
  g_assert_true (kiln_message_verify (message, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (kiln_message_get_body (message)), ==, 8);
  g_clear_pointer (&message, kiln_message_unref);

  {
    g_autoptr(GBytes) original = raw_message (key, 1, 7, KILN_MESSAGE_OFFER, to, now, 12, 8);
    g_autoptr(GByteArray) altered = g_byte_array_new ();
    g_autoptr(GBytes) altered_bytes = NULL;

    g_byte_array_append (altered, g_bytes_get_data (original, NULL),
                         g_bytes_get_size (original));
    altered->data[KILN_MESSAGE_HEADER_SIZE + 3] ^= 0x01;
    altered_bytes = array_bytes (altered);
    assert_verify_fails (altered_bytes, "*claims to be by*another key signed it*");
  }
}

static void
test_message_bad_signature (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  g_autoptr(KilnKey) other = kiln_key_generate (NULL);
  g_autoptr(GBytes) body = filled_bytes (64, 9);
  g_autoptr(KilnMessage) message = signed_message (key, KILN_MESSAGE_RESULT,
                                                   kiln_key_get_address (other), body);
  g_autoptr(GByteArray) good = encoded_copy (message);
  gsize sig_at = good->len - KILN_SIGNATURE_SIZE;

  /* Any changed byte of the signed part: another digest, another signer. */
  {
    static const gsize offsets[] = { 3, 4, 6, 26, 46, 54, 70, 100 };

    for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
      {
        g_autoptr(GByteArray) bad = encoded_copy (message);
        g_autoptr(GBytes) bad_bytes = NULL;
        g_autoptr(KilnMessage) decoded = NULL;
        g_autoptr(GError) error = NULL;

        bad->data[offsets[i]] ^= 0x20;
        bad_bytes = array_bytes (bad);
        /* Still well formed (a newer minor version or unknown type at worst)... */
        decoded = kiln_message_decode (bad_bytes, &error);
        g_assert_no_error (error);
        /* ...but not what the author signed. */
        assert_verify_fails (bad_bytes, NULL);
      }
  }

  /* Another author claimed for the same signature. */
  {
    g_autoptr(GByteArray) bad = encoded_copy (message);
    g_autoptr(GBytes) bad_bytes = NULL;

    memcpy (bad->data + 6, kiln_key_get_address (other)->bytes, KILN_ADDRESS_SIZE);
    bad_bytes = array_bytes (bad);
    assert_verify_fails (bad_bytes, "The RESULT message claims to be by 0x*");
  }

  /* A damaged r. */
  {
    g_autoptr(GByteArray) bad = encoded_copy (message);
    g_autoptr(GBytes) bad_bytes = NULL;

    bad->data[sig_at + 5] ^= 0x01;
    bad_bytes = array_bytes (bad);
    assert_verify_fails (bad_bytes, NULL);
  }

  /* r = 0 */
  {
    g_autoptr(GByteArray) bad = encoded_copy (message);
    g_autoptr(GBytes) bad_bytes = NULL;

    memset (bad->data + sig_at, 0, 32);
    bad_bytes = array_bytes (bad);
    assert_verify_fails (bad_bytes, "*signature is invalid*");
  }

  /* Recovery ids other than 0 and 1. */
  for (guint v = 2; v < 256; v += 25)
    {
      g_autoptr(GByteArray) bad = encoded_copy (message);
      g_autoptr(GBytes) bad_bytes = NULL;

      bad->data[good->len - 1] = v;
      bad_bytes = array_bytes (bad);
      assert_decode_fails (bad_bytes, KILN_MESSAGE_ERROR_BAD_SIGNATURE, "*recovery id*");
    }

  /* The high-S twin recovers the same key but is not canonical. */
  {
    g_autoptr(GByteArray) bad = encoded_copy (message);
    g_autoptr(GBytes) bad_bytes = NULL;
    guint8 *s = bad->data + sig_at + 32;
    int borrow = 0;

    for (int i = 31; i >= 0; i--)
      {
        int d = curve_order[i] - s[i] - borrow;

        borrow = d < 0;
        s[i] = (guint8) (d + (borrow ? 256 : 0));
      }
    bad->data[good->len - 1] ^= 1;
    bad_bytes = array_bytes (bad);
    assert_verify_fails (bad_bytes, "*canonical*");
  }
}

static void
test_message_timestamp_range (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  g_autoptr(GBytes) late = raw_message (key, 1, 0, KILN_MESSAGE_PEER_INFO, NULL,
                                        G_GUINT64_CONSTANT (0x8000000000000000), 0, 4);
  g_autoptr(GBytes) latest = raw_message (key, 1, 0, KILN_MESSAGE_PEER_INFO, NULL,
                                          G_MAXINT64, 0, 4);
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  assert_decode_fails (late, KILN_MESSAGE_ERROR_MALFORMED, "*timestamp is out of range*");
  message = kiln_message_decode (latest, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kiln_message_get_timestamp (message), ==, G_MAXINT64);
}

static void
test_message_broadcast_rule (void)
{
  g_autoptr(KilnKey) key = kiln_key_generate (NULL);
  gint64 now = g_get_real_time () / 1000;
  g_autoptr(GBytes) offer = raw_message (key, 1, 0, KILN_MESSAGE_OFFER, NULL, now, 0, 4);
  g_autoptr(GBytes) cancel = raw_message (key, 1, 0, KILN_MESSAGE_CANCEL, NULL, now, 0, 4);
  g_autoptr(GBytes) unknown = raw_message (key, 1, 0, 0x7777, NULL, now, 0, 4);
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  assert_decode_fails (offer, KILN_MESSAGE_ERROR_WRONG_RECIPIENT, "*OFFER*cannot be broadcast*");

  message = kiln_message_decode (cancel, &error);
  g_assert_no_error (error);
  g_assert_null (kiln_message_get_recipient (message));
  g_clear_pointer (&message, kiln_message_unref);

  /* The rules of types this version does not know are not its to apply. */
  message = kiln_message_decode (unknown, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_message_get_message_type (message), ==, 0x7777);
  g_assert_false (kiln_message_type_is_known (kiln_message_get_message_type (message)));
  g_assert_true (kiln_message_verify (message, &error));
  g_assert_no_error (error);
}

static void
test_message_third_party (void)
{
  g_autoptr(KilnKey) provider = kiln_key_generate (NULL);
  g_autoptr(KilnKey) requestor = kiln_key_generate (NULL);
  g_autoptr(GBytes) body = g_bytes_new_static ("{\"price\":\"12\"}", 14);
  g_autoptr(KilnMessage) offer = signed_message (provider, KILN_MESSAGE_OFFER,
                                                 kiln_key_get_address (requestor), body);
  g_autoptr(GBytes) stored = kiln_message_encode (offer);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  int fd;

  /* Kept on disk as they are, the bytes prove later who offered what. */
  fd = g_file_open_tmp ("kiln-message-XXXXXX", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (stored, NULL),
                                      g_bytes_get_size (stored), &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (path), ==, 0);

  {
    g_autoptr(GBytes) read_back = g_bytes_new_take (g_steal_pointer (&contents), len);
    g_autoptr(KilnMessage) checked = kiln_message_decode (read_back, &error);

    g_assert_no_error (error);
    g_assert_true (kiln_message_verify (checked, &error));
    g_assert_no_error (error);
    g_assert_true (kiln_address_equal (kiln_message_get_author (checked),
                                       kiln_key_get_address (provider)));
    g_assert_true (g_bytes_equal (kiln_message_get_body (checked), body));
    g_assert_cmpmem (kiln_message_get_id (checked), KILN_MESSAGE_ID_SIZE,
                     kiln_message_get_id (offer), KILN_MESSAGE_ID_SIZE);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/message/registry", test_message_registry);
  g_test_add_func ("/kiln/message/round-trip", test_message_round_trip);
  g_test_add_func ("/kiln/message/nonces-differ", test_message_nonces_differ);
  g_test_add_func ("/kiln/message/known-answer", test_message_known_answer);
  g_test_add_func ("/kiln/message/sign-limits", test_message_sign_limits);
  g_test_add_func ("/kiln/message/decode/truncated", test_message_truncated);
  g_test_add_func ("/kiln/message/decode/trailing", test_message_trailing);
  g_test_add_func ("/kiln/message/decode/oversized", test_message_oversized);
  g_test_add_func ("/kiln/message/decode/version", test_message_version);
  g_test_add_func ("/kiln/message/decode/bad-signature", test_message_bad_signature);
  g_test_add_func ("/kiln/message/decode/timestamp-range", test_message_timestamp_range);
  g_test_add_func ("/kiln/message/decode/broadcast-rule", test_message_broadcast_rule);
  g_test_add_func ("/kiln/message/third-party", test_message_third_party);

  return g_test_run ();
}
