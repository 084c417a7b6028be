#!/usr/bin/env bash
# Runs Slotwise locally: SQLite file, demo data loaded into an empty
# database, on http://127.0.0.1:3000 (override with SLOTWISE_ADDR).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/server/scripts/setup.sh" app
cd "$ROOT"
export SLOTWISE_DEMO="${SLOTWISE_DEMO:-true}"
export SLOTWISE_SQLITE_PATH="${SLOTWISE_SQLITE_PATH:-$ROOT/slotwise.db}"
bash "$ROOT/server/scripts/build-site.sh"
export LEPTOS_SITE_ROOT="$ROOT/target/site"
export LEPTOS_ENV=PROD
echo "Slotwise on http://${SLOTWISE_ADDR:-127.0.0.1:3000}"
exec "$ROOT/target/release/server"
