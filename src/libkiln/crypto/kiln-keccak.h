/* kiln-keccak.h: Keccak-256 with Ethereum's padding, on nettle's permutation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <nettle/sha3.h>

G_BEGIN_DECLS

#define KILN_KECCAK256_DIGEST_SIZE 32
#define KILN_KECCAK256_BLOCK_SIZE  136

typedef struct
{
  struct sha3_state state;
  guint             index;
  guint8            block[KILN_KECCAK256_BLOCK_SIZE];
} KilnKeccak256;

void kiln_keccak256_init   (KilnKeccak256 *ctx);
void kiln_keccak256_update (KilnKeccak256 *ctx,
                            const guint8  *data,
                            gsize          len);
/* Writes the digest and resets @ctx for reuse. */
void kiln_keccak256_digest (KilnKeccak256 *ctx,
                            guint8         digest[KILN_KECCAK256_DIGEST_SIZE]);

void kiln_keccak256        (const guint8  *data,
                            gsize          len,
                            guint8         digest[KILN_KECCAK256_DIGEST_SIZE]);

G_END_DECLS
