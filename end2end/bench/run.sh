#!/usr/bin/env bash
# Page weight and time-to-interactive benchmark (Slow 4G + 4x CPU in
# Chromium): builds the release site as the README's commands do, starts it
# on a fresh demo database and measures the booking page, login, portal,
# Schedule and Dispatch. Usage: end2end/bench/run.sh [runs per page]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$ROOT/server/scripts/setup.sh" test
cd "$ROOT"
if [ -z "${SKIP_BUILD:-}" ]; then
  bash "$ROOT/server/scripts/build-site.sh"
fi
PORT="${BENCH_PORT:-3300}"
export E2E_PORT="$PORT"
bash "$ROOT/end2end/start-server.sh" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
echo "wasm, js and css as built (raw / brotli):"
for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  [ -f "$f" ] || continue
  printf '  %-60s %9d B / %9d B\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(stat -c %s "$f.br" 2>/dev/null || echo 0)"
done
(cd "$ROOT/end2end" && node bench/page-weight.mjs "http://127.0.0.1:$PORT" "${1:-3}" ${2:-})
