"""The plugin's own tests. They run against a real emulator started by the plugin
(OCI_EMULATOR_BIN or --oci-emulator-bin) and assert statuses, OCI codes and bytes."""
import base64
import os
import time
import uuid

import oci
import pytest

from pytest_oci_emulator.plugin import _binary

APPS = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001"
SEEDED_SECRET = "ocid1.vaultsecret.oc1.iad.amaaaaaapytestsecret000000000000000000000000000000000000001"
SEEDED_KEY = "ocid1.key.oc1.iad.amaaaaaapytestkey00000000000000000000000000000000000000000001"
SEED = "data/app-secret.json"  # relative to this file's directory


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text, validate=True)


def service_error(func, *args, **kwargs):
    with pytest.raises(oci.exceptions.ServiceError) as info:
        func(*args, **kwargs)
    return info.value


def test_secret_round_trip(kms_vault_client, kms_management_client, kms_crypto_client,
                           vaults_client, secrets_client):
    vault = kms_vault_client.create_vault(oci.key_management.models.CreateVaultDetails(
        compartment_id=APPS, display_name="plugin-vault", vault_type="DEFAULT")).data
    assert vault.lifecycle_state == "ACTIVE"
    key = kms_management_client(vault).create_key(oci.key_management.models.CreateKeyDetails(
        compartment_id=APPS, display_name="plugin-key",
        key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
    assert key.lifecycle_state == "ENABLED"

    crypto = kms_crypto_client(vault)
    enc = crypto.encrypt(oci.key_management.models.EncryptDataDetails(
        key_id=key.id, plaintext=b64(b"plugin plaintext"))).data
    dec = crypto.decrypt(oci.key_management.models.DecryptDataDetails(
        key_id=key.id, ciphertext=enc.ciphertext)).data
    assert unb64(dec.plaintext) == b"plugin plaintext"

    content = os.urandom(32)
    secret = vaults_client.create_secret(oci.vault.models.CreateSecretDetails(
        compartment_id=APPS, vault_id=vault.id, key_id=key.id, secret_name="plugin-secret",
        secret_content=oci.vault.models.Base64SecretContentDetails(content_type="BASE64", content=b64(content)))).data
    bundle = secrets_client.get_secret_bundle(secret.id).data
    assert bundle.version_number == 1
    assert bundle.stages == ["CURRENT", "LATEST"]
    # compared, never printed
    assert unb64(bundle.secret_bundle_content.content) == content


@pytest.mark.oci_seed(SEED)
def test_seed_marker_makes_the_secret_readable(oci_clients):
    # APPREADER may read bundles of secrets named app-* (the fixture tenancy's policy).
    reader = oci_clients("APPREADER")
    bundle = reader.secrets.get_secret_bundle(SEEDED_SECRET).data
    assert bundle.secret_id == SEEDED_SECRET
    assert bundle.version_number == 1
    assert unb64(bundle.secret_bundle_content.content) == b"seeded-password"
    by_name = reader.secrets.get_secret_bundle_by_name(
        secret_name="app-db-password",
        vault_id="ocid1.vault.oc1.iad.amaaaaaapytestvault0000000000000000000000000000000000000000001").data
    assert by_name.secret_id == SEEDED_SECRET


@pytest.mark.oci_seed(SEED)
@pytest.mark.oci_faults({"rules": [{"id": "throttle", "match": {"operations": ["GetSecretBundle"]},
                                     "action": {"error": {"status": 429}}, "schedule": {"firstN": 1}}]})
def test_faults_marker_inline_throttles_once(oci_emulator, secrets_client):
    err = service_error(secrets_client.get_secret_bundle, SEEDED_SECRET)
    assert (err.status, err.code) == (429, "TooManyRequests")
    assert err.headers.get("x-oci-emulator-fault") == "throttle"
    # firstN: 1 -> the next call goes through.
    assert unb64(secrets_client.get_secret_bundle(SEEDED_SECRET).data.secret_bundle_content.content) == b"seeded-password"
    rule = oci_emulator.faults()["rules"][0]
    assert (rule["id"], rule["matched"], rule["fired"]) == ("throttle", 2, 1)


@pytest.mark.oci_seed(SEED)
@pytest.mark.oci_faults("fixtures/faults/throttled-secrets.json")  # found from the rootdir's parents
def test_faults_marker_repository_profile(oci_emulator, secrets_client):
    # A token bucket of burst 5 and 2 a second per caller: the first five reads pass,
    # a quick run of more reads hits the limit (refill is 0.5 s per token; these take ms).
    for _ in range(5):
        assert secrets_client.get_secret_bundle(SEEDED_SECRET).status == 200
    errors = []
    for _ in range(10):
        try:
            secrets_client.get_secret_bundle(SEEDED_SECRET)
        except oci.exceptions.ServiceError as e:
            errors.append(e)
            break
    assert errors, "no 429 within 15 quick reads"
    assert (errors[0].status, errors[0].code) == (429, "TooManyRequests")
    limits = {r["id"]: r["fired"] for r in oci_emulator.faults()["rateLimits"]}
    assert limits["secret-retrieval"] == 1


@pytest.mark.oci_seed(SEED)
@pytest.mark.oci_policies(["Allow group Developers to read secret-family in compartment apps"])
def test_policies_marker_denies_appreader(oci_emulator, oci_clients):
    reader = oci_clients("APPREADER")
    err = service_error(reader.secrets.get_secret_bundle, SEEDED_SECRET)
    assert (err.status, err.code) == (404, "NotAuthorizedOrNotFound")
    decision = oci_emulator.decision(err.request_id)
    assert decision["summary"].startswith("Denied: ")
    # The developer, whom the marker's policy allows, reads it.
    dev = oci_clients("DEVELOPER")
    assert unb64(dev.secrets.get_secret_bundle(SEEDED_SECRET).data.secret_bundle_content.content) == b"seeded-password"


def test_without_markers_there_is_nothing(oci_emulator, kms_vault_client, secrets_client):
    """The seed, faults and policies of the tests above are gone."""
    assert kms_vault_client.list_vaults(APPS).data == []
    err = service_error(secrets_client.get_secret_bundle, SEEDED_SECRET)
    assert (err.status, err.code) == (404, "NotAuthorizedOrNotFound")
    assert oci_emulator.faults()["rules"] == []


def test_configs_for_every_fixture_user(oci_config):
    users = {p: oci_config(p)["user"] for p in ("DEFAULT", "DEVELOPER", "APPREADER", "SECRETSADMIN")}
    assert users["DEFAULT"].startswith("ocid1.user.oc1..aaaaaaaaemulatoradmin")
    assert users["APPREADER"].startswith("ocid1.user.oc1..aaaaaaaaemulatorappreader")
    assert len(set(users.values())) == 4
    assert all(os.path.isabs(oci_config(p)["key_file"]) for p in users)


# -- a session of its own (pytester): one process, reset between tests, stopped at the end ----

INNER = """
import oci, pytest

APPS = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001"

def test_a_creates_a_vault(oci_emulator, kms_vault_client):
    open("pid", "w").write(str(oci_emulator.proc.pid))
    kms_vault_client.create_vault(oci.key_management.models.CreateVaultDetails(
        compartment_id=APPS, display_name="inner-{name}", vault_type="DEFAULT"))
    assert [v.display_name for v in kms_vault_client.list_vaults(APPS).data] == ["inner-{name}"]

def test_b_sees_no_vault(oci_emulator, kms_vault_client):
    assert open("pid").read() == str(oci_emulator.proc.pid)   # the same process
    assert kms_vault_client.list_vaults(APPS).data == []      # but a clean state

@pytest.mark.oci_faults({{"rules": [{{"id": "down", "action": {{"error": {{"status": 503}}}}}}]}})
def test_c_marker_without_asking_for_the_fixture(kms_vault_client):
    with pytest.raises(oci.exceptions.ServiceError) as info:
        kms_vault_client.list_vaults(APPS)
    assert (info.value.status, info.value.code) == (503, "ServiceUnavailable")

def test_d_fault_is_gone(kms_vault_client):
    assert kms_vault_client.list_vaults(APPS).data == []
"""


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # still there, or a zombie awaiting its parent's wait(): look at its state
    try:
        with open("/proc/{}/stat".format(pid)) as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_own_session_resets_between_tests_and_stops_the_process(pytester, request):
    binary = os.path.abspath(str(_binary(request.config)))
    pytester.makepyfile(test_inner=INNER.format(name=uuid.uuid4().hex[:8]))
    # No fixtures/oci/config under pytester's directory: the configs come from `print-config`.
    result = pytester.runpytest("--oci-emulator-bin", binary, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    pid = int((pytester.path / "pid").read_text())
    deadline = time.monotonic() + 10
    while not _gone(pid):
        assert time.monotonic() < deadline, "emulator {} still running after its session ended".format(pid)
        time.sleep(0.05)


def test_missing_binary_stops_the_session_with_a_message(pytester):
    pytester.makepyfile("def test_x(oci_emulator):\n    pass\n")
    result = pytester.runpytest("--oci-emulator-bin", str(pytester.path / "nope"))
    assert result.ret == 3
    result.stdout.fnmatch_lines(["*emulator binary not found*nope*"])


def test_a_failing_test_shows_the_emulator_log(pytester, request):
    binary = os.path.abspath(str(_binary(request.config)))
    pytester.makepyfile("""
def test_fails(oci_emulator, kms_vault_client):
    kms_vault_client.list_vaults("ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001")
    assert False
""")
    result = pytester.runpytest("--oci-emulator-bin", binary, "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*oci-emulator log (last * lines)*", "*ListVaults*200*"])


def test_serve_args_reach_the_emulator(pytester, request):
    binary = os.path.abspath(str(_binary(request.config)))
    pytester.makepyfile("""
def test_region(oci_emulator):
    assert oci_emulator.health()["region"] == "eu-frankfurt-1"
""")
    result = pytester.runpytest("--oci-emulator-bin", binary, "--oci-emulator-serve-arg=--region=eu-frankfurt-1",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
