"""KMS key management through oci.key_management.KmsManagementClient (vault management endpoint)."""
import datetime
import uuid

import oci
import pytest

from support import (
    COMPARTMENT_ID, KEY_OCID_PREFIX, KEY_VERSION_OCID_PREFIX, expect_service_error, list_all, unique,
    walk_pages,
)

models = oci.key_management.models


def _list_all_keys(client):
    return list_all(client.list_keys, COMPARTMENT_ID)


@pytest.mark.parametrize("length", [16, 24, 32])
def test_create_aes_key(mgmt_client, vault, length):
    client = mgmt_client(vault)
    name = unique("key")
    resp = client.create_key(models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=name,
        key_shape=models.KeyShape(algorithm="AES", length=length)))
    key = resp.data
    assert resp.headers.get("opc-request-id")
    assert key.id.startswith(KEY_OCID_PREFIX), key.id
    assert key.display_name == name
    assert key.compartment_id == COMPARTMENT_ID
    assert key.vault_id == vault.id
    assert key.lifecycle_state == "ENABLED"
    assert key.key_shape.algorithm == "AES"
    assert key.key_shape.length == length
    assert key.current_key_version.startswith(KEY_VERSION_OCID_PREFIX), key.current_key_version
    assert key.time_created is not None


def test_get_key(mgmt_client, vault, aes_key):
    resp = mgmt_client(vault).get_key(aes_key.id)
    key = resp.data
    assert resp.headers.get("etag")
    assert key.id == aes_key.id
    assert key.vault_id == vault.id
    assert key.current_key_version == aes_key.current_key_version
    assert key.current_key_version.startswith(KEY_VERSION_OCID_PREFIX)
    assert key.lifecycle_state == "ENABLED"
    assert (key.key_shape.algorithm, key.key_shape.length) == ("AES", 32)


def test_get_unknown_key_is_404(mgmt_client, vault):
    expect_service_error(404, "NotAuthorizedOrNotFound", mgmt_client(vault).get_key,
                         KEY_OCID_PREFIX + "doesnotexist" + uuid.uuid4().hex)


def test_keys_are_scoped_to_their_vault(mgmt_client, make_vault, make_key):
    vault_a, vault_b = make_vault(), make_vault()
    keys_a = {make_key(vault_a).id for _ in range(2)}
    keys_b = {make_key(vault_b).id for _ in range(2)}

    listed_a = _list_all_keys(mgmt_client(vault_a))
    listed_b = _list_all_keys(mgmt_client(vault_b))
    ids_a = {k.id for k in listed_a}
    ids_b = {k.id for k in listed_b}
    assert keys_a <= ids_a
    assert keys_b <= ids_b
    assert not (ids_a & keys_b), "vault A's management endpoint lists vault B's keys"
    assert not (ids_b & keys_a), "vault B's management endpoint lists vault A's keys"
    assert {k.vault_id for k in listed_a} == {vault_a.id}
    assert {k.vault_id for k in listed_b} == {vault_b.id}

    key_b = sorted(keys_b)[0]
    expect_service_error(404, "NotAuthorizedOrNotFound", mgmt_client(vault_a).get_key, key_b)
    assert mgmt_client(vault_b).get_key(key_b).data.id == key_b


def test_list_keys_paging(mgmt_client, vault, make_key):
    created = {make_key(vault).id for _ in range(3)}
    client = mgmt_client(vault)
    items, responses = walk_pages(client.list_keys, COMPARTMENT_ID, limit=1)
    assert len(responses) == 3
    assert all(len(r.data) == 1 for r in responses)
    assert [r.has_next_page for r in responses] == [True, True, False]
    seen = [k.id for k in items]
    assert len(seen) == len(set(seen))
    assert set(seen) == created


def test_list_keys_filters_by_algorithm_length_and_curve(mgmt_client, vault, make_key):
    k16, k32 = make_key(vault, length=16), make_key(vault, length=32)
    client = mgmt_client(vault)

    def listed(**filters):
        return {k.id for k in list_all(client.list_keys, COMPARTMENT_ID, **filters)}

    assert listed() == {k16.id, k32.id}
    assert listed(length=16) == {k16.id}
    assert listed(length=32) == {k32.id}
    assert listed(length=24) == set()
    assert listed(algorithm="AES") == {k16.id, k32.id}
    assert listed(algorithm="RSA") == set()
    assert listed(algorithm="AES", length=16, protection_mode="HSM") == {k16.id}
    # AES keys have no curve, so no curveId filter matches them.
    for curve in ("NIST_P256", "NIST_P384", "NIST_P521"):
        assert listed(curve_id=curve) == set()
        assert listed(curve_id=curve, algorithm="AES") == set()


def test_update_key_display_name(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    new_name = unique("renamed-key")
    updated = client.update_key(aes_key.id, models.UpdateKeyDetails(display_name=new_name)).data
    assert updated.id == aes_key.id
    assert updated.display_name == new_name
    assert client.get_key(aes_key.id).data.display_name == new_name


def test_update_key_if_match(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    expect_service_error(412, "NoEtagMatch", client.update_key, aes_key.id,
                         models.UpdateKeyDetails(display_name=unique("nope")), if_match="wrong-etag")
    etag = client.get_key(aes_key.id).headers["etag"]
    new_name = unique("etag-ok")
    assert client.update_key(aes_key.id, models.UpdateKeyDetails(display_name=new_name),
                             if_match=etag).data.display_name == new_name


def test_disable_and_enable_key(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    disabled = client.disable_key(aes_key.id).data
    assert disabled.lifecycle_state == "DISABLED"
    assert client.get_key(aes_key.id).data.lifecycle_state == "DISABLED"
    enabled = client.enable_key(aes_key.id).data
    assert enabled.lifecycle_state == "ENABLED"
    assert client.get_key(aes_key.id).data.lifecycle_state == "ENABLED"


def test_schedule_and_cancel_key_deletion(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    scheduled = client.schedule_key_deletion(aes_key.id, models.ScheduleKeyDeletionDetails()).data
    assert scheduled.lifecycle_state == "PENDING_DELETION"
    assert scheduled.time_of_deletion is not None
    assert client.get_key(aes_key.id).data.lifecycle_state == "PENDING_DELETION"
    cancelled = client.cancel_key_deletion(aes_key.id).data
    assert cancelled.lifecycle_state == "ENABLED"
    assert client.get_key(aes_key.id).data.lifecycle_state == "ENABLED"


def test_schedule_key_deletion_with_time(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    when = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=8)).replace(microsecond=0)
    scheduled = client.schedule_key_deletion(
        aes_key.id, models.ScheduleKeyDeletionDetails(time_of_deletion=when)).data
    assert scheduled.lifecycle_state == "PENDING_DELETION"
    assert abs((scheduled.time_of_deletion - when).total_seconds()) < 2


def test_schedule_key_deletion_too_soon_is_400(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)
    expect_service_error(400, "InvalidParameter", client.schedule_key_deletion, aes_key.id,
                         models.ScheduleKeyDeletionDetails(time_of_deletion=when))
    assert client.get_key(aes_key.id).data.lifecycle_state == "ENABLED"


def test_create_key_version(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    kv = client.create_key_version(aes_key.id).data
    assert kv.id.startswith(KEY_VERSION_OCID_PREFIX), kv.id
    assert kv.id != aes_key.current_key_version
    assert kv.key_id == aes_key.id
    assert kv.vault_id == vault.id
    assert kv.compartment_id == COMPARTMENT_ID

    assert client.get_key(aes_key.id).data.current_key_version == kv.id

    versions = client.list_key_versions(aes_key.id).data
    assert len(versions) == 2
    assert {v.id for v in versions} == {aes_key.current_key_version, kv.id}
    assert all(v.key_id == aes_key.id for v in versions)
    assert all(v.vault_id == vault.id for v in versions)

    got = client.get_key_version(aes_key.id, kv.id).data
    assert got.id == kv.id
    assert got.key_id == aes_key.id
    assert got.vault_id == vault.id
    first = client.get_key_version(aes_key.id, aes_key.current_key_version).data
    assert first.id == aes_key.current_key_version


def test_key_versions_carry_an_etag_that_follows_their_state(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    created = client.create_key_version(aes_key.id)
    got = client.get_key_version(aes_key.id, created.data.id)
    assert created.headers["etag"] == got.headers["etag"]
    older = client.get_key_version(aes_key.id, aes_key.current_key_version)
    assert older.headers["etag"] not in ("", got.headers["etag"])


def test_key_versions_list_by_displayname_as_the_sdk_offers(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    second = client.create_key_version(aes_key.id).data
    listed = client.list_key_versions(aes_key.id, sort_by="DISPLAYNAME").data
    assert [v.id for v in listed] == [aes_key.current_key_version, second.id]
    listed = client.list_key_versions(aes_key.id, sort_by="DISPLAYNAME", sort_order="DESC").data
    assert [v.id for v in listed] == [second.id, aes_key.current_key_version]


def test_get_unknown_key_version_is_404(mgmt_client, vault, aes_key):
    expect_service_error(404, "NotAuthorizedOrNotFound", mgmt_client(vault).get_key_version,
                         aes_key.id, KEY_VERSION_OCID_PREFIX + "doesnotexist" + uuid.uuid4().hex)


@pytest.mark.parametrize("algorithm,length", [("RSA", 255), ("AES", 20), ("AES", 0)])
def test_create_key_with_unsupported_shape_is_400(mgmt_client, vault, algorithm, length):
    client = mgmt_client(vault)
    name = unique("badshape")
    expect_service_error(400, "InvalidParameter", client.create_key, models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=name,
        key_shape=models.KeyShape(algorithm=algorithm, length=length)))
    assert name not in {k.display_name for k in _list_all_keys(client)}


SECURITY = "ocid1.compartment.oc1..aaaaaaaaemulatorsecurity00000000000000000000000000000000001"


def test_change_key_compartment_moves_the_key_and_its_versions(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    second = client.create_key_version(aes_key.id).data
    resp = client.change_key_compartment(aes_key.id, models.ChangeKeyCompartmentDetails(compartment_id=SECURITY))
    assert resp.status == 200
    assert resp.data is None
    assert resp.headers["etag"]
    moved = client.get_key(aes_key.id).data
    assert (moved.compartment_id, moved.lifecycle_state, moved.vault_id) == (SECURITY, "ENABLED", vault.id)
    assert moved.current_key_version == second.id
    assert {v.compartment_id for v in client.list_key_versions(aes_key.id).data} == {SECURITY}
    assert client.get_key_version(aes_key.id, second.id).data.compartment_id == SECURITY
    assert aes_key.id not in {k.id for k in _list_all_keys(client)}
    assert [k.id for k in list_all(client.list_keys, SECURITY)] == [aes_key.id]


def test_change_key_compartment_refusals_change_nothing(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", client.change_key_compartment, aes_key.id,
                         models.ChangeKeyCompartmentDetails(compartment_id="ocid1.compartment.oc1..aaaaaaaanope"))
    expect_service_error(412, "NoEtagMatch", client.change_key_compartment, aes_key.id,
                         models.ChangeKeyCompartmentDetails(compartment_id=SECURITY), if_match="stale")
    client.schedule_key_deletion(aes_key.id, models.ScheduleKeyDeletionDetails())
    expect_service_error(409, "IncorrectState", client.change_key_compartment, aes_key.id,
                         models.ChangeKeyCompartmentDetails(compartment_id=SECURITY))
    assert client.get_key(aes_key.id).data.compartment_id == COMPARTMENT_ID
