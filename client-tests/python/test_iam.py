"""IAM through the real SDK: the issue's scenarios, decided as OCI decides them.

These tests replace the policies at run time (PUT /_emulator/iam/policies), so
they run against an emulator of their own, never the shared one. The users are
the fixture ones: admin (Administrators: built-in manage-all), app-reader
(group AppReaders) and secrets-admin (group SecretAdmins); each test installs
the statements its scenario needs for those groups.
"""
import os
import types
import uuid

import oci
import pytest
import requests

from support import (
    COMPARTMENT_ID as APPS, NO_RETRY, b64, expect_service_error, load_profile, raw_request, unique,
)

TENANCY = "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy0000000000000000000000000000000000001"
DEV = "ocid1.compartment.oc1..aaaaaaaaemulatorappsdev0000000000000000000000000000000000001"
TEAM = "ocid1.compartment.oc1..aaaaaaaaemulatorappsdevteam000000000000000000000000000000001"
SECURITY = "ocid1.compartment.oc1..aaaaaaaaemulatorsecurity00000000000000000000000000000000001"
TIMEOUT = (5, 60)


@pytest.fixture(scope="module")
def iam_emulator(start_extra_emulator):
    return start_extra_emulator()


@pytest.fixture(scope="module")
def url(iam_emulator):
    return iam_emulator.base_url


def clients(url, profile):
    cfg = load_profile(profile)
    kw = dict(service_endpoint=url, retry_strategy=NO_RETRY, timeout=TIMEOUT)
    return types.SimpleNamespace(
        kms=oci.key_management.KmsVaultClient(cfg, **kw),
        vaults=oci.vault.VaultsClient(cfg, **kw),
        secrets=oci.secrets.SecretsClient(cfg, **kw),
        mgmt=lambda vault: oci.key_management.KmsManagementClient(
            cfg, service_endpoint=vault.management_endpoint, retry_strategy=NO_RETRY, timeout=TIMEOUT),
        crypto=lambda vault: oci.key_management.KmsCryptoClient(
            cfg, service_endpoint=vault.crypto_endpoint, retry_strategy=NO_RETRY, timeout=TIMEOUT),
    )


@pytest.fixture(scope="module")
def admin(url):
    return clients(url, "DEFAULT")


@pytest.fixture(scope="module")
def reader(url):
    return clients(url, "APPREADER")


@pytest.fixture(scope="module")
def secrets_admin(url):
    return clients(url, "SECRETSADMIN")


def put_policies(url, *policies):
    """Replace the policies: each one (compartment_id, [statements])."""
    body = [{"name": "test-{}".format(i), "compartmentId": c, "statements": s}
            for i, (c, s) in enumerate(policies)]
    r = requests.put(url + "/_emulator/iam/policies", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["lint"]


@pytest.fixture(autouse=True)
def no_policies(url):
    """Every test starts from no policies at all (Administrators still have the built-in one)."""
    put_policies(url)
    yield


@pytest.fixture(scope="module")
def vault_in(admin):
    """vault_in(compartment) -> (vault, AES key) made by the administrator, one per compartment."""
    made = {}

    def make(compartment):
        if compartment not in made:
            vault = admin.kms.create_vault(oci.key_management.models.CreateVaultDetails(
                compartment_id=compartment, display_name=unique("iam-vault"), vault_type="DEFAULT")).data
            key = admin.mgmt(vault).create_key(oci.key_management.models.CreateKeyDetails(
                compartment_id=compartment, display_name=unique("iam-key"),
                key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
            made[compartment] = (vault, key)
        return made[compartment]
    return make


def create_secret(client, compartment, vault, key, name=None):
    return client.vaults.create_secret(oci.vault.models.CreateSecretDetails(
        compartment_id=compartment, vault_id=vault.id, key_id=key.id,
        secret_name=name or unique("iam-secret"),
        secret_content=oci.vault.models.Base64SecretContentDetails(
            content_type="BASE64", content=b64(os.urandom(16))))).data


@pytest.fixture
def secret_in(admin, vault_in):
    def make(compartment, name=None):
        vault, key = vault_in(compartment)
        return create_secret(admin, compartment, vault, key, name)
    return make


def decision_of(err_or_response):
    """The explanation behind a response, through its x-oci-emulator-decision header."""
    headers = err_or_response.headers
    link = headers.get("x-oci-emulator-decision")
    assert link, "no x-oci-emulator-decision header on {}".format(dict(headers))
    r = requests.get(link, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


# 1. read secret-bundles in C: bundle in C yes; sibling, GetSecret, ListSecrets no.
def test_read_secret_bundles_reads_only_bundles_in_its_compartment(url, reader, secret_in):
    put_policies(url, (TENANCY, ["Allow group AppReaders to read secret-bundles in compartment apps"]))
    mine, sibling = secret_in(APPS), secret_in(SECURITY)
    assert reader.secrets.get_secret_bundle(mine.id).status == 200
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.secrets.get_secret_bundle, sibling.id)
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.vaults.get_secret, mine.id)
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.vaults.list_secrets, APPS)


# 2. The seed's gotcha: secret-family + use vaults but no key permission.
def test_create_secret_needs_use_keys(url, secrets_admin, vault_in):
    vault, key = vault_in(APPS)
    statements = ["Allow group SecretAdmins to manage secret-family in compartment apps",
                  "Allow group SecretAdmins to use vaults in compartment apps"]
    put_policies(url, (TENANCY, statements))
    err = expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound",
                               create_secret, secrets_admin, APPS, vault, key)
    explanation = decision_of(err)
    denied = [c for c in explanation["checks"] if not c["granted"]]
    assert {c["permission"] for c in denied} == {"KEY_ENCRYPT", "KEY_DECRYPT"}, explanation
    put_policies(url, (TENANCY, statements + ["Allow group SecretAdmins to use keys in compartment apps"]))
    assert create_secret(secrets_admin, APPS, vault, key).lifecycle_state == "ACTIVE"


def test_a_create_refused_in_the_compartment_is_409(url, secrets_admin, vault_in):
    vault, key = vault_in(APPS)
    put_policies(url, (TENANCY, ["Allow group SecretAdmins to use vaults in compartment apps",
                                 "Allow group SecretAdmins to use keys in compartment apps"]))
    expect_service_error(409, "NotAuthorizedOrResourceAlreadyExists",
                         create_secret, secrets_admin, APPS, vault, key)
    expect_service_error(409, "NotAuthorizedOrResourceAlreadyExists", secrets_admin.kms.create_vault,
                         oci.key_management.models.CreateVaultDetails(
                             compartment_id=APPS, display_name=unique("v"), vault_type="DEFAULT"))


def test_crypto_denial_on_the_body_key_is_404(url, secrets_admin, vault_in):
    vault, key = vault_in(APPS)
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_admin.crypto(vault).encrypt,
                         oci.key_management.models.EncryptDataDetails(key_id=key.id, plaintext=b64(b"x")))
    put_policies(url, (TENANCY, ["Allow group SecretAdmins to use keys in compartment apps"]))
    assert secrets_admin.crypto(vault).encrypt(
        oci.key_management.models.EncryptDataDetails(key_id=key.id, plaintext=b64(b"x"))).status == 200


# 3. /db-*/ is a pattern; 'db-*' is a literal, and the explanation says so.
def test_name_patterns_and_quoted_literals(url, reader, secret_in):
    db = secret_in(APPS, "db-" + uuid.uuid4().hex[:8])
    api = secret_in(APPS, "api-" + uuid.uuid4().hex[:8])
    put_policies(url, (TENANCY, [
        "Allow group AppReaders to read secret-bundles in compartment apps where target.secret.name = /db-*/"]))
    assert reader.secrets.get_secret_bundle(db.id).status == 200
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.secrets.get_secret_bundle, api.id)

    lint = put_policies(url, (TENANCY, [
        "Allow group AppReaders to read secret-bundles in compartment apps where target.secret.name = 'db-*'"]))
    assert any("literal" in l["message"] for l in lint), lint
    for s in (db, api):
        err = expect_service_error(404, "NotAuthorizedOrNotFound", reader.secrets.get_secret_bundle, s.id)
    explanation = decision_of(err)
    statement = explanation["checks"][0]["statements"][-1]
    assert not statement["condition"]["ok"], statement
    assert "does not hold" in statement["condition"]["why"], statement
    assert any("literal" in m for m in statement["lint"]), statement


# 4. Inheritance flows down, never up.
def test_policies_apply_in_descendants_not_ancestors(url, reader, secret_in):
    in_team, in_apps = secret_in(TEAM), secret_in(APPS)
    put_policies(url, (APPS, ["Allow group AppReaders to read secret-bundles in compartment dev"]))
    assert reader.secrets.get_secret_bundle(in_team.id).status == 200  # apps:dev:team, grandchild of apps
    put_policies(url, (DEV, ["Allow group AppReaders to read secret-bundles in compartment id {}".format(APPS)]))
    err = expect_service_error(404, "NotAuthorizedOrNotFound", reader.secrets.get_secret_bundle, in_apps.id)
    statement = decision_of(err)["checks"][0]["statements"][-1]
    assert not statement["location"]["ok"], statement


# 5. Missing and forbidden look the same on the wire; the decisions endpoint tells them apart.
def test_missing_and_forbidden_are_indistinguishable_but_explained(url, secret_in):
    forbidden = secret_in(APPS)
    missing_id = forbidden.id[:-8] + "zzzzzzzz"
    a = raw_request(url, "GET", "/20180608/secrets/" + forbidden.id, signer="APPREADER")
    b = raw_request(url, "GET", "/20180608/secrets/" + missing_id, signer="APPREADER")
    assert (a.status_code, b.status_code) == (404, 404)
    assert a.content == b.content, (a.content, b.content)
    assert a.json()["code"] == "NotAuthorizedOrNotFound"
    assert a.headers["opc-request-id"] != b.headers["opc-request-id"]
    assert set(a.headers) == set(b.headers), (a.headers, b.headers)
    assert decision_of(a)["decision"] == "denied"
    assert decision_of(b)["decision"] == "notEvaluated"


# 6. any-user with a request.operation condition; a permission-list verb.
def test_any_user_with_an_operation_condition(url, reader, secret_in, vault_in):
    s = secret_in(APPS)
    vault, _ = vault_in(APPS)
    put_policies(url, (TENANCY, [
        "Allow any-user to read secret-bundles in compartment apps where request.operation = 'GetSecretBundle'"]))
    assert reader.secrets.get_secret_bundle(s.id).status == 200
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.secrets.get_secret_bundle_by_name,
                         s.secret_name, vault.id)


def test_permission_list_verb(url, reader, secret_in):
    s = secret_in(APPS)
    put_policies(url, (TENANCY, ["Allow group AppReaders to {SECRET_BUNDLE_READ} in compartment apps"]))
    assert reader.secrets.get_secret_bundle(s.id).status == 200
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.vaults.get_secret, s.id)
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.secrets.list_secret_bundle_versions, s.id)


def test_a_name_condition_cannot_grant_a_list(url, reader):
    put_policies(url, (TENANCY, [
        "Allow group AppReaders to inspect secrets in compartment apps where target.secret.name = /db-*/"]))
    err = expect_service_error(404, "NotAuthorizedOrNotFound", reader.vaults.list_secrets, APPS)
    statement = decision_of(err)["checks"][0]["statements"][-1]
    assert "not supplied" in statement["condition"]["why"], statement


def test_administrators_keep_everything_without_policies(admin, secret_in):
    s = secret_in(SECURITY)
    assert admin.vaults.get_secret(s.id).status == 200


def test_simulate_answers_without_the_request(url, secret_in):
    s = secret_in(APPS, "app-" + uuid.uuid4().hex[:8])
    put_policies(url, (TENANCY, [
        "Allow group AppReaders to read secret-bundles in compartment apps where target.secret.name = /app-*/"]))
    ask = lambda op: requests.post(url + "/_emulator/iam/simulate", timeout=10, json={
        "principal": {"user": "app-reader"}, "operation": op, "target": {"secretId": s.id}}).json()
    assert ask("GetSecretBundle")["decision"] == "allowed"
    denied = ask("GetSecret")
    assert denied["decision"] == "denied"
    assert denied["response"] == {"status": 404, "code": "NotAuthorizedOrNotFound"}


def test_bad_policies_are_refused_with_the_column(url):
    r = requests.put(url + "/_emulator/iam/policies", timeout=10, json=[
        {"name": "broken", "compartmentId": TENANCY, "statements": ["Allow group X too read secrets in tenancy"]}])
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "InvalidParameter"
    assert "broken" in body["message"] and "column 15" in body["message"], body
    assert requests.get(url + "/_emulator/iam/policies", timeout=10).json() == []


def test_the_fixture_policies_give_the_example_users_their_roles(start_extra_emulator):
    """The tenancy file's own policies (no runtime change): app-reader reads app-* bundles only;
    secrets-admin manages secrets but cannot create one without key access."""
    emu = start_extra_emulator()
    adm, rdr, sa = clients(emu.base_url, "DEFAULT"), clients(emu.base_url, "APPREADER"), clients(emu.base_url, "SECRETSADMIN")
    vault = adm.kms.create_vault(oci.key_management.models.CreateVaultDetails(
        compartment_id=APPS, display_name="v", vault_type="DEFAULT")).data
    key = adm.mgmt(vault).create_key(oci.key_management.models.CreateKeyDetails(
        compartment_id=APPS, display_name="k", key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
    app = create_secret(adm, APPS, vault, key, "app-config")
    other = create_secret(adm, APPS, vault, key, "db-password")
    assert rdr.secrets.get_secret_bundle(app.id).status == 200
    expect_service_error(404, "NotAuthorizedOrNotFound", rdr.secrets.get_secret_bundle, other.id)
    expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", create_secret, sa, APPS, vault, key)
    assert sa.vaults.get_secret(other.id).status == 200


def test_policy_check_cli_answers_offline():
    """`oci-vault-emulator policy check` decides from the tenancy file alone: exit 0 allowed, 1 denied."""
    import subprocess
    from conftest import _emulator_binary
    run = lambda *args: subprocess.run([str(_emulator_binary()), "policy", "check", *args],
                                       capture_output=True, text=True, timeout=30)
    allowed = run("--user", "app-reader", "--operation", "GetSecretBundle", "--compartment", "apps",
                  "--secret-name", "app-config")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    denied = run("--user", "secrets-admin", "--operation", "CreateSecret", "--compartment", "apps",
                 "--vault-id", "ocid1.vault.oc1..v", "--key-id", "ocid1.key.oc1..k", "--secret-name", "x")
    assert denied.returncode == 1, denied.stdout + denied.stderr
    assert "400 \"RelatedResourceNotAuthorizedOrNotFound\"" in denied.stdout or \
        "RelatedResourceNotAuthorizedOrNotFound" in denied.stdout, denied.stdout
    bad = run("--user", "nobody", "--operation", "GetSecret", "--compartment", "apps")
    assert bad.returncode == 2, bad.stdout + bad.stderr


def _vault_in(admin, compartment):
    return admin.kms.create_vault(oci.key_management.models.CreateVaultDetails(
        compartment_id=compartment, display_name=unique("move"), vault_type="DEFAULT")).data


def test_a_move_needs_the_permission_in_both_compartments(url, admin, secrets_admin):
    """VAULT_MOVE where the vault is (else 404, as for a vault one may not see) and where it
    goes (else 400 RelatedResourceNotAuthorizedOrNotFound: the destination is named in the body)."""
    move = lambda vault, to: secrets_admin.kms.change_vault_compartment(
        vault.id, oci.key_management.models.ChangeVaultCompartmentDetails(compartment_id=to))
    vault = _vault_in(admin, APPS)
    put_policies(url, (TENANCY, ["Allow group SecretAdmins to manage vaults in compartment apps"]))
    err = expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", move, vault, SECURITY)
    assert err.message == "Compartment {} was not found or is not authorized.".format(SECURITY)
    check = decision_of(err)["checks"][1]
    assert (check["permission"], check["target"]["compartmentId"]) == ("VAULT_MOVE", SECURITY), check
    assert admin.kms.get_vault(vault.id).data.compartment_id == APPS

    put_policies(url, (TENANCY, ["Allow group SecretAdmins to manage vaults in compartment security"]))
    expect_service_error(404, "NotAuthorizedOrNotFound", move, vault, SECURITY)

    put_policies(url, (TENANCY, ["Allow group SecretAdmins to manage vaults in compartment apps",
                                 "Allow group SecretAdmins to manage vaults in compartment security"]))
    assert move(vault, SECURITY).status == 200
    assert admin.kms.get_vault(vault.id).data.compartment_id == SECURITY


def test_a_key_move_needs_key_move_in_both_compartments(url, admin, secrets_admin):
    vault = _vault_in(admin, APPS)
    key = admin.mgmt(vault).create_key(oci.key_management.models.CreateKeyDetails(
        compartment_id=APPS, display_name=unique("k"),
        key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
    move = lambda to: secrets_admin.mgmt(vault).change_key_compartment(
        key.id, oci.key_management.models.ChangeKeyCompartmentDetails(compartment_id=to))
    put_policies(url, (TENANCY, ["Allow group SecretAdmins to manage keys in compartment apps"]))
    expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", move, SECURITY)
    # Within the compartment the policy covers (apps and below, dev included).
    assert move(DEV).status == 200
    put_policies(url, (TENANCY, ["Allow group SecretAdmins to manage keys in compartment apps",
                                 "Allow group SecretAdmins to manage keys in compartment security"]))
    assert move(SECURITY).status == 200
    assert admin.mgmt(vault).get_key(key.id).data.compartment_id == SECURITY


def test_a_secret_move_needs_secret_move_in_both_compartments(url, admin, secrets_admin, secret_in):
    secret = secret_in(APPS)
    move = lambda to: secrets_admin.vaults.change_secret_compartment(
        secret.id, oci.vault.models.ChangeSecretCompartmentDetails(compartment_id=to))
    put_policies(url, (TENANCY, ["Allow group SecretAdmins to manage secret-family in compartment apps"]))
    err = expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", move, SECURITY)
    checks = decision_of(err)["checks"]
    assert ("SECRET_MOVE", SECURITY) in [(c["permission"], c["target"]["compartmentId"]) for c in checks], checks
    assert admin.vaults.get_secret(secret.id).data.compartment_id == APPS
    put_policies(url, (TENANCY, ["Allow group SecretAdmins to manage secret-family in compartment security"]))
    expect_service_error(404, "NotAuthorizedOrNotFound", move, SECURITY)
    put_policies(url, (TENANCY, ["Allow group SecretAdmins to manage secret-family in compartment apps",
                                 "Allow group SecretAdmins to manage secret-family in compartment security"]))
    assert move(SECURITY).status == 200
    assert admin.vaults.get_secret(secret.id).data.compartment_id == SECURITY


def test_rotate_and_cancel_rotation_need_secret_rotate_which_use_secrets_grants(url, reader, secret_in):
    s = secret_in(APPS)
    put_policies(url, (TENANCY, ["Allow group AppReaders to read secrets in compartment apps"]))
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.vaults.rotate_secret, s.id)
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.vaults.cancel_secret_rotation, s.id)
    put_policies(url, (TENANCY, ["Allow group AppReaders to use secrets in compartment apps"]))
    # Allowed: the call reaches the handler, which refuses a secret without rotationConfig.
    expect_service_error(400, "InvalidParameter", reader.vaults.rotate_secret, s.id)
    expect_service_error(400, "InvalidParameter", reader.vaults.cancel_secret_rotation, s.id)


def test_include_plaintext_key_condition_decides_generate_data_encryption_key(url, reader, vault_in):
    """`request.includePlainTextKey` (Oracle's Vault policy reference) is supplied from the body."""
    vault, key = vault_in(APPS)
    put_policies(url, (TENANCY, [
        "Allow group AppReaders to use keys in compartment apps where request.includePlainTextKey = 'false'"]))
    crypto = reader.crypto(vault)

    def details(include):
        return oci.key_management.models.GenerateKeyDetails(
            key_id=key.id, include_plaintext_key=include,
            key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))
    r = crypto.generate_data_encryption_key(details(False))
    assert r.status == 200
    assert r.data.plaintext is None
    assert r.data.ciphertext
    err = expect_service_error(404, "NotAuthorizedOrNotFound", crypto.generate_data_encryption_key, details(True))
    statements = decision_of(err)["checks"][0]["statements"]
    why = next(s for s in statements if s["policy"] == "test-0")["condition"]
    assert why == {"ok": False, "why": "request.includeplaintextkey = 'false' does not hold "
                                         "(request.includeplaintextkey = 'true')"}


def test_an_identity_domain_prefix_names_that_domains_group_only(url, reader, secret_in):
    """`'Sales'/AppReaders` is not the Default domain's AppReaders (app-reader's group)."""
    secret = secret_in(APPS)
    put_policies(url, (TENANCY, ["Allow group 'Sales'/AppReaders to read secret-bundles in compartment apps"]))
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.secrets.get_secret_bundle, secret.id)
    put_policies(url, (TENANCY, ["Allow group 'Default'/AppReaders to read secret-bundles in compartment apps"]))
    assert reader.secrets.get_secret_bundle(secret.id).status == 200
