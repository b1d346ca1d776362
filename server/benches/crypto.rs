//! What the crypto costs, without the pipeline: Sign and Verify of a
//! SHA-256 digest with RSA-2048/4096 and ECDSA P-256, RSA-OAEP decryption,
//! key generation (the part of CreateKey that runs on the blocking pool
//! before the write), and the envelope of secret content: 1 KiB sealed
//! under a fresh data key wrapped by the key version
//! (`secrets::seal_content`) and opened again (`secrets::open_content`),
//! the master key's material cached by the keyring as in the server.
//!
//! `cargo bench -p oci-vault-emulator --bench crypto`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use oci_vault_emulator::crypto::asymmetric::{self, Curve, Kind, Oaep};
use oci_vault_emulator::crypto::evp::{self, Hash, Scheme};
use oci_vault_emulator::domain::{keys, secrets};

fn sign_and_verify(c: &mut Criterion) {
    let digest = Hash::Sha256.digest(b"benchmark message");
    for (name, kind, scheme) in [
        (
            "rsa2048_pkcs1",
            Kind::Rsa(256),
            Scheme::RsaPkcs1(Hash::Sha256),
        ),
        ("rsa4096_pss", Kind::Rsa(512), Scheme::RsaPss(Hash::Sha256)),
        (
            "ecdsa_p256",
            Kind::Ecdsa(Curve::P256),
            Scheme::Ecdsa(Hash::Sha256),
        ),
    ] {
        let key = asymmetric::generate(kind).unwrap();
        let signature = evp::sign_digest(&key, scheme, &digest).unwrap();
        c.bench_function(&format!("sign/{name}"), |b| {
            b.iter(|| evp::sign_digest(black_box(&key), scheme, black_box(&digest)).unwrap())
        });
        c.bench_function(&format!("verify/{name}"), |b| {
            b.iter(|| {
                evp::verify_digest(black_box(&key), scheme, black_box(&digest), &signature).unwrap()
            })
        });
    }
    let key = asymmetric::generate(Kind::Rsa(256)).unwrap();
    let public = asymmetric::public_key_der(Kind::Rsa(256), &key).unwrap();
    let ciphertext = asymmetric::oaep_encrypt(&public, Oaep::Sha256, b"plaintext").unwrap();
    c.bench_function("oaep_decrypt/rsa2048_sha256", |b| {
        b.iter(|| asymmetric::oaep_decrypt(black_box(&key), Oaep::Sha256, &ciphertext).unwrap())
    });
}

fn key_generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    for (name, kind) in [
        ("rsa2048", Kind::Rsa(256)),
        ("rsa4096", Kind::Rsa(512)),
        ("ecdsa_p384", Kind::Ecdsa(Curve::P384)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| asymmetric::generate(black_box(kind)).unwrap())
        });
    }
    group.finish();
}

mod support;

fn envelope(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = runtime.block_on(support::fixture(&support::signing::admin()));
    let secret_id = f.secret["id"].as_str().unwrap().to_owned();
    let key_id = f.key["id"].as_str().unwrap().to_owned();
    let (version, key_version) = f
        .app
        .store
        .blocking_write(|tx| {
            let version = secrets::version(tx, &secret_id, 1)?;
            let key_version = keys::version(tx, &key_id, &version.key_version_id)?;
            Ok::<_, oci_vault_emulator::domain::Error>((version, key_version))
        })
        .unwrap();
    let content = secrets::NewContent::parse(Some(&"QUJD".repeat(256)), None, None).unwrap();
    let now = f.app.clock.now();
    let sealed =
        secrets::seal_content(&f.app.keyring, &key_version, &secret_id, 2, &content, now).unwrap();
    let mut group = c.benchmark_group("envelope, 1 KiB of secret content");
    group.bench_function("seal (new data key, wrap, AES-256-GCM)", |b| {
        b.iter(|| {
            secrets::seal_content(
                &f.app.keyring,
                black_box(&key_version),
                &secret_id,
                2,
                black_box(&content),
                now,
            )
            .unwrap()
        })
    });
    group.bench_function("open (unwrap the data key, AES-256-GCM)", |b| {
        b.iter(|| secrets::open_content(&f.app.keyring, black_box(&sealed), &key_version).unwrap())
    });
    assert_eq!(
        secrets::open_content(&f.app.keyring, &version, &key_version)
            .unwrap()
            .as_slice(),
        b"hunter2"
    );
    group.finish();
}

criterion_group!(benches, sign_and_verify, key_generation, envelope);
criterion_main!(benches);
