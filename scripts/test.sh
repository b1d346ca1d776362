#!/usr/bin/env bash
# The one command that runs every test of the project:
#   1. build the emulator (release, a static binary, so the docker image can
#      take the very same file; the same build as scripts/run.sh, so after
#      the README's run command this stage compiles nothing),
#   2. the Rust tests of the workspace (same profile and target; cargo still
#      compiles the dependency graph again here, because the dev-dependencies
#      turn on more features of shared crates such as tokio, and resolver 2
#      only unifies them for test builds),
#   3. a Python venv with the pinned real clients (oci SDK, oci CLI, pytest),
#      and the pytest plugin client-tests/pytest-oci-emulator installed in it,
#   4. the real-client suite in client-tests/python against the built binary
#      (README.md's python and sh blocks included),
#   5. the pytest plugin's own tests (client-tests/pytest-oci-emulator/tests),
#   6. the Go SDK suite (client-tests/go: go test),
#   7. the Java SDK suite (client-tests/java: mvn test, JUnit 5) and its
#      signing vectors,
#   8. the TypeScript SDK suite (client-tests/typescript: npm ci, node --test)
#      and the check of every signing vector in fixtures/signing,
#   9. the web console (client-tests/console: npm ci, node --test) in
#      Debian's headless Chromium via playwright-core, with 1,000 seeded
#      secrets (in CI, chromium is installed from Debian when missing;
#      elsewhere a missing chromium skips the stage loudly),
#   10. the docker image, built with podman from that binary and checked
#      (skipped when podman is absent, except in CI).
# Stages 6-8 need go, java + mvn and node + npm (on the project's machines
# already); each installs its packages from the registry and starts its own
# emulator from $OCI_EMULATOR_BIN. A missing toolchain fails the run in CI and
# is skipped, loudly, elsewhere.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k secret_bundles -x`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

stage() { printf '\n==> [%s] %s\n' "$1" "$2"; }

# have TOOL... : all of them on PATH; otherwise an error in CI, a loud skip elsewhere.
have() {
    local missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ "${CI:-}" == "true" ]]; then
        echo "missing in CI: ${missing[*]} (the project's machines have them preinstalled)" >&2
        exit 1
    fi
    echo "SKIPPED: ${missing[*]} not installed here; CI runs this stage" >&2
    return 1
}

# Seconds since the start of the current stage, printed when it ends.
timed() {
    local start=$SECONDS
    "$@"
    echo "    (stage took $((SECONDS - start)) s)"
}

# HOST, RUSTFLAGS (static glibc), BIN and build_emulator: the same build as
# scripts/run.sh (the README's run command), so neither rebuilds the other's
# binary. One build serves the emulator, the tests, the client suites and the
# image.
# shellcheck source=lib/build.sh
. scripts/lib/build.sh

stage "1/10" "build: cargo build --release -p oci-vault-emulator --target $HOST (static)"
build_emulator

stage "2/10" "rust tests: cargo test --release --workspace --target $HOST"
cargo test --release --workspace --target "$HOST"

PY_DIR="client-tests/python"
VENV="$PY_DIR/.venv"
REQS="$PY_DIR/requirements.txt"
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ -x "$VENV/bin/python" && "$want" == "$have" ]]; then
    stage "3/10" "python venv: $VENV is up to date with $REQS"
else
    stage "3/10" "python venv: (re)creating $VENV from $REQS"
    PYTHON="${PYTHON:-python3}"
    "$PYTHON" -m venv --clear "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
    echo "$want" > "$STAMP"
fi
# Reinstalled every run (its source is in this tree; a few seconds): the
# README's plugin example in stage 4 and the plugin's tests in stage 5 use it.
PLUGIN_DIR="client-tests/pytest-oci-emulator"
echo "    installing the pytest plugin $PLUGIN_DIR into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "./$PLUGIN_DIR"

stage "4/10" "client tests: pytest $PY_DIR (real oci SDK and CLI against $BIN)"
OCI_EMULATOR_BIN="$BIN" "$VENV/bin/python" -m pytest "$PY_DIR" "$@"

stage "5/10" "pytest plugin: pytest $PLUGIN_DIR/tests (the installed plugin starting $BIN)"
OCI_EMULATOR_BIN="$BIN" timed "$VENV/bin/python" -m pytest -p no:cacheprovider "$PLUGIN_DIR/tests"

# The other SDKs' suites find the binary through OCI_EMULATOR_BIN (relative to
# the repository root) and start their own emulator on a free port.
export OCI_EMULATOR_BIN="$BIN"

go_suite() {
    cd "$ROOT/client-tests/go"
    go mod download
    # -count=1: the cache cannot see the emulator binary change.
    go test -count=1 ./...
}
stage "6/10" "go client tests: go test ./client-tests/go (oci-go-sdk against $BIN)"
if have go; then ( timed go_suite ); fi

java_suite() {
    cd "$ROOT/client-tests/java"
    # Packages come from Maven Central into ~/.m2; -ntp keeps download lines
    # out of the log, Surefire prints the "Tests run:" summary.
    mvn -B -ntp test
}
stage "7/10" "java client tests: mvn test in client-tests/java (OCI Java SDK against $BIN, signing vectors)"
if have java mvn; then ( timed java_suite ); fi

# npm ci in the current directory unless node_modules already matches its package-lock.json.
npm_ci() {
    local want have_lock
    want="$(sha256sum package-lock.json | cut -d' ' -f1)"
    have_lock="$(cat node_modules/.package-lock.sha256 2>/dev/null || true)"
    if [[ -d node_modules && "$want" == "$have_lock" ]]; then
        echo "node_modules is up to date with package-lock.json"
    else
        npm ci --no-audit --no-fund
        echo "$want" > node_modules/.package-lock.sha256
    fi
}

typescript_suite() {
    cd "$ROOT/client-tests/typescript"
    npm_ci
    node "$ROOT/fixtures/signing/check_vectors.js"
    npm test
}
stage "8/10" "typescript client tests: node --test in client-tests/typescript (oci-* npm packages against $BIN)"
if have node npm; then ( timed typescript_suite ); fi

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
console_suite() {
    cd "$ROOT/client-tests/console"
    npm_ci
    CHROMIUM="$CHROMIUM" npm test
}
stage "9/10" "console tests: node --test in client-tests/console (/_emulator/ui in headless $CHROMIUM, playwright-core)"
if [[ ! -x "$CHROMIUM" && "${CI:-}" == "true" ]]; then
    # Debian's package, like .ci/run installs podman; never a downloaded browser.
    echo "installing chromium (Debian package) for the console test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi
if [[ -x "$CHROMIUM" ]]; then
    if have node npm; then ( timed console_suite ); fi
else
    echo "SKIPPED: no chromium at $CHROMIUM (apt-get install chromium); CI runs this stage" >&2
fi

if command -v podman >/dev/null 2>&1; then
    stage "10/10" "docker image: podman build from $BIN, inspect, run its entrypoint until healthy"
    bash scripts/check-image.sh "$BIN"
elif [[ "${CI:-}" == "true" ]]; then
    echo "podman is missing in CI (.ci/run installs it)" >&2
    exit 1
else
    stage "10/10" "docker image: skipped (no podman here; apt-get install podman to check it)"
fi

printf '\n==> all stages passed\n'
