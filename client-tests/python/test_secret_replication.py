"""Cross-region secret replication (issue 14), through the real SDK and CLI.

The tenancy file is subscribed to us-phoenix-1 and eu-frankfurt-1 besides its home region
us-ashburn-1 (the emulator's --region). Another region's endpoints are the emulator's under
/regions/<region>. Oracle's "Replicating Secrets": a replica uses the source's OCIDs, is
read-only, and follows every change to the source.
"""
import datetime
import json
import os
import subprocess

import oci
import pytest

from conftest import CLIENT_TIMEOUT
from support import (
    COMPARTMENT_ID, CONFIG_FILE, NO_RETRY, b64, expect_service_error, list_all, stages_by_version,
    unb64, unique,
)
from test_cli import OCI_CLI

models = oci.vault.models
HOME, PHOENIX, FRANKFURT = "us-ashburn-1", "us-phoenix-1", "eu-frankfurt-1"


def _kw(endpoint):
    return dict(service_endpoint=endpoint, retry_strategy=NO_RETRY, timeout=CLIENT_TIMEOUT)


@pytest.fixture(scope="module")
def region(oci_config, base_url):
    """region(name) -> (KmsVaultClient, VaultsClient, SecretsClient) at that region's endpoints."""
    def make(name):
        url = base_url + "/regions/" + name
        return (oci.key_management.KmsVaultClient(oci_config, **_kw(url)),
                oci.vault.VaultsClient(oci_config, **_kw(url)),
                oci.secrets.SecretsClient(oci_config, **_kw(url)))
    return make


@pytest.fixture(scope="module")
def phoenix_vault(region, make_key):
    """A DEFAULT vault in us-phoenix-1 with an AES key: (vault, key)."""
    kms, _, _ = region(PHOENIX)
    vault = kms.create_vault(oci.key_management.models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("phx"), vault_type="DEFAULT")).data
    return vault, make_key(vault)


def _content(data):
    return models.Base64SecretContentDetails(content_type="BASE64", content=b64(data))


def _config(vault, key, region=PHOENIX, forward=None):
    return models.ReplicationConfig(
        replication_targets=[models.ReplicationTarget(
            target_region=region, target_vault_id=vault.id, target_key_id=key.id)],
        is_write_forward_enabled=forward)


def _replicated(secret, vault, aes_key, phoenix_vault, content=b"source", **kw):
    target_vault, target_key = phoenix_vault
    return secret(vault, aes_key, content=content,
                  replication_config=_config(target_vault, target_key, **kw))[0]


def test_a_replica_is_the_source_secret_seen_from_the_target_region(
        vaults_client, secret, vault, aes_key, phoenix_vault, region):
    target_vault, target_key = phoenix_vault
    s = _replicated(secret, vault, aes_key, phoenix_vault)
    assert s.is_replica is False
    assert s.source_region_information is None
    [t] = s.replication_config.replication_targets
    assert (t.target_region, t.target_vault_id, t.target_key_id) == (PHOENIX, target_vault.id, target_key.id)
    assert s.replication_config.is_write_forward_enabled is False

    _, phx_vaults, phx_secrets = region(PHOENIX)
    replica = phx_vaults.get_secret(s.id).data
    assert (replica.id, replica.secret_name, replica.compartment_id) == (s.id, s.secret_name, COMPARTMENT_ID)
    assert (replica.vault_id, replica.key_id) == (target_vault.id, target_key.id)
    assert replica.is_replica is True
    assert replica.replication_config is None
    src = replica.source_region_information
    assert (src.source_region, src.source_vault_id, src.source_key_id) == (HOME, vault.id, aes_key.id)

    bundle = phx_secrets.get_secret_bundle(s.id).data
    assert (bundle.version_number, unb64(bundle.secret_bundle_content.content)) == (1, b"source")
    by_name = phx_secrets.get_secret_bundle_by_name(secret_name=s.secret_name, vault_id=target_vault.id).data
    assert (by_name.secret_id, unb64(by_name.secret_bundle_content.content)) == (s.id, b"source")

    [summary] = list_all(phx_vaults.list_secrets, COMPARTMENT_ID, vault_id=target_vault.id, name=s.secret_name)
    assert (summary.id, summary.is_replica, summary.vault_id) == (s.id, True, target_vault.id)
    assert summary.source_region_information.source_vault_id == vault.id
    assert list_all(vaults_client.list_secrets, COMPARTMENT_ID, vault_id=target_vault.id, name=s.secret_name) == []
    [home_summary] = list_all(vaults_client.list_secrets, COMPARTMENT_ID, vault_id=vault.id, name=s.secret_name)
    assert home_summary.is_replica is False
    assert home_summary.replication_config.replication_targets[0].target_region == PHOENIX

    _, fra_vaults, fra_secrets = region(FRANKFURT)
    expect_service_error(404, "NotAuthorizedOrNotFound", fra_vaults.get_secret, s.id)
    expect_service_error(404, "NotAuthorizedOrNotFound", fra_secrets.get_secret_bundle, s.id)


def test_the_replica_follows_new_versions_promotions_and_deletion(
        vaults_client, secret, vault, aes_key, phoenix_vault, region):
    s = _replicated(secret, vault, aes_key, phoenix_vault, content=b"one")
    _, phx_vaults, phx_secrets = region(PHOENIX)
    vaults_client.update_secret(s.id, models.UpdateSecretDetails(secret_content=_content(b"two")))
    bundle = phx_secrets.get_secret_bundle(s.id).data
    assert (bundle.version_number, unb64(bundle.secret_bundle_content.content)) == (2, b"two")
    assert stages_by_version(phx_vaults.list_secret_versions(s.id).data) == {
        1: {"PREVIOUS"}, 2: {"CURRENT", "LATEST"}}
    vaults_client.update_secret(s.id, models.UpdateSecretDetails(current_version_number=1))
    assert unb64(phx_secrets.get_secret_bundle(s.id).data.secret_bundle_content.content) == b"one"
    assert phx_vaults.get_secret_version(s.id, 1).data.stages == ["CURRENT"]

    vaults_client.schedule_secret_deletion(s.id, models.ScheduleSecretDeletionDetails())
    assert phx_vaults.get_secret(s.id).data.lifecycle_state == "PENDING_DELETION"
    expect_service_error(404, "NotAuthorizedOrNotFound", phx_secrets.get_secret_bundle, s.id)


def test_a_replica_is_read_only_unless_writes_are_forwarded(
        vaults_client, secret, vault, aes_key, phoenix_vault, region):
    s = _replicated(secret, vault, aes_key, phoenix_vault, content=b"kept")
    _, phx_vaults, phx_secrets = region(PHOENIX)
    err = expect_service_error(409, "Conflict", phx_vaults.update_secret, s.id,
                               models.UpdateSecretDetails(secret_content=_content(b"refused")))
    assert "replica" in err.message
    expect_service_error(409, "Conflict", phx_vaults.schedule_secret_deletion, s.id,
                         models.ScheduleSecretDeletionDetails())
    after = vaults_client.get_secret(s.id).data
    assert (after.current_version_number, after.lifecycle_state) == (1, "ACTIVE")

    target_vault, target_key = phoenix_vault
    vaults_client.update_secret(s.id, models.UpdateSecretDetails(
        replication_config=_config(target_vault, target_key, forward=True)))
    forwarded = phx_vaults.update_secret(s.id, models.UpdateSecretDetails(
        secret_content=_content(b"forwarded"))).data
    assert (forwarded.is_replica, forwarded.current_version_number) == (True, 2)
    source = vaults_client.get_secret(s.id).data
    assert (source.current_version_number, source.is_replica) == (2, False)
    assert unb64(phx_secrets.get_secret_bundle(s.id).data.secret_bundle_content.content) == b"forwarded"


def test_removing_the_targets_removes_the_replicas(
        vaults_client, secret, vault, aes_key, phoenix_vault, region):
    s = _replicated(secret, vault, aes_key, phoenix_vault)
    _, phx_vaults, _ = region(PHOENIX)
    assert phx_vaults.get_secret(s.id).data.is_replica is True
    updated = vaults_client.update_secret(s.id, models.UpdateSecretDetails(
        replication_config=models.ReplicationConfig(replication_targets=[]))).data
    assert updated.replication_config is None
    expect_service_error(404, "NotAuthorizedOrNotFound", phx_vaults.get_secret, s.id)


def test_a_secret_made_in_another_region_lives_there(secret, phoenix_vault, region, vaults_client):
    target_vault, target_key = phoenix_vault
    _, phx_vaults, phx_secrets = region(PHOENIX)
    s = phx_vaults.create_secret(models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=target_vault.id, key_id=target_key.id,
        secret_name=unique("phx-secret"), secret_content=_content(b"in phoenix"))).data
    assert s.id.startswith("ocid1.vaultsecret.oc1.phx.")
    assert s.is_replica is False
    assert unb64(phx_secrets.get_secret_bundle(s.id).data.secret_bundle_content.content) == b"in phoenix"
    expect_service_error(404, "NotAuthorizedOrNotFound", vaults_client.get_secret, s.id)


@pytest.mark.parametrize("case", ["unknown region", "own region", "vault elsewhere", "key elsewhere",
                                  "four targets", "two in one region"])
def test_a_bad_replication_config_is_refused_and_creates_nothing(
        case, vaults_client, vault, aes_key, phoenix_vault, make_key):
    target_vault, target_key = phoenix_vault
    target = dict(target_region=PHOENIX, target_vault_id=target_vault.id, target_key_id=target_key.id)
    status, code = 400, "InvalidParameter"
    if case == "unknown region":
        targets = [dict(target, target_region="ap-tokyo-1")]
    elif case == "own region":
        targets = [dict(target, target_region=HOME, target_vault_id=vault.id, target_key_id=aes_key.id)]
    elif case == "vault elsewhere":
        targets = [dict(target, target_vault_id=vault.id)]
        code = "RelatedResourceNotAuthorizedOrNotFound"
    elif case == "key elsewhere":
        targets = [dict(target, target_key_id=aes_key.id)]
    elif case == "four targets":
        targets = [target] * 4
    else:
        targets = [target, target]
    name = unique("bad-repl")
    details = models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=aes_key.id, secret_name=name,
        secret_content=_content(b"x"),
        replication_config=models.ReplicationConfig(
            replication_targets=[models.ReplicationTarget(**t) for t in targets]))
    expect_service_error(status, code, vaults_client.create_secret, details)
    assert list_all(vaults_client.list_secrets, COMPARTMENT_ID, name=name) == []


def test_a_name_is_unique_across_a_vaults_secrets_and_replicas(
        vaults_client, secret, vault, aes_key, phoenix_vault, region):
    target_vault, target_key = phoenix_vault
    _, phx_vaults, _ = region(PHOENIX)
    taken = phx_vaults.create_secret(models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=target_vault.id, key_id=target_key.id,
        secret_name=unique("taken"), secret_content=_content(b"x"))).data
    err = expect_service_error(400, "InvalidParameter", secret, vault, aes_key, name=taken.secret_name,
                               replication_config=_config(target_vault, target_key))
    assert "already exists" in err.message

    s = _replicated(secret, vault, aes_key, phoenix_vault)
    err = expect_service_error(400, "InvalidParameter", phx_vaults.create_secret, models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=target_vault.id, key_id=target_key.id,
        secret_name=s.secret_name, secret_content=_content(b"y")))
    assert "already exists" in err.message


def test_summaries_carry_empty_system_tags(vaults_client, secret, vault, aes_key):
    s, _ = secret(vault, aes_key)
    [summary] = list_all(vaults_client.list_secrets, COMPARTMENT_ID, vault_id=vault.id, name=s.secret_name)
    assert summary.system_tags == {}
    [version] = vaults_client.list_secret_versions(s.id).data
    assert version.system_tags == {}


def test_a_deleted_secrets_name_stays_taken(clocked):
    """terraform-provider-oci #1765 and external-secrets #6771: a name is held while the secret
    is pending deletion and after it is deleted."""
    vault = clocked.vault()
    key = clocked.key(vault)
    vaults = clocked.vaults()
    name = unique("gone")
    details = models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id, secret_name=name,
        secret_content=_content(b"x"))
    s = vaults.create_secret(details).data
    vaults.schedule_secret_deletion(s.id, models.ScheduleSecretDeletionDetails(
        time_of_deletion=clocked.now() + datetime.timedelta(days=1, minutes=5)))
    expect_service_error(400, "InvalidParameter", vaults.create_secret, details)
    clocked.advance(days=2)
    expect_service_error(404, "NotAuthorizedOrNotFound", vaults.get_secret, s.id)
    err = expect_service_error(400, "InvalidParameter", vaults.create_secret, details)
    assert "already exists" in err.message


def test_the_cli_configures_replication_and_reads_the_replica(
        base_url, vaults_client, vault, aes_key, phoenix_vault):
    target_vault, target_key = phoenix_vault
    config = {"replicationTargets": [{"targetRegion": PHOENIX, "targetVaultId": target_vault.id,
                                      "targetKeyId": target_key.id}], "isWriteForwardEnabled": False}

    def cli(endpoint, *args):
        cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--profile", "DEFAULT", "--endpoint", endpoint,
               "--no-retry", "--output", "json"] + list(args)
        env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True", SUPPRESS_LABEL_WARNING="True")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["data"]

    created = cli(base_url, "vault", "secret", "create-base64", "--compartment-id", COMPARTMENT_ID,
                  "--vault-id", vault.id, "--key-id", aes_key.id, "--secret-name", unique("cli-repl"),
                  "--secret-content-content", b64(b"via cli"), "--replication-config", json.dumps(config))
    assert created["replication-config"]["replication-targets"][0]["target-region"] == PHOENIX
    replica = cli(base_url + "/regions/" + PHOENIX, "vault", "secret", "get", "--secret-id", created["id"])
    assert (replica["is-replica"], replica["vault-id"]) == (True, target_vault.id)
    assert replica["source-region-information"]["source-region"] == HOME
    bundle = cli(base_url + "/regions/" + PHOENIX, "secrets", "secret-bundle", "get", "--secret-id", created["id"])
    assert unb64(bundle["secret-bundle-content"]["content"]) == b"via cli"
