#!/usr/bin/env bash
# `make run`: start vigil in the foreground, then say where to open it and
# with which password. Ctrl-C stops vigil cleanly.
set -euo pipefail
vigil="$1"; shift
data="vigil-data"; listen="127.0.0.1:8080"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --data-dir) data="${args[$((i + 1))]}" ;;
    --listen) listen="${args[$((i + 1))]}" ;;
  esac
done

"$vigil" "$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM

for _ in $(seq 1 100); do
  if curl -fsS "http://$listen/api/v1/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 $pid 2>/dev/null; then wait $pid; exit $?; fi
  sleep 0.1
done

echo
echo "  vigil is running: http://$listen/"
if [ -n "${VIGIL_ADMIN_PASSWORD:-}" ]; then
  echo "  user: admin   password: (the one in VIGIL_ADMIN_PASSWORD)"
elif [ -f "$data/initial-admin-password" ]; then
  echo "  user: admin   password: $(cat "$data/initial-admin-password")"
else
  echo "  user: admin   password: the one you set on first start"
fi
echo "  cameras: curl -u admin:PASSWORD http://$listen/api/v1/cameras"
echo "  stop: Ctrl-C"
echo
wait $pid
