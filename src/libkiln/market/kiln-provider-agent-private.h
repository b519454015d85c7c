/* kiln-provider-agent-private.h: shared by the provider agent's files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-provider-agent.c: the object, offers, cancellations, approvals and payments.
 * kiln-provider-agent-work.c: one assignment from ASSIGN to RESULT.
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
} KilnAgentOffer;

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

  KilnDht           *dht;             /* subscribed to, while the engine runs */
  GCancellable      *dht_cancellable;
  GPtrArray         *pending;         /* KilnTaskAnnouncement from the DHT whose requestor is
                                       * not connected yet */

  GHashTable        *offers;          /* task ID hex → KilnAgentOffer */
  guint64            offer_serial;
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
KilnAgentOffer *kiln_provider_agent_lookup_offer  (KilnProviderAgent *self,
                                                   const guint8      *task_id);
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
gint64          kiln_provider_agent_now           (void);

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
