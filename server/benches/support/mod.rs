//! Shared by the criterion benchmarks (`mod support;` in each): the signed
//! whole-router call that sets fixtures up, and a fresh emulator holding a
//! vault, an AES key and one secret. Signing itself is the in-process
//! tests' helper (`tests/support`), re-exported as [`signing`].
#![allow(dead_code)] // each bench target uses a part

use oci_vault_emulator::state::AppState;
use oci_vault_emulator::ServeConfig;
use serde_json::{json, Value};
use tower::ServiceExt as _;

#[path = "../../tests/support/mod.rs"]
pub mod signing;

/// The "apps" compartment of the embedded tenancy.
pub const APPS: &str =
    "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";
/// The `Host` every bench request carries.
pub const HOST: &str = "emulator.test:9999";

/// One signed request through a fresh router of `app`; panics unless 2xx.
/// Answers the JSON body (`Null` when empty). `body` `Null` sends none.
pub async fn call(
    app: &AppState,
    signer: &signing::Signer,
    method: &str,
    target: &str,
    body: Value,
) -> Value {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let request = signing::signed_request(Some(signer), method, target, HOST, bytes);
    let response = oci_vault_emulator::http::router(app.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{method} {target}: {}",
        response.status()
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// What [`fixture`] made.
pub struct Fixture {
    /// The emulator (in-memory store, test config).
    pub app: AppState,
    /// The vault, as CreateVault answered it.
    pub vault: Value,
    /// The AES-256 key, as CreateKey answered it.
    pub key: Value,
    /// The secret (`secretName` `bench-0`, one version), as CreateSecret
    /// answered it.
    pub secret: Value,
}

/// A fresh emulator with a vault, an AES-256 key and one secret, all made
/// through the API by `signer`.
pub async fn fixture(signer: &signing::Signer) -> Fixture {
    let app = AppState::new(ServeConfig::for_tests("127.0.0.1:0".parse().unwrap())).unwrap();
    let vault = call(
        &app,
        signer,
        "POST",
        "/20180608/vaults",
        json!({"compartmentId": APPS, "displayName": "bench", "vaultType": "DEFAULT"}),
    )
    .await;
    let mgmt = vault["managementEndpoint"]
        .as_str()
        .unwrap()
        .replace(&format!("http://{HOST}"), "");
    let key = call(
        &app,
        signer,
        "POST",
        &format!("{mgmt}/20180608/keys"),
        json!({"compartmentId": APPS, "displayName": "k",
               "keyShape": {"algorithm": "AES", "length": 32}}),
    )
    .await;
    let secret = call(
        &app,
        signer,
        "POST",
        "/20180608/secrets",
        json!({"compartmentId": APPS, "vaultId": vault["id"], "keyId": key["id"],
               "secretName": "bench-0",
               "secretContent": {"contentType": "BASE64", "content": "aHVudGVyMg=="}}),
    )
    .await;
    Fixture {
        app,
        vault,
        key,
        secret,
    }
}
