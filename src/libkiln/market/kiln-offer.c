/* kiln-offer.c: a provider's signed answer to a task announcement
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-market-private.h"
#include "kiln-offer.h"

/* The body's fields, in order (docs/market.md). */
enum
{
  FIELD_VERSION,
  FIELD_TASK_ID,
  FIELD_ANNOUNCEMENT,
  FIELD_PROVIDER,
  FIELD_CREATED,
  FIELD_EXPIRES,
  FIELD_PRICE,
  FIELD_CORES,
  FIELD_BENCHMARK,
  FIELD_MAX_CONCURRENT,
  N_FIELDS
};

struct _KilnOffer
{
  GObject      parent_instance;

  guint8       task_id[KILN_MARKET_ID_SIZE];
  guint8       announcement[KILN_MARKET_DIGEST_SIZE];
  KilnAddress  provider;
  gint64       created;
  gint64       expires;
  KilnUint256  price;
  guint        cores;
  guint32      benchmark;
  guint        max_concurrent;

  GBytes      *bytes;
  guint8       digest[KILN_MARKET_DIGEST_SIZE];
};

G_DEFINE_FINAL_TYPE (KilnOffer, kiln_offer, G_TYPE_OBJECT)

static const char *
what (void)
{
  return _("offer");
}

static void
kiln_offer_finalize (GObject *object)
{
  KilnOffer *self = KILN_OFFER (object);

  g_clear_pointer (&self->bytes, g_bytes_unref);

  G_OBJECT_CLASS (kiln_offer_parent_class)->finalize (object);
}

static void
kiln_offer_class_init (KilnOfferClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kiln_offer_finalize;
}

static void
kiln_offer_init (KilnOffer *self)
{
  self->cores = 1;
  self->benchmark = 1;
  self->max_concurrent = 1;
}

KilnOffer *
kiln_offer_new (KilnTaskAnnouncement *announcement)
{
  KilnOffer *self;

  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (announcement), NULL);
  g_return_val_if_fail (kiln_task_announcement_is_signed (announcement), NULL);

  self = g_object_new (KILN_TYPE_OFFER, NULL);
  memcpy (self->task_id, kiln_task_announcement_get_task_id (announcement),
          KILN_MARKET_ID_SIZE);
  memcpy (self->announcement, kiln_task_announcement_get_digest (announcement),
          KILN_MARKET_DIGEST_SIZE);
  return self;
}

static void
changed (KilnOffer *self)
{
  g_clear_pointer (&self->bytes, g_bytes_unref);
  memset (self->digest, 0, sizeof self->digest);
}

/* Accessors */

const guint8 *
kiln_offer_get_task_id (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), NULL);

  return self->task_id;
}

const guint8 *
kiln_offer_get_announcement (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), NULL);

  return self->announcement;
}

const KilnAddress *
kiln_offer_get_provider (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), NULL);

  return &self->provider;
}

gint64
kiln_offer_get_created (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), 0);

  return self->created;
}

gint64
kiln_offer_get_expires (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), 0);

  return self->expires;
}

void
kiln_offer_set_times (KilnOffer *self,
                      gint64     created,
                      gint64     expires)
{
  g_return_if_fail (KILN_IS_OFFER (self));

  self->created = created;
  self->expires = expires;
  changed (self);
}

void
kiln_offer_get_price (KilnOffer   *self,
                      KilnUint256 *out)
{
  g_return_if_fail (KILN_IS_OFFER (self));
  g_return_if_fail (out != NULL);

  *out = self->price;
}

void
kiln_offer_set_price (KilnOffer         *self,
                      const KilnUint256 *price)
{
  g_return_if_fail (KILN_IS_OFFER (self));
  g_return_if_fail (price != NULL);

  self->price = *price;
  changed (self);
}

guint
kiln_offer_get_cores (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), 0);

  return self->cores;
}

void
kiln_offer_set_cores (KilnOffer *self,
                      guint      cores)
{
  g_return_if_fail (KILN_IS_OFFER (self));

  self->cores = cores;
  changed (self);
}

guint32
kiln_offer_get_benchmark (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), 0);

  return self->benchmark;
}

void
kiln_offer_set_benchmark (KilnOffer *self,
                          guint32    benchmark)
{
  g_return_if_fail (KILN_IS_OFFER (self));

  self->benchmark = benchmark;
  changed (self);
}

guint
kiln_offer_get_max_concurrent (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), 0);

  return self->max_concurrent;
}

void
kiln_offer_set_max_concurrent (KilnOffer *self,
                               guint      max_concurrent)
{
  g_return_if_fail (KILN_IS_OFFER (self));

  self->max_concurrent = max_concurrent;
  changed (self);
}

/* Checking, encoding, signing */

/* Everything but the signature and the times against a clock. */
static gboolean
check_fields (KilnOffer  *self,
              GError    **error)
{
  if (!kiln_market_amount_in_range (&self->price))
    return kiln_market_set_malformed (error, what (), _("its price is larger than 2^%u base units"),
                                      KILN_MARKET_AMOUNT_BITS);
  if (self->cores < 1 || self->cores > KILN_MARKET_MAX_CORES)
    return kiln_market_set_malformed (error, what (), _("it must lend 1 to %u cores"),
                                      KILN_MARKET_MAX_CORES);
  if (self->benchmark < 1)
    return kiln_market_set_malformed (error, what (), _("it has no benchmark figure"));
  if (self->max_concurrent < 1 || self->max_concurrent > KILN_OFFER_MAX_CONCURRENT)
    return kiln_market_set_malformed (error, what (), _("it must run 1 to %u subtasks at once"),
                                      KILN_OFFER_MAX_CONCURRENT);

  return kiln_market_check_times (self->created, self->expires, KILN_OFFER_MAX_LIFETIME, -1,
                                  what (), error);
}

static GBytes *
encode_body (KilnOffer *self)
{
  g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();

  kiln_rlp_encoder_begin_list (encoder);
  kiln_rlp_encoder_append_uint64 (encoder, KILN_MARKET_VERSION);
  kiln_rlp_encoder_append_bytes (encoder, self->task_id, KILN_MARKET_ID_SIZE);
  kiln_rlp_encoder_append_bytes (encoder, self->announcement, KILN_MARKET_DIGEST_SIZE);
  kiln_rlp_encoder_append_bytes (encoder, self->provider.bytes, KILN_ADDRESS_SIZE);
  kiln_rlp_encoder_append_uint64 (encoder, self->created);
  kiln_rlp_encoder_append_uint64 (encoder, self->expires);
  kiln_rlp_encoder_append_uint256 (encoder, &self->price);
  kiln_rlp_encoder_append_uint64 (encoder, self->cores);
  kiln_rlp_encoder_append_uint64 (encoder, self->benchmark);
  kiln_rlp_encoder_append_uint64 (encoder, self->max_concurrent);
  kiln_rlp_encoder_end_list (encoder);

  return kiln_rlp_encoder_steal_bytes (encoder);
}

gboolean
kiln_offer_sign (KilnOffer  *self,
                 KilnKey    *key,
                 GError    **error)
{
  g_autoptr(GBytes) body = NULL;
  guint8 signature[KILN_SIGNATURE_SIZE];
  guint8 digest[KILN_MARKET_DIGEST_SIZE];

  g_return_val_if_fail (KILN_IS_OFFER (self), FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  changed (self);
  if (!check_fields (self, error))
    return FALSE;

  self->provider = *kiln_key_get_address (key);
  body = encode_body (self);
  kiln_market_digest (KILN_MARKET_OFFER_CONTEXT, g_bytes_get_data (body, NULL),
                      g_bytes_get_size (body), digest);
  if (!kiln_key_sign_digest (key, digest, signature, error))
    return FALSE;

  /* The fields' limits keep an offer far below KILN_OFFER_MAX_SIZE. */
  self->bytes = kiln_market_seal (body, signature, 1);
  g_assert (g_bytes_get_size (self->bytes) <= KILN_OFFER_MAX_SIZE);
  memcpy (self->digest, digest, sizeof digest);
  return TRUE;
}

gboolean
kiln_offer_is_signed (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), FALSE);

  return self->bytes != NULL;
}

GBytes *
kiln_offer_get_bytes (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), NULL);
  g_return_val_if_fail (self->bytes != NULL, NULL);

  return self->bytes;
}

const guint8 *
kiln_offer_get_digest (KilnOffer *self)
{
  g_return_val_if_fail (KILN_IS_OFFER (self), NULL);
  g_return_val_if_fail (self->bytes != NULL, NULL);

  return self->digest;
}

KilnOffer *
kiln_offer_verify (GBytes  *bytes,
                   gint64   now,
                   GError **error)
{
  g_autoptr(KilnOffer) self = NULL;
  g_autoptr(KilnRlpItem) envelope = NULL;
  const KilnRlpItem *body;
  guint64 created, expires, cores, benchmark, max_concurrent;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  envelope = kiln_market_decode_envelope (bytes, KILN_OFFER_MAX_SIZE, what (), N_FIELDS, 1, 1,
                                          error);
  if (envelope == NULL)
    return NULL;
  body = kiln_rlp_item_get_child (envelope, 0);

  self = g_object_new (KILN_TYPE_OFFER, NULL);
  if (!kiln_market_read_fixed (kiln_rlp_item_get_child (body, FIELD_TASK_ID), what (),
                               _("task ID"), self->task_id, KILN_MARKET_ID_SIZE, error) ||
      !kiln_market_read_fixed (kiln_rlp_item_get_child (body, FIELD_ANNOUNCEMENT), what (),
                               _("announcement digest"), self->announcement,
                               KILN_MARKET_DIGEST_SIZE, error) ||
      !kiln_market_read_address (body, FIELD_PROVIDER, what (), _("provider"),
                                 &self->provider, error) ||
      !kiln_market_read_uint (body, FIELD_CREATED, what (), _("creation time"), 0,
                              KILN_MARKET_MAX_TIME, &created, error) ||
      !kiln_market_read_uint (body, FIELD_EXPIRES, what (), _("expiry time"), 0,
                              KILN_MARKET_MAX_TIME, &expires, error) ||
      !kiln_market_read_amount (body, FIELD_PRICE, what (), _("price"), &self->price, error) ||
      !kiln_market_read_uint (body, FIELD_CORES, what (), _("cores"), 1,
                              KILN_MARKET_MAX_CORES, &cores, error) ||
      !kiln_market_read_uint (body, FIELD_BENCHMARK, what (), _("benchmark"), 1,
                              G_MAXUINT32, &benchmark, error) ||
      !kiln_market_read_uint (body, FIELD_MAX_CONCURRENT, what (), _("subtasks at once"), 1,
                              KILN_OFFER_MAX_CONCURRENT, &max_concurrent, error))
    return NULL;

  self->created = created;
  self->expires = expires;
  self->cores = cores;
  self->benchmark = benchmark;
  self->max_concurrent = max_concurrent;
  if (!check_fields (self, error))
    return NULL;

  kiln_market_digest (KILN_MARKET_OFFER_CONTEXT, body->encoded, body->encoded_len, self->digest);
  if (!kiln_market_check_signature (self->digest, kiln_rlp_item_get_child (envelope, 1)->data,
                                    &self->provider, _("the offer’s provider"), error))
    return NULL;

  if (!kiln_market_check_times (self->created, self->expires, KILN_OFFER_MAX_LIFETIME, now,
                                what (), error))
    return NULL;

  self->bytes = g_bytes_ref (bytes);
  return g_steal_pointer (&self);
}

/* The provider's decision */

guint32
kiln_offer_benchmark_from_score (double score,
                                 guint  threads,
                                 guint  cores)
{
  double figure;

  if (!(score > 0) || !isfinite (score) || threads == 0 || cores == 0)
    return 0;

  figure = round (score * 1000.0 * cores / threads);
  if (figure < 1)
    return 1;
  if (figure > G_MAXUINT32)
    return G_MAXUINT32;
  return (guint32) figure;
}

static gboolean
engine_available (const KilnProviderCapabilities *capabilities,
                  const char                     *engine)
{
  if (capabilities->engines == NULL)
    return TRUE;

  return g_strv_contains ((const char * const *) capabilities->engines, engine);
}

static gboolean
check_capabilities (KilnTaskAnnouncement            *announcement,
                    KilnLendingPolicy               *policy,
                    const KilnProviderCapabilities  *capabilities,
                    GError                         **error)
{
  guint major, minor;
  guint disk_mb;

  kiln_task_announcement_get_blender_version (announcement, &major, &minor);
  if (capabilities->blender_major != major || capabilities->blender_minor != minor)
    return (g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_UNSUITABLE,
                         _("The task needs Blender %u.%u, but this computer has Blender "
                           "%u.%u"), major, minor, capabilities->blender_major,
                         capabilities->blender_minor), FALSE);

  if (!engine_available (capabilities, kiln_task_announcement_get_engine (announcement)))
    return (g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_UNSUITABLE,
                         _("The task renders with %s, which this computer’s Blender lacks"),
                         kiln_task_announcement_get_engine (announcement)), FALSE);

  disk_mb = kiln_lending_policy_get_disk_mb (policy);
  if (disk_mb > 0 && kiln_task_announcement_get_disk_mib (announcement) > disk_mb)
    return (g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_UNSUITABLE,
                         _("The task needs %u MiB of disk space but you lend %u MiB"),
                         kiln_task_announcement_get_disk_mib (announcement), disk_mb), FALSE);

  if (!(capabilities->benchmark_score > 0) || capabilities->benchmark_threads == 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_UNSUITABLE,
                                 _("This computer has not run the Blender benchmark yet")),
            FALSE);

  return TRUE;
}

KilnOffer *
kiln_offer_propose (KilnTaskAnnouncement            *announcement,
                    KilnLendingPolicy               *policy,
                    const KilnProviderCapabilities  *capabilities,
                    KilnKey                         *key,
                    gint64                           now,
                    guint                            lifetime,
                    GError                         **error)
{
  g_autoptr(KilnOffer) offer = NULL;
  KilnUint256 max_price;
  KilnUint256 min_price;
  KilnUint256 max_total;
  KilnUint256 pay;
  guint min_cores;
  guint cores;
  guint concurrent;
  gint64 expires;

  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (announcement), NULL);
  g_return_val_if_fail (kiln_task_announcement_is_signed (announcement), NULL);
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (policy), NULL);
  g_return_val_if_fail (capabilities != NULL, NULL);
  g_return_val_if_fail (KILN_IS_KEY (key), NULL);
  g_return_val_if_fail (lifetime > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (kiln_task_announcement_get_expires (announcement) <= now)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_EXPIRED,
                                 _("The task no longer takes offers")), NULL);

  min_cores = kiln_task_announcement_get_min_cores (announcement);
  kiln_task_announcement_get_max_price (announcement, &max_price);
  if (!kiln_lending_policy_accepts (policy, &max_price, min_cores,
                                    kiln_task_announcement_get_memory_mib (announcement), error))
    return NULL;
  if (!check_capabilities (announcement, policy, capabilities, error))
    return NULL;

  /* One subtask at the price asked must fit in the task's budget, or it can never be paid. */
  kiln_lending_policy_get_min_price_units (policy, &min_price);
  kiln_task_announcement_get_max_total (announcement, &max_total);
  if (!kiln_market_compute_payment (&min_price, min_cores,
                                    kiln_task_announcement_get_subtask_timeout (announcement),
                                    &pay, error))
    return NULL;
  if (kiln_uint256_compare (&pay, &max_total) > 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_PRICE_TOO_HIGH,
                                 _("The task’s budget does not cover one subtask at your "
                                   "minimum price")), NULL);

  cores = kiln_lending_policy_get_cores (policy);
  if (cores == 0)
    cores = g_get_num_processors ();
  cores = MIN (cores, KILN_MARKET_MAX_CORES);

  concurrent = MAX (cores / min_cores, 1);
  if (capabilities->max_concurrent > 0)
    concurrent = MIN (concurrent, capabilities->max_concurrent);
  concurrent = MIN (concurrent, KILN_OFFER_MAX_CONCURRENT);

  expires = MIN (now + (gint64) MIN (lifetime, KILN_OFFER_MAX_LIFETIME),
                 kiln_task_announcement_get_expires (announcement));

  offer = kiln_offer_new (announcement);
  kiln_offer_set_price (offer, &min_price);
  kiln_offer_set_cores (offer, cores);
  kiln_offer_set_benchmark (offer,
                            kiln_offer_benchmark_from_score (capabilities->benchmark_score,
                                                             capabilities->benchmark_threads,
                                                             cores));
  kiln_offer_set_max_concurrent (offer, concurrent);
  kiln_offer_set_times (offer, now, expires);

  if (!kiln_offer_sign (offer, key, error))
    return NULL;

  return g_steal_pointer (&offer);
}
