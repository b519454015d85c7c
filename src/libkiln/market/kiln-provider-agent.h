/* kiln-provider-agent.h: a lending node's side of the market
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The agent answers task announcements with offers, accepts the assignments that match its
 * offers and lending policy, fetches the scene from the requestor, renders the subtask in the
 * sandbox while the computer is idle, and returns the images. docs/market.md ("Provider
 * agent") describes what it does with each message.
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-blender.h"
#include "kiln-engine.h"
#include "kiln-market.h"
#include "kiln-provider.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

/* An offer is valid for this long (at most until its announcement expires). */
#define KILN_PROVIDER_AGENT_OFFER_LIFETIME  (10 * 60)
/* Tasks offered on, remembered at once at most (the oldest are forgotten first). */
#define KILN_PROVIDER_AGENT_MAX_OFFERS      256

/* What a requestor owes or paid for one finished subtask. */
typedef struct
{
  guint8       terms[KILN_MARKET_DIGEST_SIZE];   /* the terms' digest */
  guint8       task_id[KILN_MARKET_ID_SIZE];
  KilnAddress  requestor;
  KilnUint256  amount;                           /* approved, in base units */
  gint64       approved;                         /* Unix seconds */
  gboolean     paid;
  guint8       tx_hash[32];                      /* valid when paid */
} KilnEarning;

#define KILN_TYPE_EARNING (kiln_earning_get_type ())

GType        kiln_earning_get_type  (void) G_GNUC_CONST;
KilnEarning *kiln_earning_copy      (const KilnEarning *earning);
void         kiln_earning_free      (KilnEarning       *earning);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnEarning, kiln_earning_free)

#define KILN_TYPE_PROVIDER_AGENT (kiln_provider_agent_get_type ())

G_DECLARE_FINAL_TYPE (KilnProviderAgent, kiln_provider_agent, KILN, PROVIDER_AGENT, GObject)

/* Properties: "engine", "provider", "blender", "work-dir" (construct-only); "running";
 * "idle-priority" (renders run with SCHED_IDLE and nice 19, default TRUE); and for the
 * lending panel, notified on change: "current-requestor" (EIP-55 address of the requestor
 * whose subtask renders now, NULL when none), "current-frames" ("12", or "1–9" for a run
 * of frames, NULL when none), "progress" (0..1 of the current subtask), "n-running"
 * (subtasks accepted and not finished), "n-done" (subtasks rendered and returned).
 *
 * Signals:
 *   ::earned (const char *terms, const char *amount): the requestor approved the result of
 *     the terms with this digest (hex) and owes @amount base units (decimal).
 *   ::paid (const char *terms, const char *tx_hash): the requestor says transaction
 *     @tx_hash paid for those terms.
 *   ::finished (const char *terms, const char *reason): an assignment ended; @reason is
 *     NULL when its result was sent, else the reason code sent to the requestor (or
 *     "cancelled" when the requestor cancelled it).
 *   ::offered (const char *task, const char *requestor): an offer on the task with this ID
 *     (hex) was sent to @requestor (EIP-55 address).
 *   ::accepted (const char *terms, const char *requestor, const char *frames): the
 *     assignment with this terms digest (hex) from @requestor was accepted; @frames as in
 *     "current-frames". */

/* @work_dir holds one folder per assignment (the scene's files and the output) while it
 * runs; it is made if missing, and folders left there by an earlier run are deleted when the
 * agent starts. @blender should have a benchmark score (kiln_blender_benchmark_async()):
 * without one no offer is made. */
KilnProviderAgent *kiln_provider_agent_new                (KilnEngine        *engine,
                                                           KilnProvider      *provider,
                                                           KilnBlender       *blender,
                                                           const char        *work_dir);

KilnEngine        *kiln_provider_agent_get_engine         (KilnProviderAgent *self);
KilnProvider      *kiln_provider_agent_get_provider       (KilnProviderAgent *self);
KilnBlender       *kiln_provider_agent_get_blender        (KilnProviderAgent *self);
const char        *kiln_provider_agent_get_work_dir       (KilnProviderAgent *self);

gboolean           kiln_provider_agent_get_idle_priority  (KilnProviderAgent *self);
void               kiln_provider_agent_set_idle_priority  (KilnProviderAgent *self,
                                                           gboolean           idle_priority);

/* Starts answering the market: handles the engine's market messages and, while the engine
 * runs, the task announcements published on the DHT topic KILN_MARKET_TASK_TOPIC. Fails
 * when the work folder cannot be made. */
gboolean           kiln_provider_agent_start              (KilnProviderAgent *self,
                                                           GError           **error);
/* Stops answering; every assignment still running is stopped and given back to its
 * requestor (CANCEL). Also done by dispose. */
void               kiln_provider_agent_stop               (KilnProviderAgent *self);
gboolean           kiln_provider_agent_get_running        (KilnProviderAgent *self);

const char        *kiln_provider_agent_get_current_requestor (KilnProviderAgent *self);
const char        *kiln_provider_agent_get_current_frames (KilnProviderAgent *self);
/* The first and last frame of the subtask in "current-frames" (notified with it), for
 * sentences whose grammar depends on the number of frames; FALSE when none. */
gboolean           kiln_provider_agent_get_current_frame_range (KilnProviderAgent *self,
                                                                int               *first,
                                                                int               *last);
double             kiln_provider_agent_get_progress       (KilnProviderAgent *self);
guint              kiln_provider_agent_get_n_running      (KilnProviderAgent *self);
guint              kiln_provider_agent_get_n_done         (KilnProviderAgent *self);

/* The render of the assignment with terms digest @terms (hex), while it runs, else NULL:
 * for kiln_provider_is_run_paused() and the like. */
KilnRenderRun     *kiln_provider_agent_lookup_run         (KilnProviderAgent *self,
                                                           const char        *terms);

/* Every approval received since the agent was made, oldest first (element-type
 * KilnEarning). They are kept in memory only. */
GPtrArray         *kiln_provider_agent_dup_earnings       (KilnProviderAgent *self);

G_END_DECLS
