/* kiln-render-job-market.c: offers, terms, acceptances, deadlines, departures and cancelling
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-render-job-private.h"

/* Whether @assignment is out with its provider (not ended, result not yet in). */
static gboolean
is_out (Assignment *assignment)
{
  return assignment->record->state == KILN_ASSIGNMENT_PROPOSED ||
         assignment->record->state == KILN_ASSIGNMENT_ACCEPTED;
}

gboolean
kiln_render_job_is_running (KilnRenderJob *self)
{
  switch (self->record->state)
    {
    case KILN_RENDER_JOB_STATE_ANNOUNCING:
    case KILN_RENDER_JOB_STATE_RUNNING:
    case KILN_RENDER_JOB_STATE_VERIFYING:
      return self->active && !self->cancelling;

    case KILN_RENDER_JOB_STATE_PREPARING:
    case KILN_RENDER_JOB_STATE_ASSEMBLING:
    case KILN_RENDER_JOB_STATE_PAYING:
    case KILN_RENDER_JOB_STATE_DONE:
    case KILN_RENDER_JOB_STATE_FAILED:
    case KILN_RENDER_JOB_STATE_CANCELLED:
    default:
      return FALSE;
    }
}

/* Whether @message, about the job's current task, comes from the provider of @assignment. */
static gboolean
from_provider (Assignment  *assignment,
               KilnMessage *message)
{
  return kiln_address_equal (kiln_message_get_author (message), &assignment->record->provider);
}

static Assignment *
lookup_terms (KilnRenderJob *self,
              const guint8  *digest)
{
  return g_hash_table_lookup (self->by_terms, digest);
}

void
kiln_render_job_clear_timeout (Assignment *assignment)
{
  g_clear_handle_id (&assignment->timeout_id, g_source_remove);
}

void
kiln_render_job_release_slot (KilnRenderJob *self,
                              Assignment    *assignment)
{
  if (!assignment->holds_slot)
    return;

  assignment->holds_slot = FALSE;
  if (self->book != NULL)
    kiln_offer_book_release (self->book, &assignment->record->provider);
}

/* Reputation */

typedef struct
{
  GWeakRef    job;
  KilnAddress provider;
} Recording;

static void
on_reputation_recorded (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  Recording *recording = user_data;
  g_autoptr(KilnRenderJob) self = g_weak_ref_get (&recording->job);
  g_autoptr(KilnReputationEntry) entry = NULL;
  g_autoptr(GError) error = NULL;

  entry = kiln_reputation_record_finish (KILN_REPUTATION (source), result, &error);
  if (entry == NULL)
    g_warning ("Could not record a provider’s reputation: %s", error->message);
  else if (self != NULL && self->book != NULL)
    kiln_offer_book_set_reputation (self->book, &recording->provider,
                                    kiln_reputation_entry_get_score (entry,
                                                                     kiln_render_job_now_us ()));

  g_weak_ref_clear (&recording->job);
  g_free (recording);
}

void
kiln_render_job_record_reputation (KilnRenderJob       *self,
                                   const KilnAddress   *provider,
                                   KilnReputationEvent  event)
{
  Recording *recording = g_new0 (Recording, 1);

  g_weak_ref_init (&recording->job, self);
  recording->provider = *provider;
  kiln_reputation_record_async (self->reputation, provider, event, kiln_render_job_now_us (),
                                NULL, on_reputation_recorded, recording);
}

/* Keeps @provider out of the job: its offers are dropped and ignored from now on. */
static void
exclude (KilnRenderJob     *self,
         const KilnAddress *provider)
{
  if (!g_hash_table_contains (self->excluded, provider))
    g_hash_table_add (self->excluded, kiln_address_copy (provider));
  if (self->book != NULL)
    kiln_offer_book_remove (self->book, provider);
}

/* Withdraws @assignment from its provider. @code is a reason code (KILN_MARKET_REASON_*):
 * what goes on the wire stays the same whatever the language; it is put in words only where
 * it is shown (describe_cancel()). */
static void
send_cancel_terms (KilnRenderJob *self,
                   Assignment    *assignment,
                   const char    *code)
{
  g_autoptr(KilnCancelBody) cancel = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  KilnEnginePeer *peer = kiln_engine_lookup_peer (self->engine, &assignment->record->provider);

  if (peer == NULL || !kiln_engine_peer_get_connected (peer))
    return;

  cancel = kiln_cancel_body_new (KILN_CANCEL_TERMS, assignment->record->terms_digest, code);
  body = kiln_cancel_body_encode (cancel, &error);
  if (body == NULL)
    {
      g_warning ("Could not encode a CANCEL: %s", error->message);
      return;
    }
  kiln_render_job_send (self, &assignment->record->provider, KILN_MESSAGE_CANCEL, body);
}

/* One whole sentence per way an assignment can end, so that each translates as a whole. */
static void
log_ended (KilnRenderJob       *self,
           guint                subtask,
           KilnAssignmentState  state,
           const char          *who,
           const char          *reason)
{
  switch (state)
    {
    case KILN_ASSIGNMENT_REFUSED:
      /* Translators: the first %s is a provider, the second why it did not take the work. */
      kiln_render_job_log (self, subtask, _("Refused by %s: %s"), who, reason);
      break;
    case KILN_ASSIGNMENT_FAILED:
      /* Translators: the first %s is a provider, the second what went wrong. */
      kiln_render_job_log (self, subtask, _("Failed at %s: %s"), who, reason);
      break;
    case KILN_ASSIGNMENT_REJECTED:
      /* Translators: the first %s is a provider, the second why its result was refused. */
      kiln_render_job_log (self, subtask, _("The result of %s was rejected: %s"), who, reason);
      break;
    case KILN_ASSIGNMENT_TIMED_OUT:
      /* Translators: the first %s is a provider, the second what did not come in time. */
      kiln_render_job_log (self, subtask, _("Timed out at %s: %s"), who, reason);
      break;
    case KILN_ASSIGNMENT_CANCELLED:
      /* Translators: the first %s is a provider, the second why the work was taken back. */
      kiln_render_job_log (self, subtask, _("Withdrawn from %s: %s"), who, reason);
      break;
    case KILN_ASSIGNMENT_PROPOSED:
    case KILN_ASSIGNMENT_ACCEPTED:
    case KILN_ASSIGNMENT_DELIVERED:
    case KILN_ASSIGNMENT_APPROVED:
    default:
      /* Translators: the first %s is a provider, the second why the assignment ended. */
      kiln_render_job_log (self, subtask, _("Assignment to %s ended: %s"), who, reason);
      break;
    }
}

/* What a reason code received in a CANCEL means, for the log. Codes this version does not
 * know (or a sentence from an older peer) are shown as they came. */
static char *
describe_cancel (const char *code)
{
  if (g_strcmp0 (code, KILN_MARKET_REASON_DEADLINE) == 0)
    return g_strdup (_("given back unfinished: the provider could not finish it in time"));
  if (g_strcmp0 (code, KILN_MARKET_REASON_CANCELLED) == 0)
    return g_strdup (_("given back unfinished by the provider"));
  if (g_strcmp0 (code, KILN_MARKET_REASON_LENDING_OFF) == 0)
    return g_strdup (_("given back unfinished: the provider switched lending off"));
  if (g_strcmp0 (code, KILN_MARKET_REASON_BUSY) == 0)
    return g_strdup (_("given back unfinished: the provider’s computer is in use"));
  /* Translators: %s is what the provider said, as it said it (usually a reason code). */
  return g_strdup_printf (_("given back unfinished: %s"), code);
}

void
kiln_render_job_end_assignment (KilnRenderJob       *self,
                                Assignment          *assignment,
                                KilnAssignmentState  state,
                                const char          *reason)
{
  KilnJobAssignmentRecord *record = assignment->record;
  Subtask *subtask = &g_array_index (self->subtasks, Subtask, record->subtask);
  gboolean had_accepted = record->accepted_at > 0;
  g_autofree char *who = kiln_render_job_describe_provider (&record->provider);

  g_assert (state != KILN_ASSIGNMENT_APPROVED);

  record->state = state;
  record->finished_at = kiln_render_job_now_us ();
  g_free (record->reason);
  record->reason = g_strdup (reason);
  kiln_render_job_clear_timeout (assignment);
  if (assignment->cancellable != NULL)
    g_cancellable_cancel (assignment->cancellable);
  kiln_render_job_stop_verifying (self, assignment);
  kiln_render_job_release_slot (self, assignment);

  log_ended (self, record->subtask, state, who, reason);

  switch (state)
    {
    case KILN_ASSIGNMENT_REJECTED:
      kiln_render_job_record_reputation (self, &record->provider, KILN_REPUTATION_REJECTED);
      break;

    case KILN_ASSIGNMENT_TIMED_OUT:
      kiln_render_job_record_reputation (self, &record->provider, KILN_REPUTATION_TIMED_OUT);
      break;

    case KILN_ASSIGNMENT_FAILED:
      if (had_accepted)
        kiln_render_job_record_reputation (self, &record->provider, KILN_REPUTATION_CANCELLED);
      break;

    case KILN_ASSIGNMENT_PROPOSED:
    case KILN_ASSIGNMENT_ACCEPTED:
    case KILN_ASSIGNMENT_DELIVERED:
    case KILN_ASSIGNMENT_APPROVED:
    case KILN_ASSIGNMENT_REFUSED:
    case KILN_ASSIGNMENT_CANCELLED:
    default:
      break;
    }

  if (subtask->current == assignment)
    {
      subtask->current = NULL;
      kiln_render_job_set_subtask_state (self, record->subtask, KILN_SUBTASK_STATE_PENDING);
    }

  kiln_render_job_save (self, record->subtask, assignment, NULL, NULL);
  kiln_render_job_schedule_dispatch (self);
}

/* Offers ------------------------------------------------------------------------------------ */

void
kiln_render_job_on_offer (KilnEngine     *engine,
                          KilnEnginePeer *peer,
                          KilnMessage    *message,
                          gpointer        user_data)
{
  KilnRenderJob *self = user_data;
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *who = NULL;
  KilnUint256 price;

  if (!kiln_render_job_is_running (self) || self->announcement == NULL)
    return;

  offer = kiln_market_offer_body_decode (kiln_message_get_body (message),
                                         kiln_render_job_now_s (), &error);
  if (offer == NULL)
    {
      g_debug ("Render job %s: an offer that does not decode: %s", self->record->id,
               error->message);
      return;
    }

  /* Offers for other tasks are other jobs' business. */
  if (memcmp (kiln_offer_get_task_id (offer),
              kiln_task_announcement_get_task_id (self->announcement), KILN_MARKET_ID_SIZE) != 0)
    return;

  who = kiln_render_job_describe_provider (kiln_offer_get_provider (offer));
  if (!kiln_address_equal (kiln_offer_get_provider (offer), kiln_message_get_author (message)))
    {
      kiln_render_job_log (self, -1, _("Ignored an offer of %s sent by another node"), who);
      return;
    }
  if (g_hash_table_contains (self->excluded, kiln_offer_get_provider (offer)))
    {
      /* Said once per announcement: the provider answers each time it is announced again. */
      if (g_hash_table_add (self->ignored, kiln_address_copy (kiln_offer_get_provider (offer))))
        kiln_render_job_log (self, -1, _("Ignored an offer of %s: it failed this job before"),
                             who);
      return;
    }

  if (!kiln_offer_book_add (self->book, offer, kiln_render_job_now_s (), &error))
    {
      /* The offer the book holds already, sent again: nothing changes. */
      if (g_error_matches (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_STALE))
        g_debug ("Render job %s: an offer of %s again: %s", self->record->id, who,
                 error->message);
      else
        kiln_render_job_log (self, -1, _("Refused an offer of %s: %s"), who, error->message);
      return;
    }

  kiln_offer_get_price (offer, &price);
  {
    g_autofree char *amount = kiln_render_job_format_amount (&price);

    kiln_render_job_log (self, -1, _("Offer of %s: %s per CPU-hour, %u at once"), who, amount,
                         kiln_offer_get_max_concurrent (offer));
  }
  kiln_render_job_schedule_dispatch (self);
}

/* Assigning ------------------------------------------------------------------------------- */

static gboolean
on_accept_timeout (gpointer data)
{
  Assignment *assignment = data;
  KilnRenderJob *self = assignment->job;

  assignment->timeout_id = 0;
  if (assignment->record->state != KILN_ASSIGNMENT_PROPOSED)
    return G_SOURCE_REMOVE;

  send_cancel_terms (self, assignment, KILN_MARKET_REASON_EXPIRED);
  if (self->book != NULL)
    kiln_offer_book_remove (self->book, &assignment->record->provider);
  kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_REFUSED,
                                  _("the terms were not accepted in time"));
  return G_SOURCE_REMOVE;
}

static void
on_assignment_saved (KilnRenderJob *self,
                     gpointer       data,
                     const GError  *error)
{
  Assignment *assignment = data;
  g_autoptr(KilnAssignBody) assign = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) local_error = NULL;
  const KilnSubtask *subtask;
  gint64 deadline;

  if (assignment->record->state != KILN_ASSIGNMENT_PROPOSED)
    return;

  if (error != NULL)
    {
      kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_CANCELLED,
                                      error->message);
      return;
    }

  subtask = kiln_render_job_plan_subtask (self, assignment->record->subtask);
  deadline = kiln_render_job_now_s () + KILN_RENDER_JOB_ACCEPT_TIMEOUT +
             self->settings->subtask_timeout;
  assign = kiln_assign_body_new (assignment->terms, subtask, deadline);
  for (guint i = 0; i < self->record->resources->len; i++)
    {
      const KilnJobResource *resource = g_ptr_array_index (self->record->resources, i);

      kiln_assign_body_add_resource (assign, resource->name, resource->sha256, resource->size);
    }

  body = kiln_assign_body_encode (assign, &local_error);
  if (body == NULL)
    {
      kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_CANCELLED,
                                      local_error->message);
      return;
    }

  kiln_render_job_send (self, &assignment->record->provider, KILN_MESSAGE_ASSIGN, body);
}

/* What the terms say about the work, so that both signatures cover it. */
static GBytes *
subtask_details (const KilnSubtask *subtask)
{
  g_autoptr(JsonNode) node = kiln_subtask_to_json (subtask);
  g_autofree char *text = json_to_string (node, FALSE);
  gsize len = strlen (text);

  return g_bytes_new_take (g_steal_pointer (&text), len);
}

/* Offers subtask @index to the provider of @offer (its slot already counted). */
static gboolean
assign (KilnRenderJob  *self,
        KilnOffer      *offer,
        guint           index,
        GError        **error)
{
  const KilnSubtask *subtask = kiln_render_job_plan_subtask (self, index);
  g_autoptr(GBytes) details = subtask_details (subtask);
  g_autoptr(KilnTerms) terms = NULL;
  KilnJobAssignmentRecord *record;
  Assignment *assignment;
  g_autofree char *who = NULL;
  g_autofree char *amount = NULL;
  KilnUint256 max_payment;

  terms = kiln_terms_propose (self->announcement, offer, &index, 1, details,
                              kiln_engine_get_key (self->engine), kiln_render_job_now_s (),
                              KILN_RENDER_JOB_ACCEPT_TIMEOUT, error);
  if (terms == NULL)
    return FALSE;

  record = kiln_job_assignment_record_new ();
  record->attempt = self->record->next_attempt++;
  record->subtask = index;
  record->provider = *kiln_offer_get_provider (offer);
  record->state = KILN_ASSIGNMENT_PROPOSED;
  record->terms = g_bytes_ref (kiln_terms_get_bytes (terms));
  memcpy (record->terms_digest, kiln_terms_get_digest (terms), KILN_MARKET_DIGEST_SIZE);
  record->proposed_at = kiln_render_job_now_us ();

  assignment = kiln_render_job_add_assignment (self, record, g_steal_pointer (&terms));
  assignment->holds_slot = TRUE;
  g_array_index (self->subtasks, Subtask, index).current = assignment;

  who = kiln_render_job_describe_provider (&record->provider);
  kiln_terms_get_max_payment (assignment->terms, &max_payment);
  amount = kiln_render_job_format_amount (&max_payment);
  kiln_render_job_log (self, index, _("Offered to %s for at most %s"), who, amount);

  assignment->timeout_id = g_timeout_add_seconds (KILN_RENDER_JOB_ACCEPT_TIMEOUT,
                                                  on_accept_timeout, assignment);
  kiln_render_job_set_subtask_state (self, index, KILN_SUBTASK_STATE_ASSIGNED);
  /* Written before it is sent: the terms are a commitment. */
  kiln_render_job_save (self, index, assignment, on_assignment_saved, assignment);
  return TRUE;
}

static int
next_pending (KilnRenderJob *self)
{
  for (guint i = 0; i < self->subtasks->len; i++)
    if (g_array_index (self->subtasks, Subtask, i).state == KILN_SUBTASK_STATE_PENDING)
      return i;
  return -1;
}

static gboolean
dispatch (gpointer data)
{
  KilnRenderJob *self = data;
  gint64 now = kiln_render_job_now_s ();
  int index;

  self->dispatch_id = 0;
  if (!kiln_render_job_is_running (self) || self->book == NULL)
    {
      kiln_render_job_keep_announcing (self, FALSE);
      return G_SOURCE_REMOVE;
    }

  while ((index = next_pending (self)) >= 0)
    {
      g_autoptr(KilnOffer) offer = NULL;
      g_autoptr(GError) error = NULL;
      const KilnAddress *provider;
      KilnEnginePeer *peer;

      offer = kiln_offer_book_assign_best (self->book, now);
      if (offer == NULL)
        break;

      provider = kiln_offer_get_provider (offer);
      peer = kiln_engine_lookup_peer (self->engine, provider);
      if (g_hash_table_contains (self->excluded, provider))
        {
          kiln_offer_book_release (self->book, provider);
          kiln_offer_book_remove (self->book, provider);
          continue;
        }
      if (peer == NULL || !kiln_engine_peer_get_connected (peer))
        {
          kiln_offer_book_release (self->book, provider);
          kiln_render_job_set_offer_aside (self, provider);
          continue;
        }

      if (!assign (self, offer, index, &error))
        {
          g_autofree char *who = kiln_render_job_describe_provider (provider);

          kiln_render_job_log (self, index, _("Could not make terms for %s: %s"), who,
                               error->message);
          kiln_offer_book_release (self->book, provider);
          kiln_offer_book_remove (self->book, provider);
        }
    }

  /* What is left waits for providers that have not offered (yet, or again). */
  kiln_render_job_keep_announcing (self, next_pending (self) >= 0);
  return G_SOURCE_REMOVE;
}

void
kiln_render_job_set_offer_aside (KilnRenderJob     *self,
                                 const KilnAddress *provider)
{
  g_autoptr(GPtrArray) offers = NULL;

  if (self->book == NULL)
    return;

  offers = kiln_offer_book_list (self->book, kiln_render_job_now_s ());
  for (guint i = 0; i < offers->len; i++)
    {
      KilnOffer *offer = g_ptr_array_index (offers, i);

      if (kiln_address_equal (kiln_offer_get_provider (offer), provider))
        g_hash_table_replace (self->away, kiln_address_copy (provider), g_object_ref (offer));
    }
  kiln_offer_book_remove (self->book, provider);
}

void
kiln_render_job_take_offer_back (KilnRenderJob     *self,
                                 const KilnAddress *provider)
{
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(GError) error = NULL;
  gpointer key = NULL;
  gpointer value = NULL;

  if (!g_hash_table_steal_extended (self->away, provider, &key, &value))
    return;
  kiln_address_free (key);
  offer = value;

  /* A provider that answered again meanwhile has a newer offer in the book already. */
  if (self->book != NULL && !g_hash_table_contains (self->excluded, provider) &&
      !kiln_offer_book_add (self->book, offer, kiln_render_job_now_s (), &error))
    g_debug ("Render job %s: an offer set aside is not taken back: %s", self->record->id,
             error->message);
}

void
kiln_render_job_schedule_dispatch (KilnRenderJob *self)
{
  if (self->dispatch_id != 0 || !kiln_render_job_is_running (self))
    return;

  self->dispatch_id = g_idle_add (dispatch, self);
}

/* Acceptances ------------------------------------------------------------------------------- */

static gboolean
on_result_timeout (gpointer data)
{
  Assignment *assignment = data;
  KilnRenderJob *self = assignment->job;

  assignment->timeout_id = 0;
  if (assignment->record->state != KILN_ASSIGNMENT_ACCEPTED)
    return G_SOURCE_REMOVE;

  send_cancel_terms (self, assignment, KILN_MARKET_REASON_DEADLINE);
  exclude (self, &assignment->record->provider);
  kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_TIMED_OUT,
                                  _("no result came in time"));
  return G_SOURCE_REMOVE;
}

void
kiln_render_job_on_accept (KilnEngine     *engine,
                           KilnEnginePeer *peer,
                           KilnMessage    *message,
                           gpointer        user_data)
{
  KilnRenderJob *self = user_data;
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *who = NULL;
  Assignment *assignment;

  if (!kiln_render_job_is_running (self))
    return;

  terms = kiln_market_accept_body_decode (kiln_message_get_body (message), &error);
  if (terms == NULL)
    {
      g_debug ("Render job %s: an acceptance that does not decode: %s", self->record->id,
               error->message);
      return;
    }

  assignment = lookup_terms (self, kiln_terms_get_digest (terms));
  if (assignment == NULL)
    return;
  if (!from_provider (assignment, message) ||
      !kiln_address_equal (kiln_terms_get_provider (terms), &assignment->record->provider) ||
      assignment->record->state != KILN_ASSIGNMENT_PROPOSED)
    return;

  g_clear_pointer (&assignment->record->terms, g_bytes_unref);
  assignment->record->terms = g_bytes_ref (kiln_terms_get_bytes (terms));
  g_set_object (&assignment->terms, terms);
  assignment->record->state = KILN_ASSIGNMENT_ACCEPTED;
  assignment->record->accepted_at = kiln_render_job_now_us ();

  kiln_render_job_clear_timeout (assignment);
  assignment->timeout_id = g_timeout_add_seconds (self->settings->subtask_timeout +
                                                  KILN_RENDER_JOB_RESULT_GRACE,
                                                  on_result_timeout, assignment);

  who = kiln_render_job_describe_provider (&assignment->record->provider);
  kiln_render_job_log (self, assignment->record->subtask, _("Accepted by %s"), who);
  kiln_render_job_set_subtask_state (self, assignment->record->subtask,
                                     KILN_SUBTASK_STATE_RENDERING);
  kiln_render_job_save (self, assignment->record->subtask, assignment, NULL, NULL);
}

/* Refusals, cancellations and departures ----------------------------------------------------- */

/* The provider refused or gave back @assignment. */
static void
given_back (KilnRenderJob *self,
            Assignment    *assignment,
            const char    *why)
{
  if (assignment->record->state == KILN_ASSIGNMENT_PROPOSED)
    {
      if (self->book != NULL)
        kiln_offer_book_remove (self->book, &assignment->record->provider);
      kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_REFUSED, why);
    }
  else if (assignment->record->state == KILN_ASSIGNMENT_ACCEPTED)
    {
      if (self->book != NULL)
        kiln_offer_book_remove (self->book, &assignment->record->provider);
      kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_FAILED, why);
    }
}

void
kiln_render_job_on_reject (KilnEngine     *engine,
                           KilnEnginePeer *peer,
                           KilnMessage    *message,
                           gpointer        user_data)
{
  KilnRenderJob *self = user_data;
  g_autoptr(KilnRejectBody) reject = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *why = NULL;
  Assignment *assignment;

  if (!self->active)
    return;

  reject = kiln_reject_body_decode (kiln_message_get_body (message), &error);
  if (reject == NULL)
    return;

  assignment = lookup_terms (self, reject->ref);
  if (assignment == NULL || !from_provider (assignment, message))
    return;

  why = *reject->text != '\0' ? g_strdup_printf ("%s (%s)", reject->text, reject->reason)
                              : g_strdup (reject->reason);
  given_back (self, assignment, why);
}

void
kiln_render_job_on_cancel (KilnEngine     *engine,
                           KilnEnginePeer *peer,
                           KilnMessage    *message,
                           gpointer        user_data)
{
  KilnRenderJob *self = user_data;
  g_autoptr(KilnCancelBody) cancel = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *why = NULL;

  if (!self->active)
    return;

  cancel = kiln_cancel_body_decode (kiln_message_get_body (message), &error);
  if (cancel == NULL)
    return;

  why = describe_cancel (cancel->reason);
  if (cancel->scope == KILN_CANCEL_TERMS)
    {
      Assignment *assignment = lookup_terms (self, cancel->id);

      if (assignment != NULL && from_provider (assignment, message))
        given_back (self, assignment, why);
      return;
    }

  if (self->announcement == NULL ||
      memcmp (cancel->id, kiln_task_announcement_get_task_id (self->announcement),
              KILN_MARKET_ID_SIZE) != 0)
    return;

  /* The provider withdraws from the whole task. */
  if (self->book != NULL)
    kiln_offer_book_remove (self->book, kiln_message_get_author (message));
  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *assignment = g_ptr_array_index (self->assignments, i);

      if (is_out (assignment) && from_provider (assignment, message))
        given_back (self, assignment, why);
    }
}

void
kiln_render_job_on_peer_disconnected (KilnRenderJob  *self,
                                      KilnEnginePeer *peer,
                                      const GError   *error)
{
  const KilnAddress *provider = kiln_engine_peer_get_address (peer);
  g_autofree char *why = NULL;

  if (!self->active)
    return;

  kiln_render_job_set_offer_aside (self, provider);

  why = g_strdup_printf (_("the provider went away (%s)"),
                         error != NULL ? error->message : _("link closed"));
  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *assignment = g_ptr_array_index (self->assignments, i);

      if (is_out (assignment) && kiln_address_equal (&assignment->record->provider, provider))
        kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_FAILED, why);
    }
}

/* Cancelling -------------------------------------------------------------------------------- */

/* @reason is for the job's own records and log; providers are sent the stable code
 * KILN_MARKET_REASON_CANCELLED, and put it in their own words. */
void
kiln_render_job_withdraw_all (KilnRenderJob *self,
                              const char    *reason)
{
  g_autoptr(KilnCancelBody) cancel = NULL;
  g_autoptr(GBytes) body = NULL;

  self->cancelling = TRUE;
  g_clear_handle_id (&self->dispatch_id, g_source_remove);

  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *assignment = g_ptr_array_index (self->assignments, i);

      if (!is_out (assignment) && assignment->record->state != KILN_ASSIGNMENT_DELIVERED)
        continue;
      send_cancel_terms (self, assignment, KILN_MARKET_REASON_CANCELLED);
      kiln_render_job_end_assignment (self, assignment, KILN_ASSIGNMENT_CANCELLED, reason);
    }

  /* Offers for the task are no longer wanted. */
  if (self->announcement != NULL && self->active)
    {
      cancel = kiln_cancel_body_new (KILN_CANCEL_TASK,
                                     kiln_task_announcement_get_task_id (self->announcement),
                                     KILN_MARKET_REASON_CANCELLED);
      body = kiln_cancel_body_encode (cancel, NULL);
      if (body != NULL)
        kiln_engine_broadcast_message_async (self->engine, KILN_MESSAGE_CANCEL, body, NULL,
                                             NULL, NULL);
    }
}

void
kiln_render_job_check_cancelled (KilnRenderJob *self)
{
  g_autoptr(GTask) task = NULL;

  if (self->cancel_task == NULL || !kiln_render_job_state_is_final (self->record->state))
    return;

  task = g_steal_pointer (&self->cancel_task);
  if (self->record->state == KILN_RENDER_JOB_STATE_CANCELLED)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_NOT_RUNNING,
                             _("The render job ended before it could be cancelled"));
}

void
kiln_render_job_cancel_async (KilnRenderJob       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  KilnUint256 owed;

  g_return_if_fail (KILN_IS_RENDER_JOB (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_render_job_cancel_async);

  if (kiln_render_job_state_is_final (self->record->state))
    {
      g_task_return_new_error (task, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_NOT_RUNNING,
                               _("The render job has already ended"));
      return;
    }
  if (self->cancel_task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("The render job is already being cancelled"));
      return;
    }

  self->cancel_task = g_steal_pointer (&task);
  kiln_render_job_log (self, -1, _("Cancelling the job"));
  kiln_render_job_withdraw_all (self, _("The requestor cancelled the job"));

  kiln_render_job_get_owed (self, &owed);
  if (!kiln_uint256_is_zero (&owed) && self->wallet != NULL && self->stored)
    {
      kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_PAYING);
      kiln_render_job_pay_owed (self);
    }
  else
    kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_CANCELLED);
}

gboolean
kiln_render_job_cancel_finish (KilnRenderJob  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_render_job_cancel_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
