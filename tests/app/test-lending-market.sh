#!/bin/sh
# test-lending-market.sh KILN REQUESTOR APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR
#
# The real app lends to the market, on a real X server (Xvfb), with the real keyring and the
# real status-notifier-watcher on the private session bus that with-keyring.sh provides,
# idle-monitor.py serving GNOME's org.gnome.Mutter.IdleMonitor there, and a local devnet
# (node and the repository's npm packages) that the app and the requestor both pay on.
# REQUESTOR (kiln-test-requestor) is a node of its own on 127.0.0.1 running a real render
# job, joined to the app's node. With lending on and the computer idle:
#   - the page says it waits for work once Blender is found and measured;
#   - the requestor's one-frame job (160×120, no denoising) is taken: the status line and
#     the tray say which frame renders for which requestor (read from the accessibility
#     tree and the item's tooltip), with the subtask's progress bar;
#   - reporting input stops every process of the render (SIGSTOP) within a second
#     (measured), and the page and tray say lending is paused; idle again, it goes on;
#   - the requestor verifies the frame and pays on chain; the page's earnings show the
#     amount once the payment is confirmed, today and in total;
#   - a second job renders frames 1–2 in one subtask: the status line says so in the plural,
#     and the earnings add up;
#   - the app quits cleanly.
# Prints TAP; screenshots go to SCREENSHOT_DIR.
#
# KILN_TEST_TIMEOUT (seconds, default 120) bounds every wait.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

if [ $# -ne 7 ]; then
  echo "usage: $0 KILN REQUESTOR APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR" >&2
  exit 2
fi

kiln=$1
requestor=$2
app_id=$3
schema_dir=$4
data_dir=$5
source_root=$6
shots=$7
timeout=${KILN_TEST_TIMEOUT:-120}
here=$(cd "$(dirname "$0")" && pwd)

# The requestor pays from anvil's dev account 3 (tests/kiln-test-devnet.h), funded with GNT
# by the devnet when it starts.
requestor_key_index=3
requestor_account=0x90F79bf6EB2c4f870365E785982E1f101E93b906
# Cycles samples of the requestor's frame: enough for the render to outlast the checks made
# while it runs, on a fast machine too (Blender itself takes about two seconds to start).
samples=1024
# GNT per CPU-hour: the app's minimum, the requestor's maximum.
min_price=36
max_price=100

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"
# shellcheck source=tests/app/lending-test-lib.sh
. "$here/lending-test-lib.sh"

if skip=$(devnet_skip); then
  echo "1..0 # SKIP $skip"
  exit 0
fi

planned=15
echo "1..$planned"

find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-lending-market.XXXXXX")
requestor_pid=

cleanup ()
{
  for pid in "$requestor_pid" "$kiln_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  stop_lending_services
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# The text of the label that follows the label $1 ("Today") in the tree, within a row.
value_after ()
{
  accessible_tree | awk -F '\t' -v title="$1" '
    $1 == "label" && $2 == title { left = 6; next }
    left > 0 { left--; if ($1 == "label") { print $2; exit } }'
}
value_is () { [ "$(value_after "$1")" = "$2" ]; }

# --- the idle monitor, the tray's watcher and the devnet --------------------------------------
mkdir -m 700 "$tmp/state"
export KILN_DEVNET_STATE="$tmp/state/devnet.json"
if start_lending_services && start_devnet "$requestor_account"; then
  ok "the idle monitor, the status-notifier-watcher and the devnet run"
else
  not_ok "the idle monitor, the status-notifier-watcher and the devnet run" \
    "$(cat "$tmp/idle.log" "$tmp/watcher.log" "$tmp/devnet.log" 2>/dev/null)"
  bail "no idle monitor, watcher or devnet"
fi

# --- the app, lending -------------------------------------------------------------------------
export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
start_display 1600x1400
gsettings set "$schema_id" window-height 1250
# A port for the app's node that the requestor is told.
port=$("$python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
gsettings set "$schema_id" network-listen-address 127.0.0.1
gsettings set "$schema_id" network-listen-port "$port"
# Other programs' CPU use on this machine is not the test's to decide.
gsettings set "$schema_id" lending-cpu-threshold 100
gsettings set "$schema_id" lending-cores 1
gsettings set "$schema_id" lending-min-price "'$min_price'"
gsettings set "$schema_id" lending-enabled true

start_kiln "$tmp/kiln.log"
account_shown () { action_enabled export-account; }
if wait_for "the window" window_shown Kiln &&
   wait_for "the welcome screen" action_enabled new-account &&
   activate new-account && wait_for "the account" account_shown &&
   wait_for "the Lending page" show_lending_page &&
   wait_for "the status" label_shown 'Waiting: you are using the computer'; then
  ok "with lending on and input a moment ago, the page says lending waits for the computer"
else
  not_ok "with lending on and input a moment ago, the page says lending waits for the computer" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln.log")"
  bail "no Lending page"
fi

# Idle for an hour: Blender is found and measured once, then the agent offers on tasks.
if wait_for "the app's idle watch" idle_watched && set_idle_ms 3600000 &&
   wait_for "the status" label_shown 'Waiting for work' && tray_says 'Waiting for work'; then
  ok "idle: Blender is found and measured, and the page and tray say lending waits for work"
else
  not_ok "idle: the page and tray say lending waits for work" \
    "labels: $(labels | tr '\n' '|')" "tooltip: $(tray_property ToolTip)" \
    "$(cat "$tmp/kiln.log")"
  bail "not lending"
fi

# --- a job from the market ------------------------------------------------------------------
# start_requestor NAME ARGS...: a requestor working in $tmp/NAME, telling $out what happens.
start_requestor ()
{
  name=$1
  shift
  out=$tmp/$name.out
  "$requestor" --provider "127.0.0.1:$port" --dir "$tmp/$name" \
    --dev-key "$requestor_key_index" --max-price "$max_price" \
    --timeout "$((timeout * 3))" "$@" >"$out" 2>"$tmp/$name.log" 4>&- 5>&- &
  requestor_pid=$!
}
said () { grep -q "^$1" "$out"; }
requestor_line () { sed -n "s/^$1 //p" "$out" | head -n 1; }
requestor_done () { ! kill -0 "$requestor_pid" 2>/dev/null; }

start_requestor requestor --samples "$samples"
if wait_for "the requestor's node" said requestor &&
   wait_for "the requestor's link" said connected; then
  address=$(requestor_line requestor)
  short=$(printf '%s' "$address" | sed 's/^\(0x....\).*\(....\)$/\1…\2/')
  rendering="Lending: rendering frame 1 for $short"
  ok "the requestor $address joins the app's node $(requestor_line connected) on 127.0.0.1:$port"
else
  not_ok "the requestor joins the app's node" "$(cat "$tmp/requestor.out" "$tmp/requestor.log")"
  bail "no requestor"
fi

# The first moments of the subtask: the tray says so at once (read over D-Bus), and the
# render starts in the sandbox.
render_running () { "$python" "$here/lent-render.py" running "$kiln_pid"; }
if wait_for "the tray to say it renders" tray_says "$rendering" &&
   tray_property IconName | grep -q "'media-playback-start-symbolic'" &&
   wait_for "the render" render_running; then
  ok "the app takes the subtask: the tray's tooltip says '$rendering'"
else
  not_ok "the app takes the subtask" "tooltip: $(tray_property ToolTip)" \
    "$(cat "$tmp/requestor.out" "$tmp/requestor.log" "$tmp/kiln.log")"
  bail "the subtask was not taken"
fi

# Input: every process of the render stops within a second.
if pause_ms=$("$python" "$here/lent-render.py" pause "$kiln_pid" 2>"$tmp/pause.log") &&
   [ "$pause_ms" -le 1000 ]; then
  ok "input stops the render within a second: all its processes stopped after $pause_ms ms"
else
  not_ok "input stops the render within a second" "measured: ${pause_ms:-none} ms" \
    "$(cat "$tmp/pause.log")"
fi
render_stopped () { "$python" "$here/lent-render.py" stopped "$kiln_pid"; }
if wait_for "the status" label_shown 'Paused: you are using the computer' &&
   labels | grep -q '^Paused at frame 1 · ' &&
   tray_says 'Paused: you are using the computer' &&
   tray_property Status | grep -q "'NeedsAttention'" && render_stopped; then
  ok "paused: the page and tray say lending is paused because the computer is in use"
else
  not_ok "paused: the page and tray say lending is paused" "labels: $(labels | tr '\n' '|')" \
    "tooltip: $(tray_property ToolTip)"
fi

# Idle again: the render goes on, and the page says for whom.
progress_shown () { labels | grep -q '^Frame 1 · [0-9]* %$'; }
if wait_for "the app's idle watch" idle_watched && set_idle_ms 3600000 &&
   wait_for "the render to go on" render_running &&
   wait_for "the status" label_shown "$rendering" && progress_shown; then
  ok "idle again: the render goes on; the status line says '$rendering', with its progress"
else
  not_ok "idle again: the status line says which frame renders for whom" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/requestor.out")"
fi
# While it renders. (Blender reports the samples of a frame this small only once it is
# done, so the bar stays at 0 % until then.)
screenshot lending-market-rendering

# --- verified, paid, earned -------------------------------------------------------------------
frame_is_small ()
{
  "$python" -c 'import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(24)
sys.exit(0 if head[:8] == b"\x89PNG\r\n\x1a\n" and
         struct.unpack(">II", head[16:24]) == (160, 120) else 1)' "$1"
}
if wait_for "the frame" said frame && frame=$(requestor_line frame) &&
   frame_is_small "$frame"; then
  ok "the requestor verified the frame the app rendered: $(basename "$frame"), 160×120"
else
  not_ok "the requestor verified the frame the app rendered" \
    "$(cat "$tmp/requestor.out" "$tmp/requestor.log")"
fi

if wait_for "the payment" said paid && wait_for "the requestor to end" requestor_done &&
   wait "$requestor_pid"; then
  paid=$(requestor_line paid)
  amount=${paid%% *}
  shown=${paid#* }
  ok "the requestor paid $amount base units ($shown) and ended"
else
  not_ok "the requestor paid and ended" "$(cat "$tmp/requestor.out" "$tmp/requestor.log")"
  amount=0
  shown=unknown
fi
requestor_pid=

if wait_for "the earnings" value_is Today "$shown" && value_is 'In Total' "$shown" &&
   ! label_shown 'Not Confirmed Yet'; then
  ok "the payment is confirmed on chain: the page shows $shown earned today and in total"
else
  not_ok "the page shows the confirmed payment as earned" \
    "today: $(value_after Today), in total: $(value_after 'In Total')" \
    "labels: $(labels | tr '\n' '|')" "$(grep -i earning "$tmp/kiln.log")"
fi
if wait_for "the status" label_shown 'Waiting for work' && tray_says 'Waiting for work'; then
  ok "the subtask done, the page and tray say lending waits for work again"
else
  not_ok "the page and tray say lending waits for work again" "labels: $(labels | tr '\n' '|')"
fi

# --- a run of frames ------------------------------------------------------------------------
frames_rendering="Lending: rendering frames 1–2 for $short"
start_requestor requestor-2 --samples "$samples" --frames 1-2 --subtasks 1 --add-to "$amount"
if wait_for "the tray to say it renders" tray_says "$frames_rendering" &&
   wait_for "the status" label_shown "$frames_rendering"; then
  ok "two frames in one subtask: the status line and the tray say '$frames_rendering'"
else
  not_ok "two frames in one subtask: the status line says so" \
    "tooltip: $(tray_property ToolTip)" "labels: $(labels | tr '\n' '|')" \
    "$(cat "$tmp/requestor-2.out" "$tmp/requestor-2.log")"
fi
if wait_for "the payment" said total && wait_for "the requestor to end" requestor_done &&
   wait "$requestor_pid" && total=$(requestor_line total) &&
   wait_for "the earnings" value_is Today "$total" && value_is 'In Total' "$total"; then
  ok "the second payment confirmed, the page shows $total earned today and in total"
else
  not_ok "the earnings add up after the second payment" \
    "today: $(value_after Today), in total: $(value_after 'In Total')" \
    "$(cat "$tmp/requestor-2.out" "$tmp/requestor-2.log")"
fi
requestor_pid=
screenshot lending-market-earnings

quit_kiln "the app quits cleanly, with no warnings" "$tmp/kiln.log"

echo "# screenshots: $shots/lending-market-rendering.png, lending-market-earnings.png"
[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
