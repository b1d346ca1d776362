"""Secret management through oci.vault.VaultsClient (/20180608/secrets...)."""
import datetime
import os
import uuid

import oci
import pytest

from support import (
    COMPARTMENT_ID, SECRET_OCID_PREFIX, b64, expect_service_error, list_all, stages_by_version, unb64,
    unique, walk_pages,
)

vm = oci.vault.models


def _content(data, **kwargs):
    return vm.Base64SecretContentDetails(content_type="BASE64", content=b64(data), **kwargs)


def _new_version(vaults_client, secret_id, data, **kwargs):
    return vaults_client.update_secret(secret_id, vm.UpdateSecretDetails(secret_content=_content(data, **kwargs))).data


def _version_stages(vaults_client, secret_id):
    versions = list_all(vaults_client.list_secret_versions, secret_id)
    return stages_by_version(versions)


def _bundle_bytes(secrets_client, secret_id, **kwargs):
    bundle = secrets_client.get_secret_bundle(secret_id, **kwargs).data
    return bundle, unb64(bundle.secret_bundle_content.content)


def _in(days, hours=0):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days, hours=hours)


def test_create_secret(vaults_client, vault, aes_key):
    name = unique("secret")
    resp = vaults_client.create_secret(vm.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=aes_key.id, secret_name=name,
        description="created by pytest", freeform_tags={"k": "v"},
        secret_content=_content(b"s3cr3t")))
    s = resp.data
    assert resp.headers.get("opc-request-id")
    assert s.id.startswith(SECRET_OCID_PREFIX), s.id
    assert s.secret_name == name
    assert s.vault_id == vault.id
    assert s.key_id == aes_key.id
    assert s.compartment_id == COMPARTMENT_ID
    assert s.lifecycle_state == "ACTIVE"
    assert s.current_version_number == 1
    assert s.description == "created by pytest"
    assert s.freeform_tags == {"k": "v"}
    assert s.time_created is not None


def test_first_version_is_current_and_latest(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key, version_name="first")
    assert _version_stages(vaults_client, s.id) == {1: {"CURRENT", "LATEST"}}
    v = vaults_client.get_secret_version(s.id, 1).data
    assert v.version_number == 1
    assert v.secret_id == s.id
    assert v.name == "first"
    assert v.content_type == "BASE64"
    assert set(v.stages) == {"CURRENT", "LATEST"}


def test_get_secret(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    resp = vaults_client.get_secret(s.id)
    got = resp.data
    assert resp.headers.get("etag")
    assert got.id == s.id
    assert got.secret_name == s.secret_name
    assert got.lifecycle_state == "ACTIVE"
    assert got.current_version_number == 1
    assert got.vault_id == vault.id
    assert got.key_id == aes_key.id


def test_get_unknown_secret_is_404(vaults_client):
    expect_service_error(404, "NotAuthorizedOrNotFound", vaults_client.get_secret,
                         SECRET_OCID_PREFIX + "doesnotexist" + uuid.uuid4().hex)


def test_list_secrets_filters(vaults_client, make_vault, make_key, secret):
    vault_a, vault_b = make_vault(), make_vault()
    key_a, key_b = make_key(vault_a), make_key(vault_b)
    a1, _ = secret(vault_a, key_a)
    a2, _ = secret(vault_a, key_a)
    b1, _ = secret(vault_b, key_b)

    everything = list_all(vaults_client.list_secrets, COMPARTMENT_ID)
    assert {a1.id, a2.id, b1.id} <= {s.id for s in everything}

    by_name = vaults_client.list_secrets(COMPARTMENT_ID, name=a1.secret_name).data
    assert [s.id for s in by_name] == [a1.id]
    assert by_name[0].secret_name == a1.secret_name
    assert by_name[0].lifecycle_state == "ACTIVE"

    in_a = list_all(vaults_client.list_secrets, COMPARTMENT_ID, vault_id=vault_a.id)
    assert {s.id for s in in_a} == {a1.id, a2.id}
    assert {s.vault_id for s in in_a} == {vault_a.id}

    in_b_named_a1 = vaults_client.list_secrets(COMPARTMENT_ID, vault_id=vault_b.id, name=a1.secret_name).data
    assert in_b_named_a1 == []


def test_list_secrets_paging(vaults_client, vault, aes_key, secret):
    created = {secret(vault, aes_key)[0].id for _ in range(3)}
    items, responses = walk_pages(vaults_client.list_secrets, COMPARTMENT_ID, vault_id=vault.id, limit=1)
    assert len(responses) == 3
    assert all(len(r.data) == 1 for r in responses)
    assert [r.has_next_page for r in responses] == [True, True, False]
    seen = [s.id for s in items]
    assert len(seen) == len(set(seen))
    assert set(seen) == created


@pytest.mark.parametrize("sort_by,sort_order", [("NAME", "ASC"), ("NAME", "DESC"), ("TIMECREATED", "ASC"),
                                                 ("TIMECREATED", "DESC")])
def test_list_secrets_pages_follow_the_sort_order(vaults_client, vault, aes_key, secret, sort_by, sort_order):
    made = [secret(vault, aes_key, name=unique("order-" + c))[0] for c in "cab"]
    items, responses = walk_pages(vaults_client.list_secrets, COMPARTMENT_ID, vault_id=vault.id, limit=2,
                                  sort_by=sort_by, sort_order=sort_order)
    assert [len(r.data) for r in responses] == [2, 1]
    if sort_by == "NAME":
        expected = sorted(made, key=lambda s: s.secret_name)
    else:
        expected = sorted(made, key=lambda s: (s.time_created, s.id))
    if sort_order == "DESC":
        expected.reverse()
    assert [s.id for s in items] == [s.id for s in expected]


def test_list_secrets_filters_by_settled_state_and_refuses_a_foreign_page_token(
        vaults_client, base_url, vault, aes_key, secret):
    kept, _ = secret(vault, aes_key)
    gone, _ = secret(vault, aes_key)
    vaults_client.schedule_secret_deletion(gone.id, vm.ScheduleSecretDeletionDetails())
    pending = list_all(vaults_client.list_secrets, COMPARTMENT_ID, vault_id=vault.id,
                       lifecycle_state="PENDING_DELETION")
    assert [s.id for s in pending] == [gone.id]
    active = list_all(vaults_client.list_secrets, COMPARTMENT_ID, vault_id=vault.id, lifecycle_state="ACTIVE")
    assert [s.id for s in active] == [kept.id]
    first = vaults_client.list_secrets(COMPARTMENT_ID, vault_id=vault.id, limit=1, sort_by="NAME")
    assert first.has_next_page
    # A token from a name-ordered walk does not continue a time-ordered one; nor does a made-up one.
    for token in (first.next_page, "bm90LWEtdG9rZW4", "!!"):
        expect_service_error(400, "InvalidParameter", vaults_client.list_secrets, COMPARTMENT_ID,
                             vault_id=vault.id, limit=1, page=token)


def test_duplicate_secret_name_in_vault_is_400(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    expect_service_error(400, "InvalidParameter", vaults_client.create_secret, vm.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=aes_key.id, secret_name=s.secret_name,
        secret_content=_content(b"other")))
    assert len(vaults_client.list_secrets(COMPARTMENT_ID, vault_id=vault.id, name=s.secret_name).data) == 1


def test_same_secret_name_in_two_vaults_is_fine(make_vault, make_key, secret):
    vault_a, vault_b = make_vault(), make_vault()
    name = unique("shared-name")
    a, _ = secret(vault_a, make_key(vault_a), name=name)
    b, _ = secret(vault_b, make_key(vault_b), name=name)
    assert a.id != b.id


def test_invalid_base64_content_is_400(vaults_client, vault, aes_key):
    name = unique("badb64")
    expect_service_error(400, "InvalidParameter", vaults_client.create_secret, vm.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=aes_key.id, secret_name=name,
        secret_content=vm.Base64SecretContentDetails(content_type="BASE64", content="%%% not base64 %%%")))
    assert vaults_client.list_secrets(COMPARTMENT_ID, name=name).data == []


def test_update_secret_new_version(vaults_client, secrets_client, vault, aes_key, secret):
    s, v1 = secret(vault, aes_key)
    updated = _new_version(vaults_client, s.id, b"version two")
    assert updated.id == s.id
    assert updated.current_version_number == 2
    assert updated.lifecycle_state == "ACTIVE"
    assert _version_stages(vaults_client, s.id) == {1: {"PREVIOUS"}, 2: {"CURRENT", "LATEST"}}
    assert vaults_client.get_secret(s.id).data.current_version_number == 2
    assert _bundle_bytes(secrets_client, s.id)[1] == b"version two"
    assert _bundle_bytes(secrets_client, s.id, version_number=1)[1] == v1


def test_third_version_deprecates_first(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    _new_version(vaults_client, s.id, b"two")
    updated = _new_version(vaults_client, s.id, b"three")
    assert updated.current_version_number == 3
    assert _version_stages(vaults_client, s.id) == {
        1: {"DEPRECATED"}, 2: {"PREVIOUS"}, 3: {"CURRENT", "LATEST"}}


def test_pending_version_does_not_change_current(vaults_client, secrets_client, vault, aes_key, secret):
    s, v1 = secret(vault, aes_key)
    updated = _new_version(vaults_client, s.id, b"staged", stage="PENDING")
    assert updated.current_version_number == 1
    stages = _version_stages(vaults_client, s.id)
    assert stages[2] == {"PENDING", "LATEST"}
    assert stages[1] == {"CURRENT"}
    assert _bundle_bytes(secrets_client, s.id)[1] == v1
    assert _bundle_bytes(secrets_client, s.id, stage="PENDING")[1] == b"staged"


def test_rollback_with_current_version_number(vaults_client, secrets_client, vault, aes_key, secret):
    s, v1 = secret(vault, aes_key)
    _new_version(vaults_client, s.id, b"bad release")
    rolled = vaults_client.update_secret(s.id, vm.UpdateSecretDetails(current_version_number=1)).data
    assert rolled.current_version_number == 1
    stages = _version_stages(vaults_client, s.id)
    assert stages[1] == {"CURRENT"}
    assert stages[2] == {"PREVIOUS", "LATEST"}
    assert _bundle_bytes(secrets_client, s.id)[1] == v1


def test_promote_pending_version(vaults_client, secrets_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    _new_version(vaults_client, s.id, b"staged", stage="PENDING")
    promoted = vaults_client.update_secret(s.id, vm.UpdateSecretDetails(current_version_number=2)).data
    assert promoted.current_version_number == 2
    stages = _version_stages(vaults_client, s.id)
    assert stages == {1: {"PREVIOUS"}, 2: {"CURRENT", "LATEST"}}
    assert _bundle_bytes(secrets_client, s.id)[1] == b"staged"


def test_current_version_number_with_content_is_400(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    expect_service_error(400, "InvalidParameter", vaults_client.update_secret, s.id, vm.UpdateSecretDetails(
        current_version_number=1, secret_content=_content(b"both")))
    assert _version_stages(vaults_client, s.id) == {1: {"CURRENT", "LATEST"}}


def test_rollback_to_unknown_version_fails(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    with pytest.raises(oci.exceptions.ServiceError) as info:
        vaults_client.update_secret(s.id, vm.UpdateSecretDetails(current_version_number=42))
    assert info.value.status in (400, 404), (info.value.status, info.value.code)
    assert vaults_client.get_secret(s.id).data.current_version_number == 1


def test_update_secret_description_keeps_versions(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    updated = vaults_client.update_secret(s.id, vm.UpdateSecretDetails(description="new words")).data
    assert updated.description == "new words"
    assert updated.current_version_number == 1
    assert _version_stages(vaults_client, s.id) == {1: {"CURRENT", "LATEST"}}


def test_secret_versions_carry_an_etag_that_changes_with_their_stages(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    first = vaults_client.get_secret_version(s.id, 1).headers["etag"]
    assert first
    assert vaults_client.get_secret_version(s.id, 1).headers["etag"] == first
    _new_version(vaults_client, s.id, b"two")
    assert vaults_client.get_secret_version(s.id, 1).headers["etag"] != first  # CURRENT -> PREVIOUS


def test_list_and_get_secret_versions(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key, version_name="v-one")
    _new_version(vaults_client, s.id, b"2", name="v-two")
    versions = vaults_client.list_secret_versions(s.id).data
    assert isinstance(versions, list)
    assert sorted(v.version_number for v in versions) == [1, 2]
    by_number = {v.version_number: v for v in versions}
    assert by_number[1].name == "v-one"
    assert by_number[2].name == "v-two"
    assert all(v.secret_id == s.id for v in versions)
    assert all(v.content_type == "BASE64" for v in versions)
    assert all(v.time_created is not None for v in versions)

    v2 = vaults_client.get_secret_version(s.id, 2).data
    assert (v2.version_number, v2.name, v2.secret_id) == (2, "v-two", s.id)
    assert set(v2.stages) == {"CURRENT", "LATEST"}
    v1 = vaults_client.get_secret_version(s.id, 1).data
    assert (v1.version_number, v1.name) == (1, "v-one")
    assert set(v1.stages) == {"PREVIOUS"}


def test_get_unknown_secret_version_is_404(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    expect_service_error(404, "NotAuthorizedOrNotFound", vaults_client.get_secret_version, s.id, 7)


def test_schedule_and_cancel_secret_deletion(vaults_client, secrets_client, vault, aes_key, secret):
    s, content = secret(vault, aes_key)
    when = _in(days=1, hours=1).replace(microsecond=0)
    resp = vaults_client.schedule_secret_deletion(s.id, vm.ScheduleSecretDeletionDetails(time_of_deletion=when))
    assert resp.status in (200, 204)
    got = vaults_client.get_secret(s.id).data
    assert got.lifecycle_state == "PENDING_DELETION"
    assert got.time_of_deletion is not None
    assert abs((got.time_of_deletion - when).total_seconds()) < 2

    expect_service_error(404, "NotAuthorizedOrNotFound", secrets_client.get_secret_bundle, s.id)
    expect_service_error(409, "IncorrectState", vaults_client.update_secret, s.id,
                         vm.UpdateSecretDetails(secret_content=_content(b"not while pending")))

    resp = vaults_client.cancel_secret_deletion(s.id)
    assert resp.status in (200, 204)
    got = vaults_client.get_secret(s.id).data
    assert got.lifecycle_state == "ACTIVE"
    assert got.time_of_deletion is None
    assert got.current_version_number == 1
    assert _bundle_bytes(secrets_client, s.id)[1] == content


def test_schedule_secret_deletion_default_time(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    vaults_client.schedule_secret_deletion(s.id, vm.ScheduleSecretDeletionDetails())
    got = vaults_client.get_secret(s.id).data
    assert got.lifecycle_state == "PENDING_DELETION"
    assert got.time_of_deletion is not None
    # Oracle's "Deleting a Secret": the default is 30 days from now.
    assert abs((got.time_of_deletion - _in(days=30)).total_seconds()) < 3600, got.time_of_deletion


@pytest.mark.parametrize("days", [0, 31])
def test_schedule_secret_deletion_outside_window_is_400(vaults_client, vault, aes_key, secret, days):
    s, _ = secret(vault, aes_key)
    expect_service_error(400, "InvalidParameter", vaults_client.schedule_secret_deletion, s.id,
                         vm.ScheduleSecretDeletionDetails(time_of_deletion=_in(days=days)))
    assert vaults_client.get_secret(s.id).data.lifecycle_state == "ACTIVE"


def test_create_secret_with_disabled_key_is_409(vaults_client, mgmt_client, vault, aes_key):
    mgmt_client(vault).disable_key(aes_key.id)
    name = unique("disabled-key")
    expect_service_error(409, "IncorrectState", vaults_client.create_secret, vm.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=aes_key.id, secret_name=name,
        secret_content=_content(b"never stored")))
    assert vaults_client.list_secrets(COMPARTMENT_ID, name=name).data == []


def test_bundle_of_secret_with_disabled_key_is_409(vaults_client, secrets_client, mgmt_client,
                                                   vault, aes_key, secret):
    s, content = secret(vault, aes_key)
    mgmt = mgmt_client(vault)
    mgmt.disable_key(aes_key.id)
    expect_service_error(409, "IncorrectState", secrets_client.get_secret_bundle, s.id)
    expect_service_error(409, "IncorrectState", secrets_client.get_secret_bundle_by_name,
                         s.secret_name, vault.id)
    mgmt.enable_key(aes_key.id)
    assert _bundle_bytes(secrets_client, s.id)[1] == content


def test_update_secret_if_match(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    expect_service_error(412, "NoEtagMatch", vaults_client.update_secret, s.id,
                         vm.UpdateSecretDetails(secret_content=_content(b"lost update")), if_match="stale-etag")
    assert vaults_client.get_secret(s.id).data.current_version_number == 1

    etag = vaults_client.get_secret(s.id).headers["etag"]
    updated = vaults_client.update_secret(s.id, vm.UpdateSecretDetails(secret_content=_content(b"ok")),
                                          if_match=etag).data
    assert updated.current_version_number == 2


def test_create_secret_with_key_of_another_vault_fails(vaults_client, make_vault, make_key):
    vault_a, vault_b = make_vault(), make_vault()
    key_b = make_key(vault_b)
    name = unique("cross-vault")
    with pytest.raises(oci.exceptions.ServiceError) as info:
        vaults_client.create_secret(vm.CreateSecretDetails(
            compartment_id=COMPARTMENT_ID, vault_id=vault_a.id, key_id=key_b.id, secret_name=name,
            secret_content=_content(os.urandom(8))))
    assert 400 <= info.value.status < 500, info.value.status
    assert vaults_client.list_secrets(COMPARTMENT_ID, name=name).data == []


def test_concurrent_updates_of_one_secret_all_land_through_the_sdk_retry(oci_config, base_url, vault, aes_key, secret):
    """Updates racing on one secret: a write that started from a copy another
    request changed is refused with 409 IncorrectState (what OCI answers while
    a secret is UPDATING), and the SDK's default retry repeats it from fresh
    state, so every update lands as its own version and none is lost."""
    import concurrent.futures
    s, _ = secret(vault, aes_key, content=b"v1")
    writers, each = 6, 4

    def write(worker):
        client = oci.vault.VaultsClient(oci_config, service_endpoint=base_url,
                                        retry_strategy=oci.retry.DEFAULT_RETRY_STRATEGY, timeout=(5, 60))
        for i in range(each):
            _new_version(client, s.id, "w{}-{}".format(worker, i).encode())

    with concurrent.futures.ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))
    reader = oci.vault.VaultsClient(oci_config, service_endpoint=base_url)
    stages = _version_stages(reader, s.id)
    last = writers * each + 1
    assert sorted(stages) == list(range(1, last + 1))
    assert [n for n, st in stages.items() if "CURRENT" in st] == [last]
    assert reader.get_secret(s.id).data.current_version_number == last


SECURITY = "ocid1.compartment.oc1..aaaaaaaaemulatorsecurity00000000000000000000000000000000001"


def test_change_secret_compartment_moves_the_secret_and_keeps_its_versions(vaults_client, secrets_client,
                                                                           vault, aes_key, secret):
    s, _ = secret(vault, aes_key, content=b"moved along")
    resp = vaults_client.change_secret_compartment(
        s.id, oci.vault.models.ChangeSecretCompartmentDetails(compartment_id=SECURITY))
    assert (resp.status, resp.data) == (200, None)
    assert resp.headers["etag"]
    moved = vaults_client.get_secret(s.id).data
    assert (moved.compartment_id, moved.lifecycle_state, moved.vault_id) == (SECURITY, "ACTIVE", vault.id)
    assert moved.current_version_number == s.current_version_number
    assert s.id not in {x.id for x in list_all(vaults_client.list_secrets, COMPARTMENT_ID)}
    assert s.id in {x.id for x in list_all(vaults_client.list_secrets, SECURITY)}
    bundle = secrets_client.get_secret_bundle(s.id).data
    assert unb64(bundle.secret_bundle_content.content) == b"moved along"


def test_change_secret_compartment_refusals_change_nothing(vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    move = vaults_client.change_secret_compartment
    expect_service_error(400, "RelatedResourceNotAuthorizedOrNotFound", move, s.id,
                         oci.vault.models.ChangeSecretCompartmentDetails(
                             compartment_id="ocid1.compartment.oc1..aaaaaaaanope"))
    expect_service_error(412, "NoEtagMatch", move, s.id,
                         oci.vault.models.ChangeSecretCompartmentDetails(compartment_id=SECURITY), if_match="stale")
    vaults_client.schedule_secret_deletion(s.id, oci.vault.models.ScheduleSecretDeletionDetails())
    expect_service_error(409, "IncorrectState", move, s.id,
                         oci.vault.models.ChangeSecretCompartmentDetails(compartment_id=SECURITY))
    assert vaults_client.get_secret(s.id).data.compartment_id == COMPARTMENT_ID
