#!/usr/bin/env bash
# Runs auditlog with demo data on the embedded SQLite database (./data/demo.db) and prints its URL.
# Installs what is missing first. Extra arguments go to `auditlog serve` (e.g. --addr 0.0.0.0:3000).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
cargo leptos build --split
export LEPTOS_SITE_ROOT=target/site
export AUDITLOG_DATABASE_URL="${AUDITLOG_DATABASE_URL:-sqlite://data/demo.db}"
exec "${CARGO_TARGET_DIR:-target}/debug/auditlog" serve --demo "$@"
