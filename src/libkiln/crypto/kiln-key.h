/* kiln-key.h: a node's secp256k1 key: network identity and Ethereum account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-types.h"

G_BEGIN_DECLS

#define KILN_SECRET_KEY_SIZE  32
#define KILN_PUBLIC_KEY_SIZE  64   /* X || Y */
#define KILN_SIGNATURE_SIZE   65   /* r || s || recovery id (0 or 1) */

#define KILN_TYPE_KEY (kiln_key_get_type ())

G_DECLARE_FINAL_TYPE (KilnKey, kiln_key, KILN, KEY, GObject)

/* A fresh key from getrandom(). */
KilnKey           *kiln_key_generate             (GError       **error);
KilnKey           *kiln_key_new_from_bytes       (const guint8  *secret,
                                                  gsize          len,
                                                  GError       **error);
/* 64 hex digits, optional 0x prefix, surrounding whitespace ignored. */
KilnKey           *kiln_key_new_from_hex         (const char    *hex,
                                                  GError       **error);

const KilnAddress *kiln_key_get_address          (KilnKey       *self);
/* EIP-55 checksummed, also the "address" property. */
const char        *kiln_key_get_address_string   (KilnKey       *self);
void               kiln_key_get_public_key       (KilnKey       *self,
                                                  guint8         out[KILN_PUBLIC_KEY_SIZE]);
/* Copies the secret out; the caller must kiln_secure_wipe() it. */
void               kiln_key_copy_secret          (KilnKey       *self,
                                                  guint8         out[KILN_SECRET_KEY_SIZE]);

/* Recoverable ECDSA over a 32-byte digest, low-S, RFC 6979 nonces. */
gboolean           kiln_key_sign_digest          (KilnKey       *self,
                                                  const guint8   digest[32],
                                                  guint8         signature[KILN_SIGNATURE_SIZE],
                                                  GError       **error);

/* The address whose key made @signature over @digest. */
gboolean           kiln_recover_address          (const guint8   digest[32],
                                                  const guint8   signature[KILN_SIGNATURE_SIZE],
                                                  KilnAddress   *out,
                                                  GError       **error);

G_END_DECLS
