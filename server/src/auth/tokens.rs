//! Security tokens: the JWTs the emulator's "auth service" issues and the
//! `ST$<jwt>` keyIds that carry them (session tokens, instance-principal
//! tokens from `POST /v1/x509`, resource-principal RPSTs).
//!
//! A token is a compact JWS, `RS256`, signed by the emulator's token key
//! ([`TokenKey`], made at start, or read from `--data-dir`). Its claims
//! follow what OCI's tokens carry (shared/reference/oci-vault-api.md §3 and
//! §15): `iss` `authService.oracle.com`, `aud` `oci`, `sub`, `tenant`,
//! `ptype` (`user`, `instance`, `resource`), `ttype`, `iat`, `exp`, `jti`,
//! and `jwk`: the session public key the token is bound to, as a JSON
//! string of an RSA JWK (`kty`, `n`, `e`, `kid`, `alg`, `use`). Requests
//! signed with `ST$<token>` must verify with that key.
//!
//! The SDKs read tokens without verifying them (Python
//! `SecurityTokenContainer` decodes with `verify_signature: False` and
//! reads `exp`/`iat`; resource principals read `res_tenant` and
//! `res_compartment`), so the claims are the SDKs' contract and the
//! signature is the emulator's.
//!
//! Nothing here logs or formats a private key; [`TokenError`] carries fixed
//! texts only.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use x509_parser::prelude::FromDer as _;
use zeroize::Zeroizing;

use crate::crypto::PublicKey;

/// The issuer OCI's tokens name.
pub const ISSUER: &str = "authService.oracle.com";

/// Why a token is refused; each is 401 `NotAuthenticated` on the wire. The
/// texts are fixed: never a piece of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three Base64url parts of JSON.
    #[error("the security token is not a JWT")]
    Malformed,
    /// Not signed by this emulator's token key (tampered, or foreign).
    #[error("the security token's signature does not verify")]
    BadSignature,
    /// `exp` is past (at the emulator's clock).
    #[error("the security token has expired")]
    Expired,
    /// A claim the token needs is missing or of the wrong type.
    #[error("the security token lacks a required claim")]
    MissingClaim,
    /// The `jwk` claim is not an RSA key of 2048 to 8192 bits.
    #[error("the security token's jwk claim is not a usable RSA key")]
    BadKey,
    /// Issued for another tenancy.
    #[error("the security token is for another tenancy")]
    ForeignTenancy,
    /// The principal it names does not exist in the tenancy.
    #[error("the security token names an unknown principal")]
    UnknownPrincipal,
}

/// The emulator's token-signing key (RSA-2048, PKCS #8). No `Debug` of the
/// key: `Debug` shows its `kid` only.
pub struct TokenKey {
    pair: RsaKeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
    kid: String,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// A fresh RSA-2048 key.
    ///
    /// # Errors
    /// aws-lc could not make a key (never expected).
    pub fn generate() -> anyhow::Result<Self> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| anyhow::anyhow!("cannot generate the token key"))?;
        let pkcs8 = pair
            .as_der()
            .map_err(|_| anyhow::anyhow!("cannot encode the token key"))?
            .as_ref()
            .to_vec();
        Self::from_pkcs8(&pkcs8)
    }

    /// The key from its PKCS #8 DER (a `--data-dir`'s `auth/token.key`).
    ///
    /// # Errors
    /// Not an RSA PKCS #8 key (the message holds no key bytes).
    pub fn from_pkcs8(der: &[u8]) -> anyhow::Result<Self> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|_| anyhow::anyhow!("the token key is not an RSA PKCS #8 key"))?;
        let kid = crate::crypto::fingerprint(pair.public_key().as_ref());
        Ok(Self {
            pair,
            pkcs8: Zeroizing::new(der.to_vec()),
            kid,
        })
    }

    /// The PKCS #8 DER, to be written to a private file.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Signs `claims` as a compact JWS (`RS256`).
    ///
    /// # Errors
    /// aws-lc could not sign (never expected).
    pub fn sign(&self, claims: &Map<String, Value>) -> anyhow::Result<String> {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let mut token = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(Value::Object(claims.clone()).to_string())
        );
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow::anyhow!("cannot sign a token"))?;
        token.push('.');
        token.push_str(&B64URL.encode(signature));
        Ok(token)
    }

    /// The claims of `token` if this key signed it (expiry not checked here).
    ///
    /// # Errors
    /// [`TokenError::Malformed`] or [`TokenError::BadSignature`].
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let signature = B64URL
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let header: Value = B64URL
            .decode(header)
            .ok()
            .and_then(|h| serde_json::from_slice(&h).ok())
            .ok_or(TokenError::Malformed)?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(TokenError::BadSignature);
        }
        let signed = &token[..header_len(token)];
        let public = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            self.pair.public_key().as_ref(),
        );
        public
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| TokenError::BadSignature)?;
        let claims = B64URL.decode(claims).map_err(|_| TokenError::Malformed)?;
        match serde_json::from_slice(&claims) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(TokenError::Malformed),
        }
    }
}

/// The length of `header.claims` in a compact JWS (up to the last dot).
fn header_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

/// The claims of a token without verifying it (what the SDKs do); `None`
/// when it is not a JWT.
pub fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    let claims = token.split('.').nth(1)?;
    match serde_json::from_slice(&B64URL.decode(claims).ok()?).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The `jwk` claim for an RSA public key given as `SubjectPublicKeyInfo`
/// DER: a JSON string `{"kid","n","e","kty":"RSA","alg":"RS256","use":"sig"}`
/// (as OCI writes it).
///
/// # Errors
/// Not an RSA key of 2048 to 8192 bits ([`TokenError::BadKey`]).
pub fn jwk_of_spki(spki_der: &[u8]) -> Result<String, TokenError> {
    // Checks the size range once, as API keys are checked.
    PublicKey::from_der(spki_der).map_err(|_| TokenError::BadKey)?;
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|_| TokenError::BadKey)?;
    let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = spki.parsed() else {
        return Err(TokenError::BadKey);
    };
    let trim = |b: &[u8]| {
        let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        b[start..].to_vec()
    };
    Ok(json!({
        "kid": crate::crypto::fingerprint(spki_der),
        "n": B64URL.encode(trim(rsa.modulus)),
        "e": B64URL.encode(trim(rsa.exponent)),
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
    })
    .to_string())
}

/// The public key a `jwk` claim names.
///
/// # Errors
/// [`TokenError::BadKey`] when it is not an RSA JWK of 2048 to 8192 bits.
pub fn key_of_jwk(jwk: &str) -> Result<PublicKey, TokenError> {
    let jwk: Value = serde_json::from_str(jwk).map_err(|_| TokenError::BadKey)?;
    if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
        return Err(TokenError::BadKey);
    }
    let part = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(|s| B64URL.decode(s).ok())
            .filter(|b| !b.is_empty() && b.len() <= 1024)
            .ok_or(TokenError::BadKey)
    };
    let der = rsa_public_key_der(&part("n")?, &part("e")?);
    PublicKey::from_der(&der).map_err(|_| TokenError::BadKey)
}

/// PKCS #1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn length(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    fn integer(out: &mut Vec<u8>, value: &[u8]) {
        let pad = value.first().is_some_and(|b| b & 0x80 != 0);
        out.push(0x02);
        length(out, value.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(value);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    integer(&mut body, n);
    integer(&mut body, e);
    let mut out = vec![0x30];
    length(&mut out, body.len());
    out.extend(body);
    out
}

/// A fresh RSA-2048 session key pair for a token issued with its key (the
/// `/_emulator/tokens/…` endpoints): (PKCS #8 PEM, SPKI DER).
///
/// # Errors
/// aws-lc could not make a key (never expected).
pub fn session_key_pair() -> anyhow::Result<(Zeroizing<String>, Vec<u8>)> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| anyhow::anyhow!("cannot generate a session key"))?;
    let pkcs8 = Zeroizing::new(
        pair.as_der()
            .map_err(|_| anyhow::anyhow!("cannot encode a session key"))?
            .as_ref()
            .to_vec(),
    );
    let spki = aws_lc_rs::signature::ParsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref(),
    )
    .ok()
    .and_then(|k| k.as_der().ok().map(|d| d.as_ref().to_vec()))
    .ok_or_else(|| anyhow::anyhow!("cannot encode a session public key"))?;
    Ok((crate::crypto::asymmetric::private_pem(&pkcs8), spki))
}

/// A string claim.
pub fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// An integer claim (seconds since the epoch for `iat`, `exp`).
pub fn int_claim(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    claims.get(name).and_then(Value::as_i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_and_a_changed_one_does_not() {
        let key = TokenKey::generate().unwrap();
        let mut claims = Map::new();
        claims.insert("sub".into(), "x".into());
        let token = key.sign(&claims).unwrap();
        assert_eq!(key.verify(&token).unwrap()["sub"], "x");
        let (head, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged = format!("{head}.{}.{sig}", B64URL.encode(r#"{"sub":"y"}"#));
        assert_eq!(key.verify(&forged), Err(TokenError::BadSignature));
        let other = TokenKey::generate().unwrap();
        assert_eq!(other.verify(&token), Err(TokenError::BadSignature));
        assert_eq!(key.verify("a.b"), Err(TokenError::Malformed));
        assert_eq!(key.verify("a.b.c.d"), Err(TokenError::Malformed));
    }

    #[test]
    fn a_jwk_names_the_same_key_as_its_spki() {
        let (_, spki) = session_key_pair().unwrap();
        let jwk = jwk_of_spki(&spki).unwrap();
        let key = key_of_jwk(&jwk).unwrap();
        assert_eq!(key.fingerprint(), crate::crypto::fingerprint(&spki));
        assert_eq!(
            key_of_jwk(r#"{"kty":"EC"}"#).unwrap_err(),
            TokenError::BadKey
        );
        assert_eq!(
            key_of_jwk(r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#).unwrap_err(),
            TokenError::BadKey
        );
    }
}
