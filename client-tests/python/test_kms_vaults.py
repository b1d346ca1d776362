"""KMS vault management through oci.key_management.KmsVaultClient."""
import datetime
import uuid

import oci
import pytest

from support import (
    COMPARTMENT_ID, VAULT_OCID_PREFIX, expect_service_error, list_all, unique, walk_pages,
)

models = oci.key_management.models


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _all_vault_ids(kms_vault_client):
    return [v.id for v in list_all(kms_vault_client.list_vaults, COMPARTMENT_ID)]


def test_create_vault_returns_active_vault_with_endpoints(kms_vault_client, base_url):
    name = unique("vault")
    resp = kms_vault_client.create_vault(models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name=name, vault_type="DEFAULT",
        freeform_tags={"team": "qa"}))
    v = resp.data
    assert resp.status == 200
    assert resp.headers.get("opc-request-id")
    assert v.id.startswith(VAULT_OCID_PREFIX), v.id
    assert v.display_name == name
    assert v.compartment_id == COMPARTMENT_ID
    assert v.vault_type == "DEFAULT"
    assert v.lifecycle_state == "ACTIVE"
    assert v.freeform_tags == {"team": "qa"}
    assert v.time_created is not None
    assert v.time_of_deletion is None
    for endpoint, suffix in ((v.management_endpoint, "/management"), (v.crypto_endpoint, "/crypto")):
        assert endpoint.startswith(base_url + "/"), endpoint
        assert endpoint.endswith(suffix), endpoint


def test_vault_endpoints_differ_between_vaults(make_vault):
    a, b = make_vault(), make_vault()
    assert a.id != b.id
    assert a.management_endpoint != b.management_endpoint
    assert a.crypto_endpoint != b.crypto_endpoint
    assert a.management_endpoint != a.crypto_endpoint


def test_get_vault(kms_vault_client, vault):
    resp = kms_vault_client.get_vault(vault.id)
    got = resp.data
    assert resp.headers.get("etag")
    assert got.id == vault.id
    assert got.display_name == vault.display_name
    assert got.lifecycle_state == "ACTIVE"
    assert got.management_endpoint == vault.management_endpoint
    assert got.crypto_endpoint == vault.crypto_endpoint
    assert got.wrappingkey_id, "wrappingkeyId is a required field"


def test_get_unknown_vault_is_404(kms_vault_client):
    expect_service_error(404, "NotAuthorizedOrNotFound", kms_vault_client.get_vault,
                         VAULT_OCID_PREFIX + "doesnotexist" + uuid.uuid4().hex)


def test_list_vaults_contains_created_vault(kms_vault_client, vault):
    ids = _all_vault_ids(kms_vault_client)
    assert vault.id in ids
    assert len(ids) == len(set(ids)), "a vault was listed twice"


def test_list_vaults_paging(kms_vault_client, make_vault):
    created = {make_vault().id for _ in range(3)}
    first = kms_vault_client.list_vaults(COMPARTMENT_ID, limit=1)
    assert isinstance(first.data, list)
    assert len(first.data) == 1
    assert first.has_next_page
    assert first.headers.get("opc-next-page")

    items, responses = walk_pages(kms_vault_client.list_vaults, COMPARTMENT_ID, limit=1)
    assert all(len(r.data) == 1 for r in responses)
    assert all(r.has_next_page for r in responses[:-1])
    assert not responses[-1].has_next_page
    seen = [v.id for v in items]
    assert len(seen) == len(set(seen)), "paging returned a vault twice"
    assert created <= set(seen)

    # the SDK's own paginator (safe now that paging is known to end)
    everything = oci.pagination.list_call_get_all_results(
        kms_vault_client.list_vaults, COMPARTMENT_ID, limit=1).data
    assert created <= {v.id for v in everything}


def test_update_vault(kms_vault_client, vault):
    new_name = unique("renamed")
    updated = kms_vault_client.update_vault(vault.id, models.UpdateVaultDetails(
        display_name=new_name, freeform_tags={"env": "test"})).data
    assert updated.id == vault.id
    assert updated.display_name == new_name
    assert updated.freeform_tags == {"env": "test"}
    got = kms_vault_client.get_vault(vault.id).data
    assert got.display_name == new_name
    assert got.freeform_tags == {"env": "test"}


def test_update_vault_if_match(kms_vault_client, vault):
    expect_service_error(412, "NoEtagMatch", kms_vault_client.update_vault, vault.id,
                         models.UpdateVaultDetails(display_name=unique("nope")),
                         if_match="not-the-etag")
    assert kms_vault_client.get_vault(vault.id).data.display_name == vault.display_name

    etag = kms_vault_client.get_vault(vault.id).headers["etag"]
    new_name = unique("etag-ok")
    updated = kms_vault_client.update_vault(vault.id, models.UpdateVaultDetails(display_name=new_name),
                                            if_match=etag).data
    assert updated.display_name == new_name


def test_schedule_and_cancel_vault_deletion(kms_vault_client, vault):
    when = (_utcnow() + datetime.timedelta(days=10)).replace(microsecond=0)
    scheduled = kms_vault_client.schedule_vault_deletion(
        vault.id, models.ScheduleVaultDeletionDetails(time_of_deletion=when)).data
    assert scheduled.lifecycle_state == "PENDING_DELETION"
    assert scheduled.time_of_deletion is not None
    assert abs((scheduled.time_of_deletion - when).total_seconds()) < 2

    got = kms_vault_client.get_vault(vault.id).data
    assert got.lifecycle_state == "PENDING_DELETION"

    cancelled = kms_vault_client.cancel_vault_deletion(vault.id).data
    assert cancelled.lifecycle_state == "ACTIVE"
    assert cancelled.time_of_deletion is None
    assert kms_vault_client.get_vault(vault.id).data.lifecycle_state == "ACTIVE"


def test_schedule_vault_deletion_defaults_to_30_days(kms_vault_client, vault):
    before = _utcnow()
    scheduled = kms_vault_client.schedule_vault_deletion(
        vault.id, models.ScheduleVaultDeletionDetails()).data
    assert scheduled.lifecycle_state == "PENDING_DELETION"
    expected = before + datetime.timedelta(days=30)
    assert abs((scheduled.time_of_deletion - expected).total_seconds()) < 3600, scheduled.time_of_deletion


@pytest.mark.parametrize("days", [3, 6, 31])
def test_schedule_vault_deletion_outside_window_is_400(kms_vault_client, vault, days):
    when = _utcnow() + datetime.timedelta(days=days)
    expect_service_error(400, "InvalidParameter", kms_vault_client.schedule_vault_deletion, vault.id,
                         models.ScheduleVaultDeletionDetails(time_of_deletion=when))
    assert kms_vault_client.get_vault(vault.id).data.lifecycle_state == "ACTIVE"


def test_schedule_vault_deletion_if_match(kms_vault_client, vault):
    expect_service_error(412, "NoEtagMatch", kms_vault_client.schedule_vault_deletion, vault.id,
                         models.ScheduleVaultDeletionDetails(), if_match="bogus-etag")
    assert kms_vault_client.get_vault(vault.id).data.lifecycle_state == "ACTIVE"


def test_create_vault_retry_token_is_idempotent(kms_vault_client):
    token = "pytest" + uuid.uuid4().hex
    details = models.CreateVaultDetails(compartment_id=COMPARTMENT_ID, display_name=unique("idem"),
                                        vault_type="DEFAULT")
    first = kms_vault_client.create_vault(details, opc_retry_token=token).data
    second = kms_vault_client.create_vault(details, opc_retry_token=token).data
    assert first.id == second.id
    named = [v for v in list_all(kms_vault_client.list_vaults, COMPARTMENT_ID)
             if v.display_name == details.display_name]
    assert [v.id for v in named] == [first.id]


def test_create_vault_without_retry_token_makes_distinct_vaults(kms_vault_client):
    details = models.CreateVaultDetails(compartment_id=COMPARTMENT_ID, display_name=unique("twice"),
                                        vault_type="DEFAULT")
    a = kms_vault_client.create_vault(details).data
    b = kms_vault_client.create_vault(details).data
    assert a.id != b.id


def test_opc_request_id_is_echoed(kms_vault_client, vault):
    rid = "PYTEST" + uuid.uuid4().hex.upper()
    resp = kms_vault_client.get_vault(vault.id, opc_request_id=rid)
    assert resp.headers.get("opc-request-id") == rid
    resp = kms_vault_client.get_vault(vault.id)
    assert resp.headers.get("opc-request-id")


SECURITY = "ocid1.compartment.oc1..aaaaaaaaemulatorsecurity00000000000000000000000000000000001"


def test_change_vault_compartment_moves_the_vault_alone(kms_vault_client, mgmt_client, vault, make_key):
    key = make_key(vault)
    etag = kms_vault_client.get_vault(vault.id).headers["etag"]
    resp = kms_vault_client.change_vault_compartment(
        vault.id, models.ChangeVaultCompartmentDetails(compartment_id=SECURITY), if_match=etag)
    assert resp.status == 200
    assert resp.data is None
    assert resp.headers["etag"] not in ("", etag)
    moved = kms_vault_client.get_vault(vault.id).data
    assert (moved.compartment_id, moved.lifecycle_state) == (SECURITY, "ACTIVE")
    assert moved.management_endpoint == vault.management_endpoint
    assert vault.id not in _all_vault_ids(kms_vault_client)
    assert vault.id in [v.id for v in list_all(kms_vault_client.list_vaults, SECURITY)]
    # Its keys are resources of their own: they stay where they are.
    assert mgmt_client(vault).get_key(key.id).data.compartment_id == COMPARTMENT_ID
    # Moving it where it is changes nothing.
    again = kms_vault_client.change_vault_compartment(
        vault.id, models.ChangeVaultCompartmentDetails(compartment_id=SECURITY))
    assert again.headers["etag"] == resp.headers["etag"]


def test_change_vault_compartment_refusals_change_nothing(kms_vault_client, vault):
    err = expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", kms_vault_client.change_vault_compartment,
                               vault.id, models.ChangeVaultCompartmentDetails(
                                   compartment_id="ocid1.compartment.oc1..aaaaaaaanosuchcompartment"))
    assert err.message == "Compartment ocid1.compartment.oc1..aaaaaaaanosuchcompartment was not found or is not authorized."
    expect_service_error(412, "NoEtagMatch", kms_vault_client.change_vault_compartment, vault.id,
                         models.ChangeVaultCompartmentDetails(compartment_id=SECURITY), if_match="stale")
    expect_service_error(400, "MissingParameter", kms_vault_client.change_vault_compartment, vault.id,
                         models.ChangeVaultCompartmentDetails())
    expect_service_error(404, "NotAuthorizedOrNotFound", kms_vault_client.change_vault_compartment,
                         VAULT_OCID_PREFIX + "nope" + uuid.uuid4().hex,
                         models.ChangeVaultCompartmentDetails(compartment_id=SECURITY))
    kms_vault_client.schedule_vault_deletion(vault.id, models.ScheduleVaultDeletionDetails())
    expect_service_error(409, "IncorrectState", kms_vault_client.change_vault_compartment, vault.id,
                         models.ChangeVaultCompartmentDetails(compartment_id=SECURITY),
                         retry_strategy=oci.retry.NoneRetryStrategy())
    assert kms_vault_client.get_vault(vault.id).data.compartment_id == COMPARTMENT_ID
