/* kiln-secret-store.h: node keys in the desktop keyring (Secret Service via libsecret)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-types.h"

G_BEGIN_DECLS

#define KILN_TYPE_SECRET_STORE (kiln_secret_store_get_type ())

G_DECLARE_FINAL_TYPE (KilnSecretStore, kiln_secret_store, KILN, SECRET_STORE, GObject)

/* @schema_name is the application ID, e.g. "io.github.kilnapp.Kiln". Items carry the
 * attributes "address" (EIP-55) and "kind" = "node-key". */
KilnSecretStore *kiln_secret_store_new             (const char          *schema_name);
const char      *kiln_secret_store_get_schema_name (KilnSecretStore     *self);

/* Stores @key in the default collection, replacing an item for the same address.
 * Errors: KILN_CRYPTO_ERROR_KEYRING_LOCKED, KILN_CRYPTO_ERROR_KEYRING_UNAVAILABLE. */
void             kiln_secret_store_save_async      (KilnSecretStore     *self,
                                                    KilnKey             *key,
                                                    const char          *label,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean         kiln_secret_store_save_finish     (KilnSecretStore     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

/* Loads the key for @address, or any stored key when @address is NULL.
 * KILN_CRYPTO_ERROR_NOT_FOUND when there is none. */
void             kiln_secret_store_load_async      (KilnSecretStore     *self,
                                                    const char          *address,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
KilnKey         *kiln_secret_store_load_finish     (KilnSecretStore     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

/* The EIP-55 addresses of every stored key, without unlocking secrets. */
void             kiln_secret_store_list_async      (KilnSecretStore     *self,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
GStrv            kiln_secret_store_list_finish     (KilnSecretStore     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

void             kiln_secret_store_delete_async    (KilnSecretStore     *self,
                                                    const char          *address,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean         kiln_secret_store_delete_finish   (KilnSecretStore     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

G_END_DECLS
