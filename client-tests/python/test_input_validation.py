"""Bad input found by a break-it pass: each is refused with OCI's status and
code, and changes nothing (the list afterwards is the same)."""
import pytest

from support import COMPARTMENT_ID, b64, raw_request, unique

UNKNOWN_COMPARTMENT = "ocid1.compartment.oc1..doesnotexist"


def vault_names(base_url):
    r = raw_request(base_url, "GET", "/20180608/vaults", query={"compartmentId": COMPARTMENT_ID})
    assert r.status_code == 200
    return sorted(v["displayName"] for v in r.json())


def create_vault_body(**extra):
    body = {"compartmentId": COMPARTMENT_ID, "displayName": unique("bad"), "vaultType": "DEFAULT"}
    body.update(extra)
    return body


@pytest.mark.parametrize("extra, status, code", [
    ({"definedTags": {"ns": "x"}}, 400, "InvalidParameter"),
    ({"definedTags": {"ns": 5}}, 400, "InvalidParameter"),
    ({"freeformTags": {"a": {"b": 1}}}, 400, "InvalidParameter"),
    ({"freeformTags": {"": "empty key"}}, 400, "InvalidParameter"),
    ({"freeformTags": {"k\u0000": "nul"}}, 400, "InvalidParameter"),
    ({"freeformTags": {"k{}".format(i): "v" for i in range(65)}}, 400, "InvalidParameter"),
    ({"displayName": ""}, 400, "InvalidParameter"),
    ({"compartmentId": UNKNOWN_COMPARTMENT}, 404, "NotAuthorizedOrNotFound"),
])
def test_create_vault_refuses_bad_fields_and_stores_nothing(base_url, extra, status, code):
    before = vault_names(base_url)
    r = raw_request(base_url, "POST", "/20180608/vaults", body=create_vault_body(**extra))
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert vault_names(base_url) == before


def test_missing_required_fields_are_missing_parameters(base_url):
    r = raw_request(base_url, "POST", "/20180608/vaults", body={"displayName": "x", "vaultType": "DEFAULT"})
    assert (r.status_code, r.json()["code"]) == (400, "MissingParameter")
    assert "compartmentId" in r.json()["message"]


def test_data_after_the_json_value_cannot_be_parsed(base_url):
    import json
    r = raw_request(base_url, "POST", "/20180608/vaults", body=json.dumps(create_vault_body()) + "xyz")
    assert (r.status_code, r.json()["code"]) == (400, "CannotParseRequest")


def test_lists_in_an_unknown_compartment_are_not_found(base_url):
    r = raw_request(base_url, "GET", "/20180608/vaults", query={"compartmentId": UNKNOWN_COMPARTMENT})
    assert (r.status_code, r.json()["code"]) == (404, "NotAuthorizedOrNotFound")
    r = raw_request(base_url, "GET", "/20180608/secrets", query={"compartmentId": UNKNOWN_COMPARTMENT})
    assert (r.status_code, r.json()["code"]) == (404, "NotAuthorizedOrNotFound")


def test_list_secrets_refuses_an_unknown_lifecycle_state(base_url):
    r = raw_request(base_url, "GET", "/20180608/secrets",
                    query={"compartmentId": COMPARTMENT_ID, "lifecycleState": "BOGUS"})
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter")


def test_list_keys_filters_by_protection_mode_and_refuses_unknown_values(base_url, vault, aes_key):
    prefix = vault.management_endpoint[len(base_url):]
    r = raw_request(base_url, "GET", prefix + "/20180608/keys",
                    query={"compartmentId": COMPARTMENT_ID, "protectionMode": "SOFTWARE"})
    assert (r.status_code, r.json()) == (200, [])
    r = raw_request(base_url, "GET", prefix + "/20180608/keys",
                    query={"compartmentId": COMPARTMENT_ID, "protectionMode": "HSM"})
    assert [k["id"] for k in r.json()] == [aes_key.id]
    r = raw_request(base_url, "GET", prefix + "/20180608/keys",
                    query={"compartmentId": COMPARTMENT_ID, "protectionMode": "BOGUS"})
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter")


def secret_body(vault, key, **extra):
    body = {"compartmentId": COMPARTMENT_ID, "vaultId": vault.id, "keyId": key.id, "secretName": unique("s"),
            "secretContent": {"contentType": "BASE64", "content": b64(b"value")}}
    body.update(extra)
    return body


@pytest.mark.parametrize("extra", [
    {"secretRules": [{"ruleType": "SECRET_EXPIRY_RULE", "secretVersionExpiryInterval": "P0D"}]},
    {"secretRules": [{"ruleType": "SECRET_REUSE_RULE"}, {"ruleType": "SECRET_REUSE_RULE"}]},
    {"secretRules": [{"ruleType": "BOGUS"}]},
    {"secretContent": {"contentType": "BASE64", "content": ""}},
    {"definedTags": {"ns": "notobj"}},
])
def test_create_secret_refuses_what_it_cannot_honour(base_url, vault, aes_key, extra):
    body = secret_body(vault, aes_key, **extra)
    r = raw_request(base_url, "POST", "/20180608/secrets", body=body)
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter"), r.text
    listed = raw_request(base_url, "GET", "/20180608/secrets",
                         query={"compartmentId": COMPARTMENT_ID, "name": body["secretName"]})
    assert listed.json() == []


@pytest.mark.parametrize("query", [
    {"curveId": "BOGUS"},
    {"curveId": "nist_p256"},
    {"algorithm": "DES"},
    {"length": "abc"},
    {"length": "-1"},
    {"protectionMode": "hsm"},
])
def test_list_keys_refuses_unknown_filter_values(base_url, vault, aes_key, query):
    prefix = vault.management_endpoint[len(base_url):]
    r = raw_request(base_url, "GET", prefix + "/20180608/keys", query=dict(query, compartmentId=COMPARTMENT_ID))
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter"), r.text
    (name,) = query
    assert name in r.json()["message"], r.text
