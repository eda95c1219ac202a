#!/usr/bin/env bash
# Builds vigil_<version>_<arch>.deb and vigil-tools_<version>_<arch>.deb with
# Debian's tooling (debian/: dh with meson) into build-deb/ (or --out DIR).
#
#   scripts/deb.sh                   the proper build (make deb): dpkg-buildpackage
#                                    -b in a copy of the source, a fresh meson
#                                    build with Debian's flags, the unit suite
#   scripts/deb.sh --prebuilt build  packages an already built meson tree: every
#                                    debhelper step after the install (strip,
#                                    systemd unit, maintainer scripts, shlibs,
#                                    dpkg-deb), no recompilation; the package
#                                    test (tests/package) uses it
#
# Then lintian on the .debs (errors fail; see docs/install.md). The source is
# copied to OUT/src because dpkg-buildpackage writes its results to the
# parent of the source directory.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/build-deb"
prebuilt=""
lint=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prebuilt) prebuilt="$(cd "$2" && pwd)"; shift 2 ;;
    --out) mkdir -p "$2"; out="$(cd "$2" && pwd)"; shift 2 ;;
    --no-lintian) lint=0; shift ;;
    *) echo "usage: $0 [--prebuilt BUILDDIR] [--out DIR] [--no-lintian]" >&2; exit 2 ;;
  esac
done

for tool in dh dpkg-buildpackage dpkg-deb; do
  if ! command -v "$tool" >/dev/null; then
    echo "deb: $tool is missing: run scripts/deps.sh" >&2
    exit 1
  fi
done

stage="$out/src"
rm -rf "$stage"
mkdir -p "$stage"
rm -f "$out"/vigil*.deb "$out"/vigil*.ddeb "$out"/vigil_*.changes "$out"/vigil_*.buildinfo

# The tracked files (and new ones not yet committed), not the build trees.
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$here" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$stage"
else
  (cd "$here" && tar --exclude='./build*' --exclude='./web/node_modules' \
    --exclude='./vigil-data' -cf - .) | (cd "$stage" && tar -xf -)
fi

start=$SECONDS
if [ -z "$prebuilt" ]; then
  # web/node_modules (npm ci, scripts/deps.sh) holds the embedded web assets.
  if [ ! -d "$here/web/node_modules" ]; then
    echo "deb: web/node_modules is missing: run scripts/deps.sh" >&2
    exit 1
  fi
  ln -s "$(readlink -f "$here/web/node_modules")" "$stage/web/node_modules"
  (cd "$stage" && dpkg-buildpackage -b -uc -us)
else
  if [ ! -f "$prebuilt/build.ninja" ]; then
    echo "deb: $prebuilt is not a meson build directory" >&2
    exit 1
  fi
  (cd "$stage" && VIGIL_PREBUILT="$prebuilt" debian/rules binary)
fi
echo "deb: packages built in $((SECONDS - start)) s"
rm -rf "$stage"

debs=("$out"/vigil_*.deb "$out"/vigil-tools_*.deb)
ls -l "${debs[@]}"

if [ "$lint" = 1 ]; then
  if ! command -v lintian >/dev/null; then
    echo "deb: lintian is missing: run scripts/deps.sh" >&2
    exit 1
  fi
  # Errors fail; the remaining warnings are overridden with a reason in
  # debian/*.lintian-overrides or explained in docs/install.md.
  lintian --fail-on error,warning --display-info --tag-display-limit 0 "${debs[@]}"
fi
