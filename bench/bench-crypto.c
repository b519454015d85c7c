/* bench-crypto.c: Kiln's crypto primitives against their own building blocks
 *
 * Each line is one figure with a baseline measured in the same run:
 * Keccak-256 against nettle's SHA3-256 (same permutation, different padding),
 * and signing/recovery against direct libsecp256k1 calls. Every figure is the
 * median of several runs, interleaved with its baseline.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <nettle/sha3.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "kiln-bench-util.h"
#include "libkiln.h"

#define N_RUNS        7
#define BUFFER_SIZE   (1024 * 1024)
#define HASH_BUFFERS  16
#define N_DIGESTS     2000

typedef double (*RunFunc) (gpointer data);

/* Runs @measured and @baseline alternately and reports the median rates. */
static void
compare (const char *label,
         const char *unit,
         RunFunc     measured,
         const char *baseline_label,
         RunFunc     baseline,
         gpointer    data)
{
  double measured_rates[N_RUNS];
  double baseline_rates[N_RUNS];
  double m, b;

  /* One untimed round each to warm caches and lazily created state. */
  measured (data);
  baseline (data);

  for (guint i = 0; i < N_RUNS; i++)
    {
      measured_rates[i] = measured (data);
      baseline_rates[i] = baseline (data);
    }

  m = kiln_bench_median (measured_rates, N_RUNS);
  b = kiln_bench_median (baseline_rates, N_RUNS);

  g_print ("%s: %.1f %s (%s: %.1f %s, ratio %.2f)\n",
           label, m, unit, baseline_label, b, unit, m / b);
}

static double
seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

/* Keccak-256 */

static volatile guint8 sink;

static double
run_kiln_keccak (gpointer data)
{
  const guint8 *buffer = data;
  guint8 digest[KILN_KECCAK256_DIGEST_SIZE];
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < HASH_BUFFERS; i++)
    {
      kiln_keccak256 (buffer, BUFFER_SIZE, digest);
      sink ^= digest[0];
    }

  return HASH_BUFFERS / seconds_since (start);
}

static double
run_nettle_sha3 (gpointer data)
{
  const guint8 *buffer = data;
  guint8 digest[SHA3_256_DIGEST_SIZE];
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < HASH_BUFFERS; i++)
    {
      struct sha3_256_ctx ctx;

      sha3_256_init (&ctx);
      sha3_256_update (&ctx, BUFFER_SIZE, buffer);
      sha3_256_digest (&ctx, sizeof digest, digest);
      sink ^= digest[0];
    }

  return HASH_BUFFERS / seconds_since (start);
}

static void
bench_keccak (void)
{
  g_autofree guint8 *buffer = g_malloc (BUFFER_SIZE);
  g_autoptr(GError) error = NULL;

  if (!kiln_random_bytes (buffer, BUFFER_SIZE, &error))
    g_error ("%s", error->message);

  compare ("keccak256", "MiB/s", run_kiln_keccak,
           "nettle sha3-256", run_nettle_sha3, buffer);
}

/* Signing and recovery */

typedef struct
{
  KilnKey           *key;
  guint8             secret[KILN_SECRET_KEY_SIZE];
  secp256k1_context *ctx;
  guint8             digests[N_DIGESTS][32];
  guint8             signatures[N_DIGESTS][KILN_SIGNATURE_SIZE];
} SignBench;

static void
kiln_sign_one (SignBench *bench,
               guint      i)
{
  g_autoptr(GError) error = NULL;

  if (!kiln_key_sign_digest (bench->key, bench->digests[i], bench->signatures[i], &error))
    g_error ("%s", error->message);
}

static void
raw_sign_one (SignBench *bench,
              guint      i)
{
  secp256k1_ecdsa_recoverable_signature sig;
  int recid;

  if (!secp256k1_ecdsa_sign_recoverable (bench->ctx, &sig, bench->digests[i], bench->secret,
                                         NULL, NULL))
    g_error ("secp256k1_ecdsa_sign_recoverable failed");
  secp256k1_ecdsa_recoverable_signature_serialize_compact (bench->ctx, bench->signatures[i],
                                                           &recid, &sig);
  bench->signatures[i][64] = (guint8) recid;
}

static double
run_kiln_sign (gpointer data)
{
  SignBench *bench = data;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < N_DIGESTS; i++)
    kiln_sign_one (bench, i);

  return N_DIGESTS / seconds_since (start);
}

static double
run_raw_sign (gpointer data)
{
  SignBench *bench = data;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < N_DIGESTS; i++)
    raw_sign_one (bench, i);

  return N_DIGESTS / seconds_since (start);
}

static double
run_kiln_sign_recover (gpointer data)
{
  SignBench *bench = data;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < N_DIGESTS; i++)
    {
      g_autoptr(GError) error = NULL;
      KilnAddress recovered;

      kiln_sign_one (bench, i);
      if (!kiln_recover_address (bench->digests[i], bench->signatures[i], &recovered, &error))
        g_error ("%s", error->message);
      sink ^= recovered.bytes[0];
    }

  return N_DIGESTS / seconds_since (start);
}

static double
run_raw_sign_recover (gpointer data)
{
  SignBench *bench = data;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < N_DIGESTS; i++)
    {
      secp256k1_ecdsa_recoverable_signature sig;
      secp256k1_pubkey pubkey;

      raw_sign_one (bench, i);
      if (!secp256k1_ecdsa_recoverable_signature_parse_compact (bench->ctx, &sig,
                                                                bench->signatures[i],
                                                                bench->signatures[i][64]) ||
          !secp256k1_ecdsa_recover (bench->ctx, &pubkey, &sig, bench->digests[i]))
        g_error ("secp256k1_ecdsa_recover failed");
      sink ^= pubkey.data[0];
    }

  return N_DIGESTS / seconds_since (start);
}

static void
bench_sign (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree SignBench *bench = g_new0 (SignBench, 1);
  guint8 seed[32];

  bench->key = kiln_key_generate (&error);
  if (bench->key == NULL)
    g_error ("%s", error->message);
  kiln_key_copy_secret (bench->key, bench->secret);

  bench->ctx = secp256k1_context_create (SECP256K1_CONTEXT_NONE);
  if (!kiln_random_bytes (seed, sizeof seed, &error) ||
      !kiln_random_bytes (&bench->digests[0][0], sizeof bench->digests, &error))
    g_error ("%s", error->message);
  if (!secp256k1_context_randomize (bench->ctx, seed))
    g_error ("secp256k1_context_randomize failed");

  compare ("sign", "ops/s", run_kiln_sign,
           "libsecp256k1 sign_recoverable", run_raw_sign, bench);
  compare ("sign+recover", "ops/s", run_kiln_sign_recover,
           "libsecp256k1 sign_recoverable+recover", run_raw_sign_recover, bench);

  secp256k1_context_destroy (bench->ctx);
  kiln_secure_wipe (bench->secret, sizeof bench->secret);
  g_clear_object (&bench->key);
}

int
main (int   argc,
      char *argv[])
{
  bench_keccak ();
  bench_sign ();

  return 0;
}
