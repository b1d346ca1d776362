"""Fixtures for the real-client suite: start the emulator, build real OCI clients.

The session starts one emulator process (`$OCI_EMULATOR_BIN serve --listen
127.0.0.1:<free port>`, default target/release/oci-vault-emulator) with the
repository root as its working directory, and stops it at the end. Every test
makes its own uniquely named resources, so tests do not depend on each other or
on their order.
"""
import os

# The SDK's circuit breaker is shared by every client in the process and is
# configured when `oci` is imported: switch it off before that happens, or a few
# expected 409s would make unrelated later calls fail without being sent.
os.environ["OCI_SDK_DEFAULT_CIRCUITBREAKER_ENABLED"] = "false"

import datetime  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import oci  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402

from support import (  # noqa: E402
    COMPARTMENT_ID, CONFIG_FILE, NO_RETRY, b64, load_profile, unique,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
# key_file in fixtures/oci/config is relative to the repository root.
os.chdir(REPO_ROOT)

HEALTH_PATH = "/_emulator/health"
START_TIMEOUT_S = 10.0
# connect / read timeouts for every SDK client: a hung server fails a test
# instead of stalling the run.
CLIENT_TIMEOUT = (5, 60)


class Emulator:
    """One running emulator process; its stdout and stderr go to log_path."""

    def __init__(self, proc, base_url, log_path, log_file):
        self.proc = proc
        self.base_url = base_url
        self.log_path = log_path
        self._log_file = log_file

    def log_text(self):
        """Everything the server wrote to stdout/stderr so far."""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s. Safe to call twice."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _emulator_binary():
    raw = os.environ.get("OCI_EMULATOR_BIN", "target/release/oci-vault-emulator")
    path = Path(raw)
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def start_emulator(log_dir, extra_env=None):
    """Start `$OCI_EMULATOR_BIN serve --listen 127.0.0.1:<free port>` (cwd = repo root) and wait
    until GET /_emulator/health answers 200. Exits the whole run with the server's output if it
    does not come up within START_TIMEOUT_S."""
    binary = _emulator_binary()
    if not binary.exists():
        pytest.exit("emulator binary not found: {} (build it with `cargo build --release "
                    "-p oci-vault-emulator` or set OCI_EMULATOR_BIN)".format(binary), returncode=2)
    port = _free_port()
    base_url = "http://127.0.0.1:{}".format(port)
    log_dir = Path(tempfile.mkdtemp(prefix="oci-emulator-log-", dir=str(log_dir)))
    log_path = log_dir / "server.log"
    log_file = open(log_path, "wb")
    env = dict(os.environ)
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [str(binary), "serve", "--listen", "127.0.0.1:{}".format(port)],
        cwd=str(REPO_ROOT), env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
    )
    emu = Emulator(proc, base_url, log_path, log_file)

    deadline = time.monotonic() + START_TIMEOUT_S
    last_error = None
    while True:
        if proc.poll() is not None:
            emu.stop()
            pytest.exit("emulator exited with code {} before answering health; its output:\n{}".format(
                proc.returncode, emu.log_text()), returncode=3)
        try:
            r = requests.get(base_url + HEALTH_PATH, timeout=1)
            if r.status_code == 200:
                return emu
            last_error = "HTTP {}: {}".format(r.status_code, r.text[:300])
        except requests.RequestException as e:
            last_error = repr(e)
        if time.monotonic() > deadline:
            emu.stop()
            pytest.exit("emulator did not answer {} with 200 within {:.0f}s (last: {}); its output:\n{}".format(
                HEALTH_PATH, START_TIMEOUT_S, last_error, emu.log_text()), returncode=3)
        time.sleep(0.1)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    emu = start_emulator(tmp_path_factory.getbasetemp())
    print("\nemulator at {} (pid {}), log {}".format(emu.base_url, emu.proc.pid, emu.log_path))
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def start_extra_emulator(tmp_path_factory):
    """start_extra_emulator(extra_env) -> another Emulator of its own (e.g. with a louder log
    level); all of them are stopped at the end of the session."""
    started = []

    def start(extra_env=None):
        emu = start_emulator(tmp_path_factory.getbasetemp(), extra_env)
        started.append(emu)
        return emu
    try:
        yield start
    finally:
        for emu in started:
            emu.stop()


class ClockedEmulator:
    """An emulator of its own whose clock a test may move (`POST /_emulator/time`), so the
    session's shared emulator keeps the wall clock the other tests compute times from.
    Times a test sends are computed from `now()`, the emulator's clock, never the wall's."""

    def __init__(self, emu, config):
        self.emulator = emu
        self.base_url = emu.base_url
        self._config = config
        self.kms_vault = oci.key_management.KmsVaultClient(config, **_client_kwargs(emu.base_url))
        self._clients = {}

    def now(self):
        """The emulator's current time (an aware datetime)."""
        r = requests.get(self.base_url + "/_emulator/time", timeout=5)
        r.raise_for_status()
        return datetime.datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))

    def advance(self, days=0, seconds=0):
        r = requests.post(self.base_url + "/_emulator/time",
                          json={"advanceSeconds": int(days * 86400 + seconds)}, timeout=30)
        assert r.status_code == 200, r.text

    def mgmt(self, vault):
        return self._client(oci.key_management.KmsManagementClient, vault.management_endpoint)

    def crypto(self, vault):
        return self._client(oci.key_management.KmsCryptoClient, vault.crypto_endpoint)

    def _client(self, cls, endpoint):
        if (cls, endpoint) not in self._clients:
            self._clients[(cls, endpoint)] = cls(self._config, **_client_kwargs(endpoint))
        return self._clients[(cls, endpoint)]

    def vaults(self):
        """A VaultsClient (secret management) on this emulator."""
        return self._client(oci.vault.VaultsClient, self.base_url)

    def secrets(self):
        """A SecretsClient (secret bundles) on this emulator."""
        return self._client(oci.secrets.SecretsClient, self.base_url)

    def vault(self, vault_type="DEFAULT"):
        return self.kms_vault.create_vault(oci.key_management.models.CreateVaultDetails(
            compartment_id=COMPARTMENT_ID, display_name=unique("vault"), vault_type=vault_type)).data

    def key(self, vault, length=32, **details):
        return self.mgmt(vault).create_key(oci.key_management.models.CreateKeyDetails(
            compartment_id=COMPARTMENT_ID, display_name=unique("key"),
            key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=length), **details)).data


@pytest.fixture(scope="module")
def clocked(tmp_path_factory, oci_config):
    """A ClockedEmulator shared by one test module (its clock only moves forward)."""
    emu = start_emulator(tmp_path_factory.getbasetemp())
    try:
        yield ClockedEmulator(emu, oci_config)
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def base_url(emulator):
    return emulator.base_url


@pytest.fixture(scope="session")
def server_log(emulator):
    """A callable returning the server's output so far (stdout and stderr)."""
    return emulator.log_text


@pytest.fixture(scope="session")
def oci_config():
    cfg = load_profile("DEFAULT")
    oci.config.validate_config(cfg)
    return cfg


@pytest.fixture(scope="session")
def compartment_id():
    return COMPARTMENT_ID


def _client_kwargs(endpoint):
    return dict(service_endpoint=endpoint, retry_strategy=NO_RETRY, timeout=CLIENT_TIMEOUT)


@pytest.fixture(scope="session")
def kms_vault_client(oci_config, base_url):
    return oci.key_management.KmsVaultClient(oci_config, **_client_kwargs(base_url))


@pytest.fixture(scope="session")
def vaults_client(oci_config, base_url):
    return oci.vault.VaultsClient(oci_config, **_client_kwargs(base_url))


@pytest.fixture(scope="session")
def secrets_client(oci_config, base_url):
    return oci.secrets.SecretsClient(oci_config, **_client_kwargs(base_url))


@pytest.fixture(scope="session")
def mgmt_client(oci_config):
    """mgmt_client(vault) -> KmsManagementClient bound to vault.management_endpoint."""
    cache = {}

    def make(vault):
        endpoint = vault.management_endpoint
        if endpoint not in cache:
            cache[endpoint] = oci.key_management.KmsManagementClient(oci_config, **_client_kwargs(endpoint))
        return cache[endpoint]
    return make


@pytest.fixture(scope="session")
def crypto_client(oci_config):
    """crypto_client(vault) -> KmsCryptoClient bound to vault.crypto_endpoint."""
    cache = {}

    def make(vault):
        endpoint = vault.crypto_endpoint
        if endpoint not in cache:
            cache[endpoint] = oci.key_management.KmsCryptoClient(oci_config, **_client_kwargs(endpoint))
        return cache[endpoint]
    return make


@pytest.fixture(scope="session")
def make_vault(kms_vault_client):
    """make_vault(**kw) -> a new ACTIVE DEFAULT vault in the apps compartment."""
    def make(display_name=None, **kwargs):
        details = oci.key_management.models.CreateVaultDetails(
            compartment_id=COMPARTMENT_ID,
            display_name=display_name or unique("vault"),
            vault_type="DEFAULT",
            **kwargs)
        return kms_vault_client.create_vault(details).data
    return make


@pytest.fixture
def vault(make_vault):
    return make_vault()


@pytest.fixture(scope="session")
def make_key(mgmt_client):
    """make_key(vault, length=32, algorithm="AES", display_name=None) -> a new ENABLED key."""
    def make(vault, length=32, algorithm="AES", display_name=None):
        details = oci.key_management.models.CreateKeyDetails(
            compartment_id=COMPARTMENT_ID,
            display_name=display_name or unique("key"),
            key_shape=oci.key_management.models.KeyShape(algorithm=algorithm, length=length))
        return mgmt_client(vault).create_key(details).data
    return make


@pytest.fixture
def aes_key(vault, make_key):
    return make_key(vault, length=32)


@pytest.fixture(scope="session")
def secret(vaults_client):
    """Factory: secret(vault, key, content=None, name=None, version_name=None, **kw) -> (Secret, content bytes).

    content defaults to random bytes; version_name sets the first version's `name`.
    """
    def make(vault, key, content=None, name=None, version_name=None, **kwargs):
        if content is None:
            content = os.urandom(24)
        details = oci.vault.models.CreateSecretDetails(
            compartment_id=COMPARTMENT_ID,
            vault_id=vault.id,
            key_id=key.id,
            secret_name=name or unique("secret"),
            secret_content=oci.vault.models.Base64SecretContentDetails(
                content_type="BASE64", content=b64(content), name=version_name),
            **kwargs)
        return vaults_client.create_secret(details).data, content
    return make


@pytest.fixture(scope="session")
def config_file():
    return CONFIG_FILE
