"""Instance principals, resource principals and session tokens through the SDK's own signers.

The production code paths of OCI auth, unchanged: `InstancePrincipalsSecurityTokenSigner`
(IMDS at OCI_METADATA_BASE_URL, federation at POST /v1/x509), `SecurityTokenSigner` with a
session token, the resource-principal v2.2 signer from its environment, and the `oci` CLI's
`--auth instance_principal` and `--auth security_token`. Dynamic groups of the fixture
tenancy decide, and /_emulator/decisions/{id} says which matched and why one did not.

These tests replace the policies and move the clock, so they run against an emulator of
their own.
"""
import base64
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import oci
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support import COMPARTMENT_ID as APPS, NO_RETRY, b64, expect_service_error, load_profile, unique

TENANCY = "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy0000000000000000000000000000000000001"
SECURITY = "ocid1.compartment.oc1..aaaaaaaaemulatorsecurity00000000000000000000000000000000001"
WEB = "ocid1.instance.oc1.iad.aaaaaaaaemulatorappsweb00000000000000000000000000000000001"
BATCH = "ocid1.instance.oc1.iad.aaaaaaaaemulatorsecuritybatch000000000000000000000000001"
ADMIN = "ocid1.user.oc1..aaaaaaaaemulatoradmin00000000000000000000000000000000000000001"
APPREADER = "ocid1.user.oc1..aaaaaaaaemulatorappreader000000000000000000000000000000000001"
CONTAINER = "ocid1.computecontainerinstance.oc1.iad.aaaaaaaaemulatorcontainer00000000000001"
TIMEOUT = (5, 60)
REPO_ROOT = Path(__file__).resolve().parents[2]
OCI_CLI = Path(__file__).resolve().parent / ".venv" / "bin" / "oci"
if not OCI_CLI.exists():
    OCI_CLI = Path(sys.executable).parent / "oci"


@pytest.fixture(scope="module")
def emu(start_extra_emulator):
    return start_extra_emulator()


@pytest.fixture(scope="module")
def url(emu):
    return emu.base_url


def put_policies(url, *policies):
    body = [{"name": "test-{}".format(i), "compartmentId": c, "statements": s}
            for i, (c, s) in enumerate(policies)]
    r = requests.put(url + "/_emulator/iam/policies", json=body, timeout=10)
    assert r.status_code == 200, r.text


@pytest.fixture(autouse=True)
def no_policies(url):
    put_policies(url)
    yield


@pytest.fixture(scope="module")
def secret_in(url):
    """secret_in(compartment) -> a new secret there, made by the administrator."""
    cfg = load_profile("DEFAULT")
    kw = dict(service_endpoint=url, retry_strategy=NO_RETRY, timeout=TIMEOUT)
    kms = oci.key_management.KmsVaultClient(cfg, **kw)
    vaults = oci.vault.VaultsClient(cfg, **kw)
    made = {}

    def make(compartment):
        if compartment not in made:
            vault = kms.create_vault(oci.key_management.models.CreateVaultDetails(
                compartment_id=compartment, display_name=unique("p-vault"), vault_type="DEFAULT")).data
            mgmt = oci.key_management.KmsManagementClient(
                cfg, service_endpoint=vault.management_endpoint, retry_strategy=NO_RETRY, timeout=TIMEOUT)
            key = mgmt.create_key(oci.key_management.models.CreateKeyDetails(
                compartment_id=compartment, display_name=unique("p-key"),
                key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
            made[compartment] = (vault, key)
        vault, key = made[compartment]
        return vaults.create_secret(oci.vault.models.CreateSecretDetails(
            compartment_id=compartment, vault_id=vault.id, key_id=key.id, secret_name=unique("p-secret"),
            secret_content=oci.vault.models.Base64SecretContentDetails(
                content_type="BASE64", content=b64(b"principal content")))).data
    return make


def imds_base(url, instance):
    return "{}/_emulator/imds/{}/opc/v2".format(url, instance)


def instance_signer(url, instance, monkeypatch):
    monkeypatch.setenv("OCI_METADATA_BASE_URL", imds_base(url, instance))
    return oci.auth.signers.InstancePrincipalsSecurityTokenSigner(federation_endpoint=url + "/v1/x509")


def secrets_client(url, signer):
    return oci.secrets.SecretsClient({}, signer=signer, service_endpoint=url, retry_strategy=NO_RETRY,
                                     timeout=TIMEOUT)


def decision(url, request_id):
    r = requests.get("{}/_emulator/decisions/{}".format(url, request_id), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def advance(url, seconds):
    r = requests.post(url + "/_emulator/time", json={"advanceSeconds": seconds}, timeout=30)
    assert r.status_code == 200, r.text


def session_token(url, user, ttl=3600):
    r = requests.post(url + "/_emulator/tokens/session", json={"userId": user, "ttlSeconds": ttl}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def rp_token(url, compartment=APPS, resource_type="computecontainerinstance", resource_id=CONTAINER, ttl=3600):
    r = requests.post(url + "/_emulator/tokens/resource-principal", json={
        "resourceType": resource_type, "resourceId": resource_id, "compartmentId": compartment,
        "ttlSeconds": ttl}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def jwt_claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# --- Instance principals -------------------------------------------------------------------


def test_imds_serves_region_and_identity_only_with_the_bearer_header(url):
    base = imds_base(url, WEB)
    r = requests.get(base + "/instance/region", timeout=10)
    assert r.status_code == 401
    assert r.json()["code"] == "NotAuthenticated"
    hdr = {"Authorization": "Bearer Oracle"}
    r = requests.get(base + "/instance/region", headers=hdr, timeout=10)
    assert (r.status_code, r.text) == (200, "us-ashburn-1")
    cert = requests.get(base + "/identity/cert.pem", headers=hdr, timeout=10).text
    assert cert.startswith("-----BEGIN CERTIFICATE-----")
    from cryptography import x509
    with warnings.catch_warnings():  # a CN longer than 64 characters, as OCI's (the SDK does the same)
        warnings.simplefilter("ignore", UserWarning)
        leaf = x509.load_pem_x509_certificate(cert.encode())
        subject = leaf.subject
    # OCI's leaf subject: CN=<instance>, then OU=opc-certtype/-instance/-compartment/-tenant.
    from cryptography.x509.oid import NameOID
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [WEB]
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)] == [
        "opc-certtype:instance", "opc-instance:" + WEB, "opc-compartment:" + APPS, "opc-tenant:" + TENANCY]
    assert len(subject.rdns) == 5
    # The SDK's own reading of the tenancy from the leaf (oci/auth/auth_utils.py).
    from oci.auth import auth_utils
    assert auth_utils.get_tenancy_id_from_certificate(leaf) == TENANCY
    assert requests.get(base + "/identity/key.pem", headers=hdr, timeout=10).text.startswith(
        "-----BEGIN PRIVATE KEY-----")
    assert requests.get(base + "/identity/intermediate.pem", headers=hdr, timeout=10).text.startswith(
        "-----BEGIN CERTIFICATE-----")
    r = requests.get(imds_base(url, "ocid1.instance.oc1.iad.nosuchinstance") + "/instance/region",
                     headers=hdr, timeout=10)
    assert (r.status_code, r.json()["code"]) == (404, "NotFound")


def test_an_instance_in_the_dynamic_groups_compartment_reads_and_one_elsewhere_gets_404(
        url, secret_in, monkeypatch):
    """Scenario 1 and 4: dynamic group `instance.compartment.id = apps`, policy on it."""
    put_policies(url, (TENANCY, ["Allow dynamic-group apps-instances to read secret-bundles in compartment apps"]))
    secret = secret_in(APPS)
    web = secrets_client(url, instance_signer(url, WEB, monkeypatch))
    response = web.get_secret_bundle(secret.id)
    assert response.status == 200
    assert base64.b64decode(response.data.secret_bundle_content.content) == b"principal content"
    allowed = decision(url, response.request_id)
    assert allowed["decision"] == "allowed"
    assert allowed["principal"]["type"] == "instance"
    assert allowed["principal"]["id"] == WEB
    assert allowed["principal"]["name"] == "apps-web-1"
    assert allowed["principal"]["compartmentId"] == APPS
    assert allowed["principal"]["dynamicGroups"] == ["apps-instances", "web-tier"]

    batch = secrets_client(url, instance_signer(url, BATCH, monkeypatch))
    err = expect_service_error(404, "NotAuthorizedOrNotFound", batch.get_secret_bundle, secret.id)
    denied = decision(url, err.request_id)
    assert denied["decision"] == "denied"
    assert denied["principal"]["type"] == "instance"
    assert denied["principal"]["id"] == BATCH
    assert denied["principal"]["dynamicGroups"] == []
    why = {m["name"]: m for m in denied["principal"]["dynamicGroupMatches"]}
    assert why["apps-instances"]["matched"] is False
    assert why["apps-instances"]["why"] == (
        "any {{instance.compartment.id = '{}'}} does not hold (instance.compartment.id = '{}')".format(APPS, SECURITY))
    assert why["apps-container-instances"]["matched"] is False

    # The policy removed at run time: the same instance now gets the same 404.
    put_policies(url)
    expect_service_error(404, "NotAuthorizedOrNotFound", web.get_secret_bundle, secret.id)


def test_a_tag_rule_matches_by_defined_tag(url, secret_in, monkeypatch):
    put_policies(url, (TENANCY, ["Allow dynamic-group web-tier to read secret-bundles in compartment apps"]))
    secret = secret_in(APPS)
    web = secrets_client(url, instance_signer(url, WEB, monkeypatch))
    assert web.get_secret_bundle(secret.id).status == 200


def test_instance_tokens_expire_with_virtual_time_and_the_sdk_federates_again(url, secret_in, monkeypatch):
    put_policies(url, (TENANCY, ["Allow dynamic-group apps-instances to read secret-bundles in compartment apps"]))
    secret = secret_in(APPS)
    signer = instance_signer(url, WEB, monkeypatch)
    first = signer.federation_client.get_security_token()
    claims = jwt_claims(first)
    assert claims["ptype"] == "instance"
    assert claims["opc-instance"] == WEB
    assert claims["opc-compartment"] == APPS
    assert claims["tenant"] == TENANCY
    assert claims["exp"] - claims["iat"] == 1200
    web = secrets_client(url, signer)
    assert web.get_secret_bundle(secret.id).status == 200
    # Past the token's life and the leaf's: the old token is refused (401), the SDK's
    # refresh-on-401 reads a fresh leaf from IMDS, federates again, and the call succeeds.
    advance(url, 3 * 3600)
    assert web.get_secret_bundle(secret.id).status == 200
    assert signer.federation_client.get_security_token() != first


def test_federation_refuses_a_foreign_leaf_and_a_bad_signature(url):
    hdr = {"Authorization": "Bearer Oracle"}
    cert_pem = requests.get(imds_base(url, WEB) + "/identity/cert.pem", headers=hdr, timeout=10).content
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    from oci.auth import auth_utils
    from oci.auth.federation_client import AuthTokenRequestSigner
    session = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = auth_utils.sanitize_certificate_string(session.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    class Retriever:
        def __init__(self, cert_pem, key):
            self.cert_pem, self.key = cert_pem, key

        def get_private_key(self):
            return self.key

    def federate(cert_pem, key):
        cert = x509.load_pem_x509_certificate(cert_pem)
        fingerprint = ":".join("{:02X}".format(b) for b in cert.fingerprint(hashes.SHA1()))
        signer = AuthTokenRequestSigner(TENANCY, fingerprint, Retriever(cert_pem, key))
        body = {"certificate": auth_utils.sanitize_certificate_string(cert_pem), "publicKey": public}
        return requests.post(url + "/v1/x509", json=body, auth=signer, timeout=30)

    # A self-made certificate with the same subject, signed by another CA: 401.
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    real = x509.load_pem_x509_certificate(cert_pem)
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    warnings.simplefilter("ignore", UserWarning)  # the CN is longer than 64 characters, as OCI's
    forged = (x509.CertificateBuilder().subject_name(real.subject)
              .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PKISVC Identity Intermediate r2")]))
              .public_key(own_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(hours=2))
              .sign(own_key, hashes.SHA256()))
    r = federate(forged.public_bytes(serialization.Encoding.PEM), own_key)
    assert (r.status_code, r.json()["code"]) == (401, "NotAuthenticated")
    # The real leaf, but the request signed by another key: 401.
    r = federate(cert_pem, own_key)
    assert (r.status_code, r.json()["code"]) == (401, "NotAuthenticated")
    # The real leaf and its key: a token bound to the session key.
    leaf_key = serialization.load_pem_private_key(
        requests.get(imds_base(url, WEB) + "/identity/key.pem", headers=hdr, timeout=10).content, None)
    r = federate(cert_pem, leaf_key)
    assert r.status_code == 200, r.text
    assert jwt_claims(r.json()["token"])["sub"] == WEB


def test_cli_reads_a_secret_bundle_with_auth_instance_principal(url, secret_in, tmp_path):
    put_policies(url, (TENANCY, ["Allow dynamic-group apps-instances to read secret-bundles in compartment apps"]))
    secret = secret_in(APPS)
    env = dict(os.environ, OCI_METADATA_BASE_URL=imds_base(url, WEB),
               OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True", SUPPRESS_LABEL_WARNING="True")
    cmd = [str(OCI_CLI), "--config-file", str(tmp_path / "none"), "secrets", "secret-bundle", "get",
           "--secret-id", secret.id, "--auth", "instance_principal",
           "--federation-endpoint", url + "/v1/x509", "--endpoint", url, "--no-retry", "--output", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert data["secret-id"] == secret.id
    assert base64.b64decode(data["secret-bundle-content"]["content"]) == b"principal content"


# --- Session tokens ------------------------------------------------------------------------


def session_signer(issued):
    key = serialization.load_pem_private_key(issued["privatePem"].encode(), None)
    return oci.auth.signers.SecurityTokenSigner(issued["token"], key)


def test_a_session_token_signs_as_its_user(url, secret_in):
    put_policies(url, (TENANCY, ["Allow group AppReaders to read secret-bundles in compartment apps"]))
    secret = secret_in(APPS)
    issued = session_token(url, "app-reader", ttl=600)
    claims = jwt_claims(issued["token"])
    assert (claims["sub"], claims["ptype"], claims["tenant"]) == (APPREADER, "user", TENANCY)
    assert claims["exp"] - claims["iat"] == 600
    client = secrets_client(url, session_signer(issued))
    response = client.get_secret_bundle(secret.id)
    assert response.status == 200
    d = decision(url, response.request_id)
    assert (d["principal"]["type"], d["principal"]["id"], d["principal"]["groups"]) == (
        "user", APPREADER, ["AppReaders"])


def test_expired_tampered_and_mismatched_session_tokens_are_401(url, secret_in):
    """Scenario 3: a token the emulator did not sign, a changed one, a key that does not match."""
    secret = secret_in(APPS)
    issued = session_token(url, "admin", ttl=60)
    other = session_token(url, "admin")
    head, payload, sig = issued["token"].split(".")
    claims = jwt_claims(issued["token"])
    claims["sub"] = APPREADER
    tampered = ".".join([head, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), sig])
    # A token signed by a key the emulator does not know (another "auth service").
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    import jwt as pyjwt
    foreign = pyjwt.encode(jwt_claims(issued["token"]), foreign_key, algorithm="RS256")
    key = serialization.load_pem_private_key(issued["privatePem"].encode(), None)
    for token, signing_key in [
        (tampered, key),
        (foreign, key),
        (issued["token"], serialization.load_pem_private_key(other["privatePem"].encode(), None)),
    ]:
        client = secrets_client(url, oci.auth.signers.SecurityTokenSigner(token, signing_key))
        expect_service_error(401, "NotAuthenticated", client.get_secret_bundle, secret.id)
    client = secrets_client(url, session_signer(issued))
    assert client.get_secret_bundle(secret.id).status == 200
    advance(url, 61)
    expect_service_error(401, "NotAuthenticated", client.get_secret_bundle, secret.id)


def test_a_session_token_refreshes_while_valid(url, secret_in):
    secret = secret_in(APPS)
    issued = session_token(url, "admin", ttl=300)
    signer = session_signer(issued)
    advance(url, 200)
    r = requests.post(url + "/v1/authentication/refresh", json={"currentToken": issued["token"]},
                      auth=signer, timeout=30)
    assert r.status_code == 200, r.text
    fresh = r.json()["token"]
    assert fresh != issued["token"]
    assert jwt_claims(fresh)["jwk"] == jwt_claims(issued["token"])["jwk"]
    advance(url, 150)  # 350 s after the first token, 150 s after the fresh one
    key = serialization.load_pem_private_key(issued["privatePem"].encode(), None)
    assert secrets_client(url, oci.auth.signers.SecurityTokenSigner(fresh, key)).get_secret_bundle(
        secret.id).status == 200
    # The old token has expired: it neither signs nor refreshes.
    r = requests.post(url + "/v1/authentication/refresh", json={"currentToken": issued["token"]},
                      auth=signer, timeout=30)
    assert (r.status_code, r.json()["code"]) == (401, "NotAuthenticated")


def test_session_token_endpoint_refuses_bad_input(url):
    for body, status, code in [
        ({"userId": "nobody", "ttlSeconds": 60}, 400, "InvalidParameter"),
        ({"userId": "admin", "ttlSeconds": 0}, 400, "InvalidParameter"),
        ({"userId": "admin", "ttlSeconds": 86401}, 400, "InvalidParameter"),
        ({"userId": "admin", "extra": 1}, 400, "InvalidParameter"),
    ]:
        r = requests.post(url + "/_emulator/tokens/session", json=body, timeout=10)
        assert (r.status_code, r.json()["code"]) == (status, code), (body, r.text)


def test_cli_with_auth_security_token_uses_the_emulator_binarys_profile(url, emu, secret_in, tmp_path):
    put_policies(url, (TENANCY, ["Allow group AppReaders to read secret-bundles in compartment apps"]))
    secret = secret_in(APPS)
    binary = os.environ.get("OCI_EMULATOR_BIN", "target/release/oci-vault-emulator")
    out = subprocess.run([str(REPO_ROOT / binary), "token", "session", "--user", "app-reader",
                          "--dir", str(tmp_path), "--url", url],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert oct((tmp_path / "key.pem").stat().st_mode & 0o777) == "0o600"
    config = tmp_path / "config"
    config.write_text(out.stdout)
    env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True", SUPPRESS_LABEL_WARNING="True")
    cmd = [str(OCI_CLI), "--config-file", str(config), "--profile", "SESSION", "--auth", "security_token",
           "secrets", "secret-bundle", "get", "--secret-id", secret.id, "--endpoint", url,
           "--no-retry", "--output", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["data"]["secret-id"] == secret.id


# --- Resource principals -------------------------------------------------------------------


def rp_signer(monkeypatch, issued, rpst=None, pem=None):
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_VERSION", issued["version"])
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_RPST", rpst or issued["rpst"])
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", pem or issued["privatePem"])
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_REGION", issued["region"])
    return oci.auth.signers.get_resource_principals_signer()


def test_a_container_instance_reads_through_its_dynamic_group_until_the_policy_goes(url, secret_in, monkeypatch):
    """Scenario 2 (first half) and 4."""
    put_policies(url, (TENANCY, ["Allow dynamic-group apps-container-instances to read secret-bundles in compartment apps"]))
    secret = secret_in(APPS)
    issued = rp_token(url)
    assert (issued["version"], issued["region"]) == ("2.2", "us-ashburn-1")
    signer = rp_signer(monkeypatch, issued)
    assert (signer.tenancy_id, signer.compartment_id) == (TENANCY, APPS)
    client = secrets_client(url, signer)
    response = client.get_secret_bundle(secret.id)
    assert response.status == 200
    d = decision(url, response.request_id)
    assert (d["principal"]["type"], d["principal"]["id"]) == ("computecontainerinstance", CONTAINER)
    assert d["principal"]["compartmentId"] == APPS
    assert d["principal"]["dynamicGroups"] == ["apps-container-instances"]
    why = {m["name"]: (m["matched"], m["why"]) for m in d["principal"]["dynamicGroupMatches"]}
    assert why["apps-container-instances"] == (True, (
        "ALL {{resource.type = 'computecontainerinstance', resource.compartment.id = '{0}'}} holds "
        "(resource.type = 'computecontainerinstance', resource.compartment.id = '{0}')").format(APPS))
    assert why["apps-instances"] == (False, (
        "any {{instance.compartment.id = '{}'}} does not hold (instance.compartment.id absent)").format(APPS))
    put_policies(url)
    err = expect_service_error(404, "NotAuthorizedOrNotFound", client.get_secret_bundle, secret.id)
    assert decision(url, err.request_id)["decision"] == "denied"
    # The same resource type in another compartment matches no dynamic group.
    put_policies(url, (TENANCY, ["Allow dynamic-group apps-container-instances to read secret-bundles in compartment apps"]))
    elsewhere = secrets_client(url, rp_signer(monkeypatch, rp_token(url, compartment=SECURITY)))
    expect_service_error(404, "NotAuthorizedOrNotFound", elsewhere.get_secret_bundle, secret.id)


def test_an_expired_rpst_is_401_and_the_sdk_rereads_its_files_on_401(url, secret_in, monkeypatch, tmp_path):
    """Scenario 2 (second half): RPST and key given as file paths, as a resource's runtime
    provides them; the SDK re-reads both after a 401 and retries once."""
    put_policies(url, (TENANCY, ["Allow dynamic-group apps-container-instances to read secret-bundles in compartment apps"]))
    secret = secret_in(APPS)
    rpst_file, pem_file = tmp_path / "rpst", tmp_path / "key.pem"
    issued = rp_token(url, ttl=120)
    rpst_file.write_text(issued["rpst"])
    pem_file.write_text(issued["privatePem"])
    signer = rp_signer(monkeypatch, issued, rpst=str(rpst_file), pem=str(pem_file))
    client = secrets_client(url, signer)
    assert client.get_secret_bundle(secret.id).status == 200
    advance(url, 121)
    # Expired, and the files still hold the expired token: 401 after the SDK's one retry.
    expect_service_error(401, "NotAuthenticated", client.get_secret_bundle, secret.id)
    # The runtime writes a fresh RPST and key: the SDK's first attempt still signs with
    # the expired one (401), re-reads the files, and the retry succeeds.
    fresh = rp_token(url)
    rpst_file.write_text(fresh["rpst"])
    pem_file.write_text(fresh["privatePem"])
    assert client.get_secret_bundle(secret.id).status == 200


def test_the_binary_prints_a_resource_principal_environment(url, secret_in):
    put_policies(url, (TENANCY, ["Allow dynamic-group apps-container-instances to read secret-bundles in compartment apps"]))
    secret = secret_in(APPS)
    binary = os.environ.get("OCI_EMULATOR_BIN", "target/release/oci-vault-emulator")
    script = "eval \"$({bin} token resource-principal --resource-type computecontainerinstance " \
             "--resource-id {rid} --compartment {c} --ttl-seconds 600 --url {url})\" && " \
             "{py} -c 'import oci,sys; s=oci.auth.signers.get_resource_principals_signer(); " \
             "c=oci.secrets.SecretsClient({{}}, signer=s, service_endpoint=sys.argv[1]); " \
             "print(c.get_secret_bundle(sys.argv[2]).data.secret_id)' {url} {sid}".format(
                 bin=REPO_ROOT / binary, rid=CONTAINER, c=APPS, url=url, py=sys.executable, sid=secret.id)
    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == secret.id


def test_resource_principal_endpoint_refuses_bad_input(url):
    good = {"resourceType": "fnfunc", "resourceId": "ocid1.fnfunc.oc1.iad.aaaa", "compartmentId": APPS,
            "ttlSeconds": 60}
    for change in [{"resourceType": "Fn Func"}, {"resourceId": "ocid1.instance.oc1.iad.aaaa"},
                   {"compartmentId": "ocid1.compartment.oc1..nosuch"}, {"ttlSeconds": -1}, {"extra": True}]:
        r = requests.post(url + "/_emulator/tokens/resource-principal", json=dict(good, **change), timeout=10)
        assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter"), (change, r.text)


def test_simulate_explains_instance_and_resource_principals(url):
    put_policies(url, (TENANCY, ["Allow dynamic-group apps-instances to read secret-bundles in compartment apps"]))
    for principal, decided, matched in [
        ({"instance": "apps-web-1"}, "allowed", True),
        ({"instance": BATCH}, "denied", False),
        ({"resource": {"type": "fnfunc", "id": "ocid1.fnfunc.oc1.iad.aaaa", "compartmentId": APPS}}, "denied", False),
    ]:
        r = requests.post(url + "/_emulator/iam/simulate", json={
            "principal": principal, "operation": "GetSecretBundle",
            "target": {"compartmentId": APPS, "secretName": "any"}}, timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["decision"] == decided, body
        why = {m["name"]: m["matched"] for m in body["principal"]["dynamicGroupMatches"]}
        assert why["apps-instances"] is matched
    r = requests.post(url + "/_emulator/iam/simulate", json={
        "principal": {"resource": {"type": "fnfunc", "id": "ocid1.fnfunc.oc1.iad.aaaa", "compartmentId": APPS}},
        "operation": "GetSecretBundle", "target": {"compartmentId": APPS, "secretName": "any"}}, timeout=10)
    assert r.json()["principal"]["type"] == "fnfunc"
