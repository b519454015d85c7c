/* kiln-message.c: typed, versioned messages signed by their author
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-keccak.h"
#include "kiln-message.h"
#include "kiln-random.h"

G_DEFINE_QUARK (kiln-message-error-quark, kiln_message_error)

/* EIP-191's leading byte, as in the link proof and DHT records: a signed message can never be
 * mistaken for an RLP-encoded or typed Ethereum transaction. */
#define MESSAGE_PREFIX 0x19

/* Offsets of the header's fields. */
#define OFFSET_MAJOR       0
#define OFFSET_MINOR       2
#define OFFSET_TYPE        4
#define OFFSET_AUTHOR      6
#define OFFSET_RECIPIENT   26
#define OFFSET_NONCE       46
#define OFFSET_TIMESTAMP   54
#define OFFSET_EXT_LEN     62

struct _KilnMessage
{
  guint16      minor;
  guint16      type;
  KilnAddress  author;
  KilnAddress  recipient;           /* all zero for a broadcast */
  guint64      nonce;
  gint64       timestamp;           /* ms since the Unix epoch */
  GBytes      *body;
  GBytes      *encoded;             /* NULL until signed or decoded */
  guint8       signature[KILN_SIGNATURE_SIZE];
  guint8       id[KILN_MESSAGE_ID_SIZE];
  int          verified;            /* atomic: the signature recovers the author */
};

typedef struct
{
  guint16     type;
  const char *name;
  gsize       body_max;
  gboolean    broadcast;
} TypeInfo;

#define KiB 1024

/* docs/protocol.md ("Message types") has the same table. */
static const TypeInfo types[] = {
  { KILN_MESSAGE_PEER_INFO,     "PEER_INFO",     4 * KiB,   TRUE  },
  { KILN_MESSAGE_TASK_ANNOUNCE, "TASK_ANNOUNCE", 64 * KiB,  TRUE  },
  { KILN_MESSAGE_OFFER,         "OFFER",         16 * KiB,  FALSE },
  { KILN_MESSAGE_ASSIGN,        "ASSIGN",        128 * KiB, FALSE },
  { KILN_MESSAGE_ACCEPT,        "ACCEPT",        4 * KiB,   FALSE },
  { KILN_MESSAGE_RESULT,        "RESULT",        64 * KiB,  FALSE },
  { KILN_MESSAGE_APPROVE,       "APPROVE",       4 * KiB,   FALSE },
  { KILN_MESSAGE_REJECT,        "REJECT",        4 * KiB,   FALSE },
  { KILN_MESSAGE_PAYMENT,       "PAYMENT",       4 * KiB,   FALSE },
  { KILN_MESSAGE_CANCEL,        "CANCEL",        4 * KiB,   TRUE  },
};

static const TypeInfo *
lookup_type (guint type)
{
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (types[i].type == type)
      return &types[i];

  return NULL;
}

gboolean
kiln_message_type_is_known (guint type)
{
  return lookup_type (type) != NULL;
}

const char *
kiln_message_type_to_string (guint type)
{
  const TypeInfo *info = lookup_type (type);

  return info != NULL ? info->name : NULL;
}

gsize
kiln_message_type_get_body_max (guint type)
{
  const TypeInfo *info = lookup_type (type);

  return info != NULL ? info->body_max : KILN_MESSAGE_MAX_SIZE - KILN_MESSAGE_MIN_SIZE;
}

gboolean
kiln_message_type_allows_broadcast (guint type)
{
  const TypeInfo *info = lookup_type (type);

  return info != NULL && info->broadcast;
}

/* A name for people: the registry's, or the number of a type from a newer version. */
static char *
describe_type (guint type)
{
  const char *name = kiln_message_type_to_string (type);

  return name != NULL ? g_strdup (name) : g_strdup_printf ("type 0x%04x", type);
}

/* The reference-counted box */

static void
kiln_message_clear (gpointer data)
{
  KilnMessage *self = data;

  g_clear_pointer (&self->body, g_bytes_unref);
  g_clear_pointer (&self->encoded, g_bytes_unref);
}

KilnMessage *
kiln_message_ref (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

void
kiln_message_unref (KilnMessage *self)
{
  g_return_if_fail (self != NULL);

  g_atomic_rc_box_release_full (self, kiln_message_clear);
}

G_DEFINE_BOXED_TYPE (KilnMessage, kiln_message, kiln_message_ref, kiln_message_unref)

static gboolean
address_is_zero (const KilnAddress *address)
{
  for (guint i = 0; i < KILN_ADDRESS_SIZE; i++)
    if (address->bytes[i] != 0)
      return FALSE;

  return TRUE;
}

KilnMessage *
kiln_message_new (KilnMessageType    type,
                  const KilnAddress *recipient,
                  GBytes            *body)
{
  KilnMessage *self;

  g_return_val_if_fail (kiln_message_type_is_known (type), NULL);

  self = g_atomic_rc_box_new0 (KilnMessage);
  self->minor = KILN_MESSAGE_PROTOCOL_MINOR;
  self->type = type;
  if (recipient != NULL)
    self->recipient = *recipient;
  self->body = body != NULL ? g_bytes_ref (body) : g_bytes_new (NULL, 0);

  return self;
}

/* Signing */

static void
put_be (guint8  *out,
        guint64  value,
        guint    width)
{
  for (guint i = 0; i < width; i++)
    out[i] = (value >> (8 * (width - 1 - i))) & 0xff;
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

static void
message_digest (const guint8 *signed_part,
                gsize         len,
                guint8        digest[KILN_MESSAGE_ID_SIZE])
{
  KilnKeccak256 ctx;
  const guint8 prefix = MESSAGE_PREFIX;

  kiln_keccak256_init (&ctx);
  kiln_keccak256_update (&ctx, &prefix, 1);
  kiln_keccak256_update (&ctx, (const guint8 *) KILN_MESSAGE_CONTEXT,
                         strlen (KILN_MESSAGE_CONTEXT));
  kiln_keccak256_update (&ctx, signed_part, len);
  kiln_keccak256_digest (&ctx, digest);
}

/* The registry's rules for a known type's body and recipient. */
static gboolean
check_type_rules (guint               type,
                  gsize               body_len,
                  const KilnAddress  *recipient,
                  GError            **error)
{
  const TypeInfo *info = lookup_type (type);

  if (info == NULL)
    return TRUE;

  if (body_len > info->body_max)
    {
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_TOO_LARGE,
                   _("The %s message’s body is %zu bytes, over the limit of "
                     "%zu bytes for its type"),
                   info->name, body_len, info->body_max);
      return FALSE;
    }

  if (!info->broadcast && address_is_zero (recipient))
    {
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_WRONG_RECIPIENT,
                   _("A %s message must be addressed to one node; it cannot be broadcast"),
                   info->name);
      return FALSE;
    }

  return TRUE;
}

gboolean
kiln_message_sign_full (KilnMessage  *self,
                        KilnKey      *key,
                        guint64       nonce,
                        gint64        timestamp_ms,
                        GError      **error)
{
  const guint8 *body;
  gsize body_len;
  gsize signed_len;
  guint8 *out;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);
  g_return_val_if_fail (self->encoded == NULL, FALSE);
  g_return_val_if_fail (timestamp_ms >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  body = g_bytes_get_data (self->body, &body_len);
  if (!check_type_rules (self->type, body_len, &self->recipient, error))
    return FALSE;

  /* Every known type's limit keeps the whole message well under KILN_MESSAGE_MAX_SIZE. */
  signed_len = KILN_MESSAGE_HEADER_SIZE + 4 + body_len;
  g_assert (signed_len + KILN_SIGNATURE_SIZE <= KILN_MESSAGE_MAX_SIZE);

  out = g_malloc (signed_len + KILN_SIGNATURE_SIZE);
  put_be (out + OFFSET_MAJOR, KILN_MESSAGE_PROTOCOL_MAJOR, 2);
  put_be (out + OFFSET_MINOR, self->minor, 2);
  put_be (out + OFFSET_TYPE, self->type, 2);
  memcpy (out + OFFSET_AUTHOR, kiln_key_get_address (key)->bytes, KILN_ADDRESS_SIZE);
  memcpy (out + OFFSET_RECIPIENT, self->recipient.bytes, KILN_ADDRESS_SIZE);
  put_be (out + OFFSET_NONCE, nonce, 8);
  put_be (out + OFFSET_TIMESTAMP, (guint64) timestamp_ms, 8);
  put_be (out + OFFSET_EXT_LEN, 0, 2);
  put_be (out + KILN_MESSAGE_HEADER_SIZE, body_len, 4);
  if (body_len > 0)
    memcpy (out + KILN_MESSAGE_HEADER_SIZE + 4, body, body_len);

  message_digest (out, signed_len, self->id);
  if (!kiln_key_sign_digest (key, self->id, out + signed_len, error))
    {
      g_free (out);
      return FALSE;
    }

  self->author = *kiln_key_get_address (key);
  self->nonce = nonce;
  self->timestamp = timestamp_ms;
  memcpy (self->signature, out + signed_len, KILN_SIGNATURE_SIZE);
  self->encoded = g_bytes_new_take (out, signed_len + KILN_SIGNATURE_SIZE);
  g_atomic_int_set (&self->verified, TRUE);

  return TRUE;
}

gboolean
kiln_message_sign (KilnMessage  *self,
                   KilnKey      *key,
                   GError      **error)
{
  guint8 random[8];

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);

  /* A nonce needs no secrecy, only uniqueness; the CSPRNG gives that without any state. */
  if (!kiln_random_bytes (random, sizeof random, error))
    return FALSE;

  return kiln_message_sign_full (self, key, get_be (random, sizeof random),
                                 g_get_real_time () / 1000, error);
}

GBytes *
kiln_message_encode (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->encoded != NULL, NULL);

  return g_bytes_ref (self->encoded);
}

/* Decoding */

static KilnMessage *
malformed (GError     **error,
           const char  *format,
           ...) G_GNUC_PRINTF (2, 3);

static KilnMessage *
malformed (GError     **error,
           const char  *format,
           ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_MALFORMED,
               _("Not a valid Kiln message: %s"), what);
  return NULL;
}

KilnMessage *
kiln_message_decode (GBytes  *bytes,
                     GError **error)
{
  g_autoptr(KilnMessage) self = NULL;
  const guint8 *data;
  gsize len, ext_len, body_len, body_at, signed_len;
  guint major;
  guint64 timestamp;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (bytes, &len);

  if (len > KILN_MESSAGE_MAX_SIZE)
    {
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_TOO_LARGE,
                   _("A message of %zu bytes is over the limit of %u bytes"),
                   len, KILN_MESSAGE_MAX_SIZE);
      return NULL;
    }
  if (len < OFFSET_MINOR + 2)
    return malformed (error, _("%zu bytes are too short for a version"), len);

  /* Another major version may lay out everything after it differently. */
  major = get_be (data + OFFSET_MAJOR, 2);
  if (major != KILN_MESSAGE_PROTOCOL_MAJOR)
    {
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_VERSION,
                   _("The message uses message protocol %u.%u but this node speaks %u.%u; "
                     "the older side needs a Kiln update"),
                   major, (guint) get_be (data + OFFSET_MINOR, 2),
                   KILN_MESSAGE_PROTOCOL_MAJOR, KILN_MESSAGE_PROTOCOL_MINOR);
      return NULL;
    }

  if (len < KILN_MESSAGE_MIN_SIZE)
    return malformed (error, _("%zu bytes are shorter than the smallest message, %u bytes"),
                      len, KILN_MESSAGE_MIN_SIZE);

  ext_len = get_be (data + OFFSET_EXT_LEN, 2);
  if (ext_len > KILN_MESSAGE_EXTENSIONS_MAX)
    {
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_TOO_LARGE,
                   _("The message’s extensions are %zu bytes, over the limit "
                     "of %u bytes"), ext_len, KILN_MESSAGE_EXTENSIONS_MAX);
      return NULL;
    }

  /* len >= KILN_MESSAGE_MIN_SIZE and ext_len <= 1024: no sum below can overflow. */
  body_at = KILN_MESSAGE_HEADER_SIZE + ext_len + 4;
  if (body_at + KILN_SIGNATURE_SIZE > len)
    return malformed (error, _("it ends inside its extensions (%zu bytes announced)"),
                      ext_len);

  body_len = get_be (data + body_at - 4, 4);
  if (body_len > len - body_at - KILN_SIGNATURE_SIZE)
    return malformed (error, _("it announces a body of %zu bytes but only "
                               "%zu follow before the signature"),
                      body_len, len - body_at - KILN_SIGNATURE_SIZE);

  signed_len = body_at + body_len;
  if (signed_len + KILN_SIGNATURE_SIZE != len)
    return malformed (error, _("%zu bytes follow its signature"),
                      len - signed_len - KILN_SIGNATURE_SIZE);

  timestamp = get_be (data + OFFSET_TIMESTAMP, 8);
  if (timestamp > (guint64) G_MAXINT64)
    return malformed (error, _("its timestamp is out of range"));

  self = g_atomic_rc_box_new0 (KilnMessage);
  self->minor = get_be (data + OFFSET_MINOR, 2);
  self->type = get_be (data + OFFSET_TYPE, 2);
  memcpy (self->author.bytes, data + OFFSET_AUTHOR, KILN_ADDRESS_SIZE);
  memcpy (self->recipient.bytes, data + OFFSET_RECIPIENT, KILN_ADDRESS_SIZE);
  self->nonce = get_be (data + OFFSET_NONCE, 8);
  self->timestamp = (gint64) timestamp;
  memcpy (self->signature, data + signed_len, KILN_SIGNATURE_SIZE);

  if (!check_type_rules (self->type, body_len, &self->recipient, error))
    return NULL;

  /* Recovery ids 2 and 3 need an r beyond the group order: never made by an honest signer. */
  if (self->signature[KILN_SIGNATURE_SIZE - 1] > 1)
    {
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_BAD_SIGNATURE,
                   _("The message’s signature has recovery id %u; it must be 0 or 1"),
                   self->signature[KILN_SIGNATURE_SIZE - 1]);
      return NULL;
    }

  self->body = g_bytes_new_from_bytes (bytes, body_at, body_len);
  self->encoded = g_bytes_ref (bytes);
  message_digest (data, signed_len, self->id);

  return g_steal_pointer (&self);
}

gboolean
kiln_message_verify (KilnMessage  *self,
                     GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  KilnAddress signer;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->encoded != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_atomic_int_get (&self->verified))
    return TRUE;

  if (!kiln_recover_address (self->id, self->signature, &signer, &local_error))
    {
      g_autofree char *type = describe_type (self->type);

      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_BAD_SIGNATURE,
                   _("The %s message’s signature is invalid: %s"), type, local_error->message);
      return FALSE;
    }

  if (!kiln_address_equal (&signer, &self->author))
    {
      char author[KILN_ADDRESS_STRING_SIZE];
      g_autofree char *type = describe_type (self->type);

      kiln_address_format (&self->author, author);
      g_set_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_BAD_SIGNATURE,
                   _("The %s message claims to be by %s, but another key signed it"),
                   type, author);
      return FALSE;
    }

  g_atomic_int_set (&self->verified, TRUE);

  return TRUE;
}

gboolean
kiln_message_is_verified (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return g_atomic_int_get (&self->verified);
}

/* Fields */

guint
kiln_message_get_message_type (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->type;
}

guint
kiln_message_get_protocol_minor (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->minor;
}

const KilnAddress *
kiln_message_get_author (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->encoded != NULL, NULL);

  return &self->author;
}

const KilnAddress *
kiln_message_get_recipient (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return address_is_zero (&self->recipient) ? NULL : &self->recipient;
}

guint64
kiln_message_get_nonce (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->nonce;
}

gint64
kiln_message_get_timestamp (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->timestamp;
}

GBytes *
kiln_message_get_body (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->body;
}

const guint8 *
kiln_message_get_id (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->encoded != NULL, NULL);

  return self->id;
}

char *
kiln_message_dup_id_string (KilnMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->encoded != NULL, NULL);

  return kiln_hex_encode (self->id, KILN_MESSAGE_ID_SIZE);
}
