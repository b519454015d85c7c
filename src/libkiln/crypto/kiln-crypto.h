/* kiln-crypto.h: the crypto subsystem's error domain and helpers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KILN_CRYPTO_ERROR (kiln_crypto_error_quark ())

typedef enum
{
  KILN_CRYPTO_ERROR_INVALID_KEY,           /* not a valid secp256k1 secret key */
  KILN_CRYPTO_ERROR_INVALID_SIGNATURE,     /* malformed or unrecoverable signature */
  KILN_CRYPTO_ERROR_INVALID_ADDRESS,       /* not 20 bytes of hex */
  KILN_CRYPTO_ERROR_BAD_CHECKSUM,          /* mixed-case address with a wrong EIP-55 checksum */
  KILN_CRYPTO_ERROR_RANDOM,                /* the OS CSPRNG failed */
  KILN_CRYPTO_ERROR_KEYSTORE_FORMAT,       /* not a keystore V3 document */
  KILN_CRYPTO_ERROR_KEYSTORE_UNSUPPORTED,  /* unknown version, KDF or cipher */
  KILN_CRYPTO_ERROR_KEYSTORE_LIMITS,       /* KDF parameters outside safe limits */
  KILN_CRYPTO_ERROR_WRONG_PASSWORD,        /* MAC mismatch: wrong password or damaged file */
  KILN_CRYPTO_ERROR_KEYRING_LOCKED,        /* the Secret Service collection is locked */
  KILN_CRYPTO_ERROR_KEYRING_UNAVAILABLE,   /* no Secret Service on the session bus */
  KILN_CRYPTO_ERROR_NOT_FOUND,             /* no such key */
} KilnCryptoError;

GQuark kiln_crypto_error_quark (void);

/* Overwrites @len bytes at @data in a way the compiler cannot drop. NULL is allowed. */
void   kiln_secure_wipe    (gpointer     data,
                            gsize        len);

/* Lowercase hex without prefix; caller frees. */
char  *kiln_hex_encode     (const guint8 *data,
                            gsize        len);

/* Decodes hex with an optional 0x prefix into exactly @len bytes. */
gboolean kiln_hex_decode   (const char  *hex,
                            guint8      *out,
                            gsize        len,
                            GError     **error);

G_END_DECLS
