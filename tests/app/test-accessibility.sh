#!/bin/sh
# test-accessibility.sh KILN APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR
#
# Every screen of the real app, read by a screen reader and used with the keyboard alone:
# the real app on a real X server (Xvfb), with the real keyring that with-keyring.sh
# provides, a real devnet (anvil with the GNT test token) so that the Wallet page and the
# Send dialog have something to show, and real Blender in the bubblewrap sandbox for the
# Render page's form. For the welcome screen, each page (Render, before and after a scene is
# opened, Account, Wallet, Lending, Network) and each dialog they open (Preferences, Import
# Account, Export Keystore File, Send, Connect to a Node, the keyboard shortcuts),
# atspi-audit.py presses Tab round the whole window, reading over AT-SPI where the focus
# goes, and checks that every control shown is reached, and that every control shown and
# every stop of the focus has a proper accessible name. (The About window is libadwaita's
# own.) Prints TAP; screenshots go to SCREENSHOT_DIR.
#
# KILN_TEST_TIMEOUT (seconds, default 60) bounds every wait.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

if [ $# -ne 6 ]; then
  echo "usage: $0 KILN APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR" >&2
  exit 2
fi

kiln=$1
app_id=$2
schema_dir=$3
data_dir=$4
source_root=$5
shots=$6
timeout=${KILN_TEST_TIMEOUT:-60}
here=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"

planned=26
echo "1..$planned"

for tool in node blender bwrap; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is missing (build-aux/setup.sh installs it)"
done
[ -d "$source_root/node_modules/ethers" ] ||
  bail "the devnet's npm packages are missing: run build-aux/setup-npm.sh"
find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-accessibility-test.XXXXXX")
devnet_pid=

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  exec 4>&-
  if [ -n "$devnet_pid" ]; then
    kill "$devnet_pid" 2>/dev/null
    wait "$devnet_pid" 2>/dev/null
  fi
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

no_toast () { ! accessible_tree | grep -q 'AdwToastWidget'; }
# Toasts time out one after the other; none is left to be read as part of a screen.
settle () { wait_for "the toasts to go" no_toast; }
tab_selected () { "$python" "$here/atspi-dump.py" --state kiln tab "$1" selected; }
show_page ()
{
  "$python" "$here/atspi-dump.py" --click kiln tab "$1" >/dev/null 2>&1 && tab_selected "$1"
}

# audit WHAT WINDOW: the two checks of what WINDOW shows: Tab, then names (atspi-audit.py
# exits with 1 when the names fail, 2 when the keyboard does, 3 when both do).
audit ()
{
  focus "$2"
  "$python" "$here/atspi-audit.py" kiln "$2" >"$tmp/audit.log" 2>&1
  status=$?
  if [ "$status" -eq 0 ] || [ "$status" -eq 1 ]; then
    ok "$1: Tab reaches every control"
    tail -n 1 "$tmp/audit.log"
  else
    not_ok "$1: Tab reaches every control" "$(cat "$tmp/audit.log")"
  fi
  if [ "$status" -eq 0 ] || [ "$status" -eq 2 ]; then
    ok "$1: every control has an accessible name"
  else
    not_ok "$1: every control has an accessible name" "$(cat "$tmp/audit.log")"
  fi
}

# audit_dialog WHAT TITLE OPEN...: opens a dialog with the command OPEN..., audits it, and
# closes it with Escape.
audit_dialog ()
{
  dialog=$1
  dialog_title=$2
  shift 2
  if "$@" && wait_for "$dialog" window_shown "$dialog_title"; then
    audit "$dialog" "$dialog_title"
    screenshot "accessibility-$(printf '%s' "$dialog" | sed 's/^the //' | tr 'A-Z ' 'a-z-')" \
      "$dialog_title"
    close_with_escape "$dialog_title" || bail "$dialog does not close with Escape"
  else
    not_ok "$dialog: Tab reaches every control" "$dialog did not open" \
      "$(xwininfo -root -tree | grep '"')"
    not_ok "$dialog: every control has an accessible name" "$dialog did not open"
  fi
}
# window_viewable TITLE: a window with that title is shown (not only made, or hidden).
window_viewable ()
{
  id=$(window_id "$1")
  [ -n "$id" ] && xwininfo -id "$id" | grep -q 'Map State: IsViewable'
}

# close_with_escape TITLE: Escape closes the window (a first Escape may only end a search).
close_with_escape ()
{
  for _ in 1 2 3; do
    focus "$1" && keys Escape
    closed_soon () { window_gone "$1"; }
    saved_timeout=$timeout
    timeout=3
    wait_for "the window to close" closed_soon "$1"
    status=$?
    timeout=$saved_timeout
    [ "$status" -eq 0 ] && return 0
  done
  return 1
}

start_devnet "$source_root"
export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
start_display 1600x1400
# Tall enough that every page shows all it has without scrolling.
gsettings set io.github.kilnapp.Kiln window-width 1200
gsettings set io.github.kilnapp.Kiln window-height 1340

# --- the welcome screen ----------------------------------------------------------------------
start_kiln "$tmp/kiln.log"
if ! wait_for "the window" window_shown Kiln ||
   ! wait_for "the welcome screen" action_enabled new-account; then
  bail "the app did not start: $(cat "$tmp/kiln.log")"
fi
audit "the welcome screen" Kiln

# --- the pages ---------------------------------------------------------------------------------
if ! activate new-account || ! wait_for "the account" action_enabled export-account ||
   ! wait_for "the Render page" tab_selected Render; then
  bail "no account: $(cat "$tmp/kiln.log")"
fi
settle
audit "the Render page" Kiln
screenshot accessibility-render

show_page Account && settle
audit "the Account page" Kiln

wallet_ready () { label_shown '1,000 GNT' && action_enabled send; }
show_page Wallet && wait_for "the balance" wallet_ready && settle
audit "the Wallet page" Kiln
screenshot accessibility-wallet

show_page Lending && settle
audit "the Lending page" Kiln
screenshot accessibility-lending

show_page Network && settle
audit "the Network page" Kiln
screenshot accessibility-network

# --- the dialogs -------------------------------------------------------------------------------
audit_dialog "the Connect to a Node dialog" 'Connect to a Node' \
  "$python" "$here/atspi-dump.py" --click kiln button 'Connect to a Node…'
audit_dialog "the Preferences window" Preferences activate preferences
audit_dialog "the Import Account dialog" 'Import Account' activate import-account
audit_dialog "the Send dialog" Send activate send
# The shortcuts window is GTK's own composite widget: its search button, which GTK 4.8 leaves
# without a name, is not the app's to name; the app's part is what it lists, which
# check-shortcuts.py checks against the app's accelerators.
shortcuts_title='Keyboard Shortcuts'
if focus Kiln && keys ctrl+question &&
   wait_for "the shortcuts window" window_shown "$shortcuts_title"; then
  focus "$shortcuts_title"
  if "$python" "$here/atspi-audit.py" --keyboard-only kiln "$shortcuts_title" \
       >"$tmp/audit.log" 2>&1; then
    ok "the keyboard shortcuts window: Tab moves through it"
  else
    not_ok "the keyboard shortcuts window: Tab moves through it" "$(cat "$tmp/audit.log")"
  fi
  screenshot accessibility-shortcuts "$shortcuts_title"
  # The window stays, hidden, for the next Ctrl+?.
  shortcuts_hidden () { ! window_viewable "$shortcuts_title"; }
  if ! focus "$shortcuts_title" || ! keys Escape ||
     ! wait_for "the shortcuts window to close" shortcuts_hidden; then
    bail "the shortcuts window does not close with Escape"
  fi
else
  not_ok "the keyboard shortcuts window: Tab moves through it" "Ctrl+? did not open it"
fi
# Exporting asks where to save first, in GTK's file chooser (the portal's inside Flatpak);
# the dialog that asks for the password comes next, under the same title.
export_title='Export Keystore File'
export_dialog_shown () { window_shown "$export_title" && label_shown 'Protect the Keystore File'; }
open_export ()
{
  activate export-account && wait_for "the file chooser" window_shown "$export_title" &&
    focus "$export_title" && keys Return && wait_for "the export dialog" export_dialog_shown
}
audit_dialog "the Export Keystore File dialog" "$export_title" open_export

# --- the Render page with a scene ------------------------------------------------------------
form_shown () { label_shown kiln-sample-1.blend && label_shown Submit; }
if show_page Render &&
   "$python" "$here/atspi-dump.py" --click kiln button 'Try a Sample Scene' >/dev/null 2>&1 &&
   wait_for "the sample scene's form" form_shown && settle; then
  audit "the Render page with a scene" Kiln
  screenshot accessibility-render-form
else
  not_ok "the Render page with a scene: Tab reaches every control" \
    "the sample scene did not open: $(cat "$tmp/kiln.log")"
  not_ok "the Render page with a scene: every control has an accessible name" \
    "the sample scene did not open"
fi

quit_kiln "the app quits cleanly after all of it" "$tmp/kiln.log"

[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
