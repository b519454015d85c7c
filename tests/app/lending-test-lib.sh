# lending-test-lib.sh: what the lending tests share, sourced after app-test-lib.sh.
#
# The sourcing script sets $tmp, $here, $python (find_python) and $source_root. It starts the
# test's services with start_lending_services, which runs idle-monitor.py (GNOME's
# org.gnome.Mutter.IdleMonitor, with idle times the test sets) and the real
# status-notifier-watcher on the session bus, and, with start_devnet, the local devnet; its
# cleanup calls stop_lending_services. The helpers read the app's tray item straight from
# the bus.
#
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=sh disable=SC2154

schema_id=io.github.kilnapp.Kiln
watcher_pid=
idle_pid=
devnet_pid=

bus_call ()
{
  gdbus call --session --timeout 5 "$@" 2>/dev/null
}
setting () { gsettings get "$schema_id" "$1"; }
setting_is () { [ "$(setting "$1")" = "$2" ]; }
lending_tab_selected () { "$python" "$here/atspi-dump.py" --state kiln tab Lending selected; }
show_lending_page () { focus Kiln && keys alt+l && lending_tab_selected; }

# --- the idle monitor and the tray's watcher ------------------------------------------------
# start_lending_services: idle-monitor.py and status-notifier-watcher, waited for; fails
# when either does not come.
start_lending_services ()
{
  command -v status-notifier-watcher >/dev/null 2>&1 ||
    bail "status-notifier-watcher is missing (install haskell-status-notifier-item-utils)"
  mkfifo "$tmp/idle-stdin"
  "$python" "$here/idle-monitor.py" <"$tmp/idle-stdin" >"$tmp/idle.out" 2>"$tmp/idle.log" &
  idle_pid=$!
  exec 5>"$tmp/idle-stdin"
  status-notifier-watcher >"$tmp/watcher.log" 2>&1 &
  watcher_pid=$!
  idle_ready () { grep -q ready "$tmp/idle.out"; }
  wait_for "the idle monitor" idle_ready &&
    wait_for "the watcher" name_owned org.kde.StatusNotifierWatcher
}

stop_lending_services ()
{
  exec 4>&- 5>&-
  for pid in "$devnet_pid" "$idle_pid" "$watcher_pid"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  devnet_pid=
  idle_pid=
  watcher_pid=
}

# idle_control METHOD [ARGS...]: calls the test's controls of idle-monitor.py.
idle_control ()
{
  method=$1
  shift
  bus_call --dest org.gnome.Mutter.IdleMonitor \
    --object-path /io/github/kilnapp/Kiln/Test/IdleMonitor \
    --method "io.github.kilnapp.Kiln.Test.IdleMonitor.$method" "$@"
}
set_idle_ms () { idle_control SetIdletime "$1" >/dev/null; }
user_active () { idle_control UserActive >/dev/null; }
# An idle watch of the app is waiting for the idle time to grow.
idle_watched () { idle_control CountWatches | grep -q '^(uint32 [1-9]'; }

# --- the tray item ----------------------------------------------------------------------------
# The tray item's bus name, as the watcher lists it: "org.kde.StatusNotifierItem-PID-N".
tray_name ()
{
  bus_call --dest org.kde.StatusNotifierWatcher --object-path /StatusNotifierWatcher \
    --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierWatcher \
    RegisteredStatusNotifierItems |
    grep -o "org\.kde\.StatusNotifierItem-$kiln_pid-[0-9]*" | head -n 1
}
tray_registered () { [ -n "$(tray_name)" ]; }
tray_property ()
{
  bus_call --dest "$(tray_name)" --object-path /StatusNotifierItem \
    --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierItem "$1"
}
tray_status_is () { tray_property Status | grep -q "'$1'"; }
# tray_says TEXT: the item's tooltip says TEXT.
tray_says () { tray_property ToolTip | grep -qF "'$1'"; }

# --- the devnet -------------------------------------------------------------------------------
# devnet_skip: why the devnet cannot run here (printed), or fails when it can.
devnet_skip ()
{
  if ! command -v node >/dev/null 2>&1; then
    echo "node is missing"
  elif [ ! -d "$source_root/node_modules/ethers" ]; then
    echo "the devnet's npm packages are missing (build-aux/setup-npm.sh)"
  else
    return 1
  fi
}

# start_devnet ADDRESS: the devnet, with test ETH and GNT for ADDRESS, its endpoints in the
# state file $KILN_DEVNET_STATE (which the app follows); waited for.
start_devnet ()
{
  mkfifo "$tmp/devnet-stdin"
  node "$source_root/data/devnet/devnet.mjs" --json --fund "$1" \
    --state-file "$KILN_DEVNET_STATE" \
    <"$tmp/devnet-stdin" >"$tmp/devnet.json" 2>"$tmp/devnet.log" &
  devnet_pid=$!
  exec 4>"$tmp/devnet-stdin"
  devnet_ready () { [ -s "$tmp/devnet.json" ] && [ -s "$KILN_DEVNET_STATE" ]; }
  wait_for "the devnet" devnet_ready
}
