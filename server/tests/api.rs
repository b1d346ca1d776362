//! In-process HTTP tests: the production router, driven with signed
//! requests through `tower::ServiceExt::oneshot` (no socket). The real-client
//! suite in `client-tests/` covers the wire with the real SDKs; these guard
//! the pipeline and the time-dependent rules, which need the clock.

use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use oci_vault_emulator::app::AppState;
use oci_vault_emulator::ServeConfig;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const TENANCY: &str =
    "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy0000000000000000000000000000000000001";
const ADMIN: &str =
    "ocid1.user.oc1..aaaaaaaaemulatoradmin00000000000000000000000000000000000000001";
const FINGERPRINT: &str = "22:47:b6:6f:a2:92:f5:10:e0:48:39:d9:9b:ed:ec:d6";
const APPS: &str =
    "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";
const HOST: &str = "emulator.test:9999";

struct TestApp {
    state: AppState,
    key: RsaKeyPair,
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
    let pem = include_str!("../../fixtures/oci/keys/admin.pem");
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let key = RsaKeyPair::from_pkcs8(&B64.decode(der).unwrap()).unwrap();
    TestApp { state, key }
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
        let date = httpdate(time::OffsetDateTime::now_utc());
        let mut builder = Request::builder()
            .method(method)
            .uri(target)
            .header("host", HOST)
            .header("date", &date);
        let has_body = method == "POST" || method == "PUT";
        let bytes = body.unwrap_or_default();
        let mut lines = vec![
            format!("date: {date}"),
            format!("(request-target): {} {target}", method.to_lowercase()),
            format!("host: {HOST}"),
        ];
        let mut names = "date (request-target) host".to_owned();
        if has_body {
            let sha = B64.encode(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                &bytes,
            ));
            builder = builder
                .header("content-length", bytes.len())
                .header("content-type", "application/json")
                .header("x-content-sha256", &sha);
            lines.push(format!("content-length: {}", bytes.len()));
            lines.push("content-type: application/json".into());
            lines.push(format!("x-content-sha256: {sha}"));
            names.push_str(" content-length content-type x-content-sha256");
        }
        if sign {
            let mut signature = vec![0u8; self.key.public_modulus_len()];
            self.key
                .sign(
                    &RSA_PKCS1_SHA256,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    lines.join("\n").as_bytes(),
                    &mut signature,
                )
                .unwrap();
            builder = builder.header(
                "authorization",
                format!(
                    "Signature algorithm=\"rsa-sha256\",headers=\"{names}\",keyId=\"{TENANCY}/{ADMIN}/{FINGERPRINT}\",signature=\"{}\",version=\"1\"",
                    B64.encode(signature)
                ),
            );
        }
        let router = oci_vault_emulator::http::router(self.state.clone());
        let response = router
            .oneshot(builder.body(Body::from(bytes)).unwrap())
            .await
            .unwrap();
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

    /// The path prefix of a vault's management or crypto endpoint.
    fn prefix(vault: &Value, which: &str) -> String {
        let endpoint = vault[which].as_str().unwrap();
        endpoint
            .strip_prefix(&format!("http://{HOST}"))
            .unwrap()
            .to_owned()
    }
}

fn httpdate(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(f).unwrap()
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
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "NotFound"));
}

#[tokio::test]
async fn routed_but_unemulated_operations_answer_501_naming_them() {
    let app = spawn_app();
    let a = app
        .call(
            "POST",
            "/20180608/secrets/ocid1.vaultsecret.oc1.iad.x/actions/rotate",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::NOT_IMPLEMENTED, "MethodNotImplemented")
    );
    assert!(a.body["message"].as_str().unwrap().contains("RotateSecret"));
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

    app.state.clock.advance(3 * 86_400);
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
