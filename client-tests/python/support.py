"""Helpers shared by the client tests (imported by conftest.py and the test files).

Nothing here talks to the server by itself; the fixtures in conftest.py hand out
the base URL and the clients.
"""
import base64
import email.utils
import hashlib
import json
import time
import urllib.parse
import uuid

import oci
import pytest
import requests
from cryptography.hazmat.primitives import serialization

# The "apps" compartment of fixtures/tenancy.json; every resource is made here.
COMPARTMENT_ID = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001"
# Relative to the repository root; conftest.py chdirs there so the relative
# key_file entries of the profiles resolve.
CONFIG_FILE = "fixtures/oci/config"

VAULT_OCID_PREFIX = "ocid1.vault.oc1.iad."
KEY_OCID_PREFIX = "ocid1.key.oc1.iad."
KEY_VERSION_OCID_PREFIX = "ocid1.keyversion.oc1.iad."
SECRET_OCID_PREFIX = "ocid1.vaultsecret.oc1.iad."

NO_RETRY = oci.retry.NoneRetryStrategy()


def unique(prefix):
    """A name no other test (or earlier run against the same server) uses."""
    return "pytest-{}-{}".format(prefix, uuid.uuid4().hex[:12])


def wait_for(condition, what, timeout=10.0, interval=0.02):
    """Polls condition() until it is truthy and returns its value; fails the
    test naming `what` if it is not true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("timed out after {:.0f} s waiting for {}".format(timeout, what))
        time.sleep(interval)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text, validate=True)


def expect_service_error(status, code, func, *args, **kwargs):
    """Call an SDK method, require it to fail with exactly (status, code), return the error."""
    with pytest.raises(oci.exceptions.ServiceError) as info:
        func(*args, **kwargs)
    err = info.value
    assert (err.status, err.code) == (status, code), (
        "expected {} {}, got {} {}: {}".format(status, code, err.status, err.code, err.message))
    assert err.message, "error body has no message"
    assert err.request_id, "error response has no opc-request-id header"
    return err


def load_profile(profile="DEFAULT"):
    return oci.config.from_file(CONFIG_FILE, profile)


def signer_for_profile(profile="DEFAULT"):
    cfg = load_profile(profile)
    return oci.signer.Signer(cfg["tenancy"], cfg["user"], cfg["fingerprint"], cfg["key_file"])


def fingerprint_of(private_key):
    """OCI API-key fingerprint: colon-separated MD5 of the DER SubjectPublicKeyInfo."""
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.md5(der).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def http_date(seconds_from_now=0):
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def raw_request(base_url, method, path, *, query=None, body=None, signer="DEFAULT",
                headers=None, date=None, after_sign=None, timeout=30):
    """Send one HTTP request the way the SDK would, but under the test's control.

    signer: a profile name, an oci.signer.Signer, or None for an unsigned request.
    date:   a fixed value for the signed `date` header (set before signing).
    after_sign: callable(prepared_request) run after signing, to tamper with it.
    body:   bytes, str, or a JSON-able object.
    """
    url = base_url + path
    if query:
        url += "?" + urllib.parse.urlencode(query)
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    hdrs = {"accept": "application/json", "content-type": "application/json"}
    hdrs.update(headers or {})
    prepared = requests.Request(method, url, data=body, headers=hdrs).prepare()
    if method in ("POST", "PUT") and body is None:
        prepared.headers["content-length"] = "0"
    if date is not None:
        prepared.headers["date"] = date
    if signer is not None:
        if isinstance(signer, str):
            signer = signer_for_profile(signer)
        signer(prepared)
    if after_sign is not None:
        after_sign(prepared)
    with requests.Session() as session:
        return session.send(prepared, timeout=timeout)


def assert_oci_error_body(response, status, codes):
    """The response is `status` with an OCI JSON error body whose code is one of `codes`."""
    if isinstance(codes, str):
        codes = (codes,)
    assert response.status_code == status, "expected {}, got {}: {!r}".format(
        status, response.status_code, response.text[:500])
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert body.get("code") in codes, body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert response.headers.get("opc-request-id"), "no opc-request-id on the error response"
    return body


def stages_by_version(versions):
    """{version_number: set(stages)} from SecretVersionSummary / SecretBundleVersionSummary lists."""
    return {v.version_number: set(v.stages or []) for v in versions}


def walk_pages(list_func, *args, max_pages=2000, **kwargs):
    """Follow opc-next-page like the SDK paginator does, but bounded and strict.

    Returns (all items, list of responses). Fails (instead of looping forever, which
    is what oci.pagination does) when a page carries an empty opc-next-page header
    or the pages never end.
    """
    items, responses, page = [], [], None
    for _ in range(max_pages):
        if page is not None:
            kwargs["page"] = page
        resp = list_func(*args, **kwargs)
        responses.append(resp)
        assert isinstance(resp.data, list), "list responses are bare JSON arrays"
        items.extend(resp.data)
        if "opc-next-page" in resp.headers:
            page = resp.headers["opc-next-page"]
            assert page, "empty opc-next-page header: the last page must omit it"
        else:
            return items, responses
    pytest.fail("paging did not end after {} pages".format(max_pages))


def list_all(list_func, *args, **kwargs):
    """All items of a list operation (bounded walk_pages)."""
    return walk_pages(list_func, *args, **kwargs)[0]
