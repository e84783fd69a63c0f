#!/usr/bin/env bash
# The load test: builds the release binary and runs server/examples/load.rs over a copy of the benchmark's 1M
# dataset (made by scripts/bench.sh): 50 clients searching, 8 sending events, the panel's page and a sign-in
# timed meanwhile. Arguments go to the test, e.g. `--seconds 60`. Figures: docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
LEPTOS_OUTPUT_NAME=auditlog cargo build --release -p server --bin auditlog --example load
exec "$target/release/examples/load" "$target/bench/bench-1000000.db" "$@"
