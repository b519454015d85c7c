#!/bin/sh
# with-keyring.sh COMMAND [ARGS...]
#
# Runs COMMAND against a private gnome-keyring on a private D-Bus session bus, so that tests
# exercise the real Secret Service without ever touching the keyring of the person running
# them. HOME and the XDG directories point into a fresh temporary directory that is removed
# afterwards; the "login" collection is created there, unlocked, with the password in
# $KILN_TEST_KEYRING_PASSWORD, and is the "default" alias. The exit code is COMMAND's.
#
# Nothing outlives the run: what COMMAND leaves running when it ends, however it ends, is
# stopped (and named on standard error), and SIGINT, SIGTERM or SIGHUP to this script are
# passed on to COMMAND and everything it started as one SIGTERM.
#
# Works headless and as root: no display is used (DISPLAY and WAYLAND_DISPLAY are cleared so
# that an unlock prompt can never appear on a real desktop; it is dismissed at once instead).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

for tool in dbus-run-session gnome-keyring-daemon gdbus setsid; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "with-keyring: $tool is missing (install dbus, gnome-keyring, libglib2.0-bin and" \
      "util-linux)" >&2
    exit 1
  fi
done

# Second stage: runs inside dbus-run-session, on the private bus.
if [ "${KILN_WITH_KEYRING_STAGE:-}" = inner ]; then
  unset KILN_WITH_KEYRING_STAGE

  # The daemon is not what is under test: it runs without the test's debugging environment
  # (gnome-keyring 42 warns on every replaced item, which G_DEBUG=fatal-warnings would turn
  # into a crash).
  printf '%s' "$KILN_TEST_KEYRING_PASSWORD" |
    env -u G_DEBUG -u G_MESSAGES_DEBUG -u MALLOC_CHECK_ -u MALLOC_PERTURB_ \
      gnome-keyring-daemon --foreground --unlock --components=secrets \
      >"$KILN_WITH_KEYRING_DIR/daemon.env" 2>"$KILN_WITH_KEYRING_DIR/daemon.log" &
  echo $! >"$KILN_WITH_KEYRING_DIR/daemon.pid"

  bus_call ()
  {
    gdbus call --session --timeout 5 "$@" 2>/dev/null
  }

  # The daemon owns org.freedesktop.secrets once it has opened the login keyring.
  tries=0
  until bus_call --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
          --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets | grep -q true; do
    tries=$((tries + 1))
    if [ "$tries" -gt 200 ]; then
      echo "with-keyring: gnome-keyring-daemon did not appear on the session bus:" >&2
      cat "$KILN_WITH_KEYRING_DIR/daemon.log" >&2
      exit 1
    fi
    sleep 0.05
  done

  # Export what the daemon printed (NAME=VALUE lines, e.g. GNOME_KEYRING_CONTROL).
  while IFS= read -r line; do
    case "$line" in
      [A-Za-z_]*=*) export "${line?}" ;;
      *) ;;
    esac
  done <"$KILN_WITH_KEYRING_DIR/daemon.env"

  default=$(bus_call --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
              --method org.freedesktop.Secret.Service.ReadAlias default || true)
  case "$default" in
    *"'/org/freedesktop/secrets/collection/"*) ;;
    *)
      echo "with-keyring: the keyring has no default collection (ReadAlias: $default):" >&2
      cat "$KILN_WITH_KEYRING_DIR/daemon.log" >&2
      exit 1
      ;;
  esac
  collection=${default#*\'}
  collection=${collection%%\'*}
  locked=$(bus_call --dest org.freedesktop.secrets --object-path "$collection" \
             --method org.freedesktop.DBus.Properties.Get \
             org.freedesktop.Secret.Collection Locked || true)
  if [ "$locked" != "(<false>,)" ]; then
    echo "with-keyring: the default collection $collection is not unlocked ($locked)" >&2
    exit 1
  fi

  exec "$@"
fi

# First stage: a private home, then a private session bus.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-keyring.XXXXXX")
run=

# run_pids: the processes of the run that are still there. Each has this run's folder in its
# environment as KILN_WITH_KEYRING_DIR (this shell does not), also those that left the run's
# process group (D-Bus activated services, daemons that called setsid) or lost their parent.
run_pids ()
{
  grep -lsxzF "KILN_WITH_KEYRING_DIR=$tmp" /proc/[0-9]*/environ |
    sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}

# wait_gone SECONDS PID...: waits until none of the PIDs runs, at most SECONDS; fails if
# one still does.
wait_gone ()
{
  deadline=$(($(date +%s) + $1))
  shift
  for pid in "$@"; do
    while kill -0 "$pid" 2>/dev/null; do
      [ "$(date +%s)" -lt "$deadline" ] || return 1
      sleep 0.1
    done
  done
}

cleanup ()
{
  if [ -n "$run" ]; then
    # Interrupted (a terminal's Ctrl+C, a test runner's timeout): the command and everything
    # it started get SIGTERM, and its own clean-up ends the rest.
    kill -15 "-$run" 2>/dev/null || true
    # The keyring daemon goes at once; nothing may write into $tmp while it is removed.
    [ ! -s "$tmp/daemon.pid" ] || wait_gone 5 "$(cat "$tmp/daemon.pid")" || true
  else
    # The command is over, however it ended. The keyring daemon and D-Bus activated services
    # leave with their bus; whatever else it left running (say, an X server started by a
    # test that was killed outright) is ended here.
    # shellcheck disable=SC2046
    if ! wait_gone 5 $(run_pids); then
      left=$(run_pids)
      echo "with-keyring: stopping what $1 left running:" >&2
      # shellcheck disable=SC2086
      ps -o pid=,args= -p "$(echo $left | tr ' ' ',')" >&2 || true
      # shellcheck disable=SC2086
      kill $left 2>/dev/null || true
      # shellcheck disable=SC2086
      wait_gone 5 $left || kill -9 $left 2>/dev/null || true
    fi
  fi
  rm -rf "$tmp"
}
trap 'cleanup "$1"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

mkdir -m 700 "$tmp/home" "$tmp/runtime" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/state"

export HOME="$tmp/home"
export XDG_RUNTIME_DIR="$tmp/runtime"
export XDG_DATA_HOME="$tmp/data"
export XDG_CONFIG_HOME="$tmp/config"
export XDG_CACHE_HOME="$tmp/cache"
export XDG_STATE_HOME="$tmp/state"
export KILN_TEST_KEYRING_PASSWORD="${KILN_TEST_KEYRING_PASSWORD:-kiln-test-keyring}"
unset DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL GNOME_KEYRING_PID SSH_AUTH_SOCK \
      DBUS_SESSION_BUS_ADDRESS KILN_WITH_KEYRING_DIR 2>/dev/null || true

# The run in a process group (and session) of its own, so that this shell alone hears a
# terminal's or a test runner's signal and passes it on once; waited for in the background,
# so that the traps run as soon as the signal comes. Its standard input stays this one's.
exec 3<&0
KILN_WITH_KEYRING_STAGE=inner KILN_WITH_KEYRING_DIR="$tmp" \
  setsid dbus-run-session -- /bin/sh "$0" "$@" <&3 3<&- &
run=$!
exec 3<&-
status=0
wait "$run" || status=$?
run=
exit "$status"
