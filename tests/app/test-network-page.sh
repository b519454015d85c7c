#!/bin/sh
# test-network-page.sh KILN KILN_NODE APP_ID SCHEMA_DIR DATA_DIR SCREENSHOT_DIR
#
# The Network page of the real app on a real X server (Xvfb), with the real keyring that
# with-keyring.sh provides, against two real nodes (`kiln-node run` on 127.0.0.1, the second
# joining through the first):
#   - with no bootstrap node, the page shows the empty state with what to do, and this
#     node's own address; the Connect dialog reports, inline, an address it cannot reach;
#     the first node's address typed in Preferences → Peers is saved, and the app connects
#     to both nodes through it;
#   - with the first node's port taken, the page says which port is in use and how to
#     change it, and the header says "Offline";
#   - started with --bootstrap (the first node), the app lists both nodes as connected, with
#     their roles and endpoints, and the header says "Online · 2 peers"; the nodes see the
#     app connected too;
#   - quitting the app closes its links: the node sees it go;
#   - started again, the app reconnects; once the nodes are stopped, both peers show as not
#     connected and the header goes back to "Connecting…".
# The app refuses a wrong --listen-port or --bootstrap. What the window shows is read from its
# accessibility tree. Prints TAP; screenshots go to
# SCREENSHOT_DIR. The app listens on a port the system picks (--listen-port 0) except where
# the port must be taken.
#
# KILN_TEST_TIMEOUT (seconds, default 60) bounds every wait.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

if [ $# -ne 6 ]; then
  echo "usage: $0 KILN KILN_NODE APP_ID SCHEMA_DIR DATA_DIR SCREENSHOT_DIR" >&2
  exit 2
fi

kiln=$1
kiln_node=$2
app_id=$3
schema_dir=$4
data_dir=$5
shots=$6
timeout=${KILN_TEST_TIMEOUT:-60}
here=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"

planned=20
echo "1..$planned"

find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-network-test.XXXXXX")
node1_pid=
node2_pid=

stop_node ()
{
  pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
}

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  stop_node "$node2_pid"
  stop_node "$node1_pid"
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# start_app LOG [ARGS...]: starts the app with ARGS, its output in LOG, its pid in $kiln_pid.
start_app ()
{
  log=$1
  shift
  kiln_on_loopback
  "$kiln" "$@" >"$log" 2>&1 &
  kiln_pid=$!
}

# json_field FILE NAME: a top-level field of the JSON object in FILE.
json_field ()
{
  "$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# node_sees DATA_DIR ADDRESS true|false: the node running in DATA_DIR lists ADDRESS as a
# peer whose link is open (true) or closed (false).
node_sees ()
{
  "$kiln_node" peers --data-dir "$1" --json >"$tmp/peers.json" 2>"$tmp/peers.err" &&
    "$python" -c '
import json, sys
peers = json.load(open(sys.argv[1]))["peers"]
want = sys.argv[3] == "true"
sys.exit(0 if any(p["address"] == sys.argv[2] and p["connected"] == want for p in peers) else 1)
' "$tmp/peers.json" "$2" "$3"
}

# short_address ADDRESS: "0x2c75…5c23", as the page shortens it.
short_address ()
{
  printf '%s…%s' "$(printf '%s' "$1" | cut -c1-6)" "$(printf '%s' "$1" | cut -c39-42)"
}

# peer_state SHORT: the state the row of that peer shows (Connected, Not connected or
# Unreachable), read from the row that follows its title in the accessibility tree.
peer_state ()
{
  accessible_tree | awk -F '\t' -v title="$1" '
    $1 == "list item" && $2 == title { left = 12; next }
    left > 0 && $1 == "label" &&
      ($2 == "Connected" || $2 == "Not connected" || $2 == "Unreachable") { print $2; exit }
    left > 0 { left-- }'
}
peer_connected () { [ "$(peer_state "$1")" = Connected ]; }
peer_disconnected ()
{
  state=$(peer_state "$1")
  [ "$state" = "Not connected" ] || [ "$state" = Unreachable ]
}
both_connected () { peer_connected "$node1_short" && peer_connected "$node2_short"; }
both_disconnected () { peer_disconnected "$node1_short" && peer_disconnected "$node2_short"; }

# The header bar's state, read from its label.
header_shows () { label_shown "$1"; }

network_tab_selected () { "$python" "$here/atspi-dump.py" --state kiln tab Network selected; }
# show_network_page: switches to the Network page with its mnemonic.
show_network_page () { focus Kiln && xdotool key --delay 50 alt+n && network_tab_selected; }

account_shown () { action_enabled export-account && action_enabled copy-address; }

export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
# Windows open in the top left corner; on a screen this large the pointer, in the middle,
# stays off them and shows no tooltips in the screenshots.
start_display 2200x1500

# --- two nodes --------------------------------------------------------------------------------
# Their keystores take a few seconds to unlock (scrypt): they start while the app's first
# checks run.
printf 'node password\n' >"$tmp/password"
for node in node1 node2; do
  if ! "$kiln_node" identity create --data-dir "$tmp/$node" --password-file "$tmp/password" \
         --json >"$tmp/$node-identity.json" 2>"$tmp/$node-identity.log"; then
    bail "kiln-node identity create failed: $(cat "$tmp/$node-identity.log")"
  fi
done
node1_address=$(json_field "$tmp/node1-identity.json" address)
node2_address=$(json_field "$tmp/node2-identity.json" address)
node1_short=$(short_address "$node1_address")
node2_short=$(short_address "$node2_address")

"$kiln_node" run --data-dir "$tmp/node1" --password-file "$tmp/password" \
  --listen 127.0.0.1:0 --roles provider --json >"$tmp/node1.json" 2>"$tmp/node1.log" &
node1_pid=$!

# --- the command line ----------------------------------------------------------------------------
# Wrong values are refused before anything starts (bounded, in case the app started anyway).
if ! out=$(timeout "$timeout" "$kiln" --listen-port 70000 2>&1) &&
   printf '%s\n' "$out" | grep -q -e '--listen-port wants a port from 0 to 65535' &&
   ! out2=$(timeout "$timeout" "$kiln" --bootstrap 127.0.0.1 2>&1) &&
   printf '%s\n' "$out2" | grep -q -e '--bootstrap wants HOST:PORT'; then
  ok "--listen-port and --bootstrap refuse wrong values with a reason"
else
  not_ok "--listen-port and --bootstrap refuse wrong values with a reason" "$out" "${out2:-}"
fi

# --- no bootstrap node: the empty state ---------------------------------------------------------
start_app "$tmp/empty.log" --listen-port 0
if wait_for "the window" window_shown Kiln &&
   wait_for "the welcome screen" action_enabled new-account &&
   activate new-account && wait_for "the account" account_shown; then
  ok "app.new-account creates an account"
else
  not_ok "app.new-account creates an account" "$(cat "$tmp/empty.log")"
  bail "no account"
fi
account=$(gsettings get io.github.kilnapp.Kiln account | tr -d "'")

empty_shown ()
{
  label_shown 'No Peers Yet' &&
    labels | grep -q '^Kiln finds other nodes through a bootstrap node whose address you know' &&
    label_shown 'Turn On LAN Discovery'
}
if wait_for "the Network page" show_network_page && wait_for "the empty state" empty_shown &&
   wait_for "the header" header_shows 'Connecting…'; then
  ok "with no bootstrap node the page says there are no peers yet and what to do"
else
  not_ok "with no bootstrap node the page says there are no peers yet and what to do" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/empty.log")"
fi

own_node_shown () { label_shown "$account" && label_shown 'This Node'; }
if wait_for "this node's address" own_node_shown; then
  ok "the empty state shows this node's address ($account)"
else
  not_ok "the empty state shows this node's address ($account)" "labels: $(labels | tr '\n' '|')"
fi
screenshot network-empty

# The Connect dialog, opened with its mnemonic: nothing listens on port 1, so dialling it
# fails, and the dialog says so under the address.
connect_enabled () { "$python" "$here/atspi-dump.py" --state kiln button Connect sensitive; }
connect_failed () { labels | grep -q '^Nothing answers at 127\.0\.0\.1:1\. '; }
if focus Kiln && xdotool key --delay 50 alt+c &&
   wait_for "the Connect dialog" window_shown 'Connect to a Node' && focus 'Connect to a Node' &&
   xdotool type --delay 15 '127.0.0.1' && ! connect_enabled &&
   xdotool type --delay 15 ':1' && wait_for "Connect to be enabled" connect_enabled &&
   xdotool key --delay 50 Return && wait_for "the error" connect_failed &&
   window_shown 'Connect to a Node'; then
  ok "the Connect dialog wants HOST:PORT and shows why an address cannot be reached"
else
  not_ok "the Connect dialog wants HOST:PORT and shows why an address cannot be reached" \
    "labels: $(labels | tr '\n' '|')"
fi
screenshot network-connect-error 'Connect to a Node'
focus 'Connect to a Node' && xdotool key --delay 50 Escape
wait_for "the dialog to close" window_gone 'Connect to a Node' >/dev/null

# --- the first node ---------------------------------------------------------------------------
node1_started () { [ -s "$tmp/node1.json" ]; }
if wait_for "the first node" node1_started; then
  node1_port=$(json_field "$tmp/node1.json" listen-port)
  "$kiln_node" run --data-dir "$tmp/node2" --password-file "$tmp/password" \
    --listen 127.0.0.1:0 --roles provider --bootstrap "127.0.0.1:$node1_port" \
    --json >"$tmp/node2.json" 2>"$tmp/node2.log" &
  node2_pid=$!
  ok "the first node runs on 127.0.0.1:$node1_port"
else
  not_ok "the first node runs" "$(cat "$tmp/node1.log")"
  bail "no node"
fi

# --- a bootstrap node typed in Preferences -----------------------------------------------------
bootstrap_saved ()
{
  [ "$(gsettings get io.github.kilnapp.Kiln network-bootstrap)" = "['127.0.0.1:$node1_port']" ]
}
if activate preferences && wait_for "Preferences" window_shown Preferences &&
   focus Preferences && xdotool key --delay 50 alt+b &&
   xdotool type --delay 15 "127.0.0.1:$node1_port" && xdotool key --delay 50 Return &&
   wait_for "the setting" bootstrap_saved; then
  ok "a bootstrap node typed in Preferences → Peers is saved"
else
  not_ok "a bootstrap node typed in Preferences → Peers is saved" \
    "network-bootstrap: $(gsettings get io.github.kilnapp.Kiln network-bootstrap)"
fi
screenshot network-preferences Preferences
focus Preferences && xdotool key --delay 50 Escape
wait_for "Preferences to close" window_gone Preferences >/dev/null

if wait_for "both nodes to be connected" both_connected; then
  ok "the node starts again with it and lists both nodes as connected"
else
  not_ok "the node starts again with it and lists both nodes as connected" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/empty.log")"
fi

quit_kiln "the app quits cleanly, with no warnings" "$tmp/empty.log"

# --- a port in use ----------------------------------------------------------------------------
start_app "$tmp/port.log" --listen-port "$node1_port"
port_error_shown ()
{
  label_shown "Port $node1_port Is in Use" &&
    labels | grep -q "^Another program, or another copy of Kiln, already uses port $node1_port,"
}
if wait_for "the window" window_shown Kiln && wait_for "the account" account_shown &&
   wait_for "the Network page" show_network_page &&
   wait_for "the error" port_error_shown && wait_for "the header" header_shows Offline; then
  ok "a port in use is named, with how to choose another, and the header says Offline"
else
  not_ok "a port in use is named, with how to choose another, and the header says Offline" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/port.log")"
fi
screenshot network-port-in-use
quit_kiln "the app quits cleanly after the error, with no warnings" "$tmp/port.log"

# --- both nodes, through the first --------------------------------------------------------------
node2_started () { [ -s "$tmp/node2.json" ]; }
if wait_for "the second node" node2_started; then
  node2_port=$(json_field "$tmp/node2.json" listen-port)
  ok "the second node runs on 127.0.0.1:$node2_port, bootstrapped by the first"
else
  not_ok "the second node runs" "$(cat "$tmp/node2.log")"
  bail "no second node"
fi

start_app "$tmp/peers.log" --listen-port 0 --bootstrap "127.0.0.1:$node1_port"
if wait_for "the window" window_shown Kiln && wait_for "the account" account_shown &&
   wait_for "the Network page" show_network_page &&
   wait_for "both nodes to be connected" both_connected; then
  ok "both nodes are listed as connected ($node1_short and $node2_short)"
else
  not_ok "both nodes are listed as connected ($node1_short and $node2_short)" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/peers.log")"
fi

details_shown ()
{
  labels | grep -q "^Provider · 127\.0\.0\.1:$node1_port · " &&
    labels | grep -q "^Provider · 127\.0\.0\.1:$node2_port · "
}
if wait_for "the header" header_shows 'Online · 2 peers' &&
   wait_for "the details" details_shown; then
  ok "the header says Online · 2 peers; the rows give each node's role, endpoint and latency"
else
  not_ok "the header says Online · 2 peers; the rows give each node's role, endpoint and latency" \
    "labels: $(labels | tr '\n' '|')"
fi
screenshot network-peers

if wait_for "the first node to see the app" node_sees "$tmp/node1" "$account" true &&
   wait_for "the second node to see the app" node_sees "$tmp/node2" "$account" true; then
  ok "both nodes see the app connected"
else
  not_ok "both nodes see the app connected" "$(cat "$tmp/peers.json" "$tmp/peers.err")"
fi

# Quitting says goodbye: the nodes see the link close.
quit_kiln "the app quits cleanly while connected, with no warnings" "$tmp/peers.log"
if wait_for "the first node to see the app go" node_sees "$tmp/node1" "$account" false &&
   wait_for "the second node to see the app go" node_sees "$tmp/node2" "$account" false; then
  ok "after the app quits, both nodes see its links closed"
else
  not_ok "after the app quits, both nodes see its links closed" \
    "$(cat "$tmp/peers.json" "$tmp/peers.err")"
fi

# --- the nodes stop -----------------------------------------------------------------------------
start_app "$tmp/stop.log" --listen-port 0 --bootstrap "127.0.0.1:$node1_port"
if wait_for "the window" window_shown Kiln && wait_for "the account" account_shown &&
   wait_for "the Network page" show_network_page &&
   wait_for "both nodes to be connected" both_connected; then
  ok "started again, the app connects to both nodes again"
else
  not_ok "started again, the app connects to both nodes again" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/stop.log")"
fi

stop_node "$node2_pid"
node2_pid=
stop_node "$node1_pid"
node1_pid=
if wait_for "both nodes to be disconnected" both_disconnected &&
   wait_for "the header" header_shows 'Connecting…'; then
  ok "once the nodes stop, both are listed as not connected and the header says Connecting…"
else
  not_ok "once the nodes stop, both are listed as not connected and the header says Connecting…" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/stop.log")"
fi
screenshot network-disconnected

quit_kiln "the app quits cleanly with its peers gone, with no warnings" "$tmp/stop.log"

[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
