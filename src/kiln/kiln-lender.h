/* kiln-lender.h: lending this computer to the market, and saying what lending does
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "libkiln.h"
#include "kiln-session.h"

G_BEGIN_DECLS

typedef enum
{
  KILN_LENDER_STATE_OFF,        /* lending is switched off */
  KILN_LENDER_STATE_WAITING,    /* on, but the computer is not idle; nothing is paused */
  KILN_LENDER_STATE_PAUSED,     /* on, not idle, and work is paused */
  KILN_LENDER_STATE_BLOCKED,    /* on and idle, but something keeps Kiln from lending */
  KILN_LENDER_STATE_PREPARING,  /* on and idle: finding Blender, measuring its speed */
  KILN_LENDER_STATE_READY,      /* on and idle, offering on tasks, nothing assigned */
  KILN_LENDER_STATE_RENDERING,  /* working on a subtask for a requestor */
} KilnLenderState;

#define KILN_TYPE_LENDER (kiln_lender_get_type ())

G_DECLARE_FINAL_TYPE (KilnLender, kiln_lender, KILN, LENDER, GObject)

/* The app's side of lending. While the lending policy of @provider is on and @session (may
 * be NULL: no account, nothing is lent) has a node, it finds Blender, has its speed measured
 * once per Blender version (kiln_blender_benchmark_async(), cached in the user's cache
 * folder) while the computer is idle, then runs a KilnProviderAgent over the node, @provider
 * and that Blender, with its work folder in the user's cache folder, and announces the
 * provider role. Lending switched off, the provider hands back what runs and the agent
 * stops, unless results it delivered still wait for their payment: then it stays (taking no
 * work) until they are paid, for an hour at most, so that the payments are heard. It always
 * stops when the node goes.
 *
 * The node's earnings (KilnEarnings over its store, checked on the session's chain) follow
 * the agent.
 *
 * Read-only properties, notified on change: "provider", "session" (construct-only), "state"
 * (KilnLenderState), "status" (a translated sentence saying what lending does or why it
 * waits), "requestor" (EIP-55 address of the requestor whose subtask is worked on, or
 * NULL), "progress" (0..1 of that subtask), "agent" (the KilnProviderAgent, or NULL),
 * "earnings" (the node's KilnEarnings, or NULL without a node), "chain" (the KilnChain its
 * payments are checked on, or NULL). */
KilnLender        *kiln_lender_new            (KilnProvider *provider,
                                               KilnSession  *session);

KilnProvider      *kiln_lender_get_provider   (KilnLender   *self);
KilnSession       *kiln_lender_get_session    (KilnLender   *self);
KilnLenderState    kiln_lender_get_state      (KilnLender   *self);
const char        *kiln_lender_get_status     (KilnLender   *self);
const char        *kiln_lender_get_requestor  (KilnLender   *self);
double             kiln_lender_get_progress   (KilnLender   *self);
KilnProviderAgent *kiln_lender_get_agent      (KilnLender   *self);
KilnEarnings      *kiln_lender_get_earnings   (KilnLender   *self);
KilnChain         *kiln_lender_get_chain      (KilnLender   *self);

/* The folder holding the subtasks the agent works on: $XDG_CACHE_HOME/kiln/lent-work. */
char              *kiln_lender_get_work_dir   (void);

G_END_DECLS
