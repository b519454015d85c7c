/* kiln-window.h: the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kiln-application.h"

G_BEGIN_DECLS

#define KILN_TYPE_WINDOW (kiln_window_get_type ())

G_DECLARE_FINAL_TYPE (KilnWindow, kiln_window, KILN, WINDOW, AdwApplicationWindow)

KilnWindow *kiln_window_new           (KilnApplication *application);
/* Takes ownership of @toast, like adw_toast_overlay_add_toast(). */
void        kiln_window_add_toast     (KilnWindow      *self,
                                       AdwToast        *toast);
void        kiln_window_show_message  (KilnWindow      *self,
                                       const char      *message);
/* Switches to the main view's page @name ("render", "account", "wallet", "lending", …). */
void        kiln_window_show_page     (KilnWindow      *self,
                                       const char      *name);
/* Shows the Render page reading @file, a .blend, or asking for one. */
void        kiln_window_open_scene    (KilnWindow      *self,
                                       GFile           *file);
void        kiln_window_choose_scene  (KilnWindow      *self);
/* Shows the Render page's page of the render job with that ID. */
void        kiln_window_show_job      (KilnWindow      *self,
                                       const char      *id);

G_END_DECLS
