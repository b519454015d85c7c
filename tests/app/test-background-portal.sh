#!/bin/sh
# test-background-portal.sh KILN APP_ID SCHEMA_DIR DATA_DIR SCREENSHOT_DIR
#
# Running in the background and starting at login through the Background portal, as inside
# Flatpak. The real app on a real X server (Xvfb), in a bubblewrap sandbox of its own whose
# /.flatpak-info names it APP_ID, as Flatpak's does; the real xdg-desktop-portal with its
# GNOME backend (xdg-desktop-portal-gnome, which implements the Background portal's backend)
# and its GTK backend (xdg-desktop-portal-gtk, which shows the Access dialog), the real
# permission store and document portal, on the private session bus that with-keyring.sh
# provides, with dbus-monitor watching. GNOME Shell is not there: the portal cannot tell which
# apps have windows (org.gnome.Shell.Introspect), which only its watch over running Flatpak
# instances needs, not RequestBackground.
#
# The portal reads the caller's app ID from /proc/PID/root/.flatpak-info, and its answer from
# the permission store's "background" table: "yes" grants, "no" refuses, "ask" shows the
# Access dialog, answered here over AT-SPI as a screen reader would. The sandbox has its own
# configuration folder (~/.var/app/APP_ID/config), as in Flatpak; the autostart entry is
# the portal's, in the home's ~/.config/autostart.
#
# Shown: Kiln asks at start (running in the background is on by default); the Lending page's
# Start on Login asks with autostart and `kiln --background`, and the entry appears or goes
# with the switch; the Access dialog carries Kiln's reason; a refusal turns both of the
# page's Background switches off, says why in the window, and is not asked again.
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

kiln=$(readlink -f "$1")
app_id=$2
schema_dir=$(readlink -f "$3")
data_dir=$(readlink -f "$4")
shots=$5
timeout=${KILN_TEST_TIMEOUT:-60}
here=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"

planned=14
echo "1..$planned"

for tool in bwrap dbus-monitor xprop; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is missing (build-aux/setup.sh installs it)"
done
find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-background-test.XXXXXX")
monitor_pid=
store_pid=
documents_pid=
gnome_pid=
gtk_pid=
portal_pid=
schema_id=io.github.kilnapp.Kiln

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  for pid in "$portal_pid" "$gtk_pid" "$gnome_pid" "$documents_pid" "$store_pid" \
             "$monitor_pid"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  # The document portal unmounts its file system as it leaves; one left behind would keep
  # the runtime folder from being removed.
  if [ -n "${XDG_RUNTIME_DIR:-}" ] && grep -q " $XDG_RUNTIME_DIR/doc " /proc/self/mounts; then
    fusermount3 -u -z "$XDG_RUNTIME_DIR/doc" 2>/dev/null ||
      fusermount -u -z "$XDG_RUNTIME_DIR/doc" 2>/dev/null
  fi
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP


# --- the permission store --------------------------------------------------------------------
store_call ()
{
  method=$1
  shift
  gdbus call --session --timeout 5 --dest org.freedesktop.impl.portal.PermissionStore \
    --object-path /org/freedesktop/impl/portal/PermissionStore \
    --method "org.freedesktop.impl.portal.PermissionStore.$method" "$@"
}
# allow_background yes|no|ask: what the portal finds for the app in the "background" table,
# as GNOME Settings' Apps page writes it.
allow_background ()
{
  store_call SetPermission background true background "$app_id" "['$1']" >/dev/null
}
background_permission ()
{
  store_call Lookup background background 2>/dev/null |
    sed -n "s/.*'$app_id': \['\([a-z]*\)'\].*/\1/p"
}

# --- what the bus carried ----------------------------------------------------------------------
# messages MEMBER: each message of the monitor's log with that member, on one line.
messages ()
{
  awk -v member="member=$1" '
    /^(method call|method return|signal|error) / {
      if (text != "") print text
      text = ""
      keep = index($0, member) > 0
    }
    keep { gsub(/^[ \t]+/, ""); text = text " " $0 }
    END { if (text != "") print text }' "$tmp/bus.log" | tr -s ' '
}
# count MEMBER: how many such messages the monitor saw.
count () { messages "$1" | wc -l; }
# last MEMBER: the last of them.
last () { messages "$1" | tail -n 1; }
# seen_more MEMBER N: more than N messages with that member were seen.
seen_more () { [ "$(count "$1")" -gt "$2" ]; }
# answer_is RESPONSE BACKGROUND AUTOSTART: the portal's last answer (its Response signal) was
# that, RESPONSE a number or a bracket expression.
answer_is ()
{
  answer="uint32 $1 array \\[ dict entry( string \"background\" variant boolean $2 )"
  last Response | grep -q "$answer dict entry( string \"autostart\" variant boolean $3 ) \\]"
}

# --- the sandbox -------------------------------------------------------------------------------
# The app's folders in the sandbox, as Flatpak sets them.
app_home=$HOME/.var/app/$app_id
mkdir -p "$app_home/config" "$app_home/data" "$app_home/cache" "$app_home/.local/state"
# in_sandbox COMMAND...: runs COMMAND with the app's environment, as `flatpak run` would;
# gsettings here reads and writes the app's own settings.
in_sandbox ()
{
  env XDG_CONFIG_HOME="$app_home/config" XDG_DATA_HOME="$app_home/data" \
    XDG_CACHE_HOME="$app_home/cache" XDG_STATE_HOME="$app_home/.local/state" "$@"
}
setting () { in_sandbox gsettings get "$schema_id" "$1"; }
setting_is () { [ "$(setting "$1")" = "$2" ]; }

# What Flatpak writes at the root of an app's sandbox: the portal reads the ID from it.
cat >"$tmp/flatpak-info" <<EOF
[Application]
name=$app_id
runtime=runtime/org.gnome.Platform/x86_64/50

[Instance]
instance-id=$$
branch=master
arch=x86_64
flatpak-version=1.14.4

[Context]
shared=network;ipc;
sockets=x11;wayland;fallback-x11;
devices=dri;
EOF

# start_sandboxed_kiln LOG: the app in a bubblewrap sandbox of its own, with /.flatpak-info,
# the system read-only, and the test's folders (its home, runtime folder, bus and display
# sockets) and the build shared; its pid (bwrap's) in $kiln_pid.
start_sandboxed_kiln ()
{
  set -- "$1" --ro-bind /usr /usr --ro-bind /etc /etc --ro-bind /sys /sys --proc /proc \
    --dev /dev --bind /tmp /tmp
  for link in bin sbin lib lib32 lib64; do
    if [ -L "/$link" ]; then
      set -- "$@" --symlink "$(readlink "/$link")" "/$link"
    fi
  done
  # Folders outside /tmp that the test uses: its home and runtime folder, the build.
  for dir in "$HOME" "$XDG_RUNTIME_DIR" "${TMPDIR:-/tmp}" "$tmp"; do
    case "$dir" in
      /tmp|/tmp/*) ;;
      *) set -- "$@" --bind "$dir" "$dir" ;;
    esac
  done
  for dir in "$(dirname "$kiln")" "$schema_dir" "$data_dir"; do
    case "$dir" in
      /usr|/usr/*|/tmp|/tmp/*) ;;
      *) set -- "$@" --ro-bind "$dir" "$dir" ;;
    esac
  done
  log=$1
  shift
  in_sandbox bwrap "$@" --ro-bind "$tmp/flatpak-info" /.flatpak-info \
    --unshare-pid --die-with-parent \
    --setenv FLATPAK_ID "$app_id" --setenv container flatpak \
    "$kiln" >"$log" 2>&1 &
  kiln_pid=$!
}

export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
# The portals' home is a desktop session's: its configuration in ~/.config.
export XDG_CONFIG_HOME="$HOME/.config"
mkdir -p "$XDG_CONFIG_HOME"
autostart=$XDG_CONFIG_HOME/autostart/$app_id.desktop
# The app's desktop file where Flatpak exports it, for the portal to name the app; GIO takes
# it only when its program can be found, which Flatpak's `flatpak run` line would be.
mkdir -p "$XDG_DATA_HOME/applications"
sed "s|^Exec=kiln |Exec=$kiln |" "$schema_dir/$app_id.desktop" \
  >"$XDG_DATA_HOME/applications/$app_id.desktop"
start_display 1600x1400
# The portals' GNOME and GTK backends serve the GNOME desktop (UseIn=gnome).
export XDG_CURRENT_DESKTOP=GNOME
# Tall enough to show the whole Lending page in the screenshots.
in_sandbox gsettings set "$schema_id" window-height 1250
in_sandbox gsettings set "$schema_id" network-listen-address 127.0.0.1
in_sandbox gsettings set "$schema_id" network-listen-port 0
# No chain: payments are not what is tested, and a devnet of another test on this machine is
# not this one's to use. Nothing listens on the discard port.
in_sandbox gsettings set "$schema_id" network-preset custom
in_sandbox gsettings set "$schema_id" custom-rpc-url http://127.0.0.1:9
in_sandbox gsettings set "$schema_id" custom-chain-id 1337

dbus-monitor --session \
  "type='method_call',interface='org.freedesktop.portal.Background'" \
  "type='method_call',interface='org.freedesktop.impl.portal.Background',member='EnableAutostart'" \
  "type='method_call',interface='org.freedesktop.impl.portal.Access'" \
  "type='signal',interface='org.freedesktop.portal.Request',member='Response'" \
  >"$tmp/bus.log" 2>"$tmp/monitor.log" &
monitor_pid=$!
monitoring () { [ -s "$tmp/bus.log" ]; }
wait_for "dbus-monitor" monitoring || bail "dbus-monitor did not start: $(cat "$tmp/monitor.log")"

# --- the portals -------------------------------------------------------------------------------
# Started here rather than by D-Bus activation, so that they get the display and what they
# print goes to logs. The GTK backend's dialogs are read over AT-SPI: its bridge stays on.
start_service ()
{
  name=$1
  what=$2
  program=$(service_exec "$name") || bail "$what is missing (build-aux/setup.sh installs it)"
  env -u G_DEBUG -u NO_AT_BRIDGE G_MESSAGES_DEBUG=all "$program" >"$tmp/$what.log" 2>&1 &
  service_pid=$!
  wait_for "$what" name_owned "$name" || bail "$what did not start: $(tail -n 20 "$tmp/$what.log")"
}
start_service org.freedesktop.impl.portal.PermissionStore xdg-permission-store
store_pid=$service_pid
start_service org.freedesktop.portal.Documents xdg-document-portal
documents_pid=$service_pid
start_service org.freedesktop.impl.portal.desktop.gnome xdg-desktop-portal-gnome
gnome_pid=$service_pid
start_service org.freedesktop.impl.portal.desktop.gtk xdg-desktop-portal-gtk
gtk_pid=$service_pid
start_service org.freedesktop.portal.Desktop xdg-desktop-portal
portal_pid=$service_pid

# owner NAME: the unique name that owns NAME on the bus.
owner ()
{
  gdbus call --session --timeout 5 --dest org.freedesktop.DBus \
    --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.GetNameOwner "$1" |
    sed -n "s/^('\(.*\)',)$/\1/p"
}
gnome_name=$(owner org.freedesktop.impl.portal.desktop.gnome)
gtk_name=$(owner org.freedesktop.impl.portal.desktop.gtk)
if gdbus introspect --session --dest org.freedesktop.portal.Desktop \
     --object-path /org/freedesktop/portal/desktop >"$tmp/portal.xml" 2>&1 &&
   grep -q 'interface org.freedesktop.portal.Background ' "$tmp/portal.xml"; then
  ok "xdg-desktop-portal offers the Background portal"
else
  not_ok "xdg-desktop-portal offers the Background portal" "$(cat "$tmp/portal.xml")" \
    "$(grep -i -e background -e access "$tmp/xdg-desktop-portal.log")"
  bail "no Background portal"
fi

# --- the app in its sandbox ------------------------------------------------------------------
allow_background yes
account_shown () { action_enabled export-account; }
lending_tab_selected () { "$python" "$here/atspi-dump.py" --state kiln tab Lending selected; }
show_lending_page () { focus Kiln && keys alt+l && lending_tab_selected; }
# switch_name LABEL: the accessible name of the Lending page's switch with that label (its
# row's title may be part of it).
switch_name ()
{
  accessible_tree | awk -F '\t' -v label="$1" \
    '$1 == "switch" && index($2, label) == 1 { print $2; exit }'
}
# click_switch LABEL: turns that switch over, as a screen reader does.
click_switch ()
{
  "$python" "$here/atspi-dump.py" --click kiln switch "$(switch_name "$1")" >"$tmp/click.log" 2>&1
}
switch_on () { "$python" "$here/atspi-dump.py" --state kiln switch "$(switch_name "$1")" checked; }
switch_off () { [ -n "$(switch_name "$1")" ] && ! switch_on "$1"; }
# Kiln heard the portal's answer to its request (its debug messages are on).
heard () { grep -q "Background portal: response $1, background $2, autostart $3" "$kiln_log"; }

kiln_log=$tmp/kiln.log
G_MESSAGES_DEBUG=Kiln start_sandboxed_kiln "$kiln_log"
if wait_for "the window" window_shown Kiln &&
   wait_for "the welcome screen" action_enabled new-account &&
   activate new-account && wait_for "the account" account_shown &&
   wait_for "the Lending page" show_lending_page; then
  :
else
  bail "the app did not start in its sandbox: $(cat "$kiln_log")"
fi

# Running in the background is on by default: Kiln asks at once, without autostart.
if wait_for "RequestBackground" seen_more RequestBackground 0 &&
   last RequestBackground | grep -q 'string "autostart" variant boolean false' &&
   wait_for "the portal's answer" seen_more Response 0 &&
   answer_is 0 true false &&
   wait_for "Kiln to hear the answer" heard 0 1 0 && [ ! -e "$autostart" ]; then
  ok "at start, Kiln asks the portal to run in the background, and is allowed"
else
  not_ok "at start, Kiln asks the portal to run in the background, and is allowed" \
    "bus: $(messages RequestBackground; messages Response)" "$(cat "$kiln_log")"
fi
# The portal read the app ID from the sandbox's /.flatpak-info, and asked GNOME's backend.
flatpak_run="array \\[ string \"flatpak\" string \"run\" string \"--command=kiln\""
flatpak_run="$flatpak_run string \"$app_id\" string \"--background\" \\]"
if last EnableAutostart |
     grep -q "destination=$gnome_name .* string \"$app_id\" boolean false $flatpak_run"; then
  ok "the portal takes the sandbox for the Flatpak app $app_id, and asks GNOME's backend"
else
  not_ok "the portal takes the sandbox for the Flatpak app $app_id, and asks GNOME's backend" \
    "GNOME's backend: $gnome_name" "bus: $(messages EnableAutostart)"
fi

# --- granted: the permission store says yes ------------------------------------------------
requests=$(count RequestBackground)
responses=$(count Response)
if click_switch 'Start on Login' &&
   wait_for "the setting" setting_is start-on-login true &&
   wait_for "RequestBackground" seen_more RequestBackground "$requests"; then
  request=$(last RequestBackground)
  if printf '%s' "$request" | grep -q 'string "autostart" variant boolean true' &&
     printf '%s' "$request" |
       grep -q 'string "commandline" variant array \[ string "kiln" string "--background" \]' &&
     printf '%s' "$request" | grep -q 'string "dbus-activatable" variant boolean false' &&
     printf '%s' "$request" | grep -q 'string "reason" variant string "[^"]'; then
    ok "Start on Login asks the portal for autostart, with kiln --background and a reason"
  else
    not_ok "Start on Login asks the portal for autostart, with kiln --background" \
      "$request"
  fi
else
  not_ok "Start on Login asks the portal for autostart, with kiln --background" \
    "$(cat "$tmp/click.log")" "$(accessible_tree | grep -B2 -A2 'Login')" \
    "start-on-login: $(setting start-on-login)" \
    "bus: $(messages RequestBackground)"
fi
if wait_for "the portal's answer" seen_more Response "$responses" &&
   answer_is 0 true true &&
   wait_for "Kiln to hear it" heard 0 1 1; then
  ok "the portal grants it (permission store: yes) and Kiln hears the answer"
else
  not_ok "the portal grants it (permission store: yes) and Kiln hears the answer" \
    "bus: $(messages Response)" "$(cat "$kiln_log")"
fi
exec_line () { sed -n 's/^Exec=//p' "$autostart"; }
if wait_for "the autostart entry" test -s "$autostart" &&
   [ "$(exec_line)" = "flatpak run --command=kiln $app_id --background" ] &&
   grep -qx "X-Flatpak=$app_id" "$autostart" &&
   last EnableAutostart | grep -q "string \"$app_id\" boolean true" &&
   [ ! -e "$app_home/config/autostart" ]; then
  ok "the portal's backend writes ~/.config/autostart/$app_id.desktop: $(exec_line)"
else
  not_ok "the portal's backend writes ~/.config/autostart/$app_id.desktop" \
    "$(cat "$autostart" 2>&1)" "bus: $(messages EnableAutostart)" \
    "$(ls -R "$app_home/config")"
fi
screenshot background-portal-allowed

requests=$(count RequestBackground)
no_autostart () { [ ! -e "$autostart" ]; }
if click_switch 'Start on Login' &&
   wait_for "the setting" setting_is start-on-login false &&
   wait_for "RequestBackground" seen_more RequestBackground "$requests" &&
   last RequestBackground | grep -q 'string "autostart" variant boolean false' &&
   wait_for "the autostart entry to go" no_autostart &&
   last EnableAutostart | grep -q "string \"$app_id\" boolean false"; then
  ok "turning Start on Login off asks the portal again, which removes the autostart entry"
else
  not_ok "turning Start on Login off asks the portal again, which removes the autostart entry" \
    "$(cat "$tmp/click.log")" "bus: $(messages RequestBackground; messages EnableAutostart)" \
    "$(ls -l "$autostart" 2>&1)"
fi

# --- asked: the Access dialog, answered over AT-SPI --------------------------------------------
allow_background ask
dialogs=$(count AccessDialog)
responses=$(count Response)
dialog_button () { "$python" "$here/atspi-dump.py" --click xdg-desktop-portal-gtk \
                     'push button' "$1" >"$tmp/dialog.log" 2>&1; }
dialog_says ()
{
  "$python" "$here/atspi-dump.py" xdg-desktop-portal-gtk 2>/dev/null | grep -qxF "label	$1"
}
login_reason='Kiln starts without a window when you log in, to lend this computer while it is idle'
# dialog_window: the shown window of the portal's GTK backend (its dialogs have no title).
dialog_window ()
{
  for id in $(xwininfo -root -tree | awk '/\("xdg-desktop-portal-gtk" / { print $1 }'); do
    if xwininfo -id "$id" | grep -q 'Map State: IsViewable' &&
       [ "$(xprop -id "$id" _NET_WM_PID | sed -n 's/.* = //p')" = "$gtk_pid" ]; then
      echo "$id"
      return 0
    fi
  done
  return 1
}
# screenshot_window NAME ID: saves the window ID.
screenshot_window ()
{
  sleep 0.5
  geometry=$(xwininfo -id "$2" |
             awk '/Absolute upper-left X:/ { x = $4 } /Absolute upper-left Y:/ { y = $4 }
                  /Width:/ { w = $2 } /Height:/ { h = $2 }
                  END { printf "%dx%d+%d+%d", w, h, x, y }')
  import -window root -crop "$geometry" +repage "$shots/$1.png" 2>"$tmp/import.log" ||
    echo "# could not take the screenshot $1.png: $(cat "$tmp/import.log")"
}
if click_switch 'Start on Login' &&
   wait_for "the portal's AccessDialog" seen_more AccessDialog "$dialogs" &&
   last AccessDialog | grep -q "destination=$gtk_name .* string \"$app_id\"" &&
   wait_for "the dialog's question" dialog_says 'Allow Kiln to run in the background?' &&
   dialog_says "$login_reason" && screenshot_window background-portal-dialog "$(dialog_window)" &&
   wait_for "the dialog's Allow button" dialog_button Allow; then
  ok "with the permission on ask, the portal's Access dialog asks, with Kiln's reason"
else
  not_ok "with the permission on ask, the portal's Access dialog asks, with Kiln's reason" \
    "$(cat "$tmp/click.log" "$tmp/dialog.log")" "bus: $(messages AccessDialog)" \
    "$("$python" "$here/atspi-dump.py" xdg-desktop-portal-gtk 2>&1)"
fi
if wait_for "the portal's answer" seen_more Response "$responses" &&
   answer_is 0 true true &&
   wait_for "the autostart entry" test -s "$autostart" && setting_is start-on-login true &&
   [ "$(background_permission)" = ask ]; then
  ok "allowed in the dialog: the autostart entry is written, and the next time it asks again"
else
  not_ok "allowed in the dialog: the autostart entry is written" "bus: $(messages Response)" \
    "permission: $(background_permission)" "$(cat "$kiln_log")"
fi
allow_background yes
dialogs=$(count AccessDialog)
if click_switch 'Start on Login' && wait_for "the setting" setting_is start-on-login false &&
   wait_for "the autostart entry to go" no_autostart && [ "$(count AccessDialog)" = "$dialogs" ]
then
  ok "allowed in Settings again, turning it off removes the entry without a dialog"
else
  not_ok "allowed in Settings again, turning it off removes the entry without a dialog" \
    "bus: $(messages AccessDialog)" "$(ls -l "$autostart" 2>&1)"
fi

# --- refused: the permission store says no -----------------------------------------------------
allow_background no
dialogs=$(count AccessDialog)
requests=$(count RequestBackground)
# The one request that turning the switch on makes, and no more.
refused_requests=$((requests + 1))
responses=$(count Response)
refusal='Kiln may not start on login or run in the background: allow it in Settings → Apps, '
refusal="${refusal}then turn it on again"
if click_switch 'Start on Login' &&
   wait_for "RequestBackground" seen_more RequestBackground "$requests" &&
   wait_for "the portal's answer" seen_more Response "$responses" &&
   answer_is '[12]' false false &&
   [ "$(count AccessDialog)" = "$dialogs" ]; then
  ok "with the permission on no, the portal refuses, without a dialog"
else
  not_ok "with the permission on no, the portal refuses, without a dialog" \
    "bus: $(messages RequestBackground; messages Response)"
fi
if wait_for "the message" label_shown "$refusal" && screenshot background-portal-refused &&
   wait_for "the switch to go off" switch_off 'Start on Login' &&
   switch_off 'Run in the Background' &&
   setting_is start-on-login false && setting_is run-in-background false &&
   [ ! -e "$autostart" ] && lending_tab_selected; then
  ok "the Lending page says so, and its switches go back off"
else
  not_ok "the Lending page says so, and its switches go back off" \
    "labels: $(labels | tr '\n' '|')" "start-on-login: $(setting start-on-login)" \
    "run-in-background: $(setting run-in-background)" "$(cat "$kiln_log")"
fi

# Refused, Kiln asks nothing more: the refusal turned both settings off at once.
gone () { ! kill -0 "$kiln_pid" 2>/dev/null; }
if focus Kiln && keys ctrl+w && wait_for "the app to quit" gone; then
  wait "$kiln_pid"
  status=$?
  if [ "$status" -eq 0 ] && ! warnings_in "$kiln_log" >/dev/null &&
     [ "$(count RequestBackground)" = "$refused_requests" ]; then
    ok "after the refusal Kiln asks nothing more, and quits cleanly with no warnings"
  else
    not_ok "after the refusal Kiln asks nothing more, and quits cleanly with no warnings" \
      "exit status $status" \
      "bus: $(messages RequestBackground)" "$(cat "$kiln_log")"
  fi
else
  not_ok "after the refusal Kiln asks nothing more, and quits cleanly with no warnings" \
    "the app kept running"
fi
kiln_pid=

if ! warnings_in "$tmp/xdg-desktop-portal.log" | grep -v -e RealtimeKit -e PipeWire \
     -e 'Failed to get application states' >/dev/null; then
  ok "the portal logged no warnings about Kiln's requests"
else
  not_ok "the portal logged no warnings about Kiln's requests" \
    "$(warnings_in "$tmp/xdg-desktop-portal.log")"
fi

echo "# screenshots: $shots/background-portal-allowed.png, background-portal-dialog.png," \
  "background-portal-refused.png"
[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
