/* kiln-export-dialog.h: save the account's key as a password-protected keystore file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kiln-window.h"

G_BEGIN_DECLS

#define KILN_TYPE_EXPORT_DIALOG (kiln_export_dialog_get_type ())

G_DECLARE_FINAL_TYPE (KilnExportDialog, kiln_export_dialog, KILN, EXPORT_DIALOG, AdwWindow)

/* Asks for the password that protects @key in @file, then writes it. */
KilnExportDialog *kiln_export_dialog_new (KilnWindow *parent,
                                          KilnKey    *key,
                                          GFile      *file);

G_END_DECLS
