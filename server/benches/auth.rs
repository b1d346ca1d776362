//! What authentication and authorisation cost, without the router:
//! verifying one signed request (`auth::signature::verify`: header parse,
//! signing string, body hash, RSA-2048 PKCS#1 v1.5 verify with aws-lc), and
//! one IAM decision (`iam::eval::Engine::first_denied`) under 100 policies,
//! where only the last grants (the worst case: every statement is tried).
//!
//! `cargo bench -p oci-vault-emulator --bench auth`

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use oci_vault_emulator::auth::signature::{self, KeyId, PublicKey, SignedRequest};
use oci_vault_emulator::iam::eval::{Check, Engine, Request, Role, Target};
use oci_vault_emulator::iam::tenancy::{Policy, Tenancy};

mod support;
use support::{signing, APPS, HOST};

fn signature_verification(c: &mut Criterion) {
    let signer = signing::admin();
    let mut keys = HashMap::new();
    keys.insert(
        KeyId::parse(&format!(
            "{}/{}/{}",
            signing::TENANCY,
            signing::ADMIN,
            signing::FINGERPRINT
        ))
        .unwrap(),
        PublicKey::from_pem(include_str!("../../fixtures/oci/keys/admin.pub.pem")).unwrap(),
    );
    let mut group = c.benchmark_group("signature verify");
    for (name, method, target, body) in [
        (
            "GetSecretBundle (GET)",
            "GET",
            "/20190301/secretbundles/ocid1.vaultsecret.oc1.iad.amaaaaaabench",
            Vec::new(),
        ),
        (
            "Encrypt 1 KiB (POST, body hashed)",
            "POST",
            "/20180608/encrypt",
            format!(
                r#"{{"keyId": "ocid1.key.oc1.iad.bench", "plaintext": "{}"}}"#,
                "A".repeat(1368)
            )
            .into_bytes(),
        ),
    ] {
        let request = signing::signed_request(Some(&signer), method, target, HOST, body);
        let (parts, body) = request.into_parts();
        let body = futures_body(body);
        let path = parts.uri.path_and_query().unwrap().as_str().to_owned();
        let now = time::OffsetDateTime::now_utc();
        group.bench_function(name, |b| {
            b.iter(|| {
                let signed = SignedRequest {
                    method: &parts.method,
                    path_and_query: &path,
                    headers: &parts.headers,
                    body: &body,
                };
                signature::verify(black_box(&signed), &keys, now).unwrap()
            })
        });
    }
    group.finish();
}

/// The bytes of a request body built by `signing::signed_request`.
fn futures_body(body: axum::body::Body) -> Vec<u8> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(axum::body::to_bytes(body, usize::MAX))
        .unwrap()
        .to_vec()
}

fn policy_evaluation(c: &mut Criterion) {
    let tenancy = Tenancy::embedded();
    // 99 policies that do not grant the developer's request (another
    // secret name), then the one that does.
    let policies: Vec<Policy> = (0..100)
        .map(|n| Policy {
            name: format!("bench-{n}"),
            compartment_id: APPS.to_owned(),
            statements: vec![format!(
                "Allow group Developers to read secret-bundles in compartment apps where target.secret.name = 'app-{}'",
                if n == 99 { "target".to_owned() } else { format!("other-{n}") }
            )],
        })
        .collect();
    let engine = Engine::new(&tenancy.file, policies).unwrap();
    let developer = tenancy
        .file
        .users
        .iter()
        .find(|u| u.name == "developer")
        .unwrap();
    let secret = "ocid1.vaultsecret.oc1.iad.amaaaaaabench";
    let request = Request {
        principal: tenancy.user_principal(developer),
        operation: "GetSecretBundle",
        region: "us-ashburn-1".into(),
        checks: vec![Check {
            permission: "SECRET_BUNDLE_READ",
            role: Role::Own,
            target: Target {
                kind: "secret",
                id: secret.into(),
                name: Some("app-target".into()),
                compartment_id: APPS.into(),
                variables: vec![
                    ("target.secret.name", "app-target".into()),
                    ("target.secret.id", secret.into()),
                ],
            },
        }],
        variables: Vec::new(),
        time: time::OffsetDateTime::now_utc(),
    };
    assert_eq!(engine.first_denied(&request), None);
    c.bench_function("IAM decision, 100 policies, the last grants", |b| {
        b.iter(|| black_box(engine.first_denied(black_box(&request))))
    });
    let mut denied = request.clone();
    denied.checks[0].target.name = Some("app-nobody".into());
    denied.checks[0].target.variables[0].1 = "app-nobody".into();
    assert_eq!(engine.first_denied(&denied), Some(0));
    c.bench_function("IAM decision, 100 policies, none grants", |b| {
        b.iter(|| black_box(engine.first_denied(black_box(&denied))))
    });
}

criterion_group!(benches, signature_verification, policy_evaluation);
criterion_main!(benches);
