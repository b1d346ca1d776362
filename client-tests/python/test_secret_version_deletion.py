"""ScheduleSecretVersionDeletion / CancelSecretVersionDeletion through the real SDK and CLI.

Tests that let a deletion time pass use `clocked`, an emulator of their own whose clock they move.
"""
import datetime
import json
import os
import subprocess

import oci
import pytest
import requests

from support import CONFIG_FILE, COMPARTMENT_ID, b64, expect_service_error, stages_by_version, unb64, unique
from test_cli import OCI_CLI

models = oci.vault.models
DAY = datetime.timedelta(days=1)


def content(data):
    return models.Base64SecretContentDetails(content_type="BASE64", content=b64(data))


def three_versions(client, vault, key, rules=None):
    """A secret with v1 DEPRECATED, v2 PREVIOUS, v3 CURRENT+LATEST (contents b"v1".."v3")."""
    s = client.create_secret(models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id, secret_name=unique("verdel"),
        secret_content=content(b"v1"), secret_rules=rules)).data
    for data in (b"v2", b"v3"):
        client.update_secret(s.id, models.UpdateSecretDetails(secret_content=content(data)))
    assert stages_by_version(client.list_secret_versions(s.id).data) == {
        1: {"DEPRECATED"}, 2: {"PREVIOUS"}, 3: {"CURRENT", "LATEST"}}
    return s


def schedule(client, secret_id, number, when=None, **kw):
    return client.schedule_secret_version_deletion(
        secret_id, number, models.ScheduleSecretVersionDeletionDetails(time_of_deletion=when), **kw)


def test_schedule_and_cancel_a_deprecated_version(vaults_client, secrets_client, vault, aes_key):
    s = three_versions(vaults_client, vault, aes_key)
    before = vaults_client.get_secret_version(s.id, 1)
    scheduled = schedule(vaults_client, s.id, 1)
    assert scheduled.status == 200 and scheduled.data is None
    assert scheduled.headers["etag"] not in ("", before.headers["etag"])
    v1 = vaults_client.get_secret_version(s.id, 1)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((v1.data.time_of_deletion - (now + 30 * DAY)).total_seconds()) < 60
    assert v1.headers["etag"] == scheduled.headers["etag"]
    listed = {v.version_number: v.time_of_deletion for v in vaults_client.list_secret_versions(s.id).data}
    assert listed == {1: v1.data.time_of_deletion, 2: None, 3: None}
    bundles = {v.version_number: v.time_of_deletion for v in secrets_client.list_secret_bundle_versions(s.id).data}
    assert bundles == listed
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.get_secret_bundle, s.id, version_number=1)
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.get_secret_bundle, s.id, stage="DEPRECATED")
    expect_service_error(409, "IncorrectState", schedule, vaults_client, s.id, 1)
    expect_service_error(409, "IncorrectState", vaults_client.update_secret, s.id,
                         models.UpdateSecretDetails(current_version_number=1))

    cancelled = vaults_client.cancel_secret_version_deletion(s.id, 1)
    assert cancelled.status == 200 and cancelled.data is None
    assert vaults_client.get_secret_version(s.id, 1).data.time_of_deletion is None
    bundle = secrets_client.get_secret_bundle(s.id, version_number=1).data
    assert unb64(bundle.secret_bundle_content.content) == b"v1"
    expect_service_error(409, "IncorrectState", vaults_client.cancel_secret_version_deletion, s.id, 1)


@pytest.mark.parametrize("number", [2, 3])
def test_only_deprecated_versions_can_be_scheduled(vaults_client, vault, aes_key, number):
    s = three_versions(vaults_client, vault, aes_key)
    expect_service_error(409, "IncorrectState", schedule, vaults_client, s.id, number)
    assert vaults_client.get_secret_version(s.id, number).data.time_of_deletion is None


def test_missing_versions_are_404(vaults_client, vault, aes_key):
    s = three_versions(vaults_client, vault, aes_key)
    expect_service_error(404, "NotAuthorizedOrNotFound", schedule, vaults_client, s.id, 9)
    expect_service_error(404, "NotAuthorizedOrNotFound", vaults_client.cancel_secret_version_deletion, s.id, 9)


@pytest.mark.parametrize("days", [0.5, 30.1, -1])
def test_the_window_is_one_to_thirty_days(vaults_client, vault, aes_key, days):
    s = three_versions(vaults_client, vault, aes_key)
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    expect_service_error(400, "InvalidParameter", schedule, vaults_client, s.id, 1, when)
    assert vaults_client.get_secret_version(s.id, 1).data.time_of_deletion is None


def test_if_match_is_the_versions_etag(vaults_client, vault, aes_key):
    s = three_versions(vaults_client, vault, aes_key)
    expect_service_error(412, "NoEtagMatch", schedule, vaults_client, s.id, 1, if_match="stale")
    etag = vaults_client.get_secret_version(s.id, 1).headers["etag"]
    schedule(vaults_client, s.id, 1, if_match=etag)
    assert vaults_client.get_secret_version(s.id, 1).data.time_of_deletion is not None


def test_the_time_passing_deletes_the_version(clocked):
    vault = clocked.vault()
    key = clocked.key(vault)
    vaults, secrets = clocked.vaults(), clocked.secrets()
    s = three_versions(vaults, vault, key, rules=[models.SecretReuseRule(
        rule_type="SECRET_REUSE_RULE", is_enforced_on_deleted_secret_versions=False)])
    other = three_versions(vaults, vault, key, rules=[models.SecretReuseRule(
        rule_type="SECRET_REUSE_RULE", is_enforced_on_deleted_secret_versions=True)])
    when = clocked.now() + DAY + datetime.timedelta(minutes=5)
    for secret_id in (s.id, other.id):
        schedule(vaults, secret_id, 1, when)
    clocked.advance(days=1, seconds=600)
    expect_service_error(404, "NotAuthorizedOrNotFound", vaults.get_secret_version, s.id, 1)
    assert [v.version_number for v in vaults.list_secret_versions(s.id).data] == [3, 2]
    assert [v.version_number for v in secrets.list_secret_bundle_versions(s.id).data] == [3, 2]
    console = requests.get(clocked.base_url + "/_emulator/inventory/secrets/{}/versions".format(s.id), timeout=10)
    assert [v["versionNumber"] for v in console.json()["items"]] == [2, 3]
    pending = requests.get(clocked.base_url + "/_emulator/inventory/secrets/{}/versions".format(other.id), timeout=10)
    assert [v["timeOfDeletion"] for v in pending.json()["items"]] == [None, None]
    expect_service_error(404, "NotAuthorizedOrNotFound", vaults.cancel_secret_version_deletion, s.id, 1)
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets.get_secret_bundle, s.id, version_number=1)
    # Numbers are never reused; the deleted version's content is free again unless the rule covers deleted ones.
    again = vaults.update_secret(s.id, models.UpdateSecretDetails(secret_content=content(b"v1"))).data
    assert again.current_version_number == 4
    expect_service_error(400, "InvalidParameter", vaults.update_secret, other.id,
                         models.UpdateSecretDetails(secret_content=content(b"v1")))


def test_thirty_versions_in_use_then_limit_exceeded(vaults_client, vault, aes_key):
    s = three_versions(vaults_client, vault, aes_key)
    for i in range(4, 31):
        vaults_client.update_secret(s.id, models.UpdateSecretDetails(secret_content=content(b"v%d" % i)))
    err = expect_service_error(400, "LimitExceeded", vaults_client.update_secret, s.id,
                               models.UpdateSecretDetails(secret_content=content(b"v31")))
    assert "30" in err.message
    assert vaults_client.get_secret(s.id).data.current_version_number == 30
    schedule(vaults_client, s.id, 1)
    assert vaults_client.update_secret(s.id, models.UpdateSecretDetails(
        secret_content=content(b"v31"))).data.current_version_number == 31


def test_thirty_versions_pending_deletion_then_limit_exceeded(vaults_client, vault, aes_key):
    s = three_versions(vaults_client, vault, aes_key)
    n = 3
    pending = 0
    while pending < 30:
        n += 1
        vaults_client.update_secret(s.id, models.UpdateSecretDetails(secret_content=content(b"v%d" % n)))
        schedule(vaults_client, s.id, n - 2)
        pending += 1
    n += 1
    vaults_client.update_secret(s.id, models.UpdateSecretDetails(secret_content=content(b"v%d" % n)))
    expect_service_error(400, "LimitExceeded", schedule, vaults_client, s.id, n - 2)
    assert vaults_client.get_secret_version(s.id, n - 2).data.time_of_deletion is None


def test_cli_secret_version_schedule_and_cancel_deletion(vaults_client, vault, aes_key):
    s = three_versions(vaults_client, vault, aes_key)
    base = vaults_client.base_client.endpoint
    env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True", SUPPRESS_LABEL_WARNING="True")

    def run(*args):
        cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--endpoint", base, "--no-retry", "--output", "json",
               "vault", "secret-version"] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)

    when = (datetime.datetime.now(datetime.timezone.utc) + 7 * DAY).replace(microsecond=0)
    done = run("schedule-deletion", "--secret-id", s.id, "--secret-version-number", "1",
               "--time-of-deletion", when.isoformat())
    assert done.returncode == 0, done.stderr
    assert vaults_client.get_secret_version(s.id, 1).data.time_of_deletion == when
    refused = run("schedule-deletion", "--secret-id", s.id, "--secret-version-number", "3")
    assert refused.returncode != 0
    err = json.loads(refused.stderr[refused.stderr.index("{"):refused.stderr.rindex("}") + 1])
    assert (err["status"], err["code"]) == (409, "IncorrectState")
    done = run("cancel-deletion", "--secret-id", s.id, "--secret-version-number", "1")
    assert done.returncode == 0, done.stderr
    assert vaults_client.get_secret_version(s.id, 1).data.time_of_deletion is None
