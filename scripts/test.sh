#!/usr/bin/env bash
# Runs every check and test: formatting, clippy for the server and the WASM builds, the Rust tests (unit,
# store against real SQLite files, the real server over HTTP), the API fuzzed from its OpenAPI document, then
# the browser tests in Debian's Chromium against the real server (JavaScript off and hydrated), and the size
# of the release WASM. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh --browser --fuzz
step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "clippy (server build)"
RUSTFLAGS="$AUDITLOG_RUSTFLAGS" cargo clippy --all-targets -- -D warnings
step "clippy (wasm build)"
RUSTFLAGS="$AUDITLOG_RUSTFLAGS" cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
step "cargo test"
RUSTFLAGS="$AUDITLOG_RUSTFLAGS" cargo test
step "fuzz the HTTP API from its OpenAPI document (Schemathesis)"
./scripts/fuzz.sh --examples 50
step "build the site (cargo leptos build --split)"
cargo leptos build --split
step "browser tests (Playwright, Chromium)"
(cd end2end && npx playwright test)
# Last: it replaces the debug site with the release one.
step "the release WASM's size"
./scripts/wasm_size.sh
