//! RSA API public keys as OCI registers them: parsed once from PEM or DER,
//! with OCI's MD5 fingerprint, verifying RSA PKCS#1 v1.5 SHA-256 signatures
//! (what every OCI SDK signs requests with; see `auth::signature`).

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::PublicEncryptingKey;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use md5::{Digest as _, Md5};

/// OCI's fingerprint of a public key: MD5 of the DER `SubjectPublicKeyInfo`,
/// as lowercase hex pairs joined by `:` (`22:47:b6:…`, the form the console
/// and `openssl rsa -pubout -outform DER | openssl md5 -c` show).
pub fn fingerprint(spki_der: &[u8]) -> String {
    let digest = Md5::digest(spki_der);
    let mut out = String::with_capacity(digest.len() * 3);
    for (i, byte) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// An RSA API public key, parsed once when loaded so that verifying a request
/// does not parse DER again (aws-lc-rs `ParsedPublicKey`).
///
/// `Debug` shows only the fingerprint.
#[derive(Clone)]
pub struct PublicKey {
    /// Parsed for `RSA_PKCS1_2048_8192_SHA256`, the only algorithm OCI signs with.
    key: ParsedPublicKey,
    /// Computed once, from the canonical `SubjectPublicKeyInfo` DER.
    fingerprint: String,
}

impl PublicKey {
    /// Reads a PEM public key: `-----BEGIN PUBLIC KEY-----` (X.509
    /// `SubjectPublicKeyInfo`, what OCI's console and `openssl rsa -pubout`
    /// produce) or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1 `RSAPublicKey`).
    /// Text before the BEGIN line is ignored, as RFC 7468 allows.
    ///
    /// # Errors
    /// A message (without key material) when the PEM is unreadable, the label
    /// is another one, the key is not RSA, or it is not 2048 to 8192 bits.
    pub fn from_pem(pem: &str) -> Result<PublicKey, String> {
        let (label, der) = decode_pem(pem)?;
        match label {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => PublicKey::from_der(&der),
            other => Err(format!(
                "expected a PUBLIC KEY or RSA PUBLIC KEY PEM, found {other}"
            )),
        }
    }

    /// Reads a DER public key, `SubjectPublicKeyInfo` or PKCS#1 `RSAPublicKey`.
    ///
    /// # Errors
    /// As [`PublicKey::from_pem`], for the DER part.
    pub fn from_der(der: &[u8]) -> Result<PublicKey, String> {
        // aws-lc-rs accepts both encodings here (RFC 8017 first, then RFC 5280).
        let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
            .map_err(|_| "not an RSA public key".to_owned())?;
        let spki = key
            .as_der()
            .map_err(|_| "cannot encode the key as SubjectPublicKeyInfo".to_owned())?;
        // ParsedPublicKey leaves the key-size check to each verification, where
        // a wrong size would look like a bad signature; check it once here.
        // PublicEncryptingKey enforces the same 2048..=8192-bit range.
        PublicEncryptingKey::from_der(spki.as_ref())
            .map_err(|e| format!("RSA key size not accepted ({e}): need 2048 to 8192 bits"))?;
        Ok(PublicKey {
            fingerprint: fingerprint(spki.as_ref()),
            key,
        })
    }

    /// The OCI fingerprint of this key (see [`fingerprint`]).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether `signature` is an RSA PKCS#1 v1.5 SHA-256 signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// Splits one PEM block into its label and DER bytes.
pub fn decode_pem(pem: &str) -> Result<(&str, Vec<u8>), String> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let start = pem.find(BEGIN).ok_or("no PEM BEGIN line")? + BEGIN.len();
    let label_len = pem[start..]
        .find(DASHES)
        .ok_or("unterminated PEM BEGIN line")?;
    let label = &pem[start..start + label_len];
    let body_start = start + label_len + DASHES.len();
    let end_line = format!("-----END {label}-----");
    let body_len = pem[body_start..]
        .find(&end_line)
        .ok_or_else(|| format!("no PEM END line for {label}"))?;
    let body: String = pem[body_start..body_start + body_len]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = BASE64
        .decode(body)
        .map_err(|_| format!("the {label} PEM body is not Base64"))?;
    Ok((label, der))
}
