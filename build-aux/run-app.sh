#!/bin/sh
# run-app.sh [BUILDDIR] [ARGS...]: runs the app from a build directory, without installing it.
#
# The settings schema comes from BUILDDIR/data (compiled there by data/meson.build) and the
# icons from the source tree's data/ folder.
#
# The app's default network is the local devnet, so the devnet starts first: anvil with the
# GNT test token, on 127.0.0.1:8545 when that port is free (another free port otherwise). It
# writes its address and contracts to $KILN_DEVNET_STATE (default
# $XDG_RUNTIME_DIR/kiln/devnet.json), where the app reads them. The devnet stops when the app
# exits; its standard input is a pipe from this script, so it also stops if the script is
# killed. A devnet already running for the same state file is used instead of a new one.
#
# Then two local providers: `kiln-node run --lend --cores 1` on 127.0.0.1, each with a
# throwaway account and data folder in this script's temporary folder, asking 0.5 GNT per
# CPU-hour (below the app's default maximum price, 1 GNT) and paid on the devnet (they never
# send transactions, so they need no ETH). The app starts with --bootstrap pointing at both,
# so that a dropped .blend renders across them and pays them. They stop when the app exits;
# their output is in the temporary folder while they run (provider-N.log).
#
# KILN_RUN_DIR=DIR puts that folder at DIR instead (made if missing) and keeps it afterwards:
# the providers' accounts, data folders and logs, and the devnet's log. Providers already
# there are started again with the accounts they have.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-_build}
[ $# -gt 0 ] && shift

case "$builddir" in
  /*) ;;
  *) builddir=$(pwd)/$builddir ;;
esac

kiln=$builddir/src/kiln/kiln
if [ ! -x "$kiln" ]; then
  echo "run-app: $kiln is not built; run 'meson compile -C $builddir' first" >&2
  exit 1
fi
if [ ! -f "$builddir/data/gschemas.compiled" ]; then
  echo "run-app: no compiled settings schema in $builddir/data;" \
       "run 'meson compile -C $builddir'" >&2
  exit 1
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run-app: no display: Kiln is a desktop app and needs a graphical session" >&2
  echo "(neither DISPLAY nor WAYLAND_DISPLAY is set;" \
       "the headless node is $builddir/src/kiln-node/kiln-node)" >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "run-app: node is missing; build-aux/setup.sh installs it" >&2
  exit 1
fi

# The app is single-instance: with its window already open, a second start would only hand
# its arguments to that one, which is not linked to the devnet and providers started here.
for desktop_file in "$builddir"/data/*.desktop; do
  [ -f "$desktop_file" ] || continue
  app_id=$(basename "$desktop_file" .desktop)
  if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v gdbus >/dev/null 2>&1 &&
     gdbus call --session --timeout 5 --dest org.freedesktop.DBus \
       --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner \
       "$app_id" 2>/dev/null | grep -q true; then
    echo "run-app: Kiln ($app_id) is already running; quit it first" \
         "(Quit in its window or in its tray menu)" >&2
    exit 1
  fi
done

# --- the devnet -----------------------------------------------------------------------------
if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ]; then
  runtime_dir=$XDG_RUNTIME_DIR/kiln
else
  runtime_dir=${TMPDIR:-/tmp}/kiln-$(id -u)
fi
state_file=${KILN_DEVNET_STATE:-$runtime_dir/devnet.json}
state_dir=$(dirname "$state_file")
mkdir -p "$state_dir"
chmod 700 "$state_dir" 2>/dev/null || true

if [ -n "${KILN_RUN_DIR:-}" ]; then
  mkdir -p "$KILN_RUN_DIR"
  chmod 700 "$KILN_RUN_DIR"
  work=$(cd "$KILN_RUN_DIR" && pwd)
  keep_work=1
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-run.XXXXXX")
  keep_work=
fi
devnet_pid=
provider_pids=

cleanup ()
{
  # The providers first: they hand back their work while the devnet still answers.
  for pid in $provider_pids; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $provider_pids; do
    wait "$pid" 2>/dev/null || true
  done
  # Closing the pipe asks the devnet to stop; SIGTERM makes sure.
  exec 3>&-
  if [ -n "$devnet_pid" ] && kill -0 "$devnet_pid" 2>/dev/null; then
    kill "$devnet_pid" 2>/dev/null || true
    wait "$devnet_pid" 2>/dev/null || true
  fi
  [ -n "$keep_work" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# The pid of the devnet that wrote $state_file, if it still runs.
running_devnet ()
{
  [ -s "$state_file" ] || return 1
  pid=$(sed -n 's/^ *"pid": *\([0-9][0-9]*\).*/\1/p' "$state_file" | head -n 1)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

port_free ()
{
  node -e '
    const server = require("net").createServer();
    server.once("error", () => process.exit(1));
    server.listen({ host: "127.0.0.1", port: Number(process.argv[1]), exclusive: true },
                  () => server.close(() => process.exit(0)));
  ' "$1" 2>/dev/null
}

# start_devnet [--port N]: starts the devnet and waits for its state file; fails, with what it
# said, if it stops first.
start_devnet ()
{
  mkfifo "$work/devnet-stdin"
  node "$srcdir/data/devnet/devnet.mjs" --state-file "$state_file" "$@" \
    <"$work/devnet-stdin" >"$work/devnet.log" 2>&1 3>&- &
  devnet_pid=$!
  # Holding the write end keeps the devnet alive; it closes when this script ends.
  exec 3>"$work/devnet-stdin"
  rm -f "$work/devnet-stdin"

  tries=0
  until [ -s "$state_file" ]; do
    if ! kill -0 "$devnet_pid" 2>/dev/null; then
      wait "$devnet_pid" 2>/dev/null || true
      devnet_pid=
      exec 3>&-
      return 1
    fi
    tries=$((tries + 1))
    # The first start compiles the contracts, which takes a while.
    if [ "$tries" -gt 1200 ]; then
      echo "run-app: the devnet did not start within two minutes:" >&2
      cat "$work/devnet.log" >&2
      exit 1
    fi
    sleep 0.1
  done
}

if running_devnet; then
  echo "run-app: using the devnet already running for $state_file"
else
  rm -f "$state_file"
  echo "run-app: starting the local devnet…"
  started=
  if port_free 8545; then
    start_devnet --port 8545 && started=1
    # Something else may have taken the port meanwhile.
    if [ -z "$started" ] && ! port_free 8545; then
      echo "run-app: port 8545 was just taken; the devnet uses another free port"
    fi
  else
    echo "run-app: port 8545 is taken; the devnet uses another free port"
  fi
  if [ -z "$started" ] && ! start_devnet; then
    echo "run-app: the devnet did not start:" >&2
    cat "$work/devnet.log" >&2
    exit 1
  fi
  sed -n 's/^ *"rpc_url": *"\([^"]*\)".*/run-app: devnet at \1/p' "$state_file"
fi

export KILN_DEVNET_STATE="$state_file"

# --- two local providers --------------------------------------------------------------------
kiln_node=$builddir/src/kiln-node/kiln-node
rpc_url=$(sed -n 's/^ *"rpc_url": *"\([^"]*\)".*/\1/p' "$state_file" | head -n 1)
token=$(sed -n 's/^ *"token": *"\(0x[0-9a-fA-F]*\)".*/\1/p' "$state_file" | head -n 1)
bootstrap=
# What the providers ask: without a price they would render for nothing, and nothing would be
# paid.
provider_price=0.5

# start_provider NAME [--bootstrap HOST:PORT]: starts provider NAME and waits until it lends;
# sets $endpoint to its HOST:PORT.
start_provider ()
{
  provider=$1
  dir=$work/$1
  log=$work/$1.log
  shift
  if [ ! -e "$dir/keystore.json" ]; then
    "$kiln_node" identity create --light --data-dir "$dir" --password-file "$work/password" \
      >/dev/null 3>&- || return 1
  fi
  # Emptied here, not only by the redirection below, which the background job may do only
  # after the first look at it: a log kept in $KILN_RUN_DIR from an earlier run already says
  # "lending".
  : >"$log"
  # --json: one JSON object per line, whatever the locale.
  "$kiln_node" run --lend --cores 1 --min-price "$provider_price" --listen 127.0.0.1:0 --json \
    --data-dir "$dir" --password-file "$work/password" --rpc "$rpc_url" --token "$token" "$@" \
    >"$log" 2>&1 3>&- &
  pid=$!
  provider_pids="$provider_pids $pid"

  # The first start measures this computer with Blender, which takes a while.
  tries=0
  until grep -q '"event":"lending"' "$log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run-app: provider $provider did not start:" >&2
      cat "$log" >&2
      return 1
    fi
    tries=$((tries + 1))
    if [ "$tries" -gt 3000 ]; then
      echo "run-app: provider $provider did not start within five minutes:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  port=$(sed -n 's/.*"listen-port":\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
  address=$(sed -n 's/^{"address":"\(0x[0-9a-fA-F]*\)".*/\1/p' "$log" | head -n 1)
  if [ -z "$port" ] || [ -z "$address" ]; then
    echo "run-app: provider $provider lends, but its log has no address or port:" >&2
    cat "$log" >&2
    return 1
  fi
  echo "run-app: provider $provider ($address) lends 1 core on 127.0.0.1:$port" \
       "for $provider_price GNT per CPU-hour"
  endpoint=127.0.0.1:$port
}

if [ ! -x "$kiln_node" ]; then
  echo "run-app: $kiln_node is not built; starting the app without local providers" >&2
elif [ -z "$rpc_url" ] || [ -z "$token" ]; then
  echo "run-app: no RPC URL or token in $state_file; starting the app without local" \
       "providers" >&2
else
  # A throwaway password for throwaway accounts (kept with them in $KILN_RUN_DIR).
  if [ ! -s "$work/password" ]; then
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$work/password")
  fi
  echo "run-app: starting two local providers (logs in $work)…"
  # The second provider joins the first one's discovery network: the app's discovery may stop
  # asking its bootstrap nodes once one has answered, and then finds the other through it.
  for name in provider-1 provider-2; do
    # shellcheck disable=SC2086
    if start_provider "$name" $bootstrap; then
      bootstrap="$bootstrap --bootstrap $endpoint"
    fi
  done
fi

export GSETTINGS_SCHEMA_DIR="$builddir/data${GSETTINGS_SCHEMA_DIR:+:$GSETTINGS_SCHEMA_DIR}"
export XDG_DATA_DIRS="$srcdir/data:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"

# The app does not get the devnet's pipe: the devnet's life is this script's.
status=0
# shellcheck disable=SC2086
"$kiln" $bootstrap "$@" 3>&- || status=$?
exit "$status"
