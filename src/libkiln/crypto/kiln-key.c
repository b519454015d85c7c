/* kiln-key.c: a node's secp256k1 key: network identity and Ethereum account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "kiln-crypto.h"
#include "kiln-key.h"
#include "kiln-random.h"

struct _KilnKey
{
  GObject      parent_instance;

  /* KILN_SECRET_KEY_SIZE bytes on a page of their own: locked in RAM where
   * the limits allow it, left out of core dumps, wiped in finalize. */
  guint8      *secret;
  gsize        secret_page_size;

  guint8       public_key[KILN_PUBLIC_KEY_SIZE];
  KilnAddress  address;
  char         address_string[KILN_ADDRESS_STRING_SIZE];
};

enum {
  PROP_0,
  PROP_ADDRESS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (KilnKey, kiln_key, G_TYPE_OBJECT)

/* One context for the whole process. After creation and randomization it is
 * only used read-only, which libsecp256k1 allows from any thread. */
static const secp256k1_context *
kiln_secp256k1_context (void)
{
  static secp256k1_context *context;

  if (g_once_init_enter (&context))
    {
      secp256k1_context *ctx = secp256k1_context_create (SECP256K1_CONTEXT_NONE);
      guint8 seed[32];
      g_autoptr(GError) error = NULL;

      /* Blinding only hardens against side channels; signing stays correct
       * without it, so a failure here is reported and not fatal. */
      if (kiln_random_bytes (seed, sizeof seed, &error))
        {
          if (!secp256k1_context_randomize (ctx, seed))
            g_warning ("Could not blind the secp256k1 context");
        }
      else
        g_warning ("Could not blind the secp256k1 context: %s", error->message);

      kiln_secure_wipe (seed, sizeof seed);
      g_once_init_leave (&context, ctx);
    }

  return context;
}

static guint8 *
secret_page_new (gsize *page_size)
{
  long size = sysconf (_SC_PAGESIZE);
  void *page;

  g_assert (page_size != NULL);

  if (size < KILN_SECRET_KEY_SIZE)
    size = 4096;

  page = mmap (NULL, (gsize) size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED)
    g_error ("Could not allocate memory for a secret key: %s", g_strerror (errno));

  /* Both are best effort: RLIMIT_MEMLOCK may be small. */
  (void) mlock (page, (gsize) size);
  (void) madvise (page, (gsize) size, MADV_DONTDUMP);

  *page_size = (gsize) size;

  return page;
}

static void
secret_page_free (guint8 *page,
                  gsize   page_size)
{
  if (page == NULL)
    return;

  kiln_secure_wipe (page, page_size);
  (void) munlock (page, page_size);
  (void) munmap (page, page_size);
}

static void
kiln_key_finalize (GObject *object)
{
  KilnKey *self = (KilnKey *) object;

  secret_page_free (self->secret, self->secret_page_size);
  self->secret = NULL;

  G_OBJECT_CLASS (kiln_key_parent_class)->finalize (object);
}

static void
kiln_key_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  KilnKey *self = KILN_KEY (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      g_value_set_string (value, self->address_string);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_key_class_init (KilnKeyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kiln_key_finalize;
  object_class->get_property = kiln_key_get_property;

  /**
   * KilnKey:address:
   *
   * The key's Ethereum address in EIP-55 form; also the node's ID.
   */
  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_key_init (KilnKey *self)
{
  self->secret = secret_page_new (&self->secret_page_size);
}

/* Takes a copy of @secret, already checked with secp256k1_ec_seckey_verify. */
static KilnKey *
kiln_key_new_from_valid_secret (const guint8 secret[KILN_SECRET_KEY_SIZE])
{
  const secp256k1_context *ctx = kiln_secp256k1_context ();
  g_autoptr(KilnKey) self = g_object_new (KILN_TYPE_KEY, NULL);
  secp256k1_pubkey pubkey;
  guint8 serialized[1 + KILN_PUBLIC_KEY_SIZE];
  size_t serialized_len = sizeof serialized;

  memcpy (self->secret, secret, KILN_SECRET_KEY_SIZE);

  if (!secp256k1_ec_pubkey_create (ctx, &pubkey, self->secret))
    g_assert_not_reached ();
  if (!secp256k1_ec_pubkey_serialize (ctx, serialized, &serialized_len, &pubkey,
                                      SECP256K1_EC_UNCOMPRESSED))
    g_assert_not_reached ();
  g_assert (serialized_len == sizeof serialized && serialized[0] == 0x04);

  memcpy (self->public_key, serialized + 1, KILN_PUBLIC_KEY_SIZE);
  kiln_address_from_public_key (&self->address, self->public_key);
  kiln_address_format (&self->address, self->address_string);

  return g_steal_pointer (&self);
}

KilnKey *
kiln_key_generate (GError **error)
{
  const secp256k1_context *ctx = kiln_secp256k1_context ();
  KilnKey *self = NULL;
  guint8 secret[KILN_SECRET_KEY_SIZE];

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* A uniform 256-bit number is out of range with probability ~2^-128. */
  for (;;)
    {
      if (!kiln_random_bytes (secret, sizeof secret, error))
        break;

      if (secp256k1_ec_seckey_verify (ctx, secret))
        {
          self = kiln_key_new_from_valid_secret (secret);
          break;
        }
    }

  kiln_secure_wipe (secret, sizeof secret);

  return self;
}

KilnKey *
kiln_key_new_from_bytes (const guint8  *secret,
                         gsize          len,
                         GError       **error)
{
  g_return_val_if_fail (secret != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len != KILN_SECRET_KEY_SIZE)
    {
      g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY,
                   _("A secret key is %u bytes long, not %zu"),
                   (guint) KILN_SECRET_KEY_SIZE, len);
      return NULL;
    }

  if (!secp256k1_ec_seckey_verify (kiln_secp256k1_context (), secret))
    {
      g_set_error_literal (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY,
                           _("This is not a usable secret key: it must be a number from 1 "
                             "up to, but not including, the order of the secp256k1 curve"));
      return NULL;
    }

  return kiln_key_new_from_valid_secret (secret);
}

KilnKey *
kiln_key_new_from_hex (const char  *hex,
                       GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  KilnKey *self = NULL;
  guint8 secret[KILN_SECRET_KEY_SIZE];
  gsize copy_size;
  char *copy;

  g_return_val_if_fail (hex != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  copy_size = strlen (hex) + 1;
  copy = g_memdup2 (hex, copy_size);
  g_strstrip (copy);

  if (kiln_hex_decode (copy, secret, sizeof secret, &local_error))
    self = kiln_key_new_from_bytes (secret, sizeof secret, error);
  else
    g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_KEY,
                 _("This is not a secret key. %s"),
                 local_error->message);

  kiln_secure_wipe (secret, sizeof secret);
  kiln_secure_wipe (copy, copy_size);
  g_free (copy);

  return self;
}

const KilnAddress *
kiln_key_get_address (KilnKey *self)
{
  g_return_val_if_fail (KILN_IS_KEY (self), NULL);

  return &self->address;
}

const char *
kiln_key_get_address_string (KilnKey *self)
{
  g_return_val_if_fail (KILN_IS_KEY (self), NULL);

  return self->address_string;
}

void
kiln_key_get_public_key (KilnKey *self,
                         guint8   out[KILN_PUBLIC_KEY_SIZE])
{
  g_return_if_fail (KILN_IS_KEY (self));
  g_return_if_fail (out != NULL);

  memcpy (out, self->public_key, KILN_PUBLIC_KEY_SIZE);
}

void
kiln_key_copy_secret (KilnKey *self,
                      guint8   out[KILN_SECRET_KEY_SIZE])
{
  g_return_if_fail (KILN_IS_KEY (self));
  g_return_if_fail (out != NULL);

  memcpy (out, self->secret, KILN_SECRET_KEY_SIZE);
}

gboolean
kiln_key_sign_digest (KilnKey      *self,
                      const guint8  digest[32],
                      guint8        signature[KILN_SIGNATURE_SIZE],
                      GError      **error)
{
  const secp256k1_context *ctx = kiln_secp256k1_context ();
  secp256k1_ecdsa_recoverable_signature sig;
  int recid = -1;

  g_return_val_if_fail (KILN_IS_KEY (self), FALSE);
  g_return_val_if_fail (digest != NULL, FALSE);
  g_return_val_if_fail (signature != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* NULL nonce function: RFC 6979. The result is always low-S. */
  if (!secp256k1_ecdsa_sign_recoverable (ctx, &sig, digest, self->secret, NULL, NULL))
    {
      g_set_error_literal (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_SIGNATURE,
                           _("Could not sign with this key"));
      return FALSE;
    }

  secp256k1_ecdsa_recoverable_signature_serialize_compact (ctx, signature, &recid, &sig);
  g_assert (recid >= 0 && recid <= 3);
  signature[KILN_SIGNATURE_SIZE - 1] = (guint8) recid;

  return TRUE;
}

gboolean
kiln_recover_address (const guint8   digest[32],
                      const guint8   signature[KILN_SIGNATURE_SIZE],
                      KilnAddress   *out,
                      GError       **error)
{
  const secp256k1_context *ctx = kiln_secp256k1_context ();
  secp256k1_ecdsa_recoverable_signature sig;
  secp256k1_ecdsa_signature plain;
  secp256k1_pubkey pubkey;
  guint8 serialized[1 + KILN_PUBLIC_KEY_SIZE];
  size_t serialized_len = sizeof serialized;
  guint recid;

  g_return_val_if_fail (digest != NULL, FALSE);
  g_return_val_if_fail (signature != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  recid = signature[KILN_SIGNATURE_SIZE - 1];
  if (recid > 3)
    {
      g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_SIGNATURE,
                   _("The signature is damaged: its recovery id is %u, but only 0 to 3 "
                     "exist"),
                   recid);
      return FALSE;
    }

  if (!secp256k1_ecdsa_recoverable_signature_parse_compact (ctx, &sig, signature, (int) recid))
    {
      g_set_error_literal (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_SIGNATURE,
                           _("The signature is damaged: its r or s value is out of range"));
      return FALSE;
    }

  /* A high-S twin of a valid signature would also recover; refuse it so that
   * every signature has exactly one encoding (as Ethereum does since EIP-2). */
  secp256k1_ecdsa_recoverable_signature_convert (ctx, &plain, &sig);
  if (secp256k1_ecdsa_signature_normalize (ctx, NULL, &plain))
    {
      g_set_error_literal (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_SIGNATURE,
                           _("The signature is not in canonical form (its s value is in "
                             "the upper half of the range)"));
      return FALSE;
    }

  if (!secp256k1_ecdsa_recover (ctx, &pubkey, &sig, digest))
    {
      g_set_error_literal (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_INVALID_SIGNATURE,
                           _("The signature does not match any key for this message"));
      return FALSE;
    }

  if (!secp256k1_ec_pubkey_serialize (ctx, serialized, &serialized_len, &pubkey,
                                      SECP256K1_EC_UNCOMPRESSED))
    g_assert_not_reached ();

  kiln_address_from_public_key (out, serialized + 1);

  return TRUE;
}
