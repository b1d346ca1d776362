#!/usr/bin/env bash
# The one command that runs every test of the project:
#   1. build the emulator (release),
#   2. the Rust tests of the workspace (release too, so nothing is compiled twice),
#   3. a Python venv with the pinned real clients (oci SDK, oci CLI, pytest),
#   4. the real-client suite in client-tests/python against the built binary.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k secret_bundles -x`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

stage() { printf '\n==> [%s] %s\n' "$1" "$2"; }

stage "1/4" "build: cargo build --release -p oci-vault-emulator"
cargo build --release -p oci-vault-emulator

stage "2/4" "rust tests: cargo test --release --workspace"
cargo test --release --workspace

PY_DIR="client-tests/python"
VENV="$PY_DIR/.venv"
REQS="$PY_DIR/requirements.txt"
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ -x "$VENV/bin/python" && "$want" == "$have" ]]; then
    stage "3/4" "python venv: $VENV is up to date with $REQS"
else
    stage "3/4" "python venv: (re)creating $VENV from $REQS"
    PYTHON="${PYTHON:-python3}"
    "$PYTHON" -m venv --clear "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
    echo "$want" > "$STAMP"
fi

stage "4/4" "client tests: pytest $PY_DIR (real oci SDK and CLI against target/release/oci-vault-emulator)"
OCI_EMULATOR_BIN="target/release/oci-vault-emulator" "$VENV/bin/python" -m pytest "$PY_DIR" "$@"

printf '\n==> all stages passed\n'
