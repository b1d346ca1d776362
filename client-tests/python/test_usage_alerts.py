"""Usage and cost (`GET /_emulator/usage`) and alerts (`GET /_emulator/alerts`).

Scenario 2: 11 denied reads by one user within a minute raise one alert, not eleven.
Scenario 3: 1,000 reads of one secret: the usage report shows the count, the projected cost and
the cache advice. Each test has an emulator of its own, so counters start at zero.
"""
import json
import os

import oci
import pytest
import requests

from conftest import ClockedEmulator, _client_kwargs, start_emulator
from support import COMPARTMENT_ID, b64, expect_service_error, load_profile, unique


@pytest.fixture
def emu(tmp_path, oci_config):
    raw = start_emulator(tmp_path)
    try:
        yield ClockedEmulator(raw, oci_config)
    finally:
        raw.stop()


def make_secret(emu):
    vault = emu.vault()
    key = emu.key(vault)
    s = emu.vaults().create_secret(oci.vault.models.CreateSecretDetails(
        compartment_id=COMPARTMENT_ID, vault_id=vault.id, key_id=key.id, secret_name=unique("usage"),
        secret_content=oci.vault.models.Base64SecretContentDetails(
            content_type="BASE64", content=b64(os.urandom(16))))).data
    return vault, key, s


def test_scenario_2_eleven_denied_reads_raise_one_alert_not_eleven(emu):
    _, _, s = make_secret(emu)
    reader = oci.secrets.SecretsClient(load_profile("APPREADER"), **_client_kwargs(emu.base_url))
    for _ in range(11):
        expect_service_error(404, "NotAuthorizedOrNotFound", reader.get_secret_bundle, s.id)
    body = requests.get(emu.base_url + "/_emulator/alerts", timeout=5).json()
    assert [(a["kind"], a["principal"], a["operation"], a["secretId"]) for a in body["alerts"]] == [
        ("REPEATED_FAILURES", "app-reader", "GetSecretBundle", s.id)]
    assert body["alerts"][0]["message"] == "app-reader had 11 failed requests within 300 s (threshold 10)"
    assert body["config"]["repeatedFailures"] == {"enabled": True, "threshold": 10, "windowSeconds": 300}
    # one warn line, and the metric
    log = emu.emulator.log_text()
    assert log.count("app-reader had 11 failed requests") == 1
    assert " WARN " in log.splitlines()[[i for i, line in enumerate(log.splitlines())
                                          if "app-reader had 11 failed" in line][0]]
    metrics = requests.get(emu.base_url + "/_emulator/metrics", timeout=5).text
    assert 'oci_emulator_alerts_total{kind="REPEATED_FAILURES"} 1' in metrics
    # a twelfth failure in the same window raises nothing more
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.get_secret_bundle, s.id)
    assert len(requests.get(emu.base_url + "/_emulator/alerts", timeout=5).json()["alerts"]) == 1


def test_scenario_3_a_thousand_reads_show_count_cost_and_cache_advice(emu):
    _, _, s = make_secret(emu)
    secrets = emu.secrets()
    for _ in range(1000):
        secrets.get_secret_bundle(s.id)
    r = requests.get(emu.base_url + "/_emulator/usage", params={"runsPerMonth": 1000}, timeout=30)
    assert r.status_code == 200
    report = r.json()
    reads = [c for c in report["counters"] if c["operation"] == "GetSecretBundle"]
    assert reads == [{"principal": "admin", "operation": "GetSecretBundle", "secretId": s.id, "count": 1000}]
    assert report["totalRequests"] == 1003  # CreateVault, CreateKey, CreateSecret and the reads
    assert report["prices"]["currency"] == "USD"
    assert report["prices"]["source"] == "https://www.oracle.com/security/pricing/"
    assert report["prices"]["date"] == "2026-12-01"
    assert (report["hsmKeyVersions"], report["softwareKeyVersions"], report["secretVersions"]) == (1, 0, 1)
    assert report["projectedMonthly"] == {
        "requestsPerMonth": 1003000, "billableRequests": 1003000, "requests": 3.009,
        "keyVersions": 0.0, "secretVersions": 0.0, "total": 3.009}
    [advice] = report["cacheAdvice"]
    assert {k: advice[k] for k in ("principal", "secretId", "reads", "maxReadsPerMinute", "cacheTtlSeconds",
                                   "readsWithCache", "requestsSavedPerMonth", "monthlySaving")} == {
        "principal": "admin", "secretId": s.id, "reads": 1000, "maxReadsPerMinute": 1000,
        "cacheTtlSeconds": 60, "readsWithCache": 1, "requestsSavedPerMonth": 999000, "monthlySaving": 2.997}


def test_usage_refuses_a_zero_multiplier_and_reset_clears_the_counters(emu):
    r = requests.get(emu.base_url + "/_emulator/usage", params={"runsPerMonth": 0}, timeout=5)
    assert r.status_code == 400 and r.json()["code"] == "InvalidParameter"
    make_secret(emu)
    assert requests.get(emu.base_url + "/_emulator/usage", timeout=5).json()["totalRequests"] == 3
    requests.post(emu.base_url + "/_emulator/reset", timeout=30).raise_for_status()
    report = requests.get(emu.base_url + "/_emulator/usage", timeout=5).json()
    assert report["totalRequests"] == 0 and report["counters"] == []


def test_reads_of_a_secret_pending_deletion_and_a_new_reader_after_a_quiet_hour(emu):
    _, _, s = make_secret(emu)
    _, _, other = make_secret(emu)
    emu.vaults().schedule_secret_deletion(s.id, oci.vault.models.ScheduleSecretDeletionDetails())
    for _ in range(2):
        expect_service_error(404, "NotAuthorizedOrNotFound", emu.secrets().get_secret_bundle, s.id)
    emu.advance(seconds=3600)
    emu.secrets().get_secret_bundle(other.id)
    alerts = requests.get(emu.base_url + "/_emulator/alerts", timeout=5).json()["alerts"]
    assert [(a["kind"], a["secretId"]) for a in alerts] == [
        ("PENDING_DELETION_READ", s.id), ("NEW_SECRET_READER", other.id)]


def test_an_alerts_config_file_changes_the_defaults(tmp_path, oci_config):
    cfg = tmp_path / "alerts.json"
    cfg.write_text(json.dumps({"repeatedFailures": {"threshold": 2}, "newSecretReader": {"enabled": False}}))
    raw = start_emulator(tmp_path, {"OCI_EMULATOR_ALERTS_CONFIG": str(cfg)})
    try:
        emu = ClockedEmulator(raw, oci_config)
        _, _, s = make_secret(emu)
        reader = oci.secrets.SecretsClient(load_profile("APPREADER"), **_client_kwargs(raw.base_url))
        for _ in range(3):
            expect_service_error(404, "NotAuthorizedOrNotFound", reader.get_secret_bundle, s.id)
        body = requests.get(raw.base_url + "/_emulator/alerts", timeout=5).json()
        assert [a["message"] for a in body["alerts"]] == [
            "app-reader had 3 failed requests within 300 s (threshold 2)"]
        assert body["config"]["newSecretReader"]["enabled"] is False
    finally:
        raw.stop()
