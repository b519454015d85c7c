/* kiln-tray.h: the tray indicator, a StatusNotifierItem with a menu over D-Bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-lender.h"

G_BEGIN_DECLS

/* Where the item and its menu live on the bus. */
#define KILN_TRAY_ITEM_PATH "/StatusNotifierItem"
#define KILN_TRAY_MENU_PATH "/MenuBar"

/* Ids of the menu's items (com.canonical.dbusmenu), 0 being the root. */
typedef enum
{
  KILN_TRAY_MENU_ROOT = 0,
  KILN_TRAY_MENU_TOGGLE_LENDING,
  KILN_TRAY_MENU_SEPARATOR,
  KILN_TRAY_MENU_OPEN,
  KILN_TRAY_MENU_QUIT,
} KilnTrayMenuItem;

#define KILN_TYPE_TRAY (kiln_tray_get_type ())

G_DECLARE_FINAL_TYPE (KilnTray, kiln_tray, KILN, TRAY, GObject)

/* Shows @lender in the panel's tray: exports org.kde.StatusNotifierItem at
 * KILN_TRAY_ITEM_PATH and com.canonical.dbusmenu at KILN_TRAY_MENU_PATH on @bus, owns
 * org.kde.StatusNotifierItem-PID-N and registers that name with the
 * org.kde.StatusNotifierWatcher whenever one is on the bus (again after it restarts).
 * Disposing the tray releases the name, which takes the item off the panel.
 *
 * The icon, status and tooltip follow the lender's "state" and "status" (rendering, held
 * back, off); the menu switches the lending policy of the lender's provider on and off, and
 * asks for the window or for quitting through the signals.
 *
 * Properties: "connection", "lender", "app-id" (construct-only; the item's Id, and its
 * icon is "APP-ID-symbolic"), "registered" (read-only: a watcher has accepted the item).
 * Signals: "activate" (the window should be shown), "quit" (the app should quit). */
KilnTray          *kiln_tray_new            (GDBusConnection *bus,
                                             KilnLender      *lender,
                                             const char      *app_id);

GDBusConnection   *kiln_tray_get_connection (KilnTray        *self);
KilnLender        *kiln_tray_get_lender     (KilnTray        *self);
const char        *kiln_tray_get_app_id     (KilnTray        *self);
/* The bus name the item is registered under, or NULL until it is owned. */
const char        *kiln_tray_get_bus_name   (KilnTray        *self);
gboolean           kiln_tray_get_registered (KilnTray        *self);

G_END_DECLS
