/* kiln-provider-agent-settle.c: how a lending node's assignments are settled: withdrawn by
 * the requestor, results refused or approved, approvals paid, work handed back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-provider-agent-private.h"

void
kiln_provider_agent_on_cancel (KilnEngine     *engine,
                               KilnEnginePeer *peer,
                               KilnMessage    *message,
                               gpointer        user_data)
{
  KilnProviderAgent *self = user_data;
  const KilnAddress *author = kiln_message_get_author (message);
  g_autoptr(KilnCancelBody) cancel = NULL;
  g_autoptr(GPtrArray) ending = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  GHashTableIter iter;
  gpointer value;

  cancel = kiln_cancel_body_decode (kiln_message_get_body (message), &error);
  if (cancel == NULL)
    {
      g_debug ("Ignoring a CANCEL from %s: %s", kiln_engine_peer_get_address_string (peer),
               error->message);
      return;
    }
  id = kiln_market_id_to_hex (cancel->id);

  ending = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_assignment_unref);
  g_hash_table_iter_init (&iter, self->assignments);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      KilnAssignment *assignment = value;

      if (!kiln_address_equal (&assignment->requestor, author))
        continue;
      if ((cancel->scope == KILN_CANCEL_TERMS && g_str_equal (assignment->terms_hex, id)) ||
          (cancel->scope == KILN_CANCEL_TASK && g_str_equal (assignment->task_hex, id)))
        g_ptr_array_add (ending, kiln_assignment_ref (assignment));
    }
  for (guint i = 0; i < ending->len; i++)
    {
      KilnAssignment *assignment = g_ptr_array_index (ending, i);

      g_info ("The requestor cancelled the assignment %s: %s", assignment->terms_hex,
              cancel->reason);
      /* A requestor that withdraws terms lets the offer go with them. */
      kiln_provider_agent_drop_offer (self, assignment->task_hex, FALSE);
      kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_SILENT, KILN_MARKET_REASON_CANCELLED,
                           cancel->reason);
    }

  if (cancel->scope == KILN_CANCEL_TASK)
    kiln_provider_agent_forget_task (self, cancel->id, author);
}

/* A REJECT of a result sent: the requestor could not fetch it, or it failed verification.
 * Nothing will be approved for it, and the requestor let the offer go. */
void
kiln_provider_agent_on_reject (KilnEngine     *engine,
                               KilnEnginePeer *peer,
                               KilnMessage    *message,
                               gpointer        user_data)
{
  KilnProviderAgent *self = user_data;
  g_autoptr(KilnRejectBody) reject = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *terms_hex = NULL;
  g_autofree char *task_hex = NULL;
  KilnTerms *terms;

  reject = kiln_reject_body_decode (kiln_message_get_body (message), &error);
  if (reject == NULL)
    {
      g_debug ("Ignoring a REJECT from %s: %s", kiln_engine_peer_get_address_string (peer),
               error->message);
      return;
    }
  terms_hex = kiln_market_id_to_hex (reject->ref);
  terms = g_hash_table_lookup (self->delivered, terms_hex);
  if (terms == NULL ||
      !kiln_address_equal (kiln_terms_get_requestor (terms), kiln_message_get_author (message)))
    return;

  g_info ("The requestor refused the result of %s (%s): %s", terms_hex, reject->reason,
          reject->text);
  task_hex = kiln_market_id_to_hex (kiln_terms_get_task_id (terms));
  kiln_provider_agent_drop_offer (self, task_hex, FALSE);
  g_hash_table_remove (self->delivered, terms_hex);
}

void
kiln_provider_agent_on_approve (KilnEngine     *engine,
                                KilnEnginePeer *peer,
                                KilnMessage    *message,
                                gpointer        user_data)
{
  KilnProviderAgent *self = user_data;
  KilnApproveBody approve;
  KilnEarning *earning;
  KilnUint256 max_payment;
  g_autoptr(GError) error = NULL;
  g_autofree char *terms_hex = NULL;
  char amount[KILN_UINT256_DECIMAL_SIZE];
  KilnTerms *terms;

  if (!kiln_approve_body_decode (kiln_message_get_body (message), &approve, &error))
    {
      g_debug ("Ignoring an APPROVE from %s: %s", kiln_engine_peer_get_address_string (peer),
               error->message);
      return;
    }
  terms_hex = kiln_market_id_to_hex (approve.terms);
  terms = g_hash_table_lookup (self->delivered, terms_hex);
  if (terms == NULL ||
      !kiln_address_equal (kiln_terms_get_requestor (terms), kiln_message_get_author (message)))
    {
      g_debug ("Ignoring an APPROVE of terms %s: no result of them is waiting for approval",
               terms_hex);
      return;
    }
  kiln_terms_get_max_payment (terms, &max_payment);
  if (kiln_uint256_compare (&approve.amount, &max_payment) > 0)
    {
      g_debug ("Ignoring an APPROVE of terms %s: more than their maximum payment", terms_hex);
      return;
    }

  earning = g_new0 (KilnEarning, 1);
  memcpy (earning->terms, approve.terms, sizeof earning->terms);
  memcpy (earning->task_id, kiln_terms_get_task_id (terms), sizeof earning->task_id);
  earning->requestor = *kiln_terms_get_requestor (terms);
  earning->amount = approve.amount;
  earning->approved = kiln_provider_agent_now ();
  g_ptr_array_add (self->earnings, earning);
  g_hash_table_remove (self->delivered, terms_hex);

  kiln_uint256_format_decimal (&approve.amount, amount);
  g_info ("Terms %s approved: %s base units owed", terms_hex, amount);
  kiln_provider_agent_emit_earned (self, terms_hex, amount);
}

void
kiln_provider_agent_on_payment (KilnEngine     *engine,
                                KilnEnginePeer *peer,
                                KilnMessage    *message,
                                gpointer        user_data)
{
  KilnProviderAgent *self = user_data;
  g_autoptr(KilnPaymentBody) payment = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tx_hex = NULL;

  payment = kiln_payment_body_decode (kiln_message_get_body (message), &error);
  if (payment == NULL)
    {
      g_debug ("Ignoring a PAYMENT from %s: %s", kiln_engine_peer_get_address_string (peer),
               error->message);
      return;
    }
  tx_hex = kiln_market_id_to_hex (payment->tx_hash);

  for (guint i = 0; i < payment->terms->len; i++)
    {
      const guint8 *terms = g_array_index (payment->terms, KilnMarketId, i).bytes;

      for (guint j = 0; j < self->earnings->len; j++)
        {
          KilnEarning *earning = g_ptr_array_index (self->earnings, j);
          g_autofree char *terms_hex = NULL;

          if (earning->paid || memcmp (earning->terms, terms, sizeof earning->terms) != 0 ||
              !kiln_address_equal (&earning->requestor, kiln_message_get_author (message)))
            continue;
          earning->paid = TRUE;
          memcpy (earning->tx_hash, payment->tx_hash, sizeof earning->tx_hash);
          terms_hex = kiln_market_id_to_hex (earning->terms);
          g_info ("Terms %s paid by transaction %s", terms_hex, tx_hex);
          kiln_provider_agent_emit_paid (self, terms_hex, tx_hex);
        }
    }
}

/* Handed back by the provider: the render was paused at its deadline or lending was
 * switched off. */
void
kiln_provider_agent_on_handed_back (KilnProviderAgent *self,
                                    KilnRenderRun     *run)
{
  KilnAssignment *assignment = kiln_provider_agent_find_run (self, run);

  if (assignment == NULL)
    return;
  kiln_assignment_ref (assignment);
  kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_CANCEL, KILN_MARKET_REASON_DEADLINE,
                       _("The subtask could not be finished in time: the computer is in use "
                         "or lending was switched off."));
  kiln_assignment_unref (assignment);
}
