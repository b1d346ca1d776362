#!/usr/bin/env bash
# Builds the docker image with podman from a host-built static binary and
# checks what can be checked without a container engine: entrypoint, user,
# port, healthcheck, size, the owner of the directories the runtime user
# writes; then, from the image's exported filesystem, runs `print-config`
# with the image's default key directory (as the image's user when this runs
# as root) and the entrypoint binary until its own healthcheck passes.
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
chmod 0755 "$work"  # the image's user (below) must reach the exported files
trap 'podman rm -f oci-vault-emulator-check >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# What the Dockerfile's build stage leaves in /out: the binary and an empty
# directory that becomes the image's /tmp.
mkdir -p "$work/build/out/tmp"
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
for path in usr/local/bin/oci-vault-emulator fixtures/tenancy.json fixtures/oci/config seed data tmp; do
    [[ -e "$work/rootfs/$path" ]] || fail "/$path is missing from the image"
done
# The directories the runtime user writes to belong to it (as tar records
# them, so this holds whoever extracts the export).
owners="$(podman export oci-vault-emulator-check | tar -tv --numeric-owner \
    | awk '$1 ~ /^d/ && ($6 == "tmp/" || $6 == "data/") {print $6, $2}' | sort | tr '\n' ' ')"
[[ "$owners" == "data/ 65532/65532 tmp/ 65532/65532 " ]] \
    || fail "/data and /tmp must be directories owned by 65532:65532: $owners"

# print-config with the image's default key directory ($TMPDIR unset in the
# image = /tmp, here the exported /tmp): it must write the key there and
# print a config naming it. As root, run it as the image's user so the
# directory's permissions count as they would in a container.
as_image_user=()
if [[ "$(id -u)" == 0 ]] && command -v setpriv >/dev/null 2>&1; then
    as_image_user=(setpriv --reuid=65532 --regid=65532 --clear-groups)
fi
config="$(TMPDIR="$work/rootfs/tmp" "${as_image_user[@]}" \
    "$work/rootfs/usr/local/bin/oci-vault-emulator" print-config)" \
    || fail "print-config failed with the image's default key directory"
key="$work/rootfs/tmp/oci-vault-emulator/default.pem"
[[ "$config" == *"key_file=$key"* && -s "$key" ]] \
    || fail "print-config did not write $key: $config"
echo "print-config ok${as_image_user[*]:+ (as 65532)}: wrote /tmp/oci-vault-emulator/default.pem"

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
