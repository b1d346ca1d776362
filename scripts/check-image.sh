#!/usr/bin/env bash
# Builds the docker image with podman from a host-built static binary and
# checks what can be checked without a container engine: entrypoint, user,
# port, healthcheck, size; then runs the entrypoint binary from the image's
# exported filesystem until its own healthcheck passes.
#
#   scripts/check-image.sh path/to/static/oci-vault-emulator
#
# Needs podman (Debian package); this machine cannot start containers, so
# `docker run` itself is only exercised on a Docker host.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${1:?usage: scripts/check-image.sh STATIC_BINARY}"
MAX_BYTES=$((25 * 1024 * 1024))
TAG="localhost/oci-vault-emulator:check"

fail() { echo "image check failed: $*" >&2; exit 1; }

if ! ldd "$BIN" 2>&1 | grep -qE "not a dynamic executable|statically linked"; then
    fail "$BIN is not statically linked (build it with RUSTFLAGS='-C target-feature=+crt-static' --target …)"
fi

work="$(mktemp -d)"
trap 'podman rm -f oci-vault-emulator-check >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/build/out"
cp "$BIN" "$work/build/out/oci-vault-emulator"

# --format docker keeps HEALTHCHECK; the build context named `build` stands
# in for the Rust builder stage, so nothing is pulled.
podman build --quiet --format docker --build-context "build=$work/build" \
    -f docker/Dockerfile -t "$TAG" . >/dev/null

inspect() { podman image inspect --format "$1" "$TAG"; }
entrypoint="$(inspect '{{json .Config.Entrypoint}}')"
cmd="$(inspect '{{json .Config.Cmd}}')"
user="$(inspect '{{.Config.User}}')"
ports="$(inspect '{{json .Config.ExposedPorts}}')"
health="$(inspect '{{json .Config.Healthcheck.Test}}')"
size="$(inspect '{{.Size}}')"
echo "entrypoint=$entrypoint cmd=$cmd user=$user ports=$ports size=${size}B"
echo "healthcheck=$health"
[[ "$entrypoint" == '["/usr/local/bin/oci-vault-emulator"]' ]] || fail "entrypoint is $entrypoint"
[[ "$cmd" == '["serve"]' ]] || fail "cmd is $cmd"
[[ "$user" == "65532:65532" ]] || fail "user is $user (must not be root)"
[[ "$ports" == *'"4585/tcp"'* ]] || fail "port 4585 is not exposed: $ports"
[[ "$health" == *'"healthcheck"'*'"http://127.0.0.1:4585"'* ]] || fail "healthcheck is $health"
(( size < MAX_BYTES )) || fail "image is $size bytes, over $MAX_BYTES"

# The image's filesystem, as a container would see it.
podman create --name oci-vault-emulator-check "$TAG" >/dev/null
mkdir -p "$work/rootfs"
podman export oci-vault-emulator-check | tar -x -C "$work/rootfs"
for path in usr/local/bin/oci-vault-emulator fixtures/tenancy.json fixtures/oci/config seed data; do
    [[ -e "$work/rootfs/$path" ]] || fail "/$path is missing from the image"
done

# Run the entrypoint from the exported filesystem, with the image's
# environment but a free port, until its own healthcheck passes.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$work/rootfs/usr/local/bin/oci-vault-emulator" serve --listen "127.0.0.1:$port" \
    --seed "$work/rootfs/seed" >"$work/serve.log" 2>&1 &
pid=$!
start=$(date +%s%N)
for _ in $(seq 1 100); do
    if "$work/rootfs/usr/local/bin/oci-vault-emulator" healthcheck --url "http://127.0.0.1:$port" 2>/dev/null; then
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        kill -TERM "$pid"
        wait "$pid" || fail "the emulator did not exit 0 on SIGTERM"
        echo "image ok: $((size / 1024 / 1024)) MiB; the image's binary answered its healthcheck ${ms} ms after start"
        exit 0
    fi
    sleep 0.05
done
cat "$work/serve.log" >&2
fail "the image's binary did not become healthy"
