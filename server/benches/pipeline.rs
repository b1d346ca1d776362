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
use std::hint::black_box;
use tower::ServiceExt as _;

mod support;
use support::signing;

/// A secret to read: (state, the bundle's path).
async fn secret_to_read(signer: &signing::Signer) -> (AppState, String) {
    let f = support::fixture(signer).await;
    let path = format!(
        "/20190301/secretbundles/{}",
        f.secret["id"].as_str().unwrap()
    );
    (f.app, path)
}

fn signed_get_secret_bundle(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let signer = signing::admin();
    let (app, path) = runtime.block_on(secret_to_read(&signer));
    let router = oci_vault_emulator::http::router(app.clone());
    // Signed once per batch of iterations: the date must stay within 5
    // minutes, and the server verifies every request in full regardless.
    c.bench_function("signed GetSecretBundle, whole router", |b| {
        b.to_async(&runtime).iter_batched(
            || signing::signed_request(Some(&signer), "GET", &path, support::HOST, Vec::new()),
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
                || signing::signed_request(None, "GET", &path, support::HOST, Vec::new()),
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
