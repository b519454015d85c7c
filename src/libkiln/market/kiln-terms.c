/* kiln-terms.c: the assignment of subtasks to a provider, signed by both sides
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-market-private.h"
#include "kiln-terms.h"

/* The body's fields, in order (docs/market.md). */
enum
{
  FIELD_VERSION,
  FIELD_TASK_ID,
  FIELD_ANNOUNCEMENT,
  FIELD_REQUESTOR,
  FIELD_PROVIDER,
  FIELD_CHAIN_ID,
  FIELD_TOKEN,
  FIELD_SUBTASKS,
  FIELD_PRICE,
  FIELD_CORES,
  FIELD_TIMEOUT,
  FIELD_MAX_PAYMENT,
  FIELD_CREATED,
  FIELD_EXPIRES,
  FIELD_DETAILS,
  N_FIELDS
};

struct _KilnTerms
{
  GObject      parent_instance;

  guint8       task_id[KILN_MARKET_ID_SIZE];
  guint8       announcement[KILN_MARKET_DIGEST_SIZE];
  KilnAddress  requestor;
  KilnAddress  provider;
  guint64      chain_id;
  KilnAddress  token;
  GArray      *subtasks;    /* of guint */
  KilnUint256  price;
  guint        cores;
  guint        timeout;
  KilnUint256  max_payment;
  gint64       created;
  gint64       expires;
  GBytes      *details;

  GBytes      *body;
  guint8       digest[KILN_MARKET_DIGEST_SIZE];
  guint8       requestor_signature[KILN_SIGNATURE_SIZE];
  gboolean     accepted;
  guint8       provider_signature[KILN_SIGNATURE_SIZE];
  GBytes      *bytes;
};

G_DEFINE_FINAL_TYPE (KilnTerms, kiln_terms, G_TYPE_OBJECT)

static const char *
what (void)
{
  return _("terms message");
}

static void
kiln_terms_finalize (GObject *object)
{
  KilnTerms *self = KILN_TERMS (object);

  g_array_unref (self->subtasks);
  g_clear_pointer (&self->details, g_bytes_unref);
  g_clear_pointer (&self->body, g_bytes_unref);
  g_clear_pointer (&self->bytes, g_bytes_unref);

  G_OBJECT_CLASS (kiln_terms_parent_class)->finalize (object);
}

static void
kiln_terms_class_init (KilnTermsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kiln_terms_finalize;
}

static void
kiln_terms_init (KilnTerms *self)
{
  self->subtasks = g_array_new (FALSE, FALSE, sizeof (guint));
}

static gboolean mismatch (GError     **error,
                          const char  *format,
                          ...) G_GNUC_PRINTF (2, 3);

static gboolean
mismatch (GError     **error,
          const char  *format,
          ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MISMATCH, message);
  return FALSE;
}

/* Everything the body says by itself: ranges, order, the maximum payment. */
static gboolean
check_fields (KilnTerms  *self,
              GError    **error)
{
  KilnUint256 max_payment;

  if (self->chain_id == 0)
    return kiln_market_set_malformed (error, what (), _("it names no chain to pay on"));
  if (self->subtasks->len < 1 || self->subtasks->len > KILN_TERMS_MAX_SUBTASKS)
    return kiln_market_set_malformed (error, what (), _("it must assign 1 to %u subtasks"),
                                      KILN_TERMS_MAX_SUBTASKS);
  for (guint i = 0; i < self->subtasks->len; i++)
    {
      guint index = g_array_index (self->subtasks, guint, i);

      if (index >= KILN_MARKET_MAX_SUBTASKS)
        return kiln_market_set_malformed (error, what (), _("subtask %u does not exist"), index);
      if (i > 0 && index <= g_array_index (self->subtasks, guint, i - 1))
        return kiln_market_set_malformed (error, what (),
                                          _("the subtasks are not in ascending order"));
    }
  if (!kiln_market_amount_in_range (&self->price))
    return kiln_market_set_malformed (error, what (), _("the price is larger than 2^%u base units"),
                                      KILN_MARKET_AMOUNT_BITS);
  if (self->cores < 1 || self->cores > KILN_MARKET_MAX_CORES)
    return kiln_market_set_malformed (error, what (), _("a subtask must run on 1 to %u cores"),
                                      KILN_MARKET_MAX_CORES);
  if (self->timeout < 1 || self->timeout > KILN_MARKET_MAX_TIMEOUT)
    return kiln_market_set_malformed (error, what (), _("a subtask may take 1 to %u seconds"),
                                      KILN_MARKET_MAX_TIMEOUT);
  if (g_bytes_get_size (self->details) > KILN_TERMS_MAX_DETAILS)
    return kiln_market_set_malformed (error, what (),
                                      _("the work’s details are longer than %u bytes"),
                                      KILN_TERMS_MAX_DETAILS);

  /* Within the limits above the product cannot overflow. */
  if (!kiln_market_compute_payment (&self->price, self->cores, self->timeout, &max_payment,
                                    NULL))
    g_assert_not_reached ();
  if (!kiln_uint256_equal (&max_payment, &self->max_payment))
    return kiln_market_set_malformed (error, what (),
                                      _("the maximum payment is not the price for the cores "
                                        "and time"));

  return kiln_market_check_times (self->created, self->expires, KILN_TERMS_MAX_LIFETIME, -1,
                                  what (), error);
}

static GBytes *
encode_body (KilnTerms *self)
{
  g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();
  gsize details_len;
  const guint8 *details = g_bytes_get_data (self->details, &details_len);

  kiln_rlp_encoder_begin_list (encoder);
  kiln_rlp_encoder_append_uint64 (encoder, KILN_MARKET_VERSION);
  kiln_rlp_encoder_append_bytes (encoder, self->task_id, KILN_MARKET_ID_SIZE);
  kiln_rlp_encoder_append_bytes (encoder, self->announcement, KILN_MARKET_DIGEST_SIZE);
  kiln_rlp_encoder_append_bytes (encoder, self->requestor.bytes, KILN_ADDRESS_SIZE);
  kiln_rlp_encoder_append_bytes (encoder, self->provider.bytes, KILN_ADDRESS_SIZE);
  kiln_rlp_encoder_append_uint64 (encoder, self->chain_id);
  kiln_rlp_encoder_append_bytes (encoder, self->token.bytes, KILN_ADDRESS_SIZE);
  kiln_rlp_encoder_begin_list (encoder);
  for (guint i = 0; i < self->subtasks->len; i++)
    kiln_rlp_encoder_append_uint64 (encoder, g_array_index (self->subtasks, guint, i));
  kiln_rlp_encoder_end_list (encoder);
  kiln_rlp_encoder_append_uint256 (encoder, &self->price);
  kiln_rlp_encoder_append_uint64 (encoder, self->cores);
  kiln_rlp_encoder_append_uint64 (encoder, self->timeout);
  kiln_rlp_encoder_append_uint256 (encoder, &self->max_payment);
  kiln_rlp_encoder_append_uint64 (encoder, self->created);
  kiln_rlp_encoder_append_uint64 (encoder, self->expires);
  kiln_rlp_encoder_append_bytes (encoder, details != NULL ? details : (const guint8 *) "",
                                 details_len);
  kiln_rlp_encoder_end_list (encoder);

  return kiln_rlp_encoder_steal_bytes (encoder);
}

static void
seal (KilnTerms *self)
{
  guint8 signatures[2 * KILN_SIGNATURE_SIZE];

  memcpy (signatures, self->requestor_signature, KILN_SIGNATURE_SIZE);
  memcpy (signatures + KILN_SIGNATURE_SIZE, self->provider_signature, KILN_SIGNATURE_SIZE);

  g_clear_pointer (&self->bytes, g_bytes_unref);
  self->bytes = kiln_market_seal (self->body, signatures, self->accepted ? 2 : 1);
}

void
kiln_terms_get_acceptance_digest (KilnTerms *self,
                                  guint8    *digest)
{
  guint8 signed_part[KILN_MARKET_DIGEST_SIZE + KILN_SIGNATURE_SIZE];

  g_return_if_fail (KILN_IS_TERMS (self));
  g_return_if_fail (digest != NULL);

  memcpy (signed_part, self->digest, KILN_MARKET_DIGEST_SIZE);
  memcpy (signed_part + KILN_MARKET_DIGEST_SIZE, self->requestor_signature,
          KILN_SIGNATURE_SIZE);
  kiln_market_digest (KILN_MARKET_ACCEPT_CONTEXT, signed_part, sizeof signed_part, digest);
}

/* The requestor's side */

static gboolean
check_offer_for_task (KilnTaskAnnouncement  *announcement,
                      KilnOffer             *offer,
                      GError               **error)
{
  KilnUint256 price;
  KilnUint256 max_price;

  if (memcmp (kiln_offer_get_task_id (offer), kiln_task_announcement_get_task_id (announcement),
              KILN_MARKET_ID_SIZE) != 0 ||
      memcmp (kiln_offer_get_announcement (offer),
              kiln_task_announcement_get_digest (announcement), KILN_MARKET_DIGEST_SIZE) != 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_WRONG_TASK,
                                 _("The offer answers another task")), FALSE);

  kiln_offer_get_price (offer, &price);
  kiln_task_announcement_get_max_price (announcement, &max_price);
  if (kiln_uint256_compare (&price, &max_price) > 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_PRICE_TOO_HIGH,
                                 _("The offer asks more than the task’s maximum price")), FALSE);

  if (kiln_offer_get_cores (offer) < kiln_task_announcement_get_min_cores (announcement))
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_UNSUITABLE,
                                 _("The offer lends fewer cores than a subtask needs")), FALSE);

  return TRUE;
}

KilnTerms *
kiln_terms_propose (KilnTaskAnnouncement  *announcement,
                    KilnOffer             *offer,
                    const guint           *subtasks,
                    guint                  n_subtasks,
                    GBytes                *details,
                    KilnKey               *key,
                    gint64                 now,
                    guint                  lifetime,
                    GError               **error)
{
  g_autoptr(KilnTerms) self = NULL;

  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (announcement), NULL);
  g_return_val_if_fail (kiln_task_announcement_is_signed (announcement), NULL);
  g_return_val_if_fail (KILN_IS_OFFER (offer), NULL);
  g_return_val_if_fail (kiln_offer_is_signed (offer), NULL);
  g_return_val_if_fail (subtasks != NULL || n_subtasks == 0, NULL);
  g_return_val_if_fail (KILN_IS_KEY (key), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!kiln_address_equal (kiln_key_get_address (key),
                           kiln_task_announcement_get_requestor (announcement)))
    return (mismatch (error, _("Only the requestor of a task can assign its subtasks")), NULL);
  if (!check_offer_for_task (announcement, offer, error))
    return NULL;
  if (kiln_offer_get_expires (offer) <= now)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_EXPIRED,
                                 _("The offer has expired")), NULL);

  for (guint i = 0; i < n_subtasks; i++)
    if (subtasks[i] >= kiln_task_announcement_get_n_subtasks (announcement))
      return (kiln_market_set_malformed (error, what (), _("the task has no subtask %u"),
                                         subtasks[i]), NULL);

  self = g_object_new (KILN_TYPE_TERMS, NULL);
  memcpy (self->task_id, kiln_task_announcement_get_task_id (announcement),
          KILN_MARKET_ID_SIZE);
  memcpy (self->announcement, kiln_task_announcement_get_digest (announcement),
          KILN_MARKET_DIGEST_SIZE);
  self->requestor = *kiln_task_announcement_get_requestor (announcement);
  self->provider = *kiln_offer_get_provider (offer);
  self->chain_id = kiln_task_announcement_get_chain_id (announcement);
  self->token = *kiln_task_announcement_get_token (announcement);
  g_array_append_vals (self->subtasks, subtasks, n_subtasks);
  kiln_offer_get_price (offer, &self->price);
  self->cores = kiln_task_announcement_get_min_cores (announcement);
  self->timeout = kiln_task_announcement_get_subtask_timeout (announcement);
  self->created = now;
  self->expires = now + MIN (lifetime, KILN_TERMS_MAX_LIFETIME);
  self->details = details != NULL ? g_bytes_ref (details) : g_bytes_new (NULL, 0);

  /* The announcement's limits keep this product far inside 256 bits. */
  if (!kiln_market_compute_payment (&self->price, self->cores, self->timeout,
                                    &self->max_payment, error))
    return NULL;
  if (!check_fields (self, error))
    return NULL;

  self->body = encode_body (self);
  kiln_market_digest (KILN_MARKET_TERMS_CONTEXT, g_bytes_get_data (self->body, NULL),
                      g_bytes_get_size (self->body), self->digest);
  if (!kiln_key_sign_digest (key, self->digest, self->requestor_signature, error))
    return NULL;

  seal (self);
  g_assert (g_bytes_get_size (self->bytes) <= KILN_TERMS_MAX_SIZE);
  return g_steal_pointer (&self);
}

/* The provider's side */

gboolean
kiln_terms_accept (KilnTerms  *self,
                   KilnKey    *key,
                   gint64      now,
                   GError    **error)
{
  guint8 digest[KILN_MARKET_DIGEST_SIZE];

  g_return_val_if_fail (KILN_IS_TERMS (self), FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!kiln_address_equal (kiln_key_get_address (key), &self->provider))
    return mismatch (error, _("These terms are made out to another provider"));
  if (self->expires <= now)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_EXPIRED,
                                 _("The terms expired before they were accepted")), FALSE);

  kiln_terms_get_acceptance_digest (self, digest);
  if (!kiln_key_sign_digest (key, digest, self->provider_signature, error))
    return FALSE;

  self->accepted = TRUE;
  seal (self);
  return TRUE;
}

/* Anyone's side */

static gboolean
read_subtasks (KilnTerms          *self,
               const KilnRlpItem  *list,
               GError            **error)
{
  guint n;

  if (!kiln_rlp_item_is_list (list))
    return kiln_market_set_malformed (error, what (), _("the subtasks are not a list"));

  n = kiln_rlp_item_get_n_children (list);
  if (n < 1 || n > KILN_TERMS_MAX_SUBTASKS)
    return kiln_market_set_malformed (error, what (), _("it must assign 1 to %u subtasks"),
                                      KILN_TERMS_MAX_SUBTASKS);

  for (guint i = 0; i < n; i++)
    {
      guint64 index;

      if (!kiln_market_read_uint (list, i, what (), _("subtask index"), 0,
                                  KILN_MARKET_MAX_SUBTASKS - 1, &index, error))
        return FALSE;
      g_array_append_vals (self->subtasks, &(guint) { index }, 1);
    }

  return TRUE;
}

static gboolean
read_body (KilnTerms          *self,
           const KilnRlpItem  *body,
           GError            **error)
{
  const KilnRlpItem *details;
  guint64 chain_id, cores, timeout, created, expires;

  if (!kiln_market_read_fixed (kiln_rlp_item_get_child (body, FIELD_TASK_ID), what (),
                               _("task ID"), self->task_id, KILN_MARKET_ID_SIZE, error) ||
      !kiln_market_read_fixed (kiln_rlp_item_get_child (body, FIELD_ANNOUNCEMENT), what (),
                               _("announcement digest"), self->announcement,
                               KILN_MARKET_DIGEST_SIZE, error) ||
      !kiln_market_read_address (body, FIELD_REQUESTOR, what (), _("requestor"),
                                 &self->requestor, error) ||
      !kiln_market_read_address (body, FIELD_PROVIDER, what (), _("provider"),
                                 &self->provider, error) ||
      !kiln_market_read_uint (body, FIELD_CHAIN_ID, what (), _("chain ID"), 1, G_MAXUINT64,
                              &chain_id, error) ||
      !kiln_market_read_address (body, FIELD_TOKEN, what (), _("token"), &self->token, error) ||
      !read_subtasks (self, kiln_rlp_item_get_child (body, FIELD_SUBTASKS), error) ||
      !kiln_market_read_amount (body, FIELD_PRICE, what (), _("price"), &self->price, error) ||
      !kiln_market_read_uint (body, FIELD_CORES, what (), _("cores"), 1, KILN_MARKET_MAX_CORES,
                              &cores, error) ||
      !kiln_market_read_uint (body, FIELD_TIMEOUT, what (), _("subtask timeout"), 1,
                              KILN_MARKET_MAX_TIMEOUT, &timeout, error) ||
      !kiln_market_read_amount (body, FIELD_MAX_PAYMENT, what (), _("maximum payment"),
                                &self->max_payment, error) ||
      !kiln_market_read_uint (body, FIELD_CREATED, what (), _("creation time"), 0,
                              KILN_MARKET_MAX_TIME, &created, error) ||
      !kiln_market_read_uint (body, FIELD_EXPIRES, what (), _("expiry time"), 0,
                              KILN_MARKET_MAX_TIME, &expires, error))
    return FALSE;

  details = kiln_rlp_item_get_child (body, FIELD_DETAILS);
  if (kiln_rlp_item_is_list (details))
    return kiln_market_set_malformed (error, what (), _("the work’s details are not bytes"));

  self->chain_id = chain_id;
  self->cores = cores;
  self->timeout = timeout;
  self->created = created;
  self->expires = expires;
  self->details = g_bytes_new (details->data, details->len);

  return check_fields (self, error);
}

KilnTerms *
kiln_terms_decode (GBytes  *bytes,
                   GError **error)
{
  g_autoptr(KilnTerms) self = NULL;
  g_autoptr(KilnRlpItem) envelope = NULL;
  const KilnRlpItem *body;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  envelope = kiln_market_decode_envelope (bytes, KILN_TERMS_MAX_SIZE, what (), N_FIELDS, 1, 2,
                                          error);
  if (envelope == NULL)
    return NULL;
  body = kiln_rlp_item_get_child (envelope, 0);

  self = g_object_new (KILN_TYPE_TERMS, NULL);
  if (!read_body (self, body, error))
    return NULL;

  self->body = g_bytes_new (body->encoded, body->encoded_len);
  kiln_market_digest (KILN_MARKET_TERMS_CONTEXT, body->encoded, body->encoded_len, self->digest);
  memcpy (self->requestor_signature, kiln_rlp_item_get_child (envelope, 1)->data,
          KILN_SIGNATURE_SIZE);
  if (!kiln_market_check_signature (self->digest, self->requestor_signature, &self->requestor,
                                    _("the terms’ requestor"), error))
    return NULL;

  if (kiln_rlp_item_get_n_children (envelope) == 3)
    {
      guint8 digest[KILN_MARKET_DIGEST_SIZE];

      memcpy (self->provider_signature, kiln_rlp_item_get_child (envelope, 2)->data,
              KILN_SIGNATURE_SIZE);
      kiln_terms_get_acceptance_digest (self, digest);
      if (!kiln_market_check_signature (digest, self->provider_signature, &self->provider,
                                        _("the terms’ provider"), error))
        return NULL;
      self->accepted = TRUE;
    }

  self->bytes = g_bytes_ref (bytes);
  return g_steal_pointer (&self);
}

gboolean
kiln_terms_check (KilnTerms             *self,
                  KilnTaskAnnouncement  *announcement,
                  KilnOffer             *offer,
                  GError               **error)
{
  KilnUint256 max_price;

  g_return_val_if_fail (KILN_IS_TERMS (self), FALSE);
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (announcement), FALSE);
  g_return_val_if_fail (kiln_task_announcement_is_signed (announcement), FALSE);
  g_return_val_if_fail (offer == NULL || KILN_IS_OFFER (offer), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (memcmp (self->task_id, kiln_task_announcement_get_task_id (announcement),
              KILN_MARKET_ID_SIZE) != 0 ||
      memcmp (self->announcement, kiln_task_announcement_get_digest (announcement),
              KILN_MARKET_DIGEST_SIZE) != 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_WRONG_TASK,
                                 _("The terms are for another task")), FALSE);

  if (!kiln_address_equal (&self->requestor, kiln_task_announcement_get_requestor (announcement)))
    return mismatch (error, _("The terms were not made by the task’s requestor"));
  if (self->chain_id != kiln_task_announcement_get_chain_id (announcement) ||
      !kiln_address_equal (&self->token, kiln_task_announcement_get_token (announcement)))
    return mismatch (error, _("The terms pay on another chain or in another token than the "
                              "task"));
  for (guint i = 0; i < self->subtasks->len; i++)
    if (g_array_index (self->subtasks, guint, i) >=
        kiln_task_announcement_get_n_subtasks (announcement))
      return mismatch (error, _("The terms assign subtask %u, which the task does not have"),
                       g_array_index (self->subtasks, guint, i));

  kiln_task_announcement_get_max_price (announcement, &max_price);
  if (kiln_uint256_compare (&self->price, &max_price) > 0)
    return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_PRICE_TOO_HIGH,
                                 _("The terms pay more than the task’s maximum price")), FALSE);
  if (self->cores < kiln_task_announcement_get_min_cores (announcement))
    return mismatch (error, _("The terms give a subtask fewer cores than the task needs"));
  if (self->timeout != kiln_task_announcement_get_subtask_timeout (announcement))
    return mismatch (error, _("The terms allow another time per subtask than the task"));

  if (offer != NULL)
    {
      KilnUint256 price;

      if (memcmp (kiln_offer_get_task_id (offer), self->task_id, KILN_MARKET_ID_SIZE) != 0 ||
          memcmp (kiln_offer_get_announcement (offer), self->announcement,
                  KILN_MARKET_DIGEST_SIZE) != 0)
        return (g_set_error_literal (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_WRONG_TASK,
                                     _("The offer answers another task than the terms")), FALSE);
      if (!kiln_address_equal (kiln_offer_get_provider (offer), &self->provider))
        return mismatch (error, _("The terms are made out to another provider than the offer’s"));
      kiln_offer_get_price (offer, &price);
      if (!kiln_uint256_equal (&price, &self->price))
        return mismatch (error, _("The terms pay another price than the offer asked"));
      if (self->cores > kiln_offer_get_cores (offer))
        return mismatch (error, _("The terms ask for more cores than the offer lends"));
    }

  return TRUE;
}

void
kiln_terms_compute_payment (KilnTerms   *self,
                            guint64      seconds,
                            KilnUint256 *out)
{
  KilnUint256 pay;

  g_return_if_fail (KILN_IS_TERMS (self));
  g_return_if_fail (out != NULL);

  if (seconds >= self->timeout ||
      !kiln_market_compute_payment (&self->price, self->cores, seconds, &pay, NULL) ||
      kiln_uint256_compare (&pay, &self->max_payment) > 0)
    pay = self->max_payment;

  *out = pay;
}

/* Accessors */

const guint8 *
kiln_terms_get_task_id (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), NULL);

  return self->task_id;
}

const guint8 *
kiln_terms_get_announcement (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), NULL);

  return self->announcement;
}

const KilnAddress *
kiln_terms_get_requestor (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), NULL);

  return &self->requestor;
}

const KilnAddress *
kiln_terms_get_provider (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), NULL);

  return &self->provider;
}

guint64
kiln_terms_get_chain_id (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), 0);

  return self->chain_id;
}

const KilnAddress *
kiln_terms_get_token (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), NULL);

  return &self->token;
}

const guint *
kiln_terms_get_subtasks (KilnTerms *self,
                         guint     *n_subtasks)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), NULL);

  if (n_subtasks != NULL)
    *n_subtasks = self->subtasks->len;
  return (const guint *) self->subtasks->data;
}

void
kiln_terms_get_price (KilnTerms   *self,
                      KilnUint256 *out)
{
  g_return_if_fail (KILN_IS_TERMS (self));
  g_return_if_fail (out != NULL);

  *out = self->price;
}

guint
kiln_terms_get_cores (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), 0);

  return self->cores;
}

guint
kiln_terms_get_timeout (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), 0);

  return self->timeout;
}

void
kiln_terms_get_max_payment (KilnTerms   *self,
                            KilnUint256 *out)
{
  g_return_if_fail (KILN_IS_TERMS (self));
  g_return_if_fail (out != NULL);

  *out = self->max_payment;
}

void
kiln_terms_get_max_total (KilnTerms   *self,
                          KilnUint256 *out)
{
  g_return_if_fail (KILN_IS_TERMS (self));
  g_return_if_fail (out != NULL);

  /* Below 2^145 × KILN_TERMS_MAX_SUBTASKS: cannot overflow. */
  if (!kiln_uint256_mul_uint64 (out, &self->max_payment, self->subtasks->len))
    g_assert_not_reached ();
}

gint64
kiln_terms_get_created (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), 0);

  return self->created;
}

gint64
kiln_terms_get_expires (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), 0);

  return self->expires;
}

GBytes *
kiln_terms_get_details (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), NULL);

  return self->details;
}

gboolean
kiln_terms_is_accepted (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), FALSE);

  return self->accepted;
}

GBytes *
kiln_terms_get_bytes (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), NULL);

  return self->bytes;
}

const guint8 *
kiln_terms_get_digest (KilnTerms *self)
{
  g_return_val_if_fail (KILN_IS_TERMS (self), NULL);

  return self->digest;
}
