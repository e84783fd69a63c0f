#!/usr/bin/env bash
# Builds the release (the server binary, and the site files with the WASM optimised) and packages what an
# operator copies to a server: dist/auditlog/ and dist/auditlog-<version>-linux-x86_64.tar.gz, laid out as
#   bin/auditlog            the server and command line
#   site/                   the files the browser loads (pkg/: WASM, JS, CSS); LEPTOS_SITE_ROOT points here
#   auditlog.service        a systemd unit for /opt/auditlog (see README, "Running it for real")
# Installs what is missing first (as scripts/setup.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
./scripts/wasm_release.sh
cargo leptos build --release --server-only
target="${CARGO_TARGET_DIR:-target}"
version=$(awk -F'"' '/^version = / {print $2; exit}' Cargo.toml)
out=dist/auditlog
rm -rf "$out" && mkdir -p "$out/bin"
cp "$target/release/auditlog" "$out/bin/auditlog"
cp -r target/site "$out/site"
cp deploy/auditlog.service "$out/"
tar -C dist -czf "dist/auditlog-$version-linux-$(uname -m).tar.gz" auditlog
echo "release: dist/auditlog-$version-linux-$(uname -m).tar.gz"
