#!/usr/bin/env bash
# Builds the release site and server: the full wasm bundle with the server
# (project "slotwise"), then the patient and staff bundles (projects
# "slotwise-patient" and "slotwise-staff", frontend only) copied beside it
# in target/site/pkg. Each project is named:
# cargo-leptos would otherwise build the server once per project, and the
# last build, configured for the patient bundle, would win.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
cargo leptos build --release --precompress --project slotwise
cargo leptos build --release --precompress --project slotwise-patient --frontend-only
cp target/site-patient/pkg/slotwise-patient.*.js* target/site-patient/pkg/slotwise-patient.*.wasm* target/site/pkg/
cargo leptos build --release --precompress --project slotwise-staff --frontend-only
cp target/site-staff/pkg/slotwise-staff.*.js* target/site-staff/pkg/slotwise-staff.*.wasm* target/site/pkg/
