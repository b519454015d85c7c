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

# Known keys: the keystore test vector, and the private key of the Web3 documentation.
keystore_password=testpassword
keystore_address=0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b
private_key=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318
private_key_address=0x2c7536E3605D9C16a7a3D7b1898e529396a65c23

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"

planned=18
echo "1..$planned"

find_python
[ -r "$keystore" ] || bail "cannot read the keystore test vector $keystore"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-app-test.XXXXXX")
bus_pid=

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  if [ -n "$bus_pid" ]; then
    kill "$bus_pid" 2>/dev/null
    wait "$bus_pid" 2>/dev/null
  fi
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

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

# --- an X server ---------------------------------------------------------------------------
export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
start_display

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
# The Render page comes first; the Account page is a tab along.
account_tab_selected () { "$python" "$here/atspi-dump.py" --state kiln tab Account selected; }
focus Kiln && xdotool key --delay 50 alt+a && wait_for "the Account page" account_tab_selected
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
