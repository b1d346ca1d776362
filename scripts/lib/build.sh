# Sourced by scripts/run.sh and scripts/test.sh so that both build the one
# emulator binary the same way (same profile, flags and target, hence the
# same cargo fingerprint): running the emulator after the tests, or the
# tests after running it, compiles nothing again.
#
# A static glibc binary: -C target-feature=+crt-static with an explicit
# --target (so build scripts and proc-macros, built for the host, are not
# affected). One build serves the README's run command, the tests, the
# client suites and the docker image.
#
# Sets HOST (the host triple), exports RUSTFLAGS, sets BIN (the binary's
# path, relative to the repository root unless CARGO_TARGET_DIR is set) and
# defines build_emulator. Expects the caller to be at the repository root.
HOST="$(rustc -vV | sed -n 's/^host: //p')"
# Added once: run.sh called from test.sh's environment must not change the
# flags (and so cargo's fingerprint) by adding them twice.
case " ${RUSTFLAGS:-} " in
    *" -C target-feature=+crt-static "*) ;;
    *) export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" ;;
esac
BIN="${CARGO_TARGET_DIR:-target}/$HOST/release/oci-vault-emulator"

build_emulator() {
    cargo build --release -p oci-vault-emulator --target "$HOST" "$@"
}
