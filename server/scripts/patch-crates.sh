#!/usr/bin/env bash
# Makes the patched copies of published crates that the workspace's
# [patch.crates-io] points to: for each patches/<crate>-<version>.patch,
# the published <crate>-<version> (checksum verified) with the patch applied,
# in .patched/<crate>-<version>. Idempotent: a copy made from the same patch
# is kept. Cargo cannot read the workspace until these exist, so this runs
# before any cargo command (setup.sh calls it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# The published crates' SHA-256, as in Cargo.lock before the patch.
declare -A CHECKSUM=(
  [tachys-0.2.19]=e47e2220bb9d2a3be976a22a0fb7685a0b84499bb11ea5cb3bbc82907675ac68
)

for patch in "$ROOT"/patches/*.patch; do
  name="$(basename "$patch" .patch)"          # tachys-0.2.19
  crate="${name%-*}" version="${name##*-}"
  dest="$ROOT/.patched/$name"
  stamp="$(sha256sum "$patch" | cut -d' ' -f1)"
  if [ -f "$dest/.patch-stamp" ] && [ "$(cat "$dest/.patch-stamp")" = "$stamp" ]; then
    continue
  fi
  expected="${CHECKSUM[$name]:?no checksum for $name in patch-crates.sh}"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # Cargo's own download cache first, the registry otherwise.
  cached="$(ls "$HOME"/.cargo/registry/cache/*/"$name.crate" 2>/dev/null | head -n1 || true)"
  if [ -n "$cached" ]; then
    cp "$cached" "$work/$name.crate"
  else
    curl -sSfL --retry 3 -o "$work/$name.crate" "https://static.crates.io/crates/$crate/$name.crate"
  fi
  actual="$(sha256sum "$work/$name.crate" | cut -d' ' -f1)"
  if [ "$actual" != "$expected" ]; then
    echo "patch-crates: $name.crate has checksum $actual, expected $expected" >&2
    exit 1
  fi
  tar -xzf "$work/$name.crate" -C "$work"
  patch -s -p1 -d "$work/$name" < "$patch"
  echo "$stamp" > "$work/$name/.patch-stamp"
  mkdir -p "$ROOT/.patched"
  rm -rf "$dest"
  mv "$work/$name" "$dest"
  rm -rf "$work"
  trap - EXIT
  echo "patch-crates: made .patched/$name"
done
