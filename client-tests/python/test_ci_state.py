"""Running it in CI: seeded state with fixed OCIDs, reset, snapshots,
virtual time and graceful shutdown, through the real SDK."""
import json
import os
import signal
import socket
import subprocess

import oci
import pytest
import requests

from conftest import CLIENT_TIMEOUT, _emulator_binary, start_emulator
from support import COMPARTMENT_ID, NO_RETRY, b64, expect_service_error, signer_for_profile, unb64, wait_for

SEED = "fixtures/seed"
VAULT = "ocid1.vault.oc1.iad.amaaaaaaseededvault00000000000000000000000000000000000000001"
KEY = "ocid1.key.oc1.iad.amaaaaaaseededkey000000000000000000000000000000000000000000001"
SECRET = "ocid1.vaultsecret.oc1.iad.amaaaaaaseededsecret00000000000000000000000000000000000000001"


def sdk(config, base):
    kw = dict(retry_strategy=NO_RETRY, timeout=CLIENT_TIMEOUT)
    return (oci.key_management.KmsVaultClient(config, service_endpoint=base, **kw),
            oci.vault.VaultsClient(config, service_endpoint=base, **kw),
            oci.secrets.SecretsClient(config, service_endpoint=base, **kw))


def crypto_for(config, vault):
    return oci.key_management.KmsCryptoClient(config, service_endpoint=vault.crypto_endpoint, retry_strategy=NO_RETRY)


@pytest.fixture
def seeded(tmp_path):
    emu = start_emulator(tmp_path, {"OCI_EMULATOR_SEED": SEED})
    yield emu
    emu.stop()


def content(data):
    return oci.vault.models.Base64SecretContentDetails(content_type="BASE64", content=b64(data))


def test_seeded_ocids_are_readable_at_once(seeded, oci_config):
    kms, vaults, secrets = sdk(oci_config, seeded.base_url)
    vault = kms.get_vault(VAULT).data
    assert (vault.display_name, vault.lifecycle_state) == ("app-vault", "ACTIVE")
    key = oci.key_management.KmsManagementClient(oci_config, service_endpoint=vault.management_endpoint,
                                                 retry_strategy=NO_RETRY).get_key(KEY).data
    assert (key.lifecycle_state, key.key_shape.length) == ("ENABLED", 32)
    current = secrets.get_secret_bundle(SECRET).data
    assert (current.version_number, current.stages, unb64(current.secret_bundle_content.content)) == \
        (2, ["CURRENT", "LATEST"], b"hunter2")
    assert unb64(secrets.get_secret_bundle(SECRET, stage="PREVIOUS").data.secret_bundle_content.content) == b"old-password"
    assert secrets.get_secret_bundle(SECRET, secret_version_name="v2").data.version_number == 2
    by_name = secrets.get_secret_bundle_by_name(secret_name="db-password", vault_id=VAULT).data
    assert by_name.secret_id == SECRET
    described = vaults.get_secret(SECRET).data.description
    assert described.startswith("seeded at 20") and described.endswith("Z")


def test_known_ciphertext_from_given_material_decrypts_in_another_process(tmp_path, oci_config):
    first = start_emulator(tmp_path, {"OCI_EMULATOR_SEED": SEED})
    try:
        vault = sdk(oci_config, first.base_url)[0].get_vault(VAULT).data
        sealed = crypto_for(oci_config, vault).encrypt(oci.key_management.models.EncryptDataDetails(
            key_id=KEY, plaintext=b64(b"known"))).data.ciphertext
    finally:
        first.stop()
    second = start_emulator(tmp_path, {"OCI_EMULATOR_SEED": SEED})
    try:
        vault = sdk(oci_config, second.base_url)[0].get_vault(VAULT).data
        opened = crypto_for(oci_config, vault).decrypt(oci.key_management.models.DecryptDataDetails(
            key_id=KEY, ciphertext=sealed)).data
        assert unb64(opened.plaintext) == b"known"
    finally:
        second.stop()


def test_reset_restores_the_seed_after_changes(seeded, oci_config):
    kms, vaults, secrets = sdk(oci_config, seeded.base_url)
    vaults.update_secret(SECRET, oci.vault.models.UpdateSecretDetails(secret_content=content(b"changed")))
    extra = kms.create_vault(oci.key_management.models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name="extra", vault_type="DEFAULT")).data
    requests.post(seeded.base_url + "/_emulator/time", json={"advanceSeconds": 86400}).raise_for_status()
    assert unb64(secrets.get_secret_bundle(SECRET).data.secret_bundle_content.content) == b"changed"

    reset = requests.post(seeded.base_url + "/_emulator/reset")
    assert (reset.status_code, reset.json()) == (200, {"vaults": 1, "keys": 1, "secrets": 1})

    bundle = secrets.get_secret_bundle(SECRET).data
    assert (bundle.version_number, unb64(bundle.secret_bundle_content.content)) == (2, b"hunter2")
    expect_service_error(404, "NotAuthorizedOrNotFound", kms.get_vault, extra.id)
    assert requests.get(seeded.base_url + "/_emulator/time").json()["offsetSeconds"] == 0


def test_export_reset_import_gives_identical_reads(seeded, oci_config):
    kms, vaults, secrets = sdk(oci_config, seeded.base_url)
    vault = kms.create_vault(oci.key_management.models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name="snap", vault_type="DEFAULT")).data
    key = oci.key_management.KmsManagementClient(oci_config, service_endpoint=vault.management_endpoint,
                                                 retry_strategy=NO_RETRY).create_key(
        oci.key_management.models.CreateKeyDetails(compartment_id=COMPARTMENT_ID, display_name="k",
                                                   key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=16))).data
    secret = vaults.create_secret(oci.vault.models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id, secret_name="snap",
        secret_content=content(b"one"))).data
    vaults.update_secret(secret.id, oci.vault.models.UpdateSecretDetails(secret_content=content(b"two")))
    sealed = crypto_for(oci_config, vault).encrypt(oci.key_management.models.EncryptDataDetails(
        key_id=key.id, plaintext=b64(b"snapshotted"))).data.ciphertext

    def reads():
        as_dict = oci.util.to_dict
        return (as_dict(kms.get_vault(vault.id).data),
                as_dict(vaults.list_secret_versions(secret.id).data),
                as_dict(secrets.get_secret_bundle(secret.id).data),
                as_dict(secrets.get_secret_bundle(secret.id, version_number=1).data))

    before = reads()
    snapshot = requests.get(seeded.base_url + "/_emulator/state")
    assert snapshot.status_code == 200
    assert "b25l" not in snapshot.text and "dHdv" not in snapshot.text  # base64 of the contents
    requests.post(seeded.base_url + "/_emulator/reset").raise_for_status()
    expect_service_error(404, "NotAuthorizedOrNotFound", kms.get_vault, vault.id)

    imported = requests.put(seeded.base_url + "/_emulator/state", data=snapshot.content)
    assert (imported.status_code, imported.json()) == (200, {"vaults": 2, "keys": 2, "secrets": 2})
    assert reads() == before
    opened = crypto_for(oci_config, vault).decrypt(oci.key_management.models.DecryptDataDetails(
        key_id=key.id, ciphertext=sealed)).data
    assert unb64(opened.plaintext) == b"snapshotted"


def test_import_into_another_root_key_is_refused_and_changes_nothing(tmp_path):
    a = start_emulator(tmp_path, {"OCI_EMULATOR_SEED": SEED, "OCI_EMULATOR_ROOT_KEY": b64(os.urandom(32))})
    b = start_emulator(tmp_path, {"OCI_EMULATOR_ROOT_KEY": b64(os.urandom(32))})
    try:
        snapshot = requests.get(a.base_url + "/_emulator/state").content
        refused = requests.put(b.base_url + "/_emulator/state", data=snapshot)
        assert refused.status_code == 400
        assert refused.json()["code"] == "InvalidParameter"
        assert "another root key" in refused.json()["message"]
        state = requests.get(b.base_url + "/_emulator/state").json()
        assert (state["vaults"], state["secrets"]) == ([], [])

        broken = json.loads(snapshot)
        broken["secrets"][0]["lifecycleState"] = "EXPLODED"
        refused = requests.put(a.base_url + "/_emulator/state", data=json.dumps(broken))
        assert refused.status_code == 400
        assert refused.json()["message"].startswith("secrets[0].lifecycleState"), refused.json()
    finally:
        a.stop()
        b.stop()


def test_advancing_31_days_completes_a_scheduled_secret_deletion(seeded, oci_config):
    _, vaults, secrets = sdk(oci_config, seeded.base_url)
    vaults.schedule_secret_deletion(SECRET, oci.vault.models.ScheduleSecretDeletionDetails())
    assert vaults.get_secret(SECRET).data.lifecycle_state == "PENDING_DELETION"

    moved = requests.post(seeded.base_url + "/_emulator/time", json={"advanceSeconds": 31 * 86400})
    assert (moved.status_code, moved.json()["offsetSeconds"]) == (200, 31 * 86400)
    expect_service_error(404, "NotAuthorizedOrNotFound", vaults.get_secret, SECRET)
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets.get_secret_bundle, SECRET)
    listed = vaults.list_secrets(COMPARTMENT_ID, name="db-password").data
    assert [s.lifecycle_state for s in listed] == ["DELETED"]


def test_time_cannot_run_back_past_existing_events(seeded):
    back = requests.post(seeded.base_url + "/_emulator/time", json={"set": "2001-01-01T00:00:00Z"})
    assert (back.status_code, back.json()["code"]) == (400, "InvalidParameter")
    both = requests.post(seeded.base_url + "/_emulator/time", json={"set": "2001-01-01T00:00:00Z", "advanceSeconds": 1})
    assert both.status_code == 400
    assert requests.get(seeded.base_url + "/_emulator/time").json()["offsetSeconds"] == 0


def test_seeding_twice_names_the_entry_and_changes_nothing(seeded):
    again = requests.post(seeded.base_url + "/_emulator/seed", data=open(SEED + "/example.json", "rb").read())
    assert again.status_code == 400
    assert again.json()["message"] == ("request body: vaults[0].id: vault " + VAULT + " already exists")
    state = requests.get(seeded.base_url + "/_emulator/state").json()
    assert (len(state["vaults"]), len(state["secrets"])) == (1, 1)


def test_a_bad_seed_file_stops_the_start_naming_file_entry_and_field(tmp_path):
    doc = json.load(open(SEED + "/example.json"))
    doc["vaults"][0]["secrets"][0]["versions"][1]["stages"] = ["PREVIOUS"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    run = subprocess.run([str(_emulator_binary()), "serve", "--listen", "127.0.0.1:0", "--seed", str(bad)],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert run.returncode == 1
    assert str(bad) + ": vaults[0].secrets[0]: versions[].stages" in run.stderr, run.stderr


def test_sigterm_lets_a_request_in_flight_finish(tmp_path):
    # tower_http at debug logs "started processing request" once the
    # request's head is in: the condition to send SIGTERM on.
    emu = start_emulator(tmp_path, {"OCI_EMULATOR_SEED": SEED, "OCI_EMULATOR_LOG": "info,tower_http=debug"})
    try:
        url = emu.base_url + "/20180608/vaults"
        body = json.dumps({"compartmentId": COMPARTMENT_ID, "displayName": "in-flight", "vaultType": "DEFAULT"}).encode()
        prepared = requests.Request("POST", url, data=body, headers={"content-type": "application/json"}).prepare()
        prepared = signer_for_profile()(prepared)
        host, port = emu.base_url.replace("http://", "").split(":")
        head = "POST /20180608/vaults HTTP/1.1\r\n" + "".join(
            "{}: {}\r\n".format(k, v) for k, v in prepared.headers.items()) + "connection: close\r\n\r\n"
        # The start-up readiness probe logged the same line already: wait for
        # one more, this request's.
        before = emu.log_text().count("started processing request")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(head.encode() + body[:10])
            wait_for(lambda: emu.log_text().count("started processing request") > before,
                     "the request to be in flight")
            emu.proc.send_signal(signal.SIGTERM)
            wait_for(lambda: "shutting down" in emu.log_text(), "the emulator to start shutting down")
            assert emu.proc.poll() is None, "the emulator exited with a request in flight"
            s.sendall(body[10:])
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b'"displayName":"in-flight"' in answer
        assert emu.proc.wait(timeout=10) == 0
    finally:
        emu.stop()


def test_reset_restores_the_fault_rules_of_the_start_file(tmp_path):
    emu = start_emulator(tmp_path, {"OCI_EMULATOR_SEED": SEED, "OCI_EMULATOR_FAULTS": "fixtures/faults/slow-crypto.json"})
    try:
        assert [r["id"] for r in requests.get(emu.base_url + "/_emulator/faults").json()["rules"]] == ["slow-crypto"]
        assert requests.delete(emu.base_url + "/_emulator/faults").status_code in (200, 204)
        assert requests.get(emu.base_url + "/_emulator/faults").json()["rules"] == []
        requests.post(emu.base_url + "/_emulator/reset").raise_for_status()
        rules = requests.get(emu.base_url + "/_emulator/faults").json()["rules"]
        assert [(r["id"], r["fired"]) for r in rules] == [("slow-crypto", 0)]
    finally:
        emu.stop()


def test_reset_drops_runtime_policy_changes(seeded):
    start = requests.get(seeded.base_url + "/_emulator/iam/policies")
    assert start.status_code == 200 and len(start.json()) > 0
    replaced = requests.put(seeded.base_url + "/_emulator/iam/policies", json=[])
    assert replaced.status_code in (200, 204), replaced.text
    assert requests.get(seeded.base_url + "/_emulator/iam/policies").json() == []
    requests.post(seeded.base_url + "/_emulator/reset").raise_for_status()
    assert requests.get(seeded.base_url + "/_emulator/iam/policies").json() == start.json()
