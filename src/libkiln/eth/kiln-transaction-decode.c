/* kiln-transaction-decode.c: reading raw signed transactions and recovering their sender
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-eth.h"
#include "kiln-rlp.h"
#include "kiln-transaction.h"
#include "kiln-transaction-private.h"

static void set_invalid (GError     **error,
                         const char  *format,
                         ...) G_GNUC_PRINTF (2, 3);

static void
set_invalid (GError     **error,
             const char  *format,
             ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_TRANSACTION,
               _("Invalid transaction: %s"), reason);
}

static gboolean
field_uint64 (const KilnRlpItem  *list,
              guint               index,
              const char         *name,
              guint64            *out,
              GError            **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!kiln_rlp_item_get_uint64 (kiln_rlp_item_get_child (list, index), out, &local_error))
    {
      set_invalid (error, _("its %s field: %s"), name, local_error->message);
      return FALSE;
    }

  return TRUE;
}

static gboolean
field_uint256 (const KilnRlpItem  *list,
               guint               index,
               const char         *name,
               KilnUint256        *out,
               GError            **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!kiln_rlp_item_get_uint256 (kiln_rlp_item_get_child (list, index), out, &local_error))
    {
      set_invalid (error, _("its %s field: %s"), name, local_error->message);
      return FALSE;
    }

  return TRUE;
}

static const KilnRlpItem *
field_bytes (const KilnRlpItem  *list,
             guint               index,
             const char         *name,
             GError            **error)
{
  const KilnRlpItem *item = kiln_rlp_item_get_child (list, index);

  if (kiln_rlp_item_is_list (item))
    {
      set_invalid (error, _("its %s field is a list"), name);
      return NULL;
    }

  return item;
}

/* An access list is [[address, [storage key, ...]], ...]. */
static gboolean
check_access_list (const KilnRlpItem  *item,
                   GError            **error)
{
  if (!kiln_rlp_item_is_list (item))
    {
      set_invalid (error, _("its access list is not a list"));
      return FALSE;
    }

  for (guint i = 0; i < kiln_rlp_item_get_n_children (item); i++)
    {
      const KilnRlpItem *entry = kiln_rlp_item_get_child (item, i);
      const KilnRlpItem *address, *keys;

      if (!kiln_rlp_item_is_list (entry) || kiln_rlp_item_get_n_children (entry) != 2)
        {
          set_invalid (error, _("access list entry %u is not an address and its keys"), i);
          return FALSE;
        }

      address = kiln_rlp_item_get_child (entry, 0);
      keys = kiln_rlp_item_get_child (entry, 1);
      if (kiln_rlp_item_is_list (address) || address->len != KILN_ADDRESS_SIZE ||
          !kiln_rlp_item_is_list (keys))
        {
          set_invalid (error, _("access list entry %u is not an address and its keys"), i);
          return FALSE;
        }

      for (guint k = 0; k < kiln_rlp_item_get_n_children (keys); k++)
        {
          const KilnRlpItem *key = kiln_rlp_item_get_child (keys, k);

          if (kiln_rlp_item_is_list (key) || key->len != 32)
            {
              set_invalid (error, _("access list entry %u has a storage key that is not "
                                    "32 bytes"), i);
              return FALSE;
            }
        }
    }

  return TRUE;
}

/* Reads the fields from nonce (or chain id) to data, and the access list. */
static gboolean
decode_fields (KilnTransaction    *self,
               const KilnRlpItem  *list,
               guint              *next,
               GError            **error)
{
  const KilnRlpItem *to, *data;
  guint i = 0;

  if (self->type == KILN_TRANSACTION_TYPE_EIP1559)
    {
      if (!field_uint64 (list, i++, "chainId", &self->chain_id, error) ||
          !field_uint64 (list, i++, "nonce", &self->nonce, error) ||
          !field_uint256 (list, i++, "maxPriorityFeePerGas", &self->max_priority_fee_per_gas,
                          error) ||
          !field_uint256 (list, i++, "maxFeePerGas", &self->max_fee_per_gas, error))
        return FALSE;
    }
  else
    {
      if (!field_uint64 (list, i++, "nonce", &self->nonce, error) ||
          !field_uint256 (list, i++, "gasPrice", &self->gas_price, error))
        return FALSE;
    }

  if (!field_uint64 (list, i++, "gas", &self->gas_limit, error))
    return FALSE;

  to = field_bytes (list, i++, "to", error);
  if (to == NULL)
    return FALSE;
  if (to->len != 0 && to->len != KILN_ADDRESS_SIZE)
    {
      set_invalid (error, _("its recipient is %zu bytes long instead of 20"),
                   to->len);
      return FALSE;
    }
  self->has_to = to->len == KILN_ADDRESS_SIZE;
  if (self->has_to)
    memcpy (self->to.bytes, to->data, KILN_ADDRESS_SIZE);

  if (!field_uint256 (list, i++, "value", &self->value, error))
    return FALSE;

  data = field_bytes (list, i++, "data", error);
  if (data == NULL)
    return FALSE;
  g_clear_pointer (&self->data, g_bytes_unref);
  self->data = g_bytes_new (data->data, data->len);

  if (self->type == KILN_TRANSACTION_TYPE_EIP1559)
    {
      const KilnRlpItem *access_list = kiln_rlp_item_get_child (list, i++);

      if (!check_access_list (access_list, error))
        return FALSE;
      g_clear_pointer (&self->access_list, g_bytes_unref);
      self->access_list = g_bytes_new (access_list->encoded, access_list->encoded_len);
    }

  *next = i;
  return TRUE;
}

static gboolean
decode_legacy_v (KilnTransaction    *self,
                 const KilnRlpItem  *list,
                 guint               index,
                 GError            **error)
{
  guint64 v;

  if (!field_uint64 (list, index, "v", &v, error))
    return FALSE;

  if (v == PRE_EIP155_V || v == PRE_EIP155_V + 1)
    {
      self->chain_id = 0;
      self->y_parity = (guint8) (v - PRE_EIP155_V);
    }
  else if (v >= EIP155_V_OFFSET)
    {
      self->chain_id = (v - EIP155_V_OFFSET) / 2;
      self->y_parity = (guint8) ((v - EIP155_V_OFFSET) % 2);
    }
  else
    {
      set_invalid (error, _("its signature’s v value %" PRIu64 " is not valid"), v);
      return FALSE;
    }

  return TRUE;
}

static gboolean
decode_signature (KilnTransaction    *self,
                  const KilnRlpItem  *list,
                  guint               index,
                  GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  KilnUint256 r, s;
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];

  if (self->type == KILN_TRANSACTION_TYPE_LEGACY)
    {
      if (!decode_legacy_v (self, list, index, error))
        return FALSE;
    }
  else
    {
      guint64 parity;

      if (!field_uint64 (list, index, "yParity", &parity, error))
        return FALSE;
      if (parity > 1)
        {
          set_invalid (error, _("its signature’s y parity is %" PRIu64 " instead of 0 or 1"), parity);
          return FALSE;
        }
      self->y_parity = (guint8) parity;
    }

  if (!field_uint256 (list, index + 1, "r", &r, error) ||
      !field_uint256 (list, index + 2, "s", &s, error))
    return FALSE;

  kiln_uint256_to_be_bytes (&r, self->r);
  kiln_uint256_to_be_bytes (&s, self->s);

  kiln_transaction_get_signing_hash (self, digest);
  memcpy (signature, self->r, 32);
  memcpy (signature + 32, self->s, 32);
  signature[KILN_SIGNATURE_SIZE - 1] = self->y_parity;

  if (kiln_uint256_is_zero (&r) || kiln_uint256_is_zero (&s) ||
      !kiln_recover_address (digest, signature, &self->sender, &local_error))
    {
      set_invalid (error, _("its signature is not valid: %s"),
                   local_error != NULL ? local_error->message : _("r or s is zero"));
      return FALSE;
    }

  self->is_signed = TRUE;
  return TRUE;
}

KilnTransaction *
kiln_transaction_decode (const guint8  *raw,
                         gsize          len,
                         GError       **error)
{
  g_autoptr(KilnTransaction) self = NULL;
  g_autoptr(KilnRlpItem) list = NULL;
  g_autoptr(GBytes) reencoded = NULL;
  g_autoptr(GError) local_error = NULL;
  const guint8 *payload = raw;
  gsize payload_len = len;
  guint n_fields = LEGACY_N_FIELDS;
  guint next = 0;

  g_return_val_if_fail (raw != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len == 0)
    {
      set_invalid (error, _("it is empty"));
      return NULL;
    }

  if (len > KILN_TRANSACTION_MAX_SIZE)
    {
      set_invalid (error, _("it is %zu bytes long, more than the %d allowed"),
                   len, KILN_TRANSACTION_MAX_SIZE);
      return NULL;
    }

  self = g_object_new (KILN_TYPE_TRANSACTION, NULL);

  if (raw[0] == KILN_TRANSACTION_TYPE_EIP1559)
    {
      self->type = KILN_TRANSACTION_TYPE_EIP1559;
      n_fields = EIP1559_N_FIELDS;
      payload = raw + 1;
      payload_len = len - 1;
    }
  else if (raw[0] <= 0x7f)
    {
      g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_UNSUPPORTED,
                   _("Transactions of type %u are not supported; Kiln handles legacy and "
                     "type 2 (EIP-1559) transactions"), raw[0]);
      return NULL;
    }
  else if (raw[0] < 0xc0)
    {
      set_invalid (error, _("it is a byte string, not a list of fields"));
      return NULL;
    }

  list = kiln_rlp_decode (payload, payload_len, &local_error);
  if (list == NULL)
    {
      set_invalid (error, "%s", local_error->message);
      return NULL;
    }

  if (!kiln_rlp_item_is_list (list))
    {
      set_invalid (error, _("it is a byte string, not a list of fields"));
      return NULL;
    }

  if (kiln_rlp_item_get_n_children (list) != n_fields)
    {
      set_invalid (error, _("it has %u fields instead of %u"),
                   kiln_rlp_item_get_n_children (list), n_fields);
      return NULL;
    }

  if (!decode_fields (self, list, &next, error) ||
      !decode_signature (self, list, next, error))
    return NULL;

  /* Every field was read canonically, so encoding it again must give back the input. */
  reencoded = kiln_transaction_encode_signed (self);
  if (g_bytes_get_size (reencoded) != len ||
      memcmp (g_bytes_get_data (reencoded, NULL), raw, len) != 0)
    {
      set_invalid (error, _("it is not in canonical form"));
      return NULL;
    }

  return g_steal_pointer (&self);
}
