/* kiln-payment.h: outgoing payments as the ledger records them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

typedef enum
{
  KILN_PAYMENT_KIND_ETH,    /* the chain's native currency to one recipient */
  KILN_PAYMENT_KIND_ERC20,  /* an ERC-20 transfer to one recipient */
  KILN_PAYMENT_KIND_BATCH,  /* one transaction paying one or more recipients */
} KilnPaymentKind;

/* pending → signed → broadcast → confirmed | failed. Signed means a signed transaction is on
 * disk and may or may not have reached the network (a crash can come between the two). */
typedef enum
{
  KILN_PAYMENT_STATE_PENDING,    /* recorded; nothing signed yet, so nothing can be on chain */
  KILN_PAYMENT_STATE_SIGNED,     /* an attempt is written, not yet known to be broadcast */
  KILN_PAYMENT_STATE_BROADCAST,  /* an attempt was handed to the network */
  KILN_PAYMENT_STATE_CONFIRMED,  /* an attempt was mined and succeeded */
  KILN_PAYMENT_STATE_FAILED,     /* given up: reverted, or abandoned; see the error text */
} KilnPaymentState;

typedef enum
{
  KILN_PAYMENT_ATTEMPT_SIGNED,     /* written, not yet broadcast */
  KILN_PAYMENT_ATTEMPT_BROADCAST,  /* handed to the network */
  KILN_PAYMENT_ATTEMPT_REPLACED,   /* superseded by another attempt with the same nonce */
  KILN_PAYMENT_ATTEMPT_CONFIRMED,  /* the attempt that was mined */
  KILN_PAYMENT_ATTEMPT_FAILED,     /* mined and reverted, or dropped with its payment */
} KilnPaymentAttemptState;

/* Lowercase nicks, as stored in the database: "eth", "pending", "replaced", … */
const char *kiln_payment_kind_to_string          (KilnPaymentKind          kind);
const char *kiln_payment_state_to_string         (KilnPaymentState         state);
const char *kiln_payment_attempt_state_to_string (KilnPaymentAttemptState  state);

typedef struct
{
  KilnAddress address;
  KilnUint256 amount;     /* base units */
} KilnPaymentRecipient;

/* One signed transaction for a payment. Fee bumps add attempts with the same nonce. */
struct _KilnPaymentAttempt
{
  gint64                   id;
  guint64                  nonce;
  guint8                   tx_hash[32];
  GBytes                  *raw;                       /* the signed transaction */
  guint64                  gas_limit;
  KilnUint256              max_fee_per_gas;           /* a legacy transaction's gas price */
  KilnUint256              max_priority_fee_per_gas;  /* likewise for legacy */
  KilnPaymentAttemptState  state;
  gint64                   created_at;                /* µs since the Unix epoch */
  gint64                   broadcast_at;              /* 0 until broadcast */
};

#define KILN_TYPE_PAYMENT_ATTEMPT (kiln_payment_attempt_get_type ())

GType               kiln_payment_attempt_get_type (void) G_GNUC_CONST;
KilnPaymentAttempt *kiln_payment_attempt_copy     (const KilnPaymentAttempt *self);
void                kiln_payment_attempt_free     (KilnPaymentAttempt       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnPaymentAttempt, kiln_payment_attempt_free)

/* A payment: either a draft made with kiln_payment_new() and handed to
 * kiln_payment_ledger_create_async(), or a snapshot of a stored payment returned by the
 * ledger (id > 0), which the setters refuse to change. Reference counted. */
#define KILN_TYPE_PAYMENT (kiln_payment_get_type ())

GType                 kiln_payment_get_type            (void) G_GNUC_CONST;

KilnPayment          *kiln_payment_new                 (KilnPaymentKind       kind,
                                                        guint64               chain_id,
                                                        const KilnAddress    *from);
KilnPayment          *kiln_payment_ref                 (KilnPayment          *self);
void                  kiln_payment_unref               (KilnPayment          *self);

/* Drafts only. @token is required for ERC20 and optional for BATCH (NULL pays in the native
 * currency). */
void                  kiln_payment_set_token           (KilnPayment          *self,
                                                        const KilnAddress    *token);
/* What the payment is for, such as a job's ID. */
void                  kiln_payment_set_reference       (KilnPayment          *self,
                                                        const char           *reference);
/* Creating a payment whose key is already stored returns the stored payment instead. Without
 * a key, a payment with a reference gets one made of its chain, sender, reference and set of
 * recipients. */
void                  kiln_payment_set_idempotency_key (KilnPayment          *self,
                                                        const char           *key);
void                  kiln_payment_add_recipient       (KilnPayment          *self,
                                                        const KilnAddress    *address,
                                                        const KilnUint256    *amount);

/* 0 for a draft. */
gint64                kiln_payment_get_id              (KilnPayment          *self);
guint64               kiln_payment_get_chain_id        (KilnPayment          *self);
KilnPaymentKind       kiln_payment_get_kind            (KilnPayment          *self);
const KilnAddress    *kiln_payment_get_from            (KilnPayment          *self);
/* NULL for the native currency. */
const KilnAddress    *kiln_payment_get_token           (KilnPayment          *self);
const char           *kiln_payment_get_reference       (KilnPayment          *self);
const char           *kiln_payment_get_idempotency_key (KilnPayment          *self);
KilnPaymentState      kiln_payment_get_state           (KilnPayment          *self);
/* TRUE for pending, signed and broadcast. */
gboolean              kiln_payment_is_unfinished       (KilnPayment          *self);
/* FALSE while no nonce is reserved. */
gboolean              kiln_payment_get_nonce           (KilnPayment          *self,
                                                        guint64              *nonce);
/* The sum of the amounts. */
void                  kiln_payment_get_total           (KilnPayment          *self,
                                                        KilnUint256          *total);
guint                 kiln_payment_get_n_recipients    (KilnPayment          *self);
const KilnPaymentRecipient *
                      kiln_payment_get_recipient       (KilnPayment          *self,
                                                        guint                 index);
/* Oldest first. */
guint                 kiln_payment_get_n_attempts      (KilnPayment          *self);
const KilnPaymentAttempt *
                      kiln_payment_get_attempt         (KilnPayment          *self,
                                                        guint                 index);
/* The newest attempt, or NULL. */
const KilnPaymentAttempt *
                      kiln_payment_get_latest_attempt  (KilnPayment          *self);
/* FALSE unless confirmed. */
gboolean              kiln_payment_get_confirmation    (KilnPayment          *self,
                                                        guint64              *block,
                                                        guint64              *gas_used);
/* Why it failed, or NULL. */
const char           *kiln_payment_get_error           (KilnPayment          *self);
/* µs since the Unix epoch. */
gint64                kiln_payment_get_created_at      (KilnPayment          *self);
gint64                kiln_payment_get_updated_at      (KilnPayment          *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnPayment, kiln_payment_unref)

/* Sums over a history's filter, per chain and asset. */
typedef struct
{
  guint64      chain_id;
  gboolean     has_token;
  KilnAddress  token;        /* when @has_token; otherwise the native currency */
  KilnUint256  confirmed;    /* confirmed payments */
  KilnUint256  in_flight;    /* pending, signed and broadcast payments */
  guint        n_confirmed;
  guint        n_in_flight;
  guint        n_failed;
  /* A sum went past 2^256 - 1 and holds that maximum instead. */
  gboolean     overflow;
} KilnPaymentTotal;

typedef struct
{
  GPtrArray *payments;   /* KilnPayment: the requested page, newest first */
  guint      n_matching; /* payments matching the filter, on every page */
  GArray    *totals;     /* KilnPaymentTotal, ordered by chain, then native first */
} KilnPaymentHistory;

void kiln_payment_history_free (KilnPaymentHistory *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnPaymentHistory, kiln_payment_history_free)

G_END_DECLS
