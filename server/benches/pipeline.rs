//! What one request costs the server, in process (no socket): a signed
//! `GetSecretBundle` through the whole router (every stage of the pipeline,
//! signature verified in full each time), and what the fault stages add
//! when no rule or rate limit is set (the check that used to be a timed
//! assertion in the fault tests).
//!
//! `cargo bench -p oci-vault-emulator --bench pipeline`

use criterion::{criterion_group, criterion_main, Criterion};
use oci_vault_emulator::faults::{Faults, Stage, Target};
use oci_vault_emulator::operation::Operation;
use oci_vault_emulator::state::AppState;
use oci_vault_emulator::ServeConfig;
use serde_json::{json, Value};
use std::hint::black_box;
use tower::ServiceExt as _;

#[path = "../tests/support/mod.rs"]
mod support;

const APPS: &str =
    "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";
const HOST: &str = "emulator.test:9999";

async fn call(
    app: &AppState,
    signer: &support::Signer,
    method: &str,
    target: &str,
    body: Value,
) -> Value {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let request = support::signed_request(Some(signer), method, target, HOST, bytes);
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

/// A secret to read: (state, the bundle's path).
async fn secret_to_read(signer: &support::Signer) -> (AppState, String) {
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
    let key = call(&app, signer, "POST", &format!("{mgmt}/20180608/keys"),
        json!({"compartmentId": APPS, "displayName": "k", "keyShape": {"algorithm": "AES", "length": 32}})).await;
    let secret = call(&app, signer, "POST", "/20180608/secrets",
        json!({"compartmentId": APPS, "vaultId": vault["id"], "keyId": key["id"], "secretName": "bench",
               "secretContent": {"contentType": "BASE64", "content": "aHVudGVyMg=="}})).await;
    (
        app,
        format!("/20190301/secretbundles/{}", secret["id"].as_str().unwrap()),
    )
}

fn signed_get_secret_bundle(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let signer = support::admin();
    let (app, path) = runtime.block_on(secret_to_read(&signer));
    let router = oci_vault_emulator::http::router(app.clone());
    // Signed once per batch of iterations: the date must stay within 5
    // minutes, and the server verifies every request in full regardless.
    c.bench_function("signed GetSecretBundle, whole router", |b| {
        b.to_async(&runtime).iter_batched(
            || support::signed_request(Some(&signer), "GET", &path, HOST, Vec::new()),
            |request| {
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await.unwrap();
                    assert_eq!(response.status(), 200);
                    black_box(response)
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    c.bench_function(
        "unsigned request, answered 401 after routing and body",
        |b| {
            b.to_async(&runtime).iter_batched(
                || support::signed_request(None, "GET", &path, HOST, Vec::new()),
                |request| {
                    let router = router.clone();
                    async move { black_box(router.oneshot(request).await.unwrap()) }
                },
                criterion::BatchSize::SmallInput,
            )
        },
    );
}

fn empty_fault_stages(c: &mut Criterion) {
    let faults = Faults::new(Default::default()).unwrap();
    c.bench_function("fault stages with no rule: is_active twice", |b| {
        b.iter(|| black_box(&faults).is_active() || black_box(&faults).is_active())
    });
    let busy = Faults::new(
        oci_vault_emulator::faults::parse(
            br#"{"rules": [{"match": {"operations": ["Encrypt"]}, "action": {"latencyMs": 1}}]}"#,
        )
        .unwrap(),
    )
    .unwrap();
    let target = Target {
        operation: Operation::GetSecretBundle,
        principal: None,
        compartment_id: None,
        resource_id: None,
    };
    c.bench_function("fault decision, one rule that does not match", |b| {
        b.iter(|| {
            black_box(busy.decide(
                Stage::AfterAuth,
                &target,
                time::OffsetDateTime::now_utc(),
                std::time::Instant::now(),
            ))
        })
    });
}

criterion_group!(benches, signed_get_secret_bundle, empty_fault_stages);
criterion_main!(benches);
