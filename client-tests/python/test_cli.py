"""The pinned `oci` CLI (from the test venv) against the emulator, with only --endpoint changed."""
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
