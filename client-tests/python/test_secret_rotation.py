"""Secret rotation (issue 14, "Rotation"): `rotationConfig`, RotateSecret, CancelSecretRotation and
scheduled rotation, through the real SDK and CLI.

The module runs its own emulator whose tenancy file declares `functions`, bound to a small
function server started here (http.server on a free port, in a thread). Like Oracle's rotation
function samples, the server does the version work itself through the Vault API with the real
SDK: at CREATE_PENDING_VERSION it adds a PENDING version (UpdateSecret, stage PENDING), at
PROMOTE_PENDING_VERSION it promotes it (UpdateSecret, currentVersionNumber). It records every step
it receives, per secret, so the tests can check the order and the version numbers sent.
"""
import datetime
import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import oci
import pytest

from conftest import CLIENT_TIMEOUT, ClockedEmulator, REPO_ROOT, _free_port, start_emulator
from support import (
    COMPARTMENT_ID, CONFIG_FILE, NO_RETRY, b64, expect_service_error, raw_request,
    stages_by_version, unb64, unique, wait_for,
)
from test_cli import OCI_CLI

FUNCTION_ID = "ocid1.fnfunc.oc1.iad.aaaaaaaarotationtestfunction000000000000000000000000000001"
DOWN_FUNCTION_ID = "ocid1.fnfunc.oc1.iad.aaaaaaaarotationtestdown0000000000000000000000000000000001"
UNDECLARED_FUNCTION_ID = "ocid1.fnfunc.oc1.iad.aaaaaaaarotationtestghost000000000000000000000000000001"
ADB_ID = "ocid1.autonomousdatabase.oc1.iad.aaaaaaaarotationtestadb00000000000000000000000000001"
STEPS = ["VERIFY_CONNECTION", "CREATE_PENDING_VERSION", "UPDATE_TARGET_SYSTEM",
         "PROMOTE_PENDING_VERSION"]
ROTATION_TIMEOUT_S = 30


class FunctionServer:
    """The rotation function: one HTTP endpoint, behaviour chosen per secret."""

    def __init__(self, oci_config):
        self.oci_config = oci_config
        self.emulator_url = None
        self.calls = {}        # secretId -> [(step, versionNo)]
        self.fail_at = {}      # secretId -> (step, responseCode)
        self.hold_at = {}      # secretId -> (step, threading.Event): answer once it is set
        self.reached = {}      # secretId -> threading.Event set when the held step arrives
        self.contents = {}     # secretId -> content of the PENDING version it made
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length))
                reply = server.handle(body)
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:{}/invoke".format(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def vaults(self):
        return oci.vault.VaultsClient(self.oci_config, service_endpoint=self.emulator_url,
                                      retry_strategy=NO_RETRY, timeout=CLIENT_TIMEOUT)

    def handle(self, body):
        step, secret_id, version_no = body["step"], body["secretId"], body["versionNo"]
        with self._lock:
            self.calls.setdefault(secret_id, []).append((step, version_no))
        hold = self.hold_at.get(secret_id)
        if hold and hold[0] == step:
            self.reached[secret_id].set()
            hold[1].wait(ROTATION_TIMEOUT_S)
        failure = self.fail_at.get(secret_id)
        if failure and failure[0] == step:
            return {"responseCode": failure[1], "returnMessage": "target system refused the password",
                    "versionNo": version_no}
        if step == "CREATE_PENDING_VERSION":
            content = os.urandom(16)
            secret = self.vaults().update_secret(secret_id, oci.vault.models.UpdateSecretDetails(
                secret_content=oci.vault.models.Base64SecretContentDetails(
                    content_type="BASE64", content=b64(content), stage="PENDING"))).data
            pending = max(v.version_number for v in oci.pagination.list_call_get_all_results(
                self.vaults().list_secret_versions, secret.id).data)
            self.contents[secret_id] = content
            return {"responseCode": 200, "returnMessage": "pending version created", "versionNo": pending}
        if step == "PROMOTE_PENDING_VERSION":
            self.vaults().update_secret(secret_id, oci.vault.models.UpdateSecretDetails(
                current_version_number=version_no))
        return {"responseCode": 200, "returnMessage": "{} done".format(step), "versionNo": version_no}

    def steps(self, secret_id):
        with self._lock:
            return list(self.calls.get(secret_id, []))

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def fn(oci_config):
    server = FunctionServer(oci_config)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def rot(tmp_path_factory, oci_config, fn):
    """A ClockedEmulator whose tenancy declares the test function and one that is down."""
    tenancy = json.loads((REPO_ROOT / "fixtures" / "tenancy.json").read_text())
    tenancy["functions"] = [
        {"id": FUNCTION_ID, "compartmentId": COMPARTMENT_ID, "invokeUrl": fn.url},
        {"id": DOWN_FUNCTION_ID, "compartmentId": COMPARTMENT_ID,
         "invokeUrl": "http://127.0.0.1:{}/invoke".format(_free_port())},
    ]
    path = Path(tmp_path_factory.mktemp("rotation")) / "tenancy.json"
    path.write_text(json.dumps(tenancy))
    emu = start_emulator(tmp_path_factory.getbasetemp(), {"OCI_EMULATOR_TENANCY": str(path)})
    fn.emulator_url = emu.base_url
    try:
        yield ClockedEmulator(emu, oci_config)
    finally:
        emu.stop()


@pytest.fixture(scope="module")
def setup(rot):
    """(vault, key) in the rotation emulator."""
    vault = rot.vault()
    return vault, rot.key(vault)


def function_config(function_id=FUNCTION_ID, interval=None, scheduled=None):
    return oci.vault.models.RotationConfig(
        target_system_details=oci.vault.models.FunctionTargetSystemDetails(function_id=function_id),
        rotation_interval=interval, is_scheduled_rotation_enabled=scheduled)


def make_secret(rot, setup, content=b"v1-password", rotation_config=None, **kwargs):
    vault, key = setup
    return rot.vaults().create_secret(oci.vault.models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id, secret_name=unique("rot"),
        secret_content=oci.vault.models.Base64SecretContentDetails(content_type="BASE64", content=b64(content)),
        rotation_config=rotation_config, **kwargs)).data


def settled(rot, secret_id):
    """GetSecret once the rotation is over (rotationStatus no longer IN_PROGRESS or CANCELLING)."""
    def done():
        s = rot.vaults().get_secret(secret_id).data
        return s if s.rotation_status not in ("IN_PROGRESS", "CANCELLING") else None
    return wait_for(done, "the rotation of {} to end".format(secret_id), timeout=ROTATION_TIMEOUT_S)


def etag(rot, secret_id):
    return rot.vaults().get_secret(secret_id).headers["etag"]


def versions(rot, secret_id):
    return stages_by_version(oci.pagination.list_call_get_all_results(
        rot.vaults().list_secret_versions, secret_id).data)


def current_content(rot, secret_id):
    return unb64(rot.secrets().get_secret_bundle(secret_id, stage="CURRENT").data.secret_bundle_content.content)


# --- rotationConfig: stored, validated, returned -------------------------------------------------

def test_rotation_config_is_stored_and_returned_on_get_list_and_update(rot, setup):
    s = make_secret(rot, setup, rotation_config=function_config(interval="P30D", scheduled=True))
    got = rot.vaults().get_secret(s.id).data
    for secret in (s, got):
        assert secret.rotation_config.rotation_interval == "P30D"
        assert secret.rotation_config.is_scheduled_rotation_enabled is True
        assert secret.rotation_config.target_system_details.target_system_type == "FUNCTION"
        assert secret.rotation_config.target_system_details.function_id == FUNCTION_ID
        assert secret.rotation_status == "SCHEDULED"
        assert secret.next_rotation_time == secret.time_created + datetime.timedelta(days=30)
        assert secret.last_rotation_time is None
    listed = [x for x in rot.vaults().list_secrets(COMPARTMENT_ID, name=s.secret_name).data]
    assert [(x.id, x.rotation_status, x.rotation_config.rotation_interval) for x in listed] == [
        (s.id, "SCHEDULED", "P30D")]

    updated = rot.vaults().update_secret(s.id, oci.vault.models.UpdateSecretDetails(
        rotation_config=oci.vault.models.RotationConfig(
            target_system_details=oci.vault.models.AdbTargetSystemDetails(adb_id=ADB_ID),
            is_scheduled_rotation_enabled=False))).data
    assert updated.rotation_config.target_system_details.target_system_type == "ADB"
    assert updated.rotation_config.target_system_details.adb_id == ADB_ID
    assert updated.rotation_config.rotation_interval is None
    assert updated.rotation_config.is_scheduled_rotation_enabled is False
    assert (updated.rotation_status, updated.next_rotation_time) == ("NOT_ENABLED", None)
    assert rot.vaults().get_secret(s.id).data.rotation_status == "NOT_ENABLED"


def test_a_secret_without_rotation_config_is_not_enabled(rot, setup):
    s = rot.vaults().get_secret(make_secret(rot, setup).id).data
    assert (s.rotation_config, s.rotation_status, s.next_rotation_time) == (None, "NOT_ENABLED", None)


BAD_CONFIGS = [
    ({"targetSystemDetails": {"targetSystemType": "FUNCTION", "functionId": FUNCTION_ID},
      "rotationInterval": "P0D"}, "rotationInterval"),
    ({"targetSystemDetails": {"targetSystemType": "FUNCTION", "functionId": FUNCTION_ID},
      "rotationInterval": "P361D"}, "rotationInterval"),
    ({"targetSystemDetails": {"targetSystemType": "FUNCTION", "functionId": FUNCTION_ID},
      "rotationInterval": "P1W"}, "rotationInterval"),
    ({"targetSystemDetails": {"targetSystemType": "FUNCTION", "functionId": FUNCTION_ID},
      "isScheduledRotationEnabled": True}, "rotationInterval"),
    ({"targetSystemDetails": {"targetSystemType": "FUNCTION", "functionId": ADB_ID}}, "functionId"),
    ({"targetSystemDetails": {"targetSystemType": "ADB", "adbId": "db-1"}}, "adbId"),
    ({"targetSystemDetails": {"targetSystemType": "ADB"}}, "adbId"),  # absent: MissingParameter
    ({"targetSystemDetails": {"targetSystemType": "LAMBDA", "functionId": FUNCTION_ID}}, "targetSystemType"),
    ({"rotationInterval": "P1D"}, "targetSystemDetails"),  # absent: MissingParameter
]


def _missing(config):
    """'absent' when a required field is missing (the emulator's 400 MissingParameter, as for any
    other absent required field), else ''."""
    target = config.get("targetSystemDetails")
    if target is None or (target.get("targetSystemType") == "ADB" and "adbId" not in target):
        return "absent"
    return ""


@pytest.mark.parametrize("config,field", BAD_CONFIGS)
def test_bad_rotation_configs_are_400_and_change_nothing(rot, setup, config, field):
    vault, key = setup
    name = unique("badrot")
    r = raw_request(rot.base_url, "POST", "/20180608/secrets", body={
        "compartmentId": COMPARTMENT_ID, "vaultId": vault.id, "keyId": key.id, "secretName": name,
        "secretContent": {"contentType": "BASE64", "content": b64(b"x")}, "rotationConfig": config})
    code = "MissingParameter" if "absent" in _missing(config) else "InvalidParameter"
    assert (r.status_code, r.json()["code"]) == (400, code), r.text
    assert field in r.json()["message"]
    assert rot.vaults().list_secrets(COMPARTMENT_ID, name=name).data == []

    s = make_secret(rot, setup, rotation_config=function_config(interval="P7D", scheduled=True))
    before = etag(rot, s.id)
    r = raw_request(rot.base_url, "PUT", "/20180608/secrets/" + s.id,
                    body={"description": "changed", "rotationConfig": config})
    assert (r.status_code, r.json()["code"]) == (400, code), r.text
    after = rot.vaults().get_secret(s.id)
    assert (after.headers["etag"], after.data.description, after.data.rotation_config.rotation_interval) == (
        before, None, "P7D")


# --- RotateSecret with a FUNCTION target ---------------------------------------------------------

def test_rotate_secret_calls_each_step_in_order_and_the_new_version_becomes_current(rot, setup, fn):
    s = make_secret(rot, setup, content=b"old-password", rotation_config=function_config())
    response = rot.vaults().rotate_secret(s.id)
    assert response.status == 202
    assert response.data is None
    assert response.headers["opc-work-request-id"].startswith("ocid1.")

    after = settled(rot, s.id)
    assert fn.steps(s.id) == [("VERIFY_CONNECTION", 1), ("CREATE_PENDING_VERSION", 1),
                              ("UPDATE_TARGET_SYSTEM", 2), ("PROMOTE_PENDING_VERSION", 2)]
    assert versions(rot, s.id) == {1: {"PREVIOUS"}, 2: {"CURRENT", "LATEST"}}
    assert current_content(rot, s.id) == fn.contents[s.id]
    assert unb64(rot.secrets().get_secret_bundle(s.id, stage="PREVIOUS").data
                 .secret_bundle_content.content) == b"old-password"
    assert after.current_version_number == 2
    assert after.rotation_status == "NOT_ENABLED"
    assert after.last_rotation_time is not None and after.last_rotation_time >= s.time_created
    assert after.lifecycle_details is None
    assert after.next_rotation_time is None


def test_a_failed_step_stops_the_rotation_and_leaves_the_pending_version(rot, setup, fn):
    s = make_secret(rot, setup, content=b"kept", rotation_config=function_config(interval="P10D", scheduled=True))
    fn.fail_at[s.id] = ("UPDATE_TARGET_SYSTEM", 500)
    rot.vaults().rotate_secret(s.id)

    after = settled(rot, s.id)
    assert fn.steps(s.id) == [("VERIFY_CONNECTION", 1), ("CREATE_PENDING_VERSION", 1),
                              ("UPDATE_TARGET_SYSTEM", 2)]
    assert versions(rot, s.id) == {1: {"CURRENT"}, 2: {"PENDING", "LATEST"}}
    assert current_content(rot, s.id) == b"kept"
    assert after.current_version_number == 1
    assert after.rotation_status == "SCHEDULED"
    assert after.last_rotation_time is None
    assert after.lifecycle_details == (
        "Secret rotation failed at step UPDATE_TARGET_SYSTEM: the function answered responseCode 500: "
        "target system refused the password")


def test_an_undeclared_function_fails_the_rotation_and_says_so(rot, setup, fn):
    s = make_secret(rot, setup, rotation_config=function_config(UNDECLARED_FUNCTION_ID))
    rot.vaults().rotate_secret(s.id)
    after = settled(rot, s.id)
    assert "function {} is not declared in the emulator's tenancy file".format(
        UNDECLARED_FUNCTION_ID) in after.lifecycle_details
    assert fn.steps(s.id) == []
    assert versions(rot, s.id) == {1: {"CURRENT", "LATEST"}}
    assert (after.rotation_status, after.last_rotation_time) == ("NOT_ENABLED", None)


def test_an_unreachable_function_fails_at_the_first_step(rot, setup):
    s = make_secret(rot, setup, rotation_config=function_config(DOWN_FUNCTION_ID))
    rot.vaults().rotate_secret(s.id)
    after = settled(rot, s.id)
    assert after.lifecycle_details.startswith("Secret rotation failed at step VERIFY_CONNECTION: the function at ")
    assert "unreachable" in after.lifecycle_details
    assert versions(rot, s.id) == {1: {"CURRENT", "LATEST"}}


def test_rotating_a_secret_without_rotation_config_is_400_and_changes_nothing(rot, setup):
    s = make_secret(rot, setup)
    before = etag(rot, s.id)
    err = expect_service_error(400, "InvalidParameter", rot.vaults().rotate_secret, s.id)
    assert "rotationConfig" in err.message
    after = rot.vaults().get_secret(s.id)
    assert (after.headers["etag"], after.data.rotation_status) == (before, "NOT_ENABLED")
    expect_service_error(400, "InvalidParameter", rot.vaults().cancel_secret_rotation, s.id)
    assert etag(rot, s.id) == before


def test_rotate_secret_checks_if_match(rot, setup):
    s = make_secret(rot, setup, rotation_config=function_config())
    expect_service_error(412, "NoEtagMatch", rot.vaults().rotate_secret, s.id, if_match="stale")
    assert rot.vaults().get_secret(s.id).data.rotation_status == "NOT_ENABLED"


# --- CancelSecretRotation ------------------------------------------------------------------------

def test_cancel_during_a_rotation_stops_it_and_disables_scheduled_rotation(rot, setup, fn):
    s = make_secret(rot, setup, content=b"before", rotation_config=function_config(interval="P5D", scheduled=True))
    release = threading.Event()
    fn.reached[s.id] = threading.Event()
    fn.hold_at[s.id] = ("UPDATE_TARGET_SYSTEM", release)
    try:
        rot.vaults().rotate_secret(s.id)
        assert fn.reached[s.id].wait(ROTATION_TIMEOUT_S), "the function never got UPDATE_TARGET_SYSTEM"
        # The emulator keeps serving while the function holds a step.
        during = rot.vaults().get_secret(s.id).data
        assert during.rotation_status == "IN_PROGRESS"
        expect_service_error(409, "IncorrectState", rot.vaults().rotate_secret, s.id)

        response = rot.vaults().cancel_secret_rotation(s.id)
        assert response.status == 200
        cancelling = rot.vaults().get_secret(s.id).data
        assert cancelling.rotation_status == "CANCELLING"
        assert cancelling.rotation_config.is_scheduled_rotation_enabled is False
        assert cancelling.next_rotation_time is None
    finally:
        release.set()

    after = settled(rot, s.id)
    assert [step for step, _ in fn.steps(s.id)] == STEPS[:3]
    assert after.rotation_status == "NOT_ENABLED"
    assert after.lifecycle_details == (
        "Secret rotation was cancelled by CancelSecretRotation before step PROMOTE_PENDING_VERSION.")
    assert after.last_rotation_time is None
    assert versions(rot, s.id) == {1: {"CURRENT"}, 2: {"PENDING", "LATEST"}}
    assert current_content(rot, s.id) == b"before"


def test_cancel_without_a_rotation_in_progress_only_disables_the_schedule(rot, setup):
    s = make_secret(rot, setup, rotation_config=function_config(interval="P3D", scheduled=True))
    assert s.rotation_status == "SCHEDULED"
    before = etag(rot, s.id)
    response = rot.vaults().cancel_secret_rotation(s.id)
    assert response.headers["etag"] == etag(rot, s.id) != before
    after = rot.vaults().get_secret(s.id).data
    assert (after.rotation_status, after.next_rotation_time) == ("NOT_ENABLED", None)
    assert after.rotation_config.is_scheduled_rotation_enabled is False
    assert after.rotation_config.rotation_interval == "P3D"


# --- ADB target, CLI, scheduled rotation ---------------------------------------------------------

def test_an_adb_target_rotates_to_a_generated_version(rot, setup):
    s = make_secret(rot, setup, content=b"db-password", rotation_config=oci.vault.models.RotationConfig(
        target_system_details=oci.vault.models.AdbTargetSystemDetails(adb_id=ADB_ID)))
    rot.vaults().rotate_secret(s.id)
    after = settled(rot, s.id)
    assert after.lifecycle_details is None
    assert after.last_rotation_time is not None
    assert versions(rot, s.id) == {1: {"PREVIOUS"}, 2: {"CURRENT", "LATEST"}}
    v2 = rot.vaults().get_secret_version(s.id, 2).data
    assert v2.is_content_auto_generated is True
    generated = current_content(rot, s.id)
    assert generated != b"db-password" and len(generated) > 0


def test_oci_vault_secret_rotate_through_the_cli(rot, setup, fn):
    s = make_secret(rot, setup, rotation_config=function_config())
    cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--profile", "DEFAULT", "--endpoint", rot.base_url,
           "--no-retry", "--output", "json", "vault", "secret", "rotate", "--secret-id", s.id]
    env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True", SUPPRESS_LABEL_WARNING="True")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    after = settled(rot, s.id)
    assert [step for step, _ in fn.steps(s.id)] == STEPS
    assert versions(rot, s.id) == {1: {"PREVIOUS"}, 2: {"CURRENT", "LATEST"}}
    assert after.last_rotation_time is not None


def test_scheduled_rotation_starts_when_virtual_time_passes_next_rotation_time(rot, setup, fn):
    s = make_secret(rot, setup, rotation_config=function_config(interval="P1D", scheduled=True))
    due = s.next_rotation_time
    assert due == s.time_created + datetime.timedelta(days=1)
    rot.advance(seconds=3600)
    assert fn.steps(s.id) == []
    assert rot.vaults().get_secret(s.id).data.rotation_status == "SCHEDULED"

    rot.advance(days=1)
    after = settled(rot, s.id)
    assert [step for step, _ in fn.steps(s.id)] == STEPS
    assert versions(rot, s.id) == {1: {"PREVIOUS"}, 2: {"CURRENT", "LATEST"}}
    assert after.rotation_status == "SCHEDULED"
    assert after.last_rotation_time >= due
    assert after.next_rotation_time == after.last_rotation_time + datetime.timedelta(days=1)
