"""GetWrappingKey, ImportKey, ImportKeyVersion and ExportKey through the real
Python SDK and CLI. Material is wrapped and unwrapped locally with
`cryptography`, the way Oracle's import guide does it with OpenSSL:
RSA_OAEP_SHA256 is RSA-OAEP (SHA-256, MGF1-SHA-256) of the material;
RSA_OAEP_AES_SHA256 is a temporary AES-256 key so wrapped, followed by the
material under it with AES key wrap with padding (RFC 5649).
"""
import os

import oci
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding, aes_key_wrap_with_padding

from support import COMPARTMENT_ID, b64, expect_service_error, unb64, unique

models = oci.key_management.models
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _pkcs8(private_key):
    return private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def wrap(public_key, material, algorithm):
    if algorithm == "RSA_OAEP_SHA256":
        return public_key.encrypt(material, OAEP)
    temporary = os.urandom(32)
    return public_key.encrypt(temporary, OAEP) + aes_key_wrap_with_padding(temporary, material)


def unwrap(private_key, blob, algorithm):
    if algorithm == "RSA_OAEP_SHA256":
        return private_key.decrypt(blob, OAEP)
    k = private_key.key_size // 8
    temporary = private_key.decrypt(blob[:k], OAEP)
    return aes_key_unwrap_with_padding(temporary, blob[k:])


@pytest.fixture(scope="module")
def import_vault(make_vault):
    return make_vault()


@pytest.fixture(scope="module")
def wrapping_public(mgmt_client, import_vault):
    wk = mgmt_client(import_vault).get_wrapping_key().data
    return serialization.load_pem_public_key(wk.public_key.encode())


@pytest.fixture(scope="module")
def local_rsa():
    """The caller's own RSA key pair, that exports are wrapped to."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _local_public_pem(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _import(mgmt_client, vault, public, material, shape, algorithm, protection_mode="SOFTWARE"):
    return mgmt_client(vault).import_key(models.ImportKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("imported"), key_shape=shape,
        protection_mode=protection_mode,
        wrapped_import_key=models.WrappedImportKey(key_material=b64(wrap(public, material, algorithm)),
                                                   wrapping_algorithm=algorithm))).data


def test_wrapping_key_is_the_vaults_rsa_4096_key_and_stays_the_same(mgmt_client, import_vault):
    client = mgmt_client(import_vault)
    first = client.get_wrapping_key().data
    again = client.get_wrapping_key().data
    assert first.id == import_vault.wrappingkey_id
    assert (first.vault_id, first.compartment_id, first.lifecycle_state) == \
        (import_vault.id, import_vault.compartment_id, "ENABLED")
    assert again.public_key == first.public_key and again.time_created == first.time_created
    public = serialization.load_pem_public_key(first.public_key.encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 4096


@pytest.mark.parametrize("algorithm", ["RSA_OAEP_SHA256", "RSA_OAEP_AES_SHA256"])
@pytest.mark.parametrize("length", [16, 24, 32])
def test_imported_aes_material_exports_back_unchanged(mgmt_client, crypto_client, import_vault,
                                                     wrapping_public, local_rsa, algorithm, length):
    material = os.urandom(length)
    key = _import(mgmt_client, import_vault, wrapping_public, material,
                  models.KeyShape(algorithm="AES", length=length), algorithm)
    assert (key.key_shape.algorithm, key.key_shape.length, key.lifecycle_state) == ("AES", length, "ENABLED")
    version = mgmt_client(import_vault).get_key_version(key.id, key.current_key_version).data
    assert version.origin == "EXTERNAL"
    for export_algorithm in ["RSA_OAEP_SHA256", "RSA_OAEP_AES_SHA256"]:
        exported = crypto_client(import_vault).export_key(models.ExportKeyDetails(
            key_id=key.id, algorithm=export_algorithm, public_key=_local_public_pem(local_rsa))).data
        assert (exported.key_id, exported.key_version_id, exported.vault_id, exported.algorithm) == \
            (key.id, key.current_key_version, import_vault.id, export_algorithm)
        assert unwrap(local_rsa, unb64(exported.encrypted_key), export_algorithm) == material


def test_imported_rsa_key_encrypts_and_signs_for_the_known_private_key(mgmt_client, crypto_client, import_vault,
                                                                      wrapping_public):
    private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    key = _import(mgmt_client, import_vault, wrapping_public, _pkcs8(private),
                  models.KeyShape(algorithm="RSA", length=384), "RSA_OAEP_AES_SHA256", protection_mode="HSM")
    version = mgmt_client(import_vault).get_key_version(key.id, key.current_key_version).data
    assert (version.origin, version.public_key.strip()) == ("EXTERNAL", _local_public_pem(private).strip())
    client = crypto_client(import_vault)
    enc = client.encrypt(models.EncryptDataDetails(key_id=key.id, plaintext=b64(b"for the owner"),
                                                   encryption_algorithm="RSA_OAEP_SHA_256")).data
    assert private.decrypt(unb64(enc.ciphertext), OAEP) == b"for the owner"
    signed = client.sign(models.SignDataDetails(key_id=key.id, message=b64(b"m"),
                                                signing_algorithm="SHA_384_RSA_PKCS1_V1_5")).data
    private.public_key().verify(unb64(signed.signature), b"m", padding.PKCS1v15(), hashes.SHA384())


def test_imported_ecdsa_key_signs_for_the_known_private_key(mgmt_client, crypto_client, import_vault,
                                                           wrapping_public):
    private = ec.generate_private_key(ec.SECP256R1())
    key = _import(mgmt_client, import_vault, wrapping_public, _pkcs8(private),
                  models.KeyShape(algorithm="ECDSA", length=32, curve_id="NIST_P256"), "RSA_OAEP_AES_SHA256")
    signed = crypto_client(import_vault).sign(models.SignDataDetails(
        key_id=key.id, message=b64(b"m"), signing_algorithm="ECDSA_SHA_256")).data
    private.public_key().verify(unb64(signed.signature), b"m", ec.ECDSA(hashes.SHA256()))


def test_exported_rsa_key_is_its_pkcs8_private_key(mgmt_client, crypto_client, import_vault, local_rsa):
    key = mgmt_client(import_vault).create_key(models.CreateKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("soft-rsa"), protection_mode="SOFTWARE",
        key_shape=models.KeyShape(algorithm="RSA", length=256))).data
    exported = crypto_client(import_vault).export_key(models.ExportKeyDetails(
        key_id=key.id, algorithm="RSA_OAEP_AES_SHA256", public_key=_local_public_pem(local_rsa))).data
    private = serialization.load_der_private_key(
        unwrap(local_rsa, unb64(exported.encrypted_key), "RSA_OAEP_AES_SHA256"), password=None)
    version = mgmt_client(import_vault).get_key_version(key.id, key.current_key_version).data
    assert version.origin == "INTERNAL"
    assert _local_public_pem(private).strip() == version.public_key.strip()
    # Too long for one OAEP block: refused with the way out named.
    err = expect_service_error(400, "InvalidParameter", crypto_client(import_vault).export_key,
                               models.ExportKeyDetails(key_id=key.id, algorithm="RSA_OAEP_SHA256",
                                                       public_key=_local_public_pem(local_rsa)))
    assert "RSA_OAEP_AES_SHA256" in err.message


def test_import_key_version_becomes_current(mgmt_client, crypto_client, import_vault, wrapping_public, local_rsa):
    first, second = os.urandom(32), os.urandom(32)
    key = _import(mgmt_client, import_vault, wrapping_public, first,
                  models.KeyShape(algorithm="AES", length=32), "RSA_OAEP_SHA256")
    client = mgmt_client(import_vault)
    version = client.import_key_version(key.id, models.ImportKeyVersionDetails(
        wrapped_import_key=models.WrappedImportKey(
            key_material=b64(wrap(wrapping_public, second, "RSA_OAEP_AES_SHA256")),
            wrapping_algorithm="RSA_OAEP_AES_SHA256"),
        freeform_tags={"source": "hsm-2"}))
    assert version.headers["etag"]
    assert (version.data.key_id, version.data.origin, version.data.lifecycle_state) == (key.id, "EXTERNAL", "ENABLED")
    assert client.get_key(key.id).data.current_key_version == version.data.id
    assert [v.id for v in client.list_key_versions(key.id, sort_order="ASC").data] == \
        [key.current_key_version, version.data.id]
    exported = crypto_client(import_vault).export_key(models.ExportKeyDetails(
        key_id=key.id, algorithm="RSA_OAEP_SHA256", public_key=_local_public_pem(local_rsa))).data
    assert unwrap(local_rsa, unb64(exported.encrypted_key), "RSA_OAEP_SHA256") == second
    older = crypto_client(import_vault).export_key(models.ExportKeyDetails(
        key_id=key.id, key_version_id=key.current_key_version, algorithm="RSA_OAEP_SHA256",
        public_key=_local_public_pem(local_rsa))).data
    assert unwrap(local_rsa, unb64(older.encrypted_key), "RSA_OAEP_SHA256") == first


def test_import_refusals_create_nothing(mgmt_client, import_vault, wrapping_public):
    client = mgmt_client(import_vault)
    before = len(client.list_keys(COMPARTMENT_ID).data)
    # Material of the wrong length for the shape.
    err = expect_service_error(400, "InvalidParameter", _import, mgmt_client, import_vault, wrapping_public,
                               os.urandom(24), models.KeyShape(algorithm="AES", length=32), "RSA_OAEP_SHA256")
    assert "exactly 32 bytes" in err.message
    # Wrapped to some other key.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    err = expect_service_error(400, "InvalidParameter", _import, mgmt_client, import_vault, other,
                               os.urandom(32), models.KeyShape(algorithm="AES", length=32), "RSA_OAEP_SHA256")
    assert "does not unwrap" in err.message
    # An RSA private key needs RSA_OAEP_AES_SHA256.
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expect_service_error(400, "InvalidParameter", client.import_key, models.ImportKeyDetails(
        compartment_id=COMPARTMENT_ID, display_name=unique("imported"),
        key_shape=models.KeyShape(algorithm="RSA", length=256),
        wrapped_import_key=models.WrappedImportKey(key_material=b64(b"\x00" * 512),
                                                   wrapping_algorithm="RSA_OAEP_SHA256")))
    # An RSA private key of another size than the shape says.
    err = expect_service_error(400, "InvalidParameter", _import, mgmt_client, import_vault, wrapping_public,
                               _pkcs8(private), models.KeyShape(algorithm="RSA", length=384), "RSA_OAEP_AES_SHA256")
    assert "PKCS #8" in err.message
    assert len(client.list_keys(COMPARTMENT_ID).data) == before


def test_export_refusals(mgmt_client, crypto_client, import_vault, local_rsa, wrapping_public):
    hsm = _import(mgmt_client, import_vault, wrapping_public, os.urandom(32),
                  models.KeyShape(algorithm="AES", length=32), "RSA_OAEP_SHA256", protection_mode="HSM")
    err = expect_service_error(400, "InvalidParameter", crypto_client(import_vault).export_key,
                               models.ExportKeyDetails(key_id=hsm.id, algorithm="RSA_OAEP_AES_SHA256",
                                                       public_key=_local_public_pem(local_rsa)))
    assert "SOFTWARE" in err.message
    soft = _import(mgmt_client, import_vault, wrapping_public, os.urandom(32),
                   models.KeyShape(algorithm="AES", length=32), "RSA_OAEP_SHA256")
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    for bad in ["not a pem", ec_public]:
        err = expect_service_error(400, "InvalidParameter", crypto_client(import_vault).export_key,
                                   models.ExportKeyDetails(key_id=soft.id, algorithm="RSA_OAEP_AES_SHA256",
                                                           public_key=bad))
        assert "RSA public key" in err.message
