"""Secret auto-generation (`enableAutoGeneration` + `secretGenerationContext`) through the SDK and CLI."""
import json
import os
import string
import subprocess

import oci
import pytest
from cryptography.hazmat.primitives import serialization

from support import COMPARTMENT_ID, b64, expect_service_error, unb64, unique

models = oci.vault.models
SPECIAL = set("!#$%&()*+,-.:;<=>?@[]^_{|}~")


def create_generated(vaults_client, vault, key, context, name=None):
    return vaults_client.create_secret(models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id, secret_name=name or unique("gen"),
        enable_auto_generation=True, secret_generation_context=context)).data


def bundle_bytes(secrets_client, secret_id):
    return unb64(secrets_client.get_secret_bundle(secret_id).data.secret_bundle_content.content)


def passphrase(template, length=None, secret_template=None):
    return models.PassphraseGenerationContext(generation_type="PASSPHRASE", generation_template=template,
                                              passphrase_length=length, secret_template=secret_template)


def count(text, chars):
    return sum(1 for c in text if c in chars)


def test_secrets_default_password(vaults_client, secrets_client, vault, aes_key, server_log):
    s = create_generated(vaults_client, vault, aes_key, passphrase("SECRETS_DEFAULT_PASSWORD", 16))
    assert (s.is_auto_generation_enabled, s.current_version_number) == (True, 1)
    ctx = s.secret_generation_context
    assert (ctx.generation_type, ctx.generation_template, ctx.passphrase_length) == (
        "PASSPHRASE", "SECRETS_DEFAULT_PASSWORD", 16)
    assert vaults_client.get_secret_version(s.id, 1).data.is_content_auto_generated is True
    assert [v.is_content_auto_generated for v in vaults_client.list_secret_versions(s.id).data] == [True]
    text = bundle_bytes(secrets_client, s.id).decode("ascii")
    assert len(text) == 16
    for chars in (string.ascii_uppercase, string.ascii_lowercase, string.digits, SPECIAL):
        assert count(text, chars) >= 1, text
    assert count(text, string.ascii_letters + string.digits) + count(text, SPECIAL) == 16
    assert text not in server_log()
    other = create_generated(vaults_client, vault, aes_key, passphrase("SECRETS_DEFAULT_PASSWORD", 16))
    assert bundle_bytes(secrets_client, other.id).decode() != text


def test_dbaas_default_password(vaults_client, secrets_client, vault, aes_key):
    s = create_generated(vaults_client, vault, aes_key, passphrase("DBAAS_DEFAULT_PASSWORD"))
    assert s.secret_generation_context.passphrase_length is None
    text = bundle_bytes(secrets_client, s.id).decode("ascii")
    assert len(text) == 24 and text[0].isalpha()
    for chars in (string.ascii_uppercase, string.ascii_lowercase, string.digits, "_#-"):
        assert count(text, chars) >= 2, text
    assert count(text, SPECIAL - set("_#-")) == 0, text


def test_passphrase_template_is_filled(vaults_client, secrets_client, vault, aes_key):
    tpl = '{"user": "app", "password": "%GENERATED_PASSPHRASE%"}'
    s = create_generated(vaults_client, vault, aes_key, passphrase("SECRETS_DEFAULT_PASSWORD", 20, tpl))
    assert s.secret_generation_context.secret_template == tpl
    doc = json.loads(bundle_bytes(secrets_client, s.id))
    assert doc["user"] == "app" and len(doc["password"]) == 20


@pytest.mark.parametrize("template,bits", [("RSA_2048", 2048), ("RSA_3072", 3072), ("RSA_4096", 4096)])
def test_ssh_key_pair_is_pem_and_openssh_readable(vaults_client, secrets_client, vault, aes_key, tmp_path,
                                                  template, bits):
    s = create_generated(vaults_client, vault, aes_key, models.SshKeyGenerationContext(
        generation_type="SSH_KEY", generation_template=template))
    doc = json.loads(bundle_bytes(secrets_client, s.id))
    assert doc["privateKey"].startswith("-----BEGIN PRIVATE KEY-----\n")
    assert doc["publicKey"].startswith("-----BEGIN PUBLIC KEY-----\n")
    private = serialization.load_pem_private_key(doc["privateKey"].encode(), password=None)
    public = serialization.load_pem_public_key(doc["publicKey"].encode())
    assert private.key_size == bits
    assert public.public_numbers() == private.public_key().public_numbers()
    # OpenSSH reads both halves.
    key_file = tmp_path / "id_rsa"
    fd = os.open(key_file, os.O_CREAT | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(doc["privateKey"] + "\n")
    (tmp_path / "pub.pem").write_text(doc["publicKey"] + "\n")
    from_private = subprocess.run(["ssh-keygen", "-y", "-f", str(key_file)], capture_output=True, text=True,
                                  check=True).stdout.split()[:2]
    from_public = subprocess.run(["ssh-keygen", "-i", "-m", "PKCS8", "-f", str(tmp_path / "pub.pem")],
                                 capture_output=True, text=True, check=True).stdout.split()[:2]
    assert from_private[0] == "ssh-rsa" and from_private == from_public


def test_ssh_template_needs_both_placeholders_and_is_filled(vaults_client, secrets_client, vault, aes_key):
    name = unique("gen")
    expect_service_error(400, "InvalidParameter", create_generated, vaults_client, vault, aes_key,
                         models.SshKeyGenerationContext(generation_type="SSH_KEY", generation_template="RSA_2048",
                                                        secret_template="%GENERATED_PUBLIC_KEY%"), name=name)
    assert vaults_client.list_secrets(COMPARTMENT_ID, name=name).data == []
    s = create_generated(vaults_client, vault, aes_key, models.SshKeyGenerationContext(
        generation_type="SSH_KEY", generation_template="RSA_2048",
        secret_template="PUB\n%GENERATED_PUBLIC_KEY%\nPRIV\n%GENERATED_PRIVATE_KEY%\n"))
    text = bundle_bytes(secrets_client, s.id).decode()
    assert text.startswith("PUB\n-----BEGIN PUBLIC KEY-----\n")
    assert "\nPRIV\n-----BEGIN PRIVATE KEY-----\n" in text and text.endswith("-----END PRIVATE KEY-----\n")


@pytest.mark.parametrize("template,size", [("BYTES_512", 64), ("BYTES_1024", 128)])
def test_bytes(vaults_client, secrets_client, vault, aes_key, template, size):
    s = create_generated(vaults_client, vault, aes_key, models.BytesGenerationContext(
        generation_type="BYTES", generation_template=template))
    raw = bundle_bytes(secrets_client, s.id)
    assert len(raw) == size
    s2 = create_generated(vaults_client, vault, aes_key, models.BytesGenerationContext(
        generation_type="BYTES", generation_template=template, secret_template="key=%GENERATED_BYTES%"))
    text = bundle_bytes(secrets_client, s2.id).decode()
    assert text.startswith("key=") and len(unb64(text[4:])) == size


@pytest.mark.parametrize("body", [
    {"enableAutoGeneration": True},
    {"enableAutoGeneration": True, "secretContent": {"contentType": "BASE64", "content": b64(b"x")},
     "secretGenerationContext": {"generationType": "BYTES", "generationTemplate": "BYTES_512"}},
    {"enableAutoGeneration": True,
     "secretGenerationContext": {"generationType": "PASSPHRASE", "generationTemplate": "SECRETS_DEFAULT_PASSWORD",
                                 "passphraseLength": 33}},
    {"enableAutoGeneration": True,
     "secretGenerationContext": {"generationType": "PASSPHRASE", "generationTemplate": "DBAAS_DEFAULT_PASSWORD",
                                 "passphraseLength": 8}},
    {"enableAutoGeneration": True,
     "secretGenerationContext": {"generationType": "PASSPHRASE", "generationTemplate": "SECRETS_DEFAULT_PASSWORD",
                                 "secretTemplate": "no placeholder"}},
    {"enableAutoGeneration": True,
     "secretGenerationContext": {"generationType": "BYTES", "generationTemplate": "BYTES_2048"}},
    {"enableAutoGeneration": True,
     "secretGenerationContext": {"generationType": "SSH_KEY", "generationTemplate": "RSA_1024"}},
    {"enableAutoGeneration": True, "secretGenerationContext": {"generationType": "BOGUS"}},
])
def test_bad_generation_requests_are_refused(base_url, vault, aes_key, body):
    from support import raw_request
    name = unique("gen")
    full = {"compartmentId": COMPARTMENT_ID, "vaultId": vault.id, "keyId": aes_key.id, "secretName": name, **body}
    r = raw_request(base_url, "POST", "/20180608/secrets", body=full)
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter"), r.text
    listed = raw_request(base_url, "GET", "/20180608/secrets", query={"compartmentId": COMPARTMENT_ID, "name": name})
    assert listed.json() == []


def test_context_without_auto_generation_is_stored(vaults_client, secrets_client, secret, vault, aes_key):
    ctx = models.BytesGenerationContext(generation_type="BYTES", generation_template="BYTES_512")
    s, content = secret(vault, aes_key, content=b"manual", secret_generation_context=ctx)
    assert (s.is_auto_generation_enabled, s.secret_generation_context.generation_template) == (False, "BYTES_512")
    assert vaults_client.get_secret_version(s.id, 1).data.is_content_auto_generated is False
    assert bundle_bytes(secrets_client, s.id) == b"manual"


def test_update_turns_generation_on_and_a_named_or_pending_version_is_generated(
        vaults_client, secrets_client, secret, vault, aes_key, server_log):
    s, _ = secret(vault, aes_key, content=b"manual")
    expect_service_error(400, "InvalidParameter", vaults_client.update_secret, s.id,
                         models.UpdateSecretDetails(enable_auto_generation=True))
    unchanged = vaults_client.get_secret(s.id).data
    assert (unchanged.is_auto_generation_enabled, unchanged.secret_generation_context) == (False, None)

    on = vaults_client.update_secret(s.id, models.UpdateSecretDetails(
        enable_auto_generation=True, secret_generation_context=passphrase("SECRETS_DEFAULT_PASSWORD", 20))).data
    assert (on.is_auto_generation_enabled, on.current_version_number) == (True, 1)
    assert on.secret_generation_context.passphrase_length == 20
    assert bundle_bytes(secrets_client, s.id) == b"manual"

    # Content while generation is on is refused; a content-less, unnamed CURRENT asks for nothing.
    expect_service_error(400, "InvalidParameter", vaults_client.update_secret, s.id, models.UpdateSecretDetails(
        secret_content=models.Base64SecretContentDetails(content_type="BASE64", content=b64(b"typed"))))
    same = vaults_client.update_secret(s.id, models.UpdateSecretDetails(
        description="d", secret_content=models.Base64SecretContentDetails(content_type="BASE64"))).data
    assert same.current_version_number == 1

    named = vaults_client.update_secret(s.id, models.UpdateSecretDetails(
        secret_content=models.Base64SecretContentDetails(content_type="BASE64", name="gen-2"))).data
    assert named.current_version_number == 2
    version = vaults_client.get_secret_version(s.id, 2).data
    assert (version.name, version.is_content_auto_generated, version.stages) == ("gen-2", True, ["CURRENT", "LATEST"])
    text = bundle_bytes(secrets_client, s.id).decode("ascii")
    assert len(text) == 20 and text not in server_log()

    pending = vaults_client.update_secret(s.id, models.UpdateSecretDetails(
        secret_content=models.Base64SecretContentDetails(content_type="BASE64", stage="PENDING"))).data
    assert pending.current_version_number == 2
    staged = vaults_client.get_secret_version(s.id, 3).data
    assert (staged.stages, staged.is_content_auto_generated) == (["PENDING", "LATEST"], True)
    assert len(unb64(secrets_client.get_secret_bundle(s.id, stage="PENDING").data
                     .secret_bundle_content.content)) == 20

    off = vaults_client.update_secret(s.id, models.UpdateSecretDetails(enable_auto_generation=False)).data
    assert (off.is_auto_generation_enabled, off.secret_generation_context.generation_type) == (False, "PASSPHRASE")
    typed = vaults_client.update_secret(s.id, models.UpdateSecretDetails(
        secret_content=models.Base64SecretContentDetails(content_type="BASE64", content=b64(b"typed")))).data
    assert typed.current_version_number == 4
    assert bundle_bytes(secrets_client, s.id) == b"typed"


def test_cli_update_base64_switches_generation_on(vaults_client, secrets_client, secret, vault, aes_key, base_url):
    from test_cli import OCI_CLI
    from support import CONFIG_FILE
    s, _ = secret(vault, aes_key, content=b"manual")
    cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--endpoint", base_url, "--no-retry", "--output", "json",
           "vault", "secret", "update-base64", "--secret-id", s.id, "--force", "--enable-auto-generation", "true",
           "--secret-generation-context", '{"generationType": "BYTES", "generationTemplate": "BYTES_1024"}',
           "--secret-content-name", "generated-by-cli"]
    env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True", SUPPRESS_LABEL_WARNING="True")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert (data["is-auto-generation-enabled"], data["current-version-number"]) == (True, 2)
    assert vaults_client.get_secret_version(s.id, 2).data.name == "generated-by-cli"
    assert len(bundle_bytes(secrets_client, s.id)) == 128


def test_cli_create_base64_with_auto_generation(vaults_client, secrets_client, vault, aes_key, base_url):
    from test_cli import OCI_CLI
    from support import CONFIG_FILE
    cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--endpoint", base_url, "--no-retry", "--output", "json",
           "vault", "secret", "create-base64", "--compartment-id", COMPARTMENT_ID, "--vault-id", vault.id,
           "--key-id", aes_key.id, "--secret-name", unique("cligen"), "--enable-auto-generation", "true",
           "--secret-generation-context",
           '{"generationType": "PASSPHRASE", "generationTemplate": "SECRETS_DEFAULT_PASSWORD", "passphraseLength": 12}']
    env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True", SUPPRESS_LABEL_WARNING="True")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert data["is-auto-generation-enabled"] is True
    assert data["secret-generation-context"] == {"generation-type": "PASSPHRASE",
                                                 "generation-template": "SECRETS_DEFAULT_PASSWORD",
                                                 "passphrase-length": 12, "secret-template": None}
    assert len(bundle_bytes(secrets_client, data["id"])) == 12


def test_generated_first_version_may_be_named(vaults_client, secrets_client, vault, aes_key, base_url):
    from support import raw_request
    body = {"compartmentId": COMPARTMENT_ID, "vaultId": vault.id, "keyId": aes_key.id, "secretName": unique("gen"),
            "enableAutoGeneration": True, "secretContent": {"contentType": "BASE64", "name": "first"},
            "secretGenerationContext": {"generationType": "BYTES", "generationTemplate": "BYTES_512"}}
    r = raw_request(base_url, "POST", "/20180608/secrets", body=body)
    assert r.status_code == 200, r.text
    version = vaults_client.get_secret_version(r.json()["id"], 1).data
    assert (version.name, version.is_content_auto_generated) == ("first", True)
    bundle = secrets_client.get_secret_bundle(r.json()["id"], secret_version_name="first").data
    assert len(unb64(bundle.secret_bundle_content.content)) == 64
    pending = dict(body, secretName=unique("gen"), secretContent={"contentType": "BASE64", "stage": "PENDING"})
    r = raw_request(base_url, "POST", "/20180608/secrets", body=pending)
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter")
