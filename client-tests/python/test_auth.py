"""Request authentication: raw HTTP with `requests` and oci.signer.Signer.

Every failure here must be 401 with the OCI JSON body {"code":"NotAuthenticated","message":...}.
"""
import base64
import hashlib
import json

import oci
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support import (
    COMPARTMENT_ID, assert_oci_error_body, fingerprint_of, http_date, load_profile, raw_request, unique,
)

LIST_VAULTS = ("GET", "/20180608/vaults", {"compartmentId": COMPARTMENT_ID})


def _list_vaults(base_url, **kwargs):
    method, path, query = LIST_VAULTS
    return raw_request(base_url, method, path, query=query, **kwargs)


def _create_vault_body(name):
    return json.dumps({"compartmentId": COMPARTMENT_ID, "displayName": name, "vaultType": "DEFAULT"})


def _vault_names(base_url):
    names = []
    page = None
    while True:
        query = {"compartmentId": COMPARTMENT_ID}
        if page:
            query["page"] = page
        r = raw_request(base_url, "GET", "/20180608/vaults", query=query)
        assert r.status_code == 200, r.text
        names.extend(v["displayName"] for v in r.json())
        page = r.headers.get("opc-next-page")
        if not page:
            return names


def _fresh_key_signer(fingerprint=None):
    """A signer with a brand-new RSA key; by default its own (unknown) fingerprint, admin's identity."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode("ascii")
    cfg = load_profile("DEFAULT")
    return oci.signer.Signer(cfg["tenancy"], cfg["user"], fingerprint or fingerprint_of(key), None,
                             private_key_content=pem)


def test_signed_request_is_accepted(base_url):
    r = _list_vaults(base_url)
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list)
    assert r.headers.get("opc-request-id")


def test_unsigned_request_is_401(base_url):
    r = _list_vaults(base_url, signer=None)
    assert_oci_error_body(r, 401, "NotAuthenticated")


def test_unsigned_post_is_401(base_url):
    name = unique("unsigned")
    r = raw_request(base_url, "POST", "/20180608/vaults", body=_create_vault_body(name), signer=None)
    assert_oci_error_body(r, 401, "NotAuthenticated")
    assert name not in _vault_names(base_url)


def test_unknown_fingerprint_is_401(base_url):
    r = _list_vaults(base_url, signer=_fresh_key_signer())
    assert_oci_error_body(r, 401, "NotAuthenticated")


def test_known_fingerprint_wrong_private_key_is_401(base_url):
    cfg = load_profile("DEFAULT")
    r = _list_vaults(base_url, signer=_fresh_key_signer(fingerprint=cfg["fingerprint"]))
    assert_oci_error_body(r, 401, "NotAuthenticated")


def test_unknown_user_is_401(base_url):
    cfg = load_profile("DEFAULT")
    signer = oci.signer.Signer(cfg["tenancy"], "ocid1.user.oc1..aaaaaaaanosuchuser", cfg["fingerprint"],
                               cfg["key_file"])
    assert_oci_error_body(_list_vaults(base_url, signer=signer), 401, "NotAuthenticated")


def test_body_tampered_after_signing_is_401(base_url):
    name = unique("tamper")
    evil = name[:-1] + ("x" if name[-1] != "x" else "y")

    def tamper(prepared):
        # Same length, so content-length still matches; only x-content-sha256 is now wrong.
        prepared.body = prepared.body.replace(name.encode(), evil.encode())
        assert len(prepared.body) == int(prepared.headers["content-length"])

    r = raw_request(base_url, "POST", "/20180608/vaults", body=_create_vault_body(name), after_sign=tamper)
    assert_oci_error_body(r, 401, "NotAuthenticated")
    names = _vault_names(base_url)
    assert evil not in names and name not in names


def test_body_and_hash_replaced_after_signing_is_401(base_url):
    """Recomputing x-content-sha256 does not help: that header is covered by the signature."""
    name = unique("rehash")
    evil = name[:-1] + ("x" if name[-1] != "x" else "y")

    def tamper(prepared):
        prepared.body = prepared.body.replace(name.encode(), evil.encode())
        prepared.headers["x-content-sha256"] = base64.b64encode(hashlib.sha256(prepared.body).digest()).decode()

    r = raw_request(base_url, "POST", "/20180608/vaults", body=_create_vault_body(name), after_sign=tamper)
    assert_oci_error_body(r, 401, "NotAuthenticated")
    assert evil not in _vault_names(base_url)


def test_query_changed_after_signing_is_401(base_url):
    def retarget(prepared):
        prepared.url = prepared.url + "&limit=1"

    r = _list_vaults(base_url, after_sign=retarget)
    assert_oci_error_body(r, 401, "NotAuthenticated")


@pytest.mark.parametrize("offset", [-600, 600], ids=["10-min-old", "10-min-ahead"])
def test_skewed_date_is_401(base_url, offset):
    r = _list_vaults(base_url, date=http_date(offset))
    assert_oci_error_body(r, 401, "NotAuthenticated")


def test_slightly_old_date_is_accepted(base_url):
    r = _list_vaults(base_url, date=http_date(-60))
    assert r.status_code == 200, r.text


def test_garbage_authorization_header_is_401(base_url):
    r = _list_vaults(base_url, signer=None, headers={"authorization": "Signature nonsense",
                                                     "date": http_date()})
    assert_oci_error_body(r, 401, "NotAuthenticated")


def test_developer_profile_authenticates(base_url):
    r = _list_vaults(base_url, signer="DEVELOPER")
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list)


def test_developer_profile_with_sdk(base_url, vault, aes_key, secret):
    """DEVELOPER may read secret-family in apps: the SDK with that profile reads a bundle."""
    s, content = secret(vault, aes_key)
    cfg = load_profile("DEVELOPER")
    client = oci.secrets.SecretsClient(cfg, service_endpoint=base_url, retry_strategy=oci.retry.NoneRetryStrategy())
    bundle = client.get_secret_bundle(s.id).data
    assert base64.b64decode(bundle.secret_bundle_content.content) == content


def test_health_needs_no_signature(base_url):
    r = requests.get(base_url + "/_emulator/health", timeout=10)
    assert r.status_code == 200
    assert r.headers.get("content-type", "").startswith("application/json")
    body = r.json()
    for field in ("status", "version", "region", "store"):
        assert field in body, body
    assert body["status"]
    assert isinstance(body["region"], str) and body["region"]
