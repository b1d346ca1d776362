"""pytest plugin for oci-vault-emulator (entry point `pytest11: oci_emulator`).

Fixtures
    oci_emulator_session   the emulator process of the session (started on first use, stopped at the end)
    oci_emulator           the same emulator, reset before and after the test, with the markers applied
    oci_emulator_url       its base URL
    oci_config             oci_config("DEVELOPER") -> an SDK config dict (key_file made absolute)
    oci_client             oci_client(ClientClass, profile="DEFAULT", endpoint=None, **kw) -> a real SDK client
    kms_vault_client, vaults_client, secrets_client    DEFAULT-profile clients at the base URL
    kms_management_client, kms_crypto_client          (vault, profile="DEFAULT") -> client at the vault's endpoint
    oci_clients            oci_clients("APPREADER") -> all of the above for one profile

Markers (applied after the reset, in this order)
    @pytest.mark.oci_seed("seed.json" | {...})                 POST /_emulator/seed
    @pytest.mark.oci_policies([...] | "policies.json")         PUT  /_emulator/iam/policies
    @pytest.mark.oci_faults("faults.json" | {...})             PUT  /_emulator/faults

Every client is built with no retries (`oci.retry.NoneRetryStrategy`), so an
expected error surfaces at once; pass `retry_strategy=` to oci_client for
another one.
"""
import json
import os
import types
from pathlib import Path

import pytest

from .emulator import Emulator, EmulatorError

# The SDK's circuit breaker is shared by every client in a process and is read
# when `oci` is first imported: a few expected errors would otherwise make
# unrelated later calls fail without being sent. Set it (unless the user did)
# before anything imports oci; this module only imports oci inside fixtures.
os.environ.setdefault("OCI_SDK_DEFAULT_CIRCUITBREAKER_ENABLED", "false")

CONFIG_IN_REPO = Path("fixtures") / "oci" / "config"
DEFAULT_BIN_IN_REPO = Path("target") / "release" / "oci-vault-emulator"
# connect / read timeouts of every client: a hung server fails a test instead of stalling it.
CLIENT_TIMEOUT = (5, 60)
MARKERS = ("oci_seed", "oci_policies", "oci_faults")
LOG_TAIL_LINES = 40


def pytest_addoption(parser):
    group = parser.getgroup("oci-emulator", "oci-vault-emulator")
    group.addoption("--oci-emulator-bin", default=None,
                    help="the emulator binary (default: $OCI_EMULATOR_BIN, else target/release/oci-vault-emulator "
                         "under the rootdir or one of its parents)")
    group.addoption("--oci-emulator-url", default=None,
                    help="use an emulator already running at this URL instead of starting one "
                         "(default: $OCI_EMULATOR_URL); it is still reset before every test")
    group.addoption("--oci-emulator-config", default=None,
                    help="OCI SDK config file with the fixture profiles (default: $OCI_EMULATOR_CONFIG, else "
                         "fixtures/oci/config under the rootdir or one of its parents, else one written by "
                         "`oci-vault-emulator print-config`)")
    group.addoption("--oci-emulator-serve-arg", action="append", default=[], metavar="ARG",
                    help="one more argument for `oci-vault-emulator serve` (repeat it), e.g. "
                         "--oci-emulator-serve-arg=--tenancy=my-tenancy.json; relative paths are from the cwd")
    group.addoption("--oci-emulator-start-timeout", type=float, default=10.0,
                    help="seconds to wait for GET /_emulator/health (default 10)")


def pytest_configure(config):
    config.addinivalue_line("markers", "oci_seed(document): apply a seed (path to JSON, or a dict) with "
                                       "POST /_emulator/seed for this test; reset afterwards")
    config.addinivalue_line("markers", "oci_policies(policies): replace the IAM policies (a list in the tenancy "
                                       "file's `policies` shape, a list of statements attached to the tenancy, or "
                                       "a path to JSON) for this test; reset afterwards")
    config.addinivalue_line("markers", "oci_faults(document): replace the fault document (path to JSON, or a "
                                       "dict) for this test; reset afterwards")


# -- locating things --------------------------------------------------------------------------

def _search_roots(config):
    """rootdir and cwd, then each of their parents (nearest first, no duplicates)."""
    seen, out = set(), []
    for start in (Path(str(config.rootpath)), Path.cwd()):
        for p in [start.resolve()] + list(start.resolve().parents):
            if p not in seen:
                seen.add(p)
                out.append(p)
    return out


def _find_up(config, relative):
    for root in _search_roots(config):
        candidate = root / relative
        if candidate.exists():
            return candidate
    return None


def _binary(config):
    raw = config.getoption("--oci-emulator-bin") or os.environ.get("OCI_EMULATOR_BIN")
    if raw:
        p = Path(raw)
        if p.is_absolute():
            return p
        # A relative path: from the cwd, else from the rootdir or a parent (the repository root).
        if p.exists():
            return p.resolve()
        return _find_up(config, p) or p
    return _find_up(config, DEFAULT_BIN_IN_REPO) or DEFAULT_BIN_IN_REPO


def _resolve_data_path(request, path):
    """A marker's path: absolute, else from the test file's directory, the rootdir (and its
    parents) or the cwd, first that exists."""
    p = Path(path)
    if p.is_absolute():
        return p
    candidates = [Path(str(request.node.fspath)).parent / p]
    candidates += [root / p for root in _search_roots(request.config)]
    for c in candidates:
        if c.is_file():
            return c
    raise pytest.UsageError("{}: file not found (tried {})".format(path, ", ".join(str(c) for c in candidates[:3])))


def _load_document(request, value):
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, (str, os.PathLike)):
        with open(_resolve_data_path(request, value), "rb") as f:
            return json.load(f)
    raise pytest.UsageError("expected a path or a JSON document, got {!r}".format(type(value).__name__))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used the emulator shows the end of its log (one line per request:
    operation, status, opc-request-id; never a body or secret content)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "oci_emulator" in getattr(item, "fixturenames", ()):
        emu = getattr(item, "funcargs", {}).get("oci_emulator")
        if emu is not None and emu.log_path:
            tail = emu.log_text().splitlines()[-LOG_TAIL_LINES:]
            report.sections.append(("oci-emulator log (last {} lines)".format(len(tail)), "\n".join(tail)))


# -- the emulator -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def oci_emulator_session(request, tmp_path_factory):
    """The session's emulator: started (fresh, in memory, on a free port) on first use, stopped
    (SIGTERM, then kill) at the end. Tests normally use `oci_emulator`, which also resets it."""
    config = request.config
    url = config.getoption("--oci-emulator-url") or os.environ.get("OCI_EMULATOR_URL")
    timeout = config.getoption("--oci-emulator-start-timeout")
    try:
        if url:
            emu = Emulator(url)
            emu.wait_healthy(timeout)
        else:
            log_path = tmp_path_factory.mktemp("oci-emulator") / "emulator.log"
            emu = Emulator.start(_binary(config), log_path, timeout=timeout,
                                 extra_args=config.getoption("--oci-emulator-serve-arg"))
    except EmulatorError as e:
        pytest.exit(str(e), returncode=3)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def oci_emulator(request, oci_emulator_session, _oci_tenancy_id):
    """The session's emulator, reset (POST /_emulator/reset) before the test, with the test's
    oci_seed / oci_policies / oci_faults markers applied, and reset again after it."""
    emu = oci_emulator_session
    emu.reset()
    try:
        for marker in reversed(list(request.node.iter_markers("oci_seed"))):
            for doc in marker.args:
                emu.seed(_load_document(request, doc))
        for marker in reversed(list(request.node.iter_markers("oci_policies"))):
            for doc in marker.args:
                emu.set_policies(_policies(_load_document(request, doc), _oci_tenancy_id))
        for marker in reversed(list(request.node.iter_markers("oci_faults"))):
            for doc in marker.args:
                emu.set_faults(_load_document(request, doc))
        yield emu
    finally:
        emu.reset()


def _policies(doc, tenancy_id):
    """A list of policy objects as is; a list of statement strings as one policy on the tenancy."""
    if isinstance(doc, list) and doc and all(isinstance(s, str) for s in doc):
        return [{"name": "pytest-oci-policies", "compartmentId": tenancy_id, "statements": doc}]
    return doc


@pytest.fixture(autouse=True)
def _oci_emulator_markers(request):
    """A test with an oci_* marker gets `oci_emulator` even when it does not ask for it, so a
    marker is never silently ignored. Tests without one do not start anything."""
    if any(request.node.get_closest_marker(m) for m in MARKERS):
        request.getfixturevalue("oci_emulator")


@pytest.fixture(scope="session")
def oci_emulator_url(oci_emulator_session):
    return oci_emulator_session.base_url


# -- configs and clients ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def _oci_config_file(request, tmp_path_factory):
    """The config file to load profiles from, with every key_file made absolute (a copy in a
    temporary directory), or None when there is none (then `print-config` writes one per profile)."""
    import configparser

    config = request.config
    raw = config.getoption("--oci-emulator-config") or os.environ.get("OCI_EMULATOR_CONFIG")
    if raw:
        path = Path(raw).resolve()
        if not path.is_file():
            raise pytest.UsageError("OCI config not found: {}".format(path))
    else:
        path = _find_up(config, CONFIG_IN_REPO)
    if path is None:
        return None
    # The SDK resolves a relative key_file from the cwd; fixtures/oci/config names its keys
    # relative to the repository root (two levels above it). Try the cwd, then the config's
    # directory and its parents.
    bases = [Path.cwd(), path.parent] + list(path.parent.parents)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(str(path))
    for section in [parser.default_section] + parser.sections():
        key_file = parser[section].get("key_file") if section != parser.default_section \
            else parser.defaults().get("key_file")
        if not key_file or os.path.isabs(os.path.expanduser(key_file)):
            continue
        for base in bases:
            if (base / key_file).is_file():
                parser[section]["key_file"] = str((base / key_file).resolve())
                break
    copy = tmp_path_factory.mktemp("oci-config") / "config"
    with open(copy, "w") as f:
        parser.write(f)
    return copy


@pytest.fixture(scope="session")
def oci_config(request, _oci_config_file, tmp_path_factory):
    """oci_config(profile="DEFAULT") -> a validated SDK config dict for a fixture user
    (DEFAULT = admin, DEVELOPER, APPREADER, SECRETSADMIN); key_file is absolute."""
    import subprocess

    import oci

    cache = {}

    def load(profile="DEFAULT"):
        if profile not in cache:
            if _oci_config_file is None:
                key_dir = tmp_path_factory.mktemp("oci-config-{}".format(profile.lower()))
                out = subprocess.run([str(_binary(request.config)), "print-config", "--profile", profile,
                                      "--key-dir", str(key_dir)],
                                     check=True, capture_output=True, text=True).stdout
                written = key_dir / "config"
                written.write_text(out)
                cfg = oci.config.from_file(str(written), profile)
            else:
                cfg = oci.config.from_file(str(_oci_config_file), profile)
            oci.config.validate_config(cfg)
            cache[profile] = cfg
        return dict(cache[profile])
    return load


@pytest.fixture(scope="session")
def _oci_tenancy_id(oci_config):
    return oci_config("DEFAULT")["tenancy"]


@pytest.fixture(scope="session")
def _oci_client_factory(oci_config, oci_emulator_session):
    import oci
    cache = {}

    def make(cls, profile="DEFAULT", endpoint=None, **kwargs):
        endpoint = endpoint or oci_emulator_session.base_url
        kwargs.setdefault("retry_strategy", oci.retry.NoneRetryStrategy())
        kwargs.setdefault("timeout", CLIENT_TIMEOUT)
        if set(kwargs) - {"retry_strategy", "timeout"}:
            return cls(oci_config(profile), service_endpoint=endpoint, **kwargs)
        key = (cls, profile, endpoint, repr(kwargs["retry_strategy"]), kwargs["timeout"])
        if key not in cache:
            cache[key] = cls(oci_config(profile), service_endpoint=endpoint, **kwargs)
        return cache[key]
    return make


@pytest.fixture
def oci_client(oci_emulator, _oci_client_factory):
    """oci_client(ClientClass, profile="DEFAULT", endpoint=None, **kwargs) -> a real SDK client
    signed as that fixture user, at `endpoint` (default: the emulator's base URL)."""
    return _oci_client_factory


def _endpoint(vault_or_endpoint, attr):
    if isinstance(vault_or_endpoint, str):
        return vault_or_endpoint
    return getattr(vault_or_endpoint, attr)


@pytest.fixture
def kms_management_client(oci_client):
    """kms_management_client(vault, profile="DEFAULT") -> KmsManagementClient at the vault's
    management endpoint (a Vault model or the endpoint string)."""
    import oci

    def make(vault, profile="DEFAULT", **kwargs):
        return oci_client(oci.key_management.KmsManagementClient, profile,
                          _endpoint(vault, "management_endpoint"), **kwargs)
    return make


@pytest.fixture
def kms_crypto_client(oci_client):
    """kms_crypto_client(vault, profile="DEFAULT") -> KmsCryptoClient at the vault's crypto endpoint."""
    import oci

    def make(vault, profile="DEFAULT", **kwargs):
        return oci_client(oci.key_management.KmsCryptoClient, profile,
                          _endpoint(vault, "crypto_endpoint"), **kwargs)
    return make


@pytest.fixture
def kms_vault_client(oci_client):
    import oci
    return oci_client(oci.key_management.KmsVaultClient)


@pytest.fixture
def vaults_client(oci_client):
    import oci
    return oci_client(oci.vault.VaultsClient)


@pytest.fixture
def secrets_client(oci_client):
    import oci
    return oci_client(oci.secrets.SecretsClient)


@pytest.fixture
def oci_clients(oci_client, kms_management_client, kms_crypto_client):
    """oci_clients(profile) -> namespace(kms_vault, vaults, secrets, management(vault), crypto(vault))."""
    import oci

    def make(profile="DEFAULT"):
        return types.SimpleNamespace(
            profile=profile,
            kms_vault=oci_client(oci.key_management.KmsVaultClient, profile),
            vaults=oci_client(oci.vault.VaultsClient, profile),
            secrets=oci_client(oci.secrets.SecretsClient, profile),
            management=lambda vault: kms_management_client(vault, profile),
            crypto=lambda vault: kms_crypto_client(vault, profile),
        )
    return make
