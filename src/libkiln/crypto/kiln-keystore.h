/* kiln-keystore.h: Web3 Secret Storage (keystore V3) files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-types.h"

G_BEGIN_DECLS

/* scrypt N used when writing: the common "standard" strength (256 MiB, r = 8, p = 1). */
#define KILN_KEYSTORE_SCRYPT_N_STANDARD 262144
/* A light setting for tests and for quick throwaway accounts. */
#define KILN_KEYSTORE_SCRYPT_N_LIGHT    4096

/* Memory and work limits checked before any KDF runs. */
#define KILN_KEYSTORE_MAX_SCRYPT_MEMORY   (G_GUINT64_CONSTANT (1) << 30)  /* 128 * N * r bytes */
#define KILN_KEYSTORE_MAX_PBKDF2_ROUNDS   10000000
#define KILN_KEYSTORE_MAX_DOCUMENT_SIZE   (64 * 1024)

/* Reads scrypt or pbkdf2 (hmac-sha256) keystores with the aes-128-ctr cipher.
 * Blocking (runs the KDF): call from a worker thread. */
KilnKey  *kiln_keystore_decrypt       (const char          *json,
                                       gssize               len,
                                       const char          *password,
                                       GError             **error);

/* The address recorded in the document (no password needed), or NULL. */
char     *kiln_keystore_peek_address  (const char          *json,
                                       gssize               len,
                                       GError             **error);

/* A new keystore V3 document (scrypt, r = 8, p = 1, aes-128-ctr, random salt,
 * IV and UUID). Blocking. */
char     *kiln_keystore_encrypt       (KilnKey             *key,
                                       const char          *password,
                                       guint64              scrypt_n,
                                       GError             **error);

/* File variants: run in a worker thread. Saving writes atomically with mode 0600. */
void      kiln_keystore_load_async    (GFile               *file,
                                       const char          *password,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
KilnKey  *kiln_keystore_load_finish   (GAsyncResult        *result,
                                       GError             **error);

void      kiln_keystore_save_async    (GFile               *file,
                                       KilnKey             *key,
                                       const char          *password,
                                       guint64              scrypt_n,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
gboolean  kiln_keystore_save_finish   (GAsyncResult        *result,
                                       GError             **error);

/* Blocking file variants for the CLI. */
KilnKey  *kiln_keystore_load_file     (GFile               *file,
                                       const char          *password,
                                       GCancellable        *cancellable,
                                       GError             **error);
gboolean  kiln_keystore_save_file     (GFile               *file,
                                       KilnKey             *key,
                                       const char          *password,
                                       guint64              scrypt_n,
                                       GCancellable        *cancellable,
                                       GError             **error);

G_END_DECLS
