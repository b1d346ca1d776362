"""Secret retrieval through oci.secrets.SecretsClient (/20190301/secretbundles...)."""
import os
import uuid

import oci
import pytest

from support import (
    SECRET_OCID_PREFIX, b64, expect_service_error, raw_request, stages_by_version, unb64, unique,
    walk_pages,
)

vm = oci.vault.models


@pytest.fixture
def three_versions(vaults_client, vault, aes_key, secret):
    """A secret with v1 PREVIOUS ("v-one"), v2 CURRENT ("v-two"), v3 PENDING+LATEST ("v-three").

    Contents are random binary bytes (not UTF-8) so exactness is checked byte for byte.
    """
    contents = {n: os.urandom(32) + bytes([n, 0, 255]) for n in (1, 2, 3)}
    s, _ = secret(vault, aes_key, content=contents[1], version_name="v-one")
    vaults_client.update_secret(s.id, vm.UpdateSecretDetails(secret_content=vm.Base64SecretContentDetails(
        content_type="BASE64", content=b64(contents[2]), name="v-two")))
    vaults_client.update_secret(s.id, vm.UpdateSecretDetails(secret_content=vm.Base64SecretContentDetails(
        content_type="BASE64", content=b64(contents[3]), name="v-three", stage="PENDING")))
    return s, contents


def _check(bundle, secret_id, number, content, name=None):
    assert bundle.secret_id == secret_id
    assert bundle.version_number == number
    assert bundle.secret_bundle_content.content_type == "BASE64"
    assert isinstance(bundle.secret_bundle_content, oci.secrets.models.Base64SecretBundleContentDetails)
    assert unb64(bundle.secret_bundle_content.content) == content
    if name is not None:
        assert bundle.version_name == name


def test_bundle_default_is_current(secrets_client, vault, aes_key, secret):
    s, content = secret(vault, aes_key, content=b"\x00\x01binary\xff\xfe")
    resp = secrets_client.get_secret_bundle(s.id)
    assert resp.headers.get("etag")
    assert resp.headers.get("opc-request-id")
    _check(resp.data, s.id, 1, content)
    assert set(resp.data.stages) == {"CURRENT", "LATEST"}
    assert resp.data.time_created is not None


def test_bundle_text_content_round_trip(secrets_client, vault, aes_key, secret):
    text = "pässwörd-€-{}".format(uuid.uuid4()).encode("utf-8")
    s, _ = secret(vault, aes_key, content=text)
    _check(secrets_client.get_secret_bundle(s.id).data, s.id, 1, text)


def test_bundle_selectors(secrets_client, three_versions):
    s, c = three_versions
    _check(secrets_client.get_secret_bundle(s.id).data, s.id, 2, c[2], "v-two")
    for n in (1, 2, 3):
        _check(secrets_client.get_secret_bundle(s.id, version_number=n).data, s.id, n, c[n])
    for n, name in ((1, "v-one"), (2, "v-two"), (3, "v-three")):
        _check(secrets_client.get_secret_bundle(s.id, secret_version_name=name).data, s.id, n, c[n], name)


@pytest.mark.parametrize("stage,number", [("CURRENT", 2), ("PREVIOUS", 1), ("LATEST", 3), ("PENDING", 3)])
def test_bundle_by_stage(secrets_client, three_versions, stage, number):
    s, c = three_versions
    bundle = secrets_client.get_secret_bundle(s.id, stage=stage).data
    _check(bundle, s.id, number, c[number])
    assert stage in bundle.stages


def test_bundle_stages_reported(secrets_client, three_versions):
    s, _ = three_versions
    assert set(secrets_client.get_secret_bundle(s.id, version_number=1).data.stages) == {"PREVIOUS"}
    assert set(secrets_client.get_secret_bundle(s.id, version_number=2).data.stages) == {"CURRENT"}
    assert set(secrets_client.get_secret_bundle(s.id, version_number=3).data.stages) == {"PENDING", "LATEST"}


def test_bundle_by_name(secrets_client, vault, aes_key, secret, three_versions):
    s, c = three_versions
    resp = secrets_client.get_secret_bundle_by_name(s.secret_name, vault.id)
    assert resp.headers.get("opc-request-id")
    _check(resp.data, s.id, 2, c[2], "v-two")
    _check(secrets_client.get_secret_bundle_by_name(s.secret_name, vault.id, version_number=1).data,
           s.id, 1, c[1])
    _check(secrets_client.get_secret_bundle_by_name(s.secret_name, vault.id, stage="PENDING").data,
           s.id, 3, c[3])
    _check(secrets_client.get_secret_bundle_by_name(s.secret_name, vault.id, secret_version_name="v-one").data,
           s.id, 1, c[1])


def test_bundle_by_name_is_scoped_to_vault(secrets_client, make_vault, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    other = make_vault()
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.get_secret_bundle_by_name,
                         s.secret_name, other.id)
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.get_secret_bundle_by_name,
                         unique("no-such-secret"), vault.id)


def test_bundle_by_name_is_bodyless_post(base_url, vault, aes_key, secret):
    s, content = secret(vault, aes_key)
    r = raw_request(base_url, "POST", "/20190301/secretbundles/actions/getByName",
                    query={"secretName": s.secret_name, "vaultId": vault.id})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["secretId"] == s.id
    assert body["versionNumber"] == 1
    assert body["secretBundleContent"] == {"contentType": "BASE64", "content": b64(content)}


def test_list_secret_bundle_versions(secrets_client, base_url, three_versions):
    s, _ = three_versions
    versions = secrets_client.list_secret_bundle_versions(s.id).data
    assert isinstance(versions, list)
    assert stages_by_version(versions) == {1: {"PREVIOUS"}, 2: {"CURRENT"}, 3: {"PENDING", "LATEST"}}
    names = {v.version_number: v.version_name for v in versions}
    assert names == {1: "v-one", 2: "v-two", 3: "v-three"}
    assert all(v.secret_id == s.id for v in versions)

    raw = raw_request(base_url, "GET", "/20190301/secretbundles/{}/versions".format(s.id))
    assert raw.status_code == 200
    items = raw.json()
    assert isinstance(items, list) and len(items) == 3
    for item in items:
        assert "secretBundleContent" not in item, "bundle version listing must not carry content"
        assert "content" not in item


def test_list_secret_bundle_versions_paging(secrets_client, three_versions):
    s, _ = three_versions
    first = secrets_client.list_secret_bundle_versions(s.id, limit=1)
    assert len(first.data) == 1 and first.has_next_page
    items, responses = walk_pages(secrets_client.list_secret_bundle_versions, s.id, limit=1)
    assert len(responses) == 3
    assert sorted(v.version_number for v in items) == [1, 2, 3]


def test_unknown_version_number_is_404(secrets_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.get_secret_bundle, s.id,
                         version_number=99)
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.get_secret_bundle, s.id,
                         secret_version_name="no-such-version")
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.get_secret_bundle, s.id,
                         stage="PENDING")


@pytest.mark.parametrize("number, status, code", [
    (2**63 - 1, 404, "NotAuthorizedOrNotFound"),  # the largest int64: no such version
    (2**63, 400, "InvalidParameter"),  # beyond OCI's int64 versionNumber
    (2**64, 400, "InvalidParameter"),
    (-1, 400, "InvalidParameter"),
    ("two", 400, "InvalidParameter"),
])
def test_version_number_must_be_a_non_negative_int64(base_url, vault, aes_key, secret, number, status, code):
    s, _ = secret(vault, aes_key)
    r = raw_request(base_url, "GET", "/20190301/secretbundles/{}".format(s.id),
                    query={"versionNumber": str(number)})
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


def test_unknown_secret_bundle_is_404(secrets_client):
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.get_secret_bundle,
                         SECRET_OCID_PREFIX + "doesnotexist" + uuid.uuid4().hex)
    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.list_secret_bundle_versions,
                         SECRET_OCID_PREFIX + "doesnotexist" + uuid.uuid4().hex)


def test_bundle_follows_rotation(vaults_client, secrets_client, vault, aes_key, secret):
    s, v1 = secret(vault, aes_key)
    first = secrets_client.get_secret_bundle(s.id)
    vaults_client.update_secret(s.id, vm.UpdateSecretDetails(secret_content=vm.Base64SecretContentDetails(
        content_type="BASE64", content=b64(b"rotated value"))))
    second = secrets_client.get_secret_bundle(s.id)
    _check(first.data, s.id, 1, v1)
    _check(second.data, s.id, 2, b"rotated value")
    assert first.headers["etag"] != second.headers["etag"]
