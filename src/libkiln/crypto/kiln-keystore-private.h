/* kiln-keystore-private.h: what the keystore's reader, writer and KDFs share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "kiln-address.h"
#include "kiln-crypto.h"
#include "kiln-keccak.h"
#include "kiln-key.h"

G_BEGIN_DECLS

#define KILN_KEYSTORE_VERSION          3
#define KILN_KEYSTORE_CIPHER           "aes-128-ctr"
#define KILN_KEYSTORE_IV_SIZE          16
#define KILN_KEYSTORE_MAC_SIZE         KILN_KECCAK256_DIGEST_SIZE
/* Bytes of derived key the keystore uses: 16 for AES-128, 16 for the MAC. */
#define KILN_KEYSTORE_DERIVED_KEY_SIZE 32

typedef enum
{
  KILN_KEYSTORE_KDF_SCRYPT,
  KILN_KEYSTORE_KDF_PBKDF2,
} KilnKeystoreKdf;

/* Everything decryption needs, taken out of a document and checked for type and
 * size (not yet against the KDF limits). */
typedef struct
{
  KilnKeystoreKdf  kdf;
  guint64          n;
  guint64          r;
  guint64          p;
  guint64          rounds;
  guint8          *salt;
  gsize            salt_len;
  guint8           iv[KILN_KEYSTORE_IV_SIZE];
  /* Left-aligned; some old writers dropped leading zero bytes of the secret. */
  guint8           ciphertext[KILN_SECRET_KEY_SIZE];
  gsize            ciphertext_len;
  guint8           mac[KILN_KEYSTORE_MAC_SIZE];
  gboolean         has_address;
  KilnAddress      address;
} KilnKeystoreDocument;

/* Sets @error in KILN_CRYPTO_ERROR and returns FALSE. */
gboolean    kiln_keystore_set_error       (GError               **error,
                                           KilnCryptoError        code,
                                           const char            *format,
                                           ...) G_GNUC_PRINTF (3, 4);

void        kiln_keystore_document_clear  (KilnKeystoreDocument  *doc);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KilnKeystoreDocument, kiln_keystore_document_clear)

/* Size and nesting limits, then JSON; returns the root object, owned by @parser.
 * Every failure is KILN_CRYPTO_ERROR_KEYSTORE_FORMAT. */
JsonObject *kiln_keystore_parse_json      (JsonParser            *parser,
                                           const char            *json,
                                           gssize                 len,
                                           GError               **error);

/* Fills @doc from a V3 document's @root: KEYSTORE_FORMAT for a missing or
 * malformed field (named in the message), KEYSTORE_UNSUPPORTED for another
 * version, cipher, KDF or PRF. */
gboolean    kiln_keystore_document_parse  (KilnKeystoreDocument  *doc,
                                           JsonObject            *root,
                                           GError               **error);

/* The optional top-level "address" field: TRUE with *@has_address FALSE when absent. */
gboolean    kiln_keystore_read_address    (JsonObject            *root,
                                           gboolean              *has_address,
                                           KilnAddress           *address,
                                           GError               **error);

/* Refuse N × r × p above this before running scrypt: 16 times the standard
 * setting (N = 2^18, r = 8, p = 1), a few seconds on a slow machine. */
#define KILN_KEYSTORE_MAX_SCRYPT_WORK (G_GUINT64_CONSTANT (1) << 25)

/* KILN_CRYPTO_ERROR_KEYSTORE_LIMITS unless N is a power of two above 1, r and p
 * are positive, r × p < 2^30, 128·N·r and 128·r·p fit in
 * KILN_KEYSTORE_MAX_SCRYPT_MEMORY and N·r·p in KILN_KEYSTORE_MAX_SCRYPT_WORK. */
gboolean kiln_keystore_check_scrypt_params  (guint64       n,
                                             guint64       r,
                                             guint64       p,
                                             GError      **error);

/* KILN_CRYPTO_ERROR_KEYSTORE_LIMITS unless 1 ≤ @rounds ≤ KILN_KEYSTORE_MAX_PBKDF2_ROUNDS. */
gboolean kiln_keystore_check_pbkdf2_rounds  (guint64       rounds,
                                             GError      **error);

/* scrypt (RFC 7914). Checks the parameters first, then uses OpenSSL, or the
 * in-tree implementation for the small-r parameters OpenSSL refuses. */
gboolean kiln_keystore_scrypt               (const guint8 *password,
                                             gsize         password_len,
                                             const guint8 *salt,
                                             gsize         salt_len,
                                             guint64       n,
                                             guint64       r,
                                             guint64       p,
                                             guint8       *out,
                                             gsize         out_len,
                                             GError      **error);

/* The in-tree scrypt on its own (same checks), for tests against OpenSSL. */
gboolean kiln_keystore_scrypt_fallback      (const guint8 *password,
                                             gsize         password_len,
                                             const guint8 *salt,
                                             gsize         salt_len,
                                             guint64       n,
                                             guint64       r,
                                             guint64       p,
                                             guint8       *out,
                                             gsize         out_len,
                                             GError      **error);

/* PBKDF2-HMAC-SHA256 after kiln_keystore_check_pbkdf2_rounds(). */
gboolean kiln_keystore_pbkdf2_sha256        (const guint8 *password,
                                             gsize         password_len,
                                             const guint8 *salt,
                                             gsize         salt_len,
                                             guint64       rounds,
                                             guint8       *out,
                                             gsize         out_len,
                                             GError      **error);

G_END_DECLS
