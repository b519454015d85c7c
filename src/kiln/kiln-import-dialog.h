/* kiln-import-dialog.h: import an account from a keystore file or a private key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kiln-window.h"

G_BEGIN_DECLS

#define KILN_TYPE_IMPORT_DIALOG (kiln_import_dialog_get_type ())

G_DECLARE_FINAL_TYPE (KilnImportDialog, kiln_import_dialog, KILN, IMPORT_DIALOG, AdwWindow)

KilnImportDialog *kiln_import_dialog_new (KilnWindow *parent);

G_END_DECLS
