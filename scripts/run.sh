#!/usr/bin/env bash
# Runs the emulator: builds it exactly as scripts/test.sh does (release,
# static, --target <host>; see scripts/lib/build.sh) and execs it, so the
# README's run command and its test command share one build.
#
#   scripts/run.sh                          # serve on 127.0.0.1:4585
#   scripts/run.sh --listen 0.0.0.0:4585    # serve, with serve's flags
#   scripts/run.sh print-config --key-dir /tmp/oci-emulator
#
# Arguments that start with a subcommand (serve, healthcheck, print-config,
# policy, token, help) go to the binary as they are; anything else goes to `serve`.
# Cargo's progress goes to stderr, so stdout is the emulator's own, and
# relative paths in the arguments are read from the current directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$PWD"
cd "$ROOT"
# shellcheck source=lib/build.sh
. scripts/lib/build.sh
build_emulator
[[ "$BIN" == /* ]] || BIN="$ROOT/$BIN"
cd "$HERE"

case "${1:-}" in
    serve | healthcheck | print-config | policy | scan-logs | token | help | -h | --help | -V | --version)
        exec "$BIN" "$@" ;;
    *)
        exec "$BIN" serve "$@" ;;
esac
