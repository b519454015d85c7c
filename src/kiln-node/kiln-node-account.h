/* kiln-node-account.h: the account's keystore file on disk, for every command
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-crypto.h"
#include "kiln-key.h"
#include "kiln-keystore.h"

#include "kiln-node-cli.h"
#include "kiln-node-secret.h"

G_BEGIN_DECLS

/* G_IO_ERROR_EXISTS when something is at @path; @hint ends the message (what to do). */
gboolean  kiln_node_account_check_absent  (const char        *path,
                                           const char        *hint,
                                           GError           **error);

/* The keystore document at @path, at most KILN_KEYSTORE_MAX_DOCUMENT_SIZE bytes. A missing
 * file is G_IO_ERROR_NOT_FOUND with a message that says how to make one. */
char     *kiln_node_account_read          (const char        *path,
                                           gsize             *length,
                                           GError           **error);

/* Decrypts the document read from @path with @password. Blocking (scrypt). */
KilnKey  *kiln_node_account_decrypt       (const char        *path,
                                           const char        *document,
                                           gsize              length,
                                           const char        *password,
                                           GError           **error);

/* Opens the account of @ctx (--keystore or the data dir's) with --password-file, or a
 * password typed on the terminal. @out_password, when not NULL, receives the password. */
KilnKey  *kiln_node_account_unlock        (KilnNodeContext   *ctx,
                                           KilnNodeSecret   **out_password,
                                           GError           **error);

/* Encrypts @key into a keystore V3 document and writes it to @path atomically, with mode
 * 0600; an existing file is replaced only when @replace, else G_IO_ERROR_EXISTS. */
gboolean  kiln_node_account_save          (const char        *path,
                                           KilnKey           *key,
                                           const char        *password,
                                           guint64            scrypt_n,
                                           gboolean           replace,
                                           GError           **error);

/* The absolute form of @path, as UTF-8 for people and JSON. */
char     *kiln_node_display_path          (const char        *path);

G_END_DECLS
