/* kiln-dht-record.c: signed records that nodes store in the discovery DHT
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-dht-record.h"
#include "kiln-keccak.h"
#include "kiln-net.h"

G_DEFINE_QUARK (kiln-dht-error-quark, kiln_dht_error)

G_DEFINE_BOXED_TYPE (KilnDhtRecord, kiln_dht_record, kiln_dht_record_copy, kiln_dht_record_free)
G_DEFINE_BOXED_TYPE (KilnDhtNodeInfo, kiln_dht_node_info,
                     kiln_dht_node_info_copy, kiln_dht_node_info_free)

/* EIP-191's leading byte, as in the link proof: signed records can never be mistaken for an
 * Ethereum transaction. */
#define RECORD_PREFIX 0x19

KilnDhtRecord *
kiln_dht_record_copy (const KilnDhtRecord *self)
{
  KilnDhtRecord *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (KilnDhtRecord, 1);
  *copy = *self;
  copy->topic = g_strdup (self->topic);
  copy->payload = g_bytes_ref (self->payload);
  copy->encoded = g_bytes_ref (self->encoded);
  return copy;
}

void
kiln_dht_record_free (KilnDhtRecord *self)
{
  if (self == NULL)
    return;

  g_free (self->topic);
  g_clear_pointer (&self->payload, g_bytes_unref);
  g_clear_pointer (&self->encoded, g_bytes_unref);
  g_free (self);
}

void
kiln_dht_record_digest (const guint8 *signed_part,
                        gsize         len,
                        guint8        digest[32])
{
  KilnKeccak256 ctx;
  const guint8 prefix = RECORD_PREFIX;

  kiln_keccak256_init (&ctx);
  kiln_keccak256_update (&ctx, &prefix, 1);
  kiln_keccak256_update (&ctx, (const guint8 *) KILN_DHT_RECORD_CONTEXT,
                         strlen (KILN_DHT_RECORD_CONTEXT));
  kiln_keccak256_update (&ctx, signed_part, len);
  kiln_keccak256_digest (&ctx, digest);
}

static void
put_be (GByteArray *out,
        guint64     value,
        guint       width)
{
  guint8 buf[8];

  for (guint i = 0; i < width; i++)
    buf[i] = (value >> (8 * (width - 1 - i))) & 0xff;
  g_byte_array_append (out, buf, width);
}

static guint64
get_be (const guint8 *p,
        guint         width)
{
  guint64 value = 0;

  for (guint i = 0; i < width; i++)
    value = (value << 8) | p[i];
  return value;
}

static gboolean
check_topic (KilnDhtRecordKind   kind,
             const char         *topic,
             GError            **error)
{
  gsize len = strlen (topic);

  if (kind == KILN_DHT_RECORD_NODE && len != 0)
    return (g_set_error_literal (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED,
                                 _("A node record has no topic")), FALSE);
  if (kind == KILN_DHT_RECORD_TOPIC && len == 0)
    return (g_set_error_literal (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED,
                                 _("A topic record needs a topic")), FALSE);
  if (len > KILN_DHT_TOPIC_MAX)
    return (g_set_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_TOO_LARGE,
                         _("The topic is longer than %u bytes"), KILN_DHT_TOPIC_MAX), FALSE);
  if (!g_utf8_validate (topic, len, NULL))
    return (g_set_error_literal (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED,
                                 _("The topic is not valid UTF-8")), FALSE);
  return TRUE;
}

GBytes *
kiln_dht_record_sign (KilnKey            *key,
                      KilnDhtRecordKind   kind,
                      guint32             network,
                      const char         *topic,
                      GBytes             *payload,
                      gint64              created,
                      guint               lifetime,
                      GError            **error)
{
  g_autoptr(GByteArray) out = NULL;
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];
  gsize payload_len;
  gsize topic_len;

  g_return_val_if_fail (KILN_IS_KEY (key), NULL);
  g_return_val_if_fail (kind == KILN_DHT_RECORD_NODE || kind == KILN_DHT_RECORD_TOPIC, NULL);
  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (created >= 0, NULL);

  if (topic == NULL)
    topic = "";
  if (!check_topic (kind, topic, error))
    return NULL;

  if (lifetime == 0 || lifetime > KILN_DHT_RECORD_MAX_LIFETIME)
    return (g_set_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED,
                         _("A record must live between one second and %u seconds"),
                         KILN_DHT_RECORD_MAX_LIFETIME), NULL);

  topic_len = strlen (topic);
  payload_len = g_bytes_get_size (payload);
  if (KILN_DHT_RECORD_HEADER_SIZE + topic_len + 2 + payload_len + KILN_SIGNATURE_SIZE
      > KILN_DHT_RECORD_MAX_SIZE)
    return (g_set_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_TOO_LARGE,
                         _("The record would be larger than %u bytes"),
                         KILN_DHT_RECORD_MAX_SIZE), NULL);

  out = g_byte_array_new ();
  put_be (out, KILN_DHT_RECORD_VERSION, 1);
  put_be (out, kind, 1);
  put_be (out, network, 4);
  g_byte_array_append (out, kiln_key_get_address (key)->bytes, KILN_ADDRESS_SIZE);
  put_be (out, created, 8);
  put_be (out, created + lifetime, 8);
  put_be (out, topic_len, 1);
  g_byte_array_append (out, (const guint8 *) topic, topic_len);
  put_be (out, payload_len, 2);
  g_byte_array_append (out, g_bytes_get_data (payload, NULL), payload_len);

  kiln_dht_record_digest (out->data, out->len, digest);
  if (!kiln_key_sign_digest (key, digest, signature, error))
    return NULL;
  g_byte_array_append (out, signature, sizeof signature);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static gboolean
malformed (GError     **error,
           const char  *what)
{
  g_set_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED,
               _("Not a valid discovery record: %s"), what);
  return FALSE;
}

/* Field layout only; no signature or time checks. */
static gboolean
decode_fields (const guint8   *data,
               gsize           len,
               KilnDhtRecord  *record,
               gsize          *signed_len,
               GError        **error)
{
  gsize topic_len;
  gsize payload_len;
  gsize pos;

  if (len > KILN_DHT_RECORD_MAX_SIZE)
    return (g_set_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_TOO_LARGE,
                         _("A discovery record of %zu bytes is larger than "
                           "the limit of %u bytes"), len, KILN_DHT_RECORD_MAX_SIZE), FALSE);
  if (len < 1)
    return malformed (error, _("empty"));
  if (data[0] != KILN_DHT_RECORD_VERSION)
    return (g_set_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_VERSION,
                         _("Discovery record version %u is not supported (this version of "
                           "Kiln reads version %u)"), data[0], KILN_DHT_RECORD_VERSION), FALSE);
  if (len < KILN_DHT_RECORD_HEADER_SIZE + 2 + KILN_SIGNATURE_SIZE)
    return malformed (error, _("too short"));

  record->kind = data[1];
  if (record->kind != KILN_DHT_RECORD_NODE && record->kind != KILN_DHT_RECORD_TOPIC)
    return malformed (error, _("unknown kind"));
  record->network = get_be (data + 2, 4);
  memcpy (record->author.bytes, data + 6, KILN_ADDRESS_SIZE);
  record->created = get_be (data + 26, 8) & G_MAXINT64;
  record->expires = get_be (data + 34, 8) & G_MAXINT64;
  if (get_be (data + 26, 8) > G_MAXINT64 || get_be (data + 34, 8) > G_MAXINT64)
    return malformed (error, _("time out of range"));

  topic_len = data[42];
  pos = KILN_DHT_RECORD_HEADER_SIZE;
  if (topic_len > KILN_DHT_TOPIC_MAX || len - pos < topic_len + 2 + KILN_SIGNATURE_SIZE)
    return malformed (error, _("bad topic length"));
  record->topic = g_strndup ((const char *) data + pos, topic_len);
  if (strlen (record->topic) != topic_len)
    return malformed (error, _("topic contains a zero byte"));
  if (!check_topic (record->kind, record->topic, error))
    return FALSE;
  pos += topic_len;

  payload_len = get_be (data + pos, 2);
  pos += 2;
  if (len - pos != payload_len + KILN_SIGNATURE_SIZE)
    return malformed (error, _("bad payload length"));
  record->payload = g_bytes_new (data + pos, payload_len);
  *signed_len = pos + payload_len;
  return TRUE;
}

KilnDhtRecord *
kiln_dht_record_verify (GBytes  *bytes,
                        gint64   now,
                        GError **error)
{
  g_autoptr(KilnDhtRecord) record = NULL;
  KilnAddress recovered;
  guint8 digest[32];
  const guint8 *data;
  gsize signed_len = 0;
  gsize len;

  g_return_val_if_fail (bytes != NULL, NULL);

  data = g_bytes_get_data (bytes, &len);
  record = g_new0 (KilnDhtRecord, 1);
  if (!decode_fields (data, len, record, &signed_len, error))
    return NULL;

  if (record->expires <= record->created
      || record->expires - record->created > KILN_DHT_RECORD_MAX_LIFETIME)
    return (malformed (error, _("lifetime out of range")), NULL);

  kiln_dht_record_digest (data, signed_len, digest);
  if (!kiln_recover_address (digest, data + signed_len, &recovered, NULL)
      || !kiln_address_equal (&recovered, &record->author))
    return (g_set_error_literal (error, KILN_DHT_ERROR, KILN_DHT_ERROR_BAD_SIGNATURE,
                                 _("The discovery record’s signature does not match its "
                                   "author")), NULL);

  if (record->expires <= now)
    return (g_set_error_literal (error, KILN_DHT_ERROR, KILN_DHT_ERROR_EXPIRED,
                                 _("The discovery record has expired")), NULL);
  if (record->created > now + KILN_DHT_RECORD_MAX_SKEW)
    return (g_set_error_literal (error, KILN_DHT_ERROR, KILN_DHT_ERROR_FUTURE,
                                 _("The discovery record is dated in the future; check the "
                                   "clocks")), NULL);

  record->encoded = g_bytes_ref (bytes);
  return g_steal_pointer (&record);
}

/* Node records */

static void
clear_endpoint (gpointer data)
{
  KilnDhtEndpoint *endpoint = data;

  g_clear_pointer (&endpoint->host, g_free);
}

KilnDhtNodeInfo *
kiln_dht_node_info_new (void)
{
  KilnDhtNodeInfo *self = g_new0 (KilnDhtNodeInfo, 1);

  self->protocol_major = KILN_NET_PROTOCOL_MAJOR;
  self->protocol_minor = KILN_NET_PROTOCOL_MINOR;
  self->endpoints = g_array_new (FALSE, TRUE, sizeof (KilnDhtEndpoint));
  g_array_set_clear_func (self->endpoints, clear_endpoint);
  return self;
}

KilnDhtNodeInfo *
kiln_dht_node_info_copy (const KilnDhtNodeInfo *self)
{
  KilnDhtNodeInfo *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = kiln_dht_node_info_new ();
  copy->protocol_major = self->protocol_major;
  copy->protocol_minor = self->protocol_minor;
  copy->roles = self->roles;
  for (guint i = 0; i < self->endpoints->len; i++)
    {
      const KilnDhtEndpoint *e = &g_array_index (self->endpoints, KilnDhtEndpoint, i);

      kiln_dht_node_info_add_endpoint (copy, e->host, e->port);
    }
  return copy;
}

void
kiln_dht_node_info_free (KilnDhtNodeInfo *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->endpoints, g_array_unref);
  g_free (self);
}

void
kiln_dht_node_info_add_endpoint (KilnDhtNodeInfo *self,
                                 const char      *host,
                                 guint16          port)
{
  KilnDhtEndpoint endpoint = { g_strdup (host), port };

  g_return_if_fail (self != NULL);
  g_return_if_fail (host != NULL);

  g_array_append_val (self->endpoints, endpoint);
}

/* protocol major (2) || minor (2) || roles (4) || count (1) ||
 * count × (host length (1) || host || port (2)) */
GBytes *
kiln_dht_node_info_encode (const KilnDhtNodeInfo  *self,
                           GError                **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  g_return_val_if_fail (self != NULL, NULL);

  if (self->endpoints->len > KILN_DHT_NODE_MAX_ENDPOINTS)
    return (g_set_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_TOO_LARGE,
                         _("A node record lists at most %u addresses"),
                         KILN_DHT_NODE_MAX_ENDPOINTS), NULL);

  put_be (out, self->protocol_major, 2);
  put_be (out, self->protocol_minor, 2);
  put_be (out, self->roles, 4);
  put_be (out, self->endpoints->len, 1);
  for (guint i = 0; i < self->endpoints->len; i++)
    {
      const KilnDhtEndpoint *e = &g_array_index (self->endpoints, KilnDhtEndpoint, i);
      gsize host_len = strlen (e->host);

      if (host_len == 0 || host_len > KILN_DHT_NODE_HOST_MAX || e->port == 0)
        return (g_set_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_MALFORMED,
                             _("“%s” port %u is not a usable node address"),
                             e->host, e->port), NULL);
      put_be (out, host_len, 1);
      g_byte_array_append (out, (const guint8 *) e->host, host_len);
      put_be (out, e->port, 2);
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static gboolean
host_is_printable (const char *host,
                   gsize       len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isgraph (host[i]))
      return FALSE;
  return TRUE;
}

KilnDhtNodeInfo *
kiln_dht_node_info_decode (GBytes  *payload,
                           GError **error)
{
  g_autoptr(KilnDhtNodeInfo) info = kiln_dht_node_info_new ();
  const guint8 *data;
  gsize len;
  gsize pos = 9;
  guint count;

  g_return_val_if_fail (payload != NULL, NULL);

  data = g_bytes_get_data (payload, &len);
  if (len < 9)
    return (malformed (error, _("node payload too short")), NULL);

  info->protocol_major = get_be (data, 2);
  info->protocol_minor = get_be (data + 2, 2);
  info->roles = get_be (data + 4, 4);
  count = data[8];
  if (count > KILN_DHT_NODE_MAX_ENDPOINTS)
    return (malformed (error, _("too many node addresses")), NULL);

  for (guint i = 0; i < count; i++)
    {
      g_autofree char *host = NULL;
      gsize host_len;

      if (len - pos < 1)
        return (malformed (error, _("node address cut short")), NULL);
      host_len = data[pos++];
      if (host_len == 0 || len - pos < host_len + 2)
        return (malformed (error, _("node address cut short")), NULL);
      if (!host_is_printable ((const char *) data + pos, host_len))
        return (malformed (error, _("node host name is not printable ASCII")), NULL);
      host = g_strndup ((const char *) data + pos, host_len);
      pos += host_len;
      if (get_be (data + pos, 2) == 0)
        return (malformed (error, _("node port is zero")), NULL);
      kiln_dht_node_info_add_endpoint (info, host, get_be (data + pos, 2));
      pos += 2;
    }

  if (pos != len)
    return (malformed (error, _("trailing bytes after the node addresses")), NULL);

  return g_steal_pointer (&info);
}

/* Keys */

guint
kiln_dht_address_bucket (const KilnAddress *address)
{
  G_STATIC_ASSERT (KILN_DHT_NODE_BUCKETS == 16);

  g_return_val_if_fail (address != NULL, 0);

  return address->bytes[0] >> 4;
}

static void
sha1_key (const char *text,
          guint8      key[KILN_DHT_KEY_SIZE])
{
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  gsize len = KILN_DHT_KEY_SIZE;

  g_checksum_update (sha1, (const guchar *) text, strlen (text));
  g_checksum_get_digest (sha1, key, &len);
  g_assert (len == KILN_DHT_KEY_SIZE);
}

static const char *
role_name (KilnDhtRole role)
{
  switch (role)
    {
    case KILN_DHT_ROLE_PROVIDER:
      return "provider";
    case KILN_DHT_ROLE_REQUESTOR:
      return "requestor";
    case KILN_DHT_ROLE_BOOTSTRAP:
      return "bootstrap";
    default:
      return NULL;
    }
}

void
kiln_dht_node_key (guint32     network,
                   KilnDhtRole role,
                   guint       bucket,
                   guint8      key[KILN_DHT_KEY_SIZE])
{
  g_autofree char *text = NULL;

  g_return_if_fail (role_name (role) != NULL);
  g_return_if_fail (bucket < KILN_DHT_NODE_BUCKETS);

  text = g_strdup_printf ("kiln:%08x:node:%s:%x", network, role_name (role), bucket);
  sha1_key (text, key);
}

void
kiln_dht_topic_key (guint32     network,
                    const char *topic,
                    guint8      key[KILN_DHT_KEY_SIZE])
{
  g_autofree char *text = NULL;

  g_return_if_fail (topic != NULL && *topic != '\0');

  text = g_strdup_printf ("kiln:%08x:topic:%s", network, topic);
  sha1_key (text, key);
}
