//! Shared by the in-process tests and the benchmarks: requests signed as
//! the OCI Python SDK signs them, with the fixture users' keys.
#![allow(dead_code)] // each test or bench target uses a part

use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use axum::body::Body;
use axum::http::Request;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

pub const TENANCY: &str =
    "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy0000000000000000000000000000000000001";
pub const ADMIN: &str =
    "ocid1.user.oc1..aaaaaaaaemulatoradmin00000000000000000000000000000000000000001";
pub const FINGERPRINT: &str = "22:47:b6:6f:a2:92:f5:10:e0:48:39:d9:9b:ed:ec:d6";

/// A fixture user who signs requests (`fixtures/oci/config`).
pub struct Signer {
    pub key: RsaKeyPair,
    pub user: &'static str,
    pub fingerprint: &'static str,
}

impl Signer {
    pub fn new(pem: &str, user: &'static str, fingerprint: &'static str) -> Self {
        let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let key = RsaKeyPair::from_pkcs8(&B64.decode(der).unwrap()).unwrap();
        Self {
            key,
            user,
            fingerprint,
        }
    }
}

/// The fixture administrator.
pub fn admin() -> Signer {
    Signer::new(
        include_str!("../../../fixtures/oci/keys/admin.pem"),
        ADMIN,
        FINGERPRINT,
    )
}

/// A request signed by `signer` (unsigned when `None`) as the Python SDK
/// signs: `date`, `(request-target)`, `host`, and for POST and PUT the body
/// headers.
pub fn signed_request(
    signer: Option<&Signer>,
    method: &str,
    target: &str,
    host: &str,
    bytes: Vec<u8>,
) -> Request<Body> {
    let date = httpdate(time::OffsetDateTime::now_utc());
    let mut builder = Request::builder()
        .method(method)
        .uri(target)
        .header("host", host)
        .header("date", &date);
    let has_body = method == "POST" || method == "PUT";
    let mut lines = vec![
        format!("date: {date}"),
        format!("(request-target): {} {target}", method.to_lowercase()),
        format!("host: {host}"),
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
    if let Some(signer) = signer {
        let (user, fingerprint) = (signer.user, signer.fingerprint);
        let mut signature = vec![0u8; signer.key.public_modulus_len()];
        signer
            .key
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
                "Signature algorithm=\"rsa-sha256\",headers=\"{names}\",keyId=\"{TENANCY}/{user}/{fingerprint}\",signature=\"{}\",version=\"1\"",
                B64.encode(signature)
            ),
        );
    }
    builder.body(Body::from(bytes)).unwrap()
}

fn httpdate(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(f).unwrap()
}
