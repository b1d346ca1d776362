"""Vault replicas across regions, vault usage and mTLS registration, through the real SDK.

The tenancy file (fixtures/tenancy.json) is subscribed to us-phoenix-1 and eu-frankfurt-1
besides its home region us-ashburn-1, the emulator's --region. Another region's KMS endpoints
are the emulator's under /regions/<region>: a replica is the same vault, served there.
"""
import uuid

import oci
import pytest

from support import (
    COMPARTMENT_ID, NO_RETRY, VAULT_OCID_PREFIX, b64, expect_service_error, raw_request, unique,
)
from conftest import CLIENT_TIMEOUT

models = oci.key_management.models
PHOENIX = "us-phoenix-1"
FRANKFURT = "eu-frankfurt-1"


def _kw(endpoint):
    return dict(service_endpoint=endpoint, retry_strategy=NO_RETRY, timeout=CLIENT_TIMEOUT)


@pytest.fixture(scope="module")
def in_region(oci_config, base_url):
    """in_region(region) -> KmsVaultClient for that region's regional endpoint."""
    def make(region):
        return oci.key_management.KmsVaultClient(oci_config, **_kw(base_url + "/regions/" + region))
    return make


@pytest.fixture(scope="module")
def kms_at(oci_config):
    """kms_at(endpoint) -> (KmsManagementClient, KmsCryptoClient) pair builder."""
    def mgmt(endpoint):
        return oci.key_management.KmsManagementClient(oci_config, **_kw(endpoint))

    def crypto(endpoint):
        return oci.key_management.KmsCryptoClient(oci_config, **_kw(endpoint))
    return mgmt, crypto


@pytest.fixture
def private_vault(kms_vault_client):
    return kms_vault_client.create_vault(models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("vpv"), vault_type="VIRTUAL_PRIVATE")).data


def _replicate(kms_vault_client, vault, region=PHOENIX):
    return kms_vault_client.create_vault_replica(
        vault.id, models.CreateVaultReplicaDetails(replica_region=region))


def test_a_replica_is_the_same_vault_in_another_region(kms_vault_client, in_region, private_vault, base_url):
    assert private_vault.is_vault_replicable is True
    assert private_vault.replica_details is None
    created = _replicate(kms_vault_client, private_vault)
    assert created.status == 202
    assert created.data is None
    assert created.headers["opc-work-request-id"].startswith("ocid1.kmsworkrequest.oc1.iad.")

    replicas = kms_vault_client.list_vault_replicas(private_vault.id)
    assert replicas.headers.get("etag")
    [summary] = replicas.data
    assert summary.region == PHOENIX
    assert summary.status == "CREATED"
    key_path = private_vault.management_endpoint[len(base_url):]
    assert summary.management_endpoint == base_url + "/regions/" + PHOENIX + key_path
    assert summary.crypto_endpoint == base_url + "/regions/" + PHOENIX + private_vault.crypto_endpoint[len(base_url):]

    primary = kms_vault_client.get_vault(private_vault.id).data
    assert primary.is_primary is True
    assert primary.replica_details.replication_id
    assert primary.management_endpoint == private_vault.management_endpoint

    replica = in_region(PHOENIX).get_vault(private_vault.id).data
    assert replica.id == private_vault.id
    assert replica.is_primary is False
    assert replica.replica_details.replication_id == primary.replica_details.replication_id
    assert replica.management_endpoint == summary.management_endpoint
    assert replica.crypto_endpoint == summary.crypto_endpoint
    assert private_vault.id in [v.id for v in in_region(PHOENIX).list_vaults(COMPARTMENT_ID).data]
    # Not replicated to Frankfurt: the vault does not exist there.
    expect_service_error(404, "NotAuthorizedOrNotFound", in_region(FRANKFURT).get_vault, private_vault.id)
    assert private_vault.id not in [v.id for v in in_region(FRANKFURT).list_vaults(COMPARTMENT_ID).data]


def test_a_replica_serves_reads_and_crypto_but_refuses_management(
        kms_vault_client, in_region, kms_at, mgmt_client, crypto_client, private_vault, make_key):
    mgmt, crypto = kms_at
    key = make_key(private_vault)
    _replicate(kms_vault_client, private_vault)
    replica = in_region(PHOENIX).get_vault(private_vault.id).data
    at_replica = mgmt(replica.management_endpoint)

    got = at_replica.get_key(key.id).data
    assert (got.id, got.is_primary, got.current_key_version) == (key.id, False, key.current_key_version)
    assert mgmt_client(private_vault).get_key(key.id).data.is_primary is True
    assert [k.id for k in at_replica.list_keys(COMPARTMENT_ID).data] == [key.id]
    [version] = at_replica.list_key_versions(key.id).data
    assert version.id == key.current_key_version
    assert at_replica.get_key_version(key.id, version.id).data.is_primary is False

    # Encrypt at the replica, decrypt at the primary: the same key material.
    plaintext = b64(b"replicated material")
    ciphertext = crypto(replica.crypto_endpoint).encrypt(models.EncryptDataDetails(
        key_id=key.id, plaintext=plaintext)).data.ciphertext
    assert crypto_client(private_vault).decrypt(models.DecryptDataDetails(
        key_id=key.id, ciphertext=ciphertext)).data.plaintext == plaintext

    # Management writes answer 409 Conflict at the replica and change nothing.
    err = expect_service_error(409, "Conflict", at_replica.create_key, models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("k"),
        key_shape=models.KeyShape(algorithm="AES", length=32)))
    assert "replica" in err.message
    expect_service_error(409, "Conflict", at_replica.disable_key, key.id)
    expect_service_error(409, "Conflict", at_replica.create_key_version, key.id)
    expect_service_error(409, "Conflict", in_region(PHOENIX).update_vault, private_vault.id,
                         models.UpdateVaultDetails(display_name="renamed-at-replica"))
    expect_service_error(409, "Conflict", in_region(PHOENIX).backup_vault, private_vault.id)
    expect_service_error(409, "Conflict", in_region(PHOENIX).delete_vault_replica, private_vault.id,
                         models.DeleteVaultReplicaDetails(replica_region=PHOENIX))
    assert mgmt_client(private_vault).get_key(key.id).data.lifecycle_state == "ENABLED"
    assert kms_vault_client.get_vault(private_vault.id).data.display_name == private_vault.display_name

    # A change at the primary is at the replica at once.
    mgmt_client(private_vault).update_key(key.id, models.UpdateKeyDetails(display_name="renamed"))
    assert at_replica.get_key(key.id).data.display_name == "renamed"


def test_replication_status_of_the_vault_and_key_changes(kms_vault_client, mgmt_client, private_vault, make_key):
    key = make_key(private_vault)
    assert mgmt_client(private_vault).get_key(key.id).data.replica_details is None
    _replicate(kms_vault_client, private_vault)
    client = mgmt_client(private_vault)
    vault_change = kms_vault_client.get_vault(private_vault.id).data.replica_details.replication_id
    status = client.get_replication_status(vault_change).data
    assert [(d.region, d.status) for d in status.replica_details] == [(PHOENIX, "REPLICATED")]

    updated = client.update_key(key.id, models.UpdateKeyDetails(display_name="changed")).data
    key_change = updated.replica_details.replication_id
    assert key_change not in (None, vault_change)
    status = client.get_replication_status(key_change).data
    assert [(d.region, d.status) for d in status.replica_details] == [(PHOENIX, "REPLICATED")]
    version = client.create_key_version(key.id).data
    assert client.get_replication_status(version.replica_details.replication_id).data.replica_details[0].status \
        == "REPLICATED"
    expect_service_error(404, "NotAuthorizedOrNotFound", client.get_replication_status, "no-such-replication")


def test_one_replica_at_a_time(kms_vault_client, in_region, private_vault):
    _replicate(kms_vault_client, private_vault)
    etag = kms_vault_client.get_vault(private_vault.id).headers["etag"]
    again = _replicate(kms_vault_client, private_vault)
    assert again.status == 202
    assert kms_vault_client.get_vault(private_vault.id).headers["etag"] == etag, "a no-op changes nothing"
    expect_service_error(409, "Conflict", _replicate, kms_vault_client, private_vault, FRANKFURT)

    deleted = kms_vault_client.delete_vault_replica(
        private_vault.id, models.DeleteVaultReplicaDetails(replica_region=PHOENIX))
    assert deleted.status == 202
    assert deleted.headers["opc-work-request-id"].startswith("ocid1.kmsworkrequest.")
    assert kms_vault_client.list_vault_replicas(private_vault.id).data == []
    assert kms_vault_client.get_vault(private_vault.id).data.replica_details is None
    expect_service_error(404, "NotAuthorizedOrNotFound", in_region(PHOENIX).get_vault, private_vault.id)
    expect_service_error(400, "InvalidParameter", kms_vault_client.delete_vault_replica, private_vault.id,
                         models.DeleteVaultReplicaDetails(replica_region=PHOENIX))
    # Then another region may be chosen.
    _replicate(kms_vault_client, private_vault, FRANKFURT)
    assert in_region(FRANKFURT).get_vault(private_vault.id).data.is_primary is False


@pytest.mark.parametrize("region,why", [("ap-tokyo-1", "not a region of the tenancy"),
                                        ("us-ashburn-1", "the vault's own region")])
def test_replica_region_must_be_another_region_of_the_tenancy(kms_vault_client, private_vault, region, why):
    expect_service_error(400, "InvalidParameter", _replicate, kms_vault_client, private_vault, region)
    assert kms_vault_client.list_vault_replicas(private_vault.id).data == [], why


def test_a_default_vault_is_not_replicable(kms_vault_client, vault):
    assert vault.is_vault_replicable is False
    err = expect_service_error(400, "InvalidParameter", _replicate, kms_vault_client, vault)
    assert "isVaultReplicable" in err.message
    expect_service_error(400, "InvalidParameter", kms_vault_client.create_vault_replica, vault.id,
                         models.CreateVaultReplicaDetails(
                             replica_region=PHOENIX,
                             replica_vault_metadata=models.ReplicaExternalVaultMetadata(
                                 private_endpoint_id="ocid1.ekmsprivateendpoint.oc1..x",
                                 idcs_account_name_url="https://idcs.example")))


def test_a_vault_created_in_another_region_lives_there(in_region, kms_vault_client, base_url, kms_at):
    mgmt, _ = kms_at
    phoenix = in_region(PHOENIX)
    v = phoenix.create_vault(models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("phx"), vault_type="DEFAULT")).data
    assert v.id.startswith("ocid1.vault.oc1.phx."), v.id
    assert v.is_primary is True
    assert v.management_endpoint.startswith(base_url + "/regions/us-phoenix-1/kms/")
    key = mgmt(v.management_endpoint).create_key(models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("k"),
        key_shape=models.KeyShape(algorithm="AES", length=16))).data
    assert key.id.startswith("ocid1.key.oc1.phx."), key.id
    expect_service_error(404, "NotAuthorizedOrNotFound", kms_vault_client.get_vault, v.id)
    assert v.id not in [x.id for x in kms_vault_client.list_vaults(COMPARTMENT_ID).data]


def test_unknown_regions_are_not_routed_and_secrets_live_in_their_vaults_region(base_url, vault):
    r = raw_request(base_url, "GET", "/regions/ap-tokyo-1/20180608/vaults/" + vault.id)
    assert (r.status_code, r.json()["code"]) == (404, "NotAuthorizedOrNotFound")
    r = raw_request(base_url, "GET", "/regions/ap-tokyo-1/20180608/secrets", query={"compartmentId": COMPARTMENT_ID})
    assert (r.status_code, r.json()["code"]) == (404, "NotAuthorizedOrNotFound")
    # Secret management answers in every region of the tenancy; the home region's secrets
    # are not there (a replica would be: test_secret_replication.py).
    r = raw_request(base_url, "GET", "/regions/us-phoenix-1/20180608/secrets",
                    query={"compartmentId": COMPARTMENT_ID})
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json() if ".iad." in s["id"] and not s["isReplica"]] == []
    r = raw_request(base_url, "GET", "/regions/us-ashburn-1/20180608/vaults/" + vault.id)
    assert r.status_code == 200, "the emulator's own region by name is the same as no prefix"


def test_vault_usage_counts_keys_and_versions_by_protection_mode(kms_vault_client, mgmt_client, private_vault,
                                                                   make_key):
    empty = kms_vault_client.get_vault_usage(private_vault.id)
    assert "etag" not in empty.headers
    assert (empty.data.key_count, empty.data.key_version_count,
            empty.data.software_key_count, empty.data.software_key_version_count) == (0, 0, 0, 0)
    client = mgmt_client(private_vault)
    hsm = make_key(private_vault)
    client.create_key_version(hsm.id)
    make_key(private_vault)
    software = client.create_key(models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("sw"), protection_mode="SOFTWARE",
        key_shape=models.KeyShape(algorithm="AES", length=32))).data
    client.schedule_key_deletion(software.id, models.ScheduleKeyDeletionDetails())
    usage = kms_vault_client.get_vault_usage(private_vault.id).data
    # A key pending deletion is not deleted yet: it counts.
    assert (usage.key_count, usage.key_version_count,
            usage.software_key_count, usage.software_key_version_count) == (2, 3, 1, 1)


def test_vault_usage_of_an_unknown_vault_is_404(kms_vault_client):
    expect_service_error(404, "NotAuthorizedOrNotFound", kms_vault_client.get_vault_usage,
                         VAULT_OCID_PREFIX + "doesnotexist" + uuid.uuid4().hex)


def test_update_registered_vault_for_mtls_needs_a_vault_registered_for_mtls(kms_vault_client, vault):
    err = expect_service_error(400, "InvalidParameter", kms_vault_client.update_registered_vault_for_mtls,
                               vault.id, models.UpdateRegisteredVaultForMtlsDetails(fleet_id="ocid1.fleet.oc1..x"))
    assert "not registered for mTLS" in err.message
    expect_service_error(400, "MissingParameter", kms_vault_client.update_registered_vault_for_mtls,
                         vault.id, models.UpdateRegisteredVaultForMtlsDetails())
    expect_service_error(404, "NotAuthorizedOrNotFound", kms_vault_client.update_registered_vault_for_mtls,
                         VAULT_OCID_PREFIX + "nope", models.UpdateRegisteredVaultForMtlsDetails(fleet_id="f"))
