/* kiln-connect-dialog.h: connects the node to another one by its address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "libkiln.h"
#include "kiln-window.h"

G_BEGIN_DECLS

#define KILN_TYPE_CONNECT_DIALOG (kiln_connect_dialog_get_type ())

G_DECLARE_FINAL_TYPE (KilnConnectDialog, kiln_connect_dialog, KILN, CONNECT_DIALOG, AdwWindow)

KilnConnectDialog *kiln_connect_dialog_new (KilnWindow *parent,
                                            KilnEngine *engine);

/* Reads "HOST:PORT" (an IPv6 host in brackets) as people type it; FALSE, with a message for
 * people in @error, when it is not one. */
gboolean           kiln_connect_dialog_parse_address (const char  *text,
                                                      char       **out_host,
                                                      guint16     *out_port,
                                                      GError     **error);

G_END_DECLS
