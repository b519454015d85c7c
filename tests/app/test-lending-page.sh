#!/bin/sh
# test-lending-page.sh KILN APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR
#
# Lending in the real app on a real X server (Xvfb), with the real keyring and the real
# status-notifier-watcher on the private session bus that with-keyring.sh provides, and
# idle-monitor.py serving GNOME's org.gnome.Mutter.IdleMonitor there with idle times the test
# sets: the Lending page appears; its switch changes the setting and the provider's state;
# the status line says why work waits (the computer in use, outside the schedule) or that
# Kiln, with Blender found and measured, waits for work from the market; the schedule
# follows the setting and its day buttons change it; a minimum price is checked as it is
# typed and saved exactly; the tray's "Pause Lending" flips the switch; closing the window
# keeps Kiln and its tray item running with "run-in-background" on, and quits it with the
# setting off; --background starts without a window; the app's "lend" action (the desktop
# file's "Lend Idle CPU") lends without opening one; "start-on-login" writes and removes the
# autostart entry (in the temporary XDG_CONFIG_HOME); and, when the devnet can run (node and
# the repository's npm packages), neither minted test GNT nor GNT sent to the account by
# someone else count as earnings (only payments for lent work do: test-lending-market.sh).
# Prints TAP; screenshots go to SCREENSHOT_DIR.
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

# Someone who pays: the address of the Web3 documentation's private key, funded by the devnet.
payer_key=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318
payer=0x2c7536E3605D9C16a7a3D7b1898e529396a65c23
paid=12.345678901234567891
paid_shown='12.3456 GNT'
# The account's balance once it is paid: the 1,000 minted test GNT and the payment.
paid_units=1012345678901234567891

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"
# shellcheck source=tests/app/lending-test-lib.sh
. "$here/lending-test-lib.sh"

planned=26
echo "1..$planned"

find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-lending-test.XXXXXX")

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  stop_lending_services
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- the idle monitor and the tray's watcher ------------------------------------------------
if start_lending_services; then
  ok "Mutter's idle monitor and the status-notifier-watcher are on the session bus"
else
  not_ok "Mutter's idle monitor and the status-notifier-watcher are on the session bus" \
    "$(cat "$tmp/idle.log" "$tmp/watcher.log")"
  bail "no idle monitor or watcher"
fi

# tray_menu ID: clicks the tray menu's item ID, as a panel does (KilnTrayMenuItem: 1 is the
# lending switch, 4 is Quit).
tray_menu ()
{
  bus_call --dest "$(tray_name)" --object-path /MenuBar \
    --method com.canonical.dbusmenu.Event "$1" clicked '<int32 0>' 0 >/dev/null
}
tray_menu_label ()
{
  bus_call --dest "$(tray_name)" --object-path /MenuBar \
    --method com.canonical.dbusmenu.GetProperty 1 label
}
tray_activate ()
{
  bus_call --dest "$(tray_name)" --object-path /StatusNotifierItem \
    --method org.kde.StatusNotifierItem.Activate 0 0 >/dev/null
}

# --- the page --------------------------------------------------------------------------------
switch_on () { "$python" "$here/atspi-dump.py" --state kiln switch 'Lend This Computer' checked; }
switch_off () { ! switch_on; }
# click ROLE NAME: activates that widget as a screen reader does.
click () { "$python" "$here/atspi-dump.py" --click kiln "$@" >"$tmp/click.log" 2>&1; }

export GSETTINGS_SCHEMA_DIR="$schema_dir"
# The devnet, started near the end, writes its endpoints here; Kiln follows the file.
mkdir -m 700 "$tmp/state"
export KILN_DEVNET_STATE="$tmp/state/devnet.json"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
start_display 1600x1400
# Tall enough to show the whole page in the screenshot.
gsettings set "$schema_id" window-height 1250
# Other programs' CPU use on this machine is not the test's to decide: it never holds lending
# back here.
gsettings set "$schema_id" lending-cpu-threshold 100

# --- the page appears, and its switch lends ------------------------------------------------
start_kiln "$tmp/first.log"
account_shown () { action_enabled export-account; }
if wait_for "the window" window_shown Kiln &&
   wait_for "the welcome screen" action_enabled new-account &&
   activate new-account && wait_for "the account" account_shown &&
   wait_for "the Lending page" show_lending_page &&
   wait_for "the status" label_shown 'Lending is off'; then
  ok "the Lending page appears (Alt+L) and says lending is off"
else
  not_ok "the Lending page appears (Alt+L) and says lending is off" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/first.log")"
  bail "no Lending page"
fi

if wait_for "the tray item" tray_registered &&
   tray_status_is Passive; then
  ok "the app registers its tray item, passive while lending is off"
else
  not_ok "the app registers its tray item, passive while lending is off" \
    "status: $(tray_property Status)" "$(cat "$tmp/watcher.log")"
fi

if click switch 'Lend This Computer' &&
   wait_for "the setting" setting_is lending-enabled true &&
   wait_for "the status" label_shown 'Waiting: you are using the computer' && switch_on; then
  ok "the switch turns lending on: the setting follows, and the page says the computer is in use"
else
  not_ok "the switch turns lending on" "$(cat "$tmp/click.log")" \
    "$(accessible_tree | grep -B2 -A2 'Lend This Computer')" \
    "lending-enabled: $(setting lending-enabled)" "labels: $(labels | tr '\n' '|')"
fi

# Idle for an hour: longer than any idle delay.
if wait_for "the app's idle watch" idle_watched && set_idle_ms 3600000 &&
   wait_for "the status" label_shown 'Waiting for work' &&
   wait_for "the tray" tray_status_is Active; then
  ok "idle: Blender found and measured, the page says Kiln waits for work; the tray is active"
else
  not_ok "idle: the page says Kiln waits for work" "labels: $(labels | tr '\n' '|')" \
    "tray status: $(tray_property Status)"
fi
screenshot lending-page

if user_active && wait_for "the status" label_shown 'Waiting: you are using the computer'; then
  ok "input: the page says lending waits because the computer is in use"
else
  not_ok "input: the page says lending waits because the computer is in use" \
    "labels: $(labels | tr '\n' '|')"
fi

# No day in the schedule: idle or not, lending waits, and says why.
if gsettings set "$schema_id" lending-schedule '(0, 0, 0)' &&
   wait_for "the app's idle watch" idle_watched && set_idle_ms 3600000 &&
   wait_for "the status" label_shown 'Waiting: outside the lending schedule' &&
   label_shown 'Never: no day is chosen'; then
  ok "an empty schedule reaches the engine: waiting, outside the lending schedule"
else
  not_ok "an empty schedule reaches the engine" "labels: $(labels | tr '\n' '|')"
fi
# GTK 4.8 shows a toggle button as a button that is pressed or not.
day_on () { "$python" "$here/atspi-dump.py" --state kiln button "$1" pressed; }
weekdays_on ()
{
  for day in Monday Tuesday Wednesday Thursday Friday; do day_on "$day" || return 1; done
  ! day_on Saturday && ! day_on Sunday
}
if gsettings set "$schema_id" lending-schedule '(31, 1320, 420)' &&
   wait_for "the schedule" label_shown 'Weekdays, 22:00–07:00' &&
   focus Kiln && keys alt+s && wait_for "the days" weekdays_on; then
  ok "the schedule follows the setting: weekdays overnight, Monday to Friday chosen"
else
  not_ok "the schedule follows the setting" "labels: $(labels | tr '\n' '|')" \
    "$(accessible_tree | grep -A12 'Days')"
fi
if click button Saturday &&
   wait_for "the setting" setting_is lending-schedule '(uint32 63, uint32 1320, uint32 420)' &&
   wait_for "the schedule" label_shown 'Mon, Tue, Wed, Thu, Fri, Sat, 22:00–07:00'; then
  ok "choosing Saturday on the page adds it to the setting"
else
  not_ok "choosing Saturday on the page adds it to the setting" "$(cat "$tmp/click.log")" \
    "lending-schedule: $(setting lending-schedule)" "labels: $(labels | tr '\n' '|')"
fi
screenshot lending-schedule
if gsettings set "$schema_id" lending-schedule '(127, 0, 0)' &&
   wait_for "the schedule" label_shown 'Every day, all day' &&
   wait_for "the status" label_shown 'Waiting for work' && focus Kiln && keys alt+s; then
  ok "every day, all day: waiting for work again"
else
  not_ok "every day, all day: waiting for work again" "labels: $(labels | tr '\n' '|')"
fi

# --- the minimum price, typed ------------------------------------------------------------------
price_error='The amount “1.5x” is not valid: only digits and one decimal point are allowed'
if focus Kiln && keys alt+p ctrl+a BackSpace && type_text '1.5x' &&
   wait_for "the price error" label_shown "$price_error" && keys Return &&
   setting_is lending-min-price "'0'"; then
  ok "a mistyped minimum price is reported as it is typed, and Enter does not save it"
else
  not_ok "a mistyped minimum price is reported as it is typed, and Enter does not save it" \
    "lending-min-price: $(setting lending-min-price)" "labels: $(labels | tr '\n' '|')"
fi
screenshot lending-price-error
if focus Kiln && keys ctrl+a BackSpace && type_text '0.000000000000000025' &&
   ! label_shown "$price_error" && setting_is lending-min-price "'0'" && keys Return &&
   wait_for "the price" setting_is lending-min-price "'0.000000000000000025'" &&
   ! label_shown "$price_error"; then
  ok "a valid minimum price with all 18 decimals is saved exactly when Enter is pressed"
else
  not_ok "a valid minimum price with all 18 decimals is saved exactly when Enter is pressed" \
    "lending-min-price: $(setting lending-min-price)" "labels: $(labels | tr '\n' '|')"
fi

# --- the tray's menu ----------------------------------------------------------------------------
if tray_menu_label | grep -q "'_Pause Lending'" && tray_menu 1 &&
   wait_for "the setting" setting_is lending-enabled false &&
   wait_for "the switch" switch_off && wait_for "the status" label_shown 'Lending is off'; then
  ok "the tray's Pause Lending turns the setting and the page's switch off"
else
  not_ok "the tray's Pause Lending turns the setting and the page's switch off" \
    "menu: $(tray_menu_label)" "lending-enabled: $(setting lending-enabled)"
fi
if tray_menu_label | grep -q "'_Resume Lending'" && tray_menu 1 &&
   wait_for "the setting" setting_is lending-enabled true && wait_for "the switch" switch_on &&
   wait_for "the status" label_shown 'Waiting for work'; then
  ok "the tray's Resume Lending turns them back on"
else
  not_ok "the tray's Resume Lending turns them back on" \
    "menu: $(tray_menu_label)" "lending-enabled: $(setting lending-enabled)"
fi

# --- closing the window --------------------------------------------------------------------------
if focus Kiln && keys ctrl+w && wait_for "the window to close" window_gone Kiln &&
   tray_status_is Active && kill -0 "$kiln_pid"; then
  ok "closing the window with run-in-background on leaves Kiln and its tray item running"
else
  not_ok "closing the window with run-in-background on leaves Kiln and its tray item running" \
    "$(cat "$tmp/first.log")"
fi
if tray_activate && wait_for "the window" window_shown Kiln &&
   wait_for "the Lending page" show_lending_page && label_shown 'Waiting for work'; then
  ok "activating the tray item opens the window again"
else
  not_ok "activating the tray item opens the window again" "$(cat "$tmp/first.log")"
fi

gsettings set "$schema_id" run-in-background false
gone () { ! kill -0 "$kiln_pid" 2>/dev/null; }
if focus Kiln && keys ctrl+w && wait_for "the app to quit" gone; then
  wait "$kiln_pid"
  status=$?
  if [ "$status" -eq 0 ] && ! warnings_in "$tmp/first.log" >/dev/null; then
    ok "with run-in-background off, closing the window quits cleanly"
  else
    not_ok "with run-in-background off, closing the window quits cleanly" \
      "exit status $status" "$(cat "$tmp/first.log")"
  fi
else
  not_ok "with run-in-background off, closing the window quits cleanly" "the app kept running"
  kill "$kiln_pid" 2>/dev/null
  wait "$kiln_pid" 2>/dev/null
fi
kiln_pid=
if ! name_owned "$app_id" && [ -z "$(tray_name)" ]; then
  ok "the app's name and its tray item are gone"
else
  not_ok "the app's name and its tray item are gone"
fi

# --- --background and start-on-login ----------------------------------------------------------
# Lending off: only the tray item keeps Kiln running.
gsettings set "$schema_id" run-in-background true
gsettings set "$schema_id" lending-enabled false
"$kiln" --background >"$tmp/background.log" 2>&1 3>&- 4>&- 5>&- &
kiln_pid=$!
if wait_for "the tray item" tray_registered && name_owned "$app_id" && window_gone Kiln &&
   tray_status_is Passive; then
  ok "kiln --background starts without a window, with its tray item"
else
  not_ok "kiln --background starts without a window, with its tray item" \
    "$(cat "$tmp/background.log")"
fi
# What the desktop file's "Lend Idle CPU" asks for.
if activate lend && wait_for "the setting" setting_is lending-enabled true &&
   wait_for "the tray" tray_status_is Active && window_gone Kiln; then
  ok "the app's lend action turns lending on in the background, without a window"
else
  not_ok "the app's lend action turns lending on in the background, without a window" \
    "lending-enabled: $(setting lending-enabled)" "$(cat "$tmp/background.log")"
fi

autostart=${XDG_CONFIG_HOME:?}/autostart/$app_id.desktop
exec_line () { sed -n 's/^Exec=//p' "$autostart"; }
no_autostart () { [ ! -e "$autostart" ]; }
if [ ! -e "$autostart" ] && gsettings set "$schema_id" start-on-login true &&
   wait_for "the autostart entry" test -s "$autostart" &&
   [ "$(exec_line)" = "$(readlink -f "$kiln") --background" ]; then
  ok "start-on-login writes $autostart, starting $(exec_line)"
else
  not_ok "start-on-login writes the autostart entry" "$(cat "$autostart" 2>&1)" \
    "$(cat "$tmp/background.log")"
fi
if ! command -v desktop-file-validate >/dev/null 2>&1; then
  ok "the autostart entry is a valid desktop entry # SKIP desktop-file-validate is missing"
elif out=$(desktop-file-validate "$autostart" 2>&1); then
  ok "the autostart entry is a valid desktop entry"
else
  not_ok "the autostart entry is a valid desktop entry" "$out"
fi
if gsettings set "$schema_id" start-on-login false &&
   wait_for "the autostart entry to go" no_autostart; then
  ok "turning start-on-login off removes the autostart entry"
else
  not_ok "turning start-on-login off removes the autostart entry" "$(ls -l "$autostart")"
fi

# --- earnings ----------------------------------------------------------------------------------
earnings_skip=$(devnet_skip)
# token_balance ADDRESS: the GNT of ADDRESS in base units, read from the devnet with ethers.
token_balance ()
{
  node -e '
    const { ethers } = require(process.argv[1]);
    const state = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    const provider = new ethers.JsonRpcProvider(state.rpc_url, state.chain_id,
                                                { staticNetwork: true });
    const token = new ethers.Contract(state.token,
      ["function balanceOf(address) view returns (uint256)"], provider);
    token.balanceOf(process.argv[3])
      .then((gnt) => { console.log(`${gnt}`); provider.destroy(); })
      .catch((e) => { console.error(e.shortMessage || e.message); process.exit(1); });
  ' "$source_root/node_modules/ethers" "$KILN_DEVNET_STATE" "$1"
}
minted () { [ "$(token_balance "$account")" = 1000000000000000000000 ]; }
# pay AMOUNT: the payer sends AMOUNT GNT to the app's account.
pay ()
{
  node -e '
    const { ethers } = require(process.argv[1]);
    const state = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    const provider = new ethers.JsonRpcProvider(state.rpc_url, state.chain_id,
                                                { staticNetwork: true });
    const wallet = new ethers.Wallet(process.argv[3], provider);
    const token = new ethers.Contract(state.token,
      ["function transfer(address,uint256) returns (bool)"], wallet);
    token.transfer(process.argv[4], ethers.parseUnits(process.argv[5], 18))
      .then((tx) => tx.wait())
      .then(() => provider.destroy())
      .catch((e) => { console.error(e.shortMessage || e.message); process.exit(1); });
  ' "$source_root/node_modules/ethers" "$KILN_DEVNET_STATE" "$payer_key" "$1" "$2"
}
earned_today ()
{
  accessible_tree | awk -F '\t' -v want="$1" '
    $1 == "label" && $2 == "Today" { left = 6; next }
    left > 0 { left--; if ($1 == "label" && $2 == want) found = 1 }
    END { exit !found }'
}

if [ -n "$earnings_skip" ]; then
  ok "minted test GNT does not count as earnings # SKIP $earnings_skip"
  ok "GNT sent by someone else does not count as earnings # SKIP $earnings_skip"
elif ! start_devnet "$payer"; then
  not_ok "minted test GNT does not count as earnings" "$(cat "$tmp/devnet.log")"
  not_ok "GNT sent by someone else does not count as earnings" "no devnet"
else
  # Kiln follows the devnet's state file: the new chain's devnet mints test GNT for the
  # account on its own.
  account=$(setting account | tr -d "'")
  if tray_activate && wait_for "the window" window_shown Kiln &&
     wait_for "the Lending page" show_lending_page &&
     wait_for "the test GNT" minted && wait_for "the earnings" earned_today '0 GNT'; then
    ok "minted test GNT does not count as earnings: 0 GNT today"
  else
    not_ok "minted test GNT does not count as earnings" "labels: $(labels | tr '\n' '|')" \
      "$(cat "$tmp/background.log")"
  fi
  # A transfer is not a payment for lent work: the balance grows, the earnings do not.
  paid_in ()
  {
    [ "$(token_balance "$account")" = "$paid_units" ]
  }
  if pay "$account" "$paid" 2>"$tmp/pay.log" && wait_for "the transfer" paid_in &&
     earned_today '0 GNT' && [ "$(labels | grep -cx '0 GNT')" -ge 2 ] &&
     ! labels | grep -qx "$paid_shown"; then
    ok "GNT sent by someone else does not count as earnings: still 0 GNT today and in total"
  else
    not_ok "GNT sent by someone else does not count as earnings" \
      "$(cat "$tmp/pay.log")" "labels: $(labels | tr '\n' '|')"
  fi
  screenshot lending-earnings
fi

# --- quitting from the tray -------------------------------------------------------------------
if tray_menu 4 && wait_for "the app to quit" gone; then
  wait "$kiln_pid"
  status=$?
  if [ "$status" -eq 0 ] && ! warnings_in "$tmp/background.log" >/dev/null; then
    ok "the tray's Quit quits cleanly, with no warnings"
  else
    not_ok "the tray's Quit quits cleanly, with no warnings" "exit status $status" \
      "$(cat "$tmp/background.log")"
  fi
else
  not_ok "the tray's Quit quits cleanly, with no warnings" "the app kept running"
fi
kiln_pid=

echo "# screenshots: $shots/lending-page.png, lending-schedule.png, lending-price-error.png," \
  "lending-earnings.png"
[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
