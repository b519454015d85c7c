/* kiln-rlp.h: Ethereum's Recursive Length Prefix encoding
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

/* Nesting deeper than this is refused by the decoder. */
#define KILN_RLP_MAX_DEPTH 64

/* One-shot encoders: each appends one complete item to @out. */
void                kiln_rlp_append_bytes                (GByteArray   *out,
                                                          const guint8 *data,
                                                          gsize         len);
/* Integers are encoded as their minimal big-endian bytes; zero is the empty string. */
void                kiln_rlp_append_uint64               (GByteArray *out,
                                                          guint64     value);
void                kiln_rlp_append_uint256              (GByteArray        *out,
                                                          const KilnUint256 *value);
/* Appends the header of a list whose encoded items take @payload_len bytes; append the items
 * after it. */
void                kiln_rlp_append_list_header          (GByteArray *out,
                                                          gsize       payload_len);
/* Appends a list made of @payload, the concatenated encodings of its items. */
void                kiln_rlp_append_list                 (GByteArray   *out,
                                                          const guint8 *payload,
                                                          gsize         len);

/* A builder for nested structures: open lists with begin_list(), close them with
 * end_list() and take the result with steal_bytes() once every list is closed. */
KilnRlpEncoder     *kiln_rlp_encoder_new                 (void);
void                kiln_rlp_encoder_free                (KilnRlpEncoder *self);
void                kiln_rlp_encoder_append_bytes        (KilnRlpEncoder *self,
                                                          const guint8   *data,
                                                          gsize           len);
void                kiln_rlp_encoder_append_string       (KilnRlpEncoder *self,
                                                          const char     *text);
void                kiln_rlp_encoder_append_uint64       (KilnRlpEncoder *self,
                                                          guint64         value);
void                kiln_rlp_encoder_append_uint256      (KilnRlpEncoder    *self,
                                                          const KilnUint256 *value);
/* Appends an item that is already RLP-encoded, as is. */
void                kiln_rlp_encoder_append_raw          (KilnRlpEncoder *self,
                                                          const guint8   *encoded,
                                                          gsize           len);
void                kiln_rlp_encoder_begin_list          (KilnRlpEncoder *self);
void                kiln_rlp_encoder_end_list            (KilnRlpEncoder *self);
/* The encoding so far; valid until the next call on @self. */
const guint8       *kiln_rlp_encoder_peek                (KilnRlpEncoder *self,
                                                          gsize          *len);
/* Takes the encoding and empties @self. Every list must have been closed. */
GBytes             *kiln_rlp_encoder_steal_bytes         (KilnRlpEncoder *self);

typedef enum
{
  KILN_RLP_ITEM_BYTES,
  KILN_RLP_ITEM_LIST,
} KilnRlpItemKind;

/* A decoded item. Its pointers are views into the decoded input, which must outlive it. */
struct _KilnRlpItem
{
  KilnRlpItemKind  kind;
  /* The payload: the string's bytes, or the concatenated encodings of a list's items. */
  const guint8    *data;
  gsize            len;
  /* The whole item, header included. */
  const guint8    *encoded;
  gsize            encoded_len;
  /* For lists: the items, owned (KilnRlpItem *). NULL for byte strings. */
  GPtrArray       *children;
};

/* Decodes exactly one item spanning all of @data. Only canonical encodings are accepted:
 * single bytes below 0x80 unwrapped, short forms for lengths up to 55, long-form lengths
 * without leading zeros, nothing past the end of the input or of an enclosing list, no
 * trailing bytes and at most KILN_RLP_MAX_DEPTH levels of nesting. Errors are
 * KILN_ETH_ERROR_INVALID_RLP. */
KilnRlpItem        *kiln_rlp_decode                      (const guint8  *data,
                                                          gsize          len,
                                                          GError       **error);
void                kiln_rlp_item_free                   (KilnRlpItem *self);

gboolean            kiln_rlp_item_is_list                (const KilnRlpItem *self);
guint               kiln_rlp_item_get_n_children         (const KilnRlpItem *self);
const KilnRlpItem  *kiln_rlp_item_get_child              (const KilnRlpItem *self,
                                                          guint              index);
/* Integers must be byte strings without leading zero bytes (zero is the empty string). */
gboolean            kiln_rlp_item_get_uint64             (const KilnRlpItem  *self,
                                                          guint64            *out,
                                                          GError            **error);
gboolean            kiln_rlp_item_get_uint256            (const KilnRlpItem  *self,
                                                          KilnUint256        *out,
                                                          GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnRlpEncoder, kiln_rlp_encoder_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnRlpItem, kiln_rlp_item_free)

G_END_DECLS
