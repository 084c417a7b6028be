#!/usr/bin/env bash
# Runs every test: formatting and lints, unit tests, service-layer
# integration tests on SQLite and on PostgreSQL, router tests, the
# two-instance PostgreSQL test, and the end-to-end tests in Chromium
# against the real server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/server/scripts/setup.sh" test
cd "$ROOT"

say "formatting"
cargo fmt --all -- --check

say "starting PostgreSQL"
SLOTWISE_TEST_PG_URL="$(bash "$ROOT/server/scripts/postgres.sh")"
export SLOTWISE_TEST_PG_URL
case "$SLOTWISE_TEST_PG_URL" in
  postgres://*) ;;
  *) echo "postgres.sh did not print a URL: '$SLOTWISE_TEST_PG_URL'" >&2; exit 1 ;;
esac

# SQLite files of earlier integration runs (each test makes one).
rm -rf "${TMPDIR:-/tmp}/slotwise-tests"

say "lints"
cargo clippy -q -p app --features ssr --all-targets -- -D warnings
cargo clippy -q -p server --all-targets -- -D warnings
cargo clippy -q -p frontend --target wasm32-unknown-unknown -- -D warnings
cargo clippy -q -p frontend --target wasm32-unknown-unknown --features patient-bundle -- -D warnings
cargo clippy -q -p frontend --target wasm32-unknown-unknown --features staff-bundle -- -D warnings

say "unit tests (domain rules, auth helpers)"
cargo test -q -p app --features ssr

say "integration and router tests (SQLite and PostgreSQL)"
cargo test -q -p server

say "building the release site (full, patient and staff bundles)"
bash "$ROOT/server/scripts/build-site.sh"

say "end-to-end tests (Playwright, Chromium)"
(cd end2end && npx playwright test)

say "all tests passed"
