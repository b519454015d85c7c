/* test-keccak.c: Keccak-256 (Ethereum padding) against published values
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "libkiln.h"

static void
assert_digest_hex (const guint8  digest[KILN_KECCAK256_DIGEST_SIZE],
                   const char   *expected)
{
  g_autofree char *hex = kiln_hex_encode (digest, KILN_KECCAK256_DIGEST_SIZE);

  g_assert_cmpstr (hex, ==, expected);
}

static void
assert_keccak (const guint8 *data,
               gsize         len,
               const char   *expected)
{
  guint8 digest[KILN_KECCAK256_DIGEST_SIZE];

  kiln_keccak256 (data, len, digest);
  assert_digest_hex (digest, expected);
}

static void
test_keccak_empty (void)
{
  assert_keccak (NULL, 0,
                 "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  assert_keccak ((const guint8 *) "", 0,
                 "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

static void
test_keccak_abc (void)
{
  assert_keccak ((const guint8 *) "abc", 3,
                 "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

/* The 1600-bit message of 0xa3 bytes from the Keccak test suite; longer than
 * one 136-byte block. SHA3-256 of the same input is 79f38ade…, so this also
 * shows the padding is Keccak's and not FIPS 202's. */
static void
test_keccak_a3_200 (void)
{
  guint8 data[200];

  memset (data, 0xa3, sizeof data);
  assert_keccak (data, sizeof data,
                 "3a57666b048777f2c953dc4456f45a2588e1cb6f2da760122d530ac2ce607d4a");
}

static void
test_keccak_function_selector (void)
{
  const char *signature = "transfer(address,uint256)";
  const guint8 expected[4] = { 0xa9, 0x05, 0x9c, 0xbb };
  guint8 digest[KILN_KECCAK256_DIGEST_SIZE];

  kiln_keccak256 ((const guint8 *) signature, strlen (signature), digest);
  g_assert_cmpmem (digest, 4, expected, sizeof expected);

  assert_keccak ((const guint8 *) "hello", 5,
                 "1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8");
}

/* Lengths around the 136-byte rate: padding in the same block, padding in a
 * block of its own, and two full blocks. Expected values come from an
 * independent Keccak implementation over bytes (7 * i + 3) mod 256. */
static const struct {
  gsize       len;
  const char *digest;
} boundary_vectors[] = {
  { 135, "00ef96af9cf4b24c7f269d922294444a197d0a33638c2e56634c57e892103a8f" },
  { 136, "742061bcad767ed4c4f5883b1dcb1aad11afdcc140dc469d953759b127b9f9ed" },
  { 137, "e3371f61e770abf254c34239c3b0099ad90594507415bc81dd0a10b9692bbf2a" },
  { 272, "ac141fd7b0a0ffcd2e967254d508da3ec616596493c36fa304425647d90e6de5" },
};

static void
fill_pattern (guint8 *data,
              gsize   len)
{
  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) ((i * 7 + 3) & 0xff);
}

static void
test_keccak_block_boundaries (void)
{
  for (guint v = 0; v < G_N_ELEMENTS (boundary_vectors); v++)
    {
      gsize len = boundary_vectors[v].len;
      g_autofree guint8 *data = g_malloc (len);
      guint8 one_shot[KILN_KECCAK256_DIGEST_SIZE];
      guint8 bytewise[KILN_KECCAK256_DIGEST_SIZE];
      KilnKeccak256 ctx;

      fill_pattern (data, len);

      kiln_keccak256 (data, len, one_shot);
      assert_digest_hex (one_shot, boundary_vectors[v].digest);

      kiln_keccak256_init (&ctx);
      for (gsize i = 0; i < len; i++)
        kiln_keccak256_update (&ctx, data + i, 1);
      kiln_keccak256_digest (&ctx, bytewise);
      g_assert_cmpmem (bytewise, sizeof bytewise, one_shot, sizeof one_shot);
    }
}

/* Every way of cutting a 300-byte input in two gives the one-shot digest. */
static void
test_keccak_split_updates (void)
{
  guint8 data[300];
  guint8 expected[KILN_KECCAK256_DIGEST_SIZE];

  fill_pattern (data, sizeof data);
  kiln_keccak256 (data, sizeof data, expected);

  for (gsize cut = 0; cut <= sizeof data; cut++)
    {
      guint8 digest[KILN_KECCAK256_DIGEST_SIZE];
      KilnKeccak256 ctx;

      kiln_keccak256_init (&ctx);
      kiln_keccak256_update (&ctx, data, cut);
      kiln_keccak256_update (&ctx, NULL, 0);
      kiln_keccak256_update (&ctx, data + cut, sizeof data - cut);
      kiln_keccak256_digest (&ctx, digest);
      g_assert_cmpmem (digest, sizeof digest, expected, sizeof expected);
    }
}

/* kiln_keccak256_digest() leaves the context ready for a new message. */
static void
test_keccak_reuse (void)
{
  guint8 digest[KILN_KECCAK256_DIGEST_SIZE];
  KilnKeccak256 ctx;

  kiln_keccak256_init (&ctx);
  kiln_keccak256_update (&ctx, (const guint8 *) "something else", 14);
  kiln_keccak256_digest (&ctx, digest);

  kiln_keccak256_update (&ctx, (const guint8 *) "ab", 2);
  kiln_keccak256_update (&ctx, (const guint8 *) "c", 1);
  kiln_keccak256_digest (&ctx, digest);
  assert_digest_hex (digest,
                     "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");

  kiln_keccak256_digest (&ctx, digest);
  assert_digest_hex (digest,
                     "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/keccak/empty", test_keccak_empty);
  g_test_add_func ("/kiln/keccak/abc", test_keccak_abc);
  g_test_add_func ("/kiln/keccak/a3-200", test_keccak_a3_200);
  g_test_add_func ("/kiln/keccak/function-selector", test_keccak_function_selector);
  g_test_add_func ("/kiln/keccak/block-boundaries", test_keccak_block_boundaries);
  g_test_add_func ("/kiln/keccak/split-updates", test_keccak_split_updates);
  g_test_add_func ("/kiln/keccak/reuse", test_keccak_reuse);

  return g_test_run ();
}
