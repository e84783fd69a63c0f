#!/usr/bin/env bash
# The crash test: builds the release binary and runs server/examples/crash.rs, which kills the server with
# SIGKILL while 8 clients send events (20 times by default: `--kills N`) and checks that nothing acknowledged
# was lost, that the file is intact, and that the log verifies after every kill. Figures: docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
LEPTOS_OUTPUT_NAME=auditlog cargo build --release -p server --bin auditlog --example crash
exec "$target/release/examples/crash" "$@"
