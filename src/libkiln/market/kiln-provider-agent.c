/* kiln-provider-agent.c: a lending node's side of the market
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-dht-record.h"
#include "kiln-provider-agent-private.h"

/* Announcements from the DHT kept while their requestor is not connected yet. */
#define MAX_PENDING 64

enum {
  PROP_0,
  PROP_ENGINE,
  PROP_PROVIDER,
  PROP_BLENDER,
  PROP_WORK_DIR,
  PROP_RUNNING,
  PROP_IDLE_PRIORITY,
  PROP_CURRENT_REQUESTOR,
  PROP_CURRENT_FRAMES,
  PROP_PROGRESS,
  PROP_N_RUNNING,
  PROP_N_DONE,
  N_PROPS
};

enum {
  SIGNAL_EARNED,
  SIGNAL_PAID,
  SIGNAL_FINISHED,
  SIGNAL_OFFERED,
  SIGNAL_ACCEPTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KilnProviderAgent, kiln_provider_agent, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (KilnEarning, kiln_earning, kiln_earning_copy, kiln_earning_free)

KilnEarning *
kiln_earning_copy (const KilnEarning *earning)
{
  g_return_val_if_fail (earning != NULL, NULL);

  return g_memdup2 (earning, sizeof *earning);
}

void
kiln_earning_free (KilnEarning *earning)
{
  g_free (earning);
}

static void
agent_offer_free (KilnAgentOffer *offered)
{
  g_clear_object (&offered->announcement);
  g_clear_object (&offered->offer);
  g_free (offered);
}

gint64
kiln_provider_agent_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Sending ------------------------------------------------------------------------------- */

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autofree char *what = user_data;
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = kiln_engine_send_message_finish (KILN_ENGINE (object), result, &error);
  if (message == NULL)
    g_debug ("Could not send %s: %s", what, error->message);
}

void
kiln_provider_agent_send (KilnProviderAgent *self,
                          const KilnAddress *to,
                          KilnMessageType    type,
                          GBytes            *body)
{
  g_autofree char *address = kiln_address_to_string (to);

  kiln_engine_send_message_async (self->engine, to, type, body, NULL, on_sent,
                                  g_strdup_printf ("%s to %s", kiln_message_type_to_string (type),
                                                   address));
}

void
kiln_provider_agent_send_reject (KilnProviderAgent *self,
                                 const KilnAddress *to,
                                 const guint8      *ref,
                                 const char        *reason,
                                 const char        *text)
{
  g_autoptr(KilnRejectBody) reject = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  g_autoptr(GString) clean = g_string_new (NULL);

  /* Texts come from errors that may quote what a scene printed: valid UTF-8, control
   * characters (a newline) as spaces, within the limit on a character boundary. */
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      gsize before = clean->len;

      if (g_unichar_iscntrl (c))
        c = ' ';
      g_string_append_unichar (clean, c);
      if (clean->len > KILN_MARKET_TEXT_MAX)
        {
          g_string_truncate (clean, before);
          break;
        }
    }
  reject = kiln_reject_body_new (ref, reason, clean->str);
  body = kiln_reject_body_encode (reject, &error);
  if (body == NULL)
    {
      g_critical ("A REJECT body could not be made: %s", error->message);
      return;
    }
  kiln_provider_agent_send (self, to, KILN_MESSAGE_REJECT, body);
}

/* Status for the lending panel ------------------------------------------------------------ */

static char *
format_frames (const KilnSubtask *subtask)
{
  if (subtask->frame_start == subtask->frame_end)
    return g_strdup_printf ("%d", subtask->frame_start);
  /* Translators: a run of frames, "1–9" */
  return g_strdup_printf (_("%d–%d"), subtask->frame_start, subtask->frame_end);
}

static void
set_string (KilnProviderAgent *self,
            char             **field,
            const char        *value,
            guint              prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

void
kiln_provider_agent_update_status (KilnProviderAgent *self)
{
  KilnAssignment *current = NULL;
  GHashTableIter iter;
  gpointer value;
  double progress = 0;
  g_autofree char *frames = NULL;

  /* The render that started first, else any assignment in progress. */
  g_hash_table_iter_init (&iter, self->assignments);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      KilnAssignment *assignment = value;

      if (current == NULL ||
          (assignment->run != NULL &&
           (current->run == NULL || assignment->started < current->started)))
        current = assignment;
    }

  g_object_freeze_notify (G_OBJECT (self));
  self->current = current;
  if (current != NULL)
    {
      frames = format_frames (current->subtask);
      if (current->run != NULL)
        progress = current->stage == KILN_ASSIGNMENT_RENDERING
                   ? kiln_render_run_get_fraction (current->run) : 1.0;
    }
  set_string (self, &self->current_requestor,
              current != NULL ? current->requestor_string : NULL, PROP_CURRENT_REQUESTOR);
  set_string (self, &self->current_frames, frames, PROP_CURRENT_FRAMES);
  if (progress != self->progress)
    {
      self->progress = progress;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
    }
  if (g_hash_table_size (self->assignments) != self->n_running)
    {
      self->n_running = g_hash_table_size (self->assignments);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

void
kiln_provider_agent_emit_finished (KilnProviderAgent *self,
                                   const char        *terms,
                                   const char        *reason)
{
  if (reason == NULL)
    {
      self->n_done++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DONE]);
    }
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, terms, reason);
}

void
kiln_provider_agent_emit_accepted (KilnProviderAgent *self,
                                   KilnAssignment    *assignment)
{
  g_autofree char *frames = format_frames (assignment->subtask);

  g_signal_emit (self, signals[SIGNAL_ACCEPTED], 0, assignment->terms_hex,
                 assignment->requestor_string, frames);
}

/* Offers -------------------------------------------------------------------------------- */

KilnAgentOffer *
kiln_provider_agent_lookup_offer (KilnProviderAgent *self,
                                  const guint8      *task_id)
{
  g_autofree char *hex = kiln_market_id_to_hex (task_id);

  return g_hash_table_lookup (self->offers, hex);
}

/* Forgets expired offers with nothing running, then the oldest idle ones while there are
 * too many. */
static void
prune_offers (KilnProviderAgent *self,
              gint64             now)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->offers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      KilnAgentOffer *offered = value;

      if (offered->running == 0 &&
          kiln_task_announcement_get_deadline (offered->announcement) <= now)
        g_hash_table_iter_remove (&iter);
    }

  while (g_hash_table_size (self->offers) >= KILN_PROVIDER_AGENT_MAX_OFFERS)
    {
      gpointer oldest_key = NULL;
      KilnAgentOffer *oldest = NULL;
      gpointer key;

      g_hash_table_iter_init (&iter, self->offers);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          KilnAgentOffer *offered = value;

          if (offered->running == 0 && (oldest == NULL || offered->serial < oldest->serial))
            {
              oldest = offered;
              oldest_key = key;
            }
        }
      if (oldest == NULL)
        break;
      g_hash_table_remove (self->offers, oldest_key);
    }
}

static KilnProviderCapabilities *
get_capabilities (KilnProviderAgent        *self,
                  KilnProviderCapabilities *capabilities)
{
  /* Kiln renders with Cycles on the CPU, whatever the scene's own engine. */
  static const char * const engines[] = { "CYCLES", NULL };
  guint patch;

  memset (capabilities, 0, sizeof *capabilities);
  kiln_blender_get_version_numbers (self->blender, &capabilities->blender_major,
                                    &capabilities->blender_minor, &patch);
  capabilities->engines = engines;
  capabilities->benchmark_score = kiln_blender_get_benchmark_score (self->blender);
  capabilities->benchmark_threads = kiln_blender_get_benchmark_threads (self->blender);
  capabilities->max_concurrent = 0;
  return capabilities;
}

/* Decides on @announcement and sends the offer to its requestor, who must be connected.
 * From the DHT (@from_dht), an announcement whose requestor is not connected yet waits for
 * the link. */
static void
consider_announcement (KilnProviderAgent    *self,
                       KilnTaskAnnouncement *announcement,
                       gboolean              from_dht)
{
  const KilnAddress *requestor = kiln_task_announcement_get_requestor (announcement);
  const guint8 *task_id = kiln_task_announcement_get_task_id (announcement);
  g_autofree char *task_hex = kiln_market_id_to_hex (task_id);
  KilnProviderCapabilities capabilities;
  KilnEnginePeer *peer;
  KilnAgentOffer *offered;
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = kiln_provider_agent_now ();

  if (kiln_address_equal (requestor, kiln_engine_get_address (self->engine)))
    return;

  offered = g_hash_table_lookup (self->offers, task_hex);
  if (offered != NULL &&
      memcmp (kiln_offer_get_announcement (offered->offer),
              kiln_task_announcement_get_digest (announcement), KILN_MARKET_DIGEST_SIZE) == 0 &&
      kiln_offer_get_expires (offered->offer) > now)
    return;   /* already answered, and the offer stands */

  if (!kiln_provider_can_start_work (self->provider))
    {
      g_debug ("No offer for task %s: %s", task_hex,
               kiln_provider_get_status (self->provider));
      return;
    }

  peer = kiln_engine_lookup_peer (self->engine, requestor);
  if (peer == NULL || !kiln_engine_peer_get_connected (peer))
    {
      if (from_dht)
        {
          if (self->pending->len >= MAX_PENDING)
            g_ptr_array_remove_index (self->pending, 0);
          g_ptr_array_add (self->pending, g_object_ref (announcement));
        }
      return;
    }

  offer = kiln_offer_propose (announcement, kiln_provider_get_policy (self->provider),
                              get_capabilities (self, &capabilities),
                              kiln_engine_get_key (self->engine), now,
                              KILN_PROVIDER_AGENT_OFFER_LIFETIME, &error);
  if (offer == NULL)
    {
      g_debug ("No offer for task %s: %s", task_hex, error->message);
      return;
    }

  if (offered == NULL)
    {
      prune_offers (self, now);
      offered = g_new0 (KilnAgentOffer, 1);
      g_hash_table_insert (self->offers, g_strdup (task_hex), offered);
    }
  g_set_object (&offered->announcement, announcement);
  g_set_object (&offered->offer, offer);
  offered->serial = ++self->offer_serial;

  g_info ("Offering on task %s", task_hex);
  kiln_provider_agent_send (self, requestor, KILN_MESSAGE_OFFER, kiln_offer_get_bytes (offer));
  {
    g_autofree char *requestor_string = kiln_address_to_string (requestor);

    g_signal_emit (self, signals[SIGNAL_OFFERED], 0, task_hex, requestor_string);
  }
}

static void
on_task_announce (KilnEngine     *engine,
                  KilnEnginePeer *peer,
                  KilnMessage    *message,
                  gpointer        user_data)
{
  KilnProviderAgent *self = user_data;
  g_autoptr(KilnTaskAnnouncement) announcement = NULL;
  g_autoptr(GError) error = NULL;

  announcement = kiln_market_announce_body_decode (kiln_message_get_body (message),
                                                   kiln_provider_agent_now (), &error);
  if (announcement == NULL)
    {
      g_debug ("Ignoring a task announcement from %s: %s",
               kiln_engine_peer_get_address_string (peer), error->message);
      return;
    }
  consider_announcement (self, announcement, FALSE);
}

/* The DHT topic ------------------------------------------------------------------------- */

static void
on_topic_record (KilnDht             *dht,
                 const KilnDhtRecord *record,
                 gpointer             user_data)
{
  KilnProviderAgent *self = user_data;
  g_autoptr(KilnTaskAnnouncement) announcement = NULL;
  g_autoptr(GError) error = NULL;

  announcement = kiln_market_announce_body_decode (record->payload, kiln_provider_agent_now (),
                                                   &error);
  if (announcement == NULL)
    {
      g_debug ("Ignoring a task record: %s", error->message);
      return;
    }
  /* Only the requestor publishes its own tasks. */
  if (!kiln_address_equal (&record->author, kiln_task_announcement_get_requestor (announcement)))
    {
      g_debug ("Ignoring a task record published by another node than its requestor");
      return;
    }
  consider_announcement (self, announcement, TRUE);
}

static void
unsubscribe (KilnProviderAgent *self)
{
  g_cancellable_cancel (self->dht_cancellable);
  g_clear_object (&self->dht_cancellable);
  g_clear_object (&self->dht);
}

static void
sync_subscription (KilnProviderAgent *self)
{
  KilnDht *dht = kiln_engine_get_dht (self->engine);

  if (!self->running || dht == NULL || !kiln_dht_is_running (dht))
    {
      unsubscribe (self);
      return;
    }
  if (self->dht == dht)
    return;

  unsubscribe (self);
  self->dht_cancellable = g_cancellable_new ();
  if (kiln_dht_subscribe (dht, KILN_MARKET_TASK_TOPIC, self->dht_cancellable, on_topic_record,
                          self, NULL) != 0)
    self->dht = g_object_ref (dht);
  else
    g_clear_object (&self->dht_cancellable);
}

static void
on_engine_state (KilnProviderAgent *self)
{
  sync_subscription (self);
}

static void
on_peer_connected (KilnProviderAgent *self,
                   KilnEnginePeer    *peer)
{
  g_autoptr(GPtrArray) ready = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 now = kiln_provider_agent_now ();

  for (guint i = self->pending->len; i > 0; i--)
    {
      KilnTaskAnnouncement *announcement = g_ptr_array_index (self->pending, i - 1);

      if (kiln_task_announcement_get_expires (announcement) <= now)
        g_ptr_array_remove_index (self->pending, i - 1);
      else if (kiln_address_equal (kiln_task_announcement_get_requestor (announcement),
                                   kiln_engine_peer_get_address (peer)))
        g_ptr_array_add (ready, g_ptr_array_steal_index (self->pending, i - 1));
    }
  for (guint i = ready->len; i > 0; i--)
    consider_announcement (self, g_ptr_array_index (ready, i - 1), TRUE);
}

/* Cancellations, approvals, payments ---------------------------------------------------- */

static void
on_cancel (KilnEngine     *engine,
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
      kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_SILENT, KILN_MARKET_REASON_CANCELLED,
                           cancel->reason);
    }

  if (cancel->scope == KILN_CANCEL_TASK)
    {
      KilnAgentOffer *offered = g_hash_table_lookup (self->offers, id);

      if (offered != NULL &&
          kiln_address_equal (kiln_task_announcement_get_requestor (offered->announcement),
                              author) &&
          offered->running == 0)
        g_hash_table_remove (self->offers, id);
    }
}

static void
on_approve (KilnEngine     *engine,
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
  g_signal_emit (self, signals[SIGNAL_EARNED], 0, terms_hex, amount);
}

static void
on_payment (KilnEngine     *engine,
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
          g_signal_emit (self, signals[SIGNAL_PAID], 0, terms_hex, tx_hex);
        }
    }
}

/* Handed back by the provider: the render was paused at its deadline or lending was
 * switched off. */
static void
on_handed_back (KilnProviderAgent *self,
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

/* Running ------------------------------------------------------------------------------- */

static void
add_handler (KilnProviderAgent     *self,
             KilnMessageType        type,
             KilnEngineMessageFunc  func)
{
  guint id = kiln_engine_add_message_handler (self->engine, type, func, self, NULL);

  g_array_append_val (self->handler_ids, id);
}

gboolean
kiln_provider_agent_start (KilnProviderAgent  *self,
                           GError            **error)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->running)
    return TRUE;

  if (g_mkdir_with_parents (self->work_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not make the folder for lent work “%s”: %s"), self->work_dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  kiln_provider_agent_clean_work_dir (self);

  self->running = TRUE;
  self->cancellable = g_cancellable_new ();
  add_handler (self, KILN_MESSAGE_TASK_ANNOUNCE, on_task_announce);
  add_handler (self, KILN_MESSAGE_ASSIGN, kiln_provider_agent_on_assign);
  add_handler (self, KILN_MESSAGE_CANCEL, on_cancel);
  add_handler (self, KILN_MESSAGE_APPROVE, on_approve);
  add_handler (self, KILN_MESSAGE_PAYMENT, on_payment);
  self->state_id = g_signal_connect_object (self->engine, "notify::state",
                                            G_CALLBACK (on_engine_state), self,
                                            G_CONNECT_SWAPPED);
  self->connected_id = g_signal_connect_object (self->engine, "peer-connected",
                                                G_CALLBACK (on_peer_connected), self,
                                                G_CONNECT_SWAPPED);
  self->handed_back_id = g_signal_connect_object (self->provider, "handed-back",
                                                  G_CALLBACK (on_handed_back), self,
                                                  G_CONNECT_SWAPPED);
  sync_subscription (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  return TRUE;
}

void
kiln_provider_agent_stop (KilnProviderAgent *self)
{
  g_autoptr(GPtrArray) ending = NULL;
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (KILN_IS_PROVIDER_AGENT (self));

  if (!self->running)
    return;

  for (guint i = 0; i < self->handler_ids->len; i++)
    kiln_engine_remove_message_handler (self->engine,
                                        g_array_index (self->handler_ids, guint, i));
  g_array_set_size (self->handler_ids, 0);
  g_clear_signal_handler (&self->state_id, self->engine);
  g_clear_signal_handler (&self->connected_id, self->engine);
  g_clear_signal_handler (&self->handed_back_id, self->provider);
  self->running = FALSE;
  unsubscribe (self);
  g_ptr_array_set_size (self->pending, 0);

  ending = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_assignment_unref);
  g_hash_table_iter_init (&iter, self->assignments);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (ending, kiln_assignment_ref (value));
  for (guint i = 0; i < ending->len; i++)
    kiln_assignment_end (g_ptr_array_index (ending, i), KILN_ASSIGNMENT_END_CANCEL,
                         KILN_MARKET_REASON_CANCELLED, _("The provider stopped lending."));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

/* Accessors ----------------------------------------------------------------------------- */

KilnEngine *
kiln_provider_agent_get_engine (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->engine;
}

KilnProvider *
kiln_provider_agent_get_provider (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->provider;
}

KilnBlender *
kiln_provider_agent_get_blender (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->blender;
}

const char *
kiln_provider_agent_get_work_dir (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->work_dir;
}

gboolean
kiln_provider_agent_get_idle_priority (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), FALSE);

  return self->idle_priority;
}

void
kiln_provider_agent_set_idle_priority (KilnProviderAgent *self,
                                       gboolean           idle_priority)
{
  g_return_if_fail (KILN_IS_PROVIDER_AGENT (self));

  idle_priority = !!idle_priority;
  if (self->idle_priority == idle_priority)
    return;
  self->idle_priority = idle_priority;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE_PRIORITY]);
}

gboolean
kiln_provider_agent_get_running (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), FALSE);

  return self->running;
}

const char *
kiln_provider_agent_get_current_requestor (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->current_requestor;
}

const char *
kiln_provider_agent_get_current_frames (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->current_frames;
}

gboolean
kiln_provider_agent_get_current_frame_range (KilnProviderAgent *self,
                                             int               *first,
                                             int               *last)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), FALSE);

  if (self->current == NULL)
    return FALSE;
  if (first != NULL)
    *first = self->current->subtask->frame_start;
  if (last != NULL)
    *last = self->current->subtask->frame_end;
  return TRUE;
}

double
kiln_provider_agent_get_progress (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), 0);

  return self->progress;
}

guint
kiln_provider_agent_get_n_running (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), 0);

  return g_hash_table_size (self->assignments);
}

guint
kiln_provider_agent_get_n_done (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), 0);

  return self->n_done;
}

KilnRenderRun *
kiln_provider_agent_lookup_run (KilnProviderAgent *self,
                                const char        *terms)
{
  KilnAssignment *assignment;

  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);
  g_return_val_if_fail (terms != NULL, NULL);

  assignment = g_hash_table_lookup (self->assignments, terms);
  return assignment != NULL ? assignment->run : NULL;
}

GPtrArray *
kiln_provider_agent_dup_earnings (KilnProviderAgent *self)
{
  GPtrArray *earnings;

  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  earnings = g_ptr_array_new_full (self->earnings->len, (GDestroyNotify) kiln_earning_free);
  for (guint i = 0; i < self->earnings->len; i++)
    g_ptr_array_add (earnings, kiln_earning_copy (g_ptr_array_index (self->earnings, i)));
  return earnings;
}

/* GObject ------------------------------------------------------------------------------- */

static void
kiln_provider_agent_dispose (GObject *object)
{
  KilnProviderAgent *self = KILN_PROVIDER_AGENT (object);

  if (self->engine != NULL)
    kiln_provider_agent_stop (self);

  G_OBJECT_CLASS (kiln_provider_agent_parent_class)->dispose (object);
}

static void
kiln_provider_agent_finalize (GObject *object)
{
  KilnProviderAgent *self = KILN_PROVIDER_AGENT (object);

  g_clear_object (&self->engine);
  g_clear_object (&self->provider);
  g_clear_object (&self->blender);
  g_free (self->work_dir);
  g_free (self->current_requestor);
  g_free (self->current_frames);
  g_array_unref (self->handler_ids);
  g_ptr_array_unref (self->pending);
  g_hash_table_unref (self->offers);
  g_hash_table_unref (self->assignments);
  g_hash_table_unref (self->delivered);
  g_ptr_array_unref (self->earnings);

  G_OBJECT_CLASS (kiln_provider_agent_parent_class)->finalize (object);
}

static void
kiln_provider_agent_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  KilnProviderAgent *self = KILN_PROVIDER_AGENT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;
    case PROP_PROVIDER:
      g_value_set_object (value, self->provider);
      break;
    case PROP_BLENDER:
      g_value_set_object (value, self->blender);
      break;
    case PROP_WORK_DIR:
      g_value_set_string (value, self->work_dir);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_IDLE_PRIORITY:
      g_value_set_boolean (value, self->idle_priority);
      break;
    case PROP_CURRENT_REQUESTOR:
      g_value_set_string (value, kiln_provider_agent_get_current_requestor (self));
      break;
    case PROP_CURRENT_FRAMES:
      g_value_set_string (value, kiln_provider_agent_get_current_frames (self));
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_N_RUNNING:
      g_value_set_uint (value, kiln_provider_agent_get_n_running (self));
      break;
    case PROP_N_DONE:
      g_value_set_uint (value, self->n_done);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_provider_agent_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  KilnProviderAgent *self = KILN_PROVIDER_AGENT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      self->engine = g_value_dup_object (value);
      break;
    case PROP_PROVIDER:
      self->provider = g_value_dup_object (value);
      break;
    case PROP_BLENDER:
      self->blender = g_value_dup_object (value);
      break;
    case PROP_WORK_DIR:
      self->work_dir = g_value_dup_string (value);
      break;
    case PROP_IDLE_PRIORITY:
      kiln_provider_agent_set_idle_priority (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_provider_agent_class_init (KilnProviderAgentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_provider_agent_dispose;
  object_class->finalize = kiln_provider_agent_finalize;
  object_class->get_property = kiln_provider_agent_get_property;
  object_class->set_property = kiln_provider_agent_set_property;

  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL, KILN_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROVIDER] =
    g_param_spec_object ("provider", NULL, NULL, KILN_TYPE_PROVIDER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BLENDER] =
    g_param_spec_object ("blender", NULL, NULL, KILN_TYPE_BLENDER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WORK_DIR] =
    g_param_spec_string ("work-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_IDLE_PRIORITY] =
    g_param_spec_boolean ("idle-priority", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS);
  properties[PROP_CURRENT_REQUESTOR] =
    g_param_spec_string ("current-requestor", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CURRENT_FRAMES] =
    g_param_spec_string ("current-frames", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_RUNNING] =
    g_param_spec_uint ("n-running", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_DONE] =
    g_param_spec_uint ("n-done", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_EARNED] =
    g_signal_new ("earned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_PAID] =
    g_signal_new ("paid", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_OFFERED] =
    g_signal_new ("offered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_ACCEPTED] =
    g_signal_new ("accepted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}

static void
kiln_provider_agent_init (KilnProviderAgent *self)
{
  self->idle_priority = TRUE;
  self->handler_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  self->offers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) agent_offer_free);
  self->assignments = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify) kiln_assignment_unref);
  self->delivered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->earnings = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_earning_free);
}

KilnProviderAgent *
kiln_provider_agent_new (KilnEngine   *engine,
                         KilnProvider *provider,
                         KilnBlender  *blender,
                         const char   *work_dir)
{
  g_return_val_if_fail (KILN_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (KILN_IS_PROVIDER (provider), NULL);
  g_return_val_if_fail (KILN_IS_BLENDER (blender), NULL);
  g_return_val_if_fail (work_dir != NULL && g_path_is_absolute (work_dir), NULL);

  return g_object_new (KILN_TYPE_PROVIDER_AGENT,
                       "engine", engine,
                       "provider", provider,
                       "blender", blender,
                       "work-dir", work_dir,
                       NULL);
}
