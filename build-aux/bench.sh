#!/bin/sh
# Builds and runs every benchmark executable of the build directory given as
# $1 (the targets defined in bench/meson.build). Each one prints one figure
# per line with a baseline measured in the same run.
set -eu
builddir=${1:-_build}
srcdir=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" "$srcdir"
fi

# Executables whose sources live in bench/, as "name<TAB>path" lines.
benches=$(meson introspect --targets "$builddir" | python3 -c '
import json, os, sys
for target in json.load(sys.stdin):
    if target["type"] != "executable":
        continue
    if os.path.basename(os.path.dirname(target["defined_in"])) != "bench":
        continue
    print(target["name"] + "\t" + target["filename"][0])
')

if [ -z "$benches" ]; then
  echo "bench.sh: no benchmarks are defined in $builddir" >&2
  exit 1
fi

names=$(printf '%s\n' "$benches" | cut -f1)
# shellcheck disable=SC2086
if ! log=$(meson compile -C "$builddir" $names 2>&1); then
  printf '%s\n' "$log" >&2
  echo "bench.sh: building the benchmarks failed" >&2
  exit 1
fi

status=0
printf '%s\n' "$benches" | while IFS="$(printf '\t')" read -r name path; do
  echo "# $name"
  "$path" || exit 1
done || status=1
exit $status
