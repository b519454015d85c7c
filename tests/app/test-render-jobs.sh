#!/bin/sh
# test-render-jobs.sh KILN PROVIDERS APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR
#
# Render jobs in the real app on a real X server (Xvfb), end to end: providers on 127.0.0.1
# (PROVIDERS, kiln-test-providers: the provider agent with real Blender in bubblewrap), a real
# devnet that pays them, the real keyring that with-keyring.sh provides, and the real dunst as
# the notification server on the test's session bus (dbus-monitor records what it is sent).
#
#   - The sample scene, cut down to 6 frames of 160×120 pixels and 4 samples, is submitted: the
#     job page opens and its frame thumbnails fill in as frames come in, the jobs list row
#     follows it,
#     every frame lands in the output folder, every provider that rendered is paid (the
#     transaction hashes are shown, and copied), Open Folder opens the folder.
#   - A second job goes on with the window closed (the app says so in a notification),
#     app.show-job brings the window back on its page; the app quits half-way, starts again,
#     picks the job up and finishes it, and with the window closed tells so in a notification
#     with an Open Folder button, then exits by itself.
#   - Against a provider whose first result is wrong, the subtask fails and waits; Try Again
#     gives the provider another chance and the job finishes. The jobs that ended before are
#     listed as they ended.
#
# Prints TAP; screenshots go to SCREENSHOT_DIR. KILN_TEST_TIMEOUT (seconds, default 120)
# bounds every wait; KILN_TEST_DEBUG=1 has the app and the providers log their debug messages,
# and KILN_TEST_KEEP=DIR keeps every log there.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

if [ $# -ne 7 ]; then
  echo "usage: $0 KILN PROVIDERS APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR" >&2
  exit 2
fi

kiln=$1
providers=$2
app_id=$3
schema_dir=$4
data_dir=$5
source_root=$6
shots=$7
timeout=${KILN_TEST_TIMEOUT:-120}
here=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"

planned=22
echo "1..$planned"

for tool in node blender bwrap dunst dunstctl dbus-monitor; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is missing (build-aux/setup.sh installs it)"
done
[ -d "$source_root/node_modules/ethers" ] ||
  bail "the devnet's npm packages are missing: run build-aux/setup-npm.sh"
find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-jobs-test.XXXXXX")
devnet_pid=
providers_pid=
dunst_pid=
monitor_pid=

stop_pid ()
{
  if [ -n "$1" ]; then
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
  fi
}

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  exec 4>&-
  for pid in "$providers_pid" "$devnet_pid" "$monitor_pid" "$dunst_pid"; do
    stop_pid "$pid"
  done
  stop_display
  # KILN_TEST_KEEP=DIR keeps the logs there, for a look after a failure.
  if [ -n "${KILN_TEST_KEEP:-}" ]; then
    rm -rf "$KILN_TEST_KEEP" && mkdir -p "$KILN_TEST_KEEP" &&
      cp "$tmp"/*.log "$tmp"/*.out "$KILN_TEST_KEEP" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

click () { "$python" "$here/atspi-dump.py" --click kiln "$1" "$2" >>"$tmp/click.log" 2>&1; }
tree_has () { accessible_tree | grep -q -e "$1"; }
count_in_tree () { accessible_tree | grep -c -e "$1"; }
app_running () { [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; }
app_gone () { ! app_running; }

# start_app LOG ARGS...: the app on loopback, joined to the providers.
start_app ()
{
  log=$1
  shift
  kiln_on_loopback
  "$kiln" "$@" >"$log" 2>&1 3>&- 4>&- &
  kiln_pid=$!
}

# KILN_TEST_DEBUG=1: the app's debug messages go to its log.
if [ -n "${KILN_TEST_DEBUG:-}" ]; then
  export G_MESSAGES_DEBUG=Kiln
fi

# --- the desktop: display, notifications, a file manager ----------------------------------------
export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
start_display 1600x1200
gsettings set io.github.kilnapp.Kiln window-width 1400
gsettings set io.github.kilnapp.Kiln window-height 1100

# dunst, the notification server, on the test's session bus; dbus-monitor writes down every
# notification the app sends it.
mkdir -p "$XDG_CONFIG_HOME/dunst"
printf '[global]\n    idle_threshold = 0\n[urgency_normal]\n    timeout = 0\n' \
  >"$XDG_CONFIG_HOME/dunst/dunstrc"
dbus-monitor --session "type='method_call',interface='org.freedesktop.Notifications'" \
  >"$tmp/notifications.log" 2>&1 &
monitor_pid=$!
# Not under test: it runs without the test's debugging environment, in which a GLib warning
# of its own would end it.
env -u G_DEBUG -u G_MESSAGES_DEBUG -u MALLOC_CHECK_ -u MALLOC_PERTURB_ \
  dunst >"$tmp/dunst.log" 2>&1 &
dunst_pid=$!
dunst_ready ()
{
  gdbus call --session --timeout 5 --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.freedesktop.Notifications | grep -q true
}
wait_for "dunst" dunst_ready || bail "dunst did not start: $(cat "$tmp/dunst.log")"

# The "file manager": the default application for folders writes down what it was asked to
# open.
mkdir -p "$XDG_DATA_HOME/applications" "$XDG_CONFIG_HOME"
cat >"$tmp/files.sh" <<EOF
#!/bin/sh
printf '%s\\n' "\$@" >>"$tmp/opened.log"
EOF
chmod +x "$tmp/files.sh"
cat >"$XDG_DATA_HOME/applications/kiln-test-files.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Test Files
Exec=$tmp/files.sh %u
MimeType=inode/directory;
EOF
printf '[Default Applications]\ninode/directory=kiln-test-files.desktop\n' \
  >"$XDG_CONFIG_HOME/mimeapps.list"

# --- the devnet ---------------------------------------------------------------------------------
devnet_state=$tmp/state/devnet.json
mkdir -m 700 "$tmp/state"
mkfifo "$tmp/devnet-stdin"
node "$source_root/data/devnet/devnet.mjs" --json --state-file "$devnet_state" \
  <"$tmp/devnet-stdin" >"$tmp/devnet.json" 2>"$tmp/devnet.log" &
devnet_pid=$!
exec 4>"$tmp/devnet-stdin"
devnet_ready () { [ -s "$tmp/devnet.json" ] && [ -s "$devnet_state" ]; }
wait_for "the devnet" devnet_ready || bail "no devnet: $(cat "$tmp/devnet.log")"
export KILN_DEVNET_STATE="$devnet_state"

# --- providers ----------------------------------------------------------------------------------
# start_providers NAME ARGS...: kiln-test-providers, waited for until it lends; $bootstrap gets
# a --bootstrap option per provider.
start_providers ()
{
  name=$1
  shift
  "$providers" --dir "$tmp/$name" "$@" >"$tmp/$name.out" 2>"$tmp/$name.log" 3>&- 4>&- &
  providers_pid=$!
  providers_ready () { grep -qx ready "$tmp/$name.out"; }
  wait_for "the providers" providers_ready ||
    bail "the providers did not start: $(cat "$tmp/$name.log")"
  bootstrap=$(awk '$1 == "provider" { printf " --bootstrap %s", $3 }' "$tmp/$name.out")
}

stop_providers ()
{
  stop_pid "$providers_pid"
  providers_pid=
}

start_providers honest --honest 2

# --- the job ------------------------------------------------------------------------------------
started=$(date +%s)
# shellcheck disable=SC2086
start_app "$tmp/kiln.log" $bootstrap
account_shown () { action_enabled export-account; }
balance_known () { labels | grep -q '· Balance [0-9][0-9,.]* GNT$'; }
form_for () { label_shown "$1" && value_is 'text box' Frames "$2"; }
submit_enabled () { enabled button Submit; }
peers_connected () { labels | grep -q 'Online · 2 peers'; }
if wait_for "the window" window_shown Kiln &&
   wait_for "the welcome screen" action_enabled new-account &&
   activate new-account && wait_for "the account" account_shown &&
   wait_for "the providers to be linked" peers_connected &&
   click button 'Try a Sample Scene' &&
   wait_for "the sample scene" form_for kiln-sample-1.blend 1-12 &&
   wait_for "the balance" balance_known; then
  ok "the app is linked to two providers and opens the sample scene"
else
  not_ok "the app is linked to two providers and opens the sample scene" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln.log")"
  bail "no sample scene"
fi

# set_up_job FRAMES: the form cut down to FRAMES at 160×120 and 4 samples, then submitted.
set_up_job ()
{
  # Resol_ution puts the keyboard on its row, the next Tab in the width.
  focus Kiln && keys ctrl+a BackSpace && type_text "$1" &&
    keys alt+u Tab ctrl+a BackSpace && type_text 160 && keys Tab ctrl+a BackSpace &&
    type_text 120 && keys alt+m ctrl+a BackSpace && type_text 4 && keys Tab &&
    wait_for "the width" value_is 'spin button' 'Width in pixels' 160 &&
    wait_for "the height" value_is 'spin button' 'Height in pixels' 120 &&
    wait_for "the samples" value_is 'spin button' Samples 4 &&
    wait_for "Submit" submit_enabled && keys ctrl+Return
}
job_page_for () { label_shown "$1" && label_shown Frames && label_shown Subtasks; }
placeholders () { count_in_tree "Frame [0-9]*, not rendered yet"; }
# The page's own place for each frame: an empty card until the frame is in.
if set_up_job 1-6 && wait_for "the job page" job_page_for kiln-sample-1 &&
   [ "$(count_in_tree '^grid cell	Frame [1-6]')" -eq 6 ]; then
  ok "Ctrl+Return submits 6 frames at 160×120: the job page opens with a place for each frame"
else
  not_ok "Ctrl+Return submits 6 frames at 160×120: the job page opens with a place for each frame" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln.log")"
fi

# The providers are held still (SIGSTOP) as soon as the first frame is in the output folder
# (frames are written there as they are accepted), so that the page is seen half filled.
thumbnails () { count_in_tree "^image	Frame [0-9]*\$"; }
some_thumbnail () { [ "$(thumbnails)" -ge 1 ]; }
job_done () { label_shown Done && label_shown '6 of 6 frames'; }
frame_written () { find "$HOME" -path '*/Kiln Sample/frame_*.png' | grep -q .; }
if wait_for "a first frame" frame_written && kill -STOP "$providers_pid" &&
   wait_for "a first thumbnail" some_thumbnail &&
   half_shown=$(thumbnails) && half_waiting=$(placeholders) &&
   [ "$half_shown" -ge 1 ] && [ "$half_waiting" -ge 1 ]; then
  ok "thumbnails fill in as frames come in ($half_shown in, $half_waiting to come)"
else
  not_ok "thumbnails fill in as frames come in" "$(accessible_tree | grep Frame)"
fi
xdotool mousemove 0 0
screenshot job-page-rendering
kill -CONT "$providers_pid"

if wait_for "the job to end" job_done && [ "$(thumbnails)" -eq 6 ] &&
   [ "$(placeholders)" -eq 0 ]; then
  ok "the job is done, every frame's thumbnail shown"
else
  not_ok "the job is done, every frame's thumbnail shown" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln.log")"
fi

row_done () { tree_has "kiln-sample-1, Done, 6 of 6 frames"; }
if row_done && label_shown Renders; then
  ok "the jobs list shows the job done, with its 6 of 6 frames"
else
  not_ok "the jobs list shows the job done, with its 6 of 6 frames" \
    "$(accessible_tree | grep -i frames)"
fi

output=$(find "$HOME" -type d -name 'Kiln Sample' | head -n 1)
frames_kept ()
{
  for f in 1 2 3 4 5 6; do
    [ -s "$output/frame_000$f.png" ] || return 1
  done
  identify -format '%w×%h\n' "$output/frame_0001.png" | grep -qx '160×120'
}
if [ -n "$output" ] && frames_kept; then
  ok "the output folder holds the 6 frames, each 160×120"
else
  not_ok "the output folder holds the 6 frames, each 160×120" "$(ls -R "$HOME" | head -50)"
fi

# Who was paid what, and in which transaction.
paid_rows () { labels | grep -c '^Subtask [0-9] · paid in 0x[0-9a-f]\{64\}$'; }
providers_named ()
{
  for address in $(awk '$1 == "provider" { print $2 }' "$tmp/honest.out"); do
    short=$(printf '%s' "$address" | sed 's/^\(0x....\).*\(....\)$/\1…\2/')
    labels | grep -q "GNT to $short\$" && return 0
  done
  return 1
}
if [ "$(paid_rows)" -eq 6 ] && providers_named; then
  ok "the job page lists the 6 payments, to whom and in which transaction"
else
  not_ok "the job page lists the 6 payments, to whom and in which transaction" \
    "labels: $(labels | tr '\n' '|')"
fi

# What another program pastes: the hash shown first.
first_hash=$(labels | sed -n 's/^Subtask [0-9] · paid in \(0x[0-9a-f]\{64\}\)$/\1/p' | head -n 1)
copied () { [ "$("$python" "$here/clipboard.py" 2>/dev/null)" = "$first_hash" ]; }
if [ -n "$first_hash" ] && click button 'Copy the Transaction Hash' &&
   wait_for "the clipboard" copied; then
  ok "a transaction hash is copied with its button"
else
  not_ok "a transaction hash is copied with its button" "$first_hash" \
    "$("$python" "$here/clipboard.py" 2>&1)" "$(cat "$tmp/click.log")"
fi
xdotool mousemove 0 0
screenshot job-page

# GIO hands the folder over as a path, or as a URI to programs that take those.
folder_opened ()
{
  grep -q -e "^$output/\?\$" -e "^file://.*/Kiln%20Sample/\?\$" "$tmp/opened.log"
}
if click button 'Open Folder' && wait_for "the file manager" folder_opened; then
  ok "Open Folder opens the output folder in the file manager"
else
  not_ok "Open Folder opens the output folder in the file manager" \
    "$(cat "$tmp/opened.log" 2>/dev/null)" "$(cat "$tmp/kiln.log")"
fi

# --- with the window closed, and across a restart ---------------------------------------------
# The providers are held still (SIGSTOP) from the second job's first frames until the app has
# closed its window, quit and started again, so that the job is sure to be half-way then.
notified () { grep -A12 'member=Notify' "$tmp/notifications.log" | grep -q -e "$1"; }
back_home ()
{
  click button 'Back to Renders' && wait_for "the jobs list" label_shown 'Drop a .blend File Here'
}
second_started () { tree_has "kiln-sample-1, [A-Z][a-z ]*…, [1-9][0-9]* of 12 frames"; }
if back_home && click button 'Try a Sample Scene' &&
   wait_for "the sample scene" form_for kiln-sample-1.blend 1-12 && set_up_job 1-12 &&
   wait_for "the second job" label_shown '0 of 12 frames' &&
   wait_for "a frame of the second job" second_started &&
   kill -STOP "$providers_pid"; then
  ok "a second job of 12 frames is submitted from the list, and starts"
else
  not_ok "a second job of 12 frames is submitted from the list, and starts" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln.log")"
fi

if focus Kiln && keys ctrl+w && wait_for "the window to close" window_gone Kiln &&
   wait_for "the notification" notified 'Kiln Keeps Rendering' && app_running; then
  ok "with the window closed the app keeps rendering, and says so in a notification"
else
  not_ok "with the window closed the app keeps rendering, and says so in a notification" \
    "$(cat "$tmp/notifications.log")" "$(cat "$tmp/kiln.log")"
fi

# What clicking that notification does (GLib keeps its action, app.show-job with the job's ID,
# to itself): the window comes back on the job's page. The job under way is the one with a
# work folder.
job_id=$(ls "$XDG_DATA_HOME/kiln/render-jobs" 2>/dev/null | head -n 1)
if [ -n "$job_id" ] &&
   gdbus call --session --timeout 10 --dest "$app_id" --object-path "$object_path" \
     --method org.gtk.Actions.Activate show-job "[<'$job_id'>]" '{}' >/dev/null &&
   wait_for "the window" window_shown Kiln && wait_for "the job page" label_shown Subtasks &&
   wait_for "the job" label_shown "$(labels | grep -m 1 '^[0-9]* of 12 frames$')"; then
  ok "app.show-job (the notification's default action) brings the window back on the job page"
else
  not_ok "app.show-job (the notification's default action) brings the window back on the job page" \
    "job ${job_id:-not found}" "$(cat "$tmp/notifications.log")" "labels: $(labels | tr '\n' '|')"
fi

quit_kiln "quitting in the middle of the job ends the app cleanly" "$tmp/kiln.log"
cp "$tmp/kiln.log" "$tmp/kiln-first.log"
# The providers finish what they had of the job before the app comes back.
kill -CONT "$providers_pid"
providers_idle () { [ "$(grep -x -e busy -e idle "$tmp/honest.out" | tail -n 1)" != busy ]; }
wait_for "the providers to finish" providers_idle

# shellcheck disable=SC2086
start_app "$tmp/kiln2.log" $bootstrap
half_way () { tree_has "kiln-sample-1, [A-Z][a-z ]*…, [1-9][0-9]* of 12 frames"; }
loaded () { half_way && tree_has "kiln-sample-1, Done, 6 of 6 frames"; }
if wait_for "the window" window_shown Kiln && wait_for "the jobs" loaded &&
   kill -STOP "$providers_pid"; then
  ok "started again, the app lists both jobs: the one done, and the one to finish"
else
  not_ok "started again, the app lists both jobs: the one done, and the one to finish" \
    "$(accessible_tree | grep frames)" "$(cat "$tmp/kiln2.log")"
fi

if focus Kiln && keys ctrl+w && wait_for "the window to close" window_gone Kiln &&
   kill -CONT "$providers_pid" &&
   wait_for "the end of the job" notified 'Render Done' &&
   notified 'all 12 frames are in' && notified 'app.open-job-folder' &&
   notified 'Open Folder' && wait_for "the app to exit by itself" app_gone; then
  wait "$kiln_pid"
  status=$?
  if [ "$status" -eq 0 ] && ! warnings_in "$tmp/kiln2.log" >/dev/null; then
    ok "the job goes on where it stopped, its end is notified with Open Folder, the app exits"
  else
    not_ok "the job goes on where it stopped, its end is notified with Open Folder, the app exits" \
      "exit status $status" "$(cat "$tmp/kiln2.log")"
  fi
else
  kill -CONT "$providers_pid" 2>/dev/null
  not_ok "the job goes on where it stopped, its end is notified with Open Folder, the app exits" \
    "$(cat "$tmp/notifications.log")" "$(cat "$tmp/kiln2.log")"
fi
kiln_pid=

# Shown, or shown and closed once their time was up.
shown=$(($(dunstctl count displayed 2>/dev/null || echo 0) + \
         $(dunstctl count history 2>/dev/null || echo 0)))
if kill -0 "$dunst_pid" 2>/dev/null && [ "$shown" -ge 2 ]; then
  ok "dunst shows the notifications ($shown of them)"
else
  not_ok "dunst shows the notifications" "shown: $shown" "$(cat "$tmp/dunst.log")"
fi

all_frames ()
{
  for f in 01 02 03 04 05 06 07 08 09 10 11 12; do
    [ -s "$output/frame_00$f.png" ] || return 1
  done
}
if all_frames; then
  ok "the output folder holds the second job's 12 frames"
else
  not_ok "the output folder holds the second job's 12 frames" "$(ls "$output")"
fi

# --- a provider whose first result is wrong ----------------------------------------------------
stop_providers
start_providers cheat --cheat-once 1
# shellcheck disable=SC2086
start_app "$tmp/kiln3.log" $bootstrap
one_peer () { labels | grep -q 'Online · 1 peer'; }
ended_rows ()
{
  tree_has "kiln-sample-1, Done, 6 of 6 frames" && tree_has "kiln-sample-1, Done, 12 of 12 frames"
}
if wait_for "the window" window_shown Kiln && wait_for "the jobs" ended_rows &&
   wait_for "the provider" one_peer; then
  ok "the jobs that ended are listed as they ended"
else
  not_ok "the jobs that ended are listed as they ended" "$(accessible_tree | grep frames)" \
    "$(cat "$tmp/kiln3.log")"
fi

failed_shown () { labels | grep -q '^1 subtask failed and waits'; }
if click button 'Try a Sample Scene' &&
   wait_for "the sample scene" form_for kiln-sample-1.blend 1-12 &&
   wait_for "the balance" balance_known && set_up_job 1-2 &&
   wait_for "the rejected result" failed_shown && labels | grep -q '^Failed: '; then
  ok "a result that fails verification leaves its subtask failed and waiting, and says why"
else
  not_ok "a result that fails verification leaves its subtask failed and waiting, and says why" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/cheat.out")" "$(cat "$tmp/kiln3.log")"
fi
screenshot job-failed-subtask

two_done () { label_shown Done && label_shown '2 of 2 frames'; }
# Its mnemonic, as a keyboard user would: Alt+T.
if focus Kiln && keys alt+t && wait_for "the job to end" two_done && ! failed_shown; then
  ok "Try Again (Alt+T) gives the provider another chance, and the job finishes"
else
  not_ok "Try Again (Alt+T) gives the provider another chance, and the job finishes" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/cheat.out")" "$(cat "$tmp/kiln3.log")"
fi

if grep -q 'altered' "$tmp/cheat.out" && grep -q '^rejected ' "$tmp/cheat.out" &&
   [ "$(grep -c '^result ' "$tmp/cheat.out")" -ge 3 ]; then
  ok "the provider's altered result was rejected, its later ones accepted"
else
  not_ok "the provider's altered result was rejected, its later ones accepted" \
    "$(cat "$tmp/cheat.out")"
fi

quit_kiln "the app quits cleanly, with no warnings" "$tmp/kiln3.log"
stop_providers
echo "# $(($(date +%s) - started)) s from the first start to the end"

[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
