"""RSA and ECDSA master keys through the real Python SDK: key shapes, public
keys, Sign/Verify with every signing algorithm, RSA-OAEP Encrypt/Decrypt.

Every signature and OAEP ciphertext is checked with an independent library
(`cryptography`), never only with the emulator itself.
"""
import base64
import hashlib
import json

import oci
import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from support import COMPARTMENT_ID, b64, expect_service_error, raw_request, unb64, unique

models = oci.key_management.models

HASHES = {"224": hashes.SHA224, "256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
RSA_ALGORITHMS = ["SHA_{}_RSA_PKCS_PSS".format(h) for h in HASHES] + \
                 ["SHA_{}_RSA_PKCS1_V1_5".format(h) for h in HASHES]
ECDSA_ALGORITHMS = ["ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512"]
CURVES = {"NIST_P256": (32, ec.SECP256R1), "NIST_P384": (48, ec.SECP384R1), "NIST_P521": (66, ec.SECP521R1)}


def _hash_of(algorithm):
    for bits, h in HASHES.items():
        if "SHA_" + bits in algorithm:
            return h()
    raise AssertionError(algorithm)


def _local_verify(public_key, algorithm, message, signature):
    """Raises InvalidSignature unless `signature` is valid (cryptography)."""
    h = _hash_of(algorithm)
    if algorithm.startswith("ECDSA"):
        public_key.verify(signature, message, ec.ECDSA(h))
    elif algorithm.endswith("PSS"):
        public_key.verify(signature, message, padding.PSS(padding.MGF1(h), padding.PSS.DIGEST_LENGTH), h)
    else:
        public_key.verify(signature, message, padding.PKCS1v15(), h)


def _local_sign(private_key, algorithm, message):
    h = _hash_of(algorithm)
    if algorithm.startswith("ECDSA"):
        return private_key.sign(message, ec.ECDSA(h))
    if algorithm.endswith("PSS"):
        return private_key.sign(message, padding.PSS(padding.MGF1(h), padding.PSS.DIGEST_LENGTH), h)
    return private_key.sign(message, padding.PKCS1v15(), h)


def _create(mgmt_client, vault, algorithm, length, curve_id=None, protection_mode=None):
    return mgmt_client(vault).create_key(models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("asym"),
        key_shape=models.KeyShape(algorithm=algorithm, length=length, curve_id=curve_id),
        protection_mode=protection_mode)).data


def _public_key(mgmt_client, vault, key):
    version = mgmt_client(vault).get_key_version(key.id, key.current_key_version).data
    assert version.public_key.startswith("-----BEGIN PUBLIC KEY-----\n")
    return serialization.load_pem_public_key(version.public_key.encode())


@pytest.fixture(scope="module")
def asym_vault(make_vault):
    return make_vault()


@pytest.fixture(scope="module")
def rsa_key(mgmt_client, asym_vault):
    return _create(mgmt_client, asym_vault, "RSA", 256)


@pytest.fixture(scope="module")
def ec_keys(mgmt_client, asym_vault):
    return {curve: _create(mgmt_client, asym_vault, "ECDSA", length, curve)
            for curve, (length, _) in CURVES.items()}


@pytest.mark.parametrize("length", [256, 384, 512])
def test_rsa_key_shapes_and_public_key(mgmt_client, asym_vault, length):
    key = _create(mgmt_client, asym_vault, "RSA", length, protection_mode="SOFTWARE")
    assert (key.key_shape.algorithm, key.key_shape.length, key.key_shape.curve_id) == ("RSA", length, None)
    assert key.protection_mode == "SOFTWARE"
    public = _public_key(mgmt_client, asym_vault, key)
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == length * 8
    # The SDKs' KeyVersionSummary has no publicKey; the wire of ListKeyVersions carries it.
    listed = raw_request(asym_vault.management_endpoint, "GET", "/20180608/keys/{}/keyVersions".format(key.id))
    assert listed.status_code == 200, listed.text
    assert [v["publicKey"] for v in listed.json()] == [
        mgmt_client(asym_vault).get_key_version(key.id, key.current_key_version).data.public_key]


@pytest.mark.parametrize("curve", sorted(CURVES))
def test_ecdsa_key_shapes_and_public_key(mgmt_client, asym_vault, ec_keys, curve):
    key = ec_keys[curve]
    length, local_curve = CURVES[curve]
    assert (key.key_shape.algorithm, key.key_shape.length, key.key_shape.curve_id) == ("ECDSA", length, curve)
    fetched = mgmt_client(asym_vault).get_key(key.id).data
    assert fetched.key_shape.curve_id == curve
    public = _public_key(mgmt_client, asym_vault, key)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert isinstance(public.curve, local_curve)


def test_aes_key_versions_have_no_public_key(mgmt_client, vault, aes_key):
    version = mgmt_client(vault).get_key_version(aes_key.id, aes_key.current_key_version).data
    assert version.public_key is None


@pytest.mark.parametrize("shape,needle", [
    ({"algorithm": "ECDSA", "length": 32}, "curveId is required"),
    ({"algorithm": "ECDSA", "length": 48, "curveId": "NIST_P256"}, "does not fit curveId NIST_P256"),
    ({"algorithm": "AES", "length": 32, "curveId": "NIST_P256"}, "ECDSA keys only"),
    ({"algorithm": "RSA", "length": 128}, "not valid for RSA"),
    ({"algorithm": "ECDSA", "length": 32, "curveId": "NIST_P192"}, "keyShape.curveId"),
])
def test_bad_key_shapes_are_400_and_create_nothing(mgmt_client, asym_vault, shape, needle):
    client = mgmt_client(asym_vault)
    before = len(client.list_keys(COMPARTMENT_ID).data)
    name = unique("bad-shape")
    # The SDK would refuse an unknown curve client-side, so the body goes as JSON.
    err = expect_service_error(400, "InvalidParameter", client.base_client.call_api,
                               resource_path="/20180608/keys", method="POST",
                               header_params={"content-type": "application/json"},
                               body={"compartmentId": COMPARTMENT_ID, "displayName": name, "keyShape": shape})
    assert needle in err.message, err.message
    assert len(client.list_keys(COMPARTMENT_ID).data) == before


@pytest.mark.parametrize("algorithm", RSA_ALGORITHMS)
@pytest.mark.parametrize("message_type", ["RAW", "DIGEST"])
def test_rsa_sign_verifies_locally_and_on_the_emulator(crypto_client, mgmt_client, asym_vault, rsa_key,
                                                       algorithm, message_type):
    _sign_and_check(crypto_client(asym_vault), _public_key(mgmt_client, asym_vault, rsa_key), rsa_key,
                    algorithm, message_type)


@pytest.mark.parametrize("curve", sorted(CURVES))
@pytest.mark.parametrize("algorithm", ECDSA_ALGORITHMS)
@pytest.mark.parametrize("message_type", ["RAW", "DIGEST"])
def test_ecdsa_sign_verifies_locally_and_on_the_emulator(crypto_client, mgmt_client, asym_vault, ec_keys,
                                                         curve, algorithm, message_type):
    key = ec_keys[curve]
    _sign_and_check(crypto_client(asym_vault), _public_key(mgmt_client, asym_vault, key), key,
                    algorithm, message_type)


def _sign_and_check(client, public, key, algorithm, message_type):
    message = b"sign me \x00\xff " + algorithm.encode()
    h = _hash_of(algorithm)
    digest = hashes.Hash(h)
    digest.update(message)
    digest = digest.finalize()
    sent = digest if message_type == "DIGEST" else message
    signed = client.sign(models.SignDataDetails(
        key_id=key.id, message=b64(sent), signing_algorithm=algorithm, message_type=message_type)).data
    assert signed.key_id == key.id
    assert signed.key_version_id == key.current_key_version
    assert signed.signing_algorithm == algorithm
    signature = unb64(signed.signature)
    _local_verify(public, algorithm, message, signature)

    def verify(sig, msg=sent):
        return client.verify(models.VerifyDataDetails(
            key_id=key.id, key_version_id=key.current_key_version, message=b64(msg),
            signature=b64(sig), signing_algorithm=algorithm, message_type=message_type)).data.is_signature_valid

    assert verify(signature) is True
    flipped = bytearray(signature)
    flipped[len(flipped) // 2] ^= 0x01
    assert verify(bytes(flipped)) is False
    with pytest.raises(InvalidSignature):
        _local_verify(public, algorithm, message, bytes(flipped))
    other = bytearray(sent)
    other[0] ^= 0x80
    assert verify(signature, bytes(other)) is False


@pytest.fixture(scope="module")
def known_keys(base_url):
    """A vault seeded with RSA and ECDSA keys whose private keys the test holds."""
    rsa_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_private = ec.generate_private_key(ec.SECP384R1())

    def pkcs8(k):
        return b64(k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))

    vault_name = unique("known-vault")
    doc = {"vaults": [{"compartmentId": COMPARTMENT_ID, "displayName": vault_name, "keys": [
        {"displayName": "known-rsa", "algorithm": "RSA", "length": 256, "material": pkcs8(rsa_private)},
        {"displayName": "known-ec", "algorithm": "ECDSA", "length": 48, "curveId": "NIST_P384",
         "material": pkcs8(ec_private)},
    ]}]}
    resp = requests.post(base_url + "/_emulator/seed", data=json.dumps(doc))
    assert resp.status_code == 200, resp.text
    state = requests.get(base_url + "/_emulator/state").json()
    vault = next(v for v in state["vaults"] if v["displayName"] == vault_name)
    keys = {k["displayName"]: k for k in state["keys"] if k["vaultId"] == vault["id"]}
    return vault, keys, rsa_private, ec_private


def _vault_model(kms_vault_client, vault_id):
    return kms_vault_client.get_vault(vault_id).data


@pytest.mark.parametrize("name,algorithm", [("known-rsa", "SHA_256_RSA_PKCS_PSS"),
                                            ("known-rsa", "SHA_224_RSA_PKCS1_V1_5"),
                                            ("known-ec", "ECDSA_SHA_384"),
                                            ("known-ec", "ECDSA_SHA_256")])
def test_a_signature_made_locally_verifies_on_the_emulator(crypto_client, kms_vault_client, known_keys,
                                                           name, algorithm):
    vault, keys, rsa_private, ec_private = known_keys
    key = keys[name]
    private = rsa_private if name == "known-rsa" else ec_private
    message = b"signed outside the emulator"
    signature = _local_sign(private, algorithm, message)
    client = crypto_client(_vault_model(kms_vault_client, vault["id"]))
    result = client.verify(models.VerifyDataDetails(
        key_id=key["id"], key_version_id=key["currentKeyVersion"], message=b64(message),
        signature=b64(signature), signing_algorithm=algorithm, message_type="RAW")).data
    assert result.is_signature_valid is True


@pytest.mark.parametrize("algorithm,local_hash", [("RSA_OAEP_SHA_256", hashes.SHA256), ("RSA_OAEP_SHA_1", hashes.SHA1)])
def test_rsa_oaep_round_trips_with_a_standard_library(crypto_client, kms_vault_client, known_keys,
                                                      algorithm, local_hash):
    vault, keys, rsa_private, _ = known_keys
    key = keys["known-rsa"]
    client = crypto_client(_vault_model(kms_vault_client, vault["id"]))
    oaep = padding.OAEP(mgf=padding.MGF1(local_hash()), algorithm=local_hash(), label=None)
    plaintext = b"wrapped by the vault \x00\x01"
    enc = client.encrypt(models.EncryptDataDetails(
        key_id=key["id"], plaintext=b64(plaintext), encryption_algorithm=algorithm)).data
    assert enc.encryption_algorithm == algorithm
    assert enc.key_version_id == key["currentKeyVersion"]
    # The emulator's ciphertext opens with the private key in `cryptography`.
    assert rsa_private.decrypt(unb64(enc.ciphertext), oaep) == plaintext
    # Ciphertext made locally with the public key opens on the emulator.
    local = rsa_private.public_key().encrypt(plaintext, oaep)
    dec = client.decrypt(models.DecryptDataDetails(
        key_id=key["id"], ciphertext=b64(local), encryption_algorithm=algorithm)).data
    assert unb64(dec.plaintext) == plaintext
    assert dec.encryption_algorithm == algorithm
    assert dec.key_version_id == key["currentKeyVersion"]


def test_rsa_oaep_refusals(crypto_client, asym_vault, rsa_key):
    client = crypto_client(asym_vault)
    # 2048-bit key, OAEP-SHA-256: at most 256 - 66 = 190 bytes.
    err = expect_service_error(400, "InvalidParameter", client.encrypt, models.EncryptDataDetails(
        key_id=rsa_key.id, plaintext=b64(b"x" * 191), encryption_algorithm="RSA_OAEP_SHA_256"))
    assert "at most 190" in err.message
    client.encrypt(models.EncryptDataDetails(
        key_id=rsa_key.id, plaintext=b64(b"x" * 190), encryption_algorithm="RSA_OAEP_SHA_256"))
    err = expect_service_error(400, "InvalidParameter", client.encrypt, models.EncryptDataDetails(
        key_id=rsa_key.id, plaintext=b64(b"x")))
    assert "RSA_OAEP_SHA_1 or RSA_OAEP_SHA_256" in err.message
    expect_service_error(400, "InvalidParameter", client.encrypt, models.EncryptDataDetails(
        key_id=rsa_key.id, plaintext=b64(b"x"), encryption_algorithm="RSA_OAEP_SHA_256",
        associated_data={"a": "b"}))
    err = expect_service_error(400, "InvalidParameter", client.decrypt, models.DecryptDataDetails(
        key_id=rsa_key.id, ciphertext=b64(b"\x00" * 256), encryption_algorithm="RSA_OAEP_SHA_256"))
    assert "ciphertext is invalid" in err.message


def test_sign_and_verify_refusals(crypto_client, asym_vault, rsa_key, ec_keys, aes_key, vault):
    client = crypto_client(asym_vault)
    ec_key = ec_keys["NIST_P256"]
    # A digest of the wrong length.
    err = expect_service_error(400, "InvalidParameter", client.sign, models.SignDataDetails(
        key_id=ec_key.id, message=b64(b"\x00" * 20), signing_algorithm="ECDSA_SHA_256", message_type="DIGEST"))
    assert "32 bytes, not 20" in err.message
    # A RAW message over 4096 bytes.
    expect_service_error(400, "InvalidParameter", client.sign, models.SignDataDetails(
        key_id=ec_key.id, message=b64(b"\x00" * 4097), signing_algorithm="ECDSA_SHA_256"))
    client.sign(models.SignDataDetails(key_id=ec_key.id, message=b64(b"\x00" * 4096),
                                       signing_algorithm="ECDSA_SHA_256"))
    # An algorithm of the other family.
    expect_service_error(400, "InvalidParameter", client.sign, models.SignDataDetails(
        key_id=rsa_key.id, message=b64(b"m"), signing_algorithm="ECDSA_SHA_256"))
    expect_service_error(400, "InvalidParameter", client.sign, models.SignDataDetails(
        key_id=ec_key.id, message=b64(b"m"), signing_algorithm="SHA_256_RSA_PKCS_PSS"))
    # AES keys neither sign nor are ECDSA keys able to encrypt.
    err = expect_service_error(400, "InvalidParameter", crypto_client(vault).sign, models.SignDataDetails(
        key_id=aes_key.id, message=b64(b"m"), signing_algorithm="SHA_256_RSA_PKCS_PSS"))
    assert "AES key cannot sign" in err.message
    expect_service_error(400, "InvalidParameter", client.encrypt, models.EncryptDataDetails(
        key_id=ec_key.id, plaintext=b64(b"m")))
    # Verify requires keyVersionId.
    err = expect_service_error(400, "MissingParameter", client.verify, models.VerifyDataDetails(
        key_id=ec_key.id, message=b64(b"m"), signature=b64(b"s"), signing_algorithm="ECDSA_SHA_256"))
    assert "keyVersionId" in err.message
    # Garbage that is not a signature is simply not valid.
    assert client.verify(models.VerifyDataDetails(
        key_id=ec_key.id, key_version_id=ec_key.current_key_version, message=b64(b"m"),
        signature=b64(b"not a signature"), signing_algorithm="ECDSA_SHA_256")).data.is_signature_valid is False


def test_an_old_key_version_still_verifies_after_rotation(crypto_client, mgmt_client, asym_vault):
    key = _create(mgmt_client, asym_vault, "ECDSA", 32, "NIST_P256")
    client = crypto_client(asym_vault)
    signed = client.sign(models.SignDataDetails(key_id=key.id, message=b64(b"m"),
                                                signing_algorithm="ECDSA_SHA_256")).data
    new_version = mgmt_client(asym_vault).create_key_version(key.id).data
    assert new_version.public_key and new_version.public_key != \
        mgmt_client(asym_vault).get_key_version(key.id, key.current_key_version).data.public_key
    assert client.verify(models.VerifyDataDetails(
        key_id=key.id, key_version_id=key.current_key_version, message=b64(b"m"), signature=signed.signature,
        signing_algorithm="ECDSA_SHA_256")).data.is_signature_valid is True
    assert client.verify(models.VerifyDataDetails(
        key_id=key.id, key_version_id=new_version.id, message=b64(b"m"), signature=signed.signature,
        signing_algorithm="ECDSA_SHA_256")).data.is_signature_valid is False
    resigned = client.sign(models.SignDataDetails(key_id=key.id, message=b64(b"m"),
                                                  signing_algorithm="ECDSA_SHA_256")).data
    assert resigned.key_version_id == new_version.id


def test_generate_data_encryption_key_needs_an_aes_master_key(crypto_client, asym_vault, rsa_key):
    err = expect_service_error(400, "InvalidParameter", crypto_client(asym_vault).generate_data_encryption_key,
                               models.GenerateKeyDetails(key_id=rsa_key.id, include_plaintext_key=True,
                                                         key_shape=models.KeyShape(algorithm="AES", length=32)))
    assert "AES master encryption key" in err.message


def test_logging_context_must_be_a_map_of_strings(crypto_client, asym_vault, ec_keys):
    client = crypto_client(asym_vault)
    key = ec_keys["NIST_P256"]
    body = {"keyId": key.id, "message": b64(b"m"), "signingAlgorithm": "ECDSA_SHA_256"}
    for bad in ["str", {"a": 1}, [[["deep"]]]]:
        err = expect_service_error(400, "InvalidParameter", client.base_client.call_api,
                                   resource_path="/20180608/sign", method="POST",
                                   header_params={"content-type": "application/json"},
                                   body=dict(body, loggingContext=bad))
        assert "loggingContext" in err.message, err.message
    signed = client.sign(models.SignDataDetails(key_id=key.id, message=b64(b"m"), signing_algorithm="ECDSA_SHA_256",
                                                logging_context={"app": "ci"})).data
    assert signed.key_version_id == key.current_key_version
