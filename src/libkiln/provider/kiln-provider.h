/* kiln-provider.h: lending the computer's idle time to running renders
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-idle-monitor.h"
#include "kiln-lending-policy.h"
#include "kiln-render-run.h"

G_BEGIN_DECLS

typedef enum
{
  KILN_PROVIDER_STATE_OFF,      /* lending is switched off */
  KILN_PROVIDER_STATE_WAITING,  /* on, but the computer is not idle; nothing is paused */
  KILN_PROVIDER_STATE_LENDING,  /* on and idle: work may run */
  KILN_PROVIDER_STATE_PAUSED,   /* on, not idle, and work is paused */
} KilnProviderState;

#define KILN_TYPE_PROVIDER_STATE (kiln_provider_state_get_type ())
GType kiln_provider_state_get_type (void) G_GNUC_CONST;

#define KILN_TYPE_PROVIDER (kiln_provider_get_type ())

G_DECLARE_FINAL_TYPE (KilnProvider, kiln_provider, KILN, PROVIDER, GObject)

/* Ties @monitor to the renders added with kiln_provider_add_run(): when the computer
 * stops being idle, every process of each render's sandbox is stopped (SIGSTOP)
 * at once, and continued (SIGCONT) when it is idle again. A render still paused
 * at its deadline is cancelled and "handed-back". Switching lending off hands
 * every render back.
 *
 * Properties: "policy", "monitor" (construct-only), "state" (KilnProviderState),
 * "status" (a translated sentence for the lending panel and the tray), "n-runs".
 * Signals: "paused" (KilnRenderRun *), "resumed" (KilnRenderRun *),
 * "handed-back" (KilnRenderRun *): the render was cancelled because it could not
 * finish in time; the market side tells the requestor. */
KilnProvider      *kiln_provider_new            (KilnLendingPolicy *policy,
                                                 KilnIdleMonitor   *monitor);

KilnLendingPolicy *kiln_provider_get_policy     (KilnProvider      *self);
KilnIdleMonitor   *kiln_provider_get_monitor    (KilnProvider      *self);
KilnProviderState  kiln_provider_get_state      (KilnProvider      *self);
const char        *kiln_provider_get_status     (KilnProvider      *self);
guint              kiln_provider_get_n_runs     (KilnProvider      *self);
/* Whether new work may start now: lending on and the computer idle. */
gboolean           kiln_provider_can_start_work (KilnProvider      *self);

/* Watches @run, which must have been started (kiln_render_run_execute_async()),
 * until kiln_provider_remove_run(). @deadline (may be NULL: none) is when the
 * subtask is due; paused past it, the run is handed back. If the computer is not
 * idle the run is paused at once. */
void               kiln_provider_add_run        (KilnProvider      *self,
                                                 KilnRenderRun     *run,
                                                 GDateTime         *deadline);
/* Stops watching @run (continuing it first if it was paused). */
void               kiln_provider_remove_run     (KilnProvider      *self,
                                                 KilnRenderRun     *run);
gboolean           kiln_provider_is_run_paused  (KilnProvider      *self,
                                                 KilnRenderRun     *run);
/* The renders being watched, oldest first (element-type KilnRenderRun); "n-runs" tells
 * when they change. */
GPtrArray         *kiln_provider_dup_runs       (KilnProvider      *self);

G_END_DECLS
