#!/usr/bin/env bash
# Starts the built server for the browser tests on a fresh database: an admin user, an admin API token for the
# tests to ingest their own events (written to .tmp/token), no demo data. Playwright runs this as its webServer.
set -euo pipefail
cd "$(dirname "$0")/.."
# A second server (the base-path tests) runs from its own directory, on its own port, under AUDITLOG_BASE_PATH.
tmp=${AUDITLOG_E2E_TMP:-end2end/.tmp}
rm -rf "$tmp" && mkdir -p "$tmp"
bin=${AUDITLOG_BIN:-${CARGO_TARGET_DIR:-target}/debug/auditlog}
export AUDITLOG_DATABASE_URL="sqlite://$tmp/e2e.db"
export AUDITLOG_ADMIN_EMAIL=admin@example.com AUDITLOG_ADMIN_PASSWORD=correct-horse-battery
# Checkpoints soon after each write, so the detail dialog shows an event inside one.
export AUDITLOG_CHECKPOINT_INTERVAL_MS=200
# The tests' webhook receiver listens on 127.0.0.1.
export AUDITLOG_WEBHOOK_ALLOW_PRIVATE=1
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-target/site}
"$bin" token create --name e2e --scope admin > "$tmp/token"
exec "$bin" serve --addr "127.0.0.1:${AUDITLOG_E2E_PORT:-3100}"
