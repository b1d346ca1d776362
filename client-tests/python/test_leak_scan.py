"""The leak scan: `oci-vault-emulator scan-logs FILE… --state URL` and `POST /_emulator/scan`.

Scenario 4: a small program that logs a fetched secret's base64 is caught (exit 1, the OCID and
version named, never the value); the same program logging only the OCID passes (exit 0).
Scenario 5: an emulator logging at `trace`, with `--audit-log`, through a workload that writes,
reads, encrypts and generates secrets: scan-logs over its own log and audit file finds nothing.
"""
import base64
import json
import os
import subprocess
import sys
import textwrap
import urllib.parse

import oci
import pytest
import requests

from conftest import ClockedEmulator, _client_kwargs, _emulator_binary, start_emulator
from support import COMPARTMENT_ID, b64, load_profile, unique

PROGRAM = textwrap.dedent('''
    import logging, sys, oci
    logging.basicConfig(filename=sys.argv[3], level=logging.INFO, format="%(levelname)s %(message)s")
    config = oci.config.from_file("fixtures/oci/config")
    secrets = oci.secrets.SecretsClient(config, service_endpoint=sys.argv[1])
    bundle = secrets.get_secret_bundle(sys.argv[2]).data
    logging.info("starting the app")
    if sys.argv[4] == "leaky":
        logging.info("db password (base64): %s", bundle.secret_bundle_content.content)
    else:
        logging.info("fetched secret %s version %d", bundle.secret_id, bundle.version_number)
''')


@pytest.fixture(scope="module")
def emu(start_extra_emulator, oci_config):
    return ClockedEmulator(start_extra_emulator(), oci_config)


def make_secret(emu, content):
    vault = emu.vault()
    key = emu.key(vault)
    return emu.vaults().create_secret(oci.vault.models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id, secret_name=unique("leak"),
        secret_content=oci.vault.models.Base64SecretContentDetails(
            content_type="BASE64", content=b64(content)))).data


def scan_logs(url, *files):
    return subprocess.run([str(_emulator_binary()), "scan-logs", "--state", url] + [str(f) for f in files],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_scenario_4_a_program_logging_a_secrets_base64_is_caught_and_one_logging_the_ocid_passes(emu, tmp_path):
    value = b"s3cr3t-db-password-" + os.urandom(6).hex().encode()
    s = make_secret(emu, value)
    program = tmp_path / "app.py"
    program.write_text(PROGRAM)
    leaky, clean = tmp_path / "leaky.log", tmp_path / "clean.log"
    for log, mode in ((leaky, "leaky"), (clean, "clean")):
        run = subprocess.run([sys.executable, str(program), emu.base_url, s.id, str(log), mode],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr

    caught = scan_logs(emu.base_url, leaky)
    assert caught.returncode == 1
    assert caught.stdout == "{}:2: secret {} version 1 (base64)\n".format(leaky, s.id)
    assert base64.b64encode(value).decode() not in caught.stdout + caught.stderr
    assert value.decode() not in caught.stdout + caught.stderr

    passed = scan_logs(emu.base_url, clean)
    assert passed.returncode == 0, passed.stdout
    assert passed.stdout == ""
    assert s.id in clean.read_text()


@pytest.mark.parametrize("form", ["raw", "base64", "base64url", "url", "hex", "json"])
def test_every_encoding_is_found_by_the_scan_endpoint(emu, form):
    value = "p@ss word/é\"" + os.urandom(4).hex()
    raw = value.encode()
    s = make_secret(emu, raw)
    text = {
        "raw": value,
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "url": urllib.parse.quote(value, safe=""),
        "hex": raw.hex(),
        "json": json.dumps({"password": value})[len('{"password": "'):-2],
    }[form]
    body = "line one\nuser=bob secret={} done\nline three\n".format(text)
    r = requests.post(emu.base_url + "/_emulator/scan", data=body.encode(), timeout=30)
    assert r.status_code == 200
    result = r.json()
    assert result["clean"] is False
    # a value whose base64 has no + or / is the same text in base64url: named once, as base64
    expected = "base64" if form == "base64url" and text == base64.b64encode(raw).decode().rstrip("=") else form
    assert {"line": 2, "secretId": s.id, "versionNumber": 1, "encoding": expected} in result["findings"]
    assert value not in r.text and text not in r.text


def test_the_scan_endpoint_answers_clean_for_a_clean_body(emu):
    make_secret(emu, os.urandom(16))
    r = requests.post(emu.base_url + "/_emulator/scan", data=b"nothing to see\n", timeout=30)
    assert r.status_code == 200
    assert r.json()["clean"] is True and r.json()["findings"] == []
    assert r.json()["versionsIndexed"] >= 1


def test_scan_logs_exits_2_when_the_emulator_is_unreachable(tmp_path):
    f = tmp_path / "x.log"
    f.write_text("hello\n")
    r = scan_logs("http://127.0.0.1:9", f)
    assert r.returncode == 2 and "error:" in r.stderr


def test_scenario_5_the_emulators_own_trace_log_and_audit_file_hold_no_secret(tmp_path, oci_config):
    audit_log = tmp_path / "audit.jsonl"
    raw = start_emulator(tmp_path, {"OCI_EMULATOR_LOG": "trace", "OCI_EMULATOR_AUDIT_LOG": str(audit_log)})
    try:
        emu = ClockedEmulator(raw, oci_config)
        vault = emu.vault()
        key = emu.key(vault)
        values = [b"first-value-" + os.urandom(8).hex().encode(), b"second-value-" + os.urandom(8).hex().encode()]
        s = emu.vaults().create_secret(oci.vault.models.CreateSecretDetails(
            compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id, secret_name=unique("trace"),
            secret_content=oci.vault.models.Base64SecretContentDetails(
                content_type="BASE64", content=b64(values[0])))).data
        emu.vaults().update_secret(s.id, oci.vault.models.UpdateSecretDetails(
            secret_content=oci.vault.models.Base64SecretContentDetails(
                content_type="BASE64", content=b64(values[1]))))
        for _ in range(3):
            emu.secrets().get_secret_bundle(s.id)
        emu.secrets().get_secret_bundle(s.id, version_number=1)
        crypto = emu.crypto(vault)
        ct = crypto.encrypt(oci.key_management.models.EncryptDataDetails(
            key_id=key.id, plaintext=b64(values[1]))).data.ciphertext
        crypto.decrypt(oci.key_management.models.DecryptDataDetails(key_id=key.id, ciphertext=ct))
        crypto.generate_data_encryption_key(oci.key_management.models.GenerateKeyDetails(
            key_id=key.id, include_plaintext_key=True,
            key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32)))
        # a denied read and a bad body, so error paths are in the log too
        reader = oci.secrets.SecretsClient(load_profile("APPREADER"), **_client_kwargs(raw.base_url))
        with pytest.raises(oci.exceptions.ServiceError):
            reader.get_secret_bundle(s.id)
        log = raw.log_path
        assert "TRACE" in log.read_text() or "DEBUG" in log.read_text()
        assert audit_log.read_text().count("\n") >= 10
        result = scan_logs(raw.base_url, log, audit_log)
        assert result.returncode == 0, result.stdout
        assert result.stdout == ""
    finally:
        raw.stop()
