#!/usr/bin/env bash
# Installs what Slotwise needs, idempotently: every step checks what is
# already there and skips it, so a warm machine sets up in seconds.
#
#   setup.sh app    tools to build and run the app
#   setup.sh test   the above plus Chromium, PostgreSQL and the end-to-end
#                   test packages
#
# Meant to be sourced by run.sh / test.sh (it exports PATH additions).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${SLOTWISE_TOOLS_DIR:-$HOME/.cache/slotwise-tools}"
CARGO_LEPTOS_VERSION="0.3.6"
export PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# as_root CMD: run as root (sudo when we are not root).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -E "$@"; fi; }

setup_app() {
  # Patched published crates ([patch.crates-io]): cargo needs them first.
  bash "$ROOT/server/scripts/patch-crates.sh"

  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi

  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 13 minutes, once per machine)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi

  # The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
  local wb
  wb="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb\$"; then
    say "installing wasm-bindgen-cli $wb"
    cargo install wasm-bindgen-cli --version "$wb"
  fi

  # wasm-opt from npm's binaryen (cargo-leptos would try GitHub otherwise).
  if ! [ -x "$TOOLS/node_modules/.bin/wasm-opt" ]; then
    say "installing wasm-opt (binaryen) into $TOOLS"
    mkdir -p "$TOOLS"
    (cd "$TOOLS" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
      && npm install --no-audit --no-fund --silent binaryen@132 >/dev/null)
  fi
}

# The independent FHIR R4 validator the tests run (server/scripts/fhir_validate.py):
# fhir.resources 6.4.0 is the last release whose models are R4 4.0.1 (6.5 and
# later are R4B/R5); it needs pydantic 1. Kept in its own venv.
FHIR_VENV="$TOOLS/fhir-venv"
FHIR_PACKAGES="fhir.resources==6.4.0 pydantic==1.10.27"
setup_fhir_validator() {
  if [ -x "$FHIR_VENV/bin/python" ] && [ "$(cat "$FHIR_VENV/.packages" 2>/dev/null)" = "$FHIR_PACKAGES" ] \
    && "$FHIR_VENV/bin/python" -c 'import fhir.resources' 2>/dev/null; then
    return
  fi
  if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    as_root bash -c "$(declare -f say apt_install); apt_updated=0; apt_install python3 python3-venv"
  fi
  say "installing the FHIR validator ($FHIR_PACKAGES) into $FHIR_VENV"
  rm -rf "$FHIR_VENV"
  python3 -m venv "$FHIR_VENV"
  # shellcheck disable=SC2086 # the list is words on purpose
  "$FHIR_VENV/bin/pip" install --quiet --disable-pip-version-check $FHIR_PACKAGES
  echo "$FHIR_PACKAGES" > "$FHIR_VENV/.packages"
}

setup_test() {
  setup_app
  setup_fhir_validator
  if ! [ -x /usr/bin/chromium ]; then
    as_root bash -c "$(declare -f say apt_install); apt_updated=0; apt_install chromium"
  fi
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    as_root bash -c "$(declare -f say apt_install); apt_updated=0; apt_install postgresql"
  fi
  # End-to-end test packages, reinstalled only when the lock file changed.
  local stamp="$ROOT/end2end/node_modules/.lock-stamp"
  if ! [ -f "$stamp" ] || ! cmp -s "$ROOT/end2end/package-lock.json" "$stamp"; then
    say "installing end-to-end test packages"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --silent)
    cp "$ROOT/end2end/package-lock.json" "$stamp"
  fi
}

case "${1:-app}" in
  app) setup_app ;;
  test) setup_test ;;
  *) echo "usage: setup.sh [app|test]" >&2; exit 2 ;;
esac
