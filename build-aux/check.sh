#!/bin/sh
# Runs every test and ends with one line: "N passed, N failed".
set -u
builddir=${1:-_build}
status=0
meson test -C "$builddir" --print-errorlogs --num-processes 2 || status=$?
python3 "$(dirname "$0")/test-summary.py" "$builddir/meson-logs/testlog.json" || status=1
exit $status
