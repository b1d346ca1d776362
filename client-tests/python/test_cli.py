"""The pinned `oci` CLI (from the test venv) against the emulator, with only --endpoint changed."""
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import COMPARTMENT_ID, CONFIG_FILE, b64, unb64

# The pinned CLI of the suite's venv (client-tests/python/.venv, made by scripts/test.sh);
# failing that, the one beside the interpreter running pytest.
OCI_CLI = Path(__file__).resolve().parent / ".venv" / "bin" / "oci"
if not OCI_CLI.exists():
    OCI_CLI = Path(sys.executable).parent / "oci"


@pytest.fixture(scope="module")
def cli(base_url):
    if not OCI_CLI.exists():
        pytest.fail("oci CLI not found at {} (install client-tests/python/requirements.txt)".format(OCI_CLI))

    def run(*args, endpoint=None, profile="DEFAULT"):
        cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--profile", profile,
               "--endpoint", endpoint or base_url, "--no-retry", "--output", "json"] + list(args)
        env = dict(os.environ,
                   OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True",
                   SUPPRESS_LABEL_WARNING="True")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, "{}\nexit {}\nstdout:\n{}\nstderr:\n{}".format(
            " ".join(cmd), proc.returncode, proc.stdout, proc.stderr)
        return json.loads(proc.stdout) if proc.stdout.strip() else None
    return run


def test_cli_secret_update_and_bundle_get(cli, vault, aes_key, secret):
    s, _ = secret(vault, aes_key, content=b"from the sdk")
    new_content = b64(b"rotated by the cli \x00\xff")

    updated = cli("vault", "secret", "update-base64", "--secret-id", s.id,
                  "--secret-content-content", new_content, "--force")
    assert updated["data"]["id"] == s.id
    assert updated["data"]["current-version-number"] == 2
    assert updated["data"]["lifecycle-state"] == "ACTIVE"

    bundle = cli("secrets", "secret-bundle", "get", "--secret-id", s.id)
    assert bundle["data"]["secret-bundle-content"]["content"] == new_content
    assert bundle["data"]["secret-bundle-content"]["content-type"] == "BASE64"
    assert bundle["data"]["version-number"] == 2
    assert "CURRENT" in bundle["data"]["stages"]

    previous = cli("secrets", "secret-bundle", "get", "--secret-id", s.id, "--stage", "PREVIOUS")
    assert unb64(previous["data"]["secret-bundle-content"]["content"]) == b"from the sdk"
    assert previous["data"]["version-number"] == 1


def test_cli_secret_bundle_by_name(cli, vault, aes_key, secret):
    s, content = secret(vault, aes_key)
    bundle = cli("secrets", "secret-bundle", "get-secret-bundle-by-name",
                 "--secret-name", s.secret_name, "--vault-id", vault.id)
    assert bundle["data"]["secret-id"] == s.id
    assert unb64(bundle["data"]["secret-bundle-content"]["content"]) == content


def test_cli_vault_list(cli, vault):
    listed = cli("kms", "management", "vault", "list", "--compartment-id", COMPARTMENT_ID, "--all")
    ids = [v["id"] for v in listed["data"]]
    assert vault.id in ids
    mine = next(v for v in listed["data"] if v["id"] == vault.id)
    assert mine["display-name"] == vault.display_name
    assert mine["lifecycle-state"] == "ACTIVE"
    assert mine["management-endpoint"] == vault.management_endpoint


def test_cli_vault_get(cli, vault):
    got = cli("kms", "management", "vault", "get", "--vault-id", vault.id)
    assert got["data"]["id"] == vault.id
    assert got["data"]["crypto-endpoint"] == vault.crypto_endpoint
    assert got.get("etag")


def test_cli_key_list(cli, vault, aes_key):
    listed = cli("kms", "management", "key", "list", "--compartment-id", COMPARTMENT_ID, "--all",
                 endpoint=vault.management_endpoint)
    assert [k["id"] for k in listed["data"]] == [aes_key.id]


def test_cli_encrypt_decrypt(cli, vault, aes_key):
    plaintext = b64(b"cli round trip \x01\x02\x03")
    enc = cli("kms", "crypto", "encrypt", "--key-id", aes_key.id, "--plaintext", plaintext,
              endpoint=vault.crypto_endpoint)
    ciphertext = enc["data"]["ciphertext"]
    assert ciphertext and ciphertext != plaintext

    dec = cli("kms", "crypto", "decrypt", "--key-id", aes_key.id, "--ciphertext", ciphertext,
              endpoint=vault.crypto_endpoint)
    assert dec["data"]["plaintext"] == plaintext


def test_cli_encrypt_decrypt_with_associated_data(cli, vault, aes_key):
    plaintext = b64(b"aad via the cli")
    aad = json.dumps({"a": "b"})
    enc = cli("kms", "crypto", "encrypt", "--key-id", aes_key.id, "--plaintext", plaintext,
              "--associated-data", aad, endpoint=vault.crypto_endpoint)
    dec = cli("kms", "crypto", "decrypt", "--key-id", aes_key.id, "--ciphertext", enc["data"]["ciphertext"],
              "--associated-data", aad, endpoint=vault.crypto_endpoint)
    assert dec["data"]["plaintext"] == plaintext


def test_cli_ecdsa_key_sign_and_verify(cli, vault):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = cli("kms", "management", "key", "create", "--compartment-id", COMPARTMENT_ID,
              "--display-name", "cli-ecdsa",
              "--key-shape", json.dumps({"algorithm": "ECDSA", "length": 48, "curveId": "NIST_P384"}),
              endpoint=vault.management_endpoint)["data"]
    assert key["key-shape"] == {"algorithm": "ECDSA", "length": 48, "curve-id": "NIST_P384"}
    version = cli("kms", "management", "key-version", "get", "--key-id", key["id"],
                  "--key-version-id", key["current-key-version"], endpoint=vault.management_endpoint)["data"]
    public = serialization.load_pem_public_key(version["public-key"].encode())

    message = b"signed through the cli"
    signed = cli("kms", "crypto", "signed-data", "sign", "--key-id", key["id"], "--message", b64(message),
                 "--signing-algorithm", "ECDSA_SHA_384", endpoint=vault.crypto_endpoint)["data"]
    assert signed["key-version-id"] == key["current-key-version"]
    public.verify(unb64(signed["signature"]), message, ec.ECDSA(hashes.SHA384()))

    verified = cli("kms", "crypto", "verified-data", "verify", "--key-id", key["id"],
                   "--key-version-id", key["current-key-version"], "--message", b64(message),
                   "--signature", signed["signature"], "--signing-algorithm", "ECDSA_SHA_384",
                   endpoint=vault.crypto_endpoint)["data"]
    assert verified == {"is-signature-valid": True}


def test_cli_wrapping_key_import_and_export(cli, vault):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapping = cli("kms", "management", "wrapping-key", "get", endpoint=vault.management_endpoint)["data"]
    assert wrapping["vault-id"] == vault.id
    material = os.urandom(32)
    wrapped = serialization.load_pem_public_key(wrapping["public-key"].encode()).encrypt(material, oaep)
    key = cli("kms", "management", "key", "import", "--compartment-id", COMPARTMENT_ID,
              "--display-name", "cli-imported", "--protection-mode", "SOFTWARE",
              "--key-shape", json.dumps({"algorithm": "AES", "length": 32}),
              "--wrapped-import-key", json.dumps({"keyMaterial": b64(wrapped),
                                                  "wrappingAlgorithm": "RSA_OAEP_SHA256"}),
              endpoint=vault.management_endpoint)["data"]
    assert key["lifecycle-state"] == "ENABLED"

    mine = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = mine.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    exported = cli("kms", "crypto", "key", "export", "--key-id", key["id"], "--algorithm", "RSA_OAEP_SHA256",
                   "--public-key", pem, endpoint=vault.crypto_endpoint)["data"]
    assert mine.decrypt(unb64(exported["encrypted-key"]), oaep) == material


def test_cli_key_version_schedule_and_cancel_deletion(cli, mgmt_client, vault, aes_key):
    first = aes_key.current_key_version
    second = mgmt_client(vault).create_key_version(aes_key.id).data.id
    mgmt = vault.management_endpoint
    scheduled = cli("kms", "management", "key-version", "schedule-deletion", "--key-id", aes_key.id,
                    "--key-version-id", first, endpoint=mgmt)
    assert (scheduled["data"]["id"], scheduled["data"]["lifecycle-state"]) == (first, "PENDING_DELETION")
    assert scheduled["data"]["time-of-deletion"]
    assert scheduled["etag"]
    listed = cli("kms", "management", "key-version", "list", "--key-id", aes_key.id, "--all", endpoint=mgmt)
    assert {v["id"]: v["lifecycle-state"] for v in listed["data"]} == {first: "PENDING_DELETION", second: "ENABLED"}

    # The CLI's cancel-deletion (kms_management_cli_extended.py, CLI 3.95.1) never renders
    # the KeyVersion the service answers, so it prints nothing; read the version back.
    cancelled = cli("kms", "management", "key-version", "cancel-deletion", "--key-id", aes_key.id,
                    "--key-version-id", first, "--if-match", scheduled["etag"], endpoint=mgmt)
    assert cancelled is None
    got = cli("kms", "management", "key-version", "get", "--key-id", aes_key.id, "--key-version-id", first,
              endpoint=mgmt)
    assert (got["data"]["lifecycle-state"], got["data"]["time-of-deletion"]) == ("ENABLED", None)


def test_cli_key_version_schedule_deletion_with_a_time(cli, mgmt_client, vault, aes_key):
    first = aes_key.current_key_version
    mgmt_client(vault).create_key_version(aes_key.id)
    when = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    scheduled = cli("kms", "management", "key-version", "schedule-deletion", "--key-id", aes_key.id,
                    "--key-version-id", first, "--time-of-deletion", when, endpoint=vault.management_endpoint)
    assert scheduled["data"]["time-of-deletion"].startswith(when[:19])


def test_cli_create_key_with_the_documented_numeric_string_length(cli, vault):
    # Oracle's own sample: --key-shape '{"algorithm":"AES","length":"16"}'.
    created = cli("kms", "management", "key", "create", "--compartment-id", COMPARTMENT_ID,
                  "--display-name", "cli-string-length", "--key-shape", '{"algorithm":"AES","length":"16"}',
                  endpoint=vault.management_endpoint)
    assert created["data"]["key-shape"] == {"algorithm": "AES", "length": 16, "curve-id": None}
    assert created["data"]["lifecycle-state"] == "ENABLED"


def test_cli_key_update_turns_on_auto_rotation_as_oracle_documents(cli, kms_vault_client):
    import oci
    vault = kms_vault_client.create_vault(oci.key_management.models.CreateVaultDetails(
        compartment_id=COMPARTMENT_ID, display_name="cli-vpv", vault_type="VIRTUAL_PRIVATE")).data
    mgmt = vault.management_endpoint
    key = cli("kms", "management", "key", "create", "--compartment-id", COMPARTMENT_ID,
              "--display-name", "cli-rotating", "--key-shape", '{"algorithm":"AES","length":"16"}', endpoint=mgmt)
    assert key["data"]["is-auto-rotation-enabled"] is False
    # The example of Oracle's "Enabling and Updating Auto Key Rotation" page.
    updated = cli("kms", "management", "key", "update", "--key-id", key["data"]["id"],
                  "--is-auto-rotation-enabled", "true", "--auto-key-rotation-details",
                  '{"rotationIntervalInDays": 90, "timeOfScheduleStart":"2024-05-08T00:00:00Z"}', "--force",
                  endpoint=mgmt)
    assert updated["data"]["is-auto-rotation-enabled"] is True
    details = updated["data"]["auto-key-rotation-details"]
    assert details["rotation-interval-in-days"] == 90
    start = datetime.datetime(2024, 5, 8, tzinfo=datetime.timezone.utc)
    assert datetime.datetime.fromisoformat(details["time-of-schedule-start"]) == start
    # A start in the past: the next rotation is the first scheduled day from now on.
    nxt = datetime.datetime.fromisoformat(details["time-of-next-rotation"])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert (nxt - start).days % 90 == 0 and now < nxt <= now + datetime.timedelta(days=90)


SECURITY = "ocid1.compartment.oc1..aaaaaaaaemulatorsecurity00000000000000000000000000000000001"


def test_cli_change_compartment_of_a_vault_and_a_key(cli, make_vault, make_key):
    vault = make_vault()
    key = make_key(vault)
    moved = cli("kms", "management", "key", "change-compartment", "--key-id", key.id,
                "--compartment-id", SECURITY, endpoint=vault.management_endpoint)
    # No body (the SDK's response type is none): the CLI prints the etag header only.
    assert list(moved) == ["etag"] and moved["etag"]
    got = cli("kms", "management", "key", "get", "--key-id", key.id, endpoint=vault.management_endpoint)
    assert got["data"]["compartment-id"] == SECURITY
    listed = cli("kms", "management", "key", "list", "--compartment-id", COMPARTMENT_ID, "--all",
                 endpoint=vault.management_endpoint)
    assert listed is None or key.id not in [k["id"] for k in listed["data"]]

    assert list(cli("kms", "management", "vault", "change-compartment", "--vault-id", vault.id,
                    "--compartment-id", SECURITY)) == ["etag"]
    assert cli("kms", "management", "vault", "get", "--vault-id", vault.id)["data"]["compartment-id"] == SECURITY


def test_cli_change_compartment_of_a_secret(cli, vaults_client, vault, aes_key, secret):
    s, _ = secret(vault, aes_key)
    moved = cli("vault", "secret", "change-compartment", "--secret-id", s.id, "--compartment-id", SECURITY)
    assert moved is None or list(moved) == ["etag"]
    assert cli("vault", "secret", "get", "--secret-id", s.id)["data"]["compartment-id"] == SECURITY
