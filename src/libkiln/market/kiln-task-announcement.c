/* kiln-task-announcement.c: a requestor's signed call for offers on a render task
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-market-private.h"
#include "kiln-random.h"
#include "kiln-task-announcement.h"

/* The body's fields, in order (docs/market.md). */
enum
{
  FIELD_VERSION,
  FIELD_TASK_ID,
  FIELD_REQUESTOR,
  FIELD_CHAIN_ID,
  FIELD_TOKEN,
  FIELD_CREATED,
  FIELD_EXPIRES,
  FIELD_DEADLINE,
  FIELD_BLENDER_MAJOR,
  FIELD_BLENDER_MINOR,
  FIELD_ENGINE,
  FIELD_MIN_CORES,
  FIELD_MEMORY_MIB,
  FIELD_DISK_MIB,
  FIELD_N_SUBTASKS,
  FIELD_TIMEOUT,
  FIELD_MAX_PRICE,
  FIELD_MAX_TOTAL,
  FIELD_RESOURCES,
  N_FIELDS
};

#define BLENDER_VERSION_MAX 255

struct _KilnTaskAnnouncement
{
  GObject      parent_instance;

  guint8       task_id[KILN_MARKET_ID_SIZE];
  KilnAddress  requestor;
  guint64      chain_id;
  KilnAddress  token;
  gint64       created;
  gint64       expires;
  gint64       deadline;
  guint        blender_major;
  guint        blender_minor;
  char        *engine;
  guint        min_cores;
  guint        memory_mib;
  guint        disk_mib;
  guint        n_subtasks;
  guint        timeout;
  KilnUint256  max_price;
  KilnUint256  max_total;
  GArray      *resources;   /* of guint8[32] */

  /* Set once signed or verified. */
  GBytes      *bytes;
  guint8       digest[KILN_MARKET_DIGEST_SIZE];
};

G_DEFINE_FINAL_TYPE (KilnTaskAnnouncement, kiln_task_announcement, G_TYPE_OBJECT)

static const char *
what (void)
{
  return _("task announcement");
}

static void
kiln_task_announcement_finalize (GObject *object)
{
  KilnTaskAnnouncement *self = KILN_TASK_ANNOUNCEMENT (object);

  g_free (self->engine);
  g_array_unref (self->resources);
  g_clear_pointer (&self->bytes, g_bytes_unref);

  G_OBJECT_CLASS (kiln_task_announcement_parent_class)->finalize (object);
}

static void
kiln_task_announcement_class_init (KilnTaskAnnouncementClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kiln_task_announcement_finalize;
}

static void
kiln_task_announcement_init (KilnTaskAnnouncement *self)
{
  self->engine = g_strdup ("CYCLES");
  self->min_cores = 1;
  self->n_subtasks = 1;
  self->timeout = 600;
  self->resources = g_array_new (FALSE, FALSE, KILN_MARKET_HASH_SIZE);
}

KilnTaskAnnouncement *
kiln_task_announcement_new (void)
{
  return g_object_new (KILN_TYPE_TASK_ANNOUNCEMENT, NULL);
}

static void
changed (KilnTaskAnnouncement *self)
{
  g_clear_pointer (&self->bytes, g_bytes_unref);
  memset (self->digest, 0, sizeof self->digest);
}

/* Accessors */

const guint8 *
kiln_task_announcement_get_task_id (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), NULL);

  return self->task_id;
}

void
kiln_task_announcement_set_task_id (KilnTaskAnnouncement *self,
                                    const guint8         *id)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));
  g_return_if_fail (id != NULL);

  memcpy (self->task_id, id, KILN_MARKET_ID_SIZE);
  changed (self);
}

const KilnAddress *
kiln_task_announcement_get_requestor (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), NULL);

  return &self->requestor;
}

guint64
kiln_task_announcement_get_chain_id (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->chain_id;
}

const KilnAddress *
kiln_task_announcement_get_token (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), NULL);

  return &self->token;
}

void
kiln_task_announcement_set_payment (KilnTaskAnnouncement *self,
                                    guint64               chain_id,
                                    const KilnAddress    *token)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));
  g_return_if_fail (token != NULL);

  self->chain_id = chain_id;
  self->token = *token;
  changed (self);
}

gint64
kiln_task_announcement_get_created (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->created;
}

gint64
kiln_task_announcement_get_expires (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->expires;
}

gint64
kiln_task_announcement_get_deadline (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->deadline;
}

void
kiln_task_announcement_set_times (KilnTaskAnnouncement *self,
                                  gint64                created,
                                  gint64                expires,
                                  gint64                deadline)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));

  self->created = created;
  self->expires = expires;
  self->deadline = deadline;
  changed (self);
}

void
kiln_task_announcement_get_blender_version (KilnTaskAnnouncement *self,
                                            guint                *major,
                                            guint                *minor)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));

  if (major != NULL)
    *major = self->blender_major;
  if (minor != NULL)
    *minor = self->blender_minor;
}

void
kiln_task_announcement_set_blender_version (KilnTaskAnnouncement *self,
                                            guint                 major,
                                            guint                 minor)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));

  self->blender_major = major;
  self->blender_minor = minor;
  changed (self);
}

const char *
kiln_task_announcement_get_engine (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), NULL);

  return self->engine;
}

void
kiln_task_announcement_set_engine (KilnTaskAnnouncement *self,
                                   const char           *engine)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));
  g_return_if_fail (engine != NULL);

  g_free (self->engine);
  self->engine = g_strdup (engine);
  changed (self);
}

guint
kiln_task_announcement_get_min_cores (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->min_cores;
}

guint
kiln_task_announcement_get_memory_mib (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->memory_mib;
}

guint
kiln_task_announcement_get_disk_mib (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->disk_mib;
}

void
kiln_task_announcement_set_hardware (KilnTaskAnnouncement *self,
                                     guint                 min_cores,
                                     guint                 memory_mib,
                                     guint                 disk_mib)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));

  self->min_cores = min_cores;
  self->memory_mib = memory_mib;
  self->disk_mib = disk_mib;
  changed (self);
}

guint
kiln_task_announcement_get_n_subtasks (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->n_subtasks;
}

guint
kiln_task_announcement_get_subtask_timeout (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->timeout;
}

void
kiln_task_announcement_set_subtasks (KilnTaskAnnouncement *self,
                                     guint                 n_subtasks,
                                     guint                 timeout)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));

  self->n_subtasks = n_subtasks;
  self->timeout = timeout;
  changed (self);
}

void
kiln_task_announcement_get_max_price (KilnTaskAnnouncement *self,
                                      KilnUint256          *out)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));
  g_return_if_fail (out != NULL);

  *out = self->max_price;
}

void
kiln_task_announcement_set_max_price (KilnTaskAnnouncement *self,
                                      const KilnUint256    *price)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));
  g_return_if_fail (price != NULL);

  self->max_price = *price;
  changed (self);
}

void
kiln_task_announcement_get_max_total (KilnTaskAnnouncement *self,
                                      KilnUint256          *out)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));
  g_return_if_fail (out != NULL);

  *out = self->max_total;
}

void
kiln_task_announcement_set_max_total (KilnTaskAnnouncement *self,
                                      const KilnUint256    *total)
{
  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));
  g_return_if_fail (total != NULL);

  self->max_total = *total;
  changed (self);
}

guint
kiln_task_announcement_get_n_resources (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), 0);

  return self->resources->len;
}

const guint8 *
kiln_task_announcement_get_resource (KilnTaskAnnouncement *self,
                                     guint                 index)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), NULL);
  g_return_val_if_fail (index < self->resources->len, NULL);

  return (const guint8 *) self->resources->data + (gsize) index * KILN_MARKET_HASH_SIZE;
}

void
kiln_task_announcement_add_resource (KilnTaskAnnouncement *self,
                                     const guint8         *sha256)
{
  guint8 hash[KILN_MARKET_HASH_SIZE];

  g_return_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self));
  g_return_if_fail (sha256 != NULL);

  /* Copied first: @sha256 may point into the array, which appending can move. */
  memcpy (hash, sha256, sizeof hash);
  g_array_append_vals (self->resources, hash, 1);
  changed (self);
}

gboolean
kiln_task_announcement_get_max_subtask_payment (KilnTaskAnnouncement  *self,
                                                KilnUint256           *out,
                                                GError               **error)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  return kiln_market_compute_payment (&self->max_price, self->min_cores, self->timeout, out,
                                      error);
}

gboolean
kiln_task_announcement_get_max_cost (KilnTaskAnnouncement  *self,
                                     KilnUint256           *out,
                                     GError               **error)
{
  KilnUint256 per_subtask;
  KilnUint256 total;

  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!kiln_task_announcement_get_max_subtask_payment (self, &per_subtask, error))
    return FALSE;

  /* An overflowing product is above any maximum total. */
  if (!kiln_uint256_mul_uint64 (&total, &per_subtask, self->n_subtasks) ||
      kiln_uint256_compare (&total, &self->max_total) > 0)
    total = self->max_total;

  *out = total;
  return TRUE;
}

/* Checking */

static gboolean
engine_is_valid (const char *engine)
{
  gsize len = strlen (engine);

  if (len == 0 || len > KILN_MARKET_ENGINE_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isupper (engine[i]) && !g_ascii_isdigit (engine[i]) && engine[i] != '_')
      return FALSE;
  return TRUE;
}

static gboolean
is_zero (const guint8 *data,
         gsize         len)
{
  for (gsize i = 0; i < len; i++)
    if (data[i] != 0)
      return FALSE;
  return TRUE;
}

/* Everything but the signature and the times against the clock. */
static gboolean
check_fields (KilnTaskAnnouncement  *self,
              GError               **error)
{
  if (self->chain_id == 0)
    return kiln_market_set_malformed (error, what (), _("it names no chain to pay on"));
  if (self->blender_major > BLENDER_VERSION_MAX || self->blender_minor > BLENDER_VERSION_MAX)
    return kiln_market_set_malformed (error, what (), _("Blender %u.%u is not a Blender release"),
                                      self->blender_major, self->blender_minor);
  if (!engine_is_valid (self->engine))
    return kiln_market_set_malformed (error, what (),
                                      _("a render engine is named by 1 to %u of A–Z, 0–9 and _"),
                                      KILN_MARKET_ENGINE_MAX);
  if (self->min_cores < 1 || self->min_cores > KILN_MARKET_MAX_CORES)
    return kiln_market_set_malformed (error, what (), _("a subtask must run on 1 to %u cores"),
                                      KILN_MARKET_MAX_CORES);
  if (self->memory_mib > KILN_MARKET_MAX_MIB || self->disk_mib > KILN_MARKET_MAX_MIB)
    return kiln_market_set_malformed (error, what (), _("it asks for more than %u MiB"),
                                      KILN_MARKET_MAX_MIB);
  if (self->n_subtasks < 1 || self->n_subtasks > KILN_MARKET_MAX_SUBTASKS)
    return kiln_market_set_malformed (error, what (), _("a task has 1 to %u subtasks"),
                                      KILN_MARKET_MAX_SUBTASKS);
  if (self->timeout < 1 || self->timeout > KILN_MARKET_MAX_TIMEOUT)
    return kiln_market_set_malformed (error, what (), _("a subtask may take 1 to %u seconds"),
                                      KILN_MARKET_MAX_TIMEOUT);
  if (!kiln_market_amount_in_range (&self->max_price) ||
      !kiln_market_amount_in_range (&self->max_total))
    return kiln_market_set_malformed (error, what (),
                                      _("its prices are larger than 2^%u base units"),
                                      KILN_MARKET_AMOUNT_BITS);

  if (self->resources->len < 1)
    return kiln_market_set_malformed (error, what (), _("it names no file to render"));
  if (self->resources->len > KILN_TASK_MAX_RESOURCES)
    return kiln_market_set_malformed (error, what (), _("it names more than %u files"),
                                      KILN_TASK_MAX_RESOURCES);
  for (guint i = 0; i < self->resources->len; i++)
    for (guint j = i + 1; j < self->resources->len; j++)
      if (memcmp (kiln_task_announcement_get_resource (self, i),
                  kiln_task_announcement_get_resource (self, j), KILN_MARKET_HASH_SIZE) == 0)
        return kiln_market_set_malformed (error, what (), _("it names the same file twice"));

  if (self->deadline < self->expires || self->deadline - self->created > KILN_TASK_MAX_DEADLINE)
    return kiln_market_set_malformed (error, what (),
                                      _("its deadline must be after its expiry and within %u days"),
                                      KILN_TASK_MAX_DEADLINE / (24 * 60 * 60));

  return TRUE;
}

static gboolean
check_times (KilnTaskAnnouncement  *self,
             gint64                 now,
             GError               **error)
{
  return kiln_market_check_times (self->created, self->expires, KILN_TASK_MAX_LIFETIME, now,
                                  what (), error);
}

/* Encoding and signing */

static GBytes *
encode_body (KilnTaskAnnouncement *self)
{
  g_autoptr(KilnRlpEncoder) encoder = kiln_rlp_encoder_new ();

  kiln_rlp_encoder_begin_list (encoder);
  kiln_rlp_encoder_append_uint64 (encoder, KILN_MARKET_VERSION);
  kiln_rlp_encoder_append_bytes (encoder, self->task_id, KILN_MARKET_ID_SIZE);
  kiln_rlp_encoder_append_bytes (encoder, self->requestor.bytes, KILN_ADDRESS_SIZE);
  kiln_rlp_encoder_append_uint64 (encoder, self->chain_id);
  kiln_rlp_encoder_append_bytes (encoder, self->token.bytes, KILN_ADDRESS_SIZE);
  kiln_rlp_encoder_append_uint64 (encoder, self->created);
  kiln_rlp_encoder_append_uint64 (encoder, self->expires);
  kiln_rlp_encoder_append_uint64 (encoder, self->deadline);
  kiln_rlp_encoder_append_uint64 (encoder, self->blender_major);
  kiln_rlp_encoder_append_uint64 (encoder, self->blender_minor);
  kiln_rlp_encoder_append_string (encoder, self->engine);
  kiln_rlp_encoder_append_uint64 (encoder, self->min_cores);
  kiln_rlp_encoder_append_uint64 (encoder, self->memory_mib);
  kiln_rlp_encoder_append_uint64 (encoder, self->disk_mib);
  kiln_rlp_encoder_append_uint64 (encoder, self->n_subtasks);
  kiln_rlp_encoder_append_uint64 (encoder, self->timeout);
  kiln_rlp_encoder_append_uint256 (encoder, &self->max_price);
  kiln_rlp_encoder_append_uint256 (encoder, &self->max_total);
  kiln_rlp_encoder_begin_list (encoder);
  for (guint i = 0; i < self->resources->len; i++)
    kiln_rlp_encoder_append_bytes (encoder, kiln_task_announcement_get_resource (self, i),
                                   KILN_MARKET_HASH_SIZE);
  kiln_rlp_encoder_end_list (encoder);
  kiln_rlp_encoder_end_list (encoder);

  return kiln_rlp_encoder_steal_bytes (encoder);
}

gboolean
kiln_task_announcement_sign (KilnTaskAnnouncement  *self,
                             KilnKey               *key,
                             GError               **error)
{
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint8 signature[KILN_SIGNATURE_SIZE];
  guint8 digest[KILN_MARKET_DIGEST_SIZE];

  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  changed (self);
  if (!check_fields (self, error) || !check_times (self, -1, error))
    return FALSE;

  if (is_zero (self->task_id, KILN_MARKET_ID_SIZE))
    {
      g_autoptr(GError) random_error = NULL;

      if (!kiln_random_bytes (self->task_id, KILN_MARKET_ID_SIZE, &random_error))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&random_error),
                                      _("Could not make a task ID: "));
          return FALSE;
        }
    }

  self->requestor = *kiln_key_get_address (key);
  body = encode_body (self);
  kiln_market_digest (KILN_MARKET_TASK_CONTEXT, g_bytes_get_data (body, NULL),
                      g_bytes_get_size (body), digest);
  if (!kiln_key_sign_digest (key, digest, signature, error))
    return FALSE;

  bytes = kiln_market_seal (body, signature, 1);
  if (g_bytes_get_size (bytes) > KILN_TASK_MAX_SIZE)
    return (g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_TOO_LARGE,
                         _("The task announcement would be larger than %u bytes: name fewer "
                           "files"), KILN_TASK_MAX_SIZE), FALSE);

  self->bytes = g_steal_pointer (&bytes);
  memcpy (self->digest, digest, sizeof digest);
  return TRUE;
}

gboolean
kiln_task_announcement_is_signed (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), FALSE);

  return self->bytes != NULL;
}

GBytes *
kiln_task_announcement_get_bytes (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), NULL);
  g_return_val_if_fail (self->bytes != NULL, NULL);

  return self->bytes;
}

const guint8 *
kiln_task_announcement_get_digest (KilnTaskAnnouncement *self)
{
  g_return_val_if_fail (KILN_IS_TASK_ANNOUNCEMENT (self), NULL);
  g_return_val_if_fail (self->bytes != NULL, NULL);

  return self->digest;
}

/* Reading */

static gboolean
read_resources (KilnTaskAnnouncement  *self,
                const KilnRlpItem     *list,
                GError               **error)
{
  guint n;

  if (!kiln_rlp_item_is_list (list))
    return kiln_market_set_malformed (error, what (), _("its files are not a list"));

  n = kiln_rlp_item_get_n_children (list);
  if (n > KILN_TASK_MAX_RESOURCES)
    return kiln_market_set_malformed (error, what (), _("it names more than %u files"),
                                      KILN_TASK_MAX_RESOURCES);

  for (guint i = 0; i < n; i++)
    {
      guint8 hash[KILN_MARKET_HASH_SIZE];

      if (!kiln_market_read_fixed (kiln_rlp_item_get_child (list, i), what (), _("file hash"),
                                   hash, sizeof hash, error))
        return FALSE;
      g_array_append_vals (self->resources, hash, 1);
    }

  return TRUE;
}

static gboolean
read_body (KilnTaskAnnouncement  *self,
           const KilnRlpItem     *body,
           GError               **error)
{
  const KilnRlpItem *engine;
  guint64 values[N_FIELDS] = { 0 };
  static const struct
  {
    guint       field;
    const char *name;
    guint64     min;
    guint64     max;
  } numbers[] = {
    { FIELD_CHAIN_ID, N_("chain ID"), 1, G_MAXUINT64 },
    { FIELD_CREATED, N_("creation time"), 0, KILN_MARKET_MAX_TIME },
    { FIELD_EXPIRES, N_("expiry time"), 0, KILN_MARKET_MAX_TIME },
    { FIELD_DEADLINE, N_("deadline"), 0, KILN_MARKET_MAX_TIME },
    { FIELD_BLENDER_MAJOR, N_("Blender major version"), 0, BLENDER_VERSION_MAX },
    { FIELD_BLENDER_MINOR, N_("Blender minor version"), 0, BLENDER_VERSION_MAX },
    { FIELD_MIN_CORES, N_("cores"), 1, KILN_MARKET_MAX_CORES },
    { FIELD_MEMORY_MIB, N_("memory"), 0, KILN_MARKET_MAX_MIB },
    { FIELD_DISK_MIB, N_("disk space"), 0, KILN_MARKET_MAX_MIB },
    { FIELD_N_SUBTASKS, N_("number of subtasks"), 1, KILN_MARKET_MAX_SUBTASKS },
    { FIELD_TIMEOUT, N_("subtask timeout"), 1, KILN_MARKET_MAX_TIMEOUT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (numbers); i++)
    if (!kiln_market_read_uint (body, numbers[i].field, what (), _(numbers[i].name),
                                numbers[i].min, numbers[i].max, &values[numbers[i].field], error))
      return FALSE;

  if (!kiln_market_read_fixed (kiln_rlp_item_get_child (body, FIELD_TASK_ID), what (),
                               _("task ID"), self->task_id, KILN_MARKET_ID_SIZE, error) ||
      !kiln_market_read_address (body, FIELD_REQUESTOR, what (), _("requestor"),
                                 &self->requestor, error) ||
      !kiln_market_read_address (body, FIELD_TOKEN, what (), _("token"), &self->token, error) ||
      !kiln_market_read_amount (body, FIELD_MAX_PRICE, what (), _("maximum price"),
                                &self->max_price, error) ||
      !kiln_market_read_amount (body, FIELD_MAX_TOTAL, what (), _("maximum total"),
                                &self->max_total, error) ||
      !read_resources (self, kiln_rlp_item_get_child (body, FIELD_RESOURCES), error))
    return FALSE;

  if (is_zero (self->task_id, KILN_MARKET_ID_SIZE))
    return kiln_market_set_malformed (error, what (), _("its task ID is zero"));

  engine = kiln_rlp_item_get_child (body, FIELD_ENGINE);
  if (kiln_rlp_item_is_list (engine) || engine->len < 1 || engine->len > KILN_MARKET_ENGINE_MAX)
    return kiln_market_set_malformed (error, what (), _("its render engine is not a name"));
  g_free (self->engine);
  self->engine = g_strndup ((const char *) engine->data, engine->len);
  if (strlen (self->engine) != engine->len)
    return kiln_market_set_malformed (error, what (), _("its render engine is not a name"));

  self->chain_id = values[FIELD_CHAIN_ID];
  self->created = values[FIELD_CREATED];
  self->expires = values[FIELD_EXPIRES];
  self->deadline = values[FIELD_DEADLINE];
  self->blender_major = values[FIELD_BLENDER_MAJOR];
  self->blender_minor = values[FIELD_BLENDER_MINOR];
  self->min_cores = values[FIELD_MIN_CORES];
  self->memory_mib = values[FIELD_MEMORY_MIB];
  self->disk_mib = values[FIELD_DISK_MIB];
  self->n_subtasks = values[FIELD_N_SUBTASKS];
  self->timeout = values[FIELD_TIMEOUT];

  return check_fields (self, error) && check_times (self, -1, error);
}

KilnTaskAnnouncement *
kiln_task_announcement_verify (GBytes  *bytes,
                               gint64   now,
                               GError **error)
{
  g_autoptr(KilnTaskAnnouncement) self = NULL;
  g_autoptr(KilnRlpItem) envelope = NULL;
  const KilnRlpItem *body;
  const KilnRlpItem *signature;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  envelope = kiln_market_decode_envelope (bytes, KILN_TASK_MAX_SIZE, what (), N_FIELDS, 1, 1,
                                          error);
  if (envelope == NULL)
    return NULL;

  body = kiln_rlp_item_get_child (envelope, 0);
  signature = kiln_rlp_item_get_child (envelope, 1);

  self = kiln_task_announcement_new ();
  if (!read_body (self, body, error))
    return NULL;

  kiln_market_digest (KILN_MARKET_TASK_CONTEXT, body->encoded, body->encoded_len, self->digest);
  if (!kiln_market_check_signature (self->digest, signature->data, &self->requestor,
                                    _("the task announcement’s requestor"), error))
    return NULL;

  if (!check_times (self, now, error))
    return NULL;

  self->bytes = g_bytes_ref (bytes);
  return g_steal_pointer (&self);
}
