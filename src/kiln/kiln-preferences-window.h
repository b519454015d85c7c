/* kiln-preferences-window.h: the data folder and the payment network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KILN_TYPE_PREFERENCES_WINDOW (kiln_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (KilnPreferencesWindow, kiln_preferences_window,
                      KILN, PREFERENCES_WINDOW, AdwPreferencesWindow)

KilnPreferencesWindow *kiln_preferences_window_new (GtkWindow *parent,
                                                    GSettings *settings);

G_END_DECLS
