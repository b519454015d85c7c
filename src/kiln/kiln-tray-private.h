/* kiln-tray-private.h: what the tray's item and its menu share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-tray.h"

G_BEGIN_DECLS

struct _KilnTray
{
  GObject          parent_instance;

  GDBusConnection *connection;
  KilnLender      *lender;
  KilnProvider    *provider;        /* the lender's: its policy is switched on and off */
  char            *app_id;
  char            *app_icon_name;   /* "APP-ID-symbolic" */
  char            *bus_name;        /* org.kde.StatusNotifierItem-PID-N */
  GCancellable    *cancellable;

  guint            item_registration_id;
  guint            menu_registration_id;
  guint            own_name_id;
  guint            watch_watcher_id;
  guint            retry_id;
  guint            n_attempts;      /* registrations tried with the current watcher */

  gboolean         name_owned;
  gboolean         watcher_present;
  gboolean         registered;

  /* What the panel was last told, so that only changes are signalled. */
  const char      *shown_icon_name;
  const char      *shown_status;
  gboolean         shown_enabled;
};

/* The interface described by @xml, which has just one, parsed once into *@node. */
GDBusInterfaceInfo *kiln_tray_parse_interface (GDBusNodeInfo **node,
                                               const char     *xml);

/* The menu (kiln-tray-menu.c). */
guint    kiln_tray_menu_export           (KilnTray *self,
                                          GError  **error);
/* Tells the panel that the lending item's label changed. */
void     kiln_tray_menu_lending_changed  (KilnTray *self);

/* What the menu's items do (kiln-tray.c). */
void     kiln_tray_toggle_lending        (KilnTray *self);
void     kiln_tray_emit_activate         (KilnTray *self);
void     kiln_tray_emit_quit             (KilnTray *self);

G_END_DECLS
