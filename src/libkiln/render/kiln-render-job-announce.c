/* kiln-render-job-announce.c: a render job's announcement: taking part in the market,
 * announcing the task, and announcing it again while subtasks wait for providers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-dht-record.h"
#include "kiln-dht.h"
#include "kiln-render-job-private.h"

/* Taking part: handlers and announcements ------------------------------------------------- */

void
kiln_render_job_send_withdrawal (KilnRenderJob *self,
                                 Assignment    *assignment)
{
  g_autoptr(KilnCancelBody) cancel = NULL;
  g_autoptr(GBytes) body = NULL;

  /* A reason code on the wire; the sentence is the job's own record. */
  cancel = kiln_cancel_body_new (KILN_CANCEL_TERMS, assignment->record->terms_digest,
                                 KILN_MARKET_REASON_CANCELLED);
  body = kiln_cancel_body_encode (cancel, NULL);
  if (body != NULL)
    kiln_render_job_send (self, &assignment->record->provider, KILN_MESSAGE_CANCEL, body);
}

/* A provider that was away when the job was loaded again learns, once it is back, that the
 * work it may still be doing for the job was withdrawn: its cores are free for the job's
 * new announcement. */
static void
tell_withdrawn (KilnRenderJob     *self,
                const KilnAddress *provider)
{
  for (guint i = self->untold->len; i > 0; i--)
    {
      Assignment *assignment = g_ptr_array_index (self->untold, i - 1);

      if (!kiln_address_equal (&assignment->record->provider, provider))
        continue;
      kiln_render_job_send_withdrawal (self, assignment);
      g_ptr_array_remove_index (self->untold, i - 1);
    }
}

static void
on_peer_connected (KilnRenderJob  *self,
                   KilnEnginePeer *peer)
{
  if (!self->active)
    return;

  tell_withdrawn (self, kiln_engine_peer_get_address (peer));
  if (self->cancelling || kiln_render_job_get_subtasks_done (self) == self->subtasks->len)
    return;

  kiln_render_job_take_offer_back (self, kiln_engine_peer_get_address (peer));
  kiln_render_job_announce_to (self, kiln_engine_peer_get_address (peer));
}

static void
on_book_changed (KilnRenderJob *self)
{
  kiln_render_job_schedule_dispatch (self);
}

void
kiln_render_job_activate (KilnRenderJob *self)
{
  static const struct
  {
    KilnMessageType       type;
    KilnEngineMessageFunc func;
  } handlers[] = {
    { KILN_MESSAGE_OFFER, kiln_render_job_on_offer },
    { KILN_MESSAGE_ACCEPT, kiln_render_job_on_accept },
    { KILN_MESSAGE_RESULT, kiln_render_job_on_result },
    { KILN_MESSAGE_REJECT, kiln_render_job_on_reject },
    { KILN_MESSAGE_CANCEL, kiln_render_job_on_cancel },
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (handlers) <= G_N_ELEMENTS (((KilnRenderJob *) NULL)->handler_ids));

  if (self->active)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (handlers); i++)
    self->handler_ids[i] = kiln_engine_add_message_handler (self->engine, handlers[i].type,
                                                            handlers[i].func, self, NULL);
  self->connected_id = g_signal_connect_object (self->engine, "peer-connected",
                                                G_CALLBACK (on_peer_connected), self,
                                                G_CONNECT_SWAPPED);
  self->disconnected_id =
    g_signal_connect_object (self->engine, "peer-disconnected",
                             G_CALLBACK (kiln_render_job_on_peer_disconnected), self,
                             G_CONNECT_SWAPPED);
  self->active = TRUE;
}

void
kiln_render_job_deactivate (KilnRenderJob *self)
{
  if (!self->active)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (self->handler_ids); i++)
    if (self->handler_ids[i] != 0)
      {
        kiln_engine_remove_message_handler (self->engine, self->handler_ids[i]);
        self->handler_ids[i] = 0;
      }
  g_clear_signal_handler (&self->connected_id, self->engine);
  g_clear_signal_handler (&self->disconnected_id, self->engine);
  if (self->book != NULL)
    g_clear_signal_handler (&self->book_changed_id, self->book);
  g_clear_handle_id (&self->reannounce_id, g_source_remove);
  self->active = FALSE;
}

/* Makes @announcement the job's: a new offer book for it. */
static void
set_announcement (KilnRenderJob        *self,
                  KilnTaskAnnouncement *announcement)
{
  if (self->book != NULL)
    g_clear_signal_handler (&self->book_changed_id, self->book);
  g_clear_object (&self->book);
  g_hash_table_remove_all (self->away);
  g_hash_table_remove_all (self->ignored);
  g_set_object (&self->announcement, announcement);
  g_clear_handle_id (&self->reannounce_id, g_source_remove);
  self->announce_backoff = self->announce_interval;

  g_clear_pointer (&self->record->announcement, g_bytes_unref);
  self->record->announcement = g_bytes_ref (kiln_task_announcement_get_bytes (announcement));

  self->book = kiln_offer_book_new (announcement, self->reputation);
  self->book_changed_id = g_signal_connect_object (self->book, "changed",
                                                   G_CALLBACK (on_book_changed), self,
                                                   G_CONNECT_SWAPPED);
}

static KilnTaskAnnouncement *
make_announcement (KilnRenderJob  *self,
                   GError        **error)
{
  g_autoptr(KilnTaskAnnouncement) announcement = kiln_task_announcement_new ();
  const KilnRenderJobSettings *settings = self->settings;
  guint64 bytes = 0;
  guint64 disk_mib;
  gint64 now = kiln_render_job_now_s ();
  guint major, minor, patch;

  kiln_task_announcement_set_payment (announcement, settings->chain_id, &settings->token);
  kiln_task_announcement_set_times (announcement, now, now + KILN_TASK_MAX_LIFETIME,
                                    now + KILN_TASK_MAX_DEADLINE);
  kiln_blender_get_version_numbers (self->blender, &major, &minor, &patch);
  kiln_task_announcement_set_blender_version (announcement, major, minor);
  kiln_task_announcement_set_engine (announcement, KILN_SCENE_ENGINE_CYCLES);

  /* The disk a subtask takes: its files, and room for its images. */
  for (guint i = 0; i < self->record->resources->len; i++)
    bytes += ((KilnJobResource *) g_ptr_array_index (self->record->resources, i))->size;
  disk_mib = MIN (bytes / (1024 * 1024) + 64, KILN_MARKET_MAX_MIB);
  kiln_task_announcement_set_hardware (announcement, settings->cores,
                                       MAX (settings->memory_mib, 1), disk_mib);
  kiln_task_announcement_set_subtasks (announcement, self->subtasks->len,
                                       settings->subtask_timeout);
  kiln_task_announcement_set_max_price (announcement, &settings->max_price);
  kiln_task_announcement_set_max_total (announcement, &self->record->max_cost);
  for (guint i = 0; i < self->record->resources->len; i++)
    kiln_task_announcement_add_resource (announcement,
                                         ((KilnJobResource *)
                                          g_ptr_array_index (self->record->resources, i))->sha256);

  if (!kiln_task_announcement_sign (announcement, kiln_engine_get_key (self->engine), error))
    return NULL;

  return g_steal_pointer (&announcement);
}

typedef struct
{
  GWeakRef job;
} Broadcast;

static void
on_broadcast (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Broadcast *broadcast = user_data;
  g_autoptr(KilnRenderJob) self = g_weak_ref_get (&broadcast->job);
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = kiln_engine_broadcast_message_finish (KILN_ENGINE (source), result, &error);
  if (message == NULL && self != NULL)
    kiln_render_job_log (self, -1, _("Could not announce the task: %s"), error->message);

  g_weak_ref_clear (&broadcast->job);
  g_free (broadcast);
}

static void
on_published (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!kiln_dht_publish_finish (KILN_DHT (source), result, &error))
    g_debug ("Could not publish a task on the discovery network: %s", error->message);
}

/* Sends the announcement to every connected peer; @again for a repetition, which the log
 * does not show, and which publishes on the DHT only when the record there is half gone. */
static void
broadcast_announcement (KilnRenderJob *self,
                        gboolean       again)
{
  GBytes *bytes = kiln_task_announcement_get_bytes (self->announcement);
  Broadcast *broadcast = g_new0 (Broadcast, 1);
  KilnDht *dht = kiln_engine_get_dht (self->engine);
  gint64 now = kiln_render_job_now_s ();
  guint n_connected = kiln_engine_get_n_connected (self->engine);

  /* Nodes not linked yet can find it under the market's topic, for as long as a record
   * lives. */
  if (dht != NULL && kiln_dht_is_running (dht) &&
      (!again || now - self->published_at >= KILN_DHT_RECORD_MAX_LIFETIME / 2))
    {
      gint64 left = kiln_task_announcement_get_expires (self->announcement) - now;

      self->published_at = now;
      kiln_dht_publish_async (dht, kiln_engine_get_key (self->engine), KILN_MARKET_TASK_TOPIC,
                              bytes, CLAMP (left, 1, KILN_DHT_RECORD_MAX_LIFETIME), NULL,
                              on_published, NULL);
    }

  self->announced_at = g_get_monotonic_time ();
  g_weak_ref_init (&broadcast->job, self);
  if (again)
    g_debug ("Render job %s: task announced again to %u connected peers", self->record->id,
             n_connected);
  else
    kiln_render_job_log (self, -1,
                         g_dngettext (GETTEXT_PACKAGE, "Task announced to %u connected peer",
                                      "Task announced to %u connected peers", n_connected),
                         n_connected);
  kiln_engine_broadcast_message_async (self->engine, KILN_MESSAGE_TASK_ANNOUNCE, bytes, NULL,
                                       on_broadcast, broadcast);
}

/* Announcing again ------------------------------------------------------------------------ */

static gboolean
has_waiting (KilnRenderJob *self)
{
  for (guint i = 0; i < self->subtasks->len; i++)
    if (g_array_index (self->subtasks, Subtask, i).state == KILN_SUBTASK_STATE_PENDING)
      return TRUE;
  return FALSE;
}

/* Providers answer an announcement once: those that were busy, away from the keyboard or
 * not lending when it came, and those whose offer ran out or was let go, hear of the task
 * again this way. They answer a repetition only when they have no offer standing, so it
 * costs one small message per peer, less and less often. */
/* All of a node's jobs together announce again at most this many times a second: far
 * within what each peer takes from one node (docs/protocol.md: 20 messages a second, 100 at
 * once), whatever the number of jobs waiting. */
#define REANNOUNCE_PER_SECOND 4

typedef struct
{
  gint64 second;   /* monotonic, in whole seconds */
  guint  sent;     /* announcements again in that second */
} ReannounceBudget;

/* Whether one more announcement fits in the engine's budget for this second; if not,
 * @retry_ms says when the next second starts. */
static gboolean
take_reannounce_budget (KilnRenderJob *self,
                        guint         *retry_ms)
{
  ReannounceBudget *budget = g_object_get_data (G_OBJECT (self->engine),
                                                "kiln-render-job-reannounce");
  gint64 now = g_get_monotonic_time ();

  if (budget == NULL)
    {
      budget = g_new0 (ReannounceBudget, 1);
      g_object_set_data_full (G_OBJECT (self->engine), "kiln-render-job-reannounce", budget,
                              g_free);
    }
  if (budget->second != now / G_USEC_PER_SEC)
    {
      budget->second = now / G_USEC_PER_SEC;
      budget->sent = 0;
    }
  if (budget->sent >= REANNOUNCE_PER_SECOND)
    {
      *retry_ms = (guint) ((G_USEC_PER_SEC - now % G_USEC_PER_SEC) / 1000) + 1;
      return FALSE;
    }
  budget->sent++;
  return TRUE;
}

static gboolean
on_reannounce (gpointer data)
{
  KilnRenderJob *self = data;
  guint retry_ms;

  self->reannounce_id = 0;
  if (!kiln_render_job_is_running (self) || self->announcement == NULL ||
      !has_waiting (self))
    return G_SOURCE_REMOVE;

  if (!take_reannounce_budget (self, &retry_ms))
    {
      self->reannounce_id = g_timeout_add (retry_ms, on_reannounce, self);
      return G_SOURCE_REMOVE;
    }

  broadcast_announcement (self, TRUE);
  self->announce_backoff = MIN ((guint64) self->announce_backoff * 2,
                                MAX (self->announce_max_interval, self->announce_interval));
  kiln_render_job_keep_announcing (self, TRUE);
  return G_SOURCE_REMOVE;
}

void
kiln_render_job_keep_announcing (KilnRenderJob *self,
                                 gboolean       waiting)
{
  gint64 due;

  if (!waiting || !self->active || self->announcement == NULL)
    {
      g_clear_handle_id (&self->reannounce_id, g_source_remove);
      return;
    }
  if (self->reannounce_id != 0)
    return;

  /* Never sooner than the current wait after the last announcement: at once when that was
   * long ago (a subtask back after a while), later while nothing comes of them. */
  due = self->announced_at + (gint64) self->announce_backoff * 1000 - g_get_monotonic_time ();
  self->reannounce_id = g_timeout_add (due > 0 ? (guint) ((due + 999) / 1000) : 0,
                                       on_reannounce, self);
}

void
kiln_render_job_reset_announce_backoff (KilnRenderJob *self)
{
  self->announce_backoff = self->announce_interval;
}

void
kiln_render_job_announce_to (KilnRenderJob     *self,
                             const KilnAddress *peer)
{
  if (self->announcement == NULL)
    return;

  kiln_render_job_send (self, peer, KILN_MESSAGE_TASK_ANNOUNCE,
                        kiln_task_announcement_get_bytes (self->announcement));
}

gboolean
kiln_render_job_announce (KilnRenderJob  *self,
                          GError        **error)
{
  g_autoptr(KilnTaskAnnouncement) announcement = make_announcement (self, error);

  if (announcement == NULL)
    return FALSE;

  set_announcement (self, announcement);
  kiln_render_job_activate (self);
  if (self->record->state == KILN_RENDER_JOB_STATE_PREPARING)
    kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_ANNOUNCING);
  else
    kiln_render_job_save (self, -1, NULL, NULL, NULL);
  broadcast_announcement (self, FALSE);
  kiln_render_job_refresh_state (self);
  kiln_render_job_schedule_dispatch (self);
  return TRUE;
}
