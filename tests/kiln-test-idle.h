/* kiln-test-idle.h: the desktop's idle and power services, served on private buses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-provider.h"

G_BEGIN_DECLS

typedef struct _FakeServices FakeServices;

/* Starts two private dbus-daemons, "session" and "system"; nothing owned yet. */
FakeServices    *fake_services_new                  (void);
void             fake_services_free                 (FakeServices *services);
/* A new client connection to the private system (@system) or session bus. */
GDBusConnection *fake_services_connect              (FakeServices *services,
                                                     gboolean      system);

/* org.gnome.Mutter.IdleMonitor at /org/gnome/Mutter/IdleMonitor/Core. */
void             fake_mutter_own                    (FakeServices *services,
                                                     gboolean      own);
/* Sets the idle time; idle watches whose interval it reaches fire. */
void             fake_mutter_set_idletime           (FakeServices *services,
                                                     guint64       ms);
/* Input: the idle time drops to 0 and user-active watches fire (and are gone). */
void             fake_mutter_user_active            (FakeServices *services);
gboolean         fake_mutter_has_idle_watch         (FakeServices *services);
gboolean         fake_mutter_has_active_watch       (FakeServices *services);
guint64          fake_mutter_get_idle_interval      (FakeServices *services);
/* Whether exactly one idle watch exists, at 2 minutes. */
gboolean         fake_mutter_idle_interval_is       (FakeServices *services);

/* org.freedesktop.ScreenSaver at /org/freedesktop/ScreenSaver. */
void             fake_screensaver_own               (FakeServices *services,
                                                     gboolean      own);
void             fake_screensaver_set_idle_ms       (FakeServices *services,
                                                     guint32       ms);
void             fake_screensaver_set_idle_time_supported (FakeServices *services,
                                                           gboolean      supported);
void             fake_screensaver_set_active        (FakeServices *services,
                                                     gboolean      active);

/* org.freedesktop.UPower at /org/freedesktop/UPower on the system bus. */
void             fake_upower_own                    (FakeServices *services,
                                                     gboolean      own);
void             fake_upower_set_on_battery         (FakeServices *services,
                                                     gboolean      on_battery);

/* A provider on a computer that is idle for good: Mutter on @services' buses reports ten
 * minutes without input, and the lending policy (enabled, @cores cores, at least 0.5 GNT per
 * CPU-hour, no idle delay, whatever CPU other programs use: parallel builds and tests must
 * not decide) lets it lend. Returns once its idle monitor says idle; the provider holds the
 * policy and the monitor. */
KilnProvider    *kiln_test_idle_provider_new        (FakeServices *services,
                                                     guint         cores);

G_END_DECLS
