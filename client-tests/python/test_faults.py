"""Faults and rate limits (issue 4) through the real oci SDK and CLI and their real retry logic.

Fault rules are process-wide, so this module runs its own emulator (start_extra_emulator) and
every test starts from an empty fault document. Statuses, codes, and the emulator's own
per-rule counters (GET /_emulator/faults) are asserted; wall-clock time only as a lower bound.
"""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import oci
import pytest
import requests

from support import (
    COMPARTMENT_ID, CONFIG_FILE, NO_RETRY, assert_oci_error_body, b64, expect_service_error,
    list_all, load_profile, raw_request, unique,
)
from test_cli import OCI_CLI

FAULT_HEADER = "x-oci-emulator-fault"
REPO_ROOT = Path(__file__).resolve().parents[2]

# The SDK's own checkers (retry 409 IncorrectState, 429, 5xx but 501, connection errors and
# timeouts; 8 attempts) with a short backoff, so scenarios that are about *what* is retried
# do not sleep the SDK's default 1 s, 2 s, 4 s …
FAST_RETRY = oci.retry.RetryStrategyBuilder(
    retry_base_sleep_time_seconds=0.02, decorrelated_jitter=0.02,
    retry_max_wait_between_calls_seconds=0.5).get_retry_strategy()


@pytest.fixture(scope="module")
def emu(start_extra_emulator):
    return start_extra_emulator()


@pytest.fixture(autouse=True)
def no_faults(emu):
    """Every test starts (and ends) with no rules and no rate limits."""
    requests.delete(emu.base_url + "/_emulator/faults", timeout=5).raise_for_status()
    yield
    requests.delete(emu.base_url + "/_emulator/faults", timeout=5).raise_for_status()


def put_faults(emu, doc):
    r = requests.put(emu.base_url + "/_emulator/faults", json=doc, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def counters(emu):
    """{id: fired} for every rule and rate limit, plus {id + ".matched": n} for rules."""
    view = requests.get(emu.base_url + "/_emulator/faults", timeout=5).json()
    out = {}
    for rule in view["rules"]:
        out[rule["id"]] = rule["fired"]
        out[rule["id"] + ".matched"] = rule["matched"]
    for limit in view["rateLimits"]:
        out[limit["id"]] = limit["fired"]
    return out


def clients(emu, profile="DEFAULT", timeout=(5, 30)):
    cfg = load_profile(profile)
    kw = dict(service_endpoint=emu.base_url, retry_strategy=NO_RETRY, timeout=timeout)
    return (oci.key_management.KmsVaultClient(cfg, **kw), oci.vault.VaultsClient(cfg, **kw),
            oci.secrets.SecretsClient(cfg, **kw))


@pytest.fixture(scope="module")
def world(emu):
    """One vault, one AES key, two secrets in the module's own emulator."""
    kms, vaults, _ = clients(emu)
    vault = kms.create_vault(oci.key_management.models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("faults"), vault_type="DEFAULT")).data
    cfg = load_profile("DEFAULT")
    mgmt = oci.key_management.KmsManagementClient(
        cfg, service_endpoint=vault.management_endpoint, retry_strategy=NO_RETRY)
    key = mgmt.create_key(oci.key_management.models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("key"),
        key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
    made = [vaults.create_secret(secret_details(vault, key), retry_strategy=NO_RETRY).data
            for _ in range(2)]
    return dict(vault=vault, key=key, secrets=made)


def secret_details(vault, key, name=None):
    return oci.vault.models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id,
        secret_name=name or unique("secret"),
        secret_content=oci.vault.models.Base64SecretContentDetails(
            content_type="BASE64", content=b64(os.urandom(16))))


# 1. The first 3 GetSecretBundle calls fail with 500.

FIRST_THREE_500 = {"rules": [{
    "id": "flaky-bundles", "match": {"operations": ["GetSecretBundle"]},
    "action": {"error": {"status": 500, "code": "InternalServerError"}},
    "schedule": {"probability": 1.0, "firstN": 3}}]}


def test_first_three_500s_are_absorbed_by_the_default_retry_strategy(emu, world):
    put_faults(emu, FIRST_THREE_500)
    _, _, secrets = clients(emu)
    started = time.monotonic()
    bundle = secrets.get_secret_bundle(world["secrets"][0].id,
                                       retry_strategy=oci.retry.DEFAULT_RETRY_STRATEGY)
    elapsed = time.monotonic() - started
    assert bundle.status == 200 and bundle.data.secret_id == world["secrets"][0].id
    assert FAULT_HEADER not in bundle.headers, "the 4th attempt is a clean success"
    assert counters(emu) == {"flaky-bundles": 3, "flaky-bundles.matched": 4}
    # Decorrelated jitter: 1·2^0 + 1·2^1 + 1·2^2 s at least, between the four attempts.
    assert elapsed >= 7.0, elapsed


def test_first_three_500s_surface_without_retries(emu, world):
    put_faults(emu, FIRST_THREE_500)
    _, _, secrets = clients(emu)
    for n in (1, 2, 3):
        err = expect_service_error(500, "InternalServerError", secrets.get_secret_bundle,
                                   world["secrets"][0].id, retry_strategy=NO_RETRY)
        assert err.headers[FAULT_HEADER] == "flaky-bundles"
        assert err.message == "Internal error occurred."
    assert secrets.get_secret_bundle(world["secrets"][0].id, retry_strategy=NO_RETRY).status == 200
    assert counters(emu)["flaky-bundles"] == 3


# 2. A 429 burst aimed at one principal leaves the other alone.

def test_a_429_burst_on_one_principal_does_not_touch_another(emu, world):
    put_faults(emu, {"rules": [{
        "id": "throttle-developer",
        "match": {"operations": ["GetSecretBundle"], "principal": "developer"},
        "action": {"error": {"status": 429}}, "schedule": {"firstN": 5}}]})
    _, _, admin = clients(emu, "DEFAULT")
    _, _, developer = clients(emu, "DEVELOPER")
    secret_id = world["secrets"][0].id
    for _ in range(5):
        err = expect_service_error(429, "TooManyRequests", developer.get_secret_bundle, secret_id,
                                   retry_strategy=NO_RETRY)
        assert err.headers[FAULT_HEADER] == "throttle-developer"
        assert admin.get_secret_bundle(secret_id, retry_strategy=NO_RETRY).status == 200
    assert developer.get_secret_bundle(secret_id, retry_strategy=NO_RETRY).status == 200
    assert counters(emu) == {"throttle-developer": 5, "throttle-developer.matched": 6}


def test_a_rate_limit_per_principal_throttles_only_the_caller_over_it(emu, world):
    put_faults(emu, {"rateLimits": [{
        "id": "bundle-rate", "match": {"operations": ["GetSecretBundle"]},
        "perSecond": 0.01, "burst": 3, "key": "principal"}]})
    _, _, admin = clients(emu, "DEFAULT")
    _, _, developer = clients(emu, "DEVELOPER")
    secret_id = world["secrets"][0].id
    for _ in range(3):
        assert developer.get_secret_bundle(secret_id, retry_strategy=NO_RETRY).status == 200
    err = expect_service_error(429, "TooManyRequests", developer.get_secret_bundle, secret_id,
                               retry_strategy=NO_RETRY)
    assert err.headers[FAULT_HEADER] == "bundle-rate"
    for _ in range(3):
        assert admin.get_secret_bundle(secret_id, retry_strategy=NO_RETRY).status == 200
    # Another operation does not count against the limit.
    assert developer.get_secret_bundle_by_name(
        world["secrets"][0].secret_name, vault_id=world["vault"].id,
        retry_strategy=NO_RETRY).status == 200
    assert counters(emu) == {"bundle-rate": 1}


# 3. Seeded 20 % failures: the same sequence in two runs.

def test_a_seeded_20_percent_failure_rate_repeats_exactly(emu, world):
    doc = {"seed": 42, "rules": [{
        "id": "r", "match": {"operations": ["GetSecretBundle"]},
        "action": {"error": {"status": 503}}, "schedule": {"probability": 0.2}}]}
    _, _, secrets = clients(emu)

    def run():
        put_faults(emu, doc)  # PUT restarts the seeded sequence
        failed = []
        for call in range(1, 101):
            try:
                secrets.get_secret_bundle(world["secrets"][1].id, retry_strategy=NO_RETRY)
            except oci.exceptions.ServiceError as e:
                assert (e.status, e.code) == (503, "ServiceUnavailable")
                failed.append(call)
        assert counters(emu) == {"r": len(failed), "r.matched": 100}
        return failed

    first = run()
    assert run() == first
    assert 10 <= len(first) <= 35, first
    # The same calls as the server's pinned unit test (rules.rs PINNED): seed 42, rule "r".
    assert first[:6] == [6, 8, 17, 29, 42, 46]


# 4. Latency aimed at Encrypt only.

def test_latency_on_encrypt_only(emu, world):
    put_faults(emu, {"rules": [{"id": "slow-encrypt", "match": {"operations": ["Encrypt"]},
                                "action": {"latencyMs": 300}}]})
    cfg = load_profile("DEFAULT")
    crypto = oci.key_management.KmsCryptoClient(
        cfg, service_endpoint=world["vault"].crypto_endpoint, retry_strategy=NO_RETRY)
    _, _, secrets = clients(emu)
    started = time.monotonic()
    enc = crypto.encrypt(oci.key_management.models.EncryptDataDetails(
        key_id=world["key"].id, plaintext=b64(b"slow")))
    assert time.monotonic() - started >= 0.3
    assert enc.status == 200 and enc.headers[FAULT_HEADER] == "slow-encrypt"
    bundle = secrets.get_secret_bundle(world["secrets"][0].id, retry_strategy=NO_RETRY)
    assert FAULT_HEADER not in bundle.headers
    assert counters(emu) == {"slow-encrypt": 1, "slow-encrypt.matched": 1}


# 5. Dropped, reset and hung connections.

@pytest.mark.parametrize("kind, cause", [("close", "RemoteDisconnected"),
                                         ("reset", "ConnectionResetError")])
def test_a_dropped_connection_is_a_connection_error_the_sdk_retries(emu, world, kind, cause):
    put_faults(emu, {"rules": [{"id": "drop", "match": {"operations": ["GetSecretBundle"]},
                                "action": {"drop": kind}, "schedule": {"firstN": 1}}]})
    _, _, secrets = clients(emu)
    with pytest.raises(oci.exceptions.RequestException) as info:
        secrets.get_secret_bundle(world["secrets"][0].id, retry_strategy=NO_RETRY)
    assert "Connection aborted" in str(info.value) and cause in str(info.value), info.value
    put_faults(emu, {"rules": [{"id": "drop", "match": {"operations": ["GetSecretBundle"]},
                                "action": {"drop": kind}, "schedule": {"firstN": 2}}]})
    bundle = secrets.get_secret_bundle(world["secrets"][0].id, retry_strategy=FAST_RETRY)
    assert bundle.status == 200
    assert counters(emu) == {"drop": 2, "drop.matched": 3}


def test_a_hung_request_is_a_client_timeout_the_sdk_retries(emu, world):
    put_faults(emu, {"rules": [{"id": "hang", "match": {"operations": ["GetSecretBundle"]},
                                "action": {"hangMs": 5000}, "schedule": {"firstN": 1}}]})
    _, _, secrets = clients(emu, timeout=(2, 1))
    started = time.monotonic()
    bundle = secrets.get_secret_bundle(world["secrets"][0].id, retry_strategy=FAST_RETRY)
    assert bundle.status == 200
    assert 1.0 <= time.monotonic() - started < 5.0
    assert counters(emu) == {"hang": 1, "hang.matched": 2}
    put_faults(emu, {"rules": [{"id": "hang", "match": {"operations": ["GetSecretBundle"]},
                                "action": {"hangMs": 5000}, "schedule": {"firstN": 1}}]})
    with pytest.raises(oci.exceptions.RequestException) as info:
        secrets.get_secret_bundle(world["secrets"][0].id, retry_strategy=NO_RETRY)
    assert "Read timed out" in str(info.value), info.value


# 6. 500 after commit: the retry with the same opc-retry-token gives one secret.

def test_error_after_commit_and_a_retry_token_give_exactly_one_secret(emu, world):
    put_faults(emu, {"rules": [{"id": "commit-then-fail", "match": {"operations": ["CreateSecret"]},
                                "action": {"errorAfterCommit": {"status": 500}},
                                "schedule": {"firstN": 1}}]})
    _, vaults, _ = clients(emu)
    name = unique("after-commit")
    created = vaults.create_secret(secret_details(world["vault"], world["key"], name),
                                   retry_strategy=FAST_RETRY)
    assert created.status == 200 and created.data.secret_name == name
    assert counters(emu) == {"commit-then-fail": 1, "commit-then-fail.matched": 2}
    found = list_all(vaults.list_secrets, COMPARTMENT_ID, name=name, vault_id=world["vault"].id)
    assert [s.id for s in found] == [created.data.id]


def test_error_after_commit_without_a_retry_token_leaves_the_write_in_place(emu, world):
    put_faults(emu, {"rules": [{"id": "commit-then-fail", "match": {"operations": ["CreateSecret"]},
                                "action": {"errorAfterCommit": {"status": 503}}}]})
    _, vaults, _ = clients(emu)
    name = unique("after-commit")
    err = expect_service_error(503, "ServiceUnavailable", vaults.create_secret,
                               secret_details(world["vault"], world["key"], name),
                               retry_strategy=NO_RETRY)
    assert err.headers[FAULT_HEADER] == "commit-then-fail"
    found = list_all(vaults.list_secrets, COMPARTMENT_ID, name=name, vault_id=world["vault"].id)
    assert len(found) == 1, "the write committed before the injected error"


def test_a_fault_before_the_handler_leaves_state_untouched(emu, world):
    put_faults(emu, {"rules": [{"id": "fail", "match": {"operations": ["CreateSecret"]},
                                "action": {"error": {"status": 500}}}]})
    _, vaults, _ = clients(emu)
    name = unique("never")
    expect_service_error(500, "InternalServerError", vaults.create_secret,
                         secret_details(world["vault"], world["key"], name), retry_strategy=NO_RETRY)
    assert list_all(vaults.list_secrets, COMPARTMENT_ID, name=name, vault_id=world["vault"].id) == []


# 7. The CLI with --no-retry surfaces the injected code.

def test_the_cli_without_retries_surfaces_the_injected_error(emu, world):
    put_faults(emu, {"rules": [{"id": "outage", "match": {"services": ["secrets"]},
                                "action": {"error": {"status": 503}}}]})
    cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--endpoint", emu.base_url, "--no-retry",
           "secrets", "secret-bundle", "get", "--secret-id", world["secrets"][0].id]
    env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True",
               SUPPRESS_LABEL_WARNING="True")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    body = json.loads(proc.stderr[proc.stderr.index("{"):])
    assert (body["status"], body["code"]) == (503, "ServiceUnavailable"), proc.stderr
    assert counters(emu)["outage"] == 1


# beforeAuth, aiming at compartments and resources.

def test_before_auth_rules_fire_even_for_unsigned_requests(emu):
    put_faults(emu, {"rules": [{"id": "edge-down", "beforeAuth": True,
                                "match": {"operations": ["ListVaults"]},
                                "action": {"error": {"status": 503}}}]})
    r = raw_request(emu.base_url, "GET", "/20180608/vaults", query={"compartmentId": COMPARTMENT_ID},
                    signer=None)
    assert_oci_error_body(r, 503, "ServiceUnavailable")
    assert r.headers[FAULT_HEADER] == "edge-down"
    put_faults(emu, {"rules": [{"id": "after-auth", "match": {"operations": ["ListVaults"]},
                                "action": {"error": {"status": 503}}}]})
    r = raw_request(emu.base_url, "GET", "/20180608/vaults", query={"compartmentId": COMPARTMENT_ID},
                    signer=None)
    assert_oci_error_body(r, 401, "NotAuthenticated")
    assert FAULT_HEADER not in r.headers
    assert counters(emu) == {"after-auth": 0, "after-auth.matched": 0}


def test_rules_aim_at_one_resource_or_one_compartment(emu, world):
    one, other = world["secrets"]
    put_faults(emu, {"rules": [
        {"id": "one-secret", "match": {"resourceId": one.id}, "action": {"error": {"status": 500}}},
        {"id": "dev-compartment",
         "match": {"compartmentId": "ocid1.compartment.oc1..aaaaaaaaemulatorappsdev0000000000000000000000000000000000001"},
         "action": {"error": {"status": 500}}},
    ]})
    _, vaults, secrets = clients(emu)
    expect_service_error(500, "InternalServerError", secrets.get_secret_bundle, one.id,
                         retry_strategy=NO_RETRY)
    expect_service_error(500, "InternalServerError", vaults.get_secret, one.id,
                         retry_strategy=NO_RETRY)
    assert secrets.get_secret_bundle(other.id, retry_strategy=NO_RETRY).status == 200
    put_faults(emu, {"rules": [{"id": "apps-compartment", "match": {"compartmentId": COMPARTMENT_ID,
                                                                     "operations": ["GetSecret"]},
                                "action": {"error": {"status": 409}}}]})
    # The secret's compartment is looked up from the OCID in the path.
    expect_service_error(409, "IncorrectState", vaults.get_secret, other.id, retry_strategy=NO_RETRY)


# The circuit breaker opens after 10 injected failures, as it would against OCI.

CIRCUIT_BREAKER_SCRIPT = textwrap.dedent("""
    import json, os, sys
    os.environ.pop("OCI_SDK_DEFAULT_CIRCUITBREAKER_ENABLED", None)
    import oci
    from circuitbreaker import CircuitBreakerError
    base_url, secret_id = sys.argv[1], sys.argv[2]
    cfg = oci.config.from_file("fixtures/oci/config", "DEFAULT")
    secrets = oci.secrets.SecretsClient(cfg, service_endpoint=base_url)
    dev = oci.key_management.KmsVaultClient(oci.config.from_file("fixtures/oci/config", "DEVELOPER"),
                                            service_endpoint=base_url)
    seen = []
    for _ in range(11):
        try:
            secrets.get_secret_bundle(secret_id, retry_strategy=oci.retry.NoneRetryStrategy())
            seen.append("ok")
        except oci.exceptions.ServiceError as e:
            seen.append("{} {}".format(e.status, e.code))
        except CircuitBreakerError:
            seen.append("open")
    try:
        dev.list_vaults("COMPARTMENT")
        seen.append("other client ok")
    except CircuitBreakerError:
        seen.append("other client open")
    print(json.dumps(seen))
""").replace("COMPARTMENT", COMPARTMENT_ID)


def test_the_sdk_circuit_breaker_opens_after_ten_injected_failures(emu, world):
    put_faults(emu, {"rules": [{"id": "down", "match": {"operations": ["GetSecretBundle"]},
                                "action": {"error": {"status": 500}}}]})
    env = {k: v for k, v in os.environ.items() if k != "OCI_SDK_DEFAULT_CIRCUITBREAKER_ENABLED"}
    proc = subprocess.run([sys.executable, "-c", CIRCUIT_BREAKER_SCRIPT, emu.base_url,
                           world["secrets"][0].id], capture_output=True, text=True, env=env,
                          cwd=str(REPO_ROOT), timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == ["500 InternalServerError"] * 10 + ["open", "other client open"], seen
    assert counters(emu) == {"down": 10, "down.matched": 10}, "the 11th call was never sent"


# The /_emulator/faults API itself.

def test_the_faults_api_adds_lists_and_removes_rules(emu):
    url = emu.base_url + "/_emulator/faults"
    r = requests.post(url, json={"match": {"operations": ["GetVault"]}, "action": {"latencyMs": 1}})
    assert r.status_code == 200 and r.json() == {"id": "rule-1"}
    r = requests.post(url, json={"id": "mine", "action": {"error": {"status": 418, "code": "Teapot"}},
                                 "match": {"operations": ["ListVaults"]}})
    assert r.json() == {"id": "mine"}
    dup = requests.post(url, json={"id": "mine", "action": {"latencyMs": 1}})
    assert dup.status_code == 409 and dup.json()["code"] == "Conflict"
    kms, _, _ = clients(emu)
    err = expect_service_error(418, "Teapot", kms.list_vaults, COMPARTMENT_ID)
    assert err.headers[FAULT_HEADER] == "mine"
    view = requests.get(url).json()
    assert [(x["id"], x["fired"]) for x in view["rules"]] == [("rule-1", 0), ("mine", 1)]
    assert requests.delete(url + "/mine").status_code == 204
    assert requests.delete(url + "/mine").status_code == 404
    assert kms.list_vaults(COMPARTMENT_ID).status == 200
    assert [x["id"] for x in requests.get(url).json()["rules"]] == ["rule-1"]


@pytest.mark.parametrize("doc, field", [
    ({"rules": [{"id": "a", "action": {"error": {"status": 418}}}]}, "rules[0].action.error.code"),
    ({"rules": [{"id": "a", "action": {}}]}, "rules[0].action"),
    ({"rules": [{"id": "a", "action": {"drop": "close"}, "schedule": {"firstn": 3}}]},
     "rules[0].schedule.firstn"),
    ({"rules": [{"id": "a", "match": {"operations": ["GetSecretBundel"]}, "action": {"drop": "close"}}]},
     "rules[0].match.operations[0]"),
    ({"rateLimits": [{"id": "l", "perSecond": 0, "burst": 1}]}, "rateLimits[0].perSecond"),
    ({"rateLimits": [{"id": "l", "perSecond": 1, "burst": 1, "key": "user"}]}, "rateLimits[0].key"),
])
def test_a_bad_document_is_invalid_parameter_naming_the_field_and_changes_nothing(emu, doc, field):
    put_faults(emu, {"rules": [{"id": "keep", "action": {"latencyMs": 1}}]})
    r = requests.put(emu.base_url + "/_emulator/faults", json=doc, timeout=5)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameter" and field in body["message"], body
    assert [x["id"] for x in requests.get(emu.base_url + "/_emulator/faults").json()["rules"]] == ["keep"]


# Profiles in fixtures/faults, loaded at start through OCI_EMULATOR_FAULTS.

def test_every_profile_loads_at_start(start_extra_emulator):
    profiles = sorted((REPO_ROOT / "fixtures" / "faults").glob("*.json"))
    assert [p.stem for p in profiles] == [
        "flaky-5-percent", "oci-like-rate-limits", "slow-crypto", "throttled-secrets", "vault-outage"]
    for path in profiles:
        doc = json.loads(path.read_text())
        other = start_extra_emulator({"OCI_EMULATOR_FAULTS": str(path)})
        try:
            view = requests.get(other.base_url + "/_emulator/faults", timeout=5).json()
            assert [r["id"] for r in view["rules"]] == [r["id"] for r in doc.get("rules", [])]
            assert [r["id"] for r in view["rateLimits"]] == [r["id"] for r in doc.get("rateLimits", [])]
            if path.stem == "vault-outage":
                kms, _, _ = clients(other)
                expect_service_error(503, "ServiceUnavailable", kms.list_vaults, COMPARTMENT_ID)
        finally:
            other.stop()


def test_a_bad_faults_file_stops_the_emulator_at_start(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"rules": [{"id": "a", "action": {"error": {"status": 700}}}]}')
    binary = Path(os.environ.get("OCI_EMULATOR_BIN", "target/release/oci-vault-emulator"))
    if not binary.is_absolute():
        binary = REPO_ROOT / binary
    proc = subprocess.run([str(binary), "serve", "--listen", "127.0.0.1:0", "--faults", str(bad)],
                          capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert "rules[0].action.error.status" in proc.stdout + proc.stderr
