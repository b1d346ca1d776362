"""BackupVault / BackupKey and RestoreVaultFromFile / RestoreKeyFromFile through the real SDK and CLI.

OCI writes a backup to Object Storage (a bucket or a pre-authenticated request URI); the
emulator has none, so a backup without backupLocation is kept by the emulator and downloaded
from /_emulator/backups/<opc-work-request-id>, and any location is answered as unreachable.

The module runs emulators of its own: it moves their clocks (to let a scheduled deletion
complete) and starts them with chosen root keys: two with the same root key (a backup made by
one restores in the other), one in another region with that root key, one with another.
"""
import base64
import hashlib
import json
import os
import subprocess
import types

import oci
import pytest
import requests

from conftest import CLIENT_TIMEOUT
from support import COMPARTMENT_ID, CONFIG_FILE, NO_RETRY, b64, expect_service_error, unique
from test_cli import OCI_CLI

models = oci.key_management.models
ROOT_A = base64.b64encode(b"A" * 32).decode()
ROOT_B = base64.b64encode(b"B" * 32).decode()
SECURITY = "ocid1.compartment.oc1..aaaaaaaaemulatorsecurity00000000000000000000000000000000001"
DAY = 86400


def _kw(endpoint):
    return dict(service_endpoint=endpoint, retry_strategy=NO_RETRY, timeout=CLIENT_TIMEOUT)


def _world(emu, cfg):
    return types.SimpleNamespace(
        url=emu.base_url,
        kms=oci.key_management.KmsVaultClient(cfg, **_kw(emu.base_url)),
        mgmt=lambda vault: oci.key_management.KmsManagementClient(cfg, **_kw(vault.management_endpoint)),
        crypto=lambda vault: oci.key_management.KmsCryptoClient(cfg, **_kw(vault.crypto_endpoint)),
        advance=lambda seconds: requests.post(emu.base_url + "/_emulator/time",
                                              json={"advanceSeconds": seconds}, timeout=10).raise_for_status(),
    )


@pytest.fixture(scope="module")
def home(start_extra_emulator, oci_config):
    return _world(start_extra_emulator({"OCI_EMULATOR_ROOT_KEY": ROOT_A}), oci_config)


@pytest.fixture(scope="module")
def twin(start_extra_emulator, oci_config):
    """Another emulator with the same root key and region."""
    return _world(start_extra_emulator({"OCI_EMULATOR_ROOT_KEY": ROOT_A}), oci_config)


@pytest.fixture(scope="module")
def phoenix(start_extra_emulator, oci_config):
    """The same root key, in us-phoenix-1."""
    return _world(start_extra_emulator({"OCI_EMULATOR_ROOT_KEY": ROOT_A,
                                        "OCI_EMULATOR_REGION": "us-phoenix-1"}), oci_config)


@pytest.fixture(scope="module")
def stranger(start_extra_emulator, oci_config):
    """Another root key."""
    return _world(start_extra_emulator({"OCI_EMULATOR_ROOT_KEY": ROOT_B}), oci_config)


def private_vault(world, vault_type="VIRTUAL_PRIVATE"):
    return world.kms.create_vault(models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("backup-vault"), vault_type=vault_type)).data


def aes_key(world, vault, protection_mode="HSM", name=None):
    return world.mgmt(vault).create_key(models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=name or unique("backup-key"),
        protection_mode=protection_mode, key_shape=models.KeyShape(algorithm="AES", length=32))).data


def encrypt(world, vault, key, text):
    return world.crypto(vault).encrypt(models.EncryptDataDetails(key_id=key.id, plaintext=b64(text))).data.ciphertext


def decrypt(world, vault, key, ciphertext):
    return base64.b64decode(world.crypto(vault).decrypt(models.DecryptDataDetails(
        key_id=key.id, ciphertext=ciphertext)).data.plaintext)


def download(world, response):
    """The backup file a backup call without backupLocation made."""
    work_request = response.headers["opc-work-request-id"]
    r = requests.get(world.url + "/_emulator/backups/" + work_request, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    return r.content


def content_md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def delete_key(world, vault, key):
    world.mgmt(vault).schedule_key_deletion(key.id, models.ScheduleKeyDeletionDetails())
    world.advance(31 * DAY)
    assert world.mgmt(vault).get_key(key.id).data.lifecycle_state == "DELETED"


def test_a_key_backup_is_a_sealed_text_file_kept_by_its_work_request(home):
    vault = private_vault(home)
    name = unique("never-in-the-clear")
    key = aes_key(home, vault, name=name)
    response = home.mgmt(vault).backup_key(key.id)
    assert response.status == 200
    assert response.data.id == key.id
    assert response.data.lifecycle_state == "ENABLED"
    assert response.headers["etag"]
    work_request = response.headers["opc-work-request-id"]
    assert work_request.startswith("ocid1.kmsworkrequest.oc1.iad.")

    blob = download(home, response)
    text = blob.decode("ascii")  # the CLI reads a key backup in text mode
    with pytest.raises(ValueError):
        json.loads(text)
    decoded = base64.b64decode(text)
    assert name.encode() not in decoded, "the contents are sealed"
    assert key.current_key_version.encode() not in decoded
    listed = requests.get(home.url + "/_emulator/backups", timeout=10).json()
    mine = [b for b in listed if b["workRequestId"] == work_request]
    assert mine == [{"workRequestId": work_request, "kind": "KEY", "resourceId": key.id,
                     "timeCreated": mine[0]["timeCreated"], "bytes": len(blob)}]
    r = requests.get(home.url + "/_emulator/backups/ocid1.kmsworkrequest.oc1.iad.nope", timeout=10)
    assert (r.status_code, r.json()["code"]) == (404, "NotAuthorizedOrNotFound")


def test_a_deleted_key_comes_back_with_its_versions_and_its_ciphertexts_decrypt(home):
    vault = private_vault(home)
    key = aes_key(home, vault)
    first = encrypt(home, vault, key, b"under version 1")
    second_version = home.mgmt(vault).create_key_version(key.id).data
    second = encrypt(home, vault, key, b"under version 2")
    blob = download(home, home.mgmt(vault).backup_key(key.id))
    delete_key(home, vault, key)

    response = home.mgmt(vault).restore_key_from_file(blob, content_length=len(blob), content_md5=content_md5(blob))
    restored = response.data
    assert response.status == 200
    assert response.headers["opc-work-request-id"].startswith("ocid1.kmsworkrequest.")
    assert response.headers["opc-content-md5"] == content_md5(blob)
    assert response.headers["etag"]
    assert (restored.id, restored.vault_id, restored.compartment_id) == (key.id, vault.id, COMPARTMENT_ID)
    assert restored.restored_from_key_id == key.id
    assert restored.lifecycle_state == "ENABLED"
    assert restored.time_of_deletion is None
    assert restored.current_key_version == second_version.id
    versions = home.mgmt(vault).list_key_versions(key.id, sort_order="ASC").data
    assert [v.id for v in versions] == [key.current_key_version, second_version.id]
    got = home.mgmt(vault).get_key_version(key.id, key.current_key_version).data
    assert got.restored_from_key_version_id == key.current_key_version
    assert decrypt(home, vault, key, first) == b"under version 1"
    assert decrypt(home, vault, key, second) == b"under version 2"


def test_restoring_a_key_that_exists_is_409_and_elsewhere_is_404(home):
    vault = private_vault(home)
    key = aes_key(home, vault)
    blob = download(home, home.mgmt(vault).backup_key(key.id))
    expect_service_error(409, "NotAuthorizedOrResourceAlreadyExists",
                         home.mgmt(vault).restore_key_from_file, blob)
    other = private_vault(home)
    expect_service_error(404, "NotAuthorizedOrNotFound", home.mgmt(other).restore_key_from_file, blob)
    assert [k.id for k in home.mgmt(other).list_keys(COMPARTMENT_ID).data] == []


def test_a_changed_file_or_a_wrong_md5_restores_nothing(home):
    vault = private_vault(home)
    key = aes_key(home, vault)
    blob = download(home, home.mgmt(vault).backup_key(key.id))
    delete_key(home, vault, key)
    raw = bytearray(base64.b64decode(blob))
    raw[len(raw) // 2] ^= 0x01
    changed = base64.b64encode(bytes(raw))
    err = expect_service_error(400, "InvalidParameter", home.mgmt(vault).restore_key_from_file, changed)
    assert "cannot be restored" in err.message
    err = expect_service_error(400, "UnmatchedContentMD5", home.mgmt(vault).restore_key_from_file, blob,
                               content_md5=content_md5(b"something else"))
    assert err.message == ("The computed MD5 of the request body ({}) does not match the Content-MD5 header ({})."
                           .format(content_md5(blob), content_md5(b"something else")))
    expect_service_error(400, "InvalidParameter", home.mgmt(vault).restore_key_from_file, b"{\"not\": \"a backup\"}")
    assert home.mgmt(vault).get_key(key.id).data.lifecycle_state == "DELETED"


def test_a_vault_backup_with_its_keys_restores_in_an_emulator_with_the_same_root_key(home, twin):
    vault = private_vault(home)
    hsm = aes_key(home, vault)
    software = aes_key(home, vault, protection_mode="SOFTWARE")
    ciphertext = encrypt(home, vault, hsm, b"made before the backup")
    response = home.kms.backup_vault(vault.id, backup_vault_details=models.BackupVaultDetails(is_include_keys=True))
    assert response.data.id == vault.id
    assert response.headers["opc-work-request-id"].startswith("ocid1.kmsworkrequest.")
    blob = download(home, response)

    restored = twin.kms.restore_vault_from_file(SECURITY, blob, content_length=len(blob)).data
    assert (restored.id, restored.restored_from_vault_id) == (vault.id, vault.id)
    assert (restored.compartment_id, restored.lifecycle_state) == (SECURITY, "ACTIVE")
    assert restored.display_name == vault.display_name
    assert restored.vault_type == "VIRTUAL_PRIVATE"
    assert restored.management_endpoint.startswith(twin.url + "/kms/")
    keys = twin.mgmt(restored).list_keys(COMPARTMENT_ID).data
    assert [k.id for k in keys] == [hsm.id], "only HSM keys are backed up"
    assert decrypt(twin, restored, hsm, ciphertext) == b"made before the backup"
    assert software.id not in [k.id for k in keys]
    expect_service_error(409, "NotAuthorizedOrResourceAlreadyExists",
                         twin.kms.restore_vault_from_file, SECURITY, blob)
    expect_service_error(409, "NotAuthorizedOrResourceAlreadyExists",
                         home.kms.restore_vault_from_file, COMPARTMENT_ID, blob)


def test_a_vault_backup_without_keys_holds_the_vault_only(home, twin):
    vault = private_vault(home)
    aes_key(home, vault)
    blob = download(home, home.kms.backup_vault(vault.id))
    restored = twin.kms.restore_vault_from_file(COMPARTMENT_ID, blob).data
    assert restored.id == vault.id
    assert twin.mgmt(restored).list_keys(COMPARTMENT_ID).data == []


def test_another_region_restores_with_new_ocids(home, phoenix):
    vault = private_vault(home)
    key = aes_key(home, vault)
    vault_blob = download(home, home.kms.backup_vault(vault.id))
    key_blob = download(home, home.mgmt(vault).backup_key(key.id))
    restored = phoenix.kms.restore_vault_from_file(COMPARTMENT_ID, vault_blob).data
    assert restored.id.startswith("ocid1.vault.oc1.phx."), restored.id
    assert restored.restored_from_vault_id == vault.id
    key_back = phoenix.mgmt(restored).restore_key_from_file(key_blob).data
    assert key_back.id.startswith("ocid1.key.oc1.phx."), key_back.id
    assert key_back.vault_id == restored.id
    assert key_back.restored_from_key_id == key.id
    assert key_back.current_key_version.startswith("ocid1.keyversion.oc1.phx.")
    ciphertext = encrypt(phoenix, restored, key_back, b"works in the new region")
    assert decrypt(phoenix, restored, key_back, ciphertext) == b"works in the new region"


def test_an_emulator_with_another_root_key_cannot_restore(home, stranger):
    vault = private_vault(home)
    key = aes_key(home, vault)
    vault_blob = download(home, home.kms.backup_vault(vault.id, backup_vault_details=models.BackupVaultDetails(
        is_include_keys=True)))
    err = expect_service_error(400, "InvalidParameter", stranger.kms.restore_vault_from_file,
                               COMPARTMENT_ID, vault_blob)
    assert "another root key" in err.message
    assert vault.id not in [v.id for v in stranger.kms.list_vaults(COMPARTMENT_ID).data]
    key_blob = download(home, home.mgmt(vault).backup_key(key.id))
    theirs = private_vault(stranger)
    expect_service_error(400, "InvalidParameter", stranger.mgmt(theirs).restore_key_from_file, key_blob)


def test_a_key_file_is_not_a_vault_file(home, twin):
    vault = private_vault(home)
    key = aes_key(home, vault)
    key_blob = download(home, home.mgmt(vault).backup_key(key.id))
    err = expect_service_error(400, "InvalidParameter", twin.kms.restore_vault_from_file, COMPARTMENT_ID, key_blob)
    assert "RestoreKeyFromFile" in err.message


def test_only_private_vaults_and_hsm_keys_back_up(home):
    default = private_vault(home, vault_type="DEFAULT")
    expect_service_error(400, "InvalidParameter", home.kms.backup_vault, default.id)
    expect_service_error(400, "InvalidParameter", home.mgmt(default).backup_key, aes_key(home, default).id)
    vault = private_vault(home)
    software = aes_key(home, vault, protection_mode="SOFTWARE")
    err = expect_service_error(400, "InvalidParameter", home.mgmt(vault).backup_key, software.id)
    assert "HSM" in err.message
    disabled = aes_key(home, vault)
    home.mgmt(vault).disable_key(disabled.id)
    assert home.mgmt(vault).backup_key(disabled.id).data.lifecycle_state == "DISABLED"
    pending = aes_key(home, vault)
    home.mgmt(vault).schedule_key_deletion(pending.id, models.ScheduleKeyDeletionDetails())
    expect_service_error(409, "IncorrectState", home.mgmt(vault).backup_key, pending.id)


def test_a_retried_backup_is_the_same_work_request(home):
    vault = private_vault(home)
    key = aes_key(home, vault)
    token = unique("retry")
    first = home.mgmt(vault).backup_key(key.id, opc_retry_token=token).headers["opc-work-request-id"]
    again = home.mgmt(vault).backup_key(key.id, opc_retry_token=token).headers["opc-work-request-id"]
    other = home.mgmt(vault).backup_key(key.id).headers["opc-work-request-id"]
    assert first == again != other


BUCKET = models.BackupLocationBucket(destination="BUCKET", namespace="ns", bucket_name="backups",
                                     object_name="vault.backup")
PAR = models.BackupLocationURI(destination="PRE_AUTHENTICATED_REQUEST_URI",
                               uri="https://objectstorage.us-ashburn-1.oraclecloud.com/p/SECRET-PAR-TOKEN/n/ns/b/x/o/y")


@pytest.mark.parametrize("location", [BUCKET, PAR], ids=["bucket", "uri"])
def test_backups_to_object_storage_are_unreachable(home, location):
    vault = private_vault(home)
    key = aes_key(home, vault)
    before = requests.get(home.url + "/_emulator/backups", timeout=10).json()
    err = expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", home.kms.backup_vault, vault.id,
                               backup_vault_details=models.BackupVaultDetails(backup_location=location))
    assert "SECRET-PAR-TOKEN" not in err.message
    expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", home.mgmt(vault).backup_key, key.id,
                         backup_key_details=models.BackupKeyDetails(backup_location=location))
    expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", home.kms.restore_vault_from_object_store,
                         COMPARTMENT_ID, restore_vault_from_object_store_details=models.RestoreVaultFromObjectStoreDetails(
                             backup_location=location))
    expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", home.mgmt(vault).restore_key_from_object_store,
                         restore_key_from_object_store_details=models.RestoreKeyFromObjectStoreDetails(
                             backup_location=location))
    assert requests.get(home.url + "/_emulator/backups", timeout=10).json() == before


def test_restore_from_object_store_needs_a_location(home):
    vault = private_vault(home)
    expect_service_error(400, "MissingParameter", home.kms.restore_vault_from_object_store, COMPARTMENT_ID)
    expect_service_error(400, "MissingParameter", home.mgmt(vault).restore_key_from_object_store)
    # A location of an unknown kind names the field.
    err = expect_service_error(400, "InvalidParameter", home.mgmt(vault).backup_key, aes_key(home, vault).id,
                               backup_key_details={"backupLocation": {"destination": "FLOPPY"}})
    assert "backupLocation" in err.message


def test_a_deleted_key_is_not_counted_in_usage(home):
    vault = private_vault(home)
    kept = aes_key(home, vault)
    gone = aes_key(home, vault)
    home.mgmt(vault).create_key_version(kept.id)
    delete_key(home, vault, gone)
    usage = home.kms.get_vault_usage(vault.id).data
    assert (usage.key_count, usage.key_version_count) == (1, 2)


def test_a_backup_of_a_vault_with_many_keys_restores(home, twin):
    """More than --max-body-bytes (1 MiB): restore bodies have their own limit (16 MiB)."""
    seeded = {"vaults": [{"compartmentId": COMPARTMENT_ID, "displayName": unique("many"),
                          "vaultType": "VIRTUAL_PRIVATE",
                          "keys": [{"displayName": "k{:04d}".format(i), "algorithm": "AES", "length": 32}
                                   for i in range(1200)]}]}
    requests.post(home.url + "/_emulator/seed", json=seeded, timeout=60).raise_for_status()
    vault = next(v for v in home.kms.list_vaults(COMPARTMENT_ID).data
                 if v.display_name == seeded["vaults"][0]["displayName"])
    blob = download(home, home.kms.backup_vault(vault.id, backup_vault_details=models.BackupVaultDetails(
        is_include_keys=True)))
    assert len(blob) > 1024 * 1024, len(blob)
    print("\nvault backup of 1200 keys: {} bytes, {:.0f} bytes per key".format(len(blob), len(blob) / 1200))
    restored = twin.kms.restore_vault_from_file(COMPARTMENT_ID, blob, content_length=len(blob)).data
    assert restored.id == vault.id
    usage = twin.kms.get_vault_usage(restored.id).data
    assert (usage.key_count, usage.key_version_count) == (1200, 1200)


def _cli(world, *args, endpoint=None, check=True):
    cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--profile", "DEFAULT",
           "--endpoint", endpoint or world.url, "--no-retry", "--output", "json"] + list(args)
    env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True", SUPPRESS_LABEL_WARNING="True")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    if check:
        assert proc.returncode == 0, "{}\nstdout:\n{}\nstderr:\n{}".format(" ".join(cmd), proc.stdout, proc.stderr)
    return proc


def test_cli_restores_a_key_from_a_backup_file(home, tmp_path):
    vault = private_vault(home)
    key = aes_key(home, vault)
    ciphertext = encrypt(home, vault, key, b"cli restore")
    path = tmp_path / "key.backup"
    path.write_bytes(download(home, home.mgmt(vault).backup_key(key.id)))
    delete_key(home, vault, key)

    proc = _cli(home, "kms", "management", "key", "restore-from-file",
                "--restore-key-from-file-location", str(path), endpoint=vault.management_endpoint)
    restored = json.loads(proc.stdout)["data"]  # the CLI prints "Can't open the file" on any error
    assert restored["id"] == key.id
    assert restored["restored-from-key-id"] == key.id
    assert restored["lifecycle-state"] == "ENABLED"
    assert decrypt(home, vault, key, ciphertext) == b"cli restore"


def test_cli_backup_to_a_uri_is_unreachable(home):
    vault = private_vault(home)
    key = aes_key(home, vault)
    proc = _cli(home, "kms", "management", "key", "backup", "--key-id", key.id,
                "--uri", "https://objectstorage.us-ashburn-1.oraclecloud.com/p/SECRET-PAR-TOKEN/n/ns/b/x/o/y",
                endpoint=vault.management_endpoint, check=False)
    assert proc.returncode != 0
    assert '"code": "RelatedResourceNotAuthorizedOrNotFound"' in proc.stderr, proc.stderr
    assert '"status": 400' in proc.stderr, proc.stderr
    assert "SECRET-PAR-TOKEN" not in proc.stderr
