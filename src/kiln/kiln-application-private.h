/* kiln-application-private.h: what kiln-application.c shares with its actions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-application.h"
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
};

void        _kiln_application_actions_init   (KilnApplication *self);
void        _kiln_application_actions_update (KilnApplication *self);
/* The window to show dialogs and toasts on, created when there is none. */
KilnWindow *_kiln_application_get_window     (KilnApplication *self);

G_END_DECLS
