#!/usr/bin/env bash
# The browser's download: builds the release WASM (`wasm_release.sh`, as `release.sh` ships it) and fails
# when the gzip size of the main file, the one every page loads and all the audit log tab needs, is above the
# limit in `frontend/wasm-size-limit` (bytes). The panel's Users and Settings pages load files of their own
# besides (the browser test `the_audit_log_tab_downloads_one_wasm_file` holds the tab to the main file); their
# sizes are printed too. The tab's budget is 300 KB; the limit is the main file's present size plus a little, so
# that no change makes it larger unnoticed. Lower it whenever a change makes the WASM smaller; raise it only
# knowingly, and never above the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=$(tr -d '[:space:]' < frontend/wasm-size-limit)
./scripts/wasm_release.sh > /dev/null 2>&1 || ./scripts/wasm_release.sh
gz() { gzip -9 -c "$1" | wc -c; }
for chunk in target/site/pkg/*.wasm; do
  [ "$chunk" = target/site/pkg/auditlog.wasm ] || printf 'wasm: %s %s bytes gzip (loaded when needed)\n' "${chunk##*/}" "$(gz "$chunk")"
done
size=$(gz target/site/pkg/auditlog.wasm)
printf 'wasm: auditlog.wasm %s bytes gzip (limit %s, budget 300000)\n' "$size" "$limit"
if [ "$size" -gt "$limit" ]; then
  echo "wasm: the release WASM grew past its limit: find what grew (twiggy top) or move it out of the browser" >&2
  exit 1
fi
