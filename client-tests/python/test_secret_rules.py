"""secretRules (SECRET_EXPIRY_RULE, SECRET_REUSE_RULE) through the real SDK and CLI.

Tests that let an expiry pass use `clocked`, an emulator of their own whose clock they move.
"""
import datetime

import oci
import pytest

from support import COMPARTMENT_ID, b64, expect_service_error, stages_by_version, unb64, unique

models = oci.vault.models
DAY = datetime.timedelta(days=1)


def expiry_rule(interval=None, at=None, blocked=None):
    return models.SecretExpiryRule(rule_type="SECRET_EXPIRY_RULE", secret_version_expiry_interval=interval,
                                   time_of_absolute_expiry=at, is_secret_content_retrieval_blocked_on_expiry=blocked)


def reuse_rule(on_deleted=None):
    return models.SecretReuseRule(rule_type="SECRET_REUSE_RULE", is_enforced_on_deleted_secret_versions=on_deleted)


def content(data, **kw):
    return models.Base64SecretContentDetails(content_type="BASE64", content=b64(data), **kw)


def create(client, vault, key, data=b"v1", rules=None, name=None):
    return client.create_secret(models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id, secret_name=name or unique("rules"),
        secret_content=content(data), secret_rules=rules)).data


@pytest.fixture(scope="module")
def clocked_vault(clocked):
    vault = clocked.vault()
    return vault, clocked.key(vault)


def test_blocked_expiry_refuses_the_bundle_once_the_version_expires(clocked, clocked_vault):
    vault, key = clocked_vault
    vaults, secrets = clocked.vaults(), clocked.secrets()
    s = create(vaults, vault, key, rules=[expiry_rule("P1D", blocked=True)])
    expires = s.time_created + DAY
    assert s.time_of_current_version_expiry == expires
    assert [(r.rule_type, r.secret_version_expiry_interval, r.time_of_absolute_expiry,
             r.is_secret_content_retrieval_blocked_on_expiry) for r in s.secret_rules] == [
        ("SECRET_EXPIRY_RULE", "P1D", None, True)]
    assert vaults.get_secret_version(s.id, 1).data.time_of_current_version_expiry == expires
    assert [v.time_of_expiry for v in vaults.list_secret_versions(s.id).data] == [expires]
    assert [v.time_of_expiry for v in secrets.list_secret_bundle_versions(s.id).data] == [expires]
    bundle = secrets.get_secret_bundle(s.id).data
    assert (bundle.time_of_expiry, unb64(bundle.secret_bundle_content.content)) == (expires, b"v1")

    clocked.advance(days=1, seconds=1)
    expect_service_error(409, "Conflict", secrets.get_secret_bundle, s.id)
    expect_service_error(409, "Conflict", secrets.get_secret_bundle_by_name,
                         secret_name=s.secret_name, vault_id=vault.id)
    # Metadata stays readable.
    assert vaults.get_secret(s.id).data.time_of_current_version_expiry == expires

    # New content is a new version with a fresh clock: readable again.
    updated = vaults.update_secret(s.id, models.UpdateSecretDetails(secret_content=content(b"v2"))).data
    now = clocked.now()
    assert abs((updated.time_of_current_version_expiry - (now + DAY)).total_seconds()) < 5
    assert unb64(secrets.get_secret_bundle(s.id).data.secret_bundle_content.content) == b"v2"
    expect_service_error(409, "Conflict", secrets.get_secret_bundle, s.id, version_number=1)


def test_unblocked_expired_version_still_reads(clocked, clocked_vault):
    vault, key = clocked_vault
    vaults, secrets = clocked.vaults(), clocked.secrets()
    s = create(vaults, vault, key, data=b"kept", rules=[expiry_rule("P2D")])
    assert s.secret_rules[0].is_secret_content_retrieval_blocked_on_expiry is False
    clocked.advance(days=3)
    bundle = secrets.get_secret_bundle(s.id).data
    assert (unb64(bundle.secret_bundle_content.content), bundle.time_of_expiry) == (b"kept", s.time_created + 2 * DAY)
    assert bundle.time_of_expiry < clocked.now()


def test_absolute_expiry_caps_the_interval_and_rules_alone_update_the_rules(clocked, clocked_vault):
    vault, key = clocked_vault
    vaults, secrets = clocked.vaults(), clocked.secrets()
    now = clocked.now().replace(microsecond=0)
    at = now + 2 * DAY
    s = create(vaults, vault, key, rules=[expiry_rule("P30D", at=at, blocked=True)])
    assert (s.time_of_current_version_expiry, s.secret_rules[0].time_of_absolute_expiry) == (at, at)
    clocked.advance(days=2, seconds=1)
    expect_service_error(409, "Conflict", secrets.get_secret_bundle, s.id)

    # Rules alone: no new version, the rules are replaced, and the bundle reads again.
    updated = vaults.update_secret(s.id, models.UpdateSecretDetails(
        secret_rules=[expiry_rule("P5D", blocked=False), reuse_rule(True)])).data
    assert updated.current_version_number == 1
    assert [(r.rule_type) for r in updated.secret_rules] == ["SECRET_EXPIRY_RULE", "SECRET_REUSE_RULE"]
    assert updated.secret_rules[1].is_enforced_on_deleted_secret_versions is True
    assert stages_by_version(vaults.list_secret_versions(s.id).data) == {1: {"CURRENT", "LATEST"}}
    assert unb64(secrets.get_secret_bundle(s.id).data.secret_bundle_content.content) == b"v1"

    # An empty list clears them.
    cleared = vaults.update_secret(s.id, models.UpdateSecretDetails(secret_rules=[])).data
    assert (cleared.secret_rules, cleared.time_of_current_version_expiry) == ([], None)


@pytest.mark.parametrize("rules", [
    [expiry_rule("P0D")],
    [expiry_rule("P91D")],
    [expiry_rule("PT24H")],
    [expiry_rule("P1W")],
    [expiry_rule()],
    [expiry_rule("P1D"), expiry_rule("P2D")],
    [reuse_rule(), reuse_rule(True)],
])
def test_invalid_rules_are_refused_and_nothing_is_created(vaults_client, vault, aes_key, rules):
    name = unique("badrule")
    expect_service_error(400, "InvalidParameter", create, vaults_client, vault, aes_key, rules=rules, name=name)
    assert vaults_client.list_secrets(COMPARTMENT_ID, name=name).data == []


@pytest.mark.parametrize("days", [0.5, 366])
def test_absolute_expiry_must_be_one_to_365_days_ahead(vaults_client, vault, aes_key, days):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    name = unique("badrule")
    expect_service_error(400, "InvalidParameter", create, vaults_client, vault, aes_key,
                         rules=[expiry_rule(at=at)], name=name)
    assert vaults_client.list_secrets(COMPARTMENT_ID, name=name).data == []


def test_reuse_rule_refuses_earlier_content_and_changes_nothing(vaults_client, secrets_client, vault, aes_key):
    s = create(vaults_client, vault, aes_key, data=b"alpha", rules=[reuse_rule()])
    vaults_client.update_secret(s.id, models.UpdateSecretDetails(secret_content=content(b"beta")))
    before = vaults_client.get_secret(s.id)
    for reused in (b"alpha", b"beta"):
        expect_service_error(400, "InvalidParameter", vaults_client.update_secret, s.id,
                             models.UpdateSecretDetails(secret_content=content(reused)))
    after = vaults_client.get_secret(s.id)
    assert (after.headers["etag"], after.data.current_version_number) == (before.headers["etag"], 2)
    assert stages_by_version(vaults_client.list_secret_versions(s.id).data) == {
        1: {"PREVIOUS"}, 2: {"CURRENT", "LATEST"}}
    fresh = vaults_client.update_secret(s.id, models.UpdateSecretDetails(secret_content=content(b"gamma"))).data
    assert fresh.current_version_number == 3
    assert unb64(secrets_client.get_secret_bundle(s.id).data.secret_bundle_content.content) == b"gamma"


def test_without_a_reuse_rule_content_may_repeat(vaults_client, vault, aes_key):
    s = create(vaults_client, vault, aes_key, data=b"same")
    again = vaults_client.update_secret(s.id, models.UpdateSecretDetails(secret_content=content(b"same"))).data
    assert again.current_version_number == 2


@pytest.mark.parametrize("details", [
    dict(secret_rules=[reuse_rule()], secret_content=content(b"x")),
    dict(secret_rules=[reuse_rule()], current_version_number=1),
    dict(secret_content=content(b"x"), current_version_number=1),
])
def test_rules_content_and_current_version_are_exclusive(vaults_client, vault, aes_key, details):
    s = create(vaults_client, vault, aes_key)
    expect_service_error(400, "InvalidParameter", vaults_client.update_secret, s.id,
                         models.UpdateSecretDetails(**details))
    after = vaults_client.get_secret(s.id).data
    assert (after.secret_rules, after.current_version_number) == ([], 1)
