/* kiln-rlp.c: Ethereum's Recursive Length Prefix encoding
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-eth.h"
#include "kiln-rlp.h"

#define RLP_OFFSET_BYTES 0x80
#define RLP_OFFSET_LIST  0xc0
/* Payloads up to this length use the one-byte short form. */
#define RLP_SHORT_MAX    55
/* A header is one prefix byte plus up to eight length bytes. */
#define RLP_HEADER_MAX   9

struct _KilnRlpEncoder
{
  GByteArray *buffer;
  GArray     *open_lists;   /* gsize: offsets where each open list's payload starts */
};

/* Writes the header for a payload of @len bytes; returns its size. */
static guint
encode_header (guint8 header[RLP_HEADER_MAX],
               gsize  len,
               guint8 offset)
{
  guint n_bytes = 0;

  if (len <= RLP_SHORT_MAX)
    {
      header[0] = (guint8) (offset + len);
      return 1;
    }

  for (gsize rest = len; rest != 0; rest >>= 8)
    n_bytes++;

  header[0] = (guint8) (offset + RLP_SHORT_MAX + n_bytes);
  for (guint i = 0; i < n_bytes; i++)
    header[n_bytes - i] = (guint8) (len >> (8 * i));

  return n_bytes + 1;
}

void
kiln_rlp_append_bytes (GByteArray   *out,
                       const guint8 *data,
                       gsize         len)
{
  guint8 header[RLP_HEADER_MAX];

  g_return_if_fail (out != NULL);
  g_return_if_fail (data != NULL || len == 0);

  if (len == 1 && data[0] < RLP_OFFSET_BYTES)
    {
      g_byte_array_append (out, data, 1);
      return;
    }

  g_byte_array_append (out, header, encode_header (header, len, RLP_OFFSET_BYTES));
  if (len > 0)
    g_byte_array_append (out, data, (guint) len);
}

void
kiln_rlp_append_uint64 (GByteArray *out,
                        guint64     value)
{
  guint8 bytes[8];
  guint n = 0;

  g_return_if_fail (out != NULL);

  for (guint64 rest = value; rest != 0; rest >>= 8)
    n++;
  for (guint i = 0; i < n; i++)
    bytes[n - 1 - i] = (guint8) (value >> (8 * i));

  kiln_rlp_append_bytes (out, bytes, n);
}

void
kiln_rlp_append_uint256 (GByteArray        *out,
                         const KilnUint256 *value)
{
  guint8 bytes[KILN_UINT256_SIZE];
  guint n;

  g_return_if_fail (out != NULL);
  g_return_if_fail (value != NULL);

  kiln_uint256_to_be_bytes (value, bytes);
  n = kiln_uint256_byte_length (value);
  kiln_rlp_append_bytes (out, bytes + KILN_UINT256_SIZE - n, n);
}

void
kiln_rlp_append_list_header (GByteArray *out,
                             gsize       payload_len)
{
  guint8 header[RLP_HEADER_MAX];

  g_return_if_fail (out != NULL);

  g_byte_array_append (out, header, encode_header (header, payload_len, RLP_OFFSET_LIST));
}

void
kiln_rlp_append_list (GByteArray   *out,
                      const guint8 *payload,
                      gsize         len)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (payload != NULL || len == 0);

  kiln_rlp_append_list_header (out, len);
  if (len > 0)
    g_byte_array_append (out, payload, (guint) len);
}

KilnRlpEncoder *
kiln_rlp_encoder_new (void)
{
  KilnRlpEncoder *self = g_new0 (KilnRlpEncoder, 1);

  self->buffer = g_byte_array_new ();
  self->open_lists = g_array_new (FALSE, FALSE, sizeof (gsize));

  return self;
}

void
kiln_rlp_encoder_free (KilnRlpEncoder *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->buffer, g_byte_array_unref);
  g_clear_pointer (&self->open_lists, g_array_unref);
  g_free (self);
}

void
kiln_rlp_encoder_append_bytes (KilnRlpEncoder *self,
                               const guint8   *data,
                               gsize           len)
{
  g_return_if_fail (self != NULL);

  kiln_rlp_append_bytes (self->buffer, data, len);
}

void
kiln_rlp_encoder_append_string (KilnRlpEncoder *self,
                                const char     *text)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (text != NULL);

  kiln_rlp_append_bytes (self->buffer, (const guint8 *) text, strlen (text));
}

void
kiln_rlp_encoder_append_uint64 (KilnRlpEncoder *self,
                                guint64         value)
{
  g_return_if_fail (self != NULL);

  kiln_rlp_append_uint64 (self->buffer, value);
}

void
kiln_rlp_encoder_append_uint256 (KilnRlpEncoder    *self,
                                 const KilnUint256 *value)
{
  g_return_if_fail (self != NULL);

  kiln_rlp_append_uint256 (self->buffer, value);
}

void
kiln_rlp_encoder_append_raw (KilnRlpEncoder *self,
                             const guint8   *encoded,
                             gsize           len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (encoded != NULL || len == 0);

  if (len > 0)
    g_byte_array_append (self->buffer, encoded, (guint) len);
}

void
kiln_rlp_encoder_begin_list (KilnRlpEncoder *self)
{
  gsize start;

  g_return_if_fail (self != NULL);

  start = self->buffer->len;
  g_array_append_val (self->open_lists, start);
}

void
kiln_rlp_encoder_end_list (KilnRlpEncoder *self)
{
  guint8 header[RLP_HEADER_MAX];
  gsize start, payload_len;
  guint header_len;

  g_return_if_fail (self != NULL);
  g_return_if_fail (self->open_lists->len > 0);

  start = g_array_index (self->open_lists, gsize, self->open_lists->len - 1);
  g_array_set_size (self->open_lists, self->open_lists->len - 1);

  /* The payload is in place; slide it up to make room for the header in front of it. */
  payload_len = self->buffer->len - start;
  header_len = encode_header (header, payload_len, RLP_OFFSET_LIST);
  g_byte_array_set_size (self->buffer, self->buffer->len + header_len);
  memmove (self->buffer->data + start + header_len, self->buffer->data + start, payload_len);
  memcpy (self->buffer->data + start, header, header_len);
}

const guint8 *
kiln_rlp_encoder_peek (KilnRlpEncoder *self,
                       gsize          *len)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (len != NULL)
    *len = self->buffer->len;

  return self->buffer->data;
}

GBytes *
kiln_rlp_encoder_steal_bytes (KilnRlpEncoder *self)
{
  GByteArray *buffer;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->open_lists->len == 0, NULL);

  buffer = g_steal_pointer (&self->buffer);
  self->buffer = g_byte_array_new ();

  return g_byte_array_free_to_bytes (buffer);
}

/* Decoding */

static void set_rlp_error (GError      **error,
                           const guint8 *base,
                           const guint8 *at,
                           const char   *format,
                           ...) G_GNUC_PRINTF (4, 5);

static void
set_rlp_error (GError      **error,
               const guint8 *base,
               const guint8 *at,
               const char   *format,
               ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_RLP,
               _("Malformed RLP data at byte %zu: %s"),
               (gsize) (at - base), reason);
}

/* Reads a long-form length of @n_bytes bytes at @p, with @avail bytes left after the prefix
 * byte. */
static gboolean
read_long_length (const guint8  *base,
                  const guint8  *p,
                  guint          n_bytes,
                  gsize          avail,
                  gsize         *out,
                  GError       **error)
{
  guint64 value = 0;

  if (n_bytes > avail)
    {
      set_rlp_error (error, base, p, _("the input ends inside a length field"));
      return FALSE;
    }

  if (p[1] == 0)
    {
      set_rlp_error (error, base, p, _("a length has a leading zero byte"));
      return FALSE;
    }

  for (guint i = 0; i < n_bytes; i++)
    value = (value << 8) | p[1 + i];

  if (value <= RLP_SHORT_MAX)
    {
      set_rlp_error (error, base, p,
                     _("the long form is used for a length of %" PRIu64 ", which needs the short form"),
                     value);
      return FALSE;
    }

  if (value > avail - n_bytes)
    {
      set_rlp_error (error, base, p,
                     _("an item claims %" PRIu64 " bytes but only %zu remain"),
                     value, avail - n_bytes);
      return FALSE;
    }

  *out = (gsize) value;
  return TRUE;
}

static KilnRlpItem *
decode_item (const guint8  *base,
             const guint8  *p,
             gsize          avail,
             guint          depth,
             gsize         *consumed,
             GError       **error)
{
  g_autoptr(KilnRlpItem) item = NULL;
  guint8 prefix;
  gsize header_len = 1;
  gsize len = 0;

  g_assert (avail > 0);

  item = g_new0 (KilnRlpItem, 1);
  prefix = p[0];

  if (prefix < RLP_OFFSET_BYTES)
    {
      /* A byte below 0x80 is its own encoding. */
      item->kind = KILN_RLP_ITEM_BYTES;
      header_len = 0;
      len = 1;
    }
  else
    {
      guint8 offset = prefix < RLP_OFFSET_LIST ? RLP_OFFSET_BYTES : RLP_OFFSET_LIST;

      item->kind = offset == RLP_OFFSET_LIST ? KILN_RLP_ITEM_LIST : KILN_RLP_ITEM_BYTES;

      if (prefix <= offset + RLP_SHORT_MAX)
        {
          len = prefix - offset;
          if (len > avail - 1)
            {
              set_rlp_error (error, base, p,
                             _("an item claims %zu bytes but only %zu remain"),
                             len, avail - 1);
              return NULL;
            }
          if (item->kind == KILN_RLP_ITEM_BYTES && len == 1 && p[1] < RLP_OFFSET_BYTES)
            {
              set_rlp_error (error, base, p,
                             _("the single byte 0x%02x is wrapped in a string header"), p[1]);
              return NULL;
            }
        }
      else
        {
          guint n_bytes = prefix - offset - RLP_SHORT_MAX;

          if (!read_long_length (base, p, n_bytes, avail - 1, &len, error))
            return NULL;
          header_len = 1 + n_bytes;
        }
    }

  item->data = p + header_len;
  item->len = len;
  item->encoded = p;
  item->encoded_len = header_len + len;

  if (item->kind == KILN_RLP_ITEM_LIST)
    {
      gsize offset = 0;

      if (depth + 1 > KILN_RLP_MAX_DEPTH)
        {
          set_rlp_error (error, base, p, _("lists are nested more than %d deep"),
                         KILN_RLP_MAX_DEPTH);
          return NULL;
        }

      item->children = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_rlp_item_free);
      while (offset < len)
        {
          KilnRlpItem *child;
          gsize used = 0;

          child = decode_item (base, item->data + offset, len - offset, depth + 1, &used, error);
          if (child == NULL)
            return NULL;

          g_ptr_array_add (item->children, child);
          offset += used;
        }
    }

  *consumed = item->encoded_len;
  return g_steal_pointer (&item);
}

KilnRlpItem *
kiln_rlp_decode (const guint8  *data,
                 gsize          len,
                 GError       **error)
{
  g_autoptr(KilnRlpItem) item = NULL;
  gsize consumed = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len == 0)
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_RLP,
                           _("Malformed RLP data: the input is empty"));
      return NULL;
    }

  item = decode_item (data, data, len, 0, &consumed, error);
  if (item == NULL)
    return NULL;

  if (consumed != len)
    {
      set_rlp_error (error, data, data + consumed,
                     _("%zu unexpected bytes follow the item"),
                     len - consumed);
      return NULL;
    }

  return g_steal_pointer (&item);
}

void
kiln_rlp_item_free (KilnRlpItem *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->children, g_ptr_array_unref);
  g_free (self);
}

gboolean
kiln_rlp_item_is_list (const KilnRlpItem *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->kind == KILN_RLP_ITEM_LIST;
}

guint
kiln_rlp_item_get_n_children (const KilnRlpItem *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->children != NULL ? self->children->len : 0;
}

const KilnRlpItem *
kiln_rlp_item_get_child (const KilnRlpItem *self,
                         guint              index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->children != NULL, NULL);
  g_return_val_if_fail (index < self->children->len, NULL);

  return g_ptr_array_index (self->children, index);
}

static gboolean
check_integer (const KilnRlpItem  *self,
               gsize               max_len,
               GError            **error)
{
  if (self->kind != KILN_RLP_ITEM_BYTES)
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_RLP,
                           _("Malformed RLP data: a list is found where a number belongs"));
      return FALSE;
    }

  if (self->len > 0 && self->data[0] == 0)
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_RLP,
                           _("Malformed RLP data: a number has a leading zero byte"));
      return FALSE;
    }

  if (self->len > max_len)
    {
      g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_OVERFLOW,
                   _("A %zu-byte number does not fit in %zu bits"),
                   self->len, max_len * 8);
      return FALSE;
    }

  return TRUE;
}

gboolean
kiln_rlp_item_get_uint64 (const KilnRlpItem  *self,
                          guint64            *out,
                          GError            **error)
{
  guint64 value = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!check_integer (self, sizeof (guint64), error))
    return FALSE;

  for (gsize i = 0; i < self->len; i++)
    value = (value << 8) | self->data[i];

  *out = value;
  return TRUE;
}

gboolean
kiln_rlp_item_get_uint256 (const KilnRlpItem  *self,
                           KilnUint256        *out,
                           GError            **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!check_integer (self, KILN_UINT256_SIZE, error))
    return FALSE;

  return kiln_uint256_from_be_slice (out, self->data, self->len, error);
}
