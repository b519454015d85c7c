#!/bin/sh
# run-app.sh [BUILDDIR] [ARGS...]: runs the app from a build directory, without installing it.
#
# The settings schema comes from BUILDDIR/data (compiled there by data/meson.build) and the
# icons from the source tree's data/ folder.
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

export GSETTINGS_SCHEMA_DIR="$builddir/data${GSETTINGS_SCHEMA_DIR:+:$GSETTINGS_SCHEMA_DIR}"
export XDG_DATA_DIRS="$srcdir/data:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"

exec "$kiln" "$@"
