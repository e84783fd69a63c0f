#!/usr/bin/env bash
# The browser's download: builds the release WASM (wasm-opt, as `release.sh` ships it) and fails when its gzip
# size is above the limit in `frontend/wasm-size-limit` (bytes). The tab's budget is 300 KB; while it is above
# that, the limit is the present size plus a little, so that no change makes it larger unnoticed. Lower the
# limit whenever a change makes the WASM smaller.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=$(tr -d '[:space:]' < frontend/wasm-size-limit)
cargo leptos build --release --frontend-only > /dev/null 2>&1 || cargo leptos build --release --frontend-only
size=$(gzip -9 -c target/site/pkg/auditlog.wasm | wc -c)
printf 'wasm: %s bytes gzip (limit %s, budget 300000)\n' "$size" "$limit"
if [ "$size" -gt "$limit" ]; then
  echo "wasm: the release WASM grew past its limit: find what grew (twiggy top) or move it out of the browser" >&2
  exit 1
fi
