/* kiln-render-job-private.h: what the parts of KilnRenderJob share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-render-job.c          the object, its properties and signals, making a job, its state
 * kiln-render-job-progress.c what it says of itself, and trying a failed subtask again
 * kiln-render-job-records.c  clock, log, records in the job store, paths, messages
 * kiln-render-job-settings.c its settings, and the checks before a job is made
 * kiln-render-job-event.c    the lines of its log
 * kiln-render-job-announce.c taking part, the announcement, announcing again while work waits
 * kiln-render-job-start.c    starting and loading: files, resuming
 * kiln-render-job-market.c   offers, terms, acceptances, timeouts, departures, cancelling
 * kiln-render-job-results.c  fetching, verifying and keeping results; joining strips
 * kiln-render-job-pay.c      paying verified work
 */
#pragma once

#include <json-glib/json-glib.h>

#include "kiln-market-bodies.h"
#include "kiln-offer-book.h"
#include "kiln-render-job.h"
#include "kiln-reputation.h"
#include "kiln-task-announcement.h"
#include "kiln-terms.h"
#include "kiln-verifier.h"
#include "kiln-wallet.h"

G_BEGIN_DECLS

typedef struct _Assignment Assignment;

/* One attempt at a subtask (its record is what the store keeps). */
struct _Assignment
{
  KilnRenderJob           *job;           /* unowned: the job owns its assignments */
  KilnJobAssignmentRecord *record;
  KilnTerms               *terms;         /* the proposed, then accepted terms */
  guint                    timeout_id;    /* acceptance or result deadline */
  gboolean                 holds_slot;    /* counted as running in the offer book */
  GCancellable            *cancellable;   /* its fetches and verification */
  char                    *result_dir;    /* where its fetched images are */
  GPtrArray               *paths;         /* the fetched images, in frame order */
  guint                    next_output;   /* the next output to fetch */
};

typedef struct
{
  KilnSubtaskState  state;
  Assignment       *current;    /* the assignment out, NULL when pending or done */
  guint             done_attempt;
  gint64            done_at;
} Subtask;

struct _KilnRenderJob
{
  GObject                parent_instance;

  KilnEngine            *engine;
  KilnBlender           *blender;
  KilnSandbox           *sandbox;
  KilnVerifier          *verifier;
  KilnWallet            *wallet;
  KilnJobStore          *store;
  KilnReputation        *reputation;
  GCancellable          *cancellable;

  KilnRenderJobSettings *settings;
  KilnJobPlan           *plan;
  KilnJobRecord         *record;        /* id, names, paths, state, error, announcement */
  KilnTaskAnnouncement  *announcement;
  KilnOfferBook         *book;

  GArray                *subtasks;      /* Subtask, by index */
  GPtrArray             *assignments;   /* Assignment, by attempt */
  GHashTable            *by_terms;      /* terms digest → Assignment */
  GHashTable            *excluded;      /* KilnAddress → itself: providers no longer used */
  GHashTable            *away;          /* KilnAddress → KilnOffer: offers of providers gone */
  GHashTable            *assigned_offers; /* KilnAddress → KilnOffer: the last offer each
                                         * provider was assigned work on, for retries */
  GHashTable            *ready_frames;  /* frame → itself: complete in the output folder */
  GHashTable            *assembling;    /* frame → itself: strips being joined */
  GListStore            *events;
  GPtrArray             *untold;        /* Assignment: withdrawn when the job was loaded while
                                         * its provider was away; told when it is back */
  GHashTable            *ignored;       /* KilnAddress → itself: excluded providers whose offer
                                         * on this announcement the log already mentions */

  guint                  handler_ids[6];
  gulong                 connected_id;
  gulong                 disconnected_id;
  gulong                 book_changed_id;
  guint                  dispatch_id;
  guint                  reannounce_id; /* the next announcement while a subtask waits */
  guint                  announce_interval;     /* ms: the first wait, and the least */
  guint                  announce_max_interval; /* ms: the longest wait */
  guint                  announce_backoff;      /* ms: the wait after the last announcement */
  gint64                 announced_at;  /* monotonic µs: the last announcement to all peers */
  gint64                 published_at;  /* Unix seconds: the last record on the DHT */
  gboolean               active;        /* handlers connected: the job takes part */
  gboolean               stored;        /* the job's row exists in the store */

  GQueue                 verify_queue;  /* Assignment waiting for the verifier */
  Assignment            *verifying;

  gboolean               paying;        /* a payment is under way */
  gboolean               told_no_wallet;
  gboolean               cancelling;
  GTask                 *cancel_task;
};

/* kiln-render-job.c */
KilnRenderJob *kiln_render_job_new_empty        (KilnEngine             *engine,
                                                 KilnBlender            *blender,
                                                 KilnSandbox            *sandbox,
                                                 KilnWallet             *wallet);
void          kiln_render_job_set_state         (KilnRenderJob          *self,
                                                 KilnRenderJobState      state);
void          kiln_render_job_fail              (KilnRenderJob          *self,
                                                 const GError           *error);
void          kiln_render_job_refresh_state     (KilnRenderJob          *self);
void          kiln_render_job_set_subtask_state (KilnRenderJob          *self,
                                                 guint                   index,
                                                 KilnSubtaskState        state);
/* Tells about subtask @index's state, set directly beforehand. */
void          kiln_render_job_subtask_changed   (KilnRenderJob          *self,
                                                 guint                   index);
void          kiln_render_job_mark_frame_ready  (KilnRenderJob          *self,
                                                 int                     frame,
                                                 const char             *path);
void          kiln_render_job_notify_money      (KilnRenderJob          *self);

/* kiln-render-job-records.c */
gint64        kiln_render_job_now_us            (void);
gint64        kiln_render_job_now_s             (void);
void          kiln_render_job_log               (KilnRenderJob          *self,
                                                 int                     subtask,
                                                 const char             *format,
                                                 ...) G_GNUC_PRINTF (3, 4);
char         *kiln_render_job_describe_provider (const KilnAddress      *provider);
char         *kiln_render_job_format_amount     (const KilnUint256      *amount);
/* Writes the job (state, error, announcement, next attempt) and, when given, the subtask
 * @index (-1: none) and @assignment; then calls @done (may be NULL) with the job alive. */
typedef void (*KilnRenderJobSaved) (KilnRenderJob *self,
                                    gpointer       data,
                                    const GError  *error);
void          kiln_render_job_save              (KilnRenderJob          *self,
                                                 int                     index,
                                                 Assignment             *assignment,
                                                 KilnRenderJobSaved      done,
                                                 gpointer                data);
Assignment   *kiln_render_job_add_assignment    (KilnRenderJob          *self,
                                                 KilnJobAssignmentRecord *record,
                                                 KilnTerms              *terms);
const KilnSubtask *kiln_render_job_plan_subtask (KilnRenderJob          *self,
                                                 guint                   index);
/* The output image of @frame (OUTPUT/frame_NNNN.png), and a strip's kept image. */
char         *kiln_render_job_frame_path        (KilnRenderJob          *self,
                                                 int                     frame);
char         *kiln_render_job_strip_path        (KilnRenderJob          *self,
                                                 guint                   index);
void          kiln_render_job_send              (KilnRenderJob          *self,
                                                 const KilnAddress      *peer,
                                                 KilnMessageType         type,
                                                 GBytes                 *body);

/* kiln-render-job-event.c */
KilnRenderJobEvent *kiln_render_job_event_new   (gint64                  time,
                                                 int                     subtask,
                                                 const char             *text);

/* kiln-render-job-settings.c */
gboolean      kiln_render_job_check_settings    (const KilnRenderJobSettings *settings,
                                                 GError                     **error);
gboolean      kiln_render_job_check_files       (KilnSceneInfo          *scene,
                                                 GError                **error);
JsonNode     *kiln_render_job_settings_to_json  (const KilnRenderJobSettings *settings);
KilnRenderJobSettings *kiln_render_job_settings_from_json (JsonNode     *node,
                                                           GError      **error);

/* kiln-render-job-announce.c */
void          kiln_render_job_activate          (KilnRenderJob          *self);
void          kiln_render_job_deactivate        (KilnRenderJob          *self);
/* Signs a fresh announcement (a new task ID), writes it, and sends it around. */
gboolean      kiln_render_job_announce          (KilnRenderJob          *self,
                                                 GError                **error);
void          kiln_render_job_announce_to       (KilnRenderJob          *self,
                                                 const KilnAddress      *peer);
/* CANCEL for @assignment's terms, withdrawn when the job was loaded again. */
void          kiln_render_job_send_withdrawal   (KilnRenderJob          *self,
                                                 Assignment             *assignment);
/* After each dispatch: while @waiting (a subtask found no provider), the task is announced
 * again to every connected peer, backing off; otherwise the next announcement is called off. */
void          kiln_render_job_keep_announcing   (KilnRenderJob          *self,
                                                 gboolean                waiting);
/* Work got done: the next wait starts again from the shortest. */
void          kiln_render_job_reset_announce_backoff (KilnRenderJob     *self);

/* kiln-render-job-market.c */
/* Whether the job takes offers and assigns work now. */
gboolean      kiln_render_job_is_running        (KilnRenderJob          *self);
void          kiln_render_job_on_offer          (KilnEngine             *engine,
                                                 KilnEnginePeer         *peer,
                                                 KilnMessage            *message,
                                                 gpointer                user_data);
void          kiln_render_job_on_accept         (KilnEngine             *engine,
                                                 KilnEnginePeer         *peer,
                                                 KilnMessage            *message,
                                                 gpointer                user_data);
void          kiln_render_job_on_reject         (KilnEngine             *engine,
                                                 KilnEnginePeer         *peer,
                                                 KilnMessage            *message,
                                                 gpointer                user_data);
void          kiln_render_job_on_cancel         (KilnEngine             *engine,
                                                 KilnEnginePeer         *peer,
                                                 KilnMessage            *message,
                                                 gpointer                user_data);
void          kiln_render_job_on_peer_disconnected (KilnRenderJob       *self,
                                                    KilnEnginePeer      *peer,
                                                    const GError        *error);
void          kiln_render_job_schedule_dispatch (KilnRenderJob          *self);
/* A provider that went away has its offer set aside, and back in the book when it returns. */
void          kiln_render_job_set_offer_aside   (KilnRenderJob          *self,
                                                 const KilnAddress      *provider);
void          kiln_render_job_take_offer_back   (KilnRenderJob          *self,
                                                 const KilnAddress      *provider);
/* Ends @assignment (not approved) in @state, records why and what it does to the provider's
 * reputation, gives its slot back and puts its subtask back to pending. */
void          kiln_render_job_end_assignment    (KilnRenderJob          *self,
                                                 Assignment             *assignment,
                                                 KilnAssignmentState     state,
                                                 const char             *reason);
void          kiln_render_job_release_slot      (KilnRenderJob          *self,
                                                 Assignment             *assignment);
void          kiln_render_job_record_reputation (KilnRenderJob          *self,
                                                 const KilnAddress      *provider,
                                                 KilnReputationEvent     event);
void          kiln_render_job_clear_timeout     (Assignment             *assignment);
void          kiln_render_job_withdraw_all      (KilnRenderJob          *self,
                                                 const char             *reason);
void          kiln_render_job_check_cancelled   (KilnRenderJob          *self);

/* kiln-render-job-results.c */
void          kiln_render_job_on_result         (KilnEngine             *engine,
                                                 KilnEnginePeer         *peer,
                                                 KilnMessage            *message,
                                                 gpointer                user_data);
void          kiln_render_job_check_complete    (KilnRenderJob          *self);
void          kiln_render_job_assemble_ready    (KilnRenderJob          *self);
void          kiln_render_job_stop_verifying    (KilnRenderJob          *self,
                                                 Assignment             *assignment);

/* kiln-render-job-pay.c */
void          kiln_render_job_pay_owed          (KilnRenderJob          *self);

G_END_DECLS
