/* kiln-transaction-private.h: what the transaction's encoding and decoding halves share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-transaction.h"

G_BEGIN_DECLS

#define LEGACY_N_FIELDS  9    /* nonce, gasPrice, gas, to, value, data, v, r, s */
#define EIP1559_N_FIELDS 12   /* chainId ... accessList, yParity, r, s */
#define EIP155_V_OFFSET  35
#define PRE_EIP155_V     27
/* Chain ids above this would overflow v = chain_id * 2 + 36 in 64 bits. */
#define MAX_LEGACY_CHAIN_ID ((G_MAXUINT64 - EIP155_V_OFFSET - 1) / 2)

struct _KilnTransaction
{
  GObject             parent_instance;

  KilnTransactionType type;
  guint64             chain_id;
  guint64             nonce;
  guint64             gas_limit;
  KilnUint256         gas_price;
  KilnUint256         max_fee_per_gas;
  KilnUint256         max_priority_fee_per_gas;
  KilnUint256         value;
  KilnAddress         to;
  GBytes             *data;
  GBytes             *access_list;

  KilnAddress         sender;
  guint8              r[32];
  guint8              s[32];
  guint8              y_parity;
  guint               has_to : 1;
  guint               is_signed : 1;
};

G_END_DECLS
