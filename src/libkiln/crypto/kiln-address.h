/* kiln-address.h: Ethereum addresses and EIP-55 checksums
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "kiln-types.h"

G_BEGIN_DECLS

#define KILN_ADDRESS_SIZE        20
/* "0x" + 40 hex digits + NUL */
#define KILN_ADDRESS_STRING_SIZE 43

struct _KilnAddress
{
  guint8 bytes[KILN_ADDRESS_SIZE];
};

#define KILN_TYPE_ADDRESS (kiln_address_get_type ())

GType        kiln_address_get_type            (void) G_GNUC_CONST;
KilnAddress *kiln_address_copy                (const KilnAddress *self);
void         kiln_address_free                (KilnAddress       *self);

/* @public_key is the 64-byte uncompressed point X || Y (no 0x04 prefix). */
void         kiln_address_from_public_key     (KilnAddress       *self,
                                               const guint8       public_key[64]);
/* EIP-55 mixed-case form with the 0x prefix. */
void         kiln_address_format              (const KilnAddress *self,
                                               char               out[KILN_ADDRESS_STRING_SIZE]);
char        *kiln_address_to_string           (const KilnAddress *self);
/* Accepts 0x + 40 hex digits. All-lowercase and all-uppercase are taken as
 * unchecksummed; mixed case must match EIP-55 or KILN_CRYPTO_ERROR_BAD_CHECKSUM. */
gboolean     kiln_address_parse               (KilnAddress       *self,
                                               const char        *text,
                                               GError           **error);
gboolean     kiln_address_equal               (const KilnAddress *a,
                                               const KilnAddress *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnAddress, kiln_address_free)

G_END_DECLS
