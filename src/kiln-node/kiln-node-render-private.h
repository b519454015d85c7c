/* kiln-node-render-private.h: what the parts of kiln-node render share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-node-render.c         the command line, reading the scene, the account, the node,
 *                            making and starting the job
 * kiln-node-render-follow.c  following the job to its end: progress, frames, signals,
 *                            the deadline for providers, the summary
 */
#pragma once

#include "kiln-control.h"
#include "kiln-engine.h"
#include "kiln-render-job.h"

#include "kiln-node-chain.h"
#include "kiln-node-cli.h"

G_BEGIN_DECLS

typedef struct
{
  KilnNodeContext *ctx;
  KilnNodeWallet  *node;             /* the account's wallet, its chain and the database */
  KilnBlender     *blender;
  KilnSandbox     *sandbox;
  KilnSceneInfo   *scene;
  KilnEngine      *engine;
  KilnControl     *control;
  KilnRenderJob   *job;
  /* Reading the scene and starting up; cancelled by the first signal. */
  GCancellable    *cancellable;
  guint            signal_ids[3];
  guint            n_signals;

  guint            wait_providers;   /* seconds without a provider at work; 0: no limit */
  gboolean         terminal;         /* progress as one line rewritten in place */
  gboolean         started;          /* the job was announced */
  gboolean         stopping;         /* the node is saying goodbye to its peers */

  /* Following the job */
  gboolean         status_shown;     /* the progress line is on the terminal */
  guint            n_events_shown;
  GArray          *subtask_states;   /* KilnSubtaskState, as last told */
  char            *last_progress;    /* the progress last told, to tell only changes */
  char            *status_line;      /* the progress line for the terminal */
  guint            no_provider_id;   /* fires after wait_providers seconds */
  gboolean         cancelling;       /* kiln_render_job_cancel_async() is under way */
  gboolean         interrupted;      /* a signal asked to stop */
  gboolean         no_providers;     /* nobody took the work in time */
  gboolean         payment_failed;   /* every frame is in, but paying failed */
  GError          *cancel_error;     /* cancelling the job failed */
} KilnNodeRender;

/* Follows the started job of @self until it ends; TRUE only when every frame is in the
 * output folder and every provider was paid. */
gboolean  kiln_node_render_follow       (KilnNodeRender  *self,
                                         GError         **error);

/* The first SIGINT, SIGTERM or SIGHUP: stops what is under way (the job is cancelled);
 * the second stops waiting at once. */
void      kiln_node_render_interrupt    (KilnNodeRender  *self);

/* The job's progress as JSON members of the object being built: "state", "frames_done",
 * "frames_total", "subtasks_done", "subtasks", "rendering", "providers", "peers",
 * "cost", "max_cost". */
void      kiln_node_render_json_add_progress (KilnNodeRender *self,
                                              JsonBuilder    *builder);

/* "1.5 GNT", rounded up to at most six decimals: for the progress line. */
char     *kiln_node_render_format_short_amount (KilnNodeRender    *self,
                                                const KilnUint256 *value);

/* Writes @text as a line of its own (above the progress line on a terminal). */
void      kiln_node_render_print_line   (KilnNodeRender  *self,
                                         const char      *text);

G_END_DECLS
