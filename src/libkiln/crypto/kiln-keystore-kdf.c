/* kiln-keystore-kdf.c: scrypt and PBKDF2 for keystore files, with limits checked first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>
#include <nettle/pbkdf2.h>
#include <openssl/evp.h>
#include <string.h>

#include "kiln-crypto.h"
#include "kiln-keystore.h"
#include "kiln-keystore-private.h"

/* RFC 7914 requires r · p < 2^30. */
#define SCRYPT_MAX_RP (G_GUINT64_CONSTANT (1) << 30)

/* Room on top of scrypt's computed need for OpenSSL's own bookkeeping. */
#define SCRYPT_MAXMEM_SLACK (64 * 1024)

#define set_limits_error(error, ...) \
  kiln_keystore_set_error (error, KILN_CRYPTO_ERROR_KEYSTORE_LIMITS, __VA_ARGS__)

gboolean
kiln_keystore_check_scrypt_params (guint64   n,
                                   guint64   r,
                                   guint64   p,
                                   GError  **error)
{
  const guint64 max_memory = KILN_KEYSTORE_MAX_SCRYPT_MEMORY;
  g_autofree char *limit = g_format_size (max_memory);

  if (n < 2 || (n & (n - 1)) != 0)
    return set_limits_error (error,
                             _("The scrypt cost N = %" PRIu64 " is not a power of "
                               "two greater than 1"),
                             n);

  if (r == 0 || p == 0)
    return set_limits_error (error,
                             _("The scrypt parameters r = %" PRIu64 " and p = %" PRIu64 " must both be at least 1"),
                             r, p);

  /* Every product below is checked by division first, so nothing can wrap. */
  if (r >= SCRYPT_MAX_RP || p >= SCRYPT_MAX_RP / r)
    return set_limits_error (error,
                             _("The scrypt parameters r = %" PRIu64 " and p = %" PRIu64 " are too large: r × p must be below 2^30"),
                             r, p);

  /* r < 2^30, so 128 · r cannot wrap. */
  if (n > max_memory / (128 * r))
    return set_limits_error (error,
                             _("The scrypt parameters N = %" PRIu64 " and r = %" PRIu64 " are too large: they need more than %s "
                               "of memory"),
                             n, r, limit);

  if (p > max_memory / (128 * r))
    return set_limits_error (error,
                             _("The scrypt parameters r = %" PRIu64 " and p = %" PRIu64 " are too large: they need more than %s "
                               "of memory"),
                             r, p, limit);

  /* Now n · r ≤ 2^23 and p < 2^30: the product fits easily. */
  if (n * r * p > KILN_KEYSTORE_MAX_SCRYPT_WORK)
    return set_limits_error (error,
                             _("The scrypt parameters N = %" PRIu64 ", r = %" PRIu64 " and p = %" PRIu64 " are too "
                               "large: opening the file would take far too long"),
                             n, r, p);

  return TRUE;
}

gboolean
kiln_keystore_check_pbkdf2_rounds (guint64   rounds,
                                   GError  **error)
{
  if (rounds == 0)
    return set_limits_error (error, _("The PBKDF2 round count must be at least 1"));

  if (rounds > KILN_KEYSTORE_MAX_PBKDF2_ROUNDS)
    return set_limits_error (error,
                             _("The PBKDF2 round count %" PRIu64 " is too large "
                               "(at most %d): opening the file would take far too long"),
                             rounds, KILN_KEYSTORE_MAX_PBKDF2_ROUNDS);

  return TRUE;
}

gboolean
kiln_keystore_pbkdf2_sha256 (const guint8  *password,
                             gsize          password_len,
                             const guint8  *salt,
                             gsize          salt_len,
                             guint64        rounds,
                             guint8        *out,
                             gsize          out_len,
                             GError       **error)
{
  g_return_val_if_fail (password != NULL || password_len == 0, FALSE);
  g_return_val_if_fail (salt != NULL || salt_len == 0, FALSE);
  g_return_val_if_fail (out != NULL && out_len > 0, FALSE);

  if (!kiln_keystore_check_pbkdf2_rounds (rounds, error))
    return FALSE;

  /* The limit above keeps @rounds well inside an unsigned int. */
  pbkdf2_hmac_sha256 (password_len, password, (unsigned) rounds, salt_len, salt, out_len, out);

  return TRUE;
}

/* The in-tree scrypt (RFC 7914, sections 3 to 6) exists because OpenSSL also
 * enforces "N < 2^(128 · r / 8)" from section 2 of the RFC. That condition is
 * an error in the RFC (erratum 5971: the original scrypt paper has no such bound)
 * and real keystores break it: the Web3 Secret Storage test vector and files from
 * older wallets use N = 2^18 with r = 1, which geth, ethers and others read. */

static inline guint32
rotl32 (guint32 value,
        guint   shift)
{
  return (value << shift) | (value >> (32 - shift));
}

/* Salsa20/8 core on 16 little-endian words, in place. */
static void
salsa20_8 (guint32 block[16])
{
  guint32 x[16];

  memcpy (x, block, sizeof x);

  for (guint round = 0; round < 8; round += 2)
    {
      /* Columns. */
      x[4] ^= rotl32 (x[0] + x[12], 7);   x[8] ^= rotl32 (x[4] + x[0], 9);
      x[12] ^= rotl32 (x[8] + x[4], 13);  x[0] ^= rotl32 (x[12] + x[8], 18);
      x[9] ^= rotl32 (x[5] + x[1], 7);    x[13] ^= rotl32 (x[9] + x[5], 9);
      x[1] ^= rotl32 (x[13] + x[9], 13);  x[5] ^= rotl32 (x[1] + x[13], 18);
      x[14] ^= rotl32 (x[10] + x[6], 7);  x[2] ^= rotl32 (x[14] + x[10], 9);
      x[6] ^= rotl32 (x[2] + x[14], 13);  x[10] ^= rotl32 (x[6] + x[2], 18);
      x[3] ^= rotl32 (x[15] + x[11], 7);  x[7] ^= rotl32 (x[3] + x[15], 9);
      x[11] ^= rotl32 (x[7] + x[3], 13);  x[15] ^= rotl32 (x[11] + x[7], 18);

      /* Rows. */
      x[1] ^= rotl32 (x[0] + x[3], 7);    x[2] ^= rotl32 (x[1] + x[0], 9);
      x[3] ^= rotl32 (x[2] + x[1], 13);   x[0] ^= rotl32 (x[3] + x[2], 18);
      x[6] ^= rotl32 (x[5] + x[4], 7);    x[7] ^= rotl32 (x[6] + x[5], 9);
      x[4] ^= rotl32 (x[7] + x[6], 13);   x[5] ^= rotl32 (x[4] + x[7], 18);
      x[11] ^= rotl32 (x[10] + x[9], 7);  x[8] ^= rotl32 (x[11] + x[10], 9);
      x[9] ^= rotl32 (x[8] + x[11], 13);  x[10] ^= rotl32 (x[9] + x[8], 18);
      x[12] ^= rotl32 (x[15] + x[14], 7); x[13] ^= rotl32 (x[12] + x[15], 9);
      x[14] ^= rotl32 (x[13] + x[12], 13); x[15] ^= rotl32 (x[14] + x[13], 18);
    }

  for (guint i = 0; i < 16; i++)
    block[i] += x[i];

  kiln_secure_wipe (x, sizeof x);
}

/* BlockMix (RFC 7914 section 4) on 2·r 64-byte blocks of @b, using @y (same size)
 * as scratch space. */
static void
block_mix (guint32 *b,
           guint32 *y,
           gsize    r)
{
  guint32 x[16];

  memcpy (x, &b[(2 * r - 1) * 16], sizeof x);

  for (gsize i = 0; i < 2 * r; i++)
    {
      for (guint k = 0; k < 16; k++)
        x[k] ^= b[i * 16 + k];
      salsa20_8 (x);
      memcpy (&y[i * 16], x, sizeof x);
    }

  /* Even blocks first, then odd ones. */
  for (gsize i = 0; i < r; i++)
    {
      memcpy (&b[i * 16], &y[(2 * i) * 16], sizeof x);
      memcpy (&b[(i + r) * 16], &y[(2 * i + 1) * 16], sizeof x);
    }

  kiln_secure_wipe (x, sizeof x);
}

/* ROMix (RFC 7914 section 5) on one 128·r-byte chunk of @bytes, in place.
 * @v holds N · 32 · r words, @x and @y 32 · r words each. */
static void
ro_mix (guint8  *bytes,
        gsize    r,
        guint64  n,
        guint32 *v,
        guint32 *x,
        guint32 *y)
{
  const gsize words = 32 * r;

  for (gsize k = 0; k < words; k++)
    {
      guint32 word;

      memcpy (&word, &bytes[4 * k], 4);
      x[k] = GUINT32_FROM_LE (word);
    }

  for (guint64 i = 0; i < n; i++)
    {
      memcpy (&v[i * words], x, words * 4);
      block_mix (x, y, r);
    }

  for (guint64 i = 0; i < n; i++)
    {
      /* Integerify: the first 64 bits of the last block; N is a power of two. */
      const guint32 *last = &x[(2 * r - 1) * 16];
      guint64 j = (((guint64) last[1] << 32) | last[0]) & (n - 1);

      for (gsize k = 0; k < words; k++)
        x[k] ^= v[j * words + k];
      block_mix (x, y, r);
    }

  for (gsize k = 0; k < words; k++)
    {
      guint32 word = GUINT32_TO_LE (x[k]);

      memcpy (&bytes[4 * k], &word, 4);
    }
}

gboolean
kiln_keystore_scrypt_fallback (const guint8  *password,
                               gsize          password_len,
                               const guint8  *salt,
                               gsize          salt_len,
                               guint64        n,
                               guint64        r,
                               guint64        p,
                               guint8        *out,
                               gsize          out_len,
                               GError       **error)
{
  gsize chunk_size;
  gsize b_size;
  gsize v_size;
  guint8 *b;
  guint32 *v;
  guint32 *xy;

  g_return_val_if_fail (password != NULL || password_len == 0, FALSE);
  g_return_val_if_fail (salt != NULL || salt_len == 0, FALSE);
  g_return_val_if_fail (out != NULL && out_len > 0, FALSE);

  if (!kiln_keystore_check_scrypt_params (n, r, p, error))
    return FALSE;

  /* All below KILN_KEYSTORE_MAX_SCRYPT_MEMORY after the check. */
  chunk_size = 128 * r;
  b_size = chunk_size * p;
  v_size = chunk_size * n;

  b = g_try_malloc (b_size);
  v = g_try_malloc (v_size);
  xy = g_try_malloc (2 * chunk_size);
  if (b == NULL || v == NULL || xy == NULL)
    {
      g_autofree char *size = g_format_size (b_size + v_size);

      g_free (b);
      g_free (v);
      g_free (xy);
      return set_limits_error (error, _("Not enough memory to derive the key (%s needed)"), size);
    }

  pbkdf2_hmac_sha256 (password_len, password, 1, salt_len, salt, b_size, b);

  for (guint64 i = 0; i < p; i++)
    ro_mix (&b[i * chunk_size], r, n, v, xy, xy + 32 * r);

  pbkdf2_hmac_sha256 (password_len, password, 1, b_size, b, out_len, out);

  kiln_secure_wipe (b, b_size);
  kiln_secure_wipe (v, v_size);
  kiln_secure_wipe (xy, 2 * chunk_size);
  g_free (b);
  g_free (v);
  g_free (xy);

  return TRUE;
}

/* OpenSSL refuses N ≥ 2^(16·r) (see above). */
static gboolean
openssl_accepts (guint64 n,
                 guint64 r)
{
  return 16 * r > 63 || n < (G_GUINT64_CONSTANT (1) << (16 * r));
}

gboolean
kiln_keystore_scrypt (const guint8  *password,
                      gsize          password_len,
                      const guint8  *salt,
                      gsize          salt_len,
                      guint64        n,
                      guint64        r,
                      guint64        p,
                      guint8        *out,
                      gsize          out_len,
                      GError       **error)
{
  guint64 maxmem;

  g_return_val_if_fail (password != NULL || password_len == 0, FALSE);
  g_return_val_if_fail (salt != NULL || salt_len == 0, FALSE);
  g_return_val_if_fail (out != NULL && out_len > 0, FALSE);

  if (!kiln_keystore_check_scrypt_params (n, r, p, error))
    return FALSE;

  if (!openssl_accepts (n, r))
    return kiln_keystore_scrypt_fallback (password, password_len, salt, salt_len,
                                          n, r, p, out, out_len, error);

  /* What OpenSSL allocates: 128·r·p for B and 128·r·(N + 2) for V and X·Y. */
  maxmem = 128 * r * p + 128 * r * (n + 2) + SCRYPT_MAXMEM_SLACK;

  /* OpenSSL wants a non-NULL pointer even for empty input. */
  if (EVP_PBE_scrypt (password_len > 0 ? (const char *) password : "", password_len,
                      salt_len > 0 ? salt : (const guint8 *) "", salt_len,
                      n, r, p, maxmem, out, out_len) != 1)
    {
      g_autofree char *size = g_format_size (maxmem);

      return set_limits_error (error, _("Not enough memory to derive the key (%s needed)"), size);
    }

  return TRUE;
}
