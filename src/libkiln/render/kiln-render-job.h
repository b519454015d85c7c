/* kiln-render-job.h: a requestor's render job, from a .blend to verified, assembled, paid frames
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A KilnRenderJob takes a scene and its settings and drives them across providers: it plans
 * the subtasks, offers the scene's files in the engine's content store, announces the task,
 * takes offers as they come, assigns subtasks to the best ones in signed terms, fetches and
 * verifies each result, keeps the verified frames (joining strips once all of a frame's are
 * in), and pays the providers for verified work only. Everything it decides is written to the
 * job store (kiln-job-store.h) before it acts on it, so a job can be loaded again after a
 * restart. docs/market.md ("Requestor") describes what it does on the network.
 */
#pragma once

#include <gio/gio.h>

#include "kiln-blender.h"
#include "kiln-engine.h"
#include "kiln-frame-spec.h"
#include "kiln-image-check.h"
#include "kiln-job-plan.h"
#include "kiln-job-store.h"
#include "kiln-sandbox.h"
#include "kiln-scene-info.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

#define KILN_RENDER_JOB_ERROR (kiln_render_job_error_quark ())

typedef enum
{
  KILN_RENDER_JOB_ERROR_INVALID,             /* settings that cannot be rendered */
  KILN_RENDER_JOB_ERROR_INSUFFICIENT_FUNDS,  /* the balance does not cover the maximum cost */
  KILN_RENDER_JOB_ERROR_FILES,               /* files the scene uses that cannot be sent */
  KILN_RENDER_JOB_ERROR_NOT_RUNNING,         /* the job has ended, or has not started */
  KILN_RENDER_JOB_ERROR_VERIFICATION,        /* results could not be verified on this computer */
} KilnRenderJobError;

GQuark kiln_render_job_error_quark (void);

/* How long a provider has to accept terms, in seconds. */
#define KILN_RENDER_JOB_ACCEPT_TIMEOUT     60
/* What a result may take beyond the subtask timeout to arrive (transfers, clocks), seconds. */
#define KILN_RENDER_JOB_RESULT_GRACE       30
/* While a subtask waits for a provider, the task is announced again to the connected peers:
 * first after this many milliseconds, then after twice as long each time, up to the
 * maximum ("announce-interval", "announce-max-interval"). */
#define KILN_RENDER_JOB_ANNOUNCE_INTERVAL_MS      2000
#define KILN_RENDER_JOB_ANNOUNCE_MAX_INTERVAL_MS  60000
/* Defaults of the settings. */
#define KILN_RENDER_JOB_DEFAULT_TIMEOUT    600
#define KILN_RENDER_JOB_DEFAULT_MEMORY_MIB 2048

/* What to render and what to pay, as the person chose. */
typedef struct
{
  char            *name;             /* shown to people */
  KilnFrameSpec   *frames;
  guint            width;            /* the rendered image, in pixels */
  guint            height;
  guint            samples;          /* Cycles samples per pixel */
  KilnImageFormat  format;
  guint            n_subtasks;       /* 0: one per frame; more than frames: strips */
  guint            subtask_timeout;  /* seconds each subtask may take */
  guint            cores;            /* CPU cores each subtask runs on, and is paid for */
  guint            memory_mib;       /* memory each subtask needs */
  KilnUint256      max_price;        /* base units per CPU-hour */
  char            *output_dir;       /* where the frames go (made if missing) */
  guint64          chain_id;         /* where the work is paid, when no wallet is given */
  KilnAddress      token;
} KilnRenderJobSettings;

#define KILN_TYPE_RENDER_JOB_SETTINGS (kiln_render_job_settings_get_type ())

GType                  kiln_render_job_settings_get_type     (void) G_GNUC_CONST;
/* The scene's own frames, output size, samples and format (PNG when providers cannot write
 * the scene's), one subtask per frame of KILN_RENDER_JOB_DEFAULT_TIMEOUT seconds on one
 * core, KILN_RENDER_JOB_DEFAULT_MEMORY_MIB, named after the file, output beside the .blend
 * in a folder named after it; no price and no chain yet. */
KilnRenderJobSettings *kiln_render_job_settings_new_for_scene (KilnSceneInfo              *scene);
KilnRenderJobSettings *kiln_render_job_settings_copy         (const KilnRenderJobSettings *self);
void                   kiln_render_job_settings_free         (KilnRenderJobSettings       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnRenderJobSettings, kiln_render_job_settings_free)

/* One line of a job's log. Properties "time" (µs since the Unix epoch), "subtask" (its
 * index, -1 for the job as a whole) and "text" (for people). */
#define KILN_TYPE_RENDER_JOB_EVENT (kiln_render_job_event_get_type ())

G_DECLARE_FINAL_TYPE (KilnRenderJobEvent, kiln_render_job_event, KILN, RENDER_JOB_EVENT, GObject)

gint64             kiln_render_job_event_get_time    (KilnRenderJobEvent *self);
int                kiln_render_job_event_get_subtask (KilnRenderJobEvent *self);
const char        *kiln_render_job_event_get_text    (KilnRenderJobEvent *self);

/* The job
 *
 * Properties (read-only, notified on change): "id", "name", "state" (KilnRenderJobState),
 * "error" (why it failed, or NULL), "frames-done", "frames-total", "n-subtasks",
 * "subtasks-done", "cost" (what verified work costs so far) and "max-cost" (the most the job
 * can cost), both decimal strings of base units, "owed" (verified work not yet paid, the
 * same), "output-dir", "blend-file", "has-wallet". Read-write: "announce-interval" and
 * "announce-max-interval", in milliseconds (KILN_RENDER_JOB_ANNOUNCE_INTERVAL_MS and
 * KILN_RENDER_JOB_ANNOUNCE_MAX_INTERVAL_MS by default): how long the job waits before it
 * announces its task again while a subtask waits for a provider, at first and at most.
 *
 * Signals:
 *   ::subtask-changed (guint index, KilnSubtaskState state): a subtask moved on.
 *   ::frame-ready (int frame, const char *path): a frame is complete in the output folder.
 *
 * Use a job from the thread that runs its engine. */
#define KILN_TYPE_RENDER_JOB (kiln_render_job_get_type ())

G_DECLARE_FINAL_TYPE (KilnRenderJob, kiln_render_job, KILN, RENDER_JOB, GObject)

/* A new job for @scene with @settings, run over @engine, its results verified with @blender
 * in @sandbox (NULL: a default one). Nothing is written or sent yet. The plan is made here,
 * and so is the most the job can cost (kiln_market_estimate_max_cost()), which must not be
 * more than @balance (the requestor's token balance in base units) or, when @balance is
 * NULL, @wallet's token balance; KILN_RENDER_JOB_ERROR_INSUFFICIENT_FUNDS otherwise. With
 * @wallet, verified work is paid through it and its chain and token are the ones announced;
 * without, settings->chain_id and settings->token are, and what is owed is recorded but
 * not paid (the job then stays "paying" until kiln_render_job_set_wallet()). Errors:
 * KILN_SCENE_ERROR (from kiln_scene_info_check()), KILN_RENDER_JOB_ERROR_INVALID,
 * KILN_RENDER_JOB_ERROR_FILES for files the scene uses that providers cannot be sent,
 * KILN_WALLET_ERROR_NOT_READY when neither a balance nor a wallet's is known. */
KilnRenderJob     *kiln_render_job_new               (KilnEngine                  *engine,
                                                      KilnBlender                 *blender,
                                                      KilnSandbox                 *sandbox,
                                                      KilnSceneInfo               *scene,
                                                      const KilnRenderJobSettings *settings,
                                                      KilnWallet                  *wallet,
                                                      const KilnUint256           *balance,
                                                      GError                     **error);

/* Writes the job and its plan to the engine's store, puts the scene's files in the engine's
 * content store, then signs the task announcement and sends it to every connected peer
 * (to each peer that connects later while subtasks still need providers, and to all again,
 * less and less often, while a subtask waits for one: "announce-interval"). Completes
 * once the job is announced; from then on it runs by itself until it is done, fails or is
 * cancelled. The engine should be running. */
void               kiln_render_job_start_async       (KilnRenderJob               *self,
                                                      GCancellable                *cancellable,
                                                      GAsyncReadyCallback          callback,
                                                      gpointer                     user_data);
gboolean           kiln_render_job_start_finish      (KilnRenderJob               *self,
                                                      GAsyncResult                *result,
                                                      GError                     **error);

/* Loads job @id from the engine's store. A job that had not ended goes on: its verified
 * subtasks are kept (a frame whose image is gone from the output folder is rendered again),
 * the assignments that were out are withdrawn at once (not paid; CANCEL to their provider
 * now, or when it connects again) and their subtasks assigned anew under a fresh
 * announcement, strips waiting to be joined are joined, and what is owed is paid when
 * @wallet is given. A job that had ended is only shown. Load a job only while no other
 * KilnRenderJob object of it is alive. Errors:
 * KILN_STORE_ERROR_NOT_FOUND when there is no such job. */
void               kiln_render_job_load_async        (KilnEngine                  *engine,
                                                      KilnBlender                 *blender,
                                                      KilnSandbox                 *sandbox,
                                                      KilnWallet                  *wallet,
                                                      const char                  *id,
                                                      GCancellable                *cancellable,
                                                      GAsyncReadyCallback          callback,
                                                      gpointer                     user_data);
KilnRenderJob     *kiln_render_job_load_finish       (GAsyncResult                *result,
                                                      GError                     **error);

/* Stops the job: withdraws every assignment still out (CANCEL to its provider; unfinished
 * work is not paid) and the task, then pays what verified work is owed (with a wallet).
 * Completes once the job is "cancelled". KILN_RENDER_JOB_ERROR_NOT_RUNNING for a job that
 * had already ended. */
void               kiln_render_job_cancel_async      (KilnRenderJob               *self,
                                                      GCancellable                *cancellable,
                                                      GAsyncReadyCallback          callback,
                                                      gpointer                     user_data);
gboolean           kiln_render_job_cancel_finish     (KilnRenderJob               *self,
                                                      GAsyncResult                *result,
                                                      GError                     **error);

/* The wait before the task is announced again while a subtask waits for a provider: @first
 * milliseconds at first (and at least between two announcements), doubling each time up to
 * @most (at least @first). Progress (a verified subtask) starts again from @first. */
void               kiln_render_job_set_announce_intervals (KilnRenderJob          *self,
                                                           guint                   first,
                                                           guint                   most);
guint              kiln_render_job_get_announce_interval  (KilnRenderJob          *self);
guint              kiln_render_job_get_announce_max_interval (KilnRenderJob       *self);

/* Gives a job made or loaded without a wallet one; a job waiting to pay pays at once. The
 * wallet's chain and token must be those the job announced. */
gboolean           kiln_render_job_set_wallet        (KilnRenderJob               *self,
                                                      KilnWallet                  *wallet,
                                                      GError                     **error);

KilnEngine        *kiln_render_job_get_engine        (KilnRenderJob               *self);
const char        *kiln_render_job_get_id            (KilnRenderJob               *self);
const char        *kiln_render_job_get_name          (KilnRenderJob               *self);
const char        *kiln_render_job_get_blend_file    (KilnRenderJob               *self);
const char        *kiln_render_job_get_output_dir    (KilnRenderJob               *self);
KilnRenderJobState kiln_render_job_get_state         (KilnRenderJob               *self);
const char        *kiln_render_job_get_error         (KilnRenderJob               *self);
const KilnRenderJobSettings *
                   kiln_render_job_get_settings      (KilnRenderJob               *self);
KilnJobPlan       *kiln_render_job_get_plan          (KilnRenderJob               *self);
guint              kiln_render_job_get_frames_done   (KilnRenderJob               *self);
guint              kiln_render_job_get_frames_total  (KilnRenderJob               *self);
guint              kiln_render_job_get_n_subtasks    (KilnRenderJob               *self);
guint              kiln_render_job_get_subtasks_done (KilnRenderJob               *self);
KilnSubtaskState   kiln_render_job_get_subtask_state (KilnRenderJob               *self,
                                                      guint                        index);
/* The image of @frame in the output folder once the frame is complete (as ::frame-ready
 * told), else NULL. Free it. */
char              *kiln_render_job_dup_frame_path    (KilnRenderJob               *self,
                                                      int                          frame);
/* Whether subtask @index waits for a provider again because its last attempt failed: the
 * result was rejected, did not come in time, or the provider gave the work back or went
 * away. @reason (may be NULL) is then set to why, for people. */
gboolean           kiln_render_job_get_subtask_failed (KilnRenderJob              *self,
                                                       guint                       index,
                                                       const char                **reason);
/* Gives subtask @index, which failed (kiln_render_job_get_subtask_failed()), another try:
 * the providers that failed it may take part in the job again, their offers are taken back
 * where they still stand, and the subtask is offered at once. Errors:
 * KILN_RENDER_JOB_ERROR_NOT_RUNNING when the job has ended or is cancelling,
 * KILN_RENDER_JOB_ERROR_INVALID when the subtask has not failed. */
gboolean           kiln_render_job_retry_subtask     (KilnRenderJob               *self,
                                                      guint                        index,
                                                      GError                     **error);
/* The provider working on or having done subtask @index; FALSE when there is none. */
gboolean           kiln_render_job_get_subtask_provider (KilnRenderJob            *self,
                                                         guint                     index,
                                                         KilnAddress              *out);
void               kiln_render_job_get_cost          (KilnRenderJob               *self,
                                                      KilnUint256                 *out);
void               kiln_render_job_get_max_cost      (KilnRenderJob               *self,
                                                      KilnUint256                 *out);
void               kiln_render_job_get_owed          (KilnRenderJob               *self,
                                                      KilnUint256                 *out);
/* The current announcement's task ID (KILN_MARKET_ID_SIZE bytes), NULL before the start. */
const guint8      *kiln_render_job_get_task_id       (KilnRenderJob               *self);
/* Every assignment made so far, oldest first: a new array (free it) of the job's own
 * KilnJobAssignmentRecords (do not change or keep them). */
GPtrArray         *kiln_render_job_get_assignments   (KilnRenderJob               *self);
/* The log (KilnRenderJobEvent), oldest first. */
GListModel        *kiln_render_job_get_events        (KilnRenderJob               *self);

G_END_DECLS
