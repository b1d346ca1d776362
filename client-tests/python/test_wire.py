"""Wire-level properties: bad bodies, sizes, JSON shapes, headers, and no secret content in logs."""
import os
import re
import uuid

import oci
import pytest

from support import (
    COMPARTMENT_ID, assert_oci_error_body, b64, raw_request, unb64, wait_for,
)

vm = oci.vault.models
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


def _vault_ids(base_url):
    ids, page = [], None
    while True:
        query = {"compartmentId": COMPARTMENT_ID}
        if page:
            query["page"] = page
        r = raw_request(base_url, "GET", "/20180608/vaults", query=query)
        assert r.status_code == 200, r.text
        ids.extend(v["id"] for v in r.json())
        page = r.headers.get("opc-next-page")
        if not page:
            return set(ids)


def test_secret_content_never_logged(base_url, vaults_client, secrets_client, vault, aes_key, secret, server_log):
    canaries = [("leak-canary-" + uuid.uuid4().hex).encode() for _ in range(3)]
    s, _ = secret(vault, aes_key, content=canaries[0])
    assert unb64(secrets_client.get_secret_bundle(s.id).data.secret_bundle_content.content) == canaries[0]

    vaults_client.update_secret(s.id, vm.UpdateSecretDetails(secret_content=vm.Base64SecretContentDetails(
        content_type="BASE64", content=b64(canaries[1]))))
    assert unb64(secrets_client.get_secret_bundle(s.id).data.secret_bundle_content.content) == canaries[1]
    assert unb64(secrets_client.get_secret_bundle_by_name(
        s.secret_name, vault.id, version_number=1).data.secret_bundle_content.content) == canaries[0]

    # A rejected create (duplicate name) must not echo or log the content either.
    with pytest.raises(oci.exceptions.ServiceError) as info:
        secret(vault, aes_key, content=canaries[2], name=s.secret_name)
    assert canaries[2].decode() not in info.value.message
    assert b64(canaries[2]) not in info.value.message

    # Every line of the last request is in the log once its access line is.
    last = info.value.request_id
    log = wait_for(lambda: last in server_log() and server_log(), "the access log line of " + last)
    for canary in canaries:
        assert canary.decode() not in log, "secret content found in the server log"
        assert b64(canary) not in log, "base64 secret content found in the server log"


def _exercise_sensitive_paths(base_url, oci_config):
    """Drive every call that carries secret content or key plaintext through a fresh set of
    clients at base_url; return the sensitive values (bytes) that went over the wire."""
    kw = dict(service_endpoint=base_url, retry_strategy=oci.retry.NoneRetryStrategy())
    km = oci.key_management.models
    kms = oci.key_management.KmsVaultClient(oci_config, **kw)
    vaults = oci.vault.VaultsClient(oci_config, **kw)
    secrets = oci.secrets.SecretsClient(oci_config, **kw)
    v = kms.create_vault(km.CreateVaultDetails(compartment_id=COMPARTMENT_ID, display_name="leak-check",
                                               vault_type="DEFAULT")).data
    mgmt = oci.key_management.KmsManagementClient(oci_config, **dict(kw, service_endpoint=v.management_endpoint))
    crypto = oci.key_management.KmsCryptoClient(oci_config, **dict(kw, service_endpoint=v.crypto_endpoint))
    key = mgmt.create_key(km.CreateKeyDetails(compartment_id=COMPARTMENT_ID, display_name="leak-key",
                                              key_shape=km.KeyShape(algorithm="AES", length=32))).data
    sensitive = [("leak-canary-" + uuid.uuid4().hex).encode() for _ in range(4)]
    name = "leak-" + uuid.uuid4().hex[:8]
    s = vaults.create_secret(vm.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=v.id, key_id=key.id, secret_name=name,
        secret_content=vm.Base64SecretContentDetails(content_type="BASE64", content=b64(sensitive[0])))).data
    vaults.update_secret(s.id, vm.UpdateSecretDetails(secret_content=vm.Base64SecretContentDetails(
        content_type="BASE64", content=b64(sensitive[1]))))
    assert unb64(secrets.get_secret_bundle(s.id).data.secret_bundle_content.content) == sensitive[1]
    assert unb64(secrets.get_secret_bundle(s.id, version_number=1).data.secret_bundle_content.content) \
        == sensitive[0]
    assert unb64(secrets.get_secret_bundle_by_name(name, v.id).data.secret_bundle_content.content) \
        == sensitive[1]
    # a rejected create (duplicate name) must not log or echo its content either
    with pytest.raises(oci.exceptions.ServiceError) as info:
        vaults.create_secret(vm.CreateSecretDetails(
            compartment_id=COMPARTMENT_ID, vault_id=v.id, key_id=key.id, secret_name=name,
            secret_content=vm.Base64SecretContentDetails(content_type="BASE64", content=b64(sensitive[2]))))
    assert b64(sensitive[2]) not in (info.value.message or "")
    assert sensitive[2].decode() not in (info.value.message or "")
    # crypto plaintext in and out
    enc = crypto.encrypt(km.EncryptDataDetails(key_id=key.id, plaintext=b64(sensitive[3]))).data
    assert unb64(crypto.decrypt(km.DecryptDataDetails(key_id=key.id, ciphertext=enc.ciphertext)).data.plaintext) \
        == sensitive[3]
    dek = crypto.generate_data_encryption_key(km.GenerateKeyDetails(
        key_id=key.id, include_plaintext_key=True, key_shape=km.KeyShape(algorithm="AES", length=32))).data
    sensitive.append(unb64(dek.plaintext))
    return sensitive


def _assert_not_in_log(log, sensitive):
    for value in sensitive:
        assert b64(value) not in log, "base64 of secret content / plaintext found in the server log"
        text = value.decode("utf-8", errors="ignore")
        if len(text) >= 16 and text.isprintable():
            assert text not in log, "secret content / plaintext found in the server log"


def test_sensitive_values_never_logged_at_debug_level(start_extra_emulator, oci_config):
    emu = start_extra_emulator({"OCI_EMULATOR_LOG": "debug"})
    sensitive = _exercise_sensitive_paths(emu.base_url, oci_config)
    emu.stop()
    log = emu.log_text()
    assert "ListVaults" in log or "CreateVault" in log, "the debug log does not even show requests"
    _assert_not_in_log(log, sensitive)


BAD_CREATE_VAULT_BODIES = [
    ("malformed-json", '{"compartmentId":', ("CannotParseRequest", "InvalidParameter")),
    ("not-an-object", "[]", ("CannotParseRequest", "InvalidParameter")),
    ("wrong-type", {"compartmentId": COMPARTMENT_ID, "displayName": 5, "vaultType": "DEFAULT"},
     ("InvalidParameter",)),
    ("unknown-vault-type", {"compartmentId": COMPARTMENT_ID, "displayName": "bogus-type", "vaultType": "BOGUS"},
     ("InvalidParameter",)),
    ("missing-compartment", {"displayName": "no-compartment", "vaultType": "DEFAULT"},
     ("MissingParameter", "InvalidParameter")),
]


@pytest.mark.parametrize("body,codes", [(b, c) for _, b, c in BAD_CREATE_VAULT_BODIES],
                         ids=[i for i, _, _ in BAD_CREATE_VAULT_BODIES])
def test_bad_create_vault_body_is_400(base_url, body, codes):
    before = _vault_ids(base_url)
    r = raw_request(base_url, "POST", "/20180608/vaults", body=body)
    assert_oci_error_body(r, 400, codes)
    assert _vault_ids(base_url) == before, "a rejected CreateVault created a vault"


def test_two_megabyte_body_is_rejected_cleanly(base_url):
    before = _vault_ids(base_url)
    body = {"compartmentId": COMPARTMENT_ID, "displayName": "x" * (2 * 1024 * 1024), "vaultType": "DEFAULT"}
    r = raw_request(base_url, "POST", "/20180608/vaults", body=body, timeout=60)
    assert r.status_code in (400, 413), (r.status_code, r.text[:300])
    assert_oci_error_body(r, r.status_code, ("PayloadTooLarge", "InvalidParameter", "CannotParseRequest"))
    assert _vault_ids(base_url) == before
    # and the server is still fine afterwards
    assert raw_request(base_url, "GET", "/20180608/vaults", query={"compartmentId": COMPARTMENT_ID}).status_code == 200


def test_bad_update_secret_body_is_400(base_url, vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    r = raw_request(base_url, "PUT", "/20180608/secrets/" + s.id,
                    body={"secretContent": {"contentType": "BASE64", "content": 12345}})
    assert_oci_error_body(r, 400, ("InvalidParameter",))
    r = raw_request(base_url, "PUT", "/20180608/secrets/" + s.id,
                    body={"secretContent": {"contentType": "NOT_A_TYPE", "content": b64(b"x")}})
    assert_oci_error_body(r, 400, ("InvalidParameter",))
    assert vaults_client.get_secret(s.id).data.current_version_number == 1


def test_unknown_route_is_404(base_url):
    # OCI answers any path it does not serve with NotAuthorizedOrNotFound.
    r = raw_request(base_url, "GET", "/20180608/noSuchThing")
    assert_oci_error_body(r, 404, ("NotAuthorizedOrNotFound",))
    # A key call at the regional host is such a path too.
    r = raw_request(base_url, "GET", "/20180608/keys/ocid1.key.oc1.iad.x")
    assert_oci_error_body(r, 404, ("NotAuthorizedOrNotFound",))


def test_wrong_method_is_405_with_allow(base_url):
    r = raw_request(base_url, "DELETE", "/20180608/vaults/ocid1.vault.oc1.iad.x")
    assert_oci_error_body(r, 405, ("MethodNotAllowed",))
    assert r.headers["allow"] == "GET, PUT"


def test_list_responses_are_bare_arrays(base_url, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    r = raw_request(base_url, "GET", "/20180608/vaults", query={"compartmentId": COMPARTMENT_ID, "limit": "1"})
    assert r.status_code == 200
    assert isinstance(r.json(), list)
    r = raw_request(base_url, "GET", "/20180608/secrets", query={"compartmentId": COMPARTMENT_ID,
                                                                 "vaultId": vault.id})
    assert r.status_code == 200
    assert [x["id"] for x in r.json()] == [s.id]
    assert "opc-next-page" not in r.headers
    r = raw_request(base_url, "GET", "/20180608/secrets/{}/versions".format(s.id))
    assert r.status_code == 200
    assert [x["versionNumber"] for x in r.json()] == [1]


def test_vault_json_shape(base_url, vault):
    r = raw_request(base_url, "GET", "/20180608/vaults/" + vault.id)
    assert r.status_code == 200
    assert r.headers.get("content-type", "").startswith("application/json")
    assert r.headers.get("etag")
    body = r.json()
    for field in ("id", "compartmentId", "displayName", "vaultType", "lifecycleState", "managementEndpoint",
                  "cryptoEndpoint", "timeCreated", "wrappingkeyId"):
        assert field in body, "Vault JSON lacks {}: {}".format(field, sorted(body))
    assert RFC3339_Z.match(body["timeCreated"]), body["timeCreated"]


def test_secret_json_shape(base_url, vault, aes_key, secret):
    s, content = secret(vault, aes_key)
    r = raw_request(base_url, "GET", "/20180608/secrets/" + s.id)
    assert r.status_code == 200
    body = r.json()
    for field in ("id", "compartmentId", "secretName", "vaultId", "keyId", "lifecycleState",
                  "currentVersionNumber", "timeCreated"):
        assert field in body, "Secret JSON lacks {}: {}".format(field, sorted(body))
    assert RFC3339_Z.match(body["timeCreated"]), body["timeCreated"]
    assert b64(content) not in r.text, "secret metadata must not carry the content"

    r = raw_request(base_url, "GET", "/20190301/secretbundles/" + s.id)
    assert r.status_code == 200
    bundle = r.json()
    assert bundle["secretBundleContent"] == {"contentType": "BASE64", "content": b64(content)}
    assert bundle["versionNumber"] == 1
    assert bundle["secretId"] == s.id


def test_opc_request_id_on_every_response(base_url, kms_vault_client, vault):
    rid = "PYTEST" + uuid.uuid4().hex.upper()
    assert kms_vault_client.get_vault(vault.id, opc_request_id=rid).headers.get("opc-request-id") == rid

    r = raw_request(base_url, "GET", "/20180608/vaults/" + vault.id, headers={"opc-request-id": rid})
    assert r.headers.get("opc-request-id") == rid

    with pytest.raises(oci.exceptions.ServiceError) as info:
        kms_vault_client.get_vault("ocid1.vault.oc1.iad.nosuchvault" + uuid.uuid4().hex, opc_request_id=rid)
    assert info.value.request_id == rid

    r = raw_request(base_url, "GET", "/20180608/vaults", query={"compartmentId": COMPARTMENT_ID}, signer=None)
    assert r.status_code == 401
    assert r.headers.get("opc-request-id")


def test_error_messages_do_not_echo_plaintext(crypto_client, vault, aes_key):
    client = crypto_client(vault)
    canary = ("plaintext-canary-" + uuid.uuid4().hex).encode()
    enc = client.encrypt(oci.key_management.models.EncryptDataDetails(
        key_id=aes_key.id, plaintext=b64(canary), associated_data={"a": "b"})).data
    with pytest.raises(oci.exceptions.ServiceError) as info:
        client.decrypt(oci.key_management.models.DecryptDataDetails(
            key_id=aes_key.id, ciphertext=enc.ciphertext, associated_data={"a": "WRONG"}))
    assert canary.decode() not in (info.value.message or "")
    assert b64(canary) not in (info.value.message or "")


def test_request_ids_are_unique(base_url):
    ids = set()
    for _ in range(5):
        r = raw_request(base_url, "GET", "/20180608/vaults", query={"compartmentId": COMPARTMENT_ID, "limit": "1"})
        ids.add(r.headers.get("opc-request-id"))
    assert None not in ids and len(ids) == 5


def test_random_binary_secret_round_trip(secrets_client, vault, aes_key, secret):
    data = os.urandom(4096)
    s, _ = secret(vault, aes_key, content=data)
    assert unb64(secrets_client.get_secret_bundle(s.id).data.secret_bundle_content.content) == data


def test_past_max_connections_the_sdk_gets_a_503_it_retries_and_held_connections_keep_working(
        start_extra_emulator, oci_config):
    import gc
    import http.client
    from urllib.parse import urlparse

    from conftest import CLIENT_TIMEOUT

    emu = start_extra_emulator({"OCI_EMULATOR_MAX_CONNECTIONS": "2"})
    url = urlparse(emu.base_url)

    def health(conn):
        conn.request("GET", "/_emulator/health")
        r = conn.getresponse()
        r.read()
        return r.status

    # The start-up health check's connection stays open as long as its
    # `requests` Response object lives, which may be until a garbage collection.
    gc.collect()
    # Two keep-alive connections, each answered once: both places are taken
    # (retried while the server sees that connection's close; http.client
    # reconnects after a 503's close).
    held = [http.client.HTTPConnection(url.hostname, url.port, timeout=10) for _ in range(2)]
    for c in held:
        wait_for(lambda: health(c) == 200, "a place for a held connection")

    vaults = oci.vault.VaultsClient(oci_config, service_endpoint=emu.base_url,
                                    retry_strategy=oci.retry.NoneRetryStrategy(), timeout=CLIENT_TIMEOUT)
    with pytest.raises(oci.exceptions.ServiceError) as refused:
        vaults.list_secrets(COMPARTMENT_ID)
    assert (refused.value.status, refused.value.code) == (503, "ServiceUnavailable")
    assert refused.value.message == (
        "The emulator is serving its maximum of 2 connections (--max-connections); retry later.")
    assert refused.value.headers["connection"] == "close"
    assert len(refused.value.headers["opc-request-id"]) == 32
    # The SDKs' default retry strategy retries it.
    assert oci.retry.retry_checkers.TimeoutConnectionAndServiceErrorRetryChecker().should_retry(
        exception=refused.value)

    # The held connections still work; once one closes, its place serves the SDK again.
    assert [health(c) for c in held] == [200, 200]
    held.pop().close()

    def listed():
        try:
            return vaults.list_secrets(COMPARTMENT_ID).status == 200
        except oci.exceptions.ServiceError as e:
            assert (e.status, e.code) == (503, "ServiceUnavailable")
            return False
    wait_for(listed, "the freed connection's place to serve ListSecrets")
    held.pop().close()
