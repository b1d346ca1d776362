"""The store with --data-dir: acknowledged writes survive kill -9, vault
endpoints follow the new port after a restart, key files are 0600 from the
start, and a different root key is refused instead of misreading state."""
import base64
import os
import stat
import subprocess

import oci
import pytest

from conftest import CLIENT_TIMEOUT, _emulator_binary, start_emulator

COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001"


def clients(config, base):
    kw = dict(retry_strategy=oci.retry.NoneRetryStrategy(), timeout=CLIENT_TIMEOUT)
    return (oci.key_management.KmsVaultClient(config, service_endpoint=base, **kw),
            oci.vault.VaultsClient(config, service_endpoint=base, **kw),
            oci.secrets.SecretsClient(config, service_endpoint=base, **kw))


def content(data):
    return oci.vault.models.Base64SecretContentDetails(
        content_type="BASE64", content=base64.b64encode(data).decode())


def test_acknowledged_writes_survive_kill_9_and_endpoints_follow_the_new_port(tmp_path, oci_config):
    data_dir = tmp_path / "data"
    first = start_emulator(tmp_path, {"OCI_EMULATOR_DATA_DIR": str(data_dir)})
    try:
        kms, vaults, _ = clients(oci_config, first.base_url)
        vault = kms.create_vault(oci.key_management.models.CreateVaultDetails(
            compartment_id=COMPARTMENT, display_name="durable", vault_type="DEFAULT")).data
        mgmt = oci.key_management.KmsManagementClient(oci_config, service_endpoint=vault.management_endpoint,
                                                      retry_strategy=oci.retry.NoneRetryStrategy())
        key = mgmt.create_key(oci.key_management.models.CreateKeyDetails(
            compartment_id=COMPARTMENT, display_name="k",
            key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
        crypto = oci.key_management.KmsCryptoClient(oci_config, service_endpoint=vault.crypto_endpoint,
                                                    retry_strategy=oci.retry.NoneRetryStrategy())
        sealed = crypto.encrypt(oci.key_management.models.EncryptDataDetails(
            key_id=key.id, plaintext=base64.b64encode(b"kept across restarts").decode())).data.ciphertext
        secret = vaults.create_secret(oci.vault.models.CreateSecretDetails(
            compartment_id=COMPARTMENT, vault_id=vault.id, key_id=key.id, secret_name="durable",
            secret_content=content(b"v1"))).data
        vaults.update_secret(secret.id, oci.vault.models.UpdateSecretDetails(secret_content=content(b"v2")))

        for name in ("emulator.db", "root.key"):
            mode = stat.S_IMODE(os.stat(data_dir / name).st_mode)
            assert mode == 0o600, (name, oct(mode))
    finally:
        first.proc.kill()  # SIGKILL: no shutdown, no flush
        first.proc.wait()
        first.stop()

    second = start_emulator(tmp_path, {"OCI_EMULATOR_DATA_DIR": str(data_dir)})
    try:
        assert second.base_url != first.base_url
        kms, _, secrets = clients(oci_config, second.base_url)
        again = kms.get_vault(vault.id).data
        assert again.management_endpoint.startswith(second.base_url + "/kms/")
        assert again.crypto_endpoint.startswith(second.base_url + "/kms/")
        bundle = secrets.get_secret_bundle(secret.id).data
        assert (bundle.version_number, base64.b64decode(bundle.secret_bundle_content.content)) == (2, b"v2")
        previous = secrets.get_secret_bundle(secret.id, stage="PREVIOUS").data
        assert base64.b64decode(previous.secret_bundle_content.content) == b"v1"
        crypto = oci.key_management.KmsCryptoClient(oci_config, service_endpoint=again.crypto_endpoint,
                                                    retry_strategy=oci.retry.NoneRetryStrategy())
        opened = crypto.decrypt(oci.key_management.models.DecryptDataDetails(key_id=key.id, ciphertext=sealed)).data
        assert base64.b64decode(opened.plaintext) == b"kept across restarts"
    finally:
        second.stop()


def test_a_different_root_key_is_refused_and_changes_nothing(tmp_path, oci_config):
    data_dir = tmp_path / "data"
    first = start_emulator(tmp_path, {"OCI_EMULATOR_DATA_DIR": str(data_dir)})
    first.stop()
    root_before = (data_dir / "root.key").read_bytes()

    other = base64.b64encode(os.urandom(32)).decode()
    run = subprocess.run(
        [str(_emulator_binary()), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir),
         "--root-key", other],
        capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert run.returncode == 1
    assert "sealed under another root key" in run.stderr
    assert other not in run.stderr
    assert (data_dir / "root.key").read_bytes() == root_before


@pytest.mark.parametrize("bad, expected", [
    ("not base64!", "--root-key is not valid base64"),
    (base64.b64encode(b"short").decode(), "--root-key must decode to 32 bytes"),
])
def test_a_malformed_root_key_is_refused_at_start(bad, expected):
    run = subprocess.run([str(_emulator_binary()), "serve", "--listen", "127.0.0.1:0", "--root-key", bad],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert run.returncode == 1
    assert expected in run.stderr


def test_a_bad_tenancy_file_is_refused_naming_the_field(tmp_path):
    import json
    doc = json.loads(open("fixtures/tenancy.json").read())
    doc["users"][0]["apiKeys"][0]["publicKeyPem"] = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n"
    bad = tmp_path / "tenancy.json"
    bad.write_text(json.dumps(doc))
    run = subprocess.run([str(_emulator_binary()), "serve", "--listen", "127.0.0.1:0", "--tenancy", str(bad)],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert run.returncode == 1
    assert "users[0].apiKeys[0].publicKeyPem" in run.stderr, run.stderr
