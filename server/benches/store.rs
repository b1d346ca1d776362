//! What the store costs as data grows: `UpdateSecret` (a new version) on a
//! secret with 10 and with 2,000 versions, and the first `ListSecrets` page
//! of 50 in a compartment of 1,000 and of 100,000 secrets (the whole router,
//! signed). Rows beyond the first are copies written straight to the store,
//! so setting up 100,000 secrets takes seconds, not an API call each.
//!
//! Populations made the same way serve the store alone: a point read by OCID and a
//! page read of 50, without the router.
//!
//! `cargo bench -p oci-vault-emulator --bench store`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use oci_vault_emulator::domain::secrets::{
    self, ListQuery, NewContent, Secret, SecretUpdate, Stage,
};
use oci_vault_emulator::domain::Error;
use oci_vault_emulator::state::AppState;
use std::hint::black_box;
use tower::ServiceExt as _;

mod support;
use support::{signing, APPS, HOST};

/// A fresh emulator with one secret (one version): (state, the secret).
async fn one_secret(signer: &signing::Signer) -> (AppState, Secret) {
    let f = support::fixture(signer).await;
    let id = f.secret["id"].as_str().unwrap().to_owned();
    let now = f.app.clock.now();
    let stored = f
        .app
        .store
        .read(|tx| secrets::get(tx, &id, now))
        .await
        .unwrap();
    (f.app, stored)
}

/// Gives `secret` `total` versions: copies of version 1, deleted long ago
/// (OCI keeps at most 30 in use), then the current one.
fn with_versions(app: &AppState, secret: &Secret, total: u64) {
    let id = secret.id.clone();
    app.store
        .blocking_write(|tx| {
            let mut first = secrets::version(tx, &id, 1)?;
            let current = first.clone();
            first.stages = vec![Stage::Deprecated];
            first.time_of_deletion = Some(time::OffsetDateTime::UNIX_EPOCH);
            for n in 1..total {
                first.version_number = n;
                secrets::save_version(tx, &first)?;
            }
            let mut current = current;
            current.version_number = total;
            secrets::save_version(tx, &current)?;
            let mut s = secrets::get(tx, &id, time::OffsetDateTime::now_utc())?;
            s.current_version_number = total;
            secrets::save(tx, &s)?;
            Ok::<_, Error>(())
        })
        .unwrap();
}

fn update_secret(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let signer = signing::admin();
    let mut group = c.benchmark_group("UpdateSecret, new content");
    for versions in [10u64, 2_000] {
        let (app, secret) = runtime.block_on(one_secret(&signer));
        let id = secret.id.clone();
        with_versions(&app, &secret, versions);
        let secret = runtime
            .block_on(app.store.read(|tx| secrets::get(tx, &id, app.clock.now())))
            .unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(versions), &versions, |b, _| {
            b.iter(|| {
                // Rolled back (the closure fails on purpose), so every
                // iteration updates the same secret.
                let outcome: Result<(), Error> = app.store.blocking_write(|tx| {
                    let change = SecretUpdate {
                        content: Some(NewContent::parse(Some("bmV3"), None, None)?),
                        ..Default::default()
                    };
                    let now = app.clock.now();
                    black_box(secrets::update(
                        tx,
                        &app.keyring,
                        now,
                        secret.clone(),
                        None,
                        change,
                    )?);
                    Err(Error::Conflict("rolled back".into()))
                });
                assert!(matches!(outcome, Err(Error::Conflict(_))), "{outcome:?}");
            })
        });
    }
    group.finish();
}

/// Copies `secret` until its compartment holds `total` secrets.
fn with_secrets(app: &AppState, secret: &Secret, total: usize) {
    app.store
        .blocking_write(|tx| {
            let mut copy = secret.clone();
            for n in 1..total {
                copy.id = format!("{}{n:08}", &secret.id[..secret.id.len() - 8]);
                copy.secret_name = format!("bench-{n}");
                copy.time_created = secret.time_created + time::Duration::milliseconds(n as i64);
                secrets::save(tx, &copy)?;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
}

fn list_secrets_page(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let signer = signing::admin();
    let mut group = c.benchmark_group("ListSecrets, first page of 50, whole router");
    group.sample_size(20);
    for total in [1_000usize, 100_000] {
        let (app, secret) = runtime.block_on(one_secret(&signer));
        with_secrets(&app, &secret, total);
        let router = oci_vault_emulator::http::router(app.clone());
        let path = format!("/20180608/secrets?compartmentId={APPS}&limit=50");
        group.bench_with_input(BenchmarkId::from_parameter(total), &total, |b, _| {
            b.to_async(&runtime).iter_batched(
                || signing::signed_request(Some(&signer), "GET", &path, HOST, Vec::new()),
                |request| {
                    let router = router.clone();
                    async move {
                        let response = router.oneshot(request).await.unwrap();
                        assert_eq!(response.status(), 200);
                        black_box(
                            axum::body::to_bytes(response.into_body(), usize::MAX)
                                .await
                                .unwrap(),
                        )
                    }
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// The store alone, no router: one secret read by OCID (`secrets::get`,
/// a primary-key lookup and the document's decode) and one page of 50
/// (`secrets::list`, the first page by `timeCreated`), in a compartment
/// of 1,000 and of 100,000 secrets.
fn store_reads(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let signer = signing::admin();
    let mut group = c.benchmark_group("store read");
    for total in [1_000usize, 100_000] {
        let (app, secret) = runtime.block_on(one_secret(&signer));
        with_secrets(&app, &secret, total);
        let id = secret.id.clone();
        group.bench_with_input(BenchmarkId::new("point", total), &total, |b, _| {
            b.iter(|| {
                let now = app.clock.now();
                let found = runtime
                    .block_on(app.store.read(|tx| secrets::get(tx, black_box(&id), now)))
                    .unwrap();
                black_box(found)
            })
        });
        group.bench_with_input(BenchmarkId::new("page of 50", total), &total, |b, _| {
            b.iter(|| {
                let now = app.clock.now();
                let query = ListQuery {
                    compartment_id: APPS.to_owned(),
                    region: None,
                    name: None,
                    vault_id: None,
                    state: None,
                    by_name: false,
                    descending: false,
                    after: None,
                    limit: Some(50),
                };
                let (page, next) = runtime
                    .block_on(app.store.read(|tx| secrets::list(tx, &query, now)))
                    .unwrap();
                assert_eq!((page.len(), next.is_some()), (50, true));
                black_box(page)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, update_secret, list_secrets_page, store_reads);
criterion_main!(benches);
