/* test-dht-record.c: discovery records: signing, checking, refusals, node payloads, keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "libkiln.h"
#include "kiln-dht-record.h"

#define NOW ((gint64) 1700000000)
#define NETWORK 0x01020304u

static KilnKey *
new_key (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_generate (&error);

  g_assert_no_error (error);
  return key;
}

static GBytes *
sign_topic (KilnKey    *key,
            const char *topic,
            const char *text,
            gint64      created,
            guint       lifetime)
{
  g_autoptr(GBytes) payload = g_bytes_new (text, strlen (text));
  g_autoptr(GError) error = NULL;
  GBytes *record;

  record = kiln_dht_record_sign (key, KILN_DHT_RECORD_TOPIC, NETWORK, topic, payload,
                                 created, lifetime, &error);
  g_assert_no_error (error);
  return record;
}

static void
test_round_trip (void)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(GBytes) bytes = sign_topic (key, "market/tasks", "hello", NOW, 600);
  g_autoptr(KilnDhtRecord) record = NULL;
  g_autoptr(KilnDhtRecord) copy = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *data;
  gsize len;

  data = g_bytes_get_data (bytes, &len);
  g_assert_cmpuint (len, ==, KILN_DHT_RECORD_HEADER_SIZE + 12 + 2 + 5 + KILN_SIGNATURE_SIZE);
  g_assert_cmpuint (data[0], ==, KILN_DHT_RECORD_VERSION);
  g_assert_cmpuint (data[1], ==, KILN_DHT_RECORD_TOPIC);
  g_assert_cmpmem (data + 6, KILN_ADDRESS_SIZE, kiln_key_get_address (key)->bytes,
                   KILN_ADDRESS_SIZE);

  record = kiln_dht_record_verify (bytes, NOW + 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (record->kind, ==, KILN_DHT_RECORD_TOPIC);
  g_assert_cmpuint (record->network, ==, NETWORK);
  g_assert_true (kiln_address_equal (&record->author, kiln_key_get_address (key)));
  g_assert_cmpint (record->created, ==, NOW);
  g_assert_cmpint (record->expires, ==, NOW + 600);
  g_assert_cmpstr (record->topic, ==, "market/tasks");
  g_assert_cmpmem (g_bytes_get_data (record->payload, NULL), g_bytes_get_size (record->payload),
                   "hello", 5);
  g_assert_true (g_bytes_equal (record->encoded, bytes));

  copy = kiln_dht_record_copy (record);
  g_assert_cmpstr (copy->topic, ==, record->topic);
}

static void
test_tampered (void)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(GBytes) bytes = sign_topic (key, "t", "payload", NOW, 600);
  gsize len = g_bytes_get_size (bytes);

  /* Flipping any bit of any byte must be refused, whatever the byte holds. */
  for (gsize i = 0; i < len; i++)
    for (guint bit = 0; bit < 8; bit++)
      {
        g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (bytes, NULL), len);
        g_autoptr(GBytes) tampered = NULL;
        g_autoptr(KilnDhtRecord) record = NULL;
        g_autoptr(GError) error = NULL;

        copy[i] ^= 1 << bit;
        tampered = g_bytes_new (copy, len);
        record = kiln_dht_record_verify (tampered, NOW, &error);
        g_assert_null (record);
        g_assert_error (error, KILN_DHT_ERROR, error->code);
      }
}

static void
test_bad_signature (void)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(KilnKey) other = new_key ();
  g_autoptr(GBytes) bytes = sign_topic (key, "t", "payload", NOW, 600);
  g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_autoptr(GBytes) forged = NULL;
  g_autoptr(KilnDhtRecord) record = NULL;
  g_autoptr(GError) error = NULL;

  /* Claim another author: the signature no longer recovers it. */
  memcpy (copy + 6, kiln_key_get_address (other)->bytes, KILN_ADDRESS_SIZE);
  forged = g_bytes_new (copy, g_bytes_get_size (bytes));
  record = kiln_dht_record_verify (forged, NOW, &error);
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_BAD_SIGNATURE);
  g_assert_null (record);
}

static void
test_times (void)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(GBytes) bytes = sign_topic (key, "t", "x", NOW, 600);
  g_autoptr(GError) error = NULL;
  KilnDhtRecord *record;

  record = kiln_dht_record_verify (bytes, NOW + 600, &error);
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_EXPIRED);
  g_assert_null (record);
  g_clear_error (&error);

  record = kiln_dht_record_verify (bytes, NOW + 599, &error);
  g_assert_no_error (error);
  kiln_dht_record_free (record);

  /* Within the allowed clock skew, and beyond it. */
  record = kiln_dht_record_verify (bytes, NOW - KILN_DHT_RECORD_MAX_SKEW, &error);
  g_assert_no_error (error);
  kiln_dht_record_free (record);
  record = kiln_dht_record_verify (bytes, NOW - KILN_DHT_RECORD_MAX_SKEW - 1, &error);
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_FUTURE);
  g_assert_null (record);
  g_clear_error (&error);

  /* Lifetimes out of range are not signed. */
  g_assert_null (kiln_dht_record_sign (key, KILN_DHT_RECORD_TOPIC, NETWORK, "t",
                                       bytes, NOW, 0, &error));
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_null (kiln_dht_record_sign (key, KILN_DHT_RECORD_TOPIC, NETWORK, "t", bytes, NOW,
                                       KILN_DHT_RECORD_MAX_LIFETIME + 1, &error));
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED);
}

static void
test_sizes (void)
{
  g_autoptr(KilnKey) key = new_key ();
  gsize room = KILN_DHT_RECORD_MAX_SIZE - KILN_DHT_RECORD_HEADER_SIZE - 1 - 2
               - KILN_SIGNATURE_SIZE;
  g_autofree guint8 *big = g_malloc0 (KILN_DHT_RECORD_MAX_SIZE * 2);
  g_autoptr(GBytes) fits = g_bytes_new_static (big, room);
  g_autoptr(GBytes) too_big = g_bytes_new_static (big, room + 1);
  g_autoptr(GBytes) oversized = g_bytes_new_static (big, KILN_DHT_RECORD_MAX_SIZE + 1);
  g_autoptr(GBytes) record = NULL;
  g_autoptr(KilnDhtRecord) decoded = NULL;
  g_autoptr(GError) error = NULL;
  char long_topic[KILN_DHT_TOPIC_MAX + 2];

  record = kiln_dht_record_sign (key, KILN_DHT_RECORD_TOPIC, NETWORK, "t", fits, NOW, 60,
                                 &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (record), ==, KILN_DHT_RECORD_MAX_SIZE);
  decoded = kiln_dht_record_verify (record, NOW, &error);
  g_assert_no_error (error);
  g_assert_nonnull (decoded);

  g_assert_null (kiln_dht_record_sign (key, KILN_DHT_RECORD_TOPIC, NETWORK, "t", too_big,
                                       NOW, 60, &error));
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_TOO_LARGE);
  g_clear_error (&error);

  g_assert_null (kiln_dht_record_verify (oversized, NOW, &error));
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_TOO_LARGE);
  g_clear_error (&error);

  memset (long_topic, 'a', sizeof long_topic - 1);
  long_topic[sizeof long_topic - 1] = '\0';
  g_assert_null (kiln_dht_record_sign (key, KILN_DHT_RECORD_TOPIC, NETWORK, long_topic, fits,
                                       NOW, 60, &error));
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* A node record has no topic; a topic record needs one. */
  g_assert_null (kiln_dht_record_sign (key, KILN_DHT_RECORD_NODE, NETWORK, "t", fits, NOW, 60,
                                       &error));
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_null (kiln_dht_record_sign (key, KILN_DHT_RECORD_TOPIC, NETWORK, "", fits, NOW, 60,
                                       &error));
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED);
}

static void
test_version (void)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(GBytes) bytes = sign_topic (key, "t", "x", NOW, 600);
  g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_autoptr(GBytes) future = NULL;
  g_autoptr(GError) error = NULL;

  copy[0] = 2;
  future = g_bytes_new (copy, g_bytes_get_size (bytes));
  g_assert_null (kiln_dht_record_verify (future, NOW, &error));
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_VERSION);
}

static void
test_node_info (void)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(KilnDhtNodeInfo) info = kiln_dht_node_info_new ();
  g_autoptr(KilnDhtNodeInfo) decoded = NULL;
  g_autoptr(KilnDhtRecord) record = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  static const guint8 expected[] = {
    0x00, 0x01, 0x00, 0x00,                          /* protocol 1.0 */
    0x00, 0x00, 0x00, 0x05,                          /* provider | bootstrap */
    0x02,
    0x09, '1', '2', '7', '.', '0', '.', '0', '.', '1', 0x1f, 0x90,
    0x03, ':', ':', '1', 0x1f, 0x91,
  };

  info->roles = KILN_DHT_ROLE_PROVIDER | KILN_DHT_ROLE_BOOTSTRAP;
  kiln_dht_node_info_add_endpoint (info, "127.0.0.1", 8080);
  kiln_dht_node_info_add_endpoint (info, "::1", 8081);
  payload = kiln_dht_node_info_encode (info, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                   expected, sizeof expected);

  bytes = kiln_dht_record_sign (key, KILN_DHT_RECORD_NODE, NETWORK, NULL, payload, NOW,
                                KILN_DHT_NODE_RECORD_LIFETIME, &error);
  g_assert_no_error (error);
  record = kiln_dht_record_verify (bytes, NOW, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (record->topic, ==, "");
  decoded = kiln_dht_node_info_decode (record->payload, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (decoded->protocol_major, ==, 1);
  g_assert_cmpuint (decoded->roles, ==, info->roles);
  g_assert_cmpuint (decoded->endpoints->len, ==, 2);
  g_assert_cmpstr (g_array_index (decoded->endpoints, KilnDhtEndpoint, 1).host, ==, "::1");
  g_assert_cmpuint (g_array_index (decoded->endpoints, KilnDhtEndpoint, 1).port, ==, 8081);

  /* Every truncation and a trailing byte are refused. */
  for (gsize i = 0; i < sizeof expected; i++)
    {
      g_autoptr(GBytes) cut = g_bytes_new (expected, i);

      g_assert_null (kiln_dht_node_info_decode (cut, &error));
      g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED);
      g_clear_error (&error);
    }
  {
    guint8 longer[sizeof expected + 1];
    g_autoptr(GBytes) trailing = NULL;

    memcpy (longer, expected, sizeof expected);
    longer[sizeof expected] = 0;
    trailing = g_bytes_new (longer, sizeof longer);
    g_assert_null (kiln_dht_node_info_decode (trailing, &error));
    g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED);
    g_clear_error (&error);
  }

  for (guint i = 0; i < KILN_DHT_NODE_MAX_ENDPOINTS; i++)
    kiln_dht_node_info_add_endpoint (info, "10.0.0.1", 1);
  g_assert_null (kiln_dht_node_info_encode (info, &error));
  g_assert_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_TOO_LARGE);
}

static void
test_random_bytes (void)
{
  g_autoptr(KilnKey) key = new_key ();
  g_autoptr(GBytes) valid = sign_topic (key, "fuzz", "some payload", NOW, 600);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240601);
  const guint8 *base = g_bytes_get_data (valid, NULL);
  gsize base_len = g_bytes_get_size (valid);

  for (guint round = 0; round < 20000; round++)
    {
      gsize len = g_rand_int_range (rand, 0, round % 2 ? base_len + 8 : 200);
      g_autofree guint8 *data = g_malloc (MAX (len, 1));
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(KilnDhtRecord) record = NULL;
      g_autoptr(KilnDhtNodeInfo) info = NULL;

      /* Half pure noise, half a valid record with a few bytes changed. */
      for (gsize i = 0; i < len; i++)
        data[i] = round % 2 && i < base_len ? base[i] : g_rand_int (rand);
      if (round % 2)
        for (guint n = 0; n < 3 && len > 0; n++)
          data[g_rand_int_range (rand, 0, len)] = g_rand_int (rand);
      if (round % 4 == 0 && len > 0)
        data[0] = KILN_DHT_RECORD_VERSION;

      bytes = g_bytes_new (data, len);
      record = kiln_dht_record_verify (bytes, NOW, NULL);
      info = kiln_dht_node_info_decode (bytes, NULL);
      /* A changed byte may hit nothing that matters only if it left the record intact. */
      if (record != NULL)
        g_assert_true (g_bytes_equal (bytes, valid));
    }
}

static void
test_keys (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                      (GDestroyNotify) g_bytes_unref, NULL);
  KilnAddress address = { { 0 } };
  guint8 key[KILN_DHT_KEY_SIZE];
  guint8 again[KILN_DHT_KEY_SIZE];
  /* SHA-1 ("kiln:01020304:topic:market/tasks"), the same as OpenDHT's InfoHash::get. */
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  const char *text = "kiln:01020304:topic:market/tasks";

  g_checksum_update (sha1, (const guchar *) text, strlen (text));
  kiln_dht_topic_key (NETWORK, "market/tasks", key);
  {
    g_autofree char *hex = NULL;
    GString *s = g_string_new (NULL);

    for (guint i = 0; i < KILN_DHT_KEY_SIZE; i++)
      g_string_append_printf (s, "%02x", key[i]);
    hex = g_string_free (s, FALSE);
    g_assert_cmpstr (hex, ==, g_checksum_get_string (sha1));
  }

  /* Every role and bucket, every network, every topic: distinct keys. */
  for (guint network = 1; network <= 2; network++)
    {
      for (guint role = 1; role & KILN_DHT_ROLE_ALL; role <<= 1)
        for (guint bucket = 0; bucket < KILN_DHT_NODE_BUCKETS; bucket++)
          {
            kiln_dht_node_key (network, role, bucket, key);
            kiln_dht_node_key (network, role, bucket, again);
            g_assert_cmpmem (key, sizeof key, again, sizeof again);
            g_assert_true (g_hash_table_add (seen, g_bytes_new (key, sizeof key)));
          }
      kiln_dht_topic_key (network, "market/tasks", key);
      g_assert_true (g_hash_table_add (seen, g_bytes_new (key, sizeof key)));
    }

  address.bytes[0] = 0x00;
  g_assert_cmpuint (kiln_dht_address_bucket (&address), ==, 0);
  address.bytes[0] = 0xa7;
  g_assert_cmpuint (kiln_dht_address_bucket (&address), ==, 0xa);
  address.bytes[0] = 0xff;
  g_assert_cmpuint (kiln_dht_address_bucket (&address), ==, 15);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/dht-record/round-trip", test_round_trip);
  g_test_add_func ("/kiln/dht-record/tampered", test_tampered);
  g_test_add_func ("/kiln/dht-record/bad-signature", test_bad_signature);
  g_test_add_func ("/kiln/dht-record/times", test_times);
  g_test_add_func ("/kiln/dht-record/sizes", test_sizes);
  g_test_add_func ("/kiln/dht-record/version", test_version);
  g_test_add_func ("/kiln/dht-record/node-info", test_node_info);
  g_test_add_func ("/kiln/dht-record/random-bytes", test_random_bytes);
  g_test_add_func ("/kiln/dht-record/keys", test_keys);

  return g_test_run ();
}
