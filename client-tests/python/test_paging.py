"""Keyset paging of the lists that page in SQL (ListVaults, ListKeys,
ListKeyVersions, ListSecretVersions, ListSecretBundleVersions), walked page by page with the
real SDK: every row once, in the asked order, the token opaque, and a token
of another list or order refused with 400 InvalidParameter."""
import oci
import pytest

from support import COMPARTMENT_ID, b64, expect_service_error, unique, walk_pages

vault_models = oci.vault.models


def test_list_keys_walks_by_display_name_in_both_orders(mgmt_client, vault, make_key):
    prefix = unique("paged")
    names = ["{}-{}".format(prefix, c) for c in "dbeac"]
    for name in names:
        make_key(vault, display_name=name)
    client = mgmt_client(vault)
    for order, expected in [("ASC", sorted(names)), ("DESC", sorted(names, reverse=True))]:
        items, responses = walk_pages(client.list_keys, COMPARTMENT_ID, limit=2,
                                      sort_by="DISPLAYNAME", sort_order=order)
        assert [k.display_name for k in items if k.display_name.startswith(prefix)] == expected
        assert [len(r.data) for r in responses][-1] <= 2
        assert all(len(r.data) == 2 for r in responses[:-1])


def test_list_vaults_walks_pages_in_both_orders(kms_vault_client, make_vault):
    prefix = unique("paged-vault")
    names = ["{}-{}".format(prefix, c) for c in "cadbe"]
    made = {make_vault(display_name=name).id for name in names}
    for order, expected in [("ASC", sorted(names)), ("DESC", sorted(names, reverse=True))]:
        items, responses = walk_pages(kms_vault_client.list_vaults, COMPARTMENT_ID, limit=2,
                                      sort_by="DISPLAYNAME", sort_order=order)
        assert [v.display_name for v in items if v.display_name.startswith(prefix)] == expected
        assert all(len(r.data) == 2 for r in responses[:-1])
        assert len({v.id for v in items}) == len(items)
    for order in ["ASC", "DESC"]:
        items, _ = walk_pages(kms_vault_client.list_vaults, COMPARTMENT_ID, limit=3,
                              sort_by="TIMECREATED", sort_order=order)
        assert made <= {v.id for v in items}
        assert len({v.id for v in items}) == len(items)
        times = [v.time_created for v in items]
        assert times == sorted(times, reverse=(order == "DESC"))
    by_time = kms_vault_client.list_vaults(COMPARTMENT_ID, limit=1)
    token = by_time.headers["opc-next-page"]
    expect_service_error(400, "InvalidParameter", kms_vault_client.list_vaults, COMPARTMENT_ID,
                         limit=1, page=token, sort_by="DISPLAYNAME")
    expect_service_error(400, "InvalidParameter", kms_vault_client.list_vaults, COMPARTMENT_ID,
                         limit=1, page="not-a-token")
    assert kms_vault_client.list_vaults(COMPARTMENT_ID, limit=2, page=token).status == 200


def test_list_keys_filter_applies_before_the_limit(mgmt_client, vault, make_key):
    made = [make_key(vault, length=16).id for _ in range(3)] + [make_key(vault, length=32).id]
    items, responses = walk_pages(mgmt_client(vault).list_keys, COMPARTMENT_ID, limit=2, length=16)
    assert sorted(k.id for k in items) == sorted(made[:3])
    assert [len(r.data) for r in responses] == [2, 1]


def test_a_token_of_another_order_or_list_is_refused(mgmt_client, vault, make_key):
    for _ in range(3):
        make_key(vault)
    client = mgmt_client(vault)
    by_time = client.list_keys(COMPARTMENT_ID, limit=1)
    token = by_time.headers["opc-next-page"]
    expect_service_error(400, "InvalidParameter", client.list_keys, COMPARTMENT_ID, limit=1,
                         page=token, sort_by="DISPLAYNAME")
    key = by_time.data[0]
    expect_service_error(400, "InvalidParameter", client.list_key_versions, key.id, limit=1,
                         page=token)
    expect_service_error(400, "InvalidParameter", client.list_keys, COMPARTMENT_ID, limit=1,
                         page="not-a-token")
    # The same list in the other order, or with another filter: a token
    # only continues the walk that made it.
    expect_service_error(400, "InvalidParameter", client.list_keys, COMPARTMENT_ID, limit=1,
                         page=token, sort_order="DESC")
    expect_service_error(400, "InvalidParameter", client.list_keys, COMPARTMENT_ID, limit=1,
                         page=token, algorithm="RSA")
    # A different limit continues it.
    assert client.list_keys(COMPARTMENT_ID, limit=2, page=token).status == 200


def test_a_version_token_does_not_continue_another_secrets_list(vaults_client, vault, aes_key,
                                                                  secret):
    a, _ = secret(vault, aes_key)
    b, _ = secret(vault, aes_key)
    for s in (a, b):
        for i in range(2):
            vaults_client.update_secret(s.id, vault_models.UpdateSecretDetails(
                secret_content=vault_models.Base64SecretContentDetails(
                    content_type="BASE64", content=b64(b"x%d" % i))))
    first = vaults_client.list_secret_versions(a.id, limit=1)
    assert [v.version_number for v in first.data] == [3]  # newest first by default
    token = first.headers["opc-next-page"]
    expect_service_error(400, "InvalidParameter", vaults_client.list_secret_versions, b.id,
                         limit=1, page=token)
    assert [v.version_number for v in
            vaults_client.list_secret_versions(a.id, limit=5, page=token).data] == [2, 1]


def test_key_versions_page_in_creation_order(mgmt_client, vault, make_key):
    key = make_key(vault)
    client = mgmt_client(vault)
    made = [key.current_key_version] + [client.create_key_version(key.id).data.id for _ in range(4)]
    for order, expected in [("ASC", made), ("DESC", made[::-1])]:
        items, responses = walk_pages(client.list_key_versions, key.id, limit=2,
                                      sort_by="TIMECREATED", sort_order=order)
        assert [v.id for v in items] == expected
        assert [len(r.data) for r in responses] == [2, 2, 1]


def test_secret_versions_page_by_number_and_skip_deleted_ones(vaults_client, secrets_client,
                                                              vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    for i in range(5):
        vaults_client.update_secret(s.id, vault_models.UpdateSecretDetails(
            secret_content=vault_models.Base64SecretContentDetails(
                content_type="BASE64", content=b64("v{}".format(i).encode()))))
    # Version 1 is now DEPRECATED and may be scheduled for deletion: listed
    # with its time of deletion, as OCI lists a version pending deletion.
    vaults_client.schedule_secret_version_deletion(
        s.id, 1, vault_models.ScheduleSecretVersionDeletionDetails())
    for order, expected in [("ASC", [1, 2, 3, 4, 5, 6]), ("DESC", [6, 5, 4, 3, 2, 1])]:
        items, responses = walk_pages(vaults_client.list_secret_versions, s.id, limit=4,
                                      sort_by="VERSION_NUMBER", sort_order=order)
        assert [v.version_number for v in items] == expected
        assert [len(r.data) for r in responses] == [4, 2]
        pending = [v for v in items if v.version_number == 1][0]
        assert pending.time_of_deletion is not None
        bundles, _ = walk_pages(secrets_client.list_secret_bundle_versions, s.id, limit=5,
                                sort_by="VERSION_NUMBER", sort_order=order)
        assert [v.version_number for v in bundles] == expected
