#!/usr/bin/env bash
# The benchmark: builds the release binary and runs server/examples/bench.rs against it (a child process on a
# real port, a real SQLite file). Arguments go to the benchmark, e.g. `--events 10000000`, `--skip-import`.
# The dataset of N events is generated once and kept under <target>/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
LEPTOS_OUTPUT_NAME=auditlog cargo build --release -p server --bin auditlog --example bench
exec "$target/release/examples/bench" "$@"
