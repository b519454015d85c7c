/* kiln-abi.h: Solidity ABI encoding of contract calls and decoding of their results
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "kiln-address.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

#define KILN_ABI_SELECTOR_SIZE 4
#define KILN_ABI_WORD_SIZE     32

/* The first four bytes of the Keccak-256 of a canonical signature such as
 * "transfer(address,uint256)". */
void            kiln_abi_selector                    (const char *signature,
                                                      guint8      out[KILN_ABI_SELECTOR_SIZE]);

/* A call encoder for the types address, uint256, bytes32, bool, address[], uint256[], bytes
 * and string. The signature fixes the argument types; arguments are added in order with the
 * add function of their type, and adding the wrong type or the wrong number of arguments is a
 * programming error (reported with g_critical()). Returns NULL, with a critical warning, for a
 * signature naming other types. */
KilnAbiEncoder *kiln_abi_encoder_new                 (const char *signature);
void            kiln_abi_encoder_free                (KilnAbiEncoder *self);
void            kiln_abi_encoder_add_address         (KilnAbiEncoder    *self,
                                                      const KilnAddress *address);
void            kiln_abi_encoder_add_uint256         (KilnAbiEncoder    *self,
                                                      const KilnUint256 *value);
void            kiln_abi_encoder_add_bytes32         (KilnAbiEncoder *self,
                                                      const guint8    value[32]);
void            kiln_abi_encoder_add_bool            (KilnAbiEncoder *self,
                                                      gboolean        value);
void            kiln_abi_encoder_add_address_array   (KilnAbiEncoder    *self,
                                                      const KilnAddress *addresses,
                                                      gsize              n_addresses);
void            kiln_abi_encoder_add_uint256_array   (KilnAbiEncoder    *self,
                                                      const KilnUint256 *values,
                                                      gsize              n_values);
void            kiln_abi_encoder_add_bytes           (KilnAbiEncoder *self,
                                                      const guint8   *data,
                                                      gsize           len);
void            kiln_abi_encoder_add_string          (KilnAbiEncoder *self,
                                                      const char     *text);
/* The selector followed by the encoded arguments (heads, then the tails of dynamic ones). */
GBytes         *kiln_abi_encoder_finish              (KilnAbiEncoder *self);

/* ERC-20 calls and the batch payment contract's call. */
GBytes         *kiln_abi_encode_transfer             (const KilnAddress *to,
                                                      const KilnUint256 *amount);
GBytes         *kiln_abi_encode_balance_of           (const KilnAddress *owner);
GBytes         *kiln_abi_encode_approve              (const KilnAddress *spender,
                                                      const KilnUint256 *amount);
GBytes         *kiln_abi_encode_allowance            (const KilnAddress *owner,
                                                      const KilnAddress *spender);
GBytes         *kiln_abi_encode_transfer_from        (const KilnAddress *from,
                                                      const KilnAddress *to,
                                                      const KilnUint256 *amount);
/* payBatch(address token, address[] recipients, uint256[] amounts, bytes32 reference). */
GBytes         *kiln_abi_encode_pay_batch            (const KilnAddress *token,
                                                      const KilnAddress *recipients,
                                                      const KilnUint256 *amounts,
                                                      gsize              n_payments,
                                                      const guint8       reference[32]);

/* Return values: each reads the first 32-byte word of @data, which must be at least that
 * long; a bool must be exactly 0 or 1 and an address must have twelve zero bytes in front.
 * Errors are KILN_ETH_ERROR_INVALID_ABI. */
gboolean        kiln_abi_decode_uint256              (const guint8  *data,
                                                      gsize          len,
                                                      KilnUint256   *out,
                                                      GError       **error);
gboolean        kiln_abi_decode_bool                 (const guint8  *data,
                                                      gsize          len,
                                                      gboolean      *out,
                                                      GError       **error);
gboolean        kiln_abi_decode_address              (const guint8  *data,
                                                      gsize          len,
                                                      KilnAddress   *out,
                                                      GError       **error);

/* The reason in a call's revert data: the message of Error(string), or a description of
 * Panic(uint256). Other or malformed data is KILN_ETH_ERROR_INVALID_ABI. The message comes
 * from the contract: it is made valid UTF-8 but is otherwise untrusted text. */
char           *kiln_abi_decode_revert_reason        (const guint8  *data,
                                                      gsize          len,
                                                      GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnAbiEncoder, kiln_abi_encoder_free)

G_END_DECLS
