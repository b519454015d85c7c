/* kiln-transaction.c: Ethereum transactions: legacy EIP-155 and EIP-1559 (type 2)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-eth.h"
#include "kiln-keccak.h"
#include "kiln-rlp.h"
#include "kiln-transaction.h"
#include "kiln-transaction-private.h"

G_DEFINE_FINAL_TYPE (KilnTransaction, kiln_transaction, G_TYPE_OBJECT)

static const guint8 empty_list_rlp[] = { 0xc0 };

static void
kiln_transaction_finalize (GObject *object)
{
  KilnTransaction *self = (KilnTransaction *) object;

  g_clear_pointer (&self->data, g_bytes_unref);
  g_clear_pointer (&self->access_list, g_bytes_unref);

  G_OBJECT_CLASS (kiln_transaction_parent_class)->finalize (object);
}

static void
kiln_transaction_class_init (KilnTransactionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kiln_transaction_finalize;
}

static void
kiln_transaction_init (KilnTransaction *self)
{
  self->data = g_bytes_new (NULL, 0);
  self->access_list = g_bytes_new_static (empty_list_rlp, sizeof empty_list_rlp);
}

KilnTransaction *
kiln_transaction_new (KilnTransactionType type,
                      guint64             chain_id)
{
  KilnTransaction *self;

  g_return_val_if_fail (type == KILN_TRANSACTION_TYPE_LEGACY ||
                        type == KILN_TRANSACTION_TYPE_EIP1559, NULL);

  self = g_object_new (KILN_TYPE_TRANSACTION, NULL);
  self->type = type;
  self->chain_id = chain_id;

  return self;
}

static void
drop_signature (KilnTransaction *self)
{
  self->is_signed = FALSE;
  memset (self->r, 0, sizeof self->r);
  memset (self->s, 0, sizeof self->s);
  self->y_parity = 0;
  memset (&self->sender, 0, sizeof self->sender);
}

KilnTransactionType
kiln_transaction_get_tx_type (KilnTransaction *self)
{
  g_return_val_if_fail (KILN_IS_TRANSACTION (self), KILN_TRANSACTION_TYPE_LEGACY);

  return self->type;
}

guint64
kiln_transaction_get_chain_id (KilnTransaction *self)
{
  g_return_val_if_fail (KILN_IS_TRANSACTION (self), 0);

  return self->chain_id;
}

void
kiln_transaction_set_chain_id (KilnTransaction *self,
                               guint64          chain_id)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));

  self->chain_id = chain_id;
  drop_signature (self);
}

guint64
kiln_transaction_get_nonce (KilnTransaction *self)
{
  g_return_val_if_fail (KILN_IS_TRANSACTION (self), 0);

  return self->nonce;
}

void
kiln_transaction_set_nonce (KilnTransaction *self,
                            guint64          nonce)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));

  self->nonce = nonce;
  drop_signature (self);
}

guint64
kiln_transaction_get_gas_limit (KilnTransaction *self)
{
  g_return_val_if_fail (KILN_IS_TRANSACTION (self), 0);

  return self->gas_limit;
}

void
kiln_transaction_set_gas_limit (KilnTransaction *self,
                                guint64          gas_limit)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));

  self->gas_limit = gas_limit;
  drop_signature (self);
}

void
kiln_transaction_get_gas_price (KilnTransaction *self,
                                KilnUint256     *out)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (out != NULL);

  *out = self->gas_price;
}

void
kiln_transaction_set_gas_price (KilnTransaction   *self,
                                const KilnUint256 *gas_price)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (self->type == KILN_TRANSACTION_TYPE_LEGACY);
  g_return_if_fail (gas_price != NULL);

  self->gas_price = *gas_price;
  drop_signature (self);
}

void
kiln_transaction_get_max_fee_per_gas (KilnTransaction *self,
                                      KilnUint256     *out)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (out != NULL);

  *out = self->max_fee_per_gas;
}

void
kiln_transaction_set_max_fee_per_gas (KilnTransaction   *self,
                                      const KilnUint256 *fee)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (self->type == KILN_TRANSACTION_TYPE_EIP1559);
  g_return_if_fail (fee != NULL);

  self->max_fee_per_gas = *fee;
  drop_signature (self);
}

void
kiln_transaction_get_max_priority_fee_per_gas (KilnTransaction *self,
                                               KilnUint256     *out)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (out != NULL);

  *out = self->max_priority_fee_per_gas;
}

void
kiln_transaction_set_max_priority_fee_per_gas (KilnTransaction   *self,
                                               const KilnUint256 *fee)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (self->type == KILN_TRANSACTION_TYPE_EIP1559);
  g_return_if_fail (fee != NULL);

  self->max_priority_fee_per_gas = *fee;
  drop_signature (self);
}

const KilnAddress *
kiln_transaction_get_to (KilnTransaction *self)
{
  g_return_val_if_fail (KILN_IS_TRANSACTION (self), NULL);

  return self->has_to ? &self->to : NULL;
}

void
kiln_transaction_set_to (KilnTransaction   *self,
                         const KilnAddress *to)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));

  self->has_to = to != NULL;
  if (to != NULL)
    self->to = *to;
  else
    memset (&self->to, 0, sizeof self->to);
  drop_signature (self);
}

void
kiln_transaction_get_value (KilnTransaction *self,
                            KilnUint256     *out)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (out != NULL);

  *out = self->value;
}

void
kiln_transaction_set_value (KilnTransaction   *self,
                            const KilnUint256 *value)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (value != NULL);

  self->value = *value;
  drop_signature (self);
}

GBytes *
kiln_transaction_get_data (KilnTransaction *self)
{
  g_return_val_if_fail (KILN_IS_TRANSACTION (self), NULL);

  return self->data;
}

void
kiln_transaction_set_data (KilnTransaction *self,
                           GBytes          *data)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));

  g_clear_pointer (&self->data, g_bytes_unref);
  self->data = data != NULL ? g_bytes_ref (data) : g_bytes_new (NULL, 0);
  drop_signature (self);
}

GBytes *
kiln_transaction_get_access_list (KilnTransaction *self)
{
  g_return_val_if_fail (KILN_IS_TRANSACTION (self), NULL);

  return self->access_list;
}

/* Encoding */

static void
append_gbytes (GByteArray *out,
               GBytes     *bytes)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  kiln_rlp_append_bytes (out, data, len);
}

/* Appends the unsigned fields shared by the signing payload and the signed form. */
static void
append_fields (KilnTransaction *self,
               GByteArray      *out)
{
  if (self->type == KILN_TRANSACTION_TYPE_EIP1559)
    {
      kiln_rlp_append_uint64 (out, self->chain_id);
      kiln_rlp_append_uint64 (out, self->nonce);
      kiln_rlp_append_uint256 (out, &self->max_priority_fee_per_gas);
      kiln_rlp_append_uint256 (out, &self->max_fee_per_gas);
    }
  else
    {
      kiln_rlp_append_uint64 (out, self->nonce);
      kiln_rlp_append_uint256 (out, &self->gas_price);
    }

  kiln_rlp_append_uint64 (out, self->gas_limit);
  kiln_rlp_append_bytes (out, self->to.bytes, self->has_to ? KILN_ADDRESS_SIZE : 0);
  kiln_rlp_append_uint256 (out, &self->value);
  append_gbytes (out, self->data);

  if (self->type == KILN_TRANSACTION_TYPE_EIP1559)
    {
      gsize len = 0;
      const guint8 *list = g_bytes_get_data (self->access_list, &len);

      g_byte_array_append (out, list, (guint) len);
    }
}

static void
append_signature_value (GByteArray   *out,
                        const guint8  bytes[32])
{
  KilnUint256 value;

  kiln_uint256_from_be_bytes (&value, bytes);
  kiln_rlp_append_uint256 (out, &value);
}

/* Wraps @fields in an RLP list, behind the type byte for typed transactions. */
static GBytes *
finish_envelope (KilnTransaction *self,
                 GByteArray      *fields)
{
  g_autoptr(GByteArray) out = g_byte_array_sized_new (fields->len + 10);

  if (self->type != KILN_TRANSACTION_TYPE_LEGACY)
    {
      guint8 type_byte = (guint8) self->type;
      g_byte_array_append (out, &type_byte, 1);
    }

  kiln_rlp_append_list (out, fields->data, fields->len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
kiln_transaction_encode_for_signing (KilnTransaction *self)
{
  g_autoptr(GByteArray) fields = g_byte_array_new ();

  g_return_val_if_fail (KILN_IS_TRANSACTION (self), NULL);

  append_fields (self, fields);

  /* EIP-155: chain id, 0, 0 in place of v, r, s. Without a chain id, the six original
   * fields (only found in decoded pre-EIP-155 transactions). */
  if (self->type == KILN_TRANSACTION_TYPE_LEGACY && self->chain_id != 0)
    {
      kiln_rlp_append_uint64 (fields, self->chain_id);
      kiln_rlp_append_uint64 (fields, 0);
      kiln_rlp_append_uint64 (fields, 0);
    }

  return finish_envelope (self, fields);
}

void
kiln_transaction_get_signing_hash (KilnTransaction *self,
                                   guint8           out[32])
{
  g_autoptr(GBytes) payload = NULL;
  gsize len = 0;
  const guint8 *data;

  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (out != NULL);

  payload = kiln_transaction_encode_for_signing (self);
  data = g_bytes_get_data (payload, &len);
  kiln_keccak256 (data, len, out);
}

GBytes *
kiln_transaction_encode_signed (KilnTransaction *self)
{
  g_autoptr(GByteArray) fields = g_byte_array_new ();

  g_return_val_if_fail (KILN_IS_TRANSACTION (self), NULL);
  g_return_val_if_fail (self->is_signed, NULL);

  append_fields (self, fields);

  if (self->type == KILN_TRANSACTION_TYPE_LEGACY)
    {
      guint64 v = self->chain_id != 0
                    ? self->chain_id * 2 + EIP155_V_OFFSET + self->y_parity
                    : PRE_EIP155_V + self->y_parity;
      kiln_rlp_append_uint64 (fields, v);
    }
  else
    {
      kiln_rlp_append_uint64 (fields, self->y_parity);
    }

  append_signature_value (fields, self->r);
  append_signature_value (fields, self->s);

  return finish_envelope (self, fields);
}

void
kiln_transaction_get_hash (KilnTransaction *self,
                           guint8           out[32])
{
  g_autoptr(GBytes) raw = NULL;
  gsize len = 0;
  const guint8 *data;

  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (self->is_signed);
  g_return_if_fail (out != NULL);

  raw = kiln_transaction_encode_signed (self);
  data = g_bytes_get_data (raw, &len);
  kiln_keccak256 (data, len, out);
}

gboolean
kiln_transaction_sign (KilnTransaction  *self,
                       KilnKey          *key,
                       GError          **error)
{
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];

  g_return_val_if_fail (KILN_IS_TRANSACTION (self), FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->type == KILN_TRANSACTION_TYPE_LEGACY && self->chain_id == 0)
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_TRANSACTION,
                           _("Cannot sign a transaction without a chain id: it could be "
                             "replayed on any chain"));
      return FALSE;
    }

  if (self->type == KILN_TRANSACTION_TYPE_LEGACY && self->chain_id > MAX_LEGACY_CHAIN_ID)
    {
      g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_UNSUPPORTED,
                   _("Chain id %" PRIu64 " is too large for a legacy transaction"),
                   self->chain_id);
      return FALSE;
    }

  drop_signature (self);
  kiln_transaction_get_signing_hash (self, digest);
  if (!kiln_key_sign_digest (key, digest, signature, error))
    return FALSE;

  /* Ethereum carries only the parity of R's y coordinate; ids 2 and 3 (R's x above the group
   * order) have a chance of about 2^-127 and cannot be expressed. */
  if (signature[KILN_SIGNATURE_SIZE - 1] > 1)
    {
      g_set_error_literal (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_TRANSACTION,
                           _("The signature cannot be expressed in a transaction; change the "
                             "nonce or any field and sign again"));
      return FALSE;
    }

  memcpy (self->r, signature, 32);
  memcpy (self->s, signature + 32, 32);
  self->y_parity = signature[KILN_SIGNATURE_SIZE - 1];
  self->sender = *kiln_key_get_address (key);
  self->is_signed = TRUE;

  return TRUE;
}

gboolean
kiln_transaction_is_signed (KilnTransaction *self)
{
  g_return_val_if_fail (KILN_IS_TRANSACTION (self), FALSE);

  return self->is_signed;
}

void
kiln_transaction_get_signature (KilnTransaction *self,
                                guint8          *out)
{
  g_return_if_fail (KILN_IS_TRANSACTION (self));
  g_return_if_fail (self->is_signed);
  g_return_if_fail (out != NULL);

  memcpy (out, self->r, 32);
  memcpy (out + 32, self->s, 32);
  out[KILN_SIGNATURE_SIZE - 1] = self->y_parity;
}

const KilnAddress *
kiln_transaction_get_sender (KilnTransaction *self)
{
  g_return_val_if_fail (KILN_IS_TRANSACTION (self), NULL);
  g_return_val_if_fail (self->is_signed, NULL);

  return &self->sender;
}
