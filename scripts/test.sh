#!/usr/bin/env bash
# The one command that runs every test of the project:
#   1. build the emulator (release, a static binary, so the docker image can
#      take the very same file),
#   2. the Rust tests of the workspace (same profile and target, so nothing
#      is compiled twice),
#   3. a Python venv with the pinned real clients (oci SDK, oci CLI, pytest),
#   4. the real-client suite in client-tests/python against the built binary,
#   5. the docker image, built with podman from that binary and checked
#      (skipped when podman is absent, except in CI).
# Extra arguments go to pytest, e.g. `scripts/test.sh -k secret_bundles -x`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

stage() { printf '\n==> [%s] %s\n' "$1" "$2"; }

# A static glibc binary: -C target-feature=+crt-static with an explicit
# --target (so build scripts and proc-macros, built for the host, are not
# affected). One build serves the tests, the client suites and the image.
HOST="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
BIN="target/$HOST/release/oci-vault-emulator"

stage "1/5" "build: cargo build --release -p oci-vault-emulator --target $HOST (static)"
cargo build --release -p oci-vault-emulator --target "$HOST"

stage "2/5" "rust tests: cargo test --release --workspace --target $HOST"
cargo test --release --workspace --target "$HOST"

PY_DIR="client-tests/python"
VENV="$PY_DIR/.venv"
REQS="$PY_DIR/requirements.txt"
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ -x "$VENV/bin/python" && "$want" == "$have" ]]; then
    stage "3/5" "python venv: $VENV is up to date with $REQS"
else
    stage "3/5" "python venv: (re)creating $VENV from $REQS"
    PYTHON="${PYTHON:-python3}"
    "$PYTHON" -m venv --clear "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
    echo "$want" > "$STAMP"
fi

stage "4/5" "client tests: pytest $PY_DIR (real oci SDK and CLI against $BIN)"
OCI_EMULATOR_BIN="$BIN" "$VENV/bin/python" -m pytest "$PY_DIR" "$@"

if command -v podman >/dev/null 2>&1; then
    stage "5/5" "docker image: podman build from $BIN, inspect, run its entrypoint until healthy"
    bash scripts/check-image.sh "$BIN"
elif [[ "${CI:-}" == "true" ]]; then
    echo "podman is missing in CI (.ci/run installs it)" >&2
    exit 1
else
    stage "5/5" "docker image: skipped (no podman here; apt-get install podman to check it)"
fi

printf '\n==> all stages passed\n'
