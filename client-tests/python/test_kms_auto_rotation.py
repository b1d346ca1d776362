"""Automatic key rotation (isAutoRotationEnabled, autoKeyRotationDetails) through the real SDK.

Oracle offers it only for keys in VIRTUAL_PRIVATE vaults. Tests that let time pass use
`clocked`, an emulator of their own whose clock they move; the others use the shared one.
"""
import datetime

import oci
import pytest

from support import COMPARTMENT_ID, expect_service_error, list_all, unique

models = oci.key_management.models
DAY = datetime.timedelta(days=1)


def _midnight(t):
    return t.astimezone(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _rotation(days, **kwargs):
    return models.AutoKeyRotationDetails(rotation_interval_in_days=days, **kwargs)


def _versions(client, key):
    """The key's versions, oldest first."""
    return list_all(client.list_key_versions, key.id, sort_order="ASC")


@pytest.fixture
def private_vault(kms_vault_client):
    return kms_vault_client.create_vault(models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("vpv"), vault_type="VIRTUAL_PRIVATE")).data


def test_a_key_rotates_once_per_interval_as_time_passes(clocked):
    vault = clocked.vault("VIRTUAL_PRIVATE")
    client = clocked.mgmt(vault)
    today = _midnight(clocked.now())
    key = clocked.key(vault, is_auto_rotation_enabled=True, auto_key_rotation_details=_rotation(60))
    assert key.is_auto_rotation_enabled is True
    details = key.auto_key_rotation_details
    assert (details.rotation_interval_in_days, details.time_of_schedule_start, details.time_of_next_rotation) == \
        (60, today, today + 60 * DAY)
    assert (details.time_of_last_rotation, details.last_rotation_status) == (None, None)

    clocked.advance(days=61)
    got = client.get_key(key.id).data
    versions = _versions(client, key)
    assert [v.id for v in versions] == [key.current_key_version, got.current_key_version]
    assert [v.is_auto_rotated for v in versions] == [False, True]
    assert versions[1].time_created == today + 60 * DAY
    details = got.auto_key_rotation_details
    assert (details.time_of_last_rotation, details.time_of_next_rotation, details.last_rotation_status) == \
        (today + 60 * DAY, today + 120 * DAY, "SUCCESS")
    assert versions[1].id in details.last_rotation_message
    # The new version is the one Encrypt uses.
    sealed = clocked.crypto(vault).encrypt(models.EncryptDataDetails(key_id=key.id, plaintext="aGk=")).data
    assert sealed.key_version_id == got.current_key_version

    clocked.advance(days=30)
    assert len(_versions(client, key)) == 2
    assert client.get_key(key.id).data.current_key_version == got.current_key_version


def test_several_intervals_passed_at_once_make_one_rotation_each(clocked):
    vault = clocked.vault("VIRTUAL_PRIVATE")
    client = clocked.mgmt(vault)
    today = _midnight(clocked.now())
    key = clocked.key(vault, is_auto_rotation_enabled=True, auto_key_rotation_details=_rotation(60))
    clocked.advance(days=200)
    versions = _versions(client, key)
    assert [v.time_created for v in versions[1:]] == [today + 60 * DAY, today + 120 * DAY, today + 180 * DAY]
    got = client.get_key(key.id).data
    assert got.current_key_version == versions[-1].id
    assert got.auto_key_rotation_details.time_of_next_rotation == today + 240 * DAY


def test_update_key_enables_changes_and_disables_rotation(clocked):
    vault = clocked.vault("VIRTUAL_PRIVATE")
    client = clocked.mgmt(vault)
    key = clocked.key(vault)
    assert (key.is_auto_rotation_enabled, key.auto_key_rotation_details) == (False, None)
    start = _midnight(clocked.now()) + 10 * DAY
    # A dict is sent as given: the interval as a numeric string, the start as a date.
    updated = client.update_key(key.id, models.UpdateKeyDetails(
        is_auto_rotation_enabled=True,
        auto_key_rotation_details={"rotationIntervalInDays": "90",
                                   "timeOfScheduleStart": start.strftime("%Y-%m-%d")})).data
    details = updated.auto_key_rotation_details
    assert (updated.is_auto_rotation_enabled, details.rotation_interval_in_days) == (True, 90)
    assert (details.time_of_schedule_start, details.time_of_next_rotation) == (start, start + 90 * DAY)
    summary = [k for k in list_all(client.list_keys, COMPARTMENT_ID) if k.id == key.id]
    assert [k.is_auto_rotation_enabled for k in summary] == [True]

    # Moving the next rotation to a given day.
    nxt = start + 30 * DAY
    moved = client.update_key(key.id, models.UpdateKeyDetails(
        auto_key_rotation_details=_rotation(90, time_of_next_rotation=nxt + datetime.timedelta(hours=5)))).data
    assert moved.auto_key_rotation_details.time_of_next_rotation == nxt

    off = client.update_key(key.id, models.UpdateKeyDetails(is_auto_rotation_enabled=False)).data
    assert off.is_auto_rotation_enabled is False
    assert off.auto_key_rotation_details.rotation_interval_in_days == 90
    assert off.auto_key_rotation_details.time_of_next_rotation is None
    clocked.advance(days=100)
    assert len(_versions(client, key)) == 1
    assert [k.is_auto_rotation_enabled for k in list_all(client.list_keys, COMPARTMENT_ID)
            if k.id == key.id] == [False]


def test_a_disabled_key_fails_its_scheduled_rotation(clocked):
    vault = clocked.vault("VIRTUAL_PRIVATE")
    client = clocked.mgmt(vault)
    today = _midnight(clocked.now())
    key = clocked.key(vault, is_auto_rotation_enabled=True, auto_key_rotation_details=_rotation(60))
    client.disable_key(key.id)
    clocked.advance(days=61)
    got = client.get_key(key.id).data
    assert got.current_key_version == key.current_key_version
    details = got.auto_key_rotation_details
    assert (details.last_rotation_status, details.time_of_last_rotation, details.time_of_next_rotation) == \
        ("FAILED", None, today + 120 * DAY)
    assert "DISABLED" in details.last_rotation_message
    assert len(_versions(client, key)) == 1


def test_rotation_in_a_default_vault_is_400_and_changes_nothing(mgmt_client, vault, aes_key):
    client = mgmt_client(vault)
    name = unique("norot")
    err = expect_service_error(400, "InvalidParameter", client.create_key, models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=name, key_shape=models.KeyShape(algorithm="AES", length=32),
        is_auto_rotation_enabled=True, auto_key_rotation_details=_rotation(90)))
    assert "VIRTUAL_PRIVATE" in err.message
    assert name not in {k.display_name for k in list_all(client.list_keys, COMPARTMENT_ID)}
    expect_service_error(400, "InvalidParameter", client.update_key, aes_key.id, models.UpdateKeyDetails(
        display_name=unique("renamed"), is_auto_rotation_enabled=True, auto_key_rotation_details=_rotation(90)))
    got = client.get_key(aes_key.id).data
    assert (got.display_name, got.is_auto_rotation_enabled, got.auto_key_rotation_details) == \
        (aes_key.display_name, False, None)
    # Saying it is off is fine anywhere.
    assert client.update_key(aes_key.id, models.UpdateKeyDetails(
        is_auto_rotation_enabled=False)).data.is_auto_rotation_enabled is False


@pytest.mark.parametrize("enabled, details, code, words", [
    (True, _rotation(59), "InvalidParameter", "between 60 and 365"),
    (True, _rotation(366), "InvalidParameter", "between 60 and 365"),
    (True, None, "MissingParameter", "rotationIntervalInDays"),
    (True, models.AutoKeyRotationDetails(), "MissingParameter", "rotationIntervalInDays"),
    (True, _rotation(90, last_rotation_status="SUCCESS"), "InvalidParameter", "set by the service"),
    (True, {"rotationIntervalInDays": "ninety"}, "InvalidParameter", "expected an integer"),
    (True, {"rotationIntervalInDays": 90, "timeOfScheduleStart": "someday"}, "InvalidParameter",
     "timeOfScheduleStart"),
    (False, _rotation(90, time_of_next_rotation=datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)),
     "InvalidParameter", "timeOfNextRotation"),
])
def test_bad_rotation_settings_are_400_and_create_nothing(mgmt_client, private_vault, enabled, details, code,
                                                          words):
    client = mgmt_client(private_vault)
    name = unique("badrot")
    err = expect_service_error(400, code, client.create_key, models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=name, key_shape=models.KeyShape(algorithm="AES", length=16),
        is_auto_rotation_enabled=enabled, auto_key_rotation_details=details))
    assert words in err.message, err.message
    assert name not in {k.display_name for k in list_all(client.list_keys, COMPARTMENT_ID)}


def test_a_round_tripped_schedule_changes_nothing(mgmt_client, private_vault):
    client = mgmt_client(private_vault)
    key = client.create_key(models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("rt"),
        key_shape=models.KeyShape(algorithm="AES", length=16),
        is_auto_rotation_enabled=True, auto_key_rotation_details=_rotation(120))).data
    same = client.update_key(key.id, models.UpdateKeyDetails(
        is_auto_rotation_enabled=True, auto_key_rotation_details=key.auto_key_rotation_details)).data
    assert oci.util.to_dict(same.auto_key_rotation_details) == oci.util.to_dict(key.auto_key_rotation_details)
    assert same.auto_key_rotation_details.time_of_next_rotation is not None
