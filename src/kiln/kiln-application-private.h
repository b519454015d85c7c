/* kiln-application-private.h: what kiln-application.c shares with its actions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-application.h"
#include "kiln-lender.h"
#include "kiln-tray.h"
#include "kiln-window.h"

G_BEGIN_DECLS

struct _KilnApplication
{
  AdwApplication    parent_instance;

  GSettings        *settings;
  KilnSecretStore  *secret_store;
  KilnSession      *session;
  GCancellable     *cancellable;

  KilnKey          *key;
  GError           *keyring_error;
  KilnAccountState  account_state;
  guint             busy;
  guint             loading : 1;

  /* --bootstrap and --listen-port: NULL and -1 when not given */
  GStrv             bootstrap_option;
  int               listen_port_option;

  /* Lending (kiln-application-lending.c) */
  KilnLendingPolicy *policy;
  KilnIdleMonitor   *idle_monitor;
  KilnProvider      *provider;
  KilnLender        *lender;              /* the provider agent over the session's node */
  KilnTray          *tray;
  guint              start_hidden_id;     /* a --background start waiting for the tray */
  guint              start_hidden : 1;    /* --background: the first activation opens nothing */
  guint              background_held : 1; /* held so that closing the window leaves Kiln running */

  /* Render jobs without a window, and notifications (kiln-application-jobs.c) */
  guint              jobs_held : 1;             /* held while a render job is under way */
  guint              told_background_jobs : 1;  /* said once that jobs go on windowless */

  /* Running in the background and at login (kiln-application-background.c) */
  GCancellable      *portal_cancellable;
  guint              portal_response_id;
  guint              portal_autostart : 1;  /* the portal's last answer: started at login */
};

void        _kiln_application_actions_init   (KilnApplication *self);
void        _kiln_application_actions_update (KilnApplication *self);
/* The window to show dialogs and toasts on, created when there is none. */
KilnWindow *_kiln_application_get_window     (KilnApplication *self);

void        _kiln_application_lending_startup     (KilnApplication *self);
void        _kiln_application_lending_shutdown    (KilnApplication *self);
/* Started with --background: no window until asked for one. */
void        _kiln_application_start_hidden        (KilnApplication *self);

void        _kiln_application_jobs_startup        (KilnApplication *self);
void        _kiln_application_jobs_shutdown       (KilnApplication *self);

void        _kiln_application_background_startup  (KilnApplication *self);
void        _kiln_application_background_shutdown (KilnApplication *self);

G_END_DECLS
