/* kiln-test-flatpak.h: the computer side of Kiln's Flatpak, with the real services,
 * and a bubblewrap that looks like the Flatpak from inside
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  char        *app_id;
  char        *home;         /* $HOME for the test, outside /tmp (the Flatpak's is private) */
  char        *app_dir;      /* home/.var/app/APP-ID, with data, cache and config in it */
  char        *bus_dir;      /* /tmp/kiln-flatpak-XXXXXX: sockets, .flatpak-info, bin */
  char        *allowed_bus;  /* the app's bus, org.freedesktop.Flatpak reachable */
  char        *denied_bus;   /* the app's bus without that permission */
  char        *spawn;        /* flatpak-spawn, where the app finds it in PATH */
  GSubprocess *bus;
  GSubprocess *helper;
  GSubprocess *proxy;
} KilnTestFlatpak;

/* Fails the program with what to install when flatpak-session-helper (flatpak),
 * flatpak-spawn (flatpak-xdg-utils), xdg-dbus-proxy, dbus-daemon or bwrap is
 * missing. Makes $HOME in @parent and sets it: call it before anything asks GLib
 * for the home folder. */
void   kiln_test_flatpak_set_up        (KilnTestFlatpak     *flatpak,
                                        const char          *app_id,
                                        const char          *parent);

/* Starts a private session bus (dbus-daemon with no service folders), the real
 * flatpak-session-helper on it (org.freedesktop.Flatpak, what flatpak-spawn --host
 * talks to) and xdg-dbus-proxy with the two filtered views of it that Flatpak would
 * give the app: one with --talk=org.freedesktop.Flatpak, one without. */
void   kiln_test_flatpak_start         (KilnTestFlatpak     *flatpak);

/* The bwrap command line that runs @command as if inside the Flatpak: a fresh root
 * with the computer's top-level folders (so that /.flatpak-info is made there, not
 * on the computer), a /.flatpak-info naming the app, a private /tmp, $HOME hidden
 * but for the app's folder, flatpak-spawn in PATH, the computer's /usr/bin/blender
 * and /usr/bin/bwrap covered by empty files, the bus with the permission as the
 * session bus, XDG_DATA_HOME and the others in the app's folder as Flatpak sets
 * them, and @envp (NULL or name, value, …, NULL) added. The computer's processes
 * and network stay visible, as with --share=network. */
GStrv  kiln_test_flatpak_build_argv    (KilnTestFlatpak     *flatpak,
                                        const char * const  *envp,
                                        const char * const  *command);

/* Stops the services and removes the folders. */
void   kiln_test_flatpak_tear_down     (KilnTestFlatpak     *flatpak);

G_END_DECLS
