/* kiln-test-market.c: market messages for tests, and ways to alter them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kiln-test-market.h"

KilnKey *
kiln_test_market_key (void)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_generate (&error);

  g_assert_no_error (error);
  return key;
}

KilnUint256
kiln_test_u256 (guint64 value)
{
  KilnUint256 out;

  kiln_uint256_from_uint64 (&out, value);
  return out;
}

KilnTaskAnnouncement *
kiln_test_market_announcement (KilnKey *requestor)
{
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_task_announcement_new ();
  g_autoptr(GError) error = NULL;
  KilnUint256 max_price = kiln_test_u256 (2 * KILN_TEST_GNT);
  KilnUint256 max_total = kiln_test_u256 (KILN_TEST_GNT);
  KilnAddress token;
  guint8 blend[32];
  guint8 texture[32];

  g_assert_true (kiln_uint256_mul_uint64 (&max_total, &max_total, 100));
  memset (token.bytes, 0x70, sizeof token.bytes);
  memset (blend, 0xb1, sizeof blend);
  memset (texture, 0x7e, sizeof texture);

  kiln_task_announcement_set_payment (announcement, KILN_TEST_MARKET_CHAIN_ID, &token);
  kiln_task_announcement_set_times (announcement, KILN_TEST_MARKET_NOW,
                                    KILN_TEST_MARKET_NOW + 3600, KILN_TEST_MARKET_NOW + 86400);
  kiln_task_announcement_set_blender_version (announcement, 3, 4);
  kiln_task_announcement_set_engine (announcement, "CYCLES");
  kiln_task_announcement_set_hardware (announcement, 4, 2048, 512);
  kiln_task_announcement_set_subtasks (announcement, 10, 600);
  kiln_task_announcement_set_max_price (announcement, &max_price);
  kiln_task_announcement_set_max_total (announcement, &max_total);
  kiln_task_announcement_add_resource (announcement, blend);
  kiln_task_announcement_add_resource (announcement, texture);

  g_assert_true (kiln_task_announcement_sign (announcement, requestor, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&announcement);
}

KilnOffer *
kiln_test_market_offer (KilnTaskAnnouncement *announcement,
                        KilnKey              *provider,
                        const KilnUint256    *price,
                        guint                 cores,
                        guint32               benchmark,
                        guint                 max_concurrent)
{
  g_autoptr(KilnOffer) offer = kiln_offer_new (announcement);
  g_autoptr(GError) error = NULL;

  kiln_offer_set_price (offer, price);
  kiln_offer_set_cores (offer, cores);
  kiln_offer_set_benchmark (offer, benchmark);
  kiln_offer_set_max_concurrent (offer, max_concurrent);
  kiln_offer_set_times (offer, KILN_TEST_MARKET_NOW, KILN_TEST_MARKET_NOW + 3600);

  g_assert_true (kiln_offer_sign (offer, provider, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&offer);
}

static KilnRlpItem *
decode (GBytes *message)
{
  g_autoptr(GError) error = NULL;
  KilnRlpItem *item;

  item = kiln_rlp_decode (g_bytes_get_data (message, NULL), g_bytes_get_size (message), &error);
  g_assert_no_error (error);
  g_assert_true (kiln_rlp_item_is_list (item));
  g_assert_cmpuint (kiln_rlp_item_get_n_children (item), >=, 2);
  return item;
}

guint
kiln_test_market_n_fields (GBytes *message)
{
  g_autoptr(KilnRlpItem) item = decode (message);

  return kiln_rlp_item_get_n_children (kiln_rlp_item_get_child (item, 0));
}

GBytes *
kiln_test_market_body (GBytes *message)
{
  g_autoptr(KilnRlpItem) item = decode (message);
  const KilnRlpItem *body = kiln_rlp_item_get_child (item, 0);

  return g_bytes_new (body->encoded, body->encoded_len);
}

/* [@body, the signatures of @item]. */
static GBytes *
rebuild (const KilnRlpItem *item,
         const guint8      *body,
         gsize              body_len)
{
  g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();

  kiln_rlp_encoder_begin_list (encoder);
  kiln_rlp_encoder_append_raw (encoder, body, body_len);
  for (guint i = 1; i < kiln_rlp_item_get_n_children (item); i++)
    {
      const KilnRlpItem *child = kiln_rlp_item_get_child (item, i);

      kiln_rlp_encoder_append_raw (encoder, child->encoded, child->encoded_len);
    }
  kiln_rlp_encoder_end_list (encoder);
  return kiln_rlp_encoder_steal_bytes (encoder);
}

GBytes *
kiln_test_market_replace_field (GBytes       *message,
                                guint         field,
                                const guint8 *replacement,
                                gsize         len)
{
  g_autoptr(KilnRlpItem) item = decode (message);
  g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();
  const KilnRlpItem *body = kiln_rlp_item_get_child (item, 0);
  const guint8 *data;
  gsize data_len;

  g_assert_cmpuint (field, <, kiln_rlp_item_get_n_children (body));

  kiln_rlp_encoder_begin_list (encoder);
  for (guint i = 0; i < kiln_rlp_item_get_n_children (body); i++)
    {
      const KilnRlpItem *child = kiln_rlp_item_get_child (body, i);

      if (i == field)
        kiln_rlp_encoder_append_raw (encoder, replacement, len);
      else
        kiln_rlp_encoder_append_raw (encoder, child->encoded, child->encoded_len);
    }
  kiln_rlp_encoder_end_list (encoder);

  data = kiln_rlp_encoder_peek (encoder, &data_len);
  return rebuild (item, data, data_len);
}

/* The encoding of @item with its value changed as kiln_test_market_alter_field() says. */
static GBytes *
altered_item (const KilnRlpItem *item)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  if (kiln_rlp_item_is_list (item))
    {
      g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();

      g_assert_cmpuint (kiln_rlp_item_get_n_children (item), >, 0);
      kiln_rlp_encoder_begin_list (encoder);
      for (guint i = 0; i < kiln_rlp_item_get_n_children (item); i++)
        {
          const KilnRlpItem *child = kiln_rlp_item_get_child (item, i);

          if (i == 0)
            {
              g_autoptr(GBytes) changed = altered_item (child);

              kiln_rlp_encoder_append_raw (encoder, g_bytes_get_data (changed, NULL),
                                           g_bytes_get_size (changed));
            }
          else
            kiln_rlp_encoder_append_raw (encoder, child->encoded, child->encoded_len);
        }
      kiln_rlp_encoder_end_list (encoder);
      return kiln_rlp_encoder_steal_bytes (encoder);
    }

  if (item->len == 0)
    kiln_rlp_append_uint64 (out, 1);
  else if (item->len == 1 && item->data[0] == 1)
    kiln_rlp_append_uint64 (out, 0);
  else
    {
      g_autofree guint8 *copy = g_memdup2 (item->data, item->len);

      copy[item->len - 1] ^= 1;
      kiln_rlp_append_bytes (out, copy, item->len);
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
kiln_test_market_alter_field (GBytes *message,
                              guint   field)
{
  g_autoptr(KilnRlpItem) item = decode (message);
  g_autoptr(GBytes) changed = NULL;

  changed = altered_item (kiln_rlp_item_get_child (kiln_rlp_item_get_child (item, 0), field));
  return kiln_test_market_replace_field (message, field, g_bytes_get_data (changed, NULL),
                                        g_bytes_get_size (changed));
}

GBytes *
kiln_test_market_replace_signature (GBytes       *message,
                                    guint         index,
                                    const guint8 *signature)
{
  g_autoptr(KilnRlpItem) item = decode (message);
  g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();

  g_assert_cmpuint (index, >=, 1);
  g_assert_cmpuint (index, <, kiln_rlp_item_get_n_children (item));

  kiln_rlp_encoder_begin_list (encoder);
  for (guint i = 0; i < kiln_rlp_item_get_n_children (item); i++)
    {
      const KilnRlpItem *child = kiln_rlp_item_get_child (item, i);

      if (i == index)
        kiln_rlp_encoder_append_bytes (encoder, signature, KILN_SIGNATURE_SIZE);
      else
        kiln_rlp_encoder_append_raw (encoder, child->encoded, child->encoded_len);
    }
  kiln_rlp_encoder_end_list (encoder);
  return kiln_rlp_encoder_steal_bytes (encoder);
}

GBytes *
kiln_test_market_sign_body (GBytes     *body,
                            const char *context,
                            KilnKey    *key)
{
  g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();
  g_autoptr(GError) error = NULL;
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];

  kiln_market_digest (context, g_bytes_get_data (body, NULL), g_bytes_get_size (body), digest);
  g_assert_true (kiln_key_sign_digest (key, digest, signature, &error));
  g_assert_no_error (error);

  kiln_rlp_encoder_begin_list (encoder);
  kiln_rlp_encoder_append_raw (encoder, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  kiln_rlp_encoder_append_bytes (encoder, signature, sizeof signature);
  kiln_rlp_encoder_end_list (encoder);
  return kiln_rlp_encoder_steal_bytes (encoder);
}
