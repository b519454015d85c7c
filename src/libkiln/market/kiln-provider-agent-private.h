/* kiln-provider-agent-private.h: shared by the provider agent's files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-provider-agent.c: the object, its status for the lending panel, starting, stopping.
 * kiln-provider-agent-offers.c: announcements, offers, and announcements waiting for cores.
 * kiln-provider-agent-work.c: one assignment from ASSIGN to RESULT.
 * kiln-provider-agent-settle.c: cancellations, refused results, approvals and payments.
 */
#pragma once

#include "kiln-market-bodies.h"
#include "kiln-offer.h"
#include "kiln-provider-agent.h"
#include "kiln-render-run.h"
#include "kiln-task-announcement.h"
#include "kiln-terms.h"

G_BEGIN_DECLS

/* A task this node made an offer for. */
typedef struct
{
  KilnTaskAnnouncement *announcement;
  KilnOffer            *offer;
  guint                 running;     /* its assignments not finished */
  guint64               serial;      /* order of offering, to forget the oldest first */
  gboolean              dropped;     /* the requestor let the offer go (terms refused, work
                                      * given back or withdrawn): the next announcement of
                                      * the task is answered anew */
} KilnAgentOffer;

/* An announcement turned down for want of free cores, offered on once cores free up. */
typedef struct
{
  KilnTaskAnnouncement *announcement;
  gint64                until;       /* Unix seconds: forgotten then */
} KilnAgentWaiting;

typedef enum
{
  KILN_ASSIGNMENT_ACCEPTING,   /* ACCEPT on its way */
  KILN_ASSIGNMENT_FETCHING,    /* resources coming from the requestor */
  KILN_ASSIGNMENT_PREPARING,   /* the subtask's folder being made */
  KILN_ASSIGNMENT_RENDERING,
  KILN_ASSIGNMENT_PUBLISHING,  /* outputs going into the content store, RESULT on its way */
  KILN_ASSIGNMENT_ENDED,
} KilnAssignmentStage;

/* One accepted assignment, reference-counted: every callback of its work holds one. */
typedef struct
{
  grefcount             ref;
  KilnProviderAgent    *agent;        /* not owned; the agent ends every assignment before it
                                       * goes */
  KilnAssignmentStage   stage;
  KilnAddress           requestor;
  char                 *requestor_string;
  KilnTerms            *terms;        /* accepted */
  char                 *terms_hex;
  char                 *task_hex;
  KilnSubtask          *subtask;
  GPtrArray            *resources;    /* KilnMarketFile */
  GPtrArray            *paths;        /* char *: each resource's path in the content store */
  gint64                deadline;     /* Unix seconds */
  GCancellable         *cancellable;
  char                 *dir;
  char                 *output_dir;
  char                 *blend_file;
  KilnRenderRun        *run;
  GPid                  pid;
  guint                 cpu_id;
  guint64               cpu_ticks;
  gint64                started;      /* monotonic µs, when the render started */
  gint64                wall_ms;
  GStrv                 images;
  KilnResultBody       *result;
  guint                 next;         /* resource fetched or image published next */
} KilnAssignment;

KilnAssignment *kiln_assignment_ref   (KilnAssignment *assignment);
void            kiln_assignment_unref (KilnAssignment *assignment);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnAssignment, kiln_assignment_unref)

/* How an assignment ends: what the requestor is told. */
typedef enum
{
  KILN_ASSIGNMENT_END_RESULT,   /* RESULT was sent */
  KILN_ASSIGNMENT_END_REJECT,   /* send REJECT with the reason */
  KILN_ASSIGNMENT_END_CANCEL,   /* send CANCEL (the work is given back) */
  KILN_ASSIGNMENT_END_SILENT,   /* the requestor cancelled it, or cannot be told */
} KilnAssignmentEnd;

struct _KilnProviderAgent
{
  GObject            parent_instance;

  KilnEngine        *engine;
  KilnProvider      *provider;
  KilnBlender       *blender;
  char              *work_dir;
  gboolean           idle_priority;
  gboolean           running;

  GCancellable      *cancellable;     /* while running */
  GArray            *handler_ids;     /* guint: the engine's message handlers */
  gulong             state_id;        /* engine notify::state */
  gulong             connected_id;    /* engine ::peer-connected */
  gulong             handed_back_id;  /* provider ::handed-back */
  gulong             lending_id;      /* provider notify::state */
  gulong             cores_id;        /* policy notify::cores */

  KilnDht           *dht;             /* subscribed to, while the engine runs */
  GCancellable      *dht_cancellable;
  GPtrArray         *pending;         /* KilnTaskAnnouncement from the DHT whose requestor is
                                       * not connected yet */

  GHashTable        *offers;          /* task ID hex → KilnAgentOffer */
  guint64            offer_serial;
  GPtrArray         *waiting;         /* KilnAgentWaiting, oldest first, one per task */
  guint              waiting_id;      /* idle: offering on them again */
  GHashTable        *assignments;     /* terms hex → KilnAssignment, running */
  GHashTable        *delivered;       /* terms hex → KilnTerms: results sent, not approved */
  GPtrArray         *earnings;        /* KilnEarning */

  KilnAssignment    *current;         /* shown in the properties; not owned */
  char              *current_requestor;
  char              *current_frames;
  guint              n_running;       /* as last notified */
  guint              n_done;
  double             progress;
};

/* kiln-provider-agent.c */
void            kiln_provider_agent_send          (KilnProviderAgent *self,
                                                   const KilnAddress *to,
                                                   KilnMessageType    type,
                                                   GBytes            *body);
void            kiln_provider_agent_send_reject   (KilnProviderAgent *self,
                                                   const KilnAddress *to,
                                                   const guint8      *ref,
                                                   const char        *reason,
                                                   const char        *text);
/* Recomputes "current-requestor", "current-frames", "progress", "n-running" and "n-done". */
void            kiln_provider_agent_update_status (KilnProviderAgent *self);
/* ::finished */
void            kiln_provider_agent_emit_finished (KilnProviderAgent *self,
                                                   const char        *terms,
                                                   const char        *reason);
/* ::accepted */
void            kiln_provider_agent_emit_accepted (KilnProviderAgent *self,
                                                   KilnAssignment    *assignment);
/* ::offered, ::earned, ::paid */
void            kiln_provider_agent_emit_offered  (KilnProviderAgent *self,
                                                   const char        *task,
                                                   const char        *requestor);
void            kiln_provider_agent_emit_earned   (KilnProviderAgent *self,
                                                   const char        *terms,
                                                   const char        *amount);
void            kiln_provider_agent_emit_paid     (KilnProviderAgent *self,
                                                   const char        *terms,
                                                   const char        *tx_hash);
gint64          kiln_provider_agent_now           (void);

/* kiln-provider-agent-offers.c */
void            kiln_agent_offer_free             (KilnAgentOffer    *offered);
void            kiln_agent_waiting_free           (KilnAgentWaiting  *waiting);
/* Follows the engine (its state, for the DHT topic; peers that connect, for announcements
 * waiting for them) and the lending policy (cores and lending coming back). */
void            kiln_provider_agent_start_offering (KilnProviderAgent *self);
/* Stops following them and forgets the announcements that waited. */
void            kiln_provider_agent_stop_offering (KilnProviderAgent *self);
void            kiln_provider_agent_on_task_announce (KilnEngine     *engine,
                                                      KilnEnginePeer *peer,
                                                      KilnMessage    *message,
                                                      gpointer        user_data);
KilnAgentOffer *kiln_provider_agent_lookup_offer  (KilnProviderAgent *self,
                                                   const guint8      *task_id);
/* The cores lent and not taken by a running assignment. */
guint           kiln_provider_agent_get_free_cores (KilnProviderAgent *self);
/* The requestor no longer holds this node's offer on the task with ID @task_hex (it was
 * refused terms or given work back): the next announcement gets a new offer, and with
 * @when_free one is made without waiting for it, as soon as cores free up. */
void            kiln_provider_agent_drop_offer    (KilnProviderAgent *self,
                                                   const char        *task_hex,
                                                   gboolean           when_free);
/* Cores or lending came back: announcements turned down for want of them are looked at
 * again (from the main loop, once). */
void            kiln_provider_agent_room_freed    (KilnProviderAgent *self);
/* @requestor withdrew the task @task_id: its offer (when nothing of it runs here) and an
 * announcement of it waiting for cores are forgotten. */
void            kiln_provider_agent_forget_task   (KilnProviderAgent *self,
                                                   const guint8      *task_id,
                                                   const KilnAddress *requestor);

/* kiln-provider-agent-settle.c */
void            kiln_provider_agent_on_cancel     (KilnEngine        *engine,
                                                   KilnEnginePeer    *peer,
                                                   KilnMessage       *message,
                                                   gpointer           user_data);
void            kiln_provider_agent_on_reject     (KilnEngine        *engine,
                                                   KilnEnginePeer    *peer,
                                                   KilnMessage       *message,
                                                   gpointer           user_data);
void            kiln_provider_agent_on_approve    (KilnEngine        *engine,
                                                   KilnEnginePeer    *peer,
                                                   KilnMessage       *message,
                                                   gpointer           user_data);
void            kiln_provider_agent_on_payment    (KilnEngine        *engine,
                                                   KilnEnginePeer    *peer,
                                                   KilnMessage       *message,
                                                   gpointer           user_data);
/* The provider handed a render back: paused at its deadline, or lending switched off. */
void            kiln_provider_agent_on_handed_back (KilnProviderAgent *self,
                                                    KilnRenderRun     *run);

/* kiln-provider-agent-work.c */
void            kiln_provider_agent_on_assign     (KilnEngine        *engine,
                                                   KilnEnginePeer    *peer,
                                                   KilnMessage       *message,
                                                   gpointer           user_data);
/* Ends @assignment (nothing happens if it has ended): stops its work, tells the requestor
 * as @how says (@reason a reason code, @text a sentence), releases its slot and deletes its
 * folder. */
void            kiln_assignment_end               (KilnAssignment    *assignment,
                                                   KilnAssignmentEnd  how,
                                                   const char        *reason,
                                                   const char        *text);
KilnAssignment *kiln_provider_agent_find_run      (KilnProviderAgent *self,
                                                   KilnRenderRun     *run);
/* Deletes the assignment folders an earlier run left in the work folder (blocks: once, when
 * the agent starts). */
void            kiln_provider_agent_clean_work_dir (KilnProviderAgent *self);

G_END_DECLS
