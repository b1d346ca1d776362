"""Time conditions in policies, decided at the emulator's virtual clock.

Oracle's "Restricting Access to Resources Based on Time Frame": `request.utc-timestamp`
(`before`, `after`), `.month-of-year`, `.day-of-month`, `.day-of-week` (`=`, `!=`, `in`) and
`.time-of-day` (`between … and …`). Each scenario reads a secret bundle through the real SDK as
app-reader (group AppReaders), moves the clock (`POST /_emulator/time`) across the condition's
boundary, and asserts 200 then 404 `NotAuthorizedOrNotFound` (or the reverse), with
/_emulator/decisions/{id} naming the variable, its value at the request and why.

The clock only moves forward and the policies are replaced, so this runs against an emulator
of its own. Times are computed from the emulator's clock, never the wall's.
"""
import datetime
import json
import subprocess
from pathlib import Path

import oci
import pytest
import requests

from support import COMPARTMENT_ID as APPS, NO_RETRY, b64, expect_service_error, load_profile, unique

TENANCY = "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy0000000000000000000000000000000000001"
TIMEOUT = (5, 60)
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def url(start_extra_emulator):
    return start_extra_emulator().base_url


def put_policies(url, *statements):
    r = requests.put(url + "/_emulator/iam/policies", timeout=10, json=[
        {"name": "time", "compartmentId": TENANCY, "statements": list(statements)}] if statements else [])
    return r


@pytest.fixture(autouse=True)
def no_policies(url):
    assert put_policies(url).status_code == 200
    yield


def now(url):
    r = requests.get(url + "/_emulator/time", timeout=5)
    r.raise_for_status()
    return datetime.datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))


def advance(url, seconds):
    r = requests.post(url + "/_emulator/time", json={"advanceSeconds": seconds}, timeout=30)
    assert r.status_code == 200, r.text


def stamp(t):
    """A policy timestamp with minutes, as Oracle's example writes it."""
    return t.strftime("%Y-%m-%dT%H:%MZ")


@pytest.fixture(scope="module")
def secret(url):
    cfg = load_profile("DEFAULT")
    kw = dict(service_endpoint=url, retry_strategy=NO_RETRY, timeout=TIMEOUT)
    vault = oci.key_management.KmsVaultClient(cfg, **kw).create_vault(
        oci.key_management.models.CreateVaultDetails(
            compartment_id=APPS, display_name=unique("t-vault"), vault_type="DEFAULT")).data
    key = oci.key_management.KmsManagementClient(
        cfg, service_endpoint=vault.management_endpoint, retry_strategy=NO_RETRY, timeout=TIMEOUT
    ).create_key(oci.key_management.models.CreateKeyDetails(
        compartment_id=APPS, display_name=unique("t-key"),
        key_shape=oci.key_management.models.KeyShape(algorithm="AES", length=32))).data
    return oci.vault.VaultsClient(cfg, **kw).create_secret(oci.vault.models.CreateSecretDetails(
        compartment_id=APPS, vault_id=vault.id, key_id=key.id, secret_name=unique("t-secret"),
        secret_content=oci.vault.models.Base64SecretContentDetails(
            content_type="BASE64", content=b64(b"timed content")))).data


@pytest.fixture(scope="module")
def reader(url):
    return oci.secrets.SecretsClient(load_profile("APPREADER"), service_endpoint=url,
                                     retry_strategy=NO_RETRY, timeout=TIMEOUT)


def decision(url, request_id):
    r = requests.get("{}/_emulator/decisions/{}".format(url, request_id), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def comparisons(explanation, policy="time"):
    statement = next(s for s in explanation["checks"][0]["statements"] if s["policy"] == policy)
    return statement["comparisons"]


def grant(condition):
    return "Allow group AppReaders to read secret-bundles in compartment apps where " + condition


def test_access_before_a_date_ends_when_the_clock_passes_it(url, secret, reader):
    end = now(url).replace(second=0, microsecond=0) + datetime.timedelta(hours=1)
    condition = "request.utc-timestamp before '{}'".format(stamp(end))
    assert put_policies(url, grant(condition)).status_code == 200

    ok = reader.get_secret_bundle(secret.id)
    assert ok.status == 200
    [seen] = comparisons(decision(url, ok.request_id))
    assert (seen["condition"], seen["variable"], seen["holds"]) == (condition, "request.utc-timestamp", True)
    assert seen["why"] == "request.utc-timestamp is '{}', before '{}'".format(seen["value"], stamp(end))

    advance(url, 2 * 3600)
    err = expect_service_error(404, "NotAuthorizedOrNotFound", reader.get_secret_bundle, secret.id)
    denied = decision(url, err.request_id)
    assert denied["decision"] == "denied"
    [seen] = comparisons(denied)
    value = datetime.datetime.fromisoformat(seen["value"].replace("Z", "+00:00"))
    assert value >= end + datetime.timedelta(hours=1)
    assert seen["value"] == denied["requestTime"]
    assert (seen["holds"], seen["why"]) == (
        False, "request.utc-timestamp is '{}', not before '{}'".format(seen["value"], stamp(end)))
    statement = next(s for s in denied["checks"][0]["statements"] if s["policy"] == "time")
    assert statement["condition"] == {"ok": False, "why": "{} does not hold ({})".format(condition, seen["why"])}


def test_access_after_a_date_starts_when_the_clock_passes_it(url, secret, reader):
    start = now(url).replace(second=0, microsecond=0) + datetime.timedelta(hours=1)
    assert put_policies(url, grant("request.utc-timestamp after '{}'".format(stamp(start)))).status_code == 200
    expect_service_error(404, "NotAuthorizedOrNotFound", reader.get_secret_bundle, secret.id)
    advance(url, 2 * 3600)
    assert reader.get_secret_bundle(secret.id).status == 200


def test_a_time_of_day_window_closes_an_hour_later(url, secret, reader):
    t = now(url)
    begin = (t - datetime.timedelta(minutes=1)).strftime("%H:%M:00Z")
    end = (t + datetime.timedelta(minutes=30)).strftime("%H:%M:00Z")
    condition = "request.utc-timestamp.time-of-day between '{}' and '{}'".format(begin, end)
    assert put_policies(url, grant(condition)).status_code == 200
    assert reader.get_secret_bundle(secret.id).status == 200
    advance(url, 3600)
    err = expect_service_error(404, "NotAuthorizedOrNotFound", reader.get_secret_bundle, secret.id)
    [seen] = comparisons(decision(url, err.request_id))
    assert seen["variable"] == "request.utc-timestamp.time-of-day"
    assert seen["holds"] is False
    assert seen["why"].startswith("request.utc-timestamp.time-of-day is '{}".format(seen["value"]))
    assert ", not in ['{}', '{}')".format(begin, end) in seen["why"]


def test_a_weekday_and_month_grant_lapses_the_next_day(url, secret, reader):
    t = now(url)
    if t.hour == 23 and t.minute >= 55:  # keep the reads on the day the policy names
        advance(url, 600)
        t = now(url)
    today = DAYS[t.weekday()]
    months = sorted({t.month, (t + datetime.timedelta(days=1)).month})
    condition = "all {{request.utc-timestamp.day-of-week = '{}', request.utc-timestamp.month-of-year in ({})}}".format(
        today.lower(), ", ".join("'{}'".format(m) for m in months))
    assert put_policies(url, grant(condition)).status_code == 200
    ok = reader.get_secret_bundle(secret.id)
    assert ok.status == 200
    week, month = comparisons(decision(url, ok.request_id))
    assert (week["variable"], week["value"], week["holds"]) == ("request.utc-timestamp.day-of-week", today, True)
    assert (month["variable"], month["value"], month["holds"]) == (
        "request.utc-timestamp.month-of-year", str(t.month), True)

    advance(url, 86400)
    err = expect_service_error(404, "NotAuthorizedOrNotFound", reader.get_secret_bundle, secret.id)
    week, month = comparisons(decision(url, err.request_id))
    tomorrow = DAYS[(t.weekday() + 1) % 7]
    assert (week["value"], week["holds"]) == (tomorrow, False)
    assert week["why"] == "request.utc-timestamp.day-of-week is '{}', which is not '{}'".format(tomorrow, today.lower())
    assert month["holds"] is True


@pytest.mark.parametrize("condition, message", [
    ("request.utc-timestamp = '2026-12-01T00:00Z'",
     "column 95: request.utc-timestamp is compared with before or after, found '='"),
    ("request.utc-timestamp before '2026-02-30T00:00Z'",
     "column 102: '2026-02-30T00:00Z' is not a UTC timestamp in ISO 8601 (YYYY-MM-DDThh:mm:ssZ, "
     "YYYY-MM-DDThh:mmZ or YYYY-MM-DDZ): February has no day 30 in 2026"),
    ("request.utc-timestamp.day-of-week in ('monday', 'someday')",
     "column 121: 'someday' is not a day of the week in English (Monday, Tuesday, Wednesday, Thursday, "
     "Friday, Saturday, Sunday)"),
    ("request.utc-timestamp.time-of-day = '09:00:00Z'",
     "column 107: request.utc-timestamp.time-of-day is compared with between '…' and '…', found '='"),
    ("target.secret.name after 'x'",
     "column 92: 'after' compares the request.utc-timestamp variables only; target.secret.name takes = or !="),
])
def test_a_time_condition_that_does_not_parse_is_refused_and_changes_nothing(url, secret, reader, condition, message):
    assert put_policies(url, "Allow group AppReaders to read secret-bundles in compartment apps").status_code == 200
    statement = grant(condition)
    r = put_policies(url, statement)
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter"), r.text
    assert r.json()["message"] == 'policies[0] "time": statements[0] {}: {}'.format(json.dumps(statement), message)
    # The policies in force are unchanged.
    assert requests.get(url + "/_emulator/iam/policies", timeout=10).json()[0]["statements"] == [
        "Allow group AppReaders to read secret-bundles in compartment apps"]
    assert reader.get_secret_bundle(secret.id).status == 200


def test_simulate_decides_at_the_request_time_it_is_given(url):
    assert put_policies(url, grant("request.utc-timestamp before '2026-12-01T00:00Z'")).status_code == 200

    def simulate(at):
        r = requests.post(url + "/_emulator/iam/simulate", timeout=10, json={
            "principal": {"user": "app-reader"}, "operation": "GetSecretBundle",
            "target": {"compartmentId": APPS, "secretName": "any"}, "requestTime": at})
        assert r.status_code == 200, r.text
        return r.json()

    before = simulate("2026-11-30T23:59:59Z")
    assert (before["decision"], before["requestTime"]) == ("allowed", "2026-11-30T23:59:59Z")
    after = simulate("2026-12-01T00:00:00Z")
    assert after["decision"] == "denied"
    assert after["response"] == {"status": 404, "code": "NotAuthorizedOrNotFound"}
    assert comparisons(after) == [{
        "condition": "request.utc-timestamp before '2026-12-01T00:00Z'",
        "variable": "request.utc-timestamp", "value": "2026-12-01T00:00:00Z", "holds": False,
        "why": "request.utc-timestamp is '2026-12-01T00:00:00Z', not before '2026-12-01T00:00Z'"}]
    r = requests.post(url + "/_emulator/iam/simulate", timeout=10, json={
        "principal": {"user": "app-reader"}, "operation": "GetSecretBundle",
        "target": {"compartmentId": APPS, "secretName": "any"}, "requestTime": "tomorrow"})
    assert (r.status_code, r.json()["code"]) == (400, "InvalidParameter"), r.text


def test_policy_check_and_lint_read_time_conditions(tmp_path):
    from conftest import _emulator_binary
    tenancy = json.loads((REPO_ROOT / "fixtures" / "tenancy.json").read_text())
    tenancy["policies"] = [{"name": "contract", "compartmentId": TENANCY, "statements": [
        grant("request.utc-timestamp before '2026-12-01T00:00Z'"),
        grant("request.utc-timestamp.time-of-day between '09:00Z' and '09:00:00Z'"),
    ]}]
    path = tmp_path / "tenancy.json"
    path.write_text(json.dumps(tenancy))
    run = lambda *args: subprocess.run([str(_emulator_binary()), "policy", *args], capture_output=True,
                                       text=True, timeout=30)
    check = ["check", "--tenancy", str(path), "--user", "app-reader", "--operation", "GetSecretBundle",
             "--compartment", "apps", "--secret-name", "any"]
    allowed = run(*check, "--at", "2026-11-30T12:00:00Z")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    denied = run(*check, "--at", "2026-12-01T00:00Z")
    assert denied.returncode == 1, denied.stdout + denied.stderr
    assert ("request.utc-timestamp is '2026-12-01T00:00:00Z', not before '2026-12-01T00:00Z'"
            in denied.stdout), denied.stdout
    bad = run(*check, "--at", "noon")
    assert bad.returncode == 2, bad.stdout + bad.stderr
    lint = run("lint", "--tenancy", str(path))
    assert lint.returncode == 1, lint.stdout + lint.stderr
    assert ("never holds: request.utc-timestamp.time-of-day between '09:00Z' and '09:00:00Z' is an empty "
            "interval (the start is included, the end is not)") in lint.stdout, lint.stdout
