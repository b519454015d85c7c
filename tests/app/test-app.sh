#!/bin/sh
# test-app.sh KILN APP_ID SCHEMA_DIR DATA_DIR KEYSTORE SCREENSHOT_DIR
#
# Drives the real app on a real X server (Xvfb) against the real keyring that with-keyring.sh
# provides, the way a person would: first run, creating an account (the app's own
# "new-account" action, over D-Bus), importing a keystore file and a private key with the
# keyboard, the account read back on the next start, a second instance, and the keyring-error
# screen on a session bus without a Secret Service. What the window shows is read from its
# accessibility tree. Prints TAP; screenshots of each screen go to SCREENSHOT_DIR.
#
# KEYSTORE is the Web3 Secret Storage pbkdf2 test vector (password "testpassword").
# KILN_TEST_TIMEOUT (seconds, default 30) bounds every wait.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

if [ $# -ne 6 ]; then
  echo "usage: $0 KILN APP_ID SCHEMA_DIR DATA_DIR KEYSTORE SCREENSHOT_DIR" >&2
  exit 2
fi

kiln=$1
app_id=$2
schema_dir=$3
data_dir=$4
keystore=$5
shots=$6
timeout=${KILN_TEST_TIMEOUT:-30}
here=$(cd "$(dirname "$0")" && pwd)
schema_id=io.github.kilnapp.Kiln
object_path=/$(printf '%s' "$app_id" | tr '.-' '/_')

# Known keys: the keystore test vector, and the private key of the Web3 documentation.
keystore_password=testpassword
keystore_address=0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b
private_key=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318
private_key_address=0x2c7536E3605D9C16a7a3D7b1898e529396a65c23

planned=18
echo "1..$planned"

n=0
failed=0
ok ()
{
  n=$((n + 1))
  echo "ok $n - $1"
}
not_ok ()
{
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - $1"
  shift
  for text in "$@"; do
    printf '%s\n' "$text" | sed 's/^/# /'
  done
}
bail ()
{
  echo "Bail out! $*"
  exit 1
}

for tool in Xvfb xwininfo xdotool import gdbus gsettings dbus-daemon; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is missing (build-aux/setup.sh installs it)"
done
python=
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'from gi.repository import Gio' 2>/dev/null; then
    python=$candidate
    break
  fi
done
[ -n "$python" ] || bail "no python3 with PyGObject (python3-gi) to read the accessibility tree"
[ -r "$keystore" ] || bail "cannot read the keystore test vector $keystore"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-app-test.XXXXXX")
xvfb_pid=
kiln_pid=
a11y_pid=
bus_pid=

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  for pid in $bus_pid $a11y_pid; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# wait_for DESCRIPTION COMMAND...: polls COMMAND until it succeeds or the timeout passes.
wait_for ()
{
  what=$1
  shift
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "# timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.1
  done
}

# --- without a display ------------------------------------------------------------------
# with-keyring.sh has cleared DISPLAY and WAYLAND_DISPLAY.
if out=$(env -u DISPLAY -u WAYLAND_DISPLAY "$kiln" --help 2>&1) &&
   printf '%s\n' "$out" | grep -q -e '--version'; then
  ok "kiln --help works without a display"
else
  not_ok "kiln --help works without a display" "$out"
fi

if out=$(env -u DISPLAY -u WAYLAND_DISPLAY "$kiln" --version 2>&1) &&
   printf '%s\n' "$out" | grep -q '^kiln [0-9]'; then
  ok "kiln --version prints the version"
else
  not_ok "kiln --version prints the version" "$out"
fi

# --- an X server --------------------------------------------------------------------------
Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp 3>"$tmp/display" 2>"$tmp/xvfb.log" &
xvfb_pid=$!
display_ready () { [ -s "$tmp/display" ]; }
wait_for "Xvfb to start" display_ready || bail "Xvfb did not start: $(cat "$tmp/xvfb.log")"
DISPLAY=:$(cat "$tmp/display")
export DISPLAY

export GSETTINGS_SCHEMA_DIR="$schema_dir"
export GSETTINGS_BACKEND=keyfile
export GDK_BACKEND=x11
export GSK_RENDERER=cairo
export NO_AT_BRIDGE=1
export G_DEBUG=fatal-warnings
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
unset GTK_A11Y
mkdir -p "$shots"

# The accessibility bus, started here rather than by D-Bus activation so that what its daemons
# print goes to a log instead of into this script's TAP output.
launcher=
for dir in $(printf '%s' "$XDG_DATA_DIRS" | tr ':' ' '); do
  if [ -r "$dir/dbus-1/services/org.a11y.Bus.service" ]; then
    launcher=$(sed -n 's/^Exec=//p' "$dir/dbus-1/services/org.a11y.Bus.service")
    break
  fi
done
[ -n "$launcher" ] || bail "no org.a11y.Bus service (install at-spi2-core)"
$launcher >"$tmp/a11y.log" 2>&1 &
a11y_pid=$!
a11y_ready ()
{
  gdbus call --session --timeout 5 --dest org.freedesktop.DBus \
    --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner org.a11y.Bus |
    grep -q true
}
wait_for "the accessibility bus" a11y_ready || bail "the accessibility bus did not start"

start_kiln ()
{
  "$kiln" >"$1" 2>&1 &
  kiln_pid=$!
}

# window_id TITLE: the X window of the app's toplevel with that title.
window_id ()
{
  xwininfo -root -tree 2>/dev/null |
    awk -v title="\"$1\": (" 'index($0, title) { print $1; exit }'
}
window_shown () { [ -n "$(window_id "$1")" ]; }
window_gone () { [ -z "$(window_id "$1")" ]; }

# focus TITLE: gives the keyboard to that window (there is no window manager to do it).
focus ()
{
  id=$(window_id "$1")
  [ -n "$id" ] && xdotool windowfocus "$id"
}

# action_enabled NAME: the app's action NAME exists and is enabled (org.gtk.Actions).
action_enabled ()
{
  gdbus call --session --timeout 5 --dest "$app_id" --object-path "$object_path" \
    --method org.gtk.Actions.Describe "$1" 2>/dev/null | grep -q '^((true,'
}
action_disabled ()
{
  gdbus call --session --timeout 5 --dest "$app_id" --object-path "$object_path" \
    --method org.gtk.Actions.Describe "$1" 2>/dev/null | grep -q '^((false,'
}
activate ()
{
  gdbus call --session --timeout 10 --dest "$app_id" --object-path "$object_path" \
    --method org.gtk.Actions.Activate "$1" '[]' '{}' >/dev/null
}

# screenshot NAME [TITLE]: saves the window with that title (the main window by default).
screenshot ()
{
  # Let the crossfade between pages and any toast animation settle first.
  sleep 0.5
  id=$(window_id "${2:-Kiln}")
  # Without a window id, import would wait for someone to click on a window.
  if [ -z "$id" ] || ! import -window "$id" "$shots/$1.png" 2>"$tmp/import.log"; then
    echo "# could not take the screenshot $1.png $(cat "$tmp/import.log")"
  fi
}

# The welcome screen: the keyring was read (new-account is enabled) and there is no account
# (export-account is disabled).
welcome_shown () { action_enabled new-account && action_disabled export-account; }
account_shown () { action_enabled export-account && action_enabled copy-address; }

# The "address" attribute of every node key in the keyring, read without unlocking a secret.
keyring_addresses ()
{
  items=$(gdbus call --session --timeout 5 --dest org.freedesktop.secrets \
            --object-path /org/freedesktop/secrets \
            --method org.freedesktop.Secret.Service.SearchItems "{'kind': 'node-key'}" |
          grep -o "'/org/freedesktop/secrets/[^']*'" | tr -d "'")
  for item in $items; do
    gdbus call --session --timeout 5 --dest org.freedesktop.secrets --object-path "$item" \
      --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Item Attributes |
      grep -o "'address': '[^']*'" | cut -d "'" -f 4
  done
}
in_keyring () { keyring_addresses | grep -qx -e "$1"; }
setting_account ()
{
  gsettings get "$schema_id" account | tr -d "'"
}
account_is () { [ "$(setting_account)" = "$1" ]; }
# The text of every label in the app, from its accessibility tree.
labels ()
{
  "$python" "$here/atspi-dump.py" kiln 2>&1 | sed -n 's/^label\t//p'
}
label_shown () { labels | grep -qx -e "$1"; }

# warnings_in LOG: what GLib, GTK or the app logged at warning level or worse, and what a
# sanitizer found in a sanitized build.
warnings_in ()
{
  grep -E '(WARNING|CRITICAL|ERROR) \*\*|runtime error:|ERROR: AddressSanitizer' "$1"
}

# quit_kiln DESCRIPTION LOG: asks the running app to quit and reports how it ended.
quit_kiln ()
{
  activate quit
  gone () { ! kill -0 "$kiln_pid" 2>/dev/null; }
  if ! wait_for "the app to quit" gone; then
    kill "$kiln_pid" 2>/dev/null
    not_ok "$1" "the app did not quit"
  else
    wait "$kiln_pid"
    status=$?
    if [ "$status" -eq 0 ] && ! warnings_in "$2" >/dev/null; then
      ok "$1"
    else
      not_ok "$1" "exit status $status" "$(cat "$2")"
    fi
  fi
  kiln_pid=
}

# confirm_replace: answers the "Replace the Current Account?" question with its default.
confirm_replace ()
{
  wait_for "the confirmation" window_shown "Replace the Current Account?" &&
    focus "Replace the Current Account?" && xdotool key --delay 50 Return
}

# --- first run ------------------------------------------------------------------------------
start_kiln "$tmp/first.log"
if wait_for "the window" window_shown Kiln; then
  ok "the window appears"
else
  not_ok "the window appears" "$(cat "$tmp/first.log")"
  bail "no window"
fi

if wait_for "the welcome screen" welcome_shown && label_shown 'Welcome to Kiln' &&
   [ -z "$(keyring_addresses)" ] && [ -z "$(setting_account)" ]; then
  ok "first run shows the welcome screen"
else
  not_ok "first run shows the welcome screen" "keyring: $(keyring_addresses)"
fi
screenshot welcome

if activate new-account && wait_for "the account screen" account_shown; then
  ok "app.new-account creates an account and shows it"
else
  not_ok "app.new-account creates an account and shows it" "$(cat "$tmp/first.log")"
fi

stored=$(keyring_addresses)
if [ "$(printf '%s\n' "$stored" | grep -c '^0x[0-9a-fA-F]\{40\}$')" -eq 1 ]; then
  ok "one node key is in the keyring"
else
  not_ok "one node key is in the keyring" "found: $stored"
fi

account=$(setting_account)
if [ -n "$stored" ] && [ "$account" = "$stored" ]; then
  ok "the account setting names the key in the keyring"
else
  not_ok "the account setting names the key in the keyring" \
    "setting: $account" "keyring: $stored"
fi

if [ -n "$stored" ] && label_shown "$stored"; then
  ok "the window shows the key's address"
else
  not_ok "the window shows the key's address" "keyring: $stored" \
    "labels: $(labels | grep '^0x' | tr '\n' ' ')"
fi
screenshot account

# A second start hands over to the running instance and leaves.
if env timeout "$timeout" "$kiln" >"$tmp/second.log" 2>&1 && kill -0 "$kiln_pid" 2>/dev/null &&
   [ "$(xwininfo -root -tree | grep -c '"Kiln": (')" -eq 1 ]; then
  ok "a second start presents the running app"
else
  not_ok "a second start presents the running app" "$(cat "$tmp/second.log")"
fi

# --- import a keystore file, with the keyboard ----------------------------------------------
# The dialog opens with "Choose…" focused; the file chooser takes a typed location.
wrong_password=
if activate import-account && wait_for "the import dialog" window_shown "Import Account" &&
   focus "Import Account" && xdotool key --delay 50 Return &&
   wait_for "the file chooser" window_shown "Choose a Keystore File" &&
   focus "Choose a Keystore File" && xdotool key --delay 50 ctrl+l &&
   xdotool type --delay 10 "$keystore" && xdotool key --delay 50 Return &&
   wait_for "the file chooser to close" window_gone "Choose a Keystore File" &&
   focus "Import Account" && xdotool type --delay 10 "not-the-password" &&
   xdotool key --delay 50 Return &&
   wait_for "the wrong password to be reported" label_shown \
     'Wrong password, or the file is damaged' &&
   account_is "$stored"; then
  wrong_password=yes
  ok "a wrong keystore password is reported in the dialog"
else
  not_ok "a wrong keystore password is reported in the dialog" "$(cat "$tmp/first.log")"
fi
screenshot import-wrong-password "Import Account"

if [ -n "$wrong_password" ] && focus "Import Account" &&
   xdotool key --delay 50 ctrl+a BackSpace && xdotool type --delay 10 "$keystore_password" &&
   xdotool key --delay 50 Return && confirm_replace &&
   wait_for "the imported account" account_is "$keystore_address" &&
   wait_for "the dialog to close" window_gone "Import Account" &&
   in_keyring "$keystore_address" && in_keyring "$stored" &&
   wait_for "the new address on screen" label_shown "$keystore_address"; then
  ok "importing the keystore file replaces the account and keeps the old key"
else
  not_ok "importing the keystore file replaces the account and keeps the old key" \
    "setting: $(setting_account)" "keyring: $(keyring_addresses | tr '\n' ' ')"
fi

# --- import a private key, with the keyboard ------------------------------------------------
if activate import-account && wait_for "the import dialog" window_shown "Import Account" &&
   focus "Import Account" && xdotool key --delay 50 alt+p &&
   xdotool type --delay 10 "$private_key" &&
   wait_for "the derived address" label_shown "$private_key_address"; then
  screenshot import-private-key "Import Account"
  if xdotool key --delay 50 Return && confirm_replace &&
     wait_for "the imported account" account_is "$private_key_address" &&
     wait_for "the dialog to close" window_gone "Import Account" &&
     in_keyring "$private_key_address" &&
     [ "$(keyring_addresses | wc -l)" -eq 3 ] &&
     wait_for "the new address on screen" label_shown "$private_key_address"; then
    ok "importing a private key uses it and saves it in the keyring"
  else
    not_ok "importing a private key uses it and saves it in the keyring" \
      "setting: $(setting_account)" "keyring: $(keyring_addresses | tr '\n' ' ')"
  fi
else
  not_ok "importing a private key uses it and saves it in the keyring" \
    "the dialog did not accept the key"
fi

# A size that the next start must bring back.
xdotool windowsize "$(window_id Kiln)" 800 600
window_size ()
{
  xwininfo -id "$(window_id Kiln)" |
    awk '/Width:/ { w = $2 } /Height:/ { h = $2 } END { print w "x" h }'
}
size_is () { [ "$(window_size)" = "$1" ]; }
setting_is () { [ "$(gsettings get "$schema_id" "$1")" = "$2" ]; }
wait_for "the window to be resized" size_is 800x600 &&
  wait_for "the new size to be saved" setting_is window-width 800 &&
  wait_for "the new size to be saved" setting_is window-height 600

quit_kiln "app.quit ends the app cleanly, with no warnings" "$tmp/first.log"

# --- next start -----------------------------------------------------------------------------
start_kiln "$tmp/next.log"
if wait_for "the window" window_shown Kiln && wait_for "the account screen" account_shown &&
   account_is "$private_key_address" && label_shown "$private_key_address"; then
  ok "the next start reads the same account from the keyring"
else
  not_ok "the next start reads the same account from the keyring" "$(cat "$tmp/next.log")"
fi
if size_is 800x600 && setting_is window-width 800 && setting_is window-height 600; then
  ok "the window comes back at the size it was left"
else
  not_ok "the window comes back at the size it was left" "size: $(window_size)"
fi
quit_kiln "the app quits cleanly after the next start" "$tmp/next.log"

# --- no keyring service ---------------------------------------------------------------------
# A bare session bus that can start nothing: no Secret Service, no accessibility bus.
cat >"$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF

dbus-daemon --config-file="$tmp/bus.conf" --nofork --print-address=3 \
  3>"$tmp/bus-address" 2>"$tmp/bus.log" &
bus_pid=$!
bus_ready () { [ -s "$tmp/bus-address" ]; }
wait_for "a bare session bus" bus_ready || bail "dbus-daemon did not start: $(cat "$tmp/bus.log")"
keyring_bus=$DBUS_SESSION_BUS_ADDRESS
DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$tmp/bus-address")
export DBUS_SESSION_BUS_ADDRESS
# Without an accessibility bus either, GTK must be told not to look for one.
export GTK_A11Y=none

# The keyring-error screen: import is offered, creating an account is not (nothing could
# hold the new key), and there is no account to export.
keyring_error_shown ()
{
  action_enabled import-account && action_disabled new-account && action_disabled export-account
}

start_kiln "$tmp/no-keyring.log"
if wait_for "the window" window_shown Kiln &&
   wait_for "the keyring-error screen" keyring_error_shown; then
  ok "without a keyring service the app says so and offers an import"
else
  not_ok "without a keyring service the app says so and offers an import" \
    "$(cat "$tmp/no-keyring.log")"
fi
screenshot keyring-error
quit_kiln "the app quits cleanly without a keyring service" "$tmp/no-keyring.log"

DBUS_SESSION_BUS_ADDRESS=$keyring_bus
unset GTK_A11Y
kill "$bus_pid" 2>/dev/null
wait "$bus_pid" 2>/dev/null
bus_pid=

[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
