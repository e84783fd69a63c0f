#!/usr/bin/env bash
# Installs what building and testing auditlog needs, skipping whatever is already there.
# Source it (`. scripts/setup.sh [--browser] [--fuzz]`) so that PATH and build variables stay set for the caller.
# Needs: Rust (rustup), Node 20+ with npm, Python 3 with venv, and Debian's package manager (as root, or
# with sudo).

_auditlog_setup() {
  local want_browser=0 want_fuzz=0
  for arg in "$@"; do
    case "$arg" in
      --browser) want_browser=1 ;;
      --fuzz) want_fuzz=1 ;;
    esac
  done
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"

  if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null; then
    echo "setup: installing Debian's chromium (browsers cannot be downloaded by the test tools here)"
    $sudo apt-get update -q && $sudo apt-get install -y -q chromium || return 1
  fi
  if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
    echo "setup: adding the wasm32 target"
    rustup target add wasm32-unknown-unknown || return 1
  fi
  # 0.3.11 needs a newer rustc under --locked; 0.3.10 is the verified one (about 25 minutes, once per machine).
  if ! cargo leptos --version 2>/dev/null | grep -q ' 0\.3\.10'; then
    echo "setup: installing cargo-leptos 0.3.10 (about 25 minutes on 2 cores, once)"
    cargo install cargo-leptos --version 0.3.10 --locked || return 1
  fi
  # Must match the wasm-bindgen crate pinned in Cargo.toml. --locked fails for this CLI; unlocked works.
  if ! wasm-bindgen --version 2>/dev/null | grep -q ' 0\.2\.130'; then
    echo "setup: installing wasm-bindgen-cli 0.2.130"
    cargo install wasm-bindgen-cli --version 0.2.130 || return 1
  fi
  if [ ! -x "$root/end2end/node_modules/.bin/playwright" ] || [ ! -x "$root/end2end/node_modules/.bin/wasm-opt" ]; then
    echo "setup: installing the end2end npm packages (Playwright, binaryen)"
    (cd "$root/end2end" && npm ci --no-audit --no-fund) || return 1
  fi
  # Schemathesis (scripts/fuzz.sh) in a virtualenv of its own, pinned to the verified version.
  local st_version=4.32.5
  local st_venv="${XDG_CACHE_HOME:-$HOME/.cache}/auditlog/schemathesis-$st_version"
  if [ "$want_fuzz" = 1 ] && [ ! -x "$st_venv/bin/schemathesis" ]; then
    echo "setup: installing Schemathesis $st_version (from PyPI, into $st_venv)"
    python3 -m venv "$st_venv" && "$st_venv/bin/pip" install -q "schemathesis==$st_version" || return 1
  fi
  [ -x "$st_venv/bin/schemathesis" ] && export SCHEMATHESIS="$st_venv/bin/schemathesis"
  # wasm-opt from npm's binaryen 132 (never Debian's v108: its output does not hydrate).
  export PATH="$root/end2end/node_modules/.bin:$PATH"
  # What cargo-leptos builds the server with in debug, and what .cargo/config.toml gives every other build;
  # `cargo test` and `cargo clippy` get it as RUSTFLAGS too (see test.sh), so that they share cargo-leptos's
  # artifacts. Not exported as RUSTFLAGS: cargo-leptos would add its own flag to it a second time, and nothing
  # would be shared.
  export AUDITLOG_RUSTFLAGS="--cfg erase_components"
  export LEPTOS_OUTPUT_NAME=auditlog
}

_auditlog_setup "$@"
