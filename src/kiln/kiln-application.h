/* kiln-application.h: the desktop app and the account it uses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"
#include "kiln-lender.h"
#include "kiln-session.h"

G_BEGIN_DECLS

typedef enum
{
  KILN_ACCOUNT_STATE_LOADING,        /* reading the keyring */
  KILN_ACCOUNT_STATE_NONE,           /* no account yet: first run */
  KILN_ACCOUNT_STATE_KEYRING_ERROR,  /* the keyring is locked or missing */
  KILN_ACCOUNT_STATE_READY,          /* an account is in use */
} KilnAccountState;

#define KILN_TYPE_APPLICATION (kiln_application_get_type ())

G_DECLARE_FINAL_TYPE (KilnApplication, kiln_application, KILN, APPLICATION, AdwApplication)

KilnApplication  *kiln_application_new                 (void);
GSettings        *kiln_application_get_settings        (KilnApplication      *self);
KilnAccountState  kiln_application_get_account_state   (KilnApplication      *self);
/* The account in use, or NULL. */
KilnKey          *kiln_application_get_key             (KilnApplication      *self);
/* Why the keyring could not be read, in the KILN_ACCOUNT_STATE_KEYRING_ERROR state. */
const GError     *kiln_application_get_keyring_error   (KilnApplication      *self);
/* The engine objects for the account in use: database, chain and wallet. */
KilnSession      *kiln_application_get_session         (KilnApplication      *self);
/* TRUE while an account is being created or saved. */
gboolean          kiln_application_get_busy            (KilnApplication      *self);
/* The provider that lends this computer, following the lending-* settings. */
KilnProvider     *kiln_application_get_provider        (KilnApplication      *self);
/* What takes work from the market with that provider over the session's node, and says
 * what lending does. */
KilnLender       *kiln_application_get_lender          (KilnApplication      *self);
/* The cores lent while "lending-cores" is 0: half the processors, at least one. */
guint             kiln_application_get_auto_cores      (void);

/* Reads the keyring again, after a keyring error. */
void              kiln_application_reload_account      (KilnApplication      *self);

/* Generates a key, saves it in the keyring and uses it. */
void              kiln_application_create_account_async  (KilnApplication     *self,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
gboolean          kiln_application_create_account_finish (KilnApplication     *self,
                                                          GAsyncResult        *result,
                                                          GError             **error);

/* Saves @key in the keyring and uses it. When the keyring is locked or missing the key is
 * still used until the app quits, and *@out_saved is set to FALSE. */
void              kiln_application_adopt_key_async     (KilnApplication      *self,
                                                        KilnKey              *key,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
gboolean          kiln_application_adopt_key_finish    (KilnApplication      *self,
                                                        GAsyncResult         *result,
                                                        gboolean             *out_saved,
                                                        GError              **error);

G_END_DECLS
