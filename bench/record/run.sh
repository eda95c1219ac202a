#!/usr/bin/env bash
# Recording benchmark: vigil recording N cameras continuously next to N
# `ffmpeg -c copy -f segment` processes recording the same streams, in the
# same run; bytes written per byte received; fsyncs per minute; MP4 export
# speed of a long recording. Builds vigil and vigil-fakecam (release) if
# needed, then runs record.py. Options: see `bench/record/run.sh --help`.
#
#   BUILD=/tmp/build-bench-record bench/record/run.sh --cameras 8 --window 60
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="${BUILD:-/tmp/build-bench-record}"

if [[ ! -f "$build/build.ninja" ]]; then
  meson setup "$build" "$src" -Dbuildtype=release -Ddebug=true -Dwerror=false >&2
fi
ninja -C "$build" -j2 src/vigil tools/fakecam/vigil-fakecam >&2

exec python3 "$here/record.py" --build-dir "$build" "$@"
