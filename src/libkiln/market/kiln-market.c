/* kiln-market.c: the market's digests, amounts and the envelope of its signed messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-keccak.h"
#include "kiln-market-private.h"

G_DEFINE_QUARK (kiln-market-error-quark, kiln_market_error)

/* EIP-191's leading byte, as in the link proof and discovery records: market signatures can
 * never be mistaken for an Ethereum transaction. */
#define MARKET_PREFIX 0x19

void
kiln_market_digest (const char   *context,
                    const guint8 *data,
                    gsize         len,
                    guint8        digest[KILN_MARKET_DIGEST_SIZE])
{
  KilnKeccak256 ctx;
  const guint8 prefix = MARKET_PREFIX;

  g_return_if_fail (context != NULL);
  g_return_if_fail (data != NULL || len == 0);

  kiln_keccak256_init (&ctx);
  kiln_keccak256_update (&ctx, &prefix, 1);
  kiln_keccak256_update (&ctx, (const guint8 *) context, strlen (context));
  kiln_keccak256_update (&ctx, data, len);
  kiln_keccak256_digest (&ctx, digest);
}

/* Amounts */

static void
set_overflow (GError **error)
{
  g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_OVERFLOW,
                       _("The amount is too large to be paid: it does not fit in 256 bits"));
}

gboolean
kiln_market_compute_payment (const KilnUint256  *price,
                             guint               cores,
                             guint64             seconds,
                             KilnUint256        *out,
                             GError            **error)
{
  KilnUint256 product;
  KilnUint256 hour = KILN_UINT256_INIT (KILN_MARKET_SECONDS_PER_HOUR);
  KilnUint256 quotient;
  KilnUint256 remainder;

  g_return_val_if_fail (price != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!kiln_uint256_mul_uint64 (&product, price, cores) ||
      !kiln_uint256_mul_uint64 (&product, &product, seconds))
    {
      set_overflow (error);
      return FALSE;
    }

  if (!kiln_uint256_divmod (&quotient, &remainder, &product, &hour))
    g_assert_not_reached ();

  /* Rounded up: the quotient is below 2^256 / 3600, so adding one cannot overflow. */
  if (!kiln_uint256_is_zero (&remainder) && !kiln_uint256_add_uint64 (&quotient, &quotient, 1))
    g_assert_not_reached ();

  *out = quotient;
  return TRUE;
}

gboolean
kiln_market_estimate_max_cost (guint               frames,
                               guint               subtasks,
                               guint               timeout_seconds,
                               const KilnUint256  *max_price,
                               guint               cores,
                               KilnUint256        *out,
                               GError            **error)
{
  KilnUint256 per_subtask;
  KilnUint256 total;

  g_return_val_if_fail (max_price != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (frames == 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED,
                                 _("The job has no frames to render")), FALSE);
  if (cores == 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED,
                                 _("Each subtask needs at least one CPU core")), FALSE);
  if (timeout_seconds == 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED,
                                 _("The time allowed for each subtask must be at least one "
                                   "second")), FALSE);

  if (subtasks == 0)
    subtasks = frames;

  if (!kiln_market_compute_payment (max_price, cores, timeout_seconds, &per_subtask, error))
    return FALSE;
  if (!kiln_uint256_mul_uint64 (&total, &per_subtask, subtasks))
    {
      set_overflow (error);
      return FALSE;
    }

  *out = total;
  return TRUE;
}

gboolean
kiln_market_amount_in_range (const KilnUint256 *amount)
{
  return kiln_uint256_bit_length (amount) <= KILN_MARKET_AMOUNT_BITS;
}

/* Reading */

gboolean
kiln_market_set_malformed (GError     **error,
                           const char  *what,
                           const char  *format,
                           ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED,
               /* Translators: the first %s is a kind of market message ("offer"), the
                * second what is wrong with it. */
               _("Not a valid %s: %s"), what, reason);
  return FALSE;
}

KilnRlpItem *
kiln_market_decode_envelope (GBytes       *bytes,
                             gsize         max_size,
                             const char   *what,
                             guint         n_fields,
                             guint         min_signatures,
                             guint         max_signatures,
                             GError      **error)
{
  g_autoptr(KilnRlpItem) item = NULL;
  g_autoptr(GError) local_error = NULL;
  const KilnRlpItem *body;
  const KilnRlpItem *version_item;
  guint64 version;
  const guint8 *data;
  guint n_children;
  gsize len;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (min_signatures >= 1 && min_signatures <= max_signatures, NULL);

  data = g_bytes_get_data (bytes, &len);
  if (len > max_size)
    return (g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_TOO_LARGE,
                         /* Translators: %s is a kind of market message ("offer") */
                         _("The %s is %zu bytes long, more than the limit of %zu bytes"),
                         what, len, max_size), NULL);

  item = kiln_rlp_decode (data, len, &local_error);
  if (item == NULL)
    return (kiln_market_set_malformed (error, what, "%s", local_error->message), NULL);

  n_children = kiln_rlp_item_get_n_children (item);
  if (!kiln_rlp_item_is_list (item) || n_children < 1 + min_signatures ||
      n_children > 1 + max_signatures)
    return (kiln_market_set_malformed (error, what,
                                       _("not a body followed by its signatures")), NULL);

  body = kiln_rlp_item_get_child (item, 0);
  if (!kiln_rlp_item_is_list (body) || kiln_rlp_item_get_n_children (body) < 1)
    return (kiln_market_set_malformed (error, what, _("the body is not a list")), NULL);

  version_item = kiln_rlp_item_get_child (body, 0);
  if (!kiln_rlp_item_get_uint64 (version_item, &version, NULL))
    return (kiln_market_set_malformed (error, what, _("the version is not a number")), NULL);
  if (version != KILN_MARKET_VERSION)
    return (g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_VERSION,
                         /* Translators: %s is a kind of market message ("offer") */
                         _("The %s has version %" PRIu64 ", which this version of "
                           "Kiln does not read (it reads version %u). Update Kiln to trade "
                           "with this node."), what, version, KILN_MARKET_VERSION), NULL);

  if (kiln_rlp_item_get_n_children (body) != n_fields)
    return (kiln_market_set_malformed (error, what, _("the body has %u fields instead of %u"),
                                       kiln_rlp_item_get_n_children (body), n_fields), NULL);

  for (guint i = 1; i < n_children; i++)
    {
      const KilnRlpItem *signature = kiln_rlp_item_get_child (item, i);

      if (kiln_rlp_item_is_list (signature) || signature->len != KILN_SIGNATURE_SIZE ||
          signature->data[KILN_SIGNATURE_SIZE - 1] > 1)
        return (kiln_market_set_malformed (error, what,
                                           _("signature %u is not 65 bytes ending in 0 or 1"),
                                           i), NULL);
    }

  return g_steal_pointer (&item);
}

gboolean
kiln_market_read_uint (const KilnRlpItem  *body,
                       guint               index,
                       const char         *what,
                       const char         *field,
                       guint64             min,
                       guint64             max,
                       guint64            *out,
                       GError            **error)
{
  const KilnRlpItem *item = kiln_rlp_item_get_child (body, index);
  guint64 value;

  if (item == NULL || !kiln_rlp_item_get_uint64 (item, &value, NULL))
    /* Translators: %s is the name of a field ("cores") */
    return kiln_market_set_malformed (error, what, _("its %s is not a number"), field);
  if (value < min || value > max)
    return kiln_market_set_malformed (error, what,
                                      /* Translators: %s is the name of a field ("cores") */
                                      _("its %s, %" PRIu64 ", is not between %" PRIu64
                                        " and %" PRIu64),
                                      field, value, min, max);

  *out = value;
  return TRUE;
}

gboolean
kiln_market_read_amount (const KilnRlpItem  *body,
                         guint               index,
                         const char         *what,
                         const char         *field,
                         KilnUint256        *out,
                         GError            **error)
{
  const KilnRlpItem *item = kiln_rlp_item_get_child (body, index);
  KilnUint256 value;

  if (item == NULL || !kiln_rlp_item_get_uint256 (item, &value, NULL))
    return kiln_market_set_malformed (error, what, _("its %s is not an amount"), field);
  if (!kiln_market_amount_in_range (&value))
    return kiln_market_set_malformed (error, what, _("its %s is larger than 2^%u base units"),
                                      field, KILN_MARKET_AMOUNT_BITS);

  *out = value;
  return TRUE;
}

gboolean
kiln_market_read_fixed (const KilnRlpItem  *item,
                        const char         *what,
                        const char         *field,
                        guint8             *out,
                        gsize               len,
                        GError            **error)
{
  if (item == NULL || kiln_rlp_item_is_list (item) || item->len != len)
    return kiln_market_set_malformed (error, what, _("its %s is not %zu bytes"),
                                      field, len);

  memcpy (out, item->data, len);
  return TRUE;
}

gboolean
kiln_market_read_address (const KilnRlpItem  *body,
                          guint               index,
                          const char         *what,
                          const char         *field,
                          KilnAddress        *out,
                          GError            **error)
{
  return kiln_market_read_fixed (kiln_rlp_item_get_child (body, index), what, field,
                                 out->bytes, KILN_ADDRESS_SIZE, error);
}

gboolean
kiln_market_check_times (gint64       created,
                         gint64       expires,
                         gint64       max_lifetime,
                         gint64       now,
                         const char  *what,
                         GError     **error)
{
  if (created < 0 || expires < 0 || created > KILN_MARKET_MAX_TIME ||
      expires > KILN_MARKET_MAX_TIME)
    return kiln_market_set_malformed (error, what, _("its times are out of range"));
  if (expires <= created || expires - created > max_lifetime)
    return kiln_market_set_malformed (error, what,
                                      _("it must expire between one second and %" PRId64
                                        " seconds after it was made"),
                                      max_lifetime);

  if (now < 0)
    return TRUE;

  if (expires <= now)
    return (g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_EXPIRED,
                         /* Translators: %s is a kind of market message ("offer") */
                         _("The %s has expired"), what), FALSE);
  if (created > now + KILN_MARKET_MAX_SKEW)
    return (g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_FUTURE,
                         /* Translators: %s is a kind of market message ("offer") */
                         _("The %s is dated in the future; check the clocks of both "
                           "computers"), what), FALSE);
  return TRUE;
}

gboolean
kiln_market_check_signature (const guint8        digest[KILN_MARKET_DIGEST_SIZE],
                             const guint8        signature[KILN_SIGNATURE_SIZE],
                             const KilnAddress  *signer,
                             const char         *who,
                             GError            **error)
{
  KilnAddress recovered;

  if (!kiln_recover_address (digest, signature, &recovered, NULL) ||
      !kiln_address_equal (&recovered, signer))
    {
      char address[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (signer, address);
      g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_BAD_SIGNATURE,
                   /* Translators: the first %s says whose signature it is ("the
                    * provider's"), the second is an address */
                   _("The signature of %s was not made by %s: the message was altered or "
                     "forged"), who, address);
      return FALSE;
    }

  return TRUE;
}

GBytes *
kiln_market_seal (GBytes       *body,
                  const guint8 *signatures,
                  guint         n_signatures)
{
  g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();
  const guint8 *data;
  gsize len;

  data = g_bytes_get_data (body, &len);
  kiln_rlp_encoder_begin_list (encoder);
  kiln_rlp_encoder_append_raw (encoder, data, len);
  for (guint i = 0; i < n_signatures; i++)
    kiln_rlp_encoder_append_bytes (encoder, signatures + i * KILN_SIGNATURE_SIZE,
                                   KILN_SIGNATURE_SIZE);
  kiln_rlp_encoder_end_list (encoder);

  return kiln_rlp_encoder_steal_bytes (encoder);
}
