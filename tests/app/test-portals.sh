#!/bin/sh
# test-portals.sh KILN APP_ID SCHEMA_DIR DATA_DIR SCREENSHOT_DIR
#
# The file chooser and notifications through the desktop portal, as inside Flatpak, and
# through plain GTK and GIO outside it. The real app on a real X server (Xvfb), with the
# real xdg-desktop-portal and its GTK backend (xdg-desktop-portal-gtk), the real dunst as
# the notification server and dbus-monitor watching, on the private session bus that
# with-keyring.sh provides.
#
# Outside a sandbox GTK and GIO use the portals only when told to: GDK_DEBUG=portals (GTK
# 4.8's "force the use of portals") for the file chooser, GTK_USE_PORTAL=1 (read by GLib
# 2.74) for GNotification. With them, the Render page's
# Open button calls org.freedesktop.portal.FileChooser.OpenFile, the dialog that opens is
# the portal's own window (another process), and the file chosen there reaches the app; a
# notification is org.freedesktop.portal.Notification.AddNotification, which the portal
# hands to its backend. Without them, the dialog is the app's own window and the
# notification goes straight to org.freedesktop.Notifications, and no portal is called.
# Prints TAP; screenshots go to SCREENSHOT_DIR.
#
# KILN_TEST_TIMEOUT (seconds, default 60) bounds every wait.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

if [ $# -ne 5 ]; then
  echo "usage: $0 KILN APP_ID SCHEMA_DIR DATA_DIR SCREENSHOT_DIR" >&2
  exit 2
fi

kiln=$1
app_id=$2
schema_dir=$3
data_dir=$4
shots=$5
timeout=${KILN_TEST_TIMEOUT:-60}
here=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"

planned=10
echo "1..$planned"

for tool in dbus-monitor xprop dunst dunstctl; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is missing (build-aux/setup.sh installs it)"
done
find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-portals-test.XXXXXX")
monitor_pid=
portal_pid=
backend_pid=
notifier_pid=

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  for pid in "$portal_pid" "$backend_pid" "$notifier_pid" "$monitor_pid"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# window_pid TITLE: the process that owns the window with that title.
window_pid ()
{
  id=$(window_id "$1")
  [ -n "$id" ] && xprop -id "$id" _NET_WM_PID | sed -n 's/.* = \([0-9]*\)$/\1/p'
}
# called INTERFACE MEMBER: the monitor saw a method call of that member on that interface.
called ()
{
  grep -q "method call .*interface=$1; member=$2\$" "$tmp/bus.log"
}
# notify_job_folder: with no window open, app.open-job-folder for a render Kiln does not
# know is answered with a notification.
notify_job_folder ()
{
  gdbus call --session --timeout 10 --dest "$app_id" --object-path "$object_path" \
    --method org.gtk.Actions.Activate open-job-folder '[<"no-such-render">]' '{}' >/dev/null
}

# A scene file for the file chooser to pick: not a Blender file, which the app explains at
# once, without running Blender.
mkdir "$tmp/scenes"
printf 'These are notes about a scene, not a scene.\n' >"$tmp/scenes/notes.blend"

export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
start_display 1400x1000
# The portal's GTK backend serves the GNOME desktop (its gtk.portal says UseIn=gnome).
export XDG_CURRENT_DESKTOP=GNOME

dbus-monitor --session \
  "type='method_call',interface='org.freedesktop.portal.FileChooser'" \
  "type='method_call',interface='org.freedesktop.impl.portal.FileChooser'" \
  "type='method_call',interface='org.freedesktop.portal.Notification'" \
  "type='method_call',interface='org.freedesktop.impl.portal.Notification'" \
  "type='method_call',interface='org.freedesktop.Notifications'" \
  "type='method_call',interface='org.gtk.Notifications'" \
  >"$tmp/bus.log" 2>"$tmp/monitor.log" &
monitor_pid=$!
monitoring () { [ -s "$tmp/bus.log" ]; }
wait_for "dbus-monitor" monitoring || bail "dbus-monitor did not start: $(cat "$tmp/monitor.log")"

# The notification server (dunst), and the portal with its GTK backend, started here rather
# than by D-Bus activation so that they get the display and what they print goes to logs.
mkdir -p "$XDG_CONFIG_HOME/dunst"
printf '[global]\n    idle_threshold = 0\n[urgency_normal]\n    timeout = 0\n' \
  >"$XDG_CONFIG_HOME/dunst/dunstrc"
env -u G_DEBUG dunst >"$tmp/notifier.log" 2>&1 &
notifier_pid=$!
wait_for "dunst" name_owned org.freedesktop.Notifications ||
  bail "dunst did not start: $(cat "$tmp/notifier.log")"
# shown_by_dunst N: dunst has shown N notifications since it started.
shown_by_dunst ()
{
  [ $(($(dunstctl count displayed) + $(dunstctl count history))) -ge "$1" ]
}

backend=$(service_exec org.freedesktop.impl.portal.desktop.gtk) ||
  bail "xdg-desktop-portal-gtk is missing (build-aux/setup.sh installs it)"
portal=$(service_exec org.freedesktop.portal.Desktop) ||
  bail "xdg-desktop-portal is missing (build-aux/setup.sh installs it)"
env -u G_DEBUG "$backend" >"$tmp/backend.log" 2>&1 &
backend_pid=$!
wait_for "xdg-desktop-portal-gtk" name_owned org.freedesktop.impl.portal.desktop.gtk ||
  bail "xdg-desktop-portal-gtk did not start: $(cat "$tmp/backend.log")"
# The portal is given the GTK backend alone: where GNOME's backend is installed too (the
# Background portal's test uses it), the portal would pick it for the file chooser and
# notifications, and it needs GNOME Shell for them.
gtk_portal=/usr/share/xdg-desktop-portal/portals/gtk.portal
[ -f "$gtk_portal" ] || bail "$gtk_portal is missing (xdg-desktop-portal-gtk installs it)"
mkdir "$tmp/portals"
cp "$gtk_portal" "$tmp/portals/"
env -u G_DEBUG XDG_DESKTOP_PORTAL_DIR="$tmp/portals" "$portal" >"$tmp/portal.log" 2>&1 &
portal_pid=$!
wait_for "xdg-desktop-portal" name_owned org.freedesktop.portal.Desktop ||
  bail "xdg-desktop-portal did not start: $(cat "$tmp/portal.log")"

account_shown () { action_enabled export-account; }
render_tab_selected () { "$python" "$here/atspi-dump.py" --state kiln tab Render selected; }
open_title='Open a Blender Scene'
not_blend ()
{
  labels | grep -q '^“notes.blend” is not a Blender scene (it does not start like one)'
}

# --- through the portals --------------------------------------------------------------------
GDK_DEBUG=portals GTK_USE_PORTAL=1 start_kiln "$tmp/kiln-portal.log"
if wait_for "the window" window_shown Kiln &&
   wait_for "the welcome screen" action_enabled new-account &&
   activate new-account && wait_for "the account" account_shown &&
   wait_for "the Render page" render_tab_selected; then
  :
else
  bail "the app did not start: $(cat "$tmp/kiln-portal.log")"
fi

# The bookmarks file that GTK's file choosers read, as a desktop has it. Without it, the
# portal's GTK 3 dialog creates its folder while the app's GTK 4 watches for the file, and
# GTK 4 warns that it cannot read it. (Inside Flatpak the app has a configuration folder
# of its own, apart from the portal's.)
mkdir -p "$XDG_CONFIG_HOME/gtk-3.0"
: >"$XDG_CONFIG_HOME/gtk-3.0/bookmarks"

# The one window with the dialog's title is the portal backend's.
portal_dialog_shown ()
{
  pid=$(window_pid "$open_title")
  [ -n "$pid" ] && [ "$pid" = "$backend_pid" ] &&
    [ "$(xwininfo -root -tree | grep -c "\"$open_title\": (")" -eq 1 ]
}
if "$python" "$here/atspi-dump.py" --click kiln button 'Open…' >"$tmp/click.log" 2>&1 &&
   wait_for "the portal's OpenFile" called org.freedesktop.portal.FileChooser OpenFile &&
   wait_for "the backend's OpenFile" called org.freedesktop.impl.portal.FileChooser OpenFile &&
   wait_for "the portal's dialog" portal_dialog_shown; then
  ok "with portals, the Open button asks the FileChooser portal, whose own window opens"
else
  not_ok "with portals, the Open button asks the FileChooser portal, whose own window opens" \
    "$(cat "$tmp/click.log")" "bus: $(cat "$tmp/bus.log")" \
    "window of pid $(window_pid "$open_title"), the backend is $backend_pid" \
    "$(cat "$tmp/backend.log" "$tmp/portal.log")"
fi
screenshot portal-file-chooser "$open_title"

# The portal's GTK 3 dialog takes a typed location too. It may not listen to the keyboard
# yet when its window appears, and its location entry completes names as they are typed:
# the location is typed again, and Return pressed again, until the dialog goes.
gone_soon ()
{
  tries=20
  while [ "$tries" -gt 0 ]; do
    window_gone "$open_title" && return 0
    sleep 0.1
    tries=$((tries - 1))
  done
  return 1
}
choose_in_portal ()
{
  focus "$open_title" && keys ctrl+l ctrl+a && xdotool type --delay 10 "$1" || return 1
  for _ in 1 2 3; do
    keys Return
    gone_soon && return 0
  done
  return 1
}
chosen_in_portal ()
{
  window_gone "$open_title" || choose_in_portal "$tmp/scenes/notes.blend"
}
if wait_for "the dialog to take the file" chosen_in_portal &&
   wait_for "the file in the app" not_blend; then
  ok "the file chosen in the portal's dialog reaches the app"
else
  not_ok "the file chosen in the portal's dialog reaches the app" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln-portal.log")"
fi
quit_kiln "the app quits cleanly after using the FileChooser portal" "$tmp/kiln-portal.log"

# Notifications: started without a window, the app has nowhere else to say things.
GDK_DEBUG=portals GTK_USE_PORTAL=1 "$kiln" --background >"$tmp/kiln-portal-bg.log" 2>&1 3>&- &
kiln_pid=$!
if wait_for "the app without a window" action_enabled quit && notify_job_folder &&
   wait_for "the portal's AddNotification" \
     called org.freedesktop.portal.Notification AddNotification &&
   grep -q 'string "Render Not Found"' "$tmp/bus.log" &&
   wait_for "the backend's AddNotification" \
     called org.freedesktop.impl.portal.Notification AddNotification; then
  ok "with portals, a notification goes to the Notification portal and on to its backend"
else
  not_ok "with portals, a notification goes to the Notification portal and on to its backend" \
    "bus: $(cat "$tmp/bus.log")" "$(cat "$tmp/kiln-portal-bg.log" "$tmp/portal.log")"
fi
# xdg-desktop-portal-gtk shows it through the notification server, as GNOME Shell would.
if wait_for "the notification server's Notify" called org.freedesktop.Notifications Notify &&
   wait_for "dunst to show it" shown_by_dunst 1; then
  ok "the portal's backend shows the notification through the notification server"
else
  not_ok "the portal's backend shows the notification through the notification server" \
    "bus: $(cat "$tmp/bus.log")" "$(cat "$tmp/backend.log")"
fi
quit_kiln "the app quits cleanly after using the Notification portal" "$tmp/kiln-portal-bg.log"

# --- without portals: plain GTK and GIO -----------------------------------------------------
mv "$tmp/bus.log" "$tmp/bus-portal.log"
kill "$monitor_pid" 2>/dev/null
wait "$monitor_pid" 2>/dev/null
dbus-monitor --session \
  "type='method_call',interface='org.freedesktop.portal.FileChooser'" \
  "type='method_call',interface='org.freedesktop.portal.Notification'" \
  "type='method_call',interface='org.freedesktop.Notifications'" \
  "type='method_call',interface='org.gtk.Notifications'" \
  >"$tmp/bus.log" 2>"$tmp/monitor.log" &
monitor_pid=$!
wait_for "dbus-monitor" monitoring || bail "dbus-monitor did not start: $(cat "$tmp/monitor.log")"

start_kiln "$tmp/kiln-plain.log"
app_dialog_shown ()
{
  pid=$(window_pid "$open_title")
  [ -n "$pid" ] && [ "$pid" = "$kiln_pid" ]
}
if wait_for "the window" window_shown Kiln && wait_for "the account" account_shown &&
   wait_for "the Render page" render_tab_selected &&
   "$python" "$here/atspi-dump.py" --click kiln button 'Open…' >"$tmp/click.log" 2>&1 &&
   wait_for "the app's dialog" app_dialog_shown &&
   ! called org.freedesktop.portal.FileChooser OpenFile; then
  ok "without portals, the Open button opens GTK's own file chooser and calls no portal"
else
  not_ok "without portals, the Open button opens GTK's own file chooser and calls no portal" \
    "$(cat "$tmp/click.log")" "bus: $(cat "$tmp/bus.log")" \
    "window of pid $(window_pid "$open_title"), the app is $kiln_pid"
fi
screenshot plain-file-chooser "$open_title"
focus "$open_title" && keys Escape
wait_for "the dialog to close" window_gone "$open_title"
quit_kiln "the app quits cleanly after GTK's own file chooser" "$tmp/kiln-plain.log"

"$kiln" --background >"$tmp/kiln-plain-bg.log" 2>&1 3>&- &
kiln_pid=$!
if wait_for "the app without a window" action_enabled quit && notify_job_folder &&
   wait_for "the notification server's Notify" called org.freedesktop.Notifications Notify &&
   grep -q 'string "Render Not Found"' "$tmp/bus.log" && wait_for "dunst" shown_by_dunst 2 &&
   ! called org.freedesktop.portal.Notification AddNotification; then
  ok "without portals, a notification goes straight to the notification server"
else
  not_ok "without portals, a notification goes straight to the notification server" \
    "bus: $(cat "$tmp/bus.log")" "$(cat "$tmp/kiln-plain-bg.log")"
fi
quit_kiln "the app quits cleanly after a notification without portals" "$tmp/kiln-plain-bg.log"

[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
