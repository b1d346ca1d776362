"""The audit trail through the real `oci.audit.AuditClient` and `oci audit event list`.

An emulator of its own (with `--audit-log` to a file) so the trail holds only this module's
requests; windows are computed from the emulator's clock, which the tests move forward
(`POST /_emulator/time`) so that each scenario's events sit alone in their minutes.
"""
import datetime
import json
import os
import subprocess

import oci
import pytest
import requests

from conftest import ClockedEmulator, start_emulator, _client_kwargs
from support import (
    COMPARTMENT_ID, CONFIG_FILE, NO_RETRY, b64, expect_service_error, load_profile, unique,
)
from test_cli import OCI_CLI

TENANCY_ID = "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy0000000000000000000000000000000000001"


@pytest.fixture(scope="module")
def audited(tmp_path_factory, oci_config):
    audit_log = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    emu = start_emulator(tmp_path_factory.getbasetemp(), {"OCI_EMULATOR_AUDIT_LOG": str(audit_log)})
    try:
        clocked = ClockedEmulator(emu, oci_config)
        clocked.audit_log = audit_log
        yield clocked
    finally:
        emu.stop()


def audit_client(emu, profile="DEFAULT"):
    return oci.audit.AuditClient(load_profile(profile), **_client_kwargs(emu.base_url))


def quiet_window(emu):
    """Moves the clock a day on and answers the minute it is now in, floored: events made
    from here until the clock moves again fall in [start, start + 2 min)."""
    emu.advance(days=1)
    now = emu.now()
    return now.replace(second=0, microsecond=0)


def setup_secret(emu, name=None):
    vault = emu.vault()
    key = emu.key(vault)
    content = os.urandom(24)
    s = emu.vaults().create_secret(oci.vault.models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id,
        secret_name=name or unique("secret"),
        secret_content=oci.vault.models.Base64SecretContentDetails(
            content_type="BASE64", content=b64(content)))).data
    return vault, key, s, content


def put_faults(emu, doc):
    r = requests.put(emu.base_url + "/_emulator/faults", json=doc, timeout=5)
    assert r.status_code == 200, r.text


def list_window(emu, start, minutes=2, compartment=COMPARTMENT_ID):
    """Every event of the window, following opc-next-page; the clock is moved past the window
    first, so the ListEvents calls themselves fall outside it."""
    emu.advance(seconds=600)
    client = audit_client(emu)
    events = oci.pagination.list_call_get_all_results(
        client.list_events, compartment, start, start + datetime.timedelta(minutes=minutes)).data
    return events


def test_scenario_1_allowed_denied_and_faulted_reads_are_exactly_the_windows_events(audited):
    _, _, s, _ = setup_secret(audited)
    start = quiet_window(audited)
    admin = audited.secrets()
    reader = oci.secrets.SecretsClient(load_profile("APPREADER"), **_client_kwargs(audited.base_url))
    assert admin.get_secret_bundle(s.id).data.version_number == 1
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.get_secret_bundle, s.id)
    put_faults(audited, {"rules": [{"id": "bundle-outage", "match": {"operations": ["GetSecretBundle"]},
                                    "action": {"error": {"status": 503, "code": "ServiceUnavailable"}},
                                    "schedule": {"firstN": 1}}]})
    try:
        expect_service_error(503, "ServiceUnavailable", admin.get_secret_bundle, s.id)
    finally:
        requests.delete(audited.base_url + "/_emulator/faults", timeout=5).raise_for_status()

    events = list_window(audited, start)

    assert [e.data.event_name for e in events] == ["GetSecretBundle"] * 3
    assert [e.data.response.status for e in events] == ["200", "404", "503"]
    assert [e.data.additional_details["result"] for e in events] == ["SUCCEEDED", "DENIED", "FAULTED"]
    allowed, denied, faulted = events
    for e in events:
        assert e.event_type == "com.oraclecloud.secretretrieval.GetSecretBundle"
        assert e.cloud_events_version == "0.1" and e.event_type_version == "2.0"
        assert e.source == "secretretrieval" and e.content_type == "application/json"
        assert e.data.compartment_id == COMPARTMENT_ID and e.data.compartment_name == "apps"
        assert e.data.resource_id == s.id and e.data.resource_name == s.secret_name
        assert e.data.request.action == "GET"
        assert e.data.request.path == "/20190301/secretbundles/" + s.id
        assert "authorization" not in {h.lower() for h in e.data.request.headers}
        assert e.data.identity.ip_address == "127.0.0.1"
        assert e.data.identity.auth_type == "natv"
        assert e.data.identity.user_agent.startswith("Oracle-PythonSDK/")
        assert start <= e.event_time < start + datetime.timedelta(minutes=2)
    assert allowed.data.identity.principal_name == "admin"
    assert allowed.data.identity.credentials == "{}/{}/{}".format(
        TENANCY_ID, load_profile("DEFAULT")["user"], load_profile("DEFAULT")["fingerprint"])
    assert allowed.data.additional_details["secretVersionNumber"] == 1
    assert allowed.data.additional_details["decision"] == "ALLOWED"
    assert allowed.data.additional_details["groups"] == ["Administrators"]
    assert denied.data.identity.principal_name == "app-reader"
    assert denied.data.response.message == "NotAuthorizedOrNotFound"
    assert denied.data.additional_details["decision"] == "DENIED"
    assert denied.data.additional_details["decisionId"] == denied.data.request.id
    assert "secretVersionNumber" not in denied.data.additional_details
    assert faulted.data.additional_details["faults"] == ["bundle-outage"]
    assert faulted.data.response.message == "ServiceUnavailable"
    # The explanation of the denial is where the event says.
    r = requests.get(audited.base_url + "/_emulator/decisions/" + denied.data.request.id, timeout=5)
    assert r.status_code == 200


def test_no_event_holds_secret_content_or_a_signature(audited):
    _, _, s, content = setup_secret(audited)
    audited.secrets().get_secret_bundle(s.id)
    r = requests.get(audited.base_url + "/_emulator/audit", params={"secret": s.id}, timeout=5)
    text = r.text + audited.audit_log.read_text()
    assert b64(content) not in text
    assert 'signature="' not in text and "Signature version" not in text


def test_crypto_logging_context_is_recorded(audited):
    vault = audited.vault()
    key = audited.key(vault)
    start = quiet_window(audited)
    audited.crypto(vault).encrypt(oci.key_management.models.EncryptDataDetails(
        key_id=key.id, plaintext=b64(b"hello"), logging_context={"app": "billing", "run": "7"}))
    events = list_window(audited, start)
    assert [e.data.event_name for e in events] == ["Encrypt"]
    assert events[0].source == "kms"
    assert events[0].data.additional_details["loggingContext"] == {"app": "billing", "run": "7"}
    assert events[0].data.resource_id == key.id
    assert b64(b"hello") not in json.dumps(oci.util.to_dict(events[0]))


def test_list_events_pages_with_opc_next_page(audited):
    vault = audited.vault()
    start = quiet_window(audited)
    for _ in range(105):
        audited.kms_vault.get_vault(vault.id)
    audited.advance(seconds=600)
    client = audit_client(audited)
    end = start + datetime.timedelta(minutes=2)
    first = client.list_events(COMPARTMENT_ID, start, end)
    assert len(first.data) == 100 and first.has_next_page
    second = client.list_events(COMPARTMENT_ID, start, end, page=first.next_page)
    assert len(second.data) == 5 and not second.has_next_page
    assert {e.data.event_name for e in first.data + second.data} == {"GetVault"}
    assert len({e.event_id for e in first.data + second.data}) == 105


def test_list_events_validates_its_window(audited):
    client = audit_client(audited)
    now = audited.now().replace(second=0, microsecond=0)
    expect_service_error(400, "InvalidParameter", client.list_events, COMPARTMENT_ID,
                         now.replace(second=30), now + datetime.timedelta(minutes=1))
    expect_service_error(400, "InvalidParameter", client.list_events, COMPARTMENT_ID,
                         now, now)
    expect_service_error(404, "NotAuthorizedOrNotFound", client.list_events,
                         "ocid1.compartment.oc1..nosuchcompartment", now, now + datetime.timedelta(minutes=1))


def test_list_events_needs_audit_event_read(audited):
    now = audited.now().replace(second=0, microsecond=0)
    expect_service_error(404, "NotAuthorizedOrNotFound", audit_client(audited, "DEVELOPER").list_events,
                         COMPARTMENT_ID, now, now + datetime.timedelta(minutes=1))


def test_configuration_retention_is_read_updated_and_honoured(audited):
    client = audit_client(audited)
    assert client.get_configuration(TENANCY_ID).data.retention_period_days == 365
    for bad in (89, 366):
        expect_service_error(400, "InvalidParameter", client.update_configuration, TENANCY_ID,
                             oci.audit.models.UpdateConfigurationDetails(retention_period_days=bad))
    expect_service_error(400, "InvalidParameter", client.get_configuration, COMPARTMENT_ID)
    vault = audited.vault()
    start = quiet_window(audited)
    audited.kms_vault.get_vault(vault.id)
    resp = client.update_configuration(
        TENANCY_ID, oci.audit.models.UpdateConfigurationDetails(retention_period_days=90))
    assert resp.status == 202 and resp.headers["opc-work-request-id"]
    try:
        assert client.get_configuration(TENANCY_ID).data.retention_period_days == 90
        assert [e.data.event_name for e in list_window(audited, start)] == ["GetVault"]
        audited.advance(days=91)
        assert list_window(audited, start) == []
    finally:
        client.update_configuration(
            TENANCY_ID, oci.audit.models.UpdateConfigurationDetails(retention_period_days=365))


def test_emulator_audit_filters_as_json_lines(audited):
    _, _, s, _ = setup_secret(audited)
    reader = oci.secrets.SecretsClient(load_profile("APPREADER"), **_client_kwargs(audited.base_url))
    for _ in range(2):
        expect_service_error(404, "NotAuthorizedOrNotFound", reader.get_secret_bundle, s.id)
    audited.secrets().get_secret_bundle(s.id)
    r = requests.get(audited.base_url + "/_emulator/audit",
                     params={"secret": s.id, "principal": "app-reader", "result": "DENIED"}, timeout=5)
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [(e["data"]["eventName"], e["data"]["response"]["status"]) for e in lines] == \
        [("GetSecretBundle", "404")] * 2
    r = requests.get(audited.base_url + "/_emulator/audit",
                     params={"secret": s.id, "operation": "GetSecretBundle", "result": "SUCCEEDED"}, timeout=5)
    assert len(r.text.splitlines()) == 1
    r = requests.get(audited.base_url + "/_emulator/audit", params={"result": "NOPE"}, timeout=5)
    assert r.status_code == 400 and r.json()["code"] == "InvalidParameter"
    r = requests.get(audited.base_url + "/_emulator/audit", params={"secret": s.id, "since": "2999-01-01T00:00:00Z"},
                     timeout=5)
    assert r.status_code == 200 and r.text == ""
    r = requests.get(audited.base_url + "/_emulator/audit", params={"since": "yesterday"}, timeout=5)
    assert r.status_code == 400 and r.json()["code"] == "InvalidParameter"
    # --audit-log has the same events, one JSON line each.
    logged = [json.loads(line) for line in audited.audit_log.read_text().splitlines()]
    assert sum(1 for e in logged if e["data"].get("resourceId") == s.id
               and e["data"]["additionalDetails"]["result"] == "DENIED") == 2


def test_reset_clears_the_trail(audited):
    vault = audited.vault()
    audited.kms_vault.get_vault(vault.id)
    assert requests.get(audited.base_url + "/_emulator/audit", timeout=5).text != ""
    requests.post(audited.base_url + "/_emulator/reset", timeout=30).raise_for_status()
    assert requests.get(audited.base_url + "/_emulator/audit", timeout=5).text == ""


def test_the_trail_survives_a_restart_with_a_data_dir(tmp_path, oci_config):
    env = {"OCI_EMULATOR_DATA_DIR": str(tmp_path / "data")}
    emu = start_emulator(tmp_path, env)
    try:
        vault = ClockedEmulator(emu, oci_config).vault()
    finally:
        emu.stop()
    emu = start_emulator(tmp_path, env)
    try:
        r = requests.get(emu.base_url + "/_emulator/audit", params={"operation": "CreateVault"}, timeout=5)
        events = [json.loads(line) for line in r.text.splitlines()]
        # a create's event names the resource it made
        assert [(e["data"]["compartmentId"], e["data"]["response"]["status"], e["data"]["resourceId"],
                 e["data"]["resourceName"]) for e in events] == [
            (COMPARTMENT_ID, "200", vault.id, vault.display_name)]
    finally:
        emu.stop()


def test_cli_audit_event_list(audited):
    vault = audited.vault()
    start = quiet_window(audited)
    audited.kms_vault.get_vault(vault.id)
    audited.advance(seconds=600)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    cmd = [str(OCI_CLI), "--config-file", CONFIG_FILE, "--profile", "DEFAULT",
           "--endpoint", audited.base_url, "--no-retry", "--output", "json",
           "audit", "event", "list", "--compartment-id", COMPARTMENT_ID,
           "--start-time", start.strftime(fmt),
           "--end-time", (start + datetime.timedelta(minutes=2)).strftime(fmt), "--all"]
    env = dict(os.environ, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True", SUPPRESS_LABEL_WARNING="True")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)["data"]
    assert [(e["data"]["event-name"], e["data"]["resource-id"], e["data"]["response"]["status"])
            for e in out] == [("GetVault", vault.id, "200")]
