#!/usr/bin/env bash
# The disk-full test: builds the release binary and runs server/examples/diskfull.rs, which puts the database
# on a small tmpfs (root is needed to mount it), fills it from 4 clients, checks the 503 and that nothing
# acknowledged was lost, grows the tmpfs and checks that ingestion comes back by itself. Figures:
# docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
LEPTOS_OUTPUT_NAME=auditlog cargo build --release -p server --bin auditlog --example diskfull
exec "$target/release/examples/diskfull" "$@"
