/* kiln-provider-agent-offers.c: a lending node's offers: announcements heard, offers made,
 * and announcements that wait for free cores
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An announcement (a TASK_ANNOUNCE from a linked requestor, or a record under the DHT topic)
 * gets an offer when the computer can take work, the lending policy takes the task and enough
 * of the lent cores are free. One turned down only for want of cores is kept, and offered on as
 * soon as cores free up. docs/market.md ("Provider agent") says what is sent when.
 */
#include "config.h"

#include <string.h>

#include "kiln-dht-record.h"
#include "kiln-provider-agent-private.h"

/* Announcements from the DHT kept while their requestor is not connected yet. */
#define MAX_PENDING 64
/* Announcements turned down for want of free cores, kept to offer on once cores free up. */
#define MAX_WAITING 64

void
kiln_agent_offer_free (KilnAgentOffer *offered)
{
  g_clear_object (&offered->announcement);
  g_clear_object (&offered->offer);
  g_free (offered);
}

void
kiln_agent_waiting_free (KilnAgentWaiting *waiting)
{
  g_clear_object (&waiting->announcement);
  g_free (waiting);
}

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

/* Free cores ------------------------------------------------------------------------ */

/* The cores the policy lends (all of this computer's when it says 0). */
static guint
get_lent_cores (KilnProviderAgent *self)
{
  guint cores = kiln_lending_policy_get_cores (kiln_provider_get_policy (self->provider));

  if (cores == 0)
    cores = g_get_num_processors ();
  return MIN (cores, KILN_MARKET_MAX_CORES);
}

guint
kiln_provider_agent_get_free_cores (KilnProviderAgent *self)
{
  GHashTableIter iter;
  gpointer value;
  guint lent = get_lent_cores (self);
  guint used = 0;

  g_hash_table_iter_init (&iter, self->assignments);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    used += kiln_terms_get_cores (((KilnAssignment *) value)->terms);
  return used < lent ? lent - used : 0;
}

/* Announcements waiting for free cores --------------------------------------------------- */

static int
find_waiting (KilnProviderAgent *self,
              const guint8      *task_id)
{
  for (guint i = 0; i < self->waiting->len; i++)
    {
      KilnAgentWaiting *waiting = g_ptr_array_index (self->waiting, i);

      if (memcmp (kiln_task_announcement_get_task_id (waiting->announcement), task_id,
                  KILN_MARKET_ID_SIZE) == 0)
        return i;
    }
  return -1;
}

static void
forget_waiting (KilnProviderAgent *self,
                const guint8      *task_id)
{
  int index = find_waiting (self, task_id);

  if (index >= 0)
    g_ptr_array_remove_index (self->waiting, index);
}

/* Keeps @announcement (one per task: a later one replaces it) until it expires or, at most,
 * for as long as an offer would stand: a requestor still waiting announces its task again. */
static void
remember_waiting (KilnProviderAgent    *self,
                  KilnTaskAnnouncement *announcement,
                  gint64                now)
{
  KilnAgentWaiting *waiting;

  forget_waiting (self, kiln_task_announcement_get_task_id (announcement));
  if (self->waiting->len >= MAX_WAITING)
    g_ptr_array_remove_index (self->waiting, 0);

  waiting = g_new0 (KilnAgentWaiting, 1);
  waiting->announcement = g_object_ref (announcement);
  waiting->until = MIN (kiln_task_announcement_get_expires (announcement),
                        now + KILN_PROVIDER_AGENT_OFFER_LIFETIME);
  g_ptr_array_add (self->waiting, waiting);
}

static void
resend_offer (KilnProviderAgent *self,
              KilnAgentOffer    *offered,
              guint              min_cores)
{
  const KilnAddress *requestor = kiln_task_announcement_get_requestor (offered->announcement);
  KilnEnginePeer *peer = kiln_engine_lookup_peer (self->engine, requestor);

  if (!kiln_provider_can_start_work (self->provider) ||
      kiln_provider_agent_get_free_cores (self) < min_cores ||
      offered->running >= kiln_offer_get_max_concurrent (offered->offer) ||
      peer == NULL || !kiln_engine_peer_get_connected (peer))
    return;

  g_debug ("Offering again on a task announced again");
  kiln_provider_agent_send (self, requestor, KILN_MESSAGE_OFFER,
                            kiln_offer_get_bytes (offered->offer));
}

/* Decides on @announcement and sends the offer to its requestor, who must be connected.
 * With @keep_until_linked (an announcement from the DHT), an announcement whose requestor is
 * not connected yet waits for the link. One that would be taken but finds too few cores free
 * waits for them. */
static void
consider_announcement (KilnProviderAgent    *self,
                       KilnTaskAnnouncement *announcement,
                       gboolean              keep_until_linked)
{
  const KilnAddress *requestor = kiln_task_announcement_get_requestor (announcement);
  const guint8 *task_id = kiln_task_announcement_get_task_id (announcement);
  g_autofree char *task_hex = kiln_market_id_to_hex (task_id);
  guint min_cores = kiln_task_announcement_get_min_cores (announcement);
  KilnProviderCapabilities capabilities;
  KilnEnginePeer *peer;
  KilnAgentOffer *offered;
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *requestor_string = NULL;
  gint64 now = kiln_provider_agent_now ();
  guint free_cores;

  if (kiln_address_equal (requestor, kiln_engine_get_address (self->engine)))
    return;

  offered = g_hash_table_lookup (self->offers, task_hex);
  if (offered != NULL && !offered->dropped &&
      memcmp (kiln_offer_get_announcement (offered->offer),
              kiln_task_announcement_get_digest (announcement), KILN_MARKET_DIGEST_SIZE) == 0 &&
      kiln_offer_get_expires (offered->offer) > now)
    {
      /* Already answered, and the offer stands. A requestor that announces its task again
       * still waits for providers: if this one could take a subtask now, the offer did not
       * reach it (a link that closed on the way) and is sent again, the same bytes, which
       * it takes only if it does not hold them. */
      forget_waiting (self, task_id);
      resend_offer (self, offered, min_cores);
      return;
    }

  if (!kiln_provider_can_start_work (self->provider))
    {
      /* Not kept: a requestor that still waits announces its task again. */
      g_debug ("No offer for task %s: %s", task_hex,
               kiln_provider_get_status (self->provider));
      return;
    }

  peer = kiln_engine_lookup_peer (self->engine, requestor);
  if (peer == NULL || !kiln_engine_peer_get_connected (peer))
    {
      if (keep_until_linked)
        {
          if (self->pending->len >= MAX_PENDING)
            g_ptr_array_remove_index (self->pending, 0);
          g_ptr_array_add (self->pending, g_object_ref (announcement));
        }
      return;
    }

  /* The task may run here as many subtasks at once as the free cores allow, besides those
   * of it already running. */
  free_cores = kiln_provider_agent_get_free_cores (self);
  get_capabilities (self, &capabilities);
  capabilities.max_concurrent = MAX (free_cores / MAX (min_cores, 1) +
                                     (offered != NULL ? offered->running : 0), 1);
  offer = kiln_offer_propose (announcement, kiln_provider_get_policy (self->provider),
                              &capabilities, kiln_engine_get_key (self->engine), now,
                              KILN_PROVIDER_AGENT_OFFER_LIFETIME, &error);
  if (offer == NULL)
    {
      forget_waiting (self, task_id);
      g_debug ("No offer for task %s: %s", task_hex, error->message);
      return;
    }

  if (free_cores < min_cores)
    {
      g_debug ("No offer for task %s yet: %u of its %u cores are free; offering once they "
               "are", task_hex, free_cores, min_cores);
      remember_waiting (self, announcement, now);
      return;
    }

  forget_waiting (self, task_id);
  if (offered == NULL)
    {
      prune_offers (self, now);
      offered = g_new0 (KilnAgentOffer, 1);
      g_hash_table_insert (self->offers, g_strdup (task_hex), offered);
    }
  g_set_object (&offered->announcement, announcement);
  g_set_object (&offered->offer, offer);
  offered->serial = ++self->offer_serial;
  offered->dropped = FALSE;

  g_info ("Offering on task %s", task_hex);
  kiln_provider_agent_send (self, requestor, KILN_MESSAGE_OFFER, kiln_offer_get_bytes (offer));
  requestor_string = kiln_address_to_string (requestor);
  kiln_provider_agent_emit_offered (self, task_hex, requestor_string);
}

/* Offers on the announcements that waited for cores, oldest first, while cores are free. */
static gboolean
offer_waiting (gpointer data)
{
  KilnProviderAgent *self = data;
  g_autoptr(GPtrArray) ready = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 now = kiln_provider_agent_now ();

  self->waiting_id = 0;
  if (!self->running)
    return G_SOURCE_REMOVE;

  for (guint i = self->waiting->len; i > 0; i--)
    {
      KilnAgentWaiting *waiting = g_ptr_array_index (self->waiting, i - 1);

      if (waiting->until <= now)
        g_ptr_array_remove_index (self->waiting, i - 1);
    }
  for (guint i = 0; i < self->waiting->len; i++)
    g_ptr_array_add (ready, g_object_ref (((KilnAgentWaiting *)
                                           g_ptr_array_index (self->waiting, i))->announcement));

  /* Each one either gets its offer (and leaves the list) or stays for the next time; one
   * whose requestor is away is announced again to this node when it is back. */
  for (guint i = 0; i < ready->len && kiln_provider_agent_get_free_cores (self) > 0; i++)
    consider_announcement (self, g_ptr_array_index (ready, i), FALSE);
  return G_SOURCE_REMOVE;
}

void
kiln_provider_agent_room_freed (KilnProviderAgent *self)
{
  if (!self->running || self->waiting_id != 0 || self->waiting->len == 0)
    return;

  self->waiting_id = g_idle_add (offer_waiting, self);
}

void
kiln_provider_agent_drop_offer (KilnProviderAgent *self,
                                const char        *task_hex,
                                gboolean           when_free)
{
  KilnAgentOffer *offered = g_hash_table_lookup (self->offers, task_hex);

  if (offered == NULL)
    return;

  offered->dropped = TRUE;
  if (when_free)
    remember_waiting (self, offered->announcement, kiln_provider_agent_now ());
}

static void
on_lending_changed (KilnProviderAgent *self)
{
  if (kiln_provider_can_start_work (self->provider))
    kiln_provider_agent_room_freed (self);
}

void
kiln_provider_agent_on_task_announce (KilnEngine     *engine,
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

/* Taking part ------------------------------------------------------------------------------ */

void
kiln_provider_agent_start_offering (KilnProviderAgent *self)
{
  self->state_id = g_signal_connect_object (self->engine, "notify::state",
                                            G_CALLBACK (on_engine_state), self,
                                            G_CONNECT_SWAPPED);
  self->connected_id = g_signal_connect_object (self->engine, "peer-connected",
                                                G_CALLBACK (on_peer_connected), self,
                                                G_CONNECT_SWAPPED);
  self->lending_id = g_signal_connect_object (self->provider, "notify::state",
                                              G_CALLBACK (on_lending_changed), self,
                                              G_CONNECT_SWAPPED);
  self->cores_id = g_signal_connect_object (kiln_provider_get_policy (self->provider),
                                            "notify::cores", G_CALLBACK (on_lending_changed),
                                            self, G_CONNECT_SWAPPED);
  sync_subscription (self);
}

void
kiln_provider_agent_stop_offering (KilnProviderAgent *self)
{
  g_clear_signal_handler (&self->state_id, self->engine);
  g_clear_signal_handler (&self->connected_id, self->engine);
  g_clear_signal_handler (&self->lending_id, self->provider);
  g_clear_signal_handler (&self->cores_id, kiln_provider_get_policy (self->provider));
  unsubscribe (self);
  g_ptr_array_set_size (self->pending, 0);
  g_ptr_array_set_size (self->waiting, 0);
  g_clear_handle_id (&self->waiting_id, g_source_remove);
}

void
kiln_provider_agent_forget_task (KilnProviderAgent *self,
                                 const guint8      *task_id,
                                 const KilnAddress *requestor)
{
  g_autofree char *task_hex = kiln_market_id_to_hex (task_id);
  KilnAgentOffer *offered = g_hash_table_lookup (self->offers, task_hex);
  int waiting = find_waiting (self, task_id);

  if (waiting >= 0 &&
      kiln_address_equal (kiln_task_announcement_get_requestor (
                            ((KilnAgentWaiting *) g_ptr_array_index (self->waiting,
                                                                     waiting))->announcement),
                          requestor))
    g_ptr_array_remove_index (self->waiting, waiting);

  if (offered != NULL &&
      kiln_address_equal (kiln_task_announcement_get_requestor (offered->announcement),
                          requestor) &&
      offered->running == 0)
    g_hash_table_remove (self->offers, task_hex);
}
