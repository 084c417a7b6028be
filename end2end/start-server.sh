#!/usr/bin/env bash
# Starts the release server for the end-to-end tests on a fresh database.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
mkdir -p "$HERE/.state"
# One database per port, so a benchmark and a test run can run side by side.
DB="$HERE/.state/e2e-${E2E_PORT:-3100}.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
cd "$ROOT"
export SLOTWISE_DEMO=true
# Every test registers its patients from 127.0.0.1 (the per-address limit
# itself is tested in server/tests/service.rs).
export SLOTWISE_REGISTER_MAX_PER_HOUR=1000
export SLOTWISE_SQLITE_PATH="$DB"
export SLOTWISE_ADDR="127.0.0.1:${E2E_PORT:-3100}"
export LEPTOS_SITE_ROOT="$ROOT/target/site"
export LEPTOS_ENV=PROD
exec "$ROOT/target/release/server"
