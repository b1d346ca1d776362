//! What the asymmetric operations cost, without the pipeline: Sign and
//! Verify of a SHA-256 digest with RSA-2048/4096 and ECDSA P-256, RSA-OAEP
//! decryption, and key generation (the part of CreateKey that runs on the
//! blocking pool before the write).
//!
//! `cargo bench -p oci-vault-emulator --bench crypto`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use oci_vault_emulator::crypto::asymmetric::{self, Curve, Kind, Oaep};
use oci_vault_emulator::crypto::evp::{self, Hash, Scheme};

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

criterion_group!(benches, sign_and_verify, key_generation);
criterion_main!(benches);
