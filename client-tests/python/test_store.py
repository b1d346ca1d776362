"""The store with --data-dir: acknowledged writes survive kill -9, vault
endpoints follow the new port after a restart, key files are 0600 from the
start, and a different root key is refused instead of misreading state."""
import base64
import os
import stat
import subprocess

import oci
import pytest

from conftest import CLIENT_TIMEOUT, _emulator_binary, start_emulator

COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001"


def clients(config, base):
    kw = dict(retry_strategy=oci.retry.NoneRetryStrategy(), timeout=CLIENT_TIMEOUT)
    return (oci.key_management.KmsVaultClient(config, service_endpoint=base, **kw),
            oci.vault.VaultsClient(config, service_endpoint=base, **kw),
            oci.secrets.SecretsClient(config, service_endpoint=base, **kw))


def content(data):
    return oci.vault.models.Base64SecretContentDetails(
        content_type="BASE64", content=base64.b64encode(data).decode())


def test_acknowledged_writes_survive_kill_9_and_endpoints_follow_the_new_port(tmp_path, oci_config):
    data_dir = tmp_path / "data"
    first = start_emulator(tmp_path, {"OCI_EMULATOR_DATA_DIR": str(data_dir)})
    try:
        kms, vaults, _ = clients(oci_config, first.base_url)
        vault = kms.create_vault(oci.key_management.models.CreateVaultDetails(
            compartment_id=COMPARTMENT, display_name="durable", vault_type="DEFAULT")).data
        mgmt = oci.key_management.KmsManagementClient(oci_config, service_endpoint=vault.management_endpoint,
                                                      retry_strategy=oci.retry.NoneRetryStrategy())
        key = mgmt.create_key(oci.key_management.models.CreateKeyDetails(
            compartment_id=COMPARTMENT, display_name="k",
            key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
        crypto = oci.key_management.KmsCryptoClient(oci_config, service_endpoint=vault.crypto_endpoint,
                                                    retry_strategy=oci.retry.NoneRetryStrategy())
        sealed = crypto.encrypt(oci.key_management.models.EncryptDataDetails(
            key_id=key.id, plaintext=base64.b64encode(b"kept across restarts").decode())).data.ciphertext
        secret = vaults.create_secret(oci.vault.models.CreateSecretDetails(
            compartment_id=COMPARTMENT, vault_id=vault.id, key_id=key.id, secret_name="durable",
            secret_content=content(b"v1"))).data
        vaults.update_secret(secret.id, oci.vault.models.UpdateSecretDetails(secret_content=content(b"v2")))

        for name in ("emulator.db", "root.key"):
            mode = stat.S_IMODE(os.stat(data_dir / name).st_mode)
            assert mode == 0o600, (name, oct(mode))
    finally:
        first.proc.kill()  # SIGKILL: no shutdown, no flush
        first.proc.wait()
        first.stop()

    second = start_emulator(tmp_path, {"OCI_EMULATOR_DATA_DIR": str(data_dir)})
    try:
        assert second.base_url != first.base_url
        kms, _, secrets = clients(oci_config, second.base_url)
        again = kms.get_vault(vault.id).data
        assert again.management_endpoint.startswith(second.base_url + "/kms/")
        assert again.crypto_endpoint.startswith(second.base_url + "/kms/")
        bundle = secrets.get_secret_bundle(secret.id).data
        assert (bundle.version_number, base64.b64decode(bundle.secret_bundle_content.content)) == (2, b"v2")
        previous = secrets.get_secret_bundle(secret.id, stage="PREVIOUS").data
        assert base64.b64decode(previous.secret_bundle_content.content) == b"v1"
        crypto = oci.key_management.KmsCryptoClient(oci_config, service_endpoint=again.crypto_endpoint,
                                                    retry_strategy=oci.retry.NoneRetryStrategy())
        opened = crypto.decrypt(oci.key_management.models.DecryptDataDetails(key_id=key.id, ciphertext=sealed)).data
        assert base64.b64decode(opened.plaintext) == b"kept across restarts"
    finally:
        second.stop()


def test_a_different_root_key_is_refused_and_changes_nothing(tmp_path, oci_config):
    data_dir = tmp_path / "data"
    first = start_emulator(tmp_path, {"OCI_EMULATOR_DATA_DIR": str(data_dir)})
    first.stop()
    root_before = (data_dir / "root.key").read_bytes()

    other = base64.b64encode(os.urandom(32)).decode()
    run = subprocess.run(
        [str(_emulator_binary()), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir),
         "--root-key", other],
        capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert run.returncode == 1
    assert "sealed under another root key" in run.stderr
    assert other not in run.stderr
    assert (data_dir / "root.key").read_bytes() == root_before


@pytest.mark.parametrize("bad, expected", [
    ("not base64!", "--root-key is not valid base64"),
    (base64.b64encode(b"short").decode(), "--root-key must decode to 32 bytes"),
])
def test_a_malformed_root_key_is_refused_at_start(bad, expected):
    run = subprocess.run([str(_emulator_binary()), "serve", "--listen", "127.0.0.1:0", "--root-key", bad],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert run.returncode == 1
    assert expected in run.stderr


def test_a_bad_tenancy_file_is_refused_naming_the_field(tmp_path):
    import json
    doc = json.loads(open("fixtures/tenancy.json").read())
    doc["users"][0]["apiKeys"][0]["publicKeyPem"] = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n"
    bad = tmp_path / "tenancy.json"
    bad.write_text(json.dumps(doc))
    run = subprocess.run([str(_emulator_binary()), "serve", "--listen", "127.0.0.1:0", "--tenancy", str(bad)],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert run.returncode == 1
    assert "users[0].apiKeys[0].publicKeyPem" in run.stderr, run.stderr


def test_every_acknowledged_write_survives_five_kill_9s_during_concurrent_writes(tmp_path, oci_config):
    """Four writers create secrets and add versions (UpdateSecret with new
    content) while the emulator is SIGKILLed after a random-ish number of
    acknowledged (2xx) writes, five times; after each restart on the same
    --data-dir every acknowledged version so far is there and its bundle is
    the exact bytes written. Writes in flight at the kill may or may not be
    there: they were never acknowledged."""
    import random
    import threading
    import time

    seed = int(os.environ.get("OCI_EMULATOR_KILL_SEED", time.time_ns() % 1_000_000))
    print("kill test seed: {}".format(seed))
    rng = random.Random(seed)
    writers, kills, per_secret = 4, 5, 12
    data_dir = tmp_path / "data"
    env = {"OCI_EMULATOR_DATA_DIR": str(data_dir), "OCI_EMULATOR_LOG": "warn"}

    emu = start_emulator(tmp_path, env)
    try:
        kms, _, _ = clients(oci_config, emu.base_url)
        vault = kms.create_vault(oci.key_management.models.CreateVaultDetails(
            compartment_id=COMPARTMENT, display_name="kill-9", vault_type="DEFAULT")).data
        mgmt = oci.key_management.KmsManagementClient(
            oci_config, service_endpoint=vault.management_endpoint, retry_strategy=oci.retry.NoneRetryStrategy())
        key = mgmt.create_key(oci.key_management.models.CreateKeyDetails(
            compartment_id=COMPARTMENT, display_name="k",
            key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
    except BaseException:
        emu.stop()
        raise

    acked = []  # (secret id, version number, bytes): every 2xx write
    lock = threading.Condition()  # guards `acked` and `names`; notified on each write
    # Each writer's secret and how many versions it has had so far: a secret
    # holds at most 30 versions in use, so each writer moves on to a new one.
    mine = [[None, 0] for _ in range(writers)]
    names = iter(range(1_000_000))

    def write_until_killed(w, base_url, killing, errors):
        _, vaults, _ = clients(oci_config, base_url)
        while True:
            data = "w{}-".format(w).encode() + os.urandom(24)
            try:
                if mine[w][0] is None or mine[w][1] >= per_secret:
                    with lock:
                        name = "kill-9-{}-{}".format(seed, next(names))
                    secret = vaults.create_secret(oci.vault.models.CreateSecretDetails(
                        compartment_id=COMPARTMENT, vault_id=vault.id, key_id=key.id, secret_name=name,
                        secret_content=content(data))).data
                    mine[w] = [secret.id, 1]
                    number = 1
                else:
                    secret = vaults.update_secret(mine[w][0], oci.vault.models.UpdateSecretDetails(
                        secret_content=content(data))).data
                    mine[w][1] += 1
                    number = secret.current_version_number
            except Exception as e:  # the kill, or a failure before it
                with lock:
                    if not killing.is_set():
                        errors.append(e)
                    lock.notify_all()
                return
            with lock:
                acked.append((secret.id, number, data))
                lock.notify_all()

    def verify(base_url):
        _, _, secrets = clients(oci_config, base_url)
        for secret_id, number, data in acked:
            bundle = secrets.get_secret_bundle(secret_id, version_number=number).data
            got = base64.b64decode(bundle.secret_bundle_content.content)
            assert (bundle.version_number, got) == (number, data), (secret_id, number)

    try:
        for kill in range(kills):
            target = len(acked) + rng.randint(10, 40)
            killing, errors = threading.Event(), []
            threads = [threading.Thread(target=write_until_killed, args=(w, emu.base_url, killing, errors))
                       for w in range(writers)]
            for t in threads:
                t.start()
            with lock:  # kill after `target` acknowledged writes (20 s: a deadline for a hung run)
                lock.wait_for(lambda: len(acked) >= target or errors, timeout=20)
                killing.set()
            emu.proc.kill()  # SIGKILL: no shutdown, no flush
            emu.proc.wait()
            emu.stop()
            for t in threads:
                t.join(timeout=60)
            assert not errors, errors
            assert len(acked) >= target, "only {} of {} writes acknowledged".format(len(acked), target)

            emu = start_emulator(tmp_path, env)
            verify(emu.base_url)
        print("kill test: {} acknowledged writes, {} kills, 0 lost".format(len(acked), kills))
    finally:
        emu.stop()
