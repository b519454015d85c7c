/* kiln-keccak.c: Keccak-256 with Ethereum's padding, on nettle's permutation
 *
 * Ethereum uses Keccak as submitted to the SHA-3 competition, with the
 * multi-rate padding 0x01 … 0x80, not FIPS 202's 0x06 domain separation.
 * nettle exports the Keccak-f[1600] permutation, so only the sponge is here.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kiln-crypto.h"
#include "kiln-keccak.h"

#define LANES_PER_BLOCK (KILN_KECCAK256_BLOCK_SIZE / 8)

/* Lanes are little-endian 64-bit words whatever the host's byte order. */
static inline void
absorb_block (struct sha3_state *state,
              const guint8      *block)
{
  for (guint i = 0; i < LANES_PER_BLOCK; i++)
    {
      guint64 lane;

      memcpy (&lane, block + 8 * i, sizeof lane);
      state->a[i] ^= GUINT64_FROM_LE (lane);
    }

  sha3_permute (state);
}

void
kiln_keccak256_init (KilnKeccak256 *ctx)
{
  g_return_if_fail (ctx != NULL);

  memset (ctx, 0, sizeof *ctx);
}

void
kiln_keccak256_update (KilnKeccak256 *ctx,
                       const guint8  *data,
                       gsize          len)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (data != NULL || len == 0);

  if (len == 0)
    return;

  if (ctx->index > 0)
    {
      gsize take = MIN (len, KILN_KECCAK256_BLOCK_SIZE - ctx->index);

      memcpy (ctx->block + ctx->index, data, take);
      ctx->index += take;
      data += take;
      len -= take;

      if (ctx->index < KILN_KECCAK256_BLOCK_SIZE)
        return;

      absorb_block (&ctx->state, ctx->block);
      ctx->index = 0;
    }

  while (len >= KILN_KECCAK256_BLOCK_SIZE)
    {
      absorb_block (&ctx->state, data);
      data += KILN_KECCAK256_BLOCK_SIZE;
      len -= KILN_KECCAK256_BLOCK_SIZE;
    }

  if (len > 0)
    {
      memcpy (ctx->block, data, len);
      ctx->index = len;
    }
}

void
kiln_keccak256_digest (KilnKeccak256 *ctx,
                       guint8         digest[KILN_KECCAK256_DIGEST_SIZE])
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (digest != NULL);
  g_assert (ctx->index < KILN_KECCAK256_BLOCK_SIZE);

  memset (ctx->block + ctx->index, 0, KILN_KECCAK256_BLOCK_SIZE - ctx->index);
  ctx->block[ctx->index] = 0x01;
  ctx->block[KILN_KECCAK256_BLOCK_SIZE - 1] |= 0x80;
  absorb_block (&ctx->state, ctx->block);

  for (guint i = 0; i < KILN_KECCAK256_DIGEST_SIZE / 8; i++)
    {
      guint64 lane = GUINT64_TO_LE (ctx->state.a[i]);

      memcpy (digest + 8 * i, &lane, sizeof lane);
    }

  /* The state may have hashed secrets; leave nothing behind. */
  kiln_secure_wipe (ctx, sizeof *ctx);
}

void
kiln_keccak256 (const guint8 *data,
                gsize         len,
                guint8        digest[KILN_KECCAK256_DIGEST_SIZE])
{
  KilnKeccak256 ctx;

  kiln_keccak256_init (&ctx);
  kiln_keccak256_update (&ctx, data, len);
  kiln_keccak256_digest (&ctx, digest);
}
