#!/usr/bin/env bash
# Ingest benchmark: CPU and memory of vigil ingesting N RTSP/TCP cameras,
# against N `ffmpeg -c copy` processes reading the same streams, plus a perf
# profile of vigil. Builds vigil and vigil-fakecam (release) if needed, then
# runs bench/ingest/ingest.py, which does the measuring. All options are
# passed through; see `bench/ingest/run.sh --help`.
#
#   BUILD=/tmp/build-bench bench/ingest/run.sh --cameras 8,32 --window 60
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="${BUILD:-/tmp/build-bench}"

if [[ ! -f "$build/build.ninja" ]]; then
  # werror off: -O3 brings false-positive -Wmaybe-uninitialized warnings that
  # the default (debugoptimized) build does not see; they change no code.
  meson setup "$build" "$src" -Dbuildtype=release -Ddebug=true -Dwerror=false >&2
fi
ninja -C "$build" -j2 src/vigil tools/fakecam/vigil-fakecam >&2

exec python3 "$here/ingest.py" --build-dir "$build" "$@"
