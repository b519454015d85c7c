#!/bin/sh
# take-screenshots.sh [BUILDDIR [OUTDIR]]: the screenshots of the metainfo, from the real app.
#
# Runs the app of BUILDDIR (default _build-screenshots, set up without the development profile
# and built first, so that no development stripes show) on Xvfb, against a private keyring and
# session bus (tests/with-keyring.sh) and a local devnet, and saves into OUTDIR (default
# data/screenshots) the pages that data/io.github.kilnapp.Kiln.metainfo.xml.in shows:
#
#   render.png   the Render page with the sample scene open: its settings read by Blender,
#                the most the render can cost against the balance, Submit ready
#   wallet.png   the Wallet page: balances topped up by the devnet, one payment sent
#   send.png     the Send dialog over the window, an amount typed and the network fee shown
#   account.png  the Account page
#   lending.png  the Lending page
#   network.png  the Network page, connected to two kiln-node peers started for it
#
# The account is the well-known private key of the Web3 documentation, so that the address and
# its identicon are the same in every run. KILN_SCREENSHOT_LANGUAGE=ko (or any language in
# po/LINGUAS) takes them in that language instead of English. Each window is captured as the
# app draws it (client-side decorations, no window manager); the pointer is kept off it.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)

# Second stage: inside with-keyring.sh's private session.
if [ "${KILN_SCREENSHOT_STAGE:-}" = inner ]; then
  unset KILN_SCREENSHOT_STAGE
  builddir=$1
  shots=$2
  kiln=$builddir/src/kiln/kiln
  app_id=$(sed -n 's/^#define APP_ID "\(.*\)"$/\1/p' "$builddir/config.h")
  timeout=${KILN_TEST_TIMEOUT:-60}
  here=$srcdir/tests/app
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-screenshots.XXXXXX")
  devnet_pid=

  # shellcheck source=tests/app/app-test-lib.sh
  . "$here/app-test-lib.sh"

  cleanup ()
  {
    if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
      kill "$kiln_pid" 2>/dev/null
      wait "$kiln_pid" 2>/dev/null
    fi
    if [ -s "$tmp/peer-pids" ]; then
      while read -r pid; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
      done <"$tmp/peer-pids"
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

  fail ()
  {
    echo "take-screenshots: $*" >&2
    [ -s "$tmp/kiln.log" ] && sed 's/^/  /' "$tmp/kiln.log" >&2
    exit 1
  }

  find_python
  command -v node >/dev/null 2>&1 || fail "node is missing; build-aux/setup.sh installs it"

  # What the app shows for an English message, in the language of the screenshots.
  shown ()
  {
    TEXTDOMAINDIR="$builddir/po" gettext -d kiln -- "$1" | sed 's/_//'
  }
  title ()
  {
    TEXTDOMAINDIR="$builddir/po" gettext -d kiln -- "$1"
  }

  # --- the devnet ------------------------------------------------------------------------------
  mkdir -m 700 "$tmp/state"
  export KILN_DEVNET_STATE="$tmp/state/devnet.json"
  mkfifo "$tmp/devnet-stdin"
  node "$srcdir/data/devnet/devnet.mjs" --json --state-file "$KILN_DEVNET_STATE" \
    <"$tmp/devnet-stdin" >"$tmp/devnet.json" 2>"$tmp/devnet.log" &
  devnet_pid=$!
  exec 4>"$tmp/devnet-stdin"
  devnet_ready () { [ -s "$KILN_DEVNET_STATE" ]; }
  wait_for "the devnet" devnet_ready || fail "the devnet did not start: $(cat "$tmp/devnet.log")"

  # --- two more nodes, for the Network page --------------------------------------------------
  kiln_node=$builddir/src/kiln-node/kiln-node
  printf 'a password for the screenshots\n' >"$tmp/password"
  peer_ports=
  # Their keys are the first two development accounts of anvil and Hardhat, known to all, so
  # that the same identicons show in every run.
  anvil_key_0=ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
  anvil_key_1=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
  for peer in "provider:$anvil_key_0" "requestor,bootstrap:$anvil_key_1"; do
    key=${peer#*:}
    peer=${peer%%:*}
    dir=$tmp/peer-$(printf '%s' "$peer" | tr -c 'a-z\n' '-')
    printf '%s\n' "$key" | "$kiln_node" identity import --hex-stdin --light --data-dir "$dir" \
      --password-file "$tmp/password" >/dev/null || fail "kiln-node could not import an account"
    "$kiln_node" run --data-dir "$dir" --password-file "$tmp/password" \
      --listen 127.0.0.1:0 --roles "$peer" >"$dir.out" 2>"$dir.err" 3>&- 4>&- &
    echo $! >>"$tmp/peer-pids"
    peer_listening () { grep -q ' running on port [0-9]' "$dir.out"; }
    wait_for "a kiln-node peer" peer_listening || fail "kiln-node did not start: $(cat "$dir.err")"
    port=$(sed -n 's/.* running on port \([0-9]*\),.*/\1/p' "$dir.out")
    peer_ports="$peer_ports${peer_ports:+, }'127.0.0.1:$port'"
  done

  # --- the app ---------------------------------------------------------------------------------
  export GSETTINGS_SCHEMA_DIR="$builddir/data"
  export XDG_DATA_DIRS="$srcdir/data:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
  export KILN_LOCALEDIR="$builddir/po"
  unset LC_ALL LC_MESSAGES
  export LANG=C.UTF-8
  if [ -n "${KILN_SCREENSHOT_LANGUAGE:-}" ]; then
    export LANGUAGE="$KILN_SCREENSHOT_LANGUAGE"
  else
    unset LANGUAGE
  fi
  # Windows open in the top left corner; the pointer goes to the far corner.
  start_display 2200x1500
  # The app's node listens on any free port and joins through the two nodes above.
  schema=io.github.kilnapp.Kiln
  gsettings set "$schema" network-listen-port 0 &&
    gsettings set "$schema" network-bootstrap "[$peer_ports]" ||
    fail "could not point the app at the other nodes"
  # Wide enough for the page names and the network status in full.
  gsettings set "$schema" window-width 1100 && gsettings set "$schema" window-height 680 ||
    fail "could not set the window size"
  xdotool mousemove 2190 1490

  keys () { xdotool key --delay 50 "$@"; }
  type_text () { xdotool type --delay 15 "$1"; }
  no_toast () { ! accessible_tree | grep -q 'AdwToastWidget'; }
  # Toasts time out one after the other; none is left in a screenshot.
  settle () { wait_for "the toasts to go" no_toast || fail "a toast does not go away"; }
  tab_selected () { "$python" "$here/atspi-dump.py" --state kiln tab "$1" selected; }
  show_page ()
  {
    "$python" "$here/atspi-dump.py" --click kiln tab "$1" >/dev/null 2>&1 && tab_selected "$1"
  }
  account_shown () { action_enabled export-account && action_enabled copy-address; }

  start_kiln "$tmp/kiln.log"
  wait_for "the window" window_shown Kiln || fail "no window"
  wait_for "the welcome screen" action_enabled import-account || fail "no welcome screen"

  # The account: the Web3 documentation's key, typed into the Import dialog.
  import_title=$(title "Import Account")
  private_key=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318
  address=0x2c7536E3605D9C16a7a3D7b1898e529396a65c23
  activate import-account && wait_for "the import dialog" window_shown "$import_title" &&
    focus "$import_title" && keys alt+p && type_text "$private_key" &&
    wait_for "the derived address" label_shown "$address" && keys Return &&
    wait_for "the account" account_shown && wait_for "the dialog to close" window_gone \
      "$import_title" || fail "could not import the account"

  # The devnet tops the new account up; one payment goes out.
  wallet=$(shown "_Wallet")
  wait_for "the Wallet page" show_page "$wallet" || fail "no Wallet page"
  wait_for "the balance" label_shown '1,000 GNT' || fail "the devnet did not top up the account"
  wait_for "the toast of the top-up" label_shown "$(shown 'Added test GNT from the local devnet')"
  settle
  send_title=$(title "Send")
  fee_shown () { labels | grep -q "^$(shown 'Network fee: up to %s' | sed 's/%s.*//')"; }
  activate send && wait_for "the Send dialog" window_shown "$send_title" &&
    focus "$send_title" && type_text 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359 && keys Return &&
    type_text 12.5 && wait_for "the fee" fee_shown || fail "the Send dialog did not work"
  # Without a window manager the dialog opens in the corner: centre it over the main window,
  # which is captured with it.
  main_size=$(xwininfo -id "$(window_id Kiln)" | awk '/Width:/ { w = $2 } /Height:/ { h = $2 }
                                                     END { print w, h }')
  dialog_size=$(xwininfo -id "$(window_id "$send_title")" |
                awk '/Width:/ { w = $2 } /Height:/ { h = $2 } END { print w, h }')
  # shellcheck disable=SC2086
  set -- $main_size $dialog_size
  xdotool windowmove "$(window_id "$send_title")" $((($1 - $3) / 2)) $((($2 - $4) / 2))
  screenshot send || fail "no screenshot of the Send dialog"
  pending=$(shown 'Pending')
  confirmed () { label_shown '987.5 GNT' && ! label_shown "$pending"; }
  focus "$send_title" && keys Return && wait_for "the dialog to close" window_gone "$send_title" &&
    wait_for "the payment to be confirmed" confirmed || fail "the payment was not sent"
  settle
  screenshot wallet || fail "no screenshot of the Wallet page"

  account=$(shown "_Account")
  wait_for "the Account page" show_page "$account" || fail "no Account page"
  settle
  screenshot account || fail "no screenshot of the Account page"

  # The Render page, with the sample scene that "Try a Sample Scene" has Blender make.
  render=$(shown "_Render")
  submit=$(shown "_Submit")
  sample_button=$(shown "Try a _Sample Scene")
  submit_ready ()
  {
    "$python" "$here/atspi-dump.py" --state kiln button "$submit" sensitive &&
      label_shown kiln-sample-1.blend
  }
  wait_for "the Render page" show_page "$render" &&
    "$python" "$here/atspi-dump.py" --click kiln button "$sample_button" >/dev/null &&
    wait_for "the sample scene, read and priced" submit_ready ||
    fail "the Render page did not open the sample scene: $(labels | tr "\n" "|")"
  # Tall enough for the whole form, from the scene to Submit; back to the usual size after.
  xdotool windowsize --sync "$(window_id Kiln)" 1100 1040
  focus Kiln && keys End
  settle
  screenshot render || fail "no screenshot of the Render page"
  xdotool windowsize --sync "$(window_id Kiln)" 1100 680

  lending=$(shown "_Lending")
  if wait_for "the Lending page" show_page "$lending" && settle; then
    screenshot lending || fail "no screenshot of the Lending page"
  else
    echo "take-screenshots: the app has no $lending page; lending.png is not taken" >&2
  fi
  network=$(shown "_Network")
  connected=$(shown "Connected")
  two_peers () { [ "$(labels | grep -c -x -e "$connected")" -ge 2 ]; }
  if wait_for "the Network page" show_page "$network" && settle; then
    wait_for "two connected peers" two_peers ||
      fail "the app did not connect to the other nodes: $(labels | tr "\n" "|")"
    screenshot network || fail "no screenshot of the Network page"
  else
    echo "take-screenshots: the app has no $network page; network.png is not taken" >&2
  fi

  activate quit
  gone () { ! kill -0 "$kiln_pid" 2>/dev/null; }
  wait_for "the app to quit" gone
  kiln_pid=
  exit 0
fi

# First stage: build what is missing, then run the second stage on a private keyring and bus.
builddir=${1:-_build-screenshots}
shots=${2:-$srcdir/data/screenshots}
case "$builddir" in /*) ;; *) builddir=$(pwd)/$builddir ;; esac
case "$shots" in /*) ;; *) shots=$(pwd)/$shots ;; esac

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" "$srcdir" -Ddevelopment=false || exit 1
fi
meson compile -C "$builddir" kiln kiln-node kiln-gmo gsettings-compile-data >/dev/null || exit 1
if grep -q '^#define DEVELOPMENT_BUILD 1' "$builddir/config.h"; then
  echo "take-screenshots: $builddir is a development build; its screenshots show the" \
       "development stripes" >&2
fi
mkdir -p "$shots"

KILN_SCREENSHOT_STAGE=inner exec "$srcdir/tests/with-keyring.sh" "$0" "$builddir" "$shots"
