#!/bin/sh
# test-app-translated.sh KILN APP_ID BUILD_ROOT SOURCE_ROOT SCREENSHOT_DIR LANG...
#
# The real app on a real X server (Xvfb), against the real keyring that with-keyring.sh
# provides, in each LANG in turn (LANGUAGE=LANG, with the translations of BUILD_ROOT/po): the
# welcome screen (on the first start) and every page of the view switcher, each selected the way
# a screen reader does, must show no text that LANG.po translates left in English; what the
# window shows is read from its accessibility tree (tests/po/check-untranslated.py). A font with
# Korean glyphs must be installed for Korean, and every action of the desktop file
# (BUILD_ROOT/data/APP_ID.desktop) must be an action of the app. Screenshots of each page go to
# SCREENSHOT_DIR as LANG-welcome.png and LANG-page-N.png. Prints TAP.
#
# No ko_KR or de_DE locale needs to be generated: GLib and gettext take the language from
# LANGUAGE under the C.UTF-8 locale. KILN_TEST_TIMEOUT (seconds, default 30) bounds every wait.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

if [ $# -lt 6 ]; then
  echo "usage: $0 KILN APP_ID BUILD_ROOT SOURCE_ROOT SCREENSHOT_DIR LANG..." >&2
  exit 2
fi

kiln=$1
app_id=$2
build_root=$3
source_root=$4
shots=$5
shift 5
timeout=${KILN_TEST_TIMEOUT:-30}
here=$source_root/tests/app
po_checks=$source_root/tests/po

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"

find_python
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-translated-test.XXXXXX")

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

desktop_file=$build_root/data/$app_id.desktop
[ -r "$desktop_file" ] || bail "no desktop file at $desktop_file"

# --- the checker itself ------------------------------------------------------------------------
for lang in "$@"; do
  po=$source_root/po/$lang.po
  [ -r "$po" ] || bail "no translation $po"
  [ -r "$build_root/po/$lang/LC_MESSAGES/kiln.mo" ] ||
    bail "no compiled translation in $build_root/po/$lang (build first)"
  if out=$("$python" "$po_checks/check-untranslated.py" --self-test "$po" 2>&1); then
    ok "$lang: the English-text checker tells English from translated text"
  else
    not_ok "$lang: the English-text checker tells English from translated text" "$out"
  fi
done

# --- fonts ---------------------------------------------------------------------------------------
for lang in "$@"; do
  if [ "$lang" = ko ]; then
    if [ -n "$(fc-list :lang=ko family 2>/dev/null)" ]; then
      ok "a font with Korean glyphs is installed: $(fc-match 'sans-serif:lang=ko' family)"
    else
      not_ok "a font with Korean glyphs is installed" \
        "fc-list :lang=ko finds none: install fonts-noto-cjk (build-aux/setup.sh does)"
    fi
  fi
done

# --- the app -------------------------------------------------------------------------------------
export GSETTINGS_SCHEMA_DIR="$build_root/data"
export XDG_DATA_DIRS="$source_root/data:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
export KILN_LOCALEDIR="$build_root/po"
# No devnet: the wallet page shows its (translated) connection error.
export KILN_DEVNET_STATE="$tmp/no-devnet.json"
unset LC_ALL LC_MESSAGES
export LANG=C.UTF-8
start_display 1600x1200
# The app's own node listens on any free port, not on Kiln's usual one, which another node on
# this computer may hold.
gsettings set io.github.kilnapp.Kiln network-listen-port 0 2>/dev/null || true

welcome_shown () { action_enabled new-account && action_disabled export-account; }
account_shown () { action_enabled export-account && action_enabled copy-address; }

# english_in PO: the text of the window that PO translates but the window shows in English.
english_in ()
{
  accessible_tree >"$tmp/tree" 2>&1
  "$python" "$po_checks/check-untranslated.py" "$1" <"$tmp/tree" >"$tmp/english"
}
translated () { english_in "$1"; }

# check_translated LANG WHAT: the window shows WHAT with nothing left in English, waiting for
# text that arrives later (such as a connection error) to settle.
check_translated ()
{
  if wait_for "$2 in $1" translated "$source_root/po/$1.po"; then
    ok "$1: $2 shows no English text"
  else
    not_ok "$1: $2 shows no English text" "$(cat "$tmp/english")"
  fi
}

# tabs: the names of the view switcher's pages, once each, in order.
tabs ()
{
  accessible_tree | sed -n 's/^tab\t//p' | awk '!seen[$0]++'
}
select_tab ()
{
  "$python" "$here/atspi-dump.py" --click kiln tab "$1" >/dev/null 2>&1 &&
    "$python" "$here/atspi-dump.py" --state kiln tab "$1" selected
}

first=yes
for lang in "$@"; do
  export LANGUAGE="$lang"
  log=$tmp/$lang.log
  start_kiln "$log"
  if ! wait_for "the window" window_shown Kiln; then
    not_ok "$lang: the window appears" "$(cat "$log")"
    bail "no window"
  fi

  if [ "$first" = yes ]; then
    if wait_for "the welcome screen" welcome_shown; then
      check_translated "$lang" "the welcome screen"
    else
      not_ok "$lang: the welcome screen appears" "$(cat "$log")"
    fi
    screenshot "$lang-welcome"
    activate new-account
  fi
  wait_for "the account" account_shown || bail "no account: $(cat "$log")"

  if [ "$first" = yes ]; then
    actions=$(sed -n 's/^Actions=//p' "$desktop_file" | tr ';' ' ')
    listed=$(gdbus call --session --timeout 5 --dest "$app_id" --object-path "$object_path" \
               --method org.gtk.Actions.List)
    missing=
    for action in $actions; do
      printf '%s' "$listed" | grep -q "'$action'" || missing="$missing $action"
    done
    if [ -n "$actions" ] && [ -z "$missing" ]; then
      ok "the desktop file's actions are actions of the app: $actions"
    else
      not_ok "the desktop file's actions are actions of the app" \
        "missing from the app:$missing" "the app has: $listed"
    fi
  fi

  page=0
  has_tabs () { tabs >"$tmp/tabs" && [ -s "$tmp/tabs" ]; }
  wait_for "the view switcher" has_tabs ||
    not_ok "$lang: the window has a view switcher" "$(accessible_tree)"
  while IFS= read -r tab; do
    page=$((page + 1))
    if wait_for "the page $tab" select_tab "$tab"; then
      check_translated "$lang" "page $page ($tab)"
      screenshot "$lang-page-$page"
    else
      not_ok "$lang: page $page ($tab) can be selected"
    fi
  done <"$tmp/tabs"

  quit_kiln "$lang: the app quits cleanly, with no warnings" "$log"
  first=no
done

echo "1..$n"
[ "$failed" -eq 0 ]
