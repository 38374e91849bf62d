# Sourced by scripts/test and scripts/demo: make sure a Rust toolchain (>= 1.95) and a C
# compiler (aws-lc-sys and SQLite build C code) are present on Debian 12.
ensure_toolchain() {
  if ! command -v cc >/dev/null 2>&1; then
    echo "installing a C compiler (build-essential) …" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential >/dev/null
  fi
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "installing the Rust toolchain with rustup …" >&2
    command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl ca-certificates >/dev/null; }
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy >&2
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  # Builds are shared between clones and CI runs: keep the target directory outside the tree.
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/herald/target}
  mkdir -p "$CARGO_TARGET_DIR"
}
