//! In-process HTTP tests: the production router, driven with signed
//! requests through `tower::ServiceExt::oneshot` (no socket). The real-client
//! suite in `client-tests/` covers the wire with the real SDKs; these guard
//! the pipeline and the time-dependent rules, which need the clock.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use oci_vault_emulator::state::AppState;
use oci_vault_emulator::ServeConfig;
use serde_json::{json, Value};
use tower::ServiceExt as _;

mod support;
use support::{signed_request, Signer, ADMIN, FINGERPRINT, TENANCY};

const APPS: &str =
    "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";
const HOST: &str = "emulator.test:9999";
const APP_READER: &str =
    "ocid1.user.oc1..aaaaaaaaemulatorappreader000000000000000000000000000000000001";

struct TestApp {
    state: AppState,
    admin: Signer,
    app_reader: Signer,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

fn spawn_app() -> TestApp {
    let state = AppState::new(ServeConfig::for_tests("127.0.0.1:0".parse().unwrap())).unwrap();
    TestApp {
        state,
        admin: Signer::new(
            include_str!("../../fixtures/oci/keys/admin.pem"),
            ADMIN,
            FINGERPRINT,
        ),
        app_reader: Signer::new(
            include_str!("../../fixtures/oci/keys/appreader.pem"),
            APP_READER,
            "90:43:28:bd:97:8d:a7:11:6d:2b:09:0b:7c:30:b7:c1",
        ),
    }
}

impl TestApp {
    /// Sends a request signed as the Python SDK signs it (`date`,
    /// `(request-target)`, `host`, and the body headers for POST/PUT).
    async fn call(&self, method: &str, target: &str, body: Option<Value>) -> Answer {
        self.call_raw(
            method,
            target,
            body.map(|b| b.to_string().into_bytes()),
            true,
        )
        .await
    }

    async fn call_raw(
        &self,
        method: &str,
        target: &str,
        body: Option<Vec<u8>>,
        sign: bool,
    ) -> Answer {
        let signer = sign.then_some(&self.admin);
        self.send(signer, method, target, body).await
    }

    /// A call signed by `signer` (unsigned when `None`).
    async fn call_as(
        &self,
        signer: &Signer,
        method: &str,
        target: &str,
        body: Option<Value>,
    ) -> Answer {
        self.send(
            Some(signer),
            method,
            target,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    /// An unsigned call to the emulator's own endpoints.
    async fn admin_call(&self, method: &str, target: &str, body: Option<Value>) -> Answer {
        self.send(
            None,
            method,
            target,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    async fn send(
        &self,
        signer: Option<&Signer>,
        method: &str,
        target: &str,
        body: Option<Vec<u8>>,
    ) -> Answer {
        let request = signed_request(signer, method, target, HOST, body.unwrap_or_default());
        let router = oci_vault_emulator::http::router(self.state.clone());
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn vault(&self) -> Value {
        let a = self
            .call(
                "POST",
                "/20180608/vaults",
                Some(json!({"compartmentId": APPS, "displayName": "v", "vaultType": "DEFAULT"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        a.body
    }

    /// A vault with an AES key and a secret named `name` in it: (vault,
    /// key, secret) as answered.
    async fn vault_key_secret(&self, name: &str) -> (Value, Value, Value) {
        let vault = self.vault().await;
        let mgmt = TestApp::prefix(&vault, "managementEndpoint");
        let key = self
            .call(
                "POST",
                &format!("{mgmt}/20180608/keys"),
                Some(json!({"compartmentId": APPS, "displayName": "k",
                            "keyShape": {"algorithm": "AES", "length": 32}})),
            )
            .await;
        assert_eq!(key.status, StatusCode::OK, "{:?}", key.body);
        let secret = self
            .call(
                "POST",
                "/20180608/secrets",
                Some(json!({"compartmentId": APPS, "vaultId": vault["id"], "keyId": key.body["id"],
                            "secretName": name,
                            "secretContent": {"contentType": "BASE64", "content": B64.encode("pw")}})),
            )
            .await;
        assert_eq!(secret.status, StatusCode::OK, "{:?}", secret.body);
        (vault, key.body, secret.body)
    }

    /// The path prefix of a vault's management or crypto endpoint.
    fn prefix(vault: &Value, which: &str) -> String {
        let endpoint = vault[which].as_str().unwrap();
        endpoint
            .strip_prefix(&format!("http://{HOST}"))
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn health_answers_without_a_signature() {
    let app = spawn_app();
    let router = oci_vault_emulator::http::router(app.state.clone());
    let response = router
        .oneshot(
            Request::get("/_emulator/health")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value =
        serde_json::from_slice(&to_bytes(response.into_body(), usize::MAX).await.unwrap()).unwrap();
    assert_eq!(
        (
            body["status"].as_str(),
            body["store"].as_str(),
            body["region"].as_str()
        ),
        (Some("healthy"), Some("memory"), Some("us-ashburn-1"))
    );
}

#[tokio::test]
async fn unsigned_requests_are_not_authenticated_and_carry_a_request_id() {
    let app = spawn_app();
    let a = app
        .call_raw(
            "GET",
            &format!("/20180608/vaults?compartmentId={APPS}"),
            None,
            false,
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNAUTHORIZED, "NotAuthenticated")
    );
    assert_eq!(a.headers["opc-request-id"].len(), 32);
}

#[tokio::test]
async fn vault_endpoints_follow_the_host_the_client_used() {
    let app = spawn_app();
    let vault = app.vault().await;
    let management = vault["managementEndpoint"].as_str().unwrap();
    assert!(
        management.starts_with("http://emulator.test:9999/kms/")
            && management.ends_with("/management"),
        "{management}"
    );
    assert_eq!(
        vault["cryptoEndpoint"].as_str().unwrap(),
        management.replace("/management", "/crypto")
    );
    assert!(vault["id"]
        .as_str()
        .unwrap()
        .starts_with("ocid1.vault.oc1.iad."));
}

#[tokio::test]
async fn key_calls_at_the_regional_endpoint_are_not_found() {
    let app = spawn_app();
    let a = app
        .call("GET", &format!("/20180608/keys?compartmentId={APPS}"), None)
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::NOT_FOUND, "NotAuthorizedOrNotFound")
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_and_change_nothing() {
    let app = spawn_app();
    let big = format!(
        "{{\"compartmentId\":\"{APPS}\",\"displayName\":\"{}\",\"vaultType\":\"DEFAULT\"}}",
        "x".repeat(2 << 20)
    );
    let a = app
        .call_raw("POST", "/20180608/vaults", Some(big.into_bytes()), true)
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge")
    );
    let list = app
        .call(
            "GET",
            &format!("/20180608/vaults?compartmentId={APPS}"),
            None,
        )
        .await;
    assert_eq!(list.body, json!([]));
}

#[tokio::test]
async fn a_scheduled_secret_deletion_completes_when_its_time_passes() {
    let app = spawn_app();
    let vault = app.vault().await;
    let mgmt = TestApp::prefix(&vault, "managementEndpoint");
    let key = app
        .call("POST", &format!("{mgmt}/20180608/keys"), Some(json!({"compartmentId": APPS, "displayName": "k", "keyShape": {"algorithm": "AES", "length": 32}})))
        .await;
    assert_eq!(key.status, StatusCode::OK, "{:?}", key.body);
    let secret = app
        .call(
            "POST",
            "/20180608/secrets",
            Some(json!({"compartmentId": APPS, "vaultId": vault["id"], "keyId": key.body["id"], "secretName": "s",
                        "secretContent": {"contentType": "BASE64", "content": B64.encode("pw")}})),
        )
        .await;
    let id = secret.body["id"].as_str().unwrap().to_owned();
    let at = oci_vault_emulator::services::common::format_time(
        app.state.clock.now() + time::Duration::days(2),
    );
    let scheduled = app
        .call(
            "POST",
            &format!("/20180608/secrets/{id}/actions/scheduleDeletion"),
            Some(json!({"timeOfDeletion": at})),
        )
        .await;
    assert_eq!(scheduled.status, StatusCode::OK, "{:?}", scheduled.body);
    let pending = app
        .call("GET", &format!("/20180608/secrets/{id}"), None)
        .await;
    assert_eq!(pending.body["lifecycleState"], "PENDING_DELETION");
    let bundle = app
        .call("GET", &format!("/20190301/secretbundles/{id}"), None)
        .await;
    assert_eq!(
        (bundle.status, bundle.code()),
        (StatusCode::NOT_FOUND, "NotAuthorizedOrNotFound")
    );

    app.state.clock.advance(3 * 86_400).unwrap();
    let gone = app
        .call("GET", &format!("/20180608/secrets/{id}"), None)
        .await;
    assert_eq!(
        (gone.status, gone.code()),
        (StatusCode::NOT_FOUND, "NotAuthorizedOrNotFound")
    );
}

#[tokio::test]
async fn old_ciphertext_decrypts_after_rotation() {
    let app = spawn_app();
    let vault = app.vault().await;
    let (mgmt, crypto) = (
        TestApp::prefix(&vault, "managementEndpoint"),
        TestApp::prefix(&vault, "cryptoEndpoint"),
    );
    let key = app
        .call("POST", &format!("{mgmt}/20180608/keys"), Some(json!({"compartmentId": APPS, "displayName": "k", "keyShape": {"algorithm": "AES", "length": 16}})))
        .await
        .body;
    let key_id = key["id"].as_str().unwrap();
    let sealed = app
        .call(
            "POST",
            &format!("{crypto}/20180608/encrypt"),
            Some(json!({"keyId": key_id, "plaintext": B64.encode("before")})),
        )
        .await
        .body;
    let rotated = app
        .call(
            "POST",
            &format!("{mgmt}/20180608/keys/{key_id}/keyVersions"),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    let opened = app
        .call(
            "POST",
            &format!("{crypto}/20180608/decrypt"),
            Some(json!({"keyId": key_id, "ciphertext": sealed["ciphertext"]})),
        )
        .await;
    assert_eq!(opened.body["plaintext"], B64.encode("before"));
    assert_eq!(opened.body["keyVersionId"], key["currentKeyVersion"]);
    let fresh = app
        .call(
            "POST",
            &format!("{crypto}/20180608/encrypt"),
            Some(json!({"keyId": key_id, "plaintext": B64.encode("after")})),
        )
        .await;
    assert_eq!(fresh.body["keyVersionId"], rotated.body["id"]);
}

/// ScheduleKeyVersionDeletion on virtual time: the version is refused for
/// crypto at once, is `DELETED` once its time passes (and then cannot be
/// cancelled), and the key's current version is never scheduled.
#[tokio::test]
async fn a_key_version_deletion_completes_when_its_time_passes() {
    let app = spawn_app();
    let vault = app.vault().await;
    let (mgmt, crypto) = (
        TestApp::prefix(&vault, "managementEndpoint"),
        TestApp::prefix(&vault, "cryptoEndpoint"),
    );
    let key = app
        .call("POST", &format!("{mgmt}/20180608/keys"), Some(json!({"compartmentId": APPS, "displayName": "k", "keyShape": {"algorithm": "AES", "length": "32"}})))
        .await
        .body;
    let key_id = key["id"].as_str().unwrap();
    let first = key["currentKeyVersion"].as_str().unwrap();
    let versions = format!("{mgmt}/20180608/keys/{key_id}/keyVersions");
    let sealed = app
        .call(
            "POST",
            &format!("{crypto}/20180608/encrypt"),
            Some(json!({"keyId": key_id, "plaintext": B64.encode("old")})),
        )
        .await
        .body;

    let current = app
        .call(
            "POST",
            &format!("{versions}/{first}/actions/scheduleDeletion"),
            None,
        )
        .await;
    assert_eq!(
        (current.status, current.code()),
        (StatusCode::CONFLICT, "IncorrectState")
    );
    assert!(current.body["message"]
        .as_str()
        .unwrap()
        .contains("current version"));

    let second = app.call("POST", &versions, None).await.body;
    let at = oci_vault_emulator::services::common::format_time(
        app.state.clock.now() + time::Duration::days(8),
    );
    let scheduled = app
        .call(
            "POST",
            &format!("{versions}/{first}/actions/scheduleDeletion"),
            Some(json!({"timeOfDeletion": at})),
        )
        .await;
    assert_eq!(scheduled.status, StatusCode::OK, "{:?}", scheduled.body);
    assert_eq!(scheduled.body["lifecycleState"], "PENDING_DELETION");
    assert_eq!(scheduled.body["timeOfDeletion"], at.as_str());
    let decrypt = app
        .call(
            "POST",
            &format!("{crypto}/20180608/decrypt"),
            Some(json!({"keyId": key_id, "ciphertext": sealed["ciphertext"]})),
        )
        .await;
    assert_eq!(
        (decrypt.status, decrypt.code()),
        (StatusCode::CONFLICT, "IncorrectState")
    );
    let pinned = app
        .call(
            "POST",
            &format!("{crypto}/20180608/encrypt"),
            Some(json!({"keyId": key_id, "keyVersionId": first, "plaintext": B64.encode("x")})),
        )
        .await;
    assert_eq!(
        (pinned.status, pinned.code()),
        (StatusCode::CONFLICT, "IncorrectState")
    );
    let fresh = app
        .call(
            "POST",
            &format!("{crypto}/20180608/encrypt"),
            Some(json!({"keyId": key_id, "plaintext": B64.encode("new")})),
        )
        .await;
    assert_eq!(fresh.body["keyVersionId"], second["id"]);

    app.state.clock.advance(8 * 86_400 + 60).unwrap();
    let got = app.call("GET", &format!("{versions}/{first}"), None).await;
    assert_eq!(got.body["lifecycleState"], "DELETED");
    let listed = app.call("GET", &versions, None).await.body;
    let states: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap(),
                v["lifecycleState"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (second["id"].as_str().unwrap(), "ENABLED"),
            (first, "DELETED")
        ]
    );
    let cancel = app
        .call(
            "POST",
            &format!("{versions}/{first}/actions/cancelDeletion"),
            None,
        )
        .await;
    assert_eq!(
        (cancel.status, cancel.code()),
        (StatusCode::CONFLICT, "IncorrectState")
    );
}

/// Automatic rotation on virtual time, in a VIRTUAL_PRIVATE vault: a key
/// named by a request gets the rotations its schedule passed (one per
/// scheduled day, dated that day), and moving the clock through
/// `/_emulator/time` makes them for keys no request names.
#[tokio::test]
async fn automatic_rotation_makes_one_version_per_scheduled_day_passed() {
    let app = spawn_app();
    let vault = app
        .call(
            "POST",
            "/20180608/vaults",
            Some(json!({"compartmentId": APPS, "displayName": "vpv", "vaultType": "VIRTUAL_PRIVATE"})),
        )
        .await
        .body;
    let mgmt = TestApp::prefix(&vault, "managementEndpoint");
    let created = app
        .call(
            "POST",
            &format!("{mgmt}/20180608/keys"),
            Some(json!({"compartmentId": APPS, "displayName": "k",
                        "keyShape": {"algorithm": "AES", "length": 32},
                        "isAutoRotationEnabled": true,
                        "autoKeyRotationDetails": {"rotationIntervalInDays": "60"}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let key = created.body;
    let key_id = key["id"].as_str().unwrap();
    let today = app.state.clock.now().replace_time(time::Time::MIDNIGHT);
    let day =
        |n: i64| oci_vault_emulator::services::common::format_time(today + time::Duration::days(n));
    assert_eq!(key["isAutoRotationEnabled"], true);
    assert_eq!(
        key["autoKeyRotationDetails"],
        json!({"rotationIntervalInDays": 60, "timeOfScheduleStart": day(0), "timeOfNextRotation": day(60)})
    );
    let versions = format!("{mgmt}/20180608/keys/{key_id}/keyVersions?sortOrder=ASC");

    app.state.clock.advance(61 * 86_400).unwrap();
    let got = app
        .call("GET", &format!("{mgmt}/20180608/keys/{key_id}"), None)
        .await
        .body;
    let listed = app.call("GET", &versions, None).await.body;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(got["currentKeyVersion"], listed[1]["id"]);
    assert_eq!(
        (&listed[0]["isAutoRotated"], &listed[1]["isAutoRotated"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(listed[1]["timeCreated"], day(60).as_str());
    let details = &got["autoKeyRotationDetails"];
    assert_eq!(
        (
            &details["timeOfLastRotation"],
            &details["timeOfNextRotation"],
            &details["lastRotationStatus"]
        ),
        (&json!(day(60)), &json!(day(120)), &json!("SUCCESS"))
    );

    app.state.clock.advance(30 * 86_400).unwrap();
    let listed = app.call("GET", &versions, None).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Day 91 → day 291 passes days 120, 180 and 240: three more versions,
    // made by the clock move itself (the state export reads no key).
    let moved = app
        .admin_call(
            "POST",
            "/_emulator/time",
            Some(json!({"advanceSeconds": 200 * 86_400})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let state = app.admin_call("GET", "/_emulator/state", None).await.body;
    let made: Vec<&str> = state["keyVersions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["keyId"] == key_id)
        .map(|v| v["timeCreated"].as_str().unwrap())
        .collect();
    assert_eq!(made.len(), 5, "{made:?}");
    let got = app
        .call("GET", &format!("{mgmt}/20180608/keys/{key_id}"), None)
        .await
        .body;
    let listed = app.call("GET", &versions, None).await.body;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 5);
    let created_days: Vec<&str> = listed[1..]
        .iter()
        .map(|v| v["timeCreated"].as_str().unwrap())
        .collect();
    assert_eq!(created_days, vec![day(60), day(120), day(180), day(240)]);
    assert_eq!(got["currentKeyVersion"], listed[4]["id"]);
    assert_eq!(
        got["autoKeyRotationDetails"]["timeOfNextRotation"],
        day(300).as_str()
    );

    // A disabled key's scheduled day fails the rotation and moves on.
    let disabled = app
        .call(
            "POST",
            &format!("{mgmt}/20180608/keys/{key_id}/actions/disable"),
            None,
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{:?}", disabled.body);
    app.state.clock.advance(10 * 86_400).unwrap();
    let got = app
        .call("GET", &format!("{mgmt}/20180608/keys/{key_id}"), None)
        .await
        .body;
    let details = &got["autoKeyRotationDetails"];
    assert_eq!(details["lastRotationStatus"], "FAILED");
    assert_eq!(details["timeOfLastRotation"], day(240).as_str());
    assert_eq!(details["timeOfNextRotation"], day(360).as_str());
    assert!(details["lastRotationMessage"]
        .as_str()
        .unwrap()
        .contains("DISABLED"));
    assert_eq!(got["currentKeyVersion"], listed[4]["id"]);
}

/// The decision recorded for the request that got `answer`.
async fn decision_of(app: &TestApp, answer: &Answer) -> Value {
    let id = answer.headers["opc-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let url = answer.headers["x-oci-emulator-decision"].to_str().unwrap();
    assert_eq!(url, format!("http://{HOST}/_emulator/decisions/{id}"));
    let explained = app
        .admin_call("GET", &format!("/_emulator/decisions/{id}"), None)
        .await;
    assert_eq!(explained.status, StatusCode::OK, "{:?}", explained.body);
    explained.body
}

#[tokio::test]
async fn a_denial_answers_404_and_its_decision_names_the_resolved_secret() {
    let app = spawn_app();
    let (vault, _, secret) = app.vault_key_secret("db-password").await;
    let id = secret["id"].as_str().unwrap();
    let denied = app
        .call_as(
            &app.app_reader,
            "GET",
            &format!("/20190301/secretbundles/{id}"),
            None,
        )
        .await;
    assert_eq!(
        (denied.status, denied.code()),
        (StatusCode::NOT_FOUND, "NotAuthorizedOrNotFound")
    );
    let decision = decision_of(&app, &denied).await;
    assert_eq!(decision["decision"], "denied", "{decision}");
    assert_eq!(decision["response"]["code"], "NotAuthorizedOrNotFound");
    assert_eq!(decision["checks"][0]["permission"], "SECRET_BUNDLE_READ");
    assert_eq!(decision["checks"][0]["target"]["id"], id);
    // By name the resolver finds the same secret, so IAM decides the same.
    let by_name = app
        .call_as(
            &app.app_reader,
            "POST",
            &format!(
                "/20190301/secretbundles/actions/getByName?secretName=db-password&vaultId={}",
                vault["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(by_name.status, StatusCode::NOT_FOUND);
    let decision = decision_of(&app, &by_name).await;
    assert_eq!(decision["decision"], "denied", "{decision}");
    assert_eq!(decision["checks"][0]["target"]["id"], id);
}

#[tokio::test]
async fn a_fault_on_a_resource_id_fires_for_reads_by_id_and_by_name() {
    let app = spawn_app();
    let (vault, _, secret) = app.vault_key_secret("app-config").await;
    let id = secret["id"].as_str().unwrap();
    let rule = app
        .admin_call(
            "POST",
            "/_emulator/faults",
            Some(json!({"id": "down", "match": {"resourceId": id},
                        "action": {"error": {"status": 503}}})),
        )
        .await;
    assert_eq!(rule.status, StatusCode::OK, "{:?}", rule.body);
    let by_name = app
        .call(
            "POST",
            &format!(
                "/20190301/secretbundles/actions/getByName?secretName=app-config&vaultId={}",
                vault["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(
        (by_name.status, by_name.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
    );
    assert_eq!(by_name.headers["x-oci-emulator-fault"], "down");
    let by_id = app
        .call("GET", &format!("/20190301/secretbundles/{id}"), None)
        .await;
    assert_eq!(by_id.status, StatusCode::SERVICE_UNAVAILABLE);
    let view = app.admin_call("GET", "/_emulator/faults", None).await;
    assert_eq!(view.body["rules"][0]["fired"], 2, "{:?}", view.body);
}

#[tokio::test]
async fn a_secret_past_its_deletion_time_is_gone_for_iam_and_handlers_alike() {
    let app = spawn_app();
    let (vault, _, secret) = app.vault_key_secret("app-token").await;
    let id = secret["id"].as_str().unwrap();
    let readable = app
        .call_as(
            &app.app_reader,
            "GET",
            &format!("/20190301/secretbundles/{id}"),
            None,
        )
        .await;
    assert_eq!(readable.status, StatusCode::OK, "{:?}", readable.body);
    let at =
        oci_vault_emulator::clock::format_time(app.state.clock.now() + time::Duration::days(1));
    let scheduled = app
        .call(
            "POST",
            &format!("/20180608/secrets/{id}/actions/scheduleDeletion"),
            Some(json!({"timeOfDeletion": at})),
        )
        .await;
    assert_eq!(scheduled.status, StatusCode::OK, "{:?}", scheduled.body);
    app.state.clock.advance(2 * 86_400).unwrap();
    for target in [
        format!("/20190301/secretbundles/{id}"),
        format!(
            "/20190301/secretbundles/actions/getByName?secretName=app-token&vaultId={}",
            vault["id"].as_str().unwrap()
        ),
    ] {
        let method = if target.contains("getByName") {
            "POST"
        } else {
            "GET"
        };
        let gone = app.call_as(&app.app_reader, method, &target, None).await;
        assert_eq!(
            (gone.status, gone.code()),
            (StatusCode::NOT_FOUND, "NotAuthorizedOrNotFound"),
            "{target}"
        );
        let decision = decision_of(&app, &gone).await;
        assert_eq!(decision["decision"], "notEvaluated", "{decision}");
    }
    let gone = app
        .call("GET", &format!("/20180608/secrets/{id}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

/// Regression: a deletion time at the end of the calendar overflowed the
/// window arithmetic and panicked the handler.
#[tokio::test]
async fn a_deletion_time_at_the_end_of_the_calendar_is_a_400_that_changes_nothing() {
    let app = spawn_app();
    let (vault, key, secret) = app.vault_key_secret("s").await;
    let mgmt = TestApp::prefix(&vault, "managementEndpoint");
    let targets = [
        format!(
            "/20180608/secrets/{}/actions/scheduleDeletion",
            secret["id"].as_str().unwrap()
        ),
        format!(
            "/20180608/vaults/{}/actions/scheduleDeletion",
            vault["id"].as_str().unwrap()
        ),
        format!(
            "{mgmt}/20180608/keys/{}/actions/scheduleDeletion",
            key["id"].as_str().unwrap()
        ),
    ];
    for target in &targets {
        for at in [
            "9999-12-31T23:59:59.999Z",
            "0001-01-01T00:00:00Z",
            "-9999-01-01T00:00:00Z",
        ] {
            let refused = app
                .call("POST", target, Some(json!({"timeOfDeletion": at})))
                .await;
            assert_eq!(
                (refused.status, refused.code()),
                (StatusCode::BAD_REQUEST, "InvalidParameter"),
                "{target} {at}: {:?}",
                refused.body
            );
        }
    }
    let still = app
        .call(
            "GET",
            &format!("/20180608/secrets/{}", secret["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(still.body["lifecycleState"], "ACTIVE");
}

/// Regression: a snapshot with a huge `clockOffsetSeconds` was imported,
/// and every later request then panicked computing the time.
#[tokio::test]
async fn a_clock_offset_out_of_range_is_a_400_that_changes_nothing() {
    let app = spawn_app();
    app.vault().await;
    let snapshot = app.admin_call("GET", "/_emulator/state", None).await;
    assert_eq!(snapshot.status, StatusCode::OK);
    for offset in [i64::MAX, i64::MIN, 200 * 366 * 86_400] {
        let mut bad = snapshot.body.clone();
        bad["clockOffsetSeconds"] = json!(offset);
        bad["vaults"] = json!([]);
        let refused = app.admin_call("PUT", "/_emulator/state", Some(bad)).await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::BAD_REQUEST, "InvalidParameter"),
            "{offset}: {:?}",
            refused.body
        );
        assert!(
            refused.body["message"]
                .as_str()
                .unwrap()
                .contains("clockOffsetSeconds"),
            "{:?}",
            refused.body
        );
    }
    for body in [
        json!({"advanceSeconds": i64::MAX}),
        json!({"set": "9999-12-31T00:00:00Z"}),
    ] {
        let refused = app
            .admin_call("POST", "/_emulator/time", Some(body.clone()))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            refused.body
        );
    }
    let time = app.admin_call("GET", "/_emulator/time", None).await;
    assert_eq!(time.body["offsetSeconds"], 0);
    let listed = app
        .call(
            "GET",
            &format!("/20180608/vaults?compartmentId={APPS}"),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body.as_array().unwrap().len(),
        1,
        "the vault is still there"
    );
}

/// Regression: non-ASCII text next to a `{{now+…}}` placeholder was sliced
/// inside a character and panicked the seed endpoint.
#[tokio::test]
async fn a_seed_with_non_ascii_in_a_placeholder_is_a_400() {
    let app = spawn_app();
    for text in ["{{now+5é}}", "{{now€5d}}", "{{now+9223372036854775807d}}"] {
        let seed = format!(
            r#"{{"vaults": [{{"compartmentId": "{APPS}", "displayName": "café {text}"}}]}}"#
        );
        let refused = app
            .send(None, "POST", "/_emulator/seed", Some(seed.into_bytes()))
            .await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::BAD_REQUEST, "InvalidParameter"),
            "{text}: {:?}",
            refused.body
        );
    }
    let counts = app.admin_call("POST", "/_emulator/reset", None).await;
    assert_eq!(counts.body["vaults"], 0);
}

/// Every implemented operation's target rule, end to end through routing,
/// `Named::of` and the resolver: which resources it loads, and the
/// compartment it names. `V`, `K`, `S`: vault, key, secret loaded; `C`: the
/// request names a compartment itself (lists, creates).
#[tokio::test]
async fn every_implemented_operation_resolves_its_target() {
    use oci_vault_emulator::operation::{Named, Operation, OPERATIONS};
    use oci_vault_emulator::pipeline::{resolve, route};

    let app = spawn_app();
    let (vault, key, secret) = app.vault_key_secret("resolved").await;
    let (v, k, s) = (
        vault["id"].as_str().unwrap(),
        key["id"].as_str().unwrap(),
        secret["id"].as_str().unwrap(),
    );
    let kv = key["currentKeyVersion"].as_str().unwrap();
    let mgmt = TestApp::prefix(&vault, "managementEndpoint");
    let crypto = TestApp::prefix(&vault, "cryptoEndpoint");
    let in_apps = json!({"compartmentId": APPS});
    let key_body = json!({"keyId": k});
    type Row = (&'static str, String, Option<Value>, &'static str);
    let rows: Vec<Row> = vec![
        (
            "POST",
            "/20180608/vaults".into(),
            Some(in_apps.clone()),
            "C",
        ),
        ("GET", format!("/20180608/vaults/{v}"), None, "V"),
        (
            "GET",
            format!("/20180608/vaults?compartmentId={APPS}"),
            None,
            "C",
        ),
        ("PUT", format!("/20180608/vaults/{v}"), Some(json!({})), "V"),
        (
            "POST",
            format!("/20180608/vaults/{v}/actions/scheduleDeletion"),
            None,
            "V",
        ),
        (
            "POST",
            format!("/20180608/vaults/{v}/actions/cancelDeletion"),
            None,
            "V",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys"),
            Some(in_apps.clone()),
            "VC",
        ),
        ("GET", format!("{mgmt}/20180608/keys/{k}"), None, "VK"),
        (
            "POST",
            format!("{mgmt}/20180608/keys/import"),
            Some(json!({"compartmentId": APPS})),
            "VC",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/keyVersions/import"),
            Some(json!({})),
            "VK",
        ),
        ("GET", format!("{mgmt}/20180608/wrappingKeys"), None, "V"),
        (
            "POST",
            format!("{crypto}/20180608/exportKey"),
            Some(json!({"keyId": k})),
            "VK",
        ),
        (
            "GET",
            format!("{mgmt}/20180608/keys?compartmentId={APPS}"),
            None,
            "VC",
        ),
        (
            "PUT",
            format!("{mgmt}/20180608/keys/{k}"),
            Some(json!({})),
            "VK",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/actions/enable"),
            None,
            "VK",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/actions/disable"),
            None,
            "VK",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/actions/scheduleDeletion"),
            None,
            "VK",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/actions/cancelDeletion"),
            None,
            "VK",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/keyVersions"),
            None,
            "VK",
        ),
        (
            "GET",
            format!("{mgmt}/20180608/keys/{k}/keyVersions"),
            None,
            "VK",
        ),
        (
            "GET",
            format!("{mgmt}/20180608/keys/{k}/keyVersions/{kv}"),
            None,
            "VK",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/keyVersions/{kv}/actions/scheduleDeletion"),
            None,
            "VK",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/keyVersions/{kv}/actions/cancelDeletion"),
            None,
            "VK",
        ),
        (
            "POST",
            format!("{crypto}/20180608/encrypt"),
            Some(key_body.clone()),
            "VK",
        ),
        (
            "POST",
            format!("{crypto}/20180608/decrypt"),
            Some(key_body.clone()),
            "VK",
        ),
        (
            "POST",
            format!("{crypto}/20180608/generateDataEncryptionKey"),
            Some(key_body.clone()),
            "VK",
        ),
        (
            "POST",
            format!("{crypto}/20180608/sign"),
            Some(key_body.clone()),
            "VK",
        ),
        (
            "POST",
            format!("{crypto}/20180608/verify"),
            Some(key_body),
            "VK",
        ),
        (
            "POST",
            "/20180608/secrets".into(),
            Some(json!({"compartmentId": APPS, "vaultId": v, "keyId": k, "secretName": "new"})),
            "VKC",
        ),
        ("GET", format!("/20180608/secrets/{s}"), None, "S"),
        (
            "GET",
            format!("/20180608/secrets?compartmentId={APPS}"),
            None,
            "C",
        ),
        (
            "PUT",
            format!("/20180608/secrets/{s}"),
            Some(json!({})),
            "S",
        ),
        ("GET", format!("/20180608/secrets/{s}/versions"), None, "S"),
        ("GET", format!("/20180608/secrets/{s}/version/1"), None, "S"),
        (
            "POST",
            format!("/20180608/secrets/{s}/actions/scheduleDeletion"),
            None,
            "S",
        ),
        (
            "POST",
            format!("/20180608/secrets/{s}/actions/cancelDeletion"),
            None,
            "S",
        ),
        (
            "POST",
            format!("/20180608/secrets/{s}/actions/rotate"),
            None,
            "S",
        ),
        (
            "POST",
            format!("/20180608/secrets/{s}/actions/cancelRotation"),
            None,
            "S",
        ),
        (
            "POST",
            format!("/20180608/secrets/{s}/version/1/actions/scheduleDeletion"),
            None,
            "S",
        ),
        (
            "POST",
            format!("/20180608/secrets/{s}/version/1/actions/cancelDeletion"),
            None,
            "S",
        ),
        ("GET", format!("/20190301/secretbundles/{s}"), None, "S"),
        (
            "POST",
            format!("/20190301/secretbundles/actions/getByName?secretName=resolved&vaultId={v}"),
            None,
            "VS",
        ),
        (
            "GET",
            format!("/20190301/secretbundles/{s}/versions"),
            None,
            "S",
        ),
        (
            "POST",
            format!("/20180608/vaults/{v}/actions/changeCompartment"),
            Some(in_apps.clone()),
            "VC",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/actions/changeCompartment"),
            Some(in_apps.clone()),
            "VKC",
        ),
        (
            "POST",
            format!("/20180608/secrets/{s}/actions/changeCompartment"),
            Some(in_apps.clone()),
            "SC",
        ),
        (
            "POST",
            format!("/20180608/vaults/{v}/actions/backup"),
            None,
            "V",
        ),
        ("GET", format!("/20180608/vaults/{v}/usage"), None, "V"),
        (
            "POST",
            format!("/20180608/vaults/{v}/actions/createReplica"),
            Some(json!({"replicaRegion": "us-phoenix-1"})),
            "V",
        ),
        (
            "POST",
            format!("/20180608/vaults/{v}/actions/deleteReplica"),
            Some(json!({"replicaRegion": "us-phoenix-1"})),
            "V",
        ),
        (
            "GET",
            format!("/20180608/vaults/{v}/actions/listReplicas"),
            None,
            "V",
        ),
        (
            "PUT",
            format!("/20180608/vaults/{v}/updateRegisteredVaultForMtls"),
            Some(json!({"fleetId": "f"})),
            "V",
        ),
        (
            "POST",
            format!("/20180608/vaults/actions/restoreFromFile?compartmentId={APPS}"),
            None,
            "C",
        ),
        (
            "POST",
            format!("/20180608/vaults/actions/restoreFromObjectStore?compartmentId={APPS}"),
            None,
            "C",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/{k}/actions/backup"),
            None,
            "VK",
        ),
        (
            "GET",
            format!("{mgmt}/20180608/replicaOperations/r1/status"),
            None,
            "V",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/actions/restoreFromFile"),
            None,
            "V",
        ),
        (
            "POST",
            format!("{mgmt}/20180608/keys/actions/restoreFromObjectStore"),
            None,
            "V",
        ),
        (
            "GET",
            format!("/20190901/auditEvents?compartmentId={APPS}&startTime=2026-01-01T00:00:00Z&endTime=2026-01-01T00:01:00Z"),
            None,
            "C",
        ),
        (
            "GET",
            format!("/20190901/configuration?compartmentId={APPS}"),
            None,
            "C",
        ),
        (
            "PUT",
            format!("/20190901/configuration?compartmentId={APPS}"),
            Some(json!({"retentionPeriodDays": 90})),
            "C",
        ),
    ];
    let mut covered = Vec::new();
    for (method, target, body, expect) in rows {
        let method: axum::http::Method = method.parse().unwrap();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let (op, params, endpoint) = route::operation_of(&method, Some(HOST), path).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let named = Named::of(op, &params, query, body.as_bytes(), endpoint.vault_key());
        let now = app.state.clock.now();
        let target: oci_vault_emulator::domain::target::Target = app
            .state
            .store
            .read(|tx| resolve::resolve(tx, &named, now))
            .await
            .unwrap();
        let loaded = format!(
            "{}{}{}{}",
            if target.vault.is_some() { "V" } else { "" },
            if target.key.is_some() { "K" } else { "" },
            if target.secret.is_some() { "S" } else { "" },
            if target.compartment_id.is_some() {
                "C"
            } else {
                ""
            },
        );
        assert_eq!(loaded, expect, "{}", op.name());
        assert_eq!(target.acting_compartment(), Some(APPS), "{}", op.name());
        if let Some(vault) = &target.vault {
            assert_eq!(vault.id, v, "{}", op.name());
        }
        if let Some(key) = &target.key {
            assert_eq!(key.id, k, "{}", op.name());
        }
        if let Some(secret) = &target.secret {
            assert_eq!(secret.id, s, "{}", op.name());
        }
        if op == Operation::CreateSecret {
            assert_eq!(target.new_secret_name.as_deref(), Some("new"));
        }
        covered.push(op);
    }
    let implemented: Vec<Operation> = OPERATIONS
        .iter()
        .filter(|o| o.implemented)
        .map(|o| o.operation)
        .collect();
    for op in &implemented {
        assert!(covered.contains(op), "{} has no row", op.name());
    }
    assert_eq!(covered.len(), implemented.len());
}

/// `GET` of one of the emulator's text endpoints: status, content type, body.
async fn get_text(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let router = oci_vault_emulator::http::router(app.state.clone());
    let response = router
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        content_type,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

/// The lines of `text` that start with `prefix`, sorted.
fn lines_starting(text: &str, prefix: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn metrics_count_requests_denials_and_faults_from_the_record() {
    let app = spawn_app();
    // A 200.
    let vault = app.vault().await;
    let vault_id = vault["id"].as_str().unwrap();
    // A 404 denial: AppReaders may read app-* secret bundles only.
    let denied = app
        .call_as(
            &app.app_reader,
            "GET",
            &format!("/20180608/vaults/{vault_id}"),
            None,
        )
        .await;
    assert_eq!(
        (denied.status, denied.code()),
        (StatusCode::NOT_FOUND, "NotAuthorizedOrNotFound")
    );
    // An injected fault.
    let rule = app
        .admin_call(
            "POST",
            "/_emulator/faults",
            Some(
                json!({"id": "list-down", "match": {"operations": ["ListVaults"]},
                        "action": {"error": {"status": 503}}}),
            ),
        )
        .await;
    assert_eq!(rule.status, StatusCode::OK, "{:?}", rule.body);
    let faulted = app
        .call(
            "GET",
            &format!("/20180608/vaults?compartmentId={APPS}"),
            None,
        )
        .await;
    assert_eq!(faulted.status, StatusCode::SERVICE_UNAVAILABLE);

    let (status, content_type, text) = get_text(&app, "/_emulator/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert_eq!(
        lines_starting(&text, "oci_emulator_requests_total{"),
        [
            r#"oci_emulator_requests_total{operation="CreateVault",status="200",code=""} 1"#,
            r#"oci_emulator_requests_total{operation="GetVault",status="404",code="NotAuthorizedOrNotFound"} 1"#,
            r#"oci_emulator_requests_total{operation="ListVaults",status="503",code="ServiceUnavailable"} 1"#,
        ]
    );
    assert_eq!(
        lines_starting(&text, "oci_emulator_denials_total{"),
        [r#"oci_emulator_denials_total{operation="GetVault"} 1"#]
    );
    assert_eq!(
        lines_starting(&text, "oci_emulator_faults_fired_total{"),
        [r#"oci_emulator_faults_fired_total{rule="list-down"} 1"#]
    );
    assert_eq!(
        lines_starting(&text, "oci_emulator_rate_limit_rejections_total{"),
        Vec::<String>::new()
    );
    assert_eq!(
        lines_starting(&text, "oci_emulator_request_duration_seconds_count{"),
        [
            r#"oci_emulator_request_duration_seconds_count{operation="CreateVault"} 1"#,
            r#"oci_emulator_request_duration_seconds_count{operation="GetVault"} 1"#,
            r#"oci_emulator_request_duration_seconds_count{operation="ListVaults"} 1"#,
        ]
    );
    assert_eq!(
        lines_starting(&text, "oci_emulator_store_resources{"),
        [
            r#"oci_emulator_store_resources{kind="key"} 0"#,
            r#"oci_emulator_store_resources{kind="secret"} 0"#,
            r#"oci_emulator_store_resources{kind="vault"} 1"#,
        ]
    );
    assert!(text.ends_with("# EOF\n"));

    // The same records, newest first, in the console's recent requests.
    let recent = app.admin_call("GET", "/_emulator/requests", None).await;
    let items = recent.body["items"].as_array().unwrap();
    let seen: Vec<(&str, u64, &str, &Value)> = items
        .iter()
        .map(|i| {
            (
                i["operation"].as_str().unwrap(),
                i["status"].as_u64().unwrap(),
                i["decision"].as_str().unwrap_or("-"),
                &i["faults"],
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("ListVaults", 503, "-", &json!(["list-down"])),
            ("GetVault", 404, "DENIED", &json!([])),
            ("CreateVault", 200, "ALLOWED", &json!([])),
        ]
    );
    assert_eq!(items[1]["principal"], "app-reader");
    assert_eq!(items[1]["target"]["vaultId"], vault_id);
    let explained = app
        .admin_call(
            "GET",
            &format!(
                "/_emulator/decisions/{}",
                items[1]["requestId"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(explained.status, StatusCode::OK);
    let bad = app
        .admin_call("GET", "/_emulator/requests?limit=0", None)
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "InvalidParameter")
    );
}

#[tokio::test]
async fn the_console_inventory_shows_metadata_and_never_content() {
    let app = spawn_app();
    let (vault, key, secret) = app.vault_key_secret("app-config").await;
    let (vault_id, secret_id) = (
        vault["id"].as_str().unwrap(),
        secret["id"].as_str().unwrap(),
    );

    let vaults = app
        .admin_call("GET", "/_emulator/inventory/vaults", None)
        .await;
    assert_eq!(vaults.status, StatusCode::OK);
    assert_eq!(
        vaults.body["counts"],
        json!({"vaults": 1, "keys": 1, "secrets": 1})
    );
    assert_eq!(vaults.body["vaults"][0]["id"], vault_id);
    assert_eq!(vaults.body["vaults"][0]["keyCount"], 1);
    assert_eq!(vaults.body["vaults"][0]["secretCount"], 1);

    let keys = app
        .admin_call(
            "GET",
            &format!("/_emulator/inventory/vaults/{vault_id}/keys"),
            None,
        )
        .await;
    assert_eq!(keys.body["items"][0]["id"], key["id"]);
    assert_eq!(keys.body["items"][0]["algorithm"], "AES");

    let page = app
        .admin_call(
            "GET",
            &format!("/_emulator/inventory/vaults/{vault_id}/secrets?name=config&limit=10"),
            None,
        )
        .await;
    assert_eq!(
        (&page.body["total"], &page.body["items"][0]["secretName"]),
        (&json!(1), &json!("app-config"))
    );

    let versions = app
        .admin_call(
            "GET",
            &format!("/_emulator/inventory/secrets/{secret_id}/versions"),
            None,
        )
        .await;
    assert_eq!(versions.status, StatusCode::OK);
    let version = versions.body["items"][0].as_object().unwrap();
    let mut fields: Vec<&str> = version.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "keyVersionId",
            "name",
            "stages",
            "timeCreated",
            "timeOfDeletion",
            "versionNumber"
        ]
    );
    assert_eq!(version["stages"], json!(["CURRENT", "LATEST"]));
    for body in [&vaults.body, &keys.body, &page.body, &versions.body] {
        let text = body.to_string();
        assert!(!text.contains(&B64.encode("pw")), "content leaked: {text}");
        assert!(
            !text.contains("sealed") && !text.contains("wrapped"),
            "{text}"
        );
    }

    let unknown = app
        .admin_call(
            "GET",
            "/_emulator/inventory/vaults/ocid1.vault.oc1..nope/secrets",
            None,
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "NotFound")
    );
    let bad = app
        .admin_call(
            "GET",
            &format!("/_emulator/inventory/vaults/{vault_id}/secrets?limit=abc"),
            None,
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "InvalidParameter")
    );

    let (status, content_type, html) = get_text(&app, "/_emulator/ui").await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "text/html; charset=utf-8")
    );
    assert!(html.contains(r#"<script src="/_emulator/ui/console.js" defer></script>"#));
}

/// A backup file may be larger than `--max-body-bytes` (1 MiB), up to
/// `--max-backup-bytes`: a 2 MiB body reaches the restore (which finds no
/// backup in it), while the same size of JSON anywhere else is a 413.
#[tokio::test]
async fn restore_bodies_have_their_own_limit() {
    let app = spawn_app();
    let body = vec![b'A'; 2 << 20];
    let restore = format!("/20180608/vaults/actions/restoreFromFile?compartmentId={APPS}");
    let a = app
        .call_raw("POST", &restore, Some(body.clone()), true)
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "InvalidParameter")
    );
    let too_big = vec![b'A'; (16 << 20) + 1];
    let a = app.call_raw("POST", &restore, Some(too_big), true).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge")
    );
    let a = app
        .call_raw("POST", "/20180608/vaults", Some(body), true)
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge")
    );
}

/// `request.region` in a policy is the region the request addresses: a
/// replica region's path prefix, not the emulator's `--region`.
#[tokio::test]
async fn request_region_is_the_region_a_request_addresses() {
    let app = spawn_app();
    let vault = app
        .call(
            "POST",
            "/20180608/vaults",
            Some(
                json!({"compartmentId": APPS, "displayName": "v", "vaultType": "VIRTUAL_PRIVATE"}),
            ),
        )
        .await
        .body;
    let id = vault["id"].as_str().unwrap();
    let replica = app
        .call(
            "POST",
            &format!("/20180608/vaults/{id}/actions/createReplica"),
            Some(json!({"replicaRegion": "us-phoenix-1"})),
        )
        .await;
    assert_eq!(replica.status, StatusCode::ACCEPTED, "{:?}", replica.body);
    let policies = app
        .admin_call(
            "PUT",
            "/_emulator/iam/policies",
            Some(json!([{"name": "phx-only", "compartmentId": APPS,
                "statements": ["Allow group AppReaders to read vaults in compartment apps where request.region = 'phx'"]}])),
        )
        .await;
    assert_eq!(policies.status, StatusCode::OK, "{:?}", policies.body);
    let home = app
        .call_as(
            &app.app_reader,
            "GET",
            &format!("/20180608/vaults/{id}"),
            None,
        )
        .await;
    assert_eq!(
        (home.status, home.code()),
        (StatusCode::NOT_FOUND, "NotAuthorizedOrNotFound")
    );
    let phoenix = app
        .call_as(
            &app.app_reader,
            "GET",
            &format!("/regions/us-phoenix-1/20180608/vaults/{id}"),
            None,
        )
        .await;
    assert_eq!(phoenix.status, StatusCode::OK, "{:?}", phoenix.body);
    assert_eq!(phoenix.body["isPrimary"], json!(false));
    assert_eq!(
        phoenix.body["managementEndpoint"],
        json!(format!(
            "http://{HOST}/regions/us-phoenix-1{}",
            TestApp::prefix(&vault, "managementEndpoint")
        ))
    );
}

/// RotateSecret end to end in process, with an ADB target (no database to
/// reach: the emulator makes the generated version itself), and the
/// refusals that change nothing.
#[tokio::test]
async fn rotate_secret_with_an_adb_target_makes_a_generated_current_version() {
    const ADB: &str = "ocid1.autonomousdatabase.oc1.iad.aaaaaaaaexample";
    let app = spawn_app();
    let (_, _, secret) = app.vault_key_secret("adb-rotated").await;
    let s = secret["id"].as_str().unwrap();
    let rotate = format!("/20180608/secrets/{s}/actions/rotate");

    let a = app.call("POST", &rotate, None).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "InvalidParameter")
    );
    let config = json!({"targetSystemDetails": {"targetSystemType": "ADB", "adbId": ADB},
                        "rotationInterval": "P400D"});
    let a = app
        .call(
            "PUT",
            &format!("/20180608/secrets/{s}"),
            Some(json!({ "rotationConfig": config })),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "InvalidParameter")
    );
    let a = app
        .call("GET", &format!("/20180608/secrets/{s}"), None)
        .await;
    assert_eq!(a.body["etag"], secret["etag"]);
    assert_eq!(a.body.get("rotationConfig"), None);

    let config = json!({"targetSystemDetails": {"targetSystemType": "ADB", "adbId": ADB},
                        "rotationInterval": "P2D", "isScheduledRotationEnabled": true});
    let a = app
        .call(
            "PUT",
            &format!("/20180608/secrets/{s}"),
            Some(json!({ "rotationConfig": config })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["rotationConfig"], config);
    assert_eq!(a.body["rotationStatus"], "SCHEDULED");

    let a = app.call("POST", &rotate, None).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{:?}", a.body);
    assert!(a.headers["opc-work-request-id"]
        .to_str()
        .unwrap()
        .starts_with("ocid1.kmsworkrequest.oc1.iad."));

    // Poll (bounded) until the rotation's own task has ended it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let done = loop {
        let a = app
            .call("GET", &format!("/20180608/secrets/{s}"), None)
            .await;
        if a.body["rotationStatus"] != "IN_PROGRESS" {
            break a.body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the rotation did not end"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(done["rotationStatus"], "SCHEDULED");
    assert_eq!(done["currentVersionNumber"], 2);
    assert!(done["lastRotationTime"].is_string(), "{done:?}");
    assert_eq!(done.get("lifecycleDetails"), None);
    let versions = app
        .call("GET", &format!("/20180608/secrets/{s}/versions"), None)
        .await;
    let stages: Vec<(u64, Value, bool)> = versions
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["versionNumber"].as_u64().unwrap(),
                v["stages"].clone(),
                v["isContentAutoGenerated"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        vec![
            (2, json!(["CURRENT", "LATEST"]), true),
            (1, json!(["PREVIOUS"]), false)
        ]
    );
}

/// Issue 9: a failed call and an unauthenticated one are audited too, with
/// what the pipeline knew; no event holds the `authorization` header.
#[tokio::test]
async fn a_404_and_a_401_each_become_one_audit_event() {
    let app = spawn_app();
    let a = app
        .call(
            "POST",
            "/20180608/secrets/ocid1.vaultsecret.oc1.iad.x/actions/rotate",
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let e = app
        .admin_call("GET", "/_emulator/audit?operation=RotateSecret", None)
        .await
        .body;
    assert_eq!(e["eventType"], "com.oraclecloud.vaultmng.RotateSecret");
    assert_eq!(e["data"]["response"]["status"], "404");
    assert_eq!(e["data"]["response"]["message"], "NotAuthorizedOrNotFound");
    assert_eq!(e["data"]["identity"]["principalName"], "admin");
    assert_eq!(e["data"]["identity"]["authType"], "natv");
    assert_eq!(
        e["data"]["identity"]["credentials"],
        format!("{TENANCY}/{ADMIN}/{FINGERPRINT}")
    );
    assert!(!e.to_string().to_ascii_lowercase().contains("authorization"));
    assert!(!e.to_string().contains("Signature version"));

    let unsigned = app
        .admin_call("GET", "/20180608/vaults?compartmentId=x", None)
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    let e = app
        .admin_call(
            "GET",
            "/_emulator/audit?result=FAILED&operation=ListVaults",
            None,
        )
        .await
        .body;
    assert_eq!(e["data"]["response"]["status"], "401");
    assert_eq!(e["data"]["response"]["message"], "NotAuthenticated");
    assert!(e["data"]["identity"].get("principalId").is_none());
    assert_eq!(e["data"]["additionalDetails"]["result"], "FAILED");
}

/// Sends `method target body` until it is not a 409 `IncorrectState` (the
/// answer to a write that lost the race for the resource, which the SDKs
/// retry), and returns the first other answer.
async fn until_not_conflict(app: &TestApp, method: &str, target: &str, body: Value) -> Answer {
    loop {
        let a = app.call(method, target, Some(body.clone())).await;
        if (a.status, a.code()) != (StatusCode::CONFLICT, "IncorrectState") {
            return a;
        }
    }
}

/// `timeCreated` of each listed version, in `versionNumber` order.
fn times_by_number(listed: &Value, number_field: &str) -> Vec<(i64, time::OffsetDateTime)> {
    let mut out: Vec<(i64, time::OffsetDateTime)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let created = v["timeCreated"].as_str().unwrap();
            (
                v[number_field].as_i64().unwrap_or(0),
                time::OffsetDateTime::parse(
                    created,
                    &time::format_description::well_known::Rfc3339,
                )
                .unwrap(),
            )
        })
        .collect();
    out.sort_by_key(|(n, _)| *n);
    out
}

// 200 UpdateSecret calls in flight at once (25 on each of 8 secrets: a
// secret holds at most 30 versions in use): each version's timeCreated is
// no earlier than the one numbered before it, though the requests' times
// were taken before their writes queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_create_versions_in_time_order() {
    let app = std::sync::Arc::new(spawn_app());
    let mut secrets = Vec::new();
    for s in 0..8 {
        let (_, _, secret) = app.vault_key_secret(&format!("ordered-{s}")).await;
        secrets.push(secret["id"].as_str().unwrap().to_owned());
    }
    let mut writers = tokio::task::JoinSet::new();
    for u in 0..25 {
        for id in &secrets {
            let (app, id) = (app.clone(), id.clone());
            writers.spawn(async move {
                let content = B64.encode(format!("{id}/{u}"));
                let a = until_not_conflict(
                    &app,
                    "PUT",
                    &format!("/20180608/secrets/{id}"),
                    json!({"secretContent": {"contentType": "BASE64", "content": content}}),
                )
                .await;
                assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
            });
        }
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    for id in &secrets {
        let listed = app
            .call(
                "GET",
                &format!("/20180608/secrets/{id}/versions?sortBy=VERSION_NUMBER&sortOrder=ASC"),
                None,
            )
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
        let times = times_by_number(&listed.body, "versionNumber");
        assert_eq!(
            times.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            (1..=26).collect::<Vec<_>>()
        );
        for pair in times.windows(2) {
            assert!(
                pair[0].1 <= pair[1].1,
                "secret {id}: version {} created at {} after version {} at {}",
                pair[0].0,
                pair[0].1,
                pair[1].0,
                pair[1].1
            );
        }
    }
}

// The same for CreateKeyVersion: 50 in flight on one key, listed in the
// order they were made, never going back in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_key_versions_are_created_in_time_order() {
    let app = std::sync::Arc::new(spawn_app());
    let (vault, key, _) = app.vault_key_secret("key-order").await;
    let mgmt = TestApp::prefix(&vault, "managementEndpoint");
    let versions = format!(
        "{mgmt}/20180608/keys/{}/keyVersions",
        key["id"].as_str().unwrap()
    );
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (app, versions) = (app.clone(), versions.clone());
        writers.spawn(async move {
            let a = until_not_conflict(&app, "POST", &versions, json!({})).await;
            assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let listed = app
        .call(
            "GET",
            &format!("{versions}?sortBy=TIMECREATED&sortOrder=ASC"),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    // Listed in creation order (the order of the rows), so the "number"
    // of each is its place in the list.
    let times = times_by_number(&listed.body, "versionNumber");
    assert_eq!(times.len(), 51);
    for pair in times.windows(2) {
        assert!(pair[0].1 <= pair[1].1, "{} after {}", pair[0].1, pair[1].1);
    }
}
