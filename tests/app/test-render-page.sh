#!/bin/sh
# test-render-page.sh KILN APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR
#
# The Render page of the real app on a real X server (Xvfb), with real Blender in the
# bubblewrap sandbox, a real devnet (anvil with the GNT test token) for the balance and the
# real keyring that with-keyring.sh provides. The page is the first one and shows its empty
# state; Ctrl+O opens the file chooser; "Try a Sample Scene" has Blender make the sample and
# opens it; a tiny scene made here with Blender and opened as the file manager does
# (`kiln FILE.blend`, forwarded to the running app) fills the form with its own frames,
# resolution and samples, read back over AT-SPI; a bad frame list and a price the balance
# cannot cover are explained as they are typed and disable Submit, which a good price enables
# again; Submit announces the job and its page follows it until Cancel, asked for and confirmed,
# after which the jobs list beside the drop zone shows it cancelled; a scene dragged from
# another window and dropped on the page opens, its missing texture listed on the form and
# keeping Submit disabled; a text file named .blend is explained as not a Blender file, and an
# EEVEE scene as one providers cannot render. Prints TAP; screenshots go to SCREENSHOT_DIR.
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

planned=16
echo "1..$planned"

for tool in node blender bwrap; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is missing (build-aux/setup.sh installs it)"
done
[ -d "$source_root/node_modules/ethers" ] ||
  bail "the devnet's npm packages are missing: run build-aux/setup-npm.sh"
find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-render-test.XXXXXX")
devnet_pid=
blender_pid=
drag_pid=

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  exec 4>&-
  for pid in "$devnet_pid" "$blender_pid" "$drag_pid"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# keys KEY...: typed into the focused window, slowly enough for an idle X server.

# value ROLE NAME: the text of the node of that role and accessible name (an entry's text, a
# spin button's number).

submit_enabled () { "$python" "$here/atspi-dump.py" --state kiln button Submit sensitive; }
submit_disabled () { ! submit_enabled; }
click () { "$python" "$here/atspi-dump.py" --click kiln button "$1" >>"$tmp/click.log" 2>&1; }
render_tab_selected () { "$python" "$here/atspi-dump.py" --state kiln tab Render selected; }

# The tiny scene: Cycles, frames 3-7, 200x150 at 100 %, 12 samples, and a camera; nothing
# here is a factory default, so that the form can only show it if the scene was read.
cat >"$tmp/make-tiny.py" <<'EOF'
import sys
import bpy
out = sys.argv[sys.argv.index("--") + 1]
bpy.ops.wm.read_factory_settings(use_empty=False)
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.samples = 12
scene.cycles.use_denoising = True
scene.render.resolution_x = 200
scene.render.resolution_y = 150
scene.render.resolution_percentage = 100
scene.frame_start = 3
scene.frame_end = 7
bpy.context.preferences.filepaths.save_version = 0
bpy.ops.wm.save_as_mainfile(filepath=out + "/tiny.blend")
# The same with a texture that is not there, then with EEVEE.
image = bpy.data.images.new("absent", 4, 4)
image.source = "FILE"
image.filepath = "//absent.png"
material = bpy.data.materials.new("Textured")
material.use_nodes = True
material.node_tree.nodes.new("ShaderNodeTexImage").image = image
bpy.data.objects["Cube"].data.materials.append(material)
bpy.ops.wm.save_as_mainfile(filepath=out + "/missing.blend")
scene.render.engine = "BLENDER_EEVEE"
bpy.ops.wm.save_as_mainfile(filepath=out + "/eevee.blend")
EOF
mkdir "$tmp/scenes"
blender --background --factory-startup -noaudio --python "$tmp/make-tiny.py" \
  -- "$tmp/scenes" >"$tmp/blender.log" 2>&1 &
blender_pid=$!
printf 'These are notes about a scene, not a scene.\n' >"$tmp/scenes/notes.blend"

export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
start_display 1600x1400
# Tall enough for the whole form, from the scene to Submit, in the screenshots.
gsettings set io.github.kilnapp.Kiln window-height 1340

# --- the devnet -----------------------------------------------------------------------------
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

# --- the empty page -------------------------------------------------------------------------
started=$(date +%s)
start_kiln "$tmp/kiln.log"
account_shown () { action_enabled export-account; }
if wait_for "the window" window_shown Kiln &&
   wait_for "the welcome screen" action_enabled new-account &&
   activate new-account && wait_for "the account" account_shown &&
   wait_for "the Render page" render_tab_selected &&
   wait_for "the empty state" label_shown 'Drop a .blend File Here'; then
  ok "the Render page comes first and asks for a .blend file"
else
  not_ok "the Render page comes first and asks for a .blend file" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln.log")"
  bail "no Render page"
fi
screenshot render-empty

if focus Kiln && keys ctrl+o && wait_for "the file chooser" window_shown 'Open a Blender Scene' &&
   focus 'Open a Blender Scene' && keys Escape &&
   wait_for "the file chooser to close" window_gone 'Open a Blender Scene'; then
  ok "Ctrl+O opens the file chooser for a scene"
else
  not_ok "Ctrl+O opens the file chooser for a scene" "$(xwininfo -root -tree | grep '"')"
fi

# --- the sample scene -------------------------------------------------------------------------
form_for () { label_shown "$1" && value_is 'text box' Frames "$2"; }
if click 'Try a Sample Scene' &&
   wait_for "the sample scene" form_for kiln-sample-1.blend 1-12 &&
   value_is 'spin button' 'Width in pixels' 640 &&
   value_is 'spin button' 'Height in pixels' 360; then
  ok "Try a Sample Scene has Blender make a 640×360 scene of 12 frames and opens it"
else
  not_ok "Try a Sample Scene has Blender make a 640×360 scene of 12 frames and opens it" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/click.log" "$tmp/kiln.log")"
fi

# --- a scene opened as the file manager does ----------------------------------------------
wait "$blender_pid"
blender_status=$?
blender_pid=
[ "$blender_status" -eq 0 ] && [ -s "$tmp/scenes/eevee.blend" ] ||
  bail "Blender could not make the tiny scene: $(cat "$tmp/blender.log")"

if "$kiln" "$tmp/scenes/tiny.blend" >"$tmp/open.log" 2>&1 &&
   wait_for "the tiny scene's form" form_for tiny.blend 3-7; then
  ok "kiln FILE.blend opens the scene in the running app"
else
  not_ok "kiln FILE.blend opens the scene in the running app" \
    "$(cat "$tmp/open.log")" "labels: $(labels | tr '\n' '|')"
fi

width=$(value 'spin button' 'Width in pixels')
height=$(value 'spin button' 'Height in pixels')
samples=$(value 'spin button' Samples)
if [ "$width" = 200 ] && [ "$height" = 150 ] && [ "$samples" = 12 ] &&
   label_shown 'Denoising Is Off'; then
  ok "the form shows the scene's 200×150 pixels and 12 samples, and that denoising is off"
else
  not_ok "the form shows the scene's 200×150 pixels and 12 samples, and that denoising is off" \
    "width $width, height $height, samples $samples" "labels: $(labels | tr '\n' '|')"
fi

# 5 subtasks of at most 10 minutes on one core at 1 GNT per CPU-hour: 5 × ⌈10^18 / 6⌉.
cost_shown () { label_shown 'At most 0.8334 GNT · Balance 1,000 GNT'; }
if wait_for "the cost and the balance" cost_shown && wait_for "Submit" submit_enabled; then
  ok "the most the job can cost is shown against the balance, and Submit is enabled"
else
  not_ok "the most the job can cost is shown against the balance, and Submit is enabled" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln.log")"
fi
screenshot render-form

# --- mistakes -------------------------------------------------------------------------------
# The form puts the keyboard in the frame list when it opens a scene.
frames_error () { label_shown \
  'Frame list, character 3: expected the last frame of the range, found “x”'; }
if focus Kiln && keys ctrl+a BackSpace && type_text '3-x' &&
   wait_for "the frame list error" frames_error && submit_disabled &&
   label_shown 'Correct the frame list to submit.'; then
  ok "a bad frame list is explained as it is typed and disables Submit"
else
  not_ok "a bad frame list is explained as it is typed and disables Submit" \
    "labels: $(labels | tr '\n' '|')"
fi
screenshot render-frames-error

too_much () { labels | grep -q '^More than your balance of 1,000 GNT\. '; }
if focus Kiln && keys ctrl+a BackSpace && type_text '3-7' &&
   wait_for "Submit" submit_enabled && keys alt+p ctrl+a BackSpace && type_text 10000 &&
   wait_for "the balance error" too_much && submit_disabled &&
   label_shown 'At most 8,333.3334 GNT · Balance 1,000 GNT'; then
  ok "a price whose cost the balance cannot cover disables Submit and says why"
else
  not_ok "a price whose cost the balance cannot cover disables Submit and says why" \
    "labels: $(labels | tr '\n' '|')"
fi
screenshot render-too-expensive

if focus Kiln && keys ctrl+a BackSpace && type_text 0.5 &&
   wait_for "the new cost" label_shown 'At most 0.4167 GNT · Balance 1,000 GNT' &&
   wait_for "Submit" submit_enabled; then
  ok "a price the balance covers enables Submit again"
else
  not_ok "a price the balance covers enables Submit again" "labels: $(labels | tr '\n' '|')"
fi

# --- submitting -----------------------------------------------------------------------------
if focus Kiln && keys ctrl+Return &&
   wait_for "the job" label_shown 'Waiting for providers…' && label_shown 'tiny' &&
   label_shown '0 of 5 frames'; then
  ok "Ctrl+Return submits: the job is announced and the page follows it"
else
  not_ok "Ctrl+Return submits: the job is announced and the page follows it" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln.log")"
fi
screenshot render-job

cancelled_row () { accessible_tree | grep -q '^list item	tiny, Cancelled, 0 of 5 frames$'; }
if click 'Cancel Render…' && wait_for "the question" window_shown 'Cancel Render' &&
   label_shown 'Cancel “tiny”?' && focus 'Cancel Render' && keys alt+c &&
   wait_for "the cancelled job" label_shown 'Cancelled' &&
   click 'Back to Renders' && wait_for "the empty state" label_shown 'Drop a .blend File Here' &&
   cancelled_row; then
  ok "Cancel Render, once confirmed, stops the job; the list beside the drop zone shows it"
else
  not_ok "Cancel Render, once confirmed, stops the job; the list beside the drop zone shows it" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/kiln.log")"
fi

# --- dropping a file --------------------------------------------------------------------------
# geometry TITLE: "X Y WIDTH HEIGHT" of that window.
geometry ()
{
  xwininfo -id "$(window_id "$1")" |
    awk '/Absolute upper-left X:/ { x = $4 } /Absolute upper-left Y:/ { y = $4 }
         /Width:/ { w = $2 } /Height:/ { h = $2 } END { print x, y, w, h }'
}
# drag FROM TO: drags with the mouse from the middle of window FROM to the middle of window
# TO, in small steps as a hand would, then drops.
drag ()
{
  # shellcheck disable=SC2046
  set -- $(geometry "$1") $(geometry "$2")
  from_x=$(($1 + $3 / 2)) from_y=$(($2 + $4 / 2))
  to_x=$(($5 + $7 / 2)) to_y=$(($6 + $8 / 2))
  xdotool mousemove "$from_x" "$from_y" && sleep 0.2 && xdotool mousedown 1 || return 1
  for step in 1 2 3 4 5 6 7 8 9 10; do
    xdotool mousemove $((from_x + (to_x - from_x) * step / 10)) \
      $((from_y + (to_y - from_y) * step / 10))
    sleep 0.05
  done
  screenshot render-drop
  xdotool mouseup 1
}
# The scene dropped is the one with a missing texture.
"$python" "$here/drag-source.py" "$tmp/scenes/missing.blend" >"$tmp/drag.log" 2>&1 &
drag_pid=$!
if wait_for "the drag source" window_shown 'Drag Source' && drag 'Drag Source' Kiln &&
   wait_for "the dropped scene's form" form_for missing.blend 3-7; then
  ok "a .blend dropped on the page opens it"
else
  not_ok "a .blend dropped on the page opens it" "$(cat "$tmp/drag.log")" \
    "labels: $(labels | tr '\n' '|')"
fi
kill "$drag_pid" 2>/dev/null
wait "$drag_pid" 2>/dev/null
drag_pid=

# A missing texture is listed by name on the form, whose Submit waits for it.
missing_shown () { labels | grep -q "^Image, not found in $tmp/scenes\$"; }
if label_shown absent.png && missing_shown &&
   labels | grep -q '^The scene uses a file that is missing\. ' && submit_disabled; then
  ok "a missing texture is listed by name and Submit waits for it"
else
  not_ok "a missing texture is listed by name and Submit waits for it" \
    "labels: $(labels | tr '\n' '|')"
fi
screenshot render-missing-file

# --- not a scene ----------------------------------------------------------------------------
not_blend ()
{
  labels | grep -q '^“notes.blend” is not a Blender scene (it does not start like one)'
}
if "$kiln" "$tmp/scenes/notes.blend" >"$tmp/open.log" 2>&1 &&
   wait_for "the explanation" label_shown 'Not a Blender File' && not_blend; then
  ok "a text file named .blend is explained as not a Blender file"
else
  not_ok "a text file named .blend is explained as not a Blender file" \
    "labels: $(labels | tr '\n' '|')"
fi
screenshot render-not-blend

eevee_explained ()
{
  labels | grep -q '^“eevee.blend” renders with EEVEE, but providers render with Cycles\. '
}
if "$kiln" "$tmp/scenes/eevee.blend" >"$tmp/open.log" 2>&1 &&
   wait_for "the explanation" label_shown 'Providers Render with Cycles' && eevee_explained; then
  ok "an EEVEE scene is explained: providers render with Cycles, and why"
else
  not_ok "an EEVEE scene is explained: providers render with Cycles, and why" \
    "labels: $(labels | tr '\n' '|')"
fi
screenshot render-eevee

# Closing the window ends the app (nothing keeps it in the background here) and disposes of
# every page.
gone () { ! kill -0 "$kiln_pid" 2>/dev/null; }
if focus Kiln && keys ctrl+w && wait_for "the app to quit" gone; then
  wait "$kiln_pid"
  status=$?
  if [ "$status" -eq 0 ] && ! warnings_in "$tmp/kiln.log" >/dev/null; then
    ok "closing the window quits cleanly, with no warnings"
  else
    not_ok "closing the window quits cleanly, with no warnings" "exit status $status" \
      "$(cat "$tmp/kiln.log")"
  fi
else
  not_ok "closing the window quits cleanly, with no warnings" "the app did not quit"
fi
kiln_pid=
echo "# $(($(date +%s) - started)) s from the app's start to its end"

[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
