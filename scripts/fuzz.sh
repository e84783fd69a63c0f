#!/usr/bin/env bash
# Fuzzes the HTTP API from its own contract: Schemathesis reads /api/v1/openapi.json from the real server (a
# fresh database, an admin token) and sends every operation generated requests, valid and not, then follows the
# links between operations (an ingested event's id into its read and its proof). It fails on any 5xx, any answer
# whose status, content type, headers or body the document does not describe.
#
#   scripts/fuzz.sh [--examples N]     N generated cases per operation and phase (default 50)
#   AUDITLOG_FUZZ_SEED=…               another seed than CI's fixed one (1), for other cases
#
# Needs the debug binary (`cargo build`) and Schemathesis (scripts/setup.sh --fuzz installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

examples=50
while [ $# -gt 0 ]; do
  case "$1" in
    --examples) examples="$2"; shift 2 ;;
    *) echo "fuzz: unknown option $1" >&2; exit 2 ;;
  esac
done

bin="${AUDITLOG_BIN:-${CARGO_TARGET_DIR:-target}/debug/auditlog}"
schemathesis="${SCHEMATHESIS:-schemathesis}"
work="$(mktemp -d)"
port="${AUDITLOG_FUZZ_PORT:-3400}"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export AUDITLOG_DATABASE_URL="sqlite://$work/fuzz.db"
token="$("$bin" token create --name fuzz --scope admin,read,ingest | grep -o 'alk_[A-Za-z0-9]*' | head -1)"
RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.1
done

status=0
"$schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --max-examples "$examples" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --seed "${AUDITLOG_FUZZ_SEED:-1}" \
  --no-color || status=$?
if grep -q "panicked" "$work/server.log"; then
  echo "fuzz: the server panicked:" >&2
  grep -A3 "panicked" "$work/server.log" >&2
  status=1
fi
exit "$status"
