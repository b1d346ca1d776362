"""KMS crypto through oci.key_management.KmsCryptoClient (vault crypto endpoint)."""
import os

import oci
import pytest

from support import b64, expect_service_error, unb64

models = oci.key_management.models
AAD = {"a": "b"}


def _encrypt(client, key, data, **kwargs):
    return client.encrypt(models.EncryptDataDetails(key_id=key.id, plaintext=b64(data), **kwargs)).data


def _decrypt(client, key, ciphertext, **kwargs):
    return client.decrypt(models.DecryptDataDetails(key_id=key.id, ciphertext=ciphertext, **kwargs)).data


@pytest.mark.parametrize("data", [b"hello, vault", os.urandom(1), os.urandom(4096), bytes(range(256))],
                         ids=["text", "one-byte", "4KiB", "all-bytes"])
def test_encrypt_decrypt_round_trip(crypto_client, vault, aes_key, data):
    client = crypto_client(vault)
    enc = _encrypt(client, aes_key, data, associated_data=AAD)
    assert enc.ciphertext and enc.ciphertext != b64(data)
    unb64(enc.ciphertext)  # the ciphertext is base64 on the wire
    assert enc.key_id == aes_key.id
    assert enc.key_version_id == aes_key.current_key_version

    dec = _decrypt(client, aes_key, enc.ciphertext, associated_data=AAD)
    assert unb64(dec.plaintext) == data
    assert dec.plaintext_checksum
    assert dec.key_id == aes_key.id
    assert dec.key_version_id == aes_key.current_key_version


def test_encrypt_is_randomised(crypto_client, vault, aes_key):
    client = crypto_client(vault)
    a = _encrypt(client, aes_key, b"same plaintext").ciphertext
    b = _encrypt(client, aes_key, b"same plaintext").ciphertext
    assert a != b
    assert unb64(_decrypt(client, aes_key, a).plaintext) == b"same plaintext"
    assert unb64(_decrypt(client, aes_key, b).plaintext) == b"same plaintext"


def test_decrypt_with_different_associated_data_is_400(crypto_client, vault, aes_key):
    client = crypto_client(vault)
    enc = _encrypt(client, aes_key, b"bound to aad", associated_data=AAD)
    expect_service_error(400, "InvalidParameter", client.decrypt, models.DecryptDataDetails(
        key_id=aes_key.id, ciphertext=enc.ciphertext, associated_data={"a": "c"}))
    expect_service_error(400, "InvalidParameter", client.decrypt, models.DecryptDataDetails(
        key_id=aes_key.id, ciphertext=enc.ciphertext))


def _flip_last_byte(ct):
    raw = bytearray(unb64(ct))
    raw[-1] ^= 0x01
    return b64(bytes(raw))


def _flip_middle_byte(ct):
    raw = bytearray(unb64(ct))
    raw[len(raw) // 2] ^= 0x80
    return b64(bytes(raw))


def _truncate(ct):
    return b64(unb64(ct)[:8])


def _not_base64(ct):
    return "!!!" + ct[3:]


@pytest.mark.parametrize("corrupt", [_flip_last_byte, _flip_middle_byte, _truncate, _not_base64],
                         ids=["flip-last", "flip-middle", "truncated", "not-base64"])
def test_decrypt_corrupted_ciphertext_is_400(crypto_client, vault, aes_key, corrupt):
    client = crypto_client(vault)
    enc = _encrypt(client, aes_key, b"x" * 64, associated_data=AAD)
    expect_service_error(400, "InvalidParameter", client.decrypt, models.DecryptDataDetails(
        key_id=aes_key.id, ciphertext=corrupt(enc.ciphertext), associated_data=AAD))


def test_ciphertext_survives_rotation(crypto_client, mgmt_client, vault, aes_key):
    client = crypto_client(vault)
    old = _encrypt(client, aes_key, b"before rotation", associated_data=AAD)
    assert old.key_version_id == aes_key.current_key_version

    new_version = mgmt_client(vault).create_key_version(aes_key.id).data

    dec_old = _decrypt(client, aes_key, old.ciphertext, associated_data=AAD)
    assert unb64(dec_old.plaintext) == b"before rotation"
    assert dec_old.key_version_id == aes_key.current_key_version

    new = _encrypt(client, aes_key, b"after rotation", associated_data=AAD)
    assert new.key_version_id == new_version.id
    dec_new = _decrypt(client, aes_key, new.ciphertext, associated_data=AAD)
    assert unb64(dec_new.plaintext) == b"after rotation"
    assert dec_new.key_version_id == new_version.id


def test_decrypt_with_another_keys_id_fails(crypto_client, vault, aes_key, make_key):
    client = crypto_client(vault)
    other = make_key(vault)
    enc = _encrypt(client, aes_key, b"for key one")
    with pytest.raises(oci.exceptions.ServiceError) as info:
        _decrypt(client, other, enc.ciphertext)
    assert info.value.status in (400, 404), (info.value.status, info.value.code)


@pytest.mark.parametrize("length", [16, 24, 32])
def test_generate_data_encryption_key_with_plaintext(crypto_client, vault, aes_key, length):
    client = crypto_client(vault)
    gen = client.generate_data_encryption_key(models.GenerateKeyDetails(
        key_id=aes_key.id, include_plaintext_key=True,
        key_shape=models.KeyShape(algorithm="AES", length=length))).data
    assert gen.ciphertext
    assert gen.plaintext is not None
    dek = unb64(gen.plaintext)
    assert len(dek) == length
    assert gen.plaintext_checksum
    assert unb64(_decrypt(client, aes_key, gen.ciphertext).plaintext) == dek


def test_generate_data_encryption_key_without_plaintext(crypto_client, vault, aes_key):
    client = crypto_client(vault)
    gen = client.generate_data_encryption_key(models.GenerateKeyDetails(
        key_id=aes_key.id, include_plaintext_key=False,
        key_shape=models.KeyShape(algorithm="AES", length=32))).data
    assert gen.ciphertext
    assert gen.plaintext is None
    assert gen.plaintext_checksum is None
    assert len(unb64(_decrypt(client, aes_key, gen.ciphertext).plaintext)) == 32


def test_generate_data_encryption_key_with_associated_data(crypto_client, vault, aes_key):
    client = crypto_client(vault)
    gen = client.generate_data_encryption_key(models.GenerateKeyDetails(
        key_id=aes_key.id, include_plaintext_key=True, associated_data=AAD,
        key_shape=models.KeyShape(algorithm="AES", length=32))).data
    dec = _decrypt(client, aes_key, gen.ciphertext, associated_data=AAD)
    assert unb64(dec.plaintext) == unb64(gen.plaintext)


def test_disabled_key_cannot_be_used(crypto_client, mgmt_client, vault, aes_key):
    client = crypto_client(vault)
    mgmt = mgmt_client(vault)
    enc = _encrypt(client, aes_key, b"encrypted while enabled", associated_data=AAD)

    assert mgmt.disable_key(aes_key.id).data.lifecycle_state == "DISABLED"
    expect_service_error(409, "IncorrectState", client.encrypt, models.EncryptDataDetails(
        key_id=aes_key.id, plaintext=b64(b"nope")))
    expect_service_error(409, "IncorrectState", client.decrypt, models.DecryptDataDetails(
        key_id=aes_key.id, ciphertext=enc.ciphertext, associated_data=AAD))
    expect_service_error(409, "IncorrectState", client.generate_data_encryption_key, models.GenerateKeyDetails(
        key_id=aes_key.id, include_plaintext_key=True, key_shape=models.KeyShape(algorithm="AES", length=32)))

    assert mgmt.enable_key(aes_key.id).data.lifecycle_state == "ENABLED"
    assert unb64(_decrypt(client, aes_key, enc.ciphertext, associated_data=AAD).plaintext) == \
        b"encrypted while enabled"
    again = _encrypt(client, aes_key, b"works again")
    assert unb64(_decrypt(client, aes_key, again.ciphertext).plaintext) == b"works again"


def test_encrypt_with_key_of_another_vault_is_404(crypto_client, make_vault, make_key):
    vault_a, vault_b = make_vault(), make_vault()
    key_b = make_key(vault_b)
    expect_service_error(404, "NotAuthorizedOrNotFound", crypto_client(vault_a).encrypt,
                         models.EncryptDataDetails(key_id=key_b.id, plaintext=b64(b"wrong vault")))
    enc = _encrypt(crypto_client(vault_b), key_b, b"right vault")
    assert enc.key_id == key_b.id


def test_plaintext_must_be_base64(crypto_client, vault, aes_key):
    expect_service_error(400, "InvalidParameter", crypto_client(vault).encrypt, models.EncryptDataDetails(
        key_id=aes_key.id, plaintext="this is not base64!"))
