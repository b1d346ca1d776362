"""`oci vault secret …` as the pinned CLI sends it (issue 14, "What the CLI sends").

`update-base64` always sends `"secretContent": {"contentType": "BASE64"}`, with no `content`
unless `--secret-content-content` is given; these tests run the CLI itself so that exact body
reaches the emulator.
"""
import json
import os
import subprocess

import oci
import pytest

from support import CONFIG_FILE, b64, stages_by_version, unb64
from test_cli import OCI_CLI


@pytest.fixture(scope="module")
def run_cli(base_url):
    """run_cli(*args) -> (exit code, parsed stdout or None, parsed service error or None)."""
    def run(*args):
        cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--profile", "DEFAULT",
               "--endpoint", base_url, "--no-retry", "--output", "json"] + list(args)
        env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True",
                   SUPPRESS_LABEL_WARNING="True")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        out = json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None
        err = None
        if proc.returncode != 0:
            start = proc.stderr.find("{")
            assert start >= 0, proc.stderr
            err = json.loads(proc.stderr[start:proc.stderr.rindex("}") + 1])
        return proc.returncode, out, err
    return run


def ok(result):
    code, out, err = result
    assert code == 0, err
    return out["data"]


def two_versions(vaults_client, secret, vault, aes_key):
    s, first = secret(vault, aes_key, content=b"first")
    vaults_client.update_secret(s.id, oci.vault.models.UpdateSecretDetails(
        secret_content=oci.vault.models.Base64SecretContentDetails(
            content_type="BASE64", content=b64(b"second"))))
    return s


def test_update_base64_current_version_number_rolls_back(run_cli, vaults_client, secrets_client,
                                                         secret, vault, aes_key):
    s = two_versions(vaults_client, secret, vault, aes_key)
    data = ok(run_cli("vault", "secret", "update-base64", "--secret-id", s.id,
                      "--current-version-number", "1", "--force"))
    assert data["current-version-number"] == 1
    versions = vaults_client.list_secret_versions(s.id).data
    assert stages_by_version(versions) == {1: {"CURRENT"}, 2: {"LATEST", "PREVIOUS"}}
    bundle = secrets_client.get_secret_bundle(s.id).data
    assert (bundle.version_number, unb64(bundle.secret_bundle_content.content)) == (1, b"first")


def test_update_base64_description_only_changes_metadata(run_cli, vaults_client, secret, vault, aes_key):
    s, _ = secret(vault, aes_key, content=b"only")
    data = ok(run_cli("vault", "secret", "update-base64", "--secret-id", s.id,
                      "--description", "rotated nightly", "--force"))
    assert (data["description"], data["current-version-number"]) == ("rotated nightly", 1)
    assert stages_by_version(vaults_client.list_secret_versions(s.id).data) == {1: {"CURRENT", "LATEST"}}


def test_update_base64_stage_current_without_content_is_no_new_version(run_cli, vaults_client, secret,
                                                                        vault, aes_key):
    s = two_versions(vaults_client, secret, vault, aes_key)
    data = ok(run_cli("vault", "secret", "update-base64", "--secret-id", s.id,
                      "--secret-content-stage", "CURRENT", "--current-version-number", "1", "--force"))
    assert data["current-version-number"] == 1
    data = ok(run_cli("vault", "secret", "update-base64", "--secret-id", s.id,
                      "--secret-content-stage", "CURRENT", "--description", "d", "--force"))
    assert (data["current-version-number"], data["description"]) == (1, "d")
    assert sorted(stages_by_version(vaults_client.list_secret_versions(s.id).data)) == [1, 2]


def test_update_base64_stage_pending_with_content_stages_a_version(run_cli, vaults_client, secrets_client,
                                                                    secret, vault, aes_key):
    s, _ = secret(vault, aes_key, content=b"live")
    data = ok(run_cli("vault", "secret", "update-base64", "--secret-id", s.id,
                      "--secret-content-content", b64(b"staged"), "--secret-content-stage", "PENDING",
                      "--force"))
    assert data["current-version-number"] == 1
    assert stages_by_version(vaults_client.list_secret_versions(s.id).data) == {
        1: {"CURRENT"}, 2: {"PENDING", "LATEST"}}
    pending = secrets_client.get_secret_bundle(s.id, stage="PENDING").data
    assert unb64(pending.secret_bundle_content.content) == b"staged"


def test_update_base64_stage_pending_without_content_is_refused(run_cli, vaults_client, secret, vault, aes_key):
    s, _ = secret(vault, aes_key)
    code, _, err = run_cli("vault", "secret", "update-base64", "--secret-id", s.id,
                           "--secret-content-stage", "PENDING", "--force")
    assert (code, err["status"], err["code"]) == (1, 400, "InvalidParameter")
    assert stages_by_version(vaults_client.list_secret_versions(s.id).data) == {1: {"CURRENT", "LATEST"}}


@pytest.mark.parametrize("args", [
    ["--current-version-number", "1"],
    ["--current-version-number", "99"],
    ["--description", "x"],
    ["--secret-content-content", "not base64!"],
    ["--secret-content-stage", "PENDING"],
])
def test_update_base64_if_match_mismatch_is_412_whatever_the_body(run_cli, vaults_client, secret,
                                                                   vault, aes_key, args):
    s, _ = secret(vault, aes_key)
    code, _, err = run_cli("vault", "secret", "update-base64", "--secret-id", s.id,
                           "--if-match", "stale-etag", "--force", *args)
    assert (code, err["status"], err["code"]) == (1, 412, "NoEtagMatch")
    after = vaults_client.get_secret(s.id)
    assert (after.data.current_version_number, after.data.description) == (1, None)
    assert stages_by_version(vaults_client.list_secret_versions(s.id).data) == {1: {"CURRENT", "LATEST"}}


def test_update_base64_with_the_current_etag_succeeds(run_cli, vaults_client, secret, vault, aes_key):
    s, _ = secret(vault, aes_key)
    etag = vaults_client.get_secret(s.id).headers["etag"]
    data = ok(run_cli("vault", "secret", "update-base64", "--secret-id", s.id,
                      "--if-match", etag, "--description", "matched", "--force"))
    assert data["description"] == "matched"


def test_update_base64_secret_rules_alone_then_reuse_is_refused(run_cli, vaults_client, secret, vault, aes_key):
    s, first = secret(vault, aes_key, content=b"first")
    data = ok(run_cli("vault", "secret", "update-base64", "--secret-id", s.id, "--force", "--secret-rules",
                      '[{"ruleType": "SECRET_REUSE_RULE", "isEnforcedOnDeletedSecretVersions": true}]'))
    assert data["secret-rules"] == [{"rule-type": "SECRET_REUSE_RULE",
                                     "is-enforced-on-deleted-secret-versions": True}]
    assert data["current-version-number"] == 1
    code, _, err = run_cli("vault", "secret", "update-base64", "--secret-id", s.id, "--force",
                           "--secret-content-content", b64(b"first"))
    assert (code, err["status"], err["code"]) == (1, 400, "InvalidParameter")
    assert stages_by_version(vaults_client.list_secret_versions(s.id).data) == {1: {"CURRENT", "LATEST"}}
