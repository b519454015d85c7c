/* kiln-transaction.h: Ethereum transactions: legacy EIP-155 and EIP-1559 (type 2)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-key.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

/* Raw transactions longer than this are refused (go-ethereum's pool limit). */
#define KILN_TRANSACTION_MAX_SIZE (128 * 1024)

typedef enum
{
  KILN_TRANSACTION_TYPE_LEGACY  = 0,   /* EIP-155 replay-protected (or, decoded only, none) */
  KILN_TRANSACTION_TYPE_EIP1559 = 2,   /* EIP-2718 envelope 0x02 */
} KilnTransactionType;

#define KILN_TYPE_TRANSACTION (kiln_transaction_get_type ())

G_DECLARE_FINAL_TYPE (KilnTransaction, kiln_transaction, KILN, TRANSACTION, GObject)

/* A new unsigned transaction with every field zero, no recipient (contract creation) and no
 * data. Setting any field afterwards drops the signature. */
KilnTransaction    *kiln_transaction_new                       (KilnTransactionType  type,
                                                                guint64              chain_id);

KilnTransactionType kiln_transaction_get_tx_type               (KilnTransaction     *self);
guint64             kiln_transaction_get_chain_id              (KilnTransaction     *self);
void                kiln_transaction_set_chain_id              (KilnTransaction     *self,
                                                                guint64              chain_id);
guint64             kiln_transaction_get_nonce                 (KilnTransaction     *self);
void                kiln_transaction_set_nonce                 (KilnTransaction     *self,
                                                                guint64              nonce);
guint64             kiln_transaction_get_gas_limit             (KilnTransaction     *self);
void                kiln_transaction_set_gas_limit             (KilnTransaction     *self,
                                                                guint64              gas_limit);
/* Legacy transactions only. */
void                kiln_transaction_get_gas_price             (KilnTransaction     *self,
                                                                KilnUint256         *out);
void                kiln_transaction_set_gas_price             (KilnTransaction     *self,
                                                                const KilnUint256   *gas_price);
/* Type 2 transactions only. */
void                kiln_transaction_get_max_fee_per_gas       (KilnTransaction     *self,
                                                                KilnUint256         *out);
void                kiln_transaction_set_max_fee_per_gas       (KilnTransaction     *self,
                                                                const KilnUint256   *fee);
void                kiln_transaction_get_max_priority_fee_per_gas (KilnTransaction   *self,
                                                                   KilnUint256       *out);
void                kiln_transaction_set_max_priority_fee_per_gas (KilnTransaction   *self,
                                                                   const KilnUint256 *fee);
/* NULL for a contract creation. */
const KilnAddress  *kiln_transaction_get_to                    (KilnTransaction     *self);
void                kiln_transaction_set_to                    (KilnTransaction     *self,
                                                                const KilnAddress   *to);
void                kiln_transaction_get_value                 (KilnTransaction     *self,
                                                                KilnUint256         *out);
void                kiln_transaction_set_value                 (KilnTransaction     *self,
                                                                const KilnUint256   *value);
/* Never NULL; empty when there is no data. */
GBytes             *kiln_transaction_get_data                  (KilnTransaction     *self);
void                kiln_transaction_set_data                  (KilnTransaction     *self,
                                                                GBytes              *data);
/* The RLP list of a type 2 transaction's access list; 0xc0 (empty) unless decoded. */
GBytes             *kiln_transaction_get_access_list           (KilnTransaction     *self);

/* The bytes whose Keccak-256 is signed: RLP of the nine EIP-155 fields for legacy, or
 * 0x02 || RLP of the nine unsigned fields for type 2. */
GBytes             *kiln_transaction_encode_for_signing        (KilnTransaction     *self);
void                kiln_transaction_get_signing_hash          (KilnTransaction     *self,
                                                                guint8               out[32]);

/* Signs with @key; afterwards the transaction is signed and its sender is @key's address.
 * Refuses legacy transactions with chain id 0 (no replay protection). */
gboolean            kiln_transaction_sign                      (KilnTransaction     *self,
                                                                KilnKey             *key,
                                                                GError             **error);
gboolean            kiln_transaction_is_signed                 (KilnTransaction     *self);
/* Signed transactions only: the signature as r || s || y parity (KILN_SIGNATURE_SIZE bytes),
 * the sender, the raw transaction (for eth_sendRawTransaction) and its hash. */
void                kiln_transaction_get_signature             (KilnTransaction     *self,
                                                                guint8              *out);
const KilnAddress  *kiln_transaction_get_sender                (KilnTransaction     *self);
GBytes             *kiln_transaction_encode_signed             (KilnTransaction     *self);
void                kiln_transaction_get_hash                  (KilnTransaction     *self,
                                                                guint8               out[32]);

/* Decodes a raw signed transaction of either type and recovers its sender. Unsigned, malformed
 * or non-canonical input, trailing bytes, other transaction types and invalid signatures are
 * refused with KILN_ETH_ERROR_INVALID_TRANSACTION (KILN_ETH_ERROR_UNSUPPORTED for well-formed
 * types Kiln does not handle). */
KilnTransaction    *kiln_transaction_decode                    (const guint8        *raw,
                                                                gsize                len,
                                                                GError             **error);

G_END_DECLS
