/* kiln-qr-code.h: a QR code of a short text, such as an address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Modules of light margin around the code, as the QR specification asks. */
#define KILN_QR_CODE_QUIET_ZONE 4

/* The matrix of @text (byte mode, error correction level M), as the widget draws it. */
guint8     *kiln_qr_code_encode       (const char *text,
                                       guint      *size);

#define KILN_TYPE_QR_CODE (kiln_qr_code_get_type ())

G_DECLARE_FINAL_TYPE (KilnQrCode, kiln_qr_code, KILN, QR_CODE, GtkWidget)

GtkWidget  *kiln_qr_code_new          (void);
const char *kiln_qr_code_get_text     (KilnQrCode *self);
/* Encodes @text (byte mode, error correction level M); NULL or "" shows nothing. */
void        kiln_qr_code_set_text     (KilnQrCode *self,
                                       const char *text);

G_END_DECLS
