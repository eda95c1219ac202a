#!/usr/bin/env bash
# The layout check: every C and C++ file of vigil is as clang-format (the
# .clang-format at the root) lays it out. Prints the files that differ and
# fails; `scripts/check-format.sh --fix` rewrites them instead.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(find src tests tools bench -name node_modules -prune -o \
  \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) -print | sort)
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
# One clang-format for all files: it names each line it would change.
if report=$(clang-format --dry-run --Werror "${files[@]}" 2>&1); then
  echo "${#files[@]} files laid out as .clang-format says"
  exit 0
fi
printf '%s\n' "$report" | grep -o '^[^: ]*:[0-9]*:[0-9]*: error' | cut -d: -f1 | sort -u |
  sed 's/$/: not laid out as .clang-format says (scripts\/check-format.sh --fix)/'
printf '%s\n' "$report" | grep -q . || echo "clang-format failed"
exit 1
