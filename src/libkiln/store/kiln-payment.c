/* kiln-payment.c: outgoing payments as the ledger records them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kiln-payment-private.h"

/* Nicks, as stored in the database */

static const char * const kind_nicks[] = {
  [KILN_PAYMENT_KIND_ETH] = "eth",
  [KILN_PAYMENT_KIND_ERC20] = "erc20",
  [KILN_PAYMENT_KIND_BATCH] = "batch",
};

static const char * const state_nicks[] = {
  [KILN_PAYMENT_STATE_PENDING] = "pending",
  [KILN_PAYMENT_STATE_SIGNED] = "signed",
  [KILN_PAYMENT_STATE_BROADCAST] = "broadcast",
  [KILN_PAYMENT_STATE_CONFIRMED] = "confirmed",
  [KILN_PAYMENT_STATE_FAILED] = "failed",
};

static const char * const attempt_state_nicks[] = {
  [KILN_PAYMENT_ATTEMPT_SIGNED] = "signed",
  [KILN_PAYMENT_ATTEMPT_BROADCAST] = "broadcast",
  [KILN_PAYMENT_ATTEMPT_REPLACED] = "replaced",
  [KILN_PAYMENT_ATTEMPT_CONFIRMED] = "confirmed",
  [KILN_PAYMENT_ATTEMPT_FAILED] = "failed",
};

static gboolean
nick_lookup (const char * const *nicks,
             guint               n_nicks,
             const char         *nick,
             guint              *out)
{
  for (guint i = 0; i < n_nicks; i++)
    {
      if (g_strcmp0 (nicks[i], nick) == 0)
        {
          *out = i;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
kiln_payment_kind_to_string (KilnPaymentKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_nicks), NULL);

  return kind_nicks[kind];
}

const char *
kiln_payment_state_to_string (KilnPaymentState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_nicks), NULL);

  return state_nicks[state];
}

const char *
kiln_payment_attempt_state_to_string (KilnPaymentAttemptState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (attempt_state_nicks), NULL);

  return attempt_state_nicks[state];
}

gboolean
kiln_payment_kind_from_string (const char      *nick,
                               KilnPaymentKind *kind)
{
  guint value;

  if (!nick_lookup (kind_nicks, G_N_ELEMENTS (kind_nicks), nick, &value))
    return FALSE;

  *kind = value;
  return TRUE;
}

gboolean
kiln_payment_state_from_string (const char       *nick,
                                KilnPaymentState *state)
{
  guint value;

  if (!nick_lookup (state_nicks, G_N_ELEMENTS (state_nicks), nick, &value))
    return FALSE;

  *state = value;
  return TRUE;
}

gboolean
kiln_payment_attempt_state_from_string (const char              *nick,
                                        KilnPaymentAttemptState *state)
{
  guint value;

  if (!nick_lookup (attempt_state_nicks, G_N_ELEMENTS (attempt_state_nicks), nick, &value))
    return FALSE;

  *state = value;
  return TRUE;
}

/* KilnPaymentAttempt */

G_DEFINE_BOXED_TYPE (KilnPaymentAttempt, kiln_payment_attempt,
                     kiln_payment_attempt_copy, kiln_payment_attempt_free)

KilnPaymentAttempt *
kiln_payment_attempt_copy (const KilnPaymentAttempt *self)
{
  KilnPaymentAttempt *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_memdup2 (self, sizeof *self);
  if (copy->raw != NULL)
    g_bytes_ref (copy->raw);

  return copy;
}

void
kiln_payment_attempt_free (KilnPaymentAttempt *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->raw, g_bytes_unref);
  g_free (self);
}

/* KilnPayment */

G_DEFINE_BOXED_TYPE (KilnPayment, kiln_payment, kiln_payment_ref, kiln_payment_unref)

static void
kiln_payment_clear (gpointer data)
{
  KilnPayment *self = data;

  g_clear_pointer (&self->reference, g_free);
  g_clear_pointer (&self->idempotency_key, g_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->recipients, g_array_unref);
  g_clear_pointer (&self->attempts, g_ptr_array_unref);
}

KilnPayment *
kiln_payment_alloc (void)
{
  KilnPayment *self = g_atomic_rc_box_new0 (KilnPayment);

  self->recipients = g_array_new (FALSE, TRUE, sizeof (KilnPaymentRecipient));
  self->attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_payment_attempt_free);

  return self;
}

KilnPayment *
kiln_payment_new (KilnPaymentKind    kind,
                  guint64            chain_id,
                  const KilnAddress *from)
{
  KilnPayment *self;

  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_nicks), NULL);
  g_return_val_if_fail (from != NULL, NULL);

  self = kiln_payment_alloc ();
  self->kind = kind;
  self->chain_id = chain_id;
  self->from = *from;
  self->state = KILN_PAYMENT_STATE_PENDING;

  return self;
}

KilnPayment *
kiln_payment_ref (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

void
kiln_payment_unref (KilnPayment *self)
{
  g_return_if_fail (self != NULL);

  g_atomic_rc_box_release_full (self, kiln_payment_clear);
}

void
kiln_payment_set_token (KilnPayment       *self,
                        const KilnAddress *token)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (self->id == 0);

  self->has_token = token != NULL;
  if (token != NULL)
    self->token = *token;
  else
    memset (&self->token, 0, sizeof self->token);
}

void
kiln_payment_set_reference (KilnPayment *self,
                            const char  *reference)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (self->id == 0);

  g_free (self->reference);
  self->reference = g_strdup (reference);
}

void
kiln_payment_set_idempotency_key (KilnPayment *self,
                                  const char  *key)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (self->id == 0);

  g_free (self->idempotency_key);
  self->idempotency_key = g_strdup (key);
}

void
kiln_payment_add_recipient (KilnPayment       *self,
                            const KilnAddress *address,
                            const KilnUint256 *amount)
{
  KilnPaymentRecipient recipient;

  g_return_if_fail (self != NULL);
  g_return_if_fail (self->id == 0);
  g_return_if_fail (address != NULL);
  g_return_if_fail (amount != NULL);

  recipient.address = *address;
  recipient.amount = *amount;
  g_array_append_val (self->recipients, recipient);
}

gint64
kiln_payment_get_id (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->id;
}

guint64
kiln_payment_get_chain_id (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->chain_id;
}

KilnPaymentKind
kiln_payment_get_kind (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, KILN_PAYMENT_KIND_ETH);

  return self->kind;
}

const KilnAddress *
kiln_payment_get_from (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return &self->from;
}

const KilnAddress *
kiln_payment_get_token (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->has_token ? &self->token : NULL;
}

const char *
kiln_payment_get_reference (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->reference;
}

const char *
kiln_payment_get_idempotency_key (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->idempotency_key;
}

KilnPaymentState
kiln_payment_get_state (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, KILN_PAYMENT_STATE_PENDING);

  return self->state;
}

gboolean
kiln_payment_is_unfinished (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->state == KILN_PAYMENT_STATE_PENDING ||
         self->state == KILN_PAYMENT_STATE_SIGNED ||
         self->state == KILN_PAYMENT_STATE_BROADCAST;
}

gboolean
kiln_payment_get_nonce (KilnPayment *self,
                        guint64     *nonce)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (nonce != NULL)
    *nonce = self->has_nonce ? self->nonce : 0;

  return self->has_nonce;
}

void
kiln_payment_get_total (KilnPayment *self,
                        KilnUint256 *total)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (total != NULL);

  *total = self->total;
}

guint
kiln_payment_get_n_recipients (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->recipients->len;
}

const KilnPaymentRecipient *
kiln_payment_get_recipient (KilnPayment *self,
                            guint        index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->recipients->len, NULL);

  return &g_array_index (self->recipients, KilnPaymentRecipient, index);
}

guint
kiln_payment_get_n_attempts (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->attempts->len;
}

const KilnPaymentAttempt *
kiln_payment_get_attempt (KilnPayment *self,
                          guint        index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->attempts->len, NULL);

  return g_ptr_array_index (self->attempts, index);
}

const KilnPaymentAttempt *
kiln_payment_get_latest_attempt (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->attempts->len == 0)
    return NULL;

  return g_ptr_array_index (self->attempts, self->attempts->len - 1);
}

gboolean
kiln_payment_get_confirmation (KilnPayment *self,
                               guint64     *block,
                               guint64     *gas_used)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (block != NULL)
    *block = self->confirmed ? self->confirmed_block : 0;
  if (gas_used != NULL)
    *gas_used = self->confirmed ? self->gas_used : 0;

  return self->confirmed;
}

const char *
kiln_payment_get_error (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->error;
}

gint64
kiln_payment_get_created_at (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->created_at;
}

gint64
kiln_payment_get_updated_at (KilnPayment *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->updated_at;
}

/* KilnPaymentHistory */

void
kiln_payment_history_free (KilnPaymentHistory *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->payments, g_ptr_array_unref);
  g_clear_pointer (&self->totals, g_array_unref);
  g_free (self);
}
