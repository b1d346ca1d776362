"""ScheduleKeyVersionDeletion / CancelKeyVersionDeletion through the real SDK.

Tests that only schedule and cancel use the shared emulator; the ones that let the
deletion time pass use `clocked`, an emulator of their own whose clock they move.
"""
import datetime
import uuid

import oci
import pytest

from support import KEY_VERSION_OCID_PREFIX, b64, expect_service_error, unb64

models = oci.key_management.models
DAY = datetime.timedelta(days=1)


def _rotated(client, key):
    """Rotates `key` once; returns (its first version id, the new current version id)."""
    second = client.create_key_version(key.id).data
    return key.current_key_version, second.id


def _schedule(client, key, version_id, when=None, **kwargs):
    return client.schedule_key_version_deletion(
        key.id, version_id, models.ScheduleKeyVersionDeletionDetails(time_of_deletion=when), **kwargs)


def test_schedule_and_cancel_a_key_version_deletion(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    first, current = _rotated(client, aes_key)
    before = client.get_key_version(aes_key.id, first)

    scheduled = _schedule(client, aes_key, first)
    kv = scheduled.data
    assert (kv.id, kv.key_id, kv.vault_id, kv.lifecycle_state) == (first, aes_key.id, vault.id, "PENDING_DELETION")
    # No time given: 30 days from the request.
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((kv.time_of_deletion - (now + 30 * DAY)).total_seconds()) < 60
    assert scheduled.headers["etag"] not in ("", before.headers["etag"])
    got = client.get_key_version(aes_key.id, first)
    assert (got.data.lifecycle_state, got.data.time_of_deletion) == ("PENDING_DELETION", kv.time_of_deletion)
    assert got.headers["etag"] == scheduled.headers["etag"]
    listed = {v.id: v.lifecycle_state for v in client.list_key_versions(aes_key.id).data}
    assert listed == {first: "PENDING_DELETION", current: "ENABLED"}
    assert client.get_key(aes_key.id).data.lifecycle_state == "ENABLED"

    cancelled = client.cancel_key_version_deletion(aes_key.id, first)
    assert (cancelled.data.lifecycle_state, cancelled.data.time_of_deletion) == ("ENABLED", None)
    assert cancelled.headers["etag"] == client.get_key_version(aes_key.id, first).headers["etag"]
    assert client.get_key_version(aes_key.id, first).data.lifecycle_state == "ENABLED"


def test_schedule_key_version_deletion_at_a_given_time(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    first, _ = _rotated(client, aes_key)
    when = (datetime.datetime.now(datetime.timezone.utc) + 8 * DAY).replace(microsecond=0)
    kv = _schedule(client, aes_key, first, when).data
    assert kv.lifecycle_state == "PENDING_DELETION"
    assert kv.time_of_deletion == when


@pytest.mark.parametrize("days", [3, 31])
def test_a_time_of_deletion_outside_7_to_30_days_is_400(mgmt_client, vault, aes_key, days):
    client = mgmt_client(vault)
    first, _ = _rotated(client, aes_key)
    when = datetime.datetime.now(datetime.timezone.utc) + days * DAY
    err = expect_service_error(400, "InvalidParameter", _schedule, client, aes_key, first, when)
    assert "between 7 and 30 days" in err.message
    assert client.get_key_version(aes_key.id, first).data.lifecycle_state == "ENABLED"


def test_the_current_key_version_cannot_be_scheduled_for_deletion(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    err = expect_service_error(409, "IncorrectState", _schedule, client, aes_key, aes_key.current_key_version)
    assert "current version" in err.message and "rotate" in err.message
    assert client.get_key_version(aes_key.id, aes_key.current_key_version).data.lifecycle_state == "ENABLED"


def test_a_key_version_of_another_key_or_none_is_404(mgmt_client, vault, make_key):
    client = mgmt_client(vault)
    key_a, key_b = make_key(vault), make_key(vault)
    b_first, _ = _rotated(client, key_b)
    expect_service_error(404, "NotAuthorizedOrNotFound", _schedule, client, key_a, b_first)
    expect_service_error(404, "NotAuthorizedOrNotFound", client.cancel_key_version_deletion, key_a.id, b_first)
    unknown = KEY_VERSION_OCID_PREFIX + "doesnotexist" + uuid.uuid4().hex
    expect_service_error(404, "NotAuthorizedOrNotFound", _schedule, client, key_a, unknown)
    assert client.get_key_version(key_b.id, b_first).data.lifecycle_state == "ENABLED"


def test_schedule_and_cancel_honour_if_match(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    first, _ = _rotated(client, aes_key)
    expect_service_error(412, "NoEtagMatch", _schedule, client, aes_key, first, if_match="wrong-etag")
    etag = client.get_key_version(aes_key.id, first).headers["etag"]
    scheduled = _schedule(client, aes_key, first, if_match=etag)
    assert scheduled.data.lifecycle_state == "PENDING_DELETION"
    # The old etag no longer matches; the new one does.
    expect_service_error(412, "NoEtagMatch", client.cancel_key_version_deletion, aes_key.id, first, if_match=etag)
    cancelled = client.cancel_key_version_deletion(aes_key.id, first, if_match=scheduled.headers["etag"])
    assert cancelled.data.lifecycle_state == "ENABLED"


def test_scheduling_twice_or_cancelling_an_enabled_version_is_409(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    first, _ = _rotated(client, aes_key)
    expect_service_error(409, "IncorrectState", client.cancel_key_version_deletion, aes_key.id, first)
    _schedule(client, aes_key, first)
    expect_service_error(409, "IncorrectState", _schedule, client, aes_key, first)


def test_a_version_pending_deletion_neither_encrypts_nor_decrypts(mgmt_client, crypto_client, vault, aes_key):
    client, crypto = mgmt_client(vault), crypto_client(vault)
    old = crypto.encrypt(models.EncryptDataDetails(key_id=aes_key.id, plaintext=b64(b"old"))).data.ciphertext
    first, current = _rotated(client, aes_key)
    _schedule(client, aes_key, first)

    expect_service_error(409, "IncorrectState", crypto.decrypt,
                         models.DecryptDataDetails(key_id=aes_key.id, ciphertext=old))
    expect_service_error(409, "IncorrectState", crypto.encrypt, models.EncryptDataDetails(
        key_id=aes_key.id, key_version_id=first, plaintext=b64(b"x")))
    # The current version still works.
    fresh = crypto.encrypt(models.EncryptDataDetails(key_id=aes_key.id, plaintext=b64(b"new"))).data
    assert fresh.key_version_id == current

    client.cancel_key_version_deletion(aes_key.id, first)
    opened = crypto.decrypt(models.DecryptDataDetails(key_id=aes_key.id, ciphertext=old)).data
    assert (unb64(opened.plaintext), opened.key_version_id) == (b"old", first)


def test_a_key_version_is_deleted_when_its_time_passes(clocked):
    vault = clocked.vault()
    key = clocked.key(vault)
    client, crypto = clocked.mgmt(vault), clocked.crypto(vault)
    old = crypto.encrypt(models.EncryptDataDetails(key_id=key.id, plaintext=b64(b"old"))).data.ciphertext
    first, _ = _rotated(client, key)
    when = clocked.now() + 7 * DAY + datetime.timedelta(hours=1)
    _schedule(client, key, first, when)

    clocked.advance(days=7)
    assert client.get_key_version(key.id, first).data.lifecycle_state == "PENDING_DELETION"
    clocked.advance(seconds=3600 + 1)
    deleted = client.get_key_version(key.id, first).data
    assert deleted.lifecycle_state == "DELETED"
    assert {v.id: v.lifecycle_state for v in client.list_key_versions(key.id).data}[first] == "DELETED"
    expect_service_error(409, "IncorrectState", client.cancel_key_version_deletion, key.id, first)
    expect_service_error(409, "IncorrectState", crypto.decrypt,
                         models.DecryptDataDetails(key_id=key.id, ciphertext=old))
    assert client.get_key(key.id).data.lifecycle_state == "ENABLED"
