# Sourced by scripts/test: schemathesis (PyPI), the independent generator that checks the API
# against its OpenAPI document (crates/app/tests/openapi.rs). Installed once into a virtual
# environment outside the tree, pinned; exports HERALD_SCHEMATHESIS (the `st` command).
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  local venv=/var/cache/herald/schemathesis
  if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION …" >&2
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  export HERALD_SCHEMATHESIS="$venv/bin/st"
}
