"""Integer request fields sent as JSON strings, as Oracle's own CLI samples send them
(`--key-shape '{"algorithm":"AES","length":"16"}'`) and OCI accepts.

The SDK's models refuse a str for an int attribute client-side, but a dict given for a
nested model is sent as it is, which is what the CLI does; raw requests cover the fields
the SDK types strictly at the top level.
"""
import oci
import pytest

from support import COMPARTMENT_ID, b64, raw_request, unb64, unique

models = oci.key_management.models


def _mgmt_path(base_url, vault, path):
    return vault.management_endpoint[len(base_url):] + path


def _key_names(base_url, vault):
    r = raw_request(base_url, "GET", _mgmt_path(base_url, vault, "/20180608/keys"),
                    query={"compartmentId": COMPARTMENT_ID})
    assert r.status_code == 200, r.text
    return {k["displayName"] for k in r.json()}


@pytest.mark.parametrize("length", ["16", "24", "32"])
def test_create_key_takes_key_shape_length_as_a_numeric_string(mgmt_client, vault, length):
    key = mgmt_client(vault).create_key(models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("strlen"),
        key_shape={"algorithm": "AES", "length": length})).data
    assert (key.key_shape.algorithm, key.key_shape.length) == ("AES", int(length))
    assert mgmt_client(vault).get_key(key.id).data.key_shape.length == int(length)


@pytest.mark.parametrize("length", ["sixteen", "", "16.5", "1e1", "0x10"])
def test_a_non_numeric_key_shape_length_is_400_and_creates_nothing(base_url, vault, length):
    name = unique("badlen")
    r = raw_request(base_url, "POST", _mgmt_path(base_url, vault, "/20180608/keys"), body={
        "compartmentId": COMPARTMENT_ID, "displayName": name,
        "keyShape": {"algorithm": "AES", "length": length}})
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter"), r.text
    message = r.json()["message"]
    assert "keyShape.length" in message and "expected an integer" in message, message
    if length:
        assert length not in message, message
    assert name not in _key_names(base_url, vault)


def test_generate_data_encryption_key_takes_length_as_a_numeric_string(crypto_client, vault, aes_key):
    gen = crypto_client(vault).generate_data_encryption_key(models.GenerateKeyDetails(
        key_id=aes_key.id, include_plaintext_key=True,
        key_shape={"algorithm": "AES", "length": "24"})).data
    assert len(unb64(gen.plaintext)) == 24


def test_update_secret_takes_current_version_number_as_a_numeric_string(
        base_url, vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    vaults_client.update_secret(s.id, oci.vault.models.UpdateSecretDetails(
        secret_content=oci.vault.models.Base64SecretContentDetails(
            content_type="BASE64", content=b64(b"second"))))
    assert vaults_client.get_secret(s.id).data.current_version_number == 2

    r = raw_request(base_url, "PUT", "/20180608/secrets/" + s.id, body={"currentVersionNumber": "1"})
    assert (r.status_code, r.json()["currentVersionNumber"]) == (200, 1), r.text
    assert vaults_client.get_secret(s.id).data.current_version_number == 1

    r = raw_request(base_url, "PUT", "/20180608/secrets/" + s.id, body={"currentVersionNumber": "two"})
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter"), r.text
    assert "currentVersionNumber" in r.json()["message"]
    assert vaults_client.get_secret(s.id).data.current_version_number == 1
