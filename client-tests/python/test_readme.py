"""README.md's ```python and ```sh blocks, run as written against an emulator.

Each block runs against an emulator of this module's own (reset before every
block), with only these textual substitutions: the address `127.0.0.1:4585` /
`localhost:4585` becomes the test emulator's, `cargo run --release -p
oci-vault-emulator --` becomes the built binary ($OCI_EMULATOR_BIN), and
`/tmp/oci-emulator` a temporary directory. The working directory is a temporary
one holding a `fixtures` link to the repository's, so relative paths resolve
as from the repository root and nothing is written into the checkout. The
`oci` CLI and `python3` come from this venv's `bin` (put first on PATH).

A block whose first line is `# Continues the Python example above` runs in the
same interpreter right after the Python block before it. The block that starts
`# test_app.py` is a pytest file for the plugin: it is run with pytest (the
plugin must be installed in this venv, as scripts/test.sh does).

Skipped blocks are listed in SKIP, each with its reason; a block that is
neither run nor listed, or a SKIP entry that no longer matches a block, fails.
"""
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import _emulator_binary

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
CONTINUES = "# Continues the Python example above"
PYTEST_FILE = "# test_app.py"

# First line of the block -> why it is not run here.
SKIP = {
    "scripts/run.sh":
        "starts a server in the foreground on :4585; this test starts the same binary itself",
    "scripts/test.sh":
        "runs every test, this one included",
    "bench/run --quick":
        "builds, then loads the machine for minutes (a measurement, not a test); test_bench.py runs `bench/run --help`",
    "mkdir /tmp/vault-go && cd /tmp/vault-go":
        "Go: `go mod tidy` fetches and compiles the Go SDK (minutes on two shared cores); "
        "client-tests/go runs the same calls",
    "(cd client-tests/java && mvn":
        "Java: resolves the Maven classpath and compiles against the SDK (minutes); client-tests/java runs the same calls",
    "mkdir /tmp/vault-ts && cd /tmp/vault-ts":
        "TypeScript: `npm install` of the oci-* packages; client-tests/typescript runs the same calls",
    "docker build -f docker/Dockerfile":
        "needs a container engine (none on the project's machines; scripts/check-image.sh checks the image with podman)",
    "python3 -m venv .venv && .venv/bin/pip install":
        "installs the pinned clients from PyPI (minutes); scripts/test.sh makes this very venv, which runs these blocks",
    ".venv/bin/pip install -q ./client-tests/pytest-oci-emulator":
        "installs into a venv; scripts/test.sh installs the plugin the same way before this suite",
    "from testcontainers.core.container import DockerContainer":
        "testcontainers needs a container engine (none on the project's machines)",
}

# First line of the block -> texts its stdout must contain, in this order. Never printed on failure
# (some blocks print secret bundles).
EXPECT = {
    "import base64": ["decrypted: hello", "secret version: 1"],
    CONTINUES: ["404 NotAuthorizedOrNotFound",
                "Denied: no statement grants SECRET_BUNDLE_READ on secret db-password in apps to user app-reader."],
    PYTEST_FILE: ["3 passed"],
    "# Back up a key, delete it": ["DELETED", "ENABLED True", "False http://"],
    # the audit trail: the CreateVault event, the retention, the JSON line
    "import datetime, oci, requests": ["[('CreateVault', '200')]", "365", "1"],
    # the encrypt answer, then the bundle of the updated secret
    "export OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING": ['"ciphertext":', '"version-number": 2'],
}


def readme_blocks():
    """[(line number of the first code line, language, code)] for every ```python / ```sh block."""
    blocks, lang, start, body = [], None, 0, []
    for number, line in enumerate(README.read_text().splitlines(), start=1):
        if lang is None:
            m = re.match(r"^```(\w+)\s*$", line)
            if m:
                lang, start, body = m.group(1), number + 1, []
        elif line.startswith("```"):
            if lang in ("python", "sh"):
                blocks.append((start, lang, "\n".join(body) + "\n"))
            lang = None
        else:
            body.append(line)
    return blocks


BLOCKS = readme_blocks()


def first_line(code):
    return code.strip().splitlines()[0].strip()


def skip_reason(code):
    head = first_line(code)
    for prefix, reason in SKIP.items():
        if head.startswith(prefix):
            return reason
    return None


def test_every_skip_entry_matches_a_block():
    heads = [first_line(code) for _, _, code in BLOCKS]
    stale = [p for p in SKIP if not any(h.startswith(p) for h in heads)]
    assert not stale, "SKIP entries that match no README block: {}".format(stale)


@pytest.fixture(scope="module")
def readme_emu(start_extra_emulator):
    """An emulator of its own: the blocks set faults, move the clock and reset."""
    return start_extra_emulator()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme")
    (d / "fixtures").symlink_to(REPO_ROOT / "fixtures")
    return d


def substitute(code, base_url, workdir):
    hostport = base_url.split("://", 1)[1]
    code = code.replace("http://127.0.0.1:4585", base_url)
    code = code.replace("127.0.0.1:4585", hostport).replace("localhost:4585", hostport)
    # scripts/run.sh builds (a no-op after scripts/test.sh) and execs this very binary.
    code = code.replace("scripts/run.sh", shlex.quote(str(_emulator_binary())))
    return code.replace("/tmp/oci-emulator", str(workdir / "oci-emulator"))


def block_env():
    env = dict(os.environ)
    env["OCI_EMULATOR_BIN"] = str(_emulator_binary())
    env["PATH"] = "{}{}{}".format(VENV_BIN, os.pathsep, env.get("PATH", ""))
    env["OCI_SDK_DEFAULT_CIRCUITBREAKER_ENABLED"] = "false"
    return env


# Runs each (line, code) in one interpreter and namespace; tracebacks name README.md lines.
PY_DRIVER = """
import json, sys
ns = {"__name__": "__main__"}
for line, code in json.load(sys.stdin):
    exec(compile("\\n" * (line - 1) + code, "README.md", "exec"), ns)
"""


def run_block(index, base_url, workdir):
    line, lang, code = BLOCKS[index]
    if lang == "python" and not first_line(code).startswith(PYTEST_FILE):
        parts = [(line, code)]
        if first_line(code).startswith(CONTINUES):
            prev = [i for i in range(index) if BLOCKS[i][1] == "python"]
            assert prev, "README.md:{} continues a Python block, but none comes before it".format(line)
            pline, _, pcode = BLOCKS[prev[-1]]
            parts.insert(0, (pline, pcode))
        parts = [(n, substitute(c, base_url, workdir)) for n, c in parts]
        cmd, stdin = [sys.executable, "-c", PY_DRIVER], json.dumps(parts)
    elif first_line(code).startswith(PYTEST_FILE):
        (workdir / "test_app.py").write_text(substitute(code, base_url, workdir))
        cmd, stdin = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"], None
    else:
        cmd, stdin = ["bash", "-e", "-o", "pipefail", "-c", substitute(code, base_url, workdir)], None
    return subprocess.run(cmd, input=stdin, cwd=str(workdir), env=block_env(), capture_output=True,
                          text=True, timeout=180)


@pytest.mark.parametrize("index", range(len(BLOCKS)),
                         ids=["README.md:{}-{}".format(line, lang) for line, lang, _ in BLOCKS])
def test_readme_block(index, readme_emu, workdir):
    line, lang, code = BLOCKS[index]
    reason = skip_reason(code)
    if reason:
        pytest.skip(reason)
    if first_line(code).startswith(PYTEST_FILE):
        pytest.importorskip("pytest_oci_emulator", reason="the pytest plugin is not installed in this venv "
                            "(pip install ./client-tests/pytest-oci-emulator)")
    requests.post(readme_emu.base_url + "/_emulator/reset", timeout=10).raise_for_status()
    result = run_block(index, readme_emu.base_url, workdir)
    # stderr only: stdout may hold secret bundles (hence no `result` in the assert expressions,
    # which pytest would print whole).
    code_, stdout, stderr = result.returncode, result.stdout, result.stderr
    assert code_ == 0, "README.md:{} ({}) exited {}; stderr:\n{}".format(line, lang, code_, stderr[-4000:])
    expected = next((v for k, v in EXPECT.items() if first_line(code).startswith(k)), [])
    pos = 0
    for text in expected:
        found = stdout.find(text, pos)
        assert found >= 0, "README.md:{}: expected {!r} on stdout after the earlier expected lines " \
                           "(stdout not shown: it may hold secret content)".format(line, text)
        pos = found + len(text)
