#!/usr/bin/env bash
# Builds the browser's release files (`cargo leptos build --release --frontend-only --split`: the WASM split
# and optimised, the JS, the CSS) into target/site, for wasm_size.sh, release.sh and the Dockerfile. The WASM is
# built by nightly Rust with the standard library rebuilt for size: panics abort without formatting a message,
# no file and line in panic locations, `{:?}` prints nothing (the browser shows neither), `optimize_for_size` in
# std: 40 KB gzip less than stable Rust gives (11%). Debug builds, the tests and the server stay on stable; the
# server renders the same views whichever compiler built the WASM. Installs what the nightly toolchain lacks
# (rust-src, the wasm32 target) first. Arguments go to cargo leptos.
set -euo pipefail
cd "$(dirname "$0")/.."
toolchain=nightly
if ! rustup run "$toolchain" rustc --version > /dev/null 2>&1; then
  rustup toolchain install "$toolchain" --profile minimal --component rust-src --target wasm32-unknown-unknown
fi
rustup component add --toolchain "$toolchain" rust-src > /dev/null
rustup target add --toolchain "$toolchain" wasm32-unknown-unknown > /dev/null
export RUSTUP_TOOLCHAIN="$toolchain"
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
# All the WASM's compiler flags, in cargo's encoding (\x1f between them), which takes precedence over the
# RUSTFLAGS cargo-leptos sets: so its own two are here too (the views type-erased as every build has them,
# .cargo/config.toml; the relocations its splitting reads).
flags=(--cfg erase_components -Clink-args=--emit-relocs -Zlocation-detail=none -Zfmt-debug=none
  -Zunstable-options -Cpanic=immediate-abort)
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; echo "${flags[*]}")
export CARGO_ENCODED_RUSTFLAGS
cargo leptos build --release --frontend-only --split "$@"
