#!/bin/sh
# test-make-run.sh KILN KILN_NODE APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR
#
# What `make run` does, end to end: build-aux/run-app.sh itself, run from SOURCE_ROOT on the
# build that KILN, KILN_NODE and SCHEMA_DIR belong to, as the Makefile runs it (nothing is
# built), on a real X server (Xvfb), with the real keyring that with-keyring.sh provides (HOME
# and the XDG folders are private to the test). The script starts the devnet, two
# `kiln-node run --lend --cores 1` providers and the app; then, as a person would:
#
#   - the welcome screen's Create a New Account gives an account, funded on the devnet, and the
#     app is linked to both providers;
#   - Try a Sample Scene, cut down to 4 frames of 160×120 pixels and 4 samples, is submitted;
#     Blender renders under both providers (their event logs say they rendered and were paid),
#     the job page's thumbnails fill in, the output folder holds every frame as a PNG of
#     160×120 that decodes;
#   - each provider's GNT balance, read from the devnet with ethers (not through Kiln), rose by
#     exactly what the job page says was paid to it, which is what the provider's signed terms
#     say it earned;
#   - a second run-app.sh while the app is open stops at once and says Kiln is running;
#   - Ctrl+Q quits the app, run-app.sh then ends by itself, and nothing it started is left
#     (run-reaped.py catches whatever outlives its parent: anvil, the nodes, Blender);
#   - `make run` again (the same providers' accounts, through KILN_RUN_DIR; a new devnet): a
#     second job is submitted, and while Blender renders under a provider, Ctrl+C in the
#     terminal (SIGINT to run-app.sh's process group) ends it all, again leaving nothing.
#
# Prints TAP; screenshots go to SCREENSHOT_DIR. KILN_TEST_TIMEOUT (seconds, default 120)
# bounds every wait; KILN_TEST_DEBUG=1 has the app and the providers log their debug messages,
# and KILN_TEST_KEEP=DIR keeps every log there.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

if [ $# -ne 7 ]; then
  echo "usage: $0 KILN KILN_NODE APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR" >&2
  exit 2
fi

kiln=$1
kiln_node=$2
app_id=$3
schema_dir=$4
data_dir=$5
source_root=$6
shots=$7
timeout=${KILN_TEST_TIMEOUT:-120}
here=$(cd "$(dirname "$0")" && pwd)
# What run-app.sh reads from the environment is the test's to choose.
unset KILN_DEVNET_STATE KILN_RUN_DIR
# run-app.sh takes the build directory, where the schemas are compiled into data/.
build_root=$(cd "$schema_dir/.." && pwd)

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"

planned=13
echo "1..$planned"

same () { [ "$(readlink -f "$1")" = "$(readlink -f "$2")" ]; }
if ! same "$kiln" "$build_root/src/kiln/kiln" ||
   ! same "$kiln_node" "$build_root/src/kiln-node/kiln-node" ||
   ! same "$data_dir" "$source_root/data"; then
  bail "$kiln, $kiln_node and $schema_dir are not of one build of $source_root"
fi
for tool in node blender bwrap convert; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is missing (build-aux/setup.sh installs it)"
done
[ -d "$source_root/node_modules/ethers" ] ||
  bail "the devnet's npm packages are missing: run build-aux/setup-npm.sh"
find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-make-run-test.XXXXXX")
run=$tmp/run
reaper=$tmp/reaper
mkdir -p "$reaper"
run_pid=

cleanup ()
{
  # Whatever happened, run-app.sh and all it started end with the test.
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -TERM "$run_pid" 2>/dev/null
    wait "$run_pid" 2>/dev/null
  fi
  stop_display
  # KILN_TEST_KEEP=DIR keeps the logs there, for a look after a failure.
  if [ -n "${KILN_TEST_KEEP:-}" ]; then
    rm -rf "$KILN_TEST_KEEP" && mkdir -p "$KILN_TEST_KEEP" &&
      cp "$tmp"/*.log "$tmp"/*.txt "$run"/*.log "$reaper"/* "$KILN_TEST_KEEP" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

click () { "$python" "$here/atspi-dump.py" --click kiln "$1" "$2" >>"$tmp/click.log" 2>&1; }
since () { echo "$(($(date +%s) - $1)) s"; }

# descendants PID: "PID COMMAND" for every process under PID, however deep.
descendants ()
{
  ps -e -o pid=,ppid=,comm= | awk -v root="$1" '
    { parent[$1] = $2; name[$1] = $3 }
    END {
      for (pid in parent) {
        for (p = parent[pid]; p != "" && p + 0 > 1; p = parent[p])
          if (p == root) { print pid, name[pid]; break }
      }
    }'
}

# provider_blender: the pids of the Blender processes under the providers' kiln-node, if any.
provider_blender ()
{
  for pid in $(descendants "$run_pid" | awk '$2 == "kiln-node" { print $1 }'); do
    descendants "$pid" | awk '$2 == "blender" { print $1 }'
  done
}
provider_rendering () { [ -n "$(provider_blender)" ]; }

# Events of a provider's log (one JSON object a line, from `kiln-node run --json`).
events () { grep -c "\"event\":\"$2\"" "$run/$1.log" 2>/dev/null; }

# gnt_balances ADDRESS...: "ADDRESS UNITS" for each, read from the devnet's token with ethers.
gnt_balances ()
{
  ETHERS="$source_root/node_modules/ethers" node -e '
    const { ethers } = require(process.env.ETHERS);
    const [url, token, ...addresses] = process.argv.slice(1);
    const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true });
    const gnt = new ethers.Contract(token,
      ["function balanceOf(address) view returns (uint256)"], provider);
    (async () => {
      for (const address of addresses)
        console.log(address, (await gnt.balanceOf(address)).toString());
    })().catch((error) => { console.error(error.message); process.exit(1); });
  ' "$rpc_url" "$token" "$@"
}

# --- make run --------------------------------------------------------------------------------
# run-app.sh adds the build's schemas and the source tree's data itself; the test's own gsettings
# calls need the schemas too.
export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
start_display 1600x1200
gsettings set io.github.kilnapp.Kiln window-width 1400
gsettings set io.github.kilnapp.Kiln window-height 1100
# The app's node on 127.0.0.1 like the providers, so that nothing is heard from outside.
kiln_on_loopback

# KILN_TEST_DEBUG=1: the app and the providers log their debug messages (set only now: the
# test's own gsettings calls would print theirs where their answers are read).
if [ -n "${KILN_TEST_DEBUG:-}" ]; then
  export G_MESSAGES_DEBUG=Kiln,KilnNode
fi

# make_run LOG: build-aux/run-app.sh as the Makefile runs it, from the source tree, in a
# process group of its own as a shell runs it, under run-reaped.py (its pid in $run_pid, the
# process group's in $reaper/pid); KILN_RUN_DIR keeps the providers' folders and logs where the
# test reads them. Then waits for the devnet, both providers and the window.
devnet_state=$XDG_RUNTIME_DIR/kiln/devnet.json
ended () { [ -s "$reaper/status" ]; }
make_run ()
{
  run_log=$1
  rm -f "$reaper"/*
  run_started=$(date +%s)
  (cd "$source_root" &&
     KILN_RUN_DIR="$run" exec "$python" "$here/run-reaped.py" "$reaper" \
       build-aux/run-app.sh "$build_root") >"$run_log" 2>&1 &
  run_pid=$!
  providers_up ()
  {
    [ "$(grep -c '^run-app: provider provider-[12] .* lends 1 core' "$run_log")" -eq 2 ]
  }
  # Each wait ends early if run-app.sh does.
  devnet_up () { [ -s "$devnet_state" ] || ended; }
  providers_up_or_ended () { providers_up || ended; }
  window_or_ended () { window_shown Kiln || ended; }
  wait_for "the devnet" devnet_up && ! ended && devnet_at=$(since "$run_started") &&
    wait_for "the providers" providers_up_or_ended && ! ended &&
    providers_at=$(since "$run_started") &&
    wait_for "the window" window_or_ended && ! ended && app_at=$(since "$run_started")
}

started=$(date +%s)
if make_run "$tmp/run-app.log"; then
  ok "run-app.sh starts the devnet ($devnet_at), two providers ($providers_at), the app ($app_at)"
else
  not_ok "run-app.sh starts the devnet, two providers and the app" "$(cat "$tmp/run-app.log")" \
    "$(cat "$run"/*.log 2>/dev/null)"
  bail "make run did not start"
fi
rpc_url=$(sed -n 's/^ *"rpc_url": *"\([^"]*\)".*/\1/p' "$devnet_state" | head -n 1)
token=$(sed -n 's/^ *"token": *"\(0x[0-9a-fA-F]*\)".*/\1/p' "$devnet_state" | head -n 1)
provider_address ()
{
  sed -n 's/.*"event":"lending".*"account":"\(0x[0-9a-fA-F]*\)".*/\1/p' "$run/$1.log" | head -n 1
}
address1=$(provider_address provider-1)
address2=$(provider_address provider-2)
if [ -z "$address1" ] || [ -z "$address2" ]; then
  bail "no provider accounts in the logs: $(cat "$run"/*.log)"
fi
gnt_balances "$address1" "$address2" >"$tmp/balances-before.txt" ||
  bail "cannot read the providers' balances: $(cat "$tmp/balances-before.txt")"

# --- an account, then the sample scene ---------------------------------------------------------
account_shown () { action_enabled export-account; }
balance_known () { labels | grep -q '· Balance [0-9][0-9,.]* GNT$'; }
peers_connected () { labels | grep -q 'Online · 2 peers'; }
form_for () { label_shown "$1" && value_is 'text box' Frames "$2"; }
check="Create a New Account gives a funded account linked to both providers; the sample scene opens"
if wait_for "the welcome screen" label_shown 'Welcome to Kiln' &&
   click button 'Create a New Account' && wait_for "the account" account_shown &&
   wait_for "the providers to be linked" peers_connected &&
   click button 'Try a Sample Scene' &&
   wait_for "the sample scene" form_for kiln-sample-1.blend 1-12 &&
   wait_for "the balance" balance_known; then
  ok "$check"
else
  not_ok "$check" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/run-app.log")"
  bail "no sample scene"
fi

# set_up_job FRAMES [SAMPLES]: the form cut down to FRAMES at 160×120 and SAMPLES samples (4 by
# default), then submitted with Ctrl+Return. Resol_ution puts the keyboard on its row, the next
# Tab in the width.
submit_enabled () { enabled button Submit; }
set_up_job ()
{
  focus Kiln && keys ctrl+a BackSpace && type_text "$1" &&
    keys alt+u Tab ctrl+a BackSpace && type_text 160 && keys Tab ctrl+a BackSpace &&
    type_text 120 && keys alt+m ctrl+a BackSpace && type_text "${2:-4}" && keys Tab &&
    wait_for "the width" value_is 'spin button' 'Width in pixels' 160 &&
    wait_for "the height" value_is 'spin button' 'Height in pixels' 120 &&
    wait_for "the samples" value_is 'spin button' Samples "${2:-4}" &&
    wait_for "Submit" submit_enabled && keys ctrl+Return
}
job_page_for () { label_shown "$1" && label_shown Frames && label_shown Subtasks; }
# The page's grid as one reading of the accessibility tree gives it (each reading walks the
# whole tree, which keeps the app busy: the render loop below reads it once a round).
read_page () { accessible_tree >"$tmp/page.txt"; }
on_page () { grep -c -e "$1" "$tmp/page.txt"; }
thumbnails () { on_page "^image	Frame [0-9]*\$"; }
placeholders () { on_page "^grid cell	Frame [0-9]*, not rendered yet\$"; }
frames_placed () { read_page && [ "$(on_page '^grid cell	Frame [1-4]')" -eq 4 ]; }
job_done ()
{
  grep -qx 'label	Done' "$tmp/page.txt" && grep -qx 'label	4 of 4 frames' "$tmp/page.txt"
}

submitted=$(date +%s)
if set_up_job 1-4 && wait_for "the job page" job_page_for kiln-sample-1 &&
   wait_for "the frames' places" frames_placed; then
  ok "4 frames at 160×120 and 4 samples are submitted: the job page has a place for each"
  # Blender may have been quicker than the test at reading the page.
  first_waiting=$(placeholders)
else
  not_ok "4 frames at 160×120 and 4 samples are submitted: the job page has a place for each" \
    "frames: $(grep 'Frame [1-4]' "$tmp/page.txt" | tr '\n' '|')" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/run-app.log")"
fi

# --- the render --------------------------------------------------------------------------------
# Until the job is done: how the thumbnails fill in, and which processes run under run-app.sh
# (Blender among them, under the providers).
: >"$tmp/tree.txt"
: >"$tmp/provider-blender.txt"
filling=${first_waiting:-?}
deadline=$(($(date +%s) + timeout))
until read_page && job_done; do
  descendants "$run_pid" >>"$tmp/tree.txt"
  provider_blender >>"$tmp/provider-blender.txt"
  # How many frames were still to come, at each change.
  waiting=$(placeholders)
  [ "$waiting" = "${filling##* }" ] || filling="$filling $waiting"
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "# timed out after ${timeout}s waiting for the job to be done"
    break
  fi
  sleep 1
done
rendered_in=$(since "$submitted")
waiting=$(placeholders)
[ "$waiting" = "${filling##* }" ] || filling="$filling $waiting"
blender_seen=$(sort -u "$tmp/provider-blender.txt" | wc -l)
if job_done && [ "$(thumbnails)" -eq 4 ] && [ "$(placeholders)" -eq 0 ]; then
  ok "the job is done in $rendered_in, every thumbnail in (frames to come: $filling)"
else
  not_ok "the job is done, every thumbnail in" "labels: $(labels | tr '\n' '|')" \
    "$(cat "$tmp/run-app.log")"
fi

# Both providers rendered: each accepted work, sent results and was paid, by its own log (how
# many Blender processes the test saw under them depends on how fast it looked).
worked ()
{
  [ "$(events "$1" accepted)" -ge 1 ] && [ "$(events "$1" result-sent)" -ge 1 ] &&
    [ "$(events "$1" earned)" -ge 1 ]
}
if worked provider-1 && worked provider-2; then
  results="$(events provider-1 result-sent) and $(events provider-2 result-sent) results"
  ok "subtasks went to both providers ($results)"
  echo "# Blender processes seen under the providers while the test looked: $blender_seen"
else
  not_ok "subtasks went to both providers" "$(cat "$run/provider-1.log")" \
    "$(cat "$run/provider-2.log")"
fi

output=$(find "$HOME" -type d -name 'Kiln Sample' | head -n 1)
# frame_good FILE: a PNG of 160×120 that decodes whole, and is not one flat colour.
frame_good ()
{
  [ "$(convert "$1" -format '%m %w×%h %[fx:standard_deviation>0]' info: 2>/dev/null)" = \
    "PNG 160×120 1" ]
}
frames_ok=1
for f in 1 2 3 4; do
  frame_good "$output/frame_000$f.png" || frames_ok=
done
if [ -n "$output" ] && [ -n "$frames_ok" ] && [ "$(find "$output" -type f | wc -l)" -eq 4 ]; then
  ok "the output folder holds the 4 frames, each a PNG of 160×120 that decodes"
else
  not_ok "the output folder holds the 4 frames, each a PNG of 160×120 that decodes" \
    "${output:-no Kiln Sample folder}: $(ls -l "$output" 2>&1)" \
    "$(for f in "$output"/*; do convert "$f" -format '%f %m %w×%h' info: 2>&1; done)"
fi

# --- the payments ------------------------------------------------------------------------------
# Once every payment on the page has its transaction and each provider has seen its own
# confirmed on the chain, the balances are read.
paid_rows () { labels | grep -c '^Subtask [0-9]* · paid in 0x[0-9a-f]\{64\}$'; }
subtasks=$(labels | grep -c '^Subtask [0-9]* · Frame')
all_paid () { [ "$subtasks" -ge 1 ] && [ "$(paid_rows)" -eq "$subtasks" ]; }
confirmed ()
{
  [ "$(events provider-1 confirmed)" -eq "$(events provider-1 earned)" ] &&
    [ "$(events provider-2 confirmed)" -eq "$(events provider-2 earned)" ]
}
if wait_for "the payments" all_paid && wait_for "the confirmations" confirmed &&
   "$python" "$here/job-payments.py" kiln >"$tmp/page-payments.txt" 2>"$tmp/page-payments.log" &&
   gnt_balances "$address1" "$address2" >"$tmp/balances-after.txt"; then
  payments_read=1
else
  payments_read=
fi
# paid_check: for each provider, the balance's rise, the sum of the job page's payments to it
# and the sum of what its terms said it earned, all in the token's smallest unit; fails unless
# they are the same and above zero.
paid_check ()
{
  "$python" - "$tmp/balances-before.txt" "$tmp/balances-after.txt" "$tmp/page-payments.txt" \
    "$run/provider-1.log" "$run/provider-2.log" <<'EOF'
import json, sys
before = dict(line.split() for line in open(sys.argv[1]))
after = dict(line.split() for line in open(sys.argv[2]))
page = {}
for line in open(sys.argv[3]):
    address, amount, tx = line.split()
    page[address.lower()] = page.get(address.lower(), 0) + int(amount)
good = True
for address, log in zip(before, sys.argv[4:]):
    earned = 0
    account = None
    for line in open(log):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get('event') == 'lending':
            account = event['account']
        elif event.get('event') == 'confirmed':
            earned += int(event['amount'])
    rise = int(after[address]) - int(before[address])
    shown = page.get(address.lower(), 0)
    print('%s: balance %s → %s (+%d), job page %d, confirmed terms %d'
          % (address, before[address], after[address], rise, shown, earned))
    good = good and account == address and rise > 0 and rise == shown == earned
sys.exit(0 if good else 1)
EOF
}
if [ -n "$payments_read" ] && paid_check >"$tmp/paid.txt"; then
  ok "each provider's GNT balance rose by exactly what the job page says was paid to it"
  sed 's/^/# /' "$tmp/paid.txt"
else
  not_ok "each provider's GNT balance rose by exactly what the job page says was paid to it" \
    "$(cat "$tmp/paid.txt" 2>/dev/null)" "page: $(cat "$tmp/page-payments.txt" \
      "$tmp/page-payments.log" 2>/dev/null)" "labels: $(labels | tr '\n' '|')"
fi

# What a person sees at the end: the thumbnails, the subtasks, and further down, the payments.
xdotool mousemove 0 0
screenshot make-run-job-page

# A second `make run` while this one's app is open stops at once and says why, rather than
# handing its arguments to the open app and stopping its own devnet and providers.
check="a second make run while the app is open stops at once and says Kiln is running"
second_status=0
(cd "$source_root" && timeout 60 build-aux/run-app.sh "$build_root") >"$tmp/second.log" 2>&1 ||
  second_status=$?
if [ "$second_status" -eq 1 ] && grep -q "is already running; quit it first" "$tmp/second.log" &&
   ! grep -q "provider" "$tmp/second.log"; then
  ok "$check"
else
  not_ok "$check" "status $second_status" "$(cat "$tmp/second.log")"
fi

# --- quitting ----------------------------------------------------------------------------------
# snapshot_tree NAME: what runs under run-app.sh now, in NAME.txt (added to tree.txt, all that
# was ever seen), NAME-args.txt (with parents, ages and command lines, for KILN_TEST_KEEP) and
# a TAP comment.
snapshot_tree ()
{
  descendants "$run_pid" >"$tmp/$1.txt"
  cat "$tmp/$1.txt" >>"$tmp/tree.txt"
  ps -o pid=,ppid=,etimes=,args= -p "$(awk '{ print $1 }' "$tmp/$1.txt" | paste -sd , -)" \
    >"$tmp/$1-args.txt" 2>&1
  echo "# running under run-app.sh: $(awk '{ print $2 }' "$tmp/$1.txt" | sort | uniq -c |
    awk '{ printf "%s%s×%s", (NR > 1 ? ", " : ""), $1, $2 }')"
}

# run_ended DESCRIPTION STATUS: reports how run-app.sh ended (once $reaper/status is written):
# with STATUS, and no warning from GLib, GTK or the app in its output.
run_ended ()
{
  wait "$run_pid"
  run_status=$(cat "$reaper/status")
  if [ "$run_status" -eq "$2" ] && ! warnings_in "$run_log" >/dev/null; then
    ok "$1 ($(since "$stop_at"))"
  else
    not_ok "$1" "status $run_status" "$(cat "$run_log")"
  fi
  run_pid=
}

# nothing_left: every process ever seen under run-app.sh (tree.txt) is gone, run-reaped.py
# found none left behind, the devnet removed its state file.
still_alive ()
{
  for pid in $(awk '{ print $1 }' "$tmp/tree.txt" | sort -u); do
    # Only processes that are what they were (a pid may have been used again since).
    name=$(ps -o comm= -p "$pid" 2>/dev/null) || continue
    grep -q "^$pid $name\$" "$tmp/tree.txt" && echo "$pid $name"
  done
}
nothing_left ()
{
  seen=$(awk '{ print $2 }' "$tmp/tree.txt" | sort -u | tr '\n' ' ')
  if [ -f "$reaper/left" ] && [ ! -s "$reaper/left" ] && [ -z "$(still_alive)" ] &&
     [ ! -e "$devnet_state" ]; then
    ok "$1 (of: $seen)"
    if [ -s "$reaper/orphaned" ]; then
      echo "# outlived run-app.sh for a moment: $(tr '\n' ' ' <"$reaper/orphaned")"
    fi
  else
    not_ok "$1" "left behind: $(cat "$reaper/left" 2>&1)" "still alive: $(still_alive)" \
      "devnet state: $(ls "$devnet_state" 2>&1)"
  fi
}

snapshot_tree before-quit
stop_at=$(date +%s)
check="Ctrl+Q quits the app, and run-app.sh ends with status 0 and no warnings"
if focus Kiln && keys ctrl+q && wait_for "run-app.sh to end" ended; then
  run_ended "$check" 0
else
  not_ok "$check" "$(cat "$run_log")"
fi
nothing_left "nothing run-app.sh started is left"
echo "# $(since "$started") from make run to the end of the first"

# --- Ctrl+C in the middle of a render ----------------------------------------------------------
# make run again, with the providers' accounts of the first time; the app has its account, and
# lists the job done. The second job's 2 frames have 512 samples, so that Blender renders long
# enough to be interrupted.
: >"$tmp/tree.txt"
jobs_listed () { label_shown Renders && label_shown 'Try a Sample Scene'; }
if make_run "$tmp/run-app-2.log" && wait_for "the providers to be linked" peers_connected &&
   wait_for "the jobs list" jobs_listed && click button 'Try a Sample Scene' &&
   wait_for "the sample scene" form_for kiln-sample-1.blend 1-12 &&
   wait_for "the balance" balance_known && set_up_job 1-2 512 &&
   wait_for "the job page" job_page_for kiln-sample-1; then
  ok "make run again: the same providers, linked; a second job of 2 frames is submitted"
else
  not_ok "make run again: the same providers, linked; a second job of 2 frames is submitted" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/run-app-2.log")"
fi

# As soon as Blender renders under a provider, Ctrl+C, as in the terminal: SIGINT to the whole
# process group (the test, like the terminal's shell, is not in it).
check="Ctrl+C while Blender renders ends run-app.sh (status 130), with no warnings"
if [ -n "$run_pid" ] && wait_for "Blender under a provider" provider_rendering &&
   xdotool mousemove 0 0 && screenshot make-run-second-job &&
   snapshot_tree before-interrupt && stop_at=$(date +%s) &&
   kill -INT "-$(cat "$reaper/pid")" && wait_for "run-app.sh to end" ended; then
  run_ended "$check" 130
else
  not_ok "$check" "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/run-app-2.log")" \
    "$(cat "$run/provider-1.log" "$run/provider-2.log")"
fi
nothing_left "nothing is left after Ctrl+C"

echo "# $(since "$started") from make run to the end"
[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
