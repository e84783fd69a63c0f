#!/usr/bin/env bash
# The stalled-exports test: builds the release binary and runs server/examples/stall.rs (10 clients start
# exports and read nothing while another caller exports). Figures: docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
LEPTOS_OUTPUT_NAME=auditlog cargo build --release -p server --bin auditlog --example stall
exec "$target/release/examples/stall" "$@"
