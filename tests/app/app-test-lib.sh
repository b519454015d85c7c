# app-test-lib.sh: what the app's end-to-end tests share, sourced by them.
#
# The sourcing script sets, before calling anything here:
#   kiln      the app                          app_id   its application ID
#   tmp       a private temporary directory    shots    where screenshots go
#   timeout   seconds any wait may take        here     the folder of this file
# then calls find_python (which sets $python to a python3 with PyGObject) and
# start_display [WIDTHxHEIGHT], which starts Xvfb (1280x900 by default) and an
# accessibility bus and exports what the app needs to use them. The pointer rests in the
# middle of the screen, where Xvfb puts it. stop_display ends them; the script's cleanup
# calls it.
#
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=sh disable=SC2154

object_path=/$(printf '%s' "$app_id" | tr '.-' '/_')
n=0
failed=0
xvfb_pid=
a11y_pid=
kiln_pid=

# --- the session bus and the keyboard --------------------------------------------------------
# name_owned NAME: someone owns NAME on the session bus.
name_owned ()
{
  gdbus call --session --timeout 5 --dest org.freedesktop.DBus \
    --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner "$1" \
    2>/dev/null | grep -q true
}
# service_exec NAME: the program that D-Bus activation would start for the service NAME.
service_exec ()
{
  for dir in $(printf '%s' "$XDG_DATA_DIRS" | tr ':' ' '); do
    if [ -r "$dir/dbus-1/services/$1.service" ]; then
      sed -n 's/^Exec=//p' "$dir/dbus-1/services/$1.service"
      return 0
    fi
  done
  return 1
}
# keys KEY...: types the keys into the focused window, as xdotool names them.
keys () { xdotool key --delay 50 "$@"; }
# type_text TEXT: types TEXT into the focused window.
type_text () { xdotool type --delay 15 "$1"; }

# --- the accessibility tree ------------------------------------------------------------------
# value ROLE NAME: the text of the app's ROLE named NAME (an entry's text, a spin button's
# number); value_is ROLE NAME TEXT: it is TEXT; enabled ROLE NAME: it can be used.
value () { "$python" "$here/atspi-dump.py" --text kiln "$1" "$2"; }
value_is () { [ "$(value "$1" "$2")" = "$3" ]; }
enabled () { "$python" "$here/atspi-dump.py" --state kiln "$1" "$2" sensitive; }

# --- TAP -------------------------------------------------------------------------------------
ok ()
{
  n=$((n + 1))
  echo "ok $n - $1"
}
# not_ok DESCRIPTION [DETAIL...]: each DETAIL is printed as a comment.
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

# find_python: sets $python to a python3 that has PyGObject, or bails out.
find_python ()
{
  python=
  for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c 'from gi.repository import Gio' 2>/dev/null; then
      python=$candidate
      return 0
    fi
  done
  bail "no python3 with PyGObject (python3-gi) to read the accessibility tree"
}

# --- the display and the accessibility bus ---------------------------------------------------
start_display ()
{
  for tool in Xvfb xwininfo xdotool import gdbus gsettings dbus-daemon; do
    command -v "$tool" >/dev/null 2>&1 || bail "$tool is missing (build-aux/setup.sh installs it)"
  done

  Xvfb -displayfd 3 -screen 0 "${1:-1280x900}x24" -nolisten tcp 3>"$tmp/display" \
    2>"$tmp/xvfb.log" &
  xvfb_pid=$!
  display_ready () { [ -s "$tmp/display" ]; }
  wait_for "Xvfb to start" display_ready || bail "Xvfb did not start: $(cat "$tmp/xvfb.log")"
  DISPLAY=:$(cat "$tmp/display")
  export DISPLAY

  export GSETTINGS_BACKEND=keyfile
  export GDK_BACKEND=x11
  export GSK_RENDERER=cairo
  export NO_AT_BRIDGE=1
  export G_DEBUG=fatal-warnings
  unset GTK_A11Y
  mkdir -p "$shots"

  # The accessibility bus, started here rather than by D-Bus activation so that what its
  # daemons print goes to a log instead of into the TAP output.
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
      --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner \
      org.a11y.Bus | grep -q true
  }
  wait_for "the accessibility bus" a11y_ready || bail "the accessibility bus did not start"
}

stop_display ()
{
  if [ -n "$a11y_pid" ]; then
    kill "$a11y_pid" 2>/dev/null
    wait "$a11y_pid" 2>/dev/null
    a11y_pid=
  fi
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
    xvfb_pid=
  fi
}

# --- the devnet ------------------------------------------------------------------------------
# start_devnet SOURCE_ROOT: starts the repository's devnet (anvil with the GNT test token) in
# the background, its pid in $devnet_pid, holding its standard input open on descriptor 4
# (closing it stops the devnet), and exports KILN_DEVNET_STATE for the app. The script's
# cleanup closes descriptor 4 and waits for $devnet_pid.
start_devnet ()
{
  mkdir -m 700 "$tmp/state"
  mkfifo "$tmp/devnet-stdin"
  node "$1/data/devnet/devnet.mjs" --json --state-file "$tmp/state/devnet.json" \
    <"$tmp/devnet-stdin" >"$tmp/devnet.json" 2>"$tmp/devnet.log" &
  devnet_pid=$!
  exec 4>"$tmp/devnet-stdin"
  devnet_ready () { [ -s "$tmp/devnet.json" ] && [ -s "$tmp/state/devnet.json" ]; }
  wait_for "the devnet" devnet_ready || bail "no devnet: $(cat "$tmp/devnet.log")"
  export KILN_DEVNET_STATE="$tmp/state/devnet.json"
}

# --- the app ---------------------------------------------------------------------------------
# kiln_on_loopback: the app's node listens on 127.0.0.1 only, on a port the system picks, unless
# the test chose otherwise (GSETTINGS_SCHEMA_DIR must be set).
kiln_on_loopback ()
{
  if [ "$(gsettings get io.github.kilnapp.Kiln network-listen-address)" = "''" ]; then
    gsettings set io.github.kilnapp.Kiln network-listen-address 127.0.0.1
    gsettings set io.github.kilnapp.Kiln network-listen-port 0
  fi
}

# start_kiln LOG: starts the app in the background, its output in LOG, its pid in $kiln_pid.
start_kiln ()
{
  kiln_on_loopback
  # Descriptors above 2 that the script holds (such as a devnet's pipe) stay with it.
  "$kiln" >"$1" 2>&1 3>&- 4>&- &
  kiln_pid=$!
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

# --- windows -----------------------------------------------------------------------------------
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

# screenshot NAME [TITLE]: saves the window with that title (the main window by default),
# with whatever is shown over it, such as popovers.
screenshot ()
{
  # Let the crossfade between pages and any toast animation settle first.
  sleep 0.5
  id=$(window_id "${2:-Kiln}")
  # Without a window id, import would wait for someone to click on a window.
  if [ -z "$id" ]; then
    echo "# could not take the screenshot $1.png: no window ${2:-Kiln}"
    return 1
  fi
  geometry=$(xwininfo -id "$id" |
             awk '/Absolute upper-left X:/ { x = $4 } /Absolute upper-left Y:/ { y = $4 }
                  /Width:/ { w = $2 } /Height:/ { h = $2 }
                  END { printf "%dx%d+%d+%d", w, h, x, y }')
  if ! import -window root -crop "$geometry" +repage "$shots/$1.png" 2>"$tmp/import.log"; then
    echo "# could not take the screenshot $1.png: $(cat "$tmp/import.log")"
    return 1
  fi
}

# --- the app's actions and accessibility tree ----------------------------------------------------
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

# The accessibility tree of the app, one "ROLE<TAB>NAME" line per node, depth first.
accessible_tree ()
{
  "$python" "$here/atspi-dump.py" kiln 2>&1
}
# The text of every label in the app.
labels ()
{
  accessible_tree | sed -n 's/^label\t//p'
}
label_shown () { labels | grep -qx -e "$1"; }

# warnings_in LOG: what GLib, GTK or the app logged at warning level or worse, and what a
# sanitizer found in a sanitized build.
warnings_in ()
{
  grep -E '(WARNING|CRITICAL|ERROR) \*\*|runtime error:|ERROR: AddressSanitizer' "$1"
}
