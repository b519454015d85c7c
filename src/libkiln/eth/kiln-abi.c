/* kiln-abi.c: Solidity ABI encoding of contract calls and decoding of their results
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-abi.h"
#include "kiln-eth.h"
#include "kiln-keccak.h"

#define WORD KILN_ABI_WORD_SIZE

typedef enum
{
  ABI_ADDRESS,
  ABI_UINT256,
  ABI_BYTES32,
  ABI_BOOL,
  ABI_ADDRESS_ARRAY,
  ABI_UINT256_ARRAY,
  ABI_BYTES,
  ABI_STRING,
} AbiType;

static const char * const abi_type_names[] = {
  [ABI_ADDRESS]       = "address",
  [ABI_UINT256]       = "uint256",
  [ABI_BYTES32]       = "bytes32",
  [ABI_BOOL]          = "bool",
  [ABI_ADDRESS_ARRAY] = "address[]",
  [ABI_UINT256_ARRAY] = "uint256[]",
  [ABI_BYTES]         = "bytes",
  [ABI_STRING]        = "string",
};

/* Error(string) and Panic(uint256), the reverts Solidity produces. */
static const guint8 error_selector[KILN_ABI_SELECTOR_SIZE] = { 0x08, 0xc3, 0x79, 0xa0 };
static const guint8 panic_selector[KILN_ABI_SELECTOR_SIZE] = { 0x4e, 0x48, 0x7b, 0x71 };

struct _KilnAbiEncoder
{
  char       *signature;
  guint8      selector[KILN_ABI_SELECTOR_SIZE];
  GArray     *types;      /* AbiType, in order */
  guint       n_added;
  GByteArray *head;       /* one word per argument */
  GByteArray *tail;       /* the contents of dynamic arguments */
};

void
kiln_abi_selector (const char *signature,
                   guint8      out[KILN_ABI_SELECTOR_SIZE])
{
  guint8 digest[KILN_KECCAK256_DIGEST_SIZE];

  g_return_if_fail (signature != NULL);
  g_return_if_fail (out != NULL);

  kiln_keccak256 ((const guint8 *) signature, strlen (signature), digest);
  memcpy (out, digest, KILN_ABI_SELECTOR_SIZE);
}

/* Splits "name(type,type)" into its argument types; FALSE if it is not a canonical
 * signature of supported types. */
static gboolean
parse_signature (const char *signature,
                 GArray     *types)
{
  const char *open = strchr (signature, '(');
  gsize len = strlen (signature);
  g_autofree char *args = NULL;
  g_auto(GStrv) names = NULL;

  if (open == NULL || open == signature || len < 2 || signature[len - 1] != ')')
    return FALSE;

  for (const char *p = signature; p < open; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_' && *p != '$')
        return FALSE;
    }

  args = g_strndup (open + 1, (gsize) (signature + len - 1 - (open + 1)));
  if (args[0] == '\0')
    return TRUE;

  names = g_strsplit (args, ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      gboolean known = FALSE;

      for (guint t = 0; t < G_N_ELEMENTS (abi_type_names); t++)
        {
          if (g_str_equal (names[i], abi_type_names[t]))
            {
              AbiType type = (AbiType) t;

              g_array_append_val (types, type);
              known = TRUE;
              break;
            }
        }

      if (!known)
        return FALSE;
    }

  return TRUE;
}

KilnAbiEncoder *
kiln_abi_encoder_new (const char *signature)
{
  g_autoptr(KilnAbiEncoder) self = NULL;

  g_return_val_if_fail (signature != NULL, NULL);

  self = g_new0 (KilnAbiEncoder, 1);
  self->signature = g_strdup (signature);
  self->types = g_array_new (FALSE, FALSE, sizeof (AbiType));
  self->head = g_byte_array_new ();
  self->tail = g_byte_array_new ();

  if (!parse_signature (signature, self->types))
    {
      g_critical ("Unsupported ABI signature “%s”: use canonical types among address, "
                  "uint256, bytes32, bool, address[], uint256[], bytes and string, "
                  "without spaces", signature);
      return NULL;
    }

  kiln_abi_selector (signature, self->selector);
  return g_steal_pointer (&self);
}

void
kiln_abi_encoder_free (KilnAbiEncoder *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->signature, g_free);
  g_clear_pointer (&self->types, g_array_unref);
  g_clear_pointer (&self->head, g_byte_array_unref);
  g_clear_pointer (&self->tail, g_byte_array_unref);
  g_free (self);
}

/* Checks that the next argument has type @type. */
static gboolean
expect_argument (KilnAbiEncoder *self,
                 AbiType         type)
{
  if (self->n_added >= self->types->len)
    {
      g_critical ("Too many arguments for %s: it takes %u", self->signature, self->types->len);
      return FALSE;
    }

  if (g_array_index (self->types, AbiType, self->n_added) != type)
    {
      g_critical ("Argument %u of %s is a %s, not a %s", self->n_added + 1, self->signature,
                  abi_type_names[g_array_index (self->types, AbiType, self->n_added)],
                  abi_type_names[type]);
      return FALSE;
    }

  self->n_added++;
  return TRUE;
}

static void
append_word_uint64 (GByteArray *out,
                    guint64     value)
{
  guint8 word[WORD] = { 0 };

  for (guint i = 0; i < 8; i++)
    word[WORD - 1 - i] = (guint8) (value >> (8 * i));

  g_byte_array_append (out, word, WORD);
}

static void
append_word_uint256 (GByteArray        *out,
                     const KilnUint256 *value)
{
  guint8 word[WORD];

  kiln_uint256_to_be_bytes (value, word);
  g_byte_array_append (out, word, WORD);
}

static void
append_word_address (GByteArray        *out,
                     const KilnAddress *address)
{
  guint8 word[WORD] = { 0 };

  memcpy (word + WORD - KILN_ADDRESS_SIZE, address->bytes, KILN_ADDRESS_SIZE);
  g_byte_array_append (out, word, WORD);
}

/* Appends @len bytes padded with zeros to a whole number of words. */
static void
append_padded (GByteArray   *out,
               const guint8 *data,
               gsize         len)
{
  static const guint8 zeros[WORD] = { 0 };

  if (len > 0)
    g_byte_array_append (out, data, (guint) len);
  if (len % WORD != 0)
    g_byte_array_append (out, zeros, WORD - len % WORD);
}

/* Writes the head word of a dynamic argument: the offset of its tail from the start of the
 * arguments. */
static void
begin_dynamic (KilnAbiEncoder *self)
{
  append_word_uint64 (self->head, (guint64) self->types->len * WORD + self->tail->len);
}

void
kiln_abi_encoder_add_address (KilnAbiEncoder    *self,
                              const KilnAddress *address)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (address != NULL);

  if (expect_argument (self, ABI_ADDRESS))
    append_word_address (self->head, address);
}

void
kiln_abi_encoder_add_uint256 (KilnAbiEncoder    *self,
                              const KilnUint256 *value)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (value != NULL);

  if (expect_argument (self, ABI_UINT256))
    append_word_uint256 (self->head, value);
}

void
kiln_abi_encoder_add_bytes32 (KilnAbiEncoder *self,
                              const guint8    value[32])
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (value != NULL);

  if (expect_argument (self, ABI_BYTES32))
    g_byte_array_append (self->head, value, WORD);
}

void
kiln_abi_encoder_add_bool (KilnAbiEncoder *self,
                           gboolean        value)
{
  g_return_if_fail (self != NULL);

  if (expect_argument (self, ABI_BOOL))
    append_word_uint64 (self->head, value ? 1 : 0);
}

void
kiln_abi_encoder_add_address_array (KilnAbiEncoder    *self,
                                    const KilnAddress *addresses,
                                    gsize              n_addresses)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (addresses != NULL || n_addresses == 0);

  if (!expect_argument (self, ABI_ADDRESS_ARRAY))
    return;

  begin_dynamic (self);
  append_word_uint64 (self->tail, n_addresses);
  for (gsize i = 0; i < n_addresses; i++)
    append_word_address (self->tail, &addresses[i]);
}

void
kiln_abi_encoder_add_uint256_array (KilnAbiEncoder    *self,
                                    const KilnUint256 *values,
                                    gsize              n_values)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (values != NULL || n_values == 0);

  if (!expect_argument (self, ABI_UINT256_ARRAY))
    return;

  begin_dynamic (self);
  append_word_uint64 (self->tail, n_values);
  for (gsize i = 0; i < n_values; i++)
    append_word_uint256 (self->tail, &values[i]);
}

static void
add_byte_string (KilnAbiEncoder *self,
                 AbiType         type,
                 const guint8   *data,
                 gsize           len)
{
  if (!expect_argument (self, type))
    return;

  begin_dynamic (self);
  append_word_uint64 (self->tail, len);
  append_padded (self->tail, data, len);
}

void
kiln_abi_encoder_add_bytes (KilnAbiEncoder *self,
                            const guint8   *data,
                            gsize           len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  add_byte_string (self, ABI_BYTES, data, len);
}

void
kiln_abi_encoder_add_string (KilnAbiEncoder *self,
                             const char     *text)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (text != NULL);

  add_byte_string (self, ABI_STRING, (const guint8 *) text, strlen (text));
}

GBytes *
kiln_abi_encoder_finish (KilnAbiEncoder *self)
{
  GByteArray *out;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->n_added != self->types->len)
    {
      g_critical ("%s takes %u arguments but %u were added", self->signature,
                  self->types->len, self->n_added);
      return NULL;
    }

  out = g_byte_array_sized_new (KILN_ABI_SELECTOR_SIZE + self->head->len + self->tail->len);
  g_byte_array_append (out, self->selector, KILN_ABI_SELECTOR_SIZE);
  g_byte_array_append (out, self->head->data, self->head->len);
  g_byte_array_append (out, self->tail->data, self->tail->len);

  return g_byte_array_free_to_bytes (out);
}

GBytes *
kiln_abi_encode_transfer (const KilnAddress *to,
                          const KilnUint256 *amount)
{
  g_autoptr(KilnAbiEncoder) encoder = kiln_abi_encoder_new ("transfer(address,uint256)");

  kiln_abi_encoder_add_address (encoder, to);
  kiln_abi_encoder_add_uint256 (encoder, amount);
  return kiln_abi_encoder_finish (encoder);
}

GBytes *
kiln_abi_encode_balance_of (const KilnAddress *owner)
{
  g_autoptr(KilnAbiEncoder) encoder = kiln_abi_encoder_new ("balanceOf(address)");

  kiln_abi_encoder_add_address (encoder, owner);
  return kiln_abi_encoder_finish (encoder);
}

GBytes *
kiln_abi_encode_approve (const KilnAddress *spender,
                         const KilnUint256 *amount)
{
  g_autoptr(KilnAbiEncoder) encoder = kiln_abi_encoder_new ("approve(address,uint256)");

  kiln_abi_encoder_add_address (encoder, spender);
  kiln_abi_encoder_add_uint256 (encoder, amount);
  return kiln_abi_encoder_finish (encoder);
}

GBytes *
kiln_abi_encode_allowance (const KilnAddress *owner,
                           const KilnAddress *spender)
{
  g_autoptr(KilnAbiEncoder) encoder = kiln_abi_encoder_new ("allowance(address,address)");

  kiln_abi_encoder_add_address (encoder, owner);
  kiln_abi_encoder_add_address (encoder, spender);
  return kiln_abi_encoder_finish (encoder);
}

GBytes *
kiln_abi_encode_transfer_from (const KilnAddress *from,
                               const KilnAddress *to,
                               const KilnUint256 *amount)
{
  g_autoptr(KilnAbiEncoder) encoder =
    kiln_abi_encoder_new ("transferFrom(address,address,uint256)");

  kiln_abi_encoder_add_address (encoder, from);
  kiln_abi_encoder_add_address (encoder, to);
  kiln_abi_encoder_add_uint256 (encoder, amount);
  return kiln_abi_encoder_finish (encoder);
}

GBytes *
kiln_abi_encode_pay_batch (const KilnAddress *token,
                           const KilnAddress *recipients,
                           const KilnUint256 *amounts,
                           gsize              n_payments,
                           const guint8       reference[32])
{
  g_autoptr(KilnAbiEncoder) encoder =
    kiln_abi_encoder_new ("payBatch(address,address[],uint256[],bytes32)");

  kiln_abi_encoder_add_address (encoder, token);
  kiln_abi_encoder_add_address_array (encoder, recipients, n_payments);
  kiln_abi_encoder_add_uint256_array (encoder, amounts, n_payments);
  kiln_abi_encoder_add_bytes32 (encoder, reference);
  return kiln_abi_encoder_finish (encoder);
}

/* Decoding */

static gboolean
check_word (const guint8  *data,
            gsize          len,
            GError       **error)
{
  if (data == NULL || len < WORD)
    {
      g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI,
                   _("The contract returned %zu bytes where a 32-byte value "
                     "was expected"),
                   data == NULL ? 0 : len);
      return FALSE;
    }

  return TRUE;
}

static gboolean
leading_zeros (const guint8 *word,
               gsize         count)
{
  for (gsize i = 0; i < count; i++)
    {
      if (word[i] != 0)
        return FALSE;
    }

  return TRUE;
}

gboolean
kiln_abi_decode_uint256 (const guint8  *data,
                         gsize          len,
                         KilnUint256   *out,
                         GError       **error)
{
  g_return_val_if_fail (out != NULL, FALSE);

  if (!check_word (data, len, error))
    return FALSE;

  kiln_uint256_from_be_bytes (out, data);
  return TRUE;
}

gboolean
kiln_abi_decode_bool (const guint8  *data,
                      gsize          len,
                      gboolean      *out,
                      GError       **error)
{
  g_return_val_if_fail (out != NULL, FALSE);

  if (!check_word (data, len, error))
    return FALSE;

  if (!leading_zeros (data, WORD - 1) || data[WORD - 1] > 1)
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI,
                           _("The contract returned a value that is not a valid bool"));
      return FALSE;
    }

  *out = data[WORD - 1] == 1;
  return TRUE;
}

gboolean
kiln_abi_decode_address (const guint8  *data,
                         gsize          len,
                         KilnAddress   *out,
                         GError       **error)
{
  g_return_val_if_fail (out != NULL, FALSE);

  if (!check_word (data, len, error))
    return FALSE;

  if (!leading_zeros (data, WORD - KILN_ADDRESS_SIZE))
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI,
                           _("The contract returned a value that is not a valid address"));
      return FALSE;
    }

  memcpy (out->bytes, data + WORD - KILN_ADDRESS_SIZE, KILN_ADDRESS_SIZE);
  return TRUE;
}

/* Reads the word at @offset of @data as a size; FALSE if it is out of range. */
static gboolean
read_size (const guint8 *data,
           gsize         len,
           gsize         offset,
           gsize        *out)
{
  guint64 value = 0;

  if (offset > len || len - offset < WORD || !leading_zeros (data + offset, WORD - 8))
    return FALSE;

  for (guint i = WORD - 8; i < WORD; i++)
    value = (value << 8) | data[offset + i];

  if (value > len)
    return FALSE;

  *out = (gsize) value;
  return TRUE;
}

static const char *
describe_panic (guint64 code)
{
  switch (code)
    {
    case 0x00: return _("a generic compiler panic");
    case 0x01: return _("an assertion failed");
    case 0x11: return _("an arithmetic overflow or underflow");
    case 0x12: return _("a division or modulo by zero");
    case 0x21: return _("a conversion to an invalid enum value");
    case 0x22: return _("an incorrectly encoded storage byte array");
    case 0x31: return _("a pop from an empty array");
    case 0x32: return _("an array index out of bounds");
    case 0x41: return _("too much memory allocated");
    case 0x51: return _("a call to an uninitialized function");
    default:   return _("an unknown panic code");
    }
}

char *
kiln_abi_decode_revert_reason (const guint8  *data,
                               gsize          len,
                               GError       **error)
{
  const guint8 *body;
  gsize body_len, offset, text_len;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len < KILN_ABI_SELECTOR_SIZE)
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI,
                           _("The contract reverted without giving a reason"));
      return NULL;
    }

  body = data + KILN_ABI_SELECTOR_SIZE;
  body_len = len - KILN_ABI_SELECTOR_SIZE;

  if (memcmp (data, panic_selector, KILN_ABI_SELECTOR_SIZE) == 0)
    {
      KilnUint256 code;
      guint64 small_code = G_MAXUINT64;
      g_autofree char *hex = NULL;

      if (!kiln_abi_decode_uint256 (body, body_len, &code, error))
        return NULL;

      hex = kiln_uint256_to_hex (&code);
      kiln_uint256_to_uint64 (&code, &small_code);
      return g_strdup_printf (_("The contract stopped on %s (panic code %s)"),
                              describe_panic (small_code), hex);
    }

  if (memcmp (data, error_selector, KILN_ABI_SELECTOR_SIZE) != 0)
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI,
                           _("The contract reverted with data Kiln cannot read"));
      return NULL;
    }

  if (!read_size (body, body_len, 0, &offset) ||
      !read_size (body, body_len, offset, &text_len) ||
      text_len > body_len - offset - WORD)
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI,
                           _("The contract reverted with a malformed error message"));
      return NULL;
    }

  return g_utf8_make_valid ((const char *) body + offset + WORD, (gssize) text_len);
}
