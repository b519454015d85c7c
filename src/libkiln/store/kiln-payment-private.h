/* kiln-payment-private.h: the payment record, filled in by the ledger
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-payment.h"

G_BEGIN_DECLS

struct _KilnPayment
{
  gint64            id;
  guint64           chain_id;
  KilnPaymentKind   kind;
  KilnAddress       from;
  gboolean          has_token;
  KilnAddress       token;
  char             *reference;
  char             *idempotency_key;
  KilnPaymentState  state;
  gboolean          has_nonce;
  guint64           nonce;
  KilnUint256       total;
  gboolean          confirmed;
  guint64           confirmed_block;
  guint64           gas_used;
  char             *error;
  gint64            created_at;
  gint64            updated_at;

  GArray           *recipients;   /* KilnPaymentRecipient */
  GPtrArray        *attempts;     /* KilnPaymentAttempt */
};

/* An empty record (id 0, no recipients) for the ledger to fill. */
KilnPayment *kiln_payment_alloc            (void);

/* Reads a nick back; FALSE for an unknown one. */
gboolean     kiln_payment_kind_from_string          (const char              *nick,
                                                     KilnPaymentKind         *kind);
gboolean     kiln_payment_state_from_string         (const char              *nick,
                                                     KilnPaymentState        *state);
gboolean     kiln_payment_attempt_state_from_string (const char              *nick,
                                                     KilnPaymentAttemptState *state);

G_END_DECLS
