#!/bin/sh
# test-wallet-page.sh KILN APP_ID SCHEMA_DIR DATA_DIR SOURCE_ROOT SCREENSHOT_DIR
#
# The Wallet page of the real app on a real X server (Xvfb), against a real devnet (anvil with
# the GNT test token) and the real keyring that with-keyring.sh provides: a new account is
# topped up by the devnet on its own, the balances appear exactly, the QR code of the address
# decodes to the address, GNT is sent through the Send dialog typed with the keyboard (a
# checksum mistake and too many decimals are reported as they are typed, the fee is shown
# before sending), the recipient's balance read back with ethers is exact, the payment shows
# as confirmed in the history, "Get Test Tokens" asks the devnet for more, and a node that cannot be reached gives an error screen that
# "Try Again" leaves once the node is back (on a custom network, set in the settings).
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

# The recipient: the address of the Web3 documentation's private key; nobody funds it.
recipient=0x2c7536E3605D9C16a7a3D7b1898e529396a65c23
# The same with one letter's case changed: a checksum mistake.
recipient_typo=0x2c7536E3605D9C16a7a3D7b1898e529396a65C23
recipient_short='0x2c75…5c23'
# Every one of GNT's 18 decimals is used, so that any rounding would show.
amount=12.345678901234567891
amount_wei=12345678901234567891
amount_shown='12.3456 GNT'
left_wei=987654321098765432109
left_shown='987.6543 GNT'
topped_up_wei=1987654321098765432109
topped_up_shown='1,987.6543 GNT'

# shellcheck source=tests/app/app-test-lib.sh
. "$here/app-test-lib.sh"

planned=19
echo "1..$planned"

for tool in node zbarimg; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is missing (build-aux/setup.sh installs it)"
done
[ -d "$source_root/node_modules/ethers" ] ||
  bail "the devnet's npm packages are missing: run build-aux/setup-npm.sh"
find_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-wallet-test.XXXXXX")
devnet_pid=

stop_devnet ()
{
  exec 4>&-
  if [ -n "$devnet_pid" ]; then
    kill "$devnet_pid" 2>/dev/null
    wait "$devnet_pid" 2>/dev/null
    devnet_pid=
  fi
}

cleanup ()
{
  if [ -n "$kiln_pid" ] && kill -0 "$kiln_pid" 2>/dev/null; then
    kill "$kiln_pid" 2>/dev/null
    wait "$kiln_pid" 2>/dev/null
  fi
  stop_devnet
  stop_display
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# start_devnet STATE_FILE [ARGS...]: a devnet whose standard input is a pipe held on fd 4, so
# that it stops with this script whatever happens.
start_devnet ()
{
  state=$1
  shift
  rm -f "$tmp/devnet-stdin"
  mkfifo "$tmp/devnet-stdin"
  node "$source_root/data/devnet/devnet.mjs" --json "$@" \
    <"$tmp/devnet-stdin" >"$tmp/devnet.json" 2>"$tmp/devnet.log" &
  devnet_pid=$!
  exec 4>"$tmp/devnet-stdin"
  devnet_ready () { [ -s "$tmp/devnet.json" ]; }
  if ! wait_for "the devnet" devnet_ready; then
    echo "# $(cat "$tmp/devnet.log")"
    return 1
  fi
  [ -z "$state" ] || [ -s "$state" ]
}

# json_field FILE NAME: a top-level string or number field of the devnet's JSON.
json_field ()
{
  node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
           console.log(o[process.argv[2]]);' "$1" "$2"
}

# chain_balances ADDRESS: "GNT_WEI ETH_WEI" of ADDRESS, read from the devnet with ethers.
chain_balances ()
{
  node -e '
    const { ethers } = require(process.argv[1]);
    const state = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    const provider = new ethers.JsonRpcProvider(state.rpc_url, state.chain_id,
                                                { staticNetwork: true });
    const token = new ethers.Contract(state.token,
      ["function balanceOf(address) view returns (uint256)"], provider);
    Promise.all([token.balanceOf(process.argv[3]), provider.getBalance(process.argv[3])])
      .then(([gnt, eth]) => { console.log(`${gnt} ${eth}`); provider.destroy(); })
      .catch((e) => { console.error(e.shortMessage || e.message); process.exit(1); });
  ' "$source_root/node_modules/ethers" "$devnet_state" "$1"
}

# history_row TITLE STATE: a row of the history titled TITLE shows the label STATE.
history_row ()
{
  accessible_tree | awk -F '\t' -v title="$1" -v state="$2" '
    $1 == "label" && $2 == title { left = 8; next }
    left > 0 { left--; if ($1 == "label" && $2 == state) found = 1 }
    END { exit !found }'
}

# send_enabled: the Send button of the Send dialog can be pressed.
send_enabled () { "$python" "$here/atspi-dump.py" --state kiln button Send sensitive; }
send_disabled () { ! send_enabled; }

# show_wallet_page: switches to the Wallet page with its mnemonic, and succeeds once its tab
# is the selected one.
wallet_tab_selected () { "$python" "$here/atspi-dump.py" --state kiln tab Wallet selected; }
show_wallet_page ()
{
  focus Kiln && keys alt+w && wallet_tab_selected
}

# keys KEY...: typed into the focused window, slowly enough for an idle X server.

export GSETTINGS_SCHEMA_DIR="$schema_dir"
export XDG_DATA_DIRS="$data_dir:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
# Windows open in the top left corner; on a screen this large the pointer, in the middle,
# stays off them and shows no tooltips in the screenshots.
start_display 2200x1500

# --- the devnet -----------------------------------------------------------------------------
devnet_state=$tmp/state/devnet.json
mkdir -m 700 "$tmp/state"
if start_devnet "$devnet_state" --state-file "$devnet_state"; then
  ok "the devnet starts and writes its state file"
else
  not_ok "the devnet starts and writes its state file" "$(cat "$tmp/devnet.log")"
  bail "no devnet"
fi
export KILN_DEVNET_STATE="$devnet_state"
devnet_port=$(json_field "$devnet_state" port)

# --- a new account is topped up -------------------------------------------------------------
start_kiln "$tmp/first.log"
account_shown () { action_enabled export-account && action_enabled copy-address; }
if wait_for "the window" window_shown Kiln &&
   wait_for "the welcome screen" action_enabled new-account &&
   activate new-account && wait_for "the account" account_shown; then
  ok "app.new-account creates an account"
else
  not_ok "app.new-account creates an account" "$(cat "$tmp/first.log")"
  bail "no account"
fi
account=$(gsettings get io.github.kilnapp.Kiln account | tr -d "'")

if wait_for "the Wallet page" show_wallet_page && label_shown 'Local devnet' &&
   wait_for "the GNT balance" label_shown '1,000 GNT' && label_shown '10 ETH'; then
  ok "the devnet tops up the new account and the page shows 1,000 GNT and 10 ETH"
else
  not_ok "the devnet tops up the new account and the page shows 1,000 GNT and 10 ETH" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/first.log")"
fi
if wait_for "the toast" label_shown 'Added test GNT from the local devnet'; then
  ok "a toast says the devnet added test GNT"
else
  not_ok "a toast says the devnet added test GNT" "labels: $(labels | tr '\n' '|')"
fi
balances=$(chain_balances "$account")
if [ "$balances" = "1000000000000000000000 10000000000000000000" ]; then
  ok "the chain agrees: 1000 GNT and 10 ETH"
else
  not_ok "the chain agrees: 1000 GNT and 10 ETH" "on chain: $balances"
fi
if wait_for "the incoming payment" history_row 'Newly minted' 'Confirmed'; then
  ok "the history shows the GNT minted by the devnet as confirmed"
else
  not_ok "the history shows the GNT minted by the devnet as confirmed" \
    "$(accessible_tree | grep -A8 'From 0x' | tr '\n' '|')"
fi
screenshot wallet-page

# --- the QR code ----------------------------------------------------------------------------
if "$python" "$here/atspi-dump.py" --click kiln button 'Show QR Code' >"$tmp/click.log" 2>&1 &&
   wait_for "the QR code" label_shown "$account" && screenshot wallet-qr-code &&
   decoded=$(zbarimg --quiet --raw "$shots/wallet-qr-code.png" 2>"$tmp/zbar.log") &&
   [ "$decoded" = "$account" ]; then
  ok "the QR code decodes to the address"
else
  not_ok "the QR code decodes to the address" "decoded: ${decoded:-}" \
    "$(cat "$tmp/click.log" "$tmp/zbar.log" 2>/dev/null)"
fi
focus Kiln && keys Escape

# --- the Send dialog ------------------------------------------------------------------------
if activate send && wait_for "the Send dialog" window_shown Send && focus Send &&
   type_text "$recipient_typo" &&
   wait_for "the checksum mistake" label_shown \
     'This address has a typing mistake (checksum doesn’t match)' && send_disabled; then
  ok "a checksum mistake in the recipient is reported as it is typed"
else
  not_ok "a checksum mistake in the recipient is reported as it is typed" \
    "labels: $(labels | tr '\n' '|')"
fi
screenshot send-checksum-mistake Send

if focus Send && keys ctrl+a BackSpace && type_text "$recipient" && keys Return &&
   type_text "${amount}1" &&
   wait_for "the decimals error" label_shown 'Too many decimal places: GNT has 18' &&
   keys ctrl+a BackSpace && type_text 1000.5 &&
   wait_for "the balance error" label_shown 'More than your balance of 1,000 GNT' &&
   send_disabled; then
  ok "too many decimals and more than the balance are reported as they are typed"
else
  not_ok "too many decimals and more than the balance are reported as they are typed" \
    "labels: $(labels | tr '\n' '|')"
fi

fee_shown () { labels | grep -q '^Network fee: up to [0-9.]* ETH$'; }
if focus Send && keys ctrl+a BackSpace && type_text "$amount" && wait_for "the fee" fee_shown &&
   wait_for "Send to be enabled" send_enabled; then
  ok "the fee is shown before sending: $(labels | grep '^Network fee')"
else
  not_ok "the fee is shown before sending" "labels: $(labels | tr '\n' '|')"
fi
screenshot send-dialog Send

saw_pending=no
pending_seen ()
{
  if history_row "To $recipient_short" Pending; then
    saw_pending=yes
  fi
  history_row "To $recipient_short" Confirmed
}
if focus Send && keys Return && wait_for "the dialog to close" window_gone Send &&
   wait_for "the toast" label_shown "Sent $amount_shown to $recipient_short"; then
  ok "sending closes the dialog and says what was sent"
else
  not_ok "sending closes the dialog and says what was sent" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/first.log")"
fi
if wait_for "the payment to be confirmed" pending_seen; then
  ok "the history shows the payment as confirmed (pending seen: $saw_pending)"
else
  not_ok "the history shows the payment as confirmed" \
    "$(accessible_tree | grep -A8 'To 0x' | tr '\n' '|')"
fi
screenshot wallet-history

balances=$(chain_balances "$recipient")
if [ "$balances" = "$amount_wei 0" ]; then
  ok "the recipient has exactly $amount GNT on chain"
else
  not_ok "the recipient has exactly $amount GNT on chain" "on chain: $balances"
fi
sender_gnt=$(chain_balances "$account" | cut -d ' ' -f 1)
if [ "$sender_gnt" = "$left_wei" ] && wait_for "the new balance" label_shown "$left_shown"; then
  ok "the sender has exactly the rest, and the page shows $left_shown"
else
  not_ok "the sender has exactly the rest, and the page shows $left_shown" \
    "on chain: $sender_gnt" "labels: $(labels | grep GNT | tr '\n' '|')"
fi

# The button asks the devnet again.
if "$python" "$here/atspi-dump.py" --click kiln button 'Get Test Tokens' >"$tmp/click.log" 2>&1 &&
   wait_for "the new balance" label_shown "$topped_up_shown" &&
   [ "$(chain_balances "$account" | cut -d ' ' -f 1)" = "$topped_up_wei" ]; then
  ok "Get Test Tokens adds 1,000 GNT more"
else
  not_ok "Get Test Tokens adds 1,000 GNT more" "$(cat "$tmp/click.log")" \
    "labels: $(labels | grep GNT | tr '\n' '|')"
fi

quit_kiln "the app quits cleanly, with no warnings" "$tmp/first.log"

# --- a node that cannot be reached --------------------------------------------------------
# A custom network on the devnet's port, once the devnet has stopped: nothing answers there.
devnet_token=$(json_field "$devnet_state" token)
stop_devnet
gsettings set io.github.kilnapp.Kiln network-preset custom
gsettings set io.github.kilnapp.Kiln custom-rpc-url "http://127.0.0.1:$devnet_port"
gsettings set io.github.kilnapp.Kiln custom-token-address "$devnet_token"
gsettings set io.github.kilnapp.Kiln custom-chain-id 31337

start_kiln "$tmp/unreachable.log"
unreachable_shown ()
{
  labels | grep -q "^Can’t reach the Ethereum node at 127.0.0.1:$devnet_port\. "
}
if wait_for "the window" window_shown Kiln && wait_for "the account" account_shown &&
   wait_for "the Wallet page" show_wallet_page && wait_for "the error screen" unreachable_shown &&
   action_disabled send; then
  ok "an unreachable node gives an error screen naming it"
else
  not_ok "an unreachable node gives an error screen naming it" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/unreachable.log")"
fi
screenshot wallet-unreachable

# The node comes back on the same port: a new devnet (chain 31337), where the account has
# nothing yet and is topped up again.
if start_devnet "" --port "$devnet_port" && focus Kiln && keys alt+t &&
   wait_for "the balances" label_shown '1,000 GNT' && label_shown 'Custom network' &&
   action_enabled send; then
  ok "Try Again connects once the node is back"
else
  not_ok "Try Again connects once the node is back" \
    "labels: $(labels | tr '\n' '|')" "$(cat "$tmp/devnet.log")"
fi
screenshot wallet-custom-network

quit_kiln "the app quits cleanly after the error, with no warnings" "$tmp/unreachable.log"

[ "$n" -eq "$planned" ] || echo "# ran $n checks, planned $planned"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
